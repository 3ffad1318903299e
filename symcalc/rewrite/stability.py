"""Numerical stability: rewrite patterns that overflow or lose precision into stable forms.

``STABILITY_RULES`` is an ordered table of rules keyed by node type; a rule is
``node -> Expr | None`` (None: it does not apply).  ``Stabiliser`` applies the table bottom-up
to whole graphs, memoised across them.  Only nodes that contain a call whose registry entry has
``needs_stable_forms`` can match, so other subgraphs are passed over.
"""

from __future__ import annotations

from fractions import Fraction
from math import prod
from typing import Callable, Optional, Sequence

from ..core.expr import (ONE, ZERO, Add, Call, Expr, Mul, Num, Pow, add, add_scaled, make_call,
                         mul, negate, postorder, power, raw_add, raw_mul)
from ..functions.elementary import (Function, abs_, cosh, exp, expm1, log, log1p, logsumexp, relu,
                                    sigmoid, sign, sinh, softplus, tanh)
from .patterns import (RuleTable, base_exponent, call_power, factors, first_rewrite, is_call,
                       is_positive, merged_exps, one_plus_exp, scaled_call, sigmoid_partners,
                       tanh_quotient)

# Most terms a sum of exponentials may have when it is gathered or multiplied out.
EXP_TERMS_BUDGET = 64


# --- sums of exponentials -------------------------------------------------------------------------
def _log_of_exp_sum(total: Expr) -> Optional[Expr]:
    """``log(total)`` in a stable form when ``total`` is ``exp(u) + 1`` (softplus) or a sum of
    ``c*exp(u)`` and a number, every c > 0 (logsumexp; cosh(u) and sigmoid(u) are exps too, see
    ``_exponent``); otherwise None."""
    u = one_plus_exp(total)
    if u is not None:
        return softplus(u)
    terms = _exp_like_terms(total)
    if terms is None or any(c <= 0 for c, _ in terms):
        return None
    # c*exp(u) = exp(u + log(c)); a number c is c*exp(0)
    return logsumexp(*(u if c == 1 else add(u, log(Num(c))) for c, u in terms))


# --- the rules -----------------------------------------------------------------------------------
def _log_exp_sum(node: Call) -> Optional[Expr]:
    # log(exp(u) + 1) -> softplus(u);   log(exp(a) + exp(b)) -> logsumexp(a, b)
    return _log_of_exp_sum(node.args[0]) if is_call(node, log) else None


def _log_of_product(node: Call) -> Optional[Expr]:
    # log(c*exp(u)^k*S^p*R) -> k*u + p*log(S) + log(c*R), S a sum of positive multiples of exps:
    # log(exp(z1)/(exp(z1) + exp(z2))) -> z1 - logsumexp(z1, z2),  log(2*exp(x)) -> x + log(2),
    # log(exp(u)) -> u; also the factors that are exps in disguise (``_exponent``):
    # log(2*cosh(u)) -> log(2) + logsumexp(u, -u) - log(2),  log(x*sigmoid(u)) -> log(x) - softplus(-u)
    if not is_call(node, log):
        return None
    outside: list[Expr] = []
    inside: list[Expr] = []
    for f in factors(node.args[0]):
        exponent = _exponent(f)
        base, p = base_exponent(f)
        if exponent is not None:
            outside.append(exponent)
        elif isinstance(p, Num) and _positive_exp_sum(base):
            outside.append(mul(p, log(base)))
        else:
            inside.append(f)
    if not outside:
        return None
    rest = mul(*inside)
    return add(*outside, *(() if rest is ONE else (log(rest),)))


def _positive_exp_sum(total: Expr) -> bool:
    """``total`` is a sum of positive multiples of exps and positive numbers, not all numbers."""
    terms = _exp_like_terms(total)
    return terms is not None and all(c > 0 for c, _ in terms)


