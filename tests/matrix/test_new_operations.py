"""The operations with NumPy's meaning: ``kron``, ``matrix_power``, ``mean`` and ``sum``,
``mean``, ``max``, ``logsumexp``, ``softmax`` along an axis.

Every derivative is checked against the scalar engine's derivative of the formula unrolled at
small sizes, against SymPy's derivative of the same unrolled formula and against central
differences (``matrix_oracle.check``); generated code on every backend against NumPy written
out by hand here; the stable forms at margins of +-1000 against a 1000-digit evaluation.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import oracle
import symcalc as sc
from matrix_oracle import (SIZES, check, matrix_value, random_arrays, scalar_values,
                           unrolled_derivative)
from symcalc.matrix.nodes import MatrixExpr, postorder
from symcalc.matrix.shapes import ShapeError
from symcalc.matrix.unroll import symbol_grid
from test_matrix_properties import EXAMPLES, MN as PMN, N as PN, S as PS, SHAPES as PROPERTY_SHAPES
from test_matrix_properties import SYM, shaped

SHAPES = {"X": ("m", "n"), "Z": ("m", "n"), "V": ("m", "n"), "S": ("n", "n"), "R": ("n", "n"),
          "T": ("p", "k"), "x": ("n",), "c": ("n",), "y": ("m",), "b": ("m",), "w": ("k",),
          "s": ()}
SHIFTED = ("S",)  # not symmetric, invertible: a transposed factor shows


def P(text: str) -> MatrixExpr:
    return sc.parse(text, shapes=SHAPES)


def symbol(name: str) -> MatrixExpr:
    return sc.matrix.ops.symbol(name, SHAPES[name])


# --- gradients: one or more per operation ---------------------------------------------------------
GRADIENTS = [
    ("mean(sin(X))", "X"), ("mean(x*x) + mean(X*X)", "x"), ("mean(sin(X))", "X"),
    ("c@sum(X*X, axis=0)", "X"), ("b@sum(exp(X), axis=1)", "X"), ("sum(sum(X, axis=0)^2)", "X"),
    ("c@mean(X*X, axis=0)", "X"), ("b@mean(sin(X), axis=-1)", "X"), ("b@mean(sin(X), axis=1)", "b"),
    ("max(X@x)", "x"), ("max(X@x)", "X"), ("c@max(X, axis=0)", "X"), ("b@max(X*X, axis=1)", "X"),
    ("max(sin(X))", "X"),
    ("b@logsumexp(X, axis=1)", "X"), ("sum(logsumexp(X*s, axis=0))", "s"),
    ("c@logsumexp(X.T@X, axis=0)", "X"),
    ("sum(softmax(X, axis=1)*Z)", "X"), ("sum(softmax(X, axis=0)*Z)", "X"),
    ("sum(log(softmax(X, axis=1))*Z)", "X"), ("y@softmax(X, axis=0)@c", "X"),
    ("norm(kron(X, S))^2", "S"), ("norm(kron(X, S))^2", "X"), ("sum(kron(X, T)*kron(Z, T))", "X"),
    ("sum(sin(kron(X, T)))", "X"), ("sum(sin(kron(X, T)))", "T"), ("sum(sin(kron(c, y)))", "c"),
    ("sum(sin(kron(c, y)))", "y"), ("mean(kron(X, S))", "S"),
    ("kron(x, c)@kron(x, c)", "x"), ("sum(kron(y, sin(x)))", "x"), ("kron(x, w)@kron(c, w)", "w"),
    ("trace(matrix_power(S, 3))", "S"), ("x@matrix_power(S, 2)@x", "S"),
    ("sum(matrix_power(S, -2))", "S"), ("c@matrix_power(S, 4)@x", "x"),
    ("sum(R*matrix_power(S + R, 3))", "S"),
]


@pytest.mark.parametrize("text, name", GRADIENTS, ids=[f"{t} in {n}" for t, n in GRADIENTS])
def test_gradient_agrees_with_the_unrolled_scalar_engine_sympy_and_differences(text, name):
    f = P(text)
    g = sc.grad(f, name)
    assert g.shape == SHAPES[name]
    assert P(str(g)) is g  # the gradient prints as text that reads back
    check(f, symbol(name), g, shifted=SHIFTED, with_sympy=True)


# --- Jacobians of vector-valued formulas in a vector --------------------------------------------
JACOBIANS = [
    "sum(outer(y, x)*X, axis=0)", "sum(sin(outer(b, x)), axis=1)",
    "mean(exp(outer(y, x)), axis=0)", "mean(outer(y, x)*X, axis=1)",
    "max(outer(y, x) + X, axis=0)", "max(outer(y, x)*X, axis=1)",
    "logsumexp(outer(y, x)*X, axis=0)", "logsumexp(outer(y, sin(x)) + X, axis=1)",
    "kron(sin(x), y)", "kron(x, x)", "kron(X, T)@kron(x, w)", "matrix_power(S, 3)@x",
    "softmax(X, axis=1)@x", "sum(X, axis=0)*x + mean(x)*c",
    "softmax(outer(y, x), axis=1)@c", "b@softmax(outer(y, x)*X, axis=0)",
    "matrix_power(S + outer(x, c), 3)@c", "sum(softmax(outer(y, sin(x)), axis=0)*X, axis=1)",
]


@pytest.mark.parametrize("text", JACOBIANS)
def test_jacobian_agrees_with_the_unrolled_scalar_engine(text):
    F = P(text)
    J = sc.jacobian(F, "x")
    assert J.shape == F.shape + ("n",)
    assert P(str(J)) is J
    check(F, symbol("x"), J, shifted=SHIFTED, with_sympy=True)


HESSIANS = ["sum(sum(outer(y, x)*X, axis=0)^2)", "x@matrix_power(S, 2)@x",
            "b@max(outer(y, x)*X, axis=1)", "mean(sin(x)) + c@mean(exp(outer(y, x)), axis=0)",
            "kron(x, c)@kron(sin(x), c)", "b@logsumexp(outer(y, x)*X, axis=1)",
            "x@matrix_power(S + outer(x, x), 2)@x", "sum(log(softmax(outer(y, x), axis=0))*X)",
            "sum(Z*(X@softmax(outer(c, x), axis=1)))"]


@pytest.mark.parametrize("text", HESSIANS)
def test_hessian_agrees_with_the_unrolled_scalar_engine(text):
    f = P(text)
    H = sc.hessian(f, "x")
    check(sc.grad(f, "x"), symbol("x"), H, shifted=SHIFTED)
    x = symbol("x")  # and the scalar engine's own second derivatives of the unrolled formula
    arrays = random_arrays(f.free_symbols, SIZES, seed=4, shifted=SHIFTED)
    second = unrolled_derivative(f, x, SIZES)
    hess = np.array([[sc.diff(second[i], g) for g in
                      symbol_grid(x, SIZES).flat] for i in np.ndindex(*second.shape)],
                    dtype=object)
    np.testing.assert_allclose(matrix_value(H, arrays, SHAPES), scalar_values(hess, arrays),
                               rtol=1e-8, atol=1e-10)


def test_through_a_kronecker_product_of_matrices_no_matrix_form_jacobian_but_an_hvp():
    f = P("kron(c, c)@kron(outer(x, x), S)@kron(c, sin(x))")
    with pytest.raises(sc.NoMatrixFormError, match="kron"):
        sc.hessian(f, "x")
    D = _direction(("n",), "D")
    hv = sc.hvp(f, "x", D)
    g = sc.grad(f, "x")
    arrays = random_arrays(f.free_symbols | {D}, SIZES, seed=9)
    jac = scalar_values(unrolled_derivative(g, symbol("x"), SIZES), arrays)
    np.testing.assert_allclose(matrix_value(hv, arrays, {**SHAPES, "D": ("n",)}),
                               jac @ arrays["D"], rtol=1e-8, atol=1e-10)
    check(f, symbol("x"), g, with_sympy=True)


# --- jvp, vjp and hvp in matrix form --------------------------------------------------------------
PRODUCTS = [("softmax(Z, axis=1)", "Z"), ("softmax(Z, axis=0)", "Z"), ("logsumexp(Z, axis=0)", "Z"),
            ("max(Z, axis=1)", "Z"), ("mean(Z, axis=0)", "Z"), ("sum(Z*Z, axis=1)", "Z"),
            ("mean(Z)", "Z"), ("max(Z)", "Z"), ("kron(Z, S)", "Z"), ("kron(Z, S)", "S"),
            ("matrix_power(S, 3)", "S"), ("matrix_power(S, -1)@x", "S")]


def _direction(shape: tuple, name: str) -> MatrixExpr:
    return sc.matrix.ops.symbol(name, shape)


@pytest.mark.parametrize("text, name", PRODUCTS, ids=[f"{t} in {n}" for t, n in PRODUCTS])
def test_jvp_is_the_unrolled_derivative_along_a_direction(text, name):
    F, X = P(text), symbol(name)
    D = _direction(X.shape, "D")
    J = sc.jvp(F, name, D)
    assert J.shape == F.shape
    shapes = {**SHAPES, "D": X.shape}
    arrays = random_arrays(F.free_symbols | {D}, SIZES, seed=7, shifted=SHIFTED)
    jac = scalar_values(unrolled_derivative(F, X, SIZES), arrays)
    expected = np.tensordot(jac, arrays["D"], axes=X.ndim)
    got = matrix_value(J, arrays, shapes)
    np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)
    h = 1e-6
    up = matrix_value(F, {**arrays, name: arrays[name] + h * arrays["D"]})
    down = matrix_value(F, {**arrays, name: arrays[name] - h * arrays["D"]})
    np.testing.assert_allclose(got, (up - down) / (2 * h), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("text, name", PRODUCTS, ids=[f"{t} in {n}" for t, n in PRODUCTS])
def test_vjp_is_the_gradient_of_the_weighted_sum(text, name):
    F, X = P(text), symbol(name)
    W = _direction(F.shape, "Wt")
    got = sc.vjp(F, name, W)
    assert got.shape == X.shape
    check(sc.matrix.ops.sum_(W * F), X, got, shifted=SHIFTED)


@pytest.mark.parametrize("text, name", [("sum(logsumexp(Z, axis=1))", "Z"),
                                        ("sum(log(softmax(Z, axis=0))*V)", "Z"),
                                        ("trace(matrix_power(S, 3))", "S"),
                                        ("norm(kron(Z, S))^2", "S"),
                                        ("mean(Z*Z) + y@max(Z, axis=1)", "Z")])
def test_hvp_is_the_derivative_of_the_gradient_along_a_direction(text, name):
    f, X = P(text), symbol(name)
    D = _direction(X.shape, "D")
    hv = sc.hvp(f, name, D)
    g = sc.grad(f, name)
    check(f, X, g, shifted=SHIFTED)  # the gradient first
    arrays = random_arrays(f.free_symbols | {D}, SIZES, seed=8, shifted=SHIFTED)
    jac = scalar_values(unrolled_derivative(g, X, SIZES), arrays)
    got = matrix_value(hv, arrays, {**SHAPES, "D": X.shape})
    np.testing.assert_allclose(got, np.tensordot(jac, arrays["D"], axes=X.ndim), rtol=1e-8,
                               atol=1e-10)


def test_derivative_by_a_scalar_parameter():
    f = P("c@max(s*X, axis=0) + trace(matrix_power(s*S, 3)) + mean(kron(X, S)*s) "
          "+ sum(softmax(s*X, axis=1)*X) + y@logsumexp(s*X, axis=1) + mean(sin(s*X), axis=0)@c")
    d = sc.diff(f, "s")
    assert P(str(d)) is d
    check(f, symbol("s"), d, shifted=SHIFTED, with_sympy=True)


# --- ties of max: the scalar max's rule, 1/k for each of k tied entries ---------------------------
def test_max_splits_the_gradient_equally_between_tied_entries():
    X = symbol("X")
    tied = {"X": np.array([[1.0, 5.0], [1.0, 2.0], [0.0, 5.0]]), "c": np.array([0.3, -2.0])}
    for f in (P("c@max(X, axis=0)"), P("max(X)"), P("b@max(X.T, axis=0)")):
        arrays = dict(tied, b=np.array([1.5, 0.5, -1.0]))
        g = matrix_value(sc.grad(f, "X"), arrays, SHAPES)
        expected = scalar_values(unrolled_derivative(f, X, SIZES), arrays)
        np.testing.assert_allclose(g, expected, rtol=1e-12)
    # each column's (or the whole matrix's) gradient adds up to its weight, shared by the ties
    g = matrix_value(sc.grad(P("c@max(X, axis=0)"), "X"), tied, SHAPES)
    np.testing.assert_allclose(g.sum(axis=0), tied["c"])
    for j in range(2):  # each of the k largest entries of a column gets 1/k of its weight
        top = tied["X"][:, j] == tied["X"][:, j].max()
        np.testing.assert_allclose(g[top, j], tied["c"][j] / top.sum())
        assert not g[~top, j].any()
    g = matrix_value(sc.grad(P("max(X)"), "X"), tied, SHAPES)
    top = tied["X"] == tied["X"].max()
    np.testing.assert_allclose(g[top], 1 / top.sum())
    assert not g[~top].any()


# --- generated code on every backend against NumPy written out here -------------------------------
def _np_logsumexp(z, axis):
    return np.log(np.sum(np.exp(z), axis=axis))


def _np_softmax(z, axis):
    e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)


NUMPY = [
    ("sum(X, axis=0)", lambda a: a["X"].sum(axis=0)),
    ("sum(X, axis=1) + b", lambda a: a["X"].sum(axis=1) + a["b"]),
    ("mean(X)", lambda a: a["X"].mean()),
    ("mean(X, axis=0)*c", lambda a: a["X"].mean(axis=0) * a["c"]),
    ("mean(sin(X), axis=1)", lambda a: np.sin(a["X"]).mean(axis=1)),
    ("max(X, axis=0)", lambda a: a["X"].max(axis=0)),
    ("max(X@x)", lambda a: (a["X"] @ a["x"]).max()),
    ("max(exp(X), axis=1)", lambda a: np.exp(a["X"]).max(axis=1)),
    ("logsumexp(X, axis=1)", lambda a: _np_logsumexp(a["X"], 1)),
    ("logsumexp(X*X, axis=0)@c", lambda a: _np_logsumexp(a["X"] ** 2, 0) @ a["c"]),
    ("softmax(X, axis=1)", lambda a: _np_softmax(a["X"], 1)),
    ("softmax(X, axis=0)@x", lambda a: _np_softmax(a["X"], 0) @ a["x"]),
    ("kron(X, S)", lambda a: np.kron(a["X"], a["S"])),
    ("kron(x, y)", lambda a: np.kron(a["x"], a["y"])),
    ("kron(X, T)@kron(x, w)", lambda a: np.kron(a["X"], a["T"]) @ np.kron(a["x"], a["w"])),
    ("matrix_power(S, 3)", lambda a: a["S"] @ a["S"] @ a["S"]),
    ("matrix_power(S, -2)@x", lambda a: np.linalg.inv(a["S"] @ a["S"]) @ a["x"]),
    ("trace(matrix_power(S, 4))", lambda a: np.trace(a["S"] @ a["S"] @ a["S"] @ a["S"])),
]
BACKENDS = ["numpy", "numexpr", "jax"]


def _run(e, backend, arrays, shapes=None):
    names = sorted(arrays) if shapes else sorted(s.data for s in e.free_symbols)
    f = sc.lambdify(e, names, backend=backend, shapes=shapes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return np.asarray(f(*(arrays[n] for n in names)), dtype=float)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("text, reference", NUMPY, ids=[t for t, _ in NUMPY])
def test_generated_code_computes_numpys_values_and_gradients(text, reference, backend):
    if backend == "jax":
        pytest.importorskip("jax")
    if backend == "numexpr":
        pytest.importorskip("numexpr")
    F = P(text)
    arrays = random_arrays(F.free_symbols, SIZES, seed=11, shifted=SHIFTED)
    np.testing.assert_allclose(_run(F, backend, arrays), reference(arrays), rtol=1e-6, atol=1e-9)
    # the gradient of a weighted sum of the entries, in each variable, against differences of
    # the NumPy function
    weights = random_arrays([sc.matrix.ops.symbol("Wt", F.shape)], SIZES, seed=12)["Wt"]
    loss = sc.matrix.ops.sum_(sc.matrix.ops.symbol("Wt", F.shape) * F)
    for v in sorted(F.free_symbols, key=lambda s: s.data):
        g = _run(sc.grad(loss, v.data), backend, {**arrays, "Wt": weights},
                 {**SHAPES, "Wt": F.shape})
        base = arrays[v.data]
        expected = np.empty(base.shape)
        for j in np.ndindex(*base.shape):
            h = 1e-6
            up, down = base.copy(), base.copy()
            up[j] += h
            down[j] -= h
            expected[j] = (np.sum(weights * reference({**arrays, v.data: up}))
                           - np.sum(weights * reference({**arrays, v.data: down}))) / (2 * h)
        np.testing.assert_allclose(g, expected, rtol=1e-5, atol=1e-6,
                                   err_msg=f"gradient in {v.data} on {backend}")


def test_code_reads_product_sizes_from_the_arrays_and_checks_them():
    z = sc.vector("z", "k*n")
    A, T = symbol("X"), symbol("T")
    e = sc.kron(A, T) @ z
    f = sc.lambdify(e, ["X", "T", "z"])
    arrays = random_arrays([A, T], SIZES, seed=1)
    zv = np.arange(1.0, 7.0)
    np.testing.assert_allclose(f(arrays["X"], arrays["T"], zv),
                               np.kron(arrays["X"], arrays["T"]) @ zv)
    with pytest.raises(ShapeError, match="k\\*n"):
        f(arrays["X"], arrays["T"], np.ones(5))
    assert "_size['m'] * _size['p']" in sc.codegen(sc.ones("m*p"), ["X", "T"], shapes=SHAPES)


def test_a_packed_function_reads_product_sizes():
    X, T = symbol("X"), symbol("T")
    z = sc.vector("z", "k*n")
    f = sc.norm(sc.kron(X, T) @ z) ** 2
    packed = {"m": 3, "p": 2, "k": 4}
    v = np.random.default_rng(3).normal(size=3 * 2 + 2 * 4 + 8)
    Xv, Tv, zv = v[:6].reshape(3, 2), v[6:14].reshape(2, 4), v[14:]
    assert sc.lambdify(f, ["X", "T", "z"], packed=packed)(v) == pytest.approx(
        np.sum((np.kron(Xv, Tv) @ zv) ** 2), rel=1e-12)
    g = sc.lambdify(sc.grad(f, ["X", "T", "z"]), ["X", "T", "z"], packed=packed)(v)
    K = np.kron(Xv, Tv)
    np.testing.assert_allclose(g[14:], 2 * K.T @ (K @ zv), rtol=1e-10)  # the part in z
    with pytest.raises(ShapeError, match="does not fix"):
        sc.lambdify(f, ["X", "T", "z"], packed={"m": 3})(v)


def test_a_derivation_names_each_rule():
    d = str(sc.explain(P("c@max(X, axis=0) + sum(kron(X, S)) + trace(matrix_power(S, 2))"), "S"))
    assert "Kronecker product" in d and "matrix power" in d


# --- stability at margins of +-1000 against 1000 digits -------------------------------------------
STABLE = ["c@logsumexp(W, axis=1)", "x@logsumexp(W, axis=0)", "sum(log(softmax(W, axis=1)))",
          "sum(softmax(W, axis=0)*W)", "c@log(sum(exp(W), axis=1))", "sum(logsumexp(W.T, axis=0))"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("margin", [1, 1000])
@pytest.mark.parametrize("text", STABLE)
def test_reductions_along_an_axis_are_stable_at_large_margins(text, margin, backend, monkeypatch):
    pytest.importorskip("mpmath")
    if backend == "jax":
        pytest.importorskip("jax")
    import test_matrix_stability as stability
    monkeypatch.setattr(oracle, "DIGITS", stability.DIGITS)
    f = sc.parse(text, shapes=stability.SHAPES)
    rng = np.random.default_rng(margin)
    arrays = {"W": margin * rng.choice([-1.0, 1.0], size=(3, 2)) + rng.normal(size=(3, 2)),
              "c": rng.normal(size=3), "x": rng.normal(size=2)}
    used = {s.data: arrays[s.data] for s in f.free_symbols}
    stability.agree(_run(f, backend, used), stability.reference(f, used), f"{text} at {margin}")
    g = sc.grad(f, "W")
    stability.agree(_run(g, backend, used, stability.SHAPES),
                    stability.reference_gradient(f, "W", used), f"gradient of {text}: {g}")


# --- text, LaTeX and canonical forms -------------------------------------------------------------
SAMPLES = ["sum(X, axis=0)", "sum(X, axis=1)", "mean(X)", "mean(x)", "mean(X, axis=0)",
           "mean(X, axis=1)", "max(X)", "max(x)", "max(X, axis=0)", "max(X, axis=1)",
           "logsumexp(X, axis=0)", "logsumexp(X, axis=1)", "softmax(X, axis=0)",
           "softmax(X, axis=1)", "kron(X, S)", "kron(x, y)", "kron(X, T)", "matrix_power(S, 3)",
           "matrix_power(inv(S), 2)", "2*matrix_power(S + R, 2)@x", "ones(k*n, m*p)",
           "ones(n*n, 2*m*n*n)", "mean(kron(X, S))",
           "max(X + 1, axis=1)@y", "kron(X, S).T", "softmax(X.T@X, axis=1)"]


@pytest.mark.parametrize("text", SAMPLES)
def test_text_round_trip(text):
    e = P(text)
    assert P(str(e)) is e
    assert str(P(str(e))) == str(e)


def test_the_adjoint_of_a_kronecker_product_by_one_is_short():
    assert sc.grad(P("norm(kron(X, S))^2"), "S") is P("2*sum(X^2)*S")
    assert sc.grad(P("sum(kron(X, S))"), "X") is P("sum(S)*ones(m, n)")
    assert sc.grad(P("kron(x, y)@kron(x, y)"), "x") is P("2*sum(y^2)*x")


def test_the_printed_text_is_numpys():
    assert str(P("sum(X, axis=-2)")) == "sum(X, axis=0)"
    assert str(P("mean(X, axis=-1)")) == "mean(X, axis=1)"
    assert str(P("kron(X, T)@kron(x, w)")) == "kron(X, T)@kron(x, w)"
    assert P("kron(X, T)").shape == ("m*p", "k*n")
    # a product of sizes is one size, its factors in one order
    assert sc.kron(symbol("T"), symbol("X")).shape == ("m*p", "k*n")


LATEX = [("sum(X, axis=0)", "\\operatorname{sum}\\left(X, \\mathrm{axis}=0\\right)"),
         ("mean(X)", "\\operatorname{mean}\\left(X\\right)"),
         ("max(X, axis=1)", "\\max\\left(X, \\mathrm{axis}=1\\right)"),
         ("logsumexp(X, axis=1)", "\\operatorname{logsumexp}\\left(X, \\mathrm{axis}=1\\right)"),
         ("softmax(X, axis=1)", "\\operatorname{softmax}\\left(X, \\mathrm{axis}=1\\right)"),
         ("kron(X, S + R)", "X \\otimes \\left(R + S\\right)"),
         ("matrix_power(S, 3)", "S^{3}"), ("matrix_power(S + R, 2)", "\\left(R + S\\right)^{2}"),
         ("ones(m*p)", "\\mathbf{1}_{m p}")]


@pytest.mark.parametrize("text, expected", LATEX)
def test_latex(text, expected):
    assert sc.latex(P(text)) == expected


@pytest.mark.parametrize("text", ["kron(X, S)", "kron(X, S + R)", "2*kron(X, S@R)@kron(x, x)",
                                  "kron(x, y) + kron(y, x)", "kron(X, S).T",
                                  "kron(X*X, S)*kron(X, R)",
                                  "kron(kron(x, c), y)", "kron(x, kron(c, y))"])
def test_the_latex_of_a_kronecker_product_reads_back(text):
    e = P(text)
    assert sc.parse(sc.latex(e), latex=True, shapes=SHAPES) is e, sc.latex(e)


# (the LaTeX reader does not read X^{3} of a matrix)
@pytest.mark.parametrize("text", [t for t in SAMPLES if "matrix_power" not in t])
def test_the_latex_of_the_reductions_reads_back(text):
    e = P(text)
    assert sc.parse(sc.latex(e), latex=True, shapes=SHAPES) is e, sc.latex(e)


@pytest.mark.parametrize("latex, error, words", [
    ("\\operatorname{sum}\\left(X, \\mathrm{axis}=2\\right)", ShapeError, "out of range"),
    ("\\operatorname{mean}(X, \\mathrm{axis}=x)", ShapeError, "integer"),
    ("\\operatorname{sum}(X, \\mathrm{foo}=1)", sc.ParseError, "axis"),
    ("\\operatorname{trace}(S, \\mathrm{axis}=0)", sc.ParseError, "no keyword"),
    ("\\max(s, \\mathrm{axis}=0)", ShapeError, "vector or a matrix"),
])
def test_faults_in_latex_are_shown_with_a_caret(latex, error, words):
    with pytest.raises(error) as info:
        sc.parse(latex, latex=True, shapes=SHAPES)
    column = latex.index("\\mathrm") + 1  # under the keyword
    assert words in str(info.value) and info.value.column == column
    assert str(info.value).splitlines()[-1].index("^") - 2 == column - 1
    with pytest.raises(sc.ParseError, match="vectors and matrices"):  # without shapes=
        sc.parse("\\max(a, \\mathrm{axis}=0)", latex=True)


def _softmax(z, axis=None):
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


_mp = np.linalg.matrix_power
# the text, its canonical form, and the text's meaning computed by NumPy as written
CANONICAL = [
    ("sum(X.T, axis=0)", "sum(X, axis=1)", lambda a: a["X"].T.sum(axis=0)),
    ("sum(x, axis=0)", "sum(x)", lambda a: a["x"].sum(axis=0)),
    ("mean(x, axis=-1)", "mean(x)", lambda a: a["x"].mean(axis=-1)),
    ("max(x, axis=0)", "max(x)", lambda a: a["x"].max(axis=0)),
    ("softmax(x, axis=0)", "softmax(x)", lambda a: _softmax(a["x"], 0)),
    ("logsumexp(x, axis=0)", "logsumexp(x)", lambda a: np.log(np.exp(a["x"]).sum(axis=0))),
    ("matrix_power(S, 0)", "eye(n)", lambda a: _mp(a["S"], 0)),
    ("matrix_power(S, 1)", "S", lambda a: _mp(a["S"], 1)),
    ("matrix_power(S, -1)", "inv(S)", lambda a: _mp(a["S"], -1)),
    ("matrix_power(matrix_power(S, 2), 3)", "matrix_power(S, 6)", lambda a: _mp(_mp(a["S"], 2), 3)),
    ("matrix_power(2*S, 2)", "4*matrix_power(S, 2)", lambda a: _mp(2 * a["S"], 2)),
    ("matrix_power(diag(x), 3)", "diag(x^3)", lambda a: _mp(np.diag(a["x"]), 3)),
    ("matrix_power(diag(x), -2)", "diag(1/x^2)", lambda a: _mp(np.diag(a["x"]), -2)),
    ("kron(eye(n), eye(m))", "eye(m*n)", lambda a: np.kron(np.eye(2), np.eye(3))),
    ("kron(2*X, s*S)", "2*s*kron(X, S)", lambda a: np.kron(2 * a["X"], a["s"] * a["S"])),
    ("kron(X, S).T", "kron(X.T, S.T)", lambda a: np.kron(a["X"], a["S"]).T),
    ("matrix_power(S, 3).T", "matrix_power(S.T, 3)", lambda a: _mp(a["S"], 3).T),
    ("softmax(X, axis=1).T", "softmax(X.T, axis=0)", lambda a: _softmax(a["X"], 1).T),
    ("mean(3*X, axis=0)", "3*mean(X, axis=0)", lambda a: (3 * a["X"]).mean(axis=0)),
    ("max(2*X)", "2*max(X)", lambda a: (2 * a["X"]).max()),
    ("sum(outer(y, x), axis=0)", "sum(y)*x", lambda a: np.outer(a["y"], a["x"]).sum(axis=0)),
    ("mean(ones(m, n))", "1", lambda a: np.ones((3, 2)).mean()),
    ("max(zeros(m, n), axis=1)", "zeros(m)", lambda a: np.zeros((3, 2)).max(axis=1)),
]


@pytest.mark.parametrize("text, expected, meaning", CANONICAL, ids=[c[0] for c in CANONICAL])
def test_canonical_forms(text, expected, meaning):
    e = P(text)
    assert e is P(expected)
    symbols = {symbol(n) for n in ("X", "S", "x", "y", "s")}
    arrays = random_arrays(symbols, SIZES, seed=2, shifted=SHIFTED)
    names = sorted(arrays)  # all of them: a constant result's sizes come from the arrays
    if isinstance(e, MatrixExpr) and (e.shape or e.free_symbols):
        value = sc.lambdify(e, names, shapes=SHAPES)(*(arrays[n] for n in names))
    else:  # a number
        value = float(e)
    np.testing.assert_allclose(value, meaning(arrays), rtol=1e-10, atol=1e-12)


def test_the_python_api_matches_the_parser():
    X, S, x = symbol("X"), symbol("S"), symbol("x")
    assert sc.sum(X, axis=0) is P("sum(X, axis=0)") and sc.sum(X) is P("sum(X)")
    assert sc.mean(X, axis=1) is P("mean(X, axis=1)") and sc.mean(X) is P("mean(X)")
    assert sc.max(X, axis=0) is P("max(X, axis=0)") and sc.max(x) is P("max(x)")
    assert sc.logsumexp(X, axis=1) is P("logsumexp(X, axis=1)")
    assert sc.softmax(X, axis=0) is P("softmax(X, axis=0)") and sc.softmax(x) is P("softmax(x)")
    assert sc.kron(X, S) is P("kron(X, S)") and sc.matrix_power(S, 2) is P("matrix_power(S, 2)")
    assert sc.matrix.mean is sc.mean and sc.matrix.kron is sc.kron
    assert sc.max(sc.parse("a"), sc.parse("b")) == sc.parse("max(a, b)")  # the scalar max stays
    assert isinstance(sc.max, sc.functions.registry.Function)


# --- errors ---------------------------------------------------------------------------------------
PARSE_FAULTS = [("sum(X, axis=2)", ShapeError, "out of range", 8),
                ("sum(X, axis=-3)", ShapeError, "out of range", 8),
                ("mean(X, axis=0.5)", ShapeError, "integer", 9),
                ("max(X, axis=k)", ShapeError, "integer", 8),
                ("softmax(x, axis=1)", ShapeError, "out of range", 12),
                ("norm(X, axis=0)", sc.ParseError, "no keyword", 9),
                ("sum(X, foo=1)", sc.ParseError, "axis=", 8),
                ("sum(X, axis=0, axis=1)", sc.ParseError, "twice", 16),
                ("sum(axis=0, X)", sc.ParseError, "one operand", 5),
                ("kron(X, x)", ShapeError, "two matrices or two vectors", 1),
                ("matrix_power(X, 2)", ShapeError, "square", 1),
                ("matrix_power(S, 1.5)", ShapeError, "integer", 1),
                ("matrix_power(S)", sc.ParseError, "2 arguments", 1),
                ("sum(s, axis=0)", ShapeError, "vector or a matrix", 8)]


@pytest.mark.parametrize("text, error, words, column", PARSE_FAULTS)
def test_faults_in_text_are_shown_with_a_caret(text, error, words, column):
    with pytest.raises(error) as info:
        P(text)
    message = str(info.value)
    assert words in message and info.value.column == column
    lines = message.splitlines()
    assert lines[-1].index("^") - 2 == column - 1 and lines[-2].strip() == text


def test_faults_in_the_python_api_are_clear():
    X, S, x = symbol("X"), symbol("S"), symbol("x")
    for call, words in [(lambda: sc.sum(X, axis=2), "out of range"),
                        (lambda: sc.sum(X, axis=1.0), "integer"),
                        (lambda: sc.max(X, axis=True), "integer"),
                        (lambda: sc.mean(X, axis="0"), "integer"),
                        (lambda: sc.kron(X, x), "two matrices"),
                        (lambda: sc.matrix_power(X, 2), "square"),
                        (lambda: sc.matrix_power(S, 0.5), "integer")]:
        with pytest.raises(ShapeError, match=words):
            call()
    with pytest.raises(sc.SymcalcTypeError, match="axis="):
        sc.sin(X, axis=0)
    with pytest.raises(sc.SymcalcTypeError, match="axis="):
        sc.max(sc.parse("a"), axis=0)
    with pytest.raises(sc.SymcalcError, match="reserved"):
        sc.matrix("kron", "n", "n")
    with pytest.raises(sc.SymcalcTypeError, match="at least 2"):  # max of one scalar, as before
        sc.max(sc.matrix.ops.symbol("s", ()))
    with pytest.raises(sc.ParseError, match="at least 2"):
        P("max(s)")


def test_every_new_kind_is_in_the_operation_table():
    from symcalc.matrix.operations import OPERATIONS
    built = {n.kind for t in SAMPLES for n in postorder([P(t)])}
    assert {"sum_axis", "mean", "max", "logsumexp_axis", "softmax_axis", "kron",
            "matrix_power"} <= built <= set(OPERATIONS) | {"symbol", "number", "add", "mul",
                                                             "transpose", "ones", "inv", "matmul"}


def test_the_softmax_benchmark_runs_and_agrees_with_jax():
    import subprocess
    import sys
    from pathlib import Path
    pytest.importorskip("jax")
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "softmax_axis.py"
    out = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True, text=True,
                         timeout=300, check=True).stdout
    assert "finite: True" in out
    difference = float(out.rsplit("relative difference", 1)[1].split()[0])
    assert difference < 1e-10



@settings(max_examples=3 * EXAMPLES, deadline=None)
@given(st.sampled_from([PS, PN, PMN]).flatmap(lambda s: shaped(s, numpy_ops=True)))
def test_random_formulas_with_the_new_operations_read_back_from_text_and_latex(e):
    assume(not any(n.kind == "matrix_power" for n in postorder([e])))  # X^{3} is refused
    expected = sc.parse(str(e), shapes=PROPERTY_SHAPES)  # a formula of scalars is an Expr
    assert expected is e or not e.shape and not e.free_symbols - {SYM["s"]}
    assert sc.parse(sc.latex(e), latex=True, shapes=PROPERTY_SHAPES) is expected, sc.latex(e)
