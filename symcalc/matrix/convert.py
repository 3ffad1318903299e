"""Between the scalar engine and the matrix layer: scalar ``Expr`` -> node (entrywise meaning),
and the registry's partial derivatives as matrix-layer formulas."""

from __future__ import annotations

from typing import Mapping, Optional

from ..errors import SymcalcError
from .. import expr as scalar
from ..functions import Function
from .nodes import MatrixExpr, make, number


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
            else:
                built[node] = build.apply(node.fn, *args)
    return built[e]


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


def rewritten(fn: Function, args: tuple[MatrixExpr, ...]) -> MatrixExpr:
    """A function the registry builds as another expression (``sqrt(x) -> x^(1/2)``)."""
    placeholders = _PLACEHOLDERS[:len(args)]
    return from_scalar(fn.rewrite(*placeholders), dict(zip(placeholders, args)))


from . import build, ops  # noqa: E402
