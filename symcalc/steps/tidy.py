"""Simplification as steps: from the derivative the rules assembled to the form ``diff`` prints.

Each step rewrites the whole derivative and is named after what it did:

1. the canonical form (``symcalc.core.expr``): named from what the constructors did at each node:
   ``cancel`` (x*x^-1, a - a), ``collect like terms`` (2*x + 3*x), ``combine powers``
   (x*x^2), ``distribute`` (2*(x + 1)), ``arithmetic`` (3*(2*x)), else ``rearrange`` (a
   mere reordering, shown only when no other step follows: else it goes with the next step);
2. identities, each a rewrite of its own: ``inverse functions`` (registry field ``undoes``:
   log(exp(u)) = u), ``Pythagorean identity`` (sin(u)^2 + cos(u)^2 = 1) and ``hyperbolic
   identity`` (cosh(u)^2 - sinh(u)^2 = 1);
3. whatever ``simplify`` does beyond these, to reach ``diff``'s result exactly: ``common factor``
   when a sum becomes a product, ``expand`` when a product becomes a sum, ``minus sign into a
   sum`` for -(1 - s)*R -> (s - 1)*R, ``numbers out of a sum`` for (x/2 + 1)*R -> (x + 2)*R/2,
   else ``simplify``.

Every rewrite keeps the value wherever the derivative is defined.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from typing import Callable, Optional

from ..core.expr import (ZERO, Add, Call, Expr, Mul, Num, Pow, add, mul, postorder, power,
                         split_coefficient, with_args)
from ..functions.elementary import lookup
from ..rewrite.patterns import rational_content
from ..printing.infix import latex
from .step import Step

# the order in which the events of the canonical form are named
_EVENTS = ("cancel", "collect like terms", "combine powers", "distribute", "arithmetic")


def simplification_steps(f: Expr, raw: Expr, final: Expr) -> list[Step]:
    """Steps from ``raw`` (the assembled derivative of ``f``) to ``final`` (``diff``'s result)."""
    steps: list[Step] = []
    current = raw

    def record(rule: str, new: Expr, note: str = "", latex_note: str = "") -> None:
        nonlocal current
        steps.append(Step(rule, f, new, (), note, before=current,
                          make_latex_note=(lambda: latex_note) if latex_note else None))
        current = new

    canonical, events = _canonical(current)
    if canonical is not current:
        record(", ".join(e for e in _EVENTS if e in events) or "rearrange", canonical)
    for name, rewrite in IDENTITIES:
        new, used = _rewrite_all(current, rewrite)
        if new is not current:
            record(name, new, "; ".join(t for t, _ in used), ",\\ ".join(t for _, t in used))
    if current is not final:
        record(_final_name(current, final), final)
    if len(steps) > 1 and steps[0].rule == "rearrange":  # a mere reordering goes with the next step
        steps[1] = replace(steps[1], before=raw)
        del steps[0]
    return steps


# --- the canonical form --------------------------------------------------------------------------
def _canonical(e: Expr) -> tuple[Expr, set[str]]:
    """``e`` rebuilt through the canonical constructors, and what they did on the way.

    A chain of raw products (a product whose factor is a raw product, as the chain rule builds
    them) is rebuilt once at its top, so a chain of n factors costs O(n), not O(n^2).
    """
    nodes = list(postorder([e]))
    inner = _inner_raw_products(nodes, e)
    new: dict[Expr, Expr] = {}
    events: set[str] = set()
    for node in nodes:
        if node in inner:
            continue
        if not node.args:
            new[node] = node
            continue
        if _raw_product(node):
            args = tuple(new[a] for a in _chain_factors(node, inner))
        else:
            args = tuple(new[a] for a in node.args)
        if isinstance(node, Add):
            events |= _sum_events(args)
        elif isinstance(node, Mul):
            events |= _product_events(args)
        new[node] = mul(*args) if isinstance(node, Mul) else with_args(node, args)
        if isinstance(node, Mul) and isinstance(new[node], Add):
            events.add("distribute")
    return new[e], events


def _raw_product(node: Expr) -> bool:
    return isinstance(node, Mul) and node._raw


def _inner_raw_products(nodes: list[Expr], root: Expr) -> set[Expr]:
    """Raw products whose every parent is a raw product."""
    outside: set[Expr] = {root}
    for n in nodes:
        if not _raw_product(n):
            outside.update(n.args)
    return {n for n in nodes if _raw_product(n) and n not in outside}


def _chain_factors(top: Expr, inner: set[Expr]) -> list[Expr]:
    factors: list[Expr] = []
    stack = [top]
    while stack:
        node = stack.pop()
        for a in reversed(node.args):
            if a in inner:
                stack.append(a)
            else:
                factors.append(a)
    return factors


def _flat(args: tuple[Expr, ...], kind: type) -> list[Expr]:
    out: list[Expr] = []
    stack = list(reversed(args))
    while stack:
        a = stack.pop()
        if isinstance(a, kind):
            stack.extend(reversed(a.args))
        else:
            out.append(a)
    return out


def _sum_events(args: tuple[Expr, ...]) -> set[str]:
    events: set[str] = set()
    terms = _flat(args, Add)
    if sum(isinstance(t, Num) for t in terms) > 1:
        events.add("arithmetic")
    coefficients: dict[Expr, list] = {}
    for t in terms:
        if not isinstance(t, Num):
            c, rest = split_coefficient(t)
            coefficients.setdefault(rest, []).append(c)
    for cs in coefficients.values():
        if len(cs) > 1:
            events.add("cancel" if sum(cs) == 0 else "collect like terms")
    return events


def _product_events(args: tuple[Expr, ...]) -> set[str]:
    events: set[str] = set()
    factors = _flat(args, Mul)
    numbers = [f for f in factors if isinstance(f, Num)]
    if len(numbers) > 1 and any(abs(n.value) != 1 for n in numbers):
        events.add("arithmetic")
    exponents: dict[Expr, list[Expr]] = {}
    for f in factors:
        if not isinstance(f, Num):
            base, exp = (f.base, f.exponent) if isinstance(f, Pow) else (f, Num(1))
            exponents.setdefault(base, []).append(exp)
    for exps in exponents.values():
        if len(exps) > 1:
            events.add("cancel" if add(*exps) is ZERO else "combine powers")
    return events


# --- identities ----------------------------------------------------------------------------------
Rewrite = Callable[[Expr], Optional[tuple[Expr, str, str]]]  # node -> (new node, text, LaTeX)


def _inverse(node: Expr):
    # log(exp(u)) -> u, exp(log(u)) -> u, sin(asin(u)) -> u, ...  (registry field `undoes`)
    if isinstance(node, Call) and len(node.args) == 1:
        inner = node.args[0]
        if isinstance(inner, Call) and len(inner.args) == 1 and inner.fn.name == node.fn.undoes:
            u = inner.args[0]
            return u, f"{node} = {u}", f"{latex(node)} = {latex(u)}"
    return None


def _squares(first: str, second: str, sign: int) -> Rewrite:
    """c*R*first(u)^2 + sign*c*R*second(u)^2 -> c*R  (for the pair first^2 + sign*second^2 = 1)."""

    def rewrite(node: Expr):
        if not isinstance(node, Add):
            return None
        terms = list(node.args)
        present = set(terms)
        for t in terms:
            for f in (t.args if isinstance(t, Mul) else (t,)):
                if not (isinstance(f, Pow) and isinstance(f.base, Call) and f.base.fn.name == first
                        and isinstance(f.exponent, Num) and f.exponent.is_integer
                        and f.exponent.value >= 2):
                    continue
                u = f.base.args[0]
                partner_call = lookup(second)(u)
                two = Num(2)
                partner = mul(Num(sign), t, power(partner_call, two), power(f.base, Num(-2)))
                if partner in present and partner is not t:
                    rest = [x for x in terms if x is not t and x is not partner]
                    new = add(*rest, mul(t, power(f.base, Num(-2))))
                    a, b = power(f.base, two), power(partner_call, two)
                    op = "+" if sign > 0 else "-"
                    return (new, f"{a} {op} {b} = 1",
                            f"{latex(a)} {op} {latex(b)} = 1")
        return None

    return rewrite


IDENTITIES: tuple[tuple[str, Rewrite], ...] = (
    ("inverse functions", _inverse),
    ("Pythagorean identity", _squares("sin", "cos", 1)),
    ("hyperbolic identity", _squares("cosh", "sinh", -1)),
)


def _rewrite_all(e: Expr, rewrite: Rewrite) -> tuple[Expr, list[tuple[str, str]]]:
    """``e`` rebuilt bottom-up with ``rewrite`` applied at every node (once per node)."""
    new: dict[Expr, Expr] = {}
    used: list[tuple[str, str]] = []
    for node in postorder([e]):
        current = with_args(node, tuple(new[a] for a in node.args)) if node.args else node
        for _ in range(len(current.args) + 1):  # a sum may hold several pairs
            done = rewrite(current)
            if done is None:
                break
            current = done[0]
            if (done[1], done[2]) not in used:
                used.append((done[1], done[2]))
        new[node] = current
    return new[e], used


def _final_name(current: Expr, final: Expr) -> str:
    if isinstance(current, Add) and isinstance(final, Mul):
        return "common factor"
    if isinstance(current, Mul) and isinstance(final, Add):
        return "expand"
    for names in (("minus sign into a sum",), ("numbers out of a sum",),
                  ("numbers out of a sum", "minus sign into a sum")):
        candidate: Optional[Expr] = current
        for name in names:
            candidate = _TIDY[name](candidate) if candidate is not None else None
        if candidate is final:
            return ", ".join(names)
    return "simplify"


def _numbers_out_of_sums(e: Expr) -> Optional[Expr]:
    # (x/2 + 1)*R -> (x + 2)*R/2: the numeric content of a sum factor joins the coefficient
    if not isinstance(e, Mul):
        return None
    coefficient, factors, changed = Fraction(1), [], False
    for f in e.args:
        content = rational_content(f) if isinstance(f, Add) else Fraction(1)
        if content != 1:
            f, coefficient, changed = mul(Num(1 / content), f), coefficient * content, True
        factors.append(f)
    return mul(Num(coefficient), *factors) if changed else None


def _sign_into_sum(e: Expr) -> Optional[Expr]:
    # -c*(1 - s)*R -> c*(s - 1)*R: the product's minus sign taken into a sum factor
    if not (isinstance(e, Mul) and isinstance(e.args[0], Num) and e.args[0].value < 0):
        return None
    factors = list(e.args[1:])
    for k, f in enumerate(factors):
        if isinstance(f, Add):
            negated = add(*(mul(Num(-1), t) for t in f.args))
            return mul(Num(-e.args[0].value), *factors[:k], negated, *factors[k + 1:])
    return None


_TIDY = {"minus sign into a sum": _sign_into_sum, "numbers out of a sum": _numbers_out_of_sums}
