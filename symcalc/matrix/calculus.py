"""Gradients, Jacobians and Hessians of shaped formulas, in matrix form.

``grad`` is reverse accumulation (``symcalc.matrix.adjoint``); ``jacobian`` is forward
accumulation of Jacobian matrices (``symcalc.matrix.forward``); ``hessian`` is the Jacobian of the
gradient.  A derivative whose value is a tensor (a matrix by a matrix, a Hessian in a matrix) is
an index expression (``symcalc.matrix.tensor_calculus``).  The size of a result does not depend
on the sizes.
"""

from __future__ import annotations

import threading
import weakref
from typing import Mapping, Optional

from ..errors import SymcalcError, SymcalcTypeError
from .adjoint import gradients as _gradients
from .forward import derivative_scalar, jacobian_vector, tangent
from .nodes import MatrixExpr, as_node, declared
from .ops import sum_, symbol
from .parsing import check_shapes, parse_shaped
from .shapes import NoMatrixFormError, ShapeError, shape_words
from .structure import tensor_within, within
from .tensor import MOST
from .tensor_calculus import tensor_jacobian
from .substitute import known_shapes, substitute, to_formula

Shapes = Optional[Mapping[str, object]]


def gradients(f: MatrixExpr, xs: list[MatrixExpr]) -> list[MatrixExpr]:
    """The gradient of the scalar ``f`` by each symbol, within a declared structure: by a
    symmetric ``S`` it is ``(G + G.T)/2`` for the gradient ``G`` with independent entries
    (``symcalc.matrix.structure``)."""
    return [within(g, x) for g, x in zip(_gradients(f, xs), xs)]


def to_node(e: object, shapes: Shapes = None) -> MatrixExpr:
    """A node from a node, a formula (parsed with ``shapes``), a number or a scalar Expr."""
    if isinstance(e, str):
        return parse_shaped(e, shapes or {})
    return as_node(e)


def _single(variables: object) -> bool:
    if isinstance(variables, MatrixExpr):
        return True
    return isinstance(variables, str) and len(variables.replace(",", " ").split()) == 1


def to_variables(f: MatrixExpr, variables: object, shapes: Shapes = None) -> list[MatrixExpr]:
    """Symbol nodes for names (or symbols); a name that ``f`` does not mention needs ``shapes``."""
    if isinstance(variables, (str, MatrixExpr)):
        variables = variables.replace(",", " ").split() if isinstance(variables, str) else [variables]
    table = check_shapes(shapes or {})
    known = {s.data: s for s in f.free_symbols}
    out = []
    for v in variables:
        if isinstance(v, MatrixExpr):
            if v.kind != "symbol":
                raise SymcalcTypeError(f"a variable must be a symbol, not {v}")
            out.append(v)
            continue
        if not isinstance(v, str):
            v = getattr(v, "name", v)
            if not isinstance(v, str):
                raise SymcalcTypeError(f"a variable must be a symbol or a name, not {v!r}")
        name = v.strip()
        if name in known:
            out.append(known[name])
        elif name in table:
            out.append(symbol(name, table[name]))
        else:
            out.append(symbol(name))  # a scalar the formula does not mention
    if len(set(out)) != len(out):
        raise SymcalcError(f"a variable is listed twice in {[str(v) for v in out]}")
    return out


# The shapes of the names a result was derived with but no longer mentions (the Hessian of
# 0.5*t@t is eye(n)), so that ``lambdify(result, ["t"])`` still checks t.  Nodes are shared by
# all formulas, so a name two derivations gave different shapes is marked ``AMBIGUOUS``.
AMBIGUOUS = "ambiguous"
_remembered: "weakref.WeakKeyDictionary[MatrixExpr, dict[str, object]]" = weakref.WeakKeyDictionary()
_remembered_lock = threading.Lock()


def remembered_shapes(node: MatrixExpr) -> dict[str, object]:
    """The shapes (or ``AMBIGUOUS``) of names that ``node`` was derived with but does not mention."""
    with _remembered_lock:
        return dict(_remembered.get(node, {}))


