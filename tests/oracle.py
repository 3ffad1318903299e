"""Independent checks of derivatives, shared by the test files.

Every check confirms a symcalc result two independent ways:

1. against SymPy: SymPy differentiates ``to_sympy(f)`` itself, and the difference with symcalc's
   result must simplify to 0 (within a short time budget) or vanish at random points, evaluated
   with mpmath at 50 digits;
2. against central finite differences of ``f`` alone, evaluated with mpmath at 50 digits with a
   step small enough for an error far below the tolerance.

Random points are drawn (reproducibly) from a box and kept only where ``f`` is defined in real
arithmetic (every part of it real and finite) and SymPy's derivative is real and finite, so
``log``, ``sqrt``, ``asin`` and the like need no special care; a case may narrow the box with
``domain``.  symcalc's result must then be defined too.  Kinks (``abs``, ``relu`` at 0) have
probability zero of being hit.

Quantities are written as sums of terms ``weight * d^spec f``; gradients, Jacobians, Hessians and
the products jvp / vjp / hvp / directional are all such sums.  Weights are held constant (as
symcalc's ``vjp`` and ``hvp`` hold their vectors constant) and may be any expression.
"""

from __future__ import annotations

import contextlib
import gc
import math
import random
import signal
import threading
import zlib
from dataclasses import dataclass
from typing import Iterable, Mapping, Optional, Sequence, Union

import mpmath
import sympy

import symcalc as sc
from symcalc.core import nodes as _symcalc_nodes
from symcalc.language.arguments import to_expr, to_symbol, to_symbols
from symcalc.core.expr import postorder

DIGITS = 50
SYMBOLIC_BUDGET = 0.5  # seconds SymPy may spend simplifying one difference
FD_RTOL = mpmath.mpf("1e-10")
SYMPY_RTOL = mpmath.mpf("1e-25")
DEFAULT_BOX = (-1.5, 1.5)
POINTS = 3
MAX_DRAWS = 300

Box = tuple[float, float]
Domain = Union[Box, Mapping[str, Box], None]
Spec = tuple[tuple[sc.Symbol, int], ...]  # ((x, 2), (y, 1)) is d^3 / (dx^2 dy)


@dataclass(frozen=True)
class Term:
    """``weight * d^spec f`` with the weight held constant."""

    weight: sc.Expr
    f: sc.Expr
    spec: Spec


@dataclass
class Verdict:
    """How a check was passed: 'symbolic' or 'numeric' agreement with SymPy, and the points."""

    sympy_method: str
    points: list[dict[str, float]]
    worst_fd_error: float


# --- public checks ---------------------------------------------------------------------------
def check_derivative(f, spec, result, domain: Domain = None) -> Verdict:
    """``result`` is ``sc.diff(f, *spec)``; spec as for ``sc.diff``: ("x",), ("x", 3), ...)."""
    return check_terms([Term(sc.Num(1), to_expr(f), parse_spec(spec))], result, domain)


def check_gradient(f, variables, gradient, domain: Domain = None) -> None:
    xs = to_symbols(variables)
    assert len(gradient) == len(xs)
    for x, g in zip(xs, gradient):
        check_derivative(f, (x,), g, domain)


def check_jacobian(fs, variables, matrix, domain: Domain = None) -> None:
    fs, xs = [to_expr(f) for f in fs], to_symbols(variables)
    assert len(matrix) == len(fs) and all(len(row) == len(xs) for row in matrix)
    for f, row in zip(fs, matrix):
        for x, entry in zip(xs, row):
            check_derivative(f, (x,), entry, domain)


def check_hessian(f, variables, matrix, domain: Domain = None) -> None:
    xs = to_symbols(variables)
    assert len(matrix) == len(xs) and all(len(row) == len(xs) for row in matrix)
    for i, xi in enumerate(xs):
        for j, xj in enumerate(xs):
            assert matrix[i][j] == matrix[j][i]
            if j >= i:
                check_derivative(f, (xi, xj), matrix[i][j], domain)


