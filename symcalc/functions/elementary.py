"""The functions: one registry entry each, holding every fact symcalc knows about it.

An entry states the function's arity, its local partial derivatives (as symcalc expressions), its
NumPy form, its SymPy form, its LaTeX form, the exact values it folds, and which function it
undoes.  The parser, the printers, differentiation, simplification, code generation and the SymPy
bridge all read these entries; adding a function is adding one entry here.

NumPy forms may call ``_rt.NAME``: the numerically stable helpers of ``symcalc.compiler.runtime``.
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction
from typing import Callable, Optional, Sequence

from ..errors import DomainError
from ..core.nodes import API as _API
from ..core.expr import E, HALF, ONE, PI, ZERO, Call, Expr, Num, add, mul, power

from .registry import ALIASES, REGISTRY, CodeForm, Function, lookup  # noqa: F401  (re-exported)
from .registry import LOG_SERIES as _LOG_SERIES
from .registry import SeriesRule
from .registry import exact_at as _at
from .registry import follows as _follows
from .registry import latex_command as _tex
from .registry import numpy_template as _np
from .registry import rational_values as _num
from .registry import register as _register
from .trig_values import cos_value as _cos_value
from .trig_values import sin_value as _sin_value
from .trig_values import tan_value as _tan_value
from .trig_values import twelfths as _twelfths


def _sign(v: Fraction) -> int:
    return (v > 0) - (v < 0)


def _real_sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _real_logsumexp(*xs: float) -> float:
    top = max(xs)
    return top + math.log(math.fsum(math.exp(x - top) for x in xs))


def _corner(slope: Callable[[Expr], Expr]) -> SeriesRule:
    """The Taylor rule of abs and relu, ``y' = slope(u) u'`` with a corner where u = 0.

    Away from it, y is ``slope(u_0) * u`` near the point.  Where u_0 = 0, the first nonzero
    coefficient u_m of u decides: for an even m, u keeps the sign of u_m on both sides, and y is
    ``slope(u_m) * u`` (abs(x^2) = x^2); for an odd m, u changes sign and y has a corner of
    order m: no Taylor polynomial of order m or more (abs(x) at 0, x*abs(x) to order 2).
    """
    def step(s, k: int, y: Expr, used) -> Expr:
        u = y.args[0]
        if s.raw or s.c(u, 0) is not ZERO:  # (the slope's own derivative is 0)
            return s.mul(slope(s.c(u, 0)), s.c(u, k))
        m = next((j for j in range(1, k + 1) if s.c(u, j) is not ZERO), None)
        if m is None:
            return ZERO
        if m % 2:
            raise DomainError(f"{y} is not differentiable at {s.x} = {s.point}: it has a corner "
                              f"there")
        return s.mul(slope(s.c(u, m)), s.c(u, k))
    return SeriesRule(uses=lambda y, u: (), step=step)


def _jump(s, k: int, y: Expr, used) -> Expr:
    """The Taylor rule of sign and heaviside: their derivative is 0, but where the argument is
    0 and varies they jump (their value there is neither side's): no Taylor polynomial."""
    if not s.raw and s.c(y.args[0], 0) is ZERO:
        raise DomainError(f"{y} is not continuous at {s.x} = {s.point}: it jumps there")
    return ZERO


_JUMP = SeriesRule(uses=lambda y, u: (), step=_jump)


def _tie(pick: Callable[..., Fraction]) -> Callable[[Sequence[Expr], Sequence[bool]], bool]:
    """max and min have no derivative where two extreme arguments tie and one of them varies
    (exactly known for numbers; for other values, any two equal ones count)."""
    def kink(values: Sequence[Expr], varies: Sequence[bool]) -> bool:
        if all(isinstance(v, Num) for v in values):
            extreme = pick(v.value for v in values)
            tied = [k for k, v in enumerate(values) if v.value == extreme]
            return len(tied) > 1 and any(varies[k] for k in tied)
        return any(values[i] is values[j] and (varies[i] or varies[j])
                   for i in range(len(values)) for j in range(i))
    return kink


# --- the entries -----------------------------------------------------------------------------
sin = _register(Function(
    "sin", 1, 1,
    partials=lambda x: [cos(x)],
    numpy=_np("np.sin({0})"), sympy=lambda sp, x: sp.sin(x), latex=_tex("\\sin"),
    evaluate=_sin_value, undoes="asin", pythagorean=("cos", 1), sympy_names=("sin",),
    real=math.sin, series=_follows(lambda y, u: cos(u)), numexpr=_np("sin({0})"),
))
cos = _register(Function(
    "cos", 1, 1,
    partials=lambda x: [-sin(x)],
    numpy=_np("np.cos({0})"), sympy=lambda sp, x: sp.cos(x), latex=_tex("\\cos"),
    evaluate=_cos_value, undoes="acos", pythagorean=("sin", 1), sympy_names=("cos",),
    real=math.cos, series=_follows(lambda y, u: sin(u), -1), numexpr=_np("cos({0})"),
))
tan = _register(Function(
    "tan", 1, 1,
    partials=lambda x: [1 + tan(x) ** 2],
    numpy=_np("np.tan({0})"), sympy=lambda sp, x: sp.tan(x), latex=_tex("\\tan"),
    evaluate=_tan_value, undoes="atan", sympy_names=("tan",),
    real=math.tan, series=_follows(lambda y, u: 1 + y ** 2), numexpr=_np("tan({0})"),
))
exp = _register(Function(
    "exp", 1, 1,
    partials=lambda x: [exp(x)],
    numpy=_np("np.exp({0})"), sympy=lambda sp, x: sp.exp(x), latex=lambda a: f"e^{{{a[0]}}}",
    evaluate=_at(ZERO, ONE), undoes="log", needs_stable_forms=True, sympy_names=("exp",),
    positive=True,
    real=math.exp, series=_follows(lambda y, u: y), numexpr=_np("exp({0})"),
))


def _log_value(x: Expr, base: Expr | None = None) -> Optional[Expr]:
    if x is ZERO:
        raise DomainError("log(0) is undefined")
    if base is ZERO or base is ONE:
        raise DomainError(f"a logarithm to base {base} is undefined")
    if base is None or base is E:
        if base is E:
            return log(x)
        if x is ONE:
            return ZERO
        if x is E:
            return ONE
        return None
    if x is base:
        return ONE
    if x is ONE:
        return ZERO
    return None


log = _register(Function(
    "log", 1, 2,
    partials=lambda x, *b: (
        [1 / x] if not b else [1 / (x * log(b[0])), -log(x) / (b[0] * log(b[0]) ** 2)]
    ),
    numpy=lambda a: f"np.log({a[0]})" if len(a) == 1 else f"(np.log({a[0]}) / np.log({a[1]}))",
    sympy=lambda sp, x, *b: sp.log(x, *b),
    latex=lambda a: f"\\log\\left({a[0]}\\right)" if len(a) == 1
    else f"\\log_{{{a[1]}}}\\left({a[0]}\\right)",
    evaluate=_log_value, undoes="exp", needs_stable_forms=True, sympy_names=("log",),
    series=_LOG_SERIES,
    real=lambda x, *b: math.log(x) / math.log(b[0]) if b else math.log(x),
    numexpr=lambda a: f"log({a[0]})" if len(a) == 1 else f"(log({a[0]}) / log({a[1]}))",
))
sqrt = _register(Function(
    "sqrt", 1, 1,
    partials=lambda x: [HALF / sqrt(x)],
    numpy=_np("np.sqrt({0})"), sympy=lambda sp, x: sp.sqrt(x), latex=lambda a: f"\\sqrt{{{a[0]}}}",
    rewrite=lambda x: power(x, HALF),
    real=math.sqrt, numexpr=_np("sqrt({0})"),
))
abs_ = _register(Function(
    "abs", 1, 1,
    partials=lambda x: [sign(x)],
    numpy=_np("np.abs({0})"), sympy=lambda sp, x: sp.Abs(x),
    latex=lambda a: f"\\left|{a[0]}\\right|",
    evaluate=lambda x: (Num(abs(x.value)) if isinstance(x, Num)
                        else x if isinstance(x, Call) and x.fn.name == "abs" else None),
    sympy_names=("Abs",),
    real=abs, numexpr=_np("abs({0})"), series=_corner(lambda u: sign(u)),
))
sign = _register(Function(
    "sign", 1, 1,
    partials=lambda x: [ZERO],
    numpy=_np("np.sign({0})"), sympy=lambda sp, x: sp.sign(x),
    latex=_tex("\\operatorname{sign}"),
    evaluate=_num(_sign), sympy_names=("sign",),
    real=lambda x: float((x > 0) - (x < 0)), numexpr=_np("sign({0})"), series=_JUMP,
))
heaviside = _register(Function(
    "heaviside", 1, 1,
    partials=lambda x: [ZERO],
    numpy=_np("np.heaviside({0}, 0.5)"), sympy=lambda sp, x: sp.Heaviside(x),
    latex=_tex("H"),
    evaluate=_num(lambda v: Fraction(_sign(v) + 1, 2)), sympy_names=("Heaviside",),
    real=lambda x: 1.0 if x > 0 else 0.5 if x == 0 else 0.0, numexpr=_np("(0.5 + 0.5 * sign({0}))"),
    series=_JUMP,
))
sinh = _register(Function(
    "sinh", 1, 1,
    partials=lambda x: [cosh(x)],
    numpy=_np("np.sinh({0})"), sympy=lambda sp, x: sp.sinh(x), latex=_tex("\\sinh"),
    evaluate=_at(ZERO, ZERO), needs_stable_forms=True, sympy_names=("sinh",),
    real=math.sinh, series=_follows(lambda y, u: cosh(u)), numexpr=_np("sinh({0})"),
))
cosh = _register(Function(
    "cosh", 1, 1,
    partials=lambda x: [sinh(x)],
    numpy=_np("np.cosh({0})"), sympy=lambda sp, x: sp.cosh(x), latex=_tex("\\cosh"),
    evaluate=_at(ZERO, ONE), pythagorean=("sinh", -1), needs_stable_forms=True,
    sympy_names=("cosh",), positive=True,
    real=math.cosh, series=_follows(lambda y, u: sinh(u)), numexpr=_np("cosh({0})"),
))
tanh = _register(Function(
    "tanh", 1, 1,
    partials=lambda x: [1 - tanh(x) ** 2],
    numpy=_np("np.tanh({0})"), sympy=lambda sp, x: sp.tanh(x), latex=_tex("\\tanh"),
    evaluate=_at(ZERO, ZERO), sympy_names=("tanh",),
    real=math.tanh, series=_follows(lambda y, u: 1 - y ** 2), numexpr=_np("tanh({0})"),
))
asin = _register(Function(
    "asin", 1, 1,
    partials=lambda x: [1 / sqrt(1 - x ** 2)],
    numpy=_np("np.arcsin({0})"), sympy=lambda sp, x: sp.asin(x), latex=_tex("\\arcsin"),
    evaluate=_at(ZERO, ZERO), sympy_names=("asin",),
    real=math.asin, numexpr=_np("arcsin({0})"),
))
acos = _register(Function(
    "acos", 1, 1,
    partials=lambda x: [-1 / sqrt(1 - x ** 2)],
    numpy=_np("np.arccos({0})"), sympy=lambda sp, x: sp.acos(x), latex=_tex("\\arccos"),
    evaluate=_at(ONE, ZERO), sympy_names=("acos",),
    real=math.acos, numexpr=_np("arccos({0})"),
))
atan = _register(Function(
    "atan", 1, 1,
    partials=lambda x: [1 / (1 + x ** 2)],
    numpy=_np("np.arctan({0})"), sympy=lambda sp, x: sp.atan(x), latex=_tex("\\arctan"),
    evaluate=_at(ZERO, ZERO), sympy_names=("atan",),
    real=math.atan, numexpr=_np("arctan({0})"),
))
sigmoid = _register(Function(
    "sigmoid", 1, 1,
    partials=lambda x: [sigmoid(x) * (1 - sigmoid(x))],
    numpy=_np("_rt.sigmoid({0})"), sympy=lambda sp, x: 1 / (1 + sp.exp(-x)),
    latex=_tex("\\sigma"),
    evaluate=_at(ZERO, HALF), reflection=(1, -1), needs_stable_forms=True, positive=True,
    real=_real_sigmoid, series=_follows(lambda y, u: y * (1 - y)),
    numexpr=_np("(where({0} >= 0, 1.0, exp(-abs({0}))) / (1.0 + exp(-abs({0}))))"),
))
softplus = _register(Function(
    "softplus", 1, 1,
    partials=lambda x: [sigmoid(x)],
    numpy=_np("np.logaddexp(0, {0})"), sympy=lambda sp, x: sp.log(1 + sp.exp(x)),
    latex=_tex("\\operatorname{softplus}"),
    evaluate=lambda x: log(Num(2)) if x is ZERO else None, positive=True,
    real=lambda x: max(x, 0.0) + math.log1p(math.exp(-abs(x))),
    numexpr=_np("(maximum({0}, 0.0) + log1p(exp(-abs({0}))))"),
))
relu = _register(Function(
    "relu", 1, 1,
    partials=lambda x: [heaviside(x)],
    numpy=_np("np.maximum({0}, 0)"), sympy=lambda sp, x: sp.Max(x, 0),
    latex=_tex("\\operatorname{relu}"),
    evaluate=_num(lambda v: max(v, Fraction(0))),
    real=lambda x: max(x, 0.0), numexpr=_np("maximum({0}, 0.0)"),
    series=_corner(lambda u: heaviside(u)),
))
erf = _register(Function(
    "erf", 1, 1,
    partials=lambda x: [2 / sqrt(PI) * exp(-x ** 2)],
    numpy=_np("_rt.erf({0})"), sympy=lambda sp, x: sp.erf(x),
    latex=_tex("\\operatorname{erf}"),
    evaluate=_at(ZERO, ZERO), sympy_names=("erf",),
    real=math.erf,
))
def _logsumexp_value(*xs: Expr) -> Optional[Expr]:
    """``logsumexp(u) = u``, ``logsumexp(u, u) = u + log(2)``, and of numbers ``m + log(sum
    exp(x - m))`` with m the largest: ``logsumexp(0, 0) = log(2)``."""
    if all(x is xs[0] for x in xs):
        return xs[0] if len(xs) == 1 else xs[0] + log(Num(len(xs)))
    if all(isinstance(x, Num) for x in xs):
        top = max(xs, key=lambda x: x.value)
        return top + log(sum((exp(x - top) for x in xs[1:]), exp(xs[0] - top)))
    return None


logsumexp = _register(Function(
    "logsumexp", 1, None,
    partials=lambda *xs: [exp(x - logsumexp(*xs)) for x in xs],
    numpy=lambda a: f"_rt.logsumexp({', '.join(a)})",
    sympy=lambda sp, *xs: sp.log(sp.Add(*[sp.exp(x) for x in xs])),
    latex=lambda a: f"\\operatorname{{logsumexp}}\\left({', '.join(a)}\\right)",
    evaluate=_logsumexp_value,
    real=_real_logsumexp,
))
# the stable forms that code generation writes (log(1 + u) -> log1p(u), exp(u) - 1 -> expm1(u))
log1p = _register(Function(
    "log1p", 1, 1,
    partials=lambda x: [1 / (1 + x)],
    numpy=_np("np.log1p({0})"), sympy=lambda sp, x: sp.log(1 + x),
    latex=_tex("\\operatorname{log1p}"),
    evaluate=_at(ZERO, ZERO), undoes="expm1",
    real=math.log1p, numexpr=_np("log1p({0})"),
))
expm1 = _register(Function(
    "expm1", 1, 1,
    partials=lambda x: [exp(x)],
    numpy=_np("np.expm1({0})"), sympy=lambda sp, x: sp.exp(x) - 1,
    latex=_tex("\\operatorname{expm1}"),
    evaluate=_at(ZERO, ZERO), undoes="log1p",
    real=math.expm1, numexpr=_np("expm1({0})"),
))


# --- more elementary functions ----------------------------------------------------------------
def _extremum(pick: Callable[..., Fraction]) -> Callable[..., Optional[Expr]]:
    """Exact values of max/min: of numbers, of equal arguments."""
    def value(*xs: Expr) -> Optional[Expr]:
        if all(isinstance(x, Num) for x in xs):
            return Num(pick(Fraction(x.value) for x in xs))
        if all(x is xs[0] for x in xs):
            return xs[0]
        return None
    return value


def _steps_above(xs: Sequence[Expr], i: int, sign: int) -> Expr:
    """The product over j != i of heaviside(sign*(x_i - x_j)): 1 where x_i is the extremum."""
    return mul(*(heaviside(sign * (xs[i] - x)) for j, x in enumerate(xs) if j != i))


def _extremum_partials(xs: Sequence[Expr], sign: int) -> list[Expr]:
    """The partials of max (``sign`` 1) or min (-1): 1 for the one extreme argument, 0 for the
    others, and at a tie of k extreme arguments 1/k for each of them (JAX's rule for ``max``),
    so that the gradient is a subgradient, its entries adding up to 1.

    With heaviside(0) = 1/2, ``_steps_above`` is 1/2^(k-1) for each of k tied extreme arguments
    and 0 for the others: each divided by their sum is 1/k.  For two arguments the sum is
    heaviside(d) + heaviside(-d) = 1, so the partials are the steps themselves."""
    steps = [_steps_above(xs, i, sign) for i in range(len(xs))]
    if len(xs) == 2:
        return steps
    total = add(*steps)
    return [mul(step, power(total, Num(-1))) for step in steps]


def _nested(call: str) -> CodeForm:
    """``np.maximum(np.maximum(a, b), c)`` for any number of arguments."""
    return lambda a: functools.reduce(lambda text, b: f"{call}({text}, {b})", a)


def _max_value(*xs: Expr) -> Optional[Expr]:
    if len(xs) == 2 and ZERO in xs:  # max(x, 0) is relu(x), SymPy's Max(x, 0) reads back so
        return relu(xs[1] if xs[0] is ZERO else xs[0])
    return _extremum(max)(*xs)


max_ = _register(Function(
    "max", 2, None,
    partials=lambda *xs: _extremum_partials(xs, 1),
    numpy=_nested("np.maximum"), sympy=lambda sp, *xs: sp.Max(*xs),
    latex=lambda a: f"\\max\\left({', '.join(a)}\\right)",
    evaluate=_max_value, sympy_names=("Max",),
    real=max, numexpr=_nested("maximum"), kink=_tie(max),
))
min_ = _register(Function(
    "min", 2, None,
    partials=lambda *xs: _extremum_partials(xs, -1),
    numpy=_nested("np.minimum"), sympy=lambda sp, *xs: sp.Min(*xs),
    latex=lambda a: f"\\min\\left({', '.join(a)}\\right)",
    evaluate=_extremum(min), sympy_names=("Min",),
    real=min, numexpr=_nested("minimum"), kink=_tie(min),
))


def _log_base_value(base: int) -> Callable[[Expr], Optional[Expr]]:
    def value(x: Expr) -> Optional[Expr]:
        if x is ZERO:
            raise DomainError(f"log{base}(0) is undefined")
        if isinstance(x, Num) and x.value > 0:  # exact powers of the base: log2(8) = 3
            v, k = Fraction(x.value), 0
            while v.denominator == 1 and v.numerator % base == 0 and v > 1:
                v, k = v / base, k + 1
            while v.numerator == 1 and v.denominator % base == 0:
                v, k = v * base, k - 1
            return Num(k) if v == 1 else None
        return None
    return value


log2 = _register(Function(
    "log2", 1, 1,
    partials=lambda x: [1 / (x * log(Num(2)))],
    numpy=_np("np.log2({0})"), sympy=lambda sp, x: sp.log(x, 2),
    latex=lambda a: f"\\log_{{2}}\\left({a[0]}\\right)",
    evaluate=_log_base_value(2),
    real=math.log2, numexpr=_np("log2({0})"),
))
log10 = _register(Function(
    "log10", 1, 1,
    partials=lambda x: [1 / (x * log(Num(10)))],
    numpy=_np("np.log10({0})"), sympy=lambda sp, x: sp.log(x, 10),
    latex=lambda a: f"\\log_{{10}}\\left({a[0]}\\right)",
    evaluate=_log_base_value(10),
    real=math.log10, numexpr=_np("log10({0})"),
))
asinh = _register(Function(
    "asinh", 1, 1,
    partials=lambda x: [1 / sqrt(x ** 2 + 1)],
    numpy=_np("np.arcsinh({0})"), sympy=lambda sp, x: sp.asinh(x),
    latex=_tex("\\operatorname{arsinh}"),
    evaluate=_at(ZERO, ZERO), undoes="sinh", sympy_names=("asinh",),
    real=math.asinh, numexpr=_np("arcsinh({0})"),
))
acosh = _register(Function(
    "acosh", 1, 1,
    partials=lambda x: [1 / (sqrt(x - 1) * sqrt(x + 1))],
    numpy=_np("np.arccosh({0})"), sympy=lambda sp, x: sp.acosh(x),
    latex=_tex("\\operatorname{arcosh}"),
    evaluate=_at(ONE, ZERO), sympy_names=("acosh",),
    real=math.acosh, numexpr=_np("arccosh({0})"),
))
atanh = _register(Function(
    "atanh", 1, 1,
    partials=lambda x: [1 / (1 - x ** 2)],
    numpy=_np("np.arctanh({0})"), sympy=lambda sp, x: sp.atanh(x),
    latex=_tex("\\operatorname{artanh}"),
    evaluate=_at(ZERO, ZERO), undoes="tanh", sympy_names=("atanh",),
    real=math.atanh, numexpr=_np("arctanh({0})"),
))


def _atan2_value(y: Expr, x: Expr) -> Optional[Expr]:
    if y is ZERO and isinstance(x, Num) and x.value > 0:
        return ZERO
    if x is ZERO and isinstance(y, Num) and y.value != 0:
        return HALF * PI if y.value > 0 else -HALF * PI
    return None


atan2 = _register(Function(
    "atan2", 2, 2,
    partials=lambda y, x: [x / (x ** 2 + y ** 2), -y / (x ** 2 + y ** 2)],
    numpy=_np("np.arctan2({0}, {1})"), sympy=lambda sp, y, x: sp.atan2(y, x),
    latex=lambda a: f"\\operatorname{{atan2}}\\left({a[0]}, {a[1]}\\right)",
    evaluate=_atan2_value, sympy_names=("atan2",),
    real=math.atan2, numexpr=_np("arctan2({0}, {1})"),
))
erfc = _register(Function(
    "erfc", 1, 1,
    partials=lambda x: [-2 / sqrt(PI) * exp(-x ** 2)],
    numpy=_np("_rt.erfc({0})"), sympy=lambda sp, x: sp.erfc(x),
    latex=_tex("\\operatorname{erfc}"),
    evaluate=_at(ZERO, ONE), sympy_names=("erfc",), positive=True,
    real=math.erfc,
))


def _reciprocal_value(value: Callable[[Expr], Optional[Expr]]) -> Callable[[Expr], Optional[Expr]]:
    """Exact values of 1/f from those of f, where f is not 0 there."""
    def reciprocal(x: Expr) -> Optional[Expr]:
        v = value(x)
        return None if v is None or v is ZERO else 1 / v
    return reciprocal


def _cot_value(x: Expr) -> Optional[Expr]:
    n = _twelfths(x)
    if n is not None and n % 12 == 6:  # cot(pi/2 + k*pi) = 0
        return ZERO
    return _reciprocal_value(_tan_value)(x)


sec = _register(Function(
    "sec", 1, 1,
    partials=lambda x: [sec(x) * tan(x)],
    numpy=_np("(1 / np.cos({0}))"), sympy=lambda sp, x: sp.sec(x), latex=_tex("\\sec"),
    evaluate=_reciprocal_value(_cos_value), sympy_names=("sec",),
    real=lambda x: 1 / math.cos(x), numexpr=_np("(1.0 / cos({0}))"),
))
csc = _register(Function(
    "csc", 1, 1,
    partials=lambda x: [-csc(x) * cot(x)],
    numpy=_np("(1 / np.sin({0}))"), sympy=lambda sp, x: sp.csc(x), latex=_tex("\\csc"),
    evaluate=_reciprocal_value(_sin_value), sympy_names=("csc",),
    real=lambda x: 1 / math.sin(x), numexpr=_np("(1.0 / sin({0}))"),
))
cot = _register(Function(
    "cot", 1, 1,
    partials=lambda x: [-1 - cot(x) ** 2],
    numpy=_np("(1 / np.tan({0}))"), sympy=lambda sp, x: sp.cot(x), latex=_tex("\\cot"),
    evaluate=_cot_value, sympy_names=("cot",),
    real=lambda x: math.cos(x) / math.sin(x), numexpr=_np("(1.0 / tan({0}))"),
))
sech = _register(Function(
    "sech", 1, 1,
    partials=lambda x: [-sech(x) * tanh(x)],
    numpy=_np("(1 / np.cosh({0}))"), sympy=lambda sp, x: sp.sech(x),
    latex=_tex("\\operatorname{sech}"),
    evaluate=_at(ZERO, ONE), sympy_names=("sech",), positive=True,
    real=lambda x: 1 / math.cosh(x), numexpr=_np("(1.0 / cosh({0}))"),
))
csch = _register(Function(
    "csch", 1, 1,
    partials=lambda x: [-csch(x) * coth(x)],
    numpy=_np("(1 / np.sinh({0}))"), sympy=lambda sp, x: sp.csch(x),
    latex=_tex("\\operatorname{csch}"),
    sympy_names=("csch",),
    real=lambda x: 1 / math.sinh(x), numexpr=_np("(1.0 / sinh({0}))"),
))
coth = _register(Function(
    "coth", 1, 1,
    partials=lambda x: [1 - coth(x) ** 2],
    numpy=_np("(1 / np.tanh({0}))"), sympy=lambda sp, x: sp.coth(x),
    latex=_tex("\\operatorname{coth}"),
    sympy_names=("coth",),
    real=lambda x: math.cosh(x) / math.sinh(x), numexpr=_np("(1.0 / tanh({0}))"),
))

_API.bind(exp=exp)  # e^x is exp(x)
