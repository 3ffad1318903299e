"""The SymPy bridge: every node and registry function converts both ways, exactly and safely."""

import math
import subprocess
import sys
from fractions import Fraction

import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

import symcalc as sc

X, Y = sympy.symbols("x y")

# Independent reference values (Python's math module) for every registry function, so that a
# wrong SymPy form in the registry is caught rather than copied.
REFERENCE = {
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "exp": math.exp,
    "log": lambda x, *b: math.log(x, *b), "sqrt": math.sqrt, "abs": abs,
    "sign": lambda x: math.copysign(1.0, x) if x else 0.0,
    "heaviside": lambda x: 1.0 if x > 0 else 0.0 if x < 0 else 0.5,
    "sinh": math.sinh, "cosh": math.cosh, "tanh": math.tanh,
    "asin": math.asin, "acos": math.acos, "atan": math.atan,
    "sigmoid": lambda x: 1 / (1 + math.exp(-x)),
    "softplus": lambda x: math.log1p(math.exp(x)),
    "relu": lambda x: max(x, 0.0),
    "erf": math.erf,
    "logsumexp": lambda *xs: math.log(sum(math.exp(x) for x in xs)),
    "log1p": math.log1p, "expm1": math.expm1,
    "max": max, "min": min, "log2": math.log2, "log10": math.log10,
    "asinh": math.asinh, "acosh": math.acosh, "atanh": math.atanh, "atan2": math.atan2,
    "erfc": math.erfc, "sec": lambda x: 1 / math.cos(x), "csc": lambda x: 1 / math.sin(x),
    "cot": lambda x: math.cos(x) / math.sin(x), "sech": lambda x: 1 / math.cosh(x),
    "csch": lambda x: 1 / math.sinh(x), "coth": lambda x: math.cosh(x) / math.sinh(x),
}
SAMPLE_ARGS = [(0.3,), (-0.7,), (1.7,), (0.5, 3.0), (-2.0, -0.4), (0.2, -1.1, 0.9)]


def test_every_registry_function_has_a_reference():
    assert set(REFERENCE) == set(sc.REGISTRY)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_sympy_form_has_the_right_values(name):
    fn = sc.REGISTRY[name]
    checked = 0
    for args in SAMPLE_ARGS:
        if len(args) < fn.min_args or (fn.max_args is not None and len(args) > fn.max_args):
            continue
        names = sympy.symbols(f"a0:{len(args)}")
        call = fn(*[sc.Symbol(str(n)) for n in names])
        converted = sc.to_sympy(call)
        try:
            want = REFERENCE[name](*args)
        except ValueError:  # outside the real domain, e.g. asin(3)
            continue
        got = complex(converted.evalf(30, subs=dict(zip(names, args))))
        assert got.imag == 0 and got.real == pytest.approx(want, rel=1e-12, abs=1e-15), args
        checked += 1
    assert checked >= 1


def test_importing_the_bridge_does_not_import_sympy():
    code = "import sys, symcalc.checks.sympy_bridge; assert 'sympy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# --- to_sympy -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("1/3", sympy.Rational(1, 3)),
    ("2^100", sympy.Integer(2) ** 100),
    ("123456789012345678901234567890", sympy.Integer(123456789012345678901234567890)),
    ("0.1", sympy.Rational(1, 10)),
    ("pi", sympy.pi),
    ("e", sympy.E),
    ("e^x", sympy.exp(X)),
    ("x^(1/2)", sympy.sqrt(X)),
    ("x - y/3", X - Y / 3),
    ("sigmoid(x)", 1 / (1 + sympy.exp(-X))),
    ("softplus(x)", sympy.log(1 + sympy.exp(X))),
    ("relu(x)", sympy.Max(X, 0)),
    ("heaviside(x)", sympy.Heaviside(X)),
    ("abs(x)*sign(y)", sympy.Abs(X) * sympy.sign(Y)),
    ("logsumexp(x, y)", sympy.log(sympy.exp(X) + sympy.exp(Y))),
    ("log(x, 2)", sympy.log(X) / sympy.log(2)),
    ("erf(x)", sympy.erf(X)),
])
def test_to_sympy(text, expected):
    assert sc.to_sympy(sc.parse(text)) == expected


