"""Constant expressions evaluated with Python floats, to tell whether a value is defined.

``is_defined`` answers whether a constant (an expression without variables, such as a Taylor
coefficient ``log(0) + 1`` or ``asin(2)``) is a real number.  Overflow is no fault: ``exp(1000)``
is a fine exact value that merely has no float.  A pole, a value outside a function's domain, a
complex result or a NaN is.

>>> from symcalc.parser import parse
>>> is_defined(parse("exp(1000) + sin(1)")), is_defined(parse("asin(2)")), is_defined(parse("log(-1)"))
(True, False, False)
>>> float_value(parse("2*atan(1)"))
1.5707963267948966
"""

from __future__ import annotations

import math
from typing import Callable

from .expr import Add, Call, Constant, Expr, Mul, Num, Pow, postorder


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _log(x: float, base: float | None = None) -> float:
    return math.log(x) if base is None else math.log(x) / math.log(base)


def _logsumexp(*xs: float) -> float:
    top = max(xs)
    return top + math.log(math.fsum(math.exp(x - top) for x in xs))


# The float value of each registry function; tests check that every registered function has one.
FLOAT_FORMS: dict[str, Callable[..., float]] = {
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "exp": math.exp, "log": _log,
    "sqrt": math.sqrt, "abs": abs, "sign": lambda x: float((x > 0) - (x < 0)),
    "heaviside": lambda x: 1.0 if x > 0 else 0.5 if x == 0 else 0.0,
    "sinh": math.sinh, "cosh": math.cosh, "tanh": math.tanh,
    "asin": math.asin, "acos": math.acos, "atan": math.atan,
    "sigmoid": _sigmoid, "softplus": lambda x: max(x, 0.0) + math.log1p(math.exp(-abs(x))),
    "relu": lambda x: max(x, 0.0), "erf": math.erf, "logsumexp": _logsumexp,
}


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
            value[node] = FLOAT_FORMS[node.fn.name](*(value[a] for a in node.args))
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
