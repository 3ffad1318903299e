"""Property tests: random formulas (``tests/strategies.py``) run through the whole pipeline and
are checked against independent oracles.

The SymPy oracle reads symcalc's printed text with its own table of function meanings (``ORACLE``
below), so it does not share the registry's SymPy forms with ``symcalc.checks.sympy_bridge``; the
bridge is checked against it separately.  Values are compared at 30 significant digits, and
derivatives also against central differences computed at that precision, so rounding never masks or
fakes a disagreement.

Each property runs the number of examples of the active hypothesis profile (``ci`` by default,
``slow`` with ``--slow``; see ``tests/conftest.py``).
"""

from __future__ import annotations

import math
from itertools import combinations_with_replacement
from typing import Mapping

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import symcalc as sc
from symcalc.core.expr import Call, postorder
from strategies import (FUNCTION_NAMES, OPERATORS, VARIABLES, Formula, _function_call,
                        _operation, formulas, points)

sp = pytest.importorskip("sympy")

DIGITS = 30
RTOL = 1e-9  # agreement of two values computed at 30 digits
STEP = sp.Rational(1, 10**8)  # central-difference step (truncation error ~ 1e-16 * f''')
KINKS = ("abs", "relu", "sign", "heaviside")  # functions with a kink or jump at 0

SYM = {name: sp.Symbol(name, real=True) for name in VARIABLES}
ORACLE = {
    **SYM,
    "e": sp.E, "pi": sp.pi,
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "exp": sp.exp, "log": sp.log, "ln": sp.log,
    "sqrt": sp.sqrt, "heaviside": lambda a: _heaviside(a),
    # SymPy leaves d/dx sign(u) and d/dx Abs(u) unevaluated unless it knows u is real; these
    # spellings agree with sign and abs on the real line and differentiate for any u
    "abs": lambda a: sp.sqrt(a**2), "sign": lambda a: 2 * _heaviside(a) - 1,
    "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh, "asin": sp.asin, "acos": sp.acos,
    "atan": sp.atan, "erf": sp.erf,
    "sigmoid": lambda a: 1 / (1 + sp.exp(-a)),
    "softplus": lambda a: sp.log(1 + sp.exp(a)),
    "relu": lambda a: sp.Max(a, 0),
    "logsumexp": lambda *a: sp.log(sp.Add(*(sp.exp(t) for t in a))),
    "log1p": lambda a: sp.log(1 + a), "expm1": lambda a: sp.exp(a) - 1,
    # textbook definitions, not the registry's SymPy classes
    "max": lambda *a: _fold(lambda u, v: (u + v + sp.sqrt((u - v) ** 2)) / 2, a),
    "min": lambda *a: _fold(lambda u, v: (u + v - sp.sqrt((u - v) ** 2)) / 2, a),
    "log2": lambda a: sp.log(a) / sp.log(2), "log10": lambda a: sp.log(a) / sp.log(10),
    "asinh": lambda a: sp.log(a + sp.sqrt(a**2 + 1)),
    "acosh": lambda a: sp.log(a + sp.sqrt(a**2 - 1)),
    "atanh": lambda a: sp.log((1 + a) / (1 - a)) / 2,
    "atan2": lambda y, x: 2 * sp.atan(y / (sp.sqrt(x**2 + y**2) + x)),  # off the cut x <= 0 = y
    "erfc": lambda a: 1 - sp.erf(a),
    "sec": lambda a: 1 / sp.cos(a), "csc": lambda a: 1 / sp.sin(a), "cot": lambda a: sp.cos(a) / sp.sin(a),
    "sech": lambda a: 2 / (sp.exp(a) + sp.exp(-a)), "csch": lambda a: 2 / (sp.exp(a) - sp.exp(-a)),
    "coth": lambda a: (sp.exp(a) + sp.exp(-a)) / (sp.exp(a) - sp.exp(-a)),
}


def _fold(pair, args):
    out = args[0]
    for a in args[1:]:
        out = pair(out, a)
    return out


def _heaviside(a):
    """Heaviside(a); of a constant such as tan(tanh(1/2)/2), decided numerically (SymPy leaves
    the step of a constant it cannot order symbolically unevaluated)."""
    if a.is_number and a.is_comparable and not a.is_Rational:
        return sp.Heaviside(sp.N(a, DIGITS))
    return sp.Heaviside(a)


