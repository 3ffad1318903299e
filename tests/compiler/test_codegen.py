"""Code generation: lambdify and codegen.

Values are checked against SymPy (SymPy differentiates the same formula itself and its own
``lambdify`` evaluates the result) and against central finite differences; values at +-1000 are
checked against SymPy's high-precision evaluation.
"""

from __future__ import annotations

import math
import random
import textwrap
import traceback
from pathlib import Path

import numpy as np
import pytest
import sympy

import symcalc as sc
from symcalc.compiler import runtime
from symcalc.compiler.compile import codegen_module
from symcalc.language.arguments import to_expr
from symcalc.compiler.program import program

from test_derivative_corpus import DERIVATIVES, GRADIENTS, HESSIANS, JACOBIANS

RTOL = 1e-9


# --- helpers -----------------------------------------------------------------------------------------
def sympy_of(f: str):
    """SymPy's version of a formula, with real symbols, and those symbols by name."""
    s = sc.to_sympy(to_expr(f), real=True)
    return s, {v.name: v for v in s.free_symbols}


@pytest.fixture(autouse=True)
def quiet_numpy():
    """Sample points outside a formula's domain give nan on both sides; no warnings needed."""
    with np.errstate(all="ignore"):
        yield


def sympy_function(exprs, names):
    """SymPy's own lambdify; DiracDelta (zero at every sample point) is dropped first."""
    symbols = [sympy.Symbol(n, real=True) for n in names]
    def drop_delta(e):
        return sympy.sympify(e).replace(sympy.DiracDelta, lambda *args: sympy.S.Zero)

    exprs = [drop_delta(e) for e in exprs] if isinstance(exprs, list) else drop_delta(exprs)
    return sympy.lambdify(symbols, exprs, modules=[{"erf": _MATH_ERF}, "numpy"])


_MATH_ERF = np.vectorize(math.erf, otypes=[float])  # SymPy's NumPy printer has no erf of its own


def sample(names, domain, count=6, seed=0):
    rng = random.Random(seed)
    points = {}
    for n in names:
        low, high = (domain.get(n, (-1.5, 1.5)) if isinstance(domain, dict)
                     else domain or (-1.5, 1.5))
        points[n] = np.array([rng.uniform(low, high) for _ in range(count)])
    return [points[n] for n in names]


def assert_close_where_defined(got, expected):
    got = np.asarray(got, dtype=float)
    expected = np.broadcast_to(np.asarray(expected, dtype=float), got.shape)
    defined = np.isfinite(expected)
    assert defined.any(), "no sample point where SymPy's value is defined"
    np.testing.assert_allclose(got[defined], expected[defined], rtol=RTOL, atol=1e-12)


def central_difference(f, point, index, h=1e-6):
    up = list(point)
    down = list(point)
    up[index] = point[index] + h
    down[index] = point[index] - h
    return (f(*up) - f(*down)) / (2 * h)


def arguments(f, wrt):
    """The variables to differentiate by, then the formula's other symbols."""
    rest = sorted(s.name for s in to_expr(f).free_symbols if s.name not in wrt)
    return list(wrt) + rest


def spec_symbols(spec, table):
    return [table[item] if isinstance(item, str) else item for item in spec]


# --- equal to SymPy's lambdify on the derivative corpus -----------------------------------------------
@pytest.mark.parametrize("case", DERIVATIVES, ids=lambda c: c.label())
def test_derivatives_match_sympy_lambdify(case):
    result = sc.diff(case.f, *case.spec)
    f_sympy, table = sympy_of(case.f)
    expected = sympy.diff(f_sympy, *spec_symbols(case.spec, table))
    names = sorted({s.name for s in to_expr(case.f).free_symbols | result.free_symbols})
    points = sample(names, case.domain)
    got = sc.lambdify(result, names)(*points)
    assert_close_where_defined(got, sympy_function(expected, names)(*points))


