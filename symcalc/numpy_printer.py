"""The NumPy printer: a ``Program`` -> the statements of a vectorised function body.

Each node becomes a piece of Python text with its precedence; a node used more than once (or
nested too deeply) is assigned to a temporary ``_tN``, so every shared node is computed once.
Nodes are interned, so common-subexpression elimination needs no search.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence, Union

from .expr import ZERO, Add, Call, Constant, Expr, Mul, Num, Pow, Symbol, postorder
from .program import Program

SUM, PRODUCT, UNARY, POWER, ATOM = range(5)  # Python precedence of a printed piece
_MAX_INLINE_DEPTH = 6  # deeper nesting is split into assignments, for readability and the compiler
_MAX_INLINE_TEXT = 100
_MAX_OPERANDS = 32  # a wider sum or product is computed in chunks


@dataclass(frozen=True)
class _Piece:
    text: str
    prec: int
    depth: int = 0

    def at_least(self, prec: int) -> str:
        return self.text if self.prec >= prec else f"({self.text})"


_CALL = re.compile(r"[A-Za-z_][\w.]*\(")


def _is_single_call(text: str) -> bool:
    """``np.exp(a)`` is; ``(np.log(a) / np.log(b))`` and ``f(a) + g(b)`` are not."""
    match = _CALL.match(text)
    if not match or not text.endswith(")"):
        return False
    depth = 0
    for i in range(match.end() - 1, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i == len(text) - 1
    return False


def _number(value: Union[int, Fraction]) -> _Piece:
    if isinstance(value, int) and abs(value) < 2 ** 53:
        text = str(value)
    else:
        try:
            text = repr(float(value))
        except OverflowError:
            text = "np.inf" if value > 0 else "-np.inf"
    return _Piece(text, UNARY if text.startswith("-") else ATOM)


def _coefficient(factors: Sequence[Expr]) -> Union[int, Fraction]:
    """The product of the numeric factors (1 when there is none)."""
    value: Union[int, Fraction] = 1
    for f in factors:
        if isinstance(f, Num):
            value *= f.value
    if isinstance(value, Fraction) and value.denominator == 1:
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
        self.lines: list[str] = []
        self.pieces: dict[Expr, _Piece] = {
            s: _Piece(name, ATOM) for s, name in parameters.items()}
        self.assigned: set[Expr] = set()
        self.uses: dict[Expr, int] = {}
        self._temps = itertools.count()
        for root in prog.roots:
            self.uses[root] = self.uses.get(root, 0) + 1
        self.order = list(postorder(prog.roots))
        for node in self.order:
            for a in node.args:
                self.uses[a] = self.uses.get(a, 0) + 1

    def run(self) -> None:
        for node in self.order:
            if node in self.pieces:
                continue
            piece = self._piece(node)
            shared = self.uses[node] > 1 and not _scaled_variable(node)
            if node.args and (shared or piece.depth > _MAX_INLINE_DEPTH
                              or len(piece.text) > _MAX_INLINE_TEXT):
                piece = self._assign(piece.text)
                self.assigned.add(node)
            self.pieces[node] = piece

    def _assign(self, text: str) -> _Piece:
        name = f"_t{next(self._temps)}"
        self.lines.append(f"{name} = {text}")
        return _Piece(name, ATOM)

    def _piece(self, node: Expr) -> _Piece:
        if isinstance(node, Num):
            return _number(node.value)
        if isinstance(node, Constant):
            return _Piece(f"np.{node.name}", ATOM)
        depth = 1 + max(self.pieces[a].depth for a in node.args)
        if isinstance(node, Add):
            return self._chunked(node.args, self._sum, depth)
        if isinstance(node, Mul):
            return self._chunked(node.args, self._product, depth)
        if isinstance(node, Pow):
            return self._power(self.pieces[node.base], node.exponent, depth)
        text = node.fn.numpy([self.pieces[a].text for a in node.args])
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
        signed.sort(key=lambda pair: pair[0])  # positive terms first: y - x^2, not -x^2 + y
        for negative, magnitude in signed:
            if not text:
                text = f"-{magnitude.at_least(PRODUCT)}" if negative else magnitude.text
            elif negative:
                text += f" - {magnitude.at_least(PRODUCT)}"
            else:
                text += f" + {magnitude.text}"
        return _Piece(text, SUM, depth)

    def _signed(self, term: Expr) -> tuple[bool, _Piece]:
        """(is negative, piece of the magnitude) for a term of a sum."""
        if term not in self.assigned:
            if isinstance(term, Num) and term.value < 0:
                return True, _number(-term.value)
            if isinstance(term, Mul) and _coefficient(term.args) < 0:
                return True, self._product(term.args, self.pieces[term].depth, negate_coefficient=True)
        return False, self.pieces[term]

    def _product(self, factors: Sequence[Expr], depth: int, first: _Piece | None = None,
                 negate_coefficient: bool = False) -> _Piece:
        numerator = [first.text] if first else []
        denominator: list[str] = []
        coefficient = _coefficient(factors)  # every numeric factor, written once where the first is
        if negate_coefficient:
            coefficient = -coefficient
        negative, magnitude = coefficient < 0, abs(coefficient)
        numbers_written = False
        for f in factors:
            if isinstance(f, Num):
                if numbers_written:
                    continue
                numbers_written = True
                if isinstance(magnitude, Fraction) and magnitude.numerator == 1:
                    denominator.append(_number(magnitude.denominator).text)  # x/3, exact division
                elif magnitude != 1:
                    numerator.append(_number(magnitude).text)
            elif (isinstance(f, Pow) and f not in self.assigned and isinstance(f.exponent, Num)
                  and f.exponent.value < 0):
                base = self.pieces[f.base]
                denominator.append(self._power(base, Num(-f.exponent.value), 0).at_least(POWER))
            else:
                # Python's * is left-associative: a leading product needs no parentheses
                lead = not numerator and isinstance(f, Mul)
                numerator.append(self.pieces[f].at_least(PRODUCT if lead else POWER))
        text = " * ".join(numerator) if numerator else "1.0"
        if denominator:
            below = denominator[0] if len(denominator) == 1 else f"({' * '.join(denominator)})"
            text = f"{text} / {below}"
        if negative:
            return _Piece(f"-{text}", UNARY, depth)
        return _Piece(text, PRODUCT, depth)

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
        exponent_piece = self.pieces.get(exponent) or _number(exponent.value)
        return _Piece(f"{base.at_least(ATOM)} ** {exponent_piece.at_least(ATOM)}", POWER, depth)


def function_body(prog: Program, parameters: dict[Symbol, str]) -> list[str]:
    """The statements computing ``prog`` from the parameters (named as given) and ``_shape``,
    the broadcast shape of the arguments, ending with a ``return``."""
    printer = _Printer(prog, parameters)
    printer.run()
    body = list(printer.lines)
    everything = set(prog.variables)
    if not prog.shape:
        (root,) = prog.roots
        value = printer.pieces[root].text
        covers = root.free_symbols == everything and everything
        body.append(f"return {value}" if covers else f"return _rt.filled(_shape, {value})")
    else:
        has_zeros = ZERO in prog.roots
        body.append(f"_out = np.{'zeros' if has_zeros else 'empty'}({prog.shape!r} + _shape)")
        for index, root in zip(itertools.product(*(range(n) for n in prog.shape)), prog.roots):
            if root is not ZERO:
                body.append(f"_out[{', '.join(map(str, index))}] = {printer.pieces[root].text}")
        body.append("return _out")
    return body
