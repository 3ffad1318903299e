"""Entrywise parts of a shaped formula as kernels, for backends that fuse entrywise arithmetic
(``backend="numexpr"``).

Each maximal entrywise part (``convert.entrywise_starts``) of arrays worth fusing (a function
call and another operation, or three operations) becomes one ``kernel`` node whose operands are the part's operands (products, reductions,
symbols); its meaning is the scalar engine's expression over placeholder symbols for them
(``convert.to_scalar``), which the scalar backend compiles.  An entrywise node that two parts
share is a part of its own, so it is computed once.  The matrix-shaped operations stay as they
are (NumPy's ``@``, ``np.linalg``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..core import expr as scalar
from ..core.nodes import count_ops
from .convert import ENTRYWISE, entrywise_starts, to_scalar
from .nodes import MatrixExpr, make, postorder

# A kernel call costs more than NumPy's for a product or two of arrays: a part is fused when it
# has a function call and another operation, or three operations.
MIN_WITH_CALL, MIN_ARITHMETIC = 2, 3


def worth_fusing(e: scalar.Expr) -> bool:
    """Whether the entrywise part ``e`` gains from one fused kernel."""
    count = count_ops([e])
    calls = any(isinstance(n, scalar.Call) for n in scalar.postorder([e]))
    return count >= (MIN_WITH_CALL if calls else MIN_ARITHMETIC)


@dataclass(frozen=True)
class Kernel:
    """A fused part: its name in the printed source, the scalar expression it computes and the
    placeholder symbols of its operands, in the order the kernel takes them."""

    name: str
    expr: scalar.Expr
    placeholders: tuple[scalar.Symbol, ...]


def _starts(roots: Sequence[MatrixExpr]) -> set[MatrixExpr]:
    """The nodes that start an entrywise part: ``convert.entrywise_starts``, and every entrywise
    node that two parts reach, so that it is computed once."""
    starts = entrywise_starts(list(postorder(roots)), roots)
    while True:
        owner: dict[MatrixExpr, MatrixExpr] = {}
        shared = set()
        for start in starts:
            inside = postorder([start], done=lambda n, s=start: n is not s and (
                n in starts or n.kind not in ENTRYWISE))
            for node in inside:
                if owner.setdefault(node, start) is not start:
                    shared.add(node)
        if not shared:
            return starts
        starts = starts | shared


def fused(roots: Sequence[MatrixExpr]) -> tuple[list[MatrixExpr], list[Kernel]]:
    """``roots`` with each entrywise part of arrays ``worth_fusing`` replaced by a ``kernel`` node
    (data: the kernel's name; operands: the part's), and the kernels.  The graph returned is for
    printing only: it is rebuilt node by node, without the canonical constructors."""
    starts = _starts(roots)
    kernels: list[Kernel] = []
    new: dict[MatrixExpr, MatrixExpr] = {}
    for node in postorder(roots):
        if node in starts and node.shape:
            symbols: dict[MatrixExpr, scalar.Symbol] = {}

            def leaf(operand: MatrixExpr) -> scalar.Symbol:
                if operand not in symbols:
                    symbols[operand] = scalar.Symbol(f"leaf{len(symbols)}")
                return symbols[operand]

            e = to_scalar(node, leaf, stop=starts.__contains__)
            if worth_fusing(e):
                kernel = Kernel(f"_kernel{len(kernels)}", e, tuple(symbols.values()))
                kernels.append(kernel)
                new[node] = make("kernel", tuple(new[o] for o in symbols), node.shape,
                                 kernel.name)
                continue
        new[node] = make(node.kind, tuple(new[a] for a in node.args), node.shape, node.data,
                         node.structure)  # a symbol keeps its declared structure
    return [new[r] for r in roots], kernels
