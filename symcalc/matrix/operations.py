"""The operations of the matrix layer, one record each: everything the other modules need to
know about an operation, in one place.

A record (``Operation``) holds the operation's name (the ``kind`` of its nodes), its arity, its
shape rule, its canonical constructor, its adjoint (reverse) rule, its tangent (forward) rule, its
Jacobian rule where a matrix-form one exists, its NumPy and JAX forms, its text and LaTeX forms,
its unrolling into scalar entries, how a transpose passes through it (``build.transpose``
pushes transposes to the leaves) and the name of its rule in a step-by-step derivation; where
they apply, also how the canonical product simplifies with it (``product``), whether it is linear
in its operands (``linear``, for the stable forms), whether a product applies it without building
it (``applied``, ``in_product``: scaled rows, ``np.linalg.solve``) and the LaTeX of its
transpose.  The modules keep their own algorithms (the reverse sweep in ``adjoint``, the forward
sweep in ``forward``, precedence and chains in ``printing`` and ``compile``) and read the
per-operation facts here.  The entrywise kinds (``add``, ``mul``, ``pow``, ``apply``) are the scalar engine's
operations and the leaves ``symbol``, ``number``, ``constant`` name values; neither is here.

``OPERATIONS`` maps each kind to its record; ``FUNCTIONS`` maps the names a formula may call
(``sum``, ``eye``, ``dot``, ...) to their constructors.
"""

from __future__ import annotations

import re
from fractions import Fraction
from dataclasses import dataclass, fields, replace
from typing import Callable, Iterator, Mapping, Optional

import numpy as np

from ..core import expr as scalar
from ..functions.elementary import REGISTRY
from . import build, entries, numpy_ops, tensor
from .build import add, chain, matmul, mul, negate, power, transpose
from .nodes import MINUS_ONE, MatrixExpr, make, number
from .ops import (det, diag, dot, eye, inv, logdet, logsumexp, norm, ones, outer, softmax,
                  sum_, trace, zeros)
from .shapes import NoMatrixFormError, Shape, ShapeError

# precedence of printed text, loosest first (shared by the text, LaTeX and NumPy printers)
SUM, PRODUCT, UNARY, POWER, ATOM = 1, 2, 3, 4, 5

VARIADIC = -1  # the arity of a chain F1@F2@...


@dataclass(frozen=True)
class Form:
    """How an operation is written: ``pattern`` with ``{0}``, ``{1}`` for the operands' text
    (or ``{dims}``, ``{0}`` for a leaf's sizes), each operand parenthesized when its precedence
    is below ``operands[i]`` (0: never), the whole of precedence ``precedence``; a variadic
    operation joins its operands with ``sep``."""

    pattern: str
    operands: tuple[int, ...] = ()
    precedence: int = ATOM
    sep: Optional[str] = None
    # a form that depends on the node's data (einsum's subscripts): (texts, paren, node) -> text
    custom: Optional[Callable[..., tuple[str, int]]] = None

    def write(self, texts: list[tuple[str, int]], paren: Callable[[str], str],
              node: Optional[MatrixExpr] = None) -> tuple[str, int]:
        """The text from the operands' (text, precedence) pairs; ``paren`` wraps a text;
        ``node`` is the node written: a custom form reads it (einsum's subscripts), and its
        ``data`` (an axis, an exponent) fills ``{data}``; ``{axis}`` is ``, axis=1`` (``""``
        without an axis) and ``{tex_axis}`` its LaTeX."""
        if self.custom is not None:
            return self.custom(texts, paren, node)
        data = None if node is None else node.data
        needs = self.operands or (0,)
        parts = [paren(t) if p < needs[min(i, len(needs) - 1)] else t
                 for i, (t, p) in enumerate(texts)]
        if self.sep is not None:
            return self.sep.join(parts), self.precedence
        axis = "" if data is None else f", axis={data}"
        tex_axis = "" if data is None else f", \\mathrm{{axis}}={data}"
        return self.pattern.format(*parts, data=data, axis=axis, tex_axis=tex_axis), self.precedence

    def leaf(self, dims: list[str]) -> tuple[str, int]:
        """The text of a leaf from its sizes' texts."""
        return (self.pattern.format(*dims, dims=", ".join(dims), times=" \\times ".join(dims)),
                self.precedence)


@dataclass(frozen=True)
class InProduct:
    """How generated code multiplies an operation's matrix into a product without building it.
    Each form writes ``{0}`` for the operand's text and ``{1}`` for the text of the rest of the
    product: ``left`` when the matrix comes first and the rest is a matrix, ``left_of_vector``
    when the rest is a vector, ``right`` when the matrix comes last, ``transposed`` when its
    transpose comes first.  None: that position is an ordinary ``@``."""

    left: Form
    left_of_vector: Form
    right: Optional[Form] = None
    transposed: Optional[Form] = None


@dataclass(frozen=True)
class ProductRule:
    """How the canonical product ``a@b`` simplifies when the operation is a factor: ``left(a,
    b)`` when it is ``a``, ``right(a, b)`` when it is ``b``; each returns the simpler form, or
    None when there is none for these operands (``outer(x, y)@v -> (y@v)*x``)."""

    left: Optional[Callable[[MatrixExpr, MatrixExpr], Optional[MatrixExpr]]] = None
    right: Optional[Callable[[MatrixExpr, MatrixExpr], Optional[MatrixExpr]]] = None


Contributions = Iterator[tuple[MatrixExpr, MatrixExpr]]
Wanted = Callable[[MatrixExpr], bool]


