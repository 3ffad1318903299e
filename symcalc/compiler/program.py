"""Program building: the outputs -> the flat, stabilised, shared graph that is compiled.

The outputs (one expression, a list, or a list of lists) become a flat tuple of root nodes plus
the nesting shape.  A ``Derivatives`` result offers two equal versions, the readable formulas
and the shared reverse-accumulation graph; the smaller one once stabilised is compiled.  The
roots are then stabilised (``symcalc.rewrite.stability``) and products are rewritten into chains
that share their partial products.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Iterable
from typing import Any, Optional, Sequence, Union

from ..errors import SymcalcError, SymcalcTypeError
from ..language.arguments import Derivatives, graph_forms, to_expr, to_symbols
from ..core.expr import (ONE, Add, Call, Constant, Expr, Mul, Num, Pow, Symbol, count_ops,
                         postorder, raw_mul, structural_key)
from ..rewrite.stability import Stabiliser, same_kind

Outputs = Union[Expr, str, int, float, Sequence[Any]]


@dataclass(frozen=True)
class Program:
    """The stabilised output expressions, flattened, with their nesting shape (``()``: one
    expression) and the function's variables."""

    variables: tuple[Symbol, ...]
    roots: tuple[Expr, ...]
    shape: tuple[int, ...]
    # the symbols the roots depend on, found while the program was built (None: not known)
    free_symbols: Optional[frozenset[Symbol]] = field(default=None, compare=False, repr=False)

    @property
    def operation_count(self) -> int:
        """Operations of the generated code, each shared node counted once."""
        return count_ops(self.roots)


def variable_symbols(variables: Iterable[Symbol | str] | str) -> tuple[Symbol, ...]:
    """The variables as Symbols: names (a list, or one string of names) or Symbols."""
    if not isinstance(variables, (str, Symbol, Iterable)):
        raise SymcalcTypeError(f"the variables must be a list of names or Symbols, or one string "
                               f"of names, not {type(variables).__name__} {variables!r}")
    return tuple(to_symbols(variables))


def program(exprs: Outputs, variables: Iterable[Symbol | str] | str) -> Program:
    """The ``Program`` that ``codegen`` prints for ``exprs`` in the given variable order."""
    symbols = variable_symbols(variables)
    stabilise = Stabiliser()
    roots, shape = _flatten(exprs, stabilise, 0)
    roots = stabilise.all(roots)
    order = list(postorder(roots))
    free = frozenset(node for node in order if isinstance(node, Symbol))  # sharing keeps leaves
    roots = _share_products(roots, order)
    missing = sorted(s.name for s in free - set(symbols))
    if missing:
        raise SymcalcError(f"the expression depends on {', '.join(missing)}, which "
                         f"{'is' if len(missing) == 1 else 'are'} not among the variables "
                         f"{[s.name for s in symbols]}")
    return Program(symbols, tuple(roots), shape, free)


def _share_products(roots: list[Expr], order: list[Expr]) -> list[Expr]:
    """Products of three or more factors, rewritten as binary products that share their partial
    products: a linear-time stand-in for a search for common subproducts, which matters for
    high-order derivatives.

    The factors of every product are put in one global order (by depth, then structure).  The
    product is split at its least used factor: the factors before it are multiplied from the
    first on, those after it from the last on.  Products that differ in one factor, such as the
    terms of a product rule, then share both their prefixes and their suffixes.  ``order``: the
    nodes of ``roots`` in postorder.
    """
    uses: dict[Expr, int] = {}
    for node in order:
        if isinstance(node, Mul) and len(node.args) > 2:
            for f in node.args:
                uses[f] = uses.get(f, 0) + 1
    if not uses:
        return roots
    new: dict[Expr, Expr] = {}
    for node in order:
        args = tuple(new[a] for a in node.args)
        if isinstance(node, Mul) and len(args) > 2:
            coefficient = args[0] if isinstance(args[0], Num) else ONE
            pairs = sorted(((old, arg) for old, arg in zip(node.args, args) if arg is not coefficient),
                           key=lambda p: (p[0].depth, structural_key(p[0])))
            pivot = min(range(len(pairs)), key=lambda k: uses[pairs[k][0]])
            product = pairs[pivot][1]
            prefix = _chain([arg for _, arg in pairs[:pivot]])
            suffix = _chain([arg for _, arg in reversed(pairs[pivot + 1:])])
            for part in (prefix, suffix):
                if part is not None:
                    product = raw_mul(part, product)
            new[node] = raw_mul(coefficient, product)  # the coefficient last: parts stay common
        else:
            new[node] = node if args == node.args else same_kind(node, args)
    return [new[r] for r in roots]


def _chain(factors: list[Expr]) -> Expr | None:
    """``((f0*f1)*f2)*...``: every partial product is a node that other chains can share."""
    if not factors:
        return None
    product = factors[0]
    for f in factors[1:]:
        product = raw_mul(product, f)
    return product


_MAX_NESTING = 32


_LEAF_TYPES = frozenset({Add, Mul, Pow, Call, Num, Symbol, Constant, int, float, str})


def _flatten(obj: Any, stabilise: Stabiliser, level: int) -> tuple[list[Expr], tuple[int, ...]]:
    """The output expressions in order, and their nesting shape.

    Of the two forms of a ``Derivatives`` result, the one with fewer operations once stabilised.
    """
    if isinstance(obj, Derivatives) and obj.graph is not None:
        readable, shape = _flatten(list(obj), stabilise, level)
        graph, _ = _flatten(obj.graph, stabilise, level)
        readable, graph = stabilise.all(readable), stabilise.all(graph)
        return (graph if count_ops(graph) < count_ops(readable) else readable), shape
    if hasattr(obj, "shape") and hasattr(obj, "tolist"):  # a NumPy array of expressions
        obj = obj.tolist()
    if isinstance(obj, Expr) and obj in graph_forms:  # a high-order derivative: see calculus.diff
        return _flatten(Derivatives([obj], [graph_forms[obj]]), stabilise, level)[0], ()
    if not isinstance(obj, (list, tuple)):
        return [to_expr(obj)], ()
    if level >= _MAX_NESTING:
        raise SymcalcError(f"outputs nested more than {_MAX_NESTING} lists deep")
    if all(type(item) in _LEAF_TYPES for item in obj):  # the common case: a row of expressions
        return [item if isinstance(item, Expr) else to_expr(item) for item in obj], (len(obj),)
    parts = [_flatten(item, stabilise, level + 1) for item in obj]
    inner = {shape for _, shape in parts}
    if len(inner) > 1:
        raise SymcalcError("the nested output lists must be rectangular (all rows of equal length)")
    roots = [r for part, _ in parts for r in part]
    return roots, (len(obj),) + (inner.pop() if inner else ())
