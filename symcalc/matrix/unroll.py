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
from ..core import expr as scalar
from .entries import entrywise
from .nodes import MatrixExpr, postorder
from .operations import OPERATIONS
from .shapes import dim_value


def entry_symbol(name: str, index: tuple) -> scalar.Symbol:
    """The scalar symbol for one entry: ``("A", (0, 1)) -> A_1_2`` (1-based)."""
    return scalar.Symbol(name + "".join(f"_{i + 1}" for i in index))


def concrete(shape: tuple, sizes: Mapping[str, int]) -> tuple:
    try:
        return tuple(dim_value(d, sizes) for d in shape)
    except KeyError as exc:
        raise SymcalcError(f"no size given for {exc.args[0]}") from None


def symbol_grid(node: MatrixExpr, sizes: Mapping[str, int]) -> np.ndarray:
    """The scalar entries of a symbol: one symbol per entry; a symmetric matrix has one per
    pair (``S_2_1`` is ``S_1_2``), a diagonal one zeros off its diagonal."""
    shape = concrete(node.shape, sizes)
    if not shape:
        return np.array(scalar.Symbol(node.data), dtype=object)
    grid = np.empty(shape, dtype=object)
    for index in product(*(range(k) for k in shape)):
        if node.structure == "diagonal" and index[0] != index[1]:
            grid[index] = scalar.Num(0)
        elif node.structure == "symmetric" and index[0] > index[1]:
            grid[index] = entry_symbol(node.data, index[::-1])
        else:
            grid[index] = entry_symbol(node.data, index)
    return grid


def entry_slopes(x: MatrixExpr, gradient: np.ndarray,
                 sizes: Mapping[str, int]) -> tuple[list, list]:
    """The distinct scalar symbols of ``x``'s grid and, for each, the derivative that a gradient
    by ``x`` (its entries as an array, ``gradient``) gives by the chain rule: the sum of its
    entries where the symbol stands (``G_12 + G_21`` for the one symbol ``S_1_2`` of a symmetric
    ``S``; the entry itself for a matrix without structure)."""
    grid = symbol_grid(x, sizes)
    slopes: dict[scalar.Symbol, list] = {}
    for index in np.ndindex(*grid.shape):
        if isinstance(grid[index], scalar.Symbol):
            slopes.setdefault(grid[index], []).append(gradient[index])
    return list(slopes), [parts[0] if len(parts) == 1 else scalar.add(*parts)
                          for parts in slopes.values()]


def unroll(e: MatrixExpr, sizes: Mapping[str, int]) -> np.ndarray:
    """``e`` as an object array (of shape ``e.shape`` at ``sizes``) of scalar expressions."""
    values: dict[MatrixExpr, np.ndarray] = {}
    for node in postorder([e]):
        kind, a = node.kind, [values[x] for x in node.args]
        shape = concrete(node.shape, sizes)
        if kind == "symbol":
            out = symbol_grid(node, sizes)
        elif kind == "number":
            out = np.array(scalar.Num(node.data), dtype=object)
        elif kind == "constant":
            out = np.array(scalar.PI if node.data == "pi" else scalar.E, dtype=object)
        elif kind == "add":
            out = entrywise(lambda *xs: scalar.add(*xs), *a)
        elif kind == "mul":
            out = entrywise(lambda *xs: scalar.mul(*xs), *a)
        elif kind == "pow":
            out = entrywise(scalar.power, *a)
        elif kind == "apply":
            out = entrywise(node.data, *a)
        elif kind in OPERATIONS:
            out = OPERATIONS[kind].unroll(node, a, shape)
        else:
            raise AssertionError(f"no unrolling for {kind}")
        values[node] = out
    return values[e]
