"""Matrices declared symmetric or diagonal: how they are declared, what simplification knows
about them, and the gradient by them under the Frobenius inner product.

Every gradient asserted here is proved by ``matrix_oracle.check``: the formula unrolled with one
scalar symbol per pair of a symmetric matrix's entries (zeros off a diagonal one's diagonal),
differentiated by the scalar engine and by SymPy; the gradient ``R`` must be symmetric (or
diagonal) with ``R_ij + R_ji`` the derivative by the shared entry ``s_ij`` and ``R_ii`` by
``s_ii``; and central differences along the symmetric directions ``E_ij + E_ji`` agree.
"""

import pickle

import numpy as np
import pytest

import symcalc as sc
from symcalc.errors import SymcalcError
from matrix_oracle import check, random_arrays

S = sc.matrix("S", "n", "n", symmetric=True)
D = sc.matrix("D", "n", "n", diagonal=True)
A = sc.matrix("A", "n", "n")
X = sc.matrix("X", "m", "n")
x = sc.vector("x", "n")
SHAPES = {"S": "n,n,symmetric", "A": "n,n", "x": "n", "X": "m,n", "D": ("n", "n", "diagonal")}


# --- declaring the structure -------------------------------------------------------------------
def test_the_structure_is_part_of_the_symbol():
    plain = sc.matrix("S", "n", "n")
    assert S is sc.matrix("S", "n", "n", symmetric=True) and S is not plain
    assert S.structure == "symmetric" and plain.structure is None and D.structure == "diagonal"
    assert str(S) == "S" and S.shape == ("n", "n")
    assert str(sc.grad(sc.trace(plain @ A), plain)) == "A.T"
    assert str(plain.T) == "S.T" and str(sc.trace(plain @ A) - sc.trace(S @ A)) != "0"


@pytest.mark.parametrize("declared", ["n,n,symmetric", "n n symmetric", ("n", "n", "symmetric"),
                                      ["n", "n", "symmetric"]])
def test_shapes_declare_it_as_a_third_word(declared):
    f = sc.parse("x@S@x", shapes={"S": declared, "x": "n"})
    assert f is x @ S @ x


@pytest.mark.parametrize("shapes, message", [
    ({"S": "n,n,symetric"}, "'symetric' is not a structure of a matrix"),
    ({"S": "m,n,symmetric"}, "only a square matrix can be symmetric, not an m x n matrix"),
    ({"S": "n,diagonal"}, "'diagonal' is a structure word, not a size"),
    ({"S": ("n", "n", "n")}, "at most 2 sizes"),
])
def test_a_bad_declaration_is_one_clear_error_naming_the_symbol(shapes, message):
    with pytest.raises(SymcalcError) as info:
        sc.parse("sum(S)", shapes=shapes)
    assert message in str(info.value) and "the shape of S" in str(info.value)


def test_bad_declarations_in_python():
    with pytest.raises(SymcalcError, match="only a square matrix can be symmetric"):
        sc.matrix("S", "m", "n", symmetric=True)
    with pytest.raises(SymcalcError, match="not both"):
        sc.matrix("S", "n", "n", symmetric=True, diagonal=True)


def test_the_declaration_survives_pickling_and_subs():
    f = sc.parse("-0.5*logdet(S) - 0.5*x@inv(S)@x", shapes=SHAPES)
    assert pickle.loads(pickle.dumps(f)) is f
    g = f.subs({"x": "A@x"}, shapes=SHAPES)
    assert S in g.free_symbols and str(g) == "-logdet(S)/2 - x@A.T@inv(S)@A@x/2"


def test_the_command_line_reads_the_same_declaration(capsys):
    from symcalc.cli.main import main
    assert main(["grad", "trace(S@A)", "S", "--shape", "S=n,n,symmetric", "--shape", "A=n,n"]) == 0
    assert capsys.readouterr().out.strip() == str(sc.grad(sc.trace(S @ A), S))
    assert main(["grad", "trace(S@A)", "S", "--shape", "S=n,n,symetric", "--shape", "A=n,n"]) == 2
    assert "'symetric' is not a structure" in capsys.readouterr().err


