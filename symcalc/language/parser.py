"""Text -> expression graph.  The grammar lives in ``grammar/symcalc.lark``; this module loads it
once per process and is the only code that sees parse trees.

Nothing here evaluates text: the grammar admits only numbers, names, operators, parentheses and
calls of registered functions, and each piece is turned into a node by the constructors.
"""

from __future__ import annotations

import difflib
import os
import re
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Sequence

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ..core import bigint
from ..errors import ParseError, SymcalcError, SymcalcTypeError
from ..core.hooks import Hooks
from ..core.nodes import API as _API
from ..core.expr import E, MINUS_ONE, PI, Expr, Num, Symbol, add, mul, negate, power
from ..functions.elementary import ALIASES, REGISTRY, Function, lookup
from ..functions.abstract import DERIVATIVE_NAME, AbstractFunction, applied, check_name
from .unicode import normalise

try:  # the optional ``fast`` extra: Lark's LALR tables driven by compiled code
    import lark_cython
except ImportError:  # pragma: no cover - the pure-Python parser below is the fallback
    lark_cython = None

# Parse with lark-cython when it is installed; False (or SYMCALC_PURE_PARSER=1 in the environment)
# forces the pure-Python Lark parser.  Both give the same nodes and the same ParseErrors.
USE_LARK_CYTHON = lark_cython is not None and not os.environ.get("SYMCALC_PURE_PARSER")

GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta",
    "η": "eta", "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu",
    "ξ": "xi", "ο": "omicron", "π": "pi", "ρ": "rho", "σ": "sigma", "τ": "tau", "υ": "upsilon",
    "φ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega", "ϕ": "phi", "ς": "sigma",
    "Γ": "Gamma", "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda", "Ξ": "Xi", "Π": "Pi", "Σ": "Sigma",
    "Υ": "Upsilon", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega",
}
CONSTANTS = {"pi": PI, "e": E}
_NAME = re.compile(r"[^\W\d_]\w*\Z")
# the abstract functions of the formula being parsed: name -> number of arguments (0: not yet used)
_ABSTRACT: ContextVar[dict[str, int]] = ContextVar("symcalc_abstract_functions", default={})
# the formula being parsed, in its normal form (for messages that quote what follows a token)
_TEXT: ContextVar[str] = ContextVar("symcalc_formula", default="")


@dataclass(frozen=True)
class Phrasing:
    """How messages tell the user to declare what the formula needs: abstract functions
    (``{name}`` is the function's name) and vectors and matrices."""

    functions: str
    shapes: str


API_PHRASING = Phrasing("name it in functions=[...]",
                        'declare them with shapes=, e.g. shapes={"A": "m,n", "t": "n"}')
COMMAND_LINE_PHRASING = Phrasing(
    "give --functions {name}",
    "declare them with --shape (grad, jacobian, hessian), e.g. --shape A=m,n --shape t=n")
# the phrasing of the caller: the Python API's arguments, or the command line's options
PHRASING: ContextVar[Phrasing] = ContextVar("symcalc_phrasing", default=API_PHRASING)
# names people write for functions that symcalc spells otherwise: σ(x) is the logistic sigmoid
USUAL_NAMES = {"sigma": "sigmoid"}

_TERMINALS = {
    "NAME": "a name", "NUMBER": "a number", "LPAR": "'('", "RPAR": "')'", "COMMA": "','",
    "ADDOP": "'+' or '-'", "MULOP": "'*' or '/'", "POWOP": "'^'", "$END": "the end of the formula",
    "TRANSPOSE": "'.T'",
}