def test_to_sympy_reads_formula_text():
    assert sc.to_sympy("sin(x)^2 + 1/2") == sympy.sin(X) ** 2 + sympy.Rational(1, 2)


def test_to_sympy_real_symbols():
    converted = sc.to_sympy(sc.parse("abs(x)"), real=True)
    (symbol,) = converted.free_symbols
    assert symbol.is_real
    assert sympy.diff(converted, symbol) == sympy.sign(symbol)


# --- from_sympy ---------------------------------------------------------------------------------
@pytest.mark.parametrize("value, text", [
    (sympy.Float(0.1) * X, "x/10"),
    (sympy.Float("2.5e-30"), "1/400000000000000000000000000000"),
    (sympy.Float(-1.5), "-3/2"),
    (sympy.Rational(-7, 3), "-7/3"),
    (sympy.Max(X, 0), "relu(x)"),
    (sympy.Max(0, X + Y), "relu(x + y)"),
    (sympy.Heaviside(X), "heaviside(x)"),
    (sympy.log(X, 10), "log(x, 10)"),
    (sympy.exp(X) ** 2, "exp(2*x)"),
    (sympy.sqrt(X + 1), "sqrt(x + 1)"),
    (sympy.E ** X, "exp(x)"),
    (sympy.pi * sympy.E, "e*pi"),
    (0.25, "1/4"),
    (7, "7"),
    (Fraction(2, 6), "1/3"),
])
def test_from_sympy(value, text):
    assert sc.from_sympy(value) == sc.parse(text)


@pytest.mark.parametrize("value", [
    sympy.I, sympy.oo, -sympy.oo, sympy.zoo, sympy.nan, sympy.Float("inf"),
    sympy.EulerGamma, sympy.Integral(X, X), sympy.gamma(X), sympy.Function("f_1")(X),
    sympy.Derivative(sympy.Function("f")(X**2), X), sympy.Heaviside(X, 1), sympy.Symbol("e"),
    sympy.Symbol("sin"), sympy.Symbol("x y"), sympy.Symbol("x") + sympy.Symbol("1a"),
])
def test_from_sympy_rejects_what_has_no_counterpart(value):
    with pytest.raises(sc.SymcalcError):
        sc.from_sympy(value)


@pytest.mark.parametrize("value, named", [
    (sympy.Integral(X, X), "Integral"),  # named itself, not the Tuple of its limits
    (sympy.Integral(X**2, (X, 0, 1)) + 1, "Integral"),
    (sympy.Sum(X, (X, 1, 3)), "Sum"),
    (sympy.Piecewise((X, X > 0), (0, True)), "Piecewise"),
    (sympy.sin(sympy.gamma(X)), "gamma"),
])
def test_from_sympy_names_the_unsupported_object_itself(value, named):
    with pytest.raises(sc.SymcalcError, match=rf"the SymPy (function )?{named}\b"):
        sc.from_sympy(value)


@pytest.mark.parametrize("value", ["x + 1", b"x", [X], None])
def test_from_sympy_needs_a_sympy_expression(value):
    with pytest.raises(TypeError):
        sc.from_sympy(value)


# --- round trips --------------------------------------------------------------------------------
EXACT_ROUND_TRIP = [
    "x", "-x", "3/7", "x^2 + 3*x - 1", "x*y^-2", "(x + 1)^(1/3)", "2^x", "x^x", "x^(y + 1)",
    "pi*x + e", "sin(x)*cos(y)", "tan(x)^2", "exp(x*y)", "log(x)", "log(x, 2)", "log(x + 1, y)",
    "sqrt(x^2 + y^2)", "abs(x - y)", "sign(x)", "heaviside(x - 1)", "sinh(x) + cosh(y)",
    "tanh(x)", "asin(x/2)", "acos(x)", "atan(y/x)", "relu(x - 1)", "erf(x)/x",
    "2*exp(-x^2)/sqrt(pi)", "x*heaviside(x) + relu(y)",
]


