"""Derivatives whose value is a tensor: a matrix by a matrix, a vector by a matrix, a matrix by
a vector, the Hessian in a matrix parameter.

The forward sweep (``symcalc.matrix.forward.tangent``) gives the derivative of ``F`` along a
direction ``dX`` as a matrix formula that is linear in ``dX``: ``A@dX@B``, ``s*dX``,
``sigmoid'(X@W)*(X@dW)``, ``trace(inv(X)@dX)``...  Reading that formula node by node, each node
``u`` that depends on ``dX`` gets the index expression ``T_u`` of shape ``u.shape + X.shape``
with ``u = T_u : dX`` (contracted over the axes of ``dX``): ``dX`` itself is ``δ_ik δ_jl``, a
product ``A@u@B`` contracts ``T_u`` with ``A`` and ``B``, an entrywise product ``c*u`` shares
the indices of ``c`` and ``u`` (a diagonal tensor), a transpose swaps two indices, ``sum`` and
``trace`` sum them.  ``T_F`` is the Jacobian, in the normal form of ``symcalc.matrix.tensor``.
"""

from __future__ import annotations

from typing import Optional

from ..errors import SymcalcError
from .build import add, chain, mul, power
from .forward import tangent
from .nodes import MINUS_ONE, MatrixExpr, postorder
from .numpy_ops import count
from .ops import eye, ones, symbol
from .tensor import LETTERS, contract, parse_subscripts, tensor_symbol
from .shapes import NoMatrixFormError

Tensor = Optional[MatrixExpr]  # None: zero


def direction(x: MatrixExpr, *avoid: MatrixExpr) -> MatrixExpr:
    """A symbol shaped like ``x`` that none of ``avoid`` mentions (``dX``, ``dX1``...)."""
    taken = {s.data for node in avoid for s in node.free_symbols} | {x.data}
    name, k = f"d{x.data}", 1
    while name in taken:
        name, k = f"d{x.data}{k}", k + 1
    return symbol(name, x.shape) if x.ndim <= 2 else tensor_symbol(name, x.shape)


def _letters(count: int, taken: str) -> str:
    return "".join([c for c in LETTERS if c not in taken][:count])


