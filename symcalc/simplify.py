"""Simplification: the canonical form plus a few identities, applied bottom-up once per node.

The constructors in ``symcalc.expr`` already give the canonical form (flattened, sorted, numbers
folded, like terms and equal bases collected).  ``simplify`` rebuilds a graph through them, which
also turns the raw graphs of reverse accumulation into readable formulas, and adds the rules
below.  Each rule keeps the value wherever the input is defined.  The result is cached on the
node, so a node shared by a whole gradient or Hessian is simplified once.
"""

from __future__ import annotations

from fractions import Fraction
from math import gcd

from .expr import (MINUS_ONE, ONE, Add, Call, Expr, Mul, Num, Pow, Rational, Symbol, add, count_ops,
                   mul, postorder, power, split_coefficient, store, with_args)



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
        better = _apply_rules(candidate)
        if better is not candidate:  # a rule fired: its result may simplify further
            candidate = simplify(better)
        store(node, "_simple", candidate)
        store(candidate, "_simple", candidate)
    result = e._simple
    tidy = _absorb_sign(result)
    if tidy is not result:
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
    factors: list[Expr] = []
    stack = [top]
    while stack:
        node = stack.pop()
        for a in node.args:
            if a in inner:
                stack.append(a)
            else:
                factors.append(a._simple)
    return factors


def _apply_rules(node: Expr) -> Expr:
    if isinstance(node, Call):
        return _inverse_call(node)
    if isinstance(node, Add):
        for rule in (_pythagoras, _common_factor, _expand_polynomial_terms):
            better = rule(node)
            if better is not node:
                return better
        return node
    if isinstance(node, Pow):
        return _negative_base(node)
    if isinstance(node, Mul):
        return _tidy_product(node)
    return node


def _tidy_product(node: Mul) -> Expr:
    # (2*mu - 2*x)/(2*s^2) -> (mu - x)/s^2: the numeric content of a sum joins the coefficient
    coeff, rest = split_coefficient(node)
    factors = list(rest.args) if isinstance(rest, Mul) else [rest]
    changed = False
    for k, f in enumerate(factors):
        if isinstance(f, Add):
            content = _content(f)
            if content != 1:
                factors[k] = mul(Num(1 / content), f)
                coeff *= content
                changed = True
    return mul(Num(coeff), *factors) if changed else node


def _absorb_sign(node: Expr) -> Expr:
    # -(mu - x)/s^2 -> (x - mu)/s^2: a sum with terms of both signs takes the minus sign.  Only at
    # the top: inside a sum the sign of a term is written as " - " anyway, and keeping it out of
    # the factors lets equal factors of different terms meet.
    if not isinstance(node, Mul) or not isinstance(node.args[0], Num) or node.args[0].value > 0:
        return node
    factors = list(node.args[1:])
    for k, f in enumerate(factors):
        signs = {split_coefficient(t)[0] > 0 for t in f.args} if isinstance(f, Add) else set()
        if len(signs) == 2:
            factors[k] = mul(MINUS_ONE, f)
            return mul(Num(-node.args[0].value), *factors)
    return node


def _content(total: Add) -> Fraction:
    """The largest positive rational that divides every coefficient of the sum exactly."""
    numerators, denominators = 0, 1
    for t in total.args:
        c = Fraction(split_coefficient(t)[0])
        numerators = gcd(numerators, c.numerator)
        denominators = denominators * c.denominator // gcd(denominators, c.denominator)
    return Fraction(numerators, denominators)


def _negative_base(node: Pow) -> Expr:
    # (-x^2 - 1)^n -> (-1)^n*(x^2 + 1)^n for integer n: write sums that lead with a plus sign
    base, exp = node.args
    if (isinstance(base, Add) and isinstance(exp, Num) and exp.is_integer
            and all(split_coefficient(t)[0] < 0 for t in base.args)):
        return mul(Num(-1 if exp.value % 2 else 1), power(add(*(mul(MINUS_ONE, t) for t in base.args)), exp))
    return node


def _inverse_call(node: Call) -> Expr:
    # log(exp(x)) -> x, exp(log(x)) -> x, sin(asin(x)) -> x, ...  (registry field `undoes`)
    if len(node.args) == 1:
        inner = node.args[0]
        if isinstance(inner, Call) and len(inner.args) == 1 and inner.fn.name == node.fn.undoes:
            return inner.args[0]
    return node


