"""Shaped symbols and the functions of linear algebra, each a canonical constructor.

``sum``, ``norm`` (2-norm of a vector, Frobenius norm of a matrix), ``trace``, ``det``,
``logdet``, ``inv``, ``diag`` (vector -> diagonal matrix, square matrix -> its diagonal),
``outer``, ``dot``, ``softmax`` and ``logsumexp`` of one vector; ``eye(n)``, ``ones`` and
``zeros``.
"""

from __future__ import annotations

import re
from typing import Optional

from ..errors import SymcalcError
from ..functions.elementary import REGISTRY, lookup
from .build import CONSTRUCTORS as _BUILD_HOOKS
from .build import (chain, describe, filled, matmul, mul, orientation, power, pull_scalars,
                    transpose)
from .nodes import MINUS_ONE, ONE, ZERO, MatrixExpr, as_node, make, number
from .shapes import (Dim, ShapeError, check_declaration, check_dim, check_shape,
                     check_structure)

_NAME = re.compile(r"[^\W\d_]\w*\Z")


def symbol(name: str, shape: object = (), structure: Optional[str] = None) -> MatrixExpr:
    """A shaped symbol: ``symbol("A", ("m", "n"))``; a square matrix may be declared
    ``"symmetric"`` or ``"diagonal"``, by ``structure`` or by a word after the sizes
    (``symbol("S", ("n", "n", "symmetric"))``)."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise SymcalcError(f"{name!r} is not a variable name: use letters, digits and '_', "
                         "starting with a letter")
    if name in FUNCTION_NAMES or name in ("pi", "e"):
        raise SymcalcError(f"{name!r} is a reserved name, not a variable")
    if lookup(name) is not None:
        raise SymcalcError(f"{name!r} is a function name, not a variable")
    shape, word = check_declaration(shape)
    if structure is not None and word is not None and structure != word:
        raise SymcalcError(f"{name} is declared both {word} and {structure}")
    shape = tuple(shape)
    return make("symbol", (), shape, name, check_structure(shape, word or structure))


def scalar(name: str) -> MatrixExpr:
    """A scalar symbol of the matrix layer."""
    return symbol(name, ())


def vector(name: str, size: Dim) -> MatrixExpr:
    """A vector symbol: ``vector("x", "n")`` (the size is a name or a positive int)."""
    return symbol(name, (size,))


def matrix(name: str, rows: Dim, cols: Dim, symmetric: bool = False,
           diagonal: bool = False) -> MatrixExpr:
    """A matrix symbol: ``matrix("A", "m", "n")``.

    ``symmetric=True`` declares a square matrix equal to its transpose (``S.T`` is ``S``), and
    ``diagonal=True`` one that is zero off its diagonal; a gradient by such a matrix is the one
    within its structure under the Frobenius inner product: ``(G + G.T)/2`` for a symmetric
    matrix, the diagonal of ``G`` for a diagonal one, where ``G`` is the gradient with every
    entry independent.  In ``shapes=`` write ``("n", "n", "symmetric")`` or ``"n,n,diagonal"``.
    """
    if symmetric and diagonal:
        raise SymcalcError(f"declare {name} symmetric or diagonal, not both (a diagonal matrix "
                           "is symmetric)")
    structure = "symmetric" if symmetric else "diagonal" if diagonal else None
    return symbol(name, (rows, cols), structure)


def eye(n: Dim) -> MatrixExpr:
    """The n x n identity."""
    n = check_dim(n)
    return make("eye", (), (n, n))


def ones(*dims: Dim) -> MatrixExpr:
    """All ones, of the shape given (``ones("m", "n")``)."""
    return filled(1, check_shape(dims, most=4)) if dims else ONE


def zeros(*dims: Dim) -> MatrixExpr:
    """All zeros, of the shape given."""
    return filled(0, check_shape(dims, most=4)) if dims else ZERO


def _needs(what: str, x: MatrixExpr, ndims: tuple) -> None:
    if x.ndim not in ndims:
        kinds = " or ".join({0: "a scalar", 1: "a vector", 2: "a matrix"}[d] for d in ndims)
        raise ShapeError(f"{what} needs {kinds}, not {describe(x)}")


def _square(what: str, x: MatrixExpr) -> None:
    _needs(what, x, (2,))
    if x.shape[0] != x.shape[1]:
        raise ShapeError(f"{what} needs a square matrix, not {describe(x)}")


def sum_(x: object) -> MatrixExpr:
    """The sum of all entries."""
    x = as_node(x)
    if not x.shape:
        return x
    if x.kind == "zeros":
        return ZERO
    scalars, rest = pull_scalars(x)
    if scalars:
        return mul(*scalars, sum_(rest))
    if x.kind == "mul" and len(x.args) == 2 and x.args[0].ndim == 2 == x.args[1].ndim:
        return trace(matmul(transpose(x.args[0]), x.args[1]))  # sum(F*G) = trace(F.T@G)
    if x.kind == "transpose" or (x.kind == "diag" and x.ndim == 2):
        return sum_(x.args[0])
    if x.kind == "matmul" and x.args[-1].kind == "ones" and x.ndim == 1:  # sum(M@ones) = sum(M)
        return sum_(chain(x.args[:-1]))
    if x.kind == "diag" and x.ndim == 1:  # sum(diag(M)) = trace(M)
        return trace(x.args[0])
    return make("sum", (x,), ())


def norm(x: object) -> MatrixExpr:
    """The 2-norm of a vector, the Frobenius norm of a matrix."""
    x = as_node(x)
    if not x.shape:
        return REGISTRY["abs"](x)
    if x.kind == "zeros":
        return ZERO
    if x.kind == "mul" and x.args[0].kind == "number":
        rest = mul(*x.args[1:])
        return mul(number(abs(x.args[0].data)), norm(rest))
    if x.kind == "transpose":
        return norm(x.args[0])
    return make("norm", (x,), ())


def trace(x: object) -> MatrixExpr:
    """The sum of the diagonal of a square matrix."""
    x = as_node(x)
    _square("trace", x)
    scalars, rest = pull_scalars(x)
    if scalars:
        return mul(*scalars, trace(rest))
    if x.kind == "transpose":
        return trace(x.args[0])
    if x.kind == "outer":  # trace(outer(u, v)) -> u@v
        return matmul(x.args[0], x.args[1])
    if x.kind == "diag":
        return sum_(x.args[0])
    if x.kind == "zeros":
        return ZERO
    if x.kind == "matmul":  # trace(A@B) = trace(B@A) = trace(B.T@A.T): one rotation for all
        rotated = _cyclic_form(x.args)
        return make("trace", (rotated,), ()) if rotated.kind == "matmul" else trace(rotated)
    return make("trace", (x,), ())


def _cyclic_form(factors: tuple) -> MatrixExpr:
    """Of the rotations of a square chain and of its transpose, the one that sorts first."""
    flipped = tuple(transpose(f) for f in reversed(factors))
    candidates = [seq[k:] + seq[:k] for seq in (factors, flipped) for k in range(len(seq))]
    best = min(candidates, key=orientation)
    return chain(best)


def det(x: object) -> MatrixExpr:
    """The determinant of a square matrix."""
    x = as_node(x)
    _square("det", x)
    if x.kind == "transpose":
        return det(x.args[0])
    if x.kind == "eye":
        return ONE
    if x.kind == "inv":
        return power(det(x.args[0]), MINUS_ONE)
    if x.kind == "matmul" and all(f.shape[0] == f.shape[1] for f in x.args):
        return mul(*(det(f) for f in x.args))  # det(X@X@X) = det(X)^3
    return make("det", (x,), ())


def logdet(x: object) -> MatrixExpr:
    """``log(det(X))`` of a square matrix with positive determinant."""
    x = as_node(x)
    _square("logdet", x)
    if x.kind == "transpose":
        return logdet(x.args[0])
    if x.kind == "eye":
        return ZERO
    if x.kind == "inv":
        return mul(MINUS_ONE, logdet(x.args[0]))
    return make("logdet", (x,), ())


def inv(x: object) -> MatrixExpr:
    """The inverse of a square matrix; ``inv(X.T)`` is written ``inv(X).T``."""
    x = as_node(x)
    _square("inv", x)
    if x.kind == "inv":
        return x.args[0]
    if x.kind == "eye":
        return x
    if x.kind == "transpose":
        return transpose(inv(x.args[0]))
    if x.kind == "diag":
        return diag(power(x.args[0], MINUS_ONE))
    scalars, rest = pull_scalars(x)
    if scalars:
        return mul(power(mul(*scalars), MINUS_ONE), inv(rest))
    return make("inv", (x,), x.shape)


def diag(x: object) -> MatrixExpr:
    """A vector -> the diagonal matrix; a square matrix -> its diagonal (as NumPy's ``diag``)."""
    x = as_node(x)
    _needs("diag", x, (1, 2))
    if x.ndim == 2:
        _square("diag", x)
        if x.kind == "diag":
            return x.args[0]
        if x.kind == "eye":
            return filled(1, x.shape[:1])
        if x.kind == "transpose":
            return diag(x.args[0])
        if x.kind == "outer":  # diag(outer(u, v)) = u*v
            return mul(x.args[0], x.args[1])
    elif x.kind == "diag" and is_diagonal(x.args[0]):  # diag(diag(D)) = D for a diagonal D
        return x.args[0]
    elif x.kind == "ones":
        return eye(x.shape[0])
    if x.kind == "zeros":
        return filled(0, (x.shape[0],) * (3 - x.ndim))
    scalars, rest = pull_scalars(x)
    if scalars:
        return mul(*scalars, diag(rest))
    n = x.shape[0]
    return make("diag", (x,), (n, n) if x.ndim == 1 else (n,))


_DIAGONAL_DEPTH = 32  # deeper forms are not looked into (not known to be diagonal)


def is_diagonal(x: MatrixExpr, depth: int = 0) -> bool:
    """Whether the matrix ``x`` is zero off its diagonal, by its form: ``eye``, ``diag(v)``, a
    symbol declared diagonal, and inverses, products, sums and scalar multiples of those."""
    if x.ndim != 2 or depth > _DIAGONAL_DEPTH:
        return False
    if x.kind == "symbol":
        return x.structure == "diagonal"
    if x.kind in ("eye", "zeros") or (x.kind == "diag" and x.args[0].ndim == 1):
        return True
    if x.kind in ("inv", "matmul", "add"):  # a scalar term of a sum would fill the matrix
        return all(is_diagonal(a, depth + 1) for a in x.args)
    if x.kind == "mul":  # an entrywise product with a diagonal factor
        return any(is_diagonal(a, depth + 1) for a in x.args)
    return False


def outer(x: object, y: object) -> MatrixExpr:
    """The outer product of two vectors, ``x[:, None] * y[None, :]``."""
    x, y = as_node(x), as_node(y)
    _needs("outer", x, (1,))
    _needs("outer", y, (1,))
    shape = (x.shape[0], y.shape[0])
    if x.kind == "zeros" or y.kind == "zeros":
        return filled(0, shape)
    sx, x = pull_scalars(x)
    sy, y = pull_scalars(y)
    if sx or sy:
        return mul(*sx, *sy, outer(x, y))
    return make("outer", (x, y), shape)


def dot(x: object, y: object) -> MatrixExpr:
    """The dot product of two vectors (``x@y``)."""
    x, y = as_node(x), as_node(y)
    _needs("dot", x, (1,))
    _needs("dot", y, (1,))
    return matmul(x, y)


def softmax(z: object) -> MatrixExpr:
    """``exp(z - logsumexp(z))`` of a vector."""
    z = as_node(z)
    _needs("softmax", z, (1,))
    return make("softmax", (z,), z.shape)


def logsumexp(z: object) -> MatrixExpr:
    """``log(sum(exp(z)))`` of a vector (a scalar is returned as it is)."""
    z = as_node(z)
    if not z.shape:
        return z
    _needs("logsumexp", z, (1,))
    return make("logsumexp", (z,), ())


# the names of the functions of the matrix layer, reserved: ``symcalc.matrix.operations`` holds
# their records (its ``FUNCTIONS``; a test checks that the two agree)
FUNCTION_NAMES = frozenset({"sum", "norm", "trace", "det", "logdet", "inv", "diag", "outer",
                            "dot", "softmax", "eye", "ones", "zeros", "mean", "kron",
                            "matrix_power"})
FUNCTION_NAMES |= {"einsum"}  # index expressions (symcalc.matrix.tensor)


_BUILD_HOOKS.bind(diag=diag, outer=outer, sum_=sum_, eye=eye, inv=inv, logsumexp=logsumexp)