def _exp_like_terms(total: Expr) -> Optional[list[tuple[Fraction, Expr]]]:
    """A sum of ``c*E`` terms, each E a product of exps or of the factors ``_exponent`` reads as
    exps (a number is c*exp(0), a power of a positive G is exp(k*log(G)): ``exp(log(G))`` is
    simplified to G), as ``[(c, u), ...]`` with E = exp(u); None when ``total`` is not such a sum
    or no term can overflow (an exp or a cosh)."""
    if not isinstance(total, Add) or not any(_overflows(f) for t in total.args for f in factors(t)):
        return None
    terms = []
    for term in total.args:
        c, exponents = Fraction(1), []
        for f in factors(term):
            if isinstance(f, Num):
                c *= Fraction(f.value)
                continue
            u = _exponent(f)
            base, k = base_exponent(f)
            if u is None and isinstance(k, Num) and not isinstance(base, Num) and is_positive(base):
                u = mul(k, log(base))
            if u is None:
                return None
            exponents.append(u)
        terms.append((c, add(*exponents)))
    return terms


def _log_one_plus_exp(node: Call) -> Optional[Expr]:
    # log1p(exp(u)) -> softplus(u)
    if is_call(node, log1p) and is_call(node.args[0], exp):
        return softplus(node.args[0].args[0])
    return None


def _log_cosh(node: Call) -> Optional[Expr]:
    # log(cosh(u)) -> logsumexp(u, -u) - log(2)   (= |u| + log1p(exp(-2|u|)) - log(2))
    if is_call(node, log) and is_call(node.args[0], cosh):
        return _log_cosh_of(node.args[0].args[0])
    return None


def _log_one_plus(node: Call) -> Optional[Expr]:
    # log(1 + u) -> log1p(u)
    if is_call(node, log) and isinstance(node.args[0], Add) and ONE in node.args[0].args:
        rest = list(node.args[0].args)
        rest.remove(ONE)
        return log1p(rest[0] if len(rest) == 1 else add(*rest))
    return None


def _log_sigmoid(node: Call) -> Optional[Expr]:
    # log(sigmoid(u)) -> -softplus(-u)
    if is_call(node, log) and is_call(node.args[0], sigmoid):
        return negate(softplus(negate(node.args[0].args[0])))
    return None


def _reciprocal_exp_sum(node: Pow) -> Optional[Expr]:
    # (exp(u) + 1)^-n -> sigmoid(-u)^n;   (exp(a) + exp(b))^-p -> exp(-p*logsumexp(a, b))
    if not (isinstance(node.exponent, Num) and node.exponent.value < 0):
        return None
    p = node.exponent.value
    u = one_plus_exp(node.base)
    if u is not None and isinstance(p, int):
        return power(sigmoid(negate(u)), Num(-p))
    total = _log_of_exp_sum(node.base)
    return exp(mul(Num(p), total)) if total is not None else None


def _product_factors(node: Mul) -> tuple[Expr, ...]:
    """The factors of a product, through the nested binary products of reverse accumulation (a
    rule sees ``exp(a)*(2*exp(b))`` as the three factors 2, exp(a), exp(b))."""
    if not any(type(a) is Mul for a in node.args):
        return node.args
    found: list[Expr] = []
    stack = list(reversed(node.args))
    while stack:
        f = stack.pop()
        if type(f) is Mul and len(found) + len(stack) < _MAX_FACTORS:
            stack.extend(reversed(f.args))
        else:
            found.append(f)
    return tuple(found)


_MAX_FACTORS = 64  # a longer chain of products is read only this far