@pytest.mark.parametrize("text", EXACT_ROUND_TRIP)
def test_round_trip_is_exact(text):
    e = sc.parse(text)
    assert sc.from_sympy(sc.to_sympy(e)) == e


@pytest.mark.parametrize("text", [
    "sigmoid(x)", "softplus(x - y)", "logsumexp(x, y, 2*x)", "sigmoid(x)*(1 - sigmoid(x))",
    "exp(x - logsumexp(x, y))",
])
def test_round_trip_through_elementary_forms(text):
    e = sc.parse(text)
    back = sc.from_sympy(sc.to_sympy(e))
    point = {X: sympy.Rational(3, 10), Y: sympy.Rational(-7, 10)}
    difference = (sc.to_sympy(back) - sc.to_sympy(e)).evalf(30, subs=point)
    assert abs(difference) < 1e-25


def _random_expression():
    leaves = st.sampled_from([sc.Symbol("x"), sc.Symbol("y"), sc.Num(2), sc.Num(Fraction(1, 3)),
                              sc.pi])
    unary = [sc.REGISTRY[n] for n in sorted(sc.REGISTRY) if sc.REGISTRY[n].min_args == 1]

    def extend(children):
        return st.one_of(
            st.tuples(children, children).map(lambda ab: ab[0] + ab[1]),
            st.tuples(children, children).map(lambda ab: ab[0] * ab[1]),
            st.tuples(children, st.sampled_from([-1, 2, 3])).map(lambda ab: ab[0] ** ab[1]),
            st.tuples(st.sampled_from(unary), children).map(lambda fa: fa[0](fa[1])),
        )

    return st.recursive(leaves, extend, max_leaves=8)


@given(_random_expression())
def test_round_trip_keeps_the_value(e):
    try:
        s = sc.to_sympy(e)
    except (ZeroDivisionError, ValueError):  # SymPy finds it undefined, e.g. heaviside(acos(2))
        return
    if s.has(sympy.I, sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):  # e.g. 1/tan(pi), log(log(1/3))
        with pytest.raises(ValueError):
            sc.from_sympy(s)
        return
    back = sc.from_sympy(s)
    if back is e:
        return
    point = {sympy.Symbol("x"): sympy.Rational(3, 10), sympy.Symbol("y"): sympy.Rational(7, 10)}
    want = s.evalf(30, subs=point)
    got = sc.to_sympy(back).evalf(30, subs=point)
    if want.is_finite and want.is_real:
        assert abs(got - want) <= 1e-20 * (1 + abs(want))


def test_derivatives_sympy_computes_map_back():
    for text in ["relu(x)", "abs(x)", "x^x", "log(x, 3)", "erf(x)", "tanh(x)", "asin(x)"]:
        s = sympy.diff(sc.to_sympy(sc.parse(text), real=True), sympy.Symbol("x", real=True))
        back = sc.from_sympy(s)
        assert sc.to_sympy(back, real=True) == s


# --- depth -------------------------------------------------------------------------------------
def test_deep_formulas_convert_without_recursion():
    e = sc.Symbol("x")
    for _ in range(5000):
        e = sc.sin(e) + 1
    with pytest.raises(ValueError, match="evaluate=False"):
        sc.to_sympy(e)
    s = sc.to_sympy(e, evaluate=False)
    assert sc.from_sympy(s) is e


def test_deep_sympy_expressions_convert_back():
    s = X
    with sympy.evaluate(False):
        for _ in range(5000):
            s = sympy.exp(sympy.Mul(2, s))
    e = sc.from_sympy(s)
    assert e.depth > 5000