@pytest.mark.parametrize("f, variables", GRADIENTS)
def test_gradients_match_sympy_lambdify(f, variables):
    wrt = variables.split()
    names = arguments(f, wrt)
    f_sympy, table = sympy_of(f)
    expected = [sympy.diff(f_sympy, table[n]) if n in table else 0 for n in wrt]
    points = sample(names, None)
    got = sc.lambdify(sc.grad(f, wrt), names)(*points)
    assert got.shape == (len(wrt), len(points[0]))
    for row, e in zip(got, expected):
        assert_close_where_defined(row, sympy_function(e, names)(*points))


@pytest.mark.parametrize("f, variables", HESSIANS)
def test_hessians_match_sympy_lambdify(f, variables):
    wrt = variables.split()
    names = arguments(f, wrt)
    f_sympy, table = sympy_of(f)
    points = sample(names, (0.2, 1.5))
    got = sc.lambdify(sc.hessian(f, wrt), names)(*points)
    assert got.shape == (len(wrt), len(wrt), len(points[0]))
    for i, a in enumerate(wrt):
        for j, b in enumerate(wrt):
            expected = sympy.diff(f_sympy, table[a], table[b])
            assert_close_where_defined(got[i, j], sympy_function(expected, names)(*points))


@pytest.mark.parametrize("fs, variables", JACOBIANS)
def test_jacobians_match_sympy_lambdify(fs, variables):
    wrt = variables.split()
    names = arguments(" + ".join(fs), wrt)
    points = sample(names, (0.2, 1.5))
    got = sc.lambdify(sc.jacobian(list(fs), wrt), names)(*points)
    assert got.shape == (len(fs), len(wrt), len(points[0]))
    for i, f in enumerate(fs):
        f_sympy, table = sympy_of(f)
        for j, n in enumerate(wrt):
            expected = sympy.diff(f_sympy, table[n]) if n in table else 0
            assert_close_where_defined(got[i, j], sympy_function(expected, names)(*points))


@pytest.mark.parametrize("f, variables", GRADIENTS[:8])
def test_gradients_match_central_differences(f, variables):
    wrt = variables.split()
    names = arguments(f, wrt)
    function = sc.lambdify(f, names)
    gradient = sc.lambdify(sc.grad(f, wrt), names)
    point = [p[0] for p in sample(names, (0.3, 1.2), count=1, seed=3)]
    got = gradient(*point)
    for k, n in enumerate(wrt):
        difference = central_difference(function, point, names.index(n))
        assert got[k] == pytest.approx(difference, rel=1e-6, abs=1e-8)


# --- numerical stability at +-1000 -------------------------------------------------------------------
STABLE_CASES = [
    "log(1 + exp(x))", "softplus(x)", "sigmoid(x)", "1/(1 + exp(-x))", "exp(x)/(exp(x) + 1)",
    "log(exp(x) + exp(2*x))", "logsumexp(x, 2*x, 3)", "log(exp(x) + exp(-x))",
    "log(sigmoid(x))", "x*sigmoid(x)",
]


def high_precision(expr, x_symbol, value):
    """The value with 1000 digits of working precision: no cancellation survives that."""
    import mpmath

    with mpmath.workdps(1000):
        return float(sympy.lambdify([x_symbol], expr, "mpmath")(mpmath.mpf(value)))


@pytest.mark.parametrize("f", STABLE_CASES)
@pytest.mark.parametrize("x", [1000.0, -1000.0])
def test_stable_at_large_arguments(f, x):
    f_sympy, table = sympy_of(f)
    xs = table["x"]
    derivative = sympy.diff(f_sympy, xs)
    for compiled, exact in [(sc.lambdify(f, ["x"]), f_sympy),
                            (sc.lambdify(sc.diff(f, "x"), ["x"]), derivative),
                            (sc.lambdify(sc.grad(f, ["x"]), ["x"]), derivative)]:
        got = np.asarray(compiled(x), dtype=float).reshape(-1)[0]
        assert np.isfinite(got), f"{f} at {x}"
        assert got == pytest.approx(high_precision(exact, xs, x), rel=1e-12, abs=1e-300)


