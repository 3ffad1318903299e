"""Derivatives by matrices of declared structure (``symmetric``, ``diagonal``).

A function of a symmetric ``S`` is defined only on symmetric matrices, so its gradient is the
one matrix ``S̄`` in that space with ``df = <S̄, dS>`` (Frobenius) for every symmetric ``dS``:
if ``G`` is the gradient of any extension to all matrices (every entry independent), ``S̄`` is
the projection ``(G + G.T)/2`` -- not ``G + G.T - diag(G)``, which is the derivative by the
distinct entries ``S_ij, i <= j``, and is not a gradient under the Frobenius inner product.  For a
diagonal ``D`` the projection keeps the diagonal: ``G*eye(n)``, written ``diag(diag(G))``.
Directions (of ``jvp``, ``hvp``) are projected the same way, so ``vjp`` and ``jvp`` stay adjoint.
"""

from __future__ import annotations

from fractions import Fraction

from .build import add, mul, transpose
from .nodes import MatrixExpr, number
from .ops import eye
from .tensor import einsum


def within(g: MatrixExpr, x: MatrixExpr) -> MatrixExpr:
    """``g`` (shaped like the symbol ``x``) projected onto the matrices of ``x``'s structure."""
    if x.structure == "symmetric":
        return mul(number(Fraction(1, 2)), add(g, transpose(g)))
    if x.structure == "diagonal":
        return mul(g, eye(x.shape[0]))
    return g


def tensor_within(t: MatrixExpr, x: MatrixExpr) -> MatrixExpr:
    """A derivative ``t`` whose last two axes are those of the structured matrix ``x`` (a
    Jacobian by ``x``), projected there as ``within`` projects a gradient: symmetric in those two
    axes (their two orders averaged), or zero off the diagonal."""
    if x.structure not in ("symmetric", "diagonal"):
        return t
    letters = "abcd"[:t.ndim]
    k, l = letters[-2:]
    if x.structure == "symmetric":
        swapped = einsum(f"{letters}->{letters[:-2]}{l}{k}", t)
        return mul(number(Fraction(1, 2)), add(t, swapped))
    return einsum(f"{letters},{k}{l}->{letters}", t, eye(x.shape[0]))
