"""The web page's API: one function per endpoint, a JSON-ready dict in and out.

Every request names a ``formula`` (symcalc's language, or LaTeX with ``"latex": true``) and may
name ``variables`` (``"x y"`` or ``"x, y"``; default: the formula's, alphabetically), an ``op``
(``diff``, ``grad``, ``hessian`` or ``taylor``), an ``order`` and a point ``at``
(``"x = 1, y = 0.5"``; default: every variable at 1).  Formulas are read by symcalc's parser
only.  Bad input raises a ``SymcalcError``, which ``answer`` turns into ``{"error": ...}``.

>>> answer("derivative", {"formula": "x^2*sin(x)", "op": "diff"})["text"]
'x*(2*sin(x) + x*cos(x))'
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable

from .. import api as calculus
from ..checks.answers import check_answer, read_answer
from ..compiler.compile import codegen_module
from ..language.arguments import to_symbols, top_level_pieces
from ..errors import ParseError, SymcalcError
from ..core.expr import Expr, Symbol
from ..printing.layout import latex_matrix
from ..language.parser import parse
from ..printing.infix import latex, latex_name, to_str
from ..steps import render
from ..steps.derivation import explain
from ..calculus.taylor import taylor
from .mathml import expr_mathml, mathml
from .plot import plot_svg

OPERATIONS = ("diff", "grad", "hessian", "taylor")
MAX_FORMULA = 2000  # characters of a formula, an answer or a point
MAX_ORDER = 8
DEFAULT_AT = 1


class RequestError(SymcalcError):
    """A request the API cannot answer: a missing or malformed field."""


# --- reading a request -----------------------------------------------------------------------------
def _text(request: dict, key: str, default: str | None = None) -> str:
    value = request.get(key, default)
    if value is None:
        raise RequestError(f"the request needs a {key!r}")
    if not isinstance(value, str):
        raise RequestError(f"{key!r} must be text, not {type(value).__name__}")
    if len(value) > MAX_FORMULA:
        raise RequestError(f"{key!r} is longer than {MAX_FORMULA} characters")
    return value


def formula_of(request: dict) -> Expr:
    """The request's formula, read as LaTeX when ``latex`` is true."""
    text = _text(request, "formula")
    if not text.strip():
        raise RequestError("type a formula, e.g. x^2*sin(x)")
    return parse(text, latex=bool(request.get("latex")))


def variables_of(request: dict, f: Expr) -> list[Symbol]:
    """The variables named, or the formula's in alphabetical order."""
    names = _text(request, "variables", "")
    if names.strip():
        return to_symbols(names)
    free = sorted(f.free_symbols, key=lambda s: s.name)
    if not free:
        raise RequestError("the formula has no variables: there is nothing to differentiate")
    return free


def op_of(request: dict) -> str:
    op = request.get("op", "diff")
    if op not in OPERATIONS:
        raise RequestError(f"'op' must be one of {', '.join(OPERATIONS)}, not {op!r}")
    return op


def order_of(request: dict, default: int) -> int:
    order = request.get("order", default)
    if isinstance(order, str) and order.strip().isdigit():
        order = int(order)
    if not isinstance(order, int) or isinstance(order, bool) or not 1 <= order <= MAX_ORDER:
        raise RequestError(f"the order must be a whole number from 1 to {MAX_ORDER}")
    return order


def point_of(request: dict, xs: list[Symbol]) -> dict[Symbol, Expr]:
    """``"x = 1, y = pi/2"`` -> {x: 1, y: pi/2}, exact; variables not named are at 1."""
    point = {x: parse(str(DEFAULT_AT)) for x in xs}
    for piece in top_level_pieces(_text(request, "at", "")):
        if not piece.strip():
            continue
        name, sep, value = piece.partition("=")
        if not sep and len(xs) == 1:  # "2" for a function of one variable
            name, value = xs[0].name, name
        elif not sep:
            raise RequestError(f"write the point as x = 1, y = 2, not {piece.strip()!r}")
        named = to_symbols(name.strip())
        x = named[0] if len(named) == 1 else None
        if x not in point:
            raise RequestError(f"the point names {name.strip()}, which is not a variable here")
        try:
            exact = parse(value)  # 'pi/4' and 'sqrt(2)' are numbers too
            number = float(exact)
        except (SymcalcError, TypeError, OverflowError):
            raise RequestError(f"{x.name} = {value.strip()} is not a number: write the point "
                               "as x = 1, y = pi/2") from None
        if not math.isfinite(number):
            raise RequestError(f"{x.name} = {value.strip()} is not a finite number")
        point[x] = exact
    return point


