"""The numexpr backend: the same values, shapes and broadcasting as the NumPy backend.

Values are compared with the NumPy backend and with an independent evaluation (``oracle.value``,
50 digits) on random formulas, gradients and Hessians; wide sums pass numexpr's limit of
operands per expression; overflow-prone inputs stay finite.
"""

from __future__ import annotations

import math
import subprocess
import sys

import mpmath
import numpy as np
import pytest
from hypothesis import given

import symcalc as sc
from symcalc.compiler.backends import numexpr_backend
from strategies import BOX, VARIABLES, exprs
from oracle import value

pytest.importorskip("numexpr")

RTOL = 1e-12


def both(e, variables):
    return sc.lambdify(e, variables), sc.lambdify(e, variables, backend="numexpr")


def assert_same(expected, got, rtol=RTOL):
    expected, got = np.asarray(expected), np.asarray(got)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-300)


def grid(count: int, seed: int = 0, box=BOX) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.uniform(*box, 50) for _ in range(count)]


def oracle_values(e, names, columns, index):
    point = {n: mpmath.mpf(float(c[index])) for n, c in zip(names, columns)}
    return value(e, point)


# --- random formulas, their gradients and Hessians -----------------------------------------
@given(exprs(depth=3))
def test_random_formulas_match_numpy_and_the_oracle(e):
    numpy_f, numexpr_f = both(e, VARIABLES)
    columns = grid(3)
    got = numexpr_f(*columns)
    assert_same(numpy_f(*columns), got, rtol=1e-11)
    for k in (0, 17, 42):
        exact = oracle_values(e, VARIABLES, columns, k)
        if exact is not None and math.isfinite(float(exact)):
            assert got[k] == pytest.approx(float(exact), rel=1e-9, abs=1e-12)


@given(exprs(depth=2))
def test_random_gradients_and_hessians_match_numpy(e):
    for derivative in (sc.grad(e, VARIABLES), sc.hessian(e, VARIABLES)):
        numpy_f, numexpr_f = both(derivative, VARIABLES)
        columns = grid(3, seed=1)
        assert_same(numpy_f(*columns), numexpr_f(*columns), rtol=1e-10)


def test_gradient_matches_the_oracle():
    f = "sin(x*y) + exp(-z^2)*log(1 + x^2) + sigmoid(x - z) + tanh(y)^3"
    g = sc.grad(f, VARIABLES)
    columns = grid(3, seed=2)
    got = sc.lambdify(g, VARIABLES, backend="numexpr")(*columns)
    for i, component in enumerate(g):
        for k in (0, 25, 49):
            exact = float(oracle_values(component, VARIABLES, columns, k))
            assert got[i, k] == pytest.approx(exact, rel=1e-12, abs=1e-14)


def test_every_numexpr_form_matches_numpy():
    """Each registry entry with a numexpr form gives NumPy's values, edges included."""
    x = np.array([-3.0, -1.0, -0.5, 0.0, 0.3, 0.9, 2.0, 700.0, -700.0, np.inf, -np.inf, np.nan])
    y = np.linspace(-2.0, 2.0, x.size)
    for name, fn in sc.REGISTRY.items():
        if fn.numexpr is None:
            continue
        count = max(fn.min_args, 2 if name in ("atan2", "max", "min", "log") else 1)
        args = [sc.symbols("x"), sc.symbols("y")][:count]
        e = fn(*args)
        with np.errstate(all="ignore"):
            expected = sc.lambdify(e, "x y")(x, y)
        got = sc.lambdify(e, "x y", backend="numexpr")(x, y)
        np.testing.assert_allclose(got, expected, rtol=1e-14, err_msg=name)


