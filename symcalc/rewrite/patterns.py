"""Matchers shared by the rewrite rules of simplification and of numerical stability.

A rule is a function ``node -> Expr | None`` (None: the rule does not apply).  Rules sit in
ordered tables keyed by node type (``Add``, ``Mul``, ``Pow``, ``Call``); ``first_rewrite`` tries
the rows for a node's type in order.  The matchers below read the canonical forms that
``symcalc.core.expr`` builds: a term is a product of factors, a factor is a base to an exponent.
"""

from __future__ import annotations

from fractions import Fraction
from math import gcd
from typing import Callable, Mapping, Optional, Sequence

from ..core.expr import (ONE, ZERO, Add, Call, Expr, Mul, Num, Pow, add, mul, power,
                         split_coefficient)
from ..core.nodes import memoised
from ..functions.elementary import Function, cosh, exp, sigmoid, sinh, tanh

Rule = Callable[[Expr], Optional[Expr]]
RuleTable = Mapping[type, Sequence[Rule]]


def first_rewrite(rules: RuleTable, node: Expr) -> Optional[Expr]:
    """The result of the first rule for ``node``'s type that changes it, or None."""
    for rule in rules.get(type(node), ()):
        result = rule(node)
        if result is not None and result is not node:
            return result
    return None


def factors(term: Expr) -> tuple[Expr, ...]:
    """The factors of a term: ``2*x*y -> (2, x, y)``, ``x -> (x,)``."""
    return term.args if isinstance(term, Mul) else (term,)


def base_exponent(factor: Expr) -> tuple[Expr, Expr]:
    """``b^e -> (b, e)``; any other factor ``f -> (f, 1)``."""
    return (factor.base, factor.exponent) if isinstance(factor, Pow) else (factor, ONE)


def is_call(node: Expr, fn: Function) -> bool:
    """``node`` is ``fn(u)`` with one argument."""
    return isinstance(node, Call) and node.fn is fn and len(node.args) == 1


def call_power(factor: Expr, fn: Function) -> Optional[tuple[Expr, Fraction]]:
    """``fn(u) -> (u, 1)``, ``fn(u)^k -> (u, k)`` for a number k; otherwise None."""
    base, exponent = base_exponent(factor)
    if is_call(base, fn) and isinstance(exponent, Num):
        return base.args[0], Fraction(exponent.value)
    return None


def scaled_call(term: Expr, fn: Function) -> Optional[tuple[Fraction, Expr]]:
    """``c*fn(u) -> (c, u)`` (c a number, 1 when absent); otherwise None."""
    if is_call(term, fn):
        return Fraction(1), term.args[0]
    if (isinstance(term, Mul) and len(term.args) == 2 and isinstance(term.args[0], Num)
            and is_call(term.args[1], fn)):
        return Fraction(term.args[0].value), term.args[1].args[0]
    return None


def one_plus_exp(total: Expr) -> Optional[Expr]:
    """``exp(u) + 1 -> u``; otherwise None."""
    if isinstance(total, Add) and len(total.args) == 2:
        a, b = total.args
        if b is ONE and is_call(a, exp):
            return a.args[0]
        if a is ONE and is_call(b, exp):
            return b.args[0]
    return None


def merged_exps(product: Expr) -> Optional[Expr]:
    """``exp(a) * exp(b)^k -> exp(a + k*b)`` for the exp factors of a product; None when it has
    fewer than two of them (and no power of one)."""
    if not isinstance(product, Mul):
        return None
    found = [(f, call_power(f, exp)) for f in product.args]
    exps = [e for _, e in found if e is not None]
    if len(exps) < 2 and all(k == 1 for _, k in exps):
        return None
    rest = [f for f, e in found if e is None]
    return mul(*rest, exp(add(*(mul(Num(k), u) for u, k in exps))))


