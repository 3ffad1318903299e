"""``backend="jax"``: the same values as the NumPy backend and as an independent evaluation
(mpmath, ``tests/oracle.py``), float64, stable where the NumPy code is, and a function that
``jax.jit``, ``jax.grad`` and ``jax.vmap`` transform; ``jax.grad`` agrees with symcalc's gradient.

JAX compiles each new function and shape, which is slow: few, chosen cases, and a cache of the
compiled functions shared by the tests.
"""

from __future__ import annotations

import functools
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings

import symcalc as sc
from oracle import value
from strategies import VARIABLES, formulas, points
from symcalc.compiler import runtime

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
from symcalc.compiler.backends import jax_runtime  # noqa: E402  (needs JAX)



@pytest.fixture(autouse=True, scope="module")
def float64():
    """As ``backend="jax"`` turns on (``tests/test_array_types.py`` checks that it does)."""
    jax_runtime.require()


@functools.lru_cache(maxsize=None)
def compiled(text: str, variables: str = "x y z", backend: str = "jax"):
    return sc.lambdify(text, variables, backend=backend)


def test_every_helper_generated_code_calls_has_a_jax_version():
    called = {"assemble"}  # the pure body's own helper
    for fn in sc.REGISTRY.values():
        count = max(fn.min_args, 3 if fn.max_args is None else fn.max_args)
        called |= set(re.findall(r"_rt\.(\w+)", fn.numpy(["a", "b", "c"][:count])))
    assert {"sigmoid", "logsumexp", "erf", "erfc"} <= called
    for name in called:
        assert callable(getattr(jax_runtime, name)), name
        assert callable(getattr(runtime, name)), name


@settings(max_examples=12)
@given(formulas(3), points(4))
def test_random_formulas_match_numpy_and_mpmath(f, pts):
    columns = [np.array([p[v] for p in pts]) for v in VARIABLES]
    jax_fn = sc.lambdify(f.expr, VARIABLES, backend="jax")
    got = np.asarray(jax_fn(*columns))
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, sc.lambdify(f.expr, VARIABLES)(*columns), rtol=1e-12,
                               atol=1e-14)
    for k, p in enumerate(pts):
        want = value(f.expr, p)
        if want is not None:
            assert math.isclose(got[k], float(want), rel_tol=1e-8, abs_tol=1e-10), (f.text, p)


GRADIENT_CASES = ["x^2*y + sin(z)*exp(x)", "sigmoid(x*y) + softplus(z) + erf(x)",
                  "logsumexp(x, y, z) + sqrt(x^2 + 1)*log(y^2 + 2)", "erfc(2*x + y)/(z^2 + 1)"]


@pytest.mark.parametrize("text", GRADIENT_CASES)
def test_jax_grad_equals_symcalcs_gradient(text):
    f = compiled(text)
    gradient = sc.grad(text, VARIABLES)
    symbolic = sc.lambdify(gradient, VARIABLES)
    for point in [(0.3, -1.2, 0.7), (-1.5, 0.4, 2.0)]:
        got = np.array(jax.grad(f, argnums=(0, 1, 2))(*point))
        np.testing.assert_allclose(got, symbolic(*point), rtol=1e-12, atol=1e-14)
        named = dict(zip(VARIABLES, point))
        for k, g in enumerate(gradient):
            assert math.isclose(got[k], float(value(g, named)), rel_tol=1e-10, abs_tol=1e-12)


