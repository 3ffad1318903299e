"""Shaped formulas: construction, shape checks with clear errors, simplification as a person
writes it, printing that parses back, LaTeX, and NumPy code generation."""

import re

import numpy as np
import pytest

import symcalc as sc
from symcalc.matrix import ShapeError

SHAPES = {"A": ("m", "n"), "B": ("n", "n"), "Q": ("n", "n"), "t": ("n",), "u": ("n",),
          "v": ("n",), "b": ("m",), "c": ("m",), "s": ()}
A, B, Q = sc.matrix("A", "m", "n"), sc.matrix("B", "n", "n"), sc.matrix("Q", "n", "n")
t, u, v, b = sc.vector("t", "n"), sc.vector("u", "n"), sc.vector("v", "n"), sc.vector("b", "m")


def P(text):
    return sc.parse(text, shapes=SHAPES)


def test_shapes_of_symbols_and_products():
    assert A.shape == ("m", "n") and t.shape == ("n",) and (A @ t).shape == ("m",)
    assert (t @ u).shape == () and (b @ A).shape == ("n",) and (A.T @ A).shape == ("n", "n")
    assert sc.matrix("M", 3, 4).shape == (3, 4) and sc.eye("n").shape == ("n", "n")
    assert sc.outer(b, t).shape == ("m", "n") and sc.diag(t).shape == ("n", "n")
    assert sc.diag(B).shape == ("n",) and sc.trace(B).shape == () and sc.softmax(t).shape == ("n",)
    assert (2 * A + 1).shape == ("m", "n") and sc.sin(A).shape == ("m", "n")
    assert sc.logsumexp(t).shape == () and sc.logdet(B).shape == () and sc.inv(B).shape == ("n", "n")


@pytest.mark.parametrize("build, text", [
    (lambda: A @ b, "A@b"),
    (lambda: sc.inv(A), "inv(A)"),
    (lambda: A + t, "A + t"),
    (lambda: t * b, "t*b"),
    (lambda: t @ 2, "t@s"),
    (lambda: sc.trace(A), "trace(A)"),
    (lambda: sc.outer(A, t), "outer(A, t)"),
    (lambda: A ** t, "A^t"),
])
def test_shape_errors_name_both_operands_and_their_shapes(build, text):
    with pytest.raises(ShapeError) as from_python:
        build()
    with pytest.raises(ShapeError) as from_text:
        P(text)
    # each message names an operand with its shape: "A (an m x n matrix)"
    assert re.search(r"\w \(an? (\w x \w matrix|vector of size \w|scalar)\)", str(from_python.value))
    assert isinstance(from_text.value, ValueError)
    assert "^" in str(from_text.value).splitlines()[-1]


def test_matmul_error_message_and_caret():
    with pytest.raises(ShapeError) as err:
        P("norm(A@b) + 1")
    message = str(err.value)
    assert message.splitlines()[0] == ("cannot multiply A (an m x n matrix) by b (a vector of size "
                                       "m): n != m (line 1, column 7)")
    assert message.splitlines()[1:] == ["  norm(A@b) + 1", "        ^"]
    assert (err.value.line, err.value.column) == (1, 7)
    with pytest.raises(ShapeError, match=r"cannot add A \(an m x n matrix\) and t \(a vector of size n\)"):
        A + t
    with pytest.raises(ShapeError, match=r"inv needs a square matrix, not A \(an m x n matrix\)"):
        sc.inv(A)


def test_distinct_size_names_never_match():
    with pytest.raises(ShapeError):
        sc.matrix("M", "m", "n") @ sc.vector("x", "k")
    with pytest.raises(ShapeError):
        sc.matrix("M", 3, 3) @ sc.vector("x", "n")