# --- the oracle ------------------------------------------------------------------------------------
def to_oracle(e: sc.Expr):
    """SymPy's reading of symcalc's printed text, with the meanings in ``ORACLE``."""
    return sp.sympify(str(e).replace("^", "**"), locals=ORACLE)


def _exact(point: Mapping[str, float]) -> dict:
    return {SYM[name]: sp.Rational(str(v)) for name, v in point.items()}


def value(s, point: Mapping) -> float:
    """The value of the SymPy expression ``s`` at ``point``, computed at 30 digits."""
    subs = point if point and isinstance(next(iter(point)), sp.Symbol) else _exact(point)
    # derivatives are only evaluated away from kinks, where every DiracDelta is 0
    s = sp.sympify(s).replace(sp.DiracDelta, lambda *args: sp.S.Zero)
    try:
        result = s.evalf(DIGITS, subs=subs)
        real, imag = result.as_real_imag()
        usable = real.is_comparable and imag.is_comparable
    except (TypeError, ValueError):  # e.g. Max(0, 0.e-165): SymPy cannot compare a float zero
        usable = False
    if not usable:  # substitute exactly, so that SymPy decides the comparisons, then evaluate
        result = s.xreplace(subs).evalf(DIGITS)
        real, imag = result.as_real_imag()
    assert real.is_number and imag == 0 and real.is_finite, f"{s} at {point} is {result}"
    return float(real)


def close(a: float, b: float, rtol: float = RTOL) -> bool:
    return abs(a - b) <= rtol * max(1.0, abs(a), abs(b))


def near_kink(e: sc.Expr, point: Mapping[str, float], margin: float = 1e-4) -> bool:
    """True when an argument of abs, relu, sign or heaviside in ``e`` is within ``margin`` of 0,
    or two arguments of max or min are within ``margin`` of each other."""
    for node in postorder([e]):
        if isinstance(node, Call) and node.fn.name in KINKS:
            if abs(value(to_oracle(node.args[0]), point)) < margin:
                return True
        if isinstance(node, Call) and node.fn.name in ("max", "min"):
            values = sorted(value(to_oracle(a), point) for a in node.args)
            if any(b - a < margin for a, b in zip(values, values[1:])):
                return True
    return False


def central_difference(s, var: str, point: Mapping[str, float], step) -> float:
    """(f(x + h) - f(x - h)) / 2h for the SymPy expression ``s``, at 30 digits."""
    at = _exact(point)
    up, down = dict(at), dict(at)
    up[SYM[var]] += step
    down[SYM[var]] -= step
    difference = sp.sympify(s).evalf(DIGITS, subs=up) - sp.sympify(s).evalf(DIGITS, subs=down)
    return float(difference / (2 * step))


def assert_matches_finite_differences(derivative: float, s, var: str, point) -> None:
    """The central difference at step h/2 agrees with ``derivative`` to within its own
    truncation error (estimated from the step h) plus a small relative margin."""
    coarse = central_difference(s, var, point, STEP)
    fine = central_difference(s, var, point, STEP / 2)
    allowed = 1e-6 * max(1.0, abs(derivative)) + 2 * abs(coarse - fine)
    assert abs(derivative - fine) <= allowed, (derivative, fine, coarse)


def smooth_points(e: sc.Expr, pts: list[dict[str, float]]) -> list[dict[str, float]]:
    return [p for p in pts if not near_kink(e, p)]


# --- coverage of the strategies --------------------------------------------------------------------
def test_every_registry_function_has_an_oracle_meaning():
    assert set(sc.REGISTRY) <= set(ORACLE)


@pytest.mark.parametrize("name", FUNCTION_NAMES)
@given(data=st.data())
def test_every_registry_function_is_generated_inside_its_domain(name, data):
    f = data.draw(_function_call(name, 2))
    assert sc.parse(f.text) is f.expr
    pt = data.draw(points(1))[0]
    v = value(to_oracle(f.expr), pt)
    assert f.lo - 1e-9 <= v <= f.hi + 1e-9


