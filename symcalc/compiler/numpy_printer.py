"""The NumPy printer: a ``Program`` -> the statements of a vectorised function body.

Each node becomes a piece of Python text with its precedence; a node used more than once (or
nested too deeply) is assigned to a temporary ``_tN``, so every shared node is computed once.
Nodes are interned, so common-subexpression elimination needs no search.
"""

from __future__ import annotations

import decimal
import itertools
import math
import re
import weakref
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence, Union

from ..core.bigint import power_fits
from ..core.expr import ZERO, Add, Constant, Expr, Mul, Num, Pow, Symbol, postorder
from .memory_plan import planned_body
from .program import Program
from .runtime import row_runs

SUM, PRODUCT, UNARY, POWER, ATOM = range(5)  # Python precedence of a printed piece
_MAX_INLINE_DEPTH = 6  # deeper nesting is split into assignments, for readability and the compiler
_MAX_INLINE_TEXT = 100
_MAX_OPERANDS = 32  # a wider sum or product is computed in chunks


@dataclass(slots=True)
class _Piece:  # never changed once made (not frozen: a frozen dataclass is slower to make)
    text: str
    prec: int
    depth: int = 0

    def at_least(self, prec: int) -> str:
        return self.text if self.prec >= prec else f"({self.text})"


_CALL = re.compile(r"[A-Za-z_][\w.]*\(")
_PARENS = re.compile(r"[()]")


def _is_single_call(text: str) -> bool:
    """``np.exp(a)`` is; ``(np.log(a) / np.log(b))`` and ``f(a) + g(b)`` are not."""
    match = _CALL.match(text)
    if not match or not text.endswith(")"):
        return False
    depth = 0
    for paren in _PARENS.finditer(text, match.end() - 1):
        depth += 1 if paren.group() == "(" else -1
        if depth == 0:
            return paren.end() == len(text)
    return False


def _number(value: Union[int, Fraction], exponent: bool = False) -> _Piece:
    """A number as a float literal (``2.0 * x``: float arithmetic on Python floats is twice as fast
    as mixing in an int); an exponent stays an integer (``x ** 2``)."""
    if isinstance(value, int) and abs(value) < 2 ** 53:
        text = str(value) if exponent else repr(float(value))
    else:
        try:
            text = repr(float(value))
        except OverflowError:
            text = "np.inf" if value > 0 else "-np.inf"
    return _Piece(text, UNARY if text.startswith("-") else ATOM)


_SAFE_LOG2 = 1000  # a power of a number within float range below 2^+-1000 is printed as it is
_LN_FLOAT_MAX = 709.79  # ln of the largest float, rounded up
_LN_FLOAT_TINY = -744.45  # ln of the smallest positive float, rounded down
_DIGITS = 60  # decimal digits of the logarithms that place a power beyond float range


def _log2(value: Union[int, Fraction]) -> float:
    """log2 of a positive number of any size (math.log2 reads an int of any size)."""
    if isinstance(value, Fraction):
        return math.log2(value.numerator) - math.log2(value.denominator)
    return math.log2(value)


def _decimal(value: Union[int, Fraction]) -> decimal.Decimal:
    """A rational of any size to the context's precision, without converting all its digits."""
    value = Fraction(value)
    parts = []
    for n in (value.numerator, value.denominator):
        shift = max(0, n.bit_length() - 4 * _DIGITS)
        parts.append(decimal.Decimal(n >> shift) * decimal.Decimal(2) ** shift)
    return parts[0] / parts[1]


def _ln(value: Fraction) -> decimal.Decimal:
    """The natural logarithm of a positive rational, to the context's precision."""
    d = _decimal(value - 1)
    if abs(d) < decimal.Decimal("1e-15"):  # ln(1 + d) by its series: 1 + d would lose d's digits
        return d - d * d / 2 + d * d * d / 3
    return _decimal(value).ln()


