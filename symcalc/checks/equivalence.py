"""Whether two formulas are the same function: a symbolic zero test, then values at random points.

>>> import symcalc as sc
>>> bool(sc.equivalent("1 - tanh(x)^2", "1/cosh(x)^2"))
True
>>> r = sc.equivalent("abs(x)", "x")
>>> r.equal, r.point["x"] < 0
(False, True)

The decision, in order:

1. ``simplify(a - b)`` is 0: equal, proven (where both are defined).
2. Values at random points (dyadic numbers in boxes of a few sizes, each point also mirrored
   through 0) in real arithmetic at 50 significant digits, or more when the formulas hold long
   exact numbers.  A point where either formula is undefined (log of a negative number, a pole,
   a complex value) is skipped.  Each value is computed twice, at P and at 2P digits: the change
   estimates the rounding error at P digits, and a difference between the two formulas that
   exceeds it a hundredfold is certain.  One such point: not equal, with the point and both values.
3. All points agree: SymPy's ``simplify`` (imported only now, under a time budget) may prove
   ``a - b = 0``.  Without a proof, formulas built from analytic functions alone are reported
   equal: two different analytic functions agree at a random point with probability 0 (on each
   connected piece of the common domain that the points reach).  ``abs``, ``sign``,
   ``heaviside``, ``relu``, ``max`` and ``min`` have kinks and steps, where agreement at points
   proves nothing about other regions: then the answer is undecided (``None``).
4. No point where both are defined, or a function without a numeric form (an abstract ``f``):
   undecided, unless step 1 or SymPy proved equality.

What is not seen: a difference smaller than the rounding error at the working precision
(relative 10^-50 or so), and a difference confined to a piece of the domain no point reached.
"""

from __future__ import annotations

import contextlib
import math
import random
import signal
import threading
import zlib
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Iterable, Mapping, Optional, Sequence

from ..api import simplify
from ..language.arguments import ExprLike, to_expr
from ..errors import SymcalcError
from ..core.expr import ZERO, Add, Call, Constant, Expr, Mul, Num, Pow, Symbol, postorder
from ..functions.elementary import REGISTRY

DIGITS = 50                 # significant digits of the first evaluation; the check uses twice that
POINTS = 8                  # random points drawn (each is also used mirrored: -p)
BOXES = (2.0, 0.5, 8.0)     # half-widths of the boxes the points come from, in turn
MAX_DRAWS = 400             # attempts to find points where both formulas are defined
MIN_AGREEING = 3            # fewer agreeing points than this decide nothing
SYMPY_BUDGET = 1.0          # seconds SymPy may spend simplifying a - b
MAX_SYMPY_OPS = 300         # larger differences are not given to SymPy
NOT_ANALYTIC = frozenset({"abs", "sign", "heaviside", "relu", "max", "min"})


@dataclass(frozen=True)
class Equivalence:
    """The verdict of ``equivalent(a, b)``; true in a boolean context only when ``equal`` is True.

    ``equal`` is True (equal wherever both are defined), False (``point`` is a point where both
    are defined and differ; ``values`` are their values there as mpmath numbers) or None
    (undecided).  ``proven`` says that a symbolic simplification showed ``a - b = 0``;
    ``reason`` says in a sentence how the verdict was reached.
    """

    equal: Optional[bool]
    reason: str
    point: Optional[dict[str, float]] = None
    values: Optional[tuple[Any, Any]] = None
    proven: bool = False
    points_compared: int = field(default=0, repr=False)

    def __bool__(self) -> bool:
        return self.equal is True

    def to_dict(self) -> dict:
        """JSON-ready: values as strings of 20 significant digits."""
        return {"equal": self.equal, "proven": self.proven, "reason": self.reason,
                "point": self.point, "values": None if self.values is None
                else [number_text(v, 20) for v in self.values]}


