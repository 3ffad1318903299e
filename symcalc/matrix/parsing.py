"""Text with shaped names -> matrix-layer nodes.  The grammar is ``grammar/matrix.lark``: the
scalar language plus ``@`` and ``.T``.  Nothing here evaluates text."""

from __future__ import annotations

import threading
from typing import Mapping, Optional

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedInput

from ..language import parser as scalar_parser
from ..errors import ParseError, SymcalcError, SymcalcTypeError
from ..functions.elementary import lookup
from ..language.unicode import normalise
from . import build, ops
from .convert import from_scalar, scalar_form
from .nodes import METHODS as _NODE_HOOKS
from .nodes import ONE, MatrixExpr, declared
from .operations import AXIS_FUNCTIONS, FUNCTION_ARITY, FUNCTIONS
from .shapes import ShapeError, check_shape, dim_product

_CONSTANTS = {"pi", "e"}


class _Text(str):
    """A quoted string of the formula (einsum's subscripts), with its token for errors."""

    def __new__(cls, value: str, token: Token):
        text = super().__new__(cls, value)
        text.token = token
        return text


class _Fault(Exception):
    def __init__(self, error: Exception, token: Token):
        super().__init__(str(error))
        self.error, self.token = error, token


def _size(node: MatrixExpr, tok: Token):
    if node.kind == "symbol" and not node.shape:
        return node.data
    if node.kind == "number" and isinstance(node.data, int) and node.data > 0:
        return node.data
    dims = []  # a product of sizes: ones(m*p), ones(n*n) (read as n^2)
    for f in node.args if node.kind == "mul" else (node,) if node.kind == "pow" else ():
        base, times = (f.args[0], f.args[1].data) if f.kind == "pow" else (f, 1)
        if not (isinstance(times, int) and times > 0 and (
                base.kind == "symbol" and not base.shape or
                base.kind == "number" and isinstance(base.data, int) and base.data > 0)):
            dims = []
            break
        dims += [base.data] * times
    if dims:
        return dim_product(*dims)
    raise _Fault(SymcalcTypeError(f"{tok} needs sizes (names or positive integers), not {node}"), tok)


def _entrywise(factors: list, ops: list) -> MatrixExpr:
    """The canonical product of ``factors``; on a shape mismatch, the fault at the operator
    where it happens (``ops[k]`` is the one before ``factors[k + 1]``)."""
    try:
        return build.mul(*factors)
    except ShapeError:
        pass
    result = factors[0]
    for op, factor in zip(ops, factors[1:]):
        try:
            result = build.mul(result, factor)
        except ShapeError as exc:
            raise _Fault(exc, op) from None
    raise AssertionError("a product whose factors do not fit multiplied one by one")


