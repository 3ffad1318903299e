"""The differentiation engine: forward and reverse accumulation over the expression graph.

Each function states only its local partials (``Function.partials`` in the registry); the chain
rule, the skipping of symbolic zeros and the summing of contributions live here, once.

* ``forward`` pushes tangents from the inputs to the output, building canonical (readable)
  expressions: this gives ``diff`` and Jacobian-vector products.
* ``reverse`` pulls adjoints from the outputs back to the inputs, building a *raw* graph that keeps
  every intermediate shared (``raw_add``/``raw_mul`` do not flatten).  The gradient of ``f``
  therefore costs a small constant times ``f`` itself, whatever the number of variables: this is
  what code generation compiles for ``grad``, ``jacobian``, ``hessian``, ``vjp`` and ``hvp``.

Both walk the graph in topological order without recursion and visit each shared node once.
"""

from __future__ import annotations

from fractions import Fraction
from itertools import repeat
from typing import Mapping, Sequence

from ..core.expr import (MINUS_ONE, ONE, ZERO, Add, Call, Expr, Mul, Num, Pow, Symbol, add,
                         add_scaled, mul, postorder, power, raw_add, raw_mul, sum_parts)
from ..functions.elementary import log


def local_factors(node: Expr, i: int) -> tuple[Expr, ...]:
    """The factors whose product is the local partial ``d node / d node.args[i]``.

    These are the local rules of sums, products and powers (functions take theirs from the
    registry); forward and reverse accumulation both use them, differing only in how they
    combine them with tangents or adjoints.
    """
    if isinstance(node, Add):  # d(a + b)/da = 1
        return ()
    if isinstance(node, Mul):  # d(a*b*c)/da = b*c
        return node.args[:i] + node.args[i + 1:]
    if isinstance(node, Pow):
        base, exponent = node.args
        if i == 0:  # d(b^g)/db = g*b^(g-1)
            lower = Num(exponent.value - 1) if type(exponent) is Num else add(exponent, MINUS_ONE)
            return exponent, power(base, lower)
        return node, log(base)  # d(b^g)/dg = b^g*log(b)
    if isinstance(node, Call):
        return (node.partials()[i],)
    raise TypeError(f"cannot differentiate {type(node).__name__}")  # leaves have no arguments


def forward(e: Expr, tangents: Mapping[Symbol, Expr], memo: dict | None = None) -> Expr:
    """Directional derivative of ``e``: the sum over symbols s of ``de/ds * tangents[s]``.

    With ``tangents = {x: 1}`` this is ``de/dx``.  Nodes that depend on none of the seeded symbols
    are skipped.  The result is built with the canonical constructors.  ``memo``, a dict kept
    between calls with equal ``tangents``, holds the tangents of the nodes already visited, so
    that expressions sharing subexpressions (the rows of a Hessian) differentiate each once.
    """
    seeded = frozenset(tangents)
    if not (e.free_symbols & seeded):
        return ZERO
    dot: dict[Expr, Expr] = {} if memo is None else memo

    def constant(n: Expr) -> bool:
        free = n._free  # the cached symbol set, read without the property's call when present
        return seeded.isdisjoint(n.free_symbols if free is None else free)

    def known(n: Expr) -> bool:
        return constant(n) or n in dot

    for node in postorder([e], done=constant if memo is None else known):
        dot[node] = _tangent(node, dot, tangents)
    return _materialized(dot[e])


# A tangent c*S, with S a canonical sum and c a number other than 0 and 1, is held as the pair
# (c, S) while it is only scaled or summed: the tangent of a squared residual r^2/2 is r*r' (r
# scaled twice), and a sum of them takes every scaled residual apart again, so distributing c
# over S once, where the sum is built (``add_scaled``), saves building each scaled sum.  The
# result is what ``mul(Num(c), S)`` and the sums of it give.
def _scaled_pair(c, total: Add):
    if c == 0:
        return ZERO
    if type(c) is Fraction and c.denominator == 1:  # 2*(1/2): int arithmetic from here on
        c = c.numerator
    return total if c == 1 else (c, total)


def _materialized(d) -> Expr:
    return mul(Num(d[0]), d[1]) if type(d) is tuple else d


def _times_local(d, factors: tuple[Expr, ...]):
    """``mul(d, *factors)``, or a pair (c, S) standing for it (see above)."""
    if type(d) is tuple:
        c, total = d
        if all(type(f) is Num for f in factors):
            for f in factors:
                c = c * f.value
            return _scaled_pair(c, total)
        return mul(_materialized(d), *factors)
    kind = type(d)
    if kind is Mul and d._raw and type(d.args[0]) is Num and len(d.args) == 2:
        # f'(u)*u' from a call, u' a number: mul flattens it as it does c*S
        c, rest = d.args[0].value, [d.args[1]]
    elif kind is Num or (kind is Add and not d._raw):
        c = d.value if kind is Num else 1
        rest = [] if kind is Num else [d]
    else:
        return mul(d, *factors)
    for f in factors:
        if type(f) is Num:
            c = c * f.value
        else:
            rest.append(f)
    if len(rest) == 1 and type(rest[0]) is Add and not rest[0]._raw:
        return _scaled_pair(c, rest[0])
    return mul(d, *factors)


