"""Optimisation steps from the Taylor models of a function at a point.

Around a point a, ``f(a + d) ~ f(a) + g.d`` (linear model) and
``f(a + d) ~ f(a) + g.d + 1/2 d^T H d`` (quadratic model), with g the gradient and H the Hessian
at a.  Gradient descent steps along ``-lr * g``; Newton's method steps to the stationary point of
the quadratic model, the solution of ``H d = -g``; far from a minimum that step may go uphill
or to a saddle, so ``newton`` damps the Hessian until it is positive definite
(Levenberg-Marquardt) and backtracks along the step until f decreases enough (Armijo).  All
evaluate f, g and H with code compiled by ``lambdify``; the compiled functions are cached, so
iterating a step costs only the evaluation.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable, Mapping, Sequence, Union

import numpy as np

from .api import grad, hessian
from .compiler.compile import lambdify
from .language.arguments import ExprLike, VarLike, to_expr, to_symbol, to_symbols
from .errors import DomainError, SymcalcError, SymcalcTypeError
from .core.expr import Expr, Symbol

Point = Union[Sequence[float], Mapping[VarLike, float], np.ndarray]


def gradient_step(f: ExprLike, variables: Iterable[VarLike] | str, at: Point,
                  lr: float) -> np.ndarray:
    """The gradient-descent step ``-lr * grad f(at)`` as a float array (one entry per variable).

    It minimises the linear model plus the proximity term ``|d|^2 / (2 lr)``; the new point is
    ``at + step``.  ``at`` lists the values in the order of ``variables`` or maps names to values.

    >>> gradient_step("x^2 + y^2", "x y", [1, 2], lr=0.1).tolist()
    [-0.2, -0.4]
    """
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
        raise SymcalcTypeError(f"the learning rate must be a number, not {lr!r}")
    if not (np.isfinite(lr) and lr > 0):
        raise SymcalcError(f"the learning rate must be a positive finite number, got {lr}")
    expr, xs = to_expr(f), tuple(to_symbols(variables))
    a = _point(at, xs)
    g = _evaluate(_compiled_gradient(expr, xs), "gradient", expr, xs, a)
    return -float(lr) * g


def newton_step(f: ExprLike, variables: Iterable[VarLike] | str, at: Point, *,
                line_search: bool = False, damping: bool = False) -> np.ndarray:
    """Newton's step at ``at`` as a float array: the solution ``d`` of ``H d = -g`` by default.

    ``at + d`` is the stationary point of the quadratic model of ``f`` at ``at`` (its minimum when
    the Hessian is positive definite), so a quadratic with a positive definite Hessian is
    minimised in one step.  The system is solved by factorisation; the inverse is never formed.

    With the defaults (``line_search=False, damping=False``) this is the plain step, which can go
    uphill or towards a saddle point.  Raises ``ValueError`` when the Hessian is singular (or
    numerically so) at ``at``, or when the gradient or Hessian is not finite there.

    ``damping=True`` solves ``(H + lambda I) d = -g`` instead, with ``lambda = 0`` when ``H`` is
    positive definite and well conditioned, else the first of ``l0, 2 l0, 4 l0, ...`` (with
    ``l0 = 1e-3 s - min(diag H)``, at least ``1e-3 s``, ``s`` the largest entry of ``|H|`` or 1)
    for which the Cholesky factorisation succeeds and ``d`` is a descent direction
    (Levenberg-Marquardt); a singular Hessian is then no error.  Where the gradient is 0 and
    the Hessian has a negative eigenvalue (a saddle point or a maximum), the damped step goes
    along the direction of most negative curvature instead, scaled to the point (at least 1).
    ``line_search=True`` returns ``t d`` for the first ``t`` of ``1, 1/2, 1/4, ...`` that
    decreases ``f`` by at least ``1e-4 t |g.d|`` (Armijo); it raises ``ValueError`` when ``d``
    is not a descent direction (use ``damping=True``), and returns a zero step when no step
    length decreases ``f`` in floating point (at a minimum, up to rounding); along a direction of
    negative curvature it returns the first of those lengths that decreases ``f``.

    >>> newton_step("(x - 3)^2 + (y + 1)^2", "x y", [0, 0]).tolist()
    [3.0, -1.0]
    >>> bool(newton_step("x^4 - 2*x^2", "x", [0.1], line_search=True, damping=True)[0] > 0)
    True
    """
    _check_flag("line_search", line_search)
    _check_flag("damping", damping)
    expr, xs = to_expr(f), tuple(to_symbols(variables))
    a = np.array(_point(at, xs))
    return _step(expr, xs, a, line_search, damping)


@dataclass(frozen=True, eq=False)
class NewtonResult:
    """The outcome of :func:`newton`: the last point, f there, the number of steps taken, whether
    the gradient tolerance was met, and the path of iterates (the start first)."""

    point: np.ndarray
    value: float
    steps: int
    converged: bool
    gradient_norm: float
    path: np.ndarray

    def to_dict(self) -> dict:
        return {"point": self.point.tolist(), "value": self.value, "steps": self.steps,
                "converged": self.converged, "gradient_norm": self.gradient_norm,
                "path": self.path.tolist()}


def newton(f: ExprLike, variables: Iterable[VarLike] | str, at: Point, *, tol: float = 1e-8,
           max_steps: int = 100) -> NewtonResult:
    """Minimise ``f`` by damped Newton steps with an Armijo line search, starting from ``at``.

    Each step is ``newton_step(f, variables, point, line_search=True, damping=True)``, so every
    step taken decreases ``f``, from any start where f, its gradient and Hessian are finite.
    Stops when the largest entry of ``|grad f|`` is at most ``tol`` (``converged=True``), when
    no step decreases ``f`` in floating point (converged if f cannot gain more than rounding
    there), or after ``max_steps`` steps (``converged=False``).  A point where the gradient is
    within ``tol`` but the Hessian has a negative eigenvalue (a local maximum or a saddle point)
    is not a minimum: the method leaves it along the direction of most negative curvature, and
    reports ``converged=False`` if no step there decreases ``f``.

    >>> result = newton("(1 - x)^2 + 100*(y - x^2)^2", "x y", [-1.2, 1])
    >>> result.converged, [round(v, 9) for v in result.point.tolist()]
    (True, [1.0, 1.0])
    """
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real):
        raise SymcalcTypeError(f"the tolerance must be a number, not {tol!r}")
    if not (np.isfinite(tol) and tol > 0):
        raise SymcalcError(f"the tolerance must be a positive finite number, got {tol}")
    if isinstance(max_steps, bool) or not isinstance(max_steps, numbers.Integral):
        raise SymcalcTypeError(f"max_steps must be an integer, not {max_steps!r}")
    if max_steps < 1:
        raise SymcalcError(f"max_steps must be at least 1, got {max_steps}")
    expr, xs = to_expr(f), tuple(to_symbols(variables))
    path = [np.array(_point(at, xs))]
    converged = False
    for _ in range(int(max_steps) + 1):
        a = path[-1]
        g = _evaluate(_compiled_gradient(expr, xs), "gradient", expr, xs, a)
        stationary = not g.size or np.max(np.abs(g)) <= tol
        if len(path) > max_steps and not stationary:
            break
        d = _leave_if_not_a_minimum(expr, xs, a, g) if stationary else _step(expr, xs, a, True,
                                                                             True)
        if d is None:  # a minimum, to second order
            converged = True
            break
        if len(path) > max_steps:
            break
        if not np.any(d):  # no decrease possible in floating point
            converged = not stationary and _at_rounding_level(expr, xs, a, g)
            break
        path.append(a + d)
    a = path[-1]
    g = _evaluate(_compiled_gradient(expr, xs), "gradient", expr, xs, a)
    return NewtonResult(point=a, value=_value(expr, xs, a), steps=len(path) - 1,
                        converged=converged, gradient_norm=float(np.max(np.abs(g), initial=0.0)),
                        path=np.array(path))


# --- Newton directions and the line search -----------------------------------------------------
ARMIJO = 1e-4  # the fraction of the decrease predicted by the linear model that a step must give
LARGEST_CONDITION = 1e12  # damping also shifts a positive definite Hessian this ill-conditioned


def _step(expr: Expr, xs: tuple[Symbol, ...], a: np.ndarray, line_search: bool,
          damping: bool) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):  # far out, g.d may overflow: no descent
        return _checked_step(expr, xs, a, line_search, damping)


def _checked_step(expr: Expr, xs: tuple[Symbol, ...], a: np.ndarray, line_search: bool,
                  damping: bool) -> np.ndarray:
    g = _evaluate(_compiled_gradient(expr, xs), "gradient", expr, xs, a)
    h = _evaluate(_compiled_hessian(expr, xs), "Hessian", expr, xs, a)
    if damping and not np.any(g):  # stationary: a minimum, or leave along negative curvature
        direction = _negative_curvature(g, h, a)
        if direction is None:
            return np.zeros_like(g)
        return _decreasing(expr, xs, a, direction) if line_search else direction
    d = _damped_direction(g, h) if damping else _plain_direction(g, h, expr, xs, a)
    if not line_search or not np.any(d):
        return d
    slope = float(g @ d)
    if not slope < 0:
        raise DomainError(f"the Newton direction of {expr} at {_show(xs, a)} is not a descent "
                          f"direction (the Hessian is not positive definite there); pass "
                          f"damping=True")
    return _armijo_length(expr, xs, a, d, slope) * d


def _plain_direction(g: np.ndarray, h: np.ndarray, expr: Expr, xs: Sequence[Symbol],
                     a: np.ndarray) -> np.ndarray:
    condition = np.linalg.cond(h) if h.size else 1.0
    if not condition < 1 / np.finfo(float).eps:
        raise DomainError(f"the Hessian of {expr} is singular at {_show(xs, a)} (condition number "
                          f"{condition:.3g}): the quadratic model has no unique stationary point")
    try:
        return np.linalg.solve(h, -g)
    except np.linalg.LinAlgError as error:
        raise DomainError(f"the Hessian of {expr} is singular at {_show(xs, a)}: {error}") from None


def _damped_direction(g: np.ndarray, h: np.ndarray) -> np.ndarray:
    """The solution of ``(H + lambda I) d = -g`` for the first shift that makes a descent direction.

    The shifts are 0, then ``-min(diag H) + 1e-3 s`` (at least ``1e-3 s``, with ``s >= max|H|``),
    doubling; a shift above the largest eigenvalue's magnitude always works, so few tries are
    needed."""
    if not np.any(g):
        return np.zeros_like(g)
    scale = max(1.0, float(np.max(np.abs(h))))
    identity = np.eye(len(g))
    first = max(1e-3 * scale, 1e-3 * scale - float(np.min(np.diag(h))))
    for shift in [0.0] + [first * 2.0 ** k for k in range(80)]:
        shifted = h + shift * identity
        try:
            np.linalg.cholesky(shifted)
        except np.linalg.LinAlgError:
            continue
        if not np.linalg.cond(shifted) < LARGEST_CONDITION:
            continue
        d = np.linalg.solve(shifted, -g)
        if np.all(np.isfinite(d)) and g @ d < 0:
            return d
    return -g / (first * 2.0 ** 80)  # not reached for finite g and H: steepest descent


def _armijo_length(expr: Expr, xs: tuple[Symbol, ...], a: np.ndarray, d: np.ndarray,
                   slope: float) -> float:
    """The first of 1, 1/2, 1/4, ... meeting the Armijo condition, or 0.0 when none does."""
    start = _value(expr, xs, a)
    length = 1.0
    for _ in range(60):
        trial = _value(expr, xs, a + length * d, strict=False)
        if trial <= start + ARMIJO * length * slope and trial < start:
            return length
        length /= 2
    return 0.0


def _leave_if_not_a_minimum(expr: Expr, xs: tuple[Symbol, ...], a: np.ndarray,
                            g: np.ndarray) -> np.ndarray | None:
    """At a point where the gradient is within the tolerance: None when the Hessian is positive
    semidefinite (up to rounding), so that the point is a minimum as far as derivatives tell;
    else a step along the direction of most negative curvature that decreases f (a zero step if
    none does).  A local maximum or a saddle point of a function to minimise is not where to
    stop."""
    if not g.size:
        return None
    h = _evaluate(_compiled_hessian(expr, xs), "Hessian", expr, xs, a)
    direction = _negative_curvature(g, h, a)
    return None if direction is None else _decreasing(expr, xs, a, direction)


def _negative_curvature(g: np.ndarray, h: np.ndarray, a: np.ndarray) -> np.ndarray | None:
    """The eigenvector of the lowest eigenvalue of ``h``, scaled to the size of the point (at
    least 1) and pointing downhill, when that eigenvalue is negative beyond rounding; else None."""
    values, vectors = np.linalg.eigh(h)
    if values[0] >= -CURVATURE_TOLERANCE * max(1.0, float(np.max(np.abs(h)))):
        return None
    direction = vectors[:, 0] * max(1.0, float(np.max(np.abs(a))))
    return -direction if g @ direction > 0 else direction


def _decreasing(expr: Expr, xs: tuple[Symbol, ...], a: np.ndarray,
                direction: np.ndarray) -> np.ndarray:
    """The first of ``t direction``, t = 1, 1/2, 1/4, ..., along which f decreases; a zero step
    when none does."""
    start = _value(expr, xs, a)
    length = 1.0
    for _ in range(60):
        step = length * direction
        if _value(expr, xs, a + step, strict=False) < start:
            return step
        length /= 2
    return np.zeros_like(a)


# A Hessian whose lowest eigenvalue is below -this * max|H| is not positive semidefinite.
CURVATURE_TOLERANCE = float(np.sqrt(np.finfo(float).eps))


def _at_rounding_level(expr: Expr, xs: tuple[Symbol, ...], a: np.ndarray, g: np.ndarray) -> bool:
    """Whether the decrease the quadratic model still promises is below the rounding of f."""
    h = _evaluate(_compiled_hessian(expr, xs), "Hessian", expr, xs, a)
    with np.errstate(over="ignore", invalid="ignore"):
        promised = -0.5 * float(g @ _damped_direction(g, h))
    return promised <= 16 * np.finfo(float).eps * max(1.0, abs(_value(expr, xs, a)))


def _value(expr: Expr, xs: tuple[Symbol, ...], a: np.ndarray, strict: bool = True) -> float:
    """f at the point; with ``strict=False`` a non-finite value is ``inf`` instead of an error."""
    if strict:
        return float(_evaluate(_compiled_function(expr, xs), "value", expr, xs, a))
    try:
        with np.errstate(all="ignore"):
            value = float(_compiled_function(expr, xs)(*a))
    except (ArithmeticError, ValueError):
        return np.inf
    return value if np.isfinite(value) else np.inf


def _check_flag(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise SymcalcTypeError(f"{name} must be True or False, not {value!r}")


# --- helpers ---------------------------------------------------------------------------------------
@lru_cache(maxsize=64)
def _compiled_function(f: Expr, xs: tuple[Symbol, ...]) -> Callable[..., np.ndarray]:
    return lambdify(f, xs)


@lru_cache(maxsize=64)
def _compiled_gradient(f: Expr, xs: tuple[Symbol, ...]) -> Callable[..., np.ndarray]:
    return lambdify(grad(f, xs), xs)


@lru_cache(maxsize=64)
def _compiled_hessian(f: Expr, xs: tuple[Symbol, ...]) -> Callable[..., np.ndarray]:
    return lambdify(hessian(f, xs), xs)


def _point(at: Point, xs: Sequence[Symbol]) -> list[float]:
    """The point as floats in the order of ``xs``, checked."""
    if isinstance(at, Mapping):
        values = {to_symbol(k): v for k, v in at.items()}
        missing = [x.name for x in xs if x not in values]
        if missing:
            raise SymcalcError(f"the point gives no value for {', '.join(missing)}")
        extra = [x.name for x in values if x not in xs]
        if extra:
            raise SymcalcError(f"the point gives {', '.join(extra)}, which is not among the variables")
        at = [values[x] for x in xs]
    try:
        a = np.asarray(at, dtype=float)
    except (TypeError, ValueError):
        raise SymcalcTypeError(f"the point must be numbers, one per variable, not {at!r}") from None
    if a.shape != (len(xs),):
        raise SymcalcError(f"the point needs {len(xs)} values (one per variable), got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise SymcalcError(f"the point must be finite, got {a}")
    return [float(v) for v in a]


def _evaluate(compiled: Callable[..., np.ndarray], what: str, f: Expr, xs: Sequence[Symbol],
              a: Sequence[float]) -> np.ndarray:
    try:
        with np.errstate(all="ignore"):  # a non-finite value becomes the error below
            values = np.asarray(compiled(*a), dtype=float)
    except ArithmeticError:  # scalar float arithmetic raises on 1/0 and overflow
        values = np.array(np.nan)
    if not np.all(np.isfinite(values)):
        raise DomainError(f"the {what} of {f} is not finite at {_show(xs, a)}")
    return values


def _show(xs: Sequence[Symbol], a: Sequence[float]) -> str:
    return "(" + ", ".join(f"{x} = {v:g}" for x, v in zip(xs, a)) + ")"
