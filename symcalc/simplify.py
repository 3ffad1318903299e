"""Simplification: the canonical form plus a few identities, applied bottom-up once per node.

The constructors in ``symcalc.expr`` already give the canonical form (flattened, sorted, numbers
folded, like terms and equal bases collected).  ``simplify`` rebuilds a graph through them, which
also turns the raw graphs of reverse accumulation into readable formulas, and adds the rules
below.  Each rule keeps the value wherever the input is defined.  The result is cached on the
node, so a node shared by a whole gradient or Hessian is simplified once.

A rule is ``node -> Expr | None`` (None: it does not apply); ``SIMPLIFY_RULES`` holds them in
ordered tables keyed by node type, with the matchers of ``symcalc.patterns``.
"""

from __future__ import annotations

from fractions import Fraction
from math import gcd

from .expr import (MINUS_ONE, Add, Call, Expr, Mul, Num, Pow, Rational, Symbol, add, count_ops, mul,
                   postorder, power, split_coefficient, store, with_args)
from .patterns import base_exponent, factors, first_rewrite


def simplify(e: Expr) -> Expr:
    """The simplest equivalent form symcalc knows of ``e``; idempotent."""
    nodes = list(postorder([e], done=lambda n: n._simple is not None))
    inner = _inner_raw_products(nodes, e)
    for node in nodes:
        if node in inner:
            continue
        candidate = node
        if node._raw and isinstance(node, Mul):
            candidate = mul(*_raw_product_factors(node, inner))
        elif node.args:
            args = tuple(a._simple for a in node.args)
            if node._raw or any(new is not old for new, old in zip(args, node.args)):
                candidate = with_args(node, args)
        better = first_rewrite(SIMPLIFY_RULES, candidate)
        if better is not None:  # a rule fired: its result may simplify further
            candidate = simplify(better)
        store(node, "_simple", candidate)
        store(candidate, "_simple", candidate)
    result = e._simple
    tidy = _absorb_sign(result)
    if tidy is None or tidy is result:
        return result
    store(e, "_simple", tidy)
    store(tidy, "_simple", tidy)
    return tidy


def _inner_raw_products(nodes: list[Expr], root: Expr) -> set[Expr]:
    """Raw products used only as factors of other raw products: each chain of them becomes one
    canonical product at its top, so a chain of n factors costs O(n), not O(n^2)."""
    if not any(n._raw for n in nodes):
        return set()
    outside: set[Expr] = {root}  # nodes with a parent that is not a raw product
    for n in nodes:
        raw_product = n._raw and isinstance(n, Mul)
        for a in n.args:
            if not raw_product:
                outside.add(a)
    return {n for n in nodes if n._raw and isinstance(n, Mul) and n not in outside}


def _raw_product_factors(top: Mul, inner: set[Expr]) -> list[Expr]:
    """The simplified factors of a chain of raw products, gathered without recursion."""
    gathered: list[Expr] = []
    stack = [top]
    while stack:
        node = stack.pop()
        for a in node.args:
            if a in inner:
                stack.append(a)
            else:
                gathered.append(a._simple)
    return gathered


def _tidy_product(node: Mul) -> Expr | None:
    # (2*mu - 2*x)/(2*s^2) -> (mu - x)/s^2: the numeric content of a sum joins the coefficient
    coeff, rest = split_coefficient(node)
    parts = list(factors(rest))
    changed = False
    for k, f in enumerate(parts):
        if isinstance(f, Add):
            content = _content(f)
            if content != 1:
                parts[k] = mul(Num(1 / content), f)
                coeff *= content
                changed = True
    return mul(Num(coeff), *parts) if changed else None


def _absorb_sign(node: Expr) -> Expr | None:
    # -(mu - x)/s^2 -> (x - mu)/s^2: a sum with terms of both signs takes the minus sign.  Only at
    # the top: inside a sum the sign of a term is written as " - " anyway, and keeping it out of
    # the factors lets equal factors of different terms meet.
    if not isinstance(node, Mul) or not isinstance(node.args[0], Num) or node.args[0].value > 0:
        return None
    parts = list(node.args[1:])
    for k, f in enumerate(parts):
        signs = {split_coefficient(t)[0] > 0 for t in f.args} if isinstance(f, Add) else set()
        if len(signs) == 2:
            parts[k] = mul(MINUS_ONE, f)
            return mul(Num(-node.args[0].value), *parts)
    return None


