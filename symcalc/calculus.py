"""The calculus API: derivatives, gradients, Jacobians, Hessians and their products.

Every function takes expressions as ``Expr`` or formula strings and variables as ``Symbol`` or
names.  Results are simplified, readable expressions.  Results that are lists (gradients,
Jacobians, Hessians, products with vectors) are ``Derivatives``: ordinary lists that also carry the
same quantities as one reverse-accumulation graph (``.graph``), which ``lambdify`` compiles so
that evaluating a gradient costs a small constant times evaluating the function.
"""

from __future__ import annotations

import numbers
from itertools import combinations
from typing import Iterable, Mapping, Sequence, Union

from .diff import forward, reverse
from .expr import ONE, ZERO, Expr, Symbol, add, as_expr, mul, rebuild
from .parser import parse, symbol_from_name
from .simplify import simplify as _simplify
from . import matrix as _matrix  # noqa: E402  (after .expr: the matrix layer builds on it)

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


# --- argument handling ---------------------------------------------------------------------------
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
    raise TypeError(f"a variable must be a Symbol or a name, not {type(v).__name__} {v!r}")


def to_symbols(vs: Iterable[VarLike] | str) -> list[Symbol]:
    if isinstance(vs, (str, Symbol)):
        vs = vs.replace(",", " ").split() if isinstance(vs, str) else [vs]
    symbols = [to_symbol(v) for v in vs]
    if len(set(symbols)) != len(symbols):
        raise ValueError(f"a variable is listed twice in {[str(s) for s in symbols]}")
    return symbols


def to_exprs(es: Iterable[ExprLike] | str) -> list[Expr]:
    if isinstance(es, (str, Expr)):
        es = [es]
    return [to_expr(e) for e in es]


def check_order(count: object, what: str = "derivative") -> int:
    """An order as an int: TypeError unless an integer, ValueError when negative."""
    if isinstance(count, bool) or not isinstance(count, numbers.Integral):
        raise TypeError(f"a {what} order must be an integer, not {count!r}")
    if count < 0:
        raise ValueError(f"a {what} order must be >= 0, got {count}")
    return int(count)


# --- derivatives -----------------------------------------------------------------------------------
def derivative(e: Expr, var: Symbol) -> Expr:
    """d e / d var, simplified."""
    return _simplify(forward(e, {var: ONE}))


def diff(e: ExprLike, *spec: VarLike | int) -> Expr:
    """Derivative of ``e``.

    ``diff(e, "x")`` is de/dx, ``diff(e, "x", 3)`` the third derivative, ``diff(e, "x", "y")`` the
    mixed partial d^2 e/(dy dx), ``diff(e, "x", 2, "y")`` d^3 e/(dy dx^2).  With no variable and an
    expression of one variable, that variable is used.
    """
    result = to_expr(e)
    steps: list[tuple[Symbol, int]] = []
    for item in spec:
        if isinstance(item, (Symbol, str)):
            steps.append((to_symbol(item), 1))
        elif steps:
            steps[-1] = (steps[-1][0], check_order(item))
        else:
            raise TypeError("diff(e, x, n): name the variable before the order")
    if not steps:
        free = sorted(result.free_symbols, key=lambda s: s.name)
        if len(free) != 1:
            raise ValueError("diff(e) needs a variable when e does not have exactly one")
        steps = [(free[0], 1)]
    for var, count in steps:
        for _ in range(count):
            if result is ZERO:
                break
            result = derivative(result, var)
    return result


def grad(e: ExprLike, variables: Iterable[VarLike] | str, *, shapes=None) -> Derivatives:
    """The gradient ``[de/dx for x in variables]``; shaped formulas (``shapes=`` or matrix-layer
    nodes) get the gradient in matrix form (``symcalc.matrix.grad``)."""
    if shapes is not None or _matrix.is_shaped(e):
        return _matrix.grad(e, variables, shapes)
    f, xs = to_expr(e), to_symbols(variables)
    return Derivatives([derivative(f, x) for x in xs], reverse([f], [ONE], xs))


