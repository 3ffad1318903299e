"""Taylor polynomials against SymPy's series, explicit sums of SymPy derivatives, and the
remainder's order of smallness."""

import importlib
import math
import time
from fractions import Fraction
from itertools import product

import mpmath
import numpy as np
import pytest
import sympy
import sympy.polys.ring_series
import sympy.polys.rings

import symcalc as sc

taylor_module = importlib.import_module("symcalc.calculus.taylor")

X, Y, Z, A = sympy.symbols("x y z a")
SYMPY_NAMES = {
    "e": sympy.E, "pi": sympy.pi, "x": X, "y": Y, "z": Z, "a": A,
    "sigmoid": lambda t: 1 / (1 + sympy.exp(-t)),
    "softplus": lambda t: sympy.log(1 + sympy.exp(t)),
}


def to_sympy(text):
    """SymPy's reading of a formula (symcalc's syntax: ``^`` is a power; decimals are exact)."""
    return sympy.sympify(str(text), locals=SYMPY_NAMES, convert_xor=True, rational=True)


def assert_same(ours, expected):
    difference = sympy.expand(to_sympy(ours) - expected)
    if difference != 0:
        difference = sympy.simplify(difference)
    assert difference == 0, f"{ours}  !=  {expected}"


# (formula, point, order); each is compared with SymPy's series
UNIVARIATE = [
    ("exp(x)", "0", 8), ("exp(x)", "0", 0), ("exp(x)", "1", 5), ("sin(x)", "0", 8),
    ("cos(x)", "0", 8), ("tan(x)", "0", 8), ("tan(x)", "1", 4), ("log(x)", "1", 8),
    ("log(x)", "2", 6), ("log(1 + x)", "0", 8), ("sqrt(x)", "4", 6), ("sqrt(1 + x)", "0", 8),
    ("1/(1 - x)", "0", 8), ("1/(1 + x^2)", "0", 8), ("atan(x)", "0", 8), ("atan(x)", "1", 6),
    ("asin(x)", "0", 7), ("acos(x)", "0", 5), ("sinh(x)", "0", 8), ("cosh(x)", "0", 8),
    ("tanh(x)", "0", 8), ("tanh(x)", "1", 4), ("sigmoid(x)", "0", 8), ("sigmoid(x)", "1", 3),
    ("softplus(x)", "0", 6), ("softplus(x)", "-1", 3), ("erf(x)", "0", 8), ("exp(sin(x))", "0", 6),
    ("sin(x)*exp(x)", "0", 8), ("x^3 - 2*x + 1", "2", 5), ("sin(x)", "pi/2", 6),
    ("cos(x)", "pi", 6), ("sin(x)", "pi/6", 5), ("x^(1/3)", "8", 4), ("exp(-x^2)", "0", 8),
    ("log(x, 2)", "1", 4), ("2^x", "0", 5), ("x^x", "1", 5), ("cos(x)^2", "0", 8),
    ("log(cos(x))", "0", 8), ("x*log(x)", "1", 6), ("sin(x)", "a", 4), ("exp(x)", "1/3", 3),
]


@pytest.mark.parametrize("formula, at, order", UNIVARIATE)
def test_univariate_matches_sympy_series(formula, at, order):
    ours = sc.taylor(formula, {"x": at}, order)
    expected = sympy.series(to_sympy(formula), X, to_sympy(at), order + 1).removeO()
    assert_same(ours, expected)


@pytest.mark.parametrize("formula", ["tan(x)", "atan(x)", "tanh(x)"])
def test_high_orders_stay_fast(formula):
    start = time.perf_counter()
    ours = sc.taylor(formula, {"x": 0}, 20)
    assert time.perf_counter() - start < 5
    assert_same(ours, sympy.series(to_sympy(formula), X, 0, 21).removeO())


def explicit_taylor_sum(f, point, order):
    """sum over |alpha| <= order of D^alpha f(a) / alpha! * prod (x - a)^alpha, by SymPy."""
    xs = list(point)
    total = 0
    for alpha in product(range(order + 1), repeat=len(xs)):
        if sum(alpha) > order:
            continue
        spec = [v for x, k in zip(xs, alpha) for v in (x, k) if k]
        d = sympy.diff(f, *spec) if spec else f
        weight = math.prod(math.factorial(k) for k in alpha)
        monomial = math.prod((x - point[x]) ** k for x, k in zip(xs, alpha))
        total += d.subs(point) / weight * monomial
    return total


