"""Between the scalar engine and the matrix layer: scalar ``Expr`` -> node (entrywise meaning),
an entrywise part of a shaped formula -> scalar ``Expr`` (``to_scalar``), and the registry's
partial derivatives as matrix-layer formulas.

Every scalar operation acts entrywise, so the scalar engine's rewrites (canonical forms,
derivatives, numerically stable forms) hold entry by entry: an entrywise part is handed to the
scalar engine over placeholder symbols for its operands that are not entrywise (symbols,
matrix products, reductions), and the answer is built back with those operands.
"""

from __future__ import annotations

from typing import Callable, Iterator, Mapping, Optional, Sequence

from ..errors import SymcalcError
from ..core import expr as scalar
from ..functions.elementary import Function
from ..rewrite.stability import Stabiliser
from ..core.hooks import Hooks
from . import build, ops
from .nodes import METHODS as _NODE_HOOKS
from .entrywise import ENTRYWISE
from .nodes import MatrixExpr, make, number, postorder
from .operations import with_args

# the scalar engine's simplified derivative, bound by symcalc.api, which builds on this layer
SCALAR = Hooks(derivative="symcalc.api")


def from_scalar(e: scalar.Expr, table: Optional[Mapping[scalar.Expr, MatrixExpr]] = None) -> MatrixExpr:
    """The node for a scalar expression; symbols in ``table`` become the nodes given there.

    Every scalar operation acts entrywise, so ``table`` may map symbols to vectors or matrices.
    """
    table = table or {}
    built: dict[scalar.Expr, MatrixExpr] = {}
    for node in scalar.postorder([e]):
        if node in table:
            built[node] = table[node]
        elif isinstance(node, scalar.Num):
            built[node] = number(node.value)
        elif isinstance(node, scalar.Symbol):
            built[node] = ops.symbol(node.name)
        elif isinstance(node, scalar.Constant):
            built[node] = make("constant", (), (), node.name)
        else:
            args = [built[a] for a in node.args]
            if isinstance(node, scalar.Add):
                built[node] = build.add(*args)
            elif isinstance(node, scalar.Mul):
                built[node] = build.mul(*args)
            elif isinstance(node, scalar.Pow):
                built[node] = build.power(*args)
            elif node.fn.name == "logsumexp" and len(args) > 1 and any(a.shape for a in args):
                # entrywise log(exp(a) + exp(b)) from a stable form: only generated code has it
                shape = build.broadcast_shape("apply logsumexp to", args)
                built[node] = make("apply", tuple(args), shape, node.fn)
            else:
                built[node] = build.apply(node.fn, *args)
    return built[e]


def to_scalar(root: MatrixExpr, leaf: Callable[[MatrixExpr], scalar.Expr],
              stop: Optional[Callable[[MatrixExpr], bool]] = None) -> scalar.Expr:
    """The scalar expression of the entrywise part below ``root``: every node that is not an
    entrywise operation, a number or a constant becomes ``leaf(node)`` (a placeholder symbol),
    and so does every node below ``root`` for which ``stop`` is true."""
    built: dict[MatrixExpr, scalar.Expr] = {}

    def done(node: MatrixExpr) -> bool:  # an operand is placed without entering it
        if node not in built:
            if node.kind == "number":
                built[node] = scalar.Num(node.data)
            elif node.kind == "constant":
                built[node] = scalar.PI if node.data == "pi" else scalar.E
            elif node.kind not in ENTRYWISE or (stop is not None and node is not root
                                                and stop(node)):
                built[node] = leaf(node)
            else:
                return False
        return True

    if done(root):
        return built[root]
    for node in postorder([root], done=done):
        args = [built[a] for a in node.args]
        if node.kind == "add":
            built[node] = scalar.add(*args)
        elif node.kind == "mul":
            built[node] = scalar.mul(*args)
        elif node.kind == "pow":
            built[node] = scalar.power(*args)
        else:
            built[node] = node.data(*args)
    return built[root]


def scalar_form(root: MatrixExpr) -> Optional[scalar.Expr]:
    """The scalar expression of a formula of scalars only (every name a scalar, no matrix
    operation), else None."""
    for node in postorder([root]):
        if node.shape or not (node.kind in ENTRYWISE or node.kind in ("number", "constant", "symbol")):
            return None
    return to_scalar(root, lambda node: scalar.Symbol(node.data))


