"""The exceptions symcalc raises on bad input.

Every one of them is a ``SymcalcError``, which is a ``ValueError``, so ``except ValueError`` keeps
working; a bad argument type is a ``SymcalcTypeError``, which is also a ``TypeError``, and a
division by zero is a ``DivisionByZeroError``, which is also a ``ZeroDivisionError``.

>>> import symcalc as sc
>>> try:
...     sc.parse("x +")
... except sc.SymcalcError as error:
...     print(type(error).__name__, error.column)
ParseError 4
>>> issubclass(sc.DomainError, ValueError)
True
"""

from __future__ import annotations

_WINDOW = 60  # characters of a long line shown around the fault


class SymcalcError(ValueError):
    """Input symcalc cannot work with: the base of every symcalc exception."""


class SymcalcTypeError(SymcalcError, TypeError):
    """An argument of the wrong type (a list where a name is needed, a float as an order)."""


class ShapeError(SymcalcError):
    """Vectors or matrices whose shapes do not fit together."""


class DomainError(SymcalcError):
    """A value that is undefined: ``log(0)``, a division by zero, a pole at the point asked for."""


class DivisionByZeroError(DomainError, ZeroDivisionError):
    """A division by an expression that is exactly zero."""


class OutOfRangeError(SymcalcError):
    """A value beyond what can be computed or held: ``exp(9^9^9)`` (whose argument has a billion
    bits), or ``evalf`` of ``exp(10^20)``, whose exponent no ``decimal.Decimal`` holds."""


class ParseError(SymcalcError):
    """A formula that is not in the symcalc language.

    Attributes: ``line`` and ``column`` (1-based), ``expected`` (what could have come there),
    ``text`` (the formula) and ``reason`` (the message without the caret display).
    """

    def __init__(self, reason: str, text: str, line: int, column: int, expected: tuple[str, ...] = ()):
        self.reason = reason
        self.text = text
        self.line = line
        self.column = column
        self.expected = tuple(expected)
        super().__init__(self._render())

    def _render(self) -> str:
        lines = self.text.split("\n")
        source = lines[self.line - 1] if 0 < self.line <= len(lines) else ""
        caret = self.column - 1
        if len(source) > 2 * _WINDOW:  # show a window around the fault of a very long line
            start = max(0, caret - _WINDOW)
            source = ("..." if start else "") + source[start:start + 2 * _WINDOW] + "..."
            caret = caret - start + (3 if start else 0)
        where = f"line {self.line}, column {self.column}"
        message = f"{self.reason} ({where})"
        if self.expected:
            message += "; expected " + ", ".join(self.expected)
        return f"{message}\n  {source}\n  {' ' * caret}^"