def tanh_quotient(product: Sequence[Expr]) -> Optional[Expr]:
    """The product of the factors ``product`` with ``sinh(u)^a/cosh(u)^b`` written as
    ``tanh(u)^m*sinh(u)^(a - m)/cosh(u)^(b - m)``, m = min(a, b); None when no sinh(u) meets a
    cosh(u) in the denominator.  As cosh(u) > 0 this holds wherever the product is defined, but
    for a whole a (defined for sinh(u) < 0) only with a whole m: sinh(x)/sqrt(cosh(x)) is not
    sqrt(tanh(x))*sqrt(sinh(x)), which is undefined for x < 0."""
    powers = [(f, call_power(f, sinh), call_power(f, cosh)) for f in product]
    for f, s, _ in powers:
        if s is None or s[1] <= 0:
            continue
        for g, _, c in powers:
            if c is not None and c[1] < 0 and c[0] is s[0]:
                m = min(s[1], -c[1])
                if s[1].denominator == 1 and m.denominator != 1:
                    m = m // 1  # the whole part
                    if m == 0:
                        continue
                rest = [h for h in product if h is not f and h is not g]
                return mul(*rest, power(tanh(s[0]), Num(m)), power(sinh(s[0]), Num(s[1] - m)),
                           power(cosh(s[0]), Num(c[1] + m)))
    return None


def sigmoid_partners(product: Sequence[Expr]) -> Optional[Expr]:
    """The product of the factors ``product`` with ``sigmoid(w)^m`` and a power of one of its
    other forms joined into one power of sigmoid(w): ``exp(-w) + 1`` is ``1/sigmoid(w)`` and
    ``1 - sigmoid(-w)`` is ``sigmoid(w)`` (both hold for every real w); None when none meet."""
    for f in product:
        found = call_power(f, sigmoid)
        if found is None:
            continue
        w, m = found
        for g in product:
            base, k = base_exponent(g)
            if g is f or not isinstance(k, Num):
                continue
            u = one_plus_exp(base)
            if u is not None and add(u, w) is ZERO:
                joined = m - Fraction(k.value)
            elif _one_minus_sigmoid_of(base) is mul(Num(-1), w):
                joined = m + Fraction(k.value)
            else:
                continue
            rest = [h for h in product if h is not f and h is not g]
            return mul(*rest, power(sigmoid(w), Num(joined)))
    return None


def _one_minus_sigmoid_of(total: Expr) -> Optional[Expr]:
    """``1 - sigmoid(v) -> v``; otherwise None."""
    if isinstance(total, Add) and len(total.args) == 2 and ONE in total.args:
        found = scaled_call(total.args[1] if total.args[0] is ONE else total.args[0], sigmoid)
        if found is not None and found[0] == -1:
            return found[1]
    return None


def multiple_of(w: Expr, u: Expr) -> Optional[Fraction]:
    """k when ``w = k*u`` for a number k (``2*a - 2*b`` is 2 times ``a - b``); otherwise None."""
    lead_w = w.args[0] if isinstance(w, Add) else w
    lead_u = u.args[0] if isinstance(u, Add) else u
    (cw, rest_w), (cu, rest_u) = split_coefficient(lead_w), split_coefficient(lead_u)
    if rest_w is not rest_u or cu == 0:
        return None
    k = Fraction(cw) / Fraction(cu)
    return k if add(w, mul(Num(-k), u)) is ZERO else None


def rational_content(total: Add) -> Fraction:
    """The largest positive rational that divides every coefficient of the sum exactly."""
    if len(total.args) > 4:
        return memoised(total, "content", _content)
    return _content(total)


def _content(total: Add) -> Fraction:
    numerators, denominators = 0, 1
    for t in total.args:
        c = split_coefficient(t)[0]  # an int or a Fraction: both have numerator and denominator
        numerators = gcd(numerators, c.numerator)
        denominators = denominators * c.denominator // gcd(denominators, c.denominator)
    return Fraction(numerators, denominators)