@dataclass(frozen=True)
class Operation:
    """One operation of the matrix layer (see the module's docstring for the fields)."""

    name: str
    arity: int  # operands; VARIADIC for a chain, 0 for a leaf
    shape: Callable[..., Shape]  # operand shapes -> result shape (a leaf: its sizes -> shape)
    build: Callable[..., MatrixExpr]  # the canonical constructor, on operands (a leaf: sizes)
    adjoint: Callable[[MatrixExpr, MatrixExpr, Wanted], Contributions]
    tangent: Callable[[MatrixExpr, list], Optional[MatrixExpr]]
    jacobian: Optional[Callable[[MatrixExpr, dict, object], Optional[MatrixExpr]]]
    numpy: Form  # "np" is NumPy, "_mrt" symcalc.matrix.runtime
    jax: Form  # "jnp" is jax.numpy, "_mrt" symcalc.matrix.jax_runtime
    text: Form
    latex: Form
    unroll: Callable[[MatrixExpr, list, tuple], np.ndarray]  # node, operand entries, shape
    transposed: Callable[[MatrixExpr, Callable], MatrixExpr]  # node, children's transposes -> .T
    step: str  # the rule's name in a derivation
    reuse: bool = False  # costly: computed once in generated code when used twice
    latex_of_matrix: Optional[Form] = None  # LaTeX when the operand is a matrix, if it differs
    with_data: bool = False  # shape and build take the node's data first (einsum's subscripts)
    # each operand enters linearly: op(..., c*u, ...) = c*op(..., u, ...) for a scalar c, so a
    # scalar factor moves through it (symcalc.matrix.stability)
    linear: bool = False
    # a matrix that a product never builds: the normal form or the code applies it (a diagonal
    # scales rows, an outer product is two vector products, the identity vanishes), so a product
    # through a sum of such terms is written term by term (symcalc.matrix.compile)
    applied: bool = False
    # LaTeX of the node's transpose, on the node's operands, where it has its own (X^{-\top})
    latex_transposed: Optional[Form] = None
    # a matrix the code applies inside a product instead of building it (symcalc.matrix.compile):
    # diag(u)@M is u[:, None] * M, inv(X)@b is np.linalg.solve(X, b)
    in_product: Optional[InProduct] = None
    # how the canonical constructor simplifies a product with it (symcalc.matrix.build.matmul)
    product: Optional[ProductRule] = None
    # the Jacobian of (D*(P@F@Q))@s for a matrix F of this operation that depends on the vector
    # variable, D (a mask or None), P, Q and s held fixed: (through, D, P, F, Q, s) -> Jacobian,
    # with through (symcalc.matrix.forward._Through) for the Jacobians of F's operands
    through: Optional[Callable[..., Optional[MatrixExpr]]] = None

    def latex_for(self, args: tuple) -> Form:
        """The LaTeX form for these operands (``\\|A\\|_F``: a matrix's norm is Frobenius')."""
        if self.latex_of_matrix is not None and args and args[0].ndim == 2:
            return self.latex_of_matrix
        return self.latex


OPTIONAL = ("jacobian", "reuse", "latex_of_matrix", "with_data", "linear", "applied",
            "latex_transposed", "in_product", "product", "through")
REQUIRED = tuple(f.name for f in fields(Operation) if f.name not in OPTIONAL)


# --- shape rules ----------------------------------------------------------------------------------
def _need(name: str, shape: Shape, ndims: tuple) -> None:
    if len(shape) not in ndims:
        raise ShapeError(f"{name} needs {' or '.join(map(str, ndims))} dimensions, not {shape}")


def _square(name: str, shape: Shape) -> None:
    _need(name, shape, (2,))
    if shape[0] != shape[1]:
        raise ShapeError(f"{name} needs a square matrix, not {shape}")


def _to_scalar(name: str, ndims: tuple = (1, 2), square: bool = False) -> Callable[..., Shape]:
    def rule(shape: Shape) -> Shape:
        (_square if square else lambda n, s: _need(n, s, ndims))(name, shape)
        return ()
    return rule


def _inv_shape(shape: Shape) -> Shape:
    _square("inv", shape)
    return shape


def _diag_shape(shape: Shape) -> Shape:
    _need("diag", shape, (1, 2))
    if len(shape) == 2:
        _square("diag", shape)
        return shape[:1]
    return (shape[0], shape[0])


def _outer_shape(x: Shape, y: Shape) -> Shape:
    _need("outer", x, (1,))
    _need("outer", y, (1,))
    return (x[0], y[0])


def _softmax_shape(shape: Shape) -> Shape:
    _need("softmax", shape, (1,))
    return shape


def _transpose_shape(shape: Shape) -> Shape:
    return tuple(reversed(shape))


def _matmul_shape(*shapes: Shape) -> Shape:
    out = shapes[0]
    for s in shapes[1:]:
        if not out or not s or out[-1] != s[0]:
            raise ShapeError(f"cannot multiply {out} by {s}")
        out = out[:-1] + s[1:]
    return out


# --- adjoint rules: (node, its adjoint, wanted) -> (operand, contribution) ----------------------
def _no_operands(node: MatrixExpr, *_) -> Iterator:
    return iter(())


def _gradient_rule(gradient: Callable[[MatrixExpr], MatrixExpr]):
    """The adjoint rule of a scalar function of one operand, from its gradient."""
    def rule(node: MatrixExpr, bar: MatrixExpr, wanted: Wanted) -> Contributions:
        yield node.args[0], mul(bar, gradient(node))
    return rule


def _sum_gradient(node: MatrixExpr) -> MatrixExpr:
    return ones(*node.args[0].shape)


def _trace_gradient(node: MatrixExpr) -> MatrixExpr:
    return eye(node.args[0].shape[0])


def _det_gradient(node: MatrixExpr) -> MatrixExpr:
    return mul(node, transpose(inv(node.args[0])))


def _logdet_gradient(node: MatrixExpr) -> MatrixExpr:
    return transpose(inv(node.args[0]))


def _norm_gradient(node: MatrixExpr) -> MatrixExpr:
    return mul(node.args[0], power(node, MINUS_ONE))


def _logsumexp_gradient(node: MatrixExpr) -> MatrixExpr:
    return softmax(node.args[0])


def _matmul_adjoint(node: MatrixExpr, bar: MatrixExpr, wanted: Wanted) -> Contributions:
    """``C = F1@...@Fk``: ``F̄i = P.T@C̄@S.T`` with P, S the factors before and after Fi; a
    vector at an end of the chain is a row (first) or a column (last)."""
    factors = node.args
    row, col = factors[0].ndim == 1, factors[-1].ndim == 1
    last = len(factors) - 1
    for i, f in enumerate(factors):
        if not wanted(f):
            continue
        before, after = factors[:i], factors[i + 1:]
        if i == 0 and row:
            yield f, mul(bar, chain(after))
        elif i == last and col:
            yield f, mul(bar, chain(before)) if row else matmul(transpose(chain(before)), bar)
        elif row and col:
            yield f, mul(bar, outer(chain(before), chain(after)))
        elif col:
            left = matmul(transpose(chain(before)), bar) if before else bar
            yield f, outer(left, chain(after))
        else:
            parts = ([transpose(chain(before))] if before else []) + [bar] + (
                [transpose(chain(after))] if after else [])
            yield f, chain(parts)


def _transpose_adjoint(node: MatrixExpr, bar: MatrixExpr, wanted: Wanted) -> Contributions:
    yield node.args[0], transpose(bar)


def _inv_adjoint(node: MatrixExpr, bar: MatrixExpr, wanted: Wanted) -> Contributions:
    yield node.args[0], negate(chain([transpose(node), bar, transpose(node)]))


def _softmax_adjoint(node: MatrixExpr, bar: MatrixExpr, wanted: Wanted) -> Contributions:
    yield node.args[0], mul(node, add(bar, negate(matmul(node, bar))))


