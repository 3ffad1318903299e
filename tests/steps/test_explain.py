"""Step-by-step derivations (``sc.explain``): every step of a trace checks on its own.

Each step says ``d/dx expr = result``; the property test walks every step of traces of random
formulas and compares each ``result`` with central differences of its ``expr`` (at 50 digits,
``tests/oracle.py``), and each trace's result with ``sc.diff``.  The textbook cases pin the rule
names and check their results against SymPy and central differences as well.
"""

import json

import mpmath
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symcalc as sc
from oracle import DIGITS, FD_RTOL, _central_difference, check_derivative, value
from strategies import Formula, formulas, points
from symcalc.core.expr import postorder


def rules(d):
    return [s.rule for s in d.walk()]


KINKS = ("abs", "relu", "sign", "heaviside")


def near_kink(e: sc.Expr, at, margin=mpmath.mpf("1e-4")) -> bool:
    """An argument of abs, relu, sign or heaviside in ``e`` is (nearly) 0 at the point."""
    for node in postorder([e]):
        if isinstance(node, sc.Call) and node.fn.name in KINKS:
            v = value(node.args[0], at)
            if v is None or abs(v) < margin:
                return True
    return False


def check_step_numerically(step, var, point) -> bool:
    """The step's result equals the central difference of its expr at the point; False when
    there is nothing to compare (the expr is undefined near the point, or has a kink there)."""
    at = {name: mpmath.mpf(v) for name, v in point.items()}
    if near_kink(step.expr, at):
        return False
    want = _central_difference(step.expr, ((var, 1),), at)
    if want is None:
        return False
    have = value(step.result, at)
    assert have is not None, f"{step.rule}: d/d{var} {step.expr} = {step.result} undefined at {point}"
    with mpmath.workdps(DIGITS):
        assert abs(have - want) <= FD_RTOL * (1 + abs(want)), (
            f"{step.rule}: d/d{var} {step.expr} = {step.result} at {point}: {have} vs {want}")
    if step.is_simplification:
        before = value(step.before, at)
        assert before is not None and abs(before - have) <= FD_RTOL * (1 + abs(have)), step.rule
    return True


# --- the property ----------------------------------------------------------------------------------
@given(formulas().filter(lambda f: bool(f.expr.free_symbols)), st.data(), points(2))
def test_every_step_of_a_random_trace_is_a_true_derivative(f: Formula, data, pts):
    x = data.draw(st.sampled_from(sorted(f.expr.free_symbols, key=lambda s: s.name)))
    d = sc.explain(f.expr, x)
    assert d.result is sc.diff(f.expr, x)
    assert d.steps[0].expr is f.expr and d.steps[-1].result is d.result
    for step in d.walk():
        assert step.expr is f.expr or not step.is_simplification
        for p in pts:
            check_step_numerically(step, x, p)
    # the printed forms are complete and the formulas in them read back
    text = str(d)
    assert len(text.splitlines()) == 1 + len(list(_numbered(d)))
    data = json.loads(json.dumps(d.to_dict()))
    assert sc.parse(data["result"]) is d.result
    assert d.latex().startswith("\\begin{align*}")


def _numbered(d):
    from symcalc.steps.render import lines
    return lines(d.steps)


# --- textbook cases --------------------------------------------------------------------------------
def checked(formula: str, var: str = "x", domain=None):
    """The derivation, with every distinct step checked against SymPy and central differences."""
    d = sc.explain(formula, var)
    assert d.result is sc.diff(formula, var)
    x = sc.Symbol(var)
    for step in d.walk():
        check_derivative(step.expr, (x,), step.result, domain)
    return d


def test_product_rule():
    d = checked("x^2*sin(x)")
    top = d.steps[0]
    assert top.rule == "product"
    assert [s.rule for s in top.substeps] == ["power", "derivative of sin"]
    assert [s.expr for s in top.substeps] == [sc.parse("x^2"), sc.parse("sin(x)")]


