"""The ``symcalc`` command line: parse the arguments, call the API, print the result.

Every subcommand produces an ``Answer`` holding the same result three ways (text, LaTeX and a
JSON-ready dict); ``--format`` picks one.  Exit status: 0 success, 1 ``check`` found a
disagreement, 2 bad input, 3 an internal error.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from dataclasses import dataclass
from typing import Callable, Sequence

from . import __version__, calculus
from .codegen import codegen
from .errors import ParseError
from .expr import Expr, Symbol
from .matrix.command import shaped_answer
from .parser import parse
from .printing import latex, latex_name, to_str
from .taylor import taylor
from .verify import SAMPLE_RADIUS, GradientCheck, check_gradient

OK, DISAGREE, BAD_INPUT, INTERNAL_ERROR = 0, 1, 2, 3


class UsageError(ValueError):
    """Bad command-line input that is not a formula error (a bad --at, an unknown variable)."""


@dataclass(frozen=True)
class Answer:
    """One result, ready to print in each format; ``status`` is the exit status."""

    text: str
    latex: str
    data: dict
    status: int = OK

    def render(self, fmt: str) -> str:
        if fmt == "json":
            return json.dumps(self.data, indent=2, ensure_ascii=False)
        return self.latex if fmt == "latex" else self.text


# --- reading the arguments -----------------------------------------------------------------------
def read_formula(text: str) -> str:
    """The formula itself, or standard input when it is ``-``."""
    if text.strip() != "-":
        return text
    source = sys.stdin.read()
    if not source.strip():
        raise UsageError("the formula '-' means standard input, but standard input is empty")
    return source


def resolve_variables(names: Sequence[str], formulas: Sequence[Expr]) -> list[Symbol]:
    """The variables as given; with none given, the formulas' variables in alphabetical order.

    A variable that occurs in none of the formulas is an error: it is almost always a typo.
    """
    free = frozenset().union(*(f.free_symbols for f in formulas))
    if not names:
        if not free:
            raise UsageError("the formula has no variables to differentiate by")
        return sorted(free, key=lambda s: s.name)
    variables = calculus.to_symbols(list(names))
    for x in variables:
        if x not in free:
            known = ", ".join(sorted(s.name for s in free)) or "none"
            raise UsageError(f"unknown variable {x}: the formula's variables are {known}")
    return variables


def parse_point(items: Sequence[str], formula: Expr) -> dict[Symbol, Expr]:
    """``["x=0", "y=1"]`` or ``["x=0, y=1"]`` -> {x: 0, y: 1}; unnamed variables stay parameters."""
    point: dict[Symbol, Expr] = {}
    for item in items:
        for piece in calculus.top_level_pieces(item):
            name, sep, value = piece.partition("=")
            if not sep or not name.strip() or not value.strip():
                raise UsageError(f"bad --at {piece.strip()!r}: write VARIABLE=VALUE, e.g. --at x=0")
            x = calculus.to_symbol(name.strip())
            if x in point:
                raise UsageError(f"bad --at: {x} is given twice")
            if x not in formula.free_symbols:
                known = ", ".join(sorted(s.name for s in formula.free_symbols)) or "none"
                raise UsageError(f"bad --at: unknown variable {x}: the formula's variables are {known}")
            point[x] = parse(value)
    if not items:
        point = {x: parse("0") for x in sorted(formula.free_symbols, key=lambda s: s.name)}
    for x in formula.free_symbols - set(point):
        point[x] = x
    return point


def order_argument(text: str) -> int:
    """argparse type for orders: an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"the order must be a whole number, not {text.strip()!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"the order must be >= 0, not {value}")
    return value


