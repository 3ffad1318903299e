"""Simplification: the canonical form plus a few identities, applied bottom-up once per node.

The constructors in ``symcalc.core.expr`` already give the canonical form (flattened, sorted,
numbers folded, like terms and equal bases collected).  ``simplify`` rebuilds a graph through them,
which also turns the raw graphs of reverse accumulation into readable formulas, and adds the rules
below.  Each rule keeps the value wherever the input is defined.  The result is cached on the
node, so a node shared by a whole gradient or Hessian is simplified once.

A rule is ``node -> Expr | None`` (None: it does not apply); ``SIMPLIFY_RULES`` holds them in
ordered tables keyed by node type, with the matchers of ``symcalc.rewrite.patterns``.

Choices of form: a numeric power of exp is exp of the scaled argument and exp factors merge
(``exp(x)^2 -> exp(2*x)``, ``exp(a)*exp(b) -> exp(a + b)``), as SymPy writes them, so that equal
exponentials always meet; ``exp(u)/(exp(u) + 1)`` is ``sigmoid(u)``.  A product base merges with
its power only as ``B*B^q -> B^(q + 1)``, valid wherever ``B^q`` is defined, never by splitting
``(c*x^n)^q`` into ``c^q*x^(n*q)`` (false for negative c or x); a power of a product of positive
constants is split (``sqrt(2/pi) -> sqrt(2)/sqrt(pi)``) only when that makes the product shorter.
Sums are multiplied out only when the expansion is small and the result shorter.
"""

from __future__ import annotations

from fractions import Fraction

from ..core.expr import (MINUS_ONE, ONE, Add, Call, Constant, Expr, Mul, Num, Pow, Rational, add,
                         make_call, add_scaled, count_ops, mul, negate, postorder, power,
                         split_coefficient, store, with_args)
from ..functions.elementary import REGISTRY, abs_, exp, log, sigmoid, sign
from .patterns import (base_exponent, call_power, factors, first_rewrite, is_positive,
                       merged_exps, multiple_of, one_plus_exp, rational_content, sigmoid_partners,
                       tanh_quotient)

EXPANSION_BUDGET = 32  # most terms a sum may have when its products of sums are multiplied out


def simplify(e: Expr) -> Expr:
    """The simplest equivalent form symcalc knows of ``e``; idempotent."""
    if e._simple is None:
        _simplify_graph(e)
    result = e._simple
    tidy = _absorb_sign(result)
    if tidy is None or tidy is result:
        return result
    store(e, "_simple", tidy)
    store(tidy, "_simple", tidy)
    return tidy


def _simplify_graph(e: Expr) -> None:
    """Store the simplified form of every node of ``e`` not simplified yet, bottom-up."""
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
            content = rational_content(f)
            if content != 1:
                parts[k] = mul(Num(1 / content), f)
                coeff *= content
                changed = True
        elif (isinstance(f, Pow) and isinstance(f.base, Add) and isinstance(f.exponent, Num)
              and f.exponent.is_integer):  # 1/(1 - x^2/9)/3 -> 3/(9 - x^2)
            content = rational_content(f.base)
            if content != 1:
                parts[k] = power(mul(Num(1 / content), f.base), f.exponent)
                coeff *= content ** f.exponent.value
                changed = True
    return mul(Num(coeff), *parts) if changed else None


def _exp_of_scaled_log(node: Call) -> Expr | None:
    # exp(-log(2)) -> 1/2, exp(log(u)/2) -> sqrt(u): exp(c*log(u)) = u^c where log(u) is real
    u = node.args[0]
    if node.fn is not exp or not isinstance(u, Mul) or len(u.args) != 2:
        return None
    c, f = u.args
    if isinstance(c, Num) and isinstance(f, Call) and f.fn is log and len(f.args) == 1:
        return power(f.args[0], c)
    return None


