"""The calculus API: derivatives, gradients, Jacobians, Hessians and their products.

Every function takes expressions as ``Expr`` or formula strings and variables as ``Symbol`` or
names.  Results are simplified, readable expressions.  Results that are lists (gradients,
Jacobians, Hessians, products with vectors) are ``Derivatives``: ordinary lists that also carry the
same quantities as one reverse-accumulation graph (``.graph``), which ``lambdify`` compiles so
that evaluating a gradient costs a small constant times evaluating the function.
"""

from __future__ import annotations

import math
from decimal import MAX_EMAX, MIN_EMIN, ROUND_HALF_EVEN, Context, Decimal
from itertools import combinations, compress, repeat
from operator import is_not
from math import isqrt
from typing import Iterable, Mapping, Sequence

from .language.arguments import (Derivatives, ExprLike, VarLike, check_order, graph_forms, to_expr,
                                 to_functions, to_symbol, to_symbols)
from .calculus.diff import forward, forward_graph, grown_size, partials, reverse
from .errors import (DivisionByZeroError, DomainError, OutOfRangeError, SymcalcError,
                     SymcalcTypeError)
from .calculus.closed_form import nth_derivative, polynomial_degree
from .core.expr import (ONE, ZERO, Constant, Expr, Mul, Num, Pow, Symbol, add, as_expr, mul,
                        postorder, power, raw_add, rebuild, split_coefficient, with_args)
from .core.expr import count_ops as _count_ops
from .functions.elementary import abs_
from .printing.layout import latex_matrix
from .printing.infix import latex as _latex
from .calculus.series import derivative_graph
from .rewrite.simplify import simplify as _simplify
from .matrix import api as _matrix
from .matrix import calculus as _matrix_calculus
from .matrix.substitute import count_ops as _matrix_count_ops, substitute as _substitute
from .calculus import sparse as _sparse
from .core import nodes as _scalar_nodes
from .matrix import convert as _matrix_convert, nodes as _matrix_nodes

__all__ = ["Derivatives", "count_ops", "determinant", "diff", "directional", "evalf", "grad", "hessian",
           "hvp", "jacobian", "jacobian_det", "jvp", "latex", "simplify", "subs", "vjp"]

_GUARD_DIGITS = 10  # computed beyond the digits asked for, so that the last one is rounded right


# --- derivatives -----------------------------------------------------------------------------------
def derivative(e: Expr, var: Symbol) -> Expr:
    """d e / d var, simplified."""
    return _simplified(forward(e, {var: ONE}))


def first_partials(e: Expr, variables: Sequence[Symbol], memo: dict | None = None) -> list[Expr]:
    """``[derivative(e, x) for x in variables]``, from one pass over ``e`` (``diff.partials``)."""
    return [_simplified(d) for d in partials(e, variables, memo)]


_READABLE_WORK = 3000  # operations: the readable steps of a high-order derivative start from this many in all
_READABLE_RESULT = 1000  # operations: a high-order readable derivative larger than this is not kept


