"""LaTeX -> expression graph: formulas as textbooks and papers write them.

The grammar is ``grammar/latex.lark``.  Nodes are built by the plain parser's builder
(``symcalc.language.parser._Builder``, extended here by the LaTeX constructs), so both languages
give the same interned nodes: ``parse(latex(e), latex=True) is e``.

Reading rules (each one is what the typeset formula shows):

* ``xy`` is ``x*y`` (one letter is one name); ``\\mathrm{lr}`` is the name ``lr``; ``x_1``,
  ``x_{1}`` are ``x_1``, ``w_{ij}`` is ``w_ij``, ``x_{1,2}`` is ``x_1_2``; ``\\alpha`` is ``alpha``,
  ``\\hat{\\theta}`` is ``theta_hat``; ``e`` and ``\\pi`` are the constants.
* ``\\frac{a}{b}``, ``\\dfrac``, ``\\tfrac``, ``\\frac12`` (one-token arguments, as in TeX),
  ``\\sqrt{x}``, ``\\sqrt[n]{x}``, ``x^{2}``, ``x^2``, ``e^{x}``, ``\\cdot``, ``\\times``;
  ``( )``, ``[ ]``, ``\\{ \\}``, with or without ``\\left``/``\\right``; ``|x|`` is ``abs(x)``.
* Functions: ``\\sin(x)``, ``\\sin x`` (one factor: ``\\sin x^2`` is ``sin(x^2)``),
  ``\\sin^2 x`` (``sin(x)^2``), ``\\log_2 x``, ``\\ln``, ``\\exp``, ``\\sigma(x)`` (the sigmoid;
  ``\\sigma`` not followed by a parenthesis is the name ``sigma``), ``\\operatorname{relu}(x)``,
  ``\\mathrm{softplus}(x)`` for every function symcalc knows.
* ``\\sum_{i=1}^{3} w_i x_i`` is ``w_1*x_1 + w_2*x_2 + w_3*x_3``: the bounds must be integers;
  the body is the rest of the product.
* With ``functions=["f"]``: ``f(x)``, and ``f'(x)``, ``f''(x)`` for ``f_1(x)``, ``f_1_1(x)``.

What ``symcalc.latex`` prints reads back to the same node, except a name with digits glued on
(``x1`` prints as ``x_{1}``, read as ``x_1``) and ``log(x, 2)`` (printed ``\\log_{2}``, read as
``log2(x)``).

Refused, with both readings named (they are ambiguous as typeset):

* a function without parentheses followed by another factor that is not a function:
  ``\\sin x y`` (``sin(x)*y`` or ``sin(x*y)``), ``\\sin 2x``; ``\\sin x \\cos x`` is read as
  ``sin(x)*cos(x)``;
* ``/`` followed by factors side by side: ``a/bc`` (``a*c/b`` or ``a/(b*c)``), ``1/2x``;
* ``\\sin^{-1} x`` (the inverse function or ``1/sin(x)``).

Vectors and matrices (``\\mathbf{x}^\\top A x``, ``\\|x\\|``, ``\\odot``) are read when their
shapes are given: ``parse(text, latex=True, shapes=...)`` goes through the same grammar and this
module's pass after the lexer, with the builder of ``symcalc.matrix.latex_reading``.  Without
``shapes=`` their commands are refused with a message that says to declare them.

Also refused: a number written after a factor (``x2``, ``x^23``, ``\\frac{1}{2}3``: write
``x_2``, ``x^{23}``, ``3 x^2``); braces around factors side by side (``{2x}^2``: braces do not
show in print, so this reads as ``2x^2``; write ``\\left(2x\\right)^2``); a ``\\sum`` whose
bounds are not integers.
"""

from __future__ import annotations

import difflib
import re
from contextvars import ContextVar
from typing import Callable, Iterable, Iterator, Optional

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput

from ..errors import ParseError, SymcalcTypeError
from ..core.hooks import Hooks
from ..core.expr import E, PI, Expr, Num, Symbol, add, mul, power
from ..functions.elementary import REGISTRY, lookup
from .parser import (_ABSTRACT, PHRASING, _Builder, _Fault, _function_names, _location,
                     canonical_name, unknown_function)
from . import parser as _parser_module
from ..printing.infix import _GREEK_NAMES

_MAX_TERMS = 1000  # terms a \sum may expand to
_MAX_LENGTH = 100_000  # characters of a LaTeX formula

# commands that only size or space: dropped
_SIZING = {"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl",
           "biggr", "Biggl", "Biggr", "displaystyle", "textstyle", ",", ";", ":", "!", " ",
           "quad", "qquad", "limits"}
_FRACTIONS = {"frac", "dfrac", "tfrac", "cfrac"}
_TIMES = {"cdot", "times"}
_ACCENTS = {"hat", "bar", "tilde", "dot"}
_VARIANTS = {"varepsilon": "epsilon", "vartheta": "theta", "varphi": "phi", "varrho": "rho",
             "varsigma": "sigma", "varpi": "pi"}
