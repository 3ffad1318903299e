"""Reverse accumulation at the matrix level: one adjoint rule per operation (the entrywise
parts here, the others in the table of ``symcalc.matrix.operations``).

``bar`` is the adjoint of a node (the gradient of the scalar output with respect to it, shaped
like the node).  Each rule returns, for the children that matter, their contributions; the loop
sums them in reverse topological order.  A contribution to a scalar broadcast over a vector or
matrix is summed (``c̄ += sum(Z̄ * Y)``).
"""

from __future__ import annotations

from typing import Callable, Iterator, Optional, Sequence

from ..functions.elementary import REGISTRY
from .build import add, mul, power
from .convert import ENTRYWISE, Placeholders, operand_partials, partials
from .nodes import MINUS_ONE, ONE, MatrixExpr, postorder
from .operations import OPERATIONS
from .ops import sum_, zeros
from .stability import reductions

Contributions = Iterator[tuple[MatrixExpr, MatrixExpr]]


def entrywise_contributions(node: MatrixExpr, bar: MatrixExpr, wanted) -> Contributions:
    """What the single entrywise operation ``node`` (add, mul, pow, apply) sends to each operand
    ``wanted`` accepts, given its adjoint ``bar``."""
    kind, args = node.kind, node.args
    if kind == "add":
        for t in args:
            if wanted(t):
                yield t, bar
    elif kind == "mul":
        for i, f in enumerate(args):
            if wanted(f):
                yield f, mul(bar, *args[:i], *args[i + 1:])
    elif kind == "pow":
        base, exponent = args
        if wanted(base):
            yield base, mul(bar, exponent, power(base, add(exponent, MINUS_ONE)))
        if wanted(exponent):
            yield exponent, mul(bar, node, REGISTRY["log"](base))
    elif kind == "apply":
        for arg, partial in zip(args, partials(node.data, args)):
            if wanted(arg):
                yield arg, mul(bar, partial)


def _rule(kind: str) -> Callable:
    if kind in ENTRYWISE:
        return entrywise_contributions
    return OPERATIONS[kind].adjoint


def _fit(contribution: MatrixExpr, child: MatrixExpr) -> MatrixExpr:
    """A contribution to a broadcast scalar is summed over the entries."""
    if not child.shape and contribution.shape:
        return sum_(contribution)
    assert contribution.shape == child.shape, (contribution, child)
    return contribution


def contributions(node: MatrixExpr, bar: MatrixExpr, wanted) -> Contributions:
    """What ``node``'s rule sends to each child that ``wanted`` accepts, given the adjoint
    ``bar`` of ``node``: pairs (child, contribution shaped like the child)."""
    for child, contribution in _rule(node.kind)(node, bar, wanted):
        if wanted(child):
            yield child, _fit(contribution, child)


# called once per contribution: (node, its adjoint, child, what it sends to the child)
Recorder = Callable[[MatrixExpr, MatrixExpr, MatrixExpr, MatrixExpr], None]


def _accumulate(f: MatrixExpr, wrt: Sequence[MatrixExpr], contribute,
                record: Optional[Recorder] = None) -> list[MatrixExpr]:
    targets = set(wrt)
    order = list(postorder([f]))
    relevant = {n for n in order if n.free_symbols & targets}
    bars: dict[MatrixExpr, MatrixExpr] = {f: ONE}
    for node in reversed(order):
        bar = bars.get(node)
        if bar is None or not node.args or node not in relevant:
            continue
        for child, part in contribute(node, bar, relevant.__contains__):
            if record is not None:
                record(node, bar, child, part)
            bars[child] = add(bars[child], part) if child in bars else part
    return [bars[x] if x in bars else zeros(*x.shape) for x in wrt]


def gradients(f: MatrixExpr, wrt: Sequence[MatrixExpr],
              record: Optional[Recorder] = None) -> list[MatrixExpr]:
    """The adjoint of each symbol in ``wrt`` for the scalar ``f`` (zeros where f does not
    depend on it), shaped like the symbol.

    Reductions are first put in their stable forms (``log(sum(exp(v))) -> logsumexp(v)``), and
    each maximal entrywise part is one operation whose partial derivatives the scalar engine
    gives, so the result reads as the scalar engine writes it and has no overflowing quotient.
    ``record``, if given, sees the textbook trace: every contribution of every single operation
    of ``f`` in the order they are summed (``symcalc.explain`` shows them as steps); they add up
    to the same gradient, written the other way."""
    if record is not None:
        _accumulate(f, wrt, contributions, record)
    placeholders = Placeholders()

    def contribute(node: MatrixExpr, bar: MatrixExpr, wanted) -> Contributions:
        if node.kind not in ENTRYWISE:
            return contributions(node, bar, wanted)
        # an entrywise part as one operation, differentiated by the scalar engine
        return ((u, _fit(mul(bar, d), u)) for u, d in operand_partials(node, placeholders, wanted))

    return _accumulate(reductions([f])[0], wrt, contribute)

