"""Hypothesis strategies: random well-formed formulas whose values are real and finite on a box.

Each generated formula comes twice, built independently: as an ``Expr`` made with symcalc's Python
operators and registry functions, and as formula text written in a randomly chosen spelling
(``^`` or ``**``, ``ln`` or ``log``, spacing, implicit products such as ``2(x)`` and ``(x)^2 y``).
The parser must read the text back to the very same node.

Every node also carries an interval that encloses its value for all variables in ``BOX``; the
builders use it to keep each function inside its domain (``log`` and ``sqrt`` only see positive
arguments, ``asin`` and ``acos`` arguments in (-1, 1), divisors bounded away from zero) and every
value small enough that ``exp`` cannot overflow.  Every entry of
``symcalc.functions.elementary.REGISTRY`` and every operator has a builder;
``tests/test_properties.py`` checks that no entry is missing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

from hypothesis import strategies as st

import symcalc as sc

VARIABLES = ("x", "y", "z")
BOX = (-2.0, 2.0)  # every variable lies in this interval
SYMBOLS = {name: sc.symbols(name) for name in VARIABLES}

# A value bigger than this in magnitude is squashed (sin, tanh, ...) before it goes further, so
# that values and derivatives stay in a range where float64 and finite differences are accurate.
LIMIT = 12.0
MAX_DEPTH = 4


@dataclass(frozen=True)
class Formula:
    """One random formula: the node built with operators, its text, and bounds of its value."""

    expr: sc.Expr
    text: str
    lo: float
    hi: float

    @property
    def bound(self) -> float:
        return max(abs(self.lo), abs(self.hi))


def _wrap(text: str) -> str:
    return f"({text})"


# --- leaves ------------------------------------------------------------------------------------------
def _variable(name: str) -> Formula:
    return Formula(SYMBOLS[name], name, *BOX)


def _number(value: Fraction) -> Formula:
    text = str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    return Formula(sc.as_expr(value), _wrap(text), float(value), float(value))


_CONSTANTS = [Formula(sc.pi, "pi", math.pi, math.pi), Formula(sc.e, "e", math.e, math.e)]

numbers = st.builds(
    Fraction, st.integers(-5, 5), st.sampled_from([1, 1, 1, 2, 3, 4])
).map(_number)
leaves = st.one_of(
    st.sampled_from(VARIABLES).map(_variable),
    st.sampled_from(VARIABLES).map(_variable),
    numbers,
    st.sampled_from(_CONSTANTS),
)


# --- spelling ------------------------------------------------------------------------------------------
@st.composite
def _space(draw) -> str:
    return draw(st.sampled_from(["", "", " ", "  ", "\n", "\t"]))


@st.composite
def _call_text(draw, name: str, args: list[str]) -> str:
    s = draw(_space())
    spelled = draw(st.sampled_from(["ln", "log"])) if name == "log" and len(args) == 1 else name
    return f"{spelled}({s}{(',' + draw(_space())).join(args)}{s})"


# --- builders ----------------------------------------------------------------------------------------
def _apply(name: str, *args: Formula) -> tuple[sc.Expr, list[str]]:
    fn = getattr(sc, name)
    return fn(*(a.expr for a in args)), [a.text for a in args]


def _monotone(fn: Callable[[float], float], a: Formula) -> tuple[float, float]:
    return fn(a.lo), fn(a.hi)


def _sigmoid(v: float) -> float:
    if v >= 0:
        return 1 / (1 + math.exp(-v))
    return math.exp(v) / (1 + math.exp(v))  # no overflow for a bound far below 0


def _softplus(v: float) -> float:
    return max(v, 0.0) + math.log1p(math.exp(-abs(v)))


@st.composite
def _squashed(draw, depth: int, limit: float = LIMIT) -> Formula:
    """A formula whose value lies in [-limit, limit]; a bigger one is passed through sin/tanh/..."""
    f = draw(formulas(depth))
    if f.bound <= limit:
        return f
    name = draw(st.sampled_from(["sin", "cos", "tanh", "sigmoid", "atan", "erf"]))
    expr, args = _apply(name, f)
    text = draw(_call_text(name, args))
    lo, hi = {"atan": (-math.pi / 2, math.pi / 2), "sigmoid": (0.0, 1.0)}.get(name, (-1.0, 1.0))
    return Formula(expr, text, lo, hi)


@st.composite
def positive(draw, depth: int) -> Formula:
    """A formula whose value is at least some positive bound everywhere on the box."""
    kind = draw(st.sampled_from(
        ["1+a^2", "2+sin", "exp", "cosh", "sigmoid", "softplus", "sqrt", "1+abs", "1+relu", "const",
         "k*"]
    ))
    if kind == "k*" and depth > 0:  # a number times a positive formula: log(2*p) and the like
        p = draw(positive(depth - 1))
        k = draw(st.sampled_from([Fraction(2), Fraction(3), Fraction(1, 2)]))
        return Formula(k * p.expr, f"{k}*{_wrap(p.text)}", float(k) * p.lo, float(k) * p.hi)
    if kind == "const" or depth <= 0:
        value = draw(st.sampled_from([Fraction(1, 2), Fraction(2), Fraction(3), Fraction(5, 3)]))
        return draw(st.sampled_from([_number(value)] + _CONSTANTS))
    if kind == "1+a^2":
        a = draw(_squashed(depth - 1, 6.0))
        square = draw(st.sampled_from(["^", "**"]))
        return Formula(1 + a.expr ** 2, f"1 + {_wrap(a.text)}{square}2", 1.0, 1 + a.bound ** 2)
    if kind == "2+sin":
        a = draw(_squashed(depth - 1))
        name = draw(st.sampled_from(["sin", "cos"]))
        expr, args = _apply(name, a)
        return Formula(2 + expr, f"2 + {draw(_call_text(name, args))}", 1.0, 3.0)
    if kind in ("exp", "cosh", "sigmoid", "softplus"):
        a = draw(_squashed(depth - 1, 3.0))
        expr, args = _apply(kind, a)
        text = draw(_call_text(kind, args))
        if kind == "exp":
            return Formula(expr, text, math.exp(-a.bound), math.exp(a.bound))
        if kind == "cosh":
            return Formula(expr, text, 1.0, math.cosh(a.bound))
        lo, hi = _monotone(_sigmoid if kind == "sigmoid" else _softplus, a)
        return Formula(expr, text, lo, hi)
    if kind == "sqrt":
        p = draw(positive(depth - 1))
        expr, args = _apply("sqrt", p)
        return Formula(expr, draw(_call_text("sqrt", args)), math.sqrt(p.lo), math.sqrt(p.hi))
    a = draw(_squashed(depth - 1))
    name = "abs" if kind == "1+abs" else "relu"
    expr, args = _apply(name, a)
    return Formula(1 + expr, f"1 + {draw(_call_text(name, args))}", 1.0, 1.0 + a.bound)


@st.composite
def unit_interval(draw, depth: int) -> Formula:
    """A formula whose value lies in [-1/2, 1/2], for asin and acos."""
    a = draw(_squashed(depth - 1))
    name = draw(st.sampled_from(["tanh", "sin", "cos", "erf"]))
    expr, args = _apply(name, a)
    return Formula(expr / 2, f"{draw(_call_text(name, args))}/2", -0.5, 0.5)


def _interval_product(a: Formula, b: Formula) -> tuple[float, float]:
    corners = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi]
    return min(corners), max(corners)


@st.composite
def _function_call(draw, name: str, depth: int) -> Formula:
    """``name(...)`` with arguments inside its domain."""
    if name in ("sin", "cos", "tanh", "atan", "erf", "sigmoid", "sign", "heaviside"):
        a = draw(formulas(depth - 1))
        bounds = {"atan": (-math.pi / 2, math.pi / 2), "sigmoid": _monotone(_sigmoid, a),
                  "heaviside": (0.0, 1.0)}.get(name, (-1.0, 1.0))
        expr, args = _apply(name, a)
        return Formula(expr, draw(_call_text(name, args)), *bounds)
    if name in ("abs", "relu", "softplus"):
        a = draw(formulas(depth - 1))
        expr, args = _apply(name, a)
        bounds = {
            "abs": (0.0, a.bound), "relu": (0.0, max(a.hi, 0.0)), "softplus": _monotone(_softplus, a)
        }[name]
        return Formula(expr, draw(_call_text(name, args)), *bounds)
    if name in ("exp", "expm1", "sinh", "cosh"):
        a = draw(_squashed(depth - 1, 2.5))
        expr, args = _apply(name, a)
        fn = {"exp": math.exp, "expm1": math.expm1, "sinh": math.sinh, "cosh": math.cosh}[name]
        bounds = (0.0, math.cosh(a.bound)) if name == "cosh" else _monotone(fn, a)
        return Formula(expr, draw(_call_text(name, args)), *bounds)
    if name == "tan":  # keep the argument inside (-pi/2, pi/2), well away from the poles
        a = draw(unit_interval(depth))
        inner = draw(st.sampled_from([1, 2]))
        expr = sc.tan(inner * a.expr)
        text = draw(_call_text("tan", [f"{inner}*{_wrap(a.text)}"]))
        return Formula(expr, text, -math.tan(inner / 2), math.tan(inner / 2))
    if name in ("asin", "acos"):
        a = draw(unit_interval(depth))
        expr, args = _apply(name, a)
        bounds = (-math.pi / 6, math.pi / 6) if name == "asin" else (math.pi / 3, 2 * math.pi / 3)
        return Formula(expr, draw(_call_text(name, args)), *bounds)
    if name in ("log", "sqrt"):
        p = draw(positive(depth - 1))
        if name == "sqrt":
            expr, args = _apply("sqrt", p)
            return Formula(expr, draw(_call_text("sqrt", args)), math.sqrt(p.lo), math.sqrt(p.hi))
        size = max(abs(math.log(p.lo)), abs(math.log(p.hi)))
        if draw(st.booleans()):
            expr, args = _apply("log", p)
            return Formula(expr, draw(_call_text("log", args)), -size, size)
        base = draw(positive(depth - 1))  # log(p, 2 + base): the base is at least 2
        base = Formula(2 + base.expr, f"2 + {base.text}", 2 + base.lo, 2 + base.hi)
        expr, args = _apply("log", p, base)
        bound = size / math.log(base.lo)
        return Formula(expr, draw(_call_text("log", args)), -bound, bound)
    if name == "log1p":  # a positive argument: log1p(p) lies in [log1p(p.lo), log1p(p.hi)]
        p = draw(positive(depth - 1))
        expr, args = _apply("log1p", p)
        return Formula(expr, draw(_call_text("log1p", args)), *_monotone(math.log1p, p))
    if name == "logsumexp":
        terms = draw(st.lists(_squashed(depth - 1), min_size=1, max_size=3))
        expr, args = _apply("logsumexp", *terms)
        lo = max(t.lo for t in terms)
        hi = max(t.hi for t in terms) + math.log(len(terms))
        return Formula(expr, draw(_call_text("logsumexp", args)), lo, hi)
    if name in _MORE_FUNCTIONS:
        return draw(_more_function_call(name, depth))
    raise AssertionError(f"no builder for the function {name}")


_MORE_FUNCTIONS = ("max", "min", "log2", "log10", "asinh", "acosh", "atanh", "atan2", "erfc",
                   "sec", "csc", "cot", "sech", "csch", "coth")


@st.composite
def _more_function_call(draw, name: str, depth: int) -> Formula:
    """Builders for max, min, the base-2 and base-10 logarithms, the inverse hyperbolic functions,
    atan2, erfc and the reciprocal trigonometric and hyperbolic functions."""
    if name in ("max", "min"):
        terms = draw(st.lists(formulas(depth - 1), min_size=2, max_size=3))
        pick = max if name == "max" else min
        expr, args = _apply(name, *terms)
        return Formula(expr, draw(_call_text(name, args)),
                       pick(t.lo for t in terms), pick(t.hi for t in terms))
    if name in ("log2", "log10"):
        p = draw(positive(depth - 1))
        expr, args = _apply(name, p)
        fn = math.log2 if name == "log2" else math.log10
        return Formula(expr, draw(_call_text(name, args)), fn(p.lo), fn(p.hi))
    if name in ("asinh", "erfc", "sech"):
        a = draw(formulas(depth - 1))
        expr, args = _apply(name, a)
        bounds = {"asinh": _monotone(math.asinh, a), "erfc": (0.0, 2.0), "sech": (0.0, 1.0)}[name]
        return Formula(expr, draw(_call_text(name, args)), *bounds)
    if name == "acosh":  # an argument of at least 1 + a positive bound
        p = draw(positive(depth - 1))
        expr = sc.acosh(1 + p.expr)
        text = draw(_call_text(name, [f"1 + {_wrap(p.text)}"]))
        return Formula(expr, text, math.acosh(1 + p.lo), math.acosh(1 + p.hi))
    if name in ("atanh", "sec"):  # an argument in [-1/2, 1/2]
        u = draw(unit_interval(depth))
        expr, args = _apply(name, u)
        bounds = (-math.atanh(0.5), math.atanh(0.5)) if name == "atanh" else (1.0, 1 / math.cos(0.5))
        return Formula(expr, draw(_call_text(name, args)), *bounds)
    if name == "atan2":  # a positive second argument keeps away from the branch cut
        y, p = draw(formulas(depth - 1)), draw(positive(depth - 1))
        expr, args = _apply(name, y, p)
        return Formula(expr, draw(_call_text(name, args)), -math.pi / 2, math.pi / 2)
    if name in ("csc", "cot"):  # an argument in [1/2, 3/2], well inside (0, pi)
        u = draw(unit_interval(depth))
        expr = getattr(sc, name)(1 + u.expr)
        text = draw(_call_text(name, [f"1 + {_wrap(u.text)}"]))
        bounds = (1.0, 1 / math.sin(0.5)) if name == "csc" else (1 / math.tan(1.5), 1 / math.tan(0.5))
        return Formula(expr, text, *bounds)
    p = draw(positive(depth - 1))  # csch, coth: a positive argument
    expr, args = _apply(name, p)
    if name == "csch":
        return Formula(expr, draw(_call_text(name, args)), 1 / math.sinh(p.hi), 1 / math.sinh(p.lo))
    return Formula(expr, draw(_call_text(name, args)), 1 / math.tanh(p.hi), 1 / math.tanh(p.lo))


OPERATORS = ("+", "-", "*", "/", "neg", "^int", "^int*", "^expr", "^rational", "number*", "number/",
             "reuse")


@st.composite
def _operation(draw, op: str, depth: int) -> Formula:
    """An operator applied to random operands, built with Python's operators."""
    if op in ("+", "-", "*"):
        a, b = draw(formulas(depth - 1)), draw(formulas(depth - 1))
        text = f"{_wrap(a.text)}{draw(_space())}{op if op != '*' else draw(st.sampled_from(['*', ' * ']))}{_wrap(b.text)}"
        if op == "+":
            return Formula(a.expr + b.expr, text, a.lo + b.lo, a.hi + b.hi)
        if op == "-":
            return Formula(a.expr - b.expr, text, a.lo - b.hi, a.hi - b.lo)
        return Formula(a.expr * b.expr, text, *_interval_product(a, b))
    if op == "reuse":  # one subformula in two places: a*b + a, often a^2 + a
        a = draw(formulas(depth - 1))
        b = a if draw(st.booleans()) else draw(formulas(depth - 1))
        lo, hi = _interval_product(a, b)
        text = f"{_wrap(a.text)}*{_wrap(b.text)} + {_wrap(a.text)}"
        return Formula(a.expr * b.expr + a.expr, text, lo + a.lo, hi + a.hi)
    if op == "/":  # a divisor of constant sign, bounded away from zero
        a, p = draw(formulas(depth - 1)), draw(positive(depth - 1))
        inverse = Formula(1 / p.expr, "", 1 / p.hi, 1 / p.lo)
        return Formula(a.expr / p.expr, f"{_wrap(a.text)}/{_wrap(p.text)}", *_interval_product(a, inverse))
    if op == "neg":
        a = draw(formulas(depth - 1))
        return Formula(-a.expr, f"-{_wrap(a.text)}", -a.hi, -a.lo)
    if op == "^int":
        n = draw(st.integers(-3, 4))
        a = draw(positive(depth - 1)) if n < 0 else draw(_squashed(depth - 1, 3.0))
        pow_op = draw(st.sampled_from(["^", "**"]))
        exponent = str(n) if n >= 0 else draw(st.sampled_from([f"({n})", str(n)]))
        text = f"{_wrap(a.text)}{pow_op}{exponent}"
        values = [a.lo ** n, a.hi ** n] + ([0.0] if a.lo < 0 < a.hi else [])
        return Formula(a.expr ** n, text, min(values), max(values))
    if op == "^int*":  # a power ending in a number, then a factor side by side: x^2y, (a)^3 (b)
        n = draw(st.integers(1, 3))
        a, b = draw(_squashed(depth - 1, 3.0)), draw(formulas(depth - 1))
        b_text = b.text if b.text in VARIABLES else _wrap(b.text)
        text = f"{_wrap(a.text)}^{n}{draw(_space())}{b_text}"
        values = [a.lo ** n, a.hi ** n] + ([0.0] if a.lo < 0 < a.hi else [])
        return Formula(a.expr ** n * b.expr, text,
                       *_interval_product(Formula(a.expr, "", min(values), max(values)), b))
    if op == "^rational":
        q = draw(st.sampled_from([Fraction(1, 2), Fraction(-1, 2), Fraction(1, 3), Fraction(3, 2)]))
        p = draw(positive(depth - 1))
        values = [p.lo ** float(q), p.hi ** float(q)]
        return Formula(p.expr ** q, f"{_wrap(p.text)}^({q})", min(values), max(values))
    if op == "^expr":  # a positive base to a bounded power
        p = draw(positive(depth - 1))
        b = draw(_squashed(depth - 1, 2.0))
        size = max(abs(math.log(p.lo)), abs(math.log(p.hi))) * b.bound
        if size > 8:
            b = Formula(sc.sin(b.expr), f"sin{_wrap(b.text)}", -1.0, 1.0)
            size = max(abs(math.log(p.lo)), abs(math.log(p.hi)))
        return Formula(p.expr ** b.expr, f"{_wrap(p.text)}^{_wrap(b.text)}",
                       math.exp(-size), math.exp(size))
    k = draw(st.sampled_from([2, 3, -1, Fraction(1, 2)]))
    a = draw(formulas(depth - 1))
    k_text = str(k) if k != Fraction(1, 2) else "0.5"
    if op == "number*":  # a number written before a parenthesis multiplies: 2(x + 1)
        text = f"{k_text}{_wrap(a.text)}" if isinstance(k, int) and k > 0 else f"{k_text}*{_wrap(a.text)}"
        return Formula(k * a.expr, text, *sorted((float(k) * a.lo, float(k) * a.hi)))
    p = draw(positive(depth - 1))
    return Formula(k / p.expr, f"{k_text}/{_wrap(p.text)}", *sorted((float(k) / p.lo, float(k) / p.hi)))


FUNCTION_NAMES = tuple(sorted(sc.REGISTRY))


def formulas(depth: int = MAX_DEPTH) -> st.SearchStrategy[Formula]:
    """Random formulas of at most ``depth`` levels of operations and calls."""
    if depth <= 0:
        return leaves
    calls = st.sampled_from(FUNCTION_NAMES).flatmap(lambda name: _function_call(name, depth))
    operations = st.sampled_from(OPERATORS).flatmap(lambda op: _operation(op, depth))
    return st.one_of(leaves, calls, operations, calls, operations)


def exprs(depth: int = MAX_DEPTH) -> st.SearchStrategy[sc.Expr]:
    """Random expressions (the ``Expr`` half of ``formulas``)."""
    return formulas(depth).map(lambda f: f.expr)


def points(count: int = 3) -> st.SearchStrategy[list[dict[str, float]]]:
    """``count`` random points of the box, as {variable name: value}."""
    coordinate = st.floats(BOX[0], BOX[1], allow_nan=False).map(lambda v: round(v, 6))
    point = st.fixed_dictionaries({name: coordinate for name in VARIABLES})
    return st.lists(point, min_size=count, max_size=count)