def _sign_times_abs(node: Mul) -> Expr | None:
    # sign(u)/abs(u) -> 1/u, sign(u)*u -> abs(u): sign(u)*abs(u)^k = u^k and sign(u)*u^k = abs(u)^k
    # for odd k (both sides are 0 at u = 0 for k > 0, undefined for k < 0)
    for s in node.args:
        if not (isinstance(s, Call) and s.fn is sign):
            continue
        u = s.args[0]
        for f in node.args:
            base, k = base_exponent(f)
            if not (isinstance(k, Num) and k.is_integer and k.value % 2 == 1):
                continue
            if isinstance(base, Call) and base.fn is abs_ and base.args[0] is u:
                new = power(u, k)
            elif base is u:
                new = power(abs_(u), k)
            else:
                continue
            return mul(*(g for g in node.args if g is not s and g is not f), new)
    return None


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


def _square_signs() -> dict[str, list[tuple[frozenset[str], int]]]:
    """For each function name, the identities ``f(u)^2 + s*g(u)^2 = 1`` of the registry field
    `pythagorean` it takes part in, as (the pair of names, the sign of its own square)."""
    table: dict[str, list[tuple[frozenset[str], int]]] = {}
    for fn in REGISTRY.values():
        if fn.pythagorean is not None:
            partner, sign = fn.pythagorean
            pair = frozenset((fn.name, partner))
            for name, s in ((fn.name, 1), (partner, sign)):
                if (pair, s) not in table.setdefault(name, []):
                    table[name].append((pair, s))
    return table


_SQUARE_SIGNS = _square_signs()


def _pythagoras(node: Add) -> Expr | None:
    # c*R*sin(u)^2 + c*R*cos(u)^2 -> c*R,  c*R*cosh(u)^2 - c*R*sinh(u)^2 -> c*R  (also with higher
    # powers: sin(u)^4 + sin(u)^2*cos(u)^2 -> sin(u)^2; the identities are the registry field
    # `pythagorean`, f(u)^2 + s*g(u)^2 = 1)
    squares: list[tuple[Expr, Call]] = []
    seen: dict[Expr, set[str]] = {}
    for term in node.args:
        for f in factors(term):
            base, exponent = base_exponent(f)
            if (isinstance(f, Pow) and isinstance(exponent, Num) and exponent.is_integer
                    and exponent.value >= 2 and isinstance(base, Call) and len(base.args) == 1
                    and base.fn.name in _SQUARE_SIGNS):
                squares.append((term, base))
                seen.setdefault(base.args[0], set()).add(base.fn.name)
    if not any(len(names) > 1 for names in seen.values()):  # the usual case: no pair meets
        return None
    # a pair of terms X*f(u)^2 and s*X*g(u)^2 is found by X, the signed term with its square out
    found: dict[tuple, dict[str, Expr]] = {}
    for term, call in squares:
        for pair, sign in _SQUARE_SIGNS[call.fn.name]:
            if pair <= seen[call.args[0]]:
                rest = mul(Num(sign), term, power(call, Num(-2)))
                found.setdefault((call.args[0], pair, rest), {}).setdefault(call.fn.name, term)
    used: set[Expr] = set()
    replacements = []
    for (_, _, rest), terms in found.items():
        if len(terms) == 2:
            one, other = terms.values()
            if one is not other and one not in used and other not in used:
                used.update((one, other))
                replacements.append(rest)
    if not replacements:
        return None
    return add(*(t for t in node.args if t not in used), *replacements)