def grammar_path(name: str = "symcalc.lark") -> Path:
    """The grammar file ``name``: in ``symcalc/grammar`` when installed, in ``grammar/`` beside
    the package in a checkout."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "grammar" / name, package.parent / "grammar" / name):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"the grammar file grammar/{name} is missing")


class _Fault(Exception):
    """A problem found while building nodes, located at a token; becomes a ParseError."""

    def __init__(self, message: str, token: Token, expected: tuple[str, ...] = ()):
        super().__init__(message)
        self.message, self.token, self.expected = message, token, expected


# ^2( or ^(2)( or, from a pasted superscript, ^(2)*(
_POWER_THEN_CALL = re.compile(r"\s*(?:\^|\*\*)\s*(\(\s*[-+]?\s*\d+\s*\)|[-+]?\d+)\s*\*?\s*\(")


# After "/": a product written side by side, whose first factor ends in a number (x/2y, 1/2x,
# x/x^2y).  Read token by token, each piece matched greedily once, as the lexer reads it: a
# pattern that could backtrack into a number would split 2.5e3 or take quadratic time.
_NUMBER_AT = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_BASE_AT = re.compile(r"[^\W\d_]\w*(?:\([^()]*\))?|\([^()]*\)")
_POWER_AT = re.compile(r"\s*(?:\^|\*\*)\s*[+-]?\s*")
_SPACES_AT = re.compile(r"\s*")
_NEXT_FACTOR = _BASE_AT


def _numbered_end(text: str, pos: int) -> Optional[int]:
    """Where a factor ending in a number ends, for one starting at ``pos`` (``2``, ``2^3``,
    ``x^2``, ``(a + b)^2``); else None."""
    first = _NUMBER_AT.match(text, pos)
    powers = 0
    if first is None:
        first = _BASE_AT.match(text, pos)
        if first is None:
            return None
    end = first.end()
    while True:
        op = _POWER_AT.match(text, end)
        exponent = _NUMBER_AT.match(text, op.end()) if op and op.end() > end else None
        if exponent is None:
            break
        end, powers = exponent.end(), powers + 1
    return end if (powers or _NUMBER_AT.match(text, pos)) else None


def implicit_divisor(text: str, slash_end: int) -> Optional[str]:
    """The message refusing ``x/2y``, which has two readings (``(x/2)*y`` and ``x/(2*y)``),
    when the text after the ``/`` ending at ``slash_end`` is a product written side by side;
    else None."""
    start = _SPACES_AT.match(text, slash_end).end()
    end = _numbered_end(text, start)
    if end is None:
        return None
    after = _NEXT_FACTOR.match(text, _SPACES_AT.match(text, end).end())
    if after is None:
        return None
    first, factor = _short(text[start:end]), _short(after.group(0))
    typed = _short(text[slash_end - 1:after.end()])
    return (f"'{typed}' has two readings: /{first}*{factor} (divide by {first}, then "
            f"multiply by {factor}) or /({first}*{factor}); write the * or the parentheses")


def _short(text: str, most: int = 40) -> str:
    return text if len(text) <= most else f"{text[:most - 12]}...{text[-9:]}"


def function_without_call(name: str, text: str, end: int) -> str:
    """The message for a function ``name`` used as a value; ``text[end:]`` follows the name.
    ``sin^2(x)`` and ``tanh²(x)`` (``tanh^(2)(x)``) get the spelling of that power."""
    m = _POWER_THEN_CALL.match(text, end)
    close = _closing_parenthesis(text, m.end() - 1) if m else None
    if close is None:
        return f"{name} is a function: write {name}(...)"
    argument, k = text[m.end() - 1:close + 1], m.group(1).replace(" ", "").strip("()")
    power = k if k.isdigit() else f"({k})"
    inverse = "a" + name
    if k == "-1" and lookup(inverse) is not None:
        return (f"{name} is a function: write {inverse}{argument} for the inverse function, or "
                f"{name}{argument}^(-1) for 1/{name}{argument}")
    return f"{name} is a function: write {name}{argument}^{power} for a power of it"


def _closing_parenthesis(text: str, start: int) -> Optional[int]:
    """The index of the ")" that closes the "(" at ``start``, or None."""
    depth = 0
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i
    return None


def canonical_name(name: str) -> str:
    """Spell out Unicode Greek letters: ``θ_1 -> theta_1``."""
    if name.isascii():
        return name
    return "".join(GREEK.get(ch, ch) for ch in name)


def symbol_from_name(name: str) -> Symbol:
    """The Symbol for a variable name, checked as the parser checks it."""
    if not isinstance(name, str):
        raise SymcalcTypeError(f"a variable name must be a string, not {type(name).__name__}")
    typed, name = name, normalise(name)[0]
    if not _NAME.match(name):
        name = typed
        raise SymcalcError(
            f"{name!r} is not a variable name: use letters, digits and '_', starting with a letter"
        )
    name = canonical_name(name)
    if name in CONSTANTS:
        raise SymcalcError(f"{name!r} is the constant {name}, not a variable")
    if lookup(name) is not None:
        raise SymcalcError(f"{name!r} is a function name, not a variable")
    return Symbol(name)


def symbols(names: str | Iterable[str]) -> tuple[Symbol, ...] | Symbol:
    """``symbols("x y")`` or ``symbols("x, y")`` -> (x, y); a single name gives one Symbol.

    >>> x, y = symbols("x, y")
    >>> x * y + x
    Expr('x + x*y')
    >>> symbols("theta")
    Expr('theta')
    """
    parts = names.replace(",", " ").split() if isinstance(names, str) else list(names)
    made = tuple(symbol_from_name(p) for p in parts)
    return made[0] if isinstance(names, str) and len(made) == 1 else made


def _number(text: str) -> Expr:
    """Exact value of a numeric literal: 12 -> 12, 0.5 -> 1/2, 2.5e3 -> 2500."""
    if text.isdecimal():
        return Num(bigint.int_from_digits(text))
    mantissa, _, exponent = text.lower().partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0") or "0"
    power_of_ten = bigint.int_from_digits(exponent.lstrip("+-")) if exponent else 0
    shift = (-power_of_ten if exponent.startswith("-") else power_of_ten) - len(frac)
    value = Num(bigint.int_from_digits(digits))
    if shift == 0 or value.value == 0:
        return value
    return mul(value, power(Num(10), Num(shift)))


class _Builder(Transformer):
    """One method per grammar alias; each gets the list of its rule's children (names and numbers
    as tokens, the rest as nodes) and builds nodes with the canonical constructors.  The methods
    take the list as it is, with no ``v_args`` wrapper: the parser calls them once per reduction.
    """

    def number(self, children: list) -> Expr:
        return _number(children[0].value)

    def name(self, children: list) -> Expr:
        tok = children[0]
        text = canonical_name(tok.value)
        if text in CONSTANTS:
            return CONSTANTS[text]
        if lookup(text) is not None or text in _ABSTRACT.get():
            raise _Fault(function_without_call(text, _TEXT.get(), tok.end_pos), tok)
        return Symbol(text)

    def call(self, children: list) -> Expr:
        tok, args = children
        text = canonical_name(tok.value)
        fn = lookup(text) or _abstract_function(text, len(args), tok)
        try:
            return fn(*args)
        except TypeError as exc:
            raise _Fault(str(exc), tok) from None
        except (ZeroDivisionError, ValueError) as exc:
            raise _Fault(str(exc), tok) from None

    def first_argument(self, children: list) -> list[Expr]:
        return children

    def next_argument(self, children: list) -> list[Expr]:
        args, arg = children
        args.append(arg)
        return args

    def start_chain(self, children: list) -> list:
        """``a op b``: the start of a chain of sums or of products, [a, op, b, op, c, ...]."""
        return children

    def extend_chain(self, children: list) -> list:
        chain, op, operand = children
        chain.append(op)
        chain.append(operand)
        return chain

    def sum(self, children: list) -> Expr:
        chain = children[0]
        terms = [chain[0]]
        for k in range(1, len(chain), 2):
            term = chain[k + 1]
            terms.append(term if chain[k].value == "+" else negate(term))
        return add(*terms)

    def product(self, children: list) -> Expr:
        chain = children[0]
        factors = [chain[0]]
        for k in range(1, len(chain), 2):
            op, factor = chain[k], chain[k + 1]
            if op.value == "/":
                ambiguous = implicit_divisor(_TEXT.get(), op.end_pos)
                if ambiguous is not None:
                    raise _Fault(ambiguous, op)
                try:
                    factor = power(factor, MINUS_ONE)
                except ZeroDivisionError:
                    raise _Fault("division by zero", op) from None
            factors.append(factor)
        return mul(*factors)

    def signed(self, children: list) -> Expr:
        op, operand = children
        return negate(operand) if op.value == "-" else operand

    def start_implied(self, children: list) -> list[Expr]:
        """The factors of an implicit product before its last one: ``[x^2]`` of ``x^2y``."""
        return children

    def extend_implied(self, children: list) -> list[Expr]:
        factors, factor = children
        factors.append(factor)
        return factors

    def implicit_product(self, children: list) -> Expr:
        factors, last = children
        return mul(*factors, last)

    def power(self, children: list) -> Expr:
        base, op, exponent = children
        try:
            return power(base, exponent)
        except ZeroDivisionError:
            raise _Fault("division by zero (0 raised to a negative power)", op) from None

    def __default__(self, data, children, meta):
        raise AssertionError(f"grammar rule {data!r} has no builder")  # a grammar/parser mismatch


def _abstract_function(name: str, count: int, tok: Token) -> Function:
    """The entry for an abstract function (or a derivative of one) named in ``functions=``."""
    active = _ABSTRACT.get()
    base, indices = name, ()
    if name not in active:
        m = DERIVATIVE_NAME.match(name)
        if m is None or m.group(1) not in active:
            raise _Fault(unknown_function(name), tok)
        base, indices = m.group(1), tuple(int(k) for k in m.group(2)[1:].split("_"))
    nargs = active[base] or count
    if count != nargs:
        raise _Fault(f"{name} takes {nargs} argument(s) (as {base} is used here), got {count}", tok)
    active[base] = nargs
    try:
        return applied(base, nargs, indices)
    except ValueError as exc:
        raise _Fault(str(exc), tok) from None


def _function_names(functions: Iterable) -> dict[str, int]:
    """``functions=`` of ``parse``: names (a list, or one string "f, g") or ``AbstractFunction``s
    -> {name: number of arguments, 0 while not known}."""
    if functions is None:
        return {}
    if isinstance(functions, (str, AbstractFunction)):
        functions = functions.replace(",", " ").split() if isinstance(functions, str) else [functions]
    if not isinstance(functions, Iterable):
        raise SymcalcTypeError("functions= takes a list of function names, not "
                               f"{type(functions).__name__}")
    names: dict[str, int] = {}
    for f in functions:
        if isinstance(f, AbstractFunction):
            names[f.name] = f.nargs or 0
        else:
            names[check_name(f)] = 0
    return names


def unknown_function(name: str, more: Iterable[str] = (), abstract: bool = True) -> str:
    """The message for a call of an unknown function: the nearest known name (``more`` are
    known too), whatever its case (``ReLU``), or the usual name's function (``σ``, sigmoid)."""
    known = sorted(set(REGISTRY) | set(ALIASES) | set(more))
    by_lower = {k.lower(): k for k in known}
    close = by_lower.get(name.lower()) or USUAL_NAMES.get(name) or next(
        iter(difflib.get_close_matches(name.lower(), by_lower, n=1, cutoff=0.6)), None)
    if close:
        return f"unknown function {name}; did you mean {by_lower.get(close, close)}?"
    if abstract and len(name) <= 2:
        how = PHRASING.get().functions.format(name=name)
        return (f"{name} is not a function; write {name}*(...) for a product, or {how} for an "
                f"abstract function")
    return f"unknown function {name}; known functions: {', '.join(known)}"