def _exp_times_sigmoid(node: Mul) -> Optional[Expr]:
    # exp(u)^k * sigmoid(-u)^n -> sigmoid(u)^m * exp(u)^(k - m) * sigmoid(-u)^(n - m),  m = min(k, n)
    factors = list(_product_factors(node))
    for i, f in enumerate(factors):
        e = call_power(f, exp)
        if e is None or e[1] <= 0 or e[1].denominator != 1:
            continue
        u, k = e
        for j, g in enumerate(factors):
            s = call_power(g, sigmoid)
            if s is not None and s[1] > 0 and s[1].denominator == 1 and s[0] is negate(u):
                m = min(k, s[1])
                rest = [h for index, h in enumerate(factors) if index not in (i, j)]
                return mul(*rest, power(sigmoid(u), Num(m)), power(exp(u), Num(k - m)),
                           power(base_exponent(g)[0], Num(s[1] - m)))
    return None


def _merge_exps(node: Mul) -> Optional[Expr]:
    # exp(a) * exp(b)^k -> exp(a + k*b)   (one overflowing and one vanishing factor give no nan),
    # also through nested products: exp(x)*(-exp(-2*L)) -> -exp(x - 2*L), and with the factors
    # that are exps in disguise: exp(a)*sigmoid(b)^k -> exp(a - k*softplus(-b)), as sigmoid(b)
    # vanishes like exp(b); cosh(c) = exp(log(cosh(c))), sinh(c) = tanh(c)*exp(log(cosh(c)))
    fs = _product_factors(node)
    if not any(map(_overflows, fs)) or (fs is node.args and sum(map(_is_exp_like, fs)) < 2):
        return None
    parts = [(f, _exp_expansion(f) if _is_exp_like(f) else None) for f in fs]
    found = [terms[0] for _, terms in parts if terms is not None and len(terms) == 1]
    if len(found) < 2:  # one exp, and nested products: gathered, with the exp's power taken in
        return merged_exps(mul(*fs))
    rest = [f for f, terms in parts if terms is None or len(terms) != 1]
    return mul(*rest, *(r for _, _, r in found), Num(prod(c for c, _, _ in found)),
               exp(add(*(u for _, u, _ in found))))


def _exp_times_expm1(node: Mul) -> Optional[Expr]:
    # exp(a)*expm1(b) -> -sign(b)*exp(a + relu(b))*expm1(-abs(b))   (for b > 0 the large part of
    # expm1(b) joins the exponent, so exp(-2000)*expm1(1998) is exp(-2)*(1 - exp(-1998)), not
    # 0*inf; for b < 0 it is the product as written)
    fs = _product_factors(node)
    if not any(map(_overflows, fs)):
        return None
    for i, f in enumerate(fs):
        found = call_power(f, expm1)  # expm1(b)^k likewise, for a whole k > 0
        if found is None or found[1] <= 0 or found[1].denominator != 1:
            continue
        b, k = found
        if _is_negated_abs(b):
            continue
        rest = fs[:i] + fs[i + 1:]
        return mul(*rest, power(mul(Num(-1), sign(b)), Num(k)), exp(mul(Num(k), relu(b))),
                   power(expm1(negate(abs_(b))), Num(k)))
    return None


def _is_negated_abs(u: Expr) -> bool:
    return type(u) is Mul and len(u.args) == 2 and u.args[0] == Num(-1) and is_call(u.args[1], abs_)


def _exponent(factor: Expr) -> Optional[Expr]:
    """u for a factor that is ``exp(u)``: ``exp(a)^k -> k*a``, ``sigmoid(b)^k -> -k*softplus(-b)``,
    ``cosh(c)^k -> k*(logsumexp(c, -c) - log(2))``; otherwise None."""
    for fn, inside in _EXP_LIKE:
        found = call_power(factor, fn)
        if found is not None:
            return mul(Num(found[1]), inside(found[0]))
    return None


def _log_cosh_of(u: Expr) -> Expr:
    return add(logsumexp(u, negate(u)), negate(log(Num(2))))


_EXP_LIKE = ((exp, lambda a: a), (sigmoid, lambda b: negate(softplus(negate(b)))),
             (cosh, _log_cosh_of))