def test_vmap_and_jit_compose():
    f = compiled("x*exp(y) + logsumexp(x, y, z)")
    xs, ys = jnp.linspace(-2, 2, 5), jnp.linspace(0, 1, 5)
    mapped = jax.vmap(f, in_axes=(0, 0, None))(xs, ys, 0.5)
    np.testing.assert_allclose(mapped, f(xs, ys, 0.5), rtol=1e-14)
    per_point = jax.vmap(jax.grad(f), in_axes=(0, 0, None))(xs, ys, 0.5)
    g = sc.lambdify(sc.grad("x*exp(y) + logsumexp(x, y, z)", ["x"]), VARIABLES)
    np.testing.assert_allclose(per_point, g(np.asarray(xs), np.asarray(ys), 0.5)[0], rtol=1e-12)
    outer = jax.jit(lambda a: 2 * f(a, 1.0, a))
    assert float(outer(0.5)) == pytest.approx(2 * float(f(0.5, 1.0, 0.5)), rel=1e-15)


def test_list_outputs_constants_and_broadcasting():
    f = sc.lambdify([["x*y", "2"], ["0", "y"]], "x y", backend="jax")
    x = np.linspace(0, 1, 3)[:, None]
    got = f(x, np.array([1.0, 2.0]))
    assert got.shape == (2, 2, 3, 2) and got.dtype == jnp.float64
    np.testing.assert_array_equal(got, sc.lambdify([["x*y", "2"], ["0", "y"]], "x y")(
        x, np.array([1.0, 2.0])))


def test_stable_where_the_numpy_code_is_and_gradients_stay_finite():
    f = compiled("sigmoid(x) + softplus(y) + logsumexp(x, y, z)")
    for point in [(-800.0, 1000.0, 700.0), (800.0, -1000.0, -750.0)]:
        np.testing.assert_allclose(float(f(*point)), compiled(
            "sigmoid(x) + softplus(y) + logsumexp(x, y, z)", backend="numpy")(*point), rtol=1e-15)
        assert np.all(np.isfinite(jax.grad(f, argnums=(0, 1, 2))(*point)))
    assert float(compiled("sigmoid(x)", "x")(-700.0)) == pytest.approx(math.exp(-700), rel=1e-13)


def test_float32_can_stay_float32():
    x = jnp.ones(3, dtype=jnp.float32)
    assert sc.lambdify("x/3", "x", backend="jax")(x).dtype == jnp.float64
    assert sc.lambdify("x/3", "x", backend="jax", dtype=None)(x).dtype == jnp.float32


def test_the_numpy_backend_takes_jax_arrays_and_jax_transformations():
    f = compiled("x^2*sigmoid(y) + erf(z)", backend="numpy")
    point = (0.5, -0.25, 1.5)
    got = f(*(jnp.asarray(v) for v in point))
    assert isinstance(got, jax.Array)
    assert float(got) == pytest.approx(f(*point), rel=1e-15)
    assert float(jax.jit(f)(*point)) == pytest.approx(f(*point), rel=1e-15)
    g = sc.lambdify(sc.grad("x^2*sigmoid(y) + erf(z)", VARIABLES), VARIABLES)
    np.testing.assert_allclose(jax.grad(f, argnums=(0, 1, 2))(*point), g(*point), rtol=1e-13)
    assert f(*(jnp.asarray(v, dtype=jnp.float32) for v in point)).dtype == jnp.float32


def test_packed_jax_function_and_its_gradient():
    f = sc.lambdify("(1 - x)^2 + 100*(y - x^2)^2", "x y", backend="jax", packed=True)
    g = sc.lambdify(sc.grad("(1 - x)^2 + 100*(y - x^2)^2", "x y"), "x y", packed=True)
    v = jnp.array([-1.2, 1.0])
    np.testing.assert_allclose(jax.grad(f)(v), g(np.asarray(v)), rtol=1e-14)
    assert f(jnp.ones((4, 2))).shape == (4,)


def test_a_wrong_number_of_arguments_is_a_type_error():
    with pytest.raises(sc.SymcalcTypeError, match=r"takes 3 arguments \(x, y, z\), not 2"):
        compiled("x*y*z")(1.0, 2.0)


MANY = "a b c d u v w t"
SPREADS = {"moderate": 0.0, "overflowing": 1000.0, "underflowing": -1000.0}


