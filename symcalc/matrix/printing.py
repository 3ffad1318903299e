"""Text that ``parse(text, shapes=...)`` reads back to the same node, and LaTeX
(``A^{\\top}``, ``\\odot`` for the entrywise product, ``x^{\\top} y`` for a dot product)."""

from __future__ import annotations

from fractions import Fraction
from typing import Mapping, Optional

from ..printing.infix import decimal_text, display_order, ends_with_superscript, latex_name
from .entrywise import lift
from .nodes import METHODS as _NODE_HOOKS
from .nodes import MatrixExpr, postorder
from .operations import ATOM, LEAVES, OPERATIONS, POWER, PRODUCT, SUM, UNARY


def _split_term(term: MatrixExpr) -> tuple[Fraction, list, list]:
    """coefficient, numerator factors, denominator factors (as (base, positive exponent)).

    The factors are in the scalar engine's order, except that scalars with variables in them
    come before vectors and matrices, as a person writes them: ``2*s*(A@x)``, ``exp(s)*t``."""
    factors = term.args if term.kind == "mul" else (term,)
    coeff = Fraction(1)
    num, den = [], []
    for f in factors:
        if f.kind == "number":
            coeff *= f.data
        elif f.kind == "pow" and f.args[1].kind == "number" and f.args[1].data < 0:
            den.append((f.args[0], -Fraction(f.args[1].data)))
        else:
            num.append(f)
    if any(f.shape for f in num):
        num.sort(key=lambda f: bool(f.shape or not f.free_symbols))
    return coeff, num, den


def _display_order(terms: tuple) -> list:
    """The terms of a sum in the order the scalar printer writes them (``x - b``, not
    ``-b + x``), read from the terms' scalar forms."""
    lifted = [lift(t) for t in terms]
    back = dict(zip(lifted, terms))
    if len(back) != len(terms):
        return list(terms)
    return [back[t] for t in display_order(lifted)]


