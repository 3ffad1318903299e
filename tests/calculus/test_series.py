"""Taylor-mode arithmetic (symcalc.calculus.series) and the high-order derivatives built with it.

Every derivative is checked against SymPy and central finite differences (tests/oracle.py); every
recurrence against SymPy's own series; the compiled graph and readable forms against each other.
"""

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symcalc as sc
from symcalc.language.arguments import graph_forms
from symcalc.core.expr import ONE, ZERO
from symcalc.compiler.program import program
from symcalc.calculus.series import Propagation, coefficients, derivative_graph

from oracle import check_derivative, value
from strategies import exprs

X = sc.Symbol("x")
SX = sympy.Symbol("x")


def nested_sin(depth):
    e = X
    for _ in range(depth):
        e = sc.sin(e)
    return e


# --- derivatives of high order --------------------------------------------------------------
FORMULAS = [
    "sin(x)*exp(x)", "exp(x^2)*cos(3*x)", "x^(5/2)*log(x)", "1/(1 + x^2)", "tanh(x)*sigmoid(x)",
    "x^x", "atan2(x, 1 + x^2)", "logsumexp(x, 2*x, x^2)", "max(x, x^2/3)", "min(sin(x), x/2)",
    "erf(x)", "tan(x)", "sqrt(1 + x^2)*x*y*sin(x)", "log(1 + x^2, 3)", "(1 + x^2)^(-3)",
    "2^(x*y)", "softplus(x)*asinh(x)", "sec(x) + cot(x + 3)", "x^7 - 3*x^4", "(x + y)^y",
    "cosh(x)/sinh(x + 3)", "acos(x/3)*asin(x/2)", "atan(x)^3", "expm1(x)*log1p(x^2)",
    "abs(x - 1/3)*x^2", "relu(x)*x^3", "erfc(x)*heaviside(x + 5)", "sign(x)*x^4",
]


@pytest.mark.parametrize("formula", FORMULAS)
@pytest.mark.parametrize("order", [2, 5])
def test_graph_derivative_matches_sympy_and_finite_differences(formula, order):
    domain = {"x": (0.2, 1.4), "y": (0.3, 1.5)}
    check_derivative(formula, ("x", order), sc.diff(formula, "x", order, readable=False), domain)


@settings(max_examples=25)
@given(exprs(depth=3), st.integers(2, 6))
def test_random_formulas_high_order(e, order):
    check_derivative(e, ("x", order), sc.diff(e, "x", order, readable=False))


@settings(max_examples=25)
@given(exprs(depth=3), st.integers(2, 3), st.sampled_from(["x", "y"]))
def test_graph_and_readable_forms_agree(e, order, variable):
    graph = sc.diff(e, variable, order, readable=False)
    readable = sc.diff(e, variable, order, readable=True)
    automatic = sc.diff(e, variable, order)
    assert automatic is readable or automatic is graph
    rng = np.random.default_rng(order)
    for _ in range(3):
        point = {name: mpmath.mpf(float(v)) for name, v in zip("xyz", rng.uniform(-2, 2, 3))}
        a, b = value(graph, point), value(readable, point)
        if a is None or b is None:
            assert a is None and b is None or value(e, point) is None
            continue
        assert abs(a - b) <= 1e-20 * max(1, abs(b))


def test_mixed_high_order_spec():
    result = sc.diff("exp(x*y)*sin(x + y^2)", "x", 3, "y", 2, readable=False)
    check_derivative("exp(x*y)*sin(x + y^2)", ("x", 3, "y", 2), result)


def test_abstract_functions_have_high_order_derivatives():
    f, g = sc.function("f"), sc.function("g")
    e = f(g(X) * X)
    graph = sc.diff(e, "x", 4, readable=False)
    readable = sc.diff(e, "x", 4, readable=True)
    assert sympy.simplify(sc.to_sympy(graph) - sc.to_sympy(readable)) == 0
    two = sc.function("h")(X, X ** 2)  # a multi-argument abstract function: the generic rule with two partials
    assert sympy.simplify(sc.to_sympy(sc.diff(two, "x", 3, readable=False))
                          - sc.to_sympy(sc.diff(two, "x", 3, readable=True))) == 0


