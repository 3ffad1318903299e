"""Step-by-step derivations: how a derivative comes about, rule by rule.

>>> import symcalc as sc
>>> d = sc.explain("x^2*sin(x)", "x")
>>> d.result is sc.diff("x^2*sin(x)", "x")
True
>>> [s.rule for s in d.steps[0].substeps]
['power', 'derivative of sin']
>>> d.steps[0].rule, d.steps[0].result
('product', Expr('(2*x)*sin(x) + x^2*cos(x)'))
>>> str(d).splitlines()[2]      # numbered and indented; also d.latex(), d.to_dict()
'2.    power: d/dx (x^2) = 2*x'

Every step states ``d/dx expr = result`` in the original variables, so each can be checked on its
own; simplification steps restate the derivative of the whole expression in a new form.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Iterable, Iterator, Sequence, TypeVar, Union

from ..api import diff
from ..language.arguments import ExprLike, VarLike, to_expr, to_symbol, to_symbols
from ..errors import SymcalcError
from ..core.expr import ZERO, Expr, Symbol
from ..matrix.api import MatrixExpr, is_shaped
from ..matrix.calculus import to_node, to_variables
from ..matrix.shapes import NoMatrixFormError, ShapeError, shape_words
from . import render
from .backprop import Backprop, backprop
from .rules import trace
from .step import Step
from .tangents import ForwardSweep, forward_sweep
from .tidy import simplification_steps

__all__ = ["Backprop", "Derivation", "Derivations", "ForwardSweep", "Step", "explain",
           "explain_hessian", "explain_successive", "with_steps"]


@dataclass(frozen=True, eq=False)
class Derivation:
    """The derivative of ``expr`` by ``var``, step by step.

    ``steps[0]`` differentiates ``expr`` by the rules (its ``substeps`` differentiate the parts);
    the steps after it simplify that derivative until it is ``result``, the very node
    ``sc.diff(expr, var)`` returns.
    """

    expr: Expr
    var: Symbol
    steps: list[Step]
    result: Expr

    def walk(self) -> Iterator[Step]:
        """Every distinct step once, in reading order."""
        for line in render.lines(self.steps):
            if line.see is None:
                yield line.step

    def __str__(self) -> str:
        return render.text(self.expr, self.var, self.steps, self.result)

    def latex(self) -> str:
        """An ``align*`` environment (amsmath): one line per step, the rule as ``\\text``."""
        return render.to_latex(self.expr, self.var, self.steps, self.result)

    def to_dict(self) -> dict:
        """JSON-ready: formulas as strings that ``symcalc.parse`` reads back."""
        return render.to_dict(self.expr, self.var, self.steps, self.result)

    def _repr_latex_(self) -> str:
        return self.latex()

    def __repr__(self) -> str:
        return f"Derivation(d/d{self.var} {self.expr} = {self.result}, {len(self.steps)} steps)"


class Derivations(list):
    """One ``Derivation`` per variable: the partial derivatives of one expression, explained."""

    @property
    def result(self) -> list[Expr]:
        """The partial derivatives: ``sc.grad``'s list."""
        return [d.result for d in self]

    def __str__(self) -> str:
        return "\n\n".join(str(d) for d in self)

    def latex(self) -> str:
        """One ``align*`` environment per variable."""
        return "\n".join(d.latex() for d in self)

    def to_dict(self) -> dict:
        """JSON-ready: ``{"variables": [...], "components": [one Derivation.to_dict() each]}``."""
        return {"variables": [d.var.name for d in self], "components": [d.to_dict() for d in self]}

    def _repr_latex_(self) -> str:
        return self.latex()


def explain(e: ExprLike, var: Union[VarLike, Iterable[VarLike]], *,
            shapes=None) -> Union[Derivation, Derivations, Backprop, ForwardSweep]:
    """How ``diff(e, var)`` comes about: a ``Derivation`` whose steps name the rules applied.

    With a list of variables, one ``Derivation`` per variable (a ``Derivations`` list), the
    partial derivatives that make up the gradient.  A shaped formula (``shapes=`` or a
    matrix-layer node) gives, for a scalar formula, a ``Backprop``: the forward pass and the
    adjoint steps of ``sc.grad(e, var)``; for a vector-valued formula by a vector, a
    ``ForwardSweep``: the forward pass and the Jacobian of each step, ending with
    ``sc.jacobian(e, var)``; and for a vector- or matrix-valued formula by a scalar, a
    ``ForwardSweep`` in tangent mode, ending with ``sc.diff(e, var, shapes=...)``.
    """
    if shapes is not None or is_shaped(e):
        f = to_node(e, shapes)
        xs = to_variables(f, var, shapes)
        made = [_explain_shaped(f, x) for x in xs]
        return made[0] if len(xs) == 1 and isinstance(var, (str, MatrixExpr)) \
            else Derivations(made)
    f = to_expr(e)
    if isinstance(var, (Symbol, str)) and len(to_symbols(var)) == 1:
        return _explain(f, to_symbol(var) if isinstance(var, Symbol) else to_symbols(var)[0])
    return Derivations(_explain(f, x) for x in to_symbols(var))