def _reflection(node: Add) -> Expr | None:
    # c*R*sigmoid(-u) + d*R*sigmoid(u) -> c*R + (d - c)*R*sigmoid(u): sigmoid(-x) + sigmoid(x) -> 1
    # (registry field `reflection`: f(-u) = a + b*f(u)); a lone 1 - sigmoid(x) is left as written
    index: dict[tuple, tuple[Expr, Rational, Call]] = {}
    for term in node.args:
        coeff, rest = split_coefficient(term)
        for f in factors(rest):
            if isinstance(f, Call) and f.fn.reflection is not None and len(f.args) == 1:
                index[(f.fn.name, f.args[0], mul(rest, power(f, MINUS_ONE)))] = (term, coeff, f)
    for (name, arg, other), (term, c, call) in index.items():
        partner = index.get((name, negate(arg), other)) if _looks_negative(arg) else None
        if partner is not None and partner[0] is not term:
            partner_term, d, partner_call = partner
            a, b = call.fn.reflection
            kept = (t for t in node.args if t is not term and t is not partner_term)
            return add(*kept, mul(Num(c * a), other), mul(Num(c * b + d), other, partner_call))
    return None


def _reflection_across_terms(node: Add) -> Expr | None:
    # y*sigmoid(-u) + sigmoid(u)*(1 - y) -> y + sigmoid(u) - 2*y*sigmoid(u)... when that is shorter
    # (sigmoid(u) - y for the logistic loss's gradient): f(-u) in one term is written a + b*f(u)
    # where f(u) is in another, and the sum simplified again (after the rules above failed)
    index: dict[tuple, tuple[Expr, Rational, Call]] = {}
    for term in node.args:
        coeff, rest = split_coefficient(term)
        for f in factors(rest):
            if isinstance(f, Call) and f.fn.reflection is not None and len(f.args) == 1:
                index[(f.fn.name, f.args[0], mul(rest, power(f, MINUS_ONE)))] = (term, coeff, f)
    arguments = {(name, arg) for name, arg, _ in index}
    for (name, arg, other), (term, c, call) in index.items():
        if _looks_negative(arg) and (name, negate(arg)) in arguments:
            a, b = call.fn.reflection
            kept = (t for t in node.args if t is not term)
            candidate = simplify(add(*kept, mul(Num(c * a), other),
                                     mul(Num(c * b), other, make_call(call.fn, (negate(arg),)))))
            return candidate if count_ops([candidate]) < count_ops([node]) else None
    return None


def _looks_negative(e: Expr) -> bool:
    """The leading coefficient is negative: ``-x``, ``-2*x + y``."""
    return split_coefficient(e.args[0] if isinstance(e, Add) else e)[0] < 0


def _expand_products(node: Add) -> Expr | None:
    # (x + 1)^2 - x^2 - 2*x - 1 -> 0,  sigmoid(u)*(1 - y) - y*(1 - sigmoid(u)) -> sigmoid(u) - y:
    # the products of sums (and small whole powers of sums) in the terms are multiplied out when
    # that gives at most EXPANSION_BUDGET terms and a shorter result
    split: list[tuple[list[Expr], list[tuple[Expr, ...]]]] = []  # (other factors, sums) per term
    count = 0  # terms after expansion: counted before any product is built
    anchors: list[Expr] = []  # per term, its first sum
    for term in node.args:
        sums: list[tuple[Expr, ...]] = []
        others: list[Expr] = []
        anchor: Expr = ONE
        for f in factors(term):
            base, exponent = base_exponent(f)
            if isinstance(f, Add):
                sums.append(f.args)
                anchor = f if anchor is ONE else anchor
            elif (isinstance(base, Add) and isinstance(exponent, Num) and exponent.is_integer
                  and 2 <= exponent.value <= 4):
                sums.extend([base.args] * exponent.value)
                anchor = base if anchor is ONE else anchor
            else:
                others.append(f)
        anchors.append(anchor)
        size = 1
        for total in sums:
            size *= len(total)
        count += size
        if count > EXPANSION_BUDGET:  # the expanded sum would have more terms than the budget
            return None
        split.append((others, sums))
    if not any(sums for _, sums in split):
        return None
    expanded: list[tuple[Rational, Expr]] = []  # (coefficient, rest) of the expanded terms
    atoms: set[Expr] = set()  # what both forms share: only the operations above them are compared
    exact = True  # the pairs are the terms the sum will have before like terms are collected
    for term, anchor, (others, sums) in zip(node.args, anchors, split):
        atoms.update(others if sums else (term,))
        for total in sums:
            atoms.update(total)
        if not sums:
            expanded.append(split_coefficient(term))
            continue
        coeff, rest = split_coefficient(term)
        products = _expanded_products(anchor, rest, others[1:] if coeff != 1 else others, sums)
        if products is None:  # multiplied out with its coefficient, as the sum builds it
            partial = [mul(*others)]
            for total in sums:
                partial = [mul(p, t) for p in partial for t in total]
            expanded.extend((1, p) for p in partial)
            exact = False
        else:
            expanded.extend((coeff * k, p) for k, p in products)
    before = _ops_above(node, atoms)
    if exact and _fewest_ops_above(expanded, atoms) >= before:
        return None  # cannot be shorter: decided without building the expansion
    candidate = add_scaled(expanded)
    return candidate if _ops_above(candidate, atoms, new=True) < before else None


