"""The report of ``verify.check_gradient`` as text, LaTeX and JSON (for ``symcalc check``)."""

from __future__ import annotations

import math

from ..printing.layout import (latex_display, latex_matrix, latex_strings, names, strings,
                               text_labelled)
from ..printing.infix import latex, latex_name, to_str
from .verify import SAMPLE_RADIUS, GradientCheck

_BOX = f"[-{SAMPLE_RADIUS:g}, {SAMPLE_RADIUS:g}]"
_NO_POINTS = f"no point in {_BOX} where the formula and its gradient are finite: nothing checked"


def _verdict(agree: bool) -> str:
    return "agree" if agree else "DISAGREE"


def _symbolic_summary(report: GradientCheck) -> str:
    pending = [f"d/d{x}" for x, zero in zip(report.variables, report.symbolic_zero) if zero is False]
    skipped = [f"d/d{x}" for x, zero in zip(report.variables, report.symbolic_zero) if zero is None]
    if not pending and not skipped:
        return "symbolic difference simplifies to 0"
    parts = []
    if pending:
        parts.append(f"symbolic difference not shown to be 0 for {', '.join(pending)}")
    if skipped:
        parts.append(f"too large to simplify: {', '.join(skipped)}")
    return "; ".join(parts) + " (the values decide)"


def check_text(report: GradientCheck) -> str:
    """The report as plain text, with the table of finite-difference errors against the step."""
    n = len(report.points)
    held = ""
    if report.parameters:
        label = "parameters" if len(report.parameters) > 1 else "parameter"
        held = f" ({label} {', '.join(names(report.parameters))}: random at each point, held fixed)"
    lines = [f"check {report.function} by {', '.join(names(report.variables))} "
             f"at {n} random points in {_BOX}{held}",
             "", "gradient (symcalc)",
             "  " + text_labelled([f"d/d{x}" for x in report.variables], report.gradient)
             .replace("\n", "\n  "), ""]
    if n == 0:
        lines.append(_NO_POINTS)
        return "\n".join(lines)
    s, c = report.sympy, report.central
    lines += [f"(a) SymPy: {_symbolic_summary(report)}",
              f"    values: max abs difference {s.max_abs:.2e}, max rel difference {s.max_rel:.2e}"
              f"  ({s.compared} compared)  {_verdict(s.agree)}",
              "(b) central differences, h = eps^(1/3)*max(1, |x|):",
              f"    max abs error {c.max_abs:.2e}, max rel error {c.max_rel:.2e}  {_verdict(c.agree)}",
              "(c) largest finite-difference error against the step h (* marks the best h)",
              f"    {'h':>7}  {'forward':>10}   {'central':>10}"]
    best_f, best_c = report.best_forward, report.best_central
    for row in report.steps:
        mark_f = "*" if row is best_f else " "
        mark_c = "*" if row is best_c else " "
        lines.append(f"    {row.h:7.0e}  {row.forward:10.2e}{mark_f}  {row.central:10.2e}{mark_c}".rstrip())
    lines += [f"    best h: forward {best_f.h:.0e}, central {best_c.h:.0e}; below it rounding "
              "error (about eps*|f|/h) grows as h shrinks",
              "", "all checks agree" if report.ok else "CHECK FAILED: symcalc's gradient disagrees"]
    return "\n".join(lines)


def check_latex(report: GradientCheck) -> str:
    """The gradient as display math and the error table as a ``tabular``."""
    best_f, best_c = report.best_forward, report.best_central
    cell = lambda value, best: f"\\mathbf{{{_latex_number(value)}}}" if best else _latex_number(value)
    rows = [f"${_latex_number(row.h)}$ & ${cell(row.forward, row is best_f)}$ & "
            f"${cell(row.central, row is best_c)}$ \\\\" for row in report.steps]
    gradient = latex_matrix([[g] for g in report.gradient])
    display = latex_display(f"\\nabla_{{{', '.join(latex_name(x.name) for x in report.variables)}}} "
                            f"\\left({latex(report.function)}\\right) = {gradient}")
    if not len(report.points):
        return f"{display}\n{_NO_POINTS.capitalize()}."
    return "\n".join([
        display,
        "\\begin{tabular}{rrr}",
        "$h$ & forward error & central error \\\\",
        "\\hline", *rows, "\\end{tabular}"])


def _latex_number(x: float) -> str:
    """``2.5e-07 -> 2.50 \\cdot 10^{-7}``."""
    if x == 0 or not math.isfinite(x):
        return "0" if x == 0 else f"\\text{{{x}}}"
    mantissa, exponent = f"{x:.2e}".split("e")
    mantissa = "" if mantissa in ("1.00", "1") else f"{mantissa} \\cdot "
    return f"{mantissa}10^{{{int(exponent)}}}"


def check_data(report: GradientCheck) -> dict:
    """The check as JSON; a number that could not be computed (no usable point) is null."""
    number = lambda x: x if math.isfinite(x) else None
    comparison = lambda c: {"max_abs": number(c.max_abs), "max_rel": number(c.max_rel),
                            "compared": c.compared, "agree": c.agree}
    return {
        "command": "check", "input": to_str(report.function), "variables": names(report.variables),
        "result": strings(report.gradient), "latex": latex_strings(report.gradient),
        "parameters": names(report.parameters), "points": report.points.tolist(), "ok": report.ok,
        "sympy": {"symbolic_zero": report.symbolic_zero, **comparison(report.sympy)},
        "central_differences": comparison(report.central),
        "steps": [{"h": r.h, "forward": number(r.forward), "central": number(r.central)}
                  for r in report.steps],
        "best_h": {"forward": report.best_forward.h, "central": report.best_central.h}
        if len(report.points) else None,
    }