def equivalent(a: ExprLike, b: ExprLike, *, sympy: bool = True,
               seed: int | None = None) -> Equivalence:
    """Whether ``a`` and ``b`` are the same function (see the module's docstring for how).

    Never True for two functions that differ by more than rounding at a point the random points
    can reach; None when it cannot tell.  ``sympy=False`` skips SymPy's second opinion;
    ``seed`` fixes the random points (by default they depend on the formulas only, so the verdict
    is reproducible).  Formulas of different variables are compared over all of them: ``x`` and
    ``y`` differ.
    """
    a, b = to_expr(a), to_expr(b)
    if a is b:
        return Equivalence(True, "the two formulas are the same", proven=True)
    if _simplifies_to_zero(a, b):
        return Equivalence(True, "symcalc simplifies their difference to 0", proven=True)
    comparison = compare(a, b, seed=seed)
    if comparison.differ is not None:
        point, va, vb = comparison.differ
        shown_a, shown_b = distinct_texts(va, vb)
        return Equivalence(False, f"they differ at {point_text(point)}: {shown_a} vs {shown_b}",
                           point, (va, vb),
                           points_compared=comparison.agreeing + 1)
    if sympy and _sympy_proves_zero(a, b):
        return Equivalence(True, "SymPy simplifies their difference to 0", proven=True,
                           points_compared=comparison.agreeing)
    return _undecided_or_agreeing(a, b, comparison)


def _undecided_or_agreeing(a: Expr, b: Expr, comparison: "Comparison") -> Equivalence:
    n = comparison.agreeing
    if comparison.unevaluable:
        return Equivalence(None, f"{comparison.unevaluable} has no numeric value to compare",
                           points_compared=n)
    if n < MIN_AGREEING:
        where = "no point" if n == 0 else f"only {n} point{'s' * (n != 1)}"
        return Equivalence(None, f"found {where} where both are defined and their values can be "
                                 "told apart from rounding", points_compared=n)
    kinks = sorted(not_analytic(a) | not_analytic(b))
    if kinks:
        verb = "is" if len(kinks) == 1 else "are"
        return Equivalence(None, f"they agree at {n} random points, but {', '.join(kinks)} "
                                 f"{verb} not analytic: agreement at points says nothing "
                                 "about other regions", points_compared=n)
    domains = ""
    if comparison.one_sided is not None:
        point, which = comparison.one_sided
        domains = (f"; they are compared where both are defined, and at {point_text(point)} "
                   f"only {which} is")
    return Equivalence(True, f"they agree at {n} random points at {comparison.digits} digits, and "
                             "both are analytic (unequal analytic functions agree at a random "
                             f"point with probability 0){domains}", points_compared=n)


def not_analytic(e: Expr) -> set[str]:
    """The names of the functions with kinks or steps that ``e`` calls."""
    return {n.fn.name for n in postorder([e]) if isinstance(n, Call) and n.fn.name in NOT_ANALYTIC}


def _simplifies_to_zero(a: Expr, b: Expr) -> bool:
    try:
        return simplify(a - b) is ZERO
    except (SymcalcError, RecursionError):  # e.g. a constant that simplification refuses
        return False


# --- values at random points ---------------------------------------------------------------------
@dataclass
class Comparison:
    """What the random points showed: a point of certain difference (point, a, b), or how many
    points agree; ``unevaluable`` names a part without a numeric form."""

    differ: Optional[tuple[dict[str, float], Any, Any]] = None
    agreeing: int = 0
    points: list[dict[str, float]] = field(default_factory=list)
    unevaluable: str = ""
    digits: int = DIGITS
    one_sided: Optional[tuple[dict[str, float], str]] = None  # a point where only one is defined


def compare(a: Expr, b: Expr, *, must_define: Sequence[Expr] = (), b_required: bool = False,
            seed: int | None = None) -> Comparison:
    """Compare ``a`` and ``b`` at random points where ``a`` and each of ``must_define`` are
    defined, and ``b`` too.  With ``b_required``, a point where ``b`` alone is undefined is a
    difference (its value is None) instead of a point skipped."""
    symbols = sorted(frozenset().union(a.free_symbols, b.free_symbols,
                                       *(m.free_symbols for m in must_define)),
                     key=lambda s: s.name)
    digits = working_digits([a, b, *must_define])
    out = Comparison(digits=digits)
    rng = random.Random(zlib.crc32(f"{a}|{b}".encode()) if seed is None else seed)
    try:
        for point in _points(symbols, rng):
            if len(out.points) >= 2 * POINTS:
                break
            try:
                if any(value(m, point, digits) is None for m in must_define):
                    continue
                va = value(a, point, digits)
                vb = value(b, point, digits)
                if va is not None and vb is not None:
                    verdict, va2, vb2 = _judge(a, b, point, va, vb, digits)
                elif va is not None and b_required:
                    va2 = value(a, point, 2 * digits)
            except OutOfReach:  # a value too large to compute here: another point will do
                continue
            shown = {s.name: float(point[s]) for s in symbols}
            if (va is None) != (vb is None) and out.one_sided is None:
                out.one_sided = (shown, str(a) if vb is None else str(b))
            if va is None or (vb is None and not b_required):
                continue
            out.points.append(shown)
            if vb is None:
                out.differ = (shown, va2, None)
                return out
            if verdict is False:
                out.differ = (shown, va2, vb2)
                return out
            if verdict:
                out.agreeing += 1
    except _Unevaluable as exc:
        out.unevaluable = str(exc)
    return out