def test_sympy_lambdify_overflows_where_symcalc_does_not():
    x = sympy.Symbol("x", real=True)
    written = [sympy.log(1 + sympy.exp(x)), 1 / (1 + sympy.exp(-x)),
               sympy.log(sympy.exp(x) + sympy.exp(2 * x))]
    with np.errstate(all="ignore"):
        naive = [sympy.lambdify([x], [w, sympy.diff(w, x)], "numpy") for w in written]
        values = np.array([n(np.array([1000.0, -1000.0])) for n in naive], dtype=float)
    assert not np.isfinite(values).all()  # SymPy: inf or nan
    for w in ["log(1 + exp(x))", "1/(1 + exp(-x))", "log(exp(x) + exp(2*x))"]:
        ours = sc.lambdify([w, sc.diff(w, "x")], ["x"])(np.array([1000.0, -1000.0]))
        assert np.isfinite(ours).all()


def test_log1p_and_expm1_keep_precision_near_zero():
    tiny = 1e-18
    assert sc.lambdify("log(1 + x)", ["x"])(tiny) == pytest.approx(tiny, rel=1e-15)
    assert sc.lambdify("exp(x) - 1", ["x"])(tiny) == pytest.approx(tiny, rel=1e-15)
    assert sc.lambdify("exp(x) - 1", ["x"])(-1000.0) == -1.0
    assert sc.lambdify("1 - sigmoid(x)", ["x"])(40.0) == pytest.approx(np.exp(-40.0), rel=1e-12)
    source = sc.codegen(["log(1 + x)", "exp(x) - 1"], ["x"])
    assert "np.log1p(x)" in source and "np.expm1(x)" in source


def test_logsumexp_gradient_at_large_arguments():
    names = [f"x{i}" for i in range(1, 6)]
    gradient = sc.lambdify(sc.grad(f"logsumexp({', '.join(names)})", names), names)
    for value in (1000.0, -1000.0):
        # exp(x - logsumexp(...)) has a relative error of about |x| * 1e-16 at x = +-1000
        np.testing.assert_allclose(gradient(*[value] * 5), [0.2] * 5, rtol=1e-12)


# --- sharing and names ------------------------------------------------------------------------------
def bodies(outputs, variables) -> list[str]:
    """The function ``f`` that ``codegen`` prints by default, and the pure body and the
    memory-planned body of the one it prints with ``planned=True``."""
    readable = sc.codegen(outputs, variables)
    source = sc.codegen(outputs, variables, planned=True)
    pure = source[source.index("def _f_body"):source.index("def _f_arrays")]
    return [readable[readable.index("def f("):], pure,
            source[source.index("def _f_arrays"):source.index("def f(")]]


def test_a_node_used_k_times_is_assigned_once():
    for source in bodies("sin(x*y) + sin(x*y)^2 + exp(sin(x*y)) + cos(sin(x*y))", ["x", "y"]):
        assert source.count("np.sin(") == 1
        assert source.count("x * y") == 1
    for source in bodies(sc.grad("exp(x*y)*sin(x*y)", ["x", "y"]), ["x", "y"]):
        assert source.count("np.exp(") == 1 and source.count("np.sin(") == 1


@pytest.mark.parametrize("name", ["np", "lambda", "exp", "sum", "_t0", "_rt", "_shape", "_out",
                                  "x\u03b8", "\u03b8", "None", "f", "float", "class"])
def test_variable_names_that_clash_still_work(name):
    v, x = sc.Symbol(name), sc.Symbol("x")
    e = sc.exp(v) * x + sc.sin(v * x) + v ** 2
    f = sc.lambdify([e, v], [v, x])
    got = f(np.array([0.5, 1.5]), 2.0)
    a = np.array([0.5, 1.5])
    np.testing.assert_allclose(got, [np.exp(a) * 2 + np.sin(2 * a) + a ** 2, a], rtol=1e-15)


def test_names_that_collide_after_spelling_stay_distinct():
    symbols = [sc.Symbol(n) for n in ["lambda", "lambda_", "\u03b8", "theta_"]]
    e = sum((k + 1) * s for k, s in enumerate(symbols))
    assert sc.lambdify(e, symbols)(1.0, 10.0, 100.0, 1000.0) == 4321.0


def test_unicode_names_do_not_fold_together():
    # Python folds the identifiers "ﬁ" and "fi" together; the generated names must not.
    a, b = sc.Symbol("\ufb01"), sc.Symbol("fi")
    assert sc.lambdify(a - b, [a, b])(5.0, 2.0) == 3.0