def check_directional(f, variables, u, result, domain: Domain = None) -> Verdict:
    """``result`` is ``sum_j u_j * df/dx_j``."""
    f, xs = to_expr(f), to_symbols(variables)
    return check_terms([Term(to_expr(w), f, ((x, 1),)) for w, x in zip(u, xs)], result, domain)


def check_jvp(fs, variables, v, result, domain: Domain = None) -> None:
    """``result[i]`` is ``sum_j v_j * dfs[i]/dx_j``."""
    fs = [to_expr(f) for f in fs]
    assert len(result) == len(fs)
    for f, r in zip(fs, result):
        check_directional(f, variables, v, r, domain)


def check_vjp(fs, variables, w, result, domain: Domain = None) -> None:
    """``result[j]`` is ``sum_i w_i * dfs[i]/dx_j`` (w held constant)."""
    fs, xs = [to_expr(f) for f in fs], to_symbols(variables)
    assert len(result) == len(xs)
    for x, r in zip(xs, result):
        check_terms([Term(to_expr(wi), f, ((x, 1),)) for wi, f in zip(w, fs)], r, domain)


def check_hvp(f, variables, v, result, domain: Domain = None) -> None:
    """``result[j]`` is ``sum_k v_k * d^2 f/(dx_j dx_k)`` (v held constant)."""
    f, xs = to_expr(f), to_symbols(variables)
    assert len(result) == len(xs)
    for xj, r in zip(xs, result):
        terms = [Term(to_expr(vk), f, _merge(((xj, 1), (xk, 1)))) for vk, xk in zip(v, xs)]
        check_terms(terms, r, domain)


def check_jacobian_det(fs, variables, result, domain: Domain = None) -> Verdict:
    """``result`` is the determinant of the square Jacobian of ``fs``."""
    fs, xs = [to_expr(f) for f in fs], to_symbols(variables)
    fs_sympy = [_to_sympy(f) for f in fs]
    xs_sympy = [_to_sympy(x) for x in xs]
    expected = sympy.Matrix([[sympy.diff(f, x) for x in xs_sympy] for f in fs_sympy]).det()
    method = _agreement(expected, _to_sympy(result))

    def finite_difference(point):
        matrix = [[_central_difference(f, ((x, 1),), point) for x in xs] for f in fs]
        if any(entry is None for row in matrix for entry in row):
            return None
        return mpmath.det(mpmath.matrix(matrix))

    label = f"det J({', '.join(map(str, fs))}) = {result}"
    points, worst = _compare_at_points(
        _free(fs + [result]), domain, label, expected, result, method, fs, finite_difference
    )
    return Verdict(method, points, worst)


def check_terms(terms: Sequence[Term], result, domain: Domain = None) -> Verdict:
    """``result`` equals ``sum(t.weight * d^t.spec t.f for t in terms)``."""
    result = to_expr(result)
    expected = sympy.Add(*[
        _to_sympy(t.weight) * sympy.diff(_to_sympy(t.f), *_sympy_spec(t.spec)) for t in terms
    ])
    expected = _off_the_kinks(expected)
    assert not expected.has(sympy.Derivative), f"SymPy cannot differentiate this: {expected}"
    method = _agreement(expected, _to_sympy(result))

    def finite_difference(point):
        parts = [(value(t.weight, point), _central_difference(t.f, t.spec, point)) for t in terms]
        if any(w is None or d is None for w, d in parts):
            return None
        return mpmath.fsum(w * d for w, d in parts)

    label = " + ".join(_term_text(t) for t in terms) + f" = {result}"
    symbols = _free([result] + [t.f for t in terms] + [t.weight for t in terms])
    points, worst = _compare_at_points(
        symbols, domain, label, expected, result, method, [t.f for t in terms], finite_difference
    )
    return Verdict(method, points, worst)