def _is_exp_like(factor: Expr) -> bool:
    """``factor`` is a power of exp, sinh, sigmoid or cosh (``_exp_expansion`` writes each as
    one term R*exp(u))."""
    return _power_of(factor, _EXP_LIKE_FUNCTIONS)


def _overflows(factor: Expr) -> bool:
    """``factor`` is a power of exp, cosh or sinh, which overflow past 710."""
    return _power_of(factor, _OVERFLOWING)


def _power_of(factor: Expr, functions: frozenset[Function]) -> bool:
    base = factor.base if type(factor) is Pow else factor
    return (type(base) is Call and base.fn in functions and len(base.args) == 1
            and (base is factor or type(factor.exponent) is Num))


_OVERFLOWING = frozenset((exp, cosh, sinh))
_EXP_LIKE_FUNCTIONS = _OVERFLOWING | {sigmoid}


def _sigmoid_partners(node: Mul) -> Optional[Expr]:
    # sigmoid(z)*(1 + exp(-z)) -> 1   (0 times an overflowing sum gives no nan)
    return sigmoid_partners(_product_factors(node))


def _tanh(node: Mul) -> Optional[Expr]:
    # sinh(u)/cosh(u) -> tanh(u)   (each overflows for |u| > 710; their quotient does not)
    return tanh_quotient(_product_factors(node))


def _distribute_exp(node: Mul) -> Optional[Expr]:
    # (c*exp(a) + d*R*exp(b))^n * exp(v) -> c*exp(a + v) + d*R*exp(b + v)   (n = 1: a softmax-like
    # quotient; n = 2, 3, and products of such sums, as in second derivatives: multiplied out, so
    # that the exponents meet and cancel before anything overflows)
    fs = _product_factors(node)
    scales = [f for f in fs if _is_exp_like(f)]
    candidates = [f for f in fs if type(base_exponent(f)[0]) is Add]
    if not candidates or len(scales) + len(candidates) < 2:
        return None
    sums = [f for f in candidates if any(map(_is_exp_like, _leaves(f)))]
    if not sums or len(scales) + len(sums) < 2 or not any(
            _overflows(g) for f in scales + sums for g in _leaves(f)):
        return None  # (sigmoids alone are left as they are)
    terms = _exp_expansion(mul(*scales, *sums))
    if terms is None:
        return None
    spread = add_scaled([(c, mul(r, exp(u))) for c, u, r in terms])
    return mul(*(f for f in fs if f not in scales and f not in sums), spread)


def _leaves(e: Expr) -> list[Expr]:
    """The factors that ``_exp_expansion`` multiplies out: through sums, products and whole
    powers 2 and 3 of sums, the factors that are none of these (at most EXP_TERMS_BUDGET)."""
    found: list[Expr] = []
    stack = [e]
    while stack and len(found) <= EXP_TERMS_BUDGET:
        node = stack.pop()
        base, n = base_exponent(node)
        if isinstance(node, (Add, Mul)):
            stack.extend(node.args)
        elif isinstance(base, Add) and isinstance(n, Num) and n.value in (2, 3):
            stack.append(base)
        elif not isinstance(node, Num):
            found.append(node)
    return found


ExpTerms = list[tuple[Fraction, Expr, Expr]]


