"""Text that ``parse(text, shapes=...)`` reads back to the same node, and LaTeX
(``A^{\\top}``, ``\\odot`` for the entrywise product, ``x^{\\top} y`` for a dot product)."""

from __future__ import annotations

from fractions import Fraction
from typing import Mapping, Optional

from ..printing import ends_with_superscript, latex_name
from .nodes import METHODS as _NODE_HOOKS
from .nodes import MatrixExpr, postorder
from .operations import ATOM, LEAVES, OPERATIONS, POWER, PRODUCT, SUM, UNARY


def _split_term(term: MatrixExpr) -> tuple[Fraction, list, list]:
    """coefficient, numerator factors, denominator factors (as (base, positive exponent))."""
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
    return coeff, num, den


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
        return f"{value.numerator}/{value.denominator}", PRODUCT

    def term(self, node: MatrixExpr) -> tuple[str, int]:
        """A product written with its coefficient, its denominator after a slash."""
        coeff, num, den = _split_term(node)
        sign = "-" if coeff < 0 else ""
        coeff = abs(coeff)
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
        if coeff.denominator != 1:
            below.insert(0, str(coeff.denominator))
        if below:
            text += "/" + (below[0] if len(below) == 1 else "(" + "*".join(below) + ")")
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
            for i, t in enumerate(args):
                named = t in self.names
                text, prec = self.term(t) if t.kind in ("mul", "number") and not named \
                    else self.done[t]
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
        return self.form(OPERATIONS[kind].text, args)

    def form(self, form, args: tuple) -> tuple[str, int]:
        """The operation's form (``symcalc.matrix.operations``) over its operands' text."""
        return form.write([self.done[a] for a in args], self.wrap)

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

    def term(self, node: MatrixExpr) -> tuple[str, int]:
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
            return OPERATIONS[kind].latex.leaf([str(d) for d in node.shape])
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
            return self.form(OPERATIONS[kind].latex_for(args), args)
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
