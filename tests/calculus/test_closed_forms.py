"""Derivatives of any order in closed form (symcalc.calculus.closed_form), and orders that must not
hang.

Every derivative is checked against SymPy and central finite differences (tests/oracle.py) at
moderate orders, and against the Taylor-mode graph (symcalc.calculus.series), an independent
method.  At huge orders the closed form is checked by formula, evaluated in mpmath, and each such
call runs in a subprocess with a time limit, so that a regression fails instead of hanging.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symcalc as sc
from symcalc.calculus.closed_form import nth_derivative, polynomial_degree
from symcalc.calculus.series import derivative_graph

from oracle import check_derivative, value

X, Y = sc.symbols("x y")

CLOSED = [
    "x^7 - 3*x^4", "(2*x + 1)^(5/2)", "x^(-3)", "(1 - x/3)^(-1/2)", "exp(2*x + 1)", "3^x",
    "exp(x)^2*exp(-x/2)*y", "sin(3*x + 1)", "cos(x/2)", "sinh(2*x)", "cosh(x - y)", "log(2*x + 3)",
    "x^3*exp(-x)", "x^2*sin(x)", "(x + 1)^2*x*log(x)", "x^y", "exp(x*y)", "y*x^4 + 5*cos(2*x)",
    "2^(3*x)*x", "sqrt(x)", "log(x, 2)", "exp(-y*x)", "sin(-x*y)*x",
]
DOMAIN = {"x": (0.3, 1.4), "y": (0.4, 1.3)}


@pytest.mark.parametrize("formula", CLOSED)
@pytest.mark.parametrize("order", [2, 4, 6])
def test_closed_forms_match_sympy_and_finite_differences(formula, order):
    f = sc.parse(formula)
    closed, rest = nth_derivative(f, X, order)
    assert rest is sc.Num(0), f"{formula}: no closed form for {rest}"
    check_derivative(formula, ("x", order), sc.diff(formula, "x", order), DOMAIN)
    _agree(closed, derivative_graph(f, X, order))


def _agree(a, b, points=((0.7, 0.9), (1.2, 0.5))):
    for x, y in points:
        point = {"x": mpmath.mpf(x), "y": mpmath.mpf(y)}
        va, vb = value(a, point), value(b, point)
        assert abs(va - vb) <= 1e-25 * max(1, abs(vb)), (a, va, vb)


def test_mixed_partials_in_closed_form():
    result = sc.diff("x^2*exp(x*y)", "x", 3, "y", 2)
    check_derivative("x^2*exp(x*y)", ("x", 3, "y", 2), result, DOMAIN)
    assert sc.count_ops(result) < 40
    check_derivative("sin(2*x - y)*y^3", ("y", 3, "x", 3), sc.diff("sin(2*x - y)*y^3", "y", 3, "x", 3))


def test_closed_and_general_terms_of_one_sum():
    f = "exp(2*x) + sin(exp(x))"
    for order in (3, 5, 12):  # (central differences are not accurate at order 12)
        d = sc.diff(f, "x", order)
        if order < 12:
            check_derivative(f, ("x", order), d, DOMAIN)
        s = sympy.Symbol("x")
        exact = sympy.diff(sympy.exp(2 * s) + sympy.sin(sympy.exp(s)), s, order).subs(s, 0.4)
        assert sc.lambdify(d, "x")(0.4) == pytest.approx(float(exact), rel=1e-12)


def test_polynomial_degree_is_an_upper_bound_found_without_expanding():
    assert polynomial_degree(sc.parse("(x^2 + y)^30*(x + 1)"), X) == 61
    assert polynomial_degree(sc.parse("x^2*y^7"), Y) == 7
    assert polynomial_degree(sc.parse("(x + 1)^(1/2)"), X) is None
    assert polynomial_degree(sc.parse("sin(y)*x"), X) == 1
    assert polynomial_degree(sc.parse("x/(1 + x)"), X) is None
    assert sc.diff("(x^2 + y)^30*(x + 1)", "x", 62) is sc.Num(0)
    deep = sc.parse("x")
    for _ in range(40):  # (((x^2 + 1)^2 + 1)^2 ...): degree 2^40, its expansion is out of reach
        deep = deep**2 + 1
    assert polynomial_degree(deep, X) == 2**40
    assert sc.diff(deep, "x", 2**40 + 1) is sc.Num(0)


# --- huge orders: at once, checked by formula ------------------------------------------------
HUGE = [  # (formula, spec); each must answer in well under a second
    ("x", ["x", "x", 10**8]),  # SymPy's own speed test
    ("x^5", ["x", 10**9]),
    ("x^3", ["x", 1000]),
    ("sin(x)", ["x", 1000]),
    ("exp(2*x)", ["x", 1000]),
    ("exp(2*x)", ["x", 10**9]),
    ("exp(-2*x)*y", ["x", 10**9 + 1]),
    ("x^2*exp(-x)", ["x", 10**9]),
    ("sin(3*x + 1)*x^3", ["x", 10**9 + 1]),
    ("cos(x/2) + x^4", ["x", 10**12 + 2]),
    ("exp(x - 2*y)", ["x", 10**9, "y", 10**9]),
    ("exp(-y*x)", ["x", 10**9 + 1]),
]


def test_huge_orders_answer_at_once():
    code = (
        "import json, sys, time, symcalc as sc\n"
        "out = []\n"
        "for formula, spec in json.loads(sys.argv[1]):\n"
        "    start = time.perf_counter()\n"
        "    d = sc.diff(formula, *spec)\n"
        "    out.append((str(d), time.perf_counter() - start))\n"
        "print(json.dumps(out))\n")
    done = subprocess.run([sys.executable, "-c", code, json.dumps(HUGE)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    for (formula, spec), (text, seconds) in zip(HUGE, results):
        assert seconds < 2, (formula, spec, seconds)
        assert len(text) < 2000, (formula, spec)
    texts = {(f, str(s)): t for (f, s), (t, _) in zip(HUGE, results)}
    assert texts[("x", str(HUGE[0][1]))] == "0"
    assert texts[("x^5", str(HUGE[1][1]))] == "0"
    assert texts[("x^3", str(HUGE[2][1]))] == "0"
    assert texts[("sin(x)", str(HUGE[3][1]))] == "sin(x)"
    assert texts[("exp(2*x)", str(HUGE[5][1]))] == "2^1000000000*exp(2*x)"
    assert texts[("exp(-y*x)", str(HUGE[11][1]))] == "-y^1000000001*exp(-x*y)"  # (-y)^k, k odd
    # the others by formula: a closed form evaluated in mpmath at a point, against the result
    with mpmath.workdps(40):
        k, point = 10**9, {"x": mpmath.mpf("0.375"), "y": mpmath.mpf("0.625")}
        x, y = point["x"], point["y"]
        expected = {
            5: 2**mpmath.mpf(k) * mpmath.exp(2 * x),
            6: -y * 2**mpmath.mpf(k + 1) * mpmath.exp(-2 * x),
            7: (x**2 - 2 * k * x + k * (k - 1)) * mpmath.exp(-x),  # Leibniz: (-1)^k e^-x (x^2 - ...)
            8: sum(math.comb(k + 1, j) * mpmath.mpf(math.perm(3, j)) * x**(3 - j)
                   * 3**mpmath.mpf(k + 1 - j) * [mpmath.sin, mpmath.cos, lambda t: -mpmath.sin(t),
                                                 lambda t: -mpmath.cos(t)][(k + 1 - j) % 4](3 * x + 1)
                   for j in range(4)),
            9: -mpmath.cos(x / 2) / 2**mpmath.mpf(10**12 + 2),  # (10^12 + 2) mod 4 = 2
            10: 2**mpmath.mpf(k) * mpmath.exp(x - 2 * y),
        }
        for i, want in expected.items():
            got = value(sc.parse(results[i][0]), point)
            assert abs(got - want) <= mpmath.mpf(10)**-30 * abs(want), (HUGE[i], got, want)


def test_huge_orders_without_a_closed_form_are_a_clear_error():
    code = ("import symcalc as sc\n"
            "for f in ('sin(exp(x))', 'x*tanh(x)', '1/(1 + x^2)'):\n"
            "    try:\n"
            "        sc.diff(f, 'x', 10**9)\n"
            "    except sc.SymcalcError as error:\n"
            "        print(type(error).__name__, 'no closed form' in str(error))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:3] == ["SymcalcError True"] * 3


def test_cli_huge_order_of_a_polynomial():
    done = subprocess.run([sys.executable, "-m", "symcalc", "diff", "x^5", "x", "--order", "100000"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0"


# --- random closed-form sums against SymPy and the Taylor-mode graph ----------------------------
_slopes = st.sampled_from([1, 2, -1, sc.Num(1) / 2, -3])
_shifts = st.sampled_from([0, 1, sc.Num(1) / 3])


@st.composite
def closed_terms(draw):
    """c * x^m * g(a*x + b) with g an exponential, a sine, a cosine, a power or a log."""
    a, b = draw(_slopes), draw(_shifts)
    u = a * X + b + 3 if draw(st.booleans()) else a * X + b
    kind = draw(st.sampled_from(["exp", "sin", "cos", "sinh", "cosh", "power", "log", "one"]))
    g = {"exp": lambda: sc.exp(u / 2), "sin": lambda: sc.sin(u), "cos": lambda: sc.cos(u),
         "sinh": lambda: sc.sinh(u / 3), "cosh": lambda: sc.cosh(u / 3),
         "power": lambda: (X + 3)**draw(st.sampled_from([-2, sc.Num(1) / 2, sc.Num(-3) / 2, 4])),
         "log": lambda: sc.log(X + 3), "one": lambda: sc.Num(1)}[kind]()
    m = draw(st.integers(0, 3))
    c = draw(st.sampled_from([1, -2, sc.Num(3) / 4]))
    return c * X**m * g * (Y if draw(st.booleans()) else 1)


@settings(max_examples=25, deadline=None)
@given(st.lists(closed_terms(), min_size=1, max_size=3), st.integers(2, 5))
def test_random_closed_form_sums(terms, order):
    f = sum(terms[1:], terms[0])
    closed, rest = nth_derivative(f, X, order)
    assert rest is sc.Num(0), (f, rest)
    check_derivative(f, ("x", order), sc.diff(f, "x", order), {"x": (-1.5, 1.5), "y": (0.5, 1.5)})
    _agree(closed, derivative_graph(f, X, order), points=((0.3, 0.8), (-1.1, 1.2)))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(-3, 3), st.integers(0, 4)), min_size=1, max_size=4),
       st.integers(1, 4), st.integers(10**6, 10**15))
def test_random_polynomials_vanish_beyond_their_degree(coefficients, exponent, order):
    p = sum((c * (X + Y)**e for c, e in coefficients), sc.Num(0))**exponent
    degree = polynomial_degree(p, X)
    assert sc.diff(p, "x", degree + 1) is sc.Num(0)
    assert sc.diff(p, "x", order) is sc.Num(0)
    if degree:
        check_derivative(p, ("x", degree), sc.diff(p, "x", degree))


# --- small forms of derivatives and values ------------------------------------------------------
@pytest.mark.parametrize("formula, expected", [
    ("atanh(x/3)", "3/(9 - x^2)"),       # 1/(1 - x^2/9)/3: the sum's denominators cleared
    ("atan(x/3)", "3/(9 + x^2)"),
    ("log(abs(x))", "1/x"),              # sign(x)/abs(x) = 1/x
    ("x*abs(x)", "2*abs(x)"),            # abs(x) + x*sign(x)
    ("asin(x/2)", None),
])
def test_small_derivative_forms(formula, expected):
    d = sc.diff(formula, "x")
    check_derivative(formula, ("x",), d, {"x": (0.2, 1.4)})
    check_derivative(formula, ("x",), d, {"x": (-1.4, -0.2)})
    if expected is not None:
        assert str(d) == expected


def test_roots_in_quotients_are_rationalised_when_the_base_divides_the_coefficient():
    assert str(sc.parse("cot(pi/6)")) == "sqrt(3)"
    assert str(sc.parse("6/sqrt(3)*x")) == "2*sqrt(3)*x"
    assert str(sc.parse("-3/sqrt(3)")) == "-sqrt(3)"
    assert str(sc.parse("1/sqrt(3)")) == "1/sqrt(3)"  # nothing to divide: kept
    assert str(sc.parse("9*3^(-2/3)")) == "3*3^(1/3)"
    for text in ("cot(pi/6)", "6/sqrt(3)", "9*3^(-2/3)", "4/sqrt(2)"):
        assert float(sc.parse(text)) == pytest.approx(float(sympy.sympify(text.replace("^", "**"))), rel=1e-15)


def test_logsumexp_of_numbers_and_of_equal_arguments():
    assert str(sc.parse("logsumexp(0, 0)")) == "log(2)"
    assert str(sc.parse("logsumexp(y, y, y)")) == "log(3) + y"
    assert str(sc.simplify("exp(-log(2))")) == "1/2"
    big = sc.parse("logsumexp(1000, 999)")  # the largest taken out: no overflow in code
    assert float(big) == pytest.approx(1000 + math.log1p(math.exp(-1)), rel=1e-15)
    t = sc.taylor("logsumexp(x, 0)", {"x": 0}, 2)
    assert str(t) == "log(2) + x/2 + x^2/8"
    s = sympy.Symbol("x")
    reference = sympy.series(sympy.log(sympy.exp(s) + 1), s, 0, 3).removeO()
    assert sympy.simplify(sc.to_sympy(t) - reference) == 0


def test_cli_steps_of_a_huge_order_are_a_clear_error():
    done = subprocess.run([sys.executable, "-m", "symcalc", "diff", "exp(2*x)", "x", "--order",
                           "1000000", "--steps"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "too many to show" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    done = subprocess.run([sys.executable, "-m", "symcalc", "diff", "x^5", "x", "--order", "1000000",
                           "--steps"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip().endswith("0"), done.stderr


def test_graphs_of_polynomials_vanish_beyond_their_degree():
    graph = derivative_graph(sc.parse("x^3*(x + y)^2"), X, 2)  # raw: Taylor-mode arithmetic
    assert graph._raw
    assert sc.diff(graph, "x", 10**9) is sc.Num(0)
    assert derivative_graph(graph, X, 4) is sc.Num(0)
    check_derivative("x^3*(x + y)^2", ("x", 4), sc.diff(graph, "x", 2), DOMAIN)