def test_small_derivatives_stay_readable_and_compile_the_smaller_form():
    assert str(sc.diff("x^3*y", "x", 2)) == "6*x*y"
    d = sc.diff("sin(x)*exp(x)", "x", 4)
    assert d is sc.diff("sin(x)*exp(x)", "x", 4, readable=True)
    assert d in graph_forms
    assert program(d, "x").operation_count <= sc.count_ops(d)
    f = sc.lambdify(d, "x")
    assert f(0.3) == pytest.approx(-4 * math.exp(0.3) * math.sin(0.3), rel=1e-12)


def test_moderate_readable_forms_are_reached_and_print_without_series_artefacts():
    d = sc.diff("sin(exp(x))*tanh(x)", "x", 6)  # the readable form has 167 operations, the graph 111
    text = str(d)
    assert not d._raw and not text.startswith("720*") and "(-(" not in text
    check_derivative("sin(exp(x))*tanh(x)", ("x", 6), d, {"x": (-1.0, 1.0)})
    assert d in graph_forms  # lambdify compiles whichever is smaller once stabilised: here the graph
    compiled = program(d, "x").operation_count
    assert compiled <= program(graph_forms[d], "x").operation_count < sc.count_ops(d)
    thirty = sc.diff("sin(exp(x))", "x", 30)  # 60 products: 149 operations, the graph 1717
    assert not thirty._raw and sc.count_ops(thirty) < 200
    s = sympy.Symbol("x")
    exact = sympy.diff(sympy.sin(sympy.exp(s)), s, 30).subs(s, sympy.Rational(1, 5)).evalf(30)
    assert sc.lambdify(thirty, "x")(0.2) == pytest.approx(float(exact), rel=1e-10)


def test_large_derivatives_are_the_shared_graph():
    e = nested_sin(30)
    d4 = sc.diff(e, "x", 4)
    assert d4 is sc.diff(e, "x", 4, readable=False)
    assert sc.count_ops(d4) <= 4900
    assert program(d4, "x").operation_count <= 4900  # CasADi's code has 3257 operations
    # polynomial growth: order 8 is a few times order 4, not exponentially more
    assert sc.count_ops(derivative_graph(e, X, 8)) <= 5 * sc.count_ops(d4)
    values = sc.lambdify(d4, "x")(np.array([0.1, 0.7]))
    check = sc.lambdify(derivative_graph(nested_sin(30), X, 4), "x")(np.array([0.1, 0.7]))
    assert np.allclose(values, check)
    s = sympy.Symbol("x")
    reference = sympy.diff(sympy.sin(sympy.sin(sympy.sin(s))), s, 4)
    small = sc.lambdify(sc.diff(nested_sin(3), "x", 4, readable=False), "x")(0.7)
    assert small == pytest.approx(float(reference.subs(s, 0.7)), rel=1e-12)


def test_a_graph_too_long_to_print_is_an_error_not_a_hang():
    d = sc.diff("tan(x)", "x", 30)  # the readable form is far over the budget
    assert sc.count_ops(d) <= 1000
    with pytest.raises(sc.SymcalcError, match="too large to print"):
        str(d)
    d29 = sc.lambdify(sc.diff("tan(x)", "x", 29), "x")(0.0)
    exact = coefficients(sc.parse("tan(x)"), X, ZERO, 29)[29].value * math.factorial(29)
    assert d29 == pytest.approx(float(exact), rel=1e-10)  # the tangent numbers
    assert sc.lambdify(d, "x")(0.0) == pytest.approx(0.0, abs=1e-6 * float(exact))


def test_orders_zero_and_one_and_constants():
    assert sc.diff("x^2", "x", 0) is sc.parse("x^2")
    assert sc.diff("y^2", "x", 3) is ZERO
    assert derivative_graph(sc.parse("y"), X, 2) is ZERO
    assert sc.diff("x^2", "x", 3) is ZERO


# --- each recurrence against SymPy ----------------------------------------------------------
POINTS = {"acosh": Fraction(3, 2), "coth": Fraction(3, 2), "csch": Fraction(3, 2)}
# Piecewise functions have rules for their corners and jumps, which SymPy's series does not
# expand (Max): they are compared with SymPy's derivatives on the real line, as the generic rule.
PIECEWISE = ("abs", "relu", "sign", "heaviside")
WITH_RECURRENCE = sorted(n for n, f in sc.REGISTRY.items()
                         if f.series is not None and n not in PIECEWISE)


