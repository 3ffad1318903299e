"""Operations with NumPy's meaning beyond the basic ones, each a canonical constructor:
reductions along an axis (``sum(X, axis=0)``, ``mean``, ``max``, ``logsumexp``, ``softmax``),
the mean of all entries, the Kronecker product ``kron(A, B)`` and ``matrix_power(X, k)``.

A node of a reduction along an axis holds the axis (0 or 1, a negative axis counted from the
end as in NumPy) in its ``data``; ``matrix_power`` holds its exponent.  Along an axis of a
vector the reduction is the plain one: ``sum(x, axis=0)`` is ``sum(x)``.  The records of
``symcalc.matrix.operations`` hold their rules.
"""

from __future__ import annotations

import numbers
from fractions import Fraction
from typing import Optional

from ..errors import SymcalcTypeError
from .build import (add, apply, chain, describe, filled, matmul, mul, power, pull_scalars,
                    transpose)
from .nodes import METHODS as _NODE_HOOKS
from .nodes import MatrixExpr, as_node, make, number
from .ops import diag, eye, inv, logsumexp, ones, outer, softmax
from .ops import sum_ as sum_all
from .shapes import NoMatrixFormError, ShapeError, dim_product


# --- axes -----------------------------------------------------------------------------------------
def axis_of(what: str, x: MatrixExpr, axis: object) -> Optional[int]:
    """``axis`` checked against ``x`` and made non-negative (None stays None); a ``ShapeError``
    for an axis ``x`` does not have or one that is not an integer."""
    if axis is None:
        return None
    if isinstance(axis, MatrixExpr):
        axis = axis.data if axis.kind == "number" else str(axis)
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise ShapeError(f"the axis of {what} must be an integer, not {axis!r}")
    axis = int(axis)
    if not x.shape:
        raise ShapeError(f"{what} along an axis needs a vector or a matrix, not {describe(x)}")
    if not -x.ndim <= axis < x.ndim:
        raise ShapeError(f"axis {axis} is out of range for {describe(x)}: "
                         f"it has axes {', '.join(map(str, range(x.ndim)))}"
                         f" (or {', '.join(map(str, range(-x.ndim, 0)))} from the end)")
    return axis % x.ndim


def kept(x: MatrixExpr, axis: int) -> tuple:
    """The shape of a reduction of the matrix ``x`` along ``axis``: the other axis."""
    return (x.shape[1 - axis],)


def spread(v: MatrixExpr, axis: int, shape: tuple) -> MatrixExpr:
    """The vector ``v`` (a reduction along ``axis``) repeated along that axis over ``shape``:
    ``outer(ones(m), v)`` for axis 0, ``outer(v, ones(n))`` for axis 1."""
    if not v.shape:
        return mul(v, ones(*shape))
    if _constant(v) is not None:
        return filled(_constant(v), shape)
    return outer(ones(shape[0]), v) if axis == 0 else outer(v, ones(shape[1]))


def count(dims: tuple) -> MatrixExpr:
    """The number of entries of a block of sizes ``dims``, as a scalar: an int for int sizes,
    ``sum(ones(m, n))`` for named ones (the formula has no other spelling of a size)."""
    value, named = 1, []
    for d in dims:
        if isinstance(d, int):
            value *= d
        else:
            named.append(d)
    total = number(value)
    return mul(total, sum_all(ones(*named))) if named else total


def _constant(x: MatrixExpr):
    """The number every entry of ``x`` holds (``zeros``, ``ones``, ``c*ones``), else None."""
    if x.kind in ("zeros", "ones"):
        return int(x.kind == "ones")
    if x.kind == "mul" and len(x.args) == 2 and x.args[0].kind == "number" and \
            x.args[1].kind == "ones":
        return x.args[0].data
    return None


def _flipped(x: MatrixExpr) -> Optional[MatrixExpr]:
    """``X`` for ``x = X.T`` (a reduction of ``X.T`` along one axis is one of ``X`` along the
    other), else None."""
    return x.args[0] if x.kind == "transpose" else None


# --- reductions -----------------------------------------------------------------------------------
def sum_(x: object, axis: object = None) -> MatrixExpr:
    """The sum of all entries, or along ``axis`` (``sum(X, axis=0)``: the column sums)."""
    x = as_node(x)
    axis = axis_of("sum", x, axis)
    if axis is None or x.ndim == 1:
        return sum_all(x)
    return sum_axis(x, axis)


