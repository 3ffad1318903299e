"""Generated NumPy-backend functions on arrays other than float64 NumPy arrays.

``GeneratedFunction`` sends here every call whose arguments are not plain NumPy input:

- JAX arrays (and JAX tracers, under ``jax.jit``, ``jax.grad`` or ``jax.vmap``): the pure body
  runs under ``jax.numpy`` (``symcalc.compiler.backends.jax_runtime``) in the arrays' own precision
  and gives a JAX array, so the NumPy backend's function composes with JAX's transformations too.
- Dask arrays: the pure body builds a lazy Dask array (NumPy dispatches each ufunc and ``stack``
  to Dask); nothing is computed until ``.compute()``.
- pandas Series: computed on their values; one output gives a Series with the index of the
  (first) Series argument, a flat list of outputs a DataFrame with one column per output.
- CuPy and other arrays that follow NumPy's dispatch protocols: the pure body, untested here.
- NumPy input under ``dtype=None`` (keep a float32 input float32) or ``dtype=numpy.float32``.

JAX, Dask and pandas are never imported here until an argument comes from them; arguments are
recognised by the name of their type's module.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import SymcalcError, SymcalcTypeError

_JAX = frozenset({"jax", "jaxlib"})


def library(value: Any) -> str:
    """The top-level package of ``value``'s type: "numpy", "jax", "dask", "pandas", ..."""
    return type(value).__module__.partition(".")[0]


def evaluate_arrays(function: Any, args: tuple) -> Any:
    """``function`` (a ``GeneratedFunction``) on ``args`` that are not all plain NumPy input."""
    kinds = {library(a) for a in args}
    if kinds & _JAX:
        values = tuple(_values(a) for a in args)
        return function.jax(values, None if function.dtype == np.float64 else function.dtype)
    if "pandas" in kinds:
        return _on_pandas(function, args)
    foreign = any(library(a) not in ("numpy", "builtins") and hasattr(a, "__array_function__")
                  for a in args)
    if not foreign and function.dtype == np.float64:
        return function.planned(*args)  # e.g. an ndarray subclass, or a bad argument's error
    return _pure(function, args, "dask" in kinds)


def _values(value: Any) -> Any:
    return value.to_numpy() if library(value) == "pandas" else value


def _pure(function: Any, args: tuple, lazy: bool) -> Any:
    """The pure body on NumPy-protocol arrays, in ``function.dtype`` or the inputs' float type."""
    wanted = function.dtype
    converted, dtypes, numbers = [], [], []
    for position, a in enumerate(args):
        if type(a) in (float, int, bool):
            numbers.append(position)
            converted.append(float(a))
            continue
        array = a if hasattr(a, "__array_function__") and hasattr(a, "dtype") else np.asarray(a)
        if array.dtype.kind not in "biuf":
            raise SymcalcTypeError(f"argument {position + 1}: expected a real number or an array "
                                   f"of real numbers, got an array of {array.dtype}")
        dtype = wanted or (array.dtype if array.dtype.kind == "f" else np.dtype(np.float64))
        converted.append(array if array.dtype == dtype else array.astype(dtype))
        dtypes.append(dtype)
    shapes = [a.shape for a in converted if not isinstance(a, float)]
    if any(n != n for s in shapes for n in s):  # NaN: a Dask array of unknown chunk sizes
        raise SymcalcError("an argument has an unknown length (a Dask array whose chunk sizes "
                           "are unknown): call its .compute_chunk_sizes() first")
    shape = np.broadcast_shapes(*shapes)
    dtype = wanted or (np.result_type(*dtypes) if dtypes else np.dtype(np.float64))
    for position in numbers:  # NumPy scalars of the result's type: IEEE rules, as arrays follow
        # (Python floats give a complex number for a negative one to a fractional power)
        converted[position] = np.dtype(dtype).type(converted[position])
    result = function.pure_body("symcalc.compiler.runtime")(*converted, shape)
    if lazy and library(result) != "dask":  # constant outputs: still a Dask array
        import dask.array as da
        result = da.asarray(result)
    if isinstance(result, (float, np.generic, np.ndarray)):
        result = np.asarray(result, dtype=dtype)
        return result[()] if result.ndim == 0 else result
    return result if result.dtype == dtype else result.astype(dtype)


def _on_pandas(function: Any, args: tuple) -> Any:
    """Series in, Series (or DataFrame, for a flat list of outputs) out, with the index kept."""
    import pandas as pd

    series = [a for a in args if isinstance(a, pd.Series)]
    result = function(*(_values(a) for a in args))
    if not series or not isinstance(result, np.ndarray):
        return result
    index = series[0].index
    if any(not s.index.equals(index) for s in series[1:]):
        raise SymcalcError("the pandas Series arguments have different indexes; align them "
                           "first (for example with Series.align)")
    if result.shape == (len(index),):
        return pd.Series(result, index=index)
    if len(function.nesting) == 1 and result.shape == function.nesting + (len(index),):
        return pd.DataFrame(result.T, index=index)
    return result