def _judge(a: Expr, b: Expr, point, va, vb, digits: int):
    """True (equal up to rounding), False (certainly different) or None (cannot tell), with the
    values at twice the digits."""
    import mpmath

    va2, vb2 = value(a, point, 2 * digits), value(b, point, 2 * digits)
    if va2 is None or vb2 is None:
        return None, va2, vb2
    with mpmath.workdps(2 * digits):
        rounding = abs(va - va2) + abs(vb - vb2)  # the error at `digits`, far above that at 2x
        scale = 1 + abs(va2) + abs(vb2)
        difference = abs(va2 - vb2)
        floor = mpmath.mpf(10) ** (10 - 2 * digits) * scale
        if difference > 100 * rounding * mpmath.mpf(10) ** (-digits) + floor:
            if difference > rounding:  # far above the error of even the first evaluation
                return False, va2, vb2
            return None, va2, vb2
        if rounding <= mpmath.mpf(10) ** (-digits // 2) * scale:
            return True, va2, vb2
        return None, va2, vb2  # too much cancellation to judge here


def _points(symbols: Sequence[Symbol], rng: random.Random) -> Iterable[dict[Symbol, Any]]:
    """Random dyadic points (exact at any precision), each followed by its mirror image."""
    import mpmath

    for k in range(MAX_DRAWS):
        box = BOXES[k % len(BOXES)]
        steps = int(box * 2 ** 20)
        raw = {s: Fraction(rng.randint(-steps, steps), 2 ** 20) for s in symbols}
        for sign in (1, -1):
            yield {s: mpmath.mpf(sign * v.numerator) / v.denominator for s, v in raw.items()}


def working_digits(es: Sequence[Expr]) -> int:
    """50 digits, more when the formulas hold long exact numbers (``1 + 10^-80*x``): the
    difference they make must stay above rounding."""
    extra = 0
    for node in postorder(list(es)):
        if isinstance(node, Num):
            v = Fraction(node.value)
            extra = max(extra, _digits(v.numerator) + _digits(v.denominator))
        elif isinstance(node, Pow) and all(isinstance(a, Num) for a in node.args):
            base, exponent = (Fraction(a.value) for a in node.args)
            if base > 0:
                size = abs(exponent) * abs(math.log10(base.numerator)
                                           - math.log10(base.denominator))
                extra = max(extra, int(min(size, 10 ** 4)) + 1)
    return DIGITS + min(extra, 2000)


def _digits(n: int) -> int:
    return len(str(abs(n))) if abs(n) < 10 ** 4000 else 4000


# --- real arithmetic with mpmath -----------------------------------------------------------------
class _Unevaluable(Exception):
    """A function without a numeric form (an abstract function)."""


class OutOfReach(Exception):
    """A value whose computation takes work that grows with the number of digits of an argument:
    ``exp`` or ``sin`` of a number beyond 10^1200 (``exp(exp(exp(exp(3))))``), a power whose
    logarithm is beyond that.  The point is skipped: another one will do."""


REACH = 4000  # bits: exp, sin, ... reduce arguments below 2^4000 (10^1200) with that many more
# functions that are cheap for any argument size; every other one is held to REACH
ANY_SIZE = frozenset("log log2 log10 log1p sqrt abs sign heaviside relu max min atan atan2 asinh "
                     "acosh".split())


def _real_functions() -> dict:
    import mpmath

    same = ("sin cos tan exp sqrt sinh cosh tanh asin acos atan erf erfc expm1 log1p log10 asinh "
            "acosh atanh atan2 sec csc cot sech csch coth sign").split()
    table = {name: getattr(mpmath, name) for name in same}
    table.update({
        "log": lambda x, *base: mpmath.log(x, *base),
        "log2": lambda x: mpmath.log(x, 2),
        "abs": mpmath.fabs,
        "heaviside": lambda x: (mpmath.sign(x) + 1) / 2,
        "sigmoid": lambda x: 1 / (1 + mpmath.exp(-x)),
        "softplus": lambda x: mpmath.log1p(mpmath.exp(x)),
        "relu": lambda x: max(x, mpmath.mpf(0)),
        "logsumexp": lambda *xs: mpmath.log(mpmath.fsum(mpmath.exp(x) for x in xs)),
        "max": lambda *xs: max(xs),
        "min": lambda *xs: min(xs),
    })
    return table


_REAL: dict = {}


def value(e: Expr, point: Mapping[Symbol, Any], digits: int = DIGITS):
    """The value of ``e`` at ``point`` (symbols to mpmath numbers) in real arithmetic with
    ``digits`` significant digits, or None where it or any part of it is undefined, infinite or
    complex.  Raises ``_Unevaluable`` for a function without a numeric form and ``OutOfReach``
    for a value too large to compute at this point."""
    import mpmath

    if not _REAL:
        _REAL.update(_real_functions())
    values: dict[Expr, Any] = {}
    with mpmath.workdps(digits):
        for node in postorder([e]):
            try:
                v = _node_value(node, [values[x] for x in node.args], point)
            except (ArithmeticError, ValueError):
                return None
            if isinstance(v, mpmath.mpc):
                return None  # sqrt(-1), log(-1), asin(2), (-8)^(1/3): not real
            if not mpmath.isfinite(v):
                return None
            values[node] = v
        return values[e]


def _node_value(node: Expr, args: list, point: Mapping[Symbol, Any]):
    import mpmath

    if isinstance(node, Num):
        v = Fraction(node.value)
        return mpmath.mpf(v.numerator) / v.denominator
    if isinstance(node, Symbol):
        return point[node]
    if isinstance(node, Constant):
        return mpmath.pi if node.name == "pi" else mpmath.e
    if isinstance(node, Add):
        return mpmath.fsum(args)
    if isinstance(node, Mul):
        return mpmath.fprod(args)
    if isinstance(node, Pow):
        base, exponent = args
        if base == 0 and exponent <= 0:
            raise ZeroDivisionError("0^0 or a pole")
        if exponent != 0 and base not in (0, 1) and (  # squarings, or exp of exponent*log(base)
                mpmath.mag(exponent) > REACH or not mpmath.isint(exponent)
                and mpmath.mag(exponent) + mpmath.mag(abs(mpmath.mag(base)) + 1) > REACH):
            raise OutOfReach(str(node))
        return mpmath.power(base, exponent)
    if isinstance(node, Call):
        name = node.fn.name
        if REGISTRY.get(name) is not node.fn or name not in _REAL:
            raise _Unevaluable(str(node))
        if name not in ANY_SIZE and any(a != 0 and mpmath.mag(a) > REACH for a in args):
            raise OutOfReach(str(node))
        return mpmath.mpmathify(_REAL[name](*args))
    raise _Unevaluable(str(node))


# --- text ----------------------------------------------------------------------------------------
def number_text(v, digits: int = 12) -> str:
    """An mpmath number as short text; None as 'undefined'."""
    if v is None:
        return "undefined"
    import mpmath

    return mpmath.nstr(v, digits)


def distinct_texts(va, vb) -> tuple[str, str]:
    """Two values as text with as many digits as it takes to tell them apart (at least 12)."""
    for digits in (12, 20, 40, 80, 160, 320):
        shown = number_text(va, digits), number_text(vb, digits)
        if shown[0] != shown[1]:
            break
    return shown


def point_text(point: Mapping[str, float]) -> str:
    """``x = 0.5, y = -1.25``."""
    return ", ".join(f"{name} = {v:.10g}" for name, v in point.items()) or "every point"


# --- SymPy's second opinion ----------------------------------------------------------------------
def _sympy_proves_zero(a: Expr, b: Expr) -> bool:
    """Whether SymPy's simplify turns a - b into 0 within the time budget (only in the main
    thread, where an alarm can interrupt it)."""
    if (threading.current_thread() is not threading.main_thread()
            or not hasattr(signal, "setitimer")):
        return False
    try:
        from .sympy_bridge import to_sympy
        import sympy

        difference = to_sympy(a, real=True) - to_sympy(b, real=True)
        if difference == 0:
            return True
        if sympy.count_ops(difference) > MAX_SYMPY_OPS:
            return False
        with _time_budget(SYMPY_BUDGET):
            return bool(sympy.simplify(difference) == 0)
    except _OutOfTime:
        return False
    except Exception:  # SymPy failing on a formula is no verdict either way
        return False


class _OutOfTime(Exception):
    pass


@contextlib.contextmanager
def _time_budget(seconds: float):
    def expire(signum, frame):
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