def _diag_adjoint(node: MatrixExpr, bar: MatrixExpr, wanted: Wanted) -> Contributions:
    yield node.args[0], diag(bar)


def _outer_adjoint(node: MatrixExpr, bar: MatrixExpr, wanted: Wanted) -> Contributions:
    x, y = node.args
    if wanted(x):  # a row sum for a vector spread over the rows: bar@ones is sum(bar, axis=1)
        yield x, numpy_ops.sum_axis(bar, 1) if y.kind == "ones" else matmul(bar, y)
    if wanted(y):
        yield y, numpy_ops.sum_axis(bar, 0) if x.kind == "ones" else matmul(transpose(bar), x)


# --- tangent rules: (node, the operands' derivatives, None for zero) -> the node's --------------
def _sum_of(parts) -> Optional[MatrixExpr]:
    parts = [p for p in parts if p is not None]
    return add(*parts) if parts else None


def _no_tangent(node: MatrixExpr, ds: list) -> None:
    return None


def _linear(fn: Callable[[MatrixExpr], MatrixExpr]):
    """The tangent rule of a linear operation: the operation of the derivative."""
    return lambda node, ds: fn(ds[0])


def _matmul_tangent(node: MatrixExpr, ds: list) -> Optional[MatrixExpr]:
    args = node.args
    return _sum_of(chain(args[:i] + (d,) + args[i + 1:]) if d is not None else None
                   for i, d in enumerate(ds))


def _outer_tangent(node: MatrixExpr, ds: list) -> Optional[MatrixExpr]:
    x, y = node.args
    return _sum_of([outer(ds[0], y) if ds[0] is not None else None,
                    outer(x, ds[1]) if ds[1] is not None else None])


def _norm_tangent(node: MatrixExpr, ds: list) -> MatrixExpr:
    x, d = node.args[0], ds[0]
    return mul(sum_(mul(x, d)) if x.ndim == 2 else matmul(x, d), power(node, MINUS_ONE))


def _det_tangent(node: MatrixExpr, ds: list) -> MatrixExpr:
    return mul(node, trace(matmul(inv(node.args[0]), ds[0])))


def _logdet_tangent(node: MatrixExpr, ds: list) -> MatrixExpr:
    return trace(matmul(inv(node.args[0]), ds[0]))


def _inv_tangent(node: MatrixExpr, ds: list) -> MatrixExpr:
    return negate(chain([node, ds[0], node]))


def _softmax_tangent(node: MatrixExpr, ds: list) -> MatrixExpr:
    return mul(node, add(ds[0], negate(matmul(node, ds[0]))))


def _logsumexp_tangent(node: MatrixExpr, ds: list) -> MatrixExpr:
    return matmul(softmax(node.args[0]), ds[0])


# --- Jacobian rules with respect to a vector: (node, Jacobians so far, through) -------------------
# ``through`` (``symcalc.matrix.forward._Through``) gives the Jacobian through a matrix operand
# that depends on the variable; ``J`` the Jacobians of the scalar and vector nodes so far.
def _scalar_jacobian(gradient: Callable[[MatrixExpr], MatrixExpr]):
    """A scalar function of one operand: through a matrix, the gradient of ``sum(W*F)`` with
    the weights ``W`` its gradient; of a vector, ``J.T@gradient``."""
    def rule(node: MatrixExpr, J: dict, through) -> Optional[MatrixExpr]:
        x = node.args[0]
        if x.ndim == 2:
            return through.weighted(gradient(node), x)
        return matmul(transpose(J.get(x)), gradient(node))
    return rule


def _transpose_jacobian(node: MatrixExpr, J: dict, through) -> Optional[MatrixExpr]:
    return J.get(node.args[0])


def _diag_jacobian(node: MatrixExpr, J: dict, through) -> Optional[MatrixExpr]:
    x = node.args[0]
    if x.ndim != 2:  # a diagonal matrix: differentiated where it is used
        raise NoMatrixFormError("no matrix-form Jacobian of a diagonal matrix on its own")
    return through.diagonal(x)  # the diagonal of a matrix, as a vector


def _softmax_jacobian(node: MatrixExpr, J: dict, through) -> MatrixExpr:
    return matmul(add(diag(node), negate(outer(node, node))), J.get(node.args[0]))


# --- Jacobians through a matrix that depends on the variable: (through, D, P, F, Q, s) --------------
# the Jacobian of (D*(P@F@Q))@s, the mask D (None: none), the factors P, Q and the vector s held
# fixed; through.jacobian(u) is the Jacobian of a vector u, through.masked(...) the same rule for
# another matrix, through.via_diagonal(...) the rule of diag(v) for a vector v of Jacobian j
def _diag_through(through, D, P: tuple, F: MatrixExpr, Q: tuple, s: MatrixExpr):
    j = through.jacobian(F.args[0])
    return None if j is None else through.via_diagonal(D, P, j, Q, s)


def _outer_through(through, D, P: tuple, F: MatrixExpr, Q: tuple, s: MatrixExpr):
    """``P@outer(a, b)@Q = outer(P@a, Q.T@b)``."""
    a, b = F.args
    ja, jb = through.jacobian(a), through.jacobian(b)
    pa = chain(P + (a,)) if P else a
    qb = chain(tuple(transpose(f) for f in reversed(Q)) + (b,)) if Q else b
    parts = []
    if ja is not None:  # outer(P@da, qb): rows scaled by (D@(qb*s)) or by qb@s
        scale = matmul(qb, s) if D is None else diag(matmul(D, mul(qb, s)))
        parts.append(mul(scale, chain(P + (ja,))) if D is None else chain((scale,) + P + (ja,)))
    if jb is not None:  # outer(pa, Q.T@db)
        tail = tuple(transpose(f) for f in reversed(Q)) + (jb,)
        parts.append(outer(pa, matmul(transpose(chain(tail)), s)) if D is None else
                     chain((diag(pa), D, diag(s)) + tail))
    return _sum_of(parts)


def _inverse_through(through, D, P: tuple, F: MatrixExpr, Q: tuple, s: MatrixExpr,
                     inverted: MatrixExpr):
    """``d(inv(M)) = -inv(M)@dM@inv(M)`` for ``F = inv(inverted)``."""
    inner = through.masked(D, P + (F,), inverted, (F,) + Q, s)
    return None if inner is None else negate(inner)


def _inv_through(through, D, P: tuple, F: MatrixExpr, Q: tuple, s: MatrixExpr):
    return _inverse_through(through, D, P, F, Q, s, F.args[0])