# --- shapes, broadcasting, types -----------------------------------------------------------------------
def test_nested_outputs_follow_the_nesting_and_broadcast():
    f = sc.lambdify([["x*y", "1", "x"], ["y", "x + y", "2"]], ["x", "y"])
    x, y = np.arange(4.0).reshape(4, 1), np.arange(5.0)
    out = f(x, y)
    assert out.shape == (2, 3, 4, 5)
    np.testing.assert_array_equal(out[0, 0], x * y)
    np.testing.assert_array_equal(out[0, 1], np.ones((4, 5)))
    np.testing.assert_array_equal(out[1, 2], np.full((4, 5), 2.0))
    np.testing.assert_array_equal(out[1, 0], np.broadcast_to(y, (4, 5)))


def test_single_outputs_broadcast_to_the_input_shape():
    assert sc.lambdify("2", ["x"])(np.zeros(3)).tolist() == [2.0, 2.0, 2.0]
    assert sc.lambdify("x", ["x", "y"])(1.0, np.zeros((2, 2))).shape == (2, 2)
    assert sc.lambdify("pi", [])() == pytest.approx(np.pi)
    assert sc.lambdify("x + y", ["x", "y"])(np.ones((3, 1)), np.ones(2)).shape == (3, 2)


def test_gradient_shape_is_nesting_plus_broadcast_shape():
    g = sc.lambdify(sc.grad("x^2*y + y", ["x", "y"]), ["x", "y"])
    out = g(np.linspace(0, 1, 5), 2.0)
    assert out.shape == (2, 5)
    np.testing.assert_allclose(out[1], np.linspace(0, 1, 5) ** 2 + 1)
    assert g(1.0, 2.0).shape == (2,)


def test_integer_inputs_give_float_results():
    f = sc.lambdify(["x^-1", "x/2", "x^2"], ["x"])
    out = f(np.arange(1, 4))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, [[1, 0.5, 1 / 3], [0.5, 1, 1.5], [1, 4, 9]])
    assert sc.lambdify("1/x", ["x"])(2) == 0.5
    assert sc.lambdify("x", ["x"])(3) == 3.0 and isinstance(sc.lambdify("x", ["x"])(3), float)


def test_lists_are_accepted_as_arguments():
    assert sc.lambdify("x*y", ["x", "y"])([1, 2], [3, 4]).tolist() == [3.0, 8.0]


def test_empty_list_of_outputs():
    assert sc.lambdify([], ["x"])(np.zeros(3)).shape == (0, 3)


# --- errors ---------------------------------------------------------------------------------------------
def test_wrong_argument_count_is_a_type_error():
    f = sc.lambdify("x + y", ["x", "y"])
    with pytest.raises(TypeError, match="positional argument"):
        f(1.0)
    with pytest.raises(TypeError, match="positional argument"):
        f(1.0, 2.0, 3.0)


def test_a_missing_variable_is_named():
    with pytest.raises(ValueError, match="depends on y"):
        sc.lambdify("x + y", ["x"])
    with pytest.raises(ValueError, match="rectangular"):
        sc.lambdify([["x"], ["x", "x"]], ["x"])
    with pytest.raises(ValueError, match="listed twice"):
        sc.lambdify("x", ["x", "x"])


@pytest.mark.parametrize("call, message, wrong_type", [
    (lambda: sc.lambdify("x", 5), "variables must be a list", True),
    (lambda: sc.lambdify("x", [1]), "must be a Symbol or a name", True),
    (lambda: sc.lambdify("x", ["x y"]), "not a variable name", False),
    (lambda: sc.lambdify(None, ["x"]), "cannot use NoneType", True),
    (lambda: sc.lambdify(["x", ["x"]], ["x"]), "rectangular", False),
    (lambda: sc.lambdify("x + y", ["x"]), "depends on y", False),
    (lambda: sc.codegen("x", ["x"], name=3), "not a valid function name", False),
    (lambda: sc.codegen("x", ["x"], name="f-g"), "not a valid function name", False),
    (lambda: sc.codegen("x", ["x"], name="evaluate"), "helper", False),
    (lambda: codegen_module({"g": "x", "_g_body": "x"}, ["x"], planned=True), "collide", False),
    (lambda: codegen_module(["x"], ["x"]), "mapping of names", True),
])
def test_bad_input_to_code_generation_is_a_symcalc_error(call, message, wrong_type):
    with pytest.raises(sc.SymcalcError, match=message) as info:
        call()
    assert isinstance(info.value, TypeError) == wrong_type


