"""Checking a typed derivative: right or wrong, where it differs, and which step it leaves.

>>> import symcalc as sc
>>> sc.check_answer("x^2*sin(x)", "x", "2x sin(x) + x^2 cos(x)").correct
True
>>> r = sc.check_answer("sin(x^2)", "x", "cos(x^2)")
>>> r.correct, r.step.rule, r.mistake
(False, 'chain', 'the inner derivative is missing')

The verdict is ``equivalent(answer, derivative)`` at points where the function and its
derivative are defined (an answer undefined at such a point is wrong there).

Which step the answer leaves: the answer is not taken apart (a typed answer is one formula in any
order, so its pieces do not line up with the derivation's).  Instead, each step of
``explain(f, var)`` in turn is replaced by the typical mistakes made at such a step, and the
derivation is assembled again from there with the same rules; the step whose mistaken form gives
the answer (equal values at the points of the verdict) is named.  The mistakes tried:

* every step: its sign flipped (``d/dx cos(x) = sin(x)``; for a quotient this is the numerator
  written the wrong way round, for a product the two terms subtracted);
* chain rule: the inner derivative left out (``d/dx sin(x^2) = cos(x^2)``,
  ``d/dx exp(2x) = exp(2x)``, ``d/dx log(x^2) = 1/x^2``);
* product rule: the derivatives of the factors multiplied (``(uv)' = u'v'``), or a term left out;
* quotient rule: the denominator not squared, or ``(u/v)' = u'/v'``;
* power rule: the exponent not lowered, raised instead of lowered, or the factor n left out;
* exponential ``a^u``: the factor ``log(a)`` left out, or the power rule used instead;
* constant: its derivative taken as the constant itself.

When several mistakes give the answer, a named mistake wins over a flipped sign, and a sign flip
in a function's own rule (``cos``, ``1/x``) over one in a structural rule (sum, product); among
equals, the first step in reading order.  An answer with two mistakes, or one not in this list,
gets no step: only the point where it differs from the derivative; so does a derivation of more
than ``MAX_SEARCHED_STEPS`` steps (the search re-assembles the derivation for each mistake).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Optional, Sequence, Union

from ..api import diff
from ..language.arguments import ExprLike, VarLike, to_expr, to_symbol, to_symbols
from .equivalence import (Equivalence, OutOfReach, compare, distinct_texts, equivalent,
                          number_text, point_text, value, working_digits)
from ..core.expr import MINUS_ONE, ONE, ZERO, Call, Expr, Num, Pow, Symbol, add, mul, power
from ..errors import ParseError, SymcalcTypeError
from ..language.parser import parse
from ..printing.infix import to_str
from ..steps.derivation import Derivation, explain
from ..steps.rules import Context, plan
from ..steps.step import Step

Answer = Union[ExprLike, Sequence[ExprLike]]


@dataclass(frozen=True)
class AnswerCheck:
    """The verdict of ``check_answer``; true in a boolean context only when ``correct`` is True.

    ``correct``: True, False, or None (undecided, see ``equivalent``).  ``expected``: symcalc's
    derivative (a list for a gradient).  When wrong: ``point`` where the derivative and the
    answer differ, with ``expected_value`` and ``answer_value`` there (mpmath numbers; None
    where the answer is undefined); ``step``, the step of ``explain(f, var)`` that the answer
    leaves (None when no single typical mistake explains it), ``step_number`` its number in the
    printed derivation, ``mistake`` what went wrong there and ``mistaken_result`` the step's
    result as the answer has it.  ``variable`` is the variable of the component checked (for a
    gradient, the first wrong one).  ``message`` says it all in a sentence or two.
    """

    correct: Optional[bool]
    expected: Union[Expr, list[Expr]]
    answer: Union[Expr, list[Expr]]
    message: str
    variable: Symbol
    point: Optional[dict[str, float]] = None
    expected_value: Any = None
    answer_value: Any = None
    step: Optional[Step] = None
    step_number: Optional[int] = None
    mistake: str = ""
    mistaken_result: Optional[Expr] = None
    verdict: Optional[Equivalence] = field(default=None, repr=False)
    derivation: Optional[Derivation] = field(default=None, repr=False)

    def __bool__(self) -> bool:
        return self.correct is True

    def to_dict(self) -> dict:
        """JSON-ready: formulas as strings that ``symcalc.parse`` reads back."""
        def text(e):
            return [to_str(x) for x in e] if isinstance(e, list) else to_str(e)

        step = None
        if self.step is not None:
            step = {"number": self.step_number, "rule": self.step.rule,
                    "expr": to_str(self.step.expr), "result": to_str(self.step.result),
                    "note": self.step.note, "mistake": self.mistake, "mistaken_result": to_str(self.mistaken_result)}
        return {"correct": self.correct, "variable": self.variable.name,
                "expected": text(self.expected), "answer": text(self.answer),
                "point": self.point,
                "expected_value": None if self.point is None
                else number_text(self.expected_value, 20),
                "answer_value": None if self.point is None else number_text(self.answer_value, 20),
                "step": step, "message": self.message}


def check_answer(f: ExprLike, var: Union[VarLike, Sequence[VarLike]],
                 answer: Answer) -> AnswerCheck:
    """Whether ``answer`` is the derivative of ``f`` by ``var`` (a gradient: ``var`` and
    ``answer`` lists of the same length), and if not, where it differs and which step of
    ``explain(f, var)`` it leaves.  A string answer is read by ``parse`` (``2x sin(x)`` works;
    a typo raises ``ParseError`` with a caret)."""
    f = to_expr(f)
    if isinstance(var, (str, Symbol)) and len(to_symbols(var)) == 1:
        if isinstance(answer, (list, tuple)):
            raise SymcalcTypeError("a derivative by one variable is one formula, not a list")
        x = to_symbol(var) if isinstance(var, Symbol) else to_symbols(var)[0]
        return _check_one(f, x, _read(answer))
    xs = to_symbols(var)
    if not isinstance(answer, (list, tuple)) or len(answer) != len(xs):
        raise SymcalcTypeError(f"a gradient by {len(xs)} variables needs a list of {len(xs)} "
                               "formulas as the answer")
    answers = [_read(a) for a in answer]
    checks = [_check_one(f, x, a) for x, a in zip(xs, answers)]
    wrong = [c for c in checks if c.correct is False] or [c for c in checks if c.correct is None]
    first = wrong[0] if wrong else None
    expected = [c.expected for c in checks]
    if first is None:
        return AnswerCheck(True, expected, answers, f"Correct: that is the gradient of {f}.", xs[0],
                           verdict=checks[0].verdict)
    return AnswerCheck(first.correct, expected, answers, f"d/d{first.variable}: {first.message}",
                       first.variable, first.point, first.expected_value, first.answer_value,
                       first.step, first.step_number, first.mistake, first.mistaken_result,
                       first.verdict, first.derivation)


def _read(answer: ExprLike) -> Expr:
    return read_answer(answer) if isinstance(answer, str) else to_expr(answer)


MAX_JUXTAPOSITIONS = 100


def read_answer(text: str) -> Expr:
    """A typed answer read by ``parse``, where factors side by side are a product, as on paper:
    ``2x sin(x) + x^2 cos(x)`` is ``2*x*sin(x) + x^2*cos(x)`` and ``a(a t - b)`` is
    ``a*(a*t - b)`` (a product binds as ``*`` does).  A function without parentheses (``sin x``)
    and every other error is a ``ParseError`` whose caret points into ``text`` as typed."""
    stars: list[int] = []  # where a '*' was put in, as indices of the current text
    current = text
    while True:
        try:
            return parse(current)
        except ParseError as exc:
            at = _product_position(exc, current)
            if at is None or len(stars) >= MAX_JUXTAPOSITIONS:
                if not stars or exc.line != 1:
                    raise
                column = exc.column - sum(1 for k in stars if k < exc.column - 1)
                raise ParseError(exc.reason, text, 1, column, exc.expected) from None
            stars = [k + 1 if k >= at else k for k in stars] + [at]
            current = current[:at] + "*" + current[at:]


def _product_position(error: ParseError, text: str) -> Optional[int]:
    """Where a '*' turns the fault into a product: two factors side by side (``x sin(x)``), or a
    name that is no function before parentheses (``a(x + 1)``); None for any other fault."""
    if error.line != 1 or "\n" in text:
        return None
    at = error.column - 1
    if error.reason.startswith("missing operator between"):
        return at
    name, sep, _ = error.reason.partition(" is not a function")
    if sep and text.startswith(name, at):
        bracket = text.find("(", at + len(name))
        return bracket if bracket > 0 and not text[at + len(name):bracket].strip() else None
    return None


def _check_one(f: Expr, x: Symbol, answer: Expr) -> AnswerCheck:
    expected = diff(f, x)
    where = f"d/d{x} {_shown(f)}"
    verdict = equivalent(expected, answer)
    if verdict.equal is not False:
        # also wrong: an answer undefined where f and its derivative are defined
        comparison = compare(expected, answer, must_define=[f], b_required=True)
        if comparison.differ is not None:
            point, want, got = comparison.differ
            verdict = Equivalence(False, f"the answer is undefined at {point_text(point)}", point,
                                  (want, got))
    if verdict.equal is None:
        return AnswerCheck(None, expected, answer,
                           f"Cannot tell whether {answer} is {where} = {expected}: "
                           f"{verdict.reason}.",
                           x, verdict=verdict)
    if verdict.equal:
        same = "" if to_str(answer) == to_str(expected) else f" (symcalc writes it {expected})"
        return AnswerCheck(True, expected, answer, f"Correct: {where} = {answer}{same}.", x,
                           verdict=verdict)
    point, (want, got) = verdict.point, verdict.values
    if got is None:
        shown_want, shown_got = distinct_texts(want, want)[0], "undefined"
    else:
        shown_want, shown_got = distinct_texts(want, got)
    message = (f"Not quite: {where} = {expected}. At {point_text(point)} it is {shown_want}, "
               f"but {answer} is {shown_got}.")
    derivation = explain(f, x)
    found = _first_mistake(derivation, expected, answer)
    if found is None:
        return AnswerCheck(False, expected, answer, message, x, point, want, got, verdict=verdict,
                           derivation=derivation)
    number, step, mistake, wrong = found
    message += (f" Your answer is what the derivation gives with step {number} ({step.rule}: "
                f"d/d{x} {_shown(step.expr)} = {step.result}) taken as {wrong}: {mistake}.")
    return AnswerCheck(False, expected, answer, message, x, point, want, got, step, number,
                       mistake, wrong, verdict, derivation)


def _shown(e: Expr) -> str:
    """``sin(x)`` and ``x`` as they are, anything else in parentheses, as ``explain`` prints."""
    return to_str(e) if isinstance(e, (Symbol, Call)) else f"({to_str(e)})"


# --- the mistakes --------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Mistake:
    step: Step
    number: int
    what: str
    wrong: Expr        # the step's result as the mistake has it
    rank: int          # lower: preferred when several mistakes give the answer


MAX_SEARCHED_STEPS = 150  # each step's mistakes re-assemble the derivation: quadratic work

_NAMED, _SIGN_IN_FUNCTION, _SIGN_IN_POWER, _SIGN_ELSEWHERE = range(4)


def _first_mistake(derivation: Derivation, expected: Expr, answer: Expr):
    """(number, step, what, wrong result) of the preferred single mistake that turns the
    derivation into ``answer``, or None."""
    f, x = derivation.expr, derivation.var
    top = derivation.steps[0]
    ctx = Context(x, frozenset(s.name for s in f.free_symbols))
    numbers = {id(s): k for k, s in enumerate(derivation.walk(), 1)}
    if len(numbers) > MAX_SEARCHED_STEPS:
        return None
    comparison = compare(expected, answer, must_define=[f])
    points = [{Symbol(name): _exact(v) for name, v in p.items()} for p in comparison.points[:6]]
    if not points:
        return None
    digits = working_digits([f, expected, answer])
    answer_values = [_value(answer, p, digits) for p in points]
    expected_values = [_value(expected, p, digits) for p in points]
    found: list[_Mistake] = []
    for step in _tree(top):
        for what, wrong, rank in _variants(step, ctx):
            total = _assemble(top, ctx, {step.expr: wrong})
            values = [_value(total, p, digits) for p in points]
            if _close(values, answer_values) and not _close(values, expected_values):
                found.append(_Mistake(step, numbers.get(id(step), 0), what, wrong, rank))
    if not found:
        return None
    best = min(found, key=lambda m: (m.rank, m.number))
    return best.number, best.step, best.what, best.wrong


def _value(e: Expr, point: dict, digits: int):
    """The value, or None where it is undefined or out of reach (no match then)."""
    try:
        return value(e, point, digits)
    except OutOfReach:
        return None


def _exact(v: float):
    import mpmath

    return mpmath.mpf(v)  # the points are dyadic: exact in binary


def _close(values: list, targets: list) -> bool:
    import mpmath

    for v, t in zip(values, targets):
        if v is None or t is None:
            return False
        if abs(v - t) > mpmath.mpf(10) ** -20 * (1 + abs(t)):
            return False
    return True


def _tree(top: Step) -> Iterator[Step]:
    """The steps of the rules, each once, parents before their parts."""
    seen: set[int] = set()
    stack = [top]
    while stack:
        step = stack.pop()
        if id(step) in seen:
            continue
        seen.add(id(step))
        yield step
        stack.extend(reversed(step.substeps))


def _assemble(top: Step, ctx: Context, replaced: dict[Expr, Expr]) -> Expr:
    """The derivative of ``top.expr`` by the same rules, with the results of the steps of the
    expressions in ``replaced`` taken from there."""
    result: dict[int, Expr] = {}
    stack: list[tuple[Step, bool]] = [(top, False)]
    while stack:
        step, ready = stack.pop()
        if id(step) in result:
            continue
        if step.expr in replaced:
            result[id(step)] = replaced[step.expr]
        elif not step.substeps:
            result[id(step)] = step.result
        elif not ready:
            stack.append((step, True))
            stack.extend((s, False) for s in step.substeps if id(s) not in result)
        else:
            result[id(step)] = plan(step.expr, ctx).assemble([result[id(s)] for s in step.substeps])
    return result[id(top)]


def _variants(step: Step, ctx: Context) -> Iterator[tuple[str, Expr, int]]:
    """(what went wrong, the step's result with that mistake, rank) for the typical mistakes."""
    rule, node, ds = step.rule, step.expr, [s.result for s in step.substeps]
    rebuild = plan(node, ctx).assemble  # the step's rule, from the derivatives of its parts
    if rule == "chain" and any(d is not ONE for d in ds):
        yield "the inner derivative is missing", rebuild([ONE] * len(ds)), _NAMED
    if rule == "product":
        yield "the derivatives of the factors were multiplied, without the product rule", \
            mul(*ds), _NAMED
        if len(ds) > 1:
            for k in range(len(ds)):
                kept = [d if i != k else ZERO for i, d in enumerate(ds)]
                yield "a term of the product rule is missing", rebuild(kept), _NAMED
    if rule == "quotient":
        u, v = plan(node, ctx).parts
        yield "the denominator of the quotient rule is not squared", mul(step.result, v), _NAMED
        yield "the derivatives of numerator and denominator were divided", \
            mul(ds[0], power(ds[1], MINUS_ONE)), _NAMED
    if isinstance(node, Pow) and not ctx.depends(node.exponent) and rule in ("power", "chain"):
        u, n = node.args
        du = ds[0] if ds else ONE
        yield "the exponent was not lowered by one", mul(n, power(u, n), du), _NAMED
        yield "the exponent was raised instead of lowered", \
            mul(n, power(u, add(n, ONE)), du), _NAMED
        if not (isinstance(n, Num) and n.value == 1):
            yield "the factor n of the power rule is missing", \
                mul(power(u, add(n, MINUS_ONE)), du), _NAMED
    if isinstance(node, Pow) and not ctx.depends(node.base) and rule in ("exponential", "chain"):
        a, u = node.args
        du = ds[0] if ds else ONE
        yield "the factor log(a) of d/dx a^u = a^u*log(a)*u' is missing", mul(node, du), _NAMED
        yield "the power rule was used for an exponential", \
            mul(u, power(a, add(u, MINUS_ONE)), du), _NAMED
    if rule == "constant" and node is not ZERO:
        yield "the derivative of a constant is 0", node, _NAMED
    if step.result is not ZERO:
        yield _SIGN_ERRORS.get(rule, "a sign error"), mul(MINUS_ONE, step.result), _sign_rank(step)


_SIGN_ERRORS = {
    "quotient": "the numerator of the quotient rule is the wrong way round (u*v' - u'*v)",
    "product": "the terms of the product rule were subtracted",
}


def _sign_rank(step: Step) -> int:
    if step.rule.startswith("derivative of") or step.rule in ("chain", "exponential"):
        return _SIGN_IN_FUNCTION
    if step.rule == "quotient":
        return _NAMED  # the numerator the wrong way round
    if step.rule == "power":
        return _SIGN_IN_POWER
    return _SIGN_ELSEWHERE

