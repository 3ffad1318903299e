"""LaTeX with vectors and matrices: ``parse(text, latex=True, shapes=...)`` as papers write it.

Every reading is compared with the same formula typed in symcalc's language (the same interned
node); gradients of the parsed losses are checked against the unrolled scalar engine, SymPy and
central finite differences (tests/matrix_oracle.py); LaTeX that symcalc prints reads back to the
formula printed (a property test); errors carry a caret under the fault in the LaTeX as typed.
"""

import pytest
from hypothesis import given, settings, strategies as st

import symcalc as sc
from symcalc.cli.main import main
from symcalc.errors import ParseError
from symcalc.matrix import ShapeError
from matrix_oracle import check
from test_matrix_properties import MN, NM, NN, M, N, S, shaped

SHAPES = {"A": ("m", "n"), "B": ("n", "n"), "C": ("n", "n"), "W": ("m", "n"), "t": ("n",),
          "x": ("n",), "y": ("n",), "w": ("n",), "b": ("m",), "c": ("m",), "theta": ("n",)}


def P(text):
    """A formula typed in symcalc's language."""
    return sc.parse(text, shapes=SHAPES)


def L(text, shapes=SHAPES):
    """A formula typed in LaTeX."""
    return sc.parse(text, latex=True, shapes=shapes)