def _transpose_through(through, D, P: tuple, F: MatrixExpr, Q: tuple, s: MatrixExpr):
    """The normal form keeps transposes only on leaves and on ``inv``: ``inv(M).T`` is
    ``inv(M.T)``."""
    inner = F.args[0]
    if inner.kind != "inv":
        raise NoMatrixFormError(f"no matrix-form Jacobian through the transpose {F}")
    return _inverse_through(through, D, P, F, Q, s, transpose(inner.args[0]))


# --- unrolling: (node, operand entries, concrete shape) -> entries -------------------------------
def _matmul_unroll(node: MatrixExpr, a: list, shape: tuple) -> np.ndarray:
    out = a[0]
    for b in a[1:]:
        out = entries.dot(out, b)
    return out


def _total(values) -> np.ndarray:
    return entries.scalar_array(scalar.add(*values))


def _norm_unroll(node: MatrixExpr, a: list, shape: tuple) -> np.ndarray:
    return entries.scalar_array(REGISTRY["sqrt"](scalar.add(*(x ** 2 for x in a[0].flat))))


def _diag_unroll(node: MatrixExpr, a: list, shape: tuple) -> np.ndarray:
    x = a[0]
    if x.ndim == 1:
        return entries.objects(shape, lambda i: x[i[0]] if i[0] == i[1] else scalar.Num(0))
    return entries.objects(shape, lambda i: x[i[0], i[0]])


def _softmax_unroll(node: MatrixExpr, a: list, shape: tuple) -> np.ndarray:
    lse = REGISTRY["logsumexp"](*a[0])
    return entries.objects(shape, lambda i: REGISTRY["exp"](a[0][i] - lse))


def _leaf_unroll(value: Callable[[tuple], int]):
    return lambda node, a, shape: entries.objects(shape, lambda i: scalar.Num(value(i)))


# --- transposes: (node, its matrix operands' transposes) -> the node's, in normal form -----------
def _own_transpose(node: MatrixExpr, transposed: Callable) -> MatrixExpr:
    """A symmetric matrix, a vector or a scalar is its own transpose."""
    return node


def _kept_transpose(node: MatrixExpr, transposed: Callable) -> MatrixExpr:
    """``inv(X).T`` stays a transpose node (``inv(X.T)`` is written so), unless ``X`` is
    symmetric (``inv(S).T = inv(S)``, ``inv(X.T@X).T = inv(X.T@X)``)."""
    if transposed(node.args[0]) is node.args[0]:
        return node
    return make("transpose", (node,), node.shape[::-1])


def _filled_transpose(node: MatrixExpr, transposed: Callable) -> MatrixExpr:
    return make(node.kind, (), node.shape[::-1])


def _matmul_transpose(node: MatrixExpr, transposed: Callable) -> MatrixExpr:
    return chain([transposed(f) for f in reversed(node.args)])


def _outer_transpose(node: MatrixExpr, transposed: Callable) -> MatrixExpr:
    return outer(node.args[1], node.args[0])


def _diag_transpose(node: MatrixExpr, transposed: Callable) -> MatrixExpr:
    return node  # a diagonal matrix is symmetric; the diagonal of a matrix is a vector


# --- product rules: (a, b) -> a@b in a simpler form, or None -------------------------------------
def _outer_left(a: MatrixExpr, b: MatrixExpr) -> MatrixExpr:
    """``outer(x, y)@v -> (y@v)*x``, ``outer(x, y)@M -> outer(x, M.T@y)``."""
    x, y = a.args
    return mul(matmul(y, b), x) if b.ndim == 1 else outer(x, matmul(transpose(b), y))


def _outer_right(a: MatrixExpr, b: MatrixExpr) -> MatrixExpr:
    """``M@outer(x, y) -> outer(M@x, y)``."""
    return outer(matmul(a, b.args[0]), b.args[1])


def _ones_left(a: MatrixExpr, b: MatrixExpr) -> Optional[MatrixExpr]:
    """``ones(m, n)@v -> sum(v)*ones(m)``, ``ones(n)@v -> sum(v)``."""
    if b.ndim != 1:
        return None
    shape = a.shape[:-1]
    return mul(sum_(b), build.filled(1, shape)) if shape else sum_(b)


def _ones_right(a: MatrixExpr, b: MatrixExpr) -> Optional[MatrixExpr]:
    """``v@ones(n) -> sum(v)``."""
    return sum_(a) if a.ndim == 1 and b.ndim == 1 else None


def product_rule(a: MatrixExpr, b: MatrixExpr) -> Optional[MatrixExpr]:
    """``a@b`` by the product rule of ``a``'s operation as the left factor, else of ``b``'s as
    the right one; None when neither simplifies it."""
    for node, left in ((a, True), (b, False)):
        op = OPERATIONS.get(node.kind)
        rule = None if op is None or op.product is None else (
            op.product.left if left else op.product.right)
        simpler = None if rule is None else rule(a, b)
        if simpler is not None:
            return simpler
    return None


# --- the table ------------------------------------------------------------------------------------
def _call(name: str, arity: int = 1) -> Form:
    return Form(name + "(" + ", ".join("{%d}" % i for i in range(arity)) + ")")


def _latex_call(name: str) -> Form:
    return Form(name + "\\left({0}\\right)")


def _leaf(name: str, rule: Callable[..., Shape], build: Callable, numpy: str, latex: str,
          value: Callable[[tuple], int]) -> Operation:
    return Operation(
        name=name, arity=0, shape=rule, build=build, adjoint=_no_operands, tangent=_no_tangent,
        jacobian=None, numpy=Form(numpy), jax=Form(numpy.replace("np.", "jnp.")),
        text=Form(name + ("({0})" if name == "eye" else "({dims})")), latex=Form(latex),
        unroll=_leaf_unroll(value),
        transposed=_own_transpose if name == "eye" else _filled_transpose, step=name)


_SOLVE = Form("np.linalg.solve({0}, {1})", (ATOM, 0))  # inv(X)@b, X never inverted

