"""Exact values of sin, cos and tan at the multiples of pi/12 where they are short: the
multiples of pi/6 and pi/4 (``sin(pi/6) = 1/2``, ``tan(pi/3) = sqrt(3)``)."""

from __future__ import annotations

from fractions import Fraction
from typing import Optional

from ..core.expr import HALF, ONE, PI, ZERO, Expr, Mul, Num, power


def pi_multiple(x: Expr) -> Optional[Fraction]:
    """k when x is k*pi for a rational k, else None."""
    if x is PI:
        return Fraction(1)
    if isinstance(x, Mul) and len(x.args) == 2 and x.args[1] is PI and isinstance(x.args[0], Num):
        return Fraction(x.args[0].value)
    return None


def twelfths(x: Expr) -> Optional[int]:
    """n when x is n*pi/12 for an integer n (0 included), else None."""
    if x is ZERO:
        return 0
    k = pi_multiple(x)
    return int(12 * k) if k is not None and (12 * k).denominator == 1 else None


def _surd(scale: Fraction, n: int) -> Expr:
    """``scale*sqrt(n)``, e.g. sqrt(3)/2."""
    return Num(scale) * power(Num(n), HALF)


# sin at r*pi/12 for r = 0..6, where exact and short: the multiples of pi/6 and pi/4
_SIN_FIRST_QUADRANT = {0: ZERO, 2: HALF, 3: _surd(HALF.value, 2), 4: _surd(HALF.value, 3), 6: ONE}


def sin_value(x: Expr) -> Optional[Expr]:
    n = twelfths(x)
    if n is None:
        return None
    n %= 24
    sign, n = (1, n) if n <= 12 else (-1, n - 12)  # sin(x + pi) = -sin(x)
    value = _SIN_FIRST_QUADRANT.get(min(n, 12 - n))  # sin(pi - x) = sin(x)
    return None if value is None else Num(sign) * value


def cos_value(x: Expr) -> Optional[Expr]:
    n = twelfths(x)
    return None if n is None else sin_value(Num(Fraction(n + 6, 12)) * PI)  # sin(x + pi/2)


_TAN_FIRST_QUADRANT = {0: ZERO, 2: _surd(Fraction(1, 3), 3), 3: ONE, 4: _surd(Fraction(1), 3)}


def tan_value(x: Expr) -> Optional[Expr]:
    n = twelfths(x)
    if n is None:
        return None
    n %= 12  # tan has period pi; undefined at pi/2 (left as it is)
    sign, n = (1, n) if n < 6 else (-1, 12 - n)  # tan(pi - x) = -tan(x)
    value = _TAN_FIRST_QUADRANT.get(n)
    return None if value is None else Num(sign) * value