MULTIVARIATE = [
    ("exp(x)*sin(y)", {"x": "0", "y": "1"}, 2),
    ("exp(x)*sin(y)", {"x": "0", "y": "0"}, 5),
    ("x^2*y + y^3", {"x": "1", "y": "-1"}, 3),
    ("log(1 + x^2 + y^2)", {"x": "0", "y": "0"}, 6),
    ("exp(x*y)*sin(x + y)", {"x": "0", "y": "0"}, 5),
    ("sqrt(x^2 + y^2)", {"x": "3", "y": "4"}, 3),
    ("sigmoid(x*y + z)", {"x": "1", "y": "0", "z": "0"}, 3),
    ("x*y*z + cos(x - z)", {"x": "0", "y": "2", "z": "1"}, 4),
    ("(1 - x)^2 + 100*(y - x^2)^2", {"x": "-6/5", "y": "1"}, 2),
    ("atan(y/x)", {"x": "1", "y": "1"}, 3),
    ("softplus(x - y)", {"x": "0", "y": "0"}, 4),
    ("exp(x + 2*y)", {"x": "a", "y": "0"}, 3),
    ("log(x)*y^2", {"x": "e", "y": "1"}, 3),
]


@pytest.mark.parametrize("formula, point, order", MULTIVARIATE)
def test_multivariate_matches_explicit_sum_of_sympy_derivatives(formula, point, order):
    ours = sc.taylor(formula, point, order)
    sympy_point = {to_sympy(k): to_sympy(v) for k, v in point.items()}
    assert_same(ours, explicit_taylor_sum(to_sympy(formula), sympy_point, order))


@pytest.mark.parametrize("formula, point, order", MULTIVARIATE[:6] + [("tan(x)", {"x": "1"}, 4)])
def test_displacement_form_is_the_same_polynomial(formula, point, order):
    shifted = sc.taylor(formula, point, order, displacement=True)
    back = {f"d{k}": f"{k} - ({v})" for k, v in point.items()}
    assert {s.name for s in shifted.free_symbols} <= set(back)
    assert_same(sc.subs(shifted, back), to_sympy(sc.taylor(formula, point, order)))


def test_displacement_names_avoid_variables_in_use():
    result = sc.taylor("x*dx", {"x": 1, "dx": 2}, 2, displacement=True)
    names = {s.name for s in result.free_symbols}
    assert names == {"d_x", "ddx"}
    assert_same(sc.subs(result, {"d_x": "x - 1", "ddx": "dx - 2"}), X * sympy.Symbol("dx"))


def test_parameters_mapped_to_themselves_are_not_expanded():
    ours = sc.taylor("exp(a*x)", {"x": 0, "a": "a"}, 4)
    assert_same(ours, sympy.series(sympy.exp(A * X), X, 0, 5).removeO())


@pytest.mark.parametrize("formula, point, order", [
    ("(1 + x)^k", {"x": "0"}, 2),
    ("(1 + x)^k", {"x": "0"}, 4),
    ("exp(a*x)", {"x": "0"}, 4),
    ("exp(a*x)*sin(k*y)", {"x": "0", "y": "1"}, 2),
    ("log(x + k)", {"x": "1"}, 3),
])
def test_variables_the_point_does_not_name_are_parameters(formula, point, order):
    ours = sc.taylor(formula, point, order)
    names = {**SYMPY_NAMES, "k": sympy.Symbol("k")}
    f = sympy.sympify(formula, locals=names, convert_xor=True)
    at = {names[v]: sympy.sympify(a) for v, a in point.items()}
    expected = explicit_taylor_sum(f, at, order)
    difference = sympy.simplify(sympy.sympify(str(ours), locals=names, convert_xor=True) - expected)
    assert difference == 0, (ours, expected)
    # the same as mapping the parameters to themselves
    free = {s.name for s in sc.parse(formula).free_symbols} - set(point)
    assert ours is sc.taylor(formula, {**point, **{v: v for v in free}}, order)


def test_binomial_series_with_a_parameter():
    k, x = sympy.symbols("k x")
    ours = sc.taylor("(1 + x)^k", {"x": 0}, order=2)
    expected = 1 + k * x + k * (k - 1) * x**2 / 2
    assert sympy.expand(sc.to_sympy(ours) - expected) == 0
    assert sympy.expand(sympy.series((1 + x)**k, x, 0, 3).removeO() - expected) == 0


