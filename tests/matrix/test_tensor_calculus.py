"""Derivatives whose value is a tensor (a matrix by a matrix, a Hessian in a weight matrix) as
index expressions, and Jacobian-, vector-Jacobian- and Hessian-vector products in a matrix
variable in matrix form.

Every result is checked entry by entry against the scalar engine's derivative of the unrolled
formula, against SymPy where marked, and against central finite differences
(``matrix_oracle.check``); generated code (NumPy and JAX) against the unrolled values; the text
against the parser.
"""

from __future__ import annotations

import numpy as np
import pytest

import symcalc as sc
from matrix_oracle import (check, matrix_value, random_arrays, scalar_values,
                           unrolled_derivative)
from symcalc.matrix.nodes import postorder
from symcalc.matrix.parsing import parse_shaped
from symcalc.matrix.tensor import einsum
from symcalc.matrix.unroll import unroll

SHAPES = {"A": ("p", "m"), "B": ("n", "q"), "X": ("m", "n"), "S": ("n", "n"), "w": ("n",),
          "W": ("n", "h"), "v": ("h",), "T": ("m", "n"), "U": ("m", "k"), "V": ("n", "k"),
          "x": ("n",), "y": ("m",), "Q": ("n", "n"), "D": ("m", "k"), "E": ("m", "n"),
          "R": ("h", "h"), "Y": ("m", "h")}
SIZES = {"m": 3, "n": 2, "p": 2, "q": 2, "h": 2, "k": 2}
SPD, SHIFTED = ("Q",), ("S",)


def node(text: str):
    return parse_shaped(text, SHAPES)


def variable(f, name: str):
    return next(s for s in f.free_symbols if s.data == name)


def kinds(e) -> set:
    return {n.kind for n in postorder([e])}


def round_trips(e) -> None:
    shapes = {s.data: s.shape for s in e.free_symbols}
    assert parse_shaped(str(e), shapes) is e, str(e)


JACOBIANS = [  # formula, variable, expected shape, with SymPy
    ("X@w", "X", ("m", "m", "n"), True),
    ("inv(S)", "S", ("n", "n", "n", "n"), True),
    ("A@X@B", "X", ("p", "q", "m", "n"), True),
    ("sigmoid(X@W)", "W", ("m", "h", "n", "h"), True),
    ("X.T@X", "X", ("n", "n", "m", "n"), False),
    ("exp(X)*X", "X", ("m", "n", "m", "n"), False),
    ("outer(X@w, w)", "w", ("m", "n", "n"), False),
    ("sum(X*X)*X", "X", ("m", "n", "m", "n"), False),
    ("X*trace(S)", "S", ("m", "n", "n", "n"), False),
    ("diag(S)", "S", ("n", "n", "n"), False),
    ("S@S", "S", ("n", "n", "n", "n"), False),
    ("softmax(X@w)", "X", ("m", "m", "n"), False),
    ("log(det(S))*inv(S).T", "S", ("n", "n", "n", "n"), False),
    ("sum(X@W, axis=1)", "W", ("m", "n", "h"), True),  # reductions along an axis
    ("mean(tanh(X@W), axis=0)", "W", ("h", "n", "h"), False),
    ("mean(X*X)*X", "X", ("m", "n", "m", "n"), False),
]


@pytest.mark.parametrize("text, name, shape, with_sympy", JACOBIANS, ids=[j[0] for j in JACOBIANS])
def test_jacobian_by_a_matrix_is_the_unrolled_derivative(text, name, shape, with_sympy):
    f = node(text)
    j = sc.jacobian(f, name)
    assert j.shape == shape
    assert "einsum" in kinds(j) or j.ndim <= 2
    check(f, variable(f, name), j, sizes=SIZES, shifted=SHIFTED, with_sympy=with_sympy)
    round_trips(j)


def test_the_jacobians_read_as_contractions_of_the_factors():
    assert str(sc.jacobian(node("A@X@B"), "X")) == 'einsum("ij,kl->iljk", A, B)'
    assert str(sc.jacobian(node("inv(S)"), "S")) == '-einsum("ij,kl->iljk", inv(S), inv(S))'
    assert str(sc.jacobian(node("X@w"), "X")) == 'einsum("i,jk->jki", w, eye(m))'


