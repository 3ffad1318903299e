"""Checking typed answers: ``check_answer`` and ``equivalent``.

Every derivative asserted here (``check_answer``'s ``expected``) is checked against SymPy and
central differences (``oracle``), and every point of difference is re-evaluated with the oracle's
own mpmath arithmetic, which shares no code with ``symcalc.checks.equivalence``.
"""

from __future__ import annotations

import json

import mpmath
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import symcalc as sc
from oracle import check_derivative, value
from strategies import exprs
from symcalc.cli import main as cli

x, y = sc.symbols("x y")


def _checked(f, answer, var="x"):
    """check_answer, with symcalc's derivative checked two independent ways."""
    report = sc.check_answer(f, var, answer)
    positive = "log" in f or "sqrt" in f
    check_derivative(f, (var,), report.expected, domain=(0.2, 1.5) if positive else None)
    return report


def _assert_differs_at_point(report):
    """The reported point is one where the oracle finds the two values reported, and they differ."""
    point = {k: mpmath.mpf(v) for k, v in report.point.items()}
    with mpmath.workdps(50):
        want, got = value(report.expected, point), value(report.answer, point)
        assert want is not None and abs(want - report.expected_value) < mpmath.mpf(10) ** -40
        if report.answer_value is None:
            assert got is None
        else:
            assert abs(got - report.answer_value) < mpmath.mpf(10) ** -40
            assert abs(want - got) > mpmath.mpf(10) ** -30


# --- typical mistakes: the verdict and the step named --------------------------------------------
# f, the typed answer, the rule and the expression of the step the answer leaves, the mistake
MISTAKES = [
    ("sin(x^2)", "cos(x^2)", "chain", "sin(x^2)", "inner derivative is missing"),
    ("x^2*sin(x)", "2x sin(x) - x^2 cos(x)", "derivative of sin", "sin(x)", "sign error"),
    ("x^2*sin(x)", "2x*cos(x)", "product", "x^2*sin(x)", "without the product rule"),
    ("x*cos(x)", "cos(x) + x sin(x)", "derivative of cos", "cos(x)", "sign error"),
    ("cos(3x)", "3sin(3x)", "chain", "cos(3*x)", "sign error"),
    ("sin(x)/x", "(sin(x) - x cos(x))/x^2", "quotient", "sin(x)/x", "wrong way round"),
    ("sin(x)/x", "(x cos(x) - sin(x))/x", "quotient", "sin(x)/x", "not squared"),
    ("x^2*sin(x)", "2x sin(x)", "product", "x^2*sin(x)", "a term of the product rule is missing"),
    ("x^3", "3x^3", "power", "x^3", "not lowered"),
    ("x^3", "3x^4", "power", "x^3", "raised instead of lowered"),
    ("x^3", "x^2", "power", "x^3", "factor n"),
    ("exp(2x)", "exp(2x)", "chain", "exp(2*x)", "inner derivative is missing"),
    ("e^(2x)", "e^(2x)", "chain", "exp(2*x)", "inner derivative is missing"),
    ("log(x^2)", "1/x^2", "chain", "log(x^2)", "inner derivative is missing"),
    ("(x^2 + 1)^3", "3(x^2 + 1)^2", "chain", "(x^2 + 1)^3", "inner derivative is missing"),
    ("2^x", "2^x", "exponential", "2^x", "log(a)"),
    ("2^x", "x 2^(x - 1)", "exponential", "2^x", "power rule was used"),
    ("x^2 + 3", "2x + 3", "constant", "3", "derivative of a constant is 0"),
    ("sin(x^2)", "-2x cos(x^2)", "chain", "sin(x^2)", "sign error"),
]


@pytest.mark.parametrize("f, answer, rule, expr, mistake", MISTAKES)
def test_a_typical_mistake_is_wrong_and_its_step_is_named(f, answer, rule, expr, mistake):
    report = _checked(f, answer)
    assert report.correct is False and not report
    _assert_differs_at_point(report)
    assert report.step is not None, report.message
    assert (report.step.rule, report.step.expr) == (rule, sc.parse(expr)), report.message
    assert mistake in report.mistake
    # the step named is the one printed under that number in the derivation
    assert report.derivation.result is report.expected
    assert list(report.derivation.walk())[report.step_number - 1] is report.step
    printed = str(report.derivation).splitlines()[report.step_number]
    assert printed.startswith(f"{report.step_number}.") and f" {rule}: " in printed
    assert f"step {report.step_number} ({rule}" in report.message
    # the named step holds: its result is the derivative of its expression
    check_derivative(report.step.expr, ("x",), report.step.result,
                     domain=(0.2, 1.5) if "log" in f else None)