class Placeholders:
    """Placeholder symbols ``_leaf0, _leaf1, ...`` standing for the operands of entrywise parts,
    one per node, and the table back from them."""

    def __init__(self) -> None:
        self.symbol: dict[MatrixExpr, scalar.Symbol] = {}
        self.node: dict[scalar.Expr, MatrixExpr] = {}

    def __call__(self, node: MatrixExpr) -> scalar.Expr:
        if node.kind == "number":
            return scalar.Num(node.data)
        if node not in self.symbol:
            placeholder = scalar.Symbol(f"_leaf{len(self.symbol)}")
            self.symbol[node] = placeholder
            self.node[placeholder] = node
        return self.symbol[node]

    def back(self, e: scalar.Expr, shape: tuple) -> MatrixExpr:
        """The node for ``e`` over the operands, spread over ``shape`` when the scalar engine
        cancelled every shaped operand (``u - u -> 0``)."""
        node = from_scalar(e, self.node)
        return node if node.shape == shape else build.add(node, build.filled(0, shape))


def entrywise_starts(order: Sequence[MatrixExpr], roots: Sequence[MatrixExpr]) -> set[MatrixExpr]:
    """The entrywise nodes of ``order`` (a postorder of ``roots``) that start a maximal
    entrywise part: the roots, and the operands of nodes that are not entrywise."""
    starts = {r for r in roots if r.kind in ENTRYWISE}
    for node in order:
        if node.kind not in ENTRYWISE:
            starts.update(a for a in node.args if a.kind in ENTRYWISE)
    return starts


def rewrite_entrywise(roots: Sequence[MatrixExpr],
                      rewrite: Callable[[scalar.Expr], scalar.Expr]) -> list[MatrixExpr]:
    """``roots`` with every maximal entrywise part replaced by ``rewrite`` of its scalar
    expression over placeholders for its operands (``rewrite`` is one of the scalar engine's
    passes: its simplifier, its stable forms), built back; the other nodes are rebuilt over the
    new operands, and a part ``rewrite`` leaves as it is stays the same node."""
    order = list(postorder(roots))
    starts = entrywise_starts(order, roots)
    placeholders = Placeholders()
    new: dict[MatrixExpr, MatrixExpr] = {}
    for node in order:
        if node.kind not in ENTRYWISE:
            new[node] = with_args(node, tuple(new[a] for a in node.args))
        elif node in starts:
            changed = []

            def leaf(operand: MatrixExpr) -> scalar.Expr:
                changed.append(new[operand] is not operand)
                return placeholders(new[operand])

            e = to_scalar(node, leaf)
            better = rewrite(e)
            new[node] = (node if better is e and not any(changed)
                         else placeholders.back(better, node.shape))
    return [new[r] for r in roots]


def operand_partials(node: MatrixExpr, placeholders: Placeholders,
                     wanted: Callable[[MatrixExpr], bool]) -> Iterator[tuple[MatrixExpr, MatrixExpr]]:
    """For the entrywise part below ``node``, ``(u, dnode/du)`` for each operand u that
    ``wanted`` accepts, entrywise, from the scalar engine's derivative: its chain rule cancels as
    it goes (d/du log(sigmoid(u)) is 1 - sigmoid(u), d/du log(1 + exp(u)) is sigmoid(u)).

    When the part has a numerically stable form (``symcalc.rewrite.stability``), the derivative of
    that form is a candidate too (d/du log(1/(1 + exp(u))) is -sigmoid(u) from -softplus(u)); of
    the two, the one with fewer operations once stabilised, the stable form's on a tie."""

    e = to_scalar(node, placeholders)
    stabilise = Stabiliser()
    forms = [f for f in (stabilise(e),) if f is not e] + [e]
    for placeholder in sorted(e.free_symbols, key=lambda s: s.name):
        operand = placeholders.node.get(placeholder)
        if operand is not None and wanted(operand):
            candidates = [SCALAR.derivative(f, placeholder) for f in forms]
            best = min(candidates, key=lambda d: scalar.count_ops([stabilise(d)]))
            yield operand, placeholders.back(best, ())


_PLACEHOLDERS = tuple(scalar.Symbol(f"_arg{i}") for i in range(8))
_partials_cache: dict[tuple[str, int], tuple[scalar.Expr, ...]] = {}


def partials(fn: Function, args: tuple[MatrixExpr, ...]) -> list[MatrixExpr]:
    """``d fn / d arg_i`` for each argument, entrywise, from the registry entry."""
    if len(args) > len(_PLACEHOLDERS):
        raise SymcalcError(f"{fn.name} with {len(args)} arguments has no entrywise derivative here")
    key = (fn.name, len(args))
    if key not in _partials_cache:
        _partials_cache[key] = tuple(fn.partials(*_PLACEHOLDERS[:len(args)]))
    table = dict(zip(_PLACEHOLDERS, args))
    return [from_scalar(p, table) for p in _partials_cache[key]]


_NODE_HOOKS.bind(from_scalar=from_scalar)