HESSIANS = [  # formula, matrix variable, with SymPy
    ("norm(T - U@V.T)^2", "U", True),
    ("sum(softplus(tanh(X@W)@v))", "W", False),
    ("sum(softplus(tanh(tanh(X@W)@R)@v))", "W", False),
    ("norm(tanh(tanh(X@W)@R)@v - y)^2", "R", False),
    ("logdet(Q)", "Q", False),
    ("det(S^2@S.T^2 + 3*eye(n))", "S", False),  # scalar factors nested in an operand
    ("sum(log(1 + exp(-y*(X@S@w))))", "S", False),
    ("trace(U.T@D)^2 + sum(U*U*U)", "U", False),
    # multi-class logistic regression: the row-wise log-sum-exp and softmax of X@W
    ("sum(logsumexp(X@W, axis=1)) - sum(Y*(X@W))", "W", True),
    ("mean(softmax(X@W, axis=1)*Y) + mean(tanh(X@W), axis=0)@v", "W", False),
]


@pytest.mark.parametrize("text, name, with_sympy", HESSIANS, ids=[h[0] for h in HESSIANS])
def test_hessian_in_a_matrix_is_the_unrolled_second_derivative(text, name, with_sympy):
    f = node(text)
    x = variable(f, name)
    h = sc.hessian(f, name)
    assert h.shape == x.shape + x.shape
    check(sc.grad(f, name), x, h, sizes=SIZES, spd=SPD, with_sympy=with_sympy)
    round_trips(h)
    # the Hessian is symmetric: H[i, j, k, l] = H[k, l, i, j]
    arrays = random_arrays(f.free_symbols, SIZES, seed=4, spd=SPD)
    value = matrix_value(h, arrays)
    np.testing.assert_allclose(value, value.transpose(2, 3, 0, 1), rtol=1e-9, atol=1e-12)


def test_hessian_blocks_in_several_matrix_and_vector_variables():
    cases = [("norm(T - U@V.T)^2", ["U", "V"]), ("sum(softplus(tanh(X@W)@v))", ["W", "v"])]
    for text, names in cases:
        f = node(text)
        blocks = sc.hessian(f, names)
        for row, a in zip(blocks, names):
            for block, b in zip(row, names):
                x = variable(f, b)
                assert block.shape == variable(f, a).shape + x.shape
                check(sc.grad(f, a), x, block, sizes=SIZES)


def test_the_factorisation_hessian_is_a_kronecker_pattern_of_small_factors():
    h = sc.hessian(node("norm(T - U@V.T)^2"), "U")
    assert str(h) == '2*einsum("ij,kl->iljk", eye(m), V.T@V)'
    assert sc.latex(h) == r"2 \left[\delta_{ij} \left(V^{\top} V\right)_{kl}\right]_{iljk}"


def test_hessian_in_a_vector_keeps_its_matrix_form():
    h = sc.hessian(node("x@Q@x"), "x")
    assert str(h) == "Q + Q.T" and "einsum" not in kinds(h)
    f = node("sum(log(1 + exp(-y*(X@w))))")
    assert "einsum" not in kinds(sc.hessian(f, "w"))


def test_third_and_fourth_order_derivatives_of_a_vector_formula():
    f = node("sum(exp(E@x))")
    x = variable(f, "x")
    h = sc.hessian(f, "x")
    third = sc.jacobian(h, "x")
    assert third.shape == ("n", "n", "n")
    check(h, x, third, sizes=SIZES)
    fourth = sc.jacobian(third, "x")
    assert fourth.shape == ("n",) * 4
    check(third, x, fourth, sizes=SIZES)
    with pytest.raises(sc.NoMatrixFormError, match="at most 4"):
        sc.jacobian(fourth, "x")


def test_mixed_second_derivative_of_a_vector_formula_by_a_vector_then_a_matrix():
    f = node("sigmoid(X@w)")
    jw = sc.jacobian(f, "w")  # m x n, a matrix form
    g = sc.jacobian(jw, "X")
    assert jw.ndim == 2 and g.shape == ("m", "n", "m", "n")
    check(jw, variable(f, "X"), g, sizes=SIZES)