@pytest.mark.parametrize("before, after", [
    ("(A@B).T", "B.T@A.T"),
    ("A.T.T", "A"),
    ("t@u - u@t", "0"),
    ("eye(n)@t", "t"),
    ("A@eye(n)", "A"),
    ("diag(u)@v", "u*v"),
    ("v@diag(u)", "u*v"),
    ("2*0.5*t", "t"),
    ("A.T@u2 + A.T@v2", "A.T@(u2 + v2)"),
    ("t*s*2", "2*s*t"),
    ("b@A", "A.T@b"),
    ("inv(B.T)", "inv(B).T"),
    ("inv(B).T.T", "inv(B)"),
    ("trace(outer(t, u))", "t@u"),
    ("trace(B.T)", "trace(B)"),
    ("trace(B@Q) - trace(Q@B) + trace(B.T@Q.T)", "trace(B@Q)"),
    ("trace(A.T@A@B) - trace(B@A.T@A)", "0"),
    ("(Q + Q.T).T", "Q + Q.T"),
    ("ones(n)*t", "t"),
    ("Q@t + Q.T@t", "(Q + Q.T)@t"),
    ("(2*A)@(3*t)", "6*A@t"),
    ("-(A@t - b)", "b - A@t"),
    ("outer(b, t).T", "outer(t, b)"),
    ("diag(t)@diag(u)", "diag(t*u)"),
    ("A@diag(t)@diag(u)@B", "A@diag(t*u)@B"),
    ("diag(t) - 2*diag(u) + s*diag(t)", "diag(t - 2*u + s*t)"),
    ("A@diag(t)@A.T + A@diag(u)@A.T", "A@diag(t + u)@A.T"),
    ("A@B@t", "A@(B@t)"),
    ("A.T@(2*b - 2*A@t)", "2*A.T@(b - A@t)"),
    ("B@(-t - u)", "-B@(t + u)"),
    ("eye(n)*B", "diag(diag(B))"),
    ("sum(eye(n)*B)", "trace(B)"),
    ("sum(B@ones(n))", "sum(B)"),
])
def test_simplified_as_a_person_writes_it(before, after):
    shapes = dict(SHAPES, u2=("m",), v2=("m",))
    assert str(sc.parse(before, shapes=shapes)) == after


def test_log_of_exp_is_kept_as_read_and_simplified_as_for_scalars():
    # the scalar engine keeps log(exp(t)) as read and simplify undoes it; so does a vector t
    e = sc.parse("log(exp(t))", shapes=SHAPES)
    assert str(e) == str(sc.parse("log(exp(t))")) == "log(exp(t))"
    assert str(sc.simplify(e)) == str(sc.simplify(sc.parse("log(exp(t))"))) == "t"


FORMULAS = [
    "0.5*norm(A@t - b)^2", "x@Q@x", "sum(softplus(A@t)) - b@A@t", "A.T@(A@t - b)/norm(t)",
    "outer(A@t - b, t)", "diag(softmax(t)) - outer(softmax(t), softmax(t))", "inv(B).T@t",
    "trace(A@B@A.T)", "logdet(B) + det(B)^2", "s*t + exp(-s)*u", "sigmoid(A@t)*(1 - b)",
    "t^2/(1 + u^2)", "-t", "t/s", "(A@t)*b", "2*s*A@t", "sum(A)^(1/2)", "logsumexp(A@t)",
    "A.T@diag(b)@A", "eye(n) + B", "norm(t - u)^3", "b@(A@t)", "t@B@u - 3*(A.T@b)@t",
]


@pytest.mark.parametrize("text", FORMULAS)
def test_text_parses_back_to_the_same_node(text):
    shapes = dict(SHAPES, x=("n",))
    e = sc.parse(text, shapes=shapes)
    assert sc.parse(str(e), shapes=shapes) is e
    for d in [sc.grad(e, name) for name in sorted({s.data for s in e.free_symbols})] if not e.shape else []:
        assert sc.parse(str(d), shapes=shapes) is d


def test_latex():
    f = P("0.5*norm(A@t - b)^2")
    assert sc.latex(sc.grad(f, "t")) == r"A^{\top} \left(A t - b\right)"
    assert sc.latex(sc.grad(f, "A")) == r"\left(A t - b\right) t^{\top}"
    assert r"\odot" in sc.latex(P("sigmoid(A@t)*b"))
    assert sc.latex(P("t@u")) == r"t^{\top} u"
    assert sc.latex(P("inv(B).T")) == r"B^{-\top}" and sc.latex(P("inv(B)")) == r"B^{-1}"
    assert sc.grad(f, "t")._repr_latex_() == r"$\displaystyle A^{\top} \left(A t - b\right)$"