READINGS = [
    # names, bold or upright, resolve to the declared shapes
    (r"\mathbf{x}^\top \mathbf{x}", "x@x"),
    (r"\boldsymbol{\theta}^\top \mathbf{x}", "theta@x"),
    (r"\bm{x}^\top \vec{y}", "x@y"),
    (r"x^\top y", "x@y"),
    # transposes
    (r"\mathbf{x}^T \mathbf{y}", "x@y"),
    (r"x^{\mathsf{T}} y", "x@y"),
    (r"x^{\mathrm{T}} y", "x@y"),
    (r"x^{\intercal} y", "x@y"),
    (r"A^\top b", "A.T@b"),
    (r"A^{T} b", "A.T@b"),
    (r"B^{\top} C^{\top}", "B.T@C.T"),
    (r"\left(B C\right)^{\top}", "(B@C).T"),
    # norms
    (r"\|x\|", "norm(x)"),
    (r"\|x\|_2", "norm(x)"),
    (r"\|x\|_{2}^{2}", "norm(x)^2"),
    (r"\|x\|^2", "norm(x)^2"),
    (r"\left\| A t - b \right\|", "norm(A@t - b)"),
    (r"\left\lVert x \right\rVert", "norm(x)"),
    (r"\Vert x \Vert", "norm(x)"),
    (r"\|A\|_F", "norm(A)"),
    (r"\|A\|_{F}^2", "norm(A)^2"),
    (r"\|x\|_2 \|y\|_2", "norm(x)*norm(y)"),
    (r"\|x\|^2_2", "norm(x)^2"),
    (r"\|A\|_{\mathrm{F}}", "norm(A)"),
    (r"\|A\|_\text{F}^2", "norm(A)^2"),
    (r"\|A\|^{2}_{\mathrm{F}}", "norm(A)^2"),
    # side by side: the matrix product; a scalar scales
    (r"A x", "A@x"),
    (r"A\mathbf{x}", "A@x"),
    (r"\mathbf{x}^\top B \mathbf{x}", "x@B@x"),
    (r"\mathbf{w}^\top \mathbf{x} + \beta", "w@x + beta"),
    (r"2 A x", "2*A@x"),
    (r"\lambda B C x", "lambda*(B@C@x)"),
    (r"x y^\top", "outer(x, y)"),
    (r"x^\top y x", "(x@y)*x"),
    (r"B x y^\top", "outer(B@x, y)"),
    (r"x^\top B", "B.T@x"),
    (r"\left(x^\top B\right) y", "x@B@y"),
    (r"\alpha \cdot x", "alpha*x"),
    (r"x \cdot y", "x@y"),
    (r"x \odot y", "x*y"),
    (r"A x \odot c", "(A@x)*c"),
    (r"\frac{x}{\|x\|}", "x/norm(x)"),
    (r"\frac{1}{x \odot y}", "1/(x*y)"),
    (r"\frac{1}{2 \alpha} x", "x/(2*alpha)"),
    (r"\frac{1}{x^\top y}", "1/(x@y)"),
    # functions
    (r"\operatorname{tr}(B)", "trace(B)"),
    (r"\mathrm{tr}\left(B C\right)", "trace(B@C)"),
    (r"\operatorname{Tr} B", "trace(B)"),
    (r"\det B", "det(B)"),
    (r"\det(B C)", "det(B@C)"),
    (r"\log\det B", "logdet(B)"),
    (r"\log \det\left(B\right)", "logdet(B)"),
    (r"\log(\det(B))", "log(det(B))"),
    (r"B^{-1}", "inv(B)"),
    (r"B^{-1} x", "inv(B)@x"),
    (r"B^{-\top}", "inv(B).T"),
    (r"\left(B C\right)^{-1}", "inv(B@C)"),
    (r"\mathbf{1}^\top x", "sum(x)"),
    (r"x^\top \mathbf{1}", "sum(x)"),
    (r"\mathbf{1}_{n}^\top x", "ones(n)@x"),
    (r"\mathbf{1}_{m \times n}", "ones(m, n)"),
    (r"\mathbf{0}_{n}", "zeros(n)"),
    (r"I_{n} + B", "eye(n) + B"),
    (r"\operatorname{sum}(x)", "sum(x)"),
    (r"\operatorname{diag}(x) B", "diag(x)@B"),
    (r"\operatorname{softmax}(W^\top c)", "softmax(W.T@c)"),
    (r"\operatorname{logsumexp}(x)", "logsumexp(x)"),
    (r"\sigma(W x + c)", "sigmoid(W@x + c)"),
    (r"\sigma\left(W \mathbf{x} + \mathbf{c}\right)", "sigmoid(W@x + c)"),
    (r"\tanh(A x)", "tanh(A@x)"),
    (r"e^{x}", "exp(x)"),
    (r"\exp(B x)", "exp(B@x)"),
    (r"\exp\left(-\frac{1}{2}(x - y)^\top B^{-1} (x - y)\right)",
     "exp(-((x - y)@inv(B)@(x - y))/2)"),
    (r"-\frac{1}{2}\log\det(2\pi B)", "-logdet(2*pi*B)/2"),
    (r"\log \left(1 + e^{-A x}\right)", "log(1 + exp(-A@x))"),
    (r"\sqrt{x}", "sqrt(x)"),
    (r"\operatorname{abs}(x)", "abs(x)"),
    (r"|x^\top y|", "abs(x@y)"),
    (r"x^{2}", "x^2"),
    (r"B^{\circ 2}", "B^2"),
    (r"B^{\circ \frac{1}{2}}", "sqrt(B)"),
    # whole formulas
    (r"\frac{1}{2}\|A\mathbf{t} - \mathbf{b}\|^2", "0.5*norm(A@t - b)^2"),
    (r"\frac{1}{2}\|A\mathbf{t}-\mathbf{b}\|_2^2 + \frac{\lambda}{2}\|\mathbf{t}\|^2",
     "norm(A@t - b)^2/2 + lambda/2*norm(t)^2"),
    (r"\frac{1}{2} x^\top B x - b^\top A x", "x@B@x/2 - b@A@x"),
    (r"\log\det B - \operatorname{tr}(B C)", "logdet(B) - trace(B@C)"),
    (r"$\mathbf{c}^\top \log \sigma(W \mathbf{x})$", "c@log(sigmoid(W@x))"),
]


@pytest.mark.parametrize("latex, text", READINGS)
def test_latex_reads_as_the_same_formula_typed_in_symcalcs_language(latex, text):
    assert L(latex) is P(text)