# --- generated code ------------------------------------------------------------------------------
CODE_CASES = [("A@X@B", "X"), ("sigmoid(X@W)", "W"), ("inv(S)", "S")]


@pytest.mark.parametrize("text, name", CODE_CASES, ids=[c[0] for c in CODE_CASES])
def test_generated_numpy_and_jax_code_compute_the_unrolled_values(text, name):
    f = node(text)
    j = sc.jacobian(f, name)
    symbols = sorted(f.free_symbols | j.free_symbols, key=lambda s: s.data)
    names = [s.data for s in symbols]
    arrays = random_arrays(symbols, SIZES, seed=7, shifted=SHIFTED)
    expected = scalar_values(unrolled_derivative(f, variable(f, name), SIZES), arrays)
    numpy_fn = sc.lambdify(j, names)
    assert "np.einsum(" in numpy_fn.source and "optimize=" in numpy_fn.source
    np.testing.assert_allclose(numpy_fn(*(arrays[n] for n in names)), expected, rtol=1e-10,
                               atol=1e-12)
    pytest.importorskip("jax")
    jax_fn = sc.lambdify(j, names, backend="jax")
    np.testing.assert_allclose(np.asarray(jax_fn(*(arrays[n] for n in names))), expected,
                               rtol=1e-5, atol=1e-6)


def test_a_hessian_in_a_matrix_as_code_at_larger_sizes_matches_its_contraction():
    f = node("norm(T - U@V.T)^2")
    h = sc.hessian(f, "U")
    fn = sc.lambdify(h, ["U", "V"])
    rng = np.random.default_rng(0)
    U, V = rng.normal(size=(7, 3)), rng.normal(size=(5, 3))
    expected = 2 * np.einsum("ac,bd->abcd", np.eye(7), V.T @ V)
    np.testing.assert_allclose(fn(U, V), expected, rtol=1e-12)


# --- the node: text, LaTeX, errors ---------------------------------------------------------------
def test_einsum_text_parses_back_and_its_latex_is_index_notation():
    e = node('einsum("ik,lj->ijkl", A, B)')
    assert e.shape == ("p", "q", "m", "n")
    round_trips(e)
    assert str(node(str(e))) == str(e)
    tex = sc.latex(node('einsum("ij,jk,kl->ijl", A, X, B)'))
    assert tex == r"\left[\sum_{k} A_{ij} B_{kl} X_{jk}\right]_{ijl}"


def test_einsum_of_order_two_or_less_is_written_in_matrix_form():
    assert str(node('einsum("ij,jk->ik", A, X)')) == "A@X"
    assert str(node('einsum("ij->ji", X)')) == "X.T"
    assert str(node('einsum("ii->", S)')) == "trace(S)"
    assert str(node('einsum("ij,ij->", X, T)')) == "trace(T@X.T)"  # sum(T*X), one spelling
    assert str(node('einsum("i,j->ij", y, w)')) == "outer(y, w)"
    assert str(node('einsum("ij,jk->ki", A, X)')) == "X.T@A.T"
    assert str(node('einsum("ij,jk,kl->il", A, X, B)')) == "A@X@B"
    assert str(node('einsum("i,ij,j->", y, X, w)')) == "y@X@w"
    assert str(node('einsum("ij,jk,ki->", X, S, X.T)')) == str(node("trace(X@S@X.T)"))
    assert str(node('einsum("i,i->", w, w)')) == "w@w"
    assert str(node('einsum("ij,jk->i", A, X)')) == 'einsum("ij,jk->i", A, X)'  # no matrix form


def test_einsum_unrolls_as_numpy_computes_it():
    e = node('einsum("ij,kj,k->ik", X, T, y)')  # 3 operands: kept as one contraction
    arrays = random_arrays(e.free_symbols, SIZES, seed=2)
    expected = np.einsum("ij,kj,k->ik", arrays["X"], arrays["T"], arrays["y"])
    np.testing.assert_allclose(scalar_values(unroll(e, SIZES), arrays), expected, rtol=1e-12)
    np.testing.assert_allclose(matrix_value(e, arrays), expected, rtol=1e-12)


