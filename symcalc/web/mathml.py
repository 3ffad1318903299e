"""MathML for the web page, from symcalc's own LaTeX.

The layout of a formula (term order, fractions, signs, parentheses) is decided once, by
``symcalc.printing.infix``, and each function is spelt once, by its registry entry's LaTeX form.
This module only translates the small LaTeX vocabulary those two write into MathML Core elements,
which a browser draws without any script or font from the internet.

>>> print(mathml("\\\\frac{1}{x^{2}}"))
<math display="block"><mfrac><mrow><mn>1</mn></mrow><mrow><msup><mi>x</mi><mrow><mn>2</mn></mrow></msup></mrow></mfrac></math>

A command outside that vocabulary is a ``MathMLError`` with ``strict=True``; otherwise it is shown
as typed, in an ``<mtext>``.
"""

from __future__ import annotations

import re
from html import escape
from typing import Optional

from ..errors import SymcalcError
from ..core.expr import Expr
from ..language.latex import FUNCTION_COMMANDS
from ..printing.infix import _GREEK_NAMES, latex

__all__ = ["MathMLError", "mathml", "expr_mathml"]


class MathMLError(SymcalcError):
    """LaTeX that the translation to MathML does not know."""


_GREEK_LETTERS = dict(zip(
    ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
     "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi",
     "psi", "omega"], (chr(c) for c in list(range(0x3B1, 0x3C2)) + list(range(0x3C3, 0x3CA)))))
_GREEK_LETTERS.update({name.capitalize(): chr(ord(ch) - 0x20) for name, ch in _GREEK_LETTERS.items()})
_GREEK_LETTERS.update({"varepsilon": "\u03b5", "vartheta": "\u03d1", "varphi": "\u03c6"})
assert _GREEK_NAMES <= set(_GREEK_LETTERS), "a Greek name printing knows has no letter here"

# named operators written upright: the commands of the registry's LaTeX forms (\sin, \log,
# \max, ...), and \det, which layouts of Jacobians write
_OPERATOR_NAMES = set(FUNCTION_COMMANDS) | {"det"}
_SYMBOLS = {  # command -> (element, character)
    "cdot": ("mo", "\u22c5"), "times": ("mo", "\u00d7"), "approx": ("mo", "\u2248"),
    "equiv": ("mo", "\u2261"), "partial": ("mi", "\u2202"), "nabla": ("mo", "\u2207"),
    "infty": ("mi", "\u221e"), "top": ("mi", "\u22a4"), "checkmark": ("mo", "\u2713"),
    "ldots": ("mo", "\u2026"), "cdots": ("mo", "\u22ef"), "sum": ("mo", "\u2211"),
    "to": ("mo", "\u2192"), "ne": ("mo", "\u2260"), "le": ("mo", "\u2264"), "ge": ("mo", "\u2265"),
    "pm": ("mo", "\u00b1"), "|": ("mo", "\u2016"), "{": ("mo", "{"), "}": ("mo", "}"),
    "%": ("mo", "%"), "&": ("mo", "&"), "#": ("mo", "#"), "_": ("mo", "_"), "$": ("mo", "$"),
}
_SPACES = {"quad": "1em", "qquad": "2em", ",": "0.1667em", ";": "0.2778em", ":": "0.2222em",
           " ": "0.25em", "!": "0"}
_NEGATED = {"equiv": "\u2262", "=": "\u2260"}
_ACCENTS = {"hat": "^", "bar": "\u00af", "tilde": "~", "dot": "\u02d9", "vec": "\u2192"}
_STYLES = {"mathrm": "normal", "operatorname": "normal", "mathbf": "bold", "boldsymbol": "bold-italic",
           "mathit": "italic"}
_FRACTIONS = {"frac", "dfrac", "tfrac"}
_MATRICES = {"pmatrix", "bmatrix", "matrix", "vmatrix"}
_TALL_FENCES = {("(", ")"): "paren", ("[", "]"): "bracket", ("|", "|"): "bar"}
_FENCES = {"(": "(", ")": ")", "[": "[", "]": "]", "|": "|", ".": "", "\\{": "{", "\\}": "}",
           "\\|": "\u2016", "\\lvert": "|", "\\rvert": "|", "\\langle": "\u27e8", "\\rangle": "\u27e9"}
_MINUS = "\u2212"
_CELL_ENDS = ("&", "\\\\", "\\end")
_APPLY = "<mo>\u2061</mo>"  # invisible function application: "sin" before its argument

