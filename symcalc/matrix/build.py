"""Canonical constructors of the entrywise and linear-algebra nodes.

Each constructor checks the shapes of its operands (a ``ShapeError`` names both operands and
their shapes) and returns the one normal form of the result, written as a person writes it:

* sums, entrywise products, powers and functions are the scalar engine's, entry by entry
  (``symcalc.matrix.entrywise``): its canonical order, folding and collecting, so
  ``x^2 + x + 1`` is ``1 + x + x^2`` for a vector as for a scalar; what is left here is
  broadcasting, ``eye(n)*M -> diag(diag(M))`` and merging ``diag``s;
* a common left or right factor of a sum comes out: ``A.T@u + A.T@v -> A.T@(u + v)``;
* ``@`` chains are flattened with scalars pulled out, ``eye`` dropped, ``diag(u)@v -> u*v``,
  ``x@A -> A.T@x``, and a scalar chain ``u@M@v`` in one fixed orientation (so ``x@y = y@x``);
* transposes are pushed to the leaves: ``(A@B).T -> B.T@A.T``, ``A.T.T -> A``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

from ..errors import DivisionByZeroError
from ..core.hooks import Hooks
from ..core import expr as scalar
from ..functions.registry import Function
from .nodes import METHODS as _NODE_HOOKS
from .entrywise import ENTRYWISE, combine
from .nodes import MINUS_ONE, MatrixExpr, make, number, sort_key
from .shapes import ShapeError, shape_words

# the functions of the linear-algebra constructors that canonical forms produce
# (``outer(x, y)@v -> (y@v)*x``), bound by those modules, which build on this one
_OPS = "symcalc.matrix.ops"
CONSTRUCTORS = Hooks(diag=_OPS, outer=_OPS, sum_=_OPS, eye=_OPS, inv=_OPS, logsumexp=_OPS,
                     transposed="symcalc.matrix.operations", product="symcalc.matrix.operations")
# operands a scalar factor is not taken out of (``s*x + s*y`` is the scalar engine's form)
_NAMED = ENTRYWISE | {"symbol", "ones", "zeros", "number", "constant"}


def describe(node: MatrixExpr) -> str:
    """``A (an m x n matrix)``, for error messages."""
    text = str(node)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({shape_words(node.shape)})"


def broadcast_shape(what: str, operands: Sequence[MatrixExpr]) -> tuple:
    """The common shape of entrywise operands: equal shapes, with scalars broadcast."""
    shaped = [o for o in operands if o.shape]
    for other in shaped[1:]:
        if other.shape != shaped[0].shape:
            raise ShapeError(f"cannot {what} {describe(shaped[0])} and {describe(other)}: "
                             "the shapes differ")
    return shaped[0].shape if shaped else ()


def filled(value, shape: tuple) -> MatrixExpr:
    """A number spread over ``shape``: ``0 -> zeros``, ``c -> c*ones``."""
    if not shape:
        return number(value)
    if value == 0:
        return make("zeros", (), shape)
    return mul(number(value), make("ones", (), shape))


def split_coefficient(term: MatrixExpr) -> tuple[Fraction, MatrixExpr]:
    """``3*u*v -> (3, u*v)``; ``u -> (1, u)``."""
    if term.kind == "mul" and term.args[0].kind == "number":
        rest = term.args[1:]
        shape = broadcast_shape("multiply", rest)
        return Fraction(term.args[0].data), rest[0] if len(rest) == 1 else make("mul", rest, shape)
    return Fraction(1), term


def _scaled(coeff: Fraction, rest: MatrixExpr) -> MatrixExpr:
    if coeff == 1:
        return rest
    if rest.kind == "mul" and any(f.kind == "add" for f in rest.args):
        return mul(number(coeff), rest)  # the coefficient goes into a sum factor
    args = (number(coeff),) + (rest.args if rest.kind == "mul" else (rest,))
    return make("mul", args, rest.shape)


# --- sums ----------------------------------------------------------------------------------------
def add(*terms: MatrixExpr) -> MatrixExpr:
    """The canonical sum (scalars broadcast over a vector or matrix): the scalar engine's sum of
    the terms, entry by entry, then the matrix forms (``diag(u) + diag(v) -> diag(u + v)``, a
    common factor of ``@`` or ``outer`` taken out)."""
    shape = broadcast_shape("add", terms)
    total = combine(scalar.add, terms, shape)
    if total.kind != "add" or not shape:
        return total
    constant = [t for t in total.args if t.kind == "number"]
    pairs = [split_coefficient(t) for t in total.args if t.kind != "number"]
    diagonals = [k for k, (_, r) in enumerate(pairs) if _diagonal(r) is not None]
    if len(diagonals) > 1:  # diag(u) - 2*diag(v) -> diag(u - 2*v)
        vector = add(*(mul(number(pairs[k][0]), *_diagonal(pairs[k][1])) for k in diagonals))
        keep = [_scaled(c, r) for k, (c, r) in enumerate(pairs) if k not in diagonals]
        return add(*keep, CONSTRUCTORS.diag(vector), *constant)
    factored = _factor_out(pairs)
    if factored is not None:
        return add(*factored, *constant)
    return total


def _diagonal(term: MatrixExpr):
    """``s*diag(v) -> (s, v)`` for a diagonal matrix of a vector (with scalar factors), else
    None."""
    scalars, shaped = _shaped_part(term)
    if shaped.kind == "diag" and shaped.ndim == 2:
        return scalars + (shaped.args[0],)
    return None


def _shaped_part(rest: MatrixExpr) -> tuple[tuple, MatrixExpr]:
    """``s*A@x -> ((s,), A@x)``: the scalar factors of a term and the rest."""
    if rest.kind == "mul":
        scalars = tuple(f for f in rest.args if not f.shape)
        shaped = [f for f in rest.args if f.shape]
        if scalars and len(shaped) == 1:
            return scalars, shaped[0]
    return (), rest


def _factor_out(pairs: list[tuple[Fraction, MatrixExpr]]):
    """Terms with a common scalar factor, or a common left (or right) factor of ``@`` or
    ``outer``, gathered: ``A.T@u + A.T@v -> A.T@(u + v)``; None when there are none."""
    parts = [(coeff, *_shaped_part(rest)) for coeff, rest in pairs]
    groups: dict[tuple, list[int]] = {}
    for i, (_, scalars, shaped) in enumerate(parts):
        if scalars and shaped.shape and shaped.kind not in _NAMED:
            groups.setdefault(scalars, []).append(i)
    for scalars, members in groups.items():
        if len(members) > 1:  # s*A + s*B -> s*(A + B)
            inner = add(*(mul(number(parts[i][0]), parts[i][2]) for i in members))
            keep = [_scaled(c, r) for k, (c, r) in enumerate(pairs) if k not in members]
            return keep + [mul(*scalars, inner)]
    for kind, side in (("matmul", 0), ("matmul", -1), ("outer", 0), ("outer", -1)):
        groups = {}
        for i, (_, _, rest) in enumerate(parts):
            if rest.kind == kind and (side == -1 or rest.args[0].ndim == 2 or kind == "outer") \
                    and not _costlier_gathered(rest, side):
                groups.setdefault((rest.args[side], rest.shape), []).append(i)
        for (factor, _), members in groups.items():
            if len(members) < 2:
                continue
            common = {parts[i][0] for i in members}
            common = common.pop() if len(common) == 1 else Fraction(1)  # 2*A@u + 2*A@v -> 2*A@(u + v)
            inner = []
            for i in members:
                coeff, scalars, rest = parts[i]
                others = rest.args[1:] if side == 0 else rest.args[:-1]
                inner.append(mul(number(coeff / common), *scalars, chain(others)))
            if kind == "outer":
                gathered = (CONSTRUCTORS.outer(factor, add(*inner)) if side == 0
                            else CONSTRUCTORS.outer(add(*inner), factor))
            else:
                gathered = matmul(factor, add(*inner)) if side == 0 else matmul(add(*inner), factor)
            gathered = mul(number(common), gathered)
            keep = [_scaled(c, r) for k, (c, r) in enumerate(pairs) if k not in members]
            return keep + [gathered]
    return None


def _costlier_gathered(term: MatrixExpr, side: int) -> bool:
    """Whether taking the vector at the right end of the chain ``term`` out of a sum would leave
    a product of matrices: ``A.T@A@x + B@x`` stays, since ``(A.T@A + B)@x`` multiplies two
    matrices where ``A.T@(A@x)`` multiplies a matrix by vectors."""
    return term.kind == "matmul" and side == -1 and term.ndim == 1 and len(term.args) > 2


def negate(e: MatrixExpr) -> MatrixExpr:
    return mul(MINUS_ONE, e)


# --- entrywise products and powers -----------------------------------------------------------------
def mul(*factors: MatrixExpr) -> MatrixExpr:
    """The canonical entrywise product (scalars broadcast): the scalar engine's product of the
    factors, entry by entry; ``eye(n)*M`` is ``diag(diag(M))``."""
    shape = broadcast_shape("multiply entrywise", factors)
    product = combine(scalar.mul, factors, shape)
    if product.kind == "mul" and any(f.kind == "eye" for f in product.args) \
            and sum(bool(f.shape) for f in product.args) > 1:
        rest = [f for f in product.args if f.kind != "eye"]  # eye(n)*M = diag(diag(M))
        scalars = [f for f in rest if not f.shape]
        shaped = [f for f in rest if f.shape]
        return mul(*scalars, CONSTRUCTORS.diag(CONSTRUCTORS.diag(mul(*shaped))))
    return product


def divide(a: MatrixExpr, b: MatrixExpr) -> MatrixExpr:
    """Entrywise ``a / b``."""
    if b.kind == "number" and b.data == 0 or b.kind == "zeros":
        raise DivisionByZeroError("division by zero")
    return mul(a, power(b, MINUS_ONE))


def power(base: MatrixExpr, exponent: MatrixExpr) -> MatrixExpr:
    """Entrywise ``base ^ exponent`` (the scalar engine's power); the exponent is a scalar."""
    if exponent.shape:
        raise ShapeError(f"the exponent of {describe(base)} must be a scalar, not "
                         f"{describe(exponent)}")
    return combine(scalar.power, (base, exponent), base.shape)


def apply(fn: Function, *args: MatrixExpr) -> MatrixExpr:
    """A scalar registry function, entrywise, as the registry builds it (``logsumexp`` of one
    vector reduces it)."""
    fn.check_arity(len(args))
    if fn.name == "logsumexp" and len(args) == 1 and args[0].shape:
        return CONSTRUCTORS.logsumexp(args[0])
    if fn.name == "logsumexp" and any(a.shape for a in args):
        raise ShapeError("logsumexp of shaped arguments takes one vector: logsumexp(z)")
    shape = broadcast_shape(f"apply {fn.name} to", args)
    return combine(fn, args, shape)


# --- matrix products and transposes ----------------------------------------------------------------
def _row_factors(node: MatrixExpr) -> tuple:
    """The chain of a left operand; a vector result ``M@v`` used as a row becomes ``v@M.T``."""
    if node.kind != "matmul":
        return (node,)
    if node.ndim == 1:
        return tuple(transpose(f) for f in reversed(node.args))
    return node.args


def _common_coefficient(node: MatrixExpr) -> Fraction:
    """The coefficient every term of a sum has (``2*u - 2*v -> 2``, ``-u - v -> -1``), else 1."""
    coeffs = [split_coefficient(t)[0] if t.kind != "number" else None for t in node.args]
    if None in coeffs or len({abs(c) for c in coeffs}) != 1:
        return Fraction(1)
    return abs(coeffs[0]) if any(c > 0 for c in coeffs) else coeffs[0]


def pull_scalars(node: MatrixExpr) -> tuple[list[MatrixExpr], MatrixExpr]:
    """``c*u*v -> ([c], u*v)`` for the scalar factors of an entrywise product; a coefficient
    every term of a sum has comes out too: ``2*u - 2*v -> ([2], u - v)``."""
    if node.kind == "add" and node.shape:
        common = _common_coefficient(node)
        if common == 1:
            return [], node
        return [number(common)], add(*(_scaled(split_coefficient(t)[0] / common,
                                                split_coefficient(t)[1]) for t in node.args))
    if node.kind != "mul" or all(f.shape for f in node.args):
        return [], node
    scalars = [f for f in node.args if not f.shape]
    shaped = [f for f in node.args if f.shape]
    return scalars, shaped[0] if len(shaped) == 1 else make("mul", tuple(shaped), node.shape)


def matmul(a: MatrixExpr, b: MatrixExpr) -> MatrixExpr:
    """The canonical matrix product ``a @ b`` (NumPy's rules for vectors)."""
    if not a.shape or not b.shape:
        scalar_side = a if not a.shape else b
        raise ShapeError(f"@ needs vectors or matrices, but {describe(scalar_side)} is a scalar: "
                         "use * to scale")
    if a.shape[-1] != b.shape[0]:
        raise ShapeError(f"cannot multiply {describe(a)} by {describe(b)}: "
                         f"{a.shape[-1]} != {b.shape[0]}")
    shape = a.shape[:-1] + b.shape[1:]
    if a.kind == "zeros" or b.kind == "zeros":
        return filled(0, shape)
    scalars_a, a = pull_scalars(a)
    scalars_b, b = pull_scalars(b)
    if scalars_a or scalars_b:
        return mul(*scalars_a, *scalars_b, matmul(a, b))
    if a.ndim == 1 and b.ndim == 2:  # x@A -> A.T@x
        return matmul(transpose(b), a)
    simpler = CONSTRUCTORS.product(a, b)  # the operations' own rules: eye@M = M, outer(x, y)@v...
    if simpler is not None:
        return simpler
    return _normal_chain(_row_factors(a) + (b.args if b.kind == "matmul" else (b,)), shape)


def _normal_chain(factors: tuple, shape: tuple) -> MatrixExpr:
    factors = list(factors)
    cancelled = _cancel_inverse(factors)
    if cancelled is not None:  # X@inv(X) -> eye(n),  X.T@inv(X@Y).T -> inv(Y).T
        return chain(cancelled) if cancelled else CONSTRUCTORS.eye(shape[0])
    for k in range(len(factors) - 1):
        if factors[k].kind == "diag" == factors[k + 1].kind and factors[k].ndim == 2 == \
                factors[k + 1].ndim:  # diag(u)@diag(v) -> diag(u*v)
            merged = CONSTRUCTORS.diag(mul(factors[k].args[0], factors[k + 1].args[0]))
            return chain(factors[:k] + [merged] + factors[k + 2:])
    if factors[-1].ndim == 1 and factors[-2].kind == "diag" and factors[-2].args[0].ndim == 1:
        vector = mul(factors[-2].args[0], factors[-1])  # diag(u)@v -> u*v
        return vector if len(factors) == 2 else matmul(chain(factors[:-2]), vector)
    if factors[0].ndim == 1 and factors[1].kind == "diag" and factors[1].args[0].ndim == 1:
        vector = mul(factors[1].args[0], factors[0])
        return vector if len(factors) == 2 else matmul(vector, chain(factors[2:]))
    if not shape:  # u@M@v = v@M.T@u: keep the orientation that sorts first
        flipped = [transpose(f) for f in reversed(factors)]
        if orientation(flipped) < orientation(factors):
            factors = flipped
    return make("matmul", tuple(factors), shape)


def _inverted(f: MatrixExpr):
    """``(factors of P, transposed)`` for ``f = inv(P)`` or ``inv(P).T``; else None."""
    transposed = f.kind == "transpose"
    inner = f.args[0] if transposed else f
    if inner.kind != "inv":
        return None
    p = inner.args[0]
    return list(p.args if p.kind == "matmul" else (p,)), transposed


def _inverse_of(factors: list, transposed: bool) -> list:
    """The factors of ``inv(F1@...@Fk)`` (or its transpose) as a list for a chain."""
    if not factors:
        return []
    inverse = CONSTRUCTORS.inv(chain(factors))
    return [transpose(inverse) if transposed else inverse]


def _cancel_inverse(factors: list):
    """The chain with one factor cancelled against an inverse beside it, or None:
    ``F@inv(P@F) = inv(P)``, ``inv(F@P)@F = inv(P)``, and their transposes.  A product inside
    an inverse is split only when all its factors are square, so each part has an inverse."""
    for k in range(len(factors) - 1):
        a, b = factors[k], factors[k + 1]
        for side, (inside, other) in enumerate(((b, a), (a, b))):
            found = _inverted(inside)
            if found is None:
                continue
            ps, transposed = found
            if len(ps) > 1 and any(p.ndim != 2 or p.shape[0] != p.shape[1] for p in ps):
                continue
            if transposed:  # inv(P).T = inv(P.T), and P.T is the reversed transposes
                ps = [transpose(p) for p in reversed(ps)]
            # other@inv(P): cancels P's last factor;  inv(P)@other: cancels P's first
            edge = ps[-1] if side == 0 else ps[0]
            if other != edge:
                continue
            rest = ps[:-1] if side == 0 else ps[1:]
            if transposed:
                rest = [transpose(p) for p in reversed(rest)]
            return factors[:k] + _inverse_of(rest, transposed) + factors[k + 2:]
    return None


def orientation(factors: Sequence[MatrixExpr]) -> tuple:
    """Fewer transposes first, then the structural order."""
    return (sum(f.kind == "transpose" for f in factors), [sort_key(f) for f in factors])


def chain(factors: Sequence[MatrixExpr]) -> MatrixExpr:
    """``F1@F2@...@Fk`` built left to right."""
    result = factors[0]
    for f in factors[1:]:
        result = matmul(result, f)
    return result


# a transpose goes inside these (and ``inv`` reads its operand's: ``inv(S).T = inv(S)`` for a
# symmetric S)
_PUSHED = ("add", "mul", "pow", "apply", "matmul", "inv")


def transpose(a: MatrixExpr) -> MatrixExpr:
    """``a.T`` pushed to the leaves; vectors and scalars are their own transposes; a tensor's
    axes are reversed (NumPy's ``.T``)."""
    if a.ndim < 2:
        return a
    done: dict[MatrixExpr, MatrixExpr] = {}
    stack = [(a, False)]
    while stack:  # children first, without recursion: formulas may be deeply nested
        node, expanded = stack.pop()
        if node in done:
            continue
        inner = [c for c in node.args if c.ndim >= 2 and c not in done] if node.kind in _PUSHED else []
        if inner and not expanded:
            stack.append((node, True))
            stack.extend((c, False) for c in inner)
            continue
        done[node] = _transpose_one(node, lambda c: done[c] if c.ndim >= 2 else c)
    return done[a]


def transpose_node(a: MatrixExpr, transposed) -> MatrixExpr:
    """``a.T`` with its matrix children's transposes given by ``transposed`` (one step of
    ``transpose``, for passes that transpose many nodes of one graph)."""
    return _transpose_one(a, lambda c: transposed(c) if c.ndim >= 2 else c)


def _transpose_one(a: MatrixExpr, transposed) -> MatrixExpr:
    kind = a.kind
    if kind == "symbol":  # a matrix declared symmetric (or diagonal) is its own transpose
        return a if a.structure else make("transpose", (a,), a.shape[::-1])
    if kind == "add":
        return add(*(transposed(t) for t in a.args))
    if kind == "mul":
        return mul(*(transposed(f) for f in a.args))
    if kind == "pow":
        return power(transposed(a.args[0]), a.args[1])
    if kind == "apply":
        return apply(a.data, *(transposed(x) for x in a.args))
    return CONSTRUCTORS.transposed(a, transposed)  # the operation's rule


_NODE_HOOKS.bind(add=add, negate=negate, mul=mul, divide=divide, power=power, matmul=matmul,
                 transpose=transpose, apply=apply)  # a node's operators