def test_the_sign_error_is_put_on_the_derivative_of_sin_not_on_the_product_rule():
    # subtracting the product rule's terms gives the same formula; the rule of sin is preferred
    report = _checked("x^2*sin(x)", "2x sin(x) - x^2 cos(x)")
    assert report.step.rule == "derivative of sin" and report.mistaken_result == -sc.cos(x)


@pytest.mark.parametrize("f, answer", [
    ("sin(x)/x", "cos(x)/x^2"),            # no single typical mistake gives this
    ("x^2*sin(x)", "x^2 + sin(x)"),
    ("x^2*y", "2x"),                       # forgot the parameter
])
def test_a_wrong_answer_without_a_typical_mistake_gets_a_point_but_no_step(f, answer):
    report = _checked(f, answer)
    assert report.correct is False and report.step is None
    _assert_differs_at_point(report)
    assert "Not quite" in report.message


# --- right answers written differently -----------------------------------------------------------
@pytest.mark.parametrize("f, answer", [
    ("x^2*sin(x)", "2*x*sin(x) + x^2*cos(x)"),
    ("x^2*sin(x)", "x*(2*sin(x) + x*cos(x))"),
    ("x^2*sin(x)", "2x sin(x) + x^2 cos(x)"),
    ("sigmoid(x)", "sigmoid(x)*(1 - sigmoid(x))"),
    ("sigmoid(x)", "exp(-x)/(1 + exp(-x))^2"),
    ("tanh(x)", "1 - tanh(x)^2"),
    ("tanh(x)", "1/cosh(x)^2"),
    ("log(x^2)", "2/x"),
    ("sqrt(x)", "0.5 x^(-1/2)"),
    ("exp(2x)", "2e^(2x)"),
    ("sin(x)/x", "cos(x)/x - sin(x)/x^2"),
    ("softplus(x)", "sigmoid(x)"),
    ("x^2*y", "2x y"),
])
def test_a_right_answer_written_differently_is_correct(f, answer):
    report = _checked(f, answer)
    assert report.correct is True and report, report.message
    assert report.message.startswith("Correct")


def test_a_gradient_is_checked_component_by_component():
    report = sc.check_answer("x^2*y", ["x", "y"], ["2x y", "x^2"])
    assert report.correct is True
    assert report.expected == list(sc.grad("x^2*y", ["x", "y"]))
    for xi, g in zip([x, y], report.expected):
        check_derivative("x^2*y", (xi,), g)
    wrong = sc.check_answer("x^2*y", "x y", ["2x y", "2x"])
    assert wrong.correct is False and wrong.variable == y
    assert wrong.message.startswith("d/dy: Not quite")
    with pytest.raises(sc.SymcalcTypeError, match="list of 2"):
        sc.check_answer("x^2*y", ["x", "y"], "2x y")
    with pytest.raises(sc.SymcalcTypeError, match="not a list"):
        sc.check_answer("x^2*y", "x", ["2x y"])


def test_an_answer_undefined_where_the_derivative_is_defined_is_wrong():
    # 2*exp(log(x))/x is 2 for x > 0 only; the derivative of 2x is 2 everywhere
    report = _checked("2x", "2 exp(log(x))/x")
    assert report.correct is False and report.answer_value is None
    assert report.point["x"] < 0
    _assert_differs_at_point(report)


def test_an_answer_with_kinks_that_agrees_everywhere_sampled_is_undecided():
    report = _checked("abs(x)", "x/abs(x)")
    assert report.correct is None and not report
    assert "Cannot tell" in report.message and "not analytic" in report.message


# --- reading the answer --------------------------------------------------------------------------
@pytest.mark.parametrize("text, formula", [
    ("2x sin(x) + x^2 cos(x)", "2*x*sin(x) + x^2*cos(x)"),
    ("x y", "x*y"),
    ("sin(x) cos(x)", "sin(x)*cos(x)"),
    ("(x + 1)(x - 1)", "(x + 1)*(x - 1)"),
    ("a(a t - b)", "a*(a*t - b)"),
    ("x(x + 1) y (y - 1)", "x*(x + 1)*y*(y - 1)"),
])
def test_answers_read_factors_side_by_side_as_a_product(text, formula):
    assert sc.checks.answers.read_answer(text) is sc.parse(formula)


