"""Taylor polynomials of one or several variables, with exact coefficients.

Each distinct partial derivative is computed once: the derivative for the multi-index
``(i1 <= i2 <= ... <= ik)`` is the derivative along ``x_ik`` of the one for ``(i1, ..., ik-1)``,
so degree k reuses degree k - 1 and mixed partials that differ only in the order of
differentiation are never recomputed.  The chain of derivatives is kept in the canonical form the
differentiation engine builds, without further simplification: only the values at the point are
simplified, which keeps high orders small (the 20th derivative of ``tan(x)`` stays ~50 operations).
"""

from __future__ import annotations

import math
from fractions import Fraction
from itertools import combinations_with_replacement
from typing import Mapping, Sequence

from .convert import ExprLike, VarLike, check_order, to_expr, to_symbol
from .diff import forward
from .errors import DivisionByZeroError, DomainError, SymcalcError, SymcalcTypeError
from .expr import ONE, ZERO, Expr, Num, Symbol, add, mul, power, rebuild
from .numeric import is_defined
from .simplify import simplify


def taylor(e: ExprLike, point: Mapping[VarLike, ExprLike], order: int, *,
           displacement: bool = False) -> Expr:
    """The Taylor polynomial of ``e`` around ``point``: every term of total degree <= ``order``.

    ``point`` maps each variable of ``e`` (a name or a Symbol) to a number or an expression:
    ``taylor("exp(x)", {"x": 0}, 4)`` is ``x^4/24 + x^3/6 + x^2/2 + x + 1``, and
    ``taylor("exp(x)*sin(y)", {"x": 0, "y": 1}, 2)`` is ``f + grad f . d + 1/2 d^T H d`` with
    ``d = (x, y - 1)``.  A variable mapped to itself (``{"x": 0, "a": "a"}``) is a parameter and
    is not expanded.

    Coefficients are exact when the expression and the point are (``1/24``, ``sin(1)``; a float
    point such as 0.5 is read as the exact 1/2).  The result is a polynomial in the displacements
    ``x - a``: the canonical sum of its terms, each a simplified coefficient times a monomial, with
    like terms collected and nothing multiplied out or factored:
    ``taylor("log(x)", {"x": 1}, 3)`` is ``(x - 1)^3/3 - (x - 1)^2/2 + x - 1`` (the canonical
    form distributes a number over a single sum, so the linear term shows as ``x - 1``).

    With ``displacement=True`` the polynomial is written in displacement symbols instead, one per
    expanded variable, named ``d`` + the variable's name (``x -> dx``, ``theta -> dtheta``; if that
    name is already used by ``e`` or the point, ``d_x``, then ``d__x``, ...).  The result is then
    ``f(a + d)`` truncated: ``taylor("exp(x)", {"x": 1}, 2, displacement=True)`` is
    ``dx^2*exp(1)/2 + dx*exp(1) + exp(1)``.

    >>> taylor("exp(x)", {"x": 0}, 3)
    Expr('x^3/6 + x^2/2 + x + 1')
    >>> taylor("x*y", {"x": 1, "y": 2}, 2, displacement=True)
    Expr('dx*dy + 2*dx + dy + 2')

    Raises ``TypeError`` for a non-integer order and ``ValueError`` for a negative order, a point
    that gives no value to a variable of ``e``, a point value that depends on an expanded variable,
    or a point where ``e`` or one of the needed derivatives is undefined (``log(x)`` at 0): that
    one is a ``DomainError``.
    """
    f = to_expr(e)
    order = check_order(order, "Taylor")
    centre = _centre(f, point)
    variables = [x for x in centre if x in f.free_symbols]
    if displacement:
        steps = _displacement_symbols(f, centre, variables)
    else:
        steps = [x - centre[x] for x in variables]
    at = {x: centre[x] for x in variables}

    values = {f: _value_at(f, f, at, point)}
    _check_defined(f, values, point)  # first, so that an undefined f is named as such
    terms = [values[f]]
    previous: dict[tuple[int, ...], Expr] = {(): f}
    for degree in range(1, order + 1):
        current: dict[tuple[int, ...], Expr] = {}
        for index in combinations_with_replacement(range(len(variables)), degree):
            parent = previous[index[:-1]]
            d = ZERO if parent is ZERO else forward(parent, {variables[index[-1]]: ONE})
            current[index] = d
            if d is not ZERO:
                if d not in values:
                    values[d] = _value_at(d, f, at, point)
                terms.append(_term(values[d], index, steps))
        if all(d is ZERO for d in current.values()):
            break  # every higher derivative vanishes too
        previous = current
    _check_defined(f, values, point)
    return add(*terms)  # coefficients are simplified; simplifying the sum could factor terms


