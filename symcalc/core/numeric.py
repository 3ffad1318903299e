"""Constant expressions evaluated with Python floats, to tell whether a value is defined.

``is_defined`` answers whether a constant (an expression without variables, such as a Taylor
coefficient ``log(0) + 1`` or ``asin(2)``) is a real number.  Overflow is no fault: ``exp(1000)``
is a fine exact value that merely has no float.  A pole, a value outside a function's domain, a
complex result or a NaN is.

>>> from symcalc.language.parser import parse
>>> is_defined(parse("exp(1000) + sin(1)")), is_defined(parse("asin(2)")), is_defined(parse("log(-1)"))
(True, False, False)
>>> float_value(parse("2*atan(1)"))
1.5707963267948966
"""

from __future__ import annotations

import math
from .expr import Add, Call, Constant, Expr, Mul, Num, Pow, postorder


def float_value(e: Expr) -> float | complex:
    """The value of a constant expression in float arithmetic.

    Raises ``ValueError`` (outside a domain), ``ZeroDivisionError`` (a pole), ``OverflowError``
    and ``KeyError`` (a variable, or a function with no float form).
    """
    value: dict[Expr, float] = {}
    for node in postorder([e]):
        if isinstance(node, Num):
            value[node] = float(node.value)
        elif isinstance(node, Constant):
            value[node] = node.value
        elif isinstance(node, Add):
            value[node] = sum(value[a] for a in node.args)
        elif isinstance(node, Mul):
            value[node] = math.prod(value[a] for a in node.args)
        elif isinstance(node, Pow):
            value[node] = value[node.args[0]] ** value[node.args[1]]  # complex for (-8)^(1/3)
        elif isinstance(node, Call):
            if node.fn.real is None:
                raise KeyError(f"{node.fn.name} has no float form")
            value[node] = node.fn.real(*(value[a] for a in node.args))
        else:
            raise KeyError(f"{node} has no value")
    return value[e]


def is_defined(e: Expr) -> bool:
    """Whether the constant ``e`` is a real number; overflow counts as defined."""
    try:
        result = float_value(e)
    except OverflowError:
        return True
    except (ValueError, ZeroDivisionError, TypeError):
        return False
    return not isinstance(result, complex) and not math.isnan(result)


def is_moderate(e: Expr) -> bool:
    """Whether every node of the constant ``e`` has a finite float value (or lies outside a
    domain, or has no float form): then its exact evaluation meets no number beyond float range."""
    try:
        float_value(e)
    except (OverflowError, ValueError, ZeroDivisionError, TypeError, KeyError):
        return False
    return True
