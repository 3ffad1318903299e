"""The ``symcalc`` command line: parse the arguments, call the API, print the result.

Every subcommand produces an ``Answer`` holding the same result three ways (text, LaTeX and a
JSON-ready dict); ``--format`` picks one.  Exit status: 0 success, 1 ``check`` found a
disagreement, 2 bad input, 3 an internal error.  With ``--format json`` an error is a JSON object
on standard output (``{"error": ...}``, with ``"line"``, ``"column"`` and ``"expected"`` for an
error shown with a caret: a formula that does not parse, shapes that do not fit); otherwise it is
one line on standard error.  A variable that does not occur in the formula is no error (a
derivative by it is 0, as in the API); a note on standard error says so.
"""

from __future__ import annotations

import argparse
import json
import keyword
import os
import sys
from dataclasses import dataclass
from typing import Callable, Sequence

from .. import __version__, api as calculus
from ..checks.answers import check_answer, read_answer
from ..checks.report import check_data, check_latex, check_text
from ..compiler.compile import codegen_module
from ..checks.equivalence import equivalent
from ..language.arguments import to_symbol, to_symbols, top_level_pieces
from ..errors import ParseError, SymcalcError
from ..core.expr import Expr, Symbol
from ..printing.layout import (latex_display, latex_matrix, latex_strings, latex_tuple, names,
                               strings, text_labelled, text_matrix)
from .shaped import shape_options, shaped_answer
from ..matrix.parsing import parse_shaped
from ..language.parser import COMMAND_LINE_PHRASING, PHRASING, parse
from ..printing.infix import latex, latex_name, to_str
from ..steps.derivation import Derivations, explain, explain_hessian, explain_successive, with_steps
from ..calculus.taylor import taylor
from ..checks.verify import check_gradient

OK, DISAGREE, BAD_INPUT, INTERNAL_ERROR = 0, 1, 2, 3


class UsageError(SymcalcError):
    """Bad command-line input that is not a formula error (a bad --at, an empty standard input)."""


class BadArguments(UsageError):
    """Arguments argparse refuses; raised instead of exiting, so that the error can be JSON."""

    def __init__(self, parser: argparse.ArgumentParser, message: str):
        super().__init__(message)
        self.parser = parser


class RaisingParser(argparse.ArgumentParser):
    """argparse's parser, raising ``BadArguments`` for bad arguments instead of exiting."""

    def error(self, message: str):
        raise BadArguments(self, message)


@dataclass(frozen=True)
class Answer:
    """One result, ready to print in each format; ``status`` is the exit status."""

    text: str
    latex: str
    data: dict | list
    status: int = OK

    @classmethod
    def joined(cls, answers: Sequence["Answer"]) -> "Answer":
        """The answers to several formulas, in order: texts one a line (a blank line between
        answers of several lines), JSON a list, exit status the worst."""
        gap = "\n\n" if any("\n" in a.text for a in answers) else "\n"
        return cls(gap.join(a.text for a in answers), "\n".join(a.latex for a in answers),
                   [a.data for a in answers], max(a.status for a in answers))

    def render(self, fmt: str) -> str:
        if fmt == "json":
            return json.dumps(self.data, indent=2, ensure_ascii=False)
        return self.latex if fmt == "latex" else self.text


# --- reading the arguments -----------------------------------------------------------------------
def standard_input_lines() -> tuple[str, list[tuple[int, str]]]:
    """Standard input, for a formula ``-``, and its non-blank lines with their line numbers."""
    source = sys.stdin.read()
    lines = [(k, line) for k, line in enumerate(source.split("\n"), 1) if line.strip()]
    if not lines:
        raise UsageError("the formula '-' means standard input, but standard input is empty")
    return source, lines


def relocated(error: SymcalcError, source: str, line: int, column_offset: int = 0) -> SymcalcError:
    """``error``, found in the text that starts at ``line`` (and, on that line, after
    ``column_offset`` characters) of ``source``, shown in ``source``.  Errors without a place
    come back as they are."""
    if getattr(error, "text", None) is None or not hasattr(error, "line"):
        return error
    where = line + error.line - 1, error.column + (column_offset if error.line == 1 else 0)
    if isinstance(error, ParseError):
        return ParseError(error.reason, source, *where, error.expected)
    return error.located(source, *where)