def test_tracebacks_show_the_generated_line():
    f = sc.lambdify("x + y", ["x", "y"])
    with pytest.raises(ValueError) as info:
        f(np.ones(2), np.ones(3))
    text = "".join(traceback.format_exception(info.value))
    assert "return evaluate(_f_body, _f_arrays, x, y)" in text  # the generated line, from linecache
    frame = next(t for t in traceback.extract_tb(info.value.__traceback__)
                 if t.filename.startswith("<symcalc-generated"))
    assert f.source.splitlines()[frame.lineno - 1].strip() == "return evaluate(_f_body, _f_arrays, x, y)"


def test_source_is_available_and_standalone():
    f = sc.lambdify(sc.grad("x*exp(y)", ["x", "y"]), ["x", "y"])
    namespace = {}
    exec(compile(f.source, "<test>", "exec"), namespace)
    np.testing.assert_array_equal(namespace["f"](1.0, 0.5), f(1.0, 0.5))
    assert sc.codegen("x", ["x"], name="loss").count("def loss(x):") == 1


def test_deep_and_wide_expressions_compile():
    e = sc.parse("x")
    for _ in range(3000):
        e = sc.sin(e)
    assert sc.lambdify(e, ["x"])(0.5) == pytest.approx(_iterate_sin(0.5, 3000))
    wide = " + ".join(f"x^{k}/{k}" for k in range(1, 400))
    assert sc.lambdify(wide, ["x"])(0.5) == pytest.approx(sum(0.5 ** k / k for k in range(1, 400)))


def _iterate_sin(x, times):
    for _ in range(times):
        x = np.sin(x)
    return x


# --- cheap gradients ------------------------------------------------------------------------------
def product_case(d):
    names = [f"x{i}" for i in range(1, d + 1)]
    return "*".join(names), names


def rosenbrock_case(d):
    names = [f"x{i}" for i in range(1, d + 1)]
    return " + ".join(f"100*(x{i + 1} - x{i}^2)^2 + (1 - x{i})^2" for i in range(1, d)), names


def logsumexp_case(d):
    names = [f"x{i}" for i in range(1, d + 1)]
    return f"logsumexp({', '.join(names)})", names


def mlp_case(d, h, seed=0):
    rng = random.Random(seed)

    def w():
        return f"({round(rng.uniform(-1, 1), 3)})"

    hidden = [f"{w()}*tanh({' + '.join(f'{w()}*x{i}' for i in range(1, d + 1))} + {w()})"
              for _ in range(h)]
    return f"({' + '.join(hidden)} - 0.5)^2", [f"x{i}" for i in range(1, d + 1)]


def lstsq_case(rows, cols, seed=0):
    rng = random.Random(seed)
    residuals = [" + ".join(f"({rng.randint(-5, 5)})*t{c}" for c in range(1, cols + 1))
                 + f" - ({rng.randint(-5, 5)})" for _ in range(rows)]
    return (f"0.5*({' + '.join(f'({r})^2' for r in residuals)})",
            [f"t{c}" for c in range(1, cols + 1)])


def cost(roots):
    """Operations, counting a call of n arguments (logsumexp) as n - 1 binary steps."""
    total = 0
    for node in sc.core.expr.postorder(roots):
        if isinstance(node, sc.Call):
            total += max(1, len(node.args) - 1)
        elif isinstance(node, (sc.Add, sc.Mul)):
            total += len(node.args) - 1
        elif isinstance(node, sc.Pow):
            total += 1
    return total


SUITE = {
    "product": product_case(30), "rosenbrock": rosenbrock_case(10),
    "logsumexp": logsumexp_case(20), "mlp": mlp_case(4, 6), "lstsq": lstsq_case(12, 5),
}


