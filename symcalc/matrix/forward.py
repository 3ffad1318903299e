"""Forward accumulation of Jacobians, for Jacobians of vector-valued formulas and Hessians
(the Jacobian of a gradient: forward over reverse).

For a vector variable ``x`` of size n each node carries its Jacobian as a matrix expression: a
scalar node its gradient (a vector of size n), a vector node of size m an m x n matrix.  A
matrix-valued node ``F`` that depends on ``x`` would carry a 3-index Jacobian; it carries none,
and is differentiated where it is used, with what surrounds it held fixed (``_Through``): ``F@s``,
``diag(F)``, ``trace(F)``, ``logdet(F)``...  have matrix-form Jacobians.  Where none exists (an
entrywise product of two such matrices inside a product), ``NoMatrixFormError`` says so.  For a
scalar variable each node carries its derivative, shaped like the node (tangent mode).
"""

from __future__ import annotations

from typing import Optional

from .adjoint import entrywise_contributions
from .build import add, chain, describe, matmul, mul, transpose
from .convert import ENTRYWISE, Placeholders, entrywise_starts, operand_partials
from .nodes import ONE, MatrixExpr, postorder
from .operations import OPERATIONS
from .ops import diag, eye, ones, outer, zeros
from .shapes import NoMatrixFormError
from .stability import reductions

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


def _vector_rule(node: MatrixExpr, J: dict, through) -> Jac:
    """The Jacobian of a node that is not entrywise; ``through(F, s)`` is the Jacobian of
    ``F@s`` for a matrix ``F`` that depends on the variable and a vector ``s`` held fixed."""
    kind, args = node.kind, node.args  # entrywise parts: see _walk
    if kind == "matmul":
        return _chain_rule(args, J, through)
    rule = OPERATIONS[kind].jacobian
    if rule is not None:
        return rule(node, J, through)
    x = args[0]
    if x.ndim == 2:
        raise NoMatrixFormError(f"no matrix-form Jacobian of {kind} of {describe(x)}, which "
                                "depends on the variable")
    raise NoMatrixFormError(f"no matrix-form Jacobian through {kind}")


def _chain_rule(factors: tuple, J: dict, through, fixed: bool = False) -> Jac:
    """The Jacobian of a chain ``F1@...@Fk`` whose value is a vector (its last factor a vector)
    or a scalar (``u@M@v``): the sum over the factors that depend on the variable, each with the
    others held fixed; a matrix factor ``F`` between ``P`` and ``s`` gives ``P@J(F@s)``.  With
    ``fixed``, the vector at the right end is held fixed."""
    row, last = factors[0].ndim == 1, len(factors) - 1
    parts = []
    for i, f in enumerate(factors):
        if not f.free_symbols & through.variables or fixed and i == last:
            continue
        if f.ndim == 2:
            before, after = factors[:i], factors[i + 1:]
            local = through(f, chain(after))
            parts.append(matmul(chain(before), local) if before else local)
        else:  # a vector at an end of the chain
            others = factors[1:] if i == 0 else factors[:-1]
            if row:  # a scalar u@M@v: the gradient
                parts.append(matmul(transpose(through.jacobian(f)), chain(others)))
            else:
                parts.append(matmul(chain(others), through.jacobian(f)))
    return _sum(parts)


def _through_diagonal(D: Optional[MatrixExpr], P: tuple, j: MatrixExpr, Q: tuple,
                      s: MatrixExpr) -> MatrixExpr:
    """The Jacobian of ``(D*(P@diag(v)@Q))@s`` for a vector ``v`` with Jacobian ``j``:
    ``(P*(D@diag(s)@Q.T))@j``, or ``P@diag(Q@s)@j`` without a mask."""
    if D is None:
        return chain(P + (diag(matmul(chain(Q), s) if Q else s), j))
    weights = chain((D, diag(s)) + tuple(transpose(f) for f in reversed(Q)))
    return matmul(mul(chain(P), weights) if P else diag(diag(weights)), j)