# function commands that TeX defines but symcalc's printer does not write
_USUAL_COMMANDS = {"ln": "log", "exp": "exp", "arcsinh": "asinh", "arccosh": "acosh",
                   "arctanh": "atanh", "sgn": "sign"}
# letters and Greek names that are a function when a parenthesis follows: \sigma(x), H(x)
_CALLED_LETTERS = {"sigma": "sigmoid", "H": "heaviside"}
# commands of vectors and matrices: read with shapes= (symcalc.matrix.latex_reading)
_SHAPED = {"mathbf", "boldsymbol", "bm", "vec", "top", "|", "intercal", "lVert", "rVert", "Vert",
           "odot", "det", "otimes"}
_BOLD = {"mathbf", "boldsymbol", "bm", "vec"}
# with shapes=: functions of vectors and matrices, by their LaTeX names
SHAPED_FUNCTIONS = {"tr": "trace", "trace": "trace", "Tr": "trace", "det": "det", "sum": "sum",
                    "diag": "diag", "softmax": "softmax", "logsumexp": "logsumexp",
                    "logdet": "logdet", "mean": "mean"}
_TRANSPOSE_MARK = "\\top"  # the name the builder reads as the transpose (^\top, ^{\mathsf{T}})

# commands of calculus itself: what to do instead
_DERIVATIVE = "give the function and differentiate it (symcalc.diff, symcalc diff)"
_NOT_FORMULAS = {
    "partial": _DERIVATIVE, "nabla": "give the function and take its gradient (symcalc.grad, "
    "symcalc grad)", "lim": "limits are not formulas here: give the function",
    "int": "integrals are not formulas here", "infty": "infinity is not a number here",
    "to": "limits are not formulas here: give the function",
}

# the shapes of the formula being read (None: a scalar formula, as without shapes=)
SHAPES: ContextVar[Optional[dict]] = ContextVar("symcalc_latex_shapes", default=None)

_CALL_FORM = re.compile(r"(\\operatorname\{(\w+)\}|\\(\w+)|(\w))\\left\(A(, B)?\\right\)\Z")


def _function_commands() -> dict[str, str]:
    """LaTeX function commands -> symcalc function names, read from each registry entry's LaTeX
    form (``\\sin\\left(A\\right)``, ``\\operatorname{relu}\\left(A\\right)``)."""
    table = dict(_USUAL_COMMANDS)
    for name, fn in REGISTRY.items():
        for args in (["A"], ["A", "B"]):
            try:
                form = fn.latex(args)
            except (IndexError, TypeError):
                continue
            m = _CALL_FORM.match(form)
            if m and (m.group(2) or m.group(3)):
                table.setdefault(m.group(2) or m.group(3), name)
            break
    table.pop("sigma", None)  # \sigma is the sigmoid only when a parenthesis follows
    return table


FUNCTION_COMMANDS = _function_commands()
_KNOWN_COMMANDS = sorted(set(FUNCTION_COMMANDS) | _GREEK_NAMES | set(_VARIANTS) | _SIZING
                         | _FRACTIONS | _TIMES | _ACCENTS
                         | {"sqrt", "sum", "pi", "sigma", "operatorname", "mathrm", "log"})


def _retyped(tok: Token, kind: str, value: Optional[str] = None, shift: int = 0,
             length: Optional[int] = None) -> Token:
    """``tok`` as a token of another kind (and value), ``shift`` characters further on."""
    start = tok.start_pos + shift
    text = tok.value if value is None else value
    width = len(text) if length is None else length
    return Token(kind, text, start, tok.line, tok.column + shift, tok.line,
                 tok.column + shift + width, start + width)


