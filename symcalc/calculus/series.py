"""Univariate Taylor-mode arithmetic: truncated power series pushed through the expression graph.

For an input ``x + t``, every node ``y`` of the graph gets the coefficients ``y_0 .. y_n`` of its
expansion in ``t``; the n-th derivative of ``y`` in ``x`` is ``n! * y_n``.  Each coefficient is
computed from the coefficients of the node's arguments, one order at a time:

* sums add coefficients, products convolve them (a product of several factors is a chain of
  binary ones), integer powers multiply, ``1/b^m`` and ``b^a`` follow ``b y' = a y b'``, and a
  power with a varying exponent is ``exp(e*log(b))``;
* a registry function follows the recurrence of its entry (``Function.series``, for instance
  ``y' = cos(u) u'`` for ``sin``, which propagates the series of ``cos(u)`` alongside), and every
  other function, abstract functions included, the generic rule
  ``y_k = 1/k sum_i sum_(j=1..k) j (u_i)_j (df/du_i)_(k-j)``, where the series of the partials
  are propagated the same way, each to one order less (so ``f_1_1`` is needed only to order n-2).

Two modes share the recurrences:

* the graph mode (``point=None``) keeps ``y_0 = y`` and builds every higher coefficient with
  ``raw_add``/``raw_mul``, so the coefficients are one shared graph: the n-th derivative of a
  formula of size s costs O(n^2 s) operations, however much its readable form swells
  (``derivative_graph``);
* the point mode substitutes a value for ``x`` and builds coefficients canonically, so that at a
  rational point they are exact numbers, and ``sin(1)`` stays symbolic (``coefficients``).

No traversal recurses: the nodes are ordered once, then visited order by order.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Callable, Iterable, Optional, Sequence

from ..core.expr import (MINUS_ONE, ONE, ZERO, Add, Call, Expr, Mul, Num, Pow, Symbol, add, mul,
                         power, raw_add, raw_mul, with_args)
from .closed_form import polynomial_degree
from ..errors import DomainError
from ..functions.elementary import log

__all__ = ["Propagation", "coefficients", "derivative_graph"]

Step = Callable[[int], Expr]


class Propagation:
    """The Taylor coefficients of ``roots`` (up to ``order``) for ``variable`` moved to ``point + t``.

    ``point=None`` is the graph mode (coefficients of ``x + t``, raw and shared), anything else
    the point mode (canonical coefficients at ``x = point``).  ``c(e, k)`` is the k-th coefficient
    of a node; the helpers ``add``, ``mul``, ``scale``, ``total``, ``inv``, ``chain`` and
    ``derivative_coefficient`` are what registry recurrences (``SeriesRule.step``) build with.
    """

    def __init__(self, roots: Sequence[Expr], variable: Symbol, order: int,
                 point: Optional[Expr] = None):
        self.x, self.order, self.point = variable, order, point
        self.raw = point is None
        self._coeffs: dict[Expr, list[Expr]] = {}
        self._derivs: dict[tuple[Expr, int], Expr] = {}
        self._inverses: dict[Expr, Expr] = {}
        self._plans: dict[Expr, tuple[tuple[Expr, ...], tuple[Expr, ...], Step]] = {}
        self._kids: dict[Expr, list[Expr]] = {}  # the varying arguments and same-order auxiliaries
        nodes, need = self._schedule(list(roots))
        for k in range(order + 1):
            for node in nodes:
                if need[node] >= k:
                    coeffs = self._coeffs.setdefault(node, [])
                    coeffs.append(self._value(node) if k == 0 else self._plan(node)[2](k))

    # --- the arithmetic ------------------------------------------------------------------------
    def add(self, a: Expr, b: Expr) -> Expr:
        return raw_add(a, b) if self.raw else add(a, b)

    def mul(self, a: Expr, b: Expr) -> Expr:
        if not self.raw:
            return mul(a, b)
        if isinstance(a, Num) or isinstance(b, Num):
            return self.scale(a.value, b) if isinstance(a, Num) else self.scale(b.value, a)
        return raw_mul(a, b)

    def scale(self, q: Fraction | int, a: Expr) -> Expr:
        """``q * a``; in the graph mode ``q * (p * b)`` is folded to ``(q*p) * b``."""
        if self.raw and isinstance(a, Mul) and len(a.args) == 2 and isinstance(a.args[0], Num):
            q, a = q * a.args[0].value, a.args[1]
        if q == 1:
            return a
        return raw_mul(Num(q), a) if self.raw else mul(Num(q), a)

    def total(self, terms: Iterable[Expr]) -> Expr:
        result = ZERO
        for t in terms:
            result = self.add(result, t)
        return result

    def inv(self, e: Expr) -> Expr:
        """``1 / e_0``, built once."""
        if e not in self._inverses:
            self._inverses[e] = power(self.c(e, 0), MINUS_ONE)
        return self._inverses[e]

    def c(self, e: Expr, k: int) -> Expr:
        """The k-th Taylor coefficient of ``e``."""
        coeffs = self._coeffs.get(e)
        if coeffs is not None:
            return coeffs[k]
        if self.x not in e.free_symbols:
            return e if k == 0 else ZERO
        raise KeyError(f"no series was propagated for {e}")  # a scheduling error, never input

    def derivative_coefficient(self, e: Expr, j: int) -> Expr:
        """``j * e_j``: the (j-1)-th coefficient of the derivative in t, built once."""
        key = (e, j)
        if key not in self._derivs:
            self._derivs[key] = self.scale(j, self.c(e, j))
        return self._derivs[key]

    def chain(self, u: Expr, g: Expr, k: int, sign: int = 1) -> Expr:
        """y_k for ``y' = sign * g * u'``: ``sign/k * sum_(j=1..k) j u_j g_(k-j)``."""
        total, mul, du, c = ZERO, self.mul, self.derivative_coefficient, self.c
        for j in range(1, k + 1):  # what self.total of the terms gives, without a generator
            total = self.add(total, mul(du(u, j), c(g, k - j)))
        return self.scale(_fraction(sign, k), total)

    def convolution(self, a: Expr, b: Expr, k: int) -> Expr:
        """The k-th coefficient of ``a*b``; a square uses its symmetry."""
        if a is b:
            half = self.total(self.mul(self.c(a, j), self.c(a, k - j)) for j in range((k + 1) // 2))
            middle = self.mul(self.c(a, k // 2), self.c(a, k // 2)) if k % 2 == 0 else ZERO
            return self.add(self.scale(2, half), middle)
        return self.total(self.mul(self.c(a, j), self.c(b, k - j)) for j in range(k + 1))

    # --- scheduling ----------------------------------------------------------------------------
    def _varies(self, e: Expr) -> bool:
        return self.x in e.free_symbols

    def _schedule(self, roots: list[Expr]) -> tuple[list[Expr], dict[Expr, int]]:
        """The nodes in an order where what a coefficient reads at the same order comes first,
        and the highest order each node is needed to.  Auxiliary series read one order lower
        (``cos(u)`` for ``sin(u)``) are added as roots, needed to one order less, until none is new."""
        extra: dict[Expr, int] = {}
        while True:
            starts = [(r, self.order) for r in roots if self._varies(r)]
            starts += [(g, level) for g, level in extra.items()]
            nodes = self._topological([s for s, _ in starts])
            need = dict.fromkeys(nodes, -1)
            for s, level in starts:
                need[s] = max(need[s], level)
            for node in reversed(nodes):
                for child in self._children(node):
                    need[child] = max(need[child], need[node])
            grown = False
            for node in nodes:
                for g in self._plan(node)[1]:
                    if self._varies(g) and need[node] - 1 > extra.get(g, -1):
                        extra[g] = need[node] - 1
                        grown = True
            if not grown:
                return nodes, need

    def _children(self, node: Expr) -> list[Expr]:
        children = self._kids.get(node)
        if children is None:
            same = self._plan(node)[0]
            children = self._kids[node] = [a for a in node.args + same if self._varies(a)]
        return children

    def _topological(self, starts: list[Expr]) -> list[Expr]:
        order: list[Expr] = []
        seen: set[Expr] = set()
        stack: list[tuple[Expr, bool]] = [(s, False) for s in reversed(starts)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if node in seen:
                continue
            seen.add(node)
            stack.append((node, True))
            stack.extend((c, False) for c in reversed(self._children(node)) if c not in seen)
        return order

    # --- the rules -----------------------------------------------------------------------------
    def _value(self, node: Expr) -> Expr:
        """The coefficient of order 0: the node itself, or its value at the point."""
        if self.raw:
            return node
        if node is self.x:
            return self.point
        values = tuple(self.c(a, 0) for a in node.args)
        if self.order and isinstance(node, Call) and node.fn.kink is not None and node.fn.kink(
                values, tuple(self._varies(a) for a in node.args)):
            raise DomainError(f"{node} is not differentiable at {self.x} = {self.point}: "
                              f"{node.fn.name} has a kink or a jump there")
        return with_args(node, values)

    def _plan(self, node: Expr) -> tuple[tuple[Expr, ...], tuple[Expr, ...], Step]:
        """(same-order auxiliaries, lower-order auxiliaries, the step k -> node_k) for a node."""
        plan = self._plans.get(node)
        if plan is None:
            plan = self._plans[node] = self._make_plan(node)
        return plan

    def _make_plan(self, node: Expr):
        c = self.c
        if isinstance(node, Symbol):
            return (), (), lambda k: ONE if k == 1 else ZERO
        varying = [a for a in node.args if self._varies(a)]
        if isinstance(node, Add):
            return (), (), lambda k: self.total(c(a, k) for a in varying)
        if isinstance(node, Mul):
            return self._product_plan(node, varying)
        if isinstance(node, Pow):
            return self._power_plan(node)
        if isinstance(node, Call):
            rule = node.fn.series
            if rule is not None and len(node.args) == 1:
                used = rule.uses(node, *node.args)
                return (), used, lambda k: rule.step(self, k, node, used)
            partials = node.partials()
            pairs = [(u, g) for u, g in zip(node.args, partials) if self._varies(u) and g is not ZERO]
            return (), tuple(g for _, g in pairs), lambda k: self.total(
                self.chain(u, g, k) for u, g in pairs)
        raise TypeError(f"no Taylor series for {type(node).__name__}")

    def _product_plan(self, node: Expr, varying: list[Expr]):
        constant = mul(*(a for a in node.args if not self._varies(a)))
        if len(varying) == 1:
            only = varying[0]
            return (), (), lambda k: self.mul(self.c(constant, 0), self.c(only, k))
        head = varying[0] if len(varying) == 2 else mul(*varying[:-1])
        last = varying[-1]
        return (head,), (), lambda k: self.mul(self.c(constant, 0), self.convolution(head, last, k))

    def _power_plan(self, node: Pow):
        base, exponent = node.args
        if self._varies(exponent):  # b^e = exp(e*log(b)): y' = y (e log b)'
            z = mul(exponent, log(base))
            return (z,), (), lambda k: self.chain(z, node, k)
        a = exponent.value if isinstance(exponent, Num) else None
        if isinstance(a, int) and a >= 2:  # products: no division, so exact where b_0 = 0
            if a == 2:
                return (), (), lambda k: self.convolution(base, base, k)
            half = power(base, Num(a // 2)) if a % 2 == 0 else power(base, Num(a - 1))
            other = half if a % 2 == 0 else base
            return (half,), (), lambda k: self.convolution(half, other, k)
        if isinstance(a, int) and a < 0:  # y = 1/h with h = b^-a: y_k = -y_0 sum_j h_j y_(k-j)
            h = power(base, Num(-a))
            return (h,), (), lambda k: self.mul(self.scale(-1, self.c(node, 0)), self.total(
                self.mul(self.c(h, j), self.c(node, k - j)) for j in range(1, k + 1)))
        # b y' = a y b': k b_0 y_k = sum_(j=1..k) ((a + 1) j - k) b_j y_(k-j)
        def step(k: int) -> Expr:
            terms = (self.mul(self._weight(exponent, j, k), self.mul(self.c(base, j),
                                                                     self.c(node, k - j)))
                     for j in range(1, k + 1))
            return self.mul(self.inv(base), self.scale(Fraction(1, k), self.total(terms)))
        return (), (), step

    def _weight(self, a: Expr, j: int, k: int) -> Expr:
        if isinstance(a, Num):
            return Num((a.value + 1) * j - k)
        return add(mul(add(a, ONE), Num(j)), Num(-k))

    # --- results -------------------------------------------------------------------------------
    def coefficients(self, e: Expr) -> list[Expr]:
        """``[e_0, ..., e_order]`` (shorter lists are padded: constants have only ``e_0``)."""
        return [self.c(e, k) for k in range(self.order + 1)]


_fractions: dict[tuple[int, int], Fraction] = {}


def _fraction(numerator: int, denominator: int) -> Fraction:
    """``Fraction(numerator, denominator)``, made once."""
    value = _fractions.get((numerator, denominator))
    if value is None:
        value = _fractions[(numerator, denominator)] = Fraction(numerator, denominator)
    return value


def derivative_graph(e: Expr, variable: Symbol, order: int) -> Expr:
    """The ``order``-th derivative of ``e`` in ``variable`` as one raw, shared graph: ``order! *
    e_order`` of the graph-mode propagation.  Its size grows polynomially in ``order``."""
    if order == 0:
        return e
    degree = polynomial_degree(e, variable)  # 0 for constants
    if degree is not None and order > degree:
        return ZERO
    p = Propagation([e], variable, order)
    return p.scale(math.factorial(order), p.c(e, order))


def coefficients(e: Expr, variable: Symbol, point: Expr, order: int) -> list[Expr]:
    """The Taylor coefficients ``[e_0, ..., e_order]`` of ``e`` around ``variable = point``,
    built canonically (exact numbers at a rational point; other symbols stay parameters)."""
    if variable not in e.free_symbols:
        return [e] + [ZERO] * order
    return Propagation([e], variable, order, point).coefficients(e)