# --- beyond numexpr's limits -----------------------------------------------------------------
def test_logsumexp_of_100_variables_and_its_gradient():
    names = [f"x_{i}" for i in range(100)]
    f = f"logsumexp({', '.join(names)})"
    rng = np.random.default_rng(3)
    columns = list(1000 + rng.uniform(-1, 1, (100, 20)))  # exp(1000) overflows
    for e in (f, sc.grad(f, names)):
        numpy_f, numexpr_f = both(e, names)
        got = numexpr_f(*columns)
        assert np.all(np.isfinite(got))
        assert_same(numpy_f(*columns), got)
    exact = mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(c[0]))) for c in columns))
    assert sc.lambdify(f, names, backend="numexpr")(*columns)[0] == pytest.approx(float(exact),
                                                                                  rel=1e-14)


def test_rosenbrock_gradient_and_a_wide_sum():
    names = [f"x_{i}" for i in range(50)]
    f = " + ".join(f"100*({names[i + 1]} - {names[i]}^2)^2 + (1 - {names[i]})^2"
                   for i in range(49))
    columns = grid(50, seed=4)
    for e in (f, sc.grad(f, names), " * ".join(f"(1 + {n}/10)" for n in names)):
        numpy_f, numexpr_f = both(e, names)
        assert_same(numpy_f(*columns), numexpr_f(*columns))
    x = np.stack(columns)
    grad = sc.lambdify(sc.grad(f, names), names, backend="numexpr")(*columns)
    expected = np.zeros_like(x)
    expected[:-1] += -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    expected[1:] += 200 * (x[1:] - x[:-1] ** 2)
    np.testing.assert_allclose(grad, expected, rtol=1e-10, atol=1e-9)


def test_a_kernel_never_reads_more_arrays_than_numexpr_allows(monkeypatch):
    monkeypatch.setattr(numexpr_backend, "max_inputs", lambda: 4)
    names = [f"x_{i}" for i in range(30)]
    f = f"sin({' + '.join(names)}) * max({', '.join(names)})"
    columns = grid(30, seed=5)
    numexpr_f = sc.lambdify(f, names, backend="numexpr")
    assert_same(sc.lambdify(f, names)(*columns), numexpr_f(*columns))
    for line in numexpr_f.source.splitlines():
        if "NumExpr(" in line:
            assert line.count("np.float64") <= 4


def test_deep_nesting_and_many_registers():
    e = sc.parse("x")
    for _ in range(70):
        e = sc.sin(e)
    derivative = sc.diff(e, "x", 2)
    columns = grid(1, seed=6)
    numpy_f, numexpr_f = both(derivative, ["x"])
    assert_same(numpy_f(*columns), numexpr_f(*columns), rtol=1e-11)


# --- stability, shapes, single points --------------------------------------------------------
def test_overflow_prone_inputs_stay_finite():
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    for f in ("sigmoid(x)", "log(sigmoid(x))", "softplus(x)", "logsumexp(x, 2*x)",
              "log(1 + exp(x))", "log(exp(x) + exp(-x))", "log(1 - 1/(1 + exp(-x)))",
              "log1p(exp(x))", "log(cosh(x))", "exp(x)/(exp(x) + exp(1 - x/2))",
              "-log(exp(x)/(exp(x) + exp(-x) + 1))", "log(exp(x) + exp(x))"):
        for e in (f, sc.diff(f, "x"), sc.diff(f, "x", 2)):
            numpy_f, numexpr_f = both(e, ["x"])
            got = numexpr_f(x)
            assert np.all(np.isfinite(got)), f
            assert_same(numpy_f(x), got)


def test_broadcasting_and_output_shapes():
    e = [["x*y", "1"], ["sin(x)", "y^2 + 3"]]
    numpy_f, numexpr_f = both(e, "x y")
    x, y = np.linspace(0, 1, 4)[:, None], np.linspace(1, 2, 3)
    for args in [(x, y), (x, 2.0), (3, y), (np.arange(3), np.arange(3))]:
        expected = numpy_f(*args)
        got = numexpr_f(*args)
        assert got.shape == expected.shape and got.dtype == np.float64
        assert_same(expected, got)
    constant_f = sc.lambdify("2 + pi", "x", backend="numexpr")
    assert_same(sc.lambdify("2 + pi", "x")(np.zeros((2, 3))), constant_f(np.zeros((2, 3))))


