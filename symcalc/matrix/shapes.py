"""Sizes, shapes and the errors of the matrix layer.

A size is a name (``"n"``) or a positive int; a shape is a tuple of 0, 1 or 2 sizes (a
symbol's), or up to 4 for a tensor-valued derivative (``symcalc.matrix.tensor``).  Distinct
size names are distinct sizes: ``m`` never matches ``n``, and ``n`` never matches ``3``.  A
product of sizes (the rows of ``kron(A, B)``) is the text ``"m*p"``, its factors in one order
(``dim_product``), so equal products are equal sizes.

A declaration is a shape with, for a square matrix, a structure word after the sizes:
``("n", "n", "symmetric")`` or ``"n,n,diagonal"`` (``STRUCTURES``); the words are not size names.
"""

from __future__ import annotations

import re
from typing import Optional, Union

from .. import errors
from ..errors import SymcalcError, SymcalcTypeError

Dim = Union[str, int]
Shape = tuple  # tuple[Dim, ...] of length 0, 1 or 2

_SIZE_NAME = re.compile(r"[A-Za-z]\w*\Z")
_WINDOW = 60


class ShapeError(errors.ShapeError):
    """Operands whose shapes do not fit (``A@b`` with ``A`` m x n and ``b`` of size m).

    From text, the message shows the formula with a caret under the operator or function at
    fault; ``line`` and ``column`` (1-based) say where.
    """

    def __init__(self, reason: str, text: Optional[str] = None, line: int = 0, column: int = 0):
        self.reason, self.text, self.line, self.column = reason, text, line, column
        super().__init__(self._render())

    def _render(self) -> str:
        if self.text is None:
            return self.reason
        lines = self.text.split("\n")
        source = lines[self.line - 1] if 0 < self.line <= len(lines) else ""
        caret = self.column - 1
        if len(source) > 2 * _WINDOW:
            start = max(0, caret - _WINDOW)
            source = ("..." if start else "") + source[start:start + 2 * _WINDOW] + "..."
            caret = caret - start + (3 if start else 0)
        return (f"{self.reason} (line {self.line}, column {self.column})\n"
                f"  {source}\n  {' ' * caret}^")

    def located(self, text: str, line: int, column: int) -> "ShapeError":
        """The same error shown under ``text`` at ``line``, ``column``."""
        return type(self)(self.reason, text, line, column)


class NoMatrixFormError(errors.SymcalcError):
    """A derivative with no matrix form and no index form: one of more than 4 indices, or one
    through an operation without an index rule."""


STRUCTURES = ("symmetric", "diagonal")
"""The structure words a square matrix may be declared with: ``S.T = S`` for both, and a
diagonal matrix is zero off its diagonal."""


def check_dim(dim: object) -> Dim:
    """A size: a name such as ``"n"`` or a positive int."""
    if isinstance(dim, bool):
        raise SymcalcTypeError(f"a size must be a name or a positive int, not {dim!r}")
    if isinstance(dim, int):
        if dim < 1:
            raise SymcalcError(f"a size must be a positive int, got {dim}")
        return dim
    if isinstance(dim, str):
        name = dim.strip()
        if name in STRUCTURES:
            raise SymcalcError(f"{name!r} is a structure word, not a size: it comes after the two "
                               f"sizes of a square matrix, as in n,n,{name}")
        if "*" in name:
            factors = [f.strip() for f in name.split("*")]
            return dim_product(*(int(f) if f.isdigit() else check_dim(f) for f in factors))
        if not _SIZE_NAME.match(name):
            raise SymcalcError(f"{dim!r} is not a size name: use letters, digits and '_', "
                             "starting with a letter")
        return name
    raise SymcalcTypeError(f"a size must be a name or a positive int, not {type(dim).__name__} {dim!r}")


def dim_factors(dim: Dim) -> list:
    """The factors of a size: ``"m*p" -> ["m", "p"]``, ``3 -> [3]``."""
    if isinstance(dim, int):
        return [dim]
    return [int(f) if f.isdigit() else f for f in dim.split("*")]


