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
    shape = concrete(node.shape, sizes)
    if not shape:
        return np.array(scalar.Symbol(node.data), dtype=object)
    grid = np.empty(shape, dtype=object)
    for index in product(*(range(k) for k in shape)):
        grid[index] = entry_symbol(node.data, index)
    return grid


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
