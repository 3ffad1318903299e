"""The helpers of ``symcalc.compiler.runtime`` in ``jax.numpy``, with the same names and the same
stable forms, so one printed pure body (``function_body(..., plan=False)``) runs under JAX: it
refers to
``np`` and to the helpers by name, and here ``np`` is ``jax.numpy``.

``jit`` wraps such a body in ``jax.jit``; the result composes with ``jax.grad`` and
``jax.vmap``.  Called on arrays, it runs the traced body rewritten for XLA's CPU code
(``_Rewritten``: shared values of several outputs computed once, ``sin`` and ``cos`` within
[-1, 1] as polynomials).  Imported only when JAX is asked for (``backend="jax"``, or JAX arrays given to a
generated function).
"""

from __future__ import annotations

import contextlib
import functools
import math
from typing import Any, Callable, Sequence

import jax
import jax.extend.core
import jax.numpy as jnp
import numpy
import jax.scipy.special as jsp

from .. import runtime

np = jnp  # the array module of the printed bodies, which call it ``np``
Array = Any  # a JAX array or tracer


def require() -> None:
    """Make sure JAX can be used, with float64 turned on (``jax_enable_x64``): symcalc's results
    are float64 on every backend.  Called when ``backend="jax"`` is asked for."""
    jax.config.update("jax_enable_x64", True)


def jit(body: Callable[..., Array], dtype: Any) -> Callable[..., Array]:
    """``body(*args, shape)`` as a jitted function of the arguments, converted to ``dtype``
    (``None``: each float input keeps its type, other input becomes JAX's default float).

    Called on arrays (not under a JAX transformation), the traced program may be rewritten
    (``_Rewritten``); under ``jax.jit``, ``grad`` or ``vmap`` it is the plain traced body."""

    def run(*args: Any) -> Array:
        arrays = [_as_float(a, dtype) for a in args]
        shape = jnp.broadcast_shapes(*(a.shape for a in arrays))
        result = body(*arrays, shape)
        return result.astype(dtype or jnp.result_type(*arrays))

    whole = jax.jit(run)
    rewritten: dict[tuple, Callable[..., Array]] = {}

    @functools.wraps(whole)
    def call(*args: Any) -> Array:
        key = tuple(map(_key, args))
        if _TRACED in key:
            return whole(*args)
        function = rewritten.get(key)
        if function is None:
            function = rewritten[key] = _Rewritten.of(run, args) or whole
        return function(*args)

    return call


_TRACED = object()  # the key of an argument that is a tracer


def _key(value: Any) -> Any:
    """What a traced program depends on in an argument: its kind, shape and dtype."""
    kind = type(value)
    if kind in _ARRAY_TYPES:  # the common case, checked first (``str`` of a dtype is slow)
        return kind, value.shape, value.dtype, value.weak_type
    if kind is numpy.ndarray:
        return kind, value.shape, value.dtype
    if isinstance(value, jax.core.Tracer):
        return _TRACED
    if isinstance(value, jax.Array):  # a concrete JAX array
        _ARRAY_TYPES.add(kind)
        return kind, value.shape, value.dtype, value.weak_type
    return (kind, numpy.shape(value), str(getattr(value, "dtype", "")),
            getattr(value, "weak_type", False))


_ARRAY_TYPES: set[type] = set()  # the concrete types of JAX arrays met so far


# Primitives worth computing once: transcendental functions, and calls holding a computation.
_EXPENSIVE = frozenset({
    "exp", "exp2", "log", "log1p", "expm1", "tanh", "logistic", "sin", "cos", "tan", "asin",
    "acos", "atan", "atan2", "sinh", "cosh", "asinh", "acosh", "atanh", "erf", "erfc",
    "erf_inv", "lgamma", "digamma", "pow", "sqrt", "rsqrt", "cbrt", "cond", "pjit", "jit",
    "custom_jvp_call", "custom_vjp_call"})
_WITHIN_ONE = frozenset({"sin", "cos", "tanh", "erf", "logistic"})  # values in [-1, 1]
_Literal = jax.extend.core.Literal


