"""One step of a derivation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from ..core.expr import Expr


@dataclass(frozen=True, eq=False)
class Step:
    """``d/dvar expr = result`` by ``rule``.

    ``expr`` and ``result`` are expressions in the original variables, and ``result`` is the
    derivative of ``expr``, so every step can be checked on its own.  ``substeps`` are the steps
    for the parts the rule needs (the factors of a product, the inner function of a chain, ...);
    ``note`` says what the rule was applied to, e.g. ``"u = x^2; d/du sin(u) = cos(u)"`` for the
    chain rule, and ``latex_note`` says the same in LaTeX (made when asked for).

    A simplification step rewrites the derivative of the whole expression: ``before`` is the
    form it starts from (equal in value to ``result``); for every other step ``before`` is None.
    """

    rule: str
    expr: Expr
    result: Expr
    substeps: tuple["Step", ...] = ()
    note: str = ""
    before: Optional[Expr] = field(default=None, repr=False)
    make_latex_note: Optional[Callable[[], str]] = field(default=None, repr=False)

    @property
    def latex_note(self) -> str:
        return self.make_latex_note() if self.make_latex_note is not None else ""

    @property
    def is_simplification(self) -> bool:
        return self.before is not None
