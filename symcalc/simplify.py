"""Simplification: the canonical form plus a few identities, applied bottom-up once per node.

The constructors in ``symcalc.expr`` already give the canonical form (flattened, sorted, numbers
folded, like terms and equal bases collected).  ``simplify`` rebuilds a graph through them, which
also turns the raw graphs of reverse accumulation into readable formulas, and adds the rules
below.  Each rule keeps the value wherever the input is defined.  The result is cached on the
node, so a node shared by a whole gradient or Hessian is simplified once.
"""

from __future__ import annotations

from .expr import Add, Call, Expr, Mul, Num, Pow, add, mul, postorder, split_coefficient, with_args

_TWO = Num(2)


def simplify(e: Expr) -> Expr:
    """The simplest equivalent form symcalc knows of ``e``; idempotent."""
    for node in postorder([e], done=lambda n: n._simple is not None):
        candidate = with_args(node, tuple(a._simple for a in node.args)) if node.args else node
        better = _apply_rules(candidate)
        if better is not candidate:  # a rule fired: its result may simplify further
            candidate = simplify(better)
        node._simple = candidate
        candidate._simple = candidate
    return e._simple


def _apply_rules(node: Expr) -> Expr:
    if isinstance(node, Call):
        return _inverse_call(node)
    if isinstance(node, Add):
        return _pythagoras(node)
    return node


def _inverse_call(node: Call) -> Expr:
    # log(exp(x)) -> x, exp(log(x)) -> x, sin(asin(x)) -> x, ...  (registry field `undoes`)
    if len(node.args) == 1:
        inner = node.args[0]
        if isinstance(inner, Call) and len(inner.args) == 1 and inner.fn.name == node.fn.undoes:
            return inner.args[0]
    return node


def _pythagoras(node: Add) -> Expr:
    # c*R*sin(u)^2 + c*R*cos(u)^2 -> c*R
    found: dict[tuple, dict[str, tuple[Expr, Expr]]] = {}
    for term in node.args:
        coeff, rest = split_coefficient(term)
        factors = rest.args if isinstance(rest, Mul) else (rest,)
        for k, f in enumerate(factors):
            if (isinstance(f, Pow) and f.args[1] is _TWO and isinstance(f.args[0], Call)
                    and f.args[0].fn.name in ("sin", "cos")):
                others = factors[:k] + factors[k + 1:]
                key = (coeff, f.args[0].args[0], others)
                found.setdefault(key, {})[f.args[0].fn.name] = (term, mul(Num(coeff), *others))
    pairs = [v for v in found.values() if len(v) == 2]
    if not pairs:
        return node
    removed: set[Expr] = set()
    replacements = []
    for pair in pairs:
        (sin_term, product), (cos_term, _) = pair["sin"], pair["cos"]
        if sin_term in removed or cos_term in removed:
            continue
        removed.update((sin_term, cos_term))
        replacements.append(product)
    return add(*(t for t in node.args if t not in removed), *replacements)