@pytest.mark.parametrize("offset", SPREADS.values(), ids=list(SPREADS))
def test_logsumexp_of_many_arguments_and_its_gradient_match_numpy_and_mpmath(offset):
    # one batch takes the plain sum, the others the shifted one (offset: at every point, or mixed)
    rng = np.random.default_rng(3)
    columns = [rng.uniform(-2, 2, 5) + offset for _ in MANY.split()]
    columns[0][1] += 2000.0  # one point overflows in every batch: the batch takes the shifted sum
    mixed = [c.copy() for c in columns]
    mixed[0][1] -= 2000.0  # as columns, but no point overflows
    text = "logsumexp(a, b, c, d, u, v, w, t) + logsumexp(a, 2)"
    gradient = sc.grad(text, MANY)
    exprs = [sc.parse(text)] + list(gradient)
    jax_fn, numpy_fn = (sc.lambdify(exprs, MANY, backend=b) for b in ("jax", "numpy"))
    for cols in (columns, mixed):
        got = np.asarray(jax_fn(*cols))
        np.testing.assert_allclose(got, numpy_fn(*cols), rtol=1e-13)
        for j, expr in enumerate(exprs):
            for k in range(5):
                want = value(expr, {v: cols[i][k] for i, v in enumerate(MANY.split())})
                assert math.isclose(got[j, k], float(want), rel_tol=1e-12, abs_tol=1e-300)
    f = compiled(text, MANY)
    point = [c[1] for c in columns]
    autodiff = np.array(jax.grad(f, argnums=tuple(range(8)))(*point))
    np.testing.assert_allclose(autodiff, sc.lambdify(gradient, MANY)(*point), rtol=1e-13)
    summed = jax.grad(lambda *cols: jnp.sum(jax.vmap(f)(*cols)), argnums=0)(*columns)
    assert np.all(np.isfinite(summed))


def test_the_maximum_of_many_arguments_is_not_recomputed_for_each_output():
    names = " ".join(f"x{k}" for k in range(12))
    gradient = sc.lambdify(sc.grad(f"logsumexp({names.replace(' ', ', ')})", names), names,
                           backend="jax")
    columns = [jnp.linspace(-1.0, 1.0, 7) + k for k in range(12)]
    hlo = jax.jit(gradient).lower(*columns).compile().as_text()
    assert hlo.count(" maximum(") <= 11  # one chain of maxima; it was 11 per output


LAYER = "(0.5*tanh(x - 2*y) - 1.5*tanh(y*z + 0.25) + tanh(x + z)^2 - 0.5)^2"


def test_outputs_sharing_expensive_values_are_computed_in_two_stages_with_the_same_values():
    gradient = sc.grad(LAYER, VARIABLES)
    hessian = sc.hessian(LAYER, VARIABLES)
    rng = np.random.default_rng(5)
    columns = [rng.uniform(-2, 2, 9) for _ in VARIABLES]
    for result in (gradient, hessian):
        f = sc.lambdify(result, VARIABLES, backend="jax")
        got = np.asarray(f(*columns))
        np.testing.assert_allclose(got, sc.lambdify(result, VARIABLES)(*columns), rtol=1e-13,
                                   atol=1e-15)
        np.testing.assert_allclose(got, np.asarray(jax.jit(f)(*columns)), rtol=1e-14, atol=1e-15)
        flat = np.asarray(result, dtype=object).ravel()
        for k in (0, 4, 8):
            point = {v: columns[i][k] for i, v in enumerate(VARIABLES)}
            for j, entry in enumerate(flat):
                assert math.isclose(got.reshape(len(flat), -1)[j, k], float(value(entry, point)),
                                    rel_tol=1e-12, abs_tol=1e-13)
    body = f.pure_body("symcalc.compiler.backends.jax_runtime")
    run = lambda *a: body(*a, np.broadcast_shapes(*(np.shape(c) for c in a)))  # noqa: E731
    assert jax_runtime._Rewritten.of(run, tuple(columns)) is not None  # tanh(...) is kept
    one = sc.lambdify(LAYER, VARIABLES, backend="jax").pure_body("symcalc.compiler.backends.jax_runtime")
    assert jax_runtime._Rewritten.of(lambda *a: one(*a, (9,)), tuple(columns)) is None