class _Rewritten:
    """The traced program of a generated function, evaluated again with two changes.

    - Several outputs run as two XLA programs: the first computes the values that the second
      would otherwise recompute, the second the outputs from them.  In one program XLA fuses
      everything into one loop whose outputs are assembled by a concatenation, and computes
      each output's operands anew, shared ``tanh`` or ``sin`` calls included: the gradient of a
      16-unit ``tanh`` layer in 8 inputs ran 30 to 60 times slower than one output.  The values
      kept are the expensive ones (``_EXPENSIVE``, or computed from one that is not kept) used
      more than once.
    - ``sin`` and ``cos`` of an argument that is itself a ``sin``, ``cos``, ``tanh`` or ``erf``
      (or minus one; so in [-1, 1]) are their Taylor polynomials (``_sin_within_one``), which
      XLA vectorises; its float64 ``sin`` and ``cos`` are one library call per point, several
      times slower.

    The values agree with the traced body's to an ulp or two (XLA may also round an operation
    differently in another loop).
    """

    def __init__(self, jaxpr: Any, consts: list, kept: list, polynomial: set) -> None:
        self.jaxpr, self.consts, self.kept, self.polynomial = jaxpr, consts, kept, polynomial
        self.first = jax.jit(self._first)
        self.second = jax.jit(self._second)

    @classmethod
    def of(cls, run: Callable[..., Array], args: tuple) -> "_Rewritten | None":
        """The rewritten form of ``run`` at arguments like ``args``, or None where there is
        nothing to rewrite."""
        closed = jax.make_jaxpr(run)(*args)
        jaxpr = closed.jaxpr
        shape = jnp.broadcast_shapes(*(numpy.shape(a) for a in args))
        several = (len(jaxpr.outvars) == 1 and len(jaxpr.outvars[0].aval.shape) > len(shape))
        uses: dict[Any, int] = {}
        for eqn in jaxpr.eqns:
            for v in eqn.invars:
                if not isinstance(v, _Literal):
                    uses[v] = uses.get(v, 0) + 1
        costly: set = set()
        kept: list = []
        within_one: set = set()
        polynomial: set = set()
        for eqn in jaxpr.eqns:
            name = eqn.primitive.name
            first = eqn.invars[0] if eqn.invars and not isinstance(eqn.invars[0], _Literal) \
                else None
            if name in _WITHIN_ONE or (name == "neg" and first in within_one):
                within_one.update(eqn.outvars)
            if name in ("sin", "cos") and first in within_one and \
                    jnp.issubdtype(first.aval.dtype, jnp.floating):
                polynomial.update(eqn.outvars)
            if several and (name in _EXPENSIVE or any(
                    v in costly for v in eqn.invars if not isinstance(v, _Literal))):
                for v in eqn.outvars:
                    (kept.append if uses.get(v, 0) > 1 else costly.add)(v)
        if not kept and not polynomial:
            return None
        return cls(jaxpr, closed.consts, kept, polynomial)

    def __call__(self, *args: Any) -> Array:
        return self.second(args, self.first(args) if self.kept else [])

    def _first(self, args: tuple) -> list:
        return self._evaluate(args, {}, self.kept)

    def _second(self, args: tuple, kept: list) -> Array:
        return self._evaluate(args, dict(zip(self.kept, kept)), self.jaxpr.outvars)[0]

    def _evaluate(self, args: tuple, env: dict, wanted: list) -> list:
        env = {**dict(zip(self.jaxpr.constvars, self.consts)),
               **dict(zip(self.jaxpr.invars, args)), **env}
        missing = [v for v in wanted if v not in env]
        read = lambda v: v.val if isinstance(v, _Literal) else env[v]  # noqa: E731
        for eqn in self.jaxpr.eqns:
            if not missing:
                break
            if all(v in env for v in eqn.outvars):
                continue
            values = list(map(read, eqn.invars))
            if eqn.outvars[0] in self.polynomial:
                function = _sin_within_one if eqn.primitive.name == "sin" else _cos_within_one
                out = function(values[0]).astype(eqn.outvars[0].aval.dtype)
            else:
                out = _bind(eqn, values)
            env.update(zip(eqn.outvars, out if eqn.primitive.multiple_results else [out]))
            missing = [v for v in missing if v not in env]
        return [read(v) for v in wanted]


# Taylor coefficients 1/n! with alternating signs: on [-1, 1] the first term left out is below
# 1/23! < 4e-23, far under float64 rounding.
_SIN_TERMS = tuple((-1) ** k / math.factorial(2 * k + 1) for k in range(11))
_COS_TERMS = tuple((-1) ** k / math.factorial(2 * k) for k in range(11))


def _horner(terms: tuple, z: Array) -> Array:
    total = terms[-1]
    for c in reversed(terms[:-1]):
        total = total * z + c
    return total