def test_a_point_variable_the_formula_does_not_have_changes_nothing():
    assert sc.taylor("exp(x)", {"y": 0}, 3) is sc.parse("exp(x)")
    assert sc.taylor("x*y", {"x": 1, "z": 5}, 2) is sc.taylor("x*y", {"x": 1}, 2)


def test_keys_may_be_symbols_and_values_numbers_or_expressions():
    x, y = sc.symbols("x y")
    ours = sc.taylor(sc.exp(x) * sc.sin(y), {x: 0.5, y: sc.parse("pi/4")}, 2)
    point = {X: sympy.Rational(1, 2), Y: sympy.pi / 4}
    assert_same(ours, explicit_taylor_sum(sympy.exp(X) * sympy.sin(Y), point, 2))


def test_coefficients_stay_exact():
    result = sc.taylor("exp(x)", {"x": 0}, 8)
    numbers = [n.value for n in sc.core.expr.postorder([result]) if isinstance(n, sc.Num)]
    assert numbers and all(isinstance(v, (int, Fraction)) for v in numbers)
    expected = sympy.Poly(sympy.series(sympy.exp(X), X, 0, 9).removeO(), X)
    assert sympy.Poly(to_sympy(result), X) == expected  # rational coefficients, term by term


def test_one_series_propagation_per_coefficient_of_the_leading_variables(monkeypatch):
    calls = []
    original = taylor_module.coefficients

    def counting(e, x, a, order):
        calls.append((e, x, order))
        return original(e, x, a, order)

    monkeypatch.setattr(taylor_module, "coefficients", counting)
    sc.taylor("exp(x + 2*y + 3*z)", {"x": 0, "y": 0, "z": 0}, 4)
    # one for f, one per coefficient in x (degree 0..4), one per pair of degrees in x, y (<= 4)
    assert len(calls) == 1 + 5 + math.comb(4 + 2, 2)
    assert [order for _, _, order in calls[1:6]] == [4, 3, 2, 1, 0]  # each to the degree left
    calls.clear()
    sc.taylor("x^2*y", {"x": 1, "y": 1}, 8)  # a polynomial: zero coefficients are not expanded
    assert len(calls) == 1 + 3


def test_order_20_and_three_variables_at_order_6():
    ours = sc.taylor("exp(sin(x))/(1 + x^2)", {"x": 0}, 20)
    several = sc.taylor("exp(x*y)*sin(x + z)/(1 + y^2)", {"x": 0, "y": 0, "z": 0}, 6)
    # SymPy's series arithmetic (sympy.series itself takes minutes at this order)
    ring, t = sympy.polys.rings.ring("x", sympy.QQ)
    rs = sympy.polys.ring_series
    expected = rs.rs_mul(rs.rs_exp(rs.rs_sin(t, t, 21), t, 21),
                         rs.rs_series_inversion(1 + t**2, t, 21), t, 21)
    assert sympy.Poly(to_sympy(ours), X) == sympy.Poly(expected.as_expr(), X)
    f = sympy.exp(X * Y) * sympy.sin(X + Z) / (1 + Y**2)
    s = sympy.Symbol("s")
    for u, v, w in [(1, 2, -1), (3, -1, 2), (1, 0, 5)]:  # along lines: SymPy's univariate series
        line = {X: u * s, Y: v * s, Z: w * s}
        expected = sympy.series(f.subs(line), s, 0, 7).removeO()
        assert sympy.expand(to_sympy(several).subs(line) - expected) == 0


@pytest.mark.parametrize("formula, at, order", [
    ("exp(x)", "1/2", 2), ("sin(x)", "1", 3), ("log(x)", "2", 4), ("sigmoid(x)", "1", 5),
    ("atan(x)", "1/3", 6),
])
def test_remainder_shrinks_like_h_to_the_order_plus_one(formula, at, order):
    a = to_sympy(at)
    remainder = to_sympy(formula) - to_sympy(sc.taylor(formula, {"x": at}, order))
    assert_slope(lambda h: remainder.subs(X, a + h), order + 1)


def test_multivariate_remainder_shrinks_like_h_to_the_order_plus_one():
    order = 2
    polynomial = to_sympy(sc.taylor("exp(x)*sin(y)", {"x": 0, "y": 1}, order))
    f = sympy.exp(X) * sympy.sin(Y)
    assert_slope(lambda h: (f - polynomial).subs({X: h, Y: 1 - 2 * h}), order + 1)


