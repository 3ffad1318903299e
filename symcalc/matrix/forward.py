"""Forward accumulation of Jacobians, for Jacobians of vector-valued formulas and Hessians
(the Jacobian of a gradient: forward over reverse).

For a vector variable ``x`` of size n each node carries its Jacobian as a matrix expression: a
scalar node its gradient (a vector of size n), a vector node of size m an m x n matrix.  A
matrix-valued node that depends on ``x`` would need a 3-index Jacobian, which has no matrix form:
``NoMatrixFormError`` says so.  For a scalar variable each node carries its derivative, shaped
like the node (tangent mode).
"""

from __future__ import annotations

from typing import Optional

from .build import add, chain, describe, matmul, mul, negate, power, transpose
from .convert import ENTRYWISE, Placeholders, entrywise_starts, operand_partials
from .nodes import MINUS_ONE, ONE, MatrixExpr, postorder
from .ops import diag, eye, inv, norm, ones, outer, softmax, sum_, trace, zeros
from .shapes import NoMatrixFormError

Jac = Optional[MatrixExpr]  # None: zero


def _sum(parts) -> Jac:
    parts = [p for p in parts if p is not None]
    return add(*parts) if parts else None


# --- Jacobians with respect to a vector ----------------------------------------------------------
def _scaled(node: MatrixExpr, d: MatrixExpr, child: MatrixExpr, j: Jac) -> Jac:
    """The Jacobian of an entrywise ``node`` through ``child`` with local derivative ``d``."""
    if j is None:
        return None
    if not node.shape:
        return mul(d, j)
    if not child.shape:  # a scalar broadcast over the vector node
        return outer(d if d.shape else mul(d, ones(*node.shape)), j)
    return mul(d, j) if not d.shape else matmul(diag(d), j)


def _vector_rule(node: MatrixExpr, J: dict, n) -> Jac:
    kind, args = node.kind, node.args  # entrywise parts: see _walk
    js = [J.get(a) for a in args]
    if kind == "matmul":
        if any(j is not None for f, j in zip(args[1:-1], js[1:-1])) or (
                args[0].ndim == 2 and js[0] is not None):
            raise NoMatrixFormError("a Jacobian through a matrix that depends on the variable "
                                    "is a 3-index tensor and has no matrix form")
        if args[0].ndim == 1:  # u@M@v
            return _sum([matmul(transpose(js[0]), chain(args[1:])) if js[0] is not None else None,
                         matmul(transpose(js[-1]), chain(args[:-1])) if js[-1] is not None else None])
        return matmul(chain(args[:-1]), js[-1])
    if kind == "transpose":
        return js[0]
    j, x = js[0], args[0]
    if kind == "sum":
        return matmul(transpose(j), ones(*x.shape))
    if kind == "norm":
        return matmul(transpose(j), mul(x, power(norm(x), MINUS_ONE)))
    if kind == "softmax":
        return matmul(add(diag(node), negate(outer(node, node))), j)
    if kind == "logsumexp":
        return matmul(transpose(j), softmax(x))
    raise NoMatrixFormError(f"no matrix-form Jacobian through {kind}")


def _walk(g: MatrixExpr, x: MatrixExpr):
    """The stable form of ``g`` (``symcalc.matrix.stability.reductions``), the nodes whose
    derivative is carried, in order, and a function giving the operands of an entrywise part
    with their partial derivatives from the scalar engine: each maximal entrywise part is one
    operation, so derivatives read as the scalar engine writes them."""
    g = reductions([g])[0]
    order = list(postorder([g]))
    starts, placeholders = entrywise_starts(order, [g]), Placeholders()
    carried = [n for n in order if n is not x and n.args and x in n.free_symbols
               and (n.kind not in ENTRYWISE or n in starts)]
    wanted = lambda u: x in u.free_symbols  # noqa: E731
    return g, carried, lambda node: operand_partials(node, placeholders, wanted)


def jacobian_vector(g: MatrixExpr, x: MatrixExpr) -> MatrixExpr:
    """``dg/dx`` for a scalar or vector ``g`` and a vector symbol ``x``: shape ``g.shape + x.shape``."""
    J: dict[MatrixExpr, Jac] = {x: eye(x.shape[0])}
    g, carried, partials_of = _walk(g, x)
    for node in carried:
        if node.ndim == 2:
            raise NoMatrixFormError(
                f"{describe(node)} depends on {x.data}: its Jacobian is a 3-index tensor, "
                "which has no matrix form")
        if node.kind in ENTRYWISE:
            J[node] = _sum(_scaled(node, d, u, J.get(u)) for u, d in partials_of(node))
        else:
            J[node] = _vector_rule(node, J, x.shape[0])
    result = J.get(g)
    if result is None:
        return zeros(*(g.shape + x.shape))
    return result


# --- derivatives with respect to a scalar (tangent mode) --------------------------------------------
def _tangent_rule(node: MatrixExpr, D: dict) -> Jac:
    kind, args = node.kind, node.args  # entrywise parts: see _walk
    ds = [D.get(a) for a in args]
    if kind == "matmul":
        return _sum(chain(args[:i] + (d,) + args[i + 1:]) if d is not None else None
                    for i, d in enumerate(ds))
    if kind == "outer":
        return _sum([outer(ds[0], args[1]) if ds[0] is not None else None,
                     outer(args[0], ds[1]) if ds[1] is not None else None])
    d, x = ds[0], args[0]
    simple = {"transpose": transpose, "sum": sum_, "trace": trace, "diag": diag}
    if kind in simple:
        return simple[kind](d)
    if kind == "norm":
        return mul(sum_(mul(x, d)) if x.ndim == 2 else matmul(x, d), power(node, MINUS_ONE))
    if kind == "det":
        return mul(node, trace(matmul(inv(x), d)))
    if kind == "logdet":
        return trace(matmul(inv(x), d))
    if kind == "inv":
        return negate(chain([node, d, node]))
    if kind == "softmax":
        return mul(node, add(d, negate(matmul(node, d))))
    if kind == "logsumexp":
        return matmul(softmax(x), d)
    raise AssertionError(f"no tangent rule for {kind}")


def _tangent(node: MatrixExpr, d: MatrixExpr, du: Jac) -> Jac:
    """The derivative of an entrywise ``node`` through an operand with derivative ``du`` and
    local derivative ``d``; a vector derivative of a scalar operand is spread over ``node``."""
    if du is None:
        return None
    out = mul(d, du)
    return out if out.shape == node.shape else mul(out, ones(*node.shape))


def derivative_scalar(g: MatrixExpr, s: MatrixExpr) -> MatrixExpr:
    """``dg/ds`` for a scalar symbol ``s``, shaped like ``g``."""
    D: dict[MatrixExpr, Jac] = {s: ONE}
    g, carried, partials_of = _walk(g, s)
    for node in carried:
        if node.kind in ENTRYWISE:
            D[node] = _sum(_tangent(node, d, D.get(u)) for u, d in partials_of(node))
        else:
            D[node] = _tangent_rule(node, D)
    result = D.get(g)
    if result is None:
        return zeros(*g.shape)
    if result.shape != g.shape:  # a scalar derivative of a broadcast formula
        result = mul(result, ones(*g.shape))
    return result


from .stability import reductions  # noqa: E402