@pytest.mark.parametrize("op", OPERATORS)
@given(data=st.data())
def test_every_operator_is_generated_inside_its_bounds(op, data):
    f = data.draw(_operation(op, 2))
    assert sc.parse(f.text) is f.expr
    pt = data.draw(points(1))[0]
    v = value(to_oracle(f.expr), pt)
    assert f.lo - 1e-9 <= v <= f.hi + 1e-9


# --- text ------------------------------------------------------------------------------------------
@given(formulas())
def test_parser_and_operators_build_the_same_node(f: Formula):
    assert sc.parse(f.text) is f.expr


@given(formulas(), st.sampled_from(VARIABLES))
def test_printed_text_parses_back_to_the_same_node(f: Formula, var: str):
    for e in (f.expr, sc.diff(f.expr, var)):
        assert sc.parse(str(e)) is e
        assert isinstance(sc.latex(e), str)


@pytest.mark.parametrize("product", [
    "(x^2 + 1)^x*(log(x^2 + 1) + 2*x^2/(x^2 + 1))",  # found by the property above
    "(x + 1)*y", "(x + 1)*(y + 1)", "(x + 1)/y", "(x + 1)*(y + 1)/2", "(x + 1)^2*(y + 1)",
])
def test_a_negated_product_led_by_a_sum_prints_back_to_itself(product):
    # -(a + b)*c must not read back as (-a - b)*c, which is a different node
    negated = -sc.parse(product)
    in_a_sum = negated - sc.symbols("z")
    for node in (negated, in_a_sum):
        assert sc.parse(str(node)) is node, str(node)


@pytest.mark.parametrize("factor", ["1", "sin(x)", "x*sign(x)", "-1", "-y"])
def test_a_number_and_a_sum_below_the_bar_print_back_to_themselves(factor):
    # x/(2*(x + 1)) must not read back as x/(2*x + 2), which is a different node
    x = sc.symbols("x")
    node = sc.parse(factor) / (x + 1) / 2
    assert sc.parse(str(node)) is node, str(node)
    found = sc.diff("sqrt(abs(x) + 1)^x", "x")  # found by the round-trip property
    assert sc.parse(str(found)) is found, str(found)


# --- simplification --------------------------------------------------------------------------------
@given(formulas(), points(3))
def test_simplify_keeps_the_value(f: Formula, pts):
    simple = sc.simplify(f.expr)
    assert sc.simplify(simple) is simple
    before, after = to_oracle(f.expr), to_oracle(simple)
    for p in pts:
        v = value(before, p)
        assert f.lo - 1e-9 <= v <= f.hi + 1e-9  # the strategy keeps its promise
        assert close(v, value(after, p)), (str(f.expr), str(simple), p)


# --- derivatives -----------------------------------------------------------------------------------
@given(formulas(), st.sampled_from(VARIABLES), points(2))
def test_derivative_matches_sympy_and_finite_differences(f: Formula, var: str, pts):
    d = sc.diff(f.expr, var)
    s = to_oracle(f.expr)
    sympy_d = sp.diff(s, SYM[var])
    mine = to_oracle(d)
    for p in smooth_points(f.expr, pts):
        ours = value(mine, p)
        assert close(ours, value(sympy_d, p)), (str(f.expr), var, str(d), p)
        assert_matches_finite_differences(ours, s, var, p)


@given(formulas(), points(2))
def test_reverse_accumulation_matches_forward(f: Formula, pts):
    g = sc.grad(f.expr, VARIABLES)
    assert len(g.graph) == len(g) == len(VARIABLES)
    for p in smooth_points(f.expr, pts):
        for readable, raw in zip(g, g.graph):
            assert close(value(to_oracle(readable), p), value(to_oracle(raw), p))


@given(formulas(3), points(1))
def test_hessian_is_symmetric_and_matches_sympy_and_finite_differences(f: Formula, pts):
    h = sc.hessian(f.expr, VARIABLES)
    n = len(VARIABLES)
    for i in range(n):
        for j in range(n):
            assert h[i][j] is h[j][i]
            assert h.graph[i][j] is h.graph[j][i]
    s = to_oracle(f.expr)
    syms = [SYM[v] for v in VARIABLES]
    expected = sp.hessian(s, syms)
    gradient = [to_oracle(d) for d in sc.grad(f.expr, VARIABLES)]
    for p in smooth_points(f.expr, pts):
        for i, j in combinations_with_replacement(range(n), 2):
            ours = value(to_oracle(h[i][j]), p)
            assert close(ours, value(expected[i, j], p)), (str(f.expr), i, j, str(h[i][j]))
            assert close(ours, value(to_oracle(h.graph[i][j]), p))
            assert_matches_finite_differences(ours, gradient[i], VARIABLES[j], p)


