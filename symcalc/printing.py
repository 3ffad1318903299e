"""Printers: infix text that ``parse`` reads back to the same expression, and LaTeX.

Both printers share one layout decision procedure (``_Layout``): which factors go below a
fraction bar, where a minus sign goes, which operands need parentheses.  They differ only in how
the pieces are spelled.  Text is cached on each node, so printing a graph is linear in its size.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Callable, Sequence

from .bigint import int_to_digits
from .expr import HALF, Add, Call, Constant, Expr, Mul, Num, Pow, Symbol, postorder, store

# precedence of a printed piece: what binds it (higher binds tighter)
SUM, PRODUCT, POWER, ATOM = 1, 2, 3, 4


class _Piece:
    """Printed text with its precedence and whether it starts with a minus sign."""

    __slots__ = ("text", "prec", "negative")

    def __init__(self, text: str, prec: int, negative: bool = False):
        self.text, self.prec, self.negative = text, prec, negative


class _Style:
    """How one output language spells each construct."""

    times: str
    open: str
    close: str
    parsed_back = False  # text that symcalc.parse must read back to the very same node

    def number(self, n: int) -> str:
        return int_to_digits(n)

    def symbol(self, node: Expr) -> str:
        raise NotImplementedError

    def call(self, node: Call, args: list[str]) -> str:
        raise NotImplementedError

    def fraction(self, num: str, den: str, den_count: int) -> str:
        raise NotImplementedError

    def power(self, base: str, exponent: str, exponent_simple: bool) -> str:
        raise NotImplementedError

    def sqrt(self, inner: str) -> str:
        raise NotImplementedError

    def paren(self, text: str) -> str:
        return f"{self.open}{text}{self.close}"


class _TextStyle(_Style):
    times, open, close = "*", "(", ")"
    parsed_back = True

    def symbol(self, node):
        return node.name

    def call(self, node, args):
        return f"{node.fn.name}({', '.join(args)})"

    def fraction(self, num, den, den_count):
        return f"{num}/{self.paren(den) if den_count > 1 else den}"

    def power(self, base, exponent, exponent_simple):
        return f"{base}^{exponent if exponent_simple else self.paren(exponent)}"

    def sqrt(self, inner):
        return f"sqrt({inner})"


class _Layout:
    """Lays out any node as a _Piece, given the pieces of its children."""

    def __init__(self, style: _Style, piece_of: Callable[[Expr], _Piece]):
        self.style = style
        self.piece_of = piece_of

    def node(self, node: Expr) -> _Piece:
        s = self.style
        if isinstance(node, Num):
            return self.number(node.value)
        if isinstance(node, (Symbol, Constant)):
            return _Piece(s.symbol(node), ATOM)
        if isinstance(node, Call):
            return _Piece(s.call(node, [self.piece_of(a).text for a in node.args]), ATOM)
        if isinstance(node, Add):
            return self.sum(node.args)
        if isinstance(node, Mul):
            return self.product(node.args)
        return self.product((node,))  # a power, possibly with a negative exponent

    def number(self, value) -> _Piece:
        s = self.style
        if isinstance(value, Fraction):
            text = s.fraction(s.number(abs(value.numerator)), s.number(value.denominator), 1)
            return _Piece(("-" if value < 0 else "") + text, PRODUCT, value < 0)
        if value < 0:
            return _Piece("-" + s.number(-value), PRODUCT, True)
        return _Piece(s.number(value), ATOM)

    def sum(self, terms: Sequence[Expr]) -> _Piece:
        signed = [self._signed_term(t) for t in terms]
        # A person writes 1 - tanh(x)^2 rather than -tanh(x)^2 + 1: lead with a positive term.
        first_positive = next((i for i, (neg, _) in enumerate(signed) if not neg), 0)
        signed.insert(0, signed.pop(first_positive))
        if signed[0][0]:  # every term is negative: a minus sign goes in front of the first
            signed[0] = self._signed_term(terms[0], negated=True)
        parts = []
        for i, (negative, piece) in enumerate(signed):
            text = piece.text if piece.prec > SUM else self.style.paren(piece.text)
            if i == 0:
                parts.append(("-" if negative else "") + text)
            else:
                parts.append((" - " if negative else " + ") + text)
        return _Piece("".join(parts), SUM, signed[0][0])

    def _signed_term(self, term: Expr, negated: bool = False) -> tuple[bool, _Piece]:
        """(is the term negative, piece of its absolute value); ``negated``: see ``product``."""
        if isinstance(term, Num) and term.value < 0:
            return True, self.number(-term.value)
        if isinstance(term, Mul) and isinstance(term.args[0], Num) and term.args[0].value < 0:
            return True, self.product((Num(-term.args[0].value),) + term.args[1:], negated)
        piece = self.piece_of(term)
        return False, piece

    def product(self, factors: Sequence[Expr], negated: bool = False) -> _Piece:
        """The product of ``factors``; ``negated``: a minus sign will be written in front of it."""
        s = self.style
        coeff = Fraction(1)
        num: list[str] = []
        num_sums: list[bool] = []  # which numerator factors are sums
        den: list[str] = []
        den_sum = False  # the denominator has one factor and it is a sum
        bare: dict[str, str] = {}  # a factor's text -> the same without parentheses
        for f in factors:
            if isinstance(f, Num):
                coeff *= f.value
                continue
            if isinstance(f, Pow) and isinstance(f.args[1], Num) and f.args[1].value < 0:
                piece = self._power(f.args[0], -f.args[1].value)
                den.append(self._factor(piece))
                bare[den[-1]] = piece.text
                den_sum = len(den) == 1 and isinstance(f.args[0], Add) and f.args[1].value == -1
            else:
                piece = self.piece_of(f) if not isinstance(f, Pow) else self._power(*f.args)
                num.append(self._factor(piece))
                bare[num[-1]] = piece.text
                num_sums.append(isinstance(f, Add))
        negative = coeff < 0
        coeff = abs(coeff)
        # "-(a + b)*c" reads back as (-a - b)*c, another node: lead with a factor that is not a
        # sum ("-c*(a + b)"), or bracket the whole product ("-((a + b)*(c + d))")
        bracket = False
        if (negative or negated) and s.parsed_back and coeff.numerator == 1 and num_sums and num_sums[0]:
            lead = next((k for k, is_sum in enumerate(num_sums) if not is_sum), None)
            if lead is not None:
                num.insert(0, num.pop(lead))
            else:
                bracket = len(num) > 1 or bool(den) or coeff.denominator != 1
        if coeff.numerator != 1 or not num:
            num.insert(0, s.number(coeff.numerator))
        if coeff.denominator != 1:
            den.insert(0, s.number(coeff.denominator))
        text = s.times.join(num)
        if den_sum and len(den) == 2 and s.parsed_back:
            # "a/(2*(b + c))" reads back with 2*(b + c) distributed: write "a/(b + c)/2"
            text = s.fraction(s.fraction(text, den[1], 1), den[0], 1)
        elif den:
            if not s.parsed_back:  # a fraction bar groups by itself: \frac{x + 1}{y}
                text = bare.get(text, text)
                den = [bare.get(den[0], den[0])] if len(den) == 1 else den
            text = s.fraction(text, s.times.join(den), len(den))
        if bracket:
            text = s.paren(text)
        prec = PRODUCT if (den or len(num) > 1 or negative) else self._single_prec(factors)
        return _Piece(("-" if negative else "") + text, prec, negative)

    def _single_prec(self, factors: Sequence[Expr]) -> int:
        only = [f for f in factors if not isinstance(f, Num)]
        if len(only) == 1:
            f = only[0]
            if isinstance(f, Pow):
                return self._power(f.args[0], f.args[1]).prec
            return self.piece_of(f).prec
        return ATOM

    def _factor(self, piece: _Piece) -> str:
        if piece.prec < POWER or piece.negative:
            return self.style.paren(piece.text)
        return piece.text

    def _power(self, base: Expr, exponent) -> _Piece:
        """Piece for base^exponent, where exponent is an Expr or a number."""
        s = self.style
        value = exponent.value if isinstance(exponent, Num) else exponent
        if not isinstance(value, Expr):
            if value == 1:
                return self.piece_of(base)
            if value == HALF.value:
                return _Piece(s.sqrt(self.piece_of(base).text), ATOM)
            exp_piece = self.number(value)
        else:
            exp_piece = self.piece_of(value)
        b = self.piece_of(base)
        base_text = b.text if (b.prec == ATOM and not b.negative) else s.paren(b.text)
        simple = exp_piece.prec >= POWER and not exp_piece.negative
        return _Piece(s.power(base_text, exp_piece.text, simple), POWER)


# --- infix text --------------------------------------------------------------------------------
def _text_piece(node: Expr) -> _Piece:
    return node._text


_TEXT_LAYOUT = _Layout(_TextStyle(), _text_piece)


def to_str(e: Expr) -> str:
    """Infix text of ``e`` that ``symcalc.parse`` reads back to an equal expression."""
    for node in postorder([e], done=lambda n: n._text is not None):
        store(node, "_text", _TEXT_LAYOUT.node(node))
    return e._text.text


# --- LaTeX ---------------------------------------------------------------------------------------
_GREEK_NAMES = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
    "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
    "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
}
_TRAILING_DIGITS = re.compile(r"^(.*?[^\d])(\d+)$")


def latex_name(name: str) -> str:
    """``theta_2 -> \\theta_{2}``, ``x1 -> x_{1}``, ``lr -> \\mathrm{lr}``."""
    head, sep, sub = name.partition("_")
    if not sep:
        m = _TRAILING_DIGITS.match(name)
        if m:
            head, sub = m.group(1), m.group(2)
    if head in _GREEK_NAMES:
        head = "\\" + head
    elif len(head) > 1:
        head = f"\\mathrm{{{head}}}"
    if sub:
        sub_text = "\\" + sub if sub in _GREEK_NAMES else sub.replace("_", "")
        return f"{head}_{{{sub_text}}}"
    return head


class _LatexStyle(_Style):
    times, open, close = " ", "\\left(", "\\right)"

    def symbol(self, node):
        if isinstance(node, Constant):
            return "\\pi" if node.name == "pi" else "e"
        return latex_name(node.name)

    def call(self, node, args):
        return node.fn.latex(args)

    def fraction(self, num, den, den_count):
        return f"\\frac{{{num}}}{{{den}}}"

    def power(self, base, exponent, exponent_simple):
        return f"{base}^{{{exponent}}}"

    def sqrt(self, inner):
        return f"\\sqrt{{{inner}}}"


def latex(root: Expr) -> str:
    """LaTeX for an expression (``symcalc.latex`` also takes formula strings and lists)."""
    pieces: dict[Expr, _Piece] = {}
    layout = _Layout(_LatexStyle(), pieces.__getitem__)
    for node in postorder([root]):
        pieces[node] = layout.node(node)
    return _cdot_between_numbers(pieces[root].text)


_NUM_NUM = re.compile(r"(\d) (\d)")


def _cdot_between_numbers(text: str) -> str:
    return _NUM_NUM.sub(r"\1 \\cdot \2", text)
