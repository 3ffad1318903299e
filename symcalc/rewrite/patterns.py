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

from ..core.expr import (ONE, ZERO, Add, Call, Constant, Expr, Mul, Num, Pow, add, mul, power,
                         split_coefficient)
from ..core.nodes import memoised
from ..functions.elementary import Function, abs_, cosh, exp, log, sigmoid, sinh, tanh

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
    """``exp(u) + 1 -> u``, also where the exp is written as a reciprocal of positive factors:
    ``1/g + 1 -> -log(g)``, ``c*g^-k*exp(v) + 1 -> log(c) - k*log(g) + v`` (c > 0, k > 0, g known
    positive, so that exp(log(g)) = g: ``exp(-log(cosh(u)))`` is simplified to ``1/cosh(u)``, and
    the logistic forms around it stay in sight); otherwise None."""
    if isinstance(total, Add) and len(total.args) == 2:
        a, b = total.args
        term = a if b is ONE else b if a is ONE else None
        if term is not None:
            return term.args[0] if is_call(term, exp) else _exponent_of_reciprocal(term)
    return None


def _exponent_of_reciprocal(term: Expr) -> Optional[Expr]:
    """u with ``term = exp(u)`` for a product of a positive number, exps and negative powers of
    positive factors, at least one of these: ``2/cosh(x) -> log(2) - log(cosh(x))``."""
    parts: list[Expr] = []
    reciprocal = False
    for f in factors(term):
        base, k = base_exponent(f)
        if isinstance(f, Num) and f.value > 0:  # log(1/2) is written -log(2)
            parts.append(log(f) if f.value >= 1 else mul(Num(-1), log(Num(1 / Fraction(f.value)))))
        elif is_call(f, exp):
            parts.append(f.args[0])
        elif isinstance(k, Num) and k.value < 0 and is_positive(base):
            parts.append(mul(k, log(base)))
            reciprocal = True
        else:
            return None
    return add(*parts) if reciprocal else None


def is_positive(e: Expr) -> bool:
    """``e > 0`` wherever it is defined, for real values of its symbols: a positive number, pi or
    e, a call of a function with the registry field ``positive``, a power of one of these, and
    sums and products of these (a sum may have terms that are only known not negative).  Looks
    at most ``_SIGN_DEPTH`` levels deep; beyond, nothing is known."""
    return _sign_known(e, _SIGN_DEPTH)[0]


_SIGN_DEPTH = 32


def _sign_known(e: Expr, depth: int) -> tuple[bool, bool]:
    """(``e > 0``, ``e >= 0``) wherever ``e`` is defined, as far as the form shows."""
    if isinstance(e, Num):
        return e.value > 0, e.value >= 0
    if isinstance(e, Constant):
        return e.value > 0, e.value >= 0
    if isinstance(e, Call):
        positive = e.fn.positive
        return positive, positive or e.fn is abs_
    if depth == 0 or not isinstance(e, (Add, Mul, Pow)):
        return False, False
    return memoised(e, "sign_known", lambda n: _compound_sign(n, depth - 1))


def _compound_sign(e: Expr, depth: int) -> tuple[bool, bool]:
    if isinstance(e, Pow):
        positive, not_negative = _sign_known(e.base, depth)
        if not positive and isinstance(e.exponent, Num):  # x^2, x^(1/2): not negative
            k = Fraction(e.exponent.value)
            not_negative = not_negative or k.numerator % 2 == 0 or k.denominator % 2 == 0
        return positive, not_negative
    signs = [_sign_known(a, depth) for a in e.args]
    if isinstance(e, Mul):
        return all(p for p, _ in signs), all(n for _, n in signs)
    return all(n for _, n in signs) and any(p for p, _ in signs), all(n for _, n in signs)


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
            scale, u = _scaled_one_plus_exp(base)
            if u is not None and add(u, w) is ZERO:
                joined = m - Fraction(k.value)
            elif _one_minus_sigmoid_of(base) is mul(Num(-1), w):
                joined, scale = m + Fraction(k.value), ONE
            else:
                continue
            rest = [h for h in product if h is not f and h is not g]
            return mul(*rest, power(scale, k), power(sigmoid(w), Num(joined)))
    return None


def _scaled_one_plus_exp(total: Expr) -> tuple[Expr, Optional[Expr]]:
    """``c*(exp(u) + 1) -> (c, u)`` for a number c > 0 (``2 + 1/cosh(x)`` is 2*(1 + 1/(2*cosh(x))),
    as a sum takes its content out); otherwise (1, None)."""
    u = one_plus_exp(total)
    if u is not None or not (isinstance(total, Add) and len(total.args) == 2):
        return ONE, u
    c = next((t for t in total.args if isinstance(t, Num) and t.value > 0), None)
    if c is None:
        return ONE, None
    u = one_plus_exp(add(ONE, mul(Num(1 / Fraction(c.value)), *(t for t in total.args if t is not c))))
    return (c, u) if u is not None else (ONE, None)


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