def assert_close(ours, expected, label):
    for k, (c, ref) in enumerate(zip(ours, expected)):
        got, want = sympy.N(sc.to_sympy(c), 30), sympy.N(ref, 30)
        assert abs(got - want) <= 1e-20 * max(1, abs(want)), (label, k, c, ref)


@pytest.mark.parametrize("name", WITH_RECURRENCE)
def test_each_recurrence_matches_sympy_series(name):
    e = sc.REGISTRY[name](2 * X - 1)
    ours = coefficients(e, X, sc.Num(Fraction(1, 3)), 6)
    t = sympy.Symbol("t")
    moved = sc.to_sympy(e).subs(SX, sympy.Rational(1, 3) + t)
    expansion = sympy.series(moved, t, 0, 7).removeO()
    assert_close(ours, [expansion.coeff(t, k) for k in range(7)], name)


@pytest.mark.parametrize("name", sorted(n for n, f in sc.REGISTRY.items()
                                        if f.min_args == 1 and (f.series is None
                                                                or n in PIECEWISE)))
def test_the_generic_rule_matches_sympy_derivatives(name):
    at = POINTS.get(name, Fraction(1, 3))
    e = sc.REGISTRY[name](X + X ** 2 / 4)
    ours = coefficients(e, X, sc.Num(at), 5)
    s_e, s_x = sc.to_sympy(e, real=True), sympy.Symbol("x", real=True)
    point = sympy.Rational(at.numerator, at.denominator)
    derivative, expected = s_e, []
    for k in range(6):
        expected.append(derivative.subs(s_x, point) / math.factorial(k))
        derivative = sympy.diff(derivative, s_x)
    assert_close(ours, expected, name)


@pytest.mark.parametrize("formula", ["atan2(x, 1 + x^2)", "logsumexp(x, x^2)",
                                     "max(x, x^2 + 1)", "min(x, 3 - x)", "log(x, 1 + x)"])
def test_multi_argument_functions_use_the_generic_rule(formula):
    e = sc.parse(formula)
    ours = coefficients(e, X, sc.Num(Fraction(1, 2)), 4)
    t = sympy.Symbol("t")
    moved = sc.to_sympy(e, real=True).subs(sympy.Symbol("x", real=True), sympy.Rational(1, 2) + t)
    derivative, expected = moved, []
    for k in range(5):
        expected.append(derivative.subs(t, 0) / math.factorial(k))
        derivative = sympy.diff(derivative, t)
    assert_close(ours, expected, formula)


@pytest.mark.parametrize("formula, exponent", [("x", 3), ("1 + x", 5), ("2 - x", -4),
                                               ("1 + x", Fraction(1, 3)), ("4 + x^2", Fraction(-5, 2))])
def test_powers_are_exact_binomial_series(formula, exponent):
    e = sc.parse(f"({formula})^({exponent})")
    ours = coefficients(e, X, ZERO, 8)
    expansion = sympy.series(sc.to_sympy(e), SX, 0, 9).removeO()
    assert [sympy.nsimplify(sc.to_sympy(c)) for c in ours] == [expansion.coeff(SX, k) for k in range(9)]
    assert all(isinstance(c, sc.Num) for c in ours)  # exact rationals, never floats


def test_symbolic_exponent_and_parameters():
    e = sc.parse("(1 + x)^k*exp(a*x)")
    ours = coefficients(e, X, ZERO, 4)
    k, a = sympy.symbols("k a")
    expansion = sympy.series((1 + SX) ** k * sympy.exp(a * SX), SX, 0, 5).removeO()
    for j, c in enumerate(ours):
        assert sympy.simplify(sc.to_sympy(c) - expansion.coeff(SX, j)) == 0


def test_coefficients_keep_constants_symbolic():
    ours = coefficients(sc.parse("sin(x)"), X, ONE, 3)
    assert [str(c) for c in ours] == ["sin(1)", "cos(1)", "-sin(1)/2", "-cos(1)/6"]


def test_propagation_shares_auxiliary_series():
    e = sc.parse("sin(x) + cos(x)")  # cos(x) is both a term and sin's auxiliary series
    p = Propagation([e], X, 5)
    assert p.c(e, 5) is not None
    assert p.coefficients(sc.parse("cos(x)"))[0] is sc.parse("cos(x)")
