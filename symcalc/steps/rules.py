"""The differentiation rules a textbook names, as one ordered table, and the trace they build.

A rule is ``(node, context) -> Plan | None``: the first row that returns a plan decides how a node
is differentiated.  A plan names the rule, lists the parts whose derivatives it needs (the terms
of a sum, the factors of a product, the inner function of a chain) and assembles the node's
derivative from theirs.  The assembled derivative is built with the raw constructors, so it shows
the rule as written (``(2*x)*sin(x) + x^2*cos(x)``); simplification comes after, as its own steps
(``symcalc.steps.tidy``).

Each function's rule comes from its registry entry: the name ``"derivative of NAME"`` and the
formula from the entry's ``partials``, so adding a function adds its rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from ..core.expr import (MINUS_ONE, ONE, ZERO, Add, Call, Expr, Mul, Num, Pow, Symbol, add,
                         make_call, mul, power, raw_add, raw_mul)
from ..core.expr import _new  # noqa: PLC2701  (raw nodes with more than two arguments)
from ..functions.elementary import log
from ..printing.infix import latex, latex_name
from .step import Step

Assemble = Callable[[Sequence[Expr]], Expr]  # derivatives of the parts -> derivative of the node


@dataclass(frozen=True)
class Plan:
    rule: str
    parts: tuple[Expr, ...]
    assemble: Assemble
    note: str = ""
    latex_note: Optional[Callable[[], str]] = None  # made only when a printer asks for it


@dataclass(frozen=True)
class Context:
    """The variable of differentiation and the placeholder names the notes use (``u``, ...)."""

    var: Symbol
    taken: frozenset[str]  # names of the expression's symbols: a placeholder must differ

    def depends(self, e: Expr) -> bool:
        return self.var in e.free_symbols

    def placeholder(self, k: int = 0) -> Symbol:
        """``u`` (or ``u1``, ``u2``, ... when k > 0), or another letter when the name is taken."""
        for letter in ("u", "v", "g", "h", "s", "t", "q", "r"):
            name = f"{letter}{k}" if k else letter
            if name not in self.taken:
                return Symbol(name)
        return Symbol(f"u_{k}_")  # every short name is a variable of the expression


def _sum(terms: Sequence[Expr]) -> Expr:
    """The terms as one flat raw sum (zeros dropped): ``a + b + c``, not ``(a + b) + c``."""
    flat: list[Expr] = []
    for t in terms:
        if t is ZERO:
            continue
        flat.extend(t.args if isinstance(t, Add) and t._raw else (t,))
    if len(flat) <= 2:
        return raw_add(*flat) if len(flat) == 2 else (flat[0] if flat else ZERO)
    args = tuple(flat)
    # a raw node as raw_add builds it, with n terms; simplify and the constructors read raw
    # sums with any number of terms
    return _new(Add, (Add, args), args, _raw=True)


def _minus(t: Expr) -> Expr:
    """``-t``, written ``-u*v`` rather than ``-(u*v)`` when t is a product."""
    if isinstance(t, Mul) and not isinstance(t.args[0], Num):
        args = (MINUS_ONE,) + t.args
        return _new(Mul, (Mul, args), args, _raw=True)
    return raw_mul(MINUS_ONE, t)


def _d(var: Symbol) -> tuple[str, str]:
    return f"d/d{var}", f"\\frac{{d}}{{d{latex_name(var.name)}}}"


# --- the rules -----------------------------------------------------------------------------------
def constant(node: Expr, ctx: Context) -> Optional[Plan]:
    # d/dx c = 0
    return None if ctx.depends(node) else Plan("constant", (), lambda ds: ZERO)


def variable(node: Expr, ctx: Context) -> Optional[Plan]:
    # d/dx x = 1
    return Plan("variable", (), lambda ds: ONE) if node is ctx.var else None


def sum_rule(node: Expr, ctx: Context) -> Optional[Plan]:
    # (u + v)' = u' + v'; the terms without x are one part, whose derivative is 0
    if not isinstance(node, Add):
        return None
    varying = [t for t in node.args if ctx.depends(t)]
    fixed = [t for t in node.args if not ctx.depends(t)]
    return Plan("sum", tuple(varying) + ((add(*fixed),) if fixed else ()), _sum)


def constant_multiple(node: Expr, ctx: Context) -> Optional[Plan]:
    # (c*u)' = c*u'
    if not isinstance(node, Mul):
        return None
    fixed = [f for f in node.args if not ctx.depends(f)]
    varying = [f for f in node.args if ctx.depends(f)]
    if not fixed:
        return None
    c = mul(*fixed)
    return Plan("constant multiple", (mul(*varying),), lambda ds: raw_mul(c, ds[0]))


def _is_reciprocal(f: Expr) -> bool:
    return isinstance(f, Pow) and isinstance(f.exponent, Num) and f.exponent.value < 0


def quotient(node: Expr, ctx: Context) -> Optional[Plan]:
    # (u/v)' = (u'*v - u*v')/v^2   (every factor depends on x: constants went first)
    if not isinstance(node, Mul):
        return None
    below = [f for f in node.args if _is_reciprocal(f)]
    above = [f for f in node.args if not _is_reciprocal(f)]
    if not below or not above:
        return None
    u = mul(*above)
    v = mul(*(power(f.base, Num(-f.exponent.value)) for f in below))

    def assemble(ds: Sequence[Expr]) -> Expr:
        du, dv = ds
        top = _sum([raw_mul(du, v), _minus(raw_mul(u, dv))])
        return raw_mul(top, power(v, Num(-2)))

    return Plan("quotient", (u, v), assemble, f"u = {u}, v = {v}",
                lambda: f"u = {latex(u)},\\ v = {latex(v)}")


def product(node: Expr, ctx: Context) -> Optional[Plan]:
    # (u*v)' = u'*v + u*v';  (u*v*w)' = u'*v*w + u*v'*w + u*v*w'
    if not isinstance(node, Mul):
        return None
    factors = node.args

    def assemble(ds: Sequence[Expr]) -> Expr:
        terms = []
        for i, df in enumerate(ds):
            others = mul(*factors[:i], *factors[i + 1:])
            terms.append(raw_mul(df, others) if i == 0 else raw_mul(others, df))
        return _sum(terms)

    return Plan("product", factors, assemble)


def power_rule(node: Expr, ctx: Context) -> Optional[Plan]:
    # (u^n)' = n*u^(n - 1)*u'   (n does not depend on x)
    if not isinstance(node, Pow) or ctx.depends(node.exponent):
        return None
    n = node.exponent
    rule = lambda u: raw_mul(n, power(u, add(n, MINUS_ONE)))  # noqa: E731
    shown = lambda u: mul(n, power(u, add(n, MINUS_ONE)))  # noqa: E731
    return _outer("power", node.base, ctx, rule, lambda u: power(u, n), shown)


def exponential(node: Expr, ctx: Context) -> Optional[Plan]:
    # (a^u)' = a^u*log(a)*u'   (a does not depend on x)
    if not isinstance(node, Pow) or ctx.depends(node.base):
        return None
    a = node.base
    return _outer("exponential", node.exponent, ctx, lambda u: raw_mul(power(a, u), log(a)),
                  lambda u: power(a, u), lambda u: mul(power(a, u), log(a)))


def general_power(node: Expr, ctx: Context) -> Optional[Plan]:
    # (u^v)' = u^v*(v'*log(u) + v*u'/u)
    if not isinstance(node, Pow):
        return None
    u, v = node.args

    def assemble(ds: Sequence[Expr]) -> Expr:
        du, dv = ds
        inner = _sum([raw_mul(dv, log(u)), raw_mul(raw_mul(v, du), power(u, MINUS_ONE))])
        return raw_mul(node, inner)

    return Plan("general power", (u, v), assemble,
                f"u = {u}, v = {v}; (u^v)' = u^v*(v'*log(u) + v*u'/u)",
                lambda: f"u = {latex(u)},\\ v = {latex(v)},\\ (u^v)' = u^v \\left(v' \\log u + "
                        f"\\frac{{v u'}}{{u}}\\right)")


def function(node: Expr, ctx: Context) -> Optional[Plan]:
    # f(u)' = f'(u)*u', with f' from the registry; several arguments: the sum over those that vary
    if not isinstance(node, Call):
        return None
    fn, args = node.fn, node.args
    name = f"derivative of {fn.name}"
    if len(args) == 1:
        return _outer(name, args[0], ctx, lambda u: fn.partials(u)[0],
                      lambda u: make_call(fn, (u,)), lambda u: fn.partials(u)[0])
    slots = [k for k, a in enumerate(args) if ctx.depends(a)]
    partials = node.partials()
    if all(args[k] is ctx.var for k in slots):
        return Plan(name, (), lambda ds: _sum([partials[k] for k in slots]))
    names = [ctx.placeholder(k + 1) for k in slots]
    shown_args = list(args)
    for k, u in zip(slots, names):
        shown_args[k] = u
    shown = make_call(fn, tuple(shown_args))
    shown_partials = shown.partials() if isinstance(shown, Call) else ()
    inner = ", ".join(f"{u} = {args[k]}" for k, u in zip(slots, names))
    formulas = "; ".join(f"d/d{u} {shown} = {shown_partials[k]}" for k, u in zip(slots, names))

    def latex_note() -> str:
        inner = ",\\ ".join(f"{latex(u)} = {latex(args[k])}" for k, u in zip(slots, names))
        formulas = ",\\ ".join(
            f"\\frac{{\\partial}}{{\\partial {latex(u)}}} {latex(shown)} = {latex(shown_partials[k])}"
            for k, u in zip(slots, names))
        return f"{inner},\\ \\text{{{name}: }} {formulas}"

    return Plan("chain", tuple(args[k] for k in slots),
                lambda ds: _sum([raw_mul(partials[k], d) for k, d in zip(slots, ds)]),
                f"{inner}; {name}: {formulas}", latex_note)


def _outer(rule: str, inner: Expr, ctx: Context, local: Callable[[Expr], Expr],
           outer: Callable[[Expr], Expr], shown: Callable[[Expr], Expr]) -> Plan:
    """``rule`` when the node applies to x itself, else the chain rule around ``inner``.

    ``local(u)`` is the outer derivative at u as the step shows it, ``outer(u)`` the outer
    function and ``shown(u)`` its derivative as the note states it.
    """
    if inner is ctx.var:
        return Plan(rule, (), lambda ds: local(inner))
    u = ctx.placeholder()
    d_text, d_latex = _d(u)
    note = f"{u} = {inner}; {rule}: {d_text} {outer(u)} = {shown(u)}"
    latex_note = lambda: (f"{latex(u)} = {latex(inner)},\\ \\text{{{rule}: }} {d_latex} "  # noqa: E731
                          f"{latex(outer(u))} = {latex(shown(u))}")
    return Plan("chain", (inner,), lambda ds: raw_mul(local(inner), ds[0]), note, latex_note)


RULES: tuple[Callable[[Expr, Context], Optional[Plan]], ...] = (
    constant, variable, sum_rule, constant_multiple, quotient, product,
    power_rule, exponential, general_power, function,
)


def plan(node: Expr, ctx: Context) -> Plan:
    for rule in RULES:
        found = rule(node, ctx)
        if found is not None:
            return found
    raise TypeError(f"no differentiation rule for {type(node).__name__} {node}")


# --- the trace -----------------------------------------------------------------------------------
def trace(e: Expr, var: Symbol) -> Step:
    """The step that differentiates ``e`` by ``var``, with the steps of its parts below it.

    Each distinct subexpression is differentiated once; a part met again is the same ``Step``
    object (the printers refer back to it).  Iterative, so depth is unbounded.
    """
    ctx = Context(var, frozenset(s.name for s in e.free_symbols))
    done: dict[Expr, Step] = {}
    plans: dict[Expr, Plan] = {}
    stack = [e]
    while stack:
        node = stack[-1]
        if node in done:
            stack.pop()
            continue
        if node not in plans:
            plans[node] = plan(node, ctx)
            waiting = [p for p in plans[node].parts if p not in done]
            if waiting:
                stack.extend(reversed(waiting))
                continue
        p = plans[node]
        waiting = [q for q in p.parts if q not in done]
        if waiting:  # a part is still being worked on below: the parts would form a cycle
            raise RuntimeError(f"the differentiation rules for {node} form a cycle")
        substeps = tuple(done[q] for q in p.parts)
        result = p.assemble([s.result for s in substeps])
        done[node] = Step(p.rule, node, result, substeps, p.note, make_latex_note=p.latex_note)
        stack.pop()
    return done[e]