def formulas_of(text: str, functions: Sequence[str] = (), commas: bool = True,
                latex: bool = False) -> list[Expr]:
    """The formulas of ``text``, one a line (blank lines skipped); with ``commas``, also
    separated by commas (not those inside calls), and a comma may end a line.  ``functions``:
    the abstract functions they call; ``latex``: they are LaTeX."""
    formulas = []
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        pieces = top_level_pieces(line) if commas else [line]
        if len(pieces) > 1 and not pieces[-1].strip():
            pieces.pop()
        offset = 0
        for piece in pieces:
            try:
                formulas.append(parse(piece, functions=functions, latex=latex))
            except ParseError as exc:
                raise relocated(exc, text, number, offset) from None
            offset += len(piece) + 1
    return formulas or [parse(text, latex=latex)]  # no formula at all: parse says so


def read(text: str, args: argparse.Namespace) -> Expr:
    """The formula of a subcommand: ``--functions`` and ``--latex`` as given."""
    return parse(text, functions=args.functions, latex=args.latex)


def resolve_variables(names: Sequence[str], formulas: Sequence[Expr], *,
                      repeats: bool = False) -> list[Symbol]:
    """The variables as given; with none given, the formulas' variables in alphabetical order.

    ``repeats`` allows a variable more than once (``diff f x x``).  A variable that occurs in none
    of the formulas is allowed (the derivative by it is 0), with a note, as it is often a typo.
    """
    free = frozenset().union(*(f.free_symbols for f in formulas))
    if not names:
        if not free:
            raise UsageError("the formula has no variables to differentiate by")
        return sorted(free, key=lambda s: s.name)
    variables = [to_symbol(n) for n in names] if repeats else to_symbols(list(names))
    for x in dict.fromkeys(variables):
        if x not in free:
            note_absent(x, free)
    return variables


def note_absent(x: Symbol, free: frozenset[Symbol]) -> None:
    """Say on standard error that ``x`` does not occur in the formula (likely a typo)."""
    known = ", ".join(sorted(s.name for s in free)) or "none"
    print(f"symcalc: note: {x} does not occur in the formula (its variables: {known})",
          file=sys.stderr)


def parse_point(items: Sequence[str], formula: Expr) -> dict[Symbol, Expr]:
    """``["x=0", "y=1"]`` or ``["x=0, y=1"]`` -> {x: 0, y: 1}; unnamed variables stay parameters."""
    point: dict[Symbol, Expr] = {}
    for item in items:
        for piece in top_level_pieces(item):
            name, sep, value = piece.partition("=")
            if not sep or not name.strip() or not value.strip():
                raise UsageError(f"bad --at {piece.strip()!r}: write VARIABLE=VALUE, e.g. --at x=0")
            x = to_symbol(name.strip())
            if x in point:
                raise UsageError(f"bad --at: {x} is given twice")
            if x not in formula.free_symbols:
                note_absent(x, formula.free_symbols)
            point[x] = parse(value)
    if not items:
        point = {x: parse("0") for x in sorted(formula.free_symbols, key=lambda s: s.name)}
    for x in formula.free_symbols - set(point):
        point[x] = x
    return point


