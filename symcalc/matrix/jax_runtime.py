"""The helpers of ``symcalc.matrix.runtime`` in ``jax.numpy``, with the same names, so the source
printed for a shaped formula runs under JAX (there ``np`` is ``jax.numpy``): the size check works
on tracers (shapes are static under ``jax.jit`` and ``jax.vmap``), and softmax, log-sum-exp and
log-determinant are JAX's stable forms, with their gradients.  Imported only when JAX is asked for.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import jax
import jax.numpy as jnp

from .runtime import check_sizes

np = jnp  # the array module of the printed source, which calls it ``np``


def bind(values: Sequence[Any], names: Sequence[str], shapes: Sequence[Optional[tuple]],
         dtype: Any = float) -> tuple[tuple[Any, ...], dict[str, int]]:
    """JAX arrays of the arguments (``dtype``: their float type; None keeps a float array's own)
    and the sizes they give, checked as ``symcalc.matrix.runtime.bind`` checks them."""
    arrays = []
    sizes: dict[str, int] = {}
    seen: dict[str, str] = {}
    for value, name, shape in zip(values, names, shapes):
        if dtype is None:
            array = jnp.asarray(value)
            if not jnp.issubdtype(array.dtype, jnp.floating):
                array = array.astype(float)
        else:
            array = jnp.asarray(value, dtype=dtype)
        if shape is not None:
            check_sizes(name, array.shape, shape, sizes, seen)
        arrays.append(array)
    return tuple(arrays), sizes


def softmax(z: Any) -> Any:
    """``exp(z)/sum(exp(z))`` of a vector, without overflow."""
    return jax.nn.softmax(z)


def vector_logsumexp(z: Any) -> Any:
    """``log(sum(exp(z)))`` of a vector, without overflow; its gradient is ``softmax(z)``."""
    return jax.nn.logsumexp(z)


def logdet(x: Any) -> Any:
    """``log(det(x))`` through ``slogdet``; NaN when the determinant is not positive."""
    sign, value = jnp.linalg.slogdet(x)
    return jnp.where(sign > 0, value, jnp.nan)


def logsumexp_axis(z: Any, axis: int) -> Any:
    """``log(sum(exp(z), axis))`` of a matrix, without overflow."""
    return jax.nn.logsumexp(z, axis=axis)


def softmax_axis(z: Any, axis: int) -> Any:
    """``exp(z)/sum(exp(z), axis)`` of a matrix along ``axis``, without overflow."""
    return jax.nn.softmax(z, axis=axis)