def dim_product(*dims: Dim) -> Dim:
    """The product of sizes: ints folded, names in sorted order (``("p", "m") -> "m*p"``)."""
    number, names = 1, []
    for d in dims:
        for f in dim_factors(d):
            if isinstance(f, int):
                number *= f
            else:
                names.append(f)
    if not names:
        return number
    parts = ([str(number)] if number != 1 else []) + sorted(names)
    return "*".join(parts)


def dim_value(dim: Dim, sizes) -> int:
    """The int value of a size, given the values of the names (a ``KeyError`` names one that is
    missing)."""
    value = 1
    for f in dim_factors(dim):
        value *= f if isinstance(f, int) else sizes[f]
    return value


def check_shape(shape: object, most: int = 2) -> Shape:
    """A shape tuple from a tuple/list of sizes (or one size, or ``"m,n"``); at most ``most``
    sizes (2 for a symbol; 4 for a tensor-valued result such as ``zeros(m, n, m, n)``)."""
    if isinstance(shape, str):
        shape = tuple(p for p in shape.replace(",", " ").split())
    elif isinstance(shape, (int, str)):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)):
        raise SymcalcTypeError(f"a shape must be a tuple of sizes, not {type(shape).__name__}")
    if len(shape) > most:
        if most > 2:
            raise SymcalcError(f"shapes have at most {most} sizes, got {tuple(shape)}")
        raise SymcalcError(f"shapes have at most 2 sizes (vectors and matrices), got {tuple(shape)}")
    return tuple(check_dim(d) for d in shape)


def check_declaration(declared: object) -> tuple[Shape, Optional[str]]:
    """``(shape, structure)`` from a shape with an optional structure word after the sizes:
    ``("n", "n", "symmetric") -> (("n", "n"), "symmetric")``, ``"m,n" -> (("m", "n"), None)``.

    A structure word other than those of ``STRUCTURES``, or one given to a shape that is not a
    square matrix, is a ``SymcalcError``."""
    if isinstance(declared, str):
        declared = tuple(p for p in declared.replace(",", " ").split())
    if isinstance(declared, (tuple, list)) and len(declared) == 3 and isinstance(declared[2], str):
        shape, word = check_shape(tuple(declared[:2])), declared[2].strip()
        if word not in STRUCTURES:
            raise SymcalcError(f"a shape has at most 2 sizes, and {word!r} is not a structure of "
                               f"a matrix: after the two sizes write {' or '.join(STRUCTURES)} "
                               "(e.g. n,n,symmetric)")
        return shape, check_structure(shape, word)
    return check_shape(declared), None


def check_structure(shape: Shape, structure: Optional[str]) -> Optional[str]:
    """``structure`` (None or a word of ``STRUCTURES``) checked against ``shape``: only a square
    matrix has one."""
    if structure is None:
        return None
    if structure not in STRUCTURES:
        raise SymcalcError(f"{structure!r} is not a structure of a matrix: use "
                           f"{' or '.join(STRUCTURES)}")
    if len(shape) != 2 or shape[0] != shape[1]:
        raise SymcalcError(f"only a square matrix can be {structure}, not {shape_words(shape)}")
    return structure


def declaration(shape: Shape, structure: Optional[str]) -> tuple:
    """The declared form of a shape and structure, as ``shapes=`` takes it:
    ``("n", "n"), "symmetric" -> ("n", "n", "symmetric")``."""
    return tuple(shape) + ((structure,) if structure else ())


def shape_words(shape: Shape) -> str:
    """``() -> "a scalar"``, ``("n",) -> "a vector of size n"``, ``("m", "n") -> "an m x n matrix"``."""
    if not shape:
        return "a scalar"
    if len(shape) == 1:
        return f"a vector of size {shape[0]}"
    if len(shape) > 2:
        return f"a {' x '.join(map(str, shape))} tensor"
    article = "an" if str(shape[0])[:1] in "aefhilmnorsx8" else "a"
    return f"{article} {shape[0]} x {shape[1]} matrix"
