"""Printers: infix text that ``parse`` reads back to the same expression, and LaTeX.

Both printers share one layout decision procedure (``_Layout``): the order of the terms of a sum
(``display_order``), which factors go below a fraction bar, where a minus sign goes, how a number
is written (``3.14159``, ``1e-8``, ``2/3``), which operands need parentheses.  They differ only in
how the pieces are spelled.  Text is cached on each node, so printing a graph is linear in its size.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Callable, Sequence

from ..core.bigint import int_to_digits
from ..core.nodes import API as _API
from ..core.expr import (HALF, Add, Call, Constant, Expr, Mul, Num, Pow, Symbol, count_ops, degree,
                         postorder, store)

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

    def scientific(self, mantissa: str, exponent: int) -> str:
        raise NotImplementedError

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

    def scientific(self, mantissa, exponent):
        return f"{mantissa}e{exponent}"


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
        decimal = self._decimal(abs(value))
        if decimal is not None:
            prec = ATOM if decimal.prec == ATOM and value > 0 else PRODUCT
            return _Piece(("-" if value < 0 else "") + decimal.text, prec, value < 0)
        if isinstance(value, Fraction):
            text = s.fraction(s.number(abs(value.numerator)), s.number(value.denominator), 1)
            return _Piece(("-" if value < 0 else "") + text, PRODUCT, value < 0)
        if value < 0:
            return _Piece("-" + s.number(-value), PRODUCT, True)
        return _Piece(s.number(value), ATOM)

    def sum(self, terms: Sequence[Expr]) -> _Piece:
        ordered = display_order(terms)
        signed = [self._signed_term(t) for t in ordered]
        if signed[0][0]:  # a minus sign goes in front of the first term
            signed[0] = self._signed_term(ordered[0], negated=True)
        parts = []
        for i, (negative, piece) in enumerate(signed):
            text = piece.text if piece.prec > SUM else self.style.paren(piece.text)
            if i == 0:
                parts.append(("-" if negative else "") + text)
            else:
                parts.append((" - " if negative else " + ") + text)
        return _Piece("".join(parts), SUM, signed[0][0])

    def _decimal(self, value) -> _Piece | None:
        """A positive rational as a decimal, as it was typed (``0.001``, ``3.14159``, ``1e-8``), or None.

        A rational whose denominator is a power of ten prints as a decimal; so does a number below
        1e-4 with another finite decimal expansion when that is shorter than the fraction
        (``3/200000000 -> 1.5e-8``).  Other rationals stay fractions (``x/2``, ``12/125``, as
        derived coefficients are).  Below 1e-4 the decimal is in scientific notation, as Python
        writes floats.  Both notations read back to the same exact number.
        """
        if not isinstance(value, Fraction) or not 1 < value.denominator.bit_length() <= 2000:
            return None
        den = value.denominator
        twos = (den & -den).bit_length() - 1
        rest, fives = den >> twos, 0
        while rest % 5 == 0:
            rest, fives = rest // 5, fives + 1
        if rest != 1:
            return None
        places = max(twos, fives)
        digits = int_to_digits(value.numerator * 2 ** (places - twos) * 5 ** (places - fives))
        exponent = len(digits) - 1 - places  # no trailing zero: the fraction is reduced
        if exponent >= -4:
            if twos != fives:
                return None
            if places >= len(digits):
                return _Piece("0." + "0" * (places - len(digits)) + digits, ATOM)
            return _Piece(digits[:-places] + "." + digits[-places:], ATOM)
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        fraction_length = len(int_to_digits(value.numerator)) + 1 + len(int_to_digits(den))
        if twos != fives and len(f"{mantissa}e{exponent}") >= fraction_length:
            return None
        return _Piece(self.style.scientific(mantissa, exponent), PRODUCT)

    def _signed_term(self, term: Expr, negated: bool = False) -> tuple[bool, _Piece]:
        """(is the term negative, piece of its absolute value); ``negated``: see ``product``."""
        if isinstance(term, Num) and term.value < 0:
            return True, self.number(-term.value)
        if _is_negative(term):
            return True, self.product((Num(-term.args[0].value),) + term.args[1:], negated)
        return False, self.piece_of(term)

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
        decimal = self._decimal(coeff)
        bracket = False
        if ((negative or negated) and s.parsed_back and coeff.numerator == 1 and decimal is None
                and num_sums and num_sums[0]):
            lead = next((k for k, is_sum in enumerate(num_sums) if not is_sum), None)
            if lead is not None:
                num.insert(0, num.pop(lead))
            else:
                bracket = len(num) > 1 or bool(den) or coeff.denominator != 1
        if decimal is not None:
            num.insert(0, decimal.text)
        else:
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


def _is_negative(term: Expr) -> bool:
    """Whether a term prints with a minus sign: a negative number or coefficient."""
    if isinstance(term, Num):
        return term.value < 0
    return isinstance(term, Mul) and isinstance(term.args[0], Num) and term.args[0].value < 0


def display_order(terms: Sequence[Expr]) -> list[Expr]:
    """The order in which the terms of a sum are printed.

    One rule: ascending degree, ties in the canonical (structural) order, as ``add`` keeps them:
    ``3 - 2*x + x^2 - 4*x^3``, ``1 + x + x^2/2``.  A leading minus sign is avoided when reversing
    helps: first the degree order (``n - 1``, ``1 - tanh(x)^2``, ``a*t1 + b*t2 - y``), then the
    whole order (``y - x``).
    """
    groups: list[list[Expr]] = []
    last = None
    for t in terms:
        d = degree(t)
        if groups and d == last:
            groups[-1].append(t)
        else:
            groups.append([t])
        last = d
    ascending = list(terms)
    descending = [t for g in reversed(groups) for t in g]
    for candidate in (ascending, descending, ascending[::-1]):
        if not _is_negative(candidate[0]):
            return candidate
    return ascending


# --- infix text --------------------------------------------------------------------------------
def _text_piece(node: Expr) -> _Piece:
    return node._text


_TEXT_LAYOUT = _Layout(_TextStyle(), _text_piece)


def decimal_text(value: Fraction) -> tuple[str, bool] | None:
    """A positive rational as the text printer writes it as a decimal (``0.3``, ``1.5e-8``), with
    whether that text is atomic (no exponent); None for a number written as a fraction."""
    piece = _TEXT_LAYOUT._decimal(Fraction(value))
    return None if piece is None else (piece.text, piece.prec == ATOM)


_MAX_TEXT = 10_000_000  # characters: a shared graph (a high-order derivative) can be far longer


def to_str(e: Expr) -> str:
    """Infix text of ``e`` that ``symcalc.parse`` reads back to an equal expression.

    A graph whose text would be longer than ten million characters (a raw high-order derivative
    written out as a tree) is a ``SymcalcError`` instead of a hang.
    """
    if e._text is None:
        _check_text_size(e)
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
_ACCENTS = ("hat", "bar", "tilde", "dot")


def _check_text_size(e: Expr) -> None:
    """A lower bound of the length of ``e``'s text (each node written once per use), checked."""
    size: dict[Expr, int] = {}
    for node in postorder([e], done=lambda n: n._text is not None):
        size[node] = 1 + sum(len(a._text.text) if a._text is not None else size[a] for a in node.args)
        if size[node] > _MAX_TEXT:
            from ..errors import SymcalcError
            raise SymcalcError(f"the expression is too large to print: its text would be longer "
                               f"than {_MAX_TEXT:,} characters, although it has only "
                               f"{count_ops([e]):,} operations once shared; lambdify or codegen "
                               f"compile it, and count_ops measures it")