def _content(total: Add) -> Fraction:
    """The largest positive rational that divides every coefficient of the sum exactly."""
    numerators, denominators = 0, 1
    for t in total.args:
        c = Fraction(split_coefficient(t)[0])
        numerators = gcd(numerators, c.numerator)
        denominators = denominators * c.denominator // gcd(denominators, c.denominator)
    return Fraction(numerators, denominators)


def _negative_base(node: Pow) -> Expr | None:
    # (-x^2 - 1)^n -> (-1)^n*(x^2 + 1)^n for integer n: write sums that lead with a plus sign
    base, exp = node.base, node.exponent
    if (isinstance(base, Add) and isinstance(exp, Num) and exp.is_integer
            and all(split_coefficient(t)[0] < 0 for t in base.args)):
        return mul(Num(-1 if exp.value % 2 else 1), power(add(*(mul(MINUS_ONE, t) for t in base.args)), exp))
    return None


def _inverse_call(node: Call) -> Expr | None:
    # log(exp(x)) -> x, exp(log(x)) -> x, sin(asin(x)) -> x, ...  (registry field `undoes`)
    if len(node.args) == 1:
        inner = node.args[0]
        if isinstance(inner, Call) and len(inner.args) == 1 and inner.fn.name == node.fn.undoes:
            return inner.args[0]
    return None


def _pythagoras(node: Add) -> Expr | None:
    # c*R*sin(u)^k + c*R*cos(u)^2*sin(u)^(k-2) -> c*R*sin(u)^(k-2)   (k >= 2, likewise for cos;
    # the pairs f(u)^2 + g(u)^2 = 1 are the registry field `pythagorean`)
    squares: list[tuple[Expr, int, Pow, Call]] = []  # (term, index of factor, its power, the call)
    seen: dict[Expr, set[str]] = {}
    for term in node.args:
        for k, f in enumerate(factors(term)):
            base, exp = base_exponent(f)
            if (isinstance(f, Pow) and isinstance(exp, Num) and exp.is_integer and exp.value >= 2
                    and isinstance(base, Call) and base.fn.pythagorean is not None):
                squares.append((term, k, f, base))
                seen.setdefault(base.args[0], set()).add(base.fn.name)
    candidates = [sq for sq in squares if sq[3].fn.pythagorean in seen[sq[3].args[0]]]
    if not candidates:  # the usual case: no argument has both squares of a pair
        return None
    # Pair terms by a sum of hashes of their (base, exponent) factors with the square divided out:
    # O(1) per candidate.  A pair is confirmed by comparing the factors themselves.
    term_hash: dict[Expr, int] = {}
    for term, _, _, _ in candidates:
        if term not in term_hash:
            term_hash[term] = sum(hash(p) for p in _powers(term).items())
    found: dict[tuple, dict[str, tuple[Expr, int]]] = {}
    for term, k, f, call in candidates:
        exp = f.exponent
        reduced = term_hash[term] - hash((call, exp))
        if exp.value > 2:
            reduced += hash((call, Num(exp.value - 2)))
        pair_names = frozenset((call.fn.name, call.fn.pythagorean))
        found.setdefault((call.args[0], pair_names, reduced), {})[call.fn.name] = (term, k)
    used: set[Expr] = set()
    replacements = []
    for pair in found.values():
        if len(pair) == 2:
            (one_term, k), (other_term, j) = pair.values()
            if one_term in used or other_term in used or one_term is other_term:
                continue
            one_square, other_square = factors(one_term)[k], factors(other_term)[j]
            if (_powers_without(one_term, one_square.base, 2)
                    != _powers_without(other_term, other_square.base, 2)):
                continue  # the hashes met by chance
            used.update((one_term, other_term))
            rest = factors(one_term)
            reduced = power(one_square.base, Num(one_square.exponent.value - 2))
            replacements.append(mul(*rest[:k], *rest[k + 1:], reduced))
    if not replacements:
        return None
    return add(*(t for t in node.args if t not in used), *replacements)