class _Commands:
    """The pass between the lexer and the parser: gives each command its kind, drops sizing
    commands, pairs bars, splits numbers that are one-token arguments and refuses a number
    written after a factor."""

    always_accept = ("COMMAND", "LETTER", "NAMED", "BAR", "NUMBER", "SUBSCRIPT", "PRIME")

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        tokens = list(stream)
        out: list[Token] = []
        pending = 0  # one-token arguments still to come (\frac: 2, \sqrt and ^: 1)
        # per open "{": (the one-token arguments to come after it, whether it is a \\sum's bound)
        stack: list[tuple[int, bool]] = []
        roots: list[bool] = []  # per open "[": whether it holds the index of \\sqrt[n]
        ends_factor = False  # the token before ends a factor: a number now is refused
        bar_open = norm_open = False
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            i += 1
            kind = tok.type
            if kind == "COMMAND":
                word = tok.value[1:]
                if word in _SIZING:
                    if word in ("left", "right") and i < len(tokens) and tokens[i].type == "BAR":
                        tokens[i] = _retyped(tokens[i], "LBAR" if word == "left" else "RBAR")
                    elif word in ("left", "right") and i < len(tokens) and _norm_bar(tokens[i]) \
                            and SHAPES.get() is not None:
                        tokens[i] = _retyped(tokens[i], "LNORM" if word == "left" else "RNORM")
                    continue
                if SHAPES.get() is not None and _norm_bar(tok):
                    tok = _retyped(tok, "RNORM" if norm_open else "LNORM")
                elif SHAPES.get() is not None and word == "circ" and len(out) > 1 \
                        and out[-1].type == "LCURLY" and out[-2].type == "POWOP":
                    out[-2] = _retyped(out[-2], "POWOP", "^\\circ", length=1)  # A^{\circ 2}
                    continue
                if tok.type in ("LNORM", "RNORM"):
                    pass
                elif word in _ACCENTS:
                    tok, i = _accent(tok, word, tokens, i)
                else:
                    tok = _command(tok, word, tokens, i)
                if tok.type == "FUNC" and tok.value == "log" and SHAPES.get() is not None \
                        and i < len(tokens) and tokens[i].value == "\\det":  # \log\det A
                    tok = _retyped(tok, "FUNC", "logdet", length=tokens[i].end_pos - tok.start_pos)
                    i += 1
            elif kind == "NAMED":
                tok = _named(tok, tokens, i)
            elif kind == "LETTER":
                primes = tokens[i] if i < len(tokens) and tokens[i].type == "PRIME" else None
                if primes is not None and tok.value in _ABSTRACT.get() \
                        and _parenthesis_follows(tokens, i + 1):  # f''(x) is f_1_1(x)
                    tok = _retyped(tok, "FUNC", tok.value + primes.value,
                                   length=primes.end_pos - tok.start_pos)
                    i += 1
                else:
                    called = _CALLED_LETTERS.get(tok.value) or (
                        tok.value if tok.value in _ABSTRACT.get() else None)
                    is_call = called is not None and _parenthesis_follows(tokens, i)
                    tok = _retyped(tok, "FUNC" if is_call else "NAME",
                                   called if is_call else None)
            elif kind == "PRIME" and SHAPES.get() is not None:
                raise _Fault("a prime: write x^\\top for the transpose (derivatives of abstract "
                             "functions are read without shapes=)", tok)
            elif kind == "PRIME":
                raise _Fault("a prime marks a derivative of an abstract function of one "
                             "argument: f'(x), with f named in functions=", tok)
            elif kind == "BAR":
                tok = _retyped(tok, "RBAR" if bar_open else "LBAR")
                bar_open = not bar_open
            kind = tok.type
            if kind in ("LNORM", "RNORM"):  # \| x \|: the next double bar closes an open norm
                norm_open = kind == "LNORM"
            if kind in ("SUBSCRIPT", "UNDERSCORE") and SHAPES.get() is not None:
                tok, i = _frobenius_mark(tok, tokens, i)
                kind = tok.type
            if kind == "SUBSCRIPT" and SHAPES.get() is not None:
                at = _power_of_a_norm(out)
                if at is not None:  # \|x\|^2_2 is \|x\|_2^2
                    out.insert(at, tok)
                    continue
            if kind == "NUMBER":
                if ends_factor and not pending:
                    raise _Fault("a number after a factor: write it before the factor (2x), or "
                                 "in braces (x_{12} is an index, x^{12} an exponent)", tok)
                if pending and len(tok.value) > 1:  # \frac12: the argument is the digit 1
                    i -= 1  # the other digits are the next token
                    tokens[i] = _retyped(tok, "NUMBER", tok.value[1:], shift=1)
                    tok = _retyped(tok, "NUMBER", tok.value[0])
            if kind == "LCURLY":
                stack.append((pending - 1 if pending else 0, pending > 0 and _sum_bound(out)))
                pending, ends_factor = 0, False
            elif kind == "RCURLY":
                pending, bound = stack.pop() if stack else (0, False)
                ends_factor = not pending and not bound
            elif pending and kind in ("NUMBER", "NAME"):
                pending -= 1
                ends_factor = not pending and not _sum_bound(out)
            else:
                pending = {"FRAC": 2, "POWOP": 1}.get(kind, 0)
                if kind == "SQRT" and not (i < len(tokens) and tokens[i].type == "LSQB"):
                    pending = 1
                elif kind == "LSQB":
                    roots.append(bool(out) and out[-1].type == "SQRT")
                elif kind == "RSQB" and roots and roots.pop():
                    pending = 1
                ends_factor = kind in ("NUMBER", "NAME", "RPAR", "RSQB", "RGROUP", "RBAR",
                                       "RNORM") or (kind == "SUBSCRIPT" and bool(out)
                                                    and out[-1].type in ("NAME", "RNORM"))
            out.append(tok)
        return iter(out)