@pytest.mark.parametrize("text, column, reason", [
    ("2x sin(x) + * 3", 13, "unexpected '*'"),
    ("2x sin x", 8, "function sin needs parentheses"),
    ("x cos(x) +", 11, "unexpected end"),
    ("a(x) y +", 9, "unexpected end"),      # two '*' put in before the fault
    ("a(x) + sin y", 12, "function sin needs parentheses"),
])
def test_a_bad_answer_is_a_parse_error_with_the_caret_in_the_typed_text(text, column, reason):
    with pytest.raises(sc.ParseError) as caught:
        sc.check_answer("x^2", "x", text)
    error = caught.value
    assert reason in error.reason and (error.line, error.column) == (1, column)
    assert error.text == text and str(error).endswith(" " * (column - 1) + "^")


# --- equivalent ----------------------------------------------------------------------------------
@pytest.mark.parametrize("a, b", [
    ("2*x*sin(x) + x^2*cos(x)", "x*(2*sin(x) + x*cos(x))"),
    ("sigmoid(x)*(1 - sigmoid(x))", "exp(-x)/(1 + exp(-x))^2"),
    ("1 - tanh(x)^2", "1/cosh(x)^2"),
    ("sin(x)^2 + cos(x)^2", "1"),
    ("exp(x + y)", "exp(x)*exp(y)"),
    ("log(x*y)", "log(x) + log(y)"),
    ("softplus(x) - softplus(-x)", "x"),
    ("relu(x)", "max(x, 0)"),
    ("sin(2*x)", "2*sin(x)*cos(x)"),
])
def test_identities_are_equal(a, b):
    verdict = sc.equivalent(a, b)
    assert verdict.equal is True and verdict, verdict.reason


@pytest.mark.parametrize("a, b", [
    ("abs(x)", "x"),
    ("x", "y"),
    ("sin(x)", "sin(y)"),
    ("sqrt(x^2)", "x"),
    ("relu(x - 3)", "0"),                    # differs only for x > 3
    ("exp(x)", "exp(x)*(1 + 10^-90)"),       # a difference far below 50 digits of the values
    ("sin(x)", "sin(x) + 10^-8*x"),
    ("exp(1000*x)", "exp(1000*x)*(1 + 10^-30)"),
])
def test_different_functions_are_not_equal_and_a_point_shows_it(a, b):
    verdict = sc.equivalent(a, b)
    assert verdict.equal is False and not verdict, verdict.reason
    point = {k: mpmath.mpf(v) for k, v in verdict.point.items()}
    va, vb = value(sc.parse(a), point), value(sc.parse(b), point)  # the oracle, at 50 digits
    with mpmath.workdps(120):
        for mine, oracle in zip(verdict.values, (va, vb)):
            assert abs(mine - oracle) <= mpmath.mpf(10) ** -40 * (1 + abs(oracle))
        assert abs(verdict.values[0] - verdict.values[1]) > mpmath.mpf(10) ** -100


def test_a_relative_difference_of_ten_to_the_minus_ninety_is_seen():
    verdict = sc.equivalent("exp(x)", "exp(x)*(1 + 10^-90)")
    assert verdict.equal is False
    with mpmath.workdps(120):
        ratio = verdict.values[1] / verdict.values[0] - 1
        assert abs(ratio / mpmath.mpf(10) ** -90 - 1) < mpmath.mpf(10) ** -6


@pytest.mark.parametrize("a, b, why", [
    ("x/abs(x)", "sign(x)", "not analytic"),
    ("log(-1 - x^2)", "x", "no point"),
])
def test_undecided_cases_say_so(a, b, why):
    verdict = sc.equivalent(a, b)
    assert verdict.equal is None and not verdict and why in verdict.reason


def test_abstract_functions_are_equal_by_simplification_only():
    f, g = sc.function("f"), sc.function("g")
    assert sc.equivalent(f(x) + f(x), 2 * f(x)).equal is True
    verdict = sc.equivalent(f(x), g(x))
    assert verdict.equal is None and "no numeric value" in verdict.reason


def test_formulas_equal_where_both_are_defined_say_where_only_one_is():
    verdict = sc.equivalent("log(x^2)", "2*log(x)")
    assert verdict.equal is True and "only log(x^2) is" in verdict.reason