def _powers(term: Expr) -> dict[Expr, Expr]:
    """The term as a map from each base to its exponent (a coefficient is a base with exponent 1)."""
    return dict(base_exponent(f) for f in factors(term))


def _powers_without(term: Expr, base: Expr, exponent: int) -> frozenset:
    """The term's (base, exponent) pairs with ``base^exponent`` divided out."""
    powers = _powers(term)
    remaining = powers[base].value - exponent
    if remaining:
        powers[base] = Num(remaining)
    else:
        del powers[base]
    return frozenset(powers.items())


def _expand_polynomial_terms(node: Add) -> Expr | None:
    # 3 - x^2*(3 - x^2) - 3*x^2 -> x^4 - 6*x^2 + 3: a polynomial term times a polynomial sum is
    # multiplied out when like terms then cancel or merge, so that the result is shorter
    terms: list[Expr] = []
    expanded = False
    for term in node.args:
        parts = factors(term)
        sums = [f for f in parts if isinstance(f, Add)]
        if (len(sums) == 1 and all(_is_monomial(t) for t in sums[0].args)
                and all(f is sums[0] or _is_monomial(f) for f in parts)):
            others = [f for f in parts if f is not sums[0]]
            terms.extend(mul(*others, t) for t in sums[0].args)
            expanded = True
        else:
            terms.append(term)
    if not expanded:
        return None
    candidate = add(*terms)
    return candidate if count_ops([candidate]) < count_ops([node]) else None


def _is_monomial(e: Expr) -> bool:
    """A number, a symbol, or a product of numbers and symbols to whole positive powers."""
    for f in factors(e):
        base, exp = base_exponent(f)
        if not (isinstance(f, Num) or (isinstance(base, Symbol) and isinstance(exp, Num)
                                       and exp.is_integer and exp.value > 0)):
            return False
    return True


def _common_factor(node: Add) -> Expr | None:
    # a*F + b*F -> (a + b)*F, when F involves a function or a sum and the result is smaller:
    # sigmoid(x)*(1 - sigmoid(x))^2 - sigmoid(x)^2*(1 - sigmoid(x))
    #   -> sigmoid(x)*(1 - sigmoid(x))*(1 - 2*sigmoid(x))
    common: dict[Expr, Rational] | None = None
    for term in node.args:
        _, rest = split_coefficient(term)
        powers: dict[Expr, Rational] = {}
        for f in factors(rest):
            base, exp = base_exponent(f)
            if isinstance(exp, Num) and not isinstance(base, Num):
                powers[base] = exp.value
        if common is None:
            common = powers
        else:
            common = {b: min(e, powers[b]) for b, e in common.items() if b in powers}
        if not common:
            return None
    if not any(isinstance(b, (Call, Add)) for b in common):
        return None
    shared = mul(*(power(b, Num(e)) for b, e in common.items()))
    inverse = [power(b, Num(-e)) for b, e in common.items()]
    candidate = mul(shared, add(*(mul(t, *inverse) for t in node.args)))
    return candidate if count_ops([candidate]) < count_ops([node]) else None


# Tried in this order on every node of the type, bottom-up; the first that applies wins.
SIMPLIFY_RULES = {
    Add: (
        _pythagoras,               # c*sin(u)^2 + c*cos(u)^2 -> c
        _common_factor,            # a*F + b*F -> (a + b)*F
        _expand_polynomial_terms,  # 3 - x^2*(3 - x^2) - 3*x^2 -> x^4 - 6*x^2 + 3
    ),
    Mul: (
        _tidy_product,             # (2*mu - 2*x)/(2*s^2) -> (mu - x)/s^2
    ),
    Pow: (
        _negative_base,            # (-x^2 - 1)^3 -> -(x^2 + 1)^3
    ),
    Call: (
        _inverse_call,             # log(exp(x)) -> x
    ),
}