@pytest.mark.parametrize("name", SUITE)
def test_gradient_code_costs_a_small_multiple_of_the_function(name):
    f, names = SUITE[name]
    function_cost = cost(program(f, names).roots)
    gradient_cost = cost(program(sc.grad(f, names), names).roots)
    assert gradient_cost <= 4 * function_cost, (gradient_cost, function_cost)


@pytest.mark.parametrize("name", SUITE)
def test_suite_gradients_match_sympy(name):
    f, names = SUITE[name]
    f_sympy, table = sympy_of(f)
    point = [p[0] for p in sample(names, (-1.0, 1.0), count=1, seed=5)]
    got = sc.lambdify(sc.grad(f, names), names)(*point)
    expected = sympy_function([sympy.diff(f_sympy, table[n]) for n in names], names)(*point)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)
    function = sc.lambdify(f, names)
    for k in (0, len(names) - 1):
        assert got[k] == pytest.approx(central_difference(function, point, k), rel=1e-5, abs=1e-6)


def test_product_gradient_code_is_linear_in_d():
    counts = {d: program(sc.grad(*product_case(d)), product_case(d)[1]).operation_count
              for d in (10, 20, 40)}
    for d, count in counts.items():
        assert count <= 3 * d
    assert counts[40] - counts[20] == 2 * (counts[20] - counts[10])  # exactly linear
    for source in bodies(sc.grad(*product_case(30)), product_case(30)[1]):
        products = source.count("*") + source.count("np.multiply(")
        assert products <= 3 * 30 + 5  # the readable forms would need 30*29 products


def test_hessian_and_hvp_compile_from_the_shared_graph():
    f, names = rosenbrock_case(6)
    h = sc.hessian(f, names)
    v = [1, 2, 3, 4, 5, 6]
    point = [0.3, -0.2, 0.5, 0.9, -0.7, 0.1]
    matrix = sc.lambdify(h, names)(*point)
    np.testing.assert_allclose(sc.lambdify(sc.hvp(f, names, v), names)(*point), matrix @ v,
                               rtol=1e-12)
    np.testing.assert_allclose(matrix, matrix.T)


# --- runtime helpers -----------------------------------------------------------------------------------
def test_runtime_sigmoid_is_accurate_in_both_tails():
    xs = np.array([-745.0, -40.0, -1.0, 0.0, 1.0, 40.0, 1000.0, -1000.0])
    exact = [float(sympy.N(1 / (1 + sympy.exp(-sympy.Float(v, 30))), 30)) for v in xs]
    np.testing.assert_allclose(runtime.sigmoid(xs), exact, rtol=1e-15, atol=0)
    for v, e in zip(xs, exact):
        assert runtime.sigmoid(float(v)) == pytest.approx(e, rel=1e-15, abs=0)


def test_runtime_logsumexp_broadcasts_and_shifts():
    a, b, c = np.array([[1000.0], [-1000.0]]), np.array([1000.0, 0.0]), 3.0
    got = runtime.logsumexp(a, b, c)
    assert got.shape == (2, 2)
    expected = [[1000 + np.log(2), 1000.0], [1000.0, np.log(1 + np.exp(3.0))]]
    np.testing.assert_allclose(got, expected, rtol=1e-15)
    assert runtime.logsumexp(1000.0, 1000.0, 1000.0) == pytest.approx(1000 + np.log(3), rel=1e-15)
    assert runtime.logsumexp(-np.inf, -np.inf, -np.inf) == -np.inf
    assert runtime.logsumexp(np.inf, 1.0, 2.0) == np.inf


def test_numpy_erf_is_accurate():
    import math

    xs = np.concatenate([np.linspace(-7, 7, 4001), [0.0, 1e-300, 2.5, -2.5, 30.0]])
    expected = np.array([math.erf(v) for v in xs])
    np.testing.assert_allclose(runtime.erf_numpy(xs), expected, rtol=3e-15, atol=1e-300)
    assert runtime.erf_numpy(0.5) == pytest.approx(math.erf(0.5), rel=1e-15)
    assert runtime.erf_backend() in ("scipy", "numpy")


