"""Operations on object arrays of scalar expressions: the entries of a shaped formula at
concrete sizes (``symcalc.matrix.unroll`` builds them, each operation's unrolling rule in
``symcalc.matrix.operations`` combines them)."""

from __future__ import annotations

from itertools import product
from typing import Callable

import numpy as np

from ..core import expr as scalar


def objects(shape: tuple, fill: Callable[[tuple], scalar.Expr]) -> np.ndarray:
    """An object array of ``shape`` whose entry at each index is ``fill(index)``."""
    out = np.empty(shape, dtype=object)
    for index in product(*(range(k) for k in shape)):
        out[index] = fill(index)
    return out


def entrywise(fn: Callable, *arrays: np.ndarray) -> np.ndarray:
    """``fn`` entry by entry, a 0-d array broadcast over the others."""
    shapes = [a.shape for a in arrays if a.shape]
    shape = shapes[0] if shapes else ()
    return objects(shape, lambda i: fn(*(a[i] if a.shape else a[()] for a in arrays)))


def dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` with scalar expressions (NumPy's rules for 1-D operands)."""
    a2 = a.reshape(1, -1) if a.ndim == 1 else a
    b2 = b.reshape(-1, 1) if b.ndim == 1 else b
    out = objects((a2.shape[0], b2.shape[1]),
                  lambda i: scalar.add(*(scalar.mul(a2[i[0], k], b2[k, i[1]])
                                         for k in range(a2.shape[1]))))
    if a.ndim == 1:
        out = out[0]
    if b.ndim == 1:
        out = out[..., 0]
    return np.array(out, dtype=object) if out.ndim == 0 else out


def det(m: np.ndarray) -> scalar.Expr:
    """The determinant by expansion along the first row."""
    n = m.shape[0]
    if n == 1:
        return m[0, 0]
    return scalar.add(*(scalar.mul(scalar.Num((-1) ** j), m[0, j],
                                   det(np.delete(np.delete(m, 0, 0), j, 1))) for j in range(n)))


def inv(m: np.ndarray) -> np.ndarray:
    """The inverse as the adjugate over the determinant."""
    n = m.shape[0]
    d = det(m)
    if n == 1:
        return objects((1, 1), lambda i: scalar.power(d, scalar.MINUS_ONE))
    return objects((n, n), lambda i: scalar.mul(
        scalar.Num((-1) ** (i[0] + i[1])),
        det(np.delete(np.delete(m, i[1], 0), i[0], 1)), scalar.power(d, scalar.MINUS_ONE)))


def scalar_array(value: scalar.Expr) -> np.ndarray:
    """A 0-d object array holding one scalar expression."""
    return np.array(value, dtype=object)