def assert_slope(remainder_at, expected):
    """The log-log slope of |remainder(h)| over h = 2^-6 ... 2^-11, in 60-digit arithmetic."""
    h = sympy.Symbol("h")
    remainder = sympy.lambdify(h, remainder_at(h), "mpmath")
    steps = [mpmath.mpf(2) ** -k for k in range(6, 12)]
    with mpmath.workdps(60):
        errors = [abs(remainder(step)) for step in steps]
    slope = np.polyfit(np.log([float(s) for s in steps]), np.log([float(e) for e in errors]), 1)[0]
    assert abs(slope - expected) < 0.1, slope


# --- errors ----------------------------------------------------------------------------------------


def test_negative_order():
    with pytest.raises(ValueError, match=">= 0"):
        sc.taylor("exp(x)", {"x": 0}, -1)


@pytest.mark.parametrize("order", [2.5, "3", True, None])
def test_non_integer_order(order):
    with pytest.raises(TypeError, match="integer"):
        sc.taylor("exp(x)", {"x": 0}, order)


@pytest.mark.parametrize("formula, at, order", [
    ("log(x)", 0, 3), ("log(x)", 0, 0), ("log(x)", -1, 2), ("1/x", 0, 2), ("sqrt(x)", 0, 1),
    ("sqrt(x)", -1, 0), ("x*log(x)", 0, 2), ("asin(x)", 1, 1), ("asin(x)", 2, 0),
    ("x^(3/2)", -3, 1),
])
def test_undefined_at_the_point(formula, at, order):
    with pytest.raises(ValueError, match="undefined"):
        sc.taylor(formula, {"x": at}, order)


def test_overflowing_but_exact_coefficients_are_fine():
    ours = sc.taylor("exp(x)*log(x)", {"x": 1000}, 2)
    expected = sympy.series(sympy.exp(X) * sympy.log(X), X, 1000, 3).removeO()
    assert_same(ours, expected)


def test_point_value_depending_on_an_expanded_variable():
    with pytest.raises(ValueError, match="depends on the expanded variable"):
        sc.taylor("x*y", {"x": "y", "y": 0}, 2)


def test_point_must_be_a_mapping():
    with pytest.raises(TypeError, match="mapping"):
        sc.taylor("exp(x)", [0], 2)


# --- corners and jumps: abs, relu, sign, heaviside, max and min -------------------------------
@pytest.mark.parametrize("formula, point, order", [
    ("abs(x)", {"x": 0}, 2), ("abs(x)", {"x": 0}, 1), ("relu(x)", {"x": 0}, 3),
    ("relu(x - 1)", {"x": 1}, 1), ("sign(x)", {"x": 0}, 1), ("heaviside(x)", {"x": 0}, 1),
    ("sign(x^2)", {"x": 0}, 1), ("abs(sin(x))", {"x": 0}, 1), ("relu(x^3)", {"x": 0}, 3),
    ("x*abs(x)", {"x": 0}, 2), ("abs(x - y)", {"x": 1, "y": 1}, 1),
    ("max(x, y, z)", {"x": 0, "y": 0, "z": 0}, 1), ("max(x, 1/2, 1)", {"x": 1}, 2),
    ("min(x, 2*x)", {"x": 0}, 1), ("max(x, y)", {"x": 2, "y": 2}, 2),
])
def test_no_taylor_polynomial_at_a_corner_or_a_jump(formula, point, order):
    with pytest.raises(sc.DomainError, match="no Taylor expansion.*(corner|jump|kink)"):
        sc.taylor(formula, point, order)


@pytest.mark.parametrize("formula, same_as, at, order", [
    # where the argument of abs or relu touches 0 at an even order, it keeps its sign: smooth
    ("abs(x^2)", "x^2", "0", 4), ("abs(cos(x) - 1)", "1 - cos(x)", "0", 6),
    ("relu(-x^2)", "0", "0", 3), ("relu(x^4 + x^5)", "x^4 + x^5", "0", 6),
    ("relu(x^3)", "0", "0", 2), ("abs(x)", "x", "1", 3), ("abs(x)", "-x", "-2", 3),
    ("relu(x)", "0", "-1", 2), ("max(x, 1, 1)", "1", "0", 2), ("max(x, 2*x, 3)", "3", "1", 2),
    ("sign(x)*x", "-x", "-1", 2), ("abs(x)", "0", "0", 0),
])
def test_away_from_corners_and_at_even_touching_points_taylor_is_the_smooth_one(formula, same_as,
                                                                                 at, order):
    ours = sc.taylor(formula, {"x": at}, order)
    expected = sympy.series(to_sympy(same_as), X, to_sympy(at), order + 1).removeO()
    assert_same(ours, expected)