def _expanded_products(anchor: Add, rest: Expr, others: list[Expr], sums: list[tuple[Expr, ...]]):
    """The products of ``others`` with one term of each of ``sums`` (``rest`` is their product,
    ``anchor`` its first sum), each as (coefficient, rest), built left to right as
    ``_expand_products`` does, once per ``rest``: the terms of a Hessian's entries share them.  A
    coefficient c in front only scales each product (the sum takes c*p apart into c times p's
    coefficient and p's factors) unless a product is a sum, which c would distribute over: then
    None, and the caller multiplies with the coefficient in place.  They are kept on ``anchor``,
    which lives as long as the formulas that hold it (``rest`` often does not)."""
    cache = getattr(anchor, "_expansions", None)
    if cache is None:
        cache = {}
        store(anchor, "_expansions", cache)
    elif rest in cache:
        return cache[rest]
    partial = [mul(*others)]
    found: tuple | None = None
    for total in sums:
        if any(isinstance(p, Add) for p in partial):
            break
        partial = [mul(p, t) for p in partial for t in total]
    else:
        if not any(isinstance(p, Add) for p in partial):
            found = tuple(split_coefficient(p) for p in partial)
    cache[rest] = found
    return found


def _fewest_ops_above(expanded: list[tuple[Rational, Expr]], atoms: set[Expr]) -> int:
    """A lower bound of ``_ops_above(add_scaled(expanded), atoms, new=True)``, from the terms
    the sum will have after collecting like terms: the sum's own operations and each new term's
    own (its factors may be shared with other forms, so they count nothing here)."""
    collected: dict[Expr, Rational] = {}
    for c, rest in expanded:
        if isinstance(rest, Add):
            return 0  # a sum would be taken apart: no bound
        collected[rest] = collected.get(rest, 0) + c
    terms = [(c, rest) for rest, c in collected.items() if c != 0]
    if len(terms) < 2:
        return 0
    # a term that is an atom counts nothing: the atoms c*f*g..., as (c, (f, g, ...))
    scaled_atoms = {(a.args[0].value, a.args[1:]) for a in atoms
                    if type(a) is Mul and type(a.args[0]) is Num}
    bound = len(terms) - 1
    for c, rest in terms:
        if c == 1:  # the term is rest itself
            if rest not in atoms:
                bound += (len(rest.args) - 1 if isinstance(rest, Mul)
                          else int(isinstance(rest, (Pow, Call))))
        elif rest is not ONE:  # c*rest: one factor more
            rest_factors = rest.args if type(rest) is Mul else (rest,)
            if (c, rest_factors) not in scaled_atoms:
                bound += len(rest_factors)
    return bound