def parse_spec(spec) -> Spec:
    """("x", 2, "y") -> ((x, 2), (y, 1)), merging repeated variables."""
    if isinstance(spec, (str, sc.Symbol)):
        spec = (spec,)
    steps: list[tuple[sc.Symbol, int]] = []
    for item in spec:
        if isinstance(item, int):
            steps[-1] = (steps[-1][0], item)
        else:
            steps.append((to_symbol(item), 1))
    return _merge(steps)


# --- SymPy side ------------------------------------------------------------------------------
_converted: dict[sc.Expr, sympy.Expr] = {}


def _to_sympy(e) -> sympy.Expr:
    e = to_expr(e)
    if e not in _converted:
        _converted[e] = sc.to_sympy(e, real=True)
    return _converted[e]


def _sympy_spec(spec: Spec) -> list:
    out = []
    for x, n in spec:
        out += [_to_sympy(x), n]
    return out


def _agreement(expected, got) -> str:
    """'symbolic' when SymPy proves expected - got = 0 quickly; else 'numeric' (checked later)."""
    difference = expected - got
    if difference == 0:
        return "symbolic"
    if sympy.count_ops(difference) <= 400:
        with contextlib.suppress(_OutOfTime):
            with _time_budget(SYMBOLIC_BUDGET):
                if sympy.simplify(difference) == 0:
                    return "symbolic"
    return "numeric"


def _off_the_kinks(s_expr):
    """SymPy's derivative with the derivatives of steps (``DiracDelta``, and ``sign`` or
    ``Heaviside`` of an argument SymPy cannot prove real) replaced by their value off the kinks,
    which is 0."""
    steps = (sympy.sign, sympy.Heaviside)
    s_expr = s_expr.replace(
        lambda n: isinstance(n, sympy.Derivative) and isinstance(n.expr, steps), lambda n: 0
    )
    return s_expr.replace(sympy.DiracDelta, lambda *a: sympy.S.Zero)


class _OutOfTime(Exception):
    pass


@contextlib.contextmanager
def _time_budget(seconds: float):
    """Interrupt the block after ``seconds`` (main thread only; elsewhere no limit applies)."""
    if threading.current_thread() is not threading.main_thread():
        raise _OutOfTime  # without an alarm there is no bound: let the numeric check decide

    def expire(signum, frame):
        if not _inside_finaliser(frame):
            raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, expire)
    # repeat: an alarm that lands in a finaliser is let pass (raising there would only print a
    # warning), the next one, 50 ms later, interrupts the block
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.05)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _inside_finaliser(frame) -> bool:
    """Whether ``frame`` runs inside a ``__del__``, a garbage-collector callback or the weakref
    module (its callbacks and finalisers), where an exception cannot propagate; elsewhere in that
    module an alarm is only put off by one repeat."""
    callbacks = {getattr(c, "__code__", None) for c in gc.callbacks}
    callbacks.add(_symcalc_nodes._dropped.__code__)  # the interning table's weakref callback
    while frame is not None:
        code = frame.f_code
        if (code.co_name == "__del__" or code in callbacks
                or code.co_filename.endswith("weakref.py")):
            return True
        frame = frame.f_back
    return False