def _exp_expansion(e: Expr) -> Optional[ExpTerms]:
    """``e`` multiplied out as a sum of ``c*R*exp(u)``, the terms ``[(c, u, R), ...]`` (u = 0: no
    exp), through sums, products and whole powers 1 to 3 of sums; None beyond EXP_TERMS_BUDGET."""
    if isinstance(e, Num):
        return [(Fraction(e.value), ZERO, ONE)]
    if isinstance(e, Add):
        out: ExpTerms = []
        for t in e.args:
            part = _exp_expansion(t)
            if part is None or len(out) + len(part) > EXP_TERMS_BUDGET:
                return None
            out.extend(part)
        return out
    if isinstance(e, Mul):
        out = [(Fraction(1), ZERO, ONE)]
        for f in e.args:
            part = _exp_expansion(f)
            if part is None or len(out) * len(part) > EXP_TERMS_BUDGET:
                return None
            out = [(c * d, add(u, w), mul(r, s)) for c, u, r in out for d, w, s in part]
        return out
    u = _exponent(e)
    if u is not None:
        return [(Fraction(1), u, ONE)]
    found = call_power(e, sinh)
    if found is not None and found[1].denominator == 1:  # sinh(c)^k = tanh(c)^k*cosh(c)^k
        return [(Fraction(1), mul(Num(found[1]), _log_cosh_of(found[0])),
                 power(tanh(found[0]), Num(found[1])))]
    base, n = base_exponent(e)
    if isinstance(base, Add) and isinstance(n, Num) and n.value in (2, 3):
        return _exp_expansion(raw_mul(base, power(base, Num(n.value - 1))))
    return [(Fraction(1), ZERO, e)]


def _gather_exp_sum(node: Add) -> Optional[Expr]:
    # exp(2*a) + (-exp(a + b) - exp(2*a)) -> -exp(a + b): a sum of sums (reverse accumulation
    # keeps them apart) is gathered when that makes terms with exps cancel or combine, or gives
    # one sum of exps for the rules above (logsumexp, a reciprocal, a distributed exp)
    if not any(type(a) is Add or (type(a) is Mul and len(a.args) == 2 and type(a.args[0]) is Num
                                  and type(a.args[1]) is Add) for a in node.args):
        return None
    terms = _nested_terms(node)
    if terms is None:
        return None
    products = [_product_factors(t) if type(t) is Mul else (t,) for t in terms]
    if not any(_is_exp_like(f) for fs in products for f in fs):
        return None
    # a term's factors other than numbers, as a key: equal keys are like terms (a cheap test
    # before the canonical sum is built)
    keys = [tuple(sorted(id(f) for f in fs if type(f) is not Num)) for fs in products]
    all_exps = all(_is_exp_like(f) or type(f) is Num for fs in products for f in fs)
    if len(set(keys)) == len(keys) and not all_exps:
        return None
    total = add(*node.args)
    kept = len(total.args) if isinstance(total, Add) else 1
    return total if kept < len(terms) or _exp_like_terms(total) is not None else None


def _nested_terms(node: Expr) -> Optional[list[Expr]]:
    """The terms of a sum through nested sums and numbers times sums (the number left out:
    only which terms there are matters); None beyond EXP_TERMS_BUDGET."""
    found: list[Expr] = []
    stack = [node]
    while stack:
        t = stack.pop()
        if type(t) is Add:
            stack.extend(t.args)
        elif type(t) is Mul and len(t.args) == 2 and type(t.args[0]) is Num and type(t.args[1]) is Add:
            stack.append(t.args[1])
        else:
            found.append(t)
            if len(found) > EXP_TERMS_BUDGET:
                return None
    return found


def _one_minus_sigmoid(node: Add) -> Optional[Expr]:
    # c - c*sigmoid(u) -> c*sigmoid(-u)   (no cancellation when sigmoid(u) is close to 1)
    return _fuse_constant(node, sigmoid, lambda c, u: mul(Num(c), sigmoid(negate(u))), sign=-1)


def _exp_minus_one(node: Add) -> Optional[Expr]:
    # c*exp(u) - c -> c*expm1(u)   (no cancellation when u is close to 0)
    return _fuse_constant(node, exp, lambda c, u: mul(Num(-c), expm1(u)), sign=-1)


def _fuse_constant(node: Add, fn: Function, build: Callable[[Fraction, Expr], Expr],
                   sign: int) -> Optional[Expr]:
    """In a sum with a number c, replace c and a term ``sign*c*fn(u)`` by ``build(c, u)``."""
    constants = [t for t in node.args if isinstance(t, Num)]
    if len(constants) != 1 or constants[0].value == 0:
        return None
    c = Fraction(constants[0].value)
    for term in node.args:
        scaled = scaled_call(term, fn)
        if scaled is not None and scaled[0] == sign * c:
            rest = [t for t in node.args if t is not term and t is not constants[0]]
            return add(*rest, build(c, scaled[1]))
    return None


