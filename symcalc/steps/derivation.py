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
from ..matrix.shapes import ShapeError, shape_words
from . import render
from .backprop import Backprop, backprop
from .rules import trace
from .step import Step
from .tidy import simplification_steps

__all__ = ["Backprop", "Derivation", "Derivations", "Step", "explain", "explain_successive", "with_steps"]


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
            shapes=None) -> Union[Derivation, Derivations, Backprop]:
    """How ``diff(e, var)`` comes about: a ``Derivation`` whose steps name the rules applied.

    With a list of variables, one ``Derivation`` per variable (a ``Derivations`` list), the
    partial derivatives that make up the gradient.  A shaped formula (``shapes=`` or a
    matrix-layer node) gives a ``Backprop``: the forward pass and the adjoint steps of
    ``sc.grad(e, var)``.
    """
    if shapes is not None or is_shaped(e):
        f = to_node(e, shapes)
        if f.shape:
            raise ShapeError(f"explain needs a scalar formula, but {f} is {shape_words(f.shape)}")
        xs = to_variables(f, var, shapes)
        return backprop(f, xs[0]) if len(xs) == 1 and isinstance(var, (str, MatrixExpr)) \
            else Derivations(backprop(f, x) for x in xs)
    f = to_expr(e)
    if isinstance(var, (Symbol, str)) and len(to_symbols(var)) == 1:
        return _explain(f, to_symbol(var) if isinstance(var, Symbol) else to_symbols(var)[0])
    return Derivations(_explain(f, x) for x in to_symbols(var))


MOST_EXPLAINED = 200  # differentiations explained one by one; a higher order is an error


def explain_successive(e: ExprLike, orders: Sequence[tuple[VarLike, int]]) -> Derivations:
    """One derivation per differentiation, in the order ``diff(e, x, n, y, m)`` performs them:
    ``[(x, 2), (y, 1)]`` explains d/dx e, then d/dx of that, then d/dy of that.  The last result is
    ``diff``'s."""
    current, out = to_expr(e), Derivations()
    for var, count in orders:
        x = to_symbol(var)
        for _ in range(count):
            if out and current is ZERO:  # as diff does: every further derivative is 0
                break
            if len(out) == MOST_EXPLAINED:
                total = sum(n for _, n in orders)
                raise SymcalcError(f"the steps of {total} differentiations are too many to show: "
                                   f"at most {MOST_EXPLAINED} are explained (the derivative "
                                   f"itself needs no steps)")
            out.append(_explain(current, x))
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