@given(exprs(depth=3), st.sampled_from(["add", "scale", "region", "kink"]))
def test_equivalent_never_says_true_for_a_perturbed_function(e, how):
    if how == "add":
        other = e + sc.Num(10) ** -8 * x
    elif how == "scale":
        # e*(1 + 10^-9) differs from e only where e is not 0
        assume(any(value(e, {"x": v, "y": v / 3, "z": -v / 2}) not in (None, 0)
                   for v in (mpmath.mpf("0.3"), mpmath.mpf("-1.1"))))
        other = e * (1 + sc.Num(10) ** -9)
    elif how == "region":
        other = e + sc.relu(x - 1) / 1000  # the same for x <= 1
    else:
        other = e - e + sc.abs(x) if x in e.free_symbols else sc.abs(x)
        e = e - e + x if x in e.free_symbols else x
    assert sc.equivalent(e, other, sympy=False).equal is not True
    assert sc.equivalent(e, e, sympy=False).equal is True


@given(exprs(depth=3))
def test_check_answer_accepts_the_derivative_and_never_a_perturbed_one(e):
    derivative = sc.diff(e, x)
    as_assembled = sc.explain(e, "x").steps[0].result  # the rules' raw form, before simplifying
    assert sc.check_answer(e, "x", as_assembled).correct is not False
    slipped = sc.check_answer(e, "x", derivative + sc.Num(10) ** -6 * x)
    assert slipped.correct is not True
    if slipped.correct is False:
        _assert_differs_at_point(slipped)


# --- the command line ----------------------------------------------------------------------------
def _run(capsys, *argv):
    status = cli.main(list(argv))
    return status, capsys.readouterr()


def test_command_line_check_answer(capsys):
    status, out = _run(capsys, "check-answer", "x^2*sin(x)", "x", "2x sin(x) + x^2 cos(x)")
    assert status == 0 and out.out.startswith("Correct: d/dx (x^2*sin(x)) = 2*x*sin(x)")
    status, out = _run(capsys, "check-answer", "sin(x^2)", "x", "cos(x^2)", "--format", "json")
    data = json.loads(out.out)
    assert status == 1 and data["correct"] is False and data["command"] == "check-answer"
    assert data["step"]["rule"] == "chain" and data["step"]["expr"] == "sin(x^2)"
    assert sc.parse(data["expected"]) is sc.diff("sin(x^2)", "x")
    check_derivative("sin(x^2)", ("x",), sc.parse(data["expected"]))
    status, out = _run(capsys, "check-answer", "x^2*y", "x,y", "2x y, x^2")
    assert status == 0 and out.out.startswith("Correct: that is the gradient")
    status, out = _run(capsys, "check-answer", "x^2", "x", "2x +")
    assert status == 2 and "unexpected end" in out.err and "^" in out.err


def test_command_line_equivalent(capsys):
    status, out = _run(capsys, "equivalent", "1 - tanh(x)^2", "1/cosh(x)^2")
    assert status == 0 and out.out.startswith("equal")
    status, out = _run(capsys, "equivalent", "abs(x)", "x", "--format", "json")
    data = json.loads(out.out)
    assert status == 1 and data["equal"] is False and data["point"]["x"] < 0
    status, out = _run(capsys, "equivalent", "x/abs(x)", "sign(x)")
    assert status == 1 and out.out.startswith("undecided")


def test_the_readme_shows_actual_verdicts():
    from pathlib import Path

    readme = " ".join((Path(__file__).resolve().parents[2] / "README.md")
                      .read_text(encoding="utf-8").split())
    shown = [sc.check_answer("x^2*sin(x)", "x", "2x sin(x) + x^2 cos(x)").message,
             sc.check_answer("sin(x^2)", "x", "cos(x^2)").message,
             repr(sc.equivalent("sigmoid(x)*(1 - sigmoid(x))", "exp(-x)/(1 + exp(-x))^2")),
             repr(sc.equivalent("sin(2*x)", "2*sin(x)*cos(x)")),
             sc.equivalent("abs(x)", "x").reason]
    for text in shown:
        assert text in readme, text


@pytest.mark.parametrize("formula, far, near", [
    ("exp(exp(exp(exp(x))))", 3, 1),    # exp of 10^(2*10^8): its digits cannot be computed
    ("sin(exp(exp(exp(x))))", 5, 2),    # sin of 10^(10^64): nor can its argument reduction
    ("2^(exp(exp(exp(x))) + 1/2)", 3, 1),  # 2^(10^(2*10^8))
])
def test_a_value_too_large_to_compute_is_out_of_reach_not_a_hang(formula, far, near):
    from symcalc.checks.equivalence import OutOfReach, value as mp_value

    with pytest.raises(OutOfReach):
        mp_value(sc.parse(formula), {x: mpmath.mpf(far)})
    assert mp_value(sc.parse(formula), {x: mpmath.mpf(near)}) is not None