def test_quotient_rule_names_numerator_and_denominator():
    d = checked("sin(x)/(x^2 + 1)")
    top = d.steps[0]
    assert top.rule == "quotient"
    assert top.note == "u = sin(x), v = 1 + x^2"
    assert [s.expr for s in top.substeps] == [sc.parse("sin(x)"), sc.parse("x^2 + 1")]


def test_chain_rule_names_the_inner_function():
    d = checked("sin(x^2 + 1)")
    top = d.steps[0]
    assert top.rule == "chain"
    assert top.note.startswith("u = 1 + x^2; derivative of sin: d/du sin(u) = cos(u)")
    assert top.substeps[0].expr is sc.parse("x^2 + 1")


def test_chain_placeholder_avoids_the_formula_variables():
    d = checked("exp(u*x)", "x")
    assert d.steps[0].note.startswith("v = u*x;")


def test_power_rule_with_a_symbolic_exponent():
    d = checked("x^n", "x", domain={"x": (0.1, 2.0)})
    assert d.steps[0].rule == "power"
    assert d.steps[0].result is sc.parse("n*x^(n - 1)")


def test_power_of_a_sum_is_a_chain_with_the_power_rule_outside():
    d = checked("(x^2 + 1)^3")
    assert d.steps[0].rule == "chain"
    assert "power: d/du u^3 = 3*u^2" in d.steps[0].note


def test_exponential_and_general_power():
    assert checked("2^x").steps[0].rule == "exponential"
    d = checked("x^x", domain={"x": (0.1, 2.0)})
    assert d.steps[0].rule == "general power"
    assert [s.rule for s in d.steps[0].substeps] == ["variable", "variable"]


def test_sigmoid_rule_comes_from_the_registry():
    d = checked("sigmoid(x)")
    assert rules(d) == ["derivative of sigmoid"]
    assert d.steps[0].result is sc.REGISTRY["sigmoid"].partials(sc.Symbol("x"))[0]
    inner = checked("sigmoid(w*x + b)", "w").steps[0]
    assert inner.rule == "chain"
    assert inner.note == ("u = b + w*x; derivative of sigmoid: "
                          "d/du sigmoid(u) = sigmoid(u)*(1 - sigmoid(u))")


def test_logsumexp_partial_and_chain():
    d = checked("logsumexp(a, b)", "a")
    assert rules(d) == ["derivative of logsumexp"]
    d = checked("logsumexp(2*x, x^2, y)", "x")
    top = d.steps[0]
    assert top.rule == "chain"
    assert top.note.startswith("u1 = 2*x, u2 = x^2; derivative of logsumexp: d/du1 logsumexp(u1, u2, y)")
    assert [s.rule for s in top.substeps] == ["constant multiple", "power"]


@pytest.mark.parametrize("name", sorted(sc.REGISTRY))
def test_every_registry_function_has_its_own_rule(name):
    fn = sc.REGISTRY[name]
    x = sc.Symbol("x")
    count = fn.min_args if fn.max_args is not None else max(2, fn.min_args)
    e = fn(*([x] + [sc.Symbol("y")] * (count - 1)))
    d = sc.explain(e, x)
    if not isinstance(e, sc.Call):  # sqrt(x) is built as x^(1/2)
        assert isinstance(e, sc.Pow) and d.steps[0].rule == "power"
        return
    assert d.steps[0].rule == f"derivative of {name}"
    assert d.steps[0].result is e.partials()[0]


def test_sum_constant_multiple_variable_and_constant():
    d = checked("3*x + 5")
    assert rules(d) == ["sum", "constant multiple", "variable", "constant"]