# --- the SymPy bridge ------------------------------------------------------------------------------
@given(formulas(), points(2))
def test_sympy_bridge_agrees_with_the_oracle(f: Formula, pts):
    bridged = sc.to_sympy(f.expr, real=True)
    back = sc.from_sympy(bridged)
    expected = to_oracle(f.expr)
    for p in pts:
        v = value(expected, p)
        assert close(v, value(bridged, _named(bridged, p))), (str(f.expr), bridged)
        assert close(v, value(to_oracle(back), p)), (str(f.expr), str(back))


def _named(s, point: Mapping[str, float]) -> dict:
    """Substitutions for the symbols of ``s``, matched by name."""
    return {sym: sp.Rational(str(point[sym.name])) for sym in s.free_symbols}


# --- code generation -------------------------------------------------------------------------------
def _needs(name: str):
    return pytest.mark.skipif(not hasattr(sc, name), reason=f"symcalc.{name} is not available yet")


@_needs("lambdify")
@given(formulas(), points(4))
def test_lambdify_matches_sympy_lambdify(f: Formula, pts):
    import numpy as np

    compiled = sc.lambdify(f.expr, list(VARIABLES))
    reference = sp.lambdify([SYM[v] for v in VARIABLES], to_oracle(f.expr), modules="math")
    columns = [np.array([p[v] for p in pts]) for v in VARIABLES]
    got = np.asarray(compiled(*columns), dtype=float)
    assert got.shape == (len(pts),)
    for k, p in enumerate(pts):
        want = reference(*(p[v] for v in VARIABLES))
        assert math.isfinite(got[k])
        assert close(float(got[k]), float(want), 1e-8), (str(f.expr), p, got[k], want)


@_needs("lambdify")
@given(formulas(), points(3))
def test_lambdified_gradient_matches_sympy(f: Formula, pts):
    import numpy as np

    g = sc.grad(f.expr, VARIABLES)
    compiled = sc.lambdify(g, list(VARIABLES))
    columns = [np.array([p[v] for p in pts]) for v in VARIABLES]
    got = np.asarray(compiled(*columns), dtype=float)
    assert got.shape == (len(VARIABLES), len(pts))
    s = to_oracle(f.expr)
    for k, p in enumerate(pts):
        if near_kink(f.expr, p):
            continue
        for i, v in enumerate(VARIABLES):
            assert close(float(got[i, k]), value(sp.diff(s, SYM[v]), p), 1e-8), (str(f.expr), v, p)


# --- Taylor polynomials ----------------------------------------------------------------------------
_centres = st.fixed_dictionaries({
    name: st.sampled_from([0, sp.Rational(1, 2), -1, sp.Rational(3, 4)]) for name in VARIABLES[:2]
})


@_needs("taylor")
@given(formulas(3).filter(lambda f: "z" not in {s.name for s in f.expr.free_symbols}),
       _centres, st.integers(0, 3))
def test_taylor_polynomial_has_the_derivatives_of_the_function(f: Formula, centre, order):
    at = {name: float(v) for name, v in centre.items()}
    at["z"] = 0.0
    assume(not near_kink(f.expr, at, margin=1e-2))
    point = {name: sc.as_expr(_fraction(v)) for name, v in centre.items()}
    poly = sc.taylor(f.expr, point, order)
    assert poly.free_symbols <= f.expr.free_symbols
    s, t = to_oracle(f.expr), to_oracle(poly)
    exact = {SYM[name]: sp.Rational(v) for name, v in centre.items()}
    xs = [SYM[v] for v in VARIABLES[:2]]
    for degree in range(order + 1):
        for index in combinations_with_replacement(xs, degree):
            want = value(sp.diff(s, *index) if index else s, exact)
            got = value(sp.diff(t, *index) if index else t, exact)
            assert close(got, want), (str(f.expr), centre, order, index, str(poly))


def _fraction(v):
    from fractions import Fraction

    return Fraction(int(sp.Rational(v).p), int(sp.Rational(v).q))
