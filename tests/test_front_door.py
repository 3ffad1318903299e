"""The scalar API's functions on shaped formulas: ``diff`` by a scalar, ``jvp``, ``vjp``, ``hvp``,
``subs``, ``count_ops``, the methods, and ``parse(..., shapes=)`` of a formula of scalars.

Every derivative is compared with SymPy's derivative of the formula unrolled into scalar entries
and with central finite differences (``matrix_oracle``)."""

import numpy as np
import pytest

import symcalc as sc
from matrix_oracle import (SIZES, finite_differences, matrix_value, random_arrays,
                           sympy_derivative)
from symcalc.matrix import ShapeError, parse_shaped

SHAPES = {"A": "n,n", "X": "m,n", "t": "n", "v": "n", "u": "m", "w": "n", "y": "m"}


def node(text: str):
    return parse_shaped(text, SHAPES)


def dense_derivative(f, name: str, arrays) -> np.ndarray:
    """d f / d name with shape f.shape + x.shape, by SymPy, checked against finite differences."""
    x = sc.matrix.vector(name, "n") if SHAPES.get(name) == "n" else sc.matrix.scalar(name)
    if name == "s":
        x = sc.matrix.scalar("s")
    exact = sympy_derivative(f, x, SIZES, arrays)
    np.testing.assert_allclose(exact, finite_differences(f, x, arrays), rtol=1e-5, atol=1e-6)
    return exact


def arrays_for(*formulas, seed: int = 0) -> dict:
    symbols = set().union(*(f.free_symbols for f in formulas))
    return random_arrays(symbols, SIZES, seed=seed)


@pytest.mark.parametrize("text", ["exp(s*t)@A@t", "sum(log(1 + exp(s*(X@t))))",
                                  "s^2*norm(A@t - s*v)^2", "softmax(s*t)"])
def test_diff_by_a_scalar_parameter(text):
    f = node(text)
    d = sc.diff(text, "s", shapes=SHAPES)
    assert d.shape == f.shape and d is f.diff("s")
    arrays = arrays_for(f)
    exact = dense_derivative(f, "s", arrays)
    np.testing.assert_allclose(matrix_value(d, arrays), exact, rtol=1e-8, atol=1e-10)
    second = sc.diff(text, "s", 2, shapes=SHAPES)
    assert second is sc.diff(d, "s")


@pytest.mark.parametrize("text", ["sum(exp(t))", "exp(A@t)", "softmax(t)", "(t@A@t)/(t@t)",
                                  "log(1 + exp(X@t))"])
