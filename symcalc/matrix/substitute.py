"""Substitution in shaped formulas: replace symbols or subexpressions by other formulas, all at
once, rebuilding through the canonical constructors so the result is in normal form."""

from __future__ import annotations

from typing import Mapping, Optional

from ..errors import SymcalcTypeError
from .build import filled
from .nodes import MatrixExpr, as_node, declared, postorder
from .operations import with_args
from .parsing import check_shapes, parse_shaped
from .shapes import ShapeError, shape_words


def known_shapes(*nodes: MatrixExpr, shapes: Optional[Mapping[str, object]] = None) -> dict:
    """The shapes of the names ``nodes`` mention, with ``shapes`` (names -> shapes) added."""
    table = {s.data: declared(s) for node in nodes for s in node.free_symbols}
    table.update(check_shapes(shapes or {}))
    return table


def to_formula(value: object, table: Mapping[str, tuple]) -> MatrixExpr:
    """A node from a node, a number, a scalar ``Expr`` or a formula read with ``table``."""
    if isinstance(value, str):
        return parse_shaped(value, table)
    if isinstance(value, bool) or value is None:
        raise SymcalcTypeError(f"cannot substitute {value!r}: give a number or a formula")
    return as_node(value)


def substitute(f: MatrixExpr, mapping: Mapping[object, object],
               shapes: Optional[Mapping[str, object]] = None) -> MatrixExpr:
    """``f`` with each key (a symbol, a name or a subexpression) replaced by its value, in one
    bottom-up pass; a scalar value given for a shaped key is spread over its shape
    (``{"t": 0}`` is the zero vector).  Keys and values given as text are read with the
    shapes ``f`` uses, and ``shapes``."""
    if not isinstance(mapping, Mapping):
        raise SymcalcTypeError(f"subs needs a mapping of keys to values, not {type(mapping).__name__}")
    table = known_shapes(f, shapes=shapes)
    replacements: dict[MatrixExpr, MatrixExpr] = {}
    for key, value in mapping.items():
        if isinstance(key, (int, float)) and not isinstance(key, bool):
            raise SymcalcTypeError(f"a number ({key}) cannot be replaced: keys are variables or "
                                   "subexpressions")
        old, new = to_formula(key, table), to_formula(value, table)
        if new.shape != old.shape:
            if new.shape:
                raise ShapeError(f"cannot put {shape_words(new.shape)} {new} in place of "
                                 f"{shape_words(old.shape)} {old}")
            new = new if not old.shape else _spread(new, old.shape)
        replacements[old] = new
    built: dict[MatrixExpr, MatrixExpr] = {}

    def done(node: MatrixExpr) -> bool:  # a replaced node is not entered
        if node in replacements:
            built[node] = replacements[node]
            return True
        if not node.args:
            built[node] = node
            return True
        return False

    if done(f):
        return built[f]
    for node in postorder([f], done=done):
        built[node] = with_args(node, tuple(built[a] for a in node.args))
    return built[f]


def _spread(value: MatrixExpr, shape: tuple) -> MatrixExpr:
    if value.kind == "number":
        return filled(value.data, shape)
    return value * filled(1, shape)


def count_ops(e: object) -> int:
    """Operations to evaluate a shaped formula (or a nested list of them), each shared node
    once: an entrywise operation or a matrix function counts one, a sum, product or chain of k
    operands k - 1."""
    stack, roots = [e], []
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        else:
            roots.append(as_node(item))
    return sum(max(1, len(node.args) - 1) for node in postorder(roots) if node.args)