class _Through:
    """Jacobians through a matrix ``F`` that depends on the variable, all from one rule:
    ``masked(D, P, F, Q, s)`` is the Jacobian of ``(D*(P@F@Q))@s`` with the mask ``D`` (None:
    no mask), the factors ``P`` and ``Q`` and the vector ``s`` held fixed.  Then ``F@s`` is
    ``masked(None, (), F, (), s)``, ``diag(F)`` is ``(eye*F)@ones`` and ``sum(W*F)`` is
    ``ones@(W*F)@ones``.  The results are sums of outer products, scaled rows and matrix
    products: ``(c*A)@s`` gives ``outer(A@s, grad c)``, ``outer(a, b)@s`` gives
    ``(b@s)*J_a + outer(a, J_b.T@s)``, ``inv(M)@s`` gives ``-inv(M)@J(M@(inv(M)@s))``."""

    def __init__(self, x: MatrixExpr, J: dict, partials_of) -> None:
        self.x, self.J, self.partials_of = x, J, partials_of
        self.variables = frozenset((x,))

    def jacobian(self, u: MatrixExpr) -> Jac:
        """The Jacobian of a scalar or vector node (its gradient for a scalar)."""
        if self.x not in u.free_symbols:
            return None
        if u not in self.J:
            self.J[u] = jacobian_vector(u, self.x)
        return self.J[u]

    def __call__(self, F: MatrixExpr, s: MatrixExpr) -> Jac:
        """The Jacobian of ``F@s``, ``s`` held fixed."""
        return self.masked(None, (), F, (), s)

    def diagonal(self, F: MatrixExpr) -> Jac:
        """The Jacobian of ``diag(F)``, the diagonal as a vector."""
        n = F.shape[0]
        return self.masked(eye(n), (), F, (), ones(n))

    def weighted(self, W: MatrixExpr, F: MatrixExpr) -> Jac:
        """The gradient of ``sum(W*F)``, ``W`` held fixed."""
        j = self.masked(W, (), F, (), ones(F.shape[1]))
        return None if j is None else matmul(transpose(j), ones(F.shape[0]))

    def masked(self, D: Optional[MatrixExpr], P: tuple, F: MatrixExpr, Q: tuple,
               s: MatrixExpr) -> Jac:
        """The Jacobian of ``(D*(P@F@Q))@s`` with ``D``, ``P``, ``Q`` and ``s`` held fixed."""
        if self.x not in F.free_symbols:
            return None
        kind, args = F.kind, F.args
        apply = lambda M: matmul(M if D is None else mul(D, M), s)  # noqa: E731
        if kind in ENTRYWISE:
            parts = []
            for u, e in self.partials_of(F):
                if not u.shape:  # d(P@F@Q) = du*P@e@Q
                    j = self.jacobian(u)
                    e = e if e.shape else mul(e, ones(*F.shape))
                    parts.append(None if j is None else outer(apply(chain(P + (e,) + Q)), j))
                elif not e.shape:
                    inner = self.masked(D, P, u, Q, s)
                    parts.append(None if inner is None else mul(e, inner))
                elif u.kind == "diag" and u.ndim == 2:  # e*diag(dv) = diag(diag(e)*dv)
                    j = self.jacobian(u.args[0])
                    parts.append(None if j is None else
                                 _through_diagonal(D, P, matmul(diag(diag(e)), j), Q, s))
                elif u.kind == "outer":  # e*outer(da, b) = diag(da)@e@diag(b)
                    a, b = u.args
                    ja, jb = self.jacobian(a), self.jacobian(b)
                    parts += [None if ja is None else
                              _through_diagonal(D, P, ja, (e, diag(b)) + Q, s),
                              None if jb is None else
                              _through_diagonal(D, P + (diag(a), e), jb, Q, s)]
                elif not P and not Q:  # D*(e*dU) = (D*e)*dU
                    parts.append(self.masked(e if D is None else mul(D, e), (), u, (), s))
                else:
                    raise NoMatrixFormError(f"no matrix-form Jacobian through the entrywise "
                                            f"product of {describe(e)} and {describe(u)}")
            return _sum(parts)
        if kind == "matmul":
            return _sum(self.masked(D, P + args[:i], f, args[i + 1:] + Q, s)
                        for i, f in enumerate(args))
        rule = OPERATIONS[kind].through if kind in OPERATIONS else None
        if rule is not None:  # the operation's own: diag, outer, inv, ...
            return rule(self, D, P, F, Q, s)
        raise NoMatrixFormError(f"no matrix-form Jacobian through {describe(F)}")

    def via_diagonal(self, D: Optional[MatrixExpr], P: tuple, j: MatrixExpr, Q: tuple,
                     s: MatrixExpr) -> MatrixExpr:
        """The Jacobian of ``(D*(P@diag(v)@Q))@s`` for a vector ``v`` with Jacobian ``j``."""
        return _through_diagonal(D, P, j, Q, s)


def _walk(g: MatrixExpr, *xs: MatrixExpr):
    """The stable form of ``g`` (``symcalc.matrix.stability.reductions``), the nodes whose
    derivative is carried (those that depend on one of ``xs``), in order, and a function giving
    the operands of an entrywise part with their partial derivatives from the scalar engine:
    each maximal entrywise part is one operation, so derivatives read as the scalar engine
    writes them."""
    g = reductions([g])[0]
    order = list(postorder([g]))
    starts, placeholders = entrywise_starts(order, [g]), Placeholders()
    variables = frozenset(xs)
    wanted = lambda u: not variables.isdisjoint(u.free_symbols)  # noqa: E731
    carried = [n for n in order if n not in variables and n.args and wanted(n)
               and (n.kind not in ENTRYWISE or n in starts)]
    return g, carried, lambda node: operand_partials(node, placeholders, wanted)


