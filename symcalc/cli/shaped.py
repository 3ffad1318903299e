"""The command line for shaped formulas: ``--shape A=m,n --shape t=n`` on ``grad``,
``hessian``, ``jacobian``, ``diff`` (by scalar parameters), ``codegen`` and ``check`` (with
``--latex``, the formula is LaTeX).  Returns what
``symcalc.cli.main`` prints: text, LaTeX and a JSON-ready dict."""

from __future__ import annotations

import argparse

import numpy as np

from ..errors import SymcalcError
from ..language.latex import parse_latex
from ..matrix.calculus import diff, grad, hessian, jacobian
from ..matrix.parsing import check_shapes, parse_shaped
from ..matrix.printing import latex
from ..matrix.unroll import entry_slopes, unroll

_COMMANDS = {"grad": grad, "hessian": hessian, "jacobian": jacobian}
_SYMBOL = {"grad": "\\nabla_{%s}", "hessian": "\\nabla^{2}_{%s}", "jacobian": "J_{%s}"}


def shape_options(items: list[str]) -> dict[str, tuple]:
    """``["A=m,n", "t=n", "s="]`` -> ``{"A": ("m", "n"), "t": ("n",), "s": ()}``; a square
    matrix may end with a structure word: ``S=n,n,symmetric`` -> ``("n", "n", "symmetric")``."""
    shapes = {}
    for item in items:
        name, sep, sizes = item.partition("=")
        if not sep or not name.strip():
            raise SymcalcError(f"--shape {item!r}: write NAME=SIZES, e.g. A=m,n or t=n")
        parts = [p.strip() for p in sizes.split(",") if p.strip()]
        shapes[name.strip()] = tuple(int(p) if p.isdigit() else p for p in parts)
    return check_shapes(shapes)


def shaped_answer(args: argparse.Namespace) -> tuple:
    """Run ``grad``/``hessian``/``jacobian``/``diff``/``codegen``/``check`` on a shaped formula:
    (text, LaTeX, data) and, for ``check``, the exit status."""
    shapes = shape_options(args.shape)
    text = getattr(args, "formula", None) or args.formulas
    if getattr(args, "latex", False):  # --latex: as a paper writes it, \mathbf{x}^\top A x
        f = parse_latex(text, (), shapes)
    else:
        f = parse_shaped(text, shapes)
    if args.command == "diff":
        return _diff(f, list(args.variables), args.order, shapes)
    if args.command == "codegen":
        return _codegen(f, args, shapes)
    if args.command == "check":
        return _check(f, args, shapes)
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


def _diff(f, variables: list[str], order: int, shapes: dict) -> tuple[str, str, dict]:
    """``diff`` by scalar parameters of a shaped formula, shaped like it."""
    if not variables:
        raise SymcalcError("name the scalar parameter(s) to differentiate by")
    result = diff(f, tuple(item for v in variables for item in (v, order)), shapes)
    below = " ".join(f"\\partial {v}" + (f"^{{{order}}}" if order > 1 else "") for v in variables)
    total = order * len(variables)
    lhs = f"\\frac{{\\partial{'^{%d}' % total if total > 1 else ''}}}{{{below}}}"
    data = {"command": "diff", "input": str(f), "variables": variables, "order": order,
            "shapes": {k: list(v) for k, v in shapes.items()}, "result": str(result),
            "latex": latex(result), "result_shape": list(result.shape)}
    return str(result), f"\\[\n{lhs} \\left({latex(f)}\\right) = {latex(result)}\n\\]", data


def _variables(f, given: list[str]) -> list[str]:
    return list(given) or sorted(s.data for s in f.free_symbols)


def _codegen(f, args: argparse.Namespace, shapes: dict) -> tuple[str, str, dict]:
    """Standalone NumPy source of a shaped formula, with ``--grad`` and ``--hessian``."""
    from ..compiler.compile import codegen_module  # code generation is a layer above this one
    if getattr(args, "planned", False):
        raise SymcalcError("--planned does not apply to shaped formulas: their code has one form")
    variables = _variables(f, args.variables)
    functions = {args.name: f}
    if args.grad:
        functions[f"grad_{args.name}"] = grad(f, variables, shapes)
    if args.hessian:
        functions[f"hessian_{args.name}"] = hessian(f, variables, shapes)
    source = codegen_module(functions, variables, shapes=shapes)
    data = {"command": "codegen", "input": str(f), "variables": variables,
            "shapes": {k: list(v) for k, v in shapes.items()},
            "functions": {name: _strings(value) for name, value in functions.items()},
            "source": source}
    return (source.rstrip("\n"), f"\\begin{{verbatim}}\n{source.rstrip()}\n\\end{{verbatim}}",
            data)


def _strings(value):
    return [_strings(v) for v in value] if isinstance(value, list) else str(value)


CHECK_SIZES = (3, 2, 4, 5)  # distinct sizes for distinct size names: a transposition shows


def _check(f, args: argparse.Namespace, shapes: dict) -> tuple[str, str, dict, int]:
    """``check`` of a shaped formula: its matrix-form gradient, written out entry by entry at
    small distinct sizes, against SymPy's derivatives of the formula written out the same way
    and against central differences."""
    from ..checks.report import check_data, check_latex
    from ..checks.verify import check_gradient  # the check imports SymPy: only when asked for
    names = _variables(f, args.variables)
    symbols = {s.data: s for s in f.free_symbols}
    dims = sorted({d for s in f.free_symbols for d in s.shape if isinstance(d, str)})
    sizes = {d: CHECK_SIZES[k % len(CHECK_SIZES)] for k, d in enumerate(dims)}
    gradients = grad(f, names, shapes)
    entries, slopes = [], []
    for name, g in zip(names, gradients):
        x = symbols.get(name) or parse_shaped(name, shapes)
        # a symmetric matrix has one symbol per pair of entries
        symbols_of_x, slopes_of_x = entry_slopes(x, np.asarray(unroll(g, sizes), dtype=object),
                                                 sizes)
        entries += symbols_of_x
        slopes += slopes_of_x
    (written_out,) = np.asarray(unroll(f, sizes), dtype=object).ravel()
    report = check_gradient(written_out, entries, points=args.points, seed=args.seed,
                            gradient=slopes)
    at = ", ".join(f"{d} = {k}" for d, k in sizes.items()) or "no sizes"
    s, c = report.sympy, report.central
    lines = [f"check {f} by {', '.join(names)} at {len(report.points)} random points, "
             f"written out entry by entry with {at}", "", "gradient (symcalc, matrix form)"]
    lines += [f"  d/d{name} = {g}" for name, g in zip(names, gradients)]
    lines += ["", f"(a) SymPy, entry by entry: max abs difference {s.max_abs:.2e}, max rel "
              f"difference {s.max_rel:.2e} ({s.compared} compared)  {'agree' if s.agree else 'DISAGREE'}",
              f"(b) central differences: max abs error {c.max_abs:.2e}, max rel error "
              f"{c.max_rel:.2e}  {'agree' if c.agree else 'DISAGREE'}", "",
              "all checks agree" if report.ok else "CHECK FAILED: symcalc's gradient disagrees"]
    data = {**check_data(report), "input": str(f), "variables": names, "sizes": sizes,
            "shapes": {k: list(v) for k, v in shapes.items()}, "result": [str(g) for g in gradients]}
    return "\n".join(lines), check_latex(report), data, 0 if report.ok else 1
