"""Reverse accumulation at the matrix level: one adjoint rule per operation.

``bar`` is the adjoint of a node (the gradient of the scalar output with respect to it, shaped
like the node).  Each rule returns, for the children that matter, their contributions; the loop
sums them in reverse topological order.  A contribution to a scalar broadcast over a vector or
matrix is summed (``c̄ += sum(Z̄ * Y)``).
"""

from __future__ import annotations

from typing import Callable, Iterator, Optional, Sequence

from ..functions import REGISTRY
from .build import add, chain, matmul, mul, negate, power, transpose
from .convert import ENTRYWISE, Placeholders, operand_partials, partials
from .nodes import MINUS_ONE, ONE, MatrixExpr, postorder
from .ops import diag, eye, inv, norm, ones, outer, softmax, sum_, zeros

Contributions = Iterator[tuple[MatrixExpr, MatrixExpr]]


def _entrywise(node: MatrixExpr, bar: MatrixExpr, wanted) -> Contributions:
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


def _matmul(node: MatrixExpr, bar: MatrixExpr, wanted) -> Contributions:
    """``C = F1@...@Fk``: ``F̄i = P.T@C̄@S.T`` with P, S the factors before and after Fi; a
    vector at an end of the chain is a row (first) or a column (last)."""
    factors = node.args
    row, col = factors[0].ndim == 1, factors[-1].ndim == 1
    last = len(factors) - 1
    for i, f in enumerate(factors):
        if not wanted(f):
            continue
        before, after = factors[:i], factors[i + 1:]
        if i == 0 and row:
            yield f, mul(bar, chain(after))
        elif i == last and col:
            yield f, mul(bar, chain(before)) if row else matmul(transpose(chain(before)), bar)
        elif row and col:
            yield f, mul(bar, outer(chain(before), chain(after)))
        elif col:
            left = matmul(transpose(chain(before)), bar) if before else bar
            yield f, outer(left, chain(after))
        else:
            parts = ([transpose(chain(before))] if before else []) + [bar] + (
                [transpose(chain(after))] if after else [])
            yield f, chain(parts)


def _function(node: MatrixExpr, bar: MatrixExpr, wanted) -> Contributions:
    kind, x = node.kind, node.args[0]
    if kind == "transpose":
        yield x, transpose(bar)
    elif kind == "sum":
        yield x, mul(bar, ones(*x.shape))
    elif kind == "trace":
        yield x, mul(bar, eye(x.shape[0]))
    elif kind == "det":
        yield x, mul(bar, node, transpose(inv(x)))
    elif kind == "logdet":
        yield x, mul(bar, transpose(inv(x)))
    elif kind == "inv":
        yield x, negate(chain([transpose(node), bar, transpose(node)]))
    elif kind == "norm":
        yield x, mul(bar, x, power(norm(x), MINUS_ONE))
    elif kind == "softmax":
        yield x, mul(node, add(bar, negate(matmul(node, bar))))
    elif kind == "logsumexp":
        yield x, mul(bar, softmax(x))
    elif kind == "diag":
        yield x, diag(bar)
    elif kind == "outer":
        y = node.args[1]
        if wanted(x):
            yield x, matmul(bar, y)
        if wanted(y):
            yield y, matmul(transpose(bar), x)


def _rule(kind: str) -> Callable:
    if kind in ("add", "mul", "pow", "apply"):
        return _entrywise
    if kind == "matmul":
        return _matmul
    return _function


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


from .stability import reductions  # noqa: E402  (it builds on the constructors imported above)