def count_argument(text: str) -> int:
    """argparse type for counts: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text.strip()!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, not {value}")
    return value


# --- layout helpers ------------------------------------------------------------------------------
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


def latex_matrix(rows: Sequence[Sequence[Expr]]) -> str:
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
    return latex(value) if isinstance(value, Expr) else [latex_strings(v) for v in value]


def names(variables: Sequence[Symbol]) -> list[str]:
    return [x.name for x in variables]


def describe(command: str, inputs, variables: Sequence[Symbol], result, **extra) -> dict:
    """The JSON form shared by all subcommands."""
    return {"command": command, "input": strings(inputs), "variables": names(variables),
            **extra, "result": strings(result), "latex": latex_strings(result)}


# --- the subcommands -----------------------------------------------------------------------------
def run_diff(args: argparse.Namespace) -> Answer:
    f = parse(read_formula(args.formula))
    xs = resolve_variables(args.variables, [f])
    if not args.variables and len(xs) > 1:
        raise UsageError(f"name the variable(s) to differentiate by: the formula has {', '.join(names(xs))}")
    spec = [item for x in xs for item in (x, args.order)]
    result = calculus.diff(f, *spec)
    lhs = _latex_derivative(f, xs, args.order)
    return Answer(to_str(result), latex_display(f"{lhs} = {latex(result)}"),
                  describe("diff", f, xs, result, order=args.order))


def _latex_derivative(f: Expr, xs: Sequence[Symbol], order: int) -> str:
    total = order * len(xs)
    if total == 0:
        return latex(f)
    d = "d" if len(f.free_symbols) <= 1 else "\\partial"
    power = lambda n: f"^{{{n}}}" if n > 1 else ""
    below = " ".join(f"{d} {latex_name(x.name)}{power(order)}" for x in reversed(xs))
    return f"\\frac{{{d}{power(total)}}}{{{below}}} \\left({latex(f)}\\right)"


def run_grad(args: argparse.Namespace) -> Answer:
    f = parse(read_formula(args.formula))
    xs = resolve_variables(args.variables, [f])
    result = calculus.grad(f, xs)
    column = [[g] for g in result]
    lhs = f"\\nabla_{{{', '.join(latex_name(x.name) for x in xs)}}} \\left({latex(f)}\\right)"
    return Answer(text_labelled([f"d/d{x}" for x in xs], result),
                  latex_display(f"{lhs} = {latex_matrix(column)}"),
                  describe("grad", f, xs, list(result)))


def run_jacobian(args: argparse.Namespace) -> Answer:
    fs = calculus.split_formulas(read_formula(args.formulas))
    xs = resolve_variables(args.variables, fs)
    result = [list(row) for row in calculus.jacobian(fs, xs)]
    lhs = f"J = \\frac{{\\partial {latex_tuple(fs)}}}{{\\partial {latex_tuple(xs)}}}"
    text, lines = text_matrix(result), [f"{lhs} = {latex_matrix(result)}"]
    extra = {}
    if args.det:
        det = calculus.jacobian_det(fs, xs)
        text += f"\n\ndet = {to_str(det)}"
        lines.append(f"\\det J = {latex(det)}")
        extra = {"det": to_str(det), "det_latex": latex(det)}
    data = describe("jacobian", fs, xs, result)
    data.update(extra)
    return Answer(text, latex_display(*lines), data)


def run_hessian(args: argparse.Namespace) -> Answer:
    f = parse(read_formula(args.formula))
    xs = resolve_variables(args.variables, [f])
    result = [list(row) for row in calculus.hessian(f, xs)]
    lhs = f"\\nabla^{{2}}_{{{', '.join(latex_name(x.name) for x in xs)}}} \\left({latex(f)}\\right)"
    return Answer(text_matrix(result), latex_display(f"{lhs} = {latex_matrix(result)}"),
                  describe("hessian", f, xs, result))


def run_taylor(args: argparse.Namespace) -> Answer:
    f = parse(read_formula(args.formula))
    point = parse_point(args.at, f)
    result = taylor(f, point, args.order)
    centre = {x: a for x, a in point.items() if a is not x}
    where_latex = ", ".join(f"{latex_name(x.name)} = {latex(a)}" for x, a in centre.items())
    note = f"\\quad \\text{{(order {args.order} at }} {where_latex}\\text{{)}}" if centre else ""
    data = describe("taylor", f, list(centre), result, order=args.order,
                    at={x.name: to_str(a) for x, a in centre.items()})
    return Answer(to_str(result), latex_display(f"{latex(f)} \\approx {latex(result)}{note}"), data)


def run_simplify(args: argparse.Namespace) -> Answer:
    f = parse(read_formula(args.formula))
    result = calculus.simplify(f)
    variables = sorted(f.free_symbols, key=lambda s: s.name)
    return Answer(to_str(result), latex_display(f"{latex(f)} = {latex(result)}"),
                  describe("simplify", f, variables, result))


def run_codegen(args: argparse.Namespace) -> Answer:
    f = parse(read_formula(args.formula))
    xs = calculus.to_symbols(list(args.variables)) if args.variables else \
        resolve_variables([], [f])
    missing = sorted(s.name for s in f.free_symbols - set(xs))
    if missing:
        raise UsageError(f"the formula also depends on {', '.join(missing)}: list every variable")
    functions: dict[str, object] = {args.name: f}
    if args.grad:
        functions[f"grad_{args.name}"] = calculus.grad(f, xs)
    if args.hessian:
        functions[f"hessian_{args.name}"] = calculus.hessian(f, xs)
    source = join_sources([codegen(value, xs, name) for name, value in functions.items()])
    data = {"command": "codegen", "input": to_str(f), "variables": names(xs),
            "functions": {name: strings(value) for name, value in functions.items()},
            "source": source}
    return Answer(source.rstrip("\n"), f"\\begin{{verbatim}}\n{source.rstrip()}\n\\end{{verbatim}}", data)


def join_sources(sources: Sequence[str]) -> str:
    """Generated functions as one module: the shared import lines once, then each function."""
    header = sources[0][:sources[0].index("def ")]
    bodies = [s[len(header):] if s.startswith(header) else s for s in sources]
    return header + "\n\n".join(body.rstrip("\n") + "\n" for body in bodies)


def run_check(args: argparse.Namespace) -> Answer:
    f = parse(read_formula(args.formula))
    xs = resolve_variables(args.variables, [f])
    report = check_gradient(f, xs, points=args.points, seed=args.seed)
    return Answer(check_text(report), check_latex(report), check_data(report),
                  OK if report.ok else DISAGREE)


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
    n = len(report.points)
    lines = [f"check {report.function} by {', '.join(names(report.variables))} "
             f"at {n} random points in {_BOX}",
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
        "points": report.points.tolist(), "ok": report.ok,
        "sympy": {"symbolic_zero": report.symbolic_zero, **comparison(report.sympy)},
        "central_differences": comparison(report.central),
        "steps": [{"h": r.h, "forward": number(r.forward), "central": number(r.central)}
                  for r in report.steps],
        "best_h": {"forward": report.best_forward.h, "central": report.best_central.h}
        if len(report.points) else None,
    }


COMMANDS: dict[str, Callable[[argparse.Namespace], Answer]] = {
    "diff": run_diff, "grad": run_grad, "jacobian": run_jacobian, "hessian": run_hessian,
    "taylor": run_taylor, "simplify": run_simplify, "codegen": run_codegen, "check": run_check,
}


# --- argument parser -----------------------------------------------------------------------------
_SUBCOMMANDS = [
    ("diff", "derivative, higher or mixed partial derivative",
     'symcalc diff "sin(x)*exp(x)" x\n  symcalc diff "x^3*y" x y          (d^2/dy dx)\n'
     '  symcalc diff "x^5" x --order 3\n  echo "tanh(x)" | symcalc diff - x --format latex'),
    ("grad", "gradient", 'symcalc grad "x^2*y + y^3" x y --format json'),
    ("jacobian", "Jacobian matrix of comma-separated functions",
     'symcalc jacobian "r*cos(t), r*sin(t)" r t --det'),
    ("hessian", "Hessian matrix", 'symcalc hessian "x^2*y + y^3" x y'),
    ("taylor", "Taylor polynomial", 'symcalc taylor "exp(x)" --at x=0 --order 4\n'
     '  symcalc taylor "exp(x)*sin(y)" --at x=0,y=1 --order 2'),
    ("simplify", "simplified form of a formula", 'symcalc simplify "sin(x)^2 + cos(x)^2 + log(exp(y))"'),
    ("codegen", "NumPy source of a formula (and its gradient, Hessian)",
     'symcalc codegen "logsumexp(a, b)" a b --grad'),
    ("check", "check the gradient against SymPy and finite differences",
     'symcalc check "sin(x)*exp(x)" x\n  symcalc check "log(1 + exp(w*x))" w x --points 20 --format json'),
]

_NOTES = """\
formulas: + - * / ^, functions such as sin exp log sqrt sigmoid softplus relu logsumexp;
  a formula '-' is read from standard input; quote formulas that contain spaces or * ( ).