def test_names_resolve_to_the_shapes_declared():
    f = L(r"\mathbf{x}^\top \mathbf{x}", {"x": "n"})
    assert f.shape == () and f is sc.parse("x@x", shapes={"x": "n"})
    assert L(r"A x", {"A": (3, 2), "x": 2}).shape == (3,)
    assert L(r"\mathbf{x}_1^\top \mathbf{x}_{2}", {"x_1": "n", "x_2": "n"}) is sc.parse(
        "x_1@x_2", shapes={"x_1": "n", "x_2": "n"})
    assert L(r"\mathbf{W}_1 \mathbf{h}", {"W_1": ("m", "n"), "h": "n"}).shape == ("m",)


def test_a_name_with_digits_glued_on_reads_back():
    shapes = {"W1": ("m", "n"), "x": ("n",), "b1": ("m",), "x_2": ("n",)}
    e = sc.parse("sigmoid(W1@x + b1) + W1@x_2", shapes=shapes)
    assert r"W_{1}" in sc.latex(e) and L(sc.latex(e), shapes) is e


def test_a_formula_of_scalars_is_the_scalar_expression():
    assert L(r"\frac{1}{1 + e^{-z}}") is sc.parse(r"\frac{1}{1 + e^{-z}}", latex=True)
    assert L(r"\sum_{i=1}^{3} w_i z_i") is sc.parse("w_1*z_1 + w_2*z_2 + w_3*z_3")


LOSSES = [  # (LaTeX, the same loss in symcalc's language, variable)
    (r"\frac{1}{2}\|A\mathbf{t}-\mathbf{b}\|^2", "0.5*norm(A@t - b)^2", "t"),
    (r"\frac{1}{2}\|A\mathbf{t}-\mathbf{b}\|^2", "0.5*norm(A@t - b)^2", "A"),
    (r"\mathbf{x}^\top B \mathbf{x}", "x@B@x", "x"),
    (r"\mathbf{c}^\top \log \sigma(W \mathbf{x}) + \frac{\lambda}{2}\|W\|_F^2",
     "c@log(sigmoid(W@x)) + lambda/2*norm(W)^2", "W"),
    (r"\operatorname{logsumexp}(B \mathbf{x}) - \mathbf{y}^\top B \mathbf{x}",
     "logsumexp(B@x) - y@B@x", "x"),
    (r"\|\sigma(W x + c) - b\|^2", "norm(sigmoid(W@x + c) - b)^2", "x"),
    (r"\operatorname{tr}(B^\top C B)", "trace(B.T@C@B)", "B"),
    (r"x^\top y \cdot \mathbf{1}^\top \left(x \odot x\right)", "(x@y)*sum(x*x)", "x"),
]


@pytest.mark.parametrize("latex, text, name", LOSSES)
def test_gradients_of_latex_losses(latex, text, name):
    f = L(latex)
    assert f is P(text)
    x = sc.matrix.ops.symbol(name, SHAPES[name])
    g = sc.grad(f, name)
    assert g is sc.grad(P(text), name)
    check(f, x, g, with_sympy=True)


def test_the_least_squares_gradient_and_hessian():
    f = L(r"\frac{1}{2}\|A\mathbf{t} - \mathbf{b}\|^2")
    assert sc.grad(f, "t") is P("A.T@(A@t - b)")
    assert sc.hessian(f, "t") is P("A.T@A")
    t = sc.matrix.ops.symbol("t", SHAPES["t"])
    check(f, t, sc.grad(f, "t"), with_sympy=True)


def test_log_det_and_inverse_gradients():
    spd_shapes = {"X": ("n", "n"), "x": ("n",)}
    f = L(r"\log\det X - \mathbf{x}^\top X^{-1} \mathbf{x}", spd_shapes)
    assert f is sc.parse("logdet(X) - x@inv(X)@x", shapes=spd_shapes)
    X = sc.matrix.ops.symbol("X", ("n", "n"))
    check(f, X, sc.grad(f, "X"), spd=["X"], with_sympy=True)