class _Linear:
    """The tensors ``T_u`` of the nodes of a formula linear in ``d``."""

    def __init__(self, d: MatrixExpr):
        self.d = d
        self.K = LETTERS[-d.ndim:] if d.ndim else ""  # the direction's indices: ...XYZ
        self.T: dict[MatrixExpr, Tensor] = {}

    def own(self, count: int) -> str:
        """``count`` indices for a node's own axes, apart from the direction's."""
        return _letters(count, self.K)

    def identity(self) -> MatrixExpr:
        d, K = self.d, self.K
        own = self.own(d.ndim)
        return contract([(eye(n), a + k) for n, a, k in zip(d.shape, own, K)], own + K)

    def visit(self, node: MatrixExpr) -> Tensor:
        if node is self.d:
            return self.identity()
        if self.d not in node.free_symbols:
            return None
        kind, args, T, K = node.kind, node.args, self.T, self.K
        own = self.own(node.ndim)
        if kind == "add":
            if any(T.get(a) is None for a in args):
                raise _nonlinear(node)
            return add(*(T[a] if a.shape == node.shape else  # a scalar spread over the node
                         contract([(ones(*node.shape), own), (T[a], K)], own + K) for a in args))
        if kind == "mul":
            moving = [a for a in args if T.get(a) is not None]
            if len(moving) != 1:
                raise _nonlinear(node)
            u = moving[0]
            rest = [a for a in args if a is not u]
            c = mul(*rest) if rest else None
            if c is None or (not c.shape and u.shape == node.shape):
                return mul(c, T[u]) if c is not None else T[u]
            if u.shape == node.shape:
                return contract([(c, own), (T[u], own + K)], own + K)
            if c.shape != node.shape:
                c = mul(c, ones(*node.shape))
            return contract([(c, own), (T[u], K)], own + K)
        if kind == "matmul":
            moving = [k for k, f in enumerate(args) if T.get(f) is not None]
            if len(moving) != 1 or any(self.d in f.free_symbols for k, f in enumerate(args)
                                       if k != moving[0]):
                raise _nonlinear(node)
            return self.chain(args, moving[0], own)
        if kind == "transpose":  # the axes reversed
            return contract([(T[args[0]], own[::-1] + K)], own + K)
        if kind == "sum":
            inner = self.own(args[0].ndim)
            return contract([(T[args[0]], inner + K)], K)
        if kind in ("sum_axis", "mean"):  # a sum of entries (or of each line), scaled for a mean
            x = args[0]
            inner = self.own(x.ndim)
            if node.data is None or x.ndim == 1:
                summed, counted = contract([(T[x], inner + K)], K), x.shape
            else:
                kept = inner[1 - node.data]
                summed, counted = contract([(T[x], inner + K)], kept + K), x.shape[node.data:][:1]
            return summed if kind == "sum_axis" else mul(summed, power(count(counted), MINUS_ONE))
        if kind == "trace":
            return contract([(T[args[0]], "aa" + K)], K)
        if kind == "diag":
            if args[0].ndim == 1:
                a, b = own
                return contract([(T[args[0]], a + K), (eye(node.shape[0]), a + b)], own + K)
            return contract([(T[args[0]], own[0] * 2 + K)], own + K)
        if kind == "outer":
            a, b = args
            if (T.get(a) is None) == (T.get(b) is None):
                raise _nonlinear(node)
            if T.get(a) is not None:
                return contract([(T[a], own[0] + K), (b, own[1])], own + K)
            return contract([(a, own[0]), (T[b], own[1] + K)], own + K)
        if kind == "einsum":
            inputs, output = parse_subscripts(node.data, len(args))
            moving = [k for k, a in enumerate(args) if T.get(a) is not None]
            if len(moving) != 1 or any(self.d in a.free_symbols for k, a in enumerate(args)
                                       if k != moving[0]):
                raise _nonlinear(node)
            rename = {c: x for c, x in zip(sorted(set("".join(inputs))),
                                           _letters(len(set("".join(inputs))), K))}
            terms = [(T[a] if k == moving[0] else a,
                      "".join(rename[c] for c in s) + (K if k == moving[0] else ""))
                     for k, (a, s) in enumerate(zip(args, inputs))]
            return contract(terms, "".join(rename[c] for c in output) + K)
        raise NoMatrixFormError(f"no index form of the derivative through {kind}")

    def chain(self, factors: tuple, k: int, own: str) -> MatrixExpr:
        """``T`` of ``P@F@Q`` whose factor ``F`` depends on the direction: ``P`` and ``Q`` (the
        chains before and after it) stay matrix products, computed once."""
        before, f, after = factors[:k], factors[k], factors[k + 1:]
        letters = iter(own)
        terms = []
        if f.ndim == 2:
            left = "a" if before else next(letters)
            right = "b" if after else None
            if before:
                p = chain(before)
                terms.append((p, (next(letters) if p.ndim == 2 else "") + left))
            mid = left + (right or next(letters))
            terms.append((self.T[f], mid + self.K))
            if after:
                q = chain(after)
                terms.append((q, right + (next(letters) if q.ndim == 2 else "")))
        else:  # a vector at an end: the rest of the chain is a matrix (or a vector: a scalar)
            rest = chain(before or after)
            if rest.ndim == 1:
                terms = [(rest, "a"), (self.T[f], "a" + self.K)]
            elif before:  # P@f
                terms = [(rest, next(letters) + "a"), (self.T[f], "a" + self.K)]
            else:  # f@Q
                terms = [(self.T[f], "a" + self.K), (rest, "a" + next(letters))]
        return contract(terms, own + self.K)


def _nonlinear(node: MatrixExpr) -> SymcalcError:
    return SymcalcError(f"internal: the derivative {node} is not linear in its direction")


def linear_tensor(e: MatrixExpr, d: MatrixExpr) -> MatrixExpr:
    """The tensor ``T`` (shape ``e.shape + d.shape``) with ``e = T : d`` for ``e`` linear in
    ``d``."""
    from .build import filled
    walker = _Linear(d)
    for node in postorder([e], done=lambda n: walker.d not in n.free_symbols):
        walker.T[node] = walker.visit(node)
    result = walker.T.get(e)
    return filled(0, e.shape + d.shape) if result is None else result


def tensor_jacobian(g: MatrixExpr, x: MatrixExpr) -> MatrixExpr:
    """``dg/dx`` of shape ``g.shape + x.shape`` as an index expression (or its matrix form)."""
    d = direction(x, g)
    return linear_tensor(tangent(g, {x: d}), d)
