"""The entrywise parts of shaped formulas are the scalar engine's expressions.

Every scalar operation acts entry by entry, so a sum, product, power or function call of shaped
operands is canonicalised by the scalar engine itself (``symcalc.core.expr``, the registry): the
operands are lifted to scalar expressions (``lift``), the scalar constructor builds the result,
and the result is lowered back to nodes (``lower``).  Canonical order, folding, collecting and the
registry's exact values are then the scalar engine's, and a shaped formula prints its entrywise
parts as the same formula of scalars prints.

A leaf of an entrywise part lifts to one scalar symbol per node: a symbol to the scalar symbol
of its name, a zero or ones array to the number 0 or 1 (the scalar it broadcasts), and an operand
that is not entrywise (``A@x``, ``sum(x)``, ``A.T``, ``eye(n)``) to a symbol named by its text,
so it sorts among the names as it reads.  Both directions are memoised per node (a node keeps its
lifted form; a lowered form is kept while its node lives), so building a long sum or a deep
chain costs the new parts only.
"""

from __future__ import annotations

import itertools
import weakref
from typing import Callable, Sequence

from ..core import expr as scalar
from .nodes import MatrixExpr, make, number, postorder, sort_key

ENTRYWISE = frozenset({"add", "mul", "pow", "apply"})

# name of a lifted leaf -> its node, while the node lives
_LEAVES: "weakref.WeakValueDictionary[str, MatrixExpr]" = weakref.WeakValueDictionary()
# scalar expression -> the node lowered from it, while the node lives (the node keeps the
# expression as its lifted form, so an entry lasts exactly as long as its node)
_LOWERED: "weakref.WeakValueDictionary[scalar.Expr, MatrixExpr]" = weakref.WeakValueDictionary()
_LOWERED_REFS = _LOWERED.data
_LABEL_NODES = 40  # operands this small are named by their printed text
_ZERO, _ONE = scalar.ZERO, scalar.ONE
_serial = itertools.count()


def _label(node: MatrixExpr) -> str:
    """The readable part of an operand's placeholder name: its text when it is small, else the
    bounded prefix of its structural key (so naming costs a bounded amount per operand)."""
    seen, queue = {node}, [node]
    for n in queue:  # breadth first, stopping at _LABEL_NODES nodes
        for a in n.args:
            if a not in seen:
                if len(seen) >= _LABEL_NODES:
                    return sort_key(node)[1]
                seen.add(a)
                queue.append(a)
    return str(node)


def _leaf(node: MatrixExpr) -> scalar.Expr:
    """The scalar symbol standing for a leaf of an entrywise part."""
    if node.kind == "symbol":
        name = node.data
        taken = _LEAVES.get(name)
        if taken is not None and taken is not node:  # the same name with another shape
            name = f"{node.data}\0{node.shape}"
    else:
        name = f"{_label(node)}\0{sort_key(node)[2]}"
    while _LEAVES.setdefault(name, node) is not node:  # (a digest collision: never in practice)
        name = f"{name}\0{next(_serial)}"
    return scalar.Symbol(name)


def lift(root: MatrixExpr) -> scalar.Expr:
    """The scalar expression of the entrywise part ``root`` heads (memoised per node); a node
    that is not entrywise is a leaf."""
    done = root._lifted
    if done is not None:
        return done
    if root.kind not in ENTRYWISE:
        return _lift_leaf(root)
    for node in postorder([root], done=lambda n: n._lifted is not None or n.kind not in ENTRYWISE):
        kind = node.kind
        args = [a._lifted if a._lifted is not None else _lift_leaf(a) for a in node.args]
        if kind == "add":
            value = scalar.add(*args)
        elif kind == "mul":
            value = scalar.mul(*args)
        elif kind == "pow":
            value = scalar.power(*args)
        else:
            value = node.data(*args)
        node._lifted = value
    return root._lifted


def _lift_leaf(node: MatrixExpr) -> scalar.Expr:
    kind = node.kind
    if kind == "number":
        value = scalar.Num(node.data)
    elif kind == "constant":
        value = scalar.PI if node.data == "pi" else scalar.E
    elif kind == "zeros":
        value = _ZERO
    elif kind == "ones":
        value = _ONE
    else:
        value = _leaf(node)
    node._lifted = value
    return value


def _lowered(e: scalar.Expr):
    ref = _LOWERED_REFS.get(e)
    return None if ref is None else ref()


def _shape_of(args: Sequence[MatrixExpr]) -> tuple:
    for a in args:
        if a.shape:
            return a.shape
    return ()


def lower(root: scalar.Expr) -> MatrixExpr:
    """The node of a scalar expression over lifted leaves (the inverse of ``lift``)."""
    found = _lowered(root)
    if found is not None:
        return found
    built: dict[scalar.Expr, MatrixExpr] = {}

    def done(e: scalar.Expr) -> bool:
        if e in built:
            return True
        node = _lowered(e)
        if node is None and not e.args:
            node = _lower_leaf(e)
        if node is not None:
            built[e] = node
            return True
        return False

    if done(root):
        return built[root]
    for e in postorder([root], done=done):
        args = tuple(built[a] for a in e.args)
        kind = type(e)
        if kind is scalar.Add:
            node = make("add", args, _shape_of(args))
        elif kind is scalar.Mul:
            node = make("mul", args, _shape_of(args))
        elif kind is scalar.Pow:
            node = make("pow", args, args[0].shape)
        else:
            node = make("apply", args, _shape_of(args), e.fn)
        if node._lifted is None:
            node._lifted = e
        _LOWERED[e] = node
        built[e] = node
    return built[root]


def _lower_leaf(e: scalar.Expr) -> MatrixExpr:
    if isinstance(e, scalar.Num):
        return number(e.value)
    if isinstance(e, scalar.Constant):
        return make("constant", (), (), e.name)
    node = _LEAVES.get(e.name)
    if node is None:  # a scalar the formula did not lift (from the scalar engine's own forms)
        node = make("symbol", (), (), e.name)
    return node


def spread(node: MatrixExpr, shape: tuple) -> MatrixExpr:
    """``node`` broadcast over ``shape`` when the scalar engine cancelled or folded every shaped
    operand: ``u - u -> zeros(n)``, ``2 -> 2*ones(n)``, ``s -> s*ones(n)``."""
    if node.shape == shape:
        return node
    if node.kind == "number" and node.data == 0:
        spread_node = make("zeros", (), shape)
    else:
        ones = make("ones", (), shape)
        factors = node.args if node.kind == "mul" else (node,)
        if node.kind == "number" and node.data == 1:
            return ones
        spread_node = make("mul", factors + (ones,), shape)
    if spread_node._lifted is None:
        spread_node._lifted = lift(node)
    return spread_node


def combine(build: Callable[..., scalar.Expr], operands: Sequence[MatrixExpr],
            shape: tuple) -> MatrixExpr:
    """The node of ``build`` (a scalar engine constructor) applied to the operands' lifted
    forms, broadcast over ``shape``."""
    return spread(lower(build(*(lift(o) for o in operands))), shape)