_parsers: dict[bool, Lark] = {}  # built once per process: False -> pure Lark, True -> lark-cython


def _get_parser() -> Lark:
    """The LALR parser, building nodes as it reduces (no parse tree), for the chosen engine."""
    fast = USE_LARK_CYTHON and lark_cython is not None
    parser = _parsers.get(fast)
    if parser is None:
        parser = _parsers[fast] = Lark(
            grammar_path().read_text(encoding="utf-8"),
            parser="lalr",
            lexer="contextual",  # it reports the terminals expected in the state the error is in
            transformer=_Builder(),
            propagate_positions=False,
            maybe_placeholders=False,
            _plugins=lark_cython.plugins if fast else {},
        )
    return parser


# the readers of the other input languages, which build on this module and bind themselves
READERS = Hooks(parse_latex="symcalc.language.latex", parse_with_shapes="symcalc.matrix.parsing")


def parse(text: str, functions: Iterable[str | AbstractFunction] = (), shapes=None,
          latex: bool = False) -> Expr:
    """Parse a formula into an expression.

    >>> parse("sigmoid(w*x + b)")
    Expr('sigmoid(b + w*x)')

    Unicode as people paste it is read too: ``x²``, ``x⁻¹``, ``x₁``, ``√(x+1)``, ``a·b``,
    ``a − b`` (see ``symcalc.language.unicode``).  ``functions`` names abstract functions
    (``parse("f(g(x))", functions=["f", "g"])``); their derivatives are spelled ``f_1``,
    ``f_1_2``, ... (see ``symcalc.functions.abstract``).

    With ``shapes={"A": ("m", "n"), "t": ("n",)}`` the named symbols are matrices and vectors and
    the result is a shaped formula of ``symcalc.matrix`` (``@`` and ``.T`` allowed); a formula
    that uses only scalars is the same scalar ``Expr`` as without ``shapes``.  A square matrix
    may be declared symmetric or diagonal by a word after its sizes: ``{"S": "n,n,symmetric"}``
    or ``("n", "n", "diagonal")`` (then ``S.T`` is ``S``, and a gradient by ``S`` is the
    symmetric one, ``(G + G.T)/2``); another word is an error.

    With ``latex=True`` the text is LaTeX, as in a textbook: ``\\frac{1}{1 + e^{-x}}`` (see
    ``symcalc.language.latex`` for what it reads, and the ambiguous forms it refuses); with
    ``shapes=`` as well, as in a paper: ``\\frac{1}{2}\\|A\\mathbf{t} - \\mathbf{b}\\|^2``
    (see ``symcalc.matrix.latex_reading``).

    Raises ``ParseError`` (a ``ValueError``) with the line, column and a caret under the fault,
    counted in the text as typed.
    """
    if latex and isinstance(text, str):  # with shapes=, vectors and matrices as papers write them
        return READERS.parse_latex(text, functions, shapes)
    if shapes is not None and not isinstance(text, Expr):
        return READERS.parse_with_shapes(text, shapes)
    if isinstance(text, Expr):
        return text
    if not isinstance(text, str):
        raise SymcalcTypeError(f"parse() needs a string, not {type(text).__name__}")
    if not text.strip():
        raise ParseError("empty formula", text, 1, 1, ("a formula",))
    source = text
    text, origin = normalise(source)
    names = _ABSTRACT.set(_function_names(functions))
    typed = _TEXT.set(text)
    try:
        return _get_parser().parse(text)
    except _Fault as fault:
        line, column = _location(source, origin, fault.token.start_pos)
        raise ParseError(fault.message, source, line, column, fault.expected) from None
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text, source, origin) from None
    finally:
        _ABSTRACT.reset(names)
        _TEXT.reset(typed)