def test_jvp_is_the_jacobian_times_the_direction(text):
    f = node(text)
    jv = sc.jvp(text, "t", "v", shapes=SHAPES)
    assert jv.shape == f.shape
    arrays = arrays_for(f, node("v"))
    J = dense_derivative(f, "t", arrays)
    np.testing.assert_allclose(matrix_value(jv, arrays), J @ arrays["v"], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("text, weight", [("exp(A@t)", "v"), ("X@t", "u"), ("softmax(t)", "v"),
                                          ("t@A@t", "2")])
def test_vjp_is_the_weight_times_the_jacobian(text, weight):
    f = node(text)
    wj = sc.vjp(text, "t", weight, shapes=SHAPES)
    assert wj.shape == (SIZES["n"],) or wj.shape == ("n",)
    arrays = arrays_for(f, node("v"), node("u"))
    J = dense_derivative(f, "t", arrays)
    w = arrays.get(weight, float(weight) if weight.isdigit() else None)
    expected = np.tensordot(w, J, axes=np.ndim(w))
    np.testing.assert_allclose(matrix_value(wj, {**arrays}), expected, rtol=1e-8, atol=1e-10)


def test_vjp_holds_a_weight_that_mentions_the_variable_fixed():
    wj = sc.vjp("exp(t)", "t", "t", shapes=SHAPES)
    assert str(wj) == "t*exp(t)"


@pytest.mark.parametrize("text", ["t@A@t", "sum(log(1 + exp(-y*(X@t))))", "(t@A@t)/(t@t)",
                                  "log(sum(exp(t)))"])
def test_hvp_is_the_hessian_times_the_direction(text):
    f = node(text)
    hv = sc.hvp(text, "t", "v", shapes=SHAPES)
    assert hv.shape == node("t").shape
    arrays = arrays_for(f, node("v"))
    H = dense_derivative(sc.grad(f, "t"), "t", arrays)
    np.testing.assert_allclose(matrix_value(hv, arrays), H @ arrays["v"], rtol=1e-7, atol=1e-9)


def test_hvp_of_a_quadratic_form_is_a_matrix_formula():
    assert str(sc.hvp("t@A@t", "t", "v", shapes=SHAPES)) == "(A + A.T)@v"
    assert str(sc.jvp("exp(A@t)", "t", "v", shapes=SHAPES)) == "(A@v)*exp(A@t)"


def test_subs_in_shaped_formulas():
    assert sc.subs("t@t", {"t": "2*t"}, shapes=SHAPES) is node("4*t@t")
    assert node("norm(A@t)^2").subs({"A@t": "v"}, shapes=SHAPES) is node("norm(v)^2")
    assert node("norm(A@t)^2").subs({"A@t": "t"}) is node("norm(t)^2")  # names it mentions
    assert str(node("norm(A@t)^2").subs({"A@t": "c"})) == "norm(c*ones(n))^2"  # c: a scalar
    assert sc.subs("sum(exp(t))", {"t": 0}, shapes=SHAPES) is node("sum(ones(n))")
    assert str(sc.subs("sum(log(1 + exp(t)))", {"t": 0}, shapes=SHAPES)) == "sum(ones(n))*log(2)"
    f = node("exp(s*t)@A@t")
    arrays = arrays_for(f)
    got = matrix_value(f.subs({"s": 0.5}), arrays)
    expected = matrix_value(f, {**arrays, "s": np.array(0.5)})
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    with pytest.raises(ShapeError, match="in place of"):
        sc.subs("t@t", {"t": "A"}, shapes=SHAPES)
    with pytest.raises(sc.SymcalcError):
        sc.subs("t@t", {2: "t"}, shapes=SHAPES)


def test_count_ops_of_shaped_formulas_counts_shared_nodes_once():
    assert sc.count_ops(node("t@A@t")) == 2
    assert sc.count_ops(node("exp(A@t)@exp(A@t)")) == 3
    assert node("sum(exp(t)) + 1").count_ops() == 3


def test_parse_with_shapes_of_a_formula_of_scalars_is_the_scalar_expression():
    e = sc.parse("x^2*z + sin(x)", shapes=SHAPES)
    assert e is sc.parse("x^2*z + sin(x)")
    assert isinstance(sc.parse("t@t", shapes=SHAPES), sc.matrix.MatrixExpr)


def test_wrong_variables_and_directions_are_clear_errors():
    with pytest.raises(ShapeError, match="use grad or jacobian"):
        sc.diff("t@t", "t", shapes=SHAPES)
    with pytest.raises(ShapeError, match="direction"):
        sc.jvp("t@t", "t", "A", shapes=SHAPES)
    with pytest.raises(ShapeError, match="weight"):
        sc.vjp("exp(t)", "t", "u", shapes=SHAPES)
    with pytest.raises(ShapeError, match="scalar formula"):
        sc.hvp("exp(t)", "t", "v", shapes=SHAPES)


def test_lambdify_and_codegen_read_text_with_shapes():
    f = sc.lambdify("sum(exp(t))", ["t"], shapes=SHAPES)
    assert f(np.zeros(3)) == pytest.approx(3.0)
    assert sc.lambdify("x^2*z", ["x", "z"], shapes=SHAPES)(3.0, 2.0) == pytest.approx(18.0)
    assert sc.codegen("t@t", ["t"], shapes=SHAPES).rstrip().endswith("return t @ t")
    # a variable the result does not mention gets its shape from shapes=
    eye = sc.hessian("0.5*t@t", "t", shapes=SHAPES)
    g = sc.lambdify(eye, ["t", "u"], shapes=SHAPES)
    np.testing.assert_array_equal(g(np.ones(2), np.ones(3)), np.eye(2))
    with pytest.raises(ShapeError):
        g(np.ones(2), np.ones((3, 3)))