def test_a_single_point_gives_what_the_numpy_backend_gives():
    for e in ("sin(x)*y", ["x", "x*y"], "1/x"):
        numpy_f, numexpr_f = both(e, "x y")
        for point in [(0.5, 2.0), (0, 3), (np.float64(1.5), 2.0)]:
            with np.errstate(divide="ignore"):
                expected, got = numpy_f(*point), numexpr_f(*point)
            assert type(got) is type(expected)
            assert_same(expected, got)


def test_bad_arguments_and_backends():
    f = sc.lambdify("x + y", "x y", backend="numexpr")
    with pytest.raises(TypeError, match="argument y"):
        f(np.ones(3), "a")
    with pytest.raises(sc.SymcalcError, match="unknown backend"):
        sc.lambdify("x", "x", backend="fortran")
    with pytest.raises(sc.SymcalcError, match="unknown backend"):
        sc.codegen("x", "x", backend="fortran")
    shaped = sc.lambdify(sc.trace(sc.matrix("A", 2, 2)), ["A"], backend="numexpr")
    assert shaped(np.array([[1.0, 2.0], [3.0, 4.0]])) == 5.0
    with pytest.raises(sc.SymcalcError, match="shaped"):
        sc.codegen(sc.trace(sc.matrix("A", 2, 2)), ["A"], backend="numexpr")


def test_variables_named_like_numexpr_functions():
    e = "where + sum*exp(prod) - real"
    numpy_f, numexpr_f = both(e, "where sum prod real")
    columns = grid(4, seed=7)
    assert_same(numpy_f(*columns), numexpr_f(*columns))


def test_codegen_prints_runnable_standalone_source():
    g = sc.grad("logsumexp(x, y) * sin(x*y)", "x y")
    source = sc.codegen(g, "x y", backend="numexpr")
    namespace: dict = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    columns = grid(2, seed=8)
    assert_same(sc.lambdify(g, "x y")(*columns), namespace["f"](*columns))
    assert_same(sc.lambdify(g, "x y")(0.3, 0.7), namespace["f"](0.3, 0.7))


def test_without_numexpr_a_clear_error_and_symcalc_still_imports():
    code = ("import sys; sys.modules['numexpr'] = None\n"
            "import symcalc as sc\n"
            "assert 'numexpr' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
            "try:\n"
            "    sc.lambdify('x', 'x', backend='numexpr')\n"
            "except sc.SymcalcError as exc:\n"
            "    print(exc)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert 'pip install "symcalc[numexpr]"' in result.stdout


def test_one_thread_and_several_give_the_same_values():
    import numexpr
    e = sc.grad("sin(x)*exp(-y^2) + x*y^3", "x y")
    columns = grid(2, seed=9)
    f = sc.lambdify(e, "x y", backend="numexpr")
    before = numexpr.set_num_threads(1)
    try:
        single = f(*columns)
    finally:
        numexpr.set_num_threads(before)
    assert_same(single, f(*columns), rtol=0)



def test_numexpr_functions_pickle_and_rebuild_their_kernels_in_another_process():
    import pickle

    f = sc.lambdify(["x*y", "logsumexp(x, y) + sin(x)^2"], ["x", "y"], backend="numexpr")
    data = pickle.dumps(f)
    g = pickle.loads(data)
    x, y = np.linspace(-3, 3, 1001), np.linspace(2, 5, 1001)
    assert np.array_equal(g(x, y), f(x, y)) and np.array_equal(g(0.5, 2.0), f(0.5, 2.0))
    assert g.source == f.source and "numexpr" in repr(g)
    # a fresh interpreter compiles the kernels from the pickled source
    code = ("import pickle, sys, numpy as np\n"
            "g = pickle.loads(sys.stdin.buffer.read())\n"
            "print(g(np.array([1.0, 2.0]), np.array([3.0, 4.0]))[0].tolist())\n")
    done = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().strip() == "[3.0, 8.0]"