_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\d+(?:\.\d+)?|\s+|.", re.S)


def mathml(tex: str, display: bool = True, strict: bool = False) -> str:
    """The ``<math>`` element for ``tex``, LaTeX as symcalc writes it (formulas, ``pmatrix``,
    ``\\text``, ``\\frac{d}{dx}``, ``\\left( \\right)``).  ``display``: a block formula."""
    reader = _Reader(tex, strict)
    try:
        body = reader.row(stop=())
    except MathMLError:
        if strict:
            raise
        body = f"<mtext>{escape(tex)}</mtext>"  # shown as typed rather than lost
    mode = ' display="block"' if display else ""
    return f"<math{mode}>{body}</math>"


def expr_mathml(e: Expr, display: bool = True) -> str:
    """The ``<math>`` element of an expression, laid out as ``symcalc.latex`` lays it out."""
    return mathml(latex(e), display)


def _is_operator(markup: str) -> bool:
    """Whether a written item is an operator after which ``-`` is a sign (``= -1``, ``(-x``)."""
    return markup.startswith("<mo") and 'fence="true"' not in markup


class _Reader:
    """A recursive-descent reader of LaTeX tokens that writes MathML."""

    def __init__(self, tex: str, strict: bool):
        self.tokens = _TOKEN.findall(tex)  # spaces are kept for \\text, skipped elsewhere
        self.at = 0
        self.strict = strict

    def peek(self) -> Optional[str]:
        while self.at < len(self.tokens) and self.tokens[self.at].isspace():
            self.at += 1
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise MathMLError("the LaTeX ends too early")
        self.at += 1
        return token

    def expect(self, token: str) -> None:
        got = self.take()
        if got != token:
            raise MathMLError(f"expected {token!r} in the LaTeX, found {got!r}")

    def unknown(self, token: str) -> str:
        if self.strict:
            raise MathMLError(f"no MathML for {token!r}")
        return f"<mtext>{escape(token)}</mtext>"

    # --- rows and scripts ----------------------------------------------------------------------
    def row(self, stop: tuple[str, ...]) -> str:
        """Items up to (not including) a token in ``stop`` or the end."""
        out = []
        while self.peek() is not None and self.peek() not in stop:
            token = self.peek()
            if token in ("}", "\\right", "\\end", "&", "\\\\"):
                if not stop:  # an unmatched closing token at the top: show it, go on
                    out.append(self.unknown(self.take()))
                    continue
                break
            if token == "-" and (not out or _is_operator(out[-1])):  # a sign, not a difference
                self.take()
                out.append(f'<mo form="prefix">{_MINUS}</mo>')
                continue
            out.append(self.scripted())
        return "".join(out)

    def scripted(self) -> str:
        """One item with its superscript and subscript, if any."""
        item, applies = self.item()
        sub = sup = None
        while self.peek() in ("^", "_"):
            mark = self.take()
            argument = f"<mrow>{self.argument()}</mrow>"
            if mark == "^":
                sup = argument
            else:
                sub = argument
        if sub and sup:
            item = f"<msubsup>{item}{sub}{sup}</msubsup>"
        elif sup:
            item = f"<msup>{item}{sup}</msup>"
        elif sub:
            item = f"<msub>{item}{sub}</msub>"
        return item + (_APPLY if applies else "")

    def argument(self) -> str:
        """A braced group or one token, as the argument of a command or a script."""
        if self.peek() == "{":
            self.take()
            inner = self.row(stop=("}",))
            self.expect("}")
            return inner
        return self.item()[0]

    def braced_text(self) -> str:
        """The raw text of a braced group (``\\text{...}``), with TeX's escapes undone."""
        self.expect("{")
        depth, parts = 1, []
        while True:
            if self.at >= len(self.tokens):
                raise MathMLError("a brace is not closed in the LaTeX")
            token = self.tokens[self.at]
            self.at += 1
            depth += {"{": 1, "}": -1}.get(token, 0)
            if depth == 0:
                return "".join(parts)
            parts.append(token[1:] if token.startswith("\\") and len(token) == 2 else token)

    # --- items ---------------------------------------------------------------------------------
    def item(self) -> tuple[str, bool]:
        """One item, and whether it is a function name that applies to what follows."""
        token = self.take()
        if token == "{":
            inner = self.row(stop=("}",))
            self.expect("}")
            return f"<mrow>{inner}</mrow>", False
        if token[0].isdigit():
            return f"<mn>{token}</mn>", False
        if token.isalpha() and len(token) == 1:
            return f"<mi>{token}</mi>", False
        if not token.startswith("\\"):
            text = _MINUS if token == "-" else token
            return f"<mo>{escape(text)}</mo>", False
        return self.command(token[1:])

    def command(self, name: str) -> tuple[str, bool]:
        if name in _OPERATOR_NAMES:
            return f"<mi>{name}</mi>", True
        if name in _GREEK_LETTERS:
            upright = ' mathvariant="normal"' if name[0].isupper() else ""
            return f"<mi{upright}>{_GREEK_LETTERS[name]}</mi>", False
        if name in _SYMBOLS:
            element, char = _SYMBOLS[name]
            return f"<{element}>{escape(char)}</{element}>", False
        if name in _SPACES:
            return f'<mspace width="{_SPACES[name]}"></mspace>', False
        if name in _FRACTIONS:
            top, bottom = self.argument(), self.argument()
            return f"<mfrac><mrow>{top}</mrow><mrow>{bottom}</mrow></mfrac>", False
        if name == "sqrt":
            return self.root(), False
        if name == "left":
            return self.fenced(), False
        if name in _STYLES:
            return self.styled(name), name == "operatorname"
        if name == "text":
            return f"<mtext>{escape(self.braced_text())}</mtext>", False
        if name in _ACCENTS:
            base = self.argument()
            return (f'<mover accent="true"><mrow>{base}</mrow>'
                    f"<mo>{_ACCENTS[name]}</mo></mover>"), False
        if name == "overset":
            over, base = self.argument(), self.argument()
            return f"<mover><mrow>{base}</mrow><mrow>{over}</mrow></mover>", False
        if name == "not":
            following = self.take()
            key = following.lstrip("\\")
            if key in _NEGATED:
                return f"<mo>{_NEGATED[key]}</mo>", False
            return self.unknown("\\not" + following), False
        if name == "begin":
            return self.matrix(), False
        return self.unknown("\\" + name), False

    def root(self) -> str:
        index = None
        if self.peek() == "[":
            self.take()
            index = self.row(stop=("]",))
            self.expect("]")
        inner = self.argument()
        if index is None:
            return f"<msqrt>{inner}</msqrt>"
        return f"<mroot><mrow>{inner}</mrow><mrow>{index}</mrow></mroot>"

    def fence(self) -> tuple[str, str]:
        """The delimiter after ``\\left`` or ``\\right``, and its markup."""
        token = self.take()
        if token not in _FENCES:
            return token, self.unknown(token)
        char = _FENCES[token]
        return token, f'<mo fence="true" stretchy="true">{escape(char)}</mo>' if char else ""

    def fenced(self) -> str:
        """``\\left( ... \\right)``.  Around a fraction or a matrix the brackets are drawn by
        the page's style sheet (class ``tall``), as they must grow with what they hold and not
        every computer has a font with growing brackets."""
        left, opening = self.fence()
        inner = self.row(stop=("\\right",))
        self.expect("\\right")
        right, closing = self.fence()
        kinds = (left, right)
        if kinds in _TALL_FENCES and ("<mfrac" in inner or "<mtable" in inner):
            return f'<mrow class="tall {_TALL_FENCES[kinds]}"><mrow>{inner}</mrow></mrow>'
        return f"<mrow>{opening}<mrow>{inner}</mrow>{closing}</mrow>"

    def styled(self, name: str) -> str:
        text = self.braced_text()
        variant = _STYLES[name]
        if len(text) > 1 and variant == "normal":  # a word is upright already
            return f"<mi>{escape(text)}</mi>"
        return f'<mi mathvariant="{variant}">{escape(text)}</mi>'

    def matrix(self) -> str:
        kind = self.braced_text()
        if kind not in _MATRICES:
            return self.unknown(f"\\begin{{{kind}}}")
        rows, cells = [], []
        while True:
            cells.append(f"<mtd>{self.row(stop=_CELL_ENDS)}</mtd>")
            token = self.take()
            if token == "&":
                continue
            rows.append(f"<mtr>{''.join(cells)}</mtr>")
            cells = []
            if token == "\\end":
                self.braced_text()
                break
        return f'<mtable class="{kind}">{"".join(rows)}</mtable>'  # brackets: the style sheet