@v_args(inline=True)
class _Builder(Transformer):
    """One method per grammar alias, building nodes with the canonical constructors."""

    @property
    def shapes(self) -> Mapping[str, tuple]:
        return _current.shapes

    def number(self, tok: Token) -> MatrixExpr:
        _current.number = tok  # read by the implicit product this number may end
        return from_scalar(scalar_parser._number(str(tok)))

    def name(self, tok: Token) -> MatrixExpr:
        text = scalar_parser.canonical_name(str(tok))
        if text in self.shapes:
            return ops.symbol(text, self.shapes[text])
        if text in _CONSTANTS:
            return from_scalar(scalar_parser.CONSTANTS[text])
        if text in FUNCTIONS or lookup(text) is not None:
            message = scalar_parser.function_without_call(text, _current.text, tok.end_pos)
            raise _Fault(SymcalcError(message), tok)
        return ops.symbol(text)

    def keyword(self, name: Token, value: MatrixExpr) -> "_Keyword":
        return _Keyword(name, value)

    def string(self, tok: Token) -> _Text:
        return _Text(str(tok)[1:-1], tok)

    def call(self, tok: Token, args: list) -> MatrixExpr:
        text = scalar_parser.canonical_name(str(tok))
        quoted = [k for k, a in enumerate(args) if isinstance(a, _Text)]
        if quoted and (text != "einsum" or quoted != [0]):
            where = args[quoted[0]].token if text == "einsum" and quoted[0] else tok
            raise _Fault(SymcalcError("a quoted string is only the subscripts of einsum, its "
                                      'first argument: einsum("ij,jk->ik", A, B)'), where)
        if quoted:
            args = [str(args[0])] + args[1:]
        keywords = [a for a in args if isinstance(a, _Keyword)]
        if keywords or (text == "max" and len(args) == 1 and args[0].shape):
            return _keyword_call(text, tok, args, keywords)
        try:
            arity = FUNCTION_ARITY.get(text)
            if arity == 0:  # a leaf: its sizes
                return FUNCTIONS[text](*(_size(a, tok) for a in args))
            if arity is not None and arity < 0:  # variadic: einsum
                return FUNCTIONS[text](*args)
            if arity is not None:
                if len(args) != arity:
                    raise SymcalcTypeError(f"{text} takes {arity} argument"
                                           f"{'s' if arity > 1 else ''}, got {len(args)}")
                return FUNCTIONS[text](*args)
            fn = lookup(text)
            if fn is None:
                message = scalar_parser.unknown_function(text, FUNCTIONS, abstract=False)
                raise SymcalcError(message)
            return build.apply(fn, *args)
        except _Fault:
            raise
        except (ShapeError, TypeError, ValueError, ZeroDivisionError, SymcalcError) as exc:
            raise _Fault(exc, tok) from None

    def arguments(self, *args):
        return list(args)

    def sum(self, first, *rest):
        terms = [first] + [term if op == "+" else build.negate(term)
                           for op, term in zip(rest[::2], rest[1::2])]
        try:
            return build.add(*terms)  # one canonical sum: adding term by term is quadratic
        except ShapeError:
            pass
        result = first  # a shape mismatch: find the operator where it happens
        for op, term in zip(rest[::2], terms[1:]):
            try:
                result = build.add(result, term)
            except ShapeError as exc:
                raise _Fault(exc, op) from None
        raise AssertionError("a sum whose terms do not fit added up term by term")

    def product(self, first, *rest):
        """A run of ``*`` and ``/`` is one canonical product, as the scalar reader builds it
        (``2*(x + 1)*y`` is ``2*y*(1 + x)``); ``@`` ends a run."""
        factors, ops = [first], []
        for op, factor in zip(rest[::2], rest[1::2]):
            ambiguous = scalar_parser.implicit_divisor(_current.text, op.end_pos) if op == "/" else None
            if ambiguous is not None:
                raise _Fault(SymcalcError(ambiguous), op)
            try:
                if op == "@":
                    factors, ops = [build.matmul(_entrywise(factors, ops), factor)], []
                    continue
                if op == "/":
                    factor = build.divide(ONE, factor)
            except (ShapeError, ZeroDivisionError) as exc:
                raise _Fault(exc, op) from None
            factors.append(factor)
            ops.append(op)
        return _entrywise(factors, ops)

    def signed(self, op, operand):
        return build.negate(operand) if op == "-" else operand

    def start_implied(self, factor):
        """The factors of an implicit product before its last one, each followed by the number
        token it ends in (where a shape error is shown): ``[x^2, 2]`` of ``x^2y``."""
        return [factor, _current.number]

    def extend_implied(self, factors, factor):
        factors += (factor, _current.number)
        return factors

    def implicit_product(self, factors, last):
        result = factors[0]
        for tok, factor in zip(factors[1::2], factors[2::2] + [last]):
            try:
                result = build.mul(result, factor)
            except ShapeError as exc:
                raise _Fault(exc, tok) from None
        return result

    def power(self, base, op, exponent):
        if (base.shape and exponent.kind == "symbol" and exponent.data == "T"
                and "T" not in self.shapes):
            shown = base if base.kind == "symbol" else f"({base})"
            raise _Fault(SymcalcError(f"{shown}^T would raise {shown} to the power T: write "
                                      f"{shown}.T for the transpose (or declare T in shapes= "
                                      "for that power)"), op)
        try:
            return build.power(base, exponent)
        except (ShapeError, ZeroDivisionError) as exc:
            raise _Fault(exc, op) from None

    def transpose(self, operand, tok):
        return build.transpose(operand)

    def __default__(self, data, children, meta):
        if data.startswith("_"):
            return Tree(data, children, meta)
        raise AssertionError(f"grammar rule {data!r} has no builder")


class _Keyword:
    """A keyword argument of a call, ``axis=0``: its name's token and its value."""

    def __init__(self, name: Token, value: MatrixExpr):
        self.name, self.value = name, value


