"""Step-by-step Jacobians and Hessians of shaped formulas: ``sc.explain`` of a vector-valued
formula by a vector (a forward sweep), and the Hessian route (``explain_successive``,
``explain_hessian``, ``symcalc hessian --shape ... --steps``): the gradient by backpropagation,
then the Jacobian of the gradient.

Every step's Jacobian is checked at small sizes and random arrays against the scalar engine's
derivatives of the node written out entry by entry, against SymPy's derivatives of the same
entries, and against central differences (``matrix_oracle.check``); the last result is
``sc.jacobian``'s (``sc.hessian``'s) node, and so is the formula on the last line of the text.
"""

import json
import re

import pytest
from hypothesis import assume, given, settings, strategies as st

import symcalc as sc
from matrix_oracle import check
from symcalc.matrix.nodes import postorder
from symcalc.matrix.substitute import substitute
from symcalc.steps.derivation import ForwardSweep, explain_hessian, explain_successive
from symcalc.steps.backprop import Backprop
from test_matrix_properties import EXAMPLES, SYM, N, NN, S, shaped

NETWORK = {"W": ("m", "n"), "x": ("n",)}
CASES = [  # (formula, variable, shapes, names given symmetric positive-definite values)
    ("sigmoid(W@x)", "x", NETWORK, ()),
    ("softmax(B@x) - x", "x", {"B": ("n", "n"), "x": ("n",)}, ()),
    ("(x@x)*(A@x)", "x", {"A": ("m", "n"), "x": ("n",)}, ()),
    ("norm(x)*x", "x", {"x": ("n",)}, ()),
    ("exp(x)/sum(exp(x))", "x", {"x": ("n",)}, ()),
    ("A@tanh(B@x)", "x", {"A": ("m", "n"), "B": ("n", "n"), "x": ("n",)}, ()),
    ("diag(x)@B.T@x", "x", {"B": ("n", "n"), "x": ("n",)}, ()),
    ("inv(S + outer(x, x))@y", "x", {"S": ("n", "n"), "x": ("n",), "y": ("n",)}, ("S",)),
    ("(B*outer(x, y))@y + 2*x^3", "x", {"B": ("n", "n"), "x": ("n",), "y": ("n",)}, ()),
]
HESSIANS = [
    ("sum(sigmoid(W@x))", "x", NETWORK, ()),
    ("0.5*norm(A@x - b)^2", "x", {"A": ("m", "n"), "x": ("n",), "b": ("m",)}, ()),
    ("sum(softplus(X@w)) - y@X@w", "w", {"X": ("m", "n"), "w": ("n",), "y": ("m",)}, ()),
    ("logsumexp(W@x) + x@S@x", "x", {"W": ("m", "n"), "x": ("n",), "S": ("n", "n")}, ()),
    ("logdet(S + outer(x, x))", "x", {"S": ("n", "n"), "x": ("n",)}, ("S",)),
]
SMALL = {"m": 3, "n": 2}


def variable(f, name):
    return {s.data: s for s in f.free_symbols}[name]


def check_sweep(d, spd=(), with_sympy=True, seed=0):
    """Every step's Jacobian and the result, each against the unrolled scalar engine, SymPy and
    central differences; the shapes and the text's last line."""
    assert isinstance(d, ForwardSweep)
    x = d.var
    for step in d.steps:
        assert step.result.shape == step.expr.shape + x.shape
        check(step.expr, x, step.result, SMALL, seed=seed, spd=spd, with_sympy=with_sympy)
    if x in d.expr.free_symbols:
        check(d.expr, x, d.result, SMALL, seed=seed, spd=spd, with_sympy=with_sympy)
    else:  # a constant (the gradient of sum(x) is ones(n)): no steps, a zero Jacobian
        assert not d.steps and d.result.kind == "zeros"
    assert d.result is sc.jacobian(d.expr, x)
    last = str(d).splitlines()[-1]
    shapes = {s.data: s.shape for s in d.expr.free_symbols | {x}}
    assert sc.parse(last.split(" = ", 1)[1], shapes=shapes) is d.result


@pytest.mark.parametrize("text, name, shapes, spd", CASES, ids=[c[0] for c in CASES])
def test_jacobian_steps(text, name, shapes, spd):
    d = sc.explain(text, name, shapes=shapes)
    assert d.result is sc.jacobian(text, name, shapes=shapes)
    check_sweep(d, spd)


