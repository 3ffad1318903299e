"""Numbers beyond float range in generated code: ``inf`` (with its sign) or ``0.0``, decided without
forming the number, so that code generation and ``symcalc check`` return at once.

``9^9^9`` stays unevaluated in the graph (a power of two numbers); printed as ``9 ** 387420489``
Python would compute an integer of 1.2 billion bits.  Each run that could hang is a subprocess
with a timeout.
"""

from __future__ import annotations

import math
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction

import mpmath
import numpy as np
import pytest

import symcalc as sc
from symcalc.compiler.numpy_printer import numeric_power
from symcalc.checks.verify import check_gradient

TIMEOUT = 20


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=TIMEOUT)


def test_lambdify_of_a_huge_power_returns_at_once():
    done = run_python(
        "import numpy as np, symcalc as sc\n"
        "f = sc.lambdify('9^9^9*x', ['x'])\n"
        "g = sc.lambdify('x/9^9^9 + (-9)^(9^9)*y', ['x', 'y'])\n"
        "print(f(2.0), f(-2.0), f(np.array([1.0, -1.0])).tolist(), g(1.0, 1.0))\n"
        "print('387420489' in f.source or '387420489' in g.source)\n")
    assert done.returncode == 0, done.stderr
    values, printed_huge = done.stdout.split("\n")[:2]
    assert values == "inf -inf [inf, -inf] -inf"
    assert printed_huge == "False"


def test_symcalc_check_of_a_huge_power_is_one_clear_error():
    for formula in ("9^9^9*x", "x + 9^(-9^9)"):
        done = subprocess.run([sys.executable, "-m", "symcalc", "check", formula, "x"],
                              capture_output=True, text=True, timeout=TIMEOUT)
        assert done.returncode == 2, (formula, done.stdout, done.stderr)
        assert done.stderr.count("\n") == 1 and "beyond float range" in done.stderr
        assert "Traceback" not in done.stderr


def test_check_of_a_huge_number_raises_before_sympy_sees_it():
    with pytest.raises(sc.DomainError, match="beyond float range"):
        check_gradient(sc.parse("x*10^400 + sin(x)"), [sc.Symbol("x")])


def reference(base: Fraction, exponent: Fraction) -> float:
    """base ** exponent by mpmath, rounded to a float (inf, 0.0 beyond its range); the precision
    holds every digit of the base's denominator (so that 1 + 2^-1000 is not 1)."""
    with mpmath.workdps(80 + int(0.302 * base.denominator.bit_length())):
        magnitude = mpmath.power(abs(mpmath.mpf(base.numerator) / base.denominator),
                                 mpmath.mpf(exponent.numerator) / exponent.denominator)
        sign = -1 if base < 0 and exponent.numerator % 2 else 1
        if magnitude > mpmath.mpf(sys.float_info.max) * (1 + mpmath.mpf(2) ** -54):
            return sign * float("inf")
        return sign * float(magnitude)


POWERS = [
    (9, 387420489), (9, -387420489), (-9, 387420489), (-9, 387420488), (-9, -387420489),
    (Fraction(3, 2), 10**6), (Fraction(2, 3), 10**6), (9, Fraction(1000, 3)), (9, Fraction(-1000, 3)),
    (2, 1023), (2, 1024), (2, -1074), (2, -1076), (3, Fraction(1293, 2)), (10**400, Fraction(1, 2)),
    (Fraction(2**1000 + 1, 2**1000), 2**1009), (Fraction(2**1000 - 1, 2**1000), -2**1009),
    (Fraction(10**20 + 1, 10**20), 10**22), (10**(10**4), Fraction(-1, 10**4)), (7, 10**200),
    (Fraction(1, 7), 10**200), (-1, 10**100), (Fraction(7, 5), Fraction(2000, 1)),
]


@pytest.mark.parametrize("base, exponent", POWERS, ids=[str(k) for k in range(len(POWERS))])
def test_numeric_powers_are_rounded_correctly_or_are_inf_or_zero(base, exponent):
    base, exponent = Fraction(base), Fraction(exponent)
    got = numeric_power(base, exponent)
    want = reference(base, exponent)
    assert got == pytest.approx(want, rel=4e-16, abs=0) or got == want, (got, want)


@pytest.mark.parametrize("text, value", [
    ("(9^9^9)*x", np.inf), ("-(9^9^9)*x", -np.inf), ("x*(-9)^(9^9)", -np.inf),
    ("x*9^(-9^9) + 1", 1.0), ("x*10^400", np.inf), ("x*10^(-400) + 1", 1.0),
    ("x*sqrt(10^400)", 1e200), ("x*(3/2)^(10^6)", np.inf), ("x*(-8)^(1/3)", np.nan),
    ("x*2^(10^100)", np.inf), ("x*(-1)^(10^100)", 1.0),
])
def test_generated_values_of_numbers_at_and_beyond_float_range(text, value):
    f = sc.lambdify(text, ["x"])
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(f(1.0), value)
        np.testing.assert_array_equal(f(np.array([1.0, 1.0])), [value, value])


