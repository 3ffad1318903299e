"""Optimisation steps from the Taylor models of a function at a point.

Around a point a, ``f(a + d) ~ f(a) + g.d`` (linear model) and
``f(a + d) ~ f(a) + g.d + 1/2 d^T H d`` (quadratic model), with g the gradient and H the Hessian
at a.  Gradient descent steps along ``-lr * g``; Newton's method steps to the stationary point of
the quadratic model, the solution of ``H d = -g``.  Both evaluate g and H with code compiled by
``lambdify``; the compiled functions are cached, so iterating a step costs only the evaluation.
"""

from __future__ import annotations

import numbers
from functools import lru_cache
from typing import Callable, Iterable, Mapping, Sequence, Union

import numpy as np

from .calculus import grad, hessian
from .compile import lambdify
from .convert import ExprLike, VarLike, to_expr, to_symbol, to_symbols
from .errors import DomainError, SymcalcError, SymcalcTypeError
from .expr import Expr, Symbol

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


def newton_step(f: ExprLike, variables: Iterable[VarLike] | str, at: Point) -> np.ndarray:
    """Newton's step: the solution ``d`` of ``H d = -g`` at ``at``, as a float array.

    ``at + d`` is the stationary point of the quadratic model of ``f`` at ``at`` (its minimum when
    the Hessian is positive definite), so a quadratic with a positive definite Hessian is
    minimised in one step.  The system is solved by LU factorisation; the inverse is never formed.
    Raises ``ValueError`` when the Hessian is singular (or numerically so) at ``at``, or when the
    gradient or Hessian is not finite there.

    >>> newton_step("(x - 3)^2 + (y + 1)^2", "x y", [0, 0]).tolist()
    [3.0, -1.0]
    """
    expr, xs = to_expr(f), tuple(to_symbols(variables))
    a = _point(at, xs)
    g = _evaluate(_compiled_gradient(expr, xs), "gradient", expr, xs, a)
    h = _evaluate(_compiled_hessian(expr, xs), "Hessian", expr, xs, a)
    condition = np.linalg.cond(h) if h.size else 1.0
    if not condition < 1 / np.finfo(float).eps:
        raise DomainError(f"the Hessian of {expr} is singular at {_show(xs, a)} (condition number "
                         f"{condition:.3g}): the quadratic model has no unique stationary point")
    try:
        return np.linalg.solve(h, -g)
    except np.linalg.LinAlgError as error:
        raise DomainError(f"the Hessian of {expr} is singular at {_show(xs, a)}: {error}") from None


# --- helpers ---------------------------------------------------------------------------------------
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
