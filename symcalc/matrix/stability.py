"""Numerically stable forms of shaped formulas: the code generated for them, and the formulas
that gradients are taken of, do not overflow at margins of +-1000.

Two kinds of rewrite, applied bottom-up to whole graphs:

* forms with no scalar analogue, on the linear-algebra nodes (``reductions``):
  ``log(sum(exp(v))) -> logsumexp(v)`` and ``log(softmax(z)) -> z - logsumexp(z)``;
* the entrywise parts (``entrywise``): each maximal entrywise part is handed to the scalar
  engine's stability rules (``symcalc.stability``) over placeholder symbols for its operands,
  and built back.  ``log(sigmoid(X@w)) -> -softplus(-(X@w))``, ``log(1 + exp(u)) ->
  softplus(u)``, ``1 - sigmoid(u) -> sigmoid(-u)`` ... are the scalar engine's rules, not copies.
"""

from __future__ import annotations

from typing import Optional, Sequence

from ..functions import REGISTRY
from ..stability import Stabiliser
from .build import add, negate
from .convert import ENTRYWISE, Placeholders, entrywise_starts, to_scalar
from .nodes import MatrixExpr, postorder
from .ops import logsumexp, with_args

_LOG, _EXP = REGISTRY["log"], REGISTRY["exp"]


def _stable_reduction(node: MatrixExpr) -> Optional[MatrixExpr]:
    """``log(sum(exp(v))) -> logsumexp(v)``, ``log(softmax(z)) -> z - logsumexp(z)`` for a
    vector v or z; otherwise None."""
    if node.kind != "apply" or node.data is not _LOG or node.args[0].kind not in ("sum", "softmax"):
        return None
    inner = node.args[0]
    if inner.kind == "softmax":
        z = inner.args[0]
        return add(z, negate(logsumexp(z)))
    v = inner.args[0]
    if v.kind == "apply" and v.data is _EXP and v.ndim == 1:
        return logsumexp(v.args[0])
    return None


def reductions(roots: Sequence[MatrixExpr]) -> list[MatrixExpr]:
    """``roots`` with the stable forms of reductions put in, in one pass over their graph."""
    new: dict[MatrixExpr, MatrixExpr] = {}
    for node in postorder(roots):
        rebuilt = with_args(node, tuple(new[a] for a in node.args))
        better = _stable_reduction(rebuilt)
        new[node] = rebuilt if better is None else reductions([better])[0]
    return [new[r] for r in roots]


def entrywise(roots: Sequence[MatrixExpr]) -> list[MatrixExpr]:
    """``roots`` with every maximal entrywise part in the scalar engine's stable form."""
    order = list(postorder(roots))
    starts = entrywise_starts(order, roots)
    stabilise, placeholders = Stabiliser(), Placeholders()
    new: dict[MatrixExpr, MatrixExpr] = {}
    for node in order:
        if node.kind not in ENTRYWISE:
            new[node] = with_args(node, tuple(new[a] for a in node.args))
        elif node in starts:
            changed = []

            def leaf(operand: MatrixExpr):
                changed.append(new[operand] is not operand)
                return placeholders(new[operand])

            scalar = to_scalar(node, leaf)
            stable = stabilise(scalar)
            new[node] = (node if stable is scalar and not any(changed)
                         else placeholders.back(stable, node.shape))
    return [new[r] for r in roots]


def stable(roots: Sequence[MatrixExpr]) -> list[MatrixExpr]:
    """The numerically stable form of ``roots`` that code is generated from."""
    return entrywise(reductions(roots))