# --- float() and evalf of constants at and beyond float range, in bounded time ------------------
# Each case runs in one subprocess with a timeout, so that a hang fails the test instead of
# hanging it (SymPy forms 9^387420489 in C, where no signal interrupts it).
FLOATS = [
    ("10^400", "inf"), ("-10^400", "-inf"), ("10^-400", "0.0"), ("-10^-400", "-0.0"),
    ("10^400/3", "inf"), ("9^9^9", "inf"), ("-9^9^9", "-inf"), ("(-9)^(9^9)", "-inf"),
    ("1/9^9^9", "0.0"), ("(1/2)^(10^9)", "0.0"), ("9^9^9/9^9^9", "1.0"), ("9^9^9 - 9^9^9", "0.0"),
    ("sqrt(9^9^9)", "inf"), ("atan(9^9^9)", repr(math.pi / 2)), ("exp(10^20)", "inf"),
    ("exp(-10^20)", "0.0"), ("-exp(exp(100))", "-inf"),
]


def _run_all(lines: list[str]) -> list[str]:
    code = ("import symcalc as sc\n"
            "def show(f):\n"
            "    try:\n"
            "        print(repr(f()))\n"
            "    except sc.SymcalcError as error:\n"
            "        kind = 'OutOfRangeError' if isinstance(error, sc.OutOfRangeError) else 'other'\n"
            "        print(kind, str(error).replace(chr(10), ' '))\n"
            + "".join(f"show(lambda: {line})\n" for line in lines))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_float_of_numbers_beyond_float_range_is_inf_or_zero_at_once():
    got = _run_all([f"float(sc.parse({text!r}))" for text, _ in FLOATS])
    assert got == [value for _, value in FLOATS]


def test_values_of_huge_powers_are_computed_at_once_to_every_digit_asked_for():
    lines = _run_all([
        "float(sc.parse('log(9^9^9)'))", "sc.evalf('log(9^9^9)', 30)",
        "float(sc.parse('(1+1/10^6)^(10^6)'))", "sc.evalf('(1+1/10^6)^(10^6)', 30)",
        "sc.parse('9^9^9').evalf(10)", "sc.evalf('1/9^9^9', 10)",
        "str(sc.to_sympy('9^9^9'))", "str(sc.to_sympy('(1+1/10^6)^(10^6)'))",
        "str(sc.to_sympy('log(9^9^9) + 2*9^9^9'))", "float(sc.parse('log(log(9^9^9))'))",
        "sc.from_sympy(sc.to_sympy('log(9^9^9) + 2*9^9^9')) is sc.parse('log(9^9^9) + 2*9^9^9')",
    ])
    with mpmath.workdps(60):
        log_value = 387420489 * mpmath.log(9)
        compound = mpmath.power(1 + mpmath.mpf(10) ** -6, 10**6)
        power = mpmath.mpf(9) ** 387420489
        assert lines[0] == repr(float(log_value))
        assert lines[1] == f"Decimal('{mpmath.nstr(log_value, 30)}')"
        assert lines[2] == repr(float(compound)) and lines[2].startswith("2.71828046")
        assert Decimal(lines[3][9:-2]) == Decimal(mpmath.nstr(compound, 30))
        assert Decimal(lines[4][9:-2]) == Decimal(mpmath.nstr(power, 10, min_fixed=0, max_fixed=0)
                                                  .replace("e+", "E+"))
        assert Decimal(lines[5][9:-2]) == Decimal(mpmath.nstr(1 / power, 10).replace("e", "E"))
        assert lines[6:8] == ["'9**387420489'", "'(1000001/1000000)**1000000'"]
        assert "9**387420489" in lines[8]
        assert lines[9] == repr(float(mpmath.log(log_value)))
        assert lines[10] == "True"


def test_values_that_cannot_be_computed_are_one_clear_error_at_once():
    lines = _run_all(["float(sc.parse('exp(9^9^9)'))", "float(sc.parse('sin(9^9^9)'))",
                      "float(sc.parse('sigmoid(-9^9^9)'))", "sc.evalf('exp(exp(exp(10)))')",
                      "sc.evalf('exp(10^20)')", "float(sc.parse('cos(2^70000)'))",
                      "float(sc.parse('sin(10^1000)'))"])
    for line in lines[:6]:
        assert line.startswith("OutOfRangeError "), line
        assert len(line) < 300
    assert float(lines[6]) == pytest.approx(0.6533597982103698, rel=1e-15)


@pytest.mark.parametrize("text, digits", [("0", "0"), ("9^9^9 - 9^9^9", "0"), ("exp(0)", "1"),
                                          ("2^10", "1024"), ("-3", "-3")])
def test_evalf_of_exact_integers(text, digits):
    assert sc.evalf(text, 10) == Decimal(digits)
    assert float(sc.parse(text)) == float(digits)
