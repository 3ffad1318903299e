"""The function registry: one entry per function, holding every fact symcalc knows about it.

An entry states the function's arity, its local partial derivatives (as symcalc expressions), its
NumPy form, its SymPy form, its LaTeX form, the exact values it folds, and which function it
undoes.  The parser, the printers, differentiation, simplification, code generation and the SymPy
bridge all read these entries; adding a function is adding one entry here.

NumPy forms may call ``_rt.NAME``: the numerically stable helpers of ``symcalc.runtime``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Optional, Sequence

from .expr import (
    E,
    HALF,
    ONE,
    PI,
    ZERO,
    Call,
    Expr,
    Mul,
    Num,
    as_expr,
    make_call,
    power,
)

Partials = Callable[..., Sequence[Expr]]
CodeForm = Callable[[Sequence[str]], str]


@dataclass(frozen=True, eq=False)
class Function:
    """Everything about one function.  Call it to build the expression ``name(args)``."""

    name: str
    min_args: int
    max_args: Optional[int]  # None: any number of arguments
    partials: Partials  # (args...) -> [d f / d arg_i for each argument]
    numpy: CodeForm  # argument sources -> NumPy source
    sympy: Callable[..., Any]  # (sympy module, *sympy args) -> SymPy expression
    latex: CodeForm  # argument LaTeX -> LaTeX
    evaluate: Optional[Callable[..., Optional[Expr]]] = None  # exact values, e.g. sin(0) -> 0
    undoes: Optional[str] = None  # f(g(x)) = x wherever defined, for g named here
    rewrite: Optional[Callable[..., Expr]] = None  # built as another expression (sqrt -> ^(1/2))
    sympy_names: tuple[str, ...] = field(default=())  # SymPy class names that map back here

    def __call__(self, *args: object) -> Expr:
        self.check_arity(len(args))
        for a in args:  # a shaped argument (symcalc.matrix) applies the function entrywise
            if hasattr(a, "__symcalc_apply__"):
                return a.__symcalc_apply__(self, args)
        exprs = tuple(as_expr(a) for a in args)
        if self.rewrite is not None:
            return self.rewrite(*exprs)
        return make_call(self, exprs)

    def check_arity(self, count: int) -> None:
        if count < self.min_args or (self.max_args is not None and count > self.max_args):
            raise TypeError(f"{self.name} {self.arity_text()}, got {count}")

    def arity_text(self) -> str:
        def n(k: int) -> str:
            return f"{k} argument" + ("" if k == 1 else "s")

        if self.max_args is None:
            return f"takes at least {n(self.min_args)}"
        if self.min_args == self.max_args:
            return f"takes {n(self.min_args)}"
        return f"takes {self.min_args} or {n(self.max_args)}"

    def __repr__(self) -> str:
        return f"<symcalc function {self.name}>"


REGISTRY: dict[str, Function] = {}
ALIASES = {"ln": "log"}


def _register(fn: Function) -> Function:
    REGISTRY[fn.name] = fn
    return fn


def lookup(name: str) -> Optional[Function]:
    """The registry entry for a function name or alias, or None."""
    return REGISTRY.get(ALIASES.get(name, name))


# --- helpers for the forms -------------------------------------------------------------------
def _np(template: str) -> CodeForm:
    return lambda a: template.format(*a)


def _tex(command: str) -> CodeForm:
    return lambda a: f"{command}\\left({a[0]}\\right)"


def _at(value: Expr, result: Expr) -> Callable[[Expr], Optional[Expr]]:
    """An exact value: f(value) = result."""
    return lambda x: result if x is value else None


def _num(fn: Callable[[Fraction], Fraction]) -> Callable[[Expr], Optional[Expr]]:
    """Exact folding for functions whose value at a rational is rational."""
    return lambda x: Num(fn(Fraction(x.value))) if isinstance(x, Num) else None


def _sign(v: Fraction) -> int:
    return (v > 0) - (v < 0)


def _pi_multiple(x: Expr) -> Optional[Fraction]:
    """k when x is k*pi for a rational k, else None."""
    if x is PI:
        return Fraction(1)
    if isinstance(x, Mul) and len(x.args) == 2 and x.args[1] is PI and isinstance(x.args[0], Num):
        return Fraction(x.args[0].value)
    return None


def _quarter_turns(x: Expr) -> Optional[int]:
    """n when x is n*pi/2 for an integer n (0 included), else None."""
    if x is ZERO:
        return 0
    k = _pi_multiple(x)
    return int(2 * k) if k is not None and (2 * k).denominator == 1 else None


def _sin_value(x: Expr) -> Optional[Expr]:
    n = _quarter_turns(x)
    return None if n is None else Num((0, 1, 0, -1)[n % 4])


def _cos_value(x: Expr) -> Optional[Expr]:
    n = _quarter_turns(x)
    return None if n is None else Num((1, 0, -1, 0)[n % 4])


# --- the entries -----------------------------------------------------------------------------
sin = _register(Function(
    "sin", 1, 1,
    partials=lambda x: [cos(x)],
    numpy=_np("np.sin({0})"), sympy=lambda sp, x: sp.sin(x), latex=_tex("\\sin"),
    evaluate=_sin_value, undoes="asin", sympy_names=("sin",),
))
cos = _register(Function(
    "cos", 1, 1,
    partials=lambda x: [-sin(x)],
    numpy=_np("np.cos({0})"), sympy=lambda sp, x: sp.cos(x), latex=_tex("\\cos"),
    evaluate=_cos_value, undoes="acos", sympy_names=("cos",),
))
tan = _register(Function(
    "tan", 1, 1,
    partials=lambda x: [1 + tan(x) ** 2],
    numpy=_np("np.tan({0})"), sympy=lambda sp, x: sp.tan(x), latex=_tex("\\tan"),
    evaluate=_at(ZERO, ZERO), undoes="atan", sympy_names=("tan",),
))
exp = _register(Function(
    "exp", 1, 1,
    partials=lambda x: [exp(x)],
    numpy=_np("np.exp({0})"), sympy=lambda sp, x: sp.exp(x), latex=lambda a: f"e^{{{a[0]}}}",
    evaluate=_at(ZERO, ONE), undoes="log", sympy_names=("exp",),
))


def _log_value(x: Expr, base: Expr | None = None) -> Optional[Expr]:
    if x is ZERO:
        raise ValueError("log(0) is undefined")
    if base is ZERO or base is ONE:
        raise ValueError(f"a logarithm to base {base} is undefined")
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
    evaluate=_log_value, undoes="exp", sympy_names=("log",),
))
sqrt = _register(Function(
    "sqrt", 1, 1,
    partials=lambda x: [HALF / sqrt(x)],
    numpy=_np("np.sqrt({0})"), sympy=lambda sp, x: sp.sqrt(x), latex=lambda a: f"\\sqrt{{{a[0]}}}",
    rewrite=lambda x: power(x, HALF),
))
abs_ = _register(Function(
    "abs", 1, 1,
    partials=lambda x: [sign(x)],
    numpy=_np("np.abs({0})"), sympy=lambda sp, x: sp.Abs(x),
    latex=lambda a: f"\\left|{a[0]}\\right|",
    evaluate=lambda x: (Num(abs(x.value)) if isinstance(x, Num)
                        else x if isinstance(x, Call) and x.fn.name == "abs" else None),
    sympy_names=("Abs",),
))
sign = _register(Function(
    "sign", 1, 1,
    partials=lambda x: [ZERO],
    numpy=_np("np.sign({0})"), sympy=lambda sp, x: sp.sign(x),
    latex=_tex("\\operatorname{sign}"),
    evaluate=_num(_sign), sympy_names=("sign",),
))
heaviside = _register(Function(
    "heaviside", 1, 1,
    partials=lambda x: [ZERO],
    numpy=_np("np.heaviside({0}, 0.5)"), sympy=lambda sp, x: sp.Heaviside(x),
    latex=_tex("H"),
    evaluate=_num(lambda v: Fraction(_sign(v) + 1, 2)), sympy_names=("Heaviside",),
))
sinh = _register(Function(
    "sinh", 1, 1,
    partials=lambda x: [cosh(x)],
    numpy=_np("np.sinh({0})"), sympy=lambda sp, x: sp.sinh(x), latex=_tex("\\sinh"),
    evaluate=_at(ZERO, ZERO), sympy_names=("sinh",),
))
cosh = _register(Function(
    "cosh", 1, 1,
    partials=lambda x: [sinh(x)],
    numpy=_np("np.cosh({0})"), sympy=lambda sp, x: sp.cosh(x), latex=_tex("\\cosh"),
    evaluate=_at(ZERO, ONE), sympy_names=("cosh",),
))
tanh = _register(Function(
    "tanh", 1, 1,
    partials=lambda x: [1 - tanh(x) ** 2],
    numpy=_np("np.tanh({0})"), sympy=lambda sp, x: sp.tanh(x), latex=_tex("\\tanh"),
    evaluate=_at(ZERO, ZERO), sympy_names=("tanh",),
))
asin = _register(Function(
    "asin", 1, 1,
    partials=lambda x: [1 / sqrt(1 - x ** 2)],
    numpy=_np("np.arcsin({0})"), sympy=lambda sp, x: sp.asin(x), latex=_tex("\\arcsin"),
    evaluate=_at(ZERO, ZERO), sympy_names=("asin",),
))
acos = _register(Function(
    "acos", 1, 1,
    partials=lambda x: [-1 / sqrt(1 - x ** 2)],
    numpy=_np("np.arccos({0})"), sympy=lambda sp, x: sp.acos(x), latex=_tex("\\arccos"),
    evaluate=_at(ONE, ZERO), sympy_names=("acos",),
))
atan = _register(Function(
    "atan", 1, 1,
    partials=lambda x: [1 / (1 + x ** 2)],
    numpy=_np("np.arctan({0})"), sympy=lambda sp, x: sp.atan(x), latex=_tex("\\arctan"),
    evaluate=_at(ZERO, ZERO), sympy_names=("atan",),
))
sigmoid = _register(Function(
    "sigmoid", 1, 1,
    partials=lambda x: [sigmoid(x) * (1 - sigmoid(x))],
    numpy=_np("_rt.sigmoid({0})"), sympy=lambda sp, x: 1 / (1 + sp.exp(-x)),
    latex=_tex("\\sigma"),
    evaluate=_at(ZERO, HALF),
))
softplus = _register(Function(
    "softplus", 1, 1,
    partials=lambda x: [sigmoid(x)],
    numpy=_np("np.logaddexp(0, {0})"), sympy=lambda sp, x: sp.log(1 + sp.exp(x)),
    latex=_tex("\\operatorname{softplus}"),
    evaluate=lambda x: log(Num(2)) if x is ZERO else None,
))
relu = _register(Function(
    "relu", 1, 1,
    partials=lambda x: [heaviside(x)],
    numpy=_np("np.maximum({0}, 0)"), sympy=lambda sp, x: sp.Max(x, 0),
    latex=_tex("\\operatorname{relu}"),
    evaluate=_num(lambda v: max(v, Fraction(0))),
))
erf = _register(Function(
    "erf", 1, 1,
    partials=lambda x: [2 / sqrt(PI) * exp(-x ** 2)],
    numpy=_np("_rt.erf({0})"), sympy=lambda sp, x: sp.erf(x),
    latex=_tex("\\operatorname{erf}"),
    evaluate=_at(ZERO, ZERO), sympy_names=("erf",),
))
logsumexp = _register(Function(
    "logsumexp", 1, None,
    partials=lambda *xs: [exp(x - logsumexp(*xs)) for x in xs],
    numpy=lambda a: f"_rt.logsumexp({', '.join(a)})",
    sympy=lambda sp, *xs: sp.log(sp.Add(*[sp.exp(x) for x in xs])),
    latex=lambda a: f"\\log\\sum \\exp\\left({', '.join(a)}\\right)",
    evaluate=lambda *xs: xs[0] if len(xs) == 1 else None,
))