@pytest.mark.parametrize("shape", ["S=n,n,symmetric", "S=n,n,diagonal"])
def test_the_command_line_check_compares_by_the_shared_entries(capsys, shape):
    """``check`` differentiates the written-out formula by each distinct entry (SymPy and central
    differences); a symmetric gradient passes only through the relation s_ij <-> R_ij + R_ji."""
    from symcalc.cli.main import main
    status = main(["check", "trace(S@A) + x@S@x", "S", "--shape", shape, "--shape", "A=n,n",
                   "--shape", "x=n", "--points", "2"])
    out = capsys.readouterr().out
    assert status == 0 and "all checks agree" in out, out


def test_latex_reads_a_declared_symmetric_matrix():
    f = sc.parse(r"\mathbf{x}^\top S^\top \mathbf{x} + \operatorname{tr}(S^{-1})", latex=True,
                 shapes=SHAPES)
    assert f is x @ S @ x + sc.trace(sc.inv(S))
    g = sc.grad(f, "S")
    check(f, S, g, spd=["S"], with_sympy=True, sizes={"n": 3})


# --- simplification ----------------------------------------------------------------------------
def test_simplification_knows_symmetry():
    assert S.T is S and D.T is D
    assert sc.inv(S).T is sc.inv(S) and sc.inv(D).T is sc.inv(D)
    assert S + S.T is 2 * S and str(S + S.T) == "2*S"
    assert (X.T @ X).T is X.T @ X and sc.inv(X.T @ X).T is sc.inv(X.T @ X)
    assert str(A + A.T) == "A + A.T" and str(sc.inv(A).T) == "inv(A).T"
    assert sc.parse("(S@A@S).T - S@A.T@S", shapes=SHAPES) is sc.zeros("n", "n")
    assert str(sc.parse("x@inv(S).T@x - x@inv(S)@x", shapes=SHAPES)) == "0"


def test_generated_code_of_a_symmetric_formula_has_no_transpose():
    source = sc.codegen(sc.inv(S).T @ x + S.T @ x, ["S", "x"])
    assert ".T" not in source.split("def f")[1]


@pytest.mark.parametrize("backend", ["numpy", "numexpr", "jax"])
def test_every_backend_computes_a_formula_of_a_symmetric_matrix(backend):
    pytest.importorskip(backend)
    f = sc.parse("-0.5*logdet(S) - 0.5*x@inv(S)@x + sum(A*S) + trace(A@inv(S))", shapes=SHAPES)
    g = sc.grad(f, "S")
    arrays = random_arrays({S, A, x}, {"n": 4}, spd=["S"], seed=5)
    values = [arrays[k] for k in ("A", "S", "x")]
    s, a, v = arrays["S"], arrays["A"], arrays["x"]
    si = np.linalg.inv(s)
    expected = (-0.5 * np.linalg.slogdet(s)[1] - 0.5 * v @ si @ v + np.sum(a * s)
                + np.trace(a @ si))
    got = sc.lambdify(f, ["A", "S", "x"], backend=backend)(*values)
    assert np.isclose(float(got), expected)
    reference = sc.lambdify(g, ["A", "S", "x"])(*values)
    value = sc.lambdify(g, ["A", "S", "x"], backend=backend)(*values)
    np.testing.assert_allclose(np.asarray(value), reference, rtol=1e-10)
    check(f, S, g, spd=["S"], sizes={"n": 3})


# --- gradients under the Frobenius inner product -----------------------------------------------
CASES = [
    ("logdet(S)", "inv(S)"),
    ("x@S@x", "outer(x, x)"),
    ("trace(S@A)", "A/2 + A.T/2"),
    ("-0.5*logdet(S) - 0.5*x@inv(S)@x", "outer(inv(S)@x, inv(S)@x)/2 - inv(S)/2"),
    ("trace(S@S@A)", None),
    ("norm(S@x)^2", None),
    ("det(S)", "det(S)*inv(S)"),
    ("sum(S*A)", None),
    ("sum(exp(S))", "exp(S)"),
]


@pytest.mark.parametrize("text, expected", CASES)
def test_gradient_by_a_symmetric_matrix(text, expected):
    f = sc.parse(text, shapes=SHAPES)
    g = sc.grad(f, "S")
    if expected is not None:
        assert str(g) == expected
    assert g.shape == ("n", "n") and len(str(g)) <= 2 * len(text) + 20
    check(f, S, g, spd=["S"], with_sympy=True, sizes={"n": 3})