def numeric_power(base: Union[int, Fraction], exponent: Union[int, Fraction]) -> float:
    """``base ** exponent`` as a float, ``inf`` (with its sign) beyond float range and ``0.0``
    below it, without forming a number larger than the guard of ``symcalc.core.bigint``."""
    base, exponent = Fraction(base), Fraction(exponent)
    whole = exponent.denominator == 1
    if base < 0 and not whole:
        return math.nan  # as NumPy gives for a negative number to a fractional power
    sign = -1.0 if base < 0 and exponent.numerator % 2 else 1.0
    magnitude = abs(base)
    if magnitude == 0:
        return sign * (0.0 if exponent > 0 else math.inf if exponent < 0 else 1.0)
    if magnitude == 1 or exponent == 0:
        return sign
    bits = magnitude.numerator.bit_length() + magnitude.denominator.bit_length()
    if whole and power_fits(bits, exponent.numerator):  # exact, then rounded once
        try:
            return sign * float(magnitude ** exponent.numerator)
        except OverflowError:
            return sign * math.inf
    with decimal.localcontext() as context:
        context.prec = _DIGITS
        context.Emax, context.Emin = decimal.MAX_EMAX, decimal.MIN_EMIN
        logarithm = _ln(magnitude)
        scale = _decimal(exponent) * logarithm  # ln |base ** exponent|
        if scale > _LN_FLOAT_MAX:
            return sign * math.inf
        if scale < _LN_FLOAT_TINY:
            return sign * 0.0
        return sign * float(scale.exp())


def _printable_power(base: Expr, exponent: Expr) -> bool:
    """Whether ``base ** exponent`` may be printed as a power: anything but a power of two numbers
    that is beyond, or near the edge of, float range (``9 ** 387420489`` would be computed as an
    integer of a billion bits), whose base is itself beyond it, or that is not real."""
    if not (isinstance(base, Num) and isinstance(exponent, Num)) or base.value == 0:
        return True
    if base.value < 0 and not isinstance(exponent.value, int):
        return False  # Python would give a complex number: NaN, as NumPy gives
    magnitude, power = abs(base.value), abs(exponent.value)
    return (power < 2 ** 53 and abs(_log2(magnitude)) < _SAFE_LOG2
            and float(power) * abs(_log2(magnitude)) < _SAFE_LOG2)


def beyond_float_range(node: Expr) -> bool:
    """Whether ``node`` is a nonzero number, or a power of two numbers, whose magnitude no float
    holds (the generated code has ``inf`` or ``0.0`` in its place)."""
    if isinstance(node, Num):
        return node.value != 0 and not -1075 < _log2(abs(node.value)) < 1024
    if (isinstance(node, Pow) and isinstance(node.base, Num) and isinstance(node.exponent, Num)
            and not _printable_power(node.base, node.exponent)):
        return abs(numeric_power(node.base.value, node.exponent.value)) in (0.0, math.inf)
    return False


def _float_piece(value: float) -> _Piece:
    if math.isnan(value):
        return _Piece("np.nan", ATOM)
    if math.isinf(value):
        return _Piece("np.inf" if value > 0 else "-np.inf", ATOM if value > 0 else UNARY)
    text = repr(value)
    return _Piece(text, UNARY if text.startswith("-") else ATOM)


def _coefficient(factors: Sequence[Expr]) -> Union[int, Fraction]:
    """The product of the numeric factors (1 when there is none)."""
    value: Union[int, Fraction] = 1
    first = True
    for f in factors:
        if isinstance(f, Num):
            if first:  # 1 * Fraction goes through Fraction's reflected operator
                value, first = f.value, False
            else:
                value *= f.value
    if type(value) is Fraction and value.denominator == 1:
        value = value.numerator
    return value


def _scaled_variable(node: Expr) -> bool:
    """``c*x``: cheaper to recompute at each use than to keep as a temporary array (and ``-x``
    becomes a subtraction in a sum)."""
    return (isinstance(node, Mul) and len(node.args) == 2 and isinstance(node.args[0], Num)
            and isinstance(node.args[1], (Symbol, Constant)))