def directional(e: ExprLike, variables: Iterable[VarLike] | str, direction: Sequence[ExprLike]) -> Expr:
    """The directional derivative ``grad(e) . u``; ``u`` is used as given (not normalised)."""
    f, xs = to_expr(e), to_symbols(variables)
    u = _vector(direction, len(xs), "direction")
    return _simplify(forward(f, dict(zip(xs, u))))


def jacobian(es: Iterable[ExprLike] | str, variables: Iterable[VarLike] | str, *,
             shapes=None) -> Derivatives:
    """The m x d Jacobian ``[[dfi/dxj for xj in variables] for fi in es]``; shaped formulas get
    ``dg/dx`` in matrix form (``symcalc.matrix.jacobian``)."""
    if shapes is not None or _matrix.is_shaped(es):
        return _matrix.jacobian(es, variables, shapes)
    fs, xs = _functions(es), to_symbols(variables)
    display = [[derivative(f, x) for x in xs] for f in fs]
    graph = [reverse([f], [ONE], xs) for f in fs]
    return Derivatives(display, graph)


def hessian(e: ExprLike, variables: Iterable[VarLike] | str, *, shapes=None) -> Derivatives:
    """The symmetric d x d Hessian; entries ``[i][j]`` and ``[j][i]`` are the same object.
    Shaped formulas get the Hessian in matrix form (``symcalc.matrix.hessian``)."""
    if shapes is not None or _matrix.is_shaped(e):
        return _matrix.hessian(e, variables, shapes)
    f, xs = to_expr(e), to_symbols(variables)
    first = [derivative(f, x) for x in xs]
    gradient_graph = reverse([f], [ONE], xs)
    n = len(xs)
    display = [[ZERO] * n for _ in range(n)]
    graph = [[ZERO] * n for _ in range(n)]
    for i in range(n):
        row = reverse([gradient_graph[i]], [ONE], xs[i:])
        for j in range(i, n):
            display[i][j] = display[j][i] = derivative(first[i], xs[j])
            graph[i][j] = graph[j][i] = row[j - i]
    return Derivatives(display, graph)


def jvp(es: Iterable[ExprLike] | str, variables: Iterable[VarLike] | str,
        v: Sequence[ExprLike]) -> Derivatives:
    """Jacobian-vector product ``J v`` (length m), by forward accumulation."""
    fs, xs = _functions(es), to_symbols(variables)
    tangents = dict(zip(xs, _vector(v, len(xs), "v")))
    return Derivatives([_simplify(forward(f, tangents)) for f in fs])


def vjp(es: Iterable[ExprLike] | str, variables: Iterable[VarLike] | str,
        w: Sequence[ExprLike]) -> Derivatives:
    """Vector-Jacobian product ``w^T J`` (length d), by reverse accumulation."""
    fs, xs = _functions(es), to_symbols(variables)
    weights = _vector(w, len(fs), "w")
    graph = _reverse_with_constant_seeds(fs, weights, xs)
    return Derivatives([_simplify(g) for g in graph], graph)


def hvp(e: ExprLike, variables: Iterable[VarLike] | str, v: Sequence[ExprLike]) -> Derivatives:
    """Hessian-vector product ``H v`` (length d): the gradient of ``grad(e) . v`` with v held fixed."""
    f, xs = to_expr(e), to_symbols(variables)
    vector = _vector(v, len(xs), "v")
    gradient_graph = reverse([f], [ONE], xs)
    graph = _reverse_with_constant_seeds(gradient_graph, vector, xs)
    return Derivatives([_simplify(g) for g in graph], graph)