def diff(e: ExprLike, *spec: VarLike | int, readable: bool | None = None, shapes=None) -> Expr:
    """Derivative of ``e``.

    ``diff(e, "x")`` is de/dx, ``diff(e, "x", 3)`` the third derivative, ``diff(e, "x", "y")`` the
    mixed partial d^2 e/(dy dx), ``diff(e, "x", 2, "y")`` d^3 e/(dy dx^2).  With no variable and an
    expression of one variable, that variable is used.

    A derivative whose k-th order is known in closed form is written down at once, whatever k
    (``symcalc.calculus.closed_form``): 0 for a polynomial beyond its degree, powers, exponentials,
    sines and cosines of linear arguments, a polynomial times one of these, and sums of such terms
    (``diff("exp(2*x)", "x", 10**9)`` is ``2^1000000000*exp(2*x)``).  Any other derivative of
    order 2 or more is also built by Taylor-mode arithmetic (``symcalc.calculus.series``)
    as one shared graph, whose size grows polynomially in the order, while the readable form
    (simplified, canonical) may swell exponentially.  The readable form is built one
    differentiation at a time while it stays small: the steps start from at most 3000
    operations in all (the attempt stops once the current size times the steps left would
    pass that), and the result has at most 1000.  Within that budget ``diff`` returns the
    readable form, and ``lambdify``/``codegen`` of that very expression compile the graph
    instead when it needs fewer operations.  Beyond the budget ``diff`` returns the graph itself:
    an ``Expr`` of the same value, raw (not canonical), whose printed text may be long;
    ``readable=True`` builds the readable form whatever its size, ``readable=False`` never (a
    closed form is returned in every case: it is both).  An
    order whose graph would be too large (order^2 times the size of the formula beyond 4 million)
    is a ``SymcalcError``, not a wait of hours.

    A first derivative is readable too, except for a formula whose sums grew term by term and
    are used again (``e = e^2 + e`` in a loop, 3000 operations or more and eight times as many
    as the nodes it grew from): its readable derivative would hold every term of every sum, so
    ``diff`` returns the graph that follows how the sums grew, a few nodes per step
    (``readable=True`` builds the readable form all the same).

    >>> diff("x^3*y", "x", 2)
    Expr('6*x*y')
    >>> diff("x^3*y", "x", "y")
    Expr('3*x^2')

    A shaped formula (``shapes=`` or a matrix-layer node) is differentiated by scalar parameters
    in matrix form, shaped like the formula (``symcalc.matrix.calculus.diff``).
    """
    if shapes is not None or _matrix.is_shaped(e):
        return _matrix_calculus.diff(e, spec, shapes)
    result = to_expr(e)
    steps: list[tuple[Symbol, int]] = []
    for item in spec:
        if isinstance(item, (Symbol, str)):
            steps.append((to_symbol(item), 1))
        elif steps:
            steps[-1] = (steps[-1][0], check_order(item))
        else:
            raise SymcalcTypeError("diff(e, x, n): name the variable before the order")
    if not steps:
        free = sorted(result.free_symbols, key=lambda s: s.name)
        if len(free) != 1:
            raise SymcalcError("diff(e) needs a variable when e does not have exactly one")
        steps = [(free[0], 1)]
    return _derivative_steps(result, steps, readable)


def _derivative_steps(f: Expr, steps: list[tuple[Symbol, int]], readable: bool | None) -> Expr:
    """``diff`` for the steps: closed forms first (``symcalc.calculus.closed_form``: polynomials,
    exponentials, sines, ... of any order at once), the graph and readable forms for the rest."""
    for i, (var, count) in enumerate(steps):
        if f is ZERO:
            return ZERO
        if count == 1:
            f = _first_derivative(f, var, readable)
            continue
        if count == 0:
            continue
        if f._raw:  # a graph (a derivative diff gave): no closed forms, but 0 beyond its degree
            degree = polynomial_degree(f, var)
            if degree is not None and count > degree:
                return ZERO
            return _general(f, steps[i:], readable)
        closed, rest = nth_derivative(f, var, count)
        if rest is ZERO:
            f = closed
            continue
        if closed is ZERO:
            return _general(f, steps[i:], readable)
        return _plus(_derivative_steps(closed, steps[i + 1:], readable),
                     _general(rest, steps[i:], readable))
    return f


_GROWN_RATIO = 8  # operations per node seen as the formula grew: beyond, a first derivative is a graph


def _first_derivative(f: Expr, var: Symbol, readable: bool | None) -> Expr:
    """``derivative(f, var)``, or its graph (``diff.forward_graph``) for a formula whose sums grew
    term by term and are used again (``e = e^2 + e`` in a loop): there the readable derivative
    has as many terms as all those sums together (O(K^2) for K steps), the graph O(K) nodes."""
    if readable is not True and _grew(f):
        return forward_graph(f, var)
    return derivative(f, var)


def _grew(f: Expr) -> bool:
    """Do sums that grew term by term and are used again make most of ``f``?"""
    nodes, operations = grown_size(f)
    return operations > _READABLE_WORK and operations > _GROWN_RATIO * nodes


