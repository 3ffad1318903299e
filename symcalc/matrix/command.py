"""The command line for shaped formulas: ``--shape A=m,n --shape t=n`` on ``grad``,
``hessian`` and ``jacobian`` (with ``--latex``, the formula is LaTeX).  Returns what
``symcalc.cli`` prints: text, LaTeX and a JSON-ready dict."""

from __future__ import annotations

import argparse

from ..errors import SymcalcError
from .calculus import grad, hessian, jacobian
from .parsing import check_shapes, parse_shaped
from .printing import latex

_COMMANDS = {"grad": grad, "hessian": hessian, "jacobian": jacobian}
_SYMBOL = {"grad": "\\nabla_{%s}", "hessian": "\\nabla^{2}_{%s}", "jacobian": "J_{%s}"}


def shape_options(items: list[str]) -> dict[str, tuple]:
    """``["A=m,n", "t=n", "s="]`` -> ``{"A": ("m", "n"), "t": ("n",), "s": ()}``."""
    shapes = {}
    for item in items:
        name, sep, sizes = item.partition("=")
        if not sep or not name.strip():
            raise SymcalcError(f"--shape {item!r}: write NAME=SIZES, e.g. A=m,n or t=n")
        parts = [p.strip() for p in sizes.split(",") if p.strip()]
        shapes[name.strip()] = tuple(int(p) if p.isdigit() else p for p in parts)
    return check_shapes(shapes)


def shaped_answer(args: argparse.Namespace) -> tuple[str, str, dict]:
    """Run ``grad``/``hessian``/``jacobian`` on a shaped formula: (text, LaTeX, data)."""
    shapes = shape_options(args.shape)
    text = getattr(args, "formula", None) or args.formulas
    if getattr(args, "latex", False):  # --latex: as a paper writes it, \mathbf{x}^\top A x
        from ..latex_input import parse_latex
        f = parse_latex(text, (), shapes)
    else:
        f = parse_shaped(text, shapes)
    variables = list(args.variables) or sorted(s.data for s in f.free_symbols if s.shape)
    if not variables:
        raise SymcalcError("name the variable(s) to differentiate by")
    results = [_COMMANDS[args.command](f, v, shapes) for v in variables]
    lines = [str(r) if len(variables) == 1 else f"d/d{v} = {r}" for v, r in zip(variables, results)]
    latex_lines = [f"{_SYMBOL[args.command] % v} \\left({latex(f)}\\right) = {latex(r)}"
                   for v, r in zip(variables, results)]
    data = {"command": args.command, "input": str(f), "variables": variables,
            "shapes": {k: list(v) for k, v in shapes.items()},
            "result": [str(r) for r in results], "latex": [latex(r) for r in results],
            "result_shapes": [list(r.shape) for r in results]}
    return "\n".join(lines), "\\[\n" + " \\\\\n".join(latex_lines) + "\n\\]", data
