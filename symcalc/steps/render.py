"""A derivation as numbered, indented text, as a LaTeX ``align*`` environment, and as a dict.

Steps are numbered in reading order (a step before the steps of its parts).  A step met a second
time (the same subexpression differentiated again) is explained only the first time; after that
it is one line that refers back to it ("see step 3").  Steps without parts are short, so they are
simply repeated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from ..core.expr import Call, Constant, Expr, Num, Symbol
from ..printing.infix import latex, latex_name, to_str
from .step import Step


@dataclass(frozen=True)
class Line:
    number: int
    depth: int
    step: Step
    see: Optional[int]  # the number of the line that explains this step already


def lines(steps: Sequence[Step]) -> list[Line]:
    """The steps in reading order, numbered, each explained once."""
    out: list[Line] = []
    numbered: dict[int, int] = {}  # id(step) -> its number
    stack = [(s, 0) for s in reversed(steps)]
    while stack:
        step, depth = stack.pop()
        number = len(out) + 1
        seen = numbered.get(id(step)) if step.substeps else None
        out.append(Line(number, depth, step, seen))
        if seen is None:
            numbered.setdefault(id(step), number)
            stack.extend((s, depth + 1) for s in reversed(step.substeps))
    return out


def _operand(e: Expr) -> str:
    text = to_str(e)
    return text if isinstance(e, (Symbol, Num, Constant, Call)) and not text.startswith("-") \
        else f"({text})"


def text(f: Expr, var: Symbol, steps: Sequence[Step], result: Expr) -> str:
    numbered = lines(steps)
    width = len(str(len(numbered)))
    out = [f"d/d{var} {_operand(f)} = {to_str(result)}"]
    for line in numbered:
        s = line.step
        head = f"{str(line.number).rjust(width)}. {'   ' * line.depth}{s.rule}: "
        if s.is_simplification:
            body = f"= {to_str(s.result)}"
        else:
            body = f"d/d{var} {_operand(s.expr)} = {to_str(s.result)}"
        if line.see is not None:
            body += f"   (see step {line.see})"
        elif s.note:
            body += f"   ({s.note})"
        out.append(head + body)
    return "\n".join(out)


def derivative_latex(f: Expr, var: Symbol) -> str:
    """``\\frac{d}{dx}`` (``\\partial`` when ``f`` has other variables too)."""
    d = "d" if len(f.free_symbols) <= 1 else "\\partial "
    return f"\\frac{{{d.strip()}}}{{{d}{latex_name(var.name)}}}"


def to_latex(f: Expr, var: Symbol, steps: Sequence[Step], result: Expr) -> str:
    d = derivative_latex(f, var)
    rows = []
    for line in lines(steps):
        s = line.step
        left = "" if s.is_simplification else f"{d}\\left({latex(s.expr)}\\right) "
        label = f"\\text{{{line.number}. {_latex_text(s.rule)}}}"
        if line.see is not None:
            label += f"\\ \\text{{(see step {line.see})}}"
        elif s.latex_note:
            label = label[:-1] + ":}\\ " + s.latex_note
        rows.append(f"{left}&= {latex(s.result)} && {label}")
    if not rows:
        rows.append(f"{d}\\left({latex(f)}\\right) &= {latex(result)}")
    return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"


def _latex_text(text: str) -> str:
    """Text that is safe inside ``\\text{...}``."""
    for char in "\\{}$&#^_%~":
        text = text.replace(char, " " if char in "\\{}^~" else "\\" + char)
    return text


def to_dict(f: Expr, var: Symbol, steps: Sequence[Step], result: Expr) -> dict:
    """JSON-ready: formulas as strings that ``symcalc.parse`` reads back."""
    root: list[dict] = []
    parents: list[list[dict]] = [root]
    for line in lines(steps):
        del parents[line.depth + 1:]
        s = line.step
        entry: dict = {"number": line.number, "rule": s.rule, "expr": to_str(s.expr),
                       "result": to_str(s.result)}
        if s.is_simplification:
            entry["before"] = to_str(s.before)
        if line.see is not None:
            entry["see"] = line.see
        else:
            if s.note:
                entry["note"] = s.note
            if s.substeps:
                entry["substeps"] = []
        parents[line.depth].append(entry)
        if "substeps" in entry:
            parents.append(entry["substeps"])
    return {"variable": var.name, "expr": to_str(f), "result": to_str(result),
            "latex": to_latex(f, var, steps, result), "steps": root}
