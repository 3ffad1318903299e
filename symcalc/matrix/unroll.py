"""Unrolling: a shaped formula at concrete sizes as arrays of scalar expressions.

Each shaped symbol becomes a grid of scalar symbols (``A`` -> ``A_1_2``, ``t`` -> ``t_3``), and
each operation is spelt out entry by entry with the scalar engine.  The scalar engine can then
differentiate the unrolled formula, entry by entry: an independent check of every matrix rule.
"""

from __future__ import annotations

from itertools import product
from typing import Mapping

import numpy as np

from ..errors import SymcalcError
from .. import expr as scalar
from ..functions import REGISTRY
from .nodes import MatrixExpr, postorder


def entry_symbol(name: str, index: tuple) -> scalar.Symbol:
    """The scalar symbol for one entry: ``("A", (0, 1)) -> A_1_2`` (1-based)."""
    return scalar.Symbol(name + "".join(f"_{i + 1}" for i in index))


def concrete(shape: tuple, sizes: Mapping[str, int]) -> tuple:
    try:
        return tuple(d if isinstance(d, int) else sizes[d] for d in shape)
    except KeyError as exc:
        raise SymcalcError(f"no size given for {exc.args[0]}") from None


def symbol_grid(node: MatrixExpr, sizes: Mapping[str, int]) -> np.ndarray:
    shape = concrete(node.shape, sizes)
    if not shape:
        return np.array(scalar.Symbol(node.data), dtype=object)
    grid = np.empty(shape, dtype=object)
    for index in product(*(range(k) for k in shape)):
        grid[index] = entry_symbol(node.data, index)
    return grid


def _objects(shape: tuple, fill) -> np.ndarray:
    out = np.empty(shape, dtype=object)
    for index in product(*(range(k) for k in shape)):
        out[index] = fill(index)
    return out


def _map(fn, *arrays):
    shapes = [a.shape for a in arrays if a.shape]
    shape = shapes[0] if shapes else ()
    return _objects(shape, lambda i: fn(*(a[i] if a.shape else a[()] for a in arrays)))


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` with scalar expressions (NumPy's rules for 1-D operands)."""
    a2 = a.reshape(1, -1) if a.ndim == 1 else a
    b2 = b.reshape(-1, 1) if b.ndim == 1 else b
    out = _objects((a2.shape[0], b2.shape[1]),
                   lambda i: scalar.add(*(scalar.mul(a2[i[0], k], b2[k, i[1]])
                                          for k in range(a2.shape[1]))))
    if a.ndim == 1:
        out = out[0]
    if b.ndim == 1:
        out = out[..., 0]
    return np.array(out, dtype=object) if out.ndim == 0 else out


def _det(m: np.ndarray) -> scalar.Expr:
    n = m.shape[0]
    if n == 1:
        return m[0, 0]
    return scalar.add(*(scalar.mul(scalar.Num((-1) ** j), m[0, j],
                                   _det(np.delete(np.delete(m, 0, 0), j, 1))) for j in range(n)))


def _inv(m: np.ndarray) -> np.ndarray:
    n = m.shape[0]
    d = _det(m)
    if n == 1:
        return _objects((1, 1), lambda i: scalar.power(d, scalar.MINUS_ONE))
    return _objects((n, n), lambda i: scalar.mul(
        scalar.Num((-1) ** (i[0] + i[1])),
        _det(np.delete(np.delete(m, i[1], 0), i[0], 1)), scalar.power(d, scalar.MINUS_ONE)))


def _zero_one(shape, value) -> np.ndarray:
    return _objects(shape, lambda i: scalar.Num(value(i)))


def unroll(e: MatrixExpr, sizes: Mapping[str, int]) -> np.ndarray:
    """``e`` as an object array (of shape ``e.shape`` at ``sizes``) of scalar expressions."""
    values: dict[MatrixExpr, np.ndarray] = {}
    total = scalar.add
    for node in postorder([e]):
        kind, a = node.kind, [values[x] for x in node.args]
        shape = concrete(node.shape, sizes)
        if kind == "symbol":
            out = symbol_grid(node, sizes)
        elif kind == "number":
            out = np.array(scalar.Num(node.data), dtype=object)
        elif kind == "constant":
            out = np.array(scalar.PI if node.data == "pi" else scalar.E, dtype=object)
        elif kind in ("eye", "ones", "zeros"):
            out = _zero_one(shape, {"eye": lambda i: int(i[0] == i[1]), "ones": lambda i: 1,
                                    "zeros": lambda i: 0}[kind])
        elif kind == "add":
            out = _map(lambda *xs: scalar.add(*xs), *a)
        elif kind == "mul":
            out = _map(lambda *xs: scalar.mul(*xs), *a)
        elif kind == "pow":
            out = _map(scalar.power, *a)
        elif kind == "apply":
            out = _map(node.data, *a)
        elif kind == "matmul":
            out = a[0]
            for b in a[1:]:
                out = _dot(out, b)
        elif kind == "transpose":
            out = a[0].T
        elif kind == "sum":
            out = np.array(total(*a[0].flat), dtype=object)
        elif kind == "norm":
            out = np.array(REGISTRY["sqrt"](total(*(x ** 2 for x in a[0].flat))), dtype=object)
        elif kind == "trace":
            out = np.array(total(*np.diagonal(a[0])), dtype=object)
        elif kind == "det":
            out = np.array(_det(a[0]), dtype=object)
        elif kind == "logdet":
            out = np.array(REGISTRY["log"](_det(a[0])), dtype=object)
        elif kind == "inv":
            out = _inv(a[0])
        elif kind == "diag":
            x = a[0]
            out = (_objects(shape, lambda i: x[i[0]] if i[0] == i[1] else scalar.Num(0))
                   if x.ndim == 1 else _objects(shape, lambda i: x[i[0], i[0]]))
        elif kind == "outer":
            out = _objects(shape, lambda i: scalar.mul(a[0][i[0]], a[1][i[1]]))
        elif kind == "softmax":
            lse = REGISTRY["logsumexp"](*a[0])
            out = _objects(shape, lambda i: REGISTRY["exp"](a[0][i] - lse))
        elif kind == "logsumexp":
            out = np.array(REGISTRY["logsumexp"](*a[0]), dtype=object)
        else:
            raise AssertionError(f"no unrolling for {kind}")
        values[node] = out
    return values[e]