_RECORDS = [
    Operation(
        name="matmul", arity=VARIADIC, shape=_matmul_shape, build=lambda *a: chain(a),
        adjoint=_matmul_adjoint, tangent=_matmul_tangent,
        jacobian=None,  # the forward sweep's chain rule (symcalc.matrix.forward)
        numpy=Form("", (POWER,), PRODUCT, " @ "), jax=Form("", (POWER,), PRODUCT, " @ "),
        text=Form("", (POWER,), PRODUCT, "@"), latex=Form("", (POWER,), PRODUCT, " "),
        unroll=_matmul_unroll, transposed=_matmul_transpose, step="matrix product", linear=True),
    Operation(
        name="transpose", arity=1, shape=_transpose_shape, build=transpose,
        adjoint=_transpose_adjoint, tangent=_linear(transpose), jacobian=_transpose_jacobian,
        through=_transpose_through,
        numpy=Form("{0}.T", (ATOM,)), jax=Form("{0}.T", (ATOM,)),
        text=Form("{0}.T", (ATOM,)), latex=Form("{0}^{{\\top}}", (ATOM,), POWER),
        unroll=lambda node, a, shape: a[0].T,
        transposed=lambda node, transposed: node.args[0], step="transpose", linear=True),
    Operation(
        name="sum", arity=1, shape=_to_scalar("sum", (1, 2)), build=sum_,
        adjoint=_gradient_rule(_sum_gradient), tangent=_linear(sum_),
        jacobian=_scalar_jacobian(_sum_gradient),
        numpy=_call("np.sum"), jax=_call("jnp.sum"),
        text=_call("sum"), latex=_latex_call("\\operatorname{{sum}}"),
        unroll=lambda node, a, shape: _total(a[0].flat),
        transposed=_own_transpose, step="sum", reuse=True, linear=True),
    Operation(
        name="norm", arity=1, shape=_to_scalar("norm", (1, 2)), build=norm,
        adjoint=_gradient_rule(_norm_gradient), tangent=_norm_tangent,
        jacobian=_scalar_jacobian(_norm_gradient),
        numpy=_call("np.linalg.norm"), jax=_call("jnp.linalg.norm"),
        text=_call("norm"), latex=Form("\\left\\lVert {0} \\right\\rVert"),
        unroll=_norm_unroll, transposed=_own_transpose, step="norm", reuse=True,
        # \|A\| alone could be the spectral norm
        latex_of_matrix=Form("\\left\\lVert {0} \\right\\rVert_{{F}}")),
    Operation(
        name="trace", arity=1, shape=_to_scalar("trace", square=True), build=trace,
        adjoint=_gradient_rule(_trace_gradient), tangent=_linear(trace),
        jacobian=_scalar_jacobian(_trace_gradient),
        numpy=_call("np.trace"), jax=_call("jnp.trace"),
        text=_call("trace"), latex=_latex_call("\\operatorname{{tr}}"),
        unroll=lambda node, a, shape: _total(np.diagonal(a[0])),
        transposed=_own_transpose, step="trace", linear=True),
    Operation(
        name="det", arity=1, shape=_to_scalar("det", square=True), build=det,
        adjoint=_gradient_rule(_det_gradient), tangent=_det_tangent,
        jacobian=_scalar_jacobian(_det_gradient),
        numpy=_call("np.linalg.det"), jax=_call("jnp.linalg.det"),
        text=_call("det"), latex=_latex_call("\\det"),
        unroll=lambda node, a, shape: entries.scalar_array(entries.det(a[0])),
        transposed=_own_transpose, step="det", reuse=True),
    Operation(
        name="logdet", arity=1, shape=_to_scalar("logdet", square=True), build=logdet,
        adjoint=_gradient_rule(_logdet_gradient), tangent=_logdet_tangent,
        jacobian=_scalar_jacobian(_logdet_gradient),
        numpy=_call("_mrt.logdet"), jax=_call("_mrt.logdet"),
        text=_call("logdet"), latex=_latex_call("\\log\\det"),
        unroll=lambda node, a, shape: entries.scalar_array(REGISTRY["log"](entries.det(a[0]))),
        transposed=_own_transpose, step="logdet", reuse=True),
    Operation(
        name="inv", arity=1, shape=_inv_shape, build=inv,
        adjoint=_inv_adjoint, tangent=_inv_tangent, through=_inv_through,
        jacobian=None,  # a matrix: through the product it is in (forward._Through)
        numpy=_call("np.linalg.inv"), jax=_call("jnp.linalg.inv"),
        text=_call("inv"), latex=Form("{0}^{{-1}}", (ATOM,), POWER),
        unroll=lambda node, a, shape: entries.inv(a[0]),
        transposed=_kept_transpose, step="inverse", reuse=True,
        latex_transposed=Form("{0}^{{-\\top}}", (ATOM,), POWER),
        in_product=InProduct(left=_SOLVE, left_of_vector=_SOLVE,
                             transposed=Form("np.linalg.solve({0}.T, {1})", (ATOM, 0)))),
    Operation(
        name="diag", arity=1, shape=_diag_shape, build=diag,
        adjoint=_diag_adjoint, tangent=_linear(diag), jacobian=_diag_jacobian,
        through=_diag_through,
        numpy=_call("np.diag"), jax=_call("jnp.diag"),
        text=_call("diag"), latex=_latex_call("\\operatorname{{diag}}"),
        unroll=_diag_unroll, transposed=_diag_transpose, step="diag", linear=True, applied=True,
        in_product=InProduct(left=Form("{0}[:, None] * {1}", (ATOM, POWER), PRODUCT),
                             left_of_vector=Form("{0} * {1}", (ATOM, POWER), PRODUCT),
                             right=Form("{1} * {0}", (POWER, POWER), PRODUCT))),
    Operation(
        name="outer", arity=2, shape=_outer_shape, build=outer,
        adjoint=_outer_adjoint, tangent=_outer_tangent, through=_outer_through,
        jacobian=None,  # a matrix: through the product it is in (forward._Through)
        numpy=_call("np.outer", 2), jax=_call("jnp.outer", 2),
        text=_call("outer", 2), latex=Form("{0} {1}^{{\\top}}", (POWER, ATOM), PRODUCT),
        unroll=lambda node, a, shape: entries.objects(
            shape, lambda i: scalar.mul(a[0][i[0]], a[1][i[1]])),
        transposed=_outer_transpose, step="outer product", linear=True, applied=True,
        product=ProductRule(left=_outer_left, right=_outer_right)),
    Operation(
        name="softmax", arity=1, shape=_softmax_shape, build=softmax,
        adjoint=_softmax_adjoint, tangent=_softmax_tangent, jacobian=_softmax_jacobian,
        numpy=_call("_mrt.softmax"), jax=_call("_mrt.softmax"),
        text=_call("softmax"), latex=_latex_call("\\operatorname{{softmax}}"),
        unroll=_softmax_unroll, transposed=_own_transpose, step="softmax", reuse=True),
    Operation(
        name="logsumexp", arity=1, shape=_to_scalar("logsumexp", (1,)), build=logsumexp,
        adjoint=_gradient_rule(_logsumexp_gradient), tangent=_logsumexp_tangent,
        jacobian=_scalar_jacobian(_logsumexp_gradient),
        numpy=_call("_mrt.vector_logsumexp"), jax=_call("_mrt.vector_logsumexp"),
        text=_call("logsumexp"), latex=_latex_call("\\operatorname{{logsumexp}}"),
        unroll=lambda node, a, shape: entries.scalar_array(REGISTRY["logsumexp"](*a[0])),
        transposed=_own_transpose, step="logsumexp", reuse=True),
    Operation(
        name="einsum", arity=VARIADIC, shape=tensor.einsum_shape, build=tensor.einsum,
        adjoint=tensor.einsum_adjoint, tangent=tensor.einsum_tangent,
        jacobian=None,  # a tensor: differentiated by symcalc.matrix.tensor_calculus
        numpy=Form("np.einsum", sep=", ", custom=tensor.numpy_form),
        jax=Form("jnp.einsum", sep=", ", custom=tensor.jax_form),
        text=Form("einsum", sep=", ", custom=tensor.text_form),
        latex=Form("", sep=" ", custom=tensor.latex_form),
        unroll=tensor.einsum_unroll, transposed=tensor.einsum_transposed,
        step="index contraction", reuse=True, with_data=True, linear=True),
    replace(_leaf("eye", lambda n: (n, n), eye, "np.eye({0})", "I_{{{0}}}",
                  lambda i: int(i[0] == i[1])), applied=True,
            product=ProductRule(left=lambda a, b: b, right=lambda a, b: a)),  # eye@M = M
    replace(_leaf("ones", lambda *dims: tuple(dims), ones, "np.ones(({dims},))",
                  "\\mathbf{{1}}_{{{times}}}", lambda i: 1),
            product=ProductRule(left=_ones_left, right=_ones_right)),
    _leaf("zeros", lambda *dims: tuple(dims), zeros, "np.zeros(({dims},))",
          "\\mathbf{{0}}_{{{times}}}",
          lambda i: 0),
]