def _grown_partials(f: Expr, xs: Sequence[Symbol]) -> list[Expr] | None:
    """The first partials of ``f`` as graphs when its sums grew (see ``_first_derivative``), for
    both the display and the compiled form of a gradient; None for any other formula."""
    return [forward_graph(f, x) for x in xs] if _grew(f) else None


_GRAPH_BUDGET = 4_000_000  # order^2 * varying nodes: about 2.7 million operations of graph


def _general(f: Expr, steps: list[tuple[Symbol, int]], readable: bool | None) -> Expr:
    """The derivative by Taylor-mode propagation and, while small, one differentiation at a time."""
    for var, count in steps:
        varying = sum(1 for _ in postorder([f], done=lambda n: var not in n.free_symbols))
        if count * count * varying > _GRAPH_BUDGET:
            raise SymcalcError(
                f"symcalc knows no closed form for the derivative of order {count} in {var} of "
                f"this formula, and builds it order by order only up to order "
                f"{isqrt(_GRAPH_BUDGET // varying)} (the work grows with the square of the order)")
    if readable is not True and any(count >= 2 for _, count in steps):
        return _high_order(f, steps, readable is None)
    for var, count in steps:
        for _ in range(count):
            if f is ZERO:
                break
            f = derivative(f, var)
    return f


def _plus(a: Expr, b: Expr) -> Expr:
    """``a + b`` for derivatives that may be graphs or readable forms with a graph form."""
    if a._raw or b._raw:
        return raw_add(a, b)
    total = add(a, b)
    graph_a, graph_b = graph_forms.get(a), graph_forms.get(b)
    if (graph_a is not None or graph_b is not None) and total.args:
        graph_forms[total] = raw_add(a if graph_a is None else graph_a, b if graph_b is None else graph_b)
    return total


def _high_order(f: Expr, steps: list[tuple[Symbol, int]], want_readable: bool) -> Expr:
    """The derivative as a Taylor-mode graph, and as a readable form while within the budget.

    The readable form is built one differentiation at a time; the work of a step grows with the
    size of its input, so the steps may start from at most ``_READABLE_WORK`` operations in all.
    Forms swell rather than shrink, so the attempt stops as soon as the current size times the
    steps left would pass that budget (the nested sine at once, ``sin(exp(x))`` of order 30 not)."""
    graph, readable, work = f, f if want_readable else None, 0
    left = sum(count for _, count in steps)
    for var, count in steps:
        graph = derivative_graph(graph, var, count)
        for _ in range(count):
            if readable is None or readable is ZERO:
                break
            size = _count_ops([readable])
            if work and (work + size * left > _READABLE_WORK or size > _READABLE_RESULT):
                readable = None
                break
            readable, work, left = derivative(readable, var), work + max(size, 1), left - 1
    if readable is None or _count_ops([readable]) > _READABLE_RESULT:
        return graph
    if graph is not readable and readable.args:
        graph_forms[readable] = graph
    return readable


def grad(e: ExprLike, variables: Iterable[VarLike] | str, *, shapes=None) -> Derivatives:
    """The gradient ``[de/dx for x in variables]``; shaped formulas (``shapes=`` or matrix-layer
    nodes) get the gradient in matrix form (``symcalc.matrix.grad``).  The entries are readable,
    except for a formula whose sums grew term by term and are used again, whose entries are
    graphs, as ``diff`` gives them.

    >>> grad("x^2*y + y^3", "x y")
    [2*x*y, x^2 + 3*y^2]
    """
    if shapes is not None or _matrix.is_shaped(e):
        return _matrix.grad(e, variables, shapes)
    f, xs = to_expr(e), to_symbols(variables)
    grown = _grown_partials(f, xs)
    if grown is not None:
        return Derivatives(grown, grown)
    return Derivatives(first_partials(f, xs), reverse([f], [ONE], xs))


def directional(e: ExprLike, variables: Iterable[VarLike] | str, direction: Sequence[ExprLike]) -> Expr:
    """The directional derivative ``grad(e) . u``; ``u`` is used as given (not normalised).

    >>> directional("x^2*y", "x y", [1, 2])
    Expr('2*x^2 + 2*x*y')
    """
    f, xs = to_expr(e), to_symbols(variables)
    u = _vector(direction, len(xs), "direction")
    return _simplified(forward(f, dict(zip(xs, u))))