def latex_name(name: str) -> str:
    """``theta_2 -> \\theta_{2}``, ``x1 -> x_{1}``, ``x_1_2 -> x_{1,2}``, ``lr -> \\mathrm{lr}``,
    ``theta_hat -> \\hat{\\theta}`` (also ``_bar``, ``_tilde``, ``_dot``)."""
    head, *parts = name.split("_")
    if not parts:
        m = _TRAILING_DIGITS.match(name)
        if m:
            head, parts = m.group(1), [m.group(2)]
    text = _latex_word(head) if len(head) == 1 or head in _GREEK_NAMES else f"\\mathrm{{{head}}}"
    for accent in (p for p in parts if p in _ACCENTS):
        text = f"\\{accent}{{{text}}}"
    subscript = [_latex_word(p) for p in parts if p and p not in _ACCENTS]
    return f"{text}_{{{','.join(subscript)}}}" if subscript else text


def _latex_word(word: str) -> str:
    return "\\" + word if word in _GREEK_NAMES else word


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
        if ends_with_superscript(base):  # e^{x}^{2} is a double superscript: (e^{x})^{2}
            base = self.paren(base)
        return f"{base}^{{{exponent}}}"

    def sqrt(self, inner):
        return f"\\sqrt{{{inner}}}"

    def scientific(self, mantissa, exponent):
        power = f"10^{{{exponent}}}"
        return power if mantissa == "1" else f"{mantissa} \\cdot {power}"


def latex(root: Expr) -> str:
    """LaTeX for an expression (``symcalc.latex`` also takes formula strings and lists)."""
    pieces: dict[Expr, _Piece] = {}
    layout = _Layout(_LatexStyle(), pieces.__getitem__)
    for node in postorder([root]):
        pieces[node] = layout.node(node)
    return _cdot_after_function_letters(_cdot_between_numbers(pieces[root].text))


def ends_with_superscript(text: str) -> bool:
    """Whether LaTeX ``text`` ends with a superscript group ``^{...}``."""
    if not text.endswith("}"):
        return False
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        depth += {"}": 1, "{": -1}.get(text[i], 0)
        if depth == 0:
            return i > 0 and text[i - 1] == "^"
    return False


_NUM_NUM = re.compile(r"(\d) (\d)")


def _cdot_between_numbers(text: str) -> str:
    return _NUM_NUM.sub(r"\1 \\cdot \2", text)


# the name sigma (or H) times a bracket: "\sigma(x)" is the sigmoid, "\sigma \cdot (x)" a product
_LETTER_BRACKET = re.compile(r"(\\sigma|(?<![\\\w])H) (\\left\()")


def _cdot_after_function_letters(text: str) -> str:
    return _LETTER_BRACKET.sub(r"\1 \\cdot \2", text)


_API.bind(to_str=to_str, latex=latex)  # str(e) and e._repr_latex_()