# --- operations with NumPy's meaning: reductions along an axis, mean, kron, matrix_power --------
# (constructors in ``symcalc.matrix.numpy_ops``; a node's ``data`` is its axis or exponent)
def _axis_grad(node: MatrixExpr) -> MatrixExpr:
    """The gradient of a scalar reduction ``max`` or ``mean`` of all entries."""
    x = node.args[0]
    if node.kind == "mean":
        return mul(ones(*x.shape), power(numpy_ops.count(x.shape), MINUS_ONE))
    w = _ties(node)
    return mul(w, power(sum_(w), MINUS_ONE))


def _ties(node: MatrixExpr) -> MatrixExpr:
    """``heaviside(X - max)``: 1/2 where an entry is the largest (of its row, column or all),
    0 elsewhere, so that each of k tied largest entries gets 1/k of the derivative."""
    x = node.args[0]
    top = node if node.data is None else numpy_ops.spread(node, node.data, x.shape)
    return REGISTRY["heaviside"](add(x, negate(top)))


def _reduced_weights(node: MatrixExpr) -> MatrixExpr:
    """For a reduction along an axis, the weights ``W`` of its derivative: ``dy = sum(W*dX,
    axis)``."""
    x, axis = node.args[0], node.data
    if node.kind == "sum_axis":
        return ones(*x.shape)
    if node.kind == "mean":
        return mul(ones(*x.shape), power(numpy_ops.count(x.shape[axis:axis + 1]), MINUS_ONE))
    if node.kind == "logsumexp_axis":
        return numpy_ops.softmax_axis(x, axis)
    w = _ties(node)  # max
    return mul(w, numpy_ops.spread(power(numpy_ops.sum_axis(w, axis), MINUS_ONE), axis, x.shape))


def _reduction_adjoint(node: MatrixExpr, bar: MatrixExpr, wanted: Wanted) -> Contributions:
    x, axis = node.args[0], node.data
    if axis is None:
        yield x, mul(bar, _axis_grad(node))
    elif node.kind == "sum_axis":
        yield x, numpy_ops.spread(bar, axis, x.shape)
    elif node.kind == "max":  # the ties of each line share its adjoint
        w = _ties(node)
        share = mul(bar, power(numpy_ops.sum_axis(w, axis), MINUS_ONE))
        yield x, mul(w, numpy_ops.spread(share, axis, x.shape))
    else:
        yield x, mul(_reduced_weights(node), numpy_ops.spread(bar, axis, x.shape))


def _reduction_tangent(node: MatrixExpr, ds: list) -> MatrixExpr:
    d, axis = ds[0], node.data
    if node.kind in ("sum_axis", "mean"):
        return OPERATIONS[node.kind].build(d, axis)
    if axis is None:
        return sum_(mul(_axis_grad(node), d))
    if node.kind == "max":
        w = _ties(node)
        return mul(numpy_ops.sum_axis(mul(w, d), axis),
                   power(numpy_ops.sum_axis(w, axis), MINUS_ONE))
    return numpy_ops.sum_axis(mul(_reduced_weights(node), d), axis)


def _reduction_jacobian(node: MatrixExpr, J: dict, through) -> Optional[MatrixExpr]:
    """Through a matrix ``F``, ``sum(W*F, axis=1)`` is ``(W*F)@ones`` (axis 0: ``(W.T*F.T)@ones``);
    of a vector (all entries), ``J.T@gradient``."""
    x = node.args[0]
    if node.data is None:
        if x.ndim == 2:
            return through.weighted(_axis_grad(node), x)
        return matmul(transpose(J.get(x)), _axis_grad(node))
    w = _reduced_weights(node)
    if node.data == 0:
        x, w = transpose(x), transpose(w)
    return through.masked(None if w.kind == "ones" else w, (), x, (), ones(x.shape[1]))


def _softmax_axis_adjoint(node: MatrixExpr, bar: MatrixExpr, wanted: Wanted) -> Contributions:
    """``P = softmax(Z, axis)``: ``Z̄ = P*(P̄ - spread(sum(P*P̄, axis)))``."""
    inner = numpy_ops.sum_axis(mul(node, bar), node.data)
    yield node.args[0], mul(node, add(bar, negate(numpy_ops.spread(inner, node.data, node.shape))))


def _softmax_axis_tangent(node: MatrixExpr, ds: list) -> MatrixExpr:
    inner = numpy_ops.sum_axis(mul(node, ds[0]), node.data)
    return mul(node, add(ds[0], negate(numpy_ops.spread(inner, node.data, node.shape))))


def _selector(k: MatrixExpr, first: bool) -> tuple:
    """For ``K = kron(A, B)`` of matrices, the matrices ``L``, ``R`` and the mask ``M`` with
    ``Ā = L@(K̄*M)@R`` (``first``) or ``B̄ = L@(K̄*M)@R``: ``L`` sums the rows of each block,
    ``R`` its columns."""
    a, b = k.args
    (m, n), (p, q) = a.shape, b.shape
    if first:
        return (numpy_ops.kron(eye(m), ones(1, p)), numpy_ops.kron(ones(m, n), b),
                numpy_ops.kron(eye(n), ones(q, 1)))
    return (numpy_ops.kron(ones(1, m), eye(p)), numpy_ops.kron(a, ones(p, q)),
            numpy_ops.kron(ones(n, 1), eye(q)))