def whole_number(what: str, minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer >= ``minimum``; ``what`` names it in the message."""

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be a whole number, not {text.strip()!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{what} must be >= {minimum} (at least {minimum}), not {value}")
        return value

    return convert


def function_names(text: str) -> list[str]:
    """An argparse type: ``"f,g"`` or ``"f g"`` -> ["f", "g"] (checked when a formula is read)."""
    return text.replace(",", " ").split()


def function_name(text: str) -> str:
    """An argparse type: a Python identifier for generated code."""
    if not (text.isidentifier() and text.isascii() and not keyword.iskeyword(text)):
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid function name")
    return text


# --- the subcommands -----------------------------------------------------------------------------
def describe(command: str, inputs, variables: Sequence[Symbol], result, **extra) -> dict:
    """The JSON form shared by all subcommands."""
    return {"command": command, "input": strings(inputs), "variables": names(variables),
            **extra, "result": strings(result), "latex": latex_strings(result)}


def run_diff(args: argparse.Namespace) -> Answer:
    f = read(args.formula, args)
    xs = resolve_variables(args.variables, [f], repeats=True)
    if not args.variables and len(xs) > 1:
        raise UsageError(f"name the variable(s) to differentiate by: the formula has {', '.join(names(xs))}")
    spec = [item for x in xs for item in (x, args.order)]
    result = calculus.diff(f, *spec)
    lhs = _latex_derivative(f, xs, args.order)
    return with_steps(args.steps, lambda: explain_successive(f, [(x, args.order) for x in xs]),
                      Answer(to_str(result), latex_display(f"{lhs} = {latex(result)}"),
                             describe("diff", f, xs, result, order=args.order)))


def _latex_derivative(f: Expr, xs: Sequence[Symbol], order: int) -> str:
    total = order * len(xs)
    if total == 0:
        return latex(f)
    d = "d" if len(f.free_symbols) <= 1 else "\\partial"
    power = lambda n: f"^{{{n}}}" if n > 1 else ""
    runs: list[list] = []  # x y y -> [[y, 2], [x, 1]]: repeated variables as one power
    for x in reversed(xs):
        if runs and runs[-1][0] is x:
            runs[-1][1] += order
        else:
            runs.append([x, order])
    below = " ".join(f"{d} {latex_name(x.name)}{power(n)}" for x, n in runs)
    return f"\\frac{{{d}{power(total)}}}{{{below}}} \\left({latex(f)}\\right)"


def run_grad(args: argparse.Namespace) -> Answer:
    f = read(args.formula, args)
    xs = resolve_variables(args.variables, [f])
    result = calculus.grad(f, xs)
    column = [[g] for g in result]
    lhs = f"\\nabla_{{{', '.join(latex_name(x.name) for x in xs)}}} \\left({latex(f)}\\right)"
    return with_steps(args.steps, lambda: explain(f, xs),
                      Answer(text_labelled([f"d/d{x}" for x in xs], result),
                             latex_display(f"{lhs} = {latex_matrix(column)}"),
                             describe("grad", f, xs, list(result))))


def run_shaped(args: argparse.Namespace) -> Answer:
    """``--shape``: the matrix layer's answer; with ``--steps``, its derivation: the
    backpropagation of a gradient, the forward sweep of a Jacobian, both for a Hessian."""
    answer = Answer(*shaped_answer(args))
    if not getattr(args, "steps", False):
        return answer
    shapes = shape_options(args.shape)
    f = parse_shaped(answer.data["input"], shapes)
    variables = answer.data["variables"]
    if args.command == "hessian":  # one Hessian per variable, as the answer gives them
        return with_steps(True, lambda: Derivations(
            d for v in variables for d in explain_hessian(f, v, shapes=shapes)), answer)
    if args.command == "diff":  # by scalar parameters, as diff differentiates
        return with_steps(True, lambda: explain_successive(
            f, [(v, args.order) for v in variables], shapes=shapes), answer)
    return with_steps(True, lambda: Derivations(explain(f, v, shapes=shapes) for v in variables),
                      answer)


def run_jacobian(args: argparse.Namespace) -> Answer:
    fs = formulas_of(args.formulas, args.functions, latex=args.latex)
    xs = resolve_variables(args.variables, fs)
    result = [list(row) for row in calculus.jacobian(fs, xs)]
    lhs = f"J = \\frac{{\\partial {latex_tuple(fs)}}}{{\\partial {latex_tuple(xs)}}}"
    text, lines = text_matrix(result), [f"{lhs} = {latex_matrix(result)}"]
    extra = {}
    if args.det or args.absolute:
        det = calculus.jacobian_det(fs, xs, absolute=args.absolute)
        label, latex_label = ("|det|", "\\left|\\det J\\right|") if args.absolute else ("det", "\\det J")
        text += f"\n\n{label} = {to_str(det)}"
        lines.append(f"{latex_label} = {latex(det)}")
        extra = {"det": to_str(det), "det_latex": latex(det), "absolute": args.absolute}
    data = describe("jacobian", fs, xs, result)
    data.update(extra)
    return with_steps(args.steps, lambda: Derivations(explain(g, x) for g in fs for x in xs),
                      Answer(text, latex_display(*lines), data))


def run_hessian(args: argparse.Namespace) -> Answer:
    f = read(args.formula, args)
    xs = resolve_variables(args.variables, [f])
    result = [list(row) for row in calculus.hessian(f, xs)]
    lhs = f"\\nabla^{{2}}_{{{', '.join(latex_name(x.name) for x in xs)}}} \\left({latex(f)}\\right)"
    return with_steps(args.steps, lambda: explain_hessian(f, xs),
                      Answer(text_matrix(result), latex_display(f"{lhs} = {latex_matrix(result)}"),
                             describe("hessian", f, xs, result)))


def run_taylor(args: argparse.Namespace) -> Answer:
    f = read(args.formula, args)
    point = parse_point(args.at, f)
    result = taylor(f, point, args.order)
    centre = {x: a for x, a in point.items() if a is not x}
    where_latex = ", ".join(f"{latex_name(x.name)} = {latex(a)}" for x, a in centre.items())
    note = f"\\quad \\text{{(order {args.order} at }} {where_latex}\\text{{)}}" if centre else ""
    data = describe("taylor", f, list(centre), result, order=args.order,
                    at={x.name: to_str(a) for x, a in centre.items()})
    return Answer(to_str(result), latex_display(f"{latex(f)} \\approx {latex(result)}{note}"), data)


def run_simplify(args: argparse.Namespace) -> Answer:
    f = read(args.formula, args)
    result = calculus.simplify(f)
    variables = sorted(f.free_symbols, key=lambda s: s.name)
    return Answer(to_str(result), latex_display(f"{latex(f)} = {latex(result)}"),
                  describe("simplify", f, variables, result))


def run_codegen(args: argparse.Namespace) -> Answer:
    fs = formulas_of(args.formula, args.functions, commas=False, latex=args.latex)
    xs = to_symbols(list(args.variables)) if args.variables else resolve_variables([], fs)
    missing = sorted(s.name for s in frozenset().union(*(f.free_symbols for f in fs)) - set(xs))
    if missing:
        raise UsageError(f"the formula also depends on {', '.join(missing)}: list every variable")
    functions: dict[str, object] = {}
    for k, f in enumerate(fs, 1):
        name = args.name if len(fs) == 1 else f"{args.name}_{k}"
        functions[name] = f
        if args.grad:
            functions[f"grad_{name}"] = calculus.grad(f, xs)
        if args.hessian:
            functions[f"hessian_{name}"] = calculus.hessian(f, xs)
    source = codegen_module(functions, xs, planned=args.planned)
    data = {"command": "codegen", "input": to_str(fs[0]) if len(fs) == 1 else strings(fs),
            "variables": names(xs),
            "functions": {name: strings(value) for name, value in functions.items()},
            "source": source}
    return Answer(source.rstrip("\n"), f"\\begin{{verbatim}}\n{source.rstrip()}\n\\end{{verbatim}}", data)


def run_check(args: argparse.Namespace) -> Answer:
    f = read(args.formula, args)
    xs = resolve_variables(args.variables, [f])
    report = check_gradient(f, xs, points=args.points, seed=args.seed)
    return Answer(check_text(report), check_latex(report), check_data(report),
                  OK if report.ok else DISAGREE)


def run_check_answer(args: argparse.Namespace) -> Answer:
    f = parse(args.formula, functions=args.functions)
    xs = to_symbols(args.variable)
    pieces = [read_answer(p) for p in top_level_pieces(args.answer)] if len(xs) > 1 else None
    report = check_answer(f, xs if pieces else xs[0], pieces or read_answer(args.answer))
    mark = {True: "\\checkmark", False: "\\times", None: "?"}[report.correct]
    shown = report.answer if isinstance(report.answer, list) else [report.answer]
    lhs = _latex_derivative(f, xs, 1) if len(xs) == 1 else f"\\nabla \\left({latex(f)}\\right)"
    data = {"command": "check-answer", "input": to_str(f), "variables": names(xs),
            **report.to_dict()}
    rhs = latex(shown[0]) if len(shown) == 1 else latex_tuple(shown)
    return Answer(report.message, latex_display(f"{lhs} = {rhs} \\quad {mark}"), data,
                  OK if report.correct else DISAGREE)


def run_equivalent(args: argparse.Namespace) -> Answer:
    a = parse(args.formula, functions=args.functions)
    b = parse(args.other, functions=args.functions)
    verdict = equivalent(a, b)
    word = {True: "equal", False: "not equal", None: "undecided"}[verdict.equal]
    relation = {True: "\\equiv", False: "\\not\\equiv", None: "\\overset{?}{=}"}[verdict.equal]
    data = {"command": "equivalent", "input": [to_str(a), to_str(b)], **verdict.to_dict()}
    return Answer(f"{word}: {verdict.reason}", latex_display(f"{latex(a)} {relation} {latex(b)}"),
                  data, OK if verdict else DISAGREE)


def run_serve(args: argparse.Namespace) -> Answer:
    from ..web import serve  # the web page: loaded only for this subcommand

    if args.port > 65535:
        raise UsageError(f"the port must be at most 65535, not {args.port}")
    try:
        serve(args.port, open_browser=not args.no_browser)
    except OSError as exc:
        raise UsageError(f"cannot serve on 127.0.0.1:{args.port}: {exc.strerror or exc}; "
                         "choose another --port, or leave it out for a free one") from None
    return Answer("symcalc: stopped serving", "", {"command": "serve", "stopped": True})


# --- the table of subcommands ----------------------------------------------------------------------
def arg(*flags: str, **options) -> tuple[tuple[str, ...], dict]:
    """One ``add_argument`` call: its flags and options."""
    return flags, options


@dataclass(frozen=True)
class Subcommand:
    """One row of the command table: everything argparse and dispatch need for a subcommand."""

    name: str
    help: str
    example: str  # the first line also goes into the main --help
    arguments: tuple[tuple[tuple[str, ...], dict], ...]
    runner: Callable[[argparse.Namespace], Answer]


FORMULA = arg("formula", help="the formula ('-' reads standard input, one formula a line)")
VARIABLES = arg("variables", nargs="*", metavar="VAR",
                help="variables in order (default: the formula's, alphabetically)")
SHAPE = arg("--shape", action="append", default=[], metavar="NAME=SIZES",
            help="a vector or matrix in the formula: A=m,n or t=n, a symmetric or diagonal "
                 "matrix S=n,n,symmetric or D=n,n,diagonal (repeatable)")
STEPS = arg("--steps", action="store_true", help="show the derivation rule by rule")
FUNCTIONS = arg("--functions", action="extend", type=function_names, default=[], metavar="F,G",
                help="abstract functions the formula calls, e.g. --functions f,g (repeatable)")
LATEX = arg("--latex", action="store_true",
            help=r"read the formula as LaTeX, e.g. '\frac{1}{1 + e^{-x}}', or with --shape "
                 r"'\mathbf{x}^\top A \mathbf{x}' (--format latex is the output's)")

SUBCOMMANDS = (
    Subcommand("diff", "derivative, higher or mixed partial derivative",
               'symcalc diff "sin(x)*exp(x)" x\n  symcalc diff "x^3*y" x y          (d^2/dy dx)\n'
               '  symcalc diff "x^3*y" x x          (d^2/dx^2)\n'
               '  symcalc diff "x^5" x --order 3\n  echo "tanh(x)" | symcalc diff - x --format latex',
               (FORMULA, VARIABLES,
                arg("--order", type=whole_number("the order", 0), default=1,
                    help="differentiate this many times by each variable (default: 1)"),
                STEPS, SHAPE, FUNCTIONS, LATEX),
               run_diff),
    Subcommand("grad", "gradient", 'symcalc grad "x^2*y + y^3" x y --format json',
               (FORMULA, VARIABLES, STEPS, SHAPE, FUNCTIONS, LATEX), run_grad),
    Subcommand("jacobian", "Jacobian matrix of comma-separated functions",
               'symcalc jacobian "r*cos(t), r*sin(t)" r t --det\n'
               '  symcalc jacobian "r*cos(t), r*sin(t)" r t --absolute   (|det J| = abs(r))',
               (arg("formulas", help="functions separated by commas or lines ('-' reads stdin)"),
                VARIABLES,
                arg("--det", action="store_true", help="also print the determinant"),
                arg("--absolute", action="store_true",
                    help="also print |det J|, the factor of a change of variables"),
                STEPS, SHAPE, FUNCTIONS, LATEX),
               run_jacobian),
    Subcommand("hessian", "Hessian matrix",
               'symcalc hessian "x^2*y + y^3" x y\n'
               '  symcalc hessian "sum(sigmoid(W@x))" x --shape W=m,n --shape x=n --steps',
               (FORMULA, VARIABLES, STEPS, SHAPE, FUNCTIONS, LATEX), run_hessian),
    Subcommand("taylor", "Taylor polynomial",
               'symcalc taylor "exp(x)" --at x=0 --order 4\n'
               '  symcalc taylor "exp(x)*sin(y)" --at x=0,y=1 --order 2',
               (FORMULA,
                arg("--at", action="append", default=[], metavar="VAR=VALUE",
                    help="expansion point, e.g. x=0 or x=0,y=1 (repeatable; default: every "
                         "variable at 0; variables not named stay parameters)"),
                arg("--order", type=whole_number("the order", 0), default=2,
                    help="highest total degree (default: 2)"),
                FUNCTIONS, LATEX),
               run_taylor),
    Subcommand("simplify", "simplified form of a formula",
               'symcalc simplify "sin(x)^2 + cos(x)^2 + log(exp(y))"', (FORMULA, FUNCTIONS, LATEX),
               run_simplify),
    Subcommand("codegen", "NumPy source of a formula (and its gradient, Hessian)",
               'symcalc codegen "logsumexp(a, b)" a b --grad',
               (FORMULA, VARIABLES,
                arg("--grad", action="store_true", help="also the gradient, grad_NAME"),
                arg("--hessian", action="store_true", help="also the Hessian, hessian_NAME"),
                arg("--name", type=function_name, default="f", help="function name (default: f)"),
                arg("--planned", action="store_true",
                    help="lambdify's source: a body planned for memory for arrays, and its call "
                         "machinery"),
                SHAPE, FUNCTIONS, LATEX),
               run_codegen),
    Subcommand("check", "check the gradient against SymPy and finite differences",
               'symcalc check "sin(x)*exp(x)" x\n'
               '  symcalc check "log(1 + exp(w*x))" w x --points 20 --format json',
               (FORMULA, VARIABLES,
                arg("--points", type=whole_number("the number of points", 1), default=10,
                    help="number of random points (default: 10)"),
                arg("--seed", type=int, default=0, help="random seed (default: 0)"),
                SHAPE, FUNCTIONS, LATEX),
               run_check),
    Subcommand("check-answer", "check a typed derivative (exit 1 unless it is shown right)",
               'symcalc check-answer "x^2*sin(x)" x "2x sin(x) + x^2 cos(x)"\n'
               '  symcalc check-answer "x^2*y" x,y "2x y, x^2"    (a gradient)',
               (FORMULA,
                arg("variable", help="the variable (several, comma-separated, for a gradient)"),
                arg("answer", help="the derivative as typed (a gradient: comma-separated)"),
                FUNCTIONS),
               run_check_answer),
    Subcommand("equivalent", "whether two formulas are the same function (exit 1 if not shown)",
               'symcalc equivalent "1 - tanh(x)^2" "1/cosh(x)^2"',
               (FORMULA, arg("other", help="the formula to compare with"), FUNCTIONS),
               run_equivalent),
    Subcommand("serve", "a local web page: formulas, derivatives, steps, plots, answer checks",
               "symcalc serve\n  symcalc serve --port 8000 --no-browser",
               (arg("--port", type=whole_number("the port", 0), default=0,
                    help="port on 127.0.0.1 (default: a free one)"),
                arg("--no-browser", action="store_true", help="do not open a browser")),
               run_serve),
)

COMMANDS: dict[str, Callable[[argparse.Namespace], Answer]] = {c.name: c.runner for c in SUBCOMMANDS}

_NOTES = """\
formulas: + - * / ^, functions such as sin exp log sqrt sigmoid softplus relu logsumexp;
  a formula '-' reads standard input, one formula a line, each with its own result (jacobian
  and codegen: one function a line); quote formulas that contain spaces or * ( ).
variables are used in the order given; with none given, the formula's variables in
  alphabetical order; the formula's other symbols are parameters (check: random at each point).
abstract functions (no formula; the chain rule applies): --functions f,g.
LaTeX input: --latex, e.g. symcalc diff --latex '\\frac{1}{1 + e^{-x}}' x.
a variable that does not occur in the formula gets a note on stderr; derivatives by it are 0.
exit status: 0 success, 1 check found a disagreement (check-answer, equivalent: not shown
  right or equal), 2 bad input, 3 internal error; with
  --format json an error is {"error": ...} on stdout."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``symcalc`` command, built from ``SUBCOMMANDS``."""
    formats = argparse.ArgumentParser(add_help=False)
    formats.add_argument("--format", choices=["text", "latex", "json"], default="text",
                         help="output format (default: text)")
    examples = "\n  ".join(c.example.split("\n")[0] for c in SUBCOMMANDS)
    parser = RaisingParser(
        prog="symcalc", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Exact derivatives, gradients, Jacobians, Hessians and Taylor polynomials "
                    "of formulas, simplified.",
        epilog=f"examples:\n  {examples}\n\n{_NOTES}")
    parser.add_argument("--version", action="version", version=f"symcalc {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for c in SUBCOMMANDS:
        sub = commands.add_parser(
            c.name, parents=[formats], help=c.help, description=c.help[0].upper() + c.help[1:] + ".",
            epilog=f"example:\n  {c.example}", formatter_class=argparse.RawDescriptionHelpFormatter)
        for flags, options in c.arguments:
            sub.add_argument(*flags, **options)
    return parser


def run(args: argparse.Namespace) -> Answer:
    """The subcommand's answer.  A formula ``-`` is standard input, where each non-blank line is a
    formula with a result of its own; ``jacobian`` and ``codegen`` take the formulas of every line
    (for ``jacobian`` also comma-separated) into one Jacobian, one module."""
    shaped = bool(getattr(args, "shape", None))
    if shaped and args.functions:
        raise UsageError("--functions does not combine with --shape: a shaped formula calls "
                         "only symcalc's functions")
    runner = run_shaped if shaped else COMMANDS[args.command]
    field = "formulas" if args.command == "jacobian" else "formula"
    if getattr(args, field, "").strip() != "-":
        return runner(args)
    source, lines = standard_input_lines()
    if runner in (run_jacobian, run_codegen):
        return runner(argparse.Namespace(**{**vars(args), field: source}))
    answers = []
    for number, line in lines:
        try:
            answers.append(runner(argparse.Namespace(**{**vars(args), field: line})))
        except SymcalcError as exc:
            moved = relocated(exc, source, number)
            if moved is exc and len(lines) > 1:  # an error without a caret: say which formula
                moved = UsageError(f"line {number} of standard input: {exc}")
            raise moved from None
    return answers[0] if len(answers) == 1 else Answer.joined(answers)


def _protect_leading_minus(argv: Sequence[str]) -> list[str]:
    """Let formulas and numbers start with '-' (``-x^2``, ``--order -1``): argparse would take
    them for options.  A leading space hides the dash from argparse and not from the parser."""
    return [" " + a if a.startswith("-") and not a.startswith("--") and a not in ("-", "-h") else a
            for a in argv]


# --- entry point ---------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    fmt = _requested_format(argv)
    try:
        args = build_parser().parse_args(_protect_leading_minus(argv))
    except SystemExit as exit_:  # --help and --version
        return int(exit_.code or 0)
    except BadArguments as exc:
        if fmt == "json":
            return _fail_json({"error": str(exc)}, BAD_INPUT)
        exc.parser.print_usage(sys.stderr)
        print(f"{exc.parser.prog}: error: {exc}", file=sys.stderr)
        return BAD_INPUT
    phrasing = PHRASING.set(COMMAND_LINE_PHRASING)
    try:
        answer = run(args)
        print(answer.render(args.format))
        sys.stdout.flush()
        return answer.status
    except SymcalcError as exc:  # bad input: a formula, a variable, a point, an order
        if fmt != "json":
            return _fail(str(exc))
        if getattr(exc, "text", None) is not None and hasattr(exc, "line"):  # with a caret
            return _fail_json({"error": exc.reason, "line": exc.line, "column": exc.column,
                               "expected": list(getattr(exc, "expected", ()))}, BAD_INPUT)
        return _fail_json({"error": str(exc)}, BAD_INPUT)
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`): nothing more to say
        return OK
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a fault of symcalc itself: one line, never a traceback
        if os.environ.get("SYMCALC_DEBUG"):
            raise
        message = f"internal error: {type(exc).__name__}: {' '.join(str(exc).split(chr(10)))}"
        if fmt == "json":
            return _fail_json({"error": message}, INTERNAL_ERROR)
        print(f"symcalc: {message}", file=sys.stderr)
        return INTERNAL_ERROR
    finally:
        PHRASING.reset(phrasing)


def _requested_format(argv: Sequence[str]) -> str:
    """The value of the last ``--format`` option (argparse's abbreviations too), before parsing,
    so that even an error in the arguments can be reported in the format asked for."""
    fmt = "text"
    for k, item in enumerate(argv):
        name, eq, value = item.partition("=")
        if len(name) >= 3 and "--format".startswith(name):
            value = value if eq else (argv[k + 1] if k + 1 < len(argv) else "")
            fmt = value.strip()
    return fmt


def _fail(message: str) -> int:
    print(f"symcalc: error: {message}", file=sys.stderr)
    return BAD_INPUT


def _fail_json(error: dict, status: int) -> int:
    print(json.dumps(error, ensure_ascii=False))
    return status