class _Printer:
    """Turns a Program into the statements of a function body."""

    def __init__(self, prog: Program, parameters: dict[Symbol, str]):
        self.assignments: list[tuple[str, str]] = []  # (temporary, text), in order
        self.pieces: dict[Expr, _Piece] = {
            s: _Piece(name, ATOM) for s, name in parameters.items()}
        self.assigned: set[Expr] = set()
        self._temps = itertools.count()
        self.order = list(postorder(prog.roots))
        self.uses: Counter[Expr] = Counter(prog.roots)  # as a root, and as an argument
        self.uses.update(itertools.chain.from_iterable(node.args for node in self.order))

    def run(self) -> None:
        pieces, uses, make = self.pieces, self.uses, self._piece
        for node in self.order:
            if node in pieces:
                continue
            piece = make(node)
            shared = uses[node] > 1 and not _scaled_variable(node)
            if node.args and (shared or piece.depth > _MAX_INLINE_DEPTH
                              or len(piece.text) > _MAX_INLINE_TEXT):
                piece = self._assign(piece.text)
                self.assigned.add(node)
            pieces[node] = piece

    def _assign(self, text: str) -> _Piece:
        name = f"_t{next(self._temps)}"
        self.assignments.append((name, text))
        return _Piece(name, ATOM)

    def _piece(self, node: Expr) -> _Piece:
        if isinstance(node, Num):
            return _number(node.value)
        if isinstance(node, Constant):
            return _Piece(f"np.{node.name}", ATOM)
        pieces = self.pieces
        depth = 1 + max([pieces[a].depth for a in node.args])
        if isinstance(node, Add):
            if len(node.args) <= _MAX_OPERANDS:
                return self._sum(node.args, depth)
            return self._chunked(node.args, self._sum, depth)
        if isinstance(node, Mul):
            if len(node.args) <= _MAX_OPERANDS:
                return self._product(node.args, depth)
            return self._chunked(node.args, self._product, depth)
        if isinstance(node, Pow):
            if not _printable_power(node.base, node.exponent):
                return _float_piece(numeric_power(node.base.value, node.exponent.value))
            if (not node.free_symbols and not (isinstance(node.exponent, Num)
                                               and isinstance(node.exponent.value, int))):
                # a power of constants is a power of Python floats in every body: a negative
                # base to a fractional power there is complex, where NumPy's power gives nan
                base, exponent = self.pieces[node.base], self.pieces[node.exponent]
                return _Piece(f"np.power({base.text}, {exponent.text})", ATOM, depth)
            return self._power(self.pieces[node.base], node.exponent, depth)
        text = node.fn.numpy([pieces[a].text for a in node.args])
        return _Piece(text if _is_single_call(text) else f"({text})", ATOM, depth)

    def _chunked(self, args: Sequence[Expr], combine, depth: int) -> _Piece:
        if len(args) <= _MAX_OPERANDS:
            return combine(args, depth)
        result = combine(args[:_MAX_OPERANDS], depth)
        for start in range(_MAX_OPERANDS, len(args), _MAX_OPERANDS):
            partial = self._assign(result.text)
            result = combine(args[start:start + _MAX_OPERANDS], depth, partial)
        return result

    def _sum(self, terms: Sequence[Expr], depth: int, first: _Piece | None = None) -> _Piece:
        text = first.text if first else ""
        signed = [self._signed(term) for term in terms]
        # positive terms first (y - x^2, not -x^2 + y), each in its order
        ordered = [pair for pair in signed if not pair[0]] + [pair for pair in signed if pair[0]]
        for negative, magnitude in ordered:
            if not text:
                text = f"-{magnitude.at_least(PRODUCT)}" if negative else magnitude.text
            elif negative:
                text += f" - {magnitude.at_least(PRODUCT)}"
            else:
                text += f" + {magnitude.text}"
        return _Piece(text, SUM, depth)

    def _signed(self, term: Expr) -> tuple[bool, _Piece]:
        """(is negative, piece of the magnitude) for a term of a sum."""
        piece = self.pieces[term]
        if term not in self.assigned:
            if isinstance(term, Num) and term.value < 0:
                return True, _number(-term.value)
            if isinstance(term, Mul):
                if len(term.args) <= _MAX_OPERANDS:  # printed by _product: "-" + the magnitude
                    if piece.prec == UNARY:
                        return True, _Piece(piece.text[1:], PRODUCT, piece.depth)
                elif _coefficient(term.args) < 0:
                    return True, self._product(term.args, piece.depth, negate_coefficient=True)
        return False, piece

    def _product(self, factors: Sequence[Expr], depth: int, first: _Piece | None = None,
                 negate_coefficient: bool = False) -> _Piece:
        numerator = [first.text] if first else []
        denominator: list[str] = []
        coefficient = _coefficient(factors)  # every numeric factor, written once where the first is
        if negate_coefficient:
            coefficient = -coefficient
        negative, magnitude = coefficient < 0, abs(coefficient)
        numbers_written = False
        pieces, assigned = self.pieces, self.assigned
        for f in factors:
            if isinstance(f, Num):
                if numbers_written:
                    continue
                numbers_written = True
                if type(magnitude) is Fraction and magnitude.numerator == 1:
                    denominator.append(_number(magnitude.denominator).text)  # x/3, exact division
                elif magnitude != 1:
                    numerator.append(_number(magnitude).text)
            elif (isinstance(f, Pow) and f not in assigned and isinstance(f.exponent, Num)
                  and f.exponent.value < 0 and _printable_power(f.base, f.exponent)):
                base = pieces[f.base]
                denominator.append(self._power(base, Num(-f.exponent.value), 0).at_least(POWER))
            else:
                # Python's * is left-associative: a leading product needs no parentheses
                piece = pieces[f]
                if piece.prec >= (PRODUCT if not numerator and isinstance(f, Mul) else POWER):
                    numerator.append(piece.text)
                else:
                    numerator.append(f"({piece.text})")
        text = " * ".join(numerator) if numerator else "1.0"
        if denominator:
            below = denominator[0] if len(denominator) == 1 else f"({' * '.join(denominator)})"
            text = f"{text} / {below}"
        if negative:
            return _Piece(f"-{text}", UNARY, depth)
        # a leading negated factor (-a * b) makes the product a negation too: a sum prints a - a * b
        return _Piece(text, UNARY if text.startswith("-") else PRODUCT, depth)

    def _power(self, base: _Piece, exponent: Expr, depth: int) -> _Piece:
        if isinstance(exponent, Num):
            v = exponent.value
            if v == Fraction(1, 2):
                return _Piece(f"np.sqrt({base.text})", ATOM, depth)
            if v == -1:
                return _Piece(f"1.0 / {base.at_least(POWER)}", PRODUCT, depth)
            if v == Fraction(-1, 2):
                return _Piece(f"1.0 / np.sqrt({base.text})", PRODUCT, depth)
            if v == 1:
                return base
        exponent_piece = (_number(exponent.value, exponent=True) if isinstance(exponent, Num)
                          else self.pieces[exponent])
        return _Piece(f"{base.at_least(ATOM)} ** {exponent_piece.at_least(ATOM)}", POWER, depth)