def test_importing_symcalc_does_not_import_scipy():
    import subprocess
    import sys

    code = "import sys, symcalc; symcalc.lambdify('sin(x)', ['x'])(1.0); print('scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_single_float_point_follows_numpy_rules():
    # Python floats raise on 1/0 and turn complex on (-3)^1.5; arrays give inf and nan
    grad_log = sc.lambdify(sc.grad("log(x)", "x"), ["x"])
    power = sc.lambdify("x^(3/2)", ["x"])
    with np.errstate(all="ignore"):
        assert np.array_equal(grad_log(0.0), grad_log(np.array([0.0]))[:, 0])
        assert np.isinf(grad_log(0.0)[0])
        assert np.isnan(power(-3.0)) and np.isnan(power(np.array([-3.0]))[0])
    assert power(4.0) == 8.0


@pytest.mark.parametrize("name", ["x", "value"])
def test_a_point_computed_again_in_numpy_keeps_its_argument(name):
    # the fallback after a complex result gets the arguments, whatever the variable is called
    power = sc.lambdify(f"{name}^1.3 + {name}", [name])
    namespace: dict = {}
    exec(sc.codegen(f"{name}^1.3 + {name}", [name]), namespace)
    with np.errstate(all="ignore"):
        for f in (power, power.numpy_function, namespace["f"]):
            assert np.isnan(f(-2.0))
            assert f(2.0) == 2.0 ** 1.3 + 2.0


@pytest.mark.parametrize("outputs", [["x^1.5", "x*y"], [["x^1.5", "1/x"], ["y", "2"]]])
@pytest.mark.parametrize("point", [(-1.0, 2.0), (0.0, 2.0), (2.0, 3.0)])
def test_a_list_of_outputs_at_a_float_point_matches_the_array_path(outputs, point):
    # complex rows (x^1.5 at -1) and 1/0 at a point of floats give what arrays give
    f = sc.lambdify(outputs, "x y")
    with np.errstate(all="ignore"):
        at_point = f(*point)
        expected = f(*(np.array([v]) for v in point))[..., 0]
    assert type(at_point) is np.ndarray and at_point.dtype == np.float64
    np.testing.assert_array_equal(at_point, expected)


@pytest.mark.parametrize("args, name", [
    ((None, 1.0), "x"), ((1.0, None), "y"), (("2", 1.0), "x"), (([1.0, None], 1.0), "x"),
    ((np.array([1 + 2j]), 1.0), "x"),
])
def test_an_argument_that_is_not_a_real_number_is_a_type_error_naming_it(args, name):
    f = sc.lambdify("x*exp(y) + 1", ["x", "y"])
    with pytest.raises(TypeError, match=f"argument {name}: expected a real number"):
        f(*args)


# --- sums whose terms carry several numbers ------------------------------------------------------------
def _reference_value(text: str, point: dict[str, float], wrt: str | None = None) -> float:
    """``text`` (or its derivative in ``wrt``) read by SymPy with its own meanings of the
    functions, evaluated by mpmath at 30 digits: independent of symcalc's parser, canonical
    forms and printer."""
    import mpmath

    names = sorted(point)
    meanings = {n: sympy.Symbol(n, real=True) for n in names}
    meanings.update(sigmoid=lambda a: 1 / (1 + sympy.exp(-a)), erf=sympy.erf, exp=sympy.exp,
                    log=sympy.log, logsumexp=lambda *a: sympy.log(sympy.Add(*map(sympy.exp, a))))
    s = sympy.sympify(text.replace("^", "**"), locals=meanings, rational=True)
    if wrt is not None:
        s = sympy.diff(s, meanings[wrt])
    f = sympy.lambdify([meanings[n] for n in names], s, modules="mpmath")
    with mpmath.workdps(30):
        return float(f(*(mpmath.mpf(point[n]) for n in names)))