@pytest.mark.parametrize("text, message", [
    ('einsum("ij,jk->ik", A)', "name 2 operands"),
    ('einsum("ij,jk->ik", A, A)', "index j has size"),
    ('einsum("ij->ii", X)', "repeat an output index"),
    ('einsum("ij->k", X)', "not an index of any operand"),
    ('einsum("ij", X)', "one '->'"),
    ('einsum("i1->i", w)', "only letters"),
    ('einsum("ijk->ijk", X)', "gives 3 indices"),
    ('sum("ij")', "only the subscripts of einsum"),
    ('einsum(X, "ij->ij")', "only the subscripts of einsum"),
])
def test_bad_einsum_is_a_clear_error(text, message):
    with pytest.raises(sc.SymcalcError, match=message):
        node(text)


# --- products with a direction, in matrix form ---------------------------------------------------
def _contracted(tensor: np.ndarray, direction: np.ndarray) -> np.ndarray:
    axes = direction.ndim
    return np.tensordot(tensor, direction, axes=(list(range(tensor.ndim - axes, tensor.ndim)),
                                                 list(range(axes))))


def test_hvp_in_a_matrix_is_a_matrix_formula_equal_to_the_hessian_contracted():
    f = node("norm(T - U@V.T)^2")
    hv = sc.hvp(f, "U", "D", shapes=SHAPES)
    assert hv.shape == ("m", "k") and "einsum" not in kinds(hv)
    U = variable(f, "U")
    arrays = random_arrays(f.free_symbols | hv.free_symbols, SIZES, seed=3)
    unrolled = scalar_values(unrolled_derivative(sc.grad(f, "U"), U, SIZES), arrays)
    expected = _contracted(unrolled, arrays["D"])
    np.testing.assert_allclose(matrix_value(hv, arrays), expected, rtol=1e-10, atol=1e-12)
    hessian = matrix_value(sc.hessian(f, "U"), arrays)
    np.testing.assert_allclose(_contracted(hessian, arrays["D"]), expected, rtol=1e-10)


def test_hvp_of_a_two_layer_loss_in_its_weight_matrix():
    f = node("sum(softplus(tanh(X@W)@v))")
    direction = sc.matrix("Wd", "n", "h")
    hv = sc.hvp(f, "W", direction)
    assert hv.shape == ("n", "h") and "einsum" not in kinds(hv)
    W = variable(f, "W")
    arrays = random_arrays(f.free_symbols | {direction}, SIZES, seed=5)
    unrolled = scalar_values(unrolled_derivative(sc.grad(f, "W"), W, SIZES), arrays)
    np.testing.assert_allclose(matrix_value(hv, arrays), _contracted(unrolled, arrays["Wd"]),
                               rtol=1e-9, atol=1e-12)
    h = 1e-6  # central differences of the gradient along the direction
    g = sc.lambdify(sc.grad(f, "W"), ["W", "X", "v"])
    up = g(arrays["W"] + h * arrays["Wd"], arrays["X"], arrays["v"])
    down = g(arrays["W"] - h * arrays["Wd"], arrays["X"], arrays["v"])
    np.testing.assert_allclose(matrix_value(hv, arrays), (up - down) / (2 * h), rtol=1e-5,
                               atol=1e-7)


