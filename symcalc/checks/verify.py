"""Checking a gradient two independent ways: against SymPy and against finite differences.

``check_gradient`` evaluates symcalc's gradient (compiled with ``lambdify``) at random points
where the function is finite and compares it with

- SymPy's derivative of the same formula: the symbolic difference, and values at the points
  (SymPy evaluates with 30 significant digits, so its values serve as the reference);
- central differences ``(f(x + h) - f(x - h)) / 2h`` with a step suited to float64;
- forward and central differences for ``h = 1e-1 ... 1e-12``: the error falls like ``h``
  (forward) or ``h^2`` (central) until rounding, of size ``eps * |f| / h``, takes over, so the
  table shows a best step and errors that rise again for smaller steps.

The formula's other symbols are parameters: each point gives them random values too, and the
derivatives are taken with them fixed (``sigmoid(w*x + b)`` by ``w`` at random ``w, b, x``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np

from ..api import grad
from ..compiler.compile import lambdify
from ..errors import DomainError
from ..core.expr import Expr, Num, Symbol, postorder
from ..compiler.numpy_printer import beyond_float_range
from .sympy_bridge import to_sympy

STEPS = tuple(10.0 ** -k for k in range(1, 13))
SAMPLE_RADIUS = 2.0          # points are drawn uniformly from [-2, 2]^d
SYMPY_TOLERANCE = 1e-8       # |symcalc - sympy| <= tol * (1 + |sympy|)
CENTRAL_TOLERANCE = 1e-5     # |central - exact| <= tol * (1 + |exact| + |f|)
SMALL_DERIVATIVE = 1e-8      # relative errors are taken where |exact| is at least this
_EPS = float(np.finfo(float).eps)
_MAX_SYMPY_SIMPLIFY_OPS = 400  # larger symbolic differences are judged by their values only


@dataclass(frozen=True)
class Comparison:
    """The largest absolute and relative differences over all points and variables."""

    max_abs: float
    max_rel: float
    compared: int
    agree: bool


@dataclass(frozen=True)
class StepRow:
    """The largest error of forward and central differences with step ``h``."""

    h: float
    forward: float
    central: float


@dataclass(frozen=True)
class GradientCheck:
    """Everything ``check_gradient`` found; ``ok`` says whether all checks agree."""

    function: Expr
    variables: list[Symbol]
    gradient: list[Expr]
    points: np.ndarray                    # shape (n, d + p): the variables', then the parameters'
    parameters: list[Symbol]              # the formula's other symbols, random at each point
    symbolic_zero: list[bool | None]      # per variable: SymPy simplified the difference to 0
    sympy: Comparison
    central: Comparison
    steps: list[StepRow]

    @property
    def ok(self) -> bool:
        return len(self.points) > 0 and self.sympy.agree and self.central.agree

    @property
    def best_forward(self) -> StepRow:
        return min(self.steps, key=lambda row: _nan_last(row.forward))

    @property
    def best_central(self) -> StepRow:
        return min(self.steps, key=lambda row: _nan_last(row.central))


def check_gradient(f: Expr, variables: Sequence[Symbol], points: int = 10,
                   seed: int = 0, gradient: Optional[Sequence[Expr]] = None) -> GradientCheck:
    """Check ``grad(f, variables)`` against SymPy and finite differences at random points.

    The symbols of ``f`` that are not among ``variables`` are parameters: they take random values
    at each point too, and stay fixed while the variables move.  Raises ``DomainError`` when ``f``
    holds a number beyond float range (SymPy would compute it digit by digit); where no point has
    a finite value and gradient, the report is not ``ok``.  ``gradient``: the formulas to check
    in place of ``grad(f, variables)`` (a matrix-form gradient written out entry by entry).
    """
    _check_float_range(f)
    variables = list(variables)
    parameters = sorted(f.free_symbols - set(variables), key=lambda s: s.name)
    gradient = grad(f, variables) if gradient is None else list(gradient)
    value = _vectorised(lambdify(f, variables + parameters), ())
    slope = _vectorised(lambdify(gradient, variables + parameters), (len(variables),))
    rng = np.random.default_rng(seed)
    xs = _sample_points(value, slope, len(variables), len(parameters), points, rng)
    exact = slope(xs)
    symbolic_zero, sympy_comparison = _compare_with_sympy(f, variables, parameters, gradient, xs,
                                                          exact)
    return GradientCheck(
        function=f, variables=variables, gradient=list(gradient), points=xs,
        parameters=parameters, symbolic_zero=symbolic_zero, sympy=sympy_comparison,
        central=_central_difference_errors(value, xs, exact),
        steps=[_step_row(value, xs, exact, h) for h in STEPS],
    )


# --- numeric evaluation --------------------------------------------------------------------------
def _vectorised(fn: Callable, shape: tuple[int, ...]) -> Callable[[np.ndarray], np.ndarray]:
    """Call a lambdified function on points of shape (n, d); the result has shape ``shape + (n,)``."""

    def at(points: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            result = np.asarray(fn(*points.T), dtype=float)
        return np.broadcast_to(result, shape + (len(points),))

    return at


def _check_float_range(f: Expr) -> None:
    for node in postorder([f]):
        if beyond_float_range(node):
            shown = _scientific(node.value) if isinstance(node, Num) else str(node)
            raise DomainError(f"the number {shown} is beyond float range: its values cannot be "
                              "compared in floating point")


def _scientific(value) -> str:
    """A number of any size as ``1.23e400``, without converting all its digits."""
    exponent = math.log10(abs(value.numerator)) - math.log10(value.denominator)
    whole = math.floor(exponent)
    return f"{'-' if value < 0 else ''}{10 ** (exponent - whole):.3g}e{whole}"


def _finite_columns(values: np.ndarray) -> np.ndarray:
    return np.isfinite(values.reshape(-1, values.shape[-1])).all(axis=0)


def _sample_points(value, slope, d: int, p: int, count: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Up to ``count`` random points of ``d`` variables and ``p`` parameters where f, its gradient
    and f one largest step away in each variable are finite."""
    found: list[np.ndarray] = []
    for _ in range(50):
        candidates = rng.uniform(-SAMPLE_RADIUS, SAMPLE_RADIUS, size=(4 * count, d + p))
        usable = _finite_columns(value(candidates)) & _finite_columns(slope(candidates))
        for i in range(d):
            for sign in (1.0, -1.0):
                usable &= _finite_columns(value(_shifted(candidates, i, sign * STEPS[0])))
        found.extend(candidates[usable])
        if len(found) >= count:
            break
    return np.array(found[:count], dtype=float).reshape(-1, d + p)