@pytest.mark.parametrize("text, point", [
    ("x + 1 - 1/(1 - exp(x))", {"x": 0.8}),
    ("3 - z - (1 - exp(3))^3", {"z": 0.3}),
    ("0.5 + 3 + x + 2 - log(1 - sigmoid(0.5))", {"x": -1.7}),
    ("x - 0.5 - log(sigmoid(y)) + erf(x)", {"x": 0.3, "y": -2.5}),
])
def test_sums_of_rewritten_and_numeric_terms_keep_their_signs(text, point):
    names = sorted(point)
    got = sc.lambdify(text, names)(*(point[n] for n in names))
    assert got == pytest.approx(_reference_value(text, point), rel=RTOL)


def test_a_gradient_term_with_two_numbers_keeps_its_sign():
    # d/dz is exp(-z/2 - logsumexp(-z/2, 2*y))/2 - 1/2: a term that was printed as "- -1.0/2"
    text = "1 - (logsumexp(-z/2, 2*y) - log(exp(-z/2)))"
    point = {"x": 0.1, "y": 0.2, "z": 0.3}
    gradient = sc.lambdify(sc.grad(text, ["x", "y", "z"]), ["x", "y", "z"])(0.1, 0.2, 0.3)
    for name, got in zip("xyz", gradient):
        assert got == pytest.approx(_reference_value(text, point, name), rel=RTOL, abs=1e-12)


def test_the_printer_multiplies_every_numeric_factor_of_a_product():
    # x + (-1)*(-2)*x: a product with two numbers, which no canonical constructor builds
    from symcalc.compiler.compile import _generate
    from symcalc.core.expr import _new
    from symcalc.compiler.program import Program

    x = sc.Symbol("x")
    factors = (sc.Num(-1), sc.Num(-2), x)
    product = _new(sc.Mul, (sc.Mul, factors), factors)
    total = _new(sc.Add, (sc.Add, (x, product)), (x, product))
    for root in (product, total):
        namespace: dict = {}
        exec(_generate({"f": Program((x,), (root,), ())}).source, namespace)
        assert namespace["f"](0.5) == (1.0 if root is product else 1.5)


def test_a_negated_leading_factor_is_subtracted_in_a_sum():
    hessian = sc.hessian("logsumexp(x, y, 2*x) + sigmoid(x*y)", ["x", "y"])
    for source in bodies(hessian, ["x", "y"]):
        assert "+ -" not in source and "+ (-" not in source, source
    f, x = sc.lambdify(hessian, ["x", "y"]), np.linspace(-3, 3, 7)
    np.testing.assert_array_equal(f(x, 0.5), np.stack([f(v, 0.5) for v in x], axis=-1))


def test_the_readme_and_the_docstring_show_what_codegen_prints():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    call = '`print(sc.codegen(sc.grad("x*exp(y)", ["x", "y"]), ["x", "y"]))` prints\n\n```python\n'
    start = readme.index(call) + len(call)
    assert readme[start:readme.index("```", start)] == sc.codegen(sc.grad("x*exp(y)", ["x", "y"]),
                                                                  ["x", "y"])
    example = sc.codegen.__doc__.split('``codegen("x*y", ["x", "y"])`` is::\n\n')[1]
    doc = textwrap.dedent(example.split("\n\n    ``planned=True``")[0])
    assert doc.strip() == sc.codegen("x*y", ["x", "y"]).strip()


def test_shaped_code_writes_out_only_the_helpers_it_calls():
    shapes = {"A": ("m", "n"), "t": ("n",), "b": ("m",)}
    A, t, b = np.arange(6.0).reshape(2, 3), np.array([0.5, -1.0, 2.0]), np.array([1.0, -2.0])
    for formula, sigmoid in [("0.5*norm(A@t - b)^2", False), ("sum(sigmoid(A@t)) + b@b", True)]:
        outputs = sc.grad(sc.parse(formula, shapes=shapes), "t")
        source = sc.codegen(outputs, ["A", "t", "b"])
        assert ("def sigmoid(" in source) == sigmoid
        assert not any(line.startswith(("import symcalc", "from symcalc"))
                       for line in source.splitlines())
        namespace: dict = {}
        exec(compile(source, "<shaped>", "exec"), namespace)
        np.testing.assert_array_equal(namespace["f"](A, t, b),
                                      sc.lambdify(outputs, ["A", "t", "b"])(A, t, b))
