"""Taylor polynomials of one or several variables, with exact coefficients.

The coefficients come from Taylor-mode arithmetic (``symcalc.calculus.series``): truncated power
series pushed through the expression graph once, never a chain of derivatives.  With several
variables the series are nested, one variable at a time: the coefficients of ``f`` in ``x1`` at
``a1`` are expressions of the other variables, whose coefficients in ``x2`` at ``a2`` are found the
same way, and so on, each to the order that the total degree leaves.  At a rational point the
coefficients are exact numbers; ``sin(1)`` stays symbolic; every coefficient is simplified at the
end.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Mapping, Sequence

from ..language.arguments import ExprLike, VarLike, check_order, to_expr, to_symbol
from ..errors import DivisionByZeroError, DomainError, SymcalcError, SymcalcTypeError
from ..core.expr import ZERO, Expr, Num, Symbol, add, mul, power, rebuild
from ..core.numeric import is_defined
from .series import coefficients
from ..rewrite.simplify import simplify


def taylor(e: ExprLike, point: Mapping[VarLike, ExprLike], order: int, *,
           displacement: bool = False) -> Expr:
    """The Taylor polynomial of ``e`` around ``point``: every term of total degree <= ``order``.

    ``point`` maps the variables to expand in (names or Symbols) to numbers or expressions:
    ``taylor("exp(x)", {"x": 0}, 4)`` is ``1 + x + x^2/2 + x^3/6 + x^4/24``, and
    ``taylor("exp(x)*sin(y)", {"x": 0, "y": 1}, 2)`` is ``f + grad f . d + 1/2 d^T H d`` with
    ``d = (x, y - 1)``.  The variables of ``e`` that the point does not name (or maps to
    themselves) are parameters and are not expanded: ``taylor("(1 + x)^k", {"x": 0}, 2)`` is
    ``1 + k*x + k*(k - 1)*x^2/2``.  A variable of the point that ``e`` does not depend on changes
    nothing (``e`` is its own expansion in it).

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
    ``exp(1) + dx*exp(1) + dx^2*exp(1)/2``.

    >>> taylor("exp(x)", {"x": 0}, 3)
    Expr('1 + x + x^2/2 + x^3/6')
    >>> taylor("x*y", {"x": 1, "y": 2}, 2, displacement=True)
    Expr('2 + 2*dx + dy + dx*dy')

    Raises ``TypeError`` for a non-integer order and ``ValueError`` for a negative order, a point
    value that depends on an expanded variable, or a point where ``e`` or one of the needed derivatives is undefined (``log(x)`` at 0): that
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
    at = [centre[x] for x in variables]

    values = {(): _value_at(f, f, {x: centre[x] for x in variables}, point)}
    _check_defined(f, values, point)  # first, so that an undefined f is named as such
    stage = {(): f}  # the coefficient expressions of the leading variables' exponents
    for i, x in enumerate(variables):
        last = i == len(variables) - 1
        deeper: dict[tuple[int, ...], Expr] = {}
        for index, c in stage.items():
            left = order - sum(index)
            for k, ck in enumerate(_expand(c, x, at[i], left, f, point)):
                if ck is not ZERO:
                    deeper[index + (k,)] = ck if last else _simplified(ck, f, point)
        stage = deeper
    terms = []
    for exponents, c in stage.items():
        index = tuple(i for i, k in enumerate(exponents) for _ in range(k))
        value = values[()] if not index else _simplified(mul(c, Num(_factorial(index))), f, point)
        values[index] = value
        terms.append(_term(value, index, steps))
    _check_defined(f, values, point)
    return add(*terms)  # coefficients are simplified; simplifying the sum could factor terms


def _expand(e: Expr, x: Symbol, a: Expr, order: int, f: Expr, point: Mapping) -> list[Expr]:
    """The Taylor coefficients of ``e`` in ``x`` at ``a`` up to ``order``, or the DomainError that
    says ``f`` has no expansion at the point."""
    try:
        return coefficients(e, x, a, order)
    except (DivisionByZeroError, DomainError) as error:
        raise DomainError(f"{f} has no Taylor expansion at {_show(point)}: it or one of its "
                          f"derivatives is undefined there ({error})") from None


def _simplified(e: Expr, f: Expr, point: Mapping) -> Expr:
    try:
        return simplify(e)
    except DivisionByZeroError as error:
        raise DomainError(f"{f} has no Taylor expansion at {_show(point)}: one of its derivatives "
                          f"is undefined there ({error})") from None


def _factorial(index: tuple[int, ...]) -> int:
    """``alpha!`` for the multi-index."""
    return math.prod(math.factorial(k) for _, k in _counts(index))


def _centre(f: Expr, point: Mapping[VarLike, ExprLike]) -> dict[Symbol, Expr]:
    """The point as {Symbol: Expr}, checked; variables mapped to themselves are left out (as are
    the variables of ``f`` it does not name: both are parameters)."""
    if not isinstance(point, Mapping):
        raise SymcalcTypeError(f"the point must be a mapping such as {{'x': 0}}, not {type(point).__name__}")
    centre: dict[Symbol, Expr] = {}
    for key, value in point.items():
        x = to_symbol(key)
        if x in centre:
            raise SymcalcError(f"the point gives {x} twice")
        centre[x] = to_expr(value)
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


def _check_defined(f: Expr, values: Mapping[tuple[int, ...], Expr], point: Mapping) -> None:
    """A DomainError if a numeric coefficient is not a real number (``log(0)``, ``asin(2)``)."""
    index = next((i for i, v in values.items() if not v.free_symbols and not is_defined(v)), None)
    if index is None:
        return
    what = "its value" if not index else f"its derivative of order {len(index)}"
    raise DomainError(f"{f} has no Taylor expansion at {_show(point)}: {what} is undefined "
                     f"there (not a real number)")


def _show(point: Mapping) -> str:
    return ", ".join(f"{k} = {v}" for k, v in point.items())