def test_a_staged_function_composes_with_jax_transformations():
    gradient = sc.lambdify(sc.grad(LAYER, VARIABLES), VARIABLES, backend="jax")
    point = (0.3, -0.7, 1.1)
    hessian = jax.jacfwd(lambda *p: gradient(*p), argnums=(0, 1, 2))(*point)
    want = sc.lambdify(sc.hessian(LAYER, VARIABLES), VARIABLES)(*point)
    np.testing.assert_allclose(np.array(hessian), want, rtol=1e-12, atol=1e-14)
    xs = jnp.linspace(-1, 1, 4)
    mapped = jax.vmap(gradient, in_axes=(0, None, None))(xs, -0.7, 1.1)
    np.testing.assert_allclose(np.asarray(mapped).T, gradient(np.asarray(xs), -0.7, 1.1),
                               rtol=1e-14)


def test_sin_and_cos_polynomials_within_one_are_correctly_rounded_to_an_ulp_or_two():
    import mpmath

    rng = np.random.default_rng(11)
    x = np.concatenate([rng.uniform(-1, 1, 2000), [1.0, -1.0, 0.5, 1e-300, 5e-324, 1e-8, 0.0]])
    for function, exact in ((jax_runtime._sin_within_one, mpmath.sin),
                            (jax_runtime._cos_within_one, mpmath.cos)):
        got = np.asarray(jax.jit(function)(x))
        want = np.array([float(exact(mpmath.mpf(float(v)))) for v in x])
        assert np.all(np.abs(got - want) <= 2 * np.spacing(np.abs(want))), function.__name__
    assert math.copysign(1.0, float(jax_runtime._sin_within_one(jnp.float64(-0.0)))) == -1.0
    assert math.isnan(float(jax_runtime._cos_within_one(jnp.float64(math.nan))))


def test_nested_sines_use_the_polynomials_only_where_the_argument_is_within_one():
    text = "sin(sin(sin(x))) + cos(3*tanh(y)) + cos(sigmoid(z) - sin(x))"
    exprs = [sc.parse(text)] + list(sc.grad(text, VARIABLES)) + [sc.diff(text, "x", 3)]
    columns = [np.array([0.3, -2.5, 1e6, 40.0, -0.0]), np.array([1.0, -3.0, 0.2, 5.0, 0.0]),
               np.array([-0.4, 2.0, 7.0, -30.0, 1e-9])]
    f = sc.lambdify(exprs, VARIABLES, backend="jax")
    got = np.asarray(f(*columns))
    np.testing.assert_allclose(got, sc.lambdify(exprs, VARIABLES)(*columns), rtol=1e-13,
                               atol=1e-15)
    for j, expr in enumerate(exprs):
        for k in range(5):
            want = float(value(expr, {v: columns[i][k] for i, v in enumerate(VARIABLES)}))
            assert math.isclose(got[j, k], want, rel_tol=1e-12, abs_tol=1e-14), (expr, k)
    body = sc.lambdify(text, VARIABLES, backend="jax").pure_body("symcalc.compiler.backends.jax_runtime")
    rewritten = jax_runtime._Rewritten.of(lambda *a: body(*a, (5,)), tuple(columns))
    # sin(sin(x)) and sin(sin(sin(x))) become polynomials; sin(x), cos(3*tanh(y)) and
    # cos(sigmoid(z) - sin(x)) keep the library call
    assert rewritten is not None and len(rewritten.polynomial) == 2


