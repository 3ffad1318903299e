"""Arguments as the library takes them -> expressions and symbols.

Every public function accepts an expression as an ``Expr``, a formula string or a number, and a
variable as a ``Symbol`` or a name; this module turns them into nodes, once, for the API, code
generation, Taylor polynomials, optimisation, the SymPy bridge and the command line.  It also
holds ``Derivatives``, the list type of derivative results, so that code generation recognises
one without importing the API.

>>> to_symbols("x, y")
[Expr('x'), Expr('y')]
>>> top_level_pieces("logsumexp(a, b), a*b")
['logsumexp(a, b)', ' a*b']
"""

from __future__ import annotations

import numbers
import weakref
from typing import Iterable, Sequence, Union

from ..errors import SymcalcError, SymcalcTypeError
from ..core.expr import Expr, Symbol, as_expr
from ..printing.layout import latex_matrix, list_text
from .parser import parse, symbol_from_name

ExprLike = Union[Expr, str, int, float]
VarLike = Union[Symbol, str]


class Derivatives(list):
    """A list (possibly nested) of simplified derivative expressions.

    ``graph`` holds the same derivatives, in the same nesting, as raw expressions of one shared
    reverse-accumulation graph; code generation uses whichever of the two needs fewer operations.
    """

    def __init__(self, display: Iterable, graph: Sequence | None = None):
        super().__init__(display)
        self.graph = list(graph) if graph is not None else None

    def __repr__(self) -> str:
        return list_text(self)

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {latex_matrix(self)}$"


# A readable high-order derivative -> the same derivative as a shared Taylor-mode graph (see
# symcalc.api.diff); code generation compiles whichever needs fewer operations.
graph_forms: "weakref.WeakKeyDictionary[Expr, Expr]" = weakref.WeakKeyDictionary()


def to_expr(e: ExprLike) -> Expr:
    """An ``Expr`` from an Expr, a formula string or a number."""
    if isinstance(e, str):
        return parse(e)
    return as_expr(e)


def to_symbol(v: VarLike) -> Symbol:
    """A ``Symbol`` from a Symbol or a variable name."""
    if isinstance(v, Symbol):
        return v
    if isinstance(v, str):
        return symbol_from_name(v.strip())
    raise SymcalcTypeError(f"a variable must be a Symbol or a name, not {type(v).__name__} {v!r}")


def to_symbols(vs: Iterable[VarLike] | str) -> list[Symbol]:
    """Symbols from names separated by spaces or commas, or from an iterable of variables."""
    if isinstance(vs, (str, Symbol)):
        vs = vs.replace(",", " ").split() if isinstance(vs, str) else [vs]
    if not isinstance(vs, Iterable):
        raise SymcalcTypeError(f"variables must be names, Symbols or a list of them, not "
                               f"{type(vs).__name__} {vs!r}")
    symbols = [to_symbol(v) for v in vs]
    if len(set(symbols)) != len(symbols):
        raise SymcalcError(f"a variable is listed twice in {[str(s) for s in symbols]}")
    return symbols


def to_exprs(es: Iterable[ExprLike] | str) -> list[Expr]:
    """Expressions from one expression or an iterable of them."""
    if isinstance(es, (str, Expr)):
        es = [es]
    return [to_expr(e) for e in es]


def check_order(count: object, what: str = "derivative") -> int:
    """An order as an int: a TypeError unless an integer, a ValueError when negative."""
    if isinstance(count, bool) or not isinstance(count, numbers.Integral):
        raise SymcalcTypeError(f"a {what} order must be an integer, not {count!r}")
    if count < 0:
        raise SymcalcError(f"a {what} order must be >= 0, got {count}")
    return int(count)


def split_formulas(text: str) -> list[Expr]:
    """``"r*cos(t), r*sin(t)"`` -> two expressions; commas inside calls do not split."""
    return [parse(part) for part in top_level_pieces(text)]


def top_level_pieces(text: str) -> list[str]:
    """Split at the commas that are not inside parentheses (or LaTeX's braces)."""
    pieces, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"(": 1, ")": -1, "{": 1, "}": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            pieces.append(text[start:i])
            start = i + 1
    pieces.append(text[start:])
    return pieces


def to_functions(es: Iterable[ExprLike] | str) -> list[Expr]:
    """The functions of a Jacobian: a text of comma-separated formulas, an expression, or a list."""
    return split_formulas(es) if isinstance(es, str) else to_exprs(es)
