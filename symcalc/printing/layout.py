"""Layouts of several expressions at once, as text and as LaTeX: matrices, labelled columns, tuples.

Single expressions are printed by ``printing``; this module arranges them for the command line,
the check report and ``symcalc.latex`` of a list.

>>> from symcalc.language.parser import parse
>>> print(text_labelled(["d/dx", "d/dy"], [parse("2*x*y"), parse("x^2")]))
d/dx = 2*x*y
d/dy = x^2
>>> print(latex_matrix([[parse("x")], [parse("y^2")]]))
\\begin{pmatrix}
x \\\\
y^{2}
\\end{pmatrix}
"""

from __future__ import annotations

from typing import Sequence

from ..core.expr import Expr, Symbol
from .infix import latex, to_str


def text_matrix(rows: Sequence[Sequence[Expr]]) -> str:
    """Rows in brackets with aligned columns."""
    cells = [[to_str(e) for e in row] for row in rows]
    widths = [max(len(row[j]) for row in cells) for j in range(len(cells[0]))]
    return "\n".join("[ " + "  ".join(c.ljust(w) for c, w in zip(row, widths)) + " ]"
                     for row in cells)


def text_labelled(labels: Sequence[str], values: Sequence[Expr]) -> str:
    """``label = value`` lines with the ``=`` signs aligned."""
    width = max(len(label) for label in labels)
    return "\n".join(f"{label.ljust(width)} = {to_str(v)}" for label, v in zip(labels, values))


def list_text(items: Sequence) -> str:
    """``[2*x*y, x^2]``; a list of lists as ``[[y, x], [cos(x), 0]]``."""
    return "[" + ", ".join(
        to_str(item) if isinstance(item, Expr) else list_text(item) for item in items
    ) + "]"


def latex_matrix(rows: Sequence) -> str:
    """A ``pmatrix`` (amsmath) of the rows; a flat list of expressions is a column."""
    if rows and all(isinstance(row, Expr) for row in rows):
        rows = [[e] for e in rows]
    body = " \\\\\n".join(" & ".join(latex(e) for e in row) for row in rows)
    return f"\\begin{{pmatrix}}\n{body}\n\\end{{pmatrix}}"


def latex_display(*lines: str) -> str:
    """Display math that pastes into a LaTeX document (matrices need amsmath)."""
    return "\n".join(f"\\[\n{line}\n\\]" for line in lines)


def latex_tuple(items: Sequence[Expr]) -> str:
    return "\\left(" + ", ".join(latex(e) for e in items) + "\\right)"


def strings(value):
    """Nested lists of expressions -> the same nesting of formula strings."""
    return to_str(value) if isinstance(value, Expr) else [strings(v) for v in value]


def latex_strings(value):
    """Nested lists of expressions -> the same nesting of LaTeX strings."""
    return latex(value) if isinstance(value, Expr) else [latex_strings(v) for v in value]


def names(variables: Sequence[Symbol]) -> list[str]:
    return [x.name for x in variables]