# --- numeric side ----------------------------------------------------------------------------
# Real arithmetic at DIGITS digits, written from the textbook definitions rather than from
# symcalc's registry.  Every intermediate value must be real: where one is not (sqrt or log of a
# negative number, asin(2), ...), the formula is undefined at that point.
REAL_FUNCTIONS = {
    "sin": mpmath.sin, "cos": mpmath.cos, "tan": mpmath.tan, "exp": mpmath.exp,
    "log": lambda x, *b: mpmath.log(x) / mpmath.log(b[0]) if b else mpmath.log(x),
    "sqrt": mpmath.sqrt, "abs": abs, "sign": mpmath.sign,
    "heaviside": lambda x: (mpmath.sign(x) + 1) / 2,
    "sinh": mpmath.sinh, "cosh": mpmath.cosh, "tanh": mpmath.tanh,
    "asin": mpmath.asin, "acos": mpmath.acos, "atan": mpmath.atan,
    "sigmoid": lambda x: 1 / (1 + mpmath.exp(-x)),
    "softplus": lambda x: mpmath.log(1 + mpmath.exp(x)),
    "relu": lambda x: max(x, mpmath.mpf(0)),
    "erf": mpmath.erf,
    "logsumexp": lambda *xs: mpmath.log(mpmath.fsum(mpmath.exp(x) for x in xs)),
    "log1p": lambda x: mpmath.log(1 + x), "expm1": lambda x: mpmath.exp(x) - 1,
    "max": lambda *xs: max(xs), "min": lambda *xs: min(xs),
    "log2": lambda x: mpmath.log(x, 2), "log10": lambda x: mpmath.log(x, 10),
    "asinh": mpmath.asinh, "acosh": mpmath.acosh, "atanh": mpmath.atanh, "atan2": mpmath.atan2,
    "erfc": mpmath.erfc, "sec": mpmath.sec, "csc": mpmath.csc, "cot": mpmath.cot,
    "sech": mpmath.sech, "csch": mpmath.csch, "coth": mpmath.coth,
}


def value(e, point: Mapping[str, mpmath.mpf], digits: Optional[int] = None):
    """The value of the symcalc expression ``e`` at ``point`` in real arithmetic (at ``digits``,
    DIGITS when not given), or None where it (or any part of it) is undefined, infinite or
    complex."""
    values: dict[sc.Expr, mpmath.mpf] = {}
    with mpmath.workdps(digits or DIGITS):
        for node in postorder([to_expr(e)]):
            args = [values[a] for a in node.args]
            try:
                v = _real(_node_value(node, args, point))
            except (ArithmeticError, ValueError):
                v = None
            if v is None:
                return None
            values[node] = v
        return values[to_expr(e)]


def _node_value(node: sc.Expr, args: list, point: Mapping[str, mpmath.mpf]):
    if isinstance(node, sc.Num):
        return mpmath.mpf(node.value.numerator) / node.value.denominator \
            if not isinstance(node.value, int) else mpmath.mpf(node.value)
    if isinstance(node, sc.Symbol):
        return point[node.name]
    if isinstance(node, sc.Constant):
        return mpmath.pi if node.name == "pi" else mpmath.e
    if isinstance(node, sc.Add):
        return mpmath.fsum(args)
    if isinstance(node, sc.Mul):
        return mpmath.fprod(args)
    if isinstance(node, sc.Pow):
        return mpmath.power(*args)
    return REAL_FUNCTIONS[node.fn.name](*args)


_compiled: dict[tuple, object] = {}


def _evaluate_sympy(s_expr, point: Mapping[str, mpmath.mpf]):
    """The real value of SymPy's ``s_expr`` at ``point`` (SymPy's own mpmath translation), or
    None where it is undefined, infinite or complex."""
    names = tuple(sorted(point))
    key = (s_expr, names)
    if key not in _compiled:
        try:
            args = [sympy.Symbol(n, real=True) for n in names]
            _compiled[key] = sympy.lambdify(args, s_expr, modules="mpmath")
        except Exception:  # zoo, AccumBounds, ...: nothing mpmath can evaluate
            _compiled[key] = None
    if _compiled[key] is None:
        return None
    with mpmath.workdps(DIGITS):
        try:
            return _real(_compiled[key](*(point[n] for n in names)))
        except (ArithmeticError, TypeError, ValueError):
            return None


def _real(v):
    """``v`` as an mpf, or None when it is complex, infinite or undefined."""
    try:
        v = mpmath.mpmathify(v)
    except (TypeError, ValueError):
        return None
    if isinstance(v, mpmath.mpc):
        if abs(v.imag) > mpmath.mpf(10) ** (10 - DIGITS) * (1 + abs(v.real)):
            return None
        v = v.real
    return v if mpmath.isfinite(v) else None