def _tangent(node: Expr, dot: Mapping[Expr, Expr], tangents: Mapping[Symbol, Expr]):
    if isinstance(node, Symbol):
        return tangents[node]
    if isinstance(node, Call) and len(node.args) == 1:
        # raw: a chain f(g(h(x))) costs O(depth), not O(depth^2)
        return raw_mul(node.partials()[0], _materialized(dot.get(node.args[0], ZERO)))
    terms = []
    for i, arg in enumerate(node.args):
        d = dot.get(arg, ZERO)  # absent: does not depend on the seeds
        if d is not ZERO:
            terms.append(_times_local(d, local_factors(node, i)))
    return _combined(node, terms)


def partials(e: Expr, wrt: Sequence[Symbol], memo: dict | None = None) -> list[Expr]:
    """``[forward(e, {x: 1}) for x in wrt]``, the very same expressions, in one pass over ``e``.

    Each node holds its tangent in every variable of ``wrt`` it depends on, and a node's tangents
    are built from its arguments' in one visit: the work is the sum over the nodes of the number
    of those variables each depends on, where a pass per variable would also visit, for every
    variable, each argument of every node that depends on it (a sum of n terms visited n times).
    ``memo``, a dict kept between calls with the same ``wrt``, holds the tangents of the nodes
    already visited (the rows of a Hessian share subexpressions).
    """
    targets = frozenset(wrt)
    if not targets or targets.isdisjoint(e.free_symbols):
        return [ZERO for _ in wrt]

    def constant(n: Expr) -> bool:
        free = n._free
        return targets.isdisjoint(n.free_symbols if free is None else free)

    dots: dict[Expr, dict] = {} if memo is None else memo  # node -> {variable: tangent}

    def known(n: Expr) -> bool:
        return n in dots or constant(n)

    for node in postorder([e], done=constant if memo is None else known):
        if type(node) is Symbol:
            dots[node] = {node: ONE}
        elif type(node) is Call and len(node.args) == 1:
            local = node.partials()[0]
            dots[node] = {v: raw_mul(local, _materialized(d))
                          for v, d in dots[node.args[0]].items()}
        else:
            terms: dict[Symbol, list] = {}  # in the order of the arguments, as _tangent has them
            for i, arg in enumerate(node.args):
                inner = dots.get(arg)
                if not inner:
                    continue
                factors = None
                for v, d in inner.items():
                    if d is ZERO:
                        continue
                    if factors is None:
                        factors = local_factors(node, i)
                    found = terms.get(v)
                    if found is None:
                        terms[v] = found = []
                    found.append(_times_local(d, factors))
            dots[node] = {v: _combined(node, found) for v, found in terms.items()}
    top = dots[e]
    return [_materialized(top.get(x, ZERO)) for x in wrt]


def _combined(node: Expr, terms: list):
    """A node's tangent from the terms ``_times_local`` gave for its arguments."""
    if isinstance(node, Pow) and len(terms) == 2:
        # base and exponent both vary: the power factored out reads b^g*(g'*log(b) + g*b'/b)
        inverse = power(node, MINUS_ONE)
        return mul(node, add(*(mul(_materialized(t), inverse) for t in terms)))
    if len(terms) == 1 and type(terms[0]) is tuple:  # c*S: add would only give it back
        return terms[0]
    return add_scaled([t if type(t) is tuple else (1, t) for t in terms])


def _grown_args(node: Expr) -> tuple[Expr, ...]:
    """The arguments of ``node`` as it grew: ``(s, t)`` for a sum built as ``s + t``."""
    if type(node) is Add:
        parts = sum_parts(node)
        if parts is not None:
            return parts
    return node.args


def grown_size(e: Expr) -> tuple[int, int]:
    """``(nodes, operations)``: the nodes of ``e`` seen as it grew (a sum built as ``s + t`` has
    the arguments s and t, see ``expr.sum_parts``) and the operations of the same nodes as they
    are (such a sum has all the terms of s and t).  Where a formula grew by adding terms to
    sums that it keeps using, the second is far larger than the first."""
    nodes = operations = 0
    seen: set[int] = set()
    stack = [e]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        nodes += 1
        kind = type(node)
        if kind is Add or kind is Mul:
            operations += len(node.args) - 1
        elif kind is Pow or kind is Call:
            operations += 1
        stack.extend(_grown_args(node))
    return nodes, operations


