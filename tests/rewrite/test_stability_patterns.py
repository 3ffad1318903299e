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
from hypothesis import given, settings
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


# --- hand-written exponential forms at margins up to +-1000, with first and second derivatives ----
# The templates above are drawn with arguments in [-2, 2] and only their values and gradients are
# compared, so a form that overflows only past |u| = 710, or only in its second derivative, passes
# them; nor did they write the logistic, log-softmax or log-sum-exp out by hand.  Here each of
# those shapes, negated, scaled and nested, is compared at points up to +-1000 with SymPy's own
# derivatives of an independent reading, evaluated by mpmath at enough digits that no cancellation
# of terms of size exp(6000) survives.
import mpmath  # noqa: E402

HAND_WRITTEN = [
    "-{c}*log(1/(1 + exp(-{u}))) - (1 - {c})*log(1 - 1/(1 + exp(-{u})))",  # logistic loss
    "1/(1 + exp(-{u}))", "1 - 1/(1 + exp({u}))", "log(1/(1 + exp(-{u})))",
    "exp({u})/(exp({u}) + exp({v}))", "exp({u})/(exp({u}) + exp({v}) + exp({w}))",
    "log(exp({u})/(exp({u}) + exp({v}) + exp({w})))", "log(exp({u})/(1 + exp({u})))",
    "log(exp({u}) + exp({v}))", "log(exp({u}) + exp({u}))", "log(exp({u}) + exp(-({u})))",
    "log(2*exp({u}) + exp({v}) + 3)", "log(cosh({u}))", "log1p(exp({u}))", "log(1 + exp({u}))",
]
# arguments reach +-2000 at the margins; some are the shapes themselves (nesting)
MARGIN_ARGUMENTS = ["x", "-y", "2*z", "x - y", "-z/2", "x/2 + y", "3", "log(exp(x) + exp(y))",
                    "log1p(exp(z))", "log(cosh(y))", "1/(1 + exp(-x))"]
SAFE_TERMS = ["x", "1", "y^2/1000", "sin(x)*y", "log(1 + y^2)", "tanh(z)"]
MARGINS = [-1000.0, -800.0, -745.5, -710.0, -40.0, -1.5, 0.0, 0.25, 2.0, 40.0, 710.0, 745.5,
           800.0, 1000.0]
REFERENCE_DIGITS = 3000
MEANINGS_AT_MARGINS = {**MEANINGS, "log1p": lambda a: sp.log(1 + a), "cosh": sp.cosh}


@st.composite
def hand_written(draw) -> str:
    """One or two hand-written shapes, negated or scaled, among zero to two safe terms."""
    pieces = []
    for _ in range(draw(st.integers(1, 2))):
        arguments = st.sampled_from(MARGIN_ARGUMENTS)
        pattern = draw(st.sampled_from(HAND_WRITTEN)).format(
            u=draw(arguments), v=draw(arguments), w=draw(arguments),
            c=draw(st.sampled_from(["0", "1", "0.25"])))
        scale = draw(st.sampled_from(["", "-", "2*", "-0.5*"]))
        pieces.append(f"{scale}({pattern})")
    pieces += draw(st.lists(st.sampled_from(SAFE_TERMS), max_size=2))
    signs = draw(st.lists(st.sampled_from([" + ", " - "]), min_size=len(pieces),
                          max_size=len(pieces)))
    return "".join(sign + piece for sign, piece in zip(signs, pieces)).lstrip(" +")


margin_points = st.lists(st.one_of(st.sampled_from(MARGINS), st.floats(-1000.0, 1000.0)),
                         min_size=3, max_size=3)


def exact(s, points) -> list[float]:
    """``s`` at each point (floats, taken exactly) with REFERENCE_DIGITS digits, as floats."""
    f = sp.lambdify([SYM[n] for n in VARIABLES], s, "mpmath")
    with mpmath.workdps(REFERENCE_DIGITS):
        return [float(f(*(mpmath.mpf(v) for v in p))) for p in points]


def near(got: float, want: float) -> bool:
    return abs(got - want) <= 1e-9 * max(1.0, abs(want))