def _central_difference(f: sc.Expr, spec: Spec, point: Mapping[str, mpmath.mpf]):
    """Central finite difference of total order n = sum of orders: error O(h^2) with h chosen so
    that truncation and rounding stay far below FD_RTOL.  It is computed at twice DIGITS: the
    rounding error, about 10^-digits * |f| * 2^n / h^n, stays small for large |f| at order 8."""
    order = sum(n for _, n in spec)
    digits = 2 * DIGITS  # read when called: tests may raise DIGITS
    with mpmath.workdps(digits):
        h = mpmath.mpf(10) ** (-(digits // (order + 2)))
        stencil = [({}, mpmath.mpf(1))]  # offsets (in steps) per variable, weight
        for x, n in spec:
            # d^n/dx^n ~ sum_k (-1)^k C(n, k) f(x + (n/2 - k) h) / h^n
            stencil = [
                ({**offsets, x.name: mpmath.mpf(n) / 2 - k}, weight * (-1) ** k * math.comb(n, k))
                for offsets, weight in stencil for k in range(n + 1)
            ]
        total = mpmath.mpf(0)
        for offsets, weight in stencil:
            shifted = {name: v + offsets.get(name, 0) * h for name, v in point.items()}
            fv = value(f, shifted, digits)
            if fv is None:
                return None
            total += weight * fv
        return total / h ** order


def _compare_at_points(symbols, domain, label, expected, result, method, functions,
                       finite_difference):
    """Draw points where every function is defined; there SymPy's derivative, symcalc's result
    and the finite difference must agree."""
    with mpmath.workdps(DIGITS):
        rng = random.Random(zlib.crc32(label.encode()))
        names = sorted(s.name for s in symbols)
        boxes = _boxes(names, domain)
        accepted: list[dict[str, float]] = []
        worst = 0.0
        for _ in range(MAX_DRAWS):
            if len(accepted) == POINTS:
                break
            plain = {n: round(rng.uniform(*boxes[n]), 6) for n in names}
            point = {n: mpmath.mpf(v) for n, v in plain.items()}
            if any(value(f, point) is None for f in functions):
                continue
            want = _evaluate_sympy(expected, point)
            fd = finite_difference(point)
            if want is None or fd is None:
                continue
            have = value(result, point)
            assert have is not None, f"{label}: symcalc's result is undefined at {plain}"
            if method == "numeric":
                assert abs(have - want) <= SYMPY_RTOL * (1 + abs(want)), (
                    f"{label}: symcalc and SymPy differ at {plain}: {have} vs {want}"
                )
            fd_error = abs(have - fd) / (1 + abs(fd))
            assert fd_error <= FD_RTOL, (
                f"{label}: symcalc and central differences differ at {plain}: {have} vs {fd}"
            )
            worst = max(worst, float(fd_error))
            accepted.append(plain)
        assert accepted, f"{label}: found no points where everything is real and finite"
        return accepted, worst


def _boxes(names: Iterable[str], domain: Domain) -> dict[str, Box]:
    if domain is None:
        return {n: DEFAULT_BOX for n in names}
    if isinstance(domain, tuple):
        return {n: domain for n in names}
    return {n: domain.get(n, DEFAULT_BOX) for n in names}


# --- helpers ---------------------------------------------------------------------------------
def _merge(steps) -> Spec:
    orders: dict[sc.Symbol, int] = {}
    for x, n in steps:
        orders[x] = orders.get(x, 0) + n
    return tuple((x, n) for x, n in orders.items() if n > 0)


def _free(exprs: Iterable) -> set:
    out: set = set()
    for e in exprs:
        out |= to_expr(e).free_symbols
    return out


def _term_text(t: Term) -> str:
    order = sum(n for _, n in t.spec)
    below = "".join(f"d{x.name}" + (f"^{n}" if n > 1 else "") for x, n in t.spec)
    text = f"d{'^' + str(order) if order > 1 else ''}/{below} ({t.f})"
    return text if t.weight == 1 else f"({t.weight})*{text}"