def test_scalar_functions_act_entrywise_from_the_registry():
    for fn in ("sin", "exp", "tanh", "sigmoid", "softplus", "erf", "atan", "abs"):
        e = getattr(sc, fn)(A)
        assert e.shape == A.shape and str(e) == f"{fn}(A)"
        assert sc.parse(f"{fn}(A)", shapes=SHAPES) is e
    assert str(sc.sqrt(t)) == "sqrt(t)" and sc.parse("sqrt(t)", shapes=SHAPES) is t ** sc.parse("1/2")


def test_scalar_formulas_are_unchanged():
    assert str(sc.grad("x^2*y", ["x", "y"])[0]) == "2*x*y"
    assert isinstance(sc.parse("x@y" if False else "x*y"), sc.Expr)


# --- code generation ------------------------------------------------------------------------------
def test_lambdify_least_squares_gradient():
    rng = np.random.default_rng(1)
    a, tv, bv = rng.normal(size=(7, 4)), rng.normal(size=4), rng.normal(size=7)
    g = sc.lambdify(sc.grad(P("0.5*norm(A@t - b)^2"), "t"), ["A", "t", "b"])
    np.testing.assert_allclose(g(a, tv, bv), a.T @ (a @ tv - bv), rtol=1e-12)
    assert g(a, tv, bv).shape == (4,)


def test_lambdify_reads_sizes_and_names_the_dimension_that_disagrees():
    g = sc.lambdify(P("A@t - b"), ["A", "t", "b"])
    with pytest.raises(ValueError, match=r"size n disagrees: A has 4 \(axis 1\) but t has 3 \(axis 0\)"):
        g(np.ones((5, 4)), np.ones(3), np.ones(5))
    with pytest.raises(ValueError, match="size m disagrees"):
        g(np.ones((5, 4)), np.ones(4), np.ones(6))
    with pytest.raises(ValueError, match="t must be a 1-D array"):
        g(np.ones((5, 4)), np.ones((4, 1)), np.ones(5))
    with pytest.raises(ValueError, match="uses b"):
        sc.lambdify(P("A@t - b"), ["A", "t"])


def test_generated_code_uses_solve_slogdet_and_transposes():
    source = sc.codegen([P("inv(B)@t"), P("logdet(B)"), P("inv(B).T@u"), P("A.T@b")], ["A", "B", "t", "u", "b"])
    assert "np.linalg.solve(B, t)" in source and "logdet(B)" in source
    assert "np.linalg.solve(B.T, u)" in source and "A.T @ b" in source
    assert "eval(" not in source
    rng = np.random.default_rng(2)
    m = rng.normal(size=(3, 3)) + 3 * np.eye(3)
    x = rng.normal(size=3)
    f = sc.lambdify([P("inv(B)@t"), P("logdet(B)")], ["B", "t"])
    solved, ld = f(m, x)
    np.testing.assert_allclose(solved, np.linalg.solve(m, x))
    np.testing.assert_allclose(ld, np.log(np.linalg.det(m)))


def test_softmax_and_logsumexp_are_stable():
    f = sc.lambdify([P("softmax(t)"), P("logsumexp(t)")], ["t"])
    p, l = f(np.array([1000.0, 1000.0, -1000.0]))
    np.testing.assert_allclose(p, [0.5, 0.5, 0.0])
    np.testing.assert_allclose(l, 1000 + np.log(2))


def test_eye_and_sizes_in_generated_code():
    h = sc.hessian(P("norm(t)"), "t")
    f = sc.lambdify(h, ["t"])
    x = np.array([3.0, 4.0])
    np.testing.assert_allclose(f(x), np.eye(2) / 5 - np.outer(x, x) / 125)


def test_lambdify_names_that_clash_with_python():
    e = sc.parse("lambda_@np_", shapes={"lambda_": "n", "np_": "n"})
    assert sc.lambdify(e, ["lambda_", "np_"])(np.ones(2), np.ones(2)) == 2.0


def test_deep_nesting_parses_and_transposes_without_recursion():
    e = sc.parse("sin(" * 3000 + "B" + ")" * 3000 + "@t", shapes=SHAPES)
    assert e.shape == ("n",)
    assert sc.parse("(" * 2000 + "B" + "+B)@B" * 2000, shapes=SHAPES).T.shape == ("n", "n")
    assert sc.simplify(e) is e