# --- the endpoints ---------------------------------------------------------------------------------
def render_formula(request: dict) -> dict:
    """The formula as symcalc reads it: text, LaTeX, MathML and its variables."""
    f = formula_of(request)
    return {"text": to_str(f), "latex": latex(f), "mathml": expr_mathml(f),
            "variables": sorted(s.name for s in f.free_symbols)}


def _d(f: Expr, x: Symbol, order: int = 1) -> str:
    """``\\frac{d^{2}}{dx^{2}}``; ``\\partial`` when ``f`` has other variables too."""
    d = "d" if len(f.free_symbols) <= 1 else "\\partial"
    power = f"^{{{order}}}" if order > 1 else ""
    return f"\\frac{{{d}{power}}}{{{d} {latex_name(x.name)}{power}}}"


def derivative(request: dict) -> dict:
    """The derivative, gradient, Hessian or Taylor polynomial asked for."""
    f = formula_of(request)
    xs = variables_of(request, f)
    op = op_of(request)
    shown = f"\\left({latex(f)}\\right)"
    names = ", ".join(latex_name(x.name) for x in xs)
    if op == "diff":
        order = order_of(request, 1)
        result = calculus.diff(f, xs[0], order)
        return {"op": op, "variables": [xs[0].name], "text": to_str(result),
                **_math(f"{_d(f, xs[0], order)} {shown} = {latex(result)}")}
    if op == "grad":
        result = calculus.grad(f, xs)
        return {"op": op, "variables": [x.name for x in xs], "text": [to_str(g) for g in result],
                **_math(f"\\nabla_{{{names}}} {shown} = {latex_matrix(list(result))}")}
    if op == "hessian":
        rows = [list(row) for row in calculus.hessian(f, xs)]
        return {"op": op, "variables": [x.name for x in xs],
                "text": [[to_str(e) for e in row] for row in rows],
                **_math(f"\\nabla^{{2}}_{{{names}}} {shown} = {latex_matrix(rows)}")}
    order = order_of(request, 2)
    point = point_of(request, xs)
    result = taylor(f, point, order)
    where = ", ".join(f"{latex_name(x.name)} = {latex(v)}" for x, v in point.items())
    return {"op": op, "variables": [x.name for x in xs], "text": to_str(result), "order": order,
            **_math(f"{latex(f)} \\approx {latex(result)} \\qquad \\text{{(order {order} at}}\\ "
                    f"{where}\\text{{)}}")}


def steps(request: dict) -> dict:
    """The derivation rule by rule, for each variable differentiated by (one for ``diff``)."""
    f = formula_of(request)
    xs = variables_of(request, f)
    if op_of(request) == "diff":
        xs = xs[:1]
    out = []
    for x in xs:
        derivation = explain(f, x)
        d = _d(f, x)
        rows = []
        for line in render.lines(derivation.steps):
            s = line.step
            left = "" if s.is_simplification else f"{d}\\left({latex(s.expr)}\\right) "
            rows.append({"number": line.number, "depth": line.depth, "rule": s.rule,
                         "note": "" if line.see is not None else s.note, "see": line.see,
                         "simplification": s.is_simplification,
                         "mathml": mathml(f"{left}= {latex(s.result)}", display=False)})
        out.append({"variable": x.name, "result": to_str(derivation.result),
                    "mathml": mathml(f"{d}\\left({latex(f)}\\right) = "
                                     f"{latex(derivation.result)}"),
                    "steps": rows})
    return {"derivations": out}


def code(request: dict) -> dict:
    """NumPy source of the function and of what ``op`` asks for."""
    f = formula_of(request)
    xs = variables_of(request, f)
    missing = sorted(s.name for s in f.free_symbols - set(xs))
    if missing:
        xs = xs + to_symbols(missing)  # every symbol must be an argument of the function
    op = op_of(request)
    functions: dict[str, Any] = {"f": f}
    if op == "diff":
        functions["df"] = calculus.diff(f, xs[0])
    elif op == "grad":
        functions["grad_f"] = calculus.grad(f, xs)
    elif op == "hessian":
        functions["grad_f"] = calculus.grad(f, xs)
        functions["hessian_f"] = calculus.hessian(f, xs)
    else:
        point = point_of(request, xs)
        functions["taylor_f"] = taylor(f, point, order_of(request, 2))
    return {"source": codegen_module(functions, xs), "variables": [x.name for x in xs]}