def test_the_textbook_rule_is_not_the_gradient():
    """``G + G.T - diag(G)`` gives the derivatives by the distinct entries, not the gradient:
    a step along a symmetric direction E changes f by <(G + G.T)/2, E>, not by that."""
    f = sc.parse("trace(S@A)", shapes=SHAPES)
    g = sc.grad(f, "S")
    arrays = random_arrays({S, A}, {"n": 3}, seed=3)
    a = arrays["A"]
    value = sc.matrix.lambdify(g, ["S", "A"])(arrays["S"], a)
    textbook = a + a.T - np.diag(np.diag(a))  # G = A.T for trace(S@A)
    e = np.zeros((3, 3)); e[0, 1] = e[1, 0] = 1.0
    slope = np.sum(a.T * e)  # the exact directional derivative of the linear trace(S@A)
    assert np.isclose(np.sum(value * e), slope) and not np.isclose(np.sum(textbook * e), slope)


@pytest.mark.parametrize("text, expected", [
    ("x@D@x", "diag(x^2)"),
    ("trace(D@A)", "diag(diag(A))"),
    ("logdet(D)", "inv(D)"),
    ("sum(D@A@D)", None),
])
def test_gradient_by_a_diagonal_matrix(text, expected):
    f = sc.parse(text, shapes=SHAPES)
    g = sc.grad(f, "D")
    if expected is not None:
        assert str(g) == expected
    check(f, D, g, positive=["D"], with_sympy=True, sizes={"n": 3})


def test_several_variables_and_a_plain_matrix_beside_a_symmetric_one():
    f = sc.parse("x@S@A@x", shapes=SHAPES)
    gs, ga = sc.grad(f, ["S", "A"])
    check(f, S, gs, with_sympy=True, sizes={"n": 3})
    check(f, A, ga, sizes={"n": 3})


def test_vjp_jvp_and_hvp_stay_adjoint_within_the_structure():
    f = sc.parse("-0.5*logdet(S) - 0.5*x@inv(S)@x", shapes=SHAPES)
    V = sc.matrix("V", "n", "n")
    grad = sc.grad(f, "S")
    assert sc.vjp(f, "S", 1) is grad
    assert sc.jvp(f, "S", V) is sc.jvp(f, "S", (V + V.T) / 2)
    arrays = random_arrays({S, x, V}, {"n": 3}, spd=["S"], seed=1)
    names = ["S", "V", "x"]
    values = [arrays[k] for k in names]
    jvp_value = sc.matrix.lambdify(sc.jvp(f, "S", V), names)(*values)
    assert np.isclose(jvp_value, np.sum(sc.matrix.lambdify(grad, names)(*values) * arrays["V"]))
    hvp = sc.hvp(f, "S", V)
    h_value = sc.matrix.lambdify(hvp, names)(*values)
    assert np.allclose(h_value, h_value.T)
    # the Hessian-vector product is the derivative of the gradient along the symmetric part of V
    sym_v = (arrays["V"] + arrays["V"].T) / 2
    g = sc.matrix.lambdify(grad, names)
    step = 1e-6
    fd = (g(arrays["S"] + step * sym_v, arrays["V"], arrays["x"])
          - g(arrays["S"] - step * sym_v, arrays["V"], arrays["x"])) / (2 * step)
    np.testing.assert_allclose(h_value, fd, rtol=1e-5, atol=1e-6)


def test_explain_ends_with_the_projection_and_gives_the_gradient():
    f = sc.parse("trace(S@A)", shapes=SHAPES)
    d = sc.explain(f, "S")
    assert d.result is sc.grad(f, "S")
    last = d.steps[-1]
    plain = sc.matrix("S", "n", "n")
    assert last.rule == "symmetric matrix" and last.before is sc.grad(sc.trace(plain @ A), plain)
    assert "bar(S) = (bar(S) + bar(S).T)/2 = A/2 + A.T/2" in str(d)
    assert d.to_dict()["steps"][-1]["node"] == "S" and "\\tfrac{1}{2}" in d.latex()


# --- the smaller forms -------------------------------------------------------------------------
def test_one_spelling_of_a_trace_of_two_factors():
    B, s = sc.matrix("B", "n", "n"), sc.matrix.scalar("s")
    f = sc.det(A + s * B)
    first, second = sc.grad(f, s), sc.hessian(f, s)
    assert "sum(" not in str(first) + str(second)
    assert "trace(B@inv(A + s*B))^2" in str(second)
    assert second is sc.diff(f, "s", 2)
    check(f, s, first, with_sympy=True, shifted=["A"], sizes={"n": 3})
    check(first, s, second, with_sympy=True, shifted=["A"], sizes={"n": 3})