# --- the round trip: what symcalc prints reads back ----------------------------------------------
PRINTED = ["0.5*norm(A@t - b)^2", "x@B@x", "outer(x, y)", "B*B", "x*y/(c@c)", "inv(B).T@x",
           "sigmoid(W@x + c)", "trace(B@C)", "det(B) + logdet(C)", "sum(x)*norm(A)",
           "abs(x) + abs(b@c)", "sum(exp(x)) + trace(sqrt(B))", "eye(n) + ones(n, n) + 2*B",
           "ones(m) + b",
           "softmax(x) + diag(B) + diag(x)@y", "logsumexp(A@x)", "1/(x*y) + 1/x^2",
           "(x@y)^2 + 1/(x@y)", "B.T^2 + inv(B)^2", "x^2@B@x^3", "2*s*((s*A + 2*A)@B)",
           "x/(lambda*(alpha + beta))", "sin(B.T)@inv(C).T", "outer(A@x, b)@A"]


@pytest.mark.parametrize("text", PRINTED)
def test_printed_latex_reads_back(text):
    e = P(text)
    assert L(sc.latex(e)) is e, sc.latex(e)


EXTRA_LEAVES = {N: ["ones(n)", "exp(t)", "abs(u)", "t/u"], M: ["b^3", "zeros(m) + b"],
                NN: ["eye(n)", "inv(B).T", "B^2", "sqrt(B*B)"], MN: ["ones(m, n)", "A^2"],
                NM: ["inv(B)@A.T"], S: ["abs(s)", "det(B)"]}


@st.composite
def printed(draw):
    """A random shaped formula, sometimes combined with a form only a few printer branches
    write (ones, eye, inverses, entrywise powers of matrices, absolute values)."""
    shape = draw(st.sampled_from([S, N, M, MN, NN, NM]))
    e = draw(shaped(shape))
    if draw(st.booleans()):
        extra = sc.parse(draw(st.sampled_from(EXTRA_LEAVES[shape])), shapes=_PROPERTY_SHAPES)
        e = draw(st.sampled_from([e + extra, e * extra, extra - e]))
    return e


_PROPERTY_SHAPES = {"A": ("m", "n"), "B": ("n", "n"), "t": ("n",), "u": ("n",), "b": ("m",),
                    "s": ()}


@settings(max_examples=3 * settings.default.max_examples)  # 180 in CI
@given(printed())
def test_round_trip_of_printed_shaped_formulas(e):
    expected = sc.parse(str(e), shapes=_PROPERTY_SHAPES)  # a formula of scalars is an Expr
    assert sc.parse(sc.latex(e), latex=True, shapes=_PROPERTY_SHAPES) is expected, sc.latex(e)


@pytest.mark.parametrize("latex, text, name", LOSSES)
def test_printed_gradients_read_back(latex, text, name):
    g = sc.grad(L(latex), name)
    assert L(sc.latex(g)) is g, sc.latex(g)