def _row(v: MatrixExpr) -> MatrixExpr:
    """A vector as a 1 x n matrix."""
    return outer(ones(1), v)


def _kron_parts(node: MatrixExpr, bar: MatrixExpr) -> Optional[tuple]:
    """``(scalars, U, V)`` when the adjoint ``bar`` of ``kron(A, B)`` is itself a Kronecker
    product ``s*kron(U, V)`` (``c*ones`` included), else None."""
    scalars, core = build.pull_scalars(bar)
    a, b = node.args
    if core.kind == "ones":
        return scalars, ones(*a.shape), ones(*b.shape)
    if core.kind == "kron" and core.args[0].shape == a.shape and core.args[1].shape == b.shape:
        return (scalars,) + core.args
    return None


def _kron_adjoint(node: MatrixExpr, bar: MatrixExpr, wanted: Wanted) -> Contributions:
    a, b = node.args
    parts = _kron_parts(node, bar)
    if parts is not None:  # bar = s*kron(U, V): Ā = s*sum(V*B)*U, B̄ = s*sum(U*A)*V
        scalars, u, v = parts
        if wanted(a):
            yield a, mul(*scalars, sum_(mul(v, b)), u)
        if wanted(b):
            yield b, mul(*scalars, sum_(mul(u, a)), v)
        return
    if node.ndim == 1:  # ā[i] = sum_k b[k]*k̄[i*p + k],  b̄[k] = sum_i a[i]*k̄[i*p + k]
        if wanted(a):
            yield a, matmul(numpy_ops.kron(eye(a.shape[0]), _row(b)), bar)
        if wanted(b):
            yield b, matmul(numpy_ops.kron(_row(a), eye(b.shape[0])), bar)
        return
    for operand, first in ((a, True), (b, False)):
        if wanted(operand):
            left, mask, right = _selector(node, first)
            yield operand, chain([left, mul(bar, mask), right])


def _kron_tangent(node: MatrixExpr, ds: list) -> Optional[MatrixExpr]:
    a, b = node.args
    return _sum_of([numpy_ops.kron(ds[0], b) if ds[0] is not None else None,
                    numpy_ops.kron(a, ds[1]) if ds[1] is not None else None])


def _kron_jacobian(node: MatrixExpr, J: dict, through) -> Optional[MatrixExpr]:
    """Of vectors: ``kron(J_a, b as a column) + kron(a as a column, J_b)``."""
    a, b = node.args
    ja, jb = through.jacobian(a), through.jacobian(b)
    return _sum_of([numpy_ops.kron(ja, transpose(_row(b))) if ja is not None else None,
                    numpy_ops.kron(transpose(_row(a)), jb) if jb is not None else None])