def _ops_above(e: Expr, atoms: set[Expr], new: bool = False) -> int:
    """``count_ops`` of ``e`` without the subgraphs of ``atoms`` (what two forms share), so that
    the cost does not grow with them.  For a ``new`` form, a node simplified before is counted
    by its own operation only."""
    total, seen, stack = 0, set(atoms), [e]
    while stack:
        n = stack.pop()
        total += len(n.args) - 1 if isinstance(n, (Add, Mul)) else int(isinstance(n, (Pow, Call)))
        if not new or n is e or n._simple is not n:
            for a in n.args:
                if a not in seen:
                    seen.add(a)
                    stack.append(a)
    return total


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
    if not any(isinstance(b, (Call, Add)) for b in common) and not _has_call_factor(node):
        return None  # a polynomial stays expanded: x^2 + x is not x*(x + 1)
    shared = mul(*(power(b, Num(e)) for b, e in common.items()))
    inverse = [power(b, Num(-e)) for b, e in common.items()]
    candidate = mul(shared, add(*(mul(t, *inverse) for t in node.args)))
    atoms = {part for t in node.args for f in factors(t) for part in base_exponent(f)}
    # no longer: a repeated factor written once reads better (and is shorter as a tree)
    return candidate if _ops_above(candidate, atoms, new=True) <= _ops_above(node, atoms) else None


def _has_call_factor(total: Add) -> bool:
    return any(isinstance(base_exponent(f)[0], Call) for t in total.args for f in factors(t))


def _merge_compound_base(node: Mul) -> Expr | None:
    # c*x^n*(c*x^n)^q -> (c*x^n)^(q + 1): the factors of a product base B next to a power of B
    # join it (also 1/B).  Where B^q is defined so is B, and B*B^q = B^(q + 1); the factors left
    # over keep whole positive exponents, so the result is defined wherever the input is.
    coeff, rest = split_coefficient(node)
    powers = dict(base_exponent(f) for f in factors(rest))
    for base, q in powers.items():
        if not isinstance(base, Mul):
            continue
        base_coeff, base_rest = split_coefficient(base)
        inner = dict(base_exponent(f) for f in factors(base_rest))
        if not all(b in powers and b is not base for b in inner):
            continue
        for k in (1, -1):
            left = {b: add(powers[b], mul(Num(-k), e)) for b, e in inner.items()}
            new_coeff = Fraction(coeff) / Fraction(base_coeff) ** k
            whole = all(isinstance(e, Num) and e.is_integer and e.value >= 0 for e in left.values())
            if new_coeff.denominator != 1 or not whole:
                continue
            others = [power(b, e) for b, e in powers.items() if b is not base and b not in inner]
            candidate = mul(Num(new_coeff), *others, *(power(b, e) for b, e in left.items()),
                            power(base, add(q, Num(k))))
            if count_ops([candidate]) < count_ops([node]):
                return candidate
    return None


def _split_constant_powers(node: Mul) -> Expr | None:
    # sqrt(2)*sqrt(2/pi)/sqrt(pi) -> 2/pi: a power of a product of positive constants is split,
    # (c*d)^q = c^q*d^q for c, d > 0, when equal constants then meet and the result is shorter
    parts: list[Expr] = []
    split = False
    for f in node.args:
        base, q = base_exponent(f)
        if isinstance(f, Pow) and isinstance(base, Mul) and all(map(_positive_constant, base.args)):
            parts.extend(power(b, mul(e, q)) for b, e in map(base_exponent, base.args))
            split = True
        else:
            parts.append(f)
    if not split:
        return None
    candidate = mul(*parts)
    return candidate if count_ops([candidate]) < count_ops([node]) else None


def _positive_constant(e: Expr) -> bool:
    """A positive number, pi or e, or a power of one with a numeric exponent."""
    base, exponent = base_exponent(e)
    return isinstance(exponent, Num) and (isinstance(base, Constant)
                                          or (isinstance(base, Num) and base.value > 0))


def _product_of_exps(node: Mul) -> Expr | None:
    # exp(a)*exp(b) -> exp(a + b)
    return merged_exps(node)