def _remember(results: list, f: MatrixExpr, xs: list[MatrixExpr], shapes: Shapes) -> None:
    known = {**remembered_shapes(f), **check_shapes(shapes or {})}
    known.update((s.data, declared(s)) for s in f.free_symbols | set(xs))
    stack = list(results)
    while stack:
        r = stack.pop()
        if isinstance(r, list):
            stack.extend(r)
            continue
        mentioned = {s.data for s in r.free_symbols}
        with _remembered_lock:
            table = _remembered.setdefault(r, {})
            for name, shape in known.items():
                if name not in mentioned:
                    table[name] = shape if table.get(name, shape) == shape else AMBIGUOUS


def _result(results: list, single: bool, f: MatrixExpr, xs: list[MatrixExpr], shapes: Shapes):
    _remember(results, f, xs, shapes)
    return results[0] if single else results


def grad(e: object, variables: object, shapes: Shapes = None):
    """The gradient of a scalar formula with respect to each variable, shaped like it.

    >>> grad("0.5*norm(A@t - b)^2", "t", shapes={"A": ("m", "n"), "t": ("n",), "b": ("m",)})
    MatrixExpr('A.T@(A@t - b)', shape=('n',))

    One variable (a name or a symbol) gives one result; a list gives a list.
    """
    f = to_node(e, shapes)
    if f.shape:
        raise ShapeError(f"grad needs a scalar formula, but {f} is {shape_words(f.shape)}: "
                         "use jacobian")
    xs = to_variables(f, variables, shapes)
    return _result(gradients(f, xs), _single(variables), f, xs, shapes)


def _jacobian_one(g: MatrixExpr, x: MatrixExpr) -> MatrixExpr:
    """``dg/dx``: in matrix form where the value is a scalar, vector or matrix; an index
    expression (``symcalc.matrix.tensor_calculus``) where it is a tensor."""
    if not x.shape:
        return derivative_scalar(g, x)
    if not g.shape:
        return gradients(g, [x])[0]
    if g.ndim + x.ndim > MOST:
        raise NoMatrixFormError(
            f"the Jacobian of {shape_words(g.shape)} with respect to {shape_words(x.shape)} "
            f"{x.data} would have {g.ndim + x.ndim} indices; results have at most {MOST}")
    if x.ndim == 2 or g.ndim >= 2:
        return tensor_within(tensor_jacobian(g, x), x)
    try:
        return jacobian_vector(g, x)
    except NoMatrixFormError:  # a product of matrices that depend on x: in index form
        return tensor_jacobian(g, x)


def jacobian(e: object, variables: object, shapes: Shapes = None):
    """The Jacobian ``dg/dx`` of shape ``g.shape + x.shape`` (for a scalar g, the gradient; of
    order 3 or 4, an index expression ``einsum(...)``)."""
    g = to_node(e, shapes)
    xs = to_variables(g, variables, shapes)
    return _result([_jacobian_one(g, x) for x in xs], _single(variables), g, xs, shapes)


def hessian(e: object, variables: object, shapes: Shapes = None):
    """The Hessian of a scalar formula in one variable: the Jacobian of its gradient, of shape
    ``x.shape + x.shape`` (in a matrix variable, an index expression of order 4).  With several
    variables, the blocks ``[[d2f/dxi dxj]]``, each of shape ``xi.shape + xj.shape``."""
    f = to_node(e, shapes)
    if f.shape:
        raise ShapeError(f"hessian needs a scalar formula, but {f} is {shape_words(f.shape)}")
    xs = to_variables(f, variables, shapes)
    firsts = gradients(f, xs)
    blocks = [[_jacobian_one(first, x) for x in xs] for first in firsts]
    _remember(blocks, f, xs, shapes)
    return blocks[0][0] if _single(variables) else blocks




# --- derivatives along directions and by scalars -----------------------------------------------
def _scalar_variable(f: MatrixExpr, variable: object, shapes: Shapes) -> MatrixExpr:
    (x,) = to_variables(f, [variable], shapes)
    if x.shape:
        raise ShapeError(f"diff differentiates by a scalar, but {x.data} is {shape_words(x.shape)}: "
                         "use grad or jacobian")
    return x