def _sum_bound(out: list[Token]) -> bool:
    """Whether a script that starts after ``out`` is the upper bound of a ``\\sum``: the body
    follows it, so a number may come next."""
    return len(out) >= 3 and [t.type for t in out[-3:]] == ["SUM", "SUBSCRIPT", "POWOP"]


_UPRIGHT_F = re.compile(r"\\(mathrm|text|textrm|operatorname)\s*\{\s*F\s*\}")


def _frobenius_mark(tok: Token, tokens: list[Token], i: int) -> tuple[Token, int]:
    """``_{\\mathrm{F}}``, ``_\\mathrm{F}``, ``_\\text{F}`` (the Frobenius norm's mark) as the
    SUBSCRIPT ``_F``, and the index of the token after it; other tokens as they are."""
    if tok.type == "UNDERSCORE":
        braced = i < len(tokens) and tokens[i].type == "LCURLY"
        k = i + braced
        if k < len(tokens) and tokens[k].type == "NAMED" and _UPRIGHT_F.fullmatch(
                tokens[k].value) and (not braced or (
                k + 1 < len(tokens) and tokens[k + 1].type == "RCURLY")):
            last = k + braced
            return _retyped(tok, "SUBSCRIPT", "_F", length=tokens[last].end_pos
                            - tok.start_pos), last + 1
    elif re.fullmatch(r"_\s*\\(mathrm|text|textrm)", tok.value) and i + 2 < len(tokens) \
            and [t.type for t in tokens[i:i + 3]] == ["LCURLY", "LETTER", "RCURLY"] \
            and tokens[i + 1].value == "F":
        return _retyped(tok, "SUBSCRIPT", "_F", length=tokens[i + 2].end_pos
                        - tok.start_pos), i + 3
    return tok, i


def _power_of_a_norm(out: list[Token]) -> Optional[int]:
    """Where a subscript goes that follows ``\\|x\\|^2`` (just after the norm), else None."""
    if len(out) >= 3 and out[-1].type in ("NUMBER", "NAME") and out[-2].type == "POWOP":
        k = len(out) - 1
    elif out and out[-1].type == "RCURLY":
        depth, k = 0, len(out) - 1
        while k >= 0:
            depth += {"RCURLY": 1, "LCURLY": -1}.get(out[k].type, 0)
            if depth == 0:
                break
            k -= 1
    else:
        return None
    if k >= 2 and out[k - 1].type == "POWOP" and out[k - 2].type == "RNORM":
        return k - 1
    return None


def _norm_bar(tok: Token) -> bool:
    """Whether ``tok`` is the double bar of a norm: ``\\|`` or ``\\Vert``."""
    return tok.type == "COMMAND" and tok.value in ("\\|", "\\Vert")


def _parenthesis_follows(tokens: list[Token], i: int) -> bool:
    """Whether the token at ``i`` is "(" (perhaps after ``\\left``)."""
    while i < len(tokens) and tokens[i].type == "COMMAND" and tokens[i].value[1:] in _SIZING:
        i += 1
    return i < len(tokens) and tokens[i].type == "LPAR"


def _command(tok: Token, word: str, tokens: list[Token], i: int) -> Token:
    """A command's token, given its kind; an unknown command is refused with the nearest one."""
    kinds = {"sqrt": "SQRT", "sum": "SUM", "{": "LGROUP", "}": "RGROUP", "|": "BAR"}
    if word in _FRACTIONS:
        if _leibniz(tokens, i):
            raise _Fault("a derivative in Leibniz notation (\\frac{d...}{d...}): give the "
                         "function and differentiate it (symcalc.diff, symcalc diff)", tok)
        return _retyped(tok, "FRAC")
    if word in kinds and word != "|":
        return _retyped(tok, kinds[word])
    if word in _TIMES:
        return _retyped(tok, "MULOP")
    if word == "sigma" and _parenthesis_follows(tokens, i):
        return _retyped(tok, "FUNC", "sigmoid")
    if word in FUNCTION_COMMANDS:
        return _retyped(tok, "FUNC", FUNCTION_COMMANDS[word])
    if word in _GREEK_NAMES or word in _VARIANTS:
        return _retyped(tok, "NAME", _VARIANTS.get(word, word))
    if SHAPES.get() is not None:
        if word in ("top", "intercal"):
            return _retyped(tok, "NAME", _TRANSPOSE_MARK)
        if word in ("odot", "otimes"):  # the entrywise and the Kronecker product
            return _retyped(tok, "MULOP")
        if word in ("lVert", "rVert"):
            return _retyped(tok, "LNORM" if word == "lVert" else "RNORM")
        if word in SHAPED_FUNCTIONS:
            return _retyped(tok, "FUNC", SHAPED_FUNCTIONS[word])
    if word in _SHAPED:
        raise _Fault(f"\\{word} needs vectors and matrices: {PHRASING.get().shapes}", tok)
    if word in _NOT_FORMULAS:
        raise _Fault(f"\\{word}: {_NOT_FORMULAS[word]}", tok)
    close = difflib.get_close_matches(word, _KNOWN_COMMANDS, n=1, cutoff=0.6)
    hint = f"; did you mean \\{close[0]}?" if close else ""
    raise _Fault(f"unknown command \\{word}{hint}", tok)