@pytest.mark.parametrize("text, variable, expected", [
    ("log(abs(det(B)))", "B", "inv(B).T"),
    ("det(B@B@B)", "B", "3*det(B)^3*inv(B).T"),
    ("norm(A@x - b)^2", "x", "2*A.T@(A@x - b)"),
])
def test_smaller_forms(text, variable, expected):
    shapes = {"A": "m,n", "B": "n,n", "x": "n", "b": "m"}
    f = sc.parse(text, shapes=shapes)
    g = sc.grad(f, variable)
    assert str(g) == expected
    var = next(v for v in f.free_symbols if v.data == variable)
    # SymPy's symbols are complex, so it leaves d|u|/du unevaluated: abs is checked without it
    check(f, var, g, with_sympy="abs" not in text, shifted=["B"], sizes={"n": 3})


def test_a_matrix_times_the_identity_is_its_diagonal():
    assert str(A * sc.eye("n")) == "diag(diag(A))" and str(sc.eye("n") * A.T) == "diag(diag(A))"


# --- random formulas ---------------------------------------------------------------------------
from hypothesis import given, settings, strategies as st  # noqa: E402

from matrix_oracle import (by_shared_entries, in_structure, matrix_value, scalar_values,  # noqa: E402
                           unrolled_derivative)
from test_matrix_properties import EXAMPLES, SIZES, shaped  # noqa: E402


@settings(max_examples=EXAMPLES)
@given(shaped(()), shaped(("n", "n"), depth=2), st.sampled_from(["symmetric", "diagonal"]),
       st.integers(0, 99))
def test_random_formulas_in_a_structured_matrix(f, h, structure, seed):
    """Random scalar formulas (with a term trace(h@B), so that most mention B) with their square
    matrix B declared symmetric (or diagonal): the gradient lies in the structure and gives the
    scalar engine's derivative by every entry."""
    B = sc.matrix.ops.symbol("B", ("n", "n"))
    structured = sc.matrix.ops.symbol("B", ("n", "n"), structure)
    f = (f + sc.trace(h @ B)).subs({B: structured})
    if structured not in f.free_symbols:
        return
    g = sc.grad(f, structured)
    shapes = {s.data: sc.matrix.nodes.declared(s) for s in f.free_symbols}
    assert sc.parse(str(g), shapes=shapes) is g and sc.parse(str(f), shapes=shapes) is f
    arrays = random_arrays(f.free_symbols | {structured}, SIZES, seed=seed)
    value = matrix_value(g, arrays)
    in_structure(value, structured)
    expected = scalar_values(unrolled_derivative(f, structured, SIZES), arrays)
    scale = max(1.0, float(np.max(np.abs(expected))))
    np.testing.assert_allclose(by_shared_entries(value, structured), expected, rtol=1e-7,
                               atol=1e-9 * scale, err_msg=f"grad of {f} in {structure} B: {g}")


@pytest.mark.parametrize("text, variable, shapes", [
    ("x@S@x + logdet(S)", "S", {"S": "n,n,symmetric", "x": "n"}),
    ("trace(S@A@S@B)", "S", {"S": "n,n,symmetric", "A": "n,n", "B": "n,n"}),
    ("logdet(D) + x@D@x", "D", {"D": "n,n,diagonal", "x": "n"}),
])
def test_hessian_by_a_structured_matrix_is_projected_on_both_of_its_axes(text, variable, shapes):
    """The Hessian in S is the Jacobian of the symmetric gradient along symmetric directions:
    symmetric in its last two axes too (a diagonal one: zero off their diagonal)."""
    f = sc.parse(text, shapes=shapes)
    H = sc.hessian(f, variable)
    x = next(s for s in f.free_symbols if s.data == variable)
    assert H.shape == x.shape + x.shape
    check(sc.grad(f, variable), x, H, with_sympy=True)


@pytest.mark.parametrize("structure", ["symmetric", "diagonal"])
def test_jacobian_of_a_matrix_by_a_structured_matrix(structure):
    f = sc.parse("S@A + S", shapes={"S": f"n,n,{structure}", "A": "n,n"})
    x = next(s for s in f.free_symbols if s.data == "S")
    J = sc.jacobian(f, "S")
    assert J.shape == ("n",) * 4
    check(f, x, J)