def _unroll_kron(node: MatrixExpr, a: list, shape: tuple) -> np.ndarray:
    x, y = a
    inner = y.shape
    return entries.objects(shape, lambda i: scalar.mul(
        x[tuple(k // s for k, s in zip(i, inner))], y[tuple(k % s for k, s in zip(i, inner))]))


def _power_terms(x: MatrixExpr, middle: MatrixExpr, k: int) -> MatrixExpr:
    """``sum_j X^j@M@X^(k-1-j)`` for j = 0..k-1; ``k*X^(k-1)`` when ``M`` is ``eye``."""
    if middle.kind == "eye":
        return mul(number(k), numpy_ops.powers(x, k - 1))
    return add(*(chain([numpy_ops.powers(x, j), middle, numpy_ops.powers(x, k - 1 - j)])
                 for j in range(k)))


def _power_adjoint(node: MatrixExpr, bar: MatrixExpr, wanted: Wanted) -> Contributions:
    """``Y = X^k``: ``X̄ = sum_j (X^j).T@Ȳ@(X^(k-1-j)).T``."""
    yield node.args[0], _power_terms(transpose(node.args[0]), bar, node.data)


def _power_tangent(node: MatrixExpr, ds: list) -> MatrixExpr:
    return _power_terms(node.args[0], ds[0], node.data)


def _unroll_power(node: MatrixExpr, a: list, shape: tuple) -> np.ndarray:
    out = a[0]
    for _ in range(node.data - 1):
        out = entries.dot(out, a[0])
    return out


def _lines(x: np.ndarray, axis: Optional[int]) -> list:
    """The entries each reduction combines: all, or each column (axis 0) or row (axis 1)."""
    if axis is None:
        return [list(x.flat)]
    return [list(x[:, j]) if axis == 0 else list(x[j, :]) for j in range(x.shape[1 - axis])]


def _unroll_reduction(combine: Callable[[list], scalar.Expr]):
    def rule(node: MatrixExpr, a: list, shape: tuple) -> np.ndarray:
        values = [combine(line) for line in _lines(a[0], node.data)]
        return entries.scalar_array(values[0]) if not shape else entries.objects(
            shape, lambda i: values[i[0]])
    return rule


def _mean_of(line: list) -> scalar.Expr:
    return scalar.mul(scalar.Num(Fraction(1, len(line))), scalar.add(*line))


def _max_of(line: list) -> scalar.Expr:
    return line[0] if len(line) == 1 else REGISTRY["max"](*line)


def _unroll_softmax_axis(node: MatrixExpr, a: list, shape: tuple) -> np.ndarray:
    z, axis = a[0], node.data
    lse = [REGISTRY["logsumexp"](*line) for line in _lines(z, axis)]
    return entries.objects(shape, lambda i: REGISTRY["exp"](z[i] - lse[i[1 - axis]]))


def _reduction(name: str, text: str, numpy: str, latex: str, build: Callable, step: str,
               unroll: Callable, jax: Optional[str] = None) -> Operation:
    """A reduction of a vector or matrix along an axis (or of all its entries)."""
    def shape(operand: Shape, axis: Optional[int] = None) -> Shape:
        return build(make("symbol", (), operand, "X"), axis).shape
    return Operation(
        name=name, arity=1, shape=shape, build=build,
        adjoint=_reduction_adjoint, tangent=_reduction_tangent, jacobian=_reduction_jacobian,
        numpy=Form(numpy), jax=Form(jax or numpy.replace("np.", "jnp.")), text=Form(text),
        latex=Form(latex), unroll=unroll, transposed=_own_transpose, step=step, reuse=True,
        linear=name in ("sum_axis", "mean"))


def _matrix_shape(name: str, build: Callable) -> Callable[..., Shape]:
    def shape(*operands_and_data) -> Shape:
        *shapes, data = operands_and_data if name != "kron" else (*operands_and_data, None)
        args = [make("symbol", (), s, f"X{i}") for i, s in enumerate(shapes)]
        return (build(*args) if data is None else build(*args, data)).shape
    return shape


_RECORDS += [
    _reduction("sum_axis", "sum({0}, axis={data})", "np.sum({0}, axis={data})",
               "\\operatorname{{sum}}\\left({0}{tex_axis}\\right)", numpy_ops.sum_axis,
               "sum along an axis", _unroll_reduction(lambda line: scalar.add(*line))),
    _reduction("mean", "mean({0}{axis})", "np.mean({0}{axis})",
               "\\operatorname{{mean}}\\left({0}{tex_axis}\\right)", numpy_ops.mean, "mean",
               _unroll_reduction(_mean_of)),
    _reduction("max", "max({0}{axis})", "np.max({0}{axis})",
               "\\max\\left({0}{tex_axis}\\right)", numpy_ops.max_, "max",
               _unroll_reduction(_max_of)),
    _reduction("logsumexp_axis", "logsumexp({0}, axis={data})", "_mrt.logsumexp_axis({0}, {data})",
               "\\operatorname{{logsumexp}}\\left({0}{tex_axis}\\right)", numpy_ops.logsumexp_axis,
               "logsumexp along an axis",
               _unroll_reduction(lambda line: REGISTRY["logsumexp"](*line))),
    Operation(
        name="softmax_axis", arity=1, shape=_matrix_shape("softmax_axis", numpy_ops.softmax_axis),
        build=numpy_ops.softmax_axis, adjoint=_softmax_axis_adjoint,
        tangent=_softmax_axis_tangent,
        jacobian=None,  # a matrix: through the product it is in
        numpy=Form("_mrt.softmax_axis({0}, {data})"), jax=Form("_mrt.softmax_axis({0}, {data})"),
        text=Form("softmax({0}, axis={data})"),
        latex=Form("\\operatorname{{softmax}}\\left({0}{tex_axis}\\right)"),
        unroll=_unroll_softmax_axis,
        transposed=lambda node, _: numpy_ops.softmax_axis(transpose(node.args[0]), 1 - node.data),
        step="softmax along an axis", reuse=True, through=numpy_ops.THROUGH["softmax_axis"]),
    Operation(
        name="kron", arity=2, shape=_matrix_shape("kron", numpy_ops.kron), build=numpy_ops.kron,
        adjoint=_kron_adjoint, tangent=_kron_tangent, jacobian=_kron_jacobian,
        numpy=_call("np.kron", 2), jax=_call("jnp.kron", 2), text=_call("kron", 2),
        latex=Form("{0} \\otimes {1}", (POWER, POWER), PRODUCT),
        unroll=_unroll_kron,
        transposed=lambda node, _: numpy_ops.kron(*(transpose(a) for a in node.args)),
        step="Kronecker product", reuse=True, linear=True),
    Operation(
        name="matrix_power", arity=1, shape=_matrix_shape("matrix_power", numpy_ops.matrix_power),
        build=numpy_ops.matrix_power, adjoint=_power_adjoint, tangent=_power_tangent,
        jacobian=None,  # a matrix: through the product it is in
        numpy=Form("np.linalg.matrix_power({0}, {data})"),
        jax=Form("jnp.linalg.matrix_power({0}, {data})"), text=Form("matrix_power({0}, {data})"),
        latex=Form("{0}^{{{data}}}", (ATOM,), POWER), unroll=_unroll_power,
        transposed=lambda node, _: numpy_ops.matrix_power(transpose(node.args[0]), node.data),
        step="matrix power", reuse=True, through=numpy_ops.THROUGH["matrix_power"]),
]

OPERATIONS: Mapping[str, Operation] = {op.name: op for op in _RECORDS}
LEAVES = frozenset(op.name for op in _RECORDS if op.arity == 0)

# the helpers of symcalc.matrix.runtime that the NumPy forms call (as ``_mrt.NAME``), in order
RUNTIME_HELPERS = tuple(dict.fromkeys(
    name for op in _RECORDS for name in re.findall(r"_mrt\.(\w+)", op.numpy.pattern)))

# the functions a formula may call by name: the operations written as calls and ``dot``
# (``x@y``); ``logsumexp`` is the scalar registry's function, which reaches its record through
# ``build.apply`` when its operand is a vector
# (``max`` too); the reductions along an axis are called by the name of the plain reduction
_NOT_CALLED = ("matmul", "transpose", "logsumexp", "sum_axis", "logsumexp_axis", "softmax_axis",
               "max")
FUNCTIONS: Mapping[str, Callable[..., MatrixExpr]] = {
    **{op.name: op.build for op in _RECORDS if op.name not in _NOT_CALLED}, "dot": dot}

# how many operands each function takes (a leaf: its sizes, any number), for the parser
FUNCTION_ARITY: Mapping[str, int] = {
    **{op.name: op.arity for op in _RECORDS if op.name not in _NOT_CALLED}, "dot": 2,
    "matrix_power": 2}  # the matrix and its integer exponent

# the functions that take ``axis=`` (``sum(X, axis=0)``), by name
AXIS_FUNCTIONS: Mapping[str, Callable[..., MatrixExpr]] = {
    "sum": numpy_ops.sum_, "mean": numpy_ops.mean, "max": numpy_ops.max_,
    "logsumexp": numpy_ops.logsumexp_axis, "softmax": numpy_ops.softmax_axis}


_ENTRYWISE_BUILD = {"add": add, "mul": mul, "pow": power}


def operation(kind: str) -> Operation:
    """The record of ``kind``; a ``KeyError`` for the entrywise kinds and value leaves."""
    return OPERATIONS[kind]


def transposed(node: MatrixExpr, transposed_child: Callable) -> MatrixExpr:
    """The transpose of ``node``, an operation of the table, given its operands'."""
    return OPERATIONS[node.kind].transposed(node, transposed_child)


def with_args(node: MatrixExpr, args: tuple) -> MatrixExpr:
    """The operation of ``node`` on other operands, through the canonical constructors."""
    if args == node.args:
        return node
    kind = node.kind
    if kind == "apply":
        return build.apply(node.data, *args)
    if kind in _ENTRYWISE_BUILD:
        return _ENTRYWISE_BUILD[kind](*args)
    if OPERATIONS[kind].with_data:
        return OPERATIONS[kind].build(node.data, *args)
    if node.data is not None:  # an axis or an exponent
        return OPERATIONS[kind].build(*args, node.data)
    return OPERATIONS[kind].build(*args)


# build.transpose pushes a transpose through; build.matmul simplifies by the product rules
build.CONSTRUCTORS.bind(transposed=transposed, product=product_rule)