# Tried in this order on every node of the type, bottom-up.
STABILITY_RULES: RuleTable = {
    Call: (
        _log_exp_sum,         # log(exp(u) + 1) -> softplus(u);  log(exp(a) + exp(b)) -> logsumexp(a, b)
        _log_of_product,      # log(exp(a)/(exp(a) + exp(b))) -> a - logsumexp(a, b)
        _log_one_plus_exp,    # log1p(exp(u)) -> softplus(u)
        _log_cosh,            # log(cosh(u)) -> logsumexp(u, -u) - log(2)
        _log_one_plus,        # log(1 + u) -> log1p(u)
        _log_sigmoid,         # log(sigmoid(u)) -> -softplus(-u)
    ),
    Pow: (
        _reciprocal_exp_sum,  # 1/(exp(u) + 1) -> sigmoid(-u);  1/(exp(a) + exp(b)) -> exp(-logsumexp(a, b))
    ),
    Mul: (
        _exp_times_sigmoid,   # exp(u) * sigmoid(-u) -> sigmoid(u)
        _exp_times_expm1,     # exp(a) * expm1(b)^k -> (-sign(b))^k * exp(a + k*relu(b)) * expm1(-abs(b))^k
        _merge_exps,          # exp(a) * exp(b) -> exp(a + b)
        _sigmoid_partners,    # sigmoid(z)*(1 + exp(-z)) -> 1
        _tanh,                # sinh(u)/cosh(u) -> tanh(u)
        _distribute_exp,      # (exp(a) + exp(b)) * exp(v) -> exp(a + v) + exp(b + v)
    ),
    Add: (
        _gather_exp_sum,      # exp(2*a) + (exp(a + b) - exp(2*a)) -> exp(a + b)
        _one_minus_sigmoid,   # 1 - sigmoid(u) -> sigmoid(-u)
        _exp_minus_one,       # exp(u) - 1 -> expm1(u)
    ),
}


class Stabiliser:
    """Applies ``STABILITY_RULES`` to graphs, memoised across all the graphs it is given."""

    def __init__(self) -> None:
        self._done: dict[Expr, Expr] = {}
        self._relevant: dict[Expr, bool] = {}  # does the node contain a call a rule can match?

    def __call__(self, root: Expr) -> Expr:
        return self.all([root])[0]

    def all(self, roots: Sequence[Expr]) -> list[Expr]:
        """The stabilised ``roots``, in one pass over their shared graph."""
        done, relevant = self._done, self._relevant
        for node in postorder(roots, done=lambda n: n in done):
            relevant[node] = ((isinstance(node, Call) and node.fn.needs_stable_forms)
                              or any(relevant[a] for a in node.args))
            if not relevant[node]:
                done[node] = node
                continue
            args = tuple(done[a] for a in node.args)
            current = node if args == node.args else same_kind(node, args)
            replacement = first_rewrite(STABILITY_RULES, current)
            # the replacement's new nodes may match further rules
            result = current if replacement is None else self(replacement)
            done[node] = result
            done.setdefault(result, result)
            relevant.setdefault(result, True)
        return [done[r] for r in roots]


def same_kind(node: Expr, args: tuple[Expr, ...]) -> Expr:
    """A node like ``node`` with new arguments; binary sums and products stay unflattened, so a
    reverse-accumulation graph keeps its sharing."""
    if isinstance(node, Add):
        return raw_add(*args) if len(args) == 2 else add(*args)
    if isinstance(node, Mul):
        return raw_mul(*args) if len(args) == 2 else mul(*args)
    if isinstance(node, Pow):
        return power(*args)
    return make_call(node.fn, args)