# --- refusals with a caret -----------------------------------------------------------------------
DECLARE = 'declare them with shapes=, e.g. shapes={"A": "m,n", "t": "n"}'
ERRORS = [
    (r"\mathbf{z}^\top x", f"\\mathbf{{z}}: z is not declared as a vector or matrix; {DECLARE}", 1),
    (r"x + \boldsymbol{\mu}",
     f"\\boldsymbol{{\\mu}}: mu is not declared as a vector or matrix; {DECLARE}", 5),
    (r"\mathbf{xy}", "\\mathbf{xy} has two readings: a name xy (not declared) or \\mathbf{x} "
                     "\\mathbf{y}; write \\mathbf{x} \\mathbf{y}, or declare xy", 1),
    (r"x^\top x + B^2", "a power of a matrix has two readings: the matrix power (the product B B "
                        "...) or the entrywise power (B^2 in symcalc's language); write the "
                        "factors side by side, or A^{\\circ 2} for the entrywise power", 13),
    (r"1 + \|B\|", "\\|...\\| of a matrix has two readings: the Frobenius norm \\|A\\|_F or the "
                   "spectral norm \\|A\\|_2; write \\|A\\|_F for the Frobenius norm", 5),
    (r"\|B\|_2", "\\|A\\|_2 is not available: \\|A\\|_F is the Frobenius norm", 1),
    (r"\|x\|_1", "\\|x\\|_1 is not available: \\|x\\| and \\|x\\|_2 are the 2-norm", 1),
    (r"|x|", "|...| of x (a vector of size n) has two readings: the norm \\|...\\| or the "
             "entrywise absolute value \\operatorname{abs}(...); write one of them", 1),
    (r"B \cdot C", "\\cdot between B (an n x n matrix) and C (an n x n matrix) has two readings: "
                   "the matrix product B@C or the entrywise product B*C; write the factors side "
                   "by side (A B) or with \\odot", 3),
    (r"x \times y", "\\times of two vectors would be the cross product, which symcalc does not "
                    "have: write x^\\top y for the dot product or x \\odot y for the entrywise "
                    "product", 3),
    (r"x y", "two column vectors side by side (x (a vector of size n) and y (a vector of size "
             "n)): write x^\\top y for the dot product, x y^\\top for the outer product, or x "
             "\\odot y for the entrywise product", 3),
    (r"x B", "a column vector before a matrix (x (a vector of size n)): write its transpose, "
             "x^\\top A", 3),
    (r"B x^\top", "a matrix before a row vector (x (a vector of size n) written with a "
                  "transpose): write the vector without it, A x", 3),
    (r"\mathbf{1} + x", "\\mathbf{1} needs its size here: \\mathbf{1}_{n} or \\mathbf{1}_{m "
                        "\\times n} (\\mathbf{1}^\\top x is the sum of x)", 1),
    (r"\top", "\\top marks a transpose: write it as an exponent, x^\\top", 1),
    (r"\mathbf{x}'\mathbf{y}", "a prime: write x^\\top for the transpose (derivatives of "
                               "abstract functions are read without shapes=)", 11),
    (r"W^{(1)} x", "a superscript in parentheses on W (an m x n matrix): papers write a layer's "
                   "index so (W^{(1)}); write it as a subscript, W_1, declared in shapes=", 2),
    (r"\mathbf{x}_{i}", "\\mathbf{x} with an index: x_i is not declared, and the entries of x "
                        "are not read one by one; write the formula with x whole, or declare "
                        "x_i", 1),
    (r"\sin a b + x", "a function without parentheses before another factor has two readings: "
                      "sin(a)*b or sin(a*b); write the parentheses", 1),
    (r"a/pq \, x", "'/' before factors side by side has two readings: a*q*x/p or a/(p*q*x); "
                   "write \\frac{...}{...} or parentheses", 2),
    (r"\sum_{i=1}^{3} x", "\\sum over an index adds scalar terms: for the entries of a vector "
                          "write \\mathbf{1}^\\top x or \\operatorname{sum}(x)", 1),
    (r"\|x\| + \foo", "unknown command \\foo", 9),
]


@pytest.mark.parametrize("latex, message, column", ERRORS)
def test_errors_show_a_caret_under_the_fault(latex, message, column):
    with pytest.raises(ParseError) as info:
        L(latex)
    error = info.value
    assert (error.reason, error.line, error.column) == (message, 1, column)
    lines = str(error).split("\n")
    assert lines[1] == "  " + latex and lines[2] == "  " + " " * (column - 1) + "^"


@pytest.mark.parametrize("latex, column", [(r"A b", 3), (r"x + b", 3), (r"\det A", 1),
                                           (r"\operatorname{tr}(x)", 1), (r"A^{-1}", 2)])
def test_shape_mismatches_are_shape_errors_with_a_caret(latex, column):
    with pytest.raises(ShapeError) as info:
        L(latex)
    assert info.value.column == column and "^" in str(info.value)


def test_transpose_by_a_declared_T_is_refused():
    with pytest.raises(ParseError, match="has two readings: the transpose or the power by T"):
        L(r"B^T", {**SHAPES, "T": ()})
    assert L(r"a^T") is sc.parse("a^T")  # a scalar's power