def sum_axis(x: MatrixExpr, axis: int) -> MatrixExpr:
    """The sums of the matrix ``x`` along ``axis`` (0: of each column, 1: of each row)."""
    x = as_node(x)
    axis = axis_of("sum", x, axis)
    if x.ndim == 1:
        return sum_all(x)
    shape = kept(x, axis)
    if x.kind == "zeros":
        return filled(0, shape)
    scalars, rest = pull_scalars(x)
    if scalars:
        return mul(*scalars, sum_axis(rest, axis))
    inner = _flipped(x)
    if inner is not None:
        return sum_axis(inner, 1 - axis)
    if x.kind == "outer":  # sum(outer(u, v), axis=0) = sum(u)*v
        u, v = x.args
        return mul(sum_all(u), v) if axis == 0 else mul(sum_all(v), u)
    return make("sum_axis", (x,), shape, axis)


def _entry_reduction(name: str, x: object, axis: object) -> tuple:
    """``(x, axis, shape, done)`` for a reduction ``name`` whose value on a constant is that
    constant (``mean``, ``max``): the axis checked (None for all entries, or of a vector), the
    result's shape, and ``done``, the result already known (of a scalar, of ``c*ones``) or None."""
    x = as_node(x)
    axis = axis_of(name, x, axis)
    if not x.shape:
        return x, None, (), x
    if x.ndim == 1 or axis is None:
        axis, shape = None, ()
    else:
        shape = kept(x, axis)
    c = _constant(x)
    return x, axis, shape, (None if c is None else filled(c, shape))


def mean(x: object, axis: object = None) -> MatrixExpr:
    """The mean of all entries, or along ``axis``."""
    x, axis, shape, done = _entry_reduction("mean", x, axis)
    if done is not None:
        return done
    scalars, rest = pull_scalars(x)
    if scalars:
        return mul(*scalars, mean(rest, axis))
    inner = _flipped(x)
    if inner is not None:
        return mean(inner, None if axis is None else 1 - axis)
    return make("mean", (x,), shape, axis)


def max_(x: object, axis: object = None) -> MatrixExpr:
    """The largest entry, or the largest along ``axis`` (``max(X, axis=0)``: of each column)."""
    x, axis, shape, done = _entry_reduction("max", x, axis)
    if done is not None:
        return done
    if x.kind == "mul" and x.args[0].kind == "number" and x.args[0].data > 0:
        return mul(x.args[0], max_(mul(*x.args[1:]), axis))  # max(2*X) = 2*max(X)
    inner = _flipped(x)
    if inner is not None:
        return max_(inner, None if axis is None else 1 - axis)
    return make("max", (x,), shape, axis)


def logsumexp_axis(z: object, axis: object = None) -> MatrixExpr:
    """``log(sum(exp(Z), axis))``, computed without overflow; of a vector, ``logsumexp(z)``."""
    z = as_node(z)
    axis = axis_of("logsumexp", z, axis)
    if axis is None or z.ndim == 1:
        return logsumexp(z)
    inner = _flipped(z)
    if inner is not None:
        return logsumexp_axis(inner, 1 - axis)
    return make("logsumexp_axis", (z,), kept(z, axis), axis)


def softmax_axis(z: object, axis: object = None) -> MatrixExpr:
    """``exp(Z)/sum(exp(Z), axis)`` spread back (``softmax(Z, axis=1)``: each row's softmax);
    of a vector, ``softmax(z)``."""
    z = as_node(z)
    axis = axis_of("softmax", z, axis)
    if axis is None or z.ndim == 1:
        return softmax(z)
    return make("softmax_axis", (z,), z.shape, axis)


# --- the Kronecker product and powers -------------------------------------------------------------
def kron(a: object, b: object) -> MatrixExpr:
    """The Kronecker product of two matrices (``(m*p) x (n*q)``) or of two vectors (size m*p),
    as NumPy's ``kron``."""
    a, b = as_node(a), as_node(b)
    if a.ndim != b.ndim or a.ndim not in (1, 2):
        raise ShapeError(f"kron needs two matrices or two vectors, not {describe(a)} and "
                         f"{describe(b)}")
    shape = tuple(dim_product(p, q) for p, q in zip(a.shape, b.shape))
    if a.kind == "zeros" or b.kind == "zeros":
        return filled(0, shape)
    sa, a = pull_scalars(a)
    sb, b = pull_scalars(b)
    if sa or sb:
        return mul(*sa, *sb, kron(a, b))
    if a.kind == b.kind == "eye":
        return eye(shape[0])
    if a.kind == b.kind == "ones":
        return ones(*shape)
    return make("kron", (a, b), shape)


def _exponent(k: object) -> int:
    if isinstance(k, MatrixExpr):
        if k.kind != "number" or Fraction(k.data).denominator != 1:
            raise ShapeError(f"the exponent of matrix_power must be an integer, not {k}")
        return int(k.data)
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise ShapeError(f"the exponent of matrix_power must be an integer, not {k!r}")
    return int(k)


