"""The entrywise parts of shaped formulas are the scalar engine's expressions: a formula of vectors
reads, prints and simplifies exactly as the same formula of scalars, computes the same values
entry by entry, and its derivatives get the scalar engine's cancellations (d/dx of
``log(1 + exp(x))`` is ``sigmoid(x)``).  Derivatives are checked against the unrolled scalar
derivative, SymPy and central finite differences (``matrix_oracle.check``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import symcalc as sc
from symcalc.matrix import ops
from symcalc.matrix.convert import from_scalar
from symcalc.matrix.nodes import MatrixExpr, as_node
from symcalc.matrix.shapes import ShapeError
from matrix_oracle import check
from strategies import BOX, SYMBOLS, VARIABLES, formulas

VECTORS = {name: "n" for name in VARIABLES}


def symbol(f, name):
    return next(s for s in f.free_symbols if s.data == name)


def _shaped(text: str):
    """The formula read with every variable a vector; None where a vector has no meaning there.

    Two spellings of the scalar language mean something else for vectors, so the strategy's
    formulas that use them are left out: ``logsumexp`` (of a vector it is the reduction, and it
    takes one vector) and a variable in an exponent (the exponent of a shaped power is a scalar).
    """
    if "logsumexp" in text:
        return None
    try:
        return sc.parse(text, shapes=VECTORS)
    except ShapeError as exc:
        if "exponent" in str(exc):
            return None
        raise


def _as_shaped(scalar_form: sc.Expr, shaped) -> MatrixExpr:
    """What the scalar result is over vectors: itself, or a constant spread over the shape."""
    if isinstance(shaped, MatrixExpr) and shaped.shape and not scalar_form.free_symbols:
        return as_node(scalar_form) * ops.ones("n")
    return None


def _same_print(scalar_form: sc.Expr, shaped) -> None:
    spread = _as_shaped(scalar_form, shaped)
    if spread is not None:  # every variable cancelled: the constant, over the vectors' shape
        assert shaped is spread, (str(scalar_form), str(shaped))
    else:
        assert str(shaped) == str(scalar_form)


def _reads_back(shaped) -> None:
    if isinstance(shaped, MatrixExpr):
        assert sc.parse(str(shaped), shapes=VECTORS) is shaped, str(shaped)


@given(formulas(3))
def test_a_formula_of_vectors_prints_and_simplifies_as_the_formula_of_scalars(f):
    shaped = _shaped(f.text)
    assume(shaped is not None)
    scalar_form = sc.parse(f.text)
    _same_print(scalar_form, shaped)
    _reads_back(shaped)
    simple = sc.simplify(shaped)
    _same_print(sc.simplify(scalar_form), simple)
    _reads_back(simple)
    # built with the operators over vectors (not read from text): the same node (a formula
    # whose variables all cancel is a number when built of scalars, so it is left to the above)
    if f.expr.free_symbols:
        vectors = {SYMBOLS[name]: ops.vector(name, "n") for name in VARIABLES}
        assert from_scalar(f.expr, vectors) is shaped


@given(formulas(3), st.integers(0, 2**32 - 1))
def test_a_formula_of_vectors_has_the_values_of_the_formula_of_scalars_entry_by_entry(f, seed):
    shaped = _shaped(f.text)
    assume(shaped is not None)
    scalar_form = sc.parse(f.text)
    rng = np.random.default_rng(seed)
    size = 3
    arrays = {name: rng.uniform(*BOX, size=size) for name in VARIABLES}
    shapes = {name: ("n",) for name in VARIABLES}
    if isinstance(shaped, MatrixExpr):
        got = np.broadcast_to(sc.matrix.lambdify(shaped, list(VARIABLES), shapes=shapes)(
            *(arrays[n] for n in VARIABLES)), (size,))
    else:  # every variable cancelled as it was read: a scalar formula
        got = np.full(size, float(sc.lambdify(shaped, list(VARIABLES))(0.0, 0.0, 0.0)))
    entry = sc.lambdify(scalar_form, list(VARIABLES))
    expected = np.array([float(entry(*(arrays[n][i] for n in VARIABLES))) for i in range(size)])
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("text, expected", [
    ("x^2 + x + 1", "1 + x + x^2"),
    ("exp(x)/(exp(x) + 1)", "exp(x)/(1 + exp(x))"),
    ("log(exp(x))", "log(exp(x))"),
    ("2*(x + 1)*y", "2*y*(1 + x)"),
    ("x - y", "x - y"),
])
def test_reading_a_formula_of_vectors_is_the_scalar_engines_reading(text, expected):
    assert str(sc.parse(text)) == expected
    assert str(sc.parse(text, shapes={"x": "n", "y": "n"})) == expected


@pytest.mark.parametrize("text, expected", [
    ("sin(x)^2 + cos(x)^2", "ones(n)"),
    ("exp(x)/(exp(x) + 1)", "sigmoid(x)"),
    ("log(exp(x))", "x"),
    ("A@(sin(x)^2 + cos(x)^2) + exp(A@x)/(1 + exp(A@x))", "A@ones(n) + sigmoid(A@x)"),
    ("sum(log(exp(A@x)))", "sum(A@x)"),
])
def test_simplify_simplifies_each_entrywise_part_and_keeps_the_matrix_parts(text, expected):
    shapes = {"x": "n", "A": "n,n"}
    e = sc.parse(text, shapes=shapes)
    simple = sc.simplify(e)
    assert str(simple) == expected
    assert sc.parse(str(simple), shapes=shapes) is simple
    rng = np.random.default_rng(1)
    x, a = rng.normal(size=4), rng.normal(size=(4, 4))
    np.testing.assert_allclose(sc.matrix.lambdify(simple, ["A", "x"], shapes=shapes)(a, x),
                               sc.matrix.lambdify(e, ["A", "x"], shapes=shapes)(a, x), rtol=1e-12)


def test_the_gradient_of_the_sum_of_softplus_is_sigmoid():
    f = sc.parse("sum(log(1 + exp(x)))", shapes={"x": "n"})
    g = sc.grad(f, "x")
    assert str(g) == "sigmoid(x)"
    check(f, symbol(f, "x"), g, with_sympy=True)


def test_the_gradient_of_the_sum_of_sigmoid():
    f = sc.parse("sum(sigmoid(x))", shapes={"x": "n"})
    g = sc.grad(f, "x")
    assert str(g) == "sigmoid(x)*(1 - sigmoid(x))"
    check(f, symbol(f, "x"), g, with_sympy=True)
    # the same formula written through exp simplifies to it, and so does its gradient
    written = sc.parse("sum(exp(x)/(exp(x) + 1))", shapes={"x": "n"})
    assert sc.simplify(written) is f
    assert sc.grad(written, "x") is g


def test_a_name_with_two_shapes_in_one_formula_stays_two_operands():
    x_vector, x_scalar = ops.vector("x", "n"), ops.scalar("x")
    assert x_vector + x_scalar - x_vector is x_scalar * ops.ones("n")
    product = x_vector * x_scalar
    assert product.kind == "mul" and set(product.args) == {x_vector, x_scalar}