def _pythagoras(node: Add) -> Expr:
    # c*R*sin(u)^k + c*R*cos(u)^2*sin(u)^(k-2) -> c*R*sin(u)^(k-2)   (k >= 2, likewise for cos)
    squares: list[tuple[Expr, int, Expr, Call]] = []  # (term, index of factor, its power, sin/cos)
    seen: dict[Expr, set[str]] = {}
    for term in node.args:
        factors = term.args if isinstance(term, Mul) else (term,)
        for k, f in enumerate(factors):
            if (isinstance(f, Pow) and isinstance(f.args[1], Num) and f.args[1].is_integer
                    and f.args[1].value >= 2 and isinstance(f.args[0], Call)
                    and f.args[0].fn.name in ("sin", "cos")):
                squares.append((term, k, f, f.args[0]))
                seen.setdefault(f.args[0].args[0], set()).add(f.args[0].fn.name)
    candidates = [sq for sq in squares if len(seen[sq[3].args[0]]) == 2]
    if not candidates:  # the usual case: no argument has both a sin^2 and a cos^2
        return node
    # Pair terms by a sum of hashes of their (base, exponent) factors with the square divided out:
    # O(1) per candidate.  A pair is confirmed by comparing the factors themselves.
    term_hash: dict[Expr, int] = {}
    for term, _, _, _ in candidates:
        if term not in term_hash:
            term_hash[term] = sum(hash(p) for p in _powers(term).items())
    found: dict[tuple, dict[str, tuple[Expr, int]]] = {}
    for term, k, f, trig in candidates:
        exp = f.args[1]
        reduced = term_hash[term] - hash((trig, exp))
        if exp.value > 2:
            reduced += hash((trig, Num(exp.value - 2)))
        found.setdefault((trig.args[0], reduced), {})[trig.fn.name] = (term, k)
    used: set[Expr] = set()
    replacements = []
    for pair in found.values():
        if len(pair) == 2:
            (sin_term, k), (cos_term, j) = pair["sin"], pair["cos"]
            if sin_term in used or cos_term in used or sin_term is cos_term:
                continue
            sin_square, cos_square = _factor_at(sin_term, k), _factor_at(cos_term, j)
            if (_powers_without(sin_term, sin_square.args[0], 2)
                    != _powers_without(cos_term, cos_square.args[0], 2)):
                continue  # the hashes met by chance
            used.update((sin_term, cos_term))
            factors = sin_term.args if isinstance(sin_term, Mul) else (sin_term,)
            reduced = power(sin_square.args[0], Num(sin_square.args[1].value - 2))
            replacements.append(mul(*factors[:k], *factors[k + 1:], reduced))
    if not replacements:
        return node
    return add(*(t for t in node.args if t not in used), *replacements)


def _factor_at(term: Expr, k: int) -> Expr:
    return (term.args if isinstance(term, Mul) else (term,))[k]


def _powers(term: Expr) -> dict[Expr, Expr]:
    """The term as a map from each base to its exponent (a coefficient is a base with exponent 1)."""
    powers: dict[Expr, Expr] = {}
    for f in term.args if isinstance(term, Mul) else (term,):
        b, e = (f.args[0], f.args[1]) if isinstance(f, Pow) else (f, ONE)
        powers[b] = e
    return powers


def _powers_without(term: Expr, base: Expr, exponent: int) -> frozenset:
    """The term's (base, exponent) pairs with ``base^exponent`` divided out."""
    powers = _powers(term)
    remaining = powers[base].value - exponent
    if remaining:
        powers[base] = Num(remaining)
    else:
        del powers[base]
    return frozenset(powers.items())


def _expand_polynomial_terms(node: Add) -> Expr:
    # 3 - x^2*(3 - x^2) - 3*x^2 -> x^4 - 6*x^2 + 3: a polynomial term times a polynomial sum is
    # multiplied out when like terms then cancel or merge, so that the result is shorter
    terms: list[Expr] = []
    expanded = False
    for term in node.args:
        factors = term.args if isinstance(term, Mul) else (term,)
        sums = [f for f in factors if isinstance(f, Add)]
        if (len(sums) == 1 and all(_is_monomial(t) for t in sums[0].args)
                and all(f is sums[0] or _is_monomial(f) for f in factors)):
            others = [f for f in factors if f is not sums[0]]
            terms.extend(mul(*others, t) for t in sums[0].args)
            expanded = True
        else:
            terms.append(term)
    if not expanded:
        return node
    candidate = add(*terms)
    return candidate if count_ops([candidate]) < count_ops([node]) else node


def _is_monomial(e: Expr) -> bool:
    """A number, a symbol, or a product of numbers and symbols to whole positive powers."""
    for f in e.args if isinstance(e, Mul) else (e,):
        base, exp = (f.args[0], f.args[1]) if isinstance(f, Pow) else (f, ONE)
        if not (isinstance(f, Num) or (isinstance(base, Symbol) and isinstance(exp, Num)
                                       and exp.is_integer and exp.value > 0)):
            return False
    return True


def _common_factor(node: Add) -> Expr:
    # a*F + b*F -> (a + b)*F, when F involves a function or a sum and the result is smaller:
    # sigmoid(x)*(1 - sigmoid(x))^2 - sigmoid(x)^2*(1 - sigmoid(x))
    #   -> sigmoid(x)*(1 - sigmoid(x))*(1 - 2*sigmoid(x))
    common: dict[Expr, Rational] | None = None
    for term in node.args:
        _, rest = split_coefficient(term)
        powers: dict[Expr, Rational] = {}
        for f in rest.args if isinstance(rest, Mul) else (rest,):
            base, exp = (f.args[0], f.args[1]) if isinstance(f, Pow) else (f, ONE)
            if isinstance(exp, Num) and not isinstance(base, Num):
                powers[base] = exp.value
        if common is None:
            common = powers
        else:
            common = {b: min(e, powers[b]) for b, e in common.items() if b in powers}
        if not common:
            return node
    if not any(isinstance(b, (Call, Add)) for b in common):
        return node
    shared = mul(*(power(b, Num(e)) for b, e in common.items()))
    inverse = [power(b, Num(-e)) for b, e in common.items()]
    candidate = mul(shared, add(*(mul(t, *inverse) for t in node.args)))
    return candidate if count_ops([candidate]) < count_ops([node]) else node
