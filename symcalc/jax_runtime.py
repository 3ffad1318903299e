"""The helpers of ``symcalc.runtime`` in ``jax.numpy``, with the same names and the same stable
forms, so one printed pure body (``function_body(..., plan=False)``) runs under JAX: it refers to
``np`` and to the helpers by name, and here ``np`` is ``jax.numpy``.

``jit`` wraps such a body in ``jax.jit``; the result composes with ``jax.grad`` and
``jax.vmap``.  Imported only when JAX is asked for (``backend="jax"``, or JAX arrays given to a
generated function).
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp

from . import runtime

np = jnp  # the array module of the printed bodies, which call it ``np``
Array = Any  # a JAX array or tracer


def require() -> None:
    """Make sure JAX can be used, with float64 turned on (``jax_enable_x64``): symcalc's results
    are float64 on every backend.  Called when ``backend="jax"`` is asked for."""
    jax.config.update("jax_enable_x64", True)


def jit(body: Callable[..., Array], dtype: Any) -> Callable[..., Array]:
    """``body(*args, shape)`` as a jitted function of the arguments, converted to ``dtype``
    (``None``: each float input keeps its type, other input becomes JAX's default float)."""

    def run(*args: Any) -> Array:
        arrays = [_as_float(a, dtype) for a in args]
        shape = jnp.broadcast_shapes(*(a.shape for a in arrays))
        result = body(*arrays, shape)
        return result.astype(dtype or jnp.result_type(*arrays))

    return jax.jit(run)


def _as_float(value: Any, dtype: Any) -> Array:
    if dtype is not None:
        return jnp.asarray(value, dtype=dtype)
    array = jnp.asarray(value)
    return array if jnp.issubdtype(array.dtype, jnp.floating) else array.astype(float)


def assemble(shape: tuple[int, ...], nesting: tuple[int, ...], rows: Sequence[Array]) -> Array:
    """The outputs ``rows`` as one array of shape ``nesting + shape`` (constants broadcast)."""
    rows = [jnp.broadcast_to(r, shape) for r in rows]
    if not nesting:
        return rows[0]
    return jnp.stack(rows).reshape(nesting + shape)


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