class _Text:
    """The infix text of every node, children first."""

    def __init__(self, names: Optional[Mapping[MatrixExpr, str]] = None):
        self.done: dict[MatrixExpr, tuple[str, int]] = {}
        self.names = names or {}

    def paren(self, node: MatrixExpr, least: int) -> str:
        text, prec = self.done[node]
        return f"({text})" if prec < least else text

    def number(self, value: Fraction) -> tuple[str, int]:
        value = Fraction(value)
        if value.denominator == 1:
            return str(value.numerator), (UNARY if value < 0 else ATOM)
        decimal = decimal_text(abs(value))  # 0.3, as the scalar printer writes it
        if decimal is not None:
            text, atomic = decimal
            return ("-" + text, UNARY) if value < 0 else (text, ATOM if atomic else PRODUCT)
        return f"{value.numerator}/{value.denominator}", PRODUCT

    def term(self, node: MatrixExpr, in_sum: bool = False) -> tuple[str, int]:
        """A product written with its coefficient, its denominator after a slash, laid out as
        the scalar printer lays it out so that it reads back to the same node; ``in_sum``: a
        term after the first of a sum, whose minus sign is the sum's."""
        coeff, num, den = _split_term(node)
        sign = "-" if coeff < 0 else ""
        coeff = abs(coeff)
        decimal = decimal_text(coeff) if coeff.denominator != 1 else None  # 0.3*x, not 3*x/10
        bracket = False
        if sign and not in_sum and coeff.numerator == 1 and decimal is None and num \
                and num[0].kind == "add":
            # "-(a + b)*c" reads back as (-a - b)*c, another node: lead with a factor that is
            # not a sum ("-c*(a + b)"), or bracket the whole product ("-((a + b)*(c + d))")
            lead = next((k for k, f in enumerate(num) if f.kind != "add"), None)
            if lead is not None:
                num.insert(0, num.pop(lead))
            else:
                bracket = len(num) > 1 or bool(den) or coeff.denominator != 1
        if decimal is not None:
            parts = [decimal[0]]
            coeff = Fraction(1)
        else:
            parts = [str(coeff.numerator)] if coeff.numerator != 1 or not num else []
        for k, f in enumerate(num):
            last = k == len(num) - 1
            scalars_before = all(not g.shape for g in num[:k]) and not den
            if f.kind == "matmul" and last and scalars_before and f.args[0].kind not in ("add", "mul"):
                parts.append(self.paren(f, PRODUCT))
            else:
                parts.append(self.paren(f, POWER if f.kind == "matmul" else UNARY))
        text = "*".join(parts)
        below = [self.power_text(b, e) for b, e in den]
        if coeff.denominator != 1 and len(den) == 1 and den[0][0].kind == "add" and den[0][1] == 1:
            # "a/(2*(b + c))" reads back with 2*(b + c) distributed: write "a/(b + c)/2"
            text += f"/{below[0]}/{coeff.denominator}"
        else:
            if coeff.denominator != 1:
                below.insert(0, str(coeff.denominator))
            if below:
                text += "/" + (below[0] if len(below) == 1 else "(" + "*".join(below) + ")")
        if bracket:
            text = f"({text})"
        prec = PRODUCT if (len(parts) > 1 or below) else self.done[num[0]][1] if num else ATOM
        return sign + text, (UNARY if sign else prec)

    def power_text(self, base: MatrixExpr, exponent: Fraction) -> str:
        if exponent == 1:
            return self.paren(base, POWER + 1)
        if exponent == Fraction(1, 2):
            return f"sqrt({self.done[base][0]})"
        text, _ = self.number(exponent)
        exp_text = text if exponent.denominator == 1 else f"({text})"
        return f"{self.paren(base, POWER + 1)}^{exp_text}"

    def visit(self, node: MatrixExpr) -> tuple[str, int]:
        kind, args = node.kind, node.args
        if kind == "symbol" or kind == "constant":
            return node.data, ATOM
        if kind == "number":
            return self.number(node.data)
        if kind in LEAVES:
            return OPERATIONS[kind].text.leaf([str(d) for d in node.shape])
        if kind == "add":
            pieces = []
            for i, t in enumerate(_display_order(args)):
                named = t in self.names
                text, prec = self.term(t, in_sum=i > 0) if t.kind in ("mul", "number") \
                    and not named else self.done[t]
                if i and text.startswith("-"):
                    pieces.append(" - " + text[1:])
                elif i:
                    pieces.append(" + " + text)
                else:
                    pieces.append(text)
            return "".join(pieces), SUM
        if kind == "mul":
            return self.term(node)
        if kind == "pow":
            exponent = args[1]
            if exponent.kind == "number" and exponent.data < 0:
                return self.term(node)
            if exponent.kind == "number" and exponent.data == Fraction(1, 2):
                return self.power_text(args[0], exponent.data), ATOM
            exp_text = self.paren(exponent, ATOM)
            if exponent.kind == "number" and Fraction(exponent.data).denominator == 1:
                exp_text = self.done[exponent][0]
            return f"{self.paren(args[0], ATOM)}^{exp_text}", POWER
        if kind == "matmul":
            if node.ndim == 1 and len(args) > 2:  # A.T@(A@x): NumPy reads A.T@A@x as (A.T@A)@x
                text = f"{self.paren(args[-2], POWER)}@{self.paren(args[-1], POWER)}"
                for f in reversed(args[:-2]):
                    text = f"{self.paren(f, POWER)}@({text})"
                return text, PRODUCT
        if kind == "apply":
            return f"{node.data.name}({', '.join(self.done[a][0] for a in args)})", ATOM
        return self.form(OPERATIONS[kind].text, args, node)

    def form(self, form, args: tuple, node: Optional[MatrixExpr] = None) -> tuple[str, int]:
        """The operation's form (``symcalc.matrix.operations``) over its operands' text."""
        return form.write([self.done[a] for a in args], self.wrap, node)

    def wrap(self, text: str) -> str:
        return f"({text})"


def to_str(e: MatrixExpr, names: Optional[Mapping[MatrixExpr, str]] = None) -> str:
    """Infix text that parses back (with the same shapes) to ``e``; ``names`` writes the
    nodes it lists as the given text (e.g. intermediate nodes as ``v1``)."""
    if names:
        return _named(_Text(names), e, names)
    if e._text is None:
        printer = _Text()
        for node in postorder([e]):
            printer.done[node] = printer.visit(node)
        e._text = printer.done[e][0]
    return e._text