def test_repeated_subexpression_is_explained_once():
    d = checked("sigmoid(2*x)*(1 - sigmoid(2*x))")
    text = str(d)
    chain_lines = [line for line in text.splitlines() if "chain: d/dx sigmoid(2*x)" in line]
    assert len(chain_lines) == 2
    assert "(see step" not in chain_lines[0] and "(see step 2)" in chain_lines[1]
    assert sum(1 for s in d.walk() if s.rule == "chain") == 1
    entries, stack = [], list(d.to_dict()["steps"])
    while stack:
        entry = stack.pop()
        entries.append(entry)
        stack.extend(entry.get("substeps", []))
    refs = [e for e in entries if "see" in e]
    assert len(refs) == 1 and refs[0]["see"] == 2 and "substeps" not in refs[0]


# --- simplification steps --------------------------------------------------------------------------
def simplifications(d):
    return [s for s in d.steps if s.is_simplification]


def test_simplification_steps_are_named_and_end_at_diff():
    d = checked("x*sin(x)^2 + x*cos(x)^2")
    names = [s.rule for s in simplifications(d)]
    assert "Pythagorean identity" in names and "cancel" in names[0]
    assert simplifications(d)[-1].result is sc.diff("x*sin(x)^2 + x*cos(x)^2", "x")
    note = next(s.note for s in simplifications(d) if s.rule == "Pythagorean identity")
    assert note == "sin(x)^2 + cos(x)^2 = 1"
    for before, after in zip(d.steps, d.steps[1:]):
        assert after.before is before.result  # each rewrites the form the previous one left


def test_hyperbolic_and_inverse_function_identities():
    d = checked("x*cosh(x)^2 - x*sinh(x)^2")
    assert "hyperbolic identity" in [s.rule for s in simplifications(d)]
    d = checked("x*log(exp(x))")
    assert "inverse functions" in [s.rule for s in simplifications(d)]
    assert next(s.note for s in simplifications(d) if s.rule == "inverse functions") == "log(exp(x)) = x"


def test_common_factor_and_collect_like_terms():
    d = checked("sin(x^2) + cos(x^2)^2")
    assert [s.rule for s in simplifications(d)][-1] == "common factor"
    d = checked("x*exp(x) - exp(x)")
    assert [s.rule for s in simplifications(d)] == ["cancel"]
    d = checked("x*exp(x) + exp(x)")
    assert "collect like terms" in simplifications(d)[0].rule


def test_sign_and_numbers_of_a_sum_and_rearrange_merged_into_the_next_step():
    f = "-(x - mu)^2/(2*s^2) - log(s)"
    d = checked(f, "x")
    assert [s.rule for s in simplifications(d)] == ["arithmetic", "minus sign into a sum"]
    d = checked("exp(x/2 + x^2)")
    assert [s.rule for s in simplifications(d)] == ["numbers out of a sum"]
    d = checked("x^2*sin(x)")
    assert [s.rule for s in simplifications(d)] in (["rearrange"], ["common factor"], [])
    d = checked("sin(x)/x")
    assert simplifications(d)[0].before is d.steps[0].result
    assert simplifications(d)[-1].result is d.result


def test_no_simplification_when_the_rule_gives_the_final_form():
    d = checked("sin(x)")
    assert len(d.steps) == 1 and d.steps[0].result is d.result


# --- partials, gradients and the printed forms ---------------------------------------------------
def test_one_trace_per_component_of_the_gradient():
    f = "x^2*y + sin(x*y)"
    ds = sc.explain(f, ["x", "y"])
    assert isinstance(ds, sc.Derivations) and len(ds) == 2
    assert ds.result == list(sc.grad(f, ["x", "y"]))
    assert [d.var.name for d in ds] == ["x", "y"]
    assert "\\frac{\\partial}{\\partial x}" in ds[0].latex()
    data = ds.to_dict()
    assert data["variables"] == ["x", "y"] and len(data["components"]) == 2
    assert str(ds).count("d/dx (") >= 1 and str(ds).count("d/dy (") >= 1