def test_each_kind_shape_and_dtype_of_jax_array_gets_its_own_traced_program():
    # the programs are kept by what they were traced for: calls alternating between shapes,
    # dtypes and argument kinds must each get the values of their own
    for result in (sc.grad(LAYER, VARIABLES), sc.hessian(LAYER, VARIABLES)):
        _check_alternating_calls(sc.lambdify(result, VARIABLES, backend="jax", dtype=None),
                                 sc.lambdify(result, VARIABLES))


def _check_alternating_calls(f, numpy_f):
    rng = np.random.default_rng(11)
    calls = []
    for shape in [(5,), (7,), (2, 3), (5,)]:
        columns = [rng.uniform(-2, 2, shape) for _ in VARIABLES]
        calls.append(([jnp.asarray(c) for c in columns], numpy_f(*columns), jnp.float64))
        calls.append(([jnp.asarray(c, dtype=jnp.float32) for c in columns],
                      numpy_f(*[c.astype(np.float32).astype(float) for c in columns]),
                      jnp.float32))
        calls.append((columns, numpy_f(*columns), jnp.float64))  # NumPy arrays
        calls.append(([c.astype(np.float32) for c in columns], calls[-2][1], jnp.float32))
    calls.append(([jnp.asarray(0.5), 1.5, np.float64(-0.25)], numpy_f(0.5, 1.5, -0.25), None))
    for _ in range(2):
        for args, want, dtype in calls:
            got = f(*args)
            assert got.shape == want.shape and (dtype is None or got.dtype == dtype)
            tolerance = 1e-5 if dtype == jnp.float32 else 1e-13
            np.testing.assert_allclose(np.asarray(got, dtype=float), want, rtol=tolerance,
                                       atol=tolerance)


def test_a_constant_output_is_broadcast_to_the_points_and_composes():
    hessian = sc.hessian("0.5*(3*x - y + 2)^2 + (x + 4*y)^2 - x*y", "x y")
    f = sc.lambdify(hessian, "x y", backend="jax")
    want = np.array([[float(e) for e in row] for row in hessian])  # [[9 + 2, -3 + 8 - 1], ...]
    assert want.tolist() == [[11.0, 4.0], [4.0, 33.0]]
    x, y = jnp.linspace(0, 1, 6).reshape(2, 3), jnp.ones((2, 3))
    got = f(x, y)
    assert got.shape == (2, 2, 2, 3) and got.dtype == jnp.float64
    np.testing.assert_array_equal(got, np.broadcast_to(want[..., None, None], (2, 2, 2, 3)))
    np.testing.assert_array_equal(got, sc.lambdify(hessian, "x y")(np.asarray(x), np.asarray(y)))
    np.testing.assert_array_equal(f(0.5, 2.0), want)
    np.testing.assert_array_equal(jax.jit(f)(x, y), got)
    mapped = jax.vmap(f)(jnp.arange(4.0), jnp.arange(4.0))
    np.testing.assert_array_equal(mapped, np.broadcast_to(want, (4, 2, 2)))


@pytest.mark.parametrize("text", ["-y*log(1/(1 + exp(-x))) - (1 - y)*log(1 - 1/(1 + exp(-x)))",
                                  "log(exp(x) + exp(y)) + log(cosh(x - y))",
                                  "exp(x*y)/(exp(x*y) + exp(y)) - log1p(exp(x))"])
def test_hand_written_exponential_forms_and_their_hessians_at_large_arguments(text):
    # the NumPy backend's values at these points are checked against mpmath in
    # tests/test_stability_patterns.py; JAX compiles the same stabilised program
    x = np.array([1000.0, -1000.0, 745.0, -800.0, 0.5])
    y = np.array([1.0, 0.0, 745.0, 1.0, -0.25])
    for result in (text, sc.grad(text, "x y"), sc.hessian(text, "x y")):
        got = np.asarray(sc.lambdify(result, "x y", backend="jax")(x, y))
        assert np.all(np.isfinite(got)), (text, result)
        np.testing.assert_allclose(got, sc.lambdify(result, "x y")(x, y), rtol=1e-12, atol=1e-9)