def test_network_layer_text():
    d = sc.explain(sc.parse("sigmoid(W@x)", shapes=NETWORK), "x")
    lines = str(d).splitlines()
    result = str(sc.jacobian("sigmoid(W@x)", "x", shapes=NETWORK))
    assert lines[0] == f"J_x sigmoid(W@x) = {result}"
    assert lines[1:4] == ["forward pass:", "  v1 = W@x           m", "  v2 = sigmoid(v1)   m"]
    assert lines[4] == "tangent pass, from J(x) = eye(n):"
    assert lines[5] == "1. matrix product: J(v1) = W@J(x)"
    assert lines[6].strip() == "= W   (m x n)"
    assert lines[7] == "2. entrywise sigmoid: J(v2) = diag(v2*(1 - v2))@J(v1)"
    assert lines[8].strip() == f"= {result}   (m x n)"
    assert lines[9] == f"J(v2) = {result}"
    assert [s.rule for s in d.steps] == ["matrix product", "entrywise sigmoid"]


def test_notes_name_only_nodes_computed_by_then():
    # d/dv1 sigmoid(v1) is sigmoid(v1)*(1 - sigmoid(v1)), which a later node of the gradient
    # equals: the note must not name that later node
    f = sc.parse("sum(sigmoid(W@x))", shapes=NETWORK)
    d = sc.explain(sc.grad(f, "x"), "x")
    order = [name for name, _ in d.forward]
    assert any(step.expr.kind == "apply" for step in d.steps)
    for step in d.steps:
        mine = order.index(step.note.split(")")[0][2:])  # "J(v2) = ..." -> v2
        later = {f"v{i}" for i in range(mine + 2, len(order) + 1)}
        assert not set(re.findall(r"\bv\d+\b", step.note)) & later, step.note


def test_matrix_valued_nodes_are_differentiated_where_used():
    text, name, shapes, spd = CASES[7]
    d = sc.explain(text, name, shapes=shapes)
    matrices = [n for _, n in d.forward if n.ndim == 2]
    assert matrices and not any(s.expr in matrices for s in d.steps)
    assert len(d.steps) == 1 and "v3@x" in d.steps[0].note


def test_forms_latex_and_json():
    d = sc.explain("A@tanh(B@x)", "x", shapes=CASES[5][2])
    latex = d.latex()
    assert latex.startswith("\\begin{align*}") and latex.endswith("\\end{align*}")
    assert d._repr_latex_() == latex and "J_{v_{1}} &= B J_{x}" in latex
    data = json.loads(json.dumps(d.to_dict()))
    shapes = CASES[5][2]
    assert data["mode"] == "forward" and sc.parse(data["result"], shapes=shapes) is d.result
    assert [s["rule"] for s in data["steps"]] == [s.rule for s in d.steps]
    for entry, step in zip(data["steps"], d.steps):
        assert sc.parse(entry["jacobian"], shapes=shapes) is step.result
        assert entry["shape"] == list(step.result.shape)
    assert "ForwardSweep(J_x" in repr(d)


def test_several_variables():
    shapes = {"A": ("m", "n"), "x": ("n",), "y": ("n",)}
    both = sc.explain("A@(x*y)", ["x", "y"], shapes=shapes)
    assert both.result == sc.jacobian("A@(x*y)", ["x", "y"], shapes=shapes)
    for d in both:
        check_sweep(d)


TANGENTS = [  # shaped formulas by a scalar parameter s
    ("s*sigmoid(W@x)", {"W": ("m", "n"), "x": ("n",), "s": ()}, ()),
    ("inv(S + s*outer(x, x))@x", {"S": ("n", "n"), "x": ("n",), "s": ()}, ("S",)),
    ("exp(s*A)@x + s^2*y", {"A": ("m", "n"), "x": ("n",), "y": ("m",), "s": ()}, ()),
    ("softmax(s*x)*logsumexp(s*x)", {"x": ("n",), "s": ()}, ()),
    ("outer(x, tanh(s*x)) + det(S)*s*eye(n)", {"S": ("n", "n"), "x": ("n",), "s": ()}, ("S",)),
]


def check_tangents(d, spd=()):
    """Tangent mode: every step's derivative (shaped like its node, matrices included) and the
    result against the unrolled scalar engine, SymPy and central differences."""
    s = d.var
    assert isinstance(d, ForwardSweep) and not s.shape
    assert [step.expr for step in d.steps] == [node for _, node in d.forward]
    for step in d.steps:
        assert step.result.shape == step.expr.shape and step.note.startswith("d(v")
        check(step.expr, s, step.result, SMALL, spd=spd, with_sympy=True)
    check(d.expr, s, d.result, SMALL, spd=spd, with_sympy=True)