def _leibniz(tokens: list[Token], i: int) -> bool:
    """Whether the fraction whose arguments start at ``tokens[i]`` is ``\\frac{d..}{d..}``."""
    def starts_with_d(k: int) -> bool:
        return k + 1 < len(tokens) and tokens[k].type == "LCURLY" and tokens[k + 1] == "d"
    if not starts_with_d(i):
        return False
    depth, k = 0, i
    while k < len(tokens):
        depth += {"LCURLY": 1, "RCURLY": -1}.get(tokens[k].type, 0)
        k += 1
        if depth == 0:
            break
    return starts_with_d(k)


def _accent(tok: Token, word: str, tokens: list[Token], i: int) -> tuple[Token, int]:
    """``\\hat{\\theta}``, ``\\bar x`` -> the NAME token ``theta_hat``, ``x_bar``, and the index
    of the token after it."""
    braced = i < len(tokens) and tokens[i].type == "LCURLY"
    k = i + braced
    inner = tokens[k] if k < len(tokens) else None
    base = None
    if inner is not None and inner.type == "COMMAND" and inner.value[1:] in _GREEK_NAMES:
        base = inner.value[1:]
    elif inner is not None and inner.type == "LETTER":
        base = inner.value
    if base is None or (braced and not (k + 1 < len(tokens) and tokens[k + 1].type == "RCURLY")):
        raise _Fault(f"\\{word} takes one letter: \\{word}{{x}} or \\{word}{{\\theta}}", tok)
    end = tokens[k + braced].end_pos
    return _retyped(tok, "NAME", f"{base}_{word}", length=end - tok.start_pos), k + braced + 1


def _named(tok: Token, tokens: list[Token], i: int) -> Token:
    """``\\mathrm{lr}`` -> the NAME ``lr``; ``\\operatorname{relu}`` -> the FUNC ``relu``; an
    unknown ``\\operatorname``, or a ``\\mathrm`` name close to a function's and called, is
    refused with the nearest function."""
    inner = tok.value[tok.value.index("{") + 1:-1].strip()
    command = tok.value[1:tok.value.index("{")].strip()
    if command in _BOLD:
        if SHAPES.get() is None:
            raise _Fault(f"\\{command} needs vectors and matrices: {PHRASING.get().shapes}", tok)
        if inner.startswith("\\") and inner[1:] in _GREEK_NAMES:
            inner = inner[1:]
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*|[01]", inner):
            raise _Fault(f"\\{command} takes a letter, a Greek letter, 0 or 1: \\{command}{{x}}, "
                         f"\\boldsymbol{{\\theta}}, \\mathbf{{1}}", tok)
        return _retyped(tok, "NAME", f"bold:{inner}|{tok.value}")  # the name, and as typed
    if SHAPES.get() is not None and command in ("mathsf", "mathrm") and inner == "T":
        return _retyped(tok, "NAME", _TRANSPOSE_MARK)  # ^{\mathsf{T}}
    if SHAPES.get() is not None and inner in SHAPED_FUNCTIONS:
        return _retyped(tok, "FUNC", SHAPED_FUNCTIONS[inner])
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", inner):
        raise _Fault(f"not a name: {inner!r} (use letters, digits and '_', starting with a "
                     f"letter)", tok)
    if inner in FUNCTION_COMMANDS:
        return _retyped(tok, "FUNC", FUNCTION_COMMANDS[inner])
    if lookup(inner) is not None or inner in _ABSTRACT.get():
        return _retyped(tok, "FUNC", inner)
    message = unknown_function(inner, abstract=False)
    if tok.value.startswith("\\operatorname") or (
            "did you mean" in message and _parenthesis_follows(tokens, i)):
        raise _Fault(message, tok)
    return _retyped(tok, "NAME", inner)


class _Bare:
    """A function applied without parentheses (``\\sin x``): its node, and how to rebuild it
    with another argument (to name the other reading of ``\\sin x y``)."""

    __slots__ = ("expr", "token", "argument", "rebuild")

    def __init__(self, expr: Expr, token: Token, argument: Expr,
                 rebuild: Callable[[Expr], Expr]):
        self.expr, self.token, self.argument, self.rebuild = expr, token, argument, rebuild


class _Called:
    """A function call with parentheses in a row of factors: a function may follow ``\\sin x``."""

    __slots__ = ("expr",)

    def __init__(self, expr: Expr):
        self.expr = expr


