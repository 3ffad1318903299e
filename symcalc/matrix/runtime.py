"""Helpers that code generated for shaped formulas calls as ``_mrt.NAME``: argument checks that
read the sizes from the arrays, and numerically stable softmax, logsumexp and log-determinant."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from .shapes import ShapeError


def bind(values: Sequence[Any], names: Sequence[str], shapes: Sequence[Optional[tuple]]):
    """Float arrays of the arguments and the sizes they give; a ``ShapeError`` naming the size
    when an array has the wrong number of axes or two arrays disagree about a size."""
    arrays = []
    sizes: dict[str, int] = {}
    seen: dict[str, str] = {}
    for value, name, shape in zip(values, names, shapes):
        array = np.asarray(value, dtype=float)
        if shape is None:  # not used by the formula
            arrays.append(array)
            continue
        if array.ndim != len(shape):
            kind = {0: "a scalar", 1: "a 1-D array (a vector)", 2: "a 2-D array (a matrix)"}[len(shape)]
            raise ShapeError(f"{name} must be {kind} of shape ({', '.join(map(str, shape))}), "
                             f"got an array of shape {array.shape}")
        for axis, (dim, actual) in enumerate(zip(shape, array.shape)):
            where = f"{name} has {actual} (axis {axis})"
            if isinstance(dim, int):
                if actual != dim:
                    raise ShapeError(f"size of {name} along axis {axis} must be {dim}, got {actual}")
            elif dim in sizes and sizes[dim] != actual:
                raise ShapeError(f"size {dim} disagrees: {seen[dim]} but {where}")
            else:
                sizes[dim] = actual
                seen.setdefault(dim, where)
        arrays.append(array)
    return tuple(arrays), sizes


def softmax(z: np.ndarray) -> np.ndarray:
    shifted = np.exp(z - np.max(z))
    return shifted / np.sum(shifted)


def logsumexp(z: np.ndarray) -> float:
    top = np.max(z)
    if not np.isfinite(top):
        return top
    return top + np.log(np.sum(np.exp(z - top)))


def logdet(x: np.ndarray) -> float:
    """``log(det(x))`` through ``slogdet``; NaN when the determinant is not positive."""
    sign, value = np.linalg.slogdet(x)
    return value if sign > 0 else np.nan
