"""Generated code around every pattern the stability rewrites match, negated and scaled inside long
sums, against an independent evaluation.

The random formulas of ``strategies.py`` rarely build ``log(sigmoid(u))`` or ``1/(1 - exp(u))``
and never place them, negated, among other terms, which is where a rewrite meets the sum's sign
handling.  Here each formula is written as text from a template, read by SymPy with its own
meanings of the functions (not through symcalc), and the values of symcalc's generated function
and gradient are compared with SymPy's at 30 digits.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symcalc as sc

sp = pytest.importorskip("sympy")

VARIABLES = ("x", "y", "z")
SYM = {name: sp.Symbol(name, real=True) for name in VARIABLES}
MEANINGS = {
    **SYM,
    "exp": sp.exp, "log": sp.log, "sin": sp.sin, "cos": sp.cos, "tanh": sp.tanh, "erf": sp.erf,
    "sigmoid": lambda a: 1 / (1 + sp.exp(-a)),
    "softplus": lambda a: sp.log(1 + sp.exp(a)),
    "logsumexp": lambda *a: sp.log(sp.Add(*(sp.exp(t) for t in a))),
}
DIGITS = 30
RTOL = 1e-9

# Arguments: u is any small formula; p is bounded away from 0 (for the poles of 1/(1 - exp(p))).
ARGUMENTS = ["x", "2*y", "x - y", "sin(z)", "x*y + 1", "-z/2", "tanh(x) + y", "3", "0.5"]
POSITIVE = ["1 + x^2", "2 + sin(y)", "exp(z)", "1 + y^2/2", "3/2"]

# Templates for each stable form symcalc's code generator rewrites; {u}, {v} are arguments.
PATTERNS = [
    "log(sigmoid({u}))", "log(1 - sigmoid({u}))", "log(1 + exp({u}))", "log(exp({u}) + 1)",
    "1/(1 - exp({p}))", "(1 - exp({u}))^3", "exp({u}) - 1", "1 - sigmoid({u})",
    "2 - 2*sigmoid({u})", "3*exp({u}) - 3", "1/(1 + exp({u}))", "exp({u})*sigmoid(-({u}))",
    "log(exp({u}) + exp({v}))", "1/(exp({u}) + exp({v}))", "exp({u})*exp({v})",
    "(exp({u}) + exp({v}))*exp({u})", "log(1 + {p})", "sigmoid({u})*(1 - sigmoid({u}))",
    "log(2 + exp({u}))", "logsumexp({u}, {v}) - log(exp({u}))",
]
OTHER_TERMS = ["x", "1", "0.5", "erf(x)", "z", "y^2", "3", "sin(x)*y", "2*exp(z)", "log(1 + y^2)"]


@st.composite
def long_sums(draw) -> str:
    """A sum of 3 to 6 terms, one or two of them a stability pattern, negated or scaled."""
    pieces = []
    for _ in range(draw(st.integers(1, 2))):
        template = draw(st.sampled_from(PATTERNS))
        pattern = template.format(u=draw(st.sampled_from(ARGUMENTS)),
                                  v=draw(st.sampled_from(ARGUMENTS)),
                                  p=draw(st.sampled_from(POSITIVE)))
        scale = draw(st.sampled_from(["", "", "-", "2*", "-3*", "0.5*", "-(1/4)*"]))
        pieces.append(f"{scale}({pattern})")
    others = draw(st.lists(st.sampled_from(OTHER_TERMS), min_size=2, max_size=4))
    signs = draw(st.lists(st.sampled_from([" + ", " - "]), min_size=len(others) + len(pieces),
                          max_size=len(others) + len(pieces)))
    order = draw(st.permutations(pieces + others))
    text = order[0]
    for sign, term in zip(signs, order[1:]):
        text += sign + term
    return text


points = st.lists(st.floats(-2.0, 2.0, allow_nan=False).map(lambda v: round(v, 4)),
                  min_size=3, max_size=3)


def reference(text: str):
    return sp.sympify(text.replace("^", "**"), locals=MEANINGS)


def at(s, point) -> float:
    subs = {SYM[n]: sp.Rational(str(v)) for n, v in zip(VARIABLES, point)}
    return float(sp.N(s.xreplace(subs), DIGITS))


def close(a: float, b: float) -> bool:
    return abs(a - b) <= RTOL * max(1.0, abs(a), abs(b))


@given(long_sums(), st.lists(points, min_size=2, max_size=2))
def test_generated_function_equals_an_independent_evaluation(text, pts):
    f = sc.lambdify(text, list(VARIABLES))
    s = reference(text)
    columns = [np.array([p[k] for p in pts]) for k in range(3)]
    got_array = f(*columns)
    for k, p in enumerate(pts):
        want = at(s, p)
        assert close(float(f(*p)), want), (text, p, float(f(*p)), want)
        assert close(float(got_array[k]), want), (text, p, got_array[k], want)


@given(long_sums(), points)
def test_generated_gradient_equals_an_independent_evaluation(text, point):
    g = sc.lambdify(sc.grad(text, list(VARIABLES)), list(VARIABLES))
    s = reference(text)
    got = g(*point)
    for i, name in enumerate(VARIABLES):
        want = at(sp.diff(s, SYM[name]), point)
        assert close(float(got[i]), want), (text, name, point, got[i], want)


@given(long_sums(), st.sampled_from(VARIABLES))
def test_pattern_formulas_and_their_derivatives_print_back_to_themselves(text, var):
    e = sc.parse(text)
    for node in (e, sc.diff(e, var)):
        assert sc.parse(str(node)) is node, (text, str(node))


@pytest.mark.parametrize("text, point", [
    ("x + 1 - 1/(1 - exp(x))", (0.8,)),
    ("x - 0.5 - log(sigmoid(y)) + erf(x)", (0.3, -1.2)),
    ("0.5 + 3 + x + 2 - log(1 - sigmoid(0.5))", (1.5,)),
    ("3 - z - (1 - exp(3))^3", (1.3,)),
])
def test_sums_with_a_negated_stable_form(text, point):
    e = sc.parse(text)
    names = sorted(s.name for s in e.free_symbols)
    f = sc.lambdify(e, names)
    subs = {sp.Symbol(n, real=True): sp.Rational(str(v)) for n, v in zip(names, point)}
    want = float(sp.N(reference(text).xreplace(subs), DIGITS))
    assert close(float(f(*point)), want)
    assert close(float(f(*(np.array([v]) for v in point))[0]), want)


def test_a_derivative_with_a_repeated_logarithm_prints_back_to_itself():
    d = sc.diff("log(2*x)^2 + log(2*x)", "x")
    assert sc.parse(str(d)) is d


def test_a_raw_product_that_folds_to_a_number_is_a_constant_term():
    d = sc.diff("log(exp(x) + exp(x)) + x + x", "x")
    assert d is sc.parse("3")
    g = sc.grad("1 - (logsumexp(-z/2, 2*y) - log(exp(-z/2)))", ["y", "z"])
    for node in g:
        assert sc.parse(str(node)) is node
    f = sc.lambdify(g, ["y", "z"])
    s = reference("1 - (logsumexp(-z/2, 2*y) - log(exp(-z/2)))")
    for k, name in enumerate(["y", "z"]):
        want = at(sp.diff(s, SYM[name]), (0.0, 0.3, -0.4))
        assert close(float(f(0.3, -0.4)[k]), want)