def check(request: dict) -> dict:
    """Whether the typed ``answer`` is the derivative (a gradient: answers separated by commas).
    The answer is read as typed on paper (``2x sin(x)``), or as LaTeX when it has a backslash
    or braces (``e^{-x}/(1 + e^{-x})^2``)."""
    f = formula_of(request)
    xs = variables_of(request, f)
    typed = _text(request, "answer")
    if not typed.strip():
        raise RequestError("type your derivative in the answer box")
    # symcalc's language has no backslash and no braces: an answer with them is LaTeX
    read = (lambda t: parse(t, latex=True)) if re.search(r"[\\{}]", typed) else read_answer
    if op_of(request) == "diff" or len(xs) == 1:
        xs = xs[:1]
        report = check_answer(f, xs[0], read(typed))
    else:
        pieces = top_level_pieces(typed)
        if len(pieces) != len(xs):
            raise RequestError(f"a gradient by {', '.join(x.name for x in xs)} is {len(xs)} "
                               f"formulas separated by commas; the answer has {len(pieces)}")
        report = check_answer(f, xs, [read(p) for p in pieces])
    result = report.to_dict()
    shown = report.answer if isinstance(report.answer, list) else [report.answer]
    expected = report.expected if isinstance(report.expected, list) else [report.expected]
    result["answer_mathml"] = mathml(", ".join(latex(e) for e in shown), display=False)
    result["expected_mathml"] = mathml(", ".join(latex(e) for e in expected), display=False)
    return result


def plot(request: dict) -> dict:
    """An SVG plot along the first variable (the others held at the point) with the tangent
    line (``diff``, ``grad``), the quadratic model (``hessian``) or the Taylor polynomial."""
    f = formula_of(request)
    xs = variables_of(request, f)
    op = op_of(request)
    order = {"diff": 1, "grad": 1, "hessian": 2}.get(op) or order_of(request, 2)
    point = point_of(request, xs)
    x = xs[0]
    others = {y: v for y, v in point.items() if y is not x}
    line = calculus.subs(f, others) if others else f
    leftover = sorted(s.name for s in line.free_symbols - {x})
    if leftover:
        raise RequestError(f"give {', '.join(leftover)} a value in the point to plot along {x}")
    model, note = None, ""
    try:
        model = taylor(line, {x: point[x]}, order)
        if not math.isfinite(_float(calculus.subs(model, {x: point[x]}))):
            model, note = None, f"f has no finite value at {x.name} = {to_str(point[x])}"
    except SymcalcError as exc:
        note = f"no {'tangent' if order == 1 else 'Taylor polynomial'} at {x.name} = " \
               f"{to_str(point[x])}: {exc}"
    label = "tangent line" if order == 1 else ("quadratic model" if op == "hessian"
                                               else f"Taylor polynomial of order {order}")
    fixed = ", ".join(f"{y.name} = {to_str(v)}" for y, v in point.items() if y is not x)
    picture = plot_svg(line, x, float(point[x]), model, f"{label} at {x.name} = {to_str(point[x])}")
    if not picture.segments:
        lo, hi = picture.x_range
        note = "; ".join(filter(None, [note, f"f has no finite real values for {x.name} from "
                                             f"{_number(lo)} to {_number(hi)}"]))
    return {"svg": picture.svg, "variable": x.name, "at": float(point[x]), "model": label,
            "model_text": None if model is None else to_str(model), "note": note,
            "fixed": fixed, "x_range": picture.x_range, "y_range": picture.y_range,
            "segments": picture.segments}


ENDPOINTS: dict[str, Callable[[dict], dict]] = {
    "render": render_formula, "derivative": derivative, "steps": steps, "code": code,
    "check": check, "plot": plot,
}


def answer(endpoint: str, request: Any) -> dict:
    """The endpoint's answer to ``request``; bad input is ``{"error": message, ...}`` (with the
    caret display and its place for a formula that does not parse)."""
    try:
        if endpoint not in ENDPOINTS:
            raise RequestError(f"no API endpoint {endpoint!r}")
        if not isinstance(request, dict):
            raise RequestError("the request must be a JSON object")
        return ENDPOINTS[endpoint](request)
    except ParseError as exc:
        return {"error": str(exc), "reason": exc.reason, "line": exc.line, "column": exc.column,
                "kind": "ParseError"}
    except SymcalcError as exc:
        return {"error": str(exc), "kind": type(exc).__name__}
    except (RecursionError, MemoryError, OverflowError) as exc:
        return {"error": f"the formula is too large to work with here ({type(exc).__name__})",
                "kind": type(exc).__name__}


# --- numbers ---------------------------------------------------------------------------------------
def _math(tex: str) -> dict:
    return {"latex": tex, "mathml": mathml(tex)}


def _float(e: Expr) -> float:
    try:
        return float(e)
    except (SymcalcError, TypeError, ValueError, ZeroDivisionError, OverflowError):
        return math.nan


def _number(value: float) -> str:
    return f"{value:.6g}"
