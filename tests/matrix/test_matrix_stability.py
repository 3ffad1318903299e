"""Shaped ML losses, their gradients and their Hessians computed without overflow at margins of
+-1000, as the scalar engine computes them.

The reference is independent of the code under test: the shaped formula is spelt out entry by
entry as scalar expressions (``symcalc.matrix.unroll``) and evaluated in 1000-digit arithmetic
(``oracle.value``, mpmath), where exp(1000) is an ordinary number and ``1 - sigmoid(2000)``
(about 1e-869) does not cancel to 0; a gradient is the central difference of that value, a
Hessian the second central difference, with a step of 1e-40.  The generated NumPy code must
agree to about 1e-9 at every margin (``test_shaped_backends`` checks the numexpr and jax
backends the same way).
"""

from __future__ import annotations

import warnings

import mpmath
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import symcalc as sc
from matrix_oracle import check, matrix_value, random_arrays, scalar_values, unrolled_derivative
import oracle
from oracle import value
from symcalc.matrix import parse_shaped
from symcalc.matrix.shapes import ShapeError
from symcalc.matrix.unroll import symbol_grid, unroll
from test_matrix_properties import EXAMPLES, N, S, SHAPES as PROPERTY_SHAPES, SIZES as PROPERTY_SIZES, shaped

SIZES = {"m": 4, "n": 2, "k": 3, "h": 3}
SHAPES = {"X": "m,n", "w": "n", "y": "m", "W": "k,n", "x": "n", "z": "k", "c": "k",
          "V": "n,h", "v": "h", "r": "m"}
MARGINS = [1, 30, 300, 1000]
RTOL = 1e-9
DIGITS = 1000  # exp(-2000) (a margin of 1000, doubled) is about 1e-869
STEP = mpmath.mpf("1e-40")


@pytest.fixture(autouse=True)
def many_digits(monkeypatch):
    monkeypatch.setattr(oracle, "DIGITS", DIGITS)


# --- the independent 1000-digit evaluation -----------------------------------------------------------
def _point(f, arrays):
    point = {}
    for s in f.free_symbols:
        grid = symbol_grid(s, SIZES)
        for index in np.ndindex(*grid.shape):
            point[grid[index].name] = mpmath.mpf(float(arrays[s.data][index]))
    return point


def reference(f, arrays):
    """The value of the shaped ``f`` (any shape) at the arrays, entry by entry, in 1000 digits."""
    entries = unroll(f, SIZES)
    point = _point(f, arrays)
    out = np.empty(entries.shape)
    for index in np.ndindex(*entries.shape):
        out[index] = float(value(entries[index], point))
    return out


def reference_gradient(f, name, arrays):
    """d f / d name for a scalar ``f``: central differences of the 1000-digit value."""
    entry = unroll(f, SIZES)[()]
    symbol = next(s for s in f.free_symbols if s.data == name)
    grid = symbol_grid(symbol, SIZES)
    point = _point(f, arrays)
    out = np.empty(grid.shape)
    with mpmath.workdps(DIGITS):
        for index in np.ndindex(*grid.shape):
            key = grid[index].name
            up, down = dict(point), dict(point)
            up[key] += STEP
            down[key] -= STEP
            out[index] = float((value(entry, up) - value(entry, down)) / (2 * STEP))
    return out


def reference_hessian(f, name, arrays):
    """The second derivatives of a scalar ``f`` in the vector ``name``: central differences of
    the 1000-digit value."""
    entry = unroll(f, SIZES)[()]
    symbol = next(s for s in f.free_symbols if s.data == name)
    keys = [g.name for g in symbol_grid(symbol, SIZES)]
    point, h = _point(f, arrays), STEP
    out = np.empty((len(keys), len(keys)))
    with mpmath.workdps(DIGITS):
        for i, a in enumerate(keys):
            for j, b in enumerate(keys):
                total = 0
                for sa, sb in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                    moved = dict(point)
                    moved[a] += sa * h
                    moved[b] += sb * h
                    total += sa * sb * value(entry, moved)
                out[i, j] = float(total / (4 * h * h))
    return out