@pytest.mark.parametrize("text, shapes, spd", TANGENTS, ids=[c[0] for c in TANGENTS])
def test_derivative_by_a_scalar_steps(text, shapes, spd):
    d = sc.explain(text, "s", shapes=shapes)
    assert d.result is sc.diff(text, "s", shapes=shapes)
    check_tangents(d, spd)
    lines = str(d).splitlines()
    assert lines[0] == f"d/ds {d.expr} = {d.result}"
    assert "tangent pass, from d(s) = 1:" in lines
    assert sc.parse(lines[-1].split(" = ", 1)[1], shapes=shapes) is d.result
    twice = explain_successive(text, [("s", 2)], shapes=shapes)
    assert twice.result[-1] is sc.diff(text, "s", 2, shapes=shapes)
    check_tangents(twice[1], spd)


def test_what_has_no_steps_says_so():
    with pytest.raises(sc.NoMatrixFormError, match="3-index tensor"):
        sc.explain("outer(x, x)", "x", shapes={"x": ("n",)})
    with pytest.raises(sc.NoMatrixFormError, match="3-index tensor"):
        sc.explain("x", "W", shapes={"x": ("n",), "W": ("m", "n")})
    with pytest.raises(sc.ShapeError, match="hessian needs a scalar formula"):
        explain_hessian("x", "x", shapes={"x": ("n",)})
    with pytest.raises(sc.NoMatrixFormError):  # as sc.hessian: a Hessian in a matrix
        explain_successive("sum(W)^2", [("W", 2)], shapes={"W": ("m", "n")})


@pytest.mark.parametrize("text, name, shapes, spd", HESSIANS, ids=[c[0] for c in HESSIANS])
def test_hessian_steps(text, name, shapes, spd):
    f = sc.parse(text, shapes=shapes)
    x = variable(f, name)
    made = explain_successive(f, [(name, 2)])
    assert [type(d) for d in made] == [Backprop, ForwardSweep]
    gradient, second = made
    assert gradient.result is sc.grad(f, x) and second.expr is gradient.result
    assert second.result is sc.hessian(f, x)
    assert made.result[-1] is sc.hessian(text, name, shapes=shapes)
    check(f, x, gradient.result, SMALL, spd=spd, with_sympy=True)
    check_sweep(second, spd)
    # the same route by explain_hessian, the text ending with the Hessian
    again = explain_hessian(text, name, shapes=shapes)
    assert [d.result for d in again] == [d.result for d in made]
    assert str(again).splitlines()[-1] == f"J({second.forward[-1][0]}) = {sc.hessian(f, x)}"


def test_hessian_blocks_of_two_vectors():
    shapes = {"x": ("n",), "y": ("n",), "B": ("n", "n")}
    text = "sum(tanh(B@x)*y) + x@y"
    blocks = sc.hessian(text, ["x", "y"], shapes=shapes)
    made = explain_hessian(text, ["x", "y"], shapes=shapes)
    assert [type(d) for d in made] == [Backprop, ForwardSweep, ForwardSweep] * 2
    assert [made[1].result, made[2].result, made[4].result, made[5].result] == \
        [blocks[0][0], blocks[0][1], blocks[1][0], blocks[1][1]]
    for d in (made[1], made[2], made[4], made[5]):
        check_sweep(d)