def test_without_shapes_the_matrix_commands_say_how_to_declare():
    for text in (r"\mathbf{x}", r"\|x\|", r"x \odot y", r"\det X"):
        with pytest.raises(ParseError, match="needs vectors and matrices: declare them with"):
            sc.parse(text, latex=True)


# --- the command line ----------------------------------------------------------------------------
def test_latex_with_shapes_on_the_command_line(capsys):
    status = main(["grad", "--latex", r"\frac{1}{2}\|A\mathbf{t} - \mathbf{b}\|^2", "t",
                   "--shape", "A=m,n", "--shape", "t=n", "--shape", "b=m"])
    out, err = capsys.readouterr()
    assert (status, out.strip(), err) == (0, str(P("A.T@(A@t - b)")), "")


def test_command_line_errors_name_the_option(capsys):
    status = main(["grad", "--latex", r"\mathbf{x}^\top \mathbf{z}", "x", "--shape", "x=n"])
    _, err = capsys.readouterr()
    assert status != 0 and "declare them with --shape" in err and "\\mathbf{z}" in err


# --- random token soup: a node or a SymcalcError, never another exception ------------------------
PIECES = [r"\mathbf{x}", r"\mathbf{1}", r"\boldsymbol{\theta}", "A", "B", "x", "b", "a", "2",
          r"^\top", "^T", "^{-1}", r"^{\circ 2}", "^2", r"\|", r"\|_F", "_2", r"\left\|",
          r"\right\|", r"\lVert", r"\rVert", "|", r"\odot", r"\cdot", r"\times", "/", "+", "-",
          "(", ")", "{", "}", r"\frac", r"\sqrt", r"\sigma", r"\log", r"\det",
          r"\operatorname{tr}", r"\exp", r"\sum_{i=1}^{2}", "I_{n}", r"\mathbf{1}_{n}", " ", "e"]


@settings(max_examples=2 * settings.default.max_examples)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=10).map("".join))
def test_any_input_gives_a_node_or_a_symcalc_error(text):
    shapes = {"A": ("n", "n"), "B": ("m", "n"), "x": ("n",), "b": ("m",), "theta": ("n",)}
    try:
        e = sc.parse(text, latex=True, shapes=shapes)
    except sc.SymcalcError:
        return
    assert sc.parse(sc.latex(e), latex=True, shapes=shapes) is e


def test_the_readme_shows_what_latex_with_shapes_gives():
    from pathlib import Path
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    f = sc.parse(r"\frac{1}{2}\|A\mathbf{t} - \mathbf{b}\|^2", latex=True,
                 shapes={"A": "m,n", "t": "n", "b": "m"})
    shown = [repr((f, sc.grad(f, "t"))),
             repr(L(r"\mathbf{c}^\top \log \sigma(W \mathbf{x}) + \frac{\lambda}{2}\|W\|_F^2",
                    {"W": "m,n", "x": "n", "c": "m"})),
             repr(L(r"\log\det X - \operatorname{tr}(S X) + \mathbf{x}^\top X^{-1} \mathbf{x}",
                    {"X": "n,n", "S": "n,n", "x": "n"})),
             str(sc.grad(sc.parse("x@A@x - b@x", shapes={"A": "n,n", "x": "n", "b": "n"}), "x"))]
    for text in shown:
        assert text in readme, text


def test_hessian_and_jacobian_of_latex_on_the_command_line(capsys):
    shapes = ["--shape", "W=m,n", "--shape", "x=n", "--shape", "c=m"]
    assert main(["jacobian", "--latex", r"\sigma(W \mathbf{x} + \mathbf{c})", "x", *shapes]) == 0
    expected = sc.jacobian(P("sigmoid(W@x + c)"), "x", shapes=SHAPES)
    assert capsys.readouterr().out.strip() == str(expected)
    assert main(["hessian", "--latex", r"\mathbf{x}^\top B \mathbf{x}", "x", "--shape", "B=n,n",
                 "--shape", "x=n"]) == 0
    assert capsys.readouterr().out.strip() == str(sc.hessian(P("x@B@x"), "x"))