class _SideBySide:
    """Factors side by side (``b c``): their product and the factors as written.  The right
    operand of ``/`` must not be one, and ``\\frac`` divides by each factor."""

    __slots__ = ("expr", "factors")

    def __init__(self, expr: Expr, factors: list[Expr]):
        self.expr, self.factors = expr, factors


def _value(x) -> Expr:
    return x.expr if isinstance(x, (_Bare, _Called, _SideBySide)) else x


def _subscript(tok: Token) -> str:
    """The index of a SUBSCRIPT token as a name's tail: ``_{ij} -> ij``, ``_{1,2} -> 1_2``."""
    inner = tok.value[1:].strip()
    if inner.startswith("{"):
        inner = inner[1:-1]
    parts = []
    for part in inner.split(","):
        part = part.strip()
        if part.startswith("\\") and part[1:] in _GREEK_NAMES:
            part = part[1:]
        if not re.fullmatch(r"\w+", part, re.ASCII):
            raise _Fault(f"an index is letters and digits: {tok.value!r}", tok)
        parts.append(part)
    return "_".join(parts)


def inverse_or_reciprocal(tok: Token, exponent: str, k) -> _Fault:
    """The fault of ``\\sin^{-1}``: an inverse function, or a power of ``1/\\sin``."""
    name = tok.value
    inverse = "an inverse function" if k == 1 else "a power of an inverse function"
    command = f"\\arc{name}" if f"arc{name}" in FUNCTION_COMMANDS else f"\\operatorname{{a{name}}}"
    reciprocal = f"1/{name}(...)" + (f"^{k}" if k != 1 else "")
    return _Fault(f"{name}^{{{exponent}}} has two readings: {inverse} or {reciprocal}; "
                  f"write {command} x or \\frac{{1}}{{\\{name} x}}", tok)


def only_log_has_a_base(tok: Token, base) -> None:
    if base is not None and tok.value != "log":
        raise _Fault(f"a subscript on {tok.value}: only \\log takes one (its base)", tok)


class ItemRules:
    """The rules that gather factors written side by side into a list, shared by the scalar and
    the shaped LaTeX builders."""

    def start_items(self, children: list) -> list:
        return children

    def extend_items(self, children: list) -> list:
        items, item = children
        items.append(item)
        return items

    @staticmethod
    def side_by_side_items(children: list) -> list:
        """The factors of a ``side_by_side`` reduction, in order."""
        items = list(children[0]) if isinstance(children[0], list) else []
        if len(children) > 1 or not isinstance(children[0], list):
            items.append(children[-1])
        return items