def _sin_within_one(x: Array) -> Array:
    """``sin(x)`` for ``|x| <= 1`` (NaN stays NaN, -0.0 stays -0.0)."""
    return x * _horner(_SIN_TERMS, x * x)


def _cos_within_one(x: Array) -> Array:
    """``cos(x)`` for ``|x| <= 1``."""
    return _horner(_COS_TERMS, x * x)


def _bind(eqn: Any, values: list) -> Any:
    """The equation ``eqn`` of a jaxpr applied to ``values``, as ``jax.core.eval_jaxpr`` does."""
    params = eqn.primitive.get_bind_params(eqn.params)
    subfunctions, params = params if isinstance(params, tuple) else ((), params)  # JAX < 0.7
    with getattr(getattr(eqn, "ctx", None), "manager", contextlib.nullcontext()):
        return eqn.primitive.bind(*subfunctions, *values, **params)


def _as_float(value: Any, dtype: Any) -> Array:
    if dtype is not None:
        return jnp.asarray(value, dtype=dtype)
    array = jnp.asarray(value)
    return array if jnp.issubdtype(array.dtype, jnp.floating) else array.astype(float)


def assemble(shape: tuple[int, ...], nesting: tuple[int, ...], rows: Sequence[Array]) -> Array:
    """The outputs ``rows`` as one array of shape ``nesting + shape`` (constants broadcast)."""
    if nesting and all(type(r) in _NUMBERS for r in rows):  # one broadcast, not a stack of many
        table = jnp.asarray(rows, dtype=float).reshape(nesting + (1,) * len(shape))
        return jnp.broadcast_to(table, nesting + shape)
    rows = [jnp.broadcast_to(r, shape) for r in rows]
    if not nesting:
        return rows[0]
    return jnp.stack(rows).reshape(nesting + shape)


_NUMBERS = frozenset({float, int})


def sigmoid(x: Array) -> Array:
    """``1 / (1 + exp(-x))`` from ``exp(-|x|)``: no overflow, and finite gradients."""
    e = jnp.exp(-jnp.abs(x))
    return jnp.where(x >= 0, 1.0, e) / (1.0 + e)


def logsumexp(*args: Array) -> Array:
    """``log(exp(a) + exp(b) + ...)`` elementwise, as the NumPy runtime computes it: the plain sum
    of exponentials where that neither overflows nor underflows anywhere, else the sum shifted by
    the maximum.

    The plain sum is one fused loop.  The shifted form is a separate branch (``lax.cond``), so
    XLA does not copy the maximum of all the arguments into every consumer of the result (which
    made a gradient of 100 arguments recompute 100 maxima per output).  The derivative is given
    directly (``softmax``), so no gradient goes through the branch or an overflowed exponential.
    """
    dtype = jnp.result_type(float, *args)  # numbers in the formula become floats, weakly typed
    return _logsumexp(*(jnp.asarray(a, dtype) for a in args))


@jax.custom_jvp
def _logsumexp(*args: Array) -> Array:
    if len(args) == 1:
        return args[0] + 0.0
    if len(args) == 2:
        return jnp.logaddexp(args[0], args[1])
    total = jnp.exp(args[0])
    for a in args[1:]:
        total = total + jnp.exp(a)
    safe = jnp.all((total > runtime._SAFE_LOW) & (total < jnp.inf))
    return jax.lax.cond(safe, lambda t, _: jnp.log(t), lambda _, a: _shifted_logsumexp(a),
                        total, args)


@_logsumexp.defjvp
def _logsumexp_jvp(primals: tuple, tangents: tuple) -> tuple[Array, Array]:
    value = _logsumexp(*primals)
    slope = sum(jnp.exp(a - value) * t for a, t in zip(primals, tangents))
    return value, jnp.broadcast_to(slope, jnp.shape(value))


def _shifted_logsumexp(args: Sequence[Array]) -> Array:
    """``max + log(sum(exp(a - max)))``: never overflows."""
    top = functools.reduce(jnp.maximum, args)
    shift = jnp.where(jnp.isfinite(top), top, 0.0)  # all -inf, or an inf: no shift
    total = jnp.exp(args[0] - shift)
    for a in args[1:]:
        total = total + jnp.exp(a - shift)
    return shift + jnp.log(total)


def erf(x: Array) -> Array:
    """The error function."""
    return jsp.erf(x)


def erfc(x: Array) -> Array:
    """The complementary error function ``1 - erf(x)``, accurate in the tail."""
    return jsp.erfc(x)