variables are used in the order given; with none given, the formula's variables in
  alphabetical order.
exit status: 0 success, 1 check found a disagreement, 2 bad input, 3 internal error."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``symcalc`` command."""
    formats = argparse.ArgumentParser(add_help=False)
    formats.add_argument("--format", choices=["text", "latex", "json"], default="text",
                         help="output format (default: text)")
    examples = "\n  ".join(example.split("\n")[0] for _, _, example in _SUBCOMMANDS)
    parser = argparse.ArgumentParser(
        prog="symcalc", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Exact derivatives, gradients, Jacobians, Hessians and Taylor polynomials "
                    "of formulas, simplified.",
        epilog=f"examples:\n  {examples}\n\n{_NOTES}")
    parser.add_argument("--version", action="version", version=f"symcalc {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sub = {}
    for name, summary, example in _SUBCOMMANDS:
        sub[name] = commands.add_parser(
            name, parents=[formats], help=summary, description=summary[0].upper() + summary[1:] + ".",
            epilog=f"example:\n  {example}", formatter_class=argparse.RawDescriptionHelpFormatter)
    formula_help = "the formula ('-' reads it from standard input)"
    vars_help = "variables in order (default: the formula's, alphabetically)"
    for name in ("diff", "grad", "hessian", "taylor", "simplify", "codegen", "check"):
        sub[name].add_argument("formula", help=formula_help)
    for name in ("diff", "grad", "hessian", "codegen", "check"):
        sub[name].add_argument("variables", nargs="*", metavar="VAR", help=vars_help)
    sub["diff"].add_argument("--order", type=order_argument, default=1,
                             help="differentiate this many times by each variable (default: 1)")
    sub["jacobian"].add_argument("formulas", help="comma-separated functions ('-' reads stdin)")
    sub["jacobian"].add_argument("variables", nargs="*", metavar="VAR", help=vars_help)
    sub["jacobian"].add_argument("--det", action="store_true", help="also print the determinant")
    for name in ("grad", "hessian", "jacobian"):
        sub[name].add_argument("--shape", action="append", default=[], metavar="NAME=SIZES",
                               help="a vector or matrix in the formula: A=m,n or t=n (repeatable)")
    sub["taylor"].add_argument("--at", action="append", default=[], metavar="VAR=VALUE",
                               help="expansion point, e.g. x=0 or x=0,y=1 (repeatable; default: "
                                    "every variable at 0; variables not named stay parameters)")
    sub["taylor"].add_argument("--order", type=order_argument, default=2,
                               help="highest total degree (default: 2)")
    sub["codegen"].add_argument("--grad", action="store_true", help="also the gradient, grad_NAME")
    sub["codegen"].add_argument("--hessian", action="store_true",
                                help="also the Hessian, hessian_NAME")
    sub["codegen"].add_argument("--name", default="f", help="function name (default: f)")
    sub["check"].add_argument("--points", type=count_argument, default=10,
                              help="number of random points (default: 10)")
    sub["check"].add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    return parser


def _protect_leading_minus(argv: Sequence[str]) -> list[str]:
    """Let formulas and numbers start with '-' (``-x^2``, ``--order -1``): argparse would take
    them for options.  A leading space hides the dash from argparse and not from the parser."""
    return [" " + a if a.startswith("-") and not a.startswith("--") and a not in ("-", "-h") else a
            for a in argv]


# --- entry point ---------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(_protect_leading_minus(argv))
    except SystemExit as exit_:  # --help, --version and usage errors
        return int(exit_.code or 0)
    try:
        answer = Answer(*shaped_answer(args)) if getattr(args, "shape", None) else COMMANDS[args.command](args)
        print(answer.render(args.format))
        sys.stdout.flush()
        return answer.status
    except ParseError as exc:
        return _fail(str(exc))
    except (ValueError, TypeError, ZeroDivisionError) as exc:
        return _fail(str(exc))
    except (RecursionError, MemoryError):
        return _fail("the formula is too large or too deeply nested")
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`): nothing more to say
        return OK
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # never a traceback for the user, unless asked for
        if os.environ.get("SYMCALC_DEBUG"):
            raise
        print(f"symcalc: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return INTERNAL_ERROR


def _fail(message: str) -> int:
    print(f"symcalc: error: {message}", file=sys.stderr)
    return BAD_INPUT