def jacobian_det(es: Iterable[ExprLike] | str, variables: Iterable[VarLike] | str) -> Expr:
    """The determinant of the square Jacobian, simplified (``r*cos(t), r*sin(t)`` -> ``r``)."""
    fs, xs = _functions(es), to_symbols(variables)
    if len(fs) != len(xs):
        raise ValueError(f"jacobian_det needs as many functions as variables, got {len(fs)} and {len(xs)}")
    return _simplify(determinant(jacobian(fs, xs)))


def determinant(matrix: Sequence[Sequence[Expr]]) -> Expr:
    """Determinant by Laplace expansion along rows, memoised on the set of remaining columns."""
    n = len(matrix)
    if any(len(row) != n for row in matrix):
        raise ValueError("the determinant needs a square matrix")
    if n == 0:
        return ONE
    if n > 12:
        raise ValueError("determinants of symbolic matrices larger than 12 x 12 are not supported")
    # minors[cols] = det of the last len(cols) rows restricted to the columns in cols
    minors: dict[tuple[int, ...], Expr] = {(): ONE}
    for size in range(1, n + 1):
        row = matrix[n - size]
        for cols in combinations(range(n), size):
            terms = []
            for k, c in enumerate(cols):
                if row[c] is not ZERO:
                    rest = cols[:k] + cols[k + 1:]
                    terms.append(mul(as_expr(-1 if k % 2 else 1), row[c], minors[rest]))
            minors[cols] = add(*terms)
    return minors[tuple(range(n))]


def simplify(e: ExprLike) -> Expr:
    """The simplest equivalent form symcalc knows: canonical order, constants folded, like terms
    and equal bases collected, ``log(exp(x)) -> x``, ``sin(x)^2 + cos(x)^2 -> 1``.  A shaped
    formula (``symcalc.matrix``) is kept in its simplified form as it is built."""
    if _matrix.is_shaped(e):
        return e
    return _simplify(to_expr(e))


def subs(e: ExprLike, mapping: Mapping[VarLike, ExprLike]) -> Expr:
    """Replace variables by numbers or expressions, all at once: ``subs("x*y", {"x": 2})`` -> ``2*y``."""
    f = to_expr(e)
    table = {to_symbol(k): to_expr(v) for k, v in mapping.items()}
    return rebuild(f, lambda leaf: table.get(leaf, leaf))


# --- helpers ---------------------------------------------------------------------------------------
def _functions(es: Iterable[ExprLike] | str) -> list[Expr]:
    if isinstance(es, str):
        return split_formulas(es)
    return to_exprs(es)


def split_formulas(text: str) -> list[Expr]:
    """``"r*cos(t), r*sin(t)"`` -> two expressions; commas inside calls do not split."""
    return [parse(part) for part in top_level_pieces(text)]


def top_level_pieces(text: str) -> list[str]:
    """Split at the commas that are not inside parentheses."""
    pieces, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            pieces.append(text[start:i])
            start = i + 1
    pieces.append(text[start:])
    return pieces


def _vector(values: Sequence[ExprLike], length: int, what: str) -> list[Expr]:
    if isinstance(values, (str, Expr)) or not hasattr(values, "__len__"):
        raise TypeError(f"{what} must be a sequence of {length} numbers or expressions")
    if len(values) != length:
        raise ValueError(f"{what} has {len(values)} entries, expected {length}")
    return [to_expr(x) for x in values]


def _reverse_with_constant_seeds(fs: Sequence[Expr], seeds: Sequence[Expr],
                                 xs: Sequence[Symbol]) -> list[Expr]:
    """Reverse accumulation with seeds that may mention the variables but are held constant."""
    wrt = set(xs)
    held = {}
    frozen = []
    for k, s in enumerate(seeds):
        if s.free_symbols & wrt:
            placeholder = Symbol(f"_seed{k}")
            held[placeholder] = s
            frozen.append(placeholder)
        else:
            frozen.append(s)
    graph = reverse(fs, frozen, xs)
    if held:
        graph = [rebuild(g, lambda leaf: held.get(leaf, leaf)) for g in graph]
    return graph