def forward_graph(e: Expr, var: Symbol) -> Expr:
    """``de/dvar`` as a raw, shared graph (as ``reverse`` builds), following how the sums of ``e``
    grew (``_grown_args``): a sum built as ``s + t`` has the derivative ``s' + t'``, one node,
    whatever the number of its terms.  So ``e = e^2 + e`` repeated K times, whose sums have up
    to K terms, differentiates in O(K) nodes where its canonical derivative has O(K^2)."""
    def constant(n: Expr) -> bool:
        free = n._free
        return var not in (n.free_symbols if free is None else free)

    if constant(e):
        return ZERO
    dot: dict[Expr, Expr] = {}
    seen: set[int] = set()
    stack = [(e, iter(_grown_args(e)))]
    seen.add(id(e))
    while stack:  # postorder over the grown arguments, without recursion
        node, children = stack[-1]
        for child in children:
            if id(child) not in seen and not constant(child):
                seen.add(id(child))
                stack.append((child, iter(_grown_args(child))))
                break
        else:
            stack.pop()
            dot[node] = _raw_tangent(node, dot, var)
    return dot[e]


def _raw_tangent(node: Expr, dot: Mapping[Expr, Expr], var: Symbol) -> Expr:
    if type(node) is Symbol:
        return ONE if node is var else ZERO
    args = _grown_args(node)
    total = ZERO
    if type(node) is Add:
        for arg in args:
            total = raw_add(total, dot.get(arg, ZERO))
        return total
    for i, arg in enumerate(args):
        d = dot.get(arg, ZERO)
        if d is ZERO:
            continue
        for factor in local_factors(node, i):
            d = raw_mul(d, factor)
        total = raw_add(total, d)
    return total


def reverse(outputs: Sequence[Expr], seeds: Sequence[Expr], wrt: Sequence[Symbol]) -> list[Expr]:
    """Adjoints of ``wrt`` for the scalar ``sum_k seeds[k] * outputs[k]`` (a vector-Jacobian product).

    Returns raw, fully shared expressions (see module docstring); ``simplify`` turns each into
    its canonical form.
    """
    targets = frozenset(wrt)

    def relevant(n: Expr) -> bool:
        free = n._free  # the cached symbol set, read without the property's call when present
        return not targets.isdisjoint(n.free_symbols if free is None else free)

    order = list(postorder([o for o in outputs if relevant(o)], done=lambda n: not relevant(n)))
    ids = {id(n) for n in order}  # the relevant nodes: a look-up instead of a set intersection

    def is_relevant(n: Expr) -> bool:
        return id(n) in ids

    adjoint: dict[Expr, Expr] = {}

    def push(node: Expr, contribution: Expr) -> None:
        if contribution is ZERO:
            return
        previous = adjoint.get(node)
        adjoint[node] = contribution if previous is None else raw_add(previous, contribution)

    for out, seed in zip(outputs, seeds):
        if id(out) in ids:
            push(out, seed)
    for node in reversed(order):
        bar = adjoint.get(node)
        if bar is None or bar is ZERO or isinstance(node, Symbol):
            continue
        if isinstance(node, Mul):  # the same local rule, with shared prefix and suffix products
            _push_product(node.args, bar, push, is_relevant)
            continue
        for i, arg in enumerate(node.args):
            if id(arg) in ids:  # raw products: n*(a + b) stays one shared node, not n*a + n*b
                local = ONE
                for factor in local_factors(node, i):
                    local = raw_mul(local, factor)
                push(arg, raw_mul(bar, local))
    return list(map(adjoint.get, wrt, repeat(ZERO)))


def _push_product(factors: Sequence[Expr], bar: Expr, push, relevant) -> None:
    """Adjoints of the factors of a product: bar times the product of all the other factors.

    The products of the others are built from shared prefix and suffix products, so a product of
    n factors costs O(n) nodes rather than O(n^2).
    """
    n = len(factors)
    if n == 2:
        a, b = factors
        if relevant(a):
            push(a, raw_mul(bar, b))
        if relevant(b):
            push(b, raw_mul(bar, a))
        return
    prefix = [ONE] * n  # prefix[i] = factors[0] * ... * factors[i-1]
    for i in range(1, n):
        prefix[i] = raw_mul(prefix[i - 1], factors[i - 1])
    suffix = ONE  # running factors[i+1] * ... * factors[n-1]
    for i in range(n - 1, -1, -1):
        if relevant(factors[i]):
            push(factors[i], raw_mul(bar, raw_mul(prefix[i], suffix)))
        suffix = raw_mul(factors[i], suffix)

