"""Generated functions beyond float64 NumPy arrays: the pure body, pandas Series, float32,
packed arguments for SciPy, pickling, backend names and optional dependencies.

(Dask: ``tests/test_dask.py``; JAX: ``tests/test_backends_jax.py``.)
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings

import symcalc as sc
from strategies import VARIABLES, formulas, points
from symcalc.compiler.compile import parameter_names
from symcalc.compiler.numpy_printer import function_body
from symcalc.compiler.program import program

ROOT = Path(__file__).resolve().parents[2]
ROSENBROCK = "(1 - x)^2 + 100*(y - x^2)^2"


# --- the pure body -------------------------------------------------------------------------------
@settings(max_examples=30)
@given(formulas(3), points(4))
def test_the_pure_body_writes_nothing_and_equals_the_planned_one(f, pts):
    outputs = [f.expr, sc.grad(f.expr, VARIABLES), [[f.expr, 1], [0, "x"]]]
    columns = [np.array([p[v] for p in pts]) for v in VARIABLES]
    for out in outputs:
        prog = program(out, VARIABLES)
        lines = function_body(prog, parameter_names(prog.variables), plan=False)
        assert not any(("[" in line.split("=")[0] and "=" in line) or "out=" in line
                       for line in lines), lines
        g = sc.lambdify(out, VARIABLES)
        pure = g.pure_body("symcalc.compiler.runtime")(*columns, (len(pts),))
        np.testing.assert_array_equal(pure, g(*columns))


def test_the_pure_body_broadcasts_constants_and_keeps_signed_zeros():
    g = sc.lambdify(["x", "-0.0*1", "2"], "x y")
    pure = g.pure_body("symcalc.compiler.runtime")
    got = pure(np.ones((2, 1)), np.zeros(3), (2, 3))
    np.testing.assert_array_equal(got, g(np.ones((2, 1)), np.zeros(3)))
    single = sc.lambdify("x", "x y").pure_body("symcalc.compiler.runtime")(np.array([-0.0]), 1.0, (1,))
    assert np.signbit(single[0]) and single.flags.writeable


# --- pandas --------------------------------------------------------------------------------------
def test_a_series_gives_a_series_with_its_index():
    pd = pytest.importorskip("pandas")
    index = pd.date_range("2026-01-01", periods=4)
    x = pd.Series([0.5, 1.0, 1.5, 2.0], index=index)
    y = pd.Series([1.0, 2.0, 3.0, 4.0], index=index)
    got = sc.lambdify("x*exp(y)", "x y")(x, y)
    assert isinstance(got, pd.Series) and got.index.equals(index)
    np.testing.assert_allclose(got.to_numpy(), x.to_numpy() * np.exp(y.to_numpy()), rtol=1e-15)
    assert sc.lambdify("x + z", "x z")(x, 2.0).tolist() == [2.5, 3.0, 3.5, 4.0]
    frame = sc.lambdify(sc.grad("x^2*y", "x y"), "x y")(x, y)
    assert isinstance(frame, pd.DataFrame) and frame.index.equals(index)
    np.testing.assert_allclose(frame[0], 2 * x * y)
    np.testing.assert_allclose(frame[1], x ** 2)


def test_series_with_different_indexes_are_refused():
    pd = pytest.importorskip("pandas")
    with pytest.raises(sc.SymcalcError, match="different indexes"):
        sc.lambdify("x*y", "x y")(pd.Series([1.0, 2.0]), pd.Series([1.0, 2.0], index=[5, 6]))


# --- float32 -------------------------------------------------------------------------------------
def test_float32_stays_float32_when_asked():
    x = np.linspace(-3, 3, 7, dtype=np.float32)
    text = "sigmoid(x)*y + logsumexp(x, y, 1) + erf(x)"
    exact = sc.lambdify(text, "x y")(x.astype(float), 0.5)
    default = sc.lambdify(text, "x y")(x, 0.5)
    assert default.dtype == np.float64
    kept = sc.lambdify(text, "x y", dtype=None)
    assert kept(x, 0.5).dtype == np.float32
    np.testing.assert_allclose(kept(x, 0.5), exact, rtol=1e-6)
    assert kept(x.astype(float), 0.5).dtype == np.float64
    assert type(kept(0.5, 0.5)) is type(sc.lambdify(text, "x y")(0.5, 0.5))  # the planned body
    gradient = sc.lambdify(sc.grad(text, "x y"), "x y", dtype=None)(x, np.float32(0.5))
    assert gradient.dtype == np.float32 and gradient.shape == (2, 7)
    chosen = sc.lambdify(text, "x y", dtype=np.float32)
    assert chosen(x.astype(float), 0.5).dtype == np.float32
    assert chosen(0.0, 0.5).dtype == np.float32


def test_a_dtype_that_is_not_a_float_type_is_refused():
    for bad in (int, "complex128", "nonsense"):
        with pytest.raises(sc.SymcalcError, match="float type"):
            sc.lambdify("x", "x", dtype=bad)


# --- packed arguments ----------------------------------------------------------------------------
def test_scipy_minimises_with_symcalcs_packed_function_gradient_and_hessian():
    optimize = pytest.importorskip("scipy.optimize")
    f = sc.lambdify(ROSENBROCK, "x y", packed=True)
    g = sc.lambdify(sc.grad(ROSENBROCK, "x y"), "x y", packed=True)
    h = sc.lambdify(sc.hessian(ROSENBROCK, "x y"), "x y", packed=True)
    start = np.array([-1.2, 1.0])
    for method, hess in (("BFGS", None), ("Newton-CG", h)):
        result = optimize.minimize(f, start, jac=g, hess=hess, method=method, tol=1e-10)
        assert result.success, result.message
        np.testing.assert_allclose(result.x, [1.0, 1.0], atol=1e-5)
    assert optimize.check_grad(f, g, np.array([0.3, -0.7])) < 1e-5


def test_packed_batches_put_the_batch_axes_first():
    g = sc.lambdify(sc.grad(ROSENBROCK, "x y"), "x y")
    packed = sc.lambdify(sc.grad(ROSENBROCK, "x y"), "x y", packed=True)
    points = np.random.default_rng(1).normal(size=(5, 2))
    assert packed(points).shape == (5, 2)
    np.testing.assert_array_equal(packed(points), g(points[:, 0], points[:, 1]).T)
    np.testing.assert_array_equal(packed(points[0]), g(*points[0]))
    assert sc.lambdify(ROSENBROCK, "x y", packed=True)(points.reshape(5, 1, 2)).shape == (5, 1)
    assert sc.lambdify(ROSENBROCK, "x y", packed=True)([1.0, 1.0]) == 0.0
    for bad in (np.ones(3), np.ones((4, 3)), 2.0):
        with pytest.raises(sc.ShapeError, match="last axis has length 2"):
            packed(bad)


# --- pickling ------------------------------------------------------------------------------------
def test_generated_functions_survive_pickle_and_cloudpickle():
    picklers = [pickle]
    try:
        import cloudpickle
        picklers.append(cloudpickle)
    except ImportError:
        pass
    x = np.linspace(-1, 1, 5)
    for f in (sc.lambdify("sigmoid(x)*y", "x y"), sc.lambdify(sc.hessian("x^3*y", "x y"), "x y"),
              sc.lambdify(ROSENBROCK, "x y", packed=True),
              sc.lambdify("x/3", "x y", dtype=None), sc.lambdify(["1", "2"], [])):
        for pickler in picklers:
            copy = pickler.loads(pickler.dumps(f))
            args = [np.stack([x, x], axis=-1)] if isinstance(f, sc.compiler.compile.Packed) else \
                [x, 2.0][:getattr(f, "arity", 2)]
            np.testing.assert_array_equal(copy(*args), f(*args))
            assert copy.source == f.source


# --- backends and optional dependencies ----------------------------------------------------------
def test_an_unknown_backend_names_the_choices():
    with pytest.raises(sc.SymcalcError, match=r"unknown backend 'torch'.*'numpy', 'numexpr', 'jax'"):
        sc.lambdify("x", "x", backend="torch")
    with pytest.raises(sc.SymcalcError, match="unknown backend"):
        sc.lambdify("x", "x", backend=None)


def test_shaped_formulas_name_the_backends_too():
    x = sc.matrix.vector("x", "n")
    with pytest.raises(sc.SymcalcError, match=r"unknown backend 'torch'.*'numpy', 'numexpr', 'jax'"):
        sc.lambdify(sc.matrix.dot(x, x), [x], backend="torch")
    with pytest.raises(sc.SymcalcError, match="dtype must be"):
        sc.lambdify(sc.matrix.dot(x, x), [x], dtype=int)


def _run(script: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True,
                          text=True, timeout=120, cwd=ROOT, env={"PYTHONPATH": str(ROOT),
                                                                 "PATH": "/usr/bin:/bin"})


def test_symcalc_runs_without_its_optional_array_libraries():
    result = _run("""
        import sys
        for name in ("jax", "jaxlib", "dask", "distributed", "pandas", "cupy"):
            sys.modules[name] = None  # an import of it fails, as if it were not installed
        import numpy as np
        import symcalc as sc
        f = sc.lambdify(sc.grad("sigmoid(x)*y", "x y"), "x y")
        print(f(np.ones(3), 2.0).shape, sc.lambdify("x", "x", dtype=None)(np.float32(1)).dtype)
        try:
            sc.lambdify("x", "x", backend="jax")
        except sc.SymcalcError as error:
            print(error)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "(2, 3) float32", 'backend="jax" needs JAX, which is not installed: pip install "symcalc[jax]"']


def test_importing_symcalc_imports_no_optional_array_library_and_jax_turns_on_float64():
    pytest.importorskip("jax")
    result = _run("""
        import sys
        import numpy as np
        import symcalc as sc
        sc.lambdify(sc.grad("x*y", "x y"), "x y")(np.ones(2), 1.0)
        print(sorted({"jax", "dask", "pandas", "scipy"} & set(sys.modules)))
        import jax
        print(jax.config.jax_enable_x64)
        f = sc.lambdify("x/3", "x", backend="jax")
        print(jax.config.jax_enable_x64, f(1.0).dtype)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", "False", "True float64"]
