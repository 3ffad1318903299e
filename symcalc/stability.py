"""Numerical stability: rewrite patterns that overflow or lose precision into stable forms.

``STABILITY_RULES`` is an ordered table of rules keyed by node type; a rule is
``node -> Expr | None`` (None: it does not apply).  ``Stabiliser`` applies the table bottom-up
to whole graphs, memoised across them.  Only nodes that contain a call whose registry entry has
``needs_stable_forms`` can match, so other subgraphs are passed over.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Callable, Optional, Sequence

from .expr import (ONE, Add, Call, Expr, Mul, Num, Pow, add, make_call, mul, negate, postorder,
                   power, raw_add, raw_mul)
from .functions import Function, exp, expm1, log, log1p, logsumexp, sigmoid, softplus
from .patterns import (RuleTable, base_exponent, call_power, exp_terms, first_rewrite, is_call,
                       scaled_call)


# --- sums of exponentials -------------------------------------------------------------------------
def _one_plus_exp(total: Expr) -> Optional[Expr]:
    """``exp(u) + 1 -> u``; otherwise None."""
    if isinstance(total, Add) and len(total.args) == 2:
        a, b = total.args
        if b is ONE and is_call(a, exp):
            return a.args[0]
        if a is ONE and is_call(b, exp):
            return b.args[0]
    return None


def _log_of_exp_sum(total: Expr) -> Optional[Expr]:
    """``log(total)`` in a stable form when ``total`` is ``exp(u) + 1`` (softplus) or a sum of
    ``c*exp(u)`` and a number, every c > 0 (logsumexp); otherwise None."""
    u = _one_plus_exp(total)
    if u is not None:
        return softplus(u)
    terms = exp_terms(total)
    if terms is None or any(c <= 0 for c, _ in terms) or all(isinstance(t, Num) for t in total.args):
        return None
    # c*exp(u) = exp(u + log(c)); a number c is c*exp(0)
    return logsumexp(*(u if c == 1 else add(u, log(Num(c))) for c, u in terms))


# --- the rules -----------------------------------------------------------------------------------
def _log_exp_sum(node: Call) -> Optional[Expr]:
    # log(exp(u) + 1) -> softplus(u);   log(exp(a) + exp(b)) -> logsumexp(a, b)
    return _log_of_exp_sum(node.args[0]) if is_call(node, log) else None


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
    u = _one_plus_exp(node.base)
    if u is not None and isinstance(p, int):
        return power(sigmoid(negate(u)), Num(-p))
    total = _log_of_exp_sum(node.base)
    return exp(mul(Num(p), total)) if total is not None else None


def _exp_times_sigmoid(node: Mul) -> Optional[Expr]:
    # exp(u)^k * sigmoid(-u)^n -> sigmoid(u)^m * exp(u)^(k - m) * sigmoid(-u)^(n - m),  m = min(k, n)
    factors = list(node.args)
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
    # exp(a) * exp(b)^k -> exp(a + k*b)   (one overflowing and one vanishing factor give no nan)
    found = [(f, call_power(f, exp)) for f in node.args]
    exps = [(f, e) for f, e in found if e is not None]
    if len(exps) < 2:
        return None
    rest = [f for f, e in found if e is None]
    return mul(*rest, exp(add(*(mul(Num(k), u) for _, (u, k) in exps))))


def _distribute_exp(node: Mul) -> Optional[Expr]:
    # (c*exp(a) + d*exp(b)) * exp(v) -> c*exp(a + v) + d*exp(b + v)   (a softmax-like quotient)
    for i, f in enumerate(node.args):
        scale = call_power(f, exp)
        if scale is None:
            continue
        for j, g in enumerate(node.args):
            terms = exp_terms(g)
            if terms is not None:
                v = mul(Num(scale[1]), scale[0])
                spread = add(*(mul(Num(c), exp(add(u, v))) for c, u in terms))
                rest = [h for index, h in enumerate(node.args) if index not in (i, j)]
                return mul(*rest, spread)
    return None


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
        _log_one_plus,        # log(1 + u) -> log1p(u)
        _log_sigmoid,         # log(sigmoid(u)) -> -softplus(-u)
    ),
    Pow: (
        _reciprocal_exp_sum,  # 1/(exp(u) + 1) -> sigmoid(-u);  1/(exp(a) + exp(b)) -> exp(-logsumexp(a, b))
    ),
    Mul: (
        _exp_times_sigmoid,   # exp(u) * sigmoid(-u) -> sigmoid(u)
        _merge_exps,          # exp(a) * exp(b) -> exp(a + b)
        _distribute_exp,      # (exp(a) + exp(b)) * exp(v) -> exp(a + v) + exp(b + v)
    ),
    Add: (
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