def jacobian(es: Iterable[ExprLike] | str, variables: Iterable[VarLike] | str, *,
             shapes=None, sparse: bool = False) -> Derivatives | _sparse.SparseDerivatives:
    """The m x d Jacobian ``[[dfi/dxj for xj in variables] for fi in es]``; shaped formulas get
    ``dg/dx`` in matrix form (``symcalc.matrix.jacobian``).  ``sparse=True`` gives formulas for
    the structural non-zeros only and their pattern
    (``symcalc.calculus.sparse.SparseDerivatives``).

    >>> jacobian("r*cos(t), r*sin(t)", "r t")
    [[cos(t), -r*sin(t)], [sin(t), r*cos(t)]]
    """
    if sparse:
        return _sparse.jacobian(es, variables, shapes)
    if shapes is not None or _matrix.is_shaped(es):
        return _matrix.jacobian(es, variables, shapes)
    fs, xs = to_functions(es), to_symbols(variables)
    display, graph = [], []
    for f in fs:
        grown = _grown_partials(f, xs)
        display.append(first_partials(f, xs) if grown is None else grown)
        graph.append(reverse([f], [ONE], xs) if grown is None else grown)
    return Derivatives(display, graph)


def hessian(e: ExprLike, variables: Iterable[VarLike] | str, *, shapes=None,
            sparse: bool = False) -> Derivatives | _sparse.SparseDerivatives:
    """The symmetric d x d Hessian; entries ``[i][j]`` and ``[j][i]`` are the same object.
    Shaped formulas get the Hessian in matrix form (``symcalc.matrix.hessian``).  ``sparse=True``
    gives formulas for the structural non-zeros only, one per pair i <= j, and their pattern
    (``symcalc.calculus.sparse.SparseDerivatives``), built without touching the zero entries.

    >>> hessian("x^2*y + y^3", "x y")
    [[2*y, 2*x], [2*x, 6*y]]
    """
    if sparse:
        return _sparse.hessian(e, variables, shapes)
    if shapes is not None or _matrix.is_shaped(e):
        return _matrix.hessian(e, variables, shapes)
    f, xs = to_expr(e), to_symbols(variables)
    first = first_partials(f, xs)
    gradient_graph = reverse([f], [ONE], xs)
    n = len(xs)
    display = [[ZERO] * n for _ in range(n)]
    graph = [[ZERO] * n for _ in range(n)]
    tangents: dict = {}  # the rows share subexpressions: each is differentiated once
    position = {x: j for j, x in enumerate(xs)}  # (to_symbols refuses a variable named twice)
    targets = frozenset(xs)
    for i in range(n):
        # a gradient entry free of the variables has a row of 0s (already there)
        row = (reverse([gradient_graph[i]], [ONE], xs[i:])
               if not targets.isdisjoint(gradient_graph[i].free_symbols) else ())
        # the entries that depend on a variable of their column; the others are 0, as forward
        # would give (found from the row's symbols, not by a look at every column)
        needed = sorted(j for j in map(position.get, first[i].free_symbols)
                        if j is not None and j >= i)
        if needed:
            entries = partials(first[i], xs, tangents)
            for j in needed:
                display[i][j] = display[j][i] = _simplified(entries[j])
        for k in compress(range(len(row)), map(is_not, row, repeat(ZERO))):  # (the 0s are there)
            graph[i][i + k] = graph[i + k][i] = row[k]
    return Derivatives(display, graph)