def diff(e: object, spec: tuple, shapes: Shapes = None) -> MatrixExpr:
    """The derivative of a shaped formula by scalar parameters, shaped like it: ``spec`` is as in
    ``symcalc.diff`` (``"s"``, ``"s", 2``, ``"s", "r"``)."""
    f = to_node(e, shapes)
    steps: list[tuple[MatrixExpr, int]] = []
    for item in spec:
        if isinstance(item, int) and not isinstance(item, bool):
            if not steps:
                raise SymcalcError("an order must follow a variable")
            if item < 0:
                raise SymcalcError(f"the order of a derivative must be >= 0, not {item}")
            steps[-1] = (steps[-1][0], item)
        else:
            steps.append((_scalar_variable(f, item, shapes), 1))
    if not steps:
        raise SymcalcError("diff needs a variable")
    result = f
    for x, order in steps:
        for _ in range(order):
            result = derivative_scalar(result, x)
    _remember([result], f, [x for x, _ in steps], shapes)
    return result


def _directions(f: MatrixExpr, xs: list[MatrixExpr], given: object, single: bool,
                shapes: Shapes, what: str) -> list[MatrixExpr]:
    """The direction for each variable, read with the shapes of ``f``: one formula for one
    variable, else a list of them."""
    table = known_shapes(f, *xs, shapes=shapes)
    values = [given] if single else given
    if isinstance(values, (str, MatrixExpr)) or not hasattr(values, "__len__"):
        raise SymcalcTypeError(f"{what} needs one direction per variable: a list of {len(xs)}")
    if len(values) != len(xs):
        raise SymcalcError(f"{what} needs one direction per variable: {len(xs)} variables, "
                           f"{len(values)} directions")
    out = []
    for x, value in zip(xs, values):
        v = to_formula(value, table)
        if v.shape != x.shape:
            raise ShapeError(f"the direction {v} for {x.data} is {shape_words(v.shape)}, but "
                             f"{x.data} is {shape_words(x.shape)}")
        out.append(within(v, x))  # a direction within the variable's structure
    return out


def jvp(e: object, variables: object, v: object, shapes: Shapes = None) -> MatrixExpr:
    """The Jacobian-vector product ``J v`` of a shaped formula: its derivative along the
    direction ``v`` (one formula shaped like the variable, or a list for several variables),
    shaped like the formula, by one forward sweep; the Jacobian itself is never formed."""
    f = to_node(e, shapes)
    xs = to_variables(f, variables, shapes)
    vs = _directions(f, xs, v, _single(variables), shapes, "jvp")
    result = tangent(f, dict(zip(xs, vs)))
    _remember([result], f, xs, shapes)
    return result


def _fresh(shape: tuple, *avoid: MatrixExpr) -> MatrixExpr:
    taken = {s.data for node in avoid for s in node.free_symbols}
    k = 0
    while f"seed{k}" in taken:
        k += 1
    return symbol(f"seed{k}", shape)


def vjp(e: object, variables: object, w: object, shapes: Shapes = None):
    """The vector-Jacobian product ``w^T J`` of a shaped formula, for a weight ``w`` shaped like
    the formula: the gradient of ``sum(w*f)`` with ``w`` held fixed, by reverse accumulation;
    shaped like each variable (a list for a list of variables)."""
    f = to_node(e, shapes)
    xs = to_variables(f, variables, shapes)
    weight = to_formula(w, known_shapes(f, *xs, shapes=shapes))
    if weight.shape != f.shape:
        raise ShapeError(f"the weight {weight} is {shape_words(weight.shape)}, but the formula "
                         f"{f} is {shape_words(f.shape)}")
    held = _fresh(f.shape, f, weight)  # w may mention the variables: it is held fixed
    results = [substitute(g, {held: weight}) for g in gradients(sum_(held * f), xs)]
    return _result(results, _single(variables), f, xs, shapes)


def hvp(e: object, variables: object, v: object, shapes: Shapes = None):
    """The Hessian-vector product ``H v`` of a scalar shaped formula: the derivative of its
    gradient along ``v`` (forward over reverse), shaped like each variable; the Hessian itself is
    never formed, so this works where the Hessian has no matrix form."""
    f = to_node(e, shapes)
    if f.shape:
        raise ShapeError(f"hvp needs a scalar formula, but {f} is {shape_words(f.shape)}")
    xs = to_variables(f, variables, shapes)
    seeds = dict(zip(xs, _directions(f, xs, v, _single(variables), shapes, "hvp")))
    results = [tangent(g, seeds) for g in gradients(f, xs)]
    return _result(results, _single(variables), f, xs, shapes)