def _keyword_call(text: str, tok: Token, args: list, keywords: list) -> MatrixExpr:
    """``sum(X, axis=0)``, ``max(X)``: the functions of ``AXIS_FUNCTIONS``, with one operand and
    at most the keyword ``axis``; a fault is shown under the keyword (or the function)."""
    if text not in AXIS_FUNCTIONS:
        raise _Fault(SymcalcError(f"{text} takes no keyword arguments; axis= is for "
                                  f"{', '.join(sorted(AXIS_FUNCTIONS))}"), keywords[0].name)
    if args and isinstance(args[0], _Keyword) or any(not isinstance(a, _Keyword)
                                                     for a in args[1:]):
        where = next(a.name for a in args if isinstance(a, _Keyword))
        raise _Fault(SymcalcError(f"{text} takes one operand, then axis=: {text}(X, axis=0)"),
                     where)
    for k in keywords:
        if str(k.name) != "axis":
            raise _Fault(SymcalcError(f"{text} has no argument {k.name}=; it takes axis="), k.name)
    if len(keywords) > 1:
        raise _Fault(SymcalcError("axis= is given twice"), keywords[1].name)
    axis = keywords[0].value if keywords else None
    if axis is not None and not (axis.kind == "number" and isinstance(axis.data, int)):
        raise _Fault(ShapeError(f"the axis of {text} must be an integer, not {axis}"),
                     keywords[0].name)
    try:
        return AXIS_FUNCTIONS[text](args[0], None if axis is None else axis.data)
    except (ShapeError, TypeError, ValueError) as exc:
        raise _Fault(exc, keywords[0].name if keywords else tok) from None


_lark: Optional[Lark] = None
_current = threading.local()  # the shapes of the formula being parsed, read by the builder


def _get_lark() -> Lark:
    """The parser; it builds nodes as it reduces (no tree, no recursion over the nesting)."""
    global _lark
    if _lark is None:
        grammar = scalar_parser.grammar_path("matrix.lark").read_text(encoding="utf-8")
        _lark = Lark(grammar, parser="lalr",
                     transformer=_Builder(), maybe_placeholders=False)
    return _lark


def check_shapes(shapes: Mapping[str, object]) -> dict[str, tuple]:
    """``{"A": ("m", "n"), "t": "n", "S": "n,n,symmetric"}`` checked: names -> shape tuples,
    with the structure word after the sizes of a matrix declared ``symmetric`` or ``diagonal``
    (``("n", "n", "symmetric")``)."""
    if not isinstance(shapes, Mapping):
        raise SymcalcTypeError(f"shapes must be a mapping of names to shapes, not {type(shapes).__name__}")
    table = {}
    for name, shape in shapes.items():
        key = scalar_parser.canonical_name(str(name).strip())
        try:
            node = ops.symbol(key, shape)
        except SymcalcError as exc:
            if type(exc) is not SymcalcError:
                raise
            raise SymcalcError(f"the shape of {key}: {exc}") from None
        table[node.data] = declared(node)
    return table


def parse_shaped(text: str, shapes: Mapping[str, object]) -> MatrixExpr:
    """Parse ``text`` where the names in ``shapes`` are vectors or matrices; other names are
    scalars.  Raises ``ParseError`` for bad syntax and ``ShapeError`` (with a caret) when shapes
    do not fit."""
    if isinstance(text, MatrixExpr):
        return text
    if not isinstance(text, str):
        raise SymcalcTypeError(f"parse() needs a string, not {type(text).__name__}")
    table = check_shapes(shapes)
    if not text.strip():
        raise ParseError("empty formula", text, 1, 1, ("a formula",))
    source = text
    text, origin = normalise(source)
    _current.shapes, _current.text = table, text
    try:
        return _get_lark().parse(text)
    except UnexpectedInput as exc:
        raise scalar_parser._syntax_error(exc, text, source, origin) from None
    except _Fault as fault:
        tok, error = fault.token, fault.error
        line, column = scalar_parser._location(source, origin, tok.start_pos)
        if isinstance(error, ShapeError):
            raise error.located(source, line, column) from None
        raise ParseError(str(error), source, line, column) from None
    finally:
        _current.shapes, _current.text = {}, ""


def parse_with_shapes(text: str, shapes: Mapping[str, object]):
    """``symcalc.parse(text, shapes=shapes)``: the shaped formula, or the scalar engine's
    expression when no name in it is shaped."""
    shaped = parse_shaped(text, shapes)
    plain = scalar_form(shaped)
    return shaped if plain is None else plain


_NODE_HOOKS.bind(parse_shaped=parse_shaped)  # pickling a node
scalar_parser.READERS.bind(parse_with_shapes=parse_with_shapes)