def _location(source: str, origin: Sequence[int], pos: int) -> tuple[int, int]:
    """(line, column), 1-based, in the text as typed, of position ``pos`` of its normal form."""
    index = origin[pos] if 0 <= pos < len(origin) else len(source)
    line_start = source.rfind("\n", 0, index) + 1
    return source.count("\n", 0, index) + 1, index - line_start + 1


def _syntax_error(exc: UnexpectedInput, text: str, source: str,
                  origin: Sequence[int]) -> ParseError:
    token = getattr(exc, "token", None)
    if token is not None and not isinstance(token, Token):  # lark-cython's token is not a str
        token = Token(token.type, token.value, token.start_pos, token.line, token.column)
    pos = exc.pos_in_stream if isinstance(exc, UnexpectedCharacters) else \
        getattr(token, "start_pos", None)
    line, column = _location(source, origin, pos) if pos is not None else (1, 1)
    if isinstance(exc, UnexpectedCharacters):
        char = source[origin[exc.pos_in_stream]]
        message = f"unexpected character {char!r}"
        if char == "_":
            message += " (names start with a letter)"
        elif char == "@" or text.startswith(".T", exc.pos_in_stream):
            what = "'@' (the matrix product)" if char == "@" else "'.T' (the transpose)"
            message = f"{what} needs vectors and matrices: {PHRASING.get().shapes}"
        return ParseError(message, source, line, column, ())
    expected = tuple(sorted(_TERMINALS.get(t, repr(t)) for t in getattr(exc, "expected", ()) or ()))
    if isinstance(exc, UnexpectedEOF) or token is None or token.type == "$END":
        end_line = source.count("\n") + 1
        end_col = len(source) - (source.rfind("\n") + 1) + 1
        return ParseError("unexpected end of the formula", source, end_line, end_col, expected)
    hint = None
    if isinstance(exc, UnexpectedToken) and token.start_pos < len(origin):
        hint = _juxtaposition_hint(source, token, origin[token.start_pos])
    message = hint or f"unexpected {_describe(token)}"
    return ParseError(message, source, line, column, expected)


def _describe(token: Token) -> str:
    kind = {"NAME": "name", "NUMBER": "number"}.get(token.type)
    return f"{kind} {str(token)!r}" if kind else repr(str(token))


_PREVIOUS = re.compile(r"([^\W\d_]\w*|\d[\w.]*|\))\s*\Z")


def _juxtaposition_hint(text: str, token: Token, start: int) -> Optional[str]:
    """Explain two factors written side by side (``x y``, ``sin x``, ``(a)(b)``); the token
    starts at index ``start`` of ``text``."""
    if token.type not in ("NAME", "NUMBER", "LPAR"):
        return None
    before = _PREVIOUS.search(text, 0, start)
    if before is None:
        return None
    prev = before.group(1)
    if lookup(canonical_name(prev)) is not None:
        return f"function {prev} needs parentheses: write {prev}({token})"
    if prev[0].isdigit() and token.type == "NUMBER":
        return f"two numbers side by side: write {prev}*{token}"
    return (f"missing operator between {prev!r} and {str(token)!r}: "
            f"write {prev}*{token} for a product")


_API.bind(parse=parse)  # pickling an Expr
