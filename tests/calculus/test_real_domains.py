"""Derivatives stay defined wherever the formula is: no rewrite may narrow the real domain.

``sqrt(a*b)`` is not ``sqrt(a)*sqrt(b)`` when a and b are both negative, ``sinh(x)/sqrt(cosh(x))``
is not ``sqrt(sinh(x))*sqrt(tanh(x))`` for x < 0, and ``log(a*b)`` is not ``log(a) + log(b)``.  The
property below builds random formulas out of signed pieces (x, sinh(x), x^3, sin(x), ...) under
square roots, fractional powers, acosh, asin and log of products and quotients, and checks
``sc.diff`` against SymPy and central differences (``tests/oracle.py``, 50 digits) separately on
the negative and the positive half-line, wherever the formula is defined there.
"""

from __future__ import annotations

import itertools

import mpmath
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import symcalc as sc
from oracle import check_derivative, value

x, y = sc.symbols("x y")
HALVES = ((-1.5, -0.05), (0.05, 1.5))
PROBES = 12  # points per half probed for whether the formula is defined there at all

# pieces that change sign at 0 (or nearby), and pieces that are positive for every real x, y
SIGNED = ("x", "sinh(x)", "x^3", "sin(x)", "tanh(x)", "2*x - 1/3", "asinh(x)", "atan(x)", "y",
          "x*y", "x - y")
POSITIVE = ("cosh(x)", "1 + x^2", "exp(x)", "2 + sin(x)", "x^2", "sinh(x)^2", "cosh(y)", "y^2")
ROOTS = ("1/2", "1/3", "3/2", "2/3", "-1/2", "-1/3", "-3/2", "5/2")


@st.composite
def signed_formulas(draw, depth: int = 3) -> str:
    """Formula text built from signed and positive pieces by products, quotients, fractional
    powers, sqrt, acosh, asin and log."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(SIGNED + POSITIVE))
    a = draw(signed_formulas(depth - 1))
    b = draw(signed_formulas(depth - 1))
    shape = draw(st.sampled_from((
        "sqrt(({a})*({b}))", "sqrt(({a})/({b}))", "(({a})*({b}))^({q})", "(({a})/({b}))^({q})",
        "({a})/sqrt({b})", "({a})*sqrt({b})", "sqrt({a})*sqrt({b})", "({a})^({q})*({b})",
        "acosh(1 + ({a})*({b}))", "acosh(1 + ({a})^2)", "acosh(({p}) + ({a})^2)",
        "asin(({a})/(1 + ({a})^2))", "asin(({a})*({b})/(2 + ({a})^2*({b})^2))",
        "log(({a})*({b}))", "log(({a})/({b}))", "log(({a})^2*({b}))", "({a})*({b})",
        "({a})/({b})", "sqrt(({a})^2*({b}))", "(({a})^2)^({q})", "(({a})^3)^({q})",
    )))
    return shape.format(a=a, b=b, q=draw(st.sampled_from(ROOTS)), p=draw(st.sampled_from(POSITIVE)))


def defined_somewhere(f: sc.Expr, boxes: dict) -> bool:
    """``f`` is defined at one of a few points of the box (the same fraction of each side)."""
    for k in range(PROBES):
        point = {name: mpmath.mpf(lo + (hi - lo) * (k + 0.5) / PROBES)
                 for name, (lo, hi) in boxes.items()}
        if value(f, point) is not None:
            return True
    return False


def check_both_halves(text: str, order: int = 1, var: sc.Symbol = x) -> int:
    """``sc.diff(text, var, order)`` agrees with SymPy and central differences on each half of
    the real line (each quadrant, with y) where the formula is defined; the number checked."""
    f = sc.parse(text)
    result = sc.diff(f, var, order)
    names = sorted(s.name for s in f.free_symbols | {var})
    checked = 0
    for sides in itertools.product(HALVES, repeat=len(names)):
        boxes = dict(zip(names, sides))
        if not defined_somewhere(f, boxes):
            continue
        try:
            check_derivative(f, (var, order), result, domain=boxes)
        except AssertionError as error:  # sqrt(x*log(x/abs(x))): no finite derivative anywhere
            if "found no points" not in str(error):
                raise
            continue
        checked += 1
    return checked


@given(signed_formulas(), st.integers(1, 2), st.sampled_from((x, y)))
def test_derivatives_are_defined_where_the_formula_is(text, order, var):
    try:
        f = sc.parse(text)
    except sc.SymcalcError:  # log(0), division by zero: x/x cancels before anything is built
        assume(False)
    assume(len(str(f)) < 160)  # SymPy's reference derivative stays quick to build and evaluate
    assume(var in f.free_symbols)
    assume(check_both_halves(text, order, var) > 0)


@pytest.mark.parametrize("text", [
    "acosh(1 + cosh(x))",             # sinh(x)/sqrt(cosh(x)*(2 + cosh(x))), not sqrt(sinh)*sqrt(tanh)
    "sinh(x)^2/sqrt(cosh(x))",        # (the derivative's own form; x < 0 as well)
    "sqrt(sinh(x)*x)",                # both factors negative for x < 0
    "(x*sinh(x))^(1/3)",
    "log(x*sinh(x))",
    "log(x/sinh(x))",
    "acosh(1 + x*sinh(x))",
    "asin(x*sinh(x)/(2 + x^2*sinh(x)^2))",
    "sqrt(x^2*cosh(x))",
    "(x^2)^(1/3)",
    "(sinh(x)^2)^(3/2)",
])
def test_signed_factors_under_roots_and_logs(text):
    assert check_both_halves(text) == 2


@pytest.mark.parametrize("text", ["sqrt(x*y)", "(x*y)^(2/3)", "log(x*y)", "log(x/y)",
                                  "acosh(1 + x*y)", "sqrt(x/y)*sqrt(x*y)"])
def test_two_signed_factors(text):
    # each is defined in the two quadrants where x and y have the same sign, and only there
    assert check_both_halves(text, 1, y) == 2