def jvp(es: Iterable[ExprLike] | str, variables: Iterable[VarLike] | str,
        v: Sequence[ExprLike], *, shapes=None) -> Derivatives:
    """Jacobian-vector product ``J v`` (length m), by forward accumulation.

    >>> jvp(["x*y", "x + y"], "x y", [1, 0])
    [y, 1]

    A shaped formula gets ``J v`` in matrix form, shaped like the formula, for a direction
    shaped like the variable (``jvp("sum(exp(t))", "t", "v", shapes={"t": "n", "v": "n"})``).
    """
    if shapes is not None or _matrix.is_shaped(es):
        return _matrix_calculus.jvp(es, variables, v, shapes)
    fs, xs = to_functions(es), to_symbols(variables)
    tangents = dict(zip(xs, _vector(v, len(xs), "v")))
    return Derivatives([_simplified(forward(f, tangents)) for f in fs])


def vjp(es: Iterable[ExprLike] | str, variables: Iterable[VarLike] | str,
        w: Sequence[ExprLike], *, shapes=None) -> Derivatives:
    """Vector-Jacobian product ``w^T J`` (length d), by reverse accumulation.

    >>> vjp(["x*y", "x + y"], "x y", [1, 1])
    [1 + y, 1 + x]

    A shaped formula gets ``w^T J`` in matrix form for a weight ``w`` shaped like the formula.
    """
    if shapes is not None or _matrix.is_shaped(es):
        return _matrix_calculus.vjp(es, variables, w, shapes)
    fs, xs = to_functions(es), to_symbols(variables)
    weights = _vector(w, len(fs), "w")
    graph = _reverse_with_constant_seeds(fs, weights, xs)
    return Derivatives([_simplified(g) for g in graph], graph)


def hvp(e: ExprLike, variables: Iterable[VarLike] | str, v: Sequence[ExprLike], *,
        shapes=None) -> Derivatives:
    """Hessian-vector product ``H v`` (length d): the gradient of ``grad(e) . v`` with v held fixed.

    >>> hvp("x^2*y", "x y", [1, 0])
    [2*y, 2*x]

    A shaped formula gets ``H v`` in matrix form without forming the Hessian
    (``hvp("t@A@t", "t", "v", shapes=...)`` is ``(A + A.T)@v``).
    """
    if shapes is not None or _matrix.is_shaped(e):
        return _matrix_calculus.hvp(e, variables, v, shapes)
    f, xs = to_expr(e), to_symbols(variables)
    vector = _vector(v, len(xs), "v")
    gradient_graph = reverse([f], [ONE], xs)
    graph = _reverse_with_constant_seeds(gradient_graph, vector, xs)
    return Derivatives([_simplified(g) for g in graph], graph)


def jacobian_det(es: Iterable[ExprLike] | str, variables: Iterable[VarLike] | str, *,
                 absolute: bool = False) -> Expr:
    """The determinant of the square Jacobian, simplified (``r*cos(t), r*sin(t)`` -> ``r``).

    ``absolute=True`` gives ``|det J|``, the factor of a change of variables in an integral: the
    absolute value is taken factor by factor, and even powers need none.

    >>> jacobian_det("r*cos(t), r*sin(t)", "r t")
    Expr('r')
    >>> jacobian_det("r*cos(t), r*sin(t)", "r t", absolute=True)
    Expr('abs(r)')
    """
    fs, xs = to_functions(es), to_symbols(variables)
    if len(fs) != len(xs):
        raise SymcalcError(f"jacobian_det needs as many functions as variables, got {len(fs)} and {len(xs)}")
    det = _simplified(determinant(jacobian(fs, xs)))
    return _absolute(det) if absolute else det