@settings(max_examples=EXAMPLES // 2 + 5)
@given(shaped(N, depth=2), st.integers(0, 99))
def test_random_jacobian_steps(g, seed):
    x = SYM["t"]
    assume(x in g.free_symbols)  # the oracle learns the sizes from the formula's own symbols
    try:
        expected = sc.jacobian(g, x)
    except sc.NoMatrixFormError:
        with pytest.raises(sc.NoMatrixFormError):
            sc.explain(g, x)
        return
    d = sc.explain(g, x)
    assert d.result is expected
    check_sweep(d, seed=seed, with_sympy=cheap_for_sympy(g))


@settings(max_examples=EXAMPLES // 2 + 5)
@given(shaped(S, depth=2), st.sampled_from(["t", "u"]), st.integers(0, 99))
def test_random_hessian_steps(f, name, seed):
    x = SYM[name]
    assume(x in f.free_symbols)
    try:
        expected = sc.hessian(f, x)
    except sc.NoMatrixFormError:
        with pytest.raises(sc.NoMatrixFormError):
            explain_successive(f, [(x, 2)])
        return
    made = explain_successive(f, [(x, 2)])
    assert made.result[-1] is expected and made[0].result is sc.grad(f, x)
    check_sweep(made[1], seed=seed, with_sympy=cheap_for_sympy(f))


@settings(max_examples=EXAMPLES // 2 + 5)
@given(st.sampled_from([N, NN]).flatmap(lambda shape: shaped(shape, depth=2)))
def test_random_derivative_by_a_scalar_steps(h):
    s, t = SYM["s"], SYM["t"]
    assume(t in h.free_symbols)
    g = substitute(h, {t: s * t})  # s reaches every operation that t does
    d = sc.explain(g, s)
    assert d.result is sc.diff(g, s)
    assert [step.expr for step in d.steps] == [node for _, node in d.forward]
    for step in d.steps:
        check(step.expr, s, step.result, SMALL, with_sympy=cheap_for_sympy(step.expr))


def cheap_for_sympy(f):
    """SymPy's derivatives of a determinant or inverse written out entry by entry take seconds:
    random formulas with them are checked against the scalar engine's derivatives of the same
    entries and against central differences only (the named cases above use SymPy too)."""
    return not any(n.kind in ("det", "logdet", "inv") for n in postorder([f]))


def test_command_line_jacobian_and_hessian_steps(capsys):
    from symcalc.cli.main import main

    options = ["--shape", "W=m,n", "--shape", "x=n", "--steps"]
    assert main(["jacobian", "sigmoid(W@x)", "x", *options]) == 0
    out = capsys.readouterr().out.splitlines()
    expected = sc.explain("sigmoid(W@x)", "x", shapes=NETWORK)
    assert out[:len(str(expected).splitlines())] == str(expected).splitlines()
    assert out[-1] == str(sc.jacobian("sigmoid(W@x)", "x", shapes=NETWORK))
    assert main(["hessian", "sum(sigmoid(W@x))", "x", *options, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    made = explain_hessian("sum(sigmoid(W@x))", "x", shapes=NETWORK)
    assert data["steps"] == [json.loads(json.dumps(d.to_dict())) for d in made]
    hessian = sc.hessian("sum(sigmoid(W@x))", "x", shapes=NETWORK)
    assert data["result"] == [str(hessian)]
    assert main(["hessian", "sum(sigmoid(W@x))", "x", *options]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == str(hessian) and out[-3] == f"J(v6) = {hessian}"


def test_command_line_hessians_of_two_vectors(capsys):
    from symcalc.cli.main import main

    shapes = {"x": ("n",), "y": ("n",), "B": ("n", "n")}
    text = "sum(tanh(B@x)*y) + x@y"
    argv = ["hessian", text, "x", "y", "--shape", "x=n", "--shape", "y=n", "--shape", "B=n,n",
            "--steps", "--format", "json"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    results = [sc.parse(s["result"], shapes=shapes) for s in data["steps"]]
    assert data["result"] == [str(sc.hessian(text, v, shapes=shapes)) for v in "xy"]
    assert results == [sc.grad(text, "x", shapes=shapes), sc.hessian(text, "x", shapes=shapes),
                       sc.grad(text, "y", shapes=shapes), sc.hessian(text, "y", shapes=shapes)]


def test_command_line_diff_by_a_scalar_steps(capsys):
    from symcalc.cli.main import main

    text, shapes = "s^2*sigmoid(s*W@x)", {"W": ("m", "n"), "x": ("n",), "s": ()}
    argv = ["diff", text, "s", "--order", "2", "--shape", "W=m,n", "--shape", "x=n",
            "--shape", "s=", "--steps"]
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    second = sc.diff(text, "s", 2, shapes=shapes)
    assert out[-1] == str(second) and out[-3].endswith(f" = {second}")
    assert main(argv + ["--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    made = explain_successive(text, [("s", 2)], shapes=shapes)
    assert data["steps"] == [json.loads(json.dumps(d.to_dict())) for d in made]
    assert sc.parse(data["steps"][-1]["result"], shapes=shapes) is second


def test_command_line_scalar_steps(capsys):
    from symcalc.cli.main import main

    assert main(["hessian", "x^3*y", "x", "y", "--steps", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    hessian = sc.hessian("x^3*y", "x y")
    assert [s["result"] for s in data["steps"]] == [
        str(sc.diff("x^3*y", "x")), str(hessian[0][0]), str(hessian[0][1]),
        str(sc.diff("x^3*y", "y")), str(hessian[1][0]), str(hessian[1][1])]
    assert main(["jacobian", "x*y, sin(x)", "x", "y", "--steps", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    jacobian = sc.jacobian(["x*y", "sin(x)"], ["x", "y"])
    assert [s["result"] for s in data["steps"]] == [str(e) for row in jacobian for e in row]


def test_every_operation_of_a_random_formula_is_a_step():
    # the forward pass lists every node that depends on the variable, the steps every such
    # node that is not a matrix, in evaluation order
    f = sc.parse("softmax(B@x)*sum(x^2) + B.T@log(1 + exp(x))",
                 shapes={"B": ("n", "n"), "x": ("n",)})
    d = sc.explain(f, "x")
    x = variable(f, "x")
    nodes = [n for n in postorder([f]) if n.args and x in n.free_symbols]
    assert [n for _, n in d.forward] == nodes
    assert [s.expr for s in d.steps] == [n for n in nodes if n.ndim < 2]
    check_sweep(d)