def _exp_times_sigmoid(node: Mul) -> Expr | None:
    # exp(u)*sigmoid(-u) -> sigmoid(u), as exp(u)/(exp(u) + 1) is sigmoid(u);
    # exp(k*u)*sigmoid(-u)^n -> sigmoid(u)^m*exp((k - m)*u)*sigmoid(-u)^(n - m), m = min(k, n)
    for f in node.args:
        if call_power(f, exp) is None:
            continue
        for g in node.args:
            found = call_power(g, sigmoid)
            if found is None or found[1] <= 0 or found[1].denominator != 1:
                continue
            u = negate(found[0])
            k = multiple_of(f.args[0], u)
            if k is None or k < 1 or k.denominator != 1:
                continue
            m = min(k, found[1])
            rest = [h for h in node.args if h is not f and h is not g]
            return mul(*rest, power(sigmoid(u), Num(m)), exp(mul(Num(k - m), u)),
                       power(sigmoid(found[0]), Num(found[1] - m)))
    return None


def _power_times_sigmoid(node: Mul) -> Expr | None:
    # the same with exp(u) written r*G^q, G known positive (exp(-log(G)) is simplified to 1/G):
    # G^k*sigmoid(-u)^n, u = q*log(G) + log(r), k/q >= 1 -> sigmoid(u)^m*G^(k - m*q)/r^m*sigmoid(-u)^(n - m),
    # m = min(floor(k/q), n):  sigmoid(log(cosh(v)))^2/cosh(v) -> sigmoid(-log(cosh(v)))*sigmoid(log(cosh(v)))
    sigmoids = [(g, found) for g in node.args for found in (call_power(g, sigmoid),)
                if found is not None and found[1] > 0 and found[1].denominator == 1]
    if not sigmoids:
        return None
    for f in node.args:
        base, k = base_exponent(f)
        if (not isinstance(k, Num) or isinstance(base, Num) or call_power(f, exp) is not None
                or not is_positive(base)):
            continue
        for g, (s, n) in sigmoids:
            u = negate(s)
            split = _log_multiple(u, log(base))
            if split is None:
                continue
            q, r = split
            j = Fraction(k.value) / q  # how many exp(u) the factor holds
            if j < 1:
                continue
            m = min(j.numerator // j.denominator, n)
            rest = [h for h in node.args if h is not f and h is not g]
            return mul(*rest, power(base, Num(k.value - m * q)), power(r, Num(-m)),
                       power(sigmoid(u), Num(m)), power(sigmoid(s), Num(n - m)))
    return None


def _log_multiple(u: Expr, log_g: Expr) -> tuple[Fraction, Expr] | None:
    """(q, r) with ``u = q*log_g + log(r)``, q != 0 and r a positive number; otherwise None:
    ``log(cosh(x))/2 - log(3) -> (1/2, 1/3)``."""
    q, others = Fraction(0), []
    for t in (u.args if isinstance(u, Add) else (u,)):
        c, rest = split_coefficient(t)
        if rest is log_g:
            q += Fraction(c)
        else:
            others.append(t)
    if q == 0:
        return None
    if not others:
        return q, ONE
    c, rest = split_coefficient(add(*others))
    if (isinstance(rest, Call) and rest.fn is log and isinstance(rest.args[0], Num)
            and rest.args[0].value > 0):
        return q, power(rest.args[0], Num(c))
    return None


def _sigmoid_partners(node: Mul) -> Expr | None:
    # sigmoid(z)*(1 + exp(-z)) -> 1,  sigmoid(z)*(1 - sigmoid(-z)) -> sigmoid(z)^2
    return sigmoid_partners(node.args)


def _opposite_sums(node: Mul) -> Expr | None:
    # (s - 1)/(1 - s) -> -1,  (a - b)^2*(b - a) -> -(a - b)^3: a sum to a whole power next to a
    # power of its negation, (-A)^n = (-1)^n*A^n
    powers = [(f, *base_exponent(f)) for f in node.args]
    sums = {b: (f, e) for f, b, e in powers if isinstance(b, Add) and isinstance(e, Num)}
    for f, b, e in powers:
        if not (isinstance(b, Add) and isinstance(e, Num) and e.is_integer):
            continue
        partner = sums.get(negate(b))
        if partner is not None and partner[0] is not f:
            rest = [h for h in node.args if h is not f and h is not partner[0]]
            sign = Num(-1 if e.value % 2 else 1)
            return mul(*rest, sign, power(negate(b), add(partner[1], e)))
    return None


def _tanh(node: Mul) -> Expr | None:
    # sinh(u)/cosh(u) -> tanh(u)
    return tanh_quotient(node.args)


def _power_of_exp(node: Pow) -> Expr | None:
    # exp(x)^2 -> exp(2*x), 1/exp(x) -> exp(-x): a numeric power of exp is exp of the scaled
    # argument, as SymPy writes it, so that exp(x)^2 and exp(2*x) meet
    found = call_power(node, exp)
    return None if found is None else exp(mul(Num(found[1]), found[0]))


def _reciprocal_one_plus_exp(node: Pow) -> Expr | None:
    # 1/(exp(-z) + 1) -> sigmoid(z),  (exp(u) + 1)^-n -> sigmoid(-u)^n
    exponent = node.exponent
    u = one_plus_exp(node.base)
    if u is None or not (isinstance(exponent, Num) and exponent.is_integer and exponent.value < 0):
        return None
    return power(sigmoid(negate(u)), Num(-exponent.value))


# Tried in this order on every node of the type, bottom-up; the first that applies wins.
SIMPLIFY_RULES = {
    Add: (
        _pythagoras,               # c*sin(u)^2 + c*cos(u)^2 -> c;  cosh(u)^2 - sinh(u)^2 -> 1
        _reflection,               # sigmoid(-x) + sigmoid(x) -> 1
        _common_factor,            # a*F + b*F -> (a + b)*F
        _expand_products,          # (x + 1)^2 - x^2 - 2*x - 1 -> 0
        _reflection_across_terms,  # y*sigmoid(-u) - (1 - y)*sigmoid(u) -> y - sigmoid(u)
    ),
    Mul: (
        _tidy_product,             # (2*mu - 2*x)/(2*s^2) -> (mu - x)/s^2
        _product_of_exps,          # exp(a)*exp(b) -> exp(a + b)
        _tanh,                     # sinh(u)/cosh(u) -> tanh(u)  (before 1/cosh(u) is read as an exp)
        _exp_times_sigmoid,        # exp(u)/(exp(u) + 1) = exp(u)*sigmoid(-u) -> sigmoid(u)
        _power_times_sigmoid,      # sigmoid(log(g))^2/g -> sigmoid(-log(g))*sigmoid(log(g)), g > 0
        _sigmoid_partners,         # sigmoid(z)*(1 + exp(-z)) -> 1
        _opposite_sums,            # (s - 1)/(1 - s) -> -1
        _merge_compound_base,      # c*x^n*(c*x^n)^q -> (c*x^n)^(q + 1)
        _split_constant_powers,    # sqrt(2)*sqrt(2/pi)/sqrt(pi) -> 2/pi
        _sign_times_abs,           # sign(u)/abs(u) -> 1/u
    ),
    Pow: (
        _negative_base,            # (-x^2 - 1)^3 -> -(x^2 + 1)^3
        _power_of_exp,             # exp(x)^2 -> exp(2*x)
        _reciprocal_one_plus_exp,  # 1/(exp(-z) + 1) -> sigmoid(z)
    ),
    Call: (
        _inverse_call,             # log(exp(x)) -> x
        _exp_of_scaled_log,        # exp(-log(2)) -> 1/2
    ),
}