# Program -> (parameters, printer): both bodies of a program print the same pieces, and a function
# whose planned body is printed at its first call on arrays keeps its Program, hence its pieces.
_printers: "weakref.WeakKeyDictionary[Program, tuple[dict, _Printer]]" = weakref.WeakKeyDictionary()


def _printed(prog: Program, parameters: dict[Symbol, str]) -> _Printer:
    """The printer run over ``prog``, kept while ``prog`` lives.  The printer is not changed once
    it has run."""
    known = _printers.get(prog)
    if known is not None and known[0] == parameters:
        return known[1]
    printer = _Printer(prog, parameters)
    printer.run()
    _printers[prog] = (dict(parameters), printer)
    return printer


def fills_output(prog: Program) -> bool:
    """Whether the planned body of ``prog`` broadcasts its one output with ``_rt.filled``: the
    output misses a variable (or there is none), so it may not have the arguments' shape."""
    if prog.shape:
        return False
    (root,) = prog.roots
    everything = set(prog.variables)
    free = root.free_symbols if prog.free_symbols is None else prog.free_symbols
    return not (free == everything and everything)


def output_allocation(prog: Program) -> str:
    """The call that allocates the planned body's output array (``prog`` has a shape)."""
    zero_rows = sum(root is ZERO for root in prog.roots)
    # mostly zero rows (a Hessian of a sum of terms in few variables): memory the system maps
    # only where rows are written
    if 3 * zero_rows > 2 * len(prog.roots):
        return "_rt.sparse_zeros"
    return "np.zeros" if zero_rows else "np.empty"


def _written_rows(prog: Program) -> str:
    """The arguments of ``sparse_zeros`` after the shape: the number of rows, and the runs of
    rows that are not zero."""
    runs = row_runs([root is not ZERO for root in prog.roots])
    return f", {len(prog.roots)}, {tuple(runs)!r}"


