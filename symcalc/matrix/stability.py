"""Numerically stable forms of shaped formulas: the code generated for them, and the formulas
that gradients are taken of, do not overflow at margins of +-1000.

Two kinds of rewrite, applied bottom-up to whole graphs:

* forms with no scalar analogue, on the linear-algebra nodes (``reductions``):
  ``log(sum(exp(v))) -> logsumexp(v)``, ``exp(v)/sum(exp(v)) -> exp(v - logsumexp(v))`` (also
  through ``@`` and ``sum``: ``(y@exp(v))/sum(exp(v)) -> y@exp(v - logsumexp(v))``) and
  ``log(softmax(z)) -> z - logsumexp(z)``, and the same along an axis of a matrix
  (``log(sum(exp(Z), axis=1)) -> logsumexp(Z, axis=1)``);
* the entrywise parts (``entrywise``): each maximal entrywise part is handed to the scalar
  engine's stability rules (``symcalc.rewrite.stability``) over placeholder symbols for its
  operands, and built back.  ``log(sigmoid(X@w)) -> -softplus(-(X@w))``, ``log(1 + exp(u)) ->
  softplus(u)``, ``1 - sigmoid(u) -> sigmoid(-u)`` ... are the scalar engine's rules, not copies.
"""

from __future__ import annotations

from typing import Optional, Sequence

from ..functions.elementary import REGISTRY
from ..rewrite.stability import Stabiliser
from .build import add, mul, negate
from .convert import rewrite_entrywise
from .nodes import MatrixExpr, postorder
from . import numpy_ops
from .operations import OPERATIONS, with_args
from .ops import logsumexp, softmax

_LOG, _EXP = REGISTRY["log"], REGISTRY["exp"]


def _exp_sum(node: MatrixExpr) -> Optional[MatrixExpr]:
    """``sum(exp(v)) -> v`` for a vector v; otherwise None."""
    if node.kind == "sum":
        v = node.args[0]
        if v.kind == "apply" and v.data is _EXP and v.ndim == 1:
            return v.args[0]
    return None


def _linear(node: MatrixExpr) -> bool:
    """An operation of the table in whose operands the node is linear (``@``, ``sum``, ``.T``,
    ``trace``, ``diag``, ``outer``): a scalar factor moves into any operand."""
    return node.kind in OPERATIONS and OPERATIONS[node.kind].linear


_ABSORB_DEPTH = 16  # levels of @, sum, products and sums searched for the exp(v) factor


def _absorb(node: MatrixExpr, c: MatrixExpr, depth: int = 0) -> Optional[MatrixExpr]:
    """``exp(c)*node`` with ``exp(c)`` moved into a factor ``exp(v)`` that ``node`` is linear in
    (through the linear operations of the table, entrywise products and sums); None when there
    is none."""
    if node.kind == "apply" and node.data is _EXP:
        return _EXP(add(node.args[0], c))
    if depth >= _ABSORB_DEPTH:
        return None
    if node.kind == "mul" or _linear(node):
        for k in range(len(node.args)):
            inner = _absorb(node.args[k], c, depth + 1)
            if inner is not None:
                return with_args(node, node.args[:k] + (inner,) + node.args[k + 1:])
        return None
    if node.kind == "add":
        terms = [_absorb(t, c, depth + 1) for t in node.args]
        return None if any(t is None for t in terms) else add(*terms)
    return None


def _exp_into_product(node: MatrixExpr) -> Optional[MatrixExpr]:
    """``exp(c)*(u@exp(v)) -> u@exp(v + c)`` for a scalar c, and likewise through ``sum`` and
    ``.T``: the scalar engine's ``exp(a)*exp(b) -> exp(a + b)`` through the linear-algebra nodes
    (``exp(-logsumexp(z))`` vanishes where ``exp(z)`` overflows); otherwise None."""
    if node.kind != "mul":
        return None
    scales = [f for f in node.args if f.kind == "apply" and f.data is _EXP and not f.shape]
    if not scales:
        return None
    c = add(*(e.args[0] for e in scales))
    for f in node.args:
        if _linear(f):
            absorbed = _absorb(f, c)
            if absorbed is not None:
                rest = [h for h in node.args if h is not f and not any(h is e for e in scales)]
                return mul(*rest, absorbed)
    return None


def _stable_reduction(node: MatrixExpr) -> Optional[MatrixExpr]:
    """``log(sum(exp(v))) -> logsumexp(v)``, ``sum(exp(v))^-p -> exp(-p*logsumexp(v))`` (so
    ``exp(v)/sum(exp(v))`` is ``exp(v - logsumexp(v))``, which is ``softmax(v)``) and
    ``log(softmax(z)) -> z - logsumexp(z)``, for a vector v or z; otherwise None."""
    if node.kind == "mul":
        return _exp_into_product(node)
    if node.kind == "pow" and node.args[1].kind == "number" and node.args[1].data < 0:
        v = _exp_sum(node.args[0])
        return None if v is None else _EXP(mul(node.args[1], logsumexp(v)))
    if node.kind == "apply" and node.data is _EXP and node.args[0].kind == "add":
        u = node.args[0]
        for term in u.args:
            if (term.kind == "mul" and len(term.args) == 2 and term.args[0] == -1
                    and term.args[1].kind == "logsumexp"):
                z = term.args[1].args[0]
                return softmax(z) if add(u, term.args[1]) is z else None  # exp(z - logsumexp(z))
        return None
    if node.kind != "apply" or node.data is not _LOG:
        return None
    inner = node.args[0]
    if inner.kind == "softmax":
        z = inner.args[0]
        return add(z, negate(logsumexp(z)))
    if inner.kind == "softmax_axis":  # log(softmax(Z, axis=1)) = Z - logsumexp(Z, axis=1) spread
        z, axis = inner.args[0], inner.data
        return add(z, negate(numpy_ops.spread(numpy_ops.logsumexp_axis(z, axis), axis, z.shape)))
    if (inner.kind == "sum_axis" and inner.args[0].kind == "apply"
            and inner.args[0].data is _EXP):  # log(sum(exp(Z), axis=1))
        return numpy_ops.logsumexp_axis(inner.args[0].args[0], inner.data)
    v = _exp_sum(inner)
    return None if v is None else logsumexp(v)


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
    return rewrite_entrywise(roots, Stabiliser())


def stable(roots: Sequence[MatrixExpr]) -> list[MatrixExpr]:
    """The numerically stable form of ``roots`` that code is generated from."""
    return entrywise(reductions(roots))