def _shifted(points: np.ndarray, i: int, h: float) -> np.ndarray:
    moved = points.copy()
    moved[:, i] += h
    return moved


def _nan_last(x: float) -> float:
    return x if np.isfinite(x) else np.inf


# --- SymPy -------------------------------------------------------------------------------------
def _compare_with_sympy(f, variables, parameters, gradient, xs, exact):
    s_f = to_sympy(f, real=True)
    s_vars = [to_sympy(v, real=True) for v in variables]
    s_symbols = s_vars + [to_sympy(p, real=True) for p in parameters]
    symbolic_zero: list[bool | None] = []
    reference = np.full(exact.shape, np.nan)
    for i, s_var in enumerate(s_vars):
        s_derivative = s_f.diff(s_var)
        symbolic_zero.append(_is_zero(to_sympy(gradient[i], real=True) - s_derivative))
        for k, point in enumerate(xs):
            reference[i, k] = _sympy_value(s_derivative, dict(zip(s_symbols, point.tolist())))
    usable = np.isfinite(reference)
    error = np.abs(exact - reference)[usable]
    scale = np.abs(reference)[usable]
    agree = bool(np.all(error <= SYMPY_TOLERANCE * (1 + scale))) and error.size > 0
    return symbolic_zero, Comparison(*_max_errors(error, scale), int(error.size), agree)


def _is_zero(difference) -> bool | None:
    """True when SymPy simplifies the difference to 0; None when it is too large to try."""
    if difference == 0:
        return True
    if difference.count_ops() > _MAX_SYMPY_SIMPLIFY_OPS:
        return None
    return bool(difference.simplify() == 0)


def _sympy_value(s_expr, point: dict) -> float:
    try:
        value = complex(s_expr.evalf(30, subs=point))
    except (TypeError, ValueError):  # nan, zoo or an unevaluated derivative
        return float("nan")
    return value.real if abs(value.imag) <= 1e-12 * (1 + abs(value.real)) else float("nan")


# --- finite differences --------------------------------------------------------------------------
def _central_difference_errors(value, xs: np.ndarray, exact: np.ndarray) -> Comparison:
    """Central differences with the step that balances truncation and rounding in float64."""
    f0 = np.abs(value(xs))
    errors, scales, allowed = [], [], []
    for i in range(len(exact)):
        h = np.cbrt(_EPS) * np.maximum(1.0, np.abs(xs[:, i]))
        forward = xs.copy()
        forward[:, i] += h
        backward = xs.copy()
        backward[:, i] -= h
        estimate = (value(forward) - value(backward)) / (forward[:, i] - backward[:, i])
        errors.append(np.abs(estimate - exact[i]))
        scales.append(np.abs(exact[i]))
        allowed.append(CENTRAL_TOLERANCE * (1 + np.abs(exact[i]) + f0))
    error, scale = np.concatenate(errors), np.concatenate(scales)
    agree = bool(np.all(error <= np.concatenate(allowed))) and error.size > 0
    return Comparison(*_max_errors(error, scale), int(error.size), agree)


def _step_row(value, xs: np.ndarray, exact: np.ndarray, h: float) -> StepRow:
    f0 = value(xs)
    forward_errors, central_errors = [], []
    for i in range(len(exact)):
        up, down = value(_shifted(xs, i, h)), value(_shifted(xs, i, -h))
        forward_errors.append(np.abs((up - f0) / h - exact[i]))
        central_errors.append(np.abs((up - down) / (2 * h) - exact[i]))
    return StepRow(h, _largest(forward_errors), _largest(central_errors))


def _largest(arrays: list[np.ndarray]) -> float:
    values = np.concatenate(arrays) if arrays else np.array([])
    return float(np.max(values)) if values.size else float("nan")


def _max_errors(error: np.ndarray, scale: np.ndarray) -> tuple[float, float]:
    if error.size == 0:
        return float("nan"), float("nan")
    relevant = scale >= SMALL_DERIVATIVE
    relative = error[relevant] / scale[relevant]
    return float(error.max()), float(relative.max()) if relative.size else 0.0