def function_body(prog: Program, parameters: dict[Symbol, str], plan: bool = True) -> list[str]:
    """The statements computing ``prog`` from the parameters (named as given) and ``_shape``,
    the broadcast shape of the arguments, ending with a ``return``.

    ``plan=True``: the body for NumPy arrays, which frees each temporary after its last use,
    reuses buffers and writes the outputs into one ``np.empty`` array
    (``symcalc.compiler.memory_plan``), or into the array ``_out`` its caller passes.
    ``plan=False``: pure assignments only, the outputs put together by ``_rt.assemble`` (by
    stacking, which NumPy dispatches to Dask or CuPy); it runs on Python floats, on arrays that
    cannot be written in place, and, with ``np`` bound to ``jax.numpy``, under JAX.
    """
    printer = _printed(prog, parameters)
    covers = False
    if not prog.shape:
        value = printer.pieces[prog.roots[0]].text
        covers = not fills_output(prog)
        outputs = [("return", value if covers or not plan else f"_rt.filled(_shape, {value})")]
    else:
        indices = itertools.product(*(range(n) for n in prog.shape))
        outputs = [(f"_out[{', '.join(map(str, index))}]", printer.pieces[root].text)
                   for index, root in zip(indices, prog.roots)]
    if plan:
        body = []
        if prog.shape:
            # a caller computing a long call block by block passes the block's slice of the
            # whole output (zero where this body writes nothing)
            allocation = output_allocation(prog)
            written = _written_rows(prog) if allocation == "_rt.sparse_zeros" else ""
            allocate = f"{allocation}({prog.shape!r} + _shape{written})"
            body += ["if _out is None:", f"    _out = {allocate}"]
            outputs = [(target, text) for (target, text), root in zip(outputs, prog.roots)
                       if root is not ZERO]
        body += planned_body(printer.assignments, outputs, list(parameters.values()))
        return body + (["return _out"] if prog.shape else [])
    body = [f"{name} = {text}" for name, text in printer.assignments]
    if covers:
        return body + [f"return {outputs[0][1]}"]
    return body + [f"return _rt.assemble(_shape, {prog.shape!r}, ("] + [
        f"    {text}," for _, text in outputs] + ["))"]


def readable_body(prog: Program, parameters: dict[Symbol, str]) -> list[str]:
    """The statements of ``prog``'s function as a person writes it: the arguments as NumPy floats
    or float arrays, one assignment per shared node, then the result, broadcast to the arguments'
    shape: a list output is one array of shape ``prog.shape`` + that shape, written entry by entry
    (an entry equal to another is written with it; zero entries stay as allocated).  The values
    are those of ``function_body``; what ``codegen`` prints by default."""
    printer = _printed(prog, parameters)
    names = list(parameters.values())
    body = [f"{name} = np.asarray({name}, dtype=float)[()]" for name in names]
    if body:
        body[0] += "  # a NumPy float, or an array of floats"
    body += [f"{name} = {text}" for name, text in printer.assignments]
    shape = f"np.broadcast_shapes({', '.join(f'{name}.shape' for name in names)})"
    if len(shape) > _MAX_INLINE_TEXT - 30:  # many arguments: the shape on lines of its own
        body += wrapped("_shape = np.broadcast_shapes(", [f"{name}.shape" for name in names], ")")
        shape = "_shape"
    everything = frozenset(prog.variables)
    if not prog.shape:
        (root,) = prog.roots
        piece = printer.pieces[root]
        if not names or root.free_symbols >= everything:
            return body + [f"return {piece.text}"]
        broadcast = f"{piece.at_least(PRODUCT)} * np.ones({shape})"
        return body + [f"return {broadcast}  # the arguments' shape"]
    allocation = "np.zeros" if any(root is ZERO for root in prog.roots) else "np.empty"
    size = f"{prog.shape!r} + {shape}" if names else repr(prog.shape)
    body.append(f"_out = {allocation}({size})")
    targets: dict[Expr, list[str]] = {}  # each distinct entry: where it goes
    indices = itertools.product(*(range(n) for n in prog.shape))
    for index, root in zip(indices, prog.roots):
        if root is not ZERO:
            targets.setdefault(root, []).append(f"_out[{', '.join(map(str, index))}]")
    body += [f"{' = '.join(places)} = {printer.pieces[root].text}"
             for root, places in targets.items()]
    return body + ["return _out"]


def wrapped(head: str, items: list[str], tail: str, width: int = _MAX_INLINE_TEXT - 4) -> list[str]:
    """``head`` + the items, separated by commas, + ``tail``, in lines of at most ``width``
    characters (an item longer than that alone on a line), continued under the first item."""
    if not items:
        return [head + tail]
    lines, line = [], head
    for k, item in enumerate(items):
        piece = item + (", " if k + 1 < len(items) else tail)
        if k and len(line.rstrip()) + len(piece.rstrip()) > width:
            lines.append(line.rstrip())
            line = " " * len(head)
        line += piece
    return lines + [line]
