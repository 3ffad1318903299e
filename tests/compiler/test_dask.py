"""The NumPy backend's function on Dask arrays: a lazy Dask array, equal to the NumPy result and to
an independent evaluation (mpmath, ``tests/oracle.py``), and a run on a ``dask.distributed``
cluster of worker processes, to which the generated functions are sent by pickling.

Laziness is checked with a scheduler that fails: nothing may be computed while the function
builds its result, only at ``.compute()``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings

import symcalc as sc
from oracle import value
from strategies import VARIABLES, formulas, points

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

# Every helper of symcalc.compiler.runtime that generated code calls, and the registry's other
# NumPy forms
HELPER_FORMULAS = [
    "sigmoid(x) + sigmoid(-800*y)", "softplus(x) + softplus(700*y)", "logsumexp(x, y)",
    "logsumexp(x, 2*y, 1000*z)", "logsumexp(x, y, z, -x)", "erf(x) + erfc(3*y)", "erfc(9*y)",
    "relu(x)*max(y, z) - min(x, z)", "heaviside(x) + sign(y) + abs(z)", "atan2(y, x) + log(x^2 + 1, 3)",
    "x*exp(y) + y^2/z + 7", "logsumexp(x)",
]


def _fail(*_args, **_kwargs):
    raise AssertionError("the generated function computed a Dask array")


def lazily(f, *args):
    """``f(*args)`` built under a scheduler that fails if anything is computed."""
    with dask.config.set(scheduler=_fail):
        result = f(*args)
    assert isinstance(result, da.Array)
    return result


def _columns(pts, chunks=2):
    numpy = [np.array([p[v] for p in pts]) for v in VARIABLES]
    return numpy, [da.from_array(c, chunks=chunks) for c in numpy]


@pytest.mark.parametrize("text", HELPER_FORMULAS)
def test_each_helper_and_its_gradient_stay_lazy_and_equal_numpy(text):
    rng = np.random.default_rng(len(text))
    numpy = [rng.uniform(0.1, 2.0, 7) * rng.choice([-1, 1], 7) for _ in VARIABLES]
    numpy[2] = np.abs(numpy[2]) + 0.5
    chunked = [da.from_array(c, chunks=3) for c in numpy]
    for outputs in (text, sc.grad(text, VARIABLES)):
        f = sc.lambdify(outputs, VARIABLES)
        got = lazily(f, *chunked).compute()
        np.testing.assert_allclose(got, f(*numpy), rtol=1e-13, atol=1e-300)


@settings(max_examples=20)
@given(formulas(3), points(5))
def test_random_formulas_and_gradients_on_dask_match_numpy_and_mpmath(f, pts):
    numpy, chunked = _columns(pts)
    value_fn = sc.lambdify(f.expr, VARIABLES)
    got = lazily(value_fn, *chunked).compute()
    np.testing.assert_allclose(got, value_fn(*numpy), rtol=1e-12)
    for k, p in enumerate(pts):
        want = value(f.expr, p)
        if want is not None:
            assert math.isclose(got[k], float(want), rel_tol=1e-8, abs_tol=1e-10), (f.text, p)
    gradient = sc.lambdify(sc.grad(f.expr, VARIABLES), VARIABLES)
    np.testing.assert_allclose(lazily(gradient, *chunked).compute(), gradient(*numpy),
                               rtol=1e-12, atol=1e-300)


def test_constants_scalars_and_broadcasting_give_dask_arrays():
    x = da.from_array(np.linspace(-1, 1, 6).reshape(2, 3), chunks=(1, 3))
    y = np.array([1.0, 2.0, 3.0])
    f = sc.lambdify(["x*y", "2", "y", "0"], "x y")
    got = lazily(f, x, y)
    assert got.shape == (4, 2, 3)
    np.testing.assert_array_equal(got.compute(), f(x.compute(), y))
    assert lazily(sc.lambdify("y + 1", "x y"), x, 2.0).compute().tolist() == [[3.0] * 3] * 2
    constant = lazily(sc.lambdify([["1", "2"], ["3", "4"]], "x"), x)
    assert constant.shape == (2, 2, 2, 3) and constant[1, 0].compute().tolist() == [[3.0] * 3] * 2


def test_integer_and_float32_dask_input():
    x = da.arange(6, chunks=2)
    f = sc.lambdify("1/(x + 1)", "x")
    assert lazily(f, x).dtype == np.float64
    np.testing.assert_allclose(f(x).compute(), 1 / (np.arange(6) + 1))
    x32 = x.astype(np.float32)
    assert f(x32).dtype == np.float64
    assert sc.lambdify("1/(x + 1)", "x", dtype=None)(x32).dtype == np.float32


def test_a_formula_and_its_gradient_on_a_distributed_cluster():
    distributed = pytest.importorskip("distributed")
    loss = "logsumexp(w*x, 0) - y*w*x + erf(w)"
    f = sc.lambdify(loss, "w x y")
    g = sc.lambdify(sc.grad(loss, ["w"]), "w x y")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=400), rng.integers(0, 2, 400).astype(float)
    chunked_x, chunked_y = da.from_array(x, chunks=100), da.from_array(y, chunks=100)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None, silence_logs=50) as cluster, \
            distributed.Client(cluster) as client:
        total = f(0.3, chunked_x, chunked_y).sum()
        slope = g(0.3, chunked_x, chunked_y).sum(axis=-1)
        got_total, got_slope = client.compute([total, slope], sync=True)
        # the generated functions themselves travel to the workers (pickled, compiled there)
        blocks = chunked_x.map_blocks(f, 0.3, 1.0, dtype=float).compute()
        remote = client.submit(g, 0.3, x, y).result(timeout=30)
    np.testing.assert_allclose(got_total, f(0.3, x, y).sum(), rtol=1e-13)
    np.testing.assert_allclose(got_slope, g(0.3, x, y).sum(axis=-1), rtol=1e-13)
    np.testing.assert_allclose(blocks, f(x, 0.3, 1.0), rtol=1e-14)
    np.testing.assert_array_equal(remote, g(0.3, x, y))


def test_the_numpy_erf_without_scipy_stays_lazy(monkeypatch):
    from symcalc.compiler import runtime
    monkeypatch.setattr(runtime, "_erf_impl", runtime.erf_numpy)
    monkeypatch.setattr(runtime, "_erfc_impl", runtime.erfc_numpy)
    x = np.linspace(-6, 6, 13)
    f = sc.lambdify(["erf(x)", "erfc(x)"], "x")
    got = lazily(f, da.from_array(x, chunks=5)).compute()
    np.testing.assert_array_equal(got, f(x))
    assert got[1, -1] == pytest.approx(math.erfc(6.0), rel=1e-13)


def test_unknown_chunk_sizes_are_a_clear_error():
    x = da.from_array(np.linspace(-1, 1, 8), chunks=4)
    with pytest.raises(sc.SymcalcError, match="compute_chunk_sizes"):
        sc.lambdify("x + 1", "x")(x[x > 0])
    positive = x[x > 0].compute_chunk_sizes()
    np.testing.assert_allclose(sc.lambdify("x + 1", "x")(positive).compute(),
                               np.linspace(-1, 1, 8)[4:] + 1)