@settings(max_examples=max(10, settings.default.max_examples // 3))  # 20 in CI, more with --slow
@given(hand_written(), st.lists(margin_points, min_size=3, max_size=3))
def test_hand_written_forms_and_their_derivatives_at_margins_up_to_1000(text, pts):
    s = sp.sympify(text.replace("^", "**"), locals=MEANINGS_AT_MARGINS)
    gradient, hessian = sc.grad(text, VARIABLES), sc.hessian(text, VARIABLES)
    outputs = [(sc.parse(text), s)]
    outputs += [(gradient[i], sp.diff(s, SYM[a])) for i, a in enumerate(VARIABLES)]
    outputs += [(hessian[i][j], sp.diff(s, SYM[a], SYM[b])) for i, a in enumerate(VARIABLES)
                for j, b in enumerate(VARIABLES) if i <= j]
    wants = [exact(want, pts) for _, want in outputs]
    compiled = [sc.lambdify(text, VARIABLES), sc.lambdify(gradient, VARIABLES),
                sc.lambdify(hessian, VARIABLES)]
    columns = [np.array([p[k] for p in pts]) for k in range(3)]
    for k, p in enumerate(pts):
        at_point = [compiled[0](*p), *compiled[1](*p), *np.asarray(compiled[2](*p)).ravel()]
        on_arrays = [compiled[0](*columns)[k], *compiled[1](*columns)[:, k],
                     *np.asarray(compiled[2](*columns))[:, :, k].ravel()]
        entries = [0, 1, 2, 3, 4, 5, 6, 8, 9, 12]  # the value, the gradient, the upper Hessian
        for n, (expr, _) in enumerate(outputs):
            for got in (at_point[entries[n]], on_arrays[entries[n]]):
                assert near(float(got), wants[n][k]), (text, str(expr), p, got, wants[n][k])


# --- the hand-written forms one by one: values, derivatives and their printed forms -------------
from oracle import check_derivative, check_hessian  # noqa: E402
from symcalc.compiler.program import program  # noqa: E402

LOGISTIC_LOSS = "-y*log(1/(1 + exp(-z))) - (1 - y)*log(1 - 1/(1 + exp(-z)))"


def assert_exact_at(result, text: str, names: list[str], points: list[tuple[float, ...]],
                    wrt: tuple[str, ...] = ()) -> None:
    """The compiled ``result`` (the formula ``text`` differentiated by ``wrt``, or its gradient or
    Hessian) at single points and at all of them as arrays equals SymPy's own derivatives of
    ``text`` evaluated at REFERENCE_DIGITS."""
    symbols = [sp.Symbol(n, real=True) for n in names]
    s = sp.sympify(text.replace("^", "**"), locals={**MEANINGS_AT_MARGINS, **dict(zip(names, symbols))})
    s = sp.diff(s, *(symbols[names.index(n)] for n in wrt)) if wrt else s
    entries = np.asarray(result, dtype=object)
    wants = np.empty(entries.shape + (len(points),))
    for index in np.ndindex(entries.shape):  # index: one variable per axis of the result
        derivative = sp.diff(s, *(symbols[k] for k in index)) if index else s
        f = sp.lambdify(symbols, derivative, "mpmath")
        with mpmath.workdps(REFERENCE_DIGITS):
            wants[index] = [float(f(*(mpmath.mpf(v) for v in p))) for p in points]
    compiled = sc.lambdify(result, names)
    on_arrays = np.asarray(compiled(*(np.array(column) for column in zip(*points))))
    for k, p in enumerate(points):
        at_point = np.asarray(compiled(*p), dtype=float)
        for index in np.ndindex(entries.shape):
            for got in (at_point[index], on_arrays[index + (k,)]):
                assert near(float(got), wants[index + (k,)]), (text, index, p, got)


def test_the_explicit_logistic_loss_is_written_with_sigmoid_and_stays_finite():
    gradient = sc.grad(LOGISTIC_LOSS, ["y", "z"])
    assert gradient[1] is sc.parse("sigmoid(z) - y")  # as for the loss written with sigmoid
    check_derivative(LOGISTIC_LOSS, "z", gradient[1], domain={"y": (0, 1), "z": (-3, 3)})
    hessian = sc.hessian(LOGISTIC_LOSS, ["y", "z"])
    check_hessian(LOGISTIC_LOSS, ["y", "z"], hessian, domain={"y": (0, 1), "z": (-3, 3)})
    points = [(1.0, 745.0), (1.0, 1000.0), (0.0, -1000.0), (0.25, -745.0), (0.5, 0.5)]
    for result in (sc.parse(LOGISTIC_LOSS), gradient, hessian):
        assert_exact_at(result, LOGISTIC_LOSS, ["y", "z"], points)


@pytest.mark.parametrize("text, derivative", [
    ("1/(1 + exp(-z))", "sigmoid(-z)*sigmoid(z)"),
    ("log(1/(1 + exp(-z)))", "sigmoid(-z)"),
    ("log(1 - 1/(1 + exp(-z)))", "-sigmoid(z)"),
    ("log(cosh(z))", "tanh(z)"),
])
def test_derivatives_of_hand_written_forms_print_as_a_person_writes_them(text, derivative):
    d = sc.diff(text, "z")
    assert d is sc.parse(derivative)
    check_derivative(text, "z", d)
    assert_exact_at(d, text, ["z"], [(v,) for v in (-1000.0, -745.0, -1.5, 0.25, 745.0, 1000.0)],
                    wrt=("z",))


def test_log_cosh_and_its_derivatives_at_large_arguments():
    d2 = sc.diff("log(cosh(x))", "x", 2)
    assert d2 is sc.parse("1 - tanh(x)^2")
    check_derivative("log(cosh(x))", ("x", 2), d2)
    assert_exact_at(d2, "log(cosh(x))", ["x"], [(-1000.0,), (0.5,), (711.0,)], wrt=("x", "x"))
    points = [(v,) for v in (-1000.0, -711.0, -0.5, 711.0, 800.0)]
    for result in ("log(cosh(x))", sc.grad("log(cosh(x))", ["x"]), sc.hessian("log(cosh(x))", ["x"])):
        assert_exact_at(result, "log(cosh(x))", ["x"], points)


@pytest.mark.parametrize("text", [
    "log1p(exp(x))", "log(exp(x) + exp(x))", "log(exp(x) + exp(-x))", "-log(exp(x) + exp(-x))",
    "exp(x)/(exp(x) + exp(-x))", "log(exp(x)/(exp(x) + 1))", "2*log(cosh(x)) - log1p(exp(-x))",
])
def test_hand_written_forms_of_one_variable_to_the_second_derivative(text):
    points = [(v,) for v in (-1000.0, -800.0, -745.0, -2.0, 0.5, 745.0, 800.0, 1000.0)]
    for result in (text, sc.grad(text, ["x"]), sc.hessian(text, ["x"])):
        assert_exact_at(result, text, ["x"], points)


def test_an_exponential_times_an_overflowing_expm1_takes_its_large_part_into_the_exponent():
    # log(S + 1/S), S = exp(x) + exp(y): its derivatives hold exp(x - ...)*expm1(-2*log(S))^k,
    # which at x = y = -1000 is 0*inf unless the large part of expm1 joins the exponent
    text = "log(exp(log(exp(x) + exp(y))) + exp(-(log(exp(x) + exp(y)))))"
    points = [(-1000.0, -1000.0), (-800.0, 3.0), (0.3, 0.1), (5.0, -3.0), (700.0, 710.0)]
    for result in (text, sc.grad(text, ["x", "y"]), sc.hessian(text, ["x", "y"])):
        assert_exact_at(result, text, ["x", "y"], points)
    plus_loss = text + " - log(1 - 1/(1 + exp(-x)))"
    for result in (sc.grad(plus_loss, ["x", "y"]), sc.hessian(plus_loss, ["x", "y"])):
        assert_exact_at(result, plus_loss, ["x", "y"], points)


def test_second_derivatives_of_a_softmax_ratio_with_a_nested_log_sum_exp():
    # the Hessian holds products of squares of four-term sums of exponentials: multiplied out
    # they are 30-odd terms, which must all meet the -3*logsumexp(...) before anything overflows
    text = "exp(x - y)/(exp(x - y) + exp(x/2 + y) + exp(log(exp(x) + exp(y))))"
    points = [(-1000.0, 710.0), (-1000.0, -1000.0), (0.3, 0.1), (800.0, -5.0), (5.0, 745.0)]
    for result in (text, sc.grad(text, ["x", "y"]), sc.hessian(text, ["x", "y"])):
        assert_exact_at(result, text, ["x", "y"], points)


def test_log_softmax_written_out_is_logsumexp_minus_its_argument():
    text = "-log(exp(z1)/(exp(z1) + exp(z2) + exp(z3)))"
    names = ["z1", "z2", "z3"]
    (root,) = program(text, names).roots  # the compiled code: no exp left to overflow
    assert sc.simplify(root) is sc.parse("logsumexp(z1, z2, z3) - z1")
    points = [(1000.0, 0.0, -1000.0), (-1000.0, 0.0, 1000.0), (0.5, -0.25, 2.0)]
    for result in (text, sc.grad(text, names), sc.hessian(text, names)):
        assert_exact_at(result, text, names, points)


def test_hessians_of_hand_written_log_sum_exp_and_softmax_ratios():
    hessian = sc.lambdify(sc.hessian("log(exp(x) + exp(y))", ["x", "y"]), ["x", "y"])
    for v in (1000.0, -1000.0):
        np.testing.assert_allclose(hessian(v, v), [[0.25, -0.25], [-0.25, 0.25]], rtol=1e-12)
    points = [(1000.0, 1000.0), (-1000.0, -1000.0), (1000.0, -1000.0), (3.0, -745.0)]
    assert_exact_at(sc.hessian("log(exp(x) + exp(y))", ["x", "y"]), "log(exp(x) + exp(y))",
                    ["x", "y"], points)
    ratio, names = "exp(w*x)/(exp(w*x) + exp(b))", ["w", "x", "b"]
    points = [(1000.0, 1.0, 0.0), (-1000.0, 1.0, 0.0), (1.0, 745.0, 740.0), (0.5, 2.0, -1.0)]
    for result in (ratio, sc.grad(ratio, names), sc.hessian(ratio, names)):
        assert_exact_at(result, ratio, names, points)


def test_exps_of_a_product_are_one_exp_in_the_compiled_code():
    # exp(x + y - 2*L) = 1/4 at x = y = 1000; the three factors are inf, inf and 0
    f = sc.lambdify("exp(x)*exp(y)*exp(-2*logsumexp(x, y))", ["x", "y"])
    assert f(1000.0, 1000.0) == pytest.approx(0.25, rel=1e-12)
    assert f(np.array([1000.0, -1000.0]), np.array([1000.0, -1000.0])) == pytest.approx(0.25, rel=1e-12)
    g = sc.lambdify("sinh(x)/(1 + cosh(x)) + sigmoid(x)^2*exp(-x)", ["x"])
    assert_exact_at(sc.parse("sinh(x)/(1 + cosh(x)) + sigmoid(x)^2*exp(-x)"),
                    "sinh(x)/(1 + cosh(x)) + sigmoid(x)^2*exp(-x)", ["x"],
                    [(v,) for v in (-1000.0, -800.0, 0.5, 800.0, 1000.0)])
    assert np.isfinite(g(1000.0)) and np.isfinite(g(-1000.0))


# --- the logistic forms of u = log(g), g positive: exp(-log(g)) is simplified to 1/g ------------
# 1/(1 + 1/g) is sigmoid(log(g)) only where g > 0 (for g = -2 the first is 2, the second nan), so
# the simplifier reads g^-k as exp(-k*log(g)) only for a g it knows to be positive; the logistic
# loss of such a u then keeps its sigmoid form and its derivatives stay finite at +-1000.
from symcalc.functions.elementary import REGISTRY  # noqa: E402
from symcalc.rewrite.patterns import is_positive  # noqa: E402

POSITIVE_INSIDE = ["cosh(y)", "sqrt(1 + y^2)", "2*cosh(y)", "cosh(y)^2", "exp(y/2) + exp(-y)"]
LOSS_OF_LOG = "-0.25*log(1/(1 + {r})) - 0.75*log(1 - 1/(1 + {r}))"
ONE_VARIABLE_MARGINS = [(v,) for v in (-1000.0, -745.5, -40.0, -1.5, 0.0, 0.25, 40.0, 710.0, 1000.0)]


def test_the_registry_marks_as_positive_only_functions_positive_everywhere():
    x = sp.Symbol("x", real=True)
    marked = [fn for fn in REGISTRY.values() if fn.positive]
    assert {fn.name for fn in marked} >= {"exp", "cosh", "sigmoid", "softplus"}
    for fn in marked:
        s = fn.sympy(sp, x)
        for v in (-60, -7, -1, 0, sp.Rational(1, 3), 2, 60):
            assert sp.N(s.subs(x, v), 30) > 0, (fn.name, v)
    for fn in ("sinh", "tanh", "sin", "log", "erf", "relu", "sqrt", "abs"):
        assert not REGISTRY[fn].positive, fn


@pytest.mark.parametrize("text, positive", [
    ("cosh(x)", True), ("1 + x^2", True), ("sqrt(1 + x^2)", True), ("2*exp(x)*cosh(y)", True),
    ("x^2 + abs(y) + 1/2", True), ("2^x", True), ("sigmoid(x)^(-3)", True),
    ("x", False), ("x^2", False), ("x^2 - 1", False), ("-cosh(x)", False), ("sinh(x) + 2", False),
    ("cosh(x) - 1", False), ("sqrt(x)", False), ("log(x)", False), ("1 + x^3", False),
])
def test_which_formulas_are_known_positive(text, positive):
    assert is_positive(sc.parse(text)) is positive


@pytest.mark.parametrize("g", POSITIVE_INSIDE)
@pytest.mark.parametrize("written", ["exp(-log({g}))", "1/({g})"])
def test_the_logistic_loss_of_a_log_and_its_derivatives_at_plus_minus_1000(g, written):
    text = LOSS_OF_LOG.format(r=written.format(g=g))
    d, d2 = sc.diff(text, "y"), sc.diff(text, "y", 2)
    assert "sigmoid" in str(sc.simplify(text)), str(sc.simplify(text))
    check_derivative(text, "y", d)
    check_derivative(text, ("y", 2), d2)
    for result, wrt in ((text, ()), (d, ("y",)), (d2, ("y", "y")), (sc.hessian(text, ["y"]), ())):
        assert_exact_at(result, text, ["y"], ONE_VARIABLE_MARGINS, wrt=wrt)


@pytest.mark.parametrize("written", ["exp(-log(cosh(y)))", "1/cosh(y)"])
def test_the_logistic_loss_of_log_cosh_reads_as_that_of_a_symbol(written):
    # with u a symbol the derivative is sigmoid(u) - 1/4; with u = log(cosh(y)) it is that times
    # u' = tanh(y), whether exp(-u) is written as an exp or as 1/cosh(y)
    text = LOSS_OF_LOG.format(r=written)
    assert sc.diff(LOSS_OF_LOG.format(r="exp(-u)"), "u") is sc.parse("(4*sigmoid(u) - 1)/4")
    d = sc.diff(text, "y")
    assert d is sc.parse("tanh(y)*(4*sigmoid(log(cosh(y))) - 1)/4"), str(d)
    assert sc.simplify(f"1/(1 + {written})") is sc.parse("sigmoid(log(cosh(y)))")
    assert sc.diff(f"log(1/(1 + {written}))", "y") is sc.parse("sigmoid(-log(cosh(y)))*tanh(y)")
    assert sc.diff(f"log(1 - 1/(1 + {written}))", "y") is sc.parse("-sigmoid(log(cosh(y)))*tanh(y)")
    check_derivative(text, "y", d)


@pytest.mark.parametrize("text, derivative", [
    (LOSS_OF_LOG.format(r="1/(2*cosh(y))"), "tanh(y)*(4*sigmoid(log(2) + log(cosh(y))) - 1)/4"),
    ("log(1/(1 + 1/(2*cosh(y))))", "sigmoid(-log(2) - log(cosh(y)))*tanh(y)"),
    ("1/(1 + 3/sqrt(1 + y^2))", "y*sigmoid(log(3) - log(1 + y^2)/2)^2/(3*sqrt(1 + y^2))"),
])
def test_a_number_in_the_reciprocal_joins_the_sigmoid_argument_as_a_log(text, derivative):
    d = sc.diff(text, "y")
    assert d is sc.parse(derivative), str(d)
    check_derivative(text, "y", d)
    assert_exact_at(d, text, ["y"], ONE_VARIABLE_MARGINS, wrt=("y",))


@pytest.mark.parametrize("text, points", [
    ("1/(1 + 1/x)", [(-3.0,), (-0.5,), (0.25,), (4.0,)]),
    ("1/(1 + 1/sin(x))", [(-2.0,), (-0.5,), (1.0,)]),
    ("-log(1/(1 + 1/(x - 1)))", [(-3.0,), (2.5,)]),
    ("1/(1 + (x^2 - 4)^(-3))", [(-1.0,), (0.5,), (3.0,)]),
])
def test_a_reciprocal_of_what_may_be_negative_is_not_read_as_an_exp(text, points):
    # where g < 0 these have values and sigmoid(log(g)) would be nan: they keep their form
    for result in (sc.parse(text), sc.diff(text, "x"), sc.diff(text, "x", 2)):
        assert "sigmoid" not in str(sc.simplify(result))
    check_derivative(text, "x", sc.diff(text, "x"))
    for result, wrt in ((text, ()), (sc.diff(text, "x"), ("x",)), (sc.diff(text, "x", 2), ("x", "x"))):
        assert_exact_at(result, text, ["x"], points, wrt=wrt)


@pytest.mark.parametrize("written", ["exp(-log(cosh(y)))", "1/cosh(y)", "exp(-log(sqrt(1 + y^2)))"])
def test_the_logistic_loss_of_a_log_entrywise_on_a_vector(written):
    text = LOSS_OF_LOG.format(r=written)
    loss = sc.parse(f"sum({text})", shapes={"y": "n"})
    gradient, hessian = sc.grad(loss, "y"), sc.hessian(loss, "y")
    values = np.array([-1000.0, -745.5, -1.5, 0.0, 0.25, 745.5, 1000.0])
    y = sp.Symbol("y", real=True)
    s = sp.sympify(text.replace("^", "**"), locals={**MEANINGS_AT_MARGINS, "y": y})
    for result, want in ((gradient, sp.diff(s, y)), (hessian, sp.diff(s, y, 2))):
        got = np.asarray(sc.lambdify(result, ["y"])(values))
        got = np.diagonal(got) if got.ndim == 2 else got
        f = sp.lambdify([y], want, "mpmath")
        with mpmath.workdps(REFERENCE_DIGITS):
            expected = [float(f(mpmath.mpf(v))) for v in values]
        for v, a, b in zip(values, got, expected):
            assert near(float(a), b), (written, str(result), v, a, b)
    if written == "1/cosh(y)":
        # the entrywise gradient prints as the scalar engine's derivative of the same formula
        assert str(gradient) == str(sc.diff(text, "y")) == "tanh(y)*(4*sigmoid(log(cosh(y))) - 1)/4"


@pytest.mark.parametrize("text", [
    "exp(x)/(exp(x) + exp(-y) + exp(log(1 + x^2)/2))",
    "exp(x)/(exp(x) + exp(-y) + sqrt(1 + x^2))",
    "log(exp(x) + 2*cosh(y) + (1 + x^2)^3)",
])
def test_a_positive_term_among_exponentials_is_an_exponential_of_its_log(text):
    # exp(log(1 + x^2)/2) is simplified to sqrt(1 + x^2); in a sum with exps it is read back as
    # exp(log(1 + x^2)/2), so the sum still becomes a logsumexp before anything overflows
    points = [(-1000.0, -1000.0), (1000.0, -1000.0), (-1000.0, 1000.0), (0.3, 0.2), (-745.5, 2.0)]
    for result in (text, sc.grad(text, ["x", "y"]), sc.hessian(text, ["x", "y"])):
        assert_exact_at(result, text, ["x", "y"], points)
    check_hessian(text, ["x", "y"], sc.hessian(text, ["x", "y"]))
