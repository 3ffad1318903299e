"""Helpers that code generated for shaped formulas calls by name: the argument check that reads
the sizes from the arrays (``bind``), and numerically stable softmax, log-sum-exp of a vector and
log-determinant.  ``symcalc.matrix.jax_runtime`` has the same names in ``jax.numpy``.

Standalone source (``symcalc.compiler``) copies the helpers it calls from here, so each is
written once; there ``ShapeError`` is a ``ValueError`` defined above them.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .shapes import ShapeError


def bind(values: Sequence, names: Sequence[str], shapes: Sequence, dtype: Any = float) -> tuple:
    """Float arrays of the arguments and the sizes they give; a ``ShapeError`` naming the size
    when an array has the wrong number of axes or two arrays disagree about a size.  ``dtype``:
    the arrays' float type; None keeps a float array's own (others become float64)."""
    arrays = []
    sizes: dict[str, int] = {}
    seen: dict[str, str] = {}
    for value, name, shape in zip(values, names, shapes):
        if dtype is None:
            array = np.asarray(value)
            if array.dtype.kind != "f":
                array = array.astype(float)
        else:
            array = np.asarray(value, dtype=dtype)
        if shape is not None:  # None: not used by the formula
            check_sizes(name, array.shape, shape, sizes, seen)
        arrays.append(array)
    return tuple(arrays), sizes


def check_sizes(name: str, actual: tuple, shape: tuple, sizes: dict, seen: dict) -> None:
    """A ``ShapeError`` naming the size when the array ``name`` of shape ``actual`` does not fit
    ``shape`` (ints and size names) or the sizes read so far (``sizes``, which it extends;
    ``seen`` says where each was read)."""
    if len(actual) != len(shape):
        kind = {0: "a scalar", 1: "a 1-D array (a vector)", 2: "a 2-D array (a matrix)"}.get(
            len(shape), f"a {len(shape)}-D array")
        raise ShapeError(f"{name} must be {kind} of shape ({', '.join(map(str, shape))}), "
                         f"got an array of shape {tuple(actual)}")
    for axis, (dim, size) in enumerate(zip(shape, actual)):
        where = f"{name} has {size} (axis {axis})"
        if isinstance(dim, int):
            if size != dim:
                raise ShapeError(f"size of {name} along axis {axis} must be {dim}, got {size}")
        elif "*" in dim:  # a product of sizes, checked once its factors are known
            factors = [int(f) if f.isdigit() else sizes.get(f) for f in dim.split("*")]
            if None in factors:
                continue
            expected = 1
            for f in factors:
                expected *= f
            if size != expected:
                raise ShapeError(f"size of {name} along axis {axis} must be {dim} = {expected}, "
                                 f"got {size}")
        elif dim in sizes and sizes[dim] != size:
            raise ShapeError(f"size {dim} disagrees: {seen[dim]} but {where}")
        else:
            sizes[dim] = size
            seen.setdefault(dim, where)


def softmax(z: np.ndarray) -> np.ndarray:
    """``exp(z)/sum(exp(z))`` of a vector, shifted by its maximum: no overflow."""
    shifted = np.exp(z - np.max(z))
    return shifted / np.sum(shifted)


def vector_logsumexp(z: np.ndarray) -> float:
    """``log(sum(exp(z)))`` of a vector, shifted by its maximum: no overflow."""
    top = np.max(z)
    if not np.isfinite(top):
        return top
    return top + np.log(np.sum(np.exp(z - top)))


def logdet(x: np.ndarray) -> float:
    """``log(det(x))`` through ``slogdet``; NaN when the determinant is not positive."""
    sign, value = np.linalg.slogdet(x)
    return value if sign > 0 else np.nan


def logsumexp_axis(z: np.ndarray, axis: int) -> np.ndarray:
    """``log(sum(exp(z), axis))`` of a matrix, each line shifted by its maximum: no overflow."""
    top = np.max(z, axis=axis, keepdims=True)
    top[~np.isfinite(top)] = 0.0
    shifted = z - top
    np.exp(shifted, out=shifted)
    return np.squeeze(top, axis=axis) + np.log(np.sum(shifted, axis=axis))


def softmax_axis(z: np.ndarray, axis: int) -> np.ndarray:
    """``exp(z)/sum(exp(z), axis)`` of a matrix along ``axis``, shifted by each line's maximum."""
    shifted = z - np.max(z, axis=axis, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= np.sum(shifted, axis=axis, keepdims=True)
    return shifted