class _LatexBuilder(ItemRules, _Builder):
    """The plain builder, with the LaTeX constructs."""

    def start(self, children: list) -> Expr:
        return _value(children[0])

    def name(self, children: list) -> Expr:
        tok = children[0]
        if len(children) == 1 and tok.value in ("e", "pi"):
            return E if tok.value == "e" else PI
        text = tok.value + ("_" + _subscript(children[1]) if len(children) > 1 else "")
        return Symbol(canonical_name(text))

    def group(self, children: list) -> Expr:
        return _value(children[-2] if len(children) > 1 else children[0])

    def brace(self, children: list):
        inner = children[1]
        if isinstance(inner, _SideBySide):
            raise _Fault("braces do not show in print, so {...} does not group factors side by "
                         "side: write \\left( ... \\right)", children[0])
        return _value(inner)

    def braced(self, children: list):
        return children[1]  # kept whole: \\frac{1}{2(b + c)} divides by each factor

    def absolute(self, children: list) -> Expr:
        return REGISTRY["abs"](_value(children[1]))

    def fraction(self, children: list) -> Expr:
        tok, num, den = children
        factors = den.factors if isinstance(den, _SideBySide) else [_value(den)]
        try:  # \\frac{1}{2(b + c)}: divided factor by factor, as a/(b + c)/2 is
            return mul(_value(num), *(power(f, Num(-1)) for f in factors))
        except ZeroDivisionError:
            raise _Fault("division by zero", tok) from None

    def root(self, children: list) -> Expr:
        tok, *rest = children
        if len(rest) == 1:
            return REGISTRY["sqrt"](_value(rest[0]))
        index, radicand = (_value(r) for r in rest)
        try:
            return power(radicand, power(index, Num(-1)))
        except ZeroDivisionError:
            raise _Fault("a root of index 0", tok) from None

    def power(self, children: list):
        base, op, exponent = children
        if base is E:  # e^{1} is exp(1), as the printer writes it, not e
            return REGISTRY["exp"](_value(exponent))
        result = super().power([_value(base), op, _value(exponent)])
        return _Called(result) if isinstance(base, _Called) else result  # \\cos(x)^2 after \\sin x

    def first_argument(self, children: list) -> list[Expr]:
        return [_value(children[0])]

    def next_argument(self, children: list) -> list[Expr]:
        args, arg = children
        args.append(_value(arg))
        return args

    def keyword_argument(self, children: list) -> list[Expr]:
        raise _Fault("a keyword argument (\\mathrm{axis}=0) is for vectors and matrices: "
                     f"{PHRASING.get().shapes}", children[1])

    def signed(self, children: list) -> Expr:
        return super().signed([children[0], _value(children[1])])

    def sum(self, children: list) -> Expr:
        chain = children[0]
        return super().sum([[c if isinstance(c, Token) else _value(c) for c in chain]])

    def product(self, children: list) -> Expr:
        chain = children[0]
        for k in range(1, len(chain), 2):
            right = chain[k + 1]
            if chain[k].value == "/" and isinstance(right, _SideBySide):
                left = self._product(chain[:k]) if k > 1 else _value(chain[0])
                first, *rest = right.factors
                one = mul(left, power(first, Num(-1)), *rest)
                two = mul(left, power(right.expr, Num(-1)))
                raise _Fault(f"'/' before factors side by side has two readings: {one} or {two}; "
                             f"write \\frac{{...}}{{...}} or parentheses", chain[k])
        return self._product(chain)

    def _product(self, chain: list) -> Expr:
        return super().product([[c if isinstance(c, Token) else _value(c) for c in chain]])

    def head(self, children: list) -> tuple[Token, Optional[Expr], Optional[Expr]]:
        """A function's name with its base (``\\log_2``) or power (``\\sin^2``): (FUNC token,
        base, exponent)."""
        tok, base, exponent = children[0], None, None
        if len(children) == 2:  # \log_2, \log_b
            sub = _subscript(children[1])
            base = Num(int(sub)) if sub.isdigit() else Symbol(canonical_name(sub))
        elif len(children) == 5:  # \log_{1 + b}
            base = _value(children[3])
        elif len(children) == 3:
            exponent = _value(children[2])
            if isinstance(exponent, Num) and exponent.value < 0:
                raise inverse_or_reciprocal(tok, str(exponent), -exponent.value)
        only_log_has_a_base(tok, base)
        return tok, base, exponent

    def _apply(self, head: tuple, args: list) -> Expr:
        tok, base, exponent = head
        name = tok.value
        if name.endswith("'"):  # f''(x) is f_1_1(x)
            if len(args) != 1:
                raise _Fault(f"a prime on a function of {len(args)} arguments does not say which "
                             f"partial derivative: write {name.rstrip(chr(39))}_1, "
                             f"{name.rstrip(chr(39))}_2, ...", tok)
            name = name.rstrip("'") + "_1" * (len(name) - len(name.rstrip("'")))
        if base is not None:
            if base is Num(2) or base is Num(10):
                name = f"log{base}"
            else:
                args = [*args, base]
        called = super().call([Token("NAME", name, tok.start_pos), args])
        return called if exponent is None else power(called, exponent)

    def call(self, children: list) -> _Called:
        head, args = children
        return _Called(self._apply(head, args))

    def bare_call(self, children: list) -> _Bare:
        head, argument = children[0], _value(children[1])
        return _Bare(self._apply(head, [argument]), head[0], argument,
                     lambda a: self._apply(head, [a]))

    def side_by_side(self, children: list):
        items = self.side_by_side_items(children)
        for k, item in enumerate(items[:-1]):
            after = items[k + 1]
            if isinstance(item, _Bare) and not isinstance(after, (_Bare, _Called)):
                rest = [_value(x) for x in items[k + 1:]]
                stop = next((j for j, x in enumerate(items[k + 1:]) if isinstance(
                    x, (_Bare, _Called))), len(rest))
                before = [_value(x) for x in items[:k]]
                one = mul(*before, item.expr, *rest)
                two = mul(*before, item.rebuild(mul(item.argument, *rest[:stop])), *rest[stop:])
                raise _Fault(f"a function without parentheses before another factor has two "
                             f"readings: {one} or {two}; write the parentheses", item.token)
        values = [_value(x) for x in items]
        expr = mul(*values) if len(values) > 1 else values[0]
        if len(items) == 1:
            return expr
        return _SideBySide(expr, values)

    def big_sum(self, children: list) -> Expr:
        tok, sub, _, upper, body = children
        m = re.fullmatch(r"_\s*\{\s*([A-Za-z])\s*=\s*(-?\d+)\s*\}", sub.value)
        upper = _value(upper)
        if m is None or not isinstance(upper, Num) or upper.value.__class__ is not int:
            raise _Fault("\\sum needs an index and integer bounds, as in \\sum_{i=1}^{3}: a "
                         "symbolic bound (n) cannot be expanded", tok)
        index, lo, hi = m.group(1), int(m.group(2)), upper.value
        if hi - lo + 1 > _MAX_TERMS:
            raise _Fault(f"\\sum over more than {_MAX_TERMS} terms", tok)
        body = _value(body)
        return add(*(_indexed(body, index, k) for k in range(lo, hi + 1))) if hi >= lo else Num(0)