def jacobian_vector(g: MatrixExpr, x: MatrixExpr) -> MatrixExpr:
    """``dg/dx`` for a scalar or vector ``g`` and a vector symbol ``x``: shape ``g.shape + x.shape``."""
    J: dict[MatrixExpr, Jac] = {x: eye(x.shape[0])}
    g, carried, partials_of = _walk(g, x)
    through = _Through(x, J, partials_of)
    for node in carried:
        if node.ndim == 2:  # its Jacobian is a 3-index tensor: taken where it multiplies a vector
            continue
        if node.kind in ENTRYWISE:
            J[node] = _sum(_scaled(node, d, u, J.get(u)) for u, d in partials_of(node))
        else:
            J[node] = _vector_rule(node, J, through)
    result = J.get(g)
    if result is None:
        return zeros(*(g.shape + x.shape))
    return result


# --- derivatives with respect to a scalar (tangent mode) --------------------------------------------
def _tangent_rule(node: MatrixExpr, D: dict) -> Jac:
    return OPERATIONS[node.kind].tangent(node, [D.get(a) for a in node.args])


def _tangent(node: MatrixExpr, d: MatrixExpr, du: Jac) -> Jac:
    """The derivative of an entrywise ``node`` through an operand with derivative ``du`` and
    local derivative ``d``; a vector derivative of a scalar operand is spread over ``node``."""
    if du is None:
        return None
    out = mul(d, du)
    return out if out.shape == node.shape else mul(out, ones(*node.shape))


def derivative_scalar(g: MatrixExpr, s: MatrixExpr) -> MatrixExpr:
    """``dg/ds`` for a scalar symbol ``s``, shaped like ``g``."""
    return tangent(g, {s: ONE})


def tangent(g: MatrixExpr, seeds: dict[MatrixExpr, MatrixExpr]) -> MatrixExpr:
    """The derivative of ``g`` along the direction ``seeds`` (each symbol's tangent, shaped like
    the symbol), shaped like ``g``: with ``{s: 1}`` it is ``dg/ds``, with ``{x: v}`` the
    Jacobian-vector product ``J v``.  One forward sweep, whatever the shapes."""
    D: dict[MatrixExpr, Jac] = dict(seeds)
    g, carried, partials_of = _walk(g, *seeds)
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



# --- one operation at a time, for step-by-step derivations ---------------------------------------
def local_partials(node: MatrixExpr, wanted) -> list[tuple[MatrixExpr, MatrixExpr]]:
    """``(u, dnode/du)`` for each operand ``u`` of the single entrywise operation ``node`` that
    ``wanted`` accepts (an operand met twice, twice): the rules of a textbook, one operation at a
    time (``symcalc.matrix.adjoint``'s, with the adjoint 1)."""
    return list(entrywise_contributions(node, ONE, wanted))


def operation_jacobian(node: MatrixExpr, x: MatrixExpr, J: dict) -> Jac:
    """The Jacobian of the single operation ``node`` by the vector symbol ``x``, from the
    Jacobians ``J`` of its operands (scalar and vector nodes; a missing one is computed, None is
    zero): the step of a forward sweep.  ``J`` may hold placeholders for the operands'
    Jacobians, which gives the rule in textbook form (``J(v2) = diag(...)@J(v1)``).  A matrix
    operand that depends on ``x`` is differentiated through, where this operation uses it."""
    wanted = lambda u: x in u.free_symbols  # noqa: E731
    placeholders = Placeholders()
    through = _Through(x, J, lambda F: operand_partials(F, placeholders, wanted))
    if node.kind in ENTRYWISE:
        return _sum(_scaled(node, d, u, through.jacobian(u))
                    for u, d in local_partials(node, wanted))
    return _vector_rule(node, J, through)


def operation_tangent(node: MatrixExpr, s: MatrixExpr, D: dict) -> Jac:
    """The derivative of the single operation ``node`` by the scalar symbol ``s``, shaped like
    ``node``, from the derivatives ``D`` of its operands (None or missing: zero): the step of
    a forward sweep in tangent mode.  ``D`` may hold placeholders (``d(v2) = ...@d(v1)``)."""
    wanted = lambda u: s in u.free_symbols  # noqa: E731
    if node.kind in ENTRYWISE:
        return _sum(_tangent(node, d, D.get(u)) for u, d in local_partials(node, wanted))
    return _tangent_rule(node, D)