def _centre(f: Expr, point: Mapping[VarLike, ExprLike]) -> dict[Symbol, Expr]:
    """The point as {Symbol: Expr}, checked; variables mapped to themselves are left out."""
    if not isinstance(point, Mapping):
        raise SymcalcTypeError(f"the point must be a mapping such as {{'x': 0}}, not {type(point).__name__}")
    centre: dict[Symbol, Expr] = {}
    for key, value in point.items():
        x = to_symbol(key)
        if x in centre:
            raise SymcalcError(f"the point gives {x} twice")
        centre[x] = to_expr(value)
    missing = sorted(s.name for s in f.free_symbols - set(centre))
    if missing:
        raise SymcalcError(f"the point gives no value for {', '.join(missing)}: every variable of "
                         f"{f} needs one (map a variable to itself to keep it as a parameter)")
    expanded = {x: a for x, a in centre.items() if a is not x}
    for x, a in expanded.items():
        clash = sorted(s.name for s in a.free_symbols & set(expanded))
        if clash:
            raise SymcalcError(f"the point value {x} = {a} depends on the expanded variable "
                             f"{', '.join(clash)}")
    return expanded


def _displacement_symbols(f: Expr, centre: Mapping[Symbol, Expr],
                          variables: Sequence[Symbol]) -> list[Symbol]:
    taken = {s.name for s in f.free_symbols}
    for a in centre.values():
        taken |= {s.name for s in a.free_symbols}
    names = []
    for x in variables:
        prefix = "d"
        while prefix + x.name in taken:
            prefix += "_"
        taken.add(prefix + x.name)
        names.append(Symbol(prefix + x.name))
    return names


def _term(value: Expr, index: tuple[int, ...], steps: Sequence[Expr]) -> Expr:
    """``value / alpha! * prod(step_i ^ alpha_i)`` for the multi-index ``index``."""
    powers = [power(steps[i], Num(k)) for i, k in _counts(index)]
    return mul(value, _inverse_factorials(index), *powers)


def _counts(index: tuple[int, ...]) -> list[tuple[int, int]]:
    """``(0, 0, 2) -> [(0, 2), (2, 1)]``: each variable with its multiplicity."""
    return [(i, index.count(i)) for i in sorted(set(index))]


def _inverse_factorials(index: tuple[int, ...]) -> Num:
    """``1 / alpha!`` for the multi-index: the Taylor weight of the mixed partial."""
    return Num(Fraction(1, math.prod(math.factorial(k) for _, k in _counts(index))))


def _value_at(d: Expr, f: Expr, at: Mapping[Symbol, Expr], point: Mapping) -> Expr:
    """``d`` at the point, or a DomainError naming where ``f`` cannot be expanded."""
    try:
        return simplify(rebuild(d, lambda leaf: at.get(leaf, leaf)))
    except DivisionByZeroError:
        what = "its value" if d is f else f"its derivative {simplify(d)}"
        raise DomainError(f"{f} has no Taylor expansion at {_show(point)}: {what} is undefined "
                         f"there (division by zero)") from None


def _check_defined(f: Expr, values: Mapping[Expr, Expr], point: Mapping) -> None:
    """A DomainError if a numeric coefficient is not a real number (``log(0)``, ``asin(2)``)."""
    numeric = [(d, v) for d, v in values.items() if not v.free_symbols]
    d = next((d for d, v in numeric if not is_defined(v)), None)
    if d is None:
        return
    what = "its value" if d is f else f"its derivative {simplify(d)}"
    raise DomainError(f"{f} has no Taylor expansion at {_show(point)}: {what} is undefined "
                     f"there (not a real number)")


def _show(point: Mapping) -> str:
    return ", ".join(f"{k} = {v}" for k, v in point.items())