def _indexed(body: Expr, index: str, k: int) -> Expr:
    """``body`` with the index ``i`` replaced by ``k``: ``w_i*x_i -> w_2*x_2``, ``i -> 2``."""
    from ..core.expr import postorder
    mapping = {}
    for node in postorder([body]):
        if isinstance(node, Symbol):
            head, *parts = node.name.split("_")
            if node.name == index:
                mapping[node] = Num(k)
            elif index in parts:
                mapping[node] = Symbol("_".join([head] + [str(k) if p == index else p
                                                          for p in parts]))
    return body.subs(mapping) if mapping else body


_TERMINALS = {
    "NAME": "a name", "NUMBER": "a number", "LPAR": "'('", "RPAR": "')'", "COMMA": "','",
    "ADDOP": "'+' or '-'", "MULOP": "'*', '/', \\cdot or \\times", "POWOP": "'^'",
    "$END": "the end of the formula", "FUNC": "a function", "FRAC": "\\frac", "SQRT": "\\sqrt",
    "SUM": "\\sum", "LCURLY": "'{'", "RCURLY": "'}'", "LSQB": "'['", "RSQB": "']'",
    "LGROUP": "\\{", "RGROUP": "\\}", "LBAR": "'|'", "RBAR": "'|'", "SUBSCRIPT": "a subscript",
    "LNORM": "\\|", "RNORM": "\\|",
}


def _syntax_error(exc: UnexpectedInput, text: str) -> ParseError:
    """The ParseError of a LaTeX formula the grammar does not admit, located in ``text``."""
    origin = range(len(text))
    if isinstance(exc, UnexpectedCharacters):
        line, column = _location(text, origin, exc.pos_in_stream)
        return ParseError(f"unexpected character {text[exc.pos_in_stream]!r}", text, line, column)
    token = getattr(exc, "token", None)
    expected = tuple(sorted({_TERMINALS.get(t, repr(t)) for t in getattr(exc, "expected", ())
                             or ()}))
    if token is None or token.type == "$END":
        end_line = text.count("\n") + 1
        end_column = len(text) - (text.rfind("\n") + 1) + 1
        return ParseError("unexpected end of the formula", text, end_line, end_column, expected)
    line, column = _location(text, origin, token.start_pos)
    if token.type == "UNDERSCORE":
        return ParseError("an index is letters, digits and commas (x_{1}, w_{ij}, x_{1,2}); only "
                          "\\log takes a formula below it (its base)", text, line, column)
    shown = text[token.start_pos:token.end_pos] if token.end_pos else str(token)
    return ParseError(f"unexpected {shown!r}", text, line, column, expected)


_parser: Optional[Lark] = None


def _get_parser() -> Lark:
    global _parser
    if _parser is None:
        grammar = _parser_module.grammar_path("latex.lark").read_text(encoding="utf-8")
        _parser = Lark(grammar, parser="lalr", lexer="basic",
                       postlex=_Commands(), transformer=_LatexBuilder(),
                       propagate_positions=False, maybe_placeholders=False)
    return _parser


# the reader of LaTeX with vectors and matrices, which builds on this module and binds itself
SHAPED = Hooks(shaped_parser="symcalc.matrix.latex_reading")


def parse_latex(text: str, functions: Iterable = (), shapes=None):
    """Read a LaTeX formula (see the module's docstring for what it reads and refuses).  With
    ``shapes`` the names given are vectors and matrices (``symcalc.matrix.latex_reading``)."""
    if not isinstance(text, str):
        raise SymcalcTypeError(f"parse() needs a string, not {type(text).__name__}")
    if not text.strip():
        raise ParseError("empty formula", text, 1, 1, ("a formula",))
    stripped = text.strip()
    if stripped.startswith("$") and stripped.endswith("$") and len(stripped) > 1:
        text = text.replace("$", " ")  # $...$ and $$...$$ as pasted; positions stay
    if len(text) > _MAX_LENGTH:
        raise ParseError(f"the formula is longer than {_MAX_LENGTH:,} characters", text, 1, 1)
    origin = range(len(text))
    reader = _get_parser
    if shapes is not None:
        reader, shapes = SHAPED.shaped_parser(shapes)
    names = _ABSTRACT.set(_function_names(functions))
    table = SHAPES.set(shapes)
    try:
        return reader().parse(text)
    except _Fault as fault:
        line, column = _location(text, origin, fault.token.start_pos)
        error = getattr(fault, "error", None)  # a ShapeError, located here
        if error is not None:
            raise error.located(text, line, column) from None
        raise ParseError(fault.message, text, line, column, fault.expected) from None
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text) from None
    finally:
        _ABSTRACT.reset(names)
        SHAPES.reset(table)


from .parser import READERS as _READERS  # noqa: E402
_READERS.bind(parse_latex=parse_latex)  # parse(text, latex=True)
