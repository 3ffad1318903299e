"""The registry of functions: what an entry holds, the table of entries, and name look-up.

Each entry (a ``Function``) states a function's arity, its local partial derivatives (as symcalc
expressions), its NumPy, numexpr, SymPy and LaTeX forms, the exact values it folds, its float value and
the identities it takes part in.  The entries themselves are in ``symcalc.functions.elementary``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Optional, Sequence

from ..errors import SymcalcTypeError
from ..core.expr import Expr, Num, as_expr, make_call

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
    pythagorean: Optional[tuple[str, int]] = None  # f(x)^2 + s*g(x)^2 = 1 for all x, for (g, s)
    reflection: Optional[tuple[int, int]] = None  # f(-x) = a + b*f(x) for all x, for (a, b)
    needs_stable_forms: bool = False  # code generation rewrites patterns around f that overflow
    positive: bool = False  # f(x) > 0 for every real x where f is defined (exp, cosh, sigmoid)
    rewrite: Optional[Callable[..., Expr]] = None  # built as another expression (sqrt -> ^(1/2))
    sympy_names: tuple[str, ...] = field(default=())  # SymPy class names that map back here
    real: Optional[Callable[..., float]] = None  # the value at Python floats, for constants
    series: Optional["SeriesRule"] = None  # Taylor-mode recurrence (calculus.series) or generic
    numexpr: Optional[CodeForm] = None  # numexpr source (compiler.backends); None: NumPy's
    # whether f has no derivative at arguments of these exact values (abs at 0, max at a tie of
    # extreme arguments), given which arguments vary: no Taylor polynomial there
    kink: Optional[Callable[[Sequence[Expr], Sequence[bool]], bool]] = None

    def __call__(self, *args: object, **options: object) -> Expr:
        for a in args:  # a shaped argument (symcalc.matrix) applies the function entrywise
            if hasattr(a, "__symcalc_apply__"):  # (or reduces it: max(X, axis=0))
                return a.__symcalc_apply__(self, args, **options)
        if options:
            raise SymcalcTypeError(f"{self.name} takes {', '.join(f'{k}=' for k in options)} "
                                   "only with a vector or matrix argument")
        self.check_arity(len(args))
        exprs = tuple(as_expr(a) for a in args)
        if self.rewrite is not None:
            return self.rewrite(*exprs)
        return make_call(self, exprs)

    def check_arity(self, count: int) -> None:
        if count < self.min_args or (self.max_args is not None and count > self.max_args):
            raise SymcalcTypeError(f"{self.name} {self.arity_text()}, got {count}")

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


@dataclass(frozen=True)
class SeriesRule:
    """How the Taylor coefficients of ``y = f(u)`` follow from lower ones (see
    symcalc.calculus.series).

    ``uses(y, *args)`` names the auxiliary expressions (such as ``cos(u)`` for ``sin``) whose
    coefficients below order k the step reads; ``step(s, k, y, *args)`` returns ``y_k`` for
    k >= 1, reading coefficients through ``s`` (a ``symcalc.calculus.series.Propagation``).
    """

    uses: Callable[..., tuple[Expr, ...]]
    step: Callable[..., Expr]  # (s, k, y, used) -> y_k, ``used`` the tuple ``uses`` gave


def follows(derivative: Callable[[Expr, Expr], Expr], sign: int = 1) -> SeriesRule:
    """The rule of ``y' = sign * derivative(y, u) * u'``: y_k = sign/k sum_j j u_j g_(k-j).

    ``derivative`` builds g from y and u: ``exp`` is ``follows(lambda y, u: y)``, ``sin`` is
    ``follows(lambda y, u: cos(u))``, ``tanh`` is ``follows(lambda y, u: 1 - y^2)``.
    """
    return SeriesRule(uses=lambda y, u: (derivative(y, u),),
                      step=lambda s, k, y, used: s.chain(y.args[0], used[0], k, sign))


def _log_step(s, k: int, y: Expr, used) -> Expr:
    """u y' = u': y_k = (u_k - 1/k sum_{j<k} j y_j u_(k-j)) / u_0."""
    u = y.args[0]
    inner = s.total(s.mul(s.derivative_coefficient(y, j), s.c(u, k - j)) for j in range(1, k))
    return s.mul(s.inv(u), s.add(s.c(u, k), s.scale(Fraction(-1, k), inner)))


LOG_SERIES = SeriesRule(uses=lambda y, u: (), step=_log_step)


REGISTRY: dict[str, Function] = {}
ALIASES = {"ln": "log"}


def register(fn: Function) -> Function:
    REGISTRY[fn.name] = fn
    return fn


def lookup(name: str) -> Optional[Function]:
    """The registry entry for a function name or alias, or None."""
    return REGISTRY.get(ALIASES.get(name, name))


# --- helpers for the forms -------------------------------------------------------------------
def numpy_template(template: str) -> CodeForm:
    return lambda a: template.format(*a)


def latex_command(command: str) -> CodeForm:
    return lambda a: f"{command}\\left({a[0]}\\right)"


def exact_at(value: Expr, result: Expr) -> Callable[[Expr], Optional[Expr]]:
    """An exact value: f(value) = result."""
    return lambda x: result if x is value else None


def rational_values(fn: Callable[[Fraction], Fraction]) -> Callable[[Expr], Optional[Expr]]:
    """Exact folding for functions whose value at a rational is rational."""
    return lambda x: Num(fn(Fraction(x.value))) if isinstance(x, Num) else None
