"""Derivatives of any order in closed form, for the formulas whose k-th derivative is known at once.

The n-th derivative of most formulas must be built order by order (``symcalc.calculus.series``),
but many terms have a k-th derivative that is written down directly, whatever k is, even k = 10^9:

* a polynomial of degree d has the derivative 0 beyond order d (``polynomial_degree`` finds an
  upper bound of d in one pass over the graph);
* a power of a linear argument: ``(a*x + b)^p -> p*(p - 1)*...*(p - k + 1) * a^k * (a*x + b)^(p - k)``;
* exponentials of linear arguments, also several in one product (``exp(u)``, ``2^u``,
  ``exp(u)^p``): the product times ``rate^k``, where the rate is the constant log-derivative;
* a function whose derivatives cycle, found from its registry partials (``sin' = cos``,
  ``sin'' = -sin``: period 2 up to the factor -1; ``sinh`` period 2; ``exp`` period 1), of a linear
  argument ``u = a*x + b``: ``f^(k)(u) = a^k c^(k div p) f^(k mod p)(u)``;
* a function whose first derivative is one of these (``log(u)``: ``a/u``);
* a polynomial times one of these, by Leibniz's rule (at most ``_LEIBNIZ_TERMS`` terms), and
  constant multiples and sums of all of these.

A coefficient such as ``2^(10^9)`` stays an unevaluated power (``symcalc.core.bigint``); a falling
factorial that would be larger than the same guard is not written (the term has no closed form).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Callable, Optional

from ..core import bigint
from .diff import forward
from ..core.expr import (MINUS_ONE, ONE, ZERO, Add, Call, Expr, Mul, Num, Pow, Symbol, add, mul,
                         postorder, power, rebuild, split_coefficient)
from ..functions.elementary import exp, log
from ..functions.registry import REGISTRY, Function
from ..rewrite.simplify import simplify

__all__ = ["nth_derivative", "polynomial_degree"]

_LEIBNIZ_TERMS = 40  # a product polynomial * f is written out when it has at most this many terms
_SYMBOLIC_FALLING = 40  # p*(p - 1)*... with a symbolic p is written out up to this many factors
_CYCLE_SEARCH = 4  # a function's derivatives are searched for a cycle up to this order

Kth = Callable[[int], Optional[Expr]]  # m -> the m-th derivative of one factor, or None


def polynomial_degree(e: Expr, x: Symbol) -> Optional[int]:
    """An upper bound of the degree of ``e`` as a polynomial in ``x``, or None when ``e`` is not
    built as one (a call, a division or a fractional power that depends on ``x``).  One pass
    over the graph, so it is cheap even where the expanded polynomial would be huge."""
    degrees: dict[Expr, int] = {}
    for node in postorder([e], done=lambda n: x not in n.free_symbols):
        if node is x:
            degrees[node] = 1
            continue
        parts = [degrees.get(a, 0) for a in node.args]
        if isinstance(node, Add):
            degrees[node] = max(parts)
        elif isinstance(node, Mul):
            degrees[node] = sum(parts)
        elif (isinstance(node, Pow) and isinstance(node.exponent, Num)
              and node.exponent.is_integer and node.exponent.value >= 0):
            degrees[node] = parts[0] * node.exponent.value
        else:
            return None
    return degrees.get(e, 0)


def nth_derivative(e: Expr, x: Symbol, k: int) -> tuple[Expr, Expr]:
    """``(closed, rest)``: the k-th derivative in x of the terms of ``e`` that have a closed form,
    simplified, and the sum of the other terms (0 when every term has one).  ``e`` is canonical."""
    degree = polynomial_degree(e, x)
    if degree is not None and k > degree:
        return ZERO, ZERO
    closed, rest = [], []
    for term in e.args if isinstance(e, Add) else (e,):
        found = _term(term, x, k, nested=True)
        if found is None:
            rest.append(term)
        else:
            closed.append(found)
    result = add(*closed)
    return (simplify(result) if closed else ZERO), add(*rest)


def _term(term: Expr, x: Symbol, k: int, nested: bool) -> Optional[Expr]:
    """The k-th derivative of one product, or None.  ``nested``: a factor may be a function whose
    first derivative has a closed form (one level only)."""
    if x not in term.free_symbols:
        return ZERO
    factors = term.args if isinstance(term, Mul) else (term,)
    constant = mul(*(f for f in factors if x not in f.free_symbols))
    varying = [f for f in factors if x in f.free_symbols]
    polynomial, exponentials, others, rate = [], [], [], ZERO
    for f in varying:
        r = _exponential_rate(f, x)
        if r is not None:
            exponentials.append(f)
            rate = add(rate, r)
        elif polynomial_degree(f, x) is not None:
            polynomial.append(f)
        else:
            others.append(f)
    if len(others) + bool(exponentials) > 1:
        return None  # exp(x)*sin(x), sqrt(x)*log(x): no rule here
    p = mul(*polynomial)
    if others:
        kth = _factor_kth(others[0], x, nested)
        if kth is None:
            return None
    elif exponentials:  # exp(a*x)*exp(b*x)*2^x: the product times (a + b + log(2))^m
        h = mul(*exponentials)
        kth = lambda m: mul(_power(rate, m), h)  # noqa: E731
    else:
        return _polynomial_kth(p, x, k, constant)
    return _leibniz(constant, p, x, kth, k)


def _leibniz(constant: Expr, p: Expr, x: Symbol, kth: Kth, k: int) -> Optional[Expr]:
    """``constant * sum_j C(k, j) p^(j) h^(k-j)`` for a polynomial p, with ``kth(m) = h^(m)``."""
    degree = polynomial_degree(p, x)
    last = min(degree, k)
    if last + 1 > _LEIBNIZ_TERMS:
        return None
    terms, dp = [], p
    for j in range(last + 1):
        if j:
            dp = simplify(forward(dp, {x: ONE}))
        if dp is ZERO:
            break
        dh = kth(k - j)
        if dh is None:
            return None
        terms.append(mul(Num(math.comb(k, j)), dp, dh))
    return mul(constant, add(*terms))


def _polynomial_kth(p: Expr, x: Symbol, k: int, constant: Expr) -> Optional[Expr]:
    """The k-th derivative of a polynomial: 0 beyond its degree, the power rule for one power of
    a linear argument, else (at most ``_LEIBNIZ_TERMS`` steps) one differentiation at a time."""
    degree = polynomial_degree(p, x)
    if k > degree:
        return ZERO
    kth = _power_kth(p, x)
    if kth is not None:
        d = kth(k)
        return None if d is None else mul(constant, d)
    if k > _LEIBNIZ_TERMS:
        return None
    for _ in range(k):
        p = simplify(forward(p, {x: ONE}))
    return mul(constant, p)


# --- one factor --------------------------------------------------------------------------------
def _factor_kth(f: Expr, x: Symbol, nested: bool) -> Optional[Kth]:
    """``m -> f^(m)`` for a factor with a closed form, or None."""
    kth = _power_kth(f, x)
    if kth is not None:
        return kth
    if isinstance(f, Call) and len(f.args) == 1:
        a = _slope(f.args[0], x)
        if a is None:
            return None
        cycle = _cycle(f.fn)
        if cycle is not None:
            forms, factor = cycle
            u = f.args[0]
            period = len(forms)
            return lambda m: mul(_power(a, m), _power(factor, m // period),
                                 forms[m % period](u))
    if nested:  # a function whose first derivative has a closed form: log(u) -> a/u
        first = simplify(forward(f, {x: ONE}))
        if first is ZERO:
            return None
        if not isinstance(first, Add) and _term(first, x, 0, nested=False) is not None:
            return lambda m: f if m == 0 else _term(first, x, m - 1, nested=False)
    return None


def _power_kth(f: Expr, x: Symbol) -> Optional[Kth]:
    """``m -> f^(m)`` for ``f = u^p`` with u linear in x and p constant (x itself: p = 1)."""
    base, p = (f.args[0], f.args[1]) if isinstance(f, Pow) else (f, ONE)
    if x in p.free_symbols:
        return None
    a = _slope(base, x)
    if a is None:
        return None

    def kth(m: int) -> Optional[Expr]:
        falling = _falling(p, m)
        if falling is None:
            return None
        lower = Num(p.value - m) if isinstance(p, Num) else add(p, Num(-m))
        return mul(falling, _power(a, m), power(base, lower))
    return kth


def _exponential_rate(f: Expr, x: Symbol) -> Optional[Expr]:
    """The constant ``f'/f`` of an exponential factor (``exp(u)``, ``b^u``, ``exp(u)^p`` with u
    linear in x, b and p constant), or None."""
    scale = ONE
    if isinstance(f, Pow) and x not in f.args[1].free_symbols and isinstance(f.args[0], Call):
        scale, f = f.args[1], f.args[0]  # exp(u)^p
    if isinstance(f, Call) and f.fn is exp:
        a = _slope(f.args[0], x)
        return None if a is None else mul(scale, a)
    if isinstance(f, Pow) and x not in f.args[0].free_symbols and scale is ONE:
        a = _slope(f.args[1], x)
        return None if a is None else mul(log(f.args[0]), a)
    return None


def _slope(u: Expr, x: Symbol) -> Optional[Expr]:
    """``a`` when ``u = a*x + b`` with a and b free of x (a may be any constant expression)."""
    if polynomial_degree(u, x) != 1:
        return None
    a = simplify(forward(u, {x: ONE}))
    return None if x in a.free_symbols or a is ZERO else a


_cycles: dict[str, Optional[tuple[tuple[Callable[[Expr], Expr], ...], Expr]]] = {}


def _cycle(fn: Function):
    """``(forms, c)`` when the registry function's derivatives cycle: ``f^(p) = c*f`` for the
    period ``p = len(forms)``, ``forms[j](u) = f^(j)(u)``.  Read from its partials once."""
    name = fn.name
    if REGISTRY.get(name) is not fn:  # an abstract function: its derivatives are f_1, f_1_1, ...
        return None
    if name not in _cycles:
        t = Symbol("_t")
        f = fn(t)
        derivatives = [f]
        found = None
        for _ in range(_CYCLE_SEARCH):
            derivatives.append(simplify(forward(derivatives[-1], {t: ONE})))
            ratio = simplify(derivatives[-1] / f)
            if isinstance(ratio, Num) and ratio.value != 0:
                forms = tuple(_substituter(d, t) for d in derivatives[:-1])
                found = (forms, ratio)
                break
        _cycles[name] = found
    return _cycles[name]


def _substituter(d: Expr, t: Symbol) -> Callable[[Expr], Expr]:
    return lambda u: rebuild(d, lambda leaf: u if leaf is t else leaf)


# --- exact coefficients --------------------------------------------------------------------------
def _power(r: Expr, m: int) -> Expr:
    """``r^m``; a negative coefficient's sign is taken out first, so that ``(-2*y)^m`` is
    ``+-2^m*y^m``, and a power too large to compute stays unevaluated (``2^1000000000``)."""
    c, rest = split_coefficient(r)
    if c < 0:
        return mul(MINUS_ONE if m % 2 else ONE, power(Num(-c), Num(m)), power(rest, Num(m)))
    return power(r, Num(m))


def _falling(p: Expr, m: int) -> Optional[Expr]:
    """``p*(p - 1)*...*(p - m + 1)`` exactly, or None when it would be too large to write."""
    if not isinstance(p, Num):
        if m > _SYMBOLIC_FALLING:
            return None
        return mul(*(add(p, Num(-j)) for j in range(m)))
    value = Fraction(p.value)
    if m == 0:
        return ONE
    if value.denominator == 1:
        n = value.numerator
        if 0 <= n < m:
            return ZERO
        if n >= 0:
            log_size = math.lgamma(n + 1) - math.lgamma(n - m + 1)
            exact = lambda: math.perm(n, m)  # noqa: E731
        else:  # (-q)(-q-1)... = (-1)^m q (q+1) ... (q+m-1)
            q = -n
            log_size = math.lgamma(q + m) - math.lgamma(q)
            exact = lambda: (-1) ** m * math.perm(q + m - 1, m)  # noqa: E731
        if log_size / math.log(2) > bigint.MAX_POWER_BITS:
            return None
        return Num(exact())
    r, q = value.numerator, value.denominator
    bits = m * q.bit_length() + (math.lgamma(float(value) + 1) - math.lgamma(float(value) - m + 1)
                                 ) / math.log(2)
    if max(bits, m * q.bit_length()) > bigint.MAX_POWER_BITS:
        return None
    return Num(Fraction(math.prod(range(r, r - m * q, -q)), q**m))