def determinant(matrix: Sequence[Sequence[ExprLike]]) -> Expr:
    """Determinant of a square matrix given as a list of rows of expressions or formula strings,
    by Laplace expansion along rows, memoised on the set of remaining columns.

    >>> determinant([["a", "b"], ["c", "d"]])
    Expr('a*d - b*c')
    """
    matrix = [_sequence(row, "a row of the matrix") for row in _sequence(matrix, "the matrix")]
    matrix = [[to_expr(entry) for entry in row] for row in matrix]
    n = len(matrix)
    if any(len(row) != n for row in matrix):
        raise SymcalcError("the determinant needs a square matrix")
    if n == 0:
        return ONE
    if n > 12:
        raise SymcalcError("determinants of symbolic matrices larger than 12 x 12 are not supported")
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
    formula (``symcalc.matrix``) gets the same simplification of each of its entrywise parts
    (``exp(x)/(1 + exp(x)) -> sigmoid(x)`` for a vector x); its matrix operations stay.

    >>> simplify("sin(x)^2 + cos(x)^2 + log(exp(y))")
    Expr('1 + y')
    """
    if isinstance(e, _matrix_nodes.MatrixExpr):
        return _matrix_convert.rewrite_entrywise([e], _simplified)[0]
    if _matrix.is_shaped(e):
        return e
    return _simplified(to_expr(e))


def latex(e: ExprLike | Sequence) -> str:
    """LaTeX for an expression or a formula string; a list is a column vector and a list of lists
    a matrix (``pmatrix``, which needs amsmath).

    >>> print(latex("sqrt(x)/2"))
    \\frac{\\sqrt{x}}{2}
    >>> print(latex(["x", "y^2"]))
    \\begin{pmatrix}
    x \\\\
    y^{2}
    \\end{pmatrix}
    """
    if _matrix.is_shaped(e) and not isinstance(e, Sequence):
        return _matrix.latex(e)
    if isinstance(e, (str, Expr)) or not isinstance(e, Sequence):
        return _latex(to_expr(e))
    rows = [list(row) if isinstance(row, Sequence) and not isinstance(row, str) else [row]
            for row in e]
    return latex_matrix([[to_expr(x) for x in row] for row in rows])


def subs(e: ExprLike, mapping: Mapping[ExprLike, ExprLike], *, shapes=None) -> Expr:
    """Replace variables or subexpressions by numbers or expressions, all at once.

    A key is a variable or any subexpression, given as an expression or a formula; it is parsed
    into its canonical form and replaces the nodes of ``e`` that are that very node (so ``x*y``
    matches in ``sin(x*y)`` but not in ``2*x*y``, whose product is ``2*x*y`` as a whole).  The
    replacement is one bottom-up pass: a matched node is replaced whole, and the values are not
    substituted again.  A number as a key is a TypeError.

    >>> subs("x*y + x", {"x": 2})
    Expr('2 + 2*y')
    >>> subs("x*y", {"y": "x + 1"})
    Expr('x*(1 + x)')
    >>> subs("sin(x)^2 + sin(x)", {"sin(x)": "s"})
    Expr('s + s^2')

    In a shaped formula keys and values are read with its shapes (and ``shapes=``); a number
    given for a vector or matrix is spread over it (``symcalc.matrix.substitute``).
    """
    if shapes is not None or _matrix.is_shaped(e):
        return _substitute(_matrix_calculus.to_node(e, shapes), mapping, shapes)
    f = to_expr(e)
    if not isinstance(mapping, Mapping):
        raise SymcalcTypeError(f"subs needs a mapping such as {{'x': 2}}, not {type(mapping).__name__}")
    table: dict[Expr, Expr] = {}
    for key, value in mapping.items():
        node = to_expr(key)
        if isinstance(node, Num):
            raise SymcalcTypeError(f"subs: a key must be a variable or a subexpression, not the "
                                   f"number {node}")
        if node in table:
            raise SymcalcError(f"subs: {node} is given twice")
        table[node] = to_expr(value)
    replaced: dict[Expr, Expr] = {}
    pick = lambda node: table[node] if node in table else replaced[node]
    for node in postorder([f], done=lambda n: n in table):
        replaced[node] = with_args(node, tuple(pick(a) for a in node.args)) if node.args else node
    return pick(f)


def count_ops(e: ExprLike | Sequence) -> int:
    """Operations needed to evaluate ``e`` (an expression, a formula, or a possibly nested list of
    them) with every shared subexpression computed once.

    >>> count_ops("sin(x)*x")
    2
    >>> count_ops(["sin(x)*x", "sin(x) + 1"])
    3

    For shaped formulas, matrix operations count one each (a chain ``A@B@x`` two).
    """
    if _matrix.is_shaped(e):
        return _matrix_count_ops(e)
    return _count_ops(_leaves(e))


def evalf(e: ExprLike, digits: int = 15) -> Decimal:
    """The value of an expression without variables to ``digits`` significant digits.

    The result is a ``decimal.Decimal`` holding exactly those digits (``str`` shows them all;
    ``float()`` of it is the nearest float).  SymPy's arbitrary-precision evaluation computes it,
    imported on first use.  Raises a TypeError when ``e`` has variables and a ``DomainError``
    when its value is not a real number (``log(-1)``, ``1/0``).

    >>> evalf("pi", 30)
    Decimal('3.14159265358979323846264338328')
    >>> evalf("exp(1)/3")
    Decimal('0.906093942819682')
    """
    f = to_expr(e)
    digits = check_order(digits, "precision")
    if not 1 <= digits <= 10_000:
        raise SymcalcError(f"evalf needs between 1 and 10000 digits, not {digits}")
    _check_constant(f, "evalf")
    from .checks.sympy_bridge import to_sympy  # SymPy only when a value is asked for

    value = _sympy_value(f, digits + _GUARD_DIGITS)
    sign, _, exponent, bits = getattr(value, "_mpf_", (0, 0, 0, 0))  # (none for exact 0)
    if value and abs(exponent + bits) > _DECIMAL_BITS:
        raise _BeyondDecimal(f"{_short(f)} is about {value.evalf(5)!s}, beyond the range of "
                             f"decimal.Decimal",
                             -1.0 if sign else 1.0, exponent + bits > 0)
    rounding = Context(prec=digits, rounding=ROUND_HALF_EVEN, Emax=MAX_EMAX, Emin=MIN_EMIN)
    return rounding.plus(Decimal(str(value)))


class _BeyondDecimal(OutOfRangeError):
    """A value whose exponent no ``decimal.Decimal`` holds (``exp(10^20)``); ``float`` gives inf
    or 0.0 for it."""

    def __init__(self, message: str, sign: float, large: bool):
        super().__init__(message)
        self.sign, self.large = sign, large


# Binary exponents beyond this have no Decimal (whose decimal exponents stop near 10^18).
_DECIMAL_BITS = 3 * 10**18

# SymPy functions whose values SymPy finds at once for any argument, however large (a value such
# as log(9^9^9) is the exponent times the logarithm of the base); others of an argument beyond
# float range may not return (sin(9^9^9) needs all of its billion bits, exp(10^3000) is a number
# with 10^3000 digits before its point).
_ANY_ARGUMENT = ("log", "Abs", "sign", "Max", "Min", "Heaviside", "atan")
# SymPy's trigonometric functions take arguments up to 2^65536 at once (their period is
# subtracted with that many more bits).
_PERIODIC = ("sin", "cos", "tan", "sec", "csc", "cot")


def _short(e: object) -> str:
    text = str(e)
    return text if len(text) <= 80 else text[:60] + "..." + text[-15:]


def _sympy_value(f: Expr, precision: int):
    """The SymPy Float of ``f`` to ``precision`` digits; a DomainError when it is no real number,
    a SymcalcError when a function meets an argument beyond float range (for which SymPy might
    not return), checked first where floats cannot tell the value."""
    from .core.numeric import is_moderate
    from .checks.sympy_bridge import to_sympy  # SymPy only when a value is asked for

    s = to_sympy(f)
    if not is_moderate(f):
        import sympy
        from sympy.core.traversal import postorder_traversal

        for node in postorder_traversal(s):
            if node.is_Atom or node.is_Add or node.is_Mul or (
                    node.is_Pow and node.exp.is_Rational) or type(node).__name__ in _ANY_ARGUMENT:
                continue
            for arg in node.args:
                size = arg.evalf(15)
                limit = 1 << 16 if type(node).__name__ in _PERIODIC else 1024
                if size.is_Float and size and size._mpf_[2] + size._mpf_[3] > limit:
                    raise OutOfRangeError(
                        f"cannot evaluate {_short(f)}: {_short(node)} has an argument of about "
                        f"{size.evalf(5)!s}, beyond float range, where its value is not computed")
    value = s.evalf(precision)
    if not (value.is_Number and value.is_real and value.is_finite):
        raise DomainError(f"{f} has no real value (it evaluates to {value})")
    return value


def to_float(e: ExprLike) -> float:
    """``float(e)`` for an expression without variables: its correctly rounded value; inf (with
    its sign) or 0.0 beyond float range."""
    f = to_expr(e)
    _check_constant(f, "float()")
    if isinstance(f, Num):
        try:
            return float(f.value)
        except OverflowError:  # 10^400
            return math.inf if f.value > 0 else -math.inf
    if isinstance(f, Constant):
        return f.value
    try:
        return float(evalf(f, 25))  # 25 digits: rounding them again to a float is exact but in ties
    except _BeyondDecimal as beyond:
        return beyond.sign * (math.inf if beyond.large else 0.0)


# --- helpers ---------------------------------------------------------------------------------------
def _simplified(e: Expr) -> Expr:
    """``simplify(e)``; a division by a subexpression that simplifies to 0 is a DomainError naming it."""
    try:
        return _simplify(e)
    except DivisionByZeroError:
        divisor = _zero_divisor(e)
        if divisor is None:
            raise
        raise DivisionByZeroError(f"division by zero: the divisor {divisor} is 0") from None


def _zero_divisor(e: Expr) -> Expr | None:
    """The innermost base of a negative power in ``e`` that simplifies to 0, if any."""
    for node in postorder([e]):
        if isinstance(node, Pow) and isinstance(node.exponent, Num) and node.exponent.value < 0:
            try:
                if _simplify(node.base) is ZERO:
                    return node.base
            except DivisionByZeroError:  # a divisor inside this base; found first in postorder
                continue
    return None


def _absolute(e: Expr) -> Expr:
    """``|e|`` for real variables, factor by factor: ``|-2*r^2*sin(p)| = 2*r^2*abs(sin(p))``."""
    coefficient, rest = split_coefficient(e)
    factors = [Num(abs(coefficient))]
    for factor in rest.args if isinstance(rest, Mul) else (rest,):
        base, exponent = (factor.base, factor.exponent) if isinstance(factor, Pow) else (factor, ONE)
        if isinstance(exponent, Num) and exponent.is_integer:
            factors.append(factor if exponent.value % 2 == 0 else power(abs_(base), exponent))
        else:
            factors.append(abs_(factor))
    return _simplified(mul(*factors))


def _check_constant(f: Expr, what: str) -> None:
    if f.free_symbols:
        names = ", ".join(sorted(s.name for s in f.free_symbols))
        raise SymcalcTypeError(f"{what} needs an expression without variables, but {f} depends on "
                               f"{names}: substitute values first, e.g. with subs")


def _sequence(value: object, what: str) -> Sequence:
    if isinstance(value, (str, Expr)) or not isinstance(value, Sequence):
        raise SymcalcTypeError(f"{what} must be a list, not {type(value).__name__} {value!r}")
    return value


def _leaves(e: ExprLike | Sequence) -> list[Expr]:
    """The expressions of a possibly nested list, in order (or the one expression)."""
    found: list[Expr] = []
    stack = [e]
    while stack:
        item = stack.pop()
        if isinstance(item, (str, Expr)) or not isinstance(item, Iterable):
            found.append(to_expr(item))
        else:
            stack.extend(reversed(list(item)))
    return found



def _vector(values: Sequence[ExprLike], length: int, what: str) -> list[Expr]:
    if isinstance(values, (str, Expr)) or not hasattr(values, "__len__"):
        raise SymcalcTypeError(f"{what} must be a sequence of {length} numbers or expressions")
    if len(values) != length:
        raise SymcalcError(f"{what} has {len(values)} entries, expected {length}")
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


# the methods of formulas are this module's functions (symcalc.core.nodes and symcalc.matrix.nodes
# declare them; the matrix layer's bridge calls the scalar derivative)
_scalar_nodes.API.bind(diff=diff, subs=subs, evalf=evalf, to_float=to_float)
_matrix_nodes.METHODS.bind(diff=diff, subs=subs, count_ops=count_ops)
_matrix_convert.SCALAR.bind(derivative=derivative)