# --- LaTeX ----------------------------------------------------------------------------------------
class _Latex(_Text):
    def number(self, value: Fraction) -> tuple[str, int]:
        value = Fraction(value)
        if value.denominator == 1:
            return str(value.numerator), (UNARY if value < 0 else ATOM)
        sign = "-" if value < 0 else ""
        return f"{sign}\\frac{{{abs(value.numerator)}}}{{{value.denominator}}}", PRODUCT

    def paren(self, node: MatrixExpr, least: int) -> str:
        text, prec = self.done[node]
        return f"\\left({text}\\right)" if prec < least else text

    def term(self, node: MatrixExpr, in_sum: bool = False) -> tuple[str, int]:
        coeff, num, den = _split_term(node)
        sign = "-" if coeff < 0 else ""
        coeff = abs(coeff)
        parts = [str(coeff.numerator)] if coeff.numerator != 1 else []
        shaped = [f for f in num if f.shape]
        scalars = [f for f in num if not f.shape]
        scalar_text = " ".join(self.paren(f, UNARY) for f in scalars)
        if scalar_text:
            parts.append(scalar_text)
        if shaped:
            parts.append(" \\odot ".join(self.paren(f, POWER if len(shaped) > 1 else PRODUCT)
                                         for f in shaped))
        top = " ".join(parts) or "1"
        several = len(den) > 1
        below = [self.power_text(b, e, several) for b, e in den if not b.shape]
        shaped_below = [self.power_text(b, e, several) for b, e in den if b.shape]
        if shaped_below:  # side by side, vectors would be a matrix product
            below.append(" \\odot ".join(shaped_below))
        if coeff.denominator != 1:
            below.insert(0, str(coeff.denominator))
        if below:
            return f"{sign}\\frac{{{top}}}{{{' '.join(below)}}}", (UNARY if sign else PRODUCT)
        prec = PRODUCT if len(parts) > 1 or len(shaped) > 1 else (
            self.done[num[0]][1] if len(num) == 1 else PRODUCT)
        return sign + top, (UNARY if sign else prec)

    def power_text(self, base: MatrixExpr, exponent: Fraction, beside: bool = False) -> str:
        if exponent == 1:
            return self.paren(base, POWER) if beside else self.done[base][0]
        return f"{self.paren(base, POWER + 1)}^{{{_entrywise(base)}{self.number(exponent)[0]}}}"

    def visit(self, node: MatrixExpr) -> tuple[str, int]:
        kind, args = node.kind, node.args
        if kind == "symbol":
            return latex_name(node.data), ATOM
        if kind == "constant":
            return ("\\pi" if node.data == "pi" else "e"), ATOM
        if kind in LEAVES:
            return OPERATIONS[kind].latex.leaf([str(d).replace("*", " ") for d in node.shape])
        if kind == "pow":
            exponent = args[1]
            if exponent.kind == "number" and exponent.data < 0:
                return self.term(node)
            return (f"{self.paren(args[0], ATOM)}^{{{_entrywise(args[0])}"
                    f"{self.done[exponent][0]}}}", POWER)
        if kind == "apply" and node.data.name == "abs" and node.shape:  # |x| could be a norm
            return f"\\operatorname{{abs}}\\left({self.done[args[0]][0]}\\right)", ATOM
        if kind == "matmul":
            parts = [self.paren(f, POWER) for f in args]
            if args[0].ndim == 1:
                parts[0] = self.paren(args[0], ATOM) + "^{\\top}"
            return " ".join(parts), PRODUCT
        # a superscript ends these: a power of them needs parentheses (no x^{a}^{b} in TeX)
        if kind == "transpose" and args[0].kind in OPERATIONS \
                and OPERATIONS[args[0].kind].latex_transposed is not None:  # X^{-\top}
            return self.form(OPERATIONS[args[0].kind].latex_transposed, args[0].args)
        if kind == "apply":
            text = node.data.latex([self.done[a][0] for a in args])
            return text, (POWER if ends_with_superscript(text) else ATOM)  # e^{x}: (e^{x})^{\top}
        if kind in OPERATIONS:
            return self.form(OPERATIONS[kind].latex_for(args), args, node)
        return super().visit(node)

    def wrap(self, text: str) -> str:
        return f"\\left({text}\\right)"


def _entrywise(base: MatrixExpr) -> str:
    """``\\circ `` before the exponent of a matrix: ``A^{\\circ 2}`` is entrywise, ``A^{2}``
    would be read as ``A A``."""
    return "\\circ " if base.ndim == 2 else ""


def _named(printer: _Text, e: MatrixExpr, names: Mapping[MatrixExpr, str]) -> str:
    for node in postorder([e]):
        printer.done[node] = (names[node], ATOM) if node in names else printer.visit(node)
    return printer.done[e][0]


def latex(e: MatrixExpr, names: Optional[Mapping[MatrixExpr, str]] = None) -> str:
    """LaTeX for a shaped formula; ``names`` as for ``to_str``, in LaTeX."""
    if names:
        return _named(_Latex(names), e, names)
    printer = _Latex()
    for node in postorder([e]):
        printer.done[node] = printer.visit(node)
    return printer.done[e][0]


_NODE_HOOKS.bind(to_str=to_str, latex=latex)  # str(e) and e._repr_latex_()