@pytest.mark.parametrize("text, build", [
    ("s^2t", lambda: sc.parse("s", shapes=SHAPES) ** 2 * t),
    ("s^2 A@t", lambda: (sc.parse("s", shapes=SHAPES) ** 2 * A) @ t),
    ("2A.T@b", lambda: (2 * A.T) @ b),
    ("t^2u", lambda: t**2 * u),
    ("t^(2s)", lambda: t ** (2 * sc.parse("s", shapes=SHAPES))),
])
def test_an_implicit_product_never_binds_tighter_than_a_power(text, build):
    assert P(text) is build()


@pytest.mark.parametrize("text, fix", [("t^T@u", "t.T"), ("A^T@A", "A.T"), ("(A@t)^T@b", "(A@t).T"),
                                       ("B**T", "B.T")])
def test_a_power_T_of_a_vector_or_matrix_asks_for_the_transpose(text, fix):
    with pytest.raises(sc.ParseError, match=rf"write {re.escape(fix)} for the transpose") as err:
        P(text)
    assert text[err.value.column - 1] in "^*"  # the caret under the power's operator
    with pytest.raises(sc.ParseError, match="write t.T for the transpose"):
        sc.grad("t^T@u", "t", shapes={"t": "n", "u": "n"})


def test_a_power_T_is_a_power_where_T_is_declared_or_the_base_a_scalar():
    declared = {**SHAPES, "T": ()}
    T = sc.parse("T", shapes=declared)
    assert sc.parse("t^T@u", shapes=declared) is (t**T) @ u
    assert str(P("s^T")) == "s^T"


def test_a_shape_error_in_an_implicit_product_points_at_the_number():
    with pytest.raises(ShapeError) as err:
        P("t^2b")
    assert (err.value.line, err.value.column) == (1, 3)


def test_syntax_errors_in_shaped_text_are_parse_errors_with_a_caret():
    with pytest.raises(sc.ParseError, match="unexpected end"):
        P("A@")
    with pytest.raises(sc.ParseError, match="did you mean sin"):
        P("sinn(A)")
    with pytest.raises(sc.ParseError, match="trace takes 1 argument"):
        P("trace(A, A)")
    with pytest.raises(sc.ParseError, match="did you mean softmax"):
        P("Softmax(t)")
    with pytest.raises(sc.ParseError, match=re.escape("write norm(t)^2 for a power of it")):
        P("norm^2(t)")


def test_pickling_keeps_interning():
    import pickle

    e = P("A.T@(A@t - b)/norm(t)")
    assert pickle.loads(pickle.dumps(e)) is e


def test_outer_products_in_products_and_diagonal_scaling_in_code():
    shapes = dict(SHAPES, w=("n",), X=("m", "n"), d=("m",))
    assert str(sc.parse("outer(u, v)@w", shapes=shapes)) == "(v@w)*u"
    assert str(sc.parse("B@outer(u, v)@B", shapes=shapes)) == "outer(B@u, B.T@v)"
    source = sc.codegen(sc.parse("X.T@diag(d)@X", shapes=shapes), ["X", "d"])
    assert "np.diag" not in source and "d[:, None] * X" in source
    rng = np.random.default_rng(4)
    x, d = rng.normal(size=(5, 3)), rng.normal(size=5)
    f = sc.lambdify(sc.parse("X.T@diag(d)@X + B@diag(u)", shapes=shapes), ["X", "d", "B", "u"])
    b, uv = rng.normal(size=(3, 3)), rng.normal(size=3)
    np.testing.assert_allclose(f(x, d, b, uv), x.T @ np.diag(d) @ x + b @ np.diag(uv))


def test_lambdified_shaped_functions_pickle_with_plain_pickle():
    import pickle

    f = sc.parse("0.5*norm(A@t - b)^2", shapes={"A": ("m", "n"), "t": ("n",), "b": ("m",)})
    g = sc.lambdify([f, sc.grad(f, "t")], ["A", "t", "b"])
    h = pickle.loads(pickle.dumps(g))
    rng = np.random.default_rng(0)
    A, t, b = rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=4)
    value, gradient = h(A, t, b)
    assert value == pytest.approx(0.5 * np.sum((A @ t - b) ** 2), rel=1e-14)
    np.testing.assert_allclose(gradient, A.T @ (A @ t - b), rtol=1e-13)
    assert h.source == g.source