def _explain_shaped(f: MatrixExpr, x: MatrixExpr) -> Union[Backprop, ForwardSweep]:
    """The gradient of a scalar by reverse accumulation; the Jacobian of a vector by a vector,
    and the derivative of a vector or matrix by a scalar, by forward accumulation."""
    if not f.shape:
        return backprop(f, x)
    if f.ndim == 1 and x.ndim == 1 or not x.shape:
        return forward_sweep(f, x)
    raise NoMatrixFormError(f"explain of {shape_words(f.shape)} {f} by {shape_words(x.shape)} "
                            f"{x.data}: the derivative is a {f.ndim + x.ndim}-index tensor, and "
                            "steps are shown for gradients and for Jacobians of vectors by vectors")


MOST_EXPLAINED = 200  # differentiations explained one by one; a higher order is an error


def explain_successive(e: ExprLike, orders: Sequence[tuple[VarLike, int]], *,
                       shapes=None) -> Derivations:
    """One derivation per differentiation, in the order ``diff(e, x, n, y, m)`` performs them:
    ``[(x, 2), (y, 1)]`` explains d/dx e, then d/dx of that, then d/dy of that.  The last result is
    ``diff``'s.

    A shaped formula (``shapes=`` or a matrix-layer node) is differentiated the way
    ``sc.hessian`` does it: ``[(x, 2)]`` for a scalar formula and a vector ``x`` explains the
    gradient (``Backprop``), then the Jacobian of the gradient (``ForwardSweep``), whose result
    is ``sc.hessian(e, x)``; ``[(x, 1), (y, 1)]`` ends with the block ``d2e/dy dx``.  By a
    scalar parameter each derivative is a forward sweep in tangent mode, ending with
    ``sc.diff(e, s, n, shapes=...)``."""
    if shapes is not None or is_shaped(e):
        f = to_node(e, shapes)
        steps = [(x, count) for var, count in orders
                 for x in to_variables(f, [var] if isinstance(var, str) else var, shapes)]
        return _successive(f, steps, lambda g, x: forward_sweep(g, x) if not x.shape
                           else _explain_shaped(g, x), lambda g: g.kind == "zeros")
    return _successive(to_expr(e), [(to_symbol(var), count) for var, count in orders], _explain,
                       lambda g: g is ZERO)


def explain_hessian(e: ExprLike, variables: Union[VarLike, Iterable[VarLike]], *,
                    shapes=None) -> Derivations:
    """How ``sc.hessian(e, variables)`` comes about: for each variable ``xi``, the derivation of
    the first derivative by ``xi``, then for each variable ``xj`` the derivation of its
    derivative by ``xj``, whose result is the Hessian's entry (a shaped formula: block)
    ``[i][j]``.  For a shaped formula and a vector ``x``: the gradient by reverse accumulation,
    then its Jacobian by forward accumulation, ending with ``sc.hessian(e, x)``."""
    if shapes is not None or is_shaped(e):
        f = to_node(e, shapes)
        if f.shape:
            raise ShapeError(f"hessian needs a scalar formula, but {f} is {shape_words(f.shape)}")
        xs, one = to_variables(f, variables, shapes), _explain_shaped
    else:
        f, xs, one = to_expr(e), to_symbols(variables), _explain
    out = Derivations()
    for xi in xs:
        first = one(f, xi)
        out.append(first)
        out.extend(one(first.result, xj) for xj in xs)
    return out


def _successive(current, orders: Sequence[tuple], explain_one: Callable,
                is_zero: Callable) -> Derivations:
    out = Derivations()
    for x, count in orders:
        for _ in range(count):
            if out and is_zero(current):  # as diff does: every further derivative is 0
                break
            if len(out) == MOST_EXPLAINED:
                total = sum(n for _, n in orders)
                raise SymcalcError(f"the steps of {total} differentiations are too many to show: "
                                   f"at most {MOST_EXPLAINED} are explained (the derivative "
                                   f"itself needs no steps)")
            out.append(explain_one(current, x))
            current = out[-1].result
    return out


def _explain(f: Expr, x: Symbol) -> Derivation:
    top = trace(f, x)
    result = diff(f, x)
    return Derivation(f, x, [top, *simplification_steps(f, top.result, result)], result)


Answer = TypeVar("Answer")  # the command line's answer: a dataclass with text, latex and data


def with_steps(wanted: bool, derivations: Callable[[], Derivations], answer: Answer) -> Answer:
    """The command line's ``--steps``: the derivations, rule by rule, before the answer in text
    and LaTeX, and under ``"steps"`` in its JSON data."""
    if not wanted:
        return answer
    made = derivations()
    if not made:  # order 0: nothing was differentiated
        return replace(answer, data={**answer.data, "steps": []})
    return replace(answer, text=f"{made}\n\n{answer.text}", latex=f"{made.latex()}\n{answer.latex}",
                   data={**answer.data, "steps": [d.to_dict() for d in made]})
