"""Exact integers of any size, and the guard that keeps arithmetic on them bounded.

Python refuses to convert integers of more than a few thousand digits to and from decimal text
(``sys.get_int_max_str_digits``); these helpers split the work into pieces below that limit so
that a formula may hold integers of any size.
"""

from __future__ import annotations

from fractions import Fraction

_CHUNK = 4000  # decimal digits converted in one call, below Python's default limit of 4300

# The largest integer power symcalc will compute exactly, in bits of the result.  Above it a
# power such as 9^9^9 stays unevaluated instead of taking minutes and gigabytes.
MAX_POWER_BITS = 1 << 17


def int_from_digits(digits: str) -> int:
    """Convert a string of decimal digits to an int, whatever its length."""
    if len(digits) <= _CHUNK:
        return int(digits)
    half = len(digits) // 2
    high, low = digits[:-half], digits[-half:]
    return int_from_digits(high) * 10**half + int_from_digits(low)


def int_to_digits(value: int) -> str:
    """Decimal text of an int, whatever its size."""
    if value < 0:
        return "-" + int_to_digits(-value)
    if value.bit_length() <= _CHUNK * 3:  # 3 bits per digit is a safe under-estimate
        return str(value)
    half = _digit_estimate(value) // 2
    high, low = divmod(value, 10**half)
    return int_to_digits(high) + int_to_digits(low).zfill(half)


def _digit_estimate(value: int) -> int:
    return int(value.bit_length() * 0.30103) + 1


def power_fits(base_bits: int, exponent: int) -> bool:
    """True when ``b ** exponent`` for a base of ``base_bits`` bits stays below the guard
    (always for exponents 1 and -1: the result is no bigger than the base)."""
    return abs(exponent) <= 1 or base_bits * abs(exponent) <= MAX_POWER_BITS


def exact_power_fits(base: Fraction | int, exponent: Fraction | int) -> bool:
    """Whether the exact value of ``base ** exponent`` (numbers) stays below the guard: its
    numerator and denominator for an integer exponent, the integer power a rational exponent's
    numerator asks for otherwise."""
    base, exponent = Fraction(base), Fraction(exponent)
    bits = base.numerator.bit_length() + base.denominator.bit_length()
    return base == 0 or power_fits(bits, exponent.numerator)


def integer_root(value: int, n: int) -> int | None:
    """The exact n-th root of a non-negative int, or None when it is not a perfect power."""
    if value < 2:
        return value
    if value.bit_length() > MAX_POWER_BITS or n >= value.bit_length():
        return None  # (the n-th root of a value below 2^n lies strictly between 1 and 2)
    guess = 1 << -(-value.bit_length() // n)  # an upper bound
    while True:
        better = ((n - 1) * guess + value // guess ** (n - 1)) // n
        if better >= guess:
            break
        guess = better
    return guess if guess**n == value else None