def test_jvp_and_vjp_in_a_matrix_are_the_jacobian_contracted():
    f = node("inv(S)@B")
    direction = sc.matrix("Sd", "n", "n")
    jv = sc.jvp(f, "S", direction)
    weight = sc.matrix("Bw", "n", "q")
    vj = sc.vjp(f, "S", weight)
    assert jv.shape == ("n", "q") and vj.shape == ("n", "n")
    assert "einsum" not in kinds(jv) | kinds(vj)
    S = variable(f, "S")
    arrays = random_arrays(f.free_symbols | {direction, weight}, SIZES, seed=6, shifted=SHIFTED)
    jacobian = scalar_values(unrolled_derivative(f, S, SIZES), arrays)
    np.testing.assert_allclose(matrix_value(jv, arrays), _contracted(jacobian, arrays["Sd"]),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(matrix_value(vj, arrays),
                               np.tensordot(arrays["Bw"], jacobian, axes=([0, 1], [0, 1])),
                               rtol=1e-9, atol=1e-12)
    tensor = matrix_value(sc.jacobian(f, "S"), arrays)
    np.testing.assert_allclose(_contracted(tensor, arrays["Sd"]), matrix_value(jv, arrays),
                               rtol=1e-9, atol=1e-12)


def test_einsum_node_differentiates_by_a_scalar_and_substitutes():
    e = einsum("ij,kl->ikjl", sc.matrix("X", "m", "n"), sc.matrix("T", "m", "n"))
    s = sc.matrix.scalar("s")
    scaled = e * s ** 2
    d = sc.diff(scaled, "s")
    assert d.shape == e.shape and "einsum" in kinds(d)
    arrays = random_arrays(d.free_symbols, SIZES, seed=1)
    np.testing.assert_allclose(matrix_value(d, arrays),
                               2 * arrays["s"] * np.einsum("ij,kl->ikjl", arrays["X"], arrays["T"]),
                               rtol=1e-12)


# --- random shaped formulas ----------------------------------------------------------------------
from hypothesis import given, settings, strategies as st  # noqa: E402

from test_matrix_properties import EXAMPLES, MN, N, NN, S, SHAPES as RANDOM_SHAPES, SIZES as \
    RANDOM_SIZES, SYM as RANDOM_SYM, assert_close, shaped  # noqa: E402


def _agrees_with_the_unrolled_derivative(f, x, result, what):
    assert result.shape == f.shape + x.shape, what
    assert parse_shaped(str(result), RANDOM_SHAPES) is result, what
    arrays = random_arrays(RANDOM_SYM.values(), RANDOM_SIZES, seed=3)
    expected = scalar_values(unrolled_derivative(f, x, RANDOM_SIZES), arrays)
    assert_close(matrix_value(result, arrays, RANDOM_SHAPES), expected, what)


@settings(max_examples=EXAMPLES)
@given(shaped(S, depth=2), st.sampled_from(["A", "B"]))
def test_hessian_in_a_matrix_agrees_with_the_unrolled_scalar_hessian(f, name):
    x = RANDOM_SYM[name]
    h = sc.hessian(f, x)
    _agrees_with_the_unrolled_derivative(sc.grad(f, x), x, h, f"hessian of {f} in {name}: {h}")


@settings(max_examples=EXAMPLES)
@given(st.sampled_from([N, MN, NN]).flatmap(lambda shape: shaped(shape, depth=2)),
       st.sampled_from(["A", "B", "t"]))
def test_jacobian_by_a_matrix_or_of_a_matrix_agrees_with_the_unrolled_jacobian(g, name):
    x = RANDOM_SYM[name]
    if g.ndim + x.ndim < 3:
        return  # a matrix form: the matrix tests' domain
    j = sc.jacobian(g, x)
    _agrees_with_the_unrolled_derivative(g, x, j, f"jacobian of {g} by {name}: {j}")


def test_a_sum_of_contractions_of_the_same_operands_has_one_order():
    S, I = sc.matrix("S", "n", "n"), sc.eye("n")
    a, b = einsum("ij,kl->ikjl", S, I), einsum("ij,kl->kjli", S, I)
    assert a is not b and (a + b) is (b + a)
    assert (a - b) is -(b - a)


def test_a_tensor_transposed_reverses_its_axes_and_differentiates():
    f = node("sigmoid(X@w)")
    j = sc.jacobian(f, "X")  # m x m x n
    flipped = j.T
    assert flipped.shape == ("n", "m", "m")
    arrays = random_arrays(j.free_symbols, SIZES, seed=8)
    np.testing.assert_allclose(matrix_value(flipped, arrays), matrix_value(j, arrays).T)
    w = variable(f, "w")
    check(flipped, w, sc.jacobian(flipped, "w"), sizes=SIZES)