def test_text_latex_and_dict_forms():
    d = sc.explain("x^2*sin(x)", "x")
    lines = str(d).splitlines()
    assert lines[0] == f"d/dx (x^2*sin(x)) = {d.result}"
    assert lines[1].startswith("1. product: d/dx (x^2*sin(x)) = ")
    assert lines[2].startswith("2.    power: d/dx (x^2) = 2*x")
    tex = d.latex()
    assert tex.splitlines()[0] == "\\begin{align*}" and tex.splitlines()[-1] == "\\end{align*}"
    assert "\\frac{d}{dx}\\left(x^{2} \\sin\\left(x\\right)\\right) &= " in tex
    assert "\\text{1. product}" in tex
    assert d._repr_latex_() == tex
    data = json.loads(json.dumps(d.to_dict()))
    assert data["variable"] == "x" and data["steps"][0]["rule"] == "product"
    for entry in data["steps"][0]["substeps"]:
        assert sc.diff(entry["expr"], "x") is sc.simplify(entry["result"])


def test_bad_variable_is_a_clear_error():
    with pytest.raises(ValueError):
        sc.explain("x^2", "2x")
    with pytest.raises(ValueError):
        sc.explain("x^2", ["x", "x"])


def test_deep_nesting_does_not_recurse():
    e = sc.Symbol("x")
    for _ in range(3000):
        e = sc.sin(e)
    d = sc.explain(e, "x")
    assert d.result is sc.diff(e, "x")
    assert len(list(d.walk())) == 3001


# --- the command line ------------------------------------------------------------------------------
def run_cli(capsys, *argv):
    from symcalc.cli.main import main
    status = main(list(argv))
    out, err = capsys.readouterr()
    assert status == 0, err
    return out


def test_cli_diff_steps_in_every_format(capsys):
    d = sc.explain("x^2*sin(x)", "x")
    text = run_cli(capsys, "diff", "x^2*sin(x)", "x", "--steps")
    assert text.startswith(str(d) + "\n")
    assert text.rstrip().splitlines()[-1] == str(d.result)
    tex = run_cli(capsys, "diff", "x^2*sin(x)", "x", "--steps", "--format", "latex")
    assert tex.startswith(d.latex())
    data = json.loads(run_cli(capsys, "diff", "x^2*sin(x)", "x", "--steps", "--format", "json"))
    assert data["result"] == str(d.result) and data["steps"] == [d.to_dict()]


def test_cli_steps_for_higher_order_and_mixed_partials(capsys):
    data = json.loads(run_cli(capsys, "diff", "x^3*y", "x", "y", "--order", "2", "--steps",
                              "--format", "json"))
    results = [sc.parse(s["result"]) for s in data["steps"]]
    assert [s["variable"] for s in data["steps"]] == ["x", "x", "y", "y"]
    assert results[-1] is sc.diff("x^3*y", "x", 2, "y", 2) is sc.parse(data["result"])
    assert [sc.parse(s["expr"]) for s in data["steps"][1:]] == results[:-1]


def test_cli_grad_steps_in_every_format(capsys):
    f = "0.5*(sigmoid(w*x + b) - y)^2"
    ds = sc.explain(f, ["w", "b"])
    assert run_cli(capsys, "grad", f, "w", "b", "--steps").startswith(str(ds) + "\n")
    assert run_cli(capsys, "grad", f, "w", "b", "--steps", "--format", "latex").startswith(ds.latex())
    data = json.loads(run_cli(capsys, "grad", f, "w", "b", "--steps", "--format", "json"))
    assert data["steps"] == ds.to_dict()["components"]
    assert data["result"] == [str(g) for g in sc.grad(f, ["w", "b"])]


def test_cli_steps_with_order_zero_print_only_the_answer(capsys):
    assert run_cli(capsys, "diff", "x^2", "x", "--order", "0", "--steps") == "x^2\n"
    data = json.loads(run_cli(capsys, "diff", "x^2", "x", "--order", "0", "--steps", "--format", "json"))
    assert data["steps"] == [] and data["result"] == "x^2"