def matrix_power(x: object, k: object) -> MatrixExpr:
    """``X@X@...@X`` (k factors) of a square matrix, ``eye(n)`` for k = 0, powers of ``inv(X)``
    for k < 0, as NumPy's ``matrix_power``."""
    x = as_node(x)
    k = _exponent(k)
    if x.ndim != 2 or x.shape[0] != x.shape[1]:
        raise ShapeError(f"matrix_power needs a square matrix, not {describe(x)}")
    if k == 0 or x.kind == "eye":
        return eye(x.shape[0])
    if k < 0:
        return matrix_power(inv(x), -k)
    if k == 1:
        return x
    if x.kind == "matrix_power":
        return matrix_power(x.args[0], x.data * k)
    if x.kind == "zeros":
        return x
    if x.kind == "diag":  # diag(v)^k = diag(v^k)
        return diag(power(x.args[0], number(k)))
    scalars, rest = pull_scalars(x)
    if scalars:
        return mul(power(mul(*scalars), number(k)), matrix_power(rest, k))
    return make("matrix_power", (x,), x.shape, k)


def powers(x: MatrixExpr, k: int) -> MatrixExpr:
    """``X^k`` for k >= 0 (``eye`` for 0), for the product rule of ``matrix_power``."""
    return eye(x.shape[0]) if k == 0 else matrix_power(x, k)


# --- Jacobians through a matrix of the variable (``symcalc.matrix.forward._Through``) -------------
def _add_parts(parts) -> Optional[MatrixExpr]:
    parts = [p for p in parts if p is not None]
    return add(*parts) if parts else None


def _through_power(through, D, P: tuple, F: MatrixExpr, Q: tuple, s: MatrixExpr):
    """``d(X^k) = sum_j X^j@dX@X^(k-1-j)``: the Jacobian of ``(D*(P@X^k@Q))@s``, each term
    through ``X`` with the powers beside it held fixed."""
    x, k = F.args[0], F.data
    side = lambda j: () if j == 0 else (powers(x, j),)  # noqa: E731
    return _add_parts(through.masked(D, P + side(j), x, side(k - 1 - j) + Q, s)
                      for j in range(k))


def _through_softmax(through, D, P: tuple, F: MatrixExpr, Q: tuple, s: MatrixExpr):
    """``dF = F*(dZ - spread(sum(F*dZ, axis)))`` for ``F = softmax(Z, axis)``: the Jacobian of
    ``(D*dF)@s`` is that of ``((D*F)*dZ)@s`` less ``diag((D*F)@s)@J(sum(F*dZ, axis=1))`` (axis
    1) or ``(D*F)@diag(s)@J(sum(F*dZ, axis=0))`` (axis 0); inside a product there is none."""
    if P or Q:
        raise NoMatrixFormError(f"no matrix-form Jacobian through {describe(F)} inside a "
                                "matrix product")
    z, axis = F.args[0], F.data
    weighted = F if D is None else mul(D, F)
    first = through.masked(weighted, (), z, (), s)
    if axis == 1:
        inner = through.masked(F, (), z, (), ones(z.shape[1]))
        second = None if inner is None else matmul(diag(matmul(weighted, s)), inner)
    else:
        inner = through.masked(transpose(F), (), transpose(z), (), ones(z.shape[0]))
        second = None if inner is None else chain([weighted, diag(s), inner])
    return _add_parts([first, None if second is None else mul(number(-1), second)])


# the Jacobian of ``(D*(P@F@Q))@s`` through a matrix ``F`` of these kinds (a ``_Through``, the
# mask D or None, the factors P and Q and the vector s held fixed)
THROUGH = {"matrix_power": _through_power, "softmax_axis": _through_softmax}


# --- the functions of the scalar registry called with a shaped argument ---------------------------
REDUCING = {"max": max_, "logsumexp": logsumexp_axis}


def call(fn, args: tuple, options: dict) -> MatrixExpr:
    """``fn(*args, **options)`` for a scalar registry function with a shaped argument: ``max``
    and ``logsumexp`` of one vector or matrix reduce it (along ``axis=``); others act
    entrywise and take no options."""
    unknown = set(options) - {"axis"}
    if unknown:
        raise SymcalcTypeError(f"{fn.name} takes no argument {sorted(unknown)[0]}=")
    if fn.name in REDUCING and len(args) == 1 and (
            options or fn.name == "max" and as_node(args[0]).shape):
        return REDUCING[fn.name](args[0], options.get("axis"))
    if options:
        raise SymcalcTypeError(f"{fn.name} takes no axis=; the functions along an axis are "
                               "sum, mean, max, logsumexp and softmax: max(X, axis=0)")
    return apply(fn, *(as_node(a) for a in args))


_NODE_HOOKS.bind(call=call)  # max(X, axis=0) through the scalar registry's max

__all__ = ["axis_of", "call", "count", "kron", "logsumexp_axis", "matrix_power", "max_", "mean",
           "powers", "softmax_axis", "spread", "sum_", "sum_axis"]