def agree(got, expected, what):
    got = np.asarray(got, dtype=float)
    assert np.all(np.isfinite(got)), f"{what}: {got}"
    scale = max(1.0, float(np.max(np.abs(expected))))
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=RTOL * scale, err_msg=what)


def computed(e, arrays):
    names = sorted(s.data for s in e.free_symbols)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow or a division by zero is a failure
        return sc.lambdify(e, names)(*(arrays[n] for n in names))


# --- data at a margin ---------------------------------------------------------------------------------
def data(margin, seed=0):
    """Arrays whose products (X@w, W@x, tanh(X@V)@v) reach both +margin and -margin (rows of X
    and of W come in opposite pairs), and labels in {0, 1}."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2, 2))
    X = np.vstack([X, -X])
    w = rng.normal(size=2)
    w *= margin / np.max(np.abs(X @ w))
    W = rng.normal(size=(2, 2))
    W = np.vstack([W, -W[:1]])
    x = rng.normal(size=2)
    x *= margin / np.max(np.abs(W @ x))
    V = rng.normal(size=(2, 3))
    v = rng.normal(size=3)
    v *= margin / np.max(np.abs(np.tanh(X @ V) @ v))
    return {"X": X, "w": w, "y": np.array([1.0, 0.0, 1.0, 0.0]), "W": W, "x": x,
            "z": np.array([0.0, 1.0, 0.0]), "c": np.array([-0.4, 1.3, 0.2]), "V": V, "v": v,
            "r": rng.uniform(-2, 2, size=4)}


LOSSES = {
    "logistic, sigmoid": ("-sum(y*log(sigmoid(X@w)) + (1-y)*log(1-sigmoid(X@w)))", ["w", "X"]),
    "logistic, 1/(1+exp)": ("-sum(y*log(1/(1 + exp(-X@w))) + (1-y)*log(1 - 1/(1 + exp(-X@w))))",
                            ["w"]),
    "logistic, softplus": ("sum(softplus(X@w)) - y@X@w", ["w", "X"]),
    "logistic, log(1+exp)": ("sum(log(1 + exp(X@w))) - y@(X@w)", ["w"]),
    "logistic, log(sigmoid)": ("-sum(log(sigmoid((2*y - 1)*(X@w))))", ["w", "y"]),
    "logistic, signed margins": ("sum(log(1 + exp(-(2*y - 1)*(X@w))))", ["w"]),
    "softmax cross-entropy": ("-z@log(softmax(W@x))", ["x", "W"]),
    "softmax cross-entropy, logsumexp": ("logsumexp(W@x) - z@W@x", ["x"]),
    "softmax cross-entropy, by hand": ("-z@log(exp(W@x)/sum(exp(W@x)))", ["x", "W"]),
    "expected value under softmax": ("c@(exp(W@x)/sum(exp(W@x)))", ["x", "c"]),
    "log-sum-exp": ("log(sum(exp(W@x)))", ["x", "W"]),
    "log-sum-exp, shifted": ("log(sum(exp(W@x + c)))", ["x", "c"]),
    "Gaussian negative log-likelihood": ("sum(0.5*(y - X@w)^2*exp(-r) + 0.5*r)", ["w", "r"]),
    "two-layer network": ("sum(softplus(tanh(X@V)@v)) - y@(tanh(X@V)@v)", ["v", "V"]),
}


@pytest.mark.parametrize("margin", MARGINS)
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_loss_and_gradient_agree_with_1000_digits(loss, margin):
    text, variables = LOSSES[loss]
    f = sc.parse(text, shapes=SHAPES)
    arrays = data(margin)
    agree(computed(f, arrays), reference(f, arrays), f"{loss} at margin {margin}")
    for name in variables:
        g = sc.grad(f, name)
        agree(computed(g, arrays), reference_gradient(f, name, arrays),
              f"gradient of {loss} in {name} at margin {margin}: {g}")


@pytest.mark.parametrize("text, name", [
    ("sum(log(1 + exp(X@w)))", "w"),
    ("-sum(y*log(sigmoid(X@w)) + (1-y)*log(1-sigmoid(X@w)))", "w"),
    ("log(sum(exp(W@x)))", "x"),
    ("-z@log(softmax(W@x))", "x"),
    ("sum(1/(1 + exp(-X@w)))", "w"),
])
def test_hessians_agree_with_1000_digits(text, name):
    f = sc.parse(text, shapes=SHAPES)
    arrays = data(1000)
    agree(computed(sc.hessian(f, name), arrays), reference_hessian(f, name, arrays),
          f"Hessian of {text} in {name}: {sc.hessian(f, name)}")


# --- the cases that gave nan or inf ---------------------------------------------------------------------
def test_logistic_loss_at_large_margins():
    X = np.array([[1, 2], [3, -1], [-2, .5]])
    y = np.array([1., 0, 1])
    w = np.array([20., 10])
    shapes = {"X": "m,n", "w": "n", "y": "m"}
    f = sc.parse("-sum(y*log(sigmoid(X@w)) + (1-y)*log(1-sigmoid(X@w)))", shapes=shapes)
    assert sc.lambdify(f, ["X", "w", "y"])(X, w, y) == pytest.approx(85.0, rel=1e-15)
    g = sc.grad(f, "w")
    assert str(g) == "X.T@(sigmoid(X@w) - y)"  # as the scalar engine writes it
    np.testing.assert_allclose(sc.lambdify(g, ["X", "w", "y"])(X, w, y), [5, -1.5], rtol=1e-15)
    check(f, next(s for s in f.free_symbols if s.data == "w"), g, with_sympy=True)


def test_gradient_of_softplus_written_with_exp():
    g = sc.grad("log(1+exp(w@x))", "w", shapes={"w": "n", "x": "n"})
    assert str(g) == "sigmoid(w@x)*x"
    np.testing.assert_allclose(sc.lambdify(g, ["w", "x"])(np.array([800., 0]), np.array([1., 1])),
                               [1, 1], rtol=1e-15)
    f = sc.parse("log(1+exp(w@x))", shapes={"w": "n", "x": "n"})
    check(f, next(s for s in f.free_symbols if s.data == "w"), g, with_sympy=True)


def test_softmax_and_log_sum_exp_gradients_read_as_softmax():
    shapes = {"z": "n", "y": "n"}
    lse = sc.parse("log(sum(exp(z)))", shapes=shapes)
    ce = sc.parse("-y@log(softmax(z))", shapes=shapes)
    assert str(sc.grad(lse, "z")) == "softmax(z)"
    assert str(sc.grad(ce, "z")) == "sum(y)*softmax(z) - y"
    z = np.array([0.0, 800.0, -5.0])
    assert computed(ce, {"z": z, "y": np.array([1.0, 0, 0])}) == pytest.approx(800.0, rel=1e-15)
    assert computed(lse, {"z": z}) == pytest.approx(800.0, rel=1e-15)
    for f in (lse, ce):
        z_symbol = next(s for s in f.free_symbols if s.data == "z")
        check(f, z_symbol, sc.grad(f, "z"), with_sympy=True)
        check(sc.grad(f, "z"), z_symbol, sc.hessian(f, "z"))


# --- randomized: each stability pattern in random surroundings -------------------------------------------
# An entrywise pattern of a vector u, with the exact function it is (for the reference).
PATTERNS = ["log(sigmoid({u}))", "log(1 - sigmoid({u}))", "log(1 + exp({u}))", "log(exp({u}) + 1)",
            "1/(1 + exp({u}))", "1 - sigmoid({u})", "exp({u})/(1 + exp({u}))",
            "log(1/(1 + exp(-{u})))", "softplus({u})", "sigmoid({u})*(1 - sigmoid({u}))"]
# the margin u, reached through @, negated, scaled, or signed by labels
INNER = ["X@w", "-(X@w)", "2*(X@w)", "(2*y - 1)*(X@w)", "X@w + r", "-0.5*(X@w)"]
# a scalar from the vector pattern p
OUTER = ["sum({p})", "-sum({p})", "3*sum({p})", "y@({p})", "sum(y*{p})", "sum({p}) + sum(r*{p})",
         "(1 - y)@({p})", "sum({p})/4"]
# reductions with no scalar analogue, of a vector u
REDUCTIONS = ["log(sum(exp({u})))", "-y@log(softmax({u}))", "logsumexp({u})",
              "sum(log(softmax({u})))", "2*log(sum(exp({u}))) - y@({u})",
              "y@(exp({u})/sum(exp({u})))", "-y@log(exp({u})/sum(exp({u})))",
              "sum(X.T@exp({u}))/sum(exp({u}))", "1/sum(exp({u}))"]


@st.composite
def stability_case(draw):
    u = draw(st.sampled_from(INNER))
    if draw(st.booleans()):
        text = draw(st.sampled_from(OUTER)).format(p=draw(st.sampled_from(PATTERNS)).format(u=u))
    else:
        text = draw(st.sampled_from(REDUCTIONS)).format(u=u)
    return text, draw(st.sampled_from([30.0, 300.0, 1000.0])), draw(st.integers(0, 20))


@settings(max_examples=EXAMPLES, deadline=None)  # 20 in CI, 333 with --slow
@given(stability_case())
def test_random_formulas_around_each_pattern_agree_with_1000_digits(case):
    text, margin, seed = case
    f = sc.parse(text, shapes=SHAPES)
    arrays = data(margin, seed)
    agree(computed(f, arrays), reference(f, arrays), f"{text} at margin {margin}")
    g = sc.grad(f, "w")
    agree(computed(g, arrays), reference_gradient(f, "w", arrays),
          f"gradient of {text} in w at margin {margin}: {g}")


# --- arguments whose sizes disagree ------------------------------------------------------------------------
# (names of their own: what a result remembers is shared by every formula that gives that node)
def test_sizes_are_checked_for_variables_the_result_no_longer_mentions():
    g = sc.lambdify(sc.grad("t1@b1", "t1", shapes={"t1": "n", "b1": "n"}), ["t1", "b1"])
    np.testing.assert_array_equal(g(np.ones(3), np.arange(3.0)), [0, 1, 2])
    with pytest.raises(ShapeError, match=r"size n disagrees: t1 has 4 \(axis 0\) but b1 has 3"):
        g(np.ones(4), np.arange(3.0))
    with pytest.raises(ShapeError, match=r"t1 must be a 1-D array \(a vector\) of shape \(n\)"):
        g(np.ones((3, 3)), np.arange(3.0))
    h = sc.hessian("0.5*t1@t1", "t1", shapes={"t1": "n"})
    assert str(h) == "eye(n)"
    half_square = sc.parse("0.5*t1@t1", shapes={"t1": "n"})
    check(sc.grad(half_square, "t1"), next(iter(half_square.free_symbols)), h)
    np.testing.assert_array_equal(sc.lambdify(h, ["t1"])(np.ones(3)), np.eye(3))
    with pytest.raises(ShapeError, match="t1 must be a 1-D array"):
        sc.lambdify(h, ["t1"])(np.ones((3, 2)))


def test_a_name_derived_with_two_shapes_asks_for_its_shape():
    # both results are the node b2, derived once with a vector t2, once with a scalar t2
    first = sc.grad("t2@b2", "t2", shapes={"t2": "n", "b2": "n"})
    second = sc.jacobian("t2*b2", "t2", shapes={"b2": "n"})
    assert first is second and str(first) == "b2"
    f = sc.parse("t2@b2", shapes={"t2": "n", "b2": "n"})
    check(f, next(s for s in f.free_symbols if s.data == "t2"), first, with_sympy=True)
    with pytest.raises(ShapeError, match="gave t2 different shapes"):
        sc.lambdify(first, ["t2", "b2"])
    g = sc.matrix.lambdify(first, ["t2", "b2"], shapes={"t2": "n", "b2": "n"})
    with pytest.raises(ShapeError, match="size n disagrees"):
        g(np.ones(4), np.arange(3.0))


def test_an_array_with_the_wrong_number_of_axes_is_a_shape_error():
    f = sc.lambdify(sc.parse("A@t", shapes={"A": "m,n", "t": "n"}), ["A", "t"])
    with pytest.raises(ShapeError, match=r"A must be a 2-D array \(a matrix\)"):
        f(np.ones(3), np.ones(3))
    with pytest.raises(ShapeError, match=r"size n disagrees: A has 2 \(axis 1\) but t has 3"):
        f(np.ones((3, 2)), np.ones(3))


# --- one engine: a shaped formula's code is as stable as the scalar engine's code of its entries ---------
# The property tests' random formulas (tests/test_matrix_properties.py) at normal-sized arrays never
# reach a large margin and have no exp or log; here each is scaled into one inside a stability pattern.
WRAPPERS = ["log(1 + exp({k}*({f})))", "log(sigmoid({k}*({f})))", "1/(1 + exp(-{k}*({f})))",
            "log(1 - sigmoid({k}*({f})))", "log(exp({k}*({f})) + exp(-{k}*({f})))",
            "exp({k}*({f}))/(1 + exp({k}*({f})))"]


# the same of a random vector formula v, through the reductions
VECTOR_WRAPPERS = ["log(sum(exp({k}*({f}))))", "u@log(softmax({k}*({f})))",
                   "u@(exp({k}*({f}))/sum(exp({k}*({f}))))", "sum(log(1 + exp({k}*({f}))))",
                   "t@log(sigmoid({k}*({f})))", "logsumexp({k}*({f})) - u@({k}*({f}))"]


@st.composite
def wrapped(draw):
    if draw(st.booleans()):
        return draw(st.sampled_from(WRAPPERS)), draw(shaped(S, depth=2))
    return draw(st.sampled_from(VECTOR_WRAPPERS)), draw(shaped(N, depth=2))


@settings(max_examples=EXAMPLES, deadline=None)
@given(wrapped(), st.sampled_from([30, 300]), st.data())
def test_shaped_code_is_as_stable_as_the_scalar_code_of_its_entries(case, k, data):
    wrapper, f = case
    f = parse_shaped(wrapper.format(k=k, f=f), PROPERTY_SHAPES)  # the matrix layer's node, scalars too
    assume(f.free_symbols)
    arrays = random_arrays(f.free_symbols, PROPERTY_SIZES, seed=data.draw(st.integers(0, 99)),
                           spd=["B"])
    with np.errstate(all="ignore"):
        expected = scalar_values(unroll(f, PROPERTY_SIZES), arrays)
    assume(np.all(np.isfinite(expected)))
    agree(matrix_value(f, arrays), expected, str(f))
    x = data.draw(st.sampled_from(sorted(f.free_symbols, key=lambda s: s.data)))
    with np.errstate(all="ignore"):
        expected = scalar_values(unrolled_derivative(f, x, PROPERTY_SIZES), arrays)
    if np.all(np.isfinite(expected)):
        g = sc.grad(f, x.data)
        with np.errstate(all="ignore"):
            got = matrix_value(g, arrays)
        np.testing.assert_allclose(got, expected, rtol=1e-7,
                                   atol=1e-9 * max(1.0, float(np.max(np.abs(expected)))),
                                   err_msg=f"gradient of {f} in {x.data}: {g}")
