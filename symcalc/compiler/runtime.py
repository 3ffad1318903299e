"""Numerically stable helpers that generated NumPy code calls.

The registry's NumPy forms (``symcalc.functions.elementary``) and the code generator call a helper
NAME as
``_rt.NAME``.  ``lambdify`` binds those names to the functions of this module; ``codegen`` copies
the source of each helper a function calls, and of everything that helper uses, from this file
into the generated file (by default without annotations), which so needs only NumPy.  Hence the
rules of this module: at module level it imports only the standard library and NumPy (SciPy is
imported inside a function, when present), and every helper works from the names of this module
alone.

Each helper accepts Python floats, NumPy scalars and arrays (broadcasting like a ufunc), and has a
fast path for a single point, which is what an optimiser calling a generated function in a loop
pays.

``erf`` and ``erfc`` use SciPy's when SciPy can be imported, and otherwise a vectorised NumPy
implementation (a positive-term series near zero, a continued fraction for ``erfc`` in the tails)
accurate to about 1e-15.  SciPy is never required.
"""

from __future__ import annotations

import functools
import math
import mmap
from typing import Any, Callable, Sequence

import numpy as np

Array = Any  # a float, a NumPy scalar or an ndarray


# --- arguments and results of generated functions ----------------------------------------------
def prepare(*args: Any) -> tuple[tuple[Array, ...], tuple[int, ...]]:
    """Arguments as floats or float arrays, and the shape they broadcast to.

    Integers become floats (so ``x**-1`` and ``1/x`` work on integer input); Python floats pass
    through untouched, since scalar arithmetic on them is cheapest.
    """
    if _all_floats(map(type, args)):  # the single-point fast path, checked in C
        return args, ()
    converted = [a if _ready(a) else _as_float(a, k) for k, a in enumerate(args)]
    shapes = [a.shape for a in converted if type(a) is np.ndarray]
    if not shapes:
        return tuple(converted), ()
    first = shapes[0]
    if len(shapes) == len(converted) and all(s == first for s in shapes):
        return tuple(converted), first
    return tuple(converted), np.broadcast_shapes(*shapes)


_all_floats = {float}.issuperset
_FLOAT64 = np.dtype(float)


def _ready(value: Any) -> bool:
    """A Python float, or a float64 array of at least one dimension: taken as it is."""
    kind = type(value)
    return kind is float or (kind is np.ndarray and value.dtype is _FLOAT64 and value.ndim > 0)


# What Python float arithmetic raises (or returns) where NumPy would give inf or nan: a generated
# function that meets one at a single point computes that point again in NumPy scalars.
FLOAT_FAULTS = (ZeroDivisionError, OverflowError, ValueError, TypeError)


def numpy_scalars(*args: float) -> tuple[np.float64, ...]:
    """Python floats as NumPy scalars, whose arithmetic follows IEEE rules (1/0 -> inf)."""
    return tuple(np.float64(a) for a in args)


def evaluate(body: Callable[..., Array], arrays: Callable[..., Array], *args: Any) -> Array:
    """Run a generated function on its arguments: ``arrays``, the memory-planned body, when every
    argument is an array; ``body``, the pure one, otherwise.

    At a single point the body runs on NumPy scalars, which give inf or nan as arrays do (the
    callers have tried Python floats first where that is safe: a negative Python float to a
    fractional power is a complex number, which ``abs`` or a comparison could turn back into a
    wrong real one); a NumPy float result is returned as a Python float.
    """
    if _all_floats(map(type, args)):  # the single-point fast path of prepare, inlined
        values, shape = args, ()
    elif _one_layout(args):  # what prepare takes as it is
        return _planned(arrays, args, args[0].shape)
    else:
        try:
            values, shape = prepare(*args)
        except ArgumentError as exc:
            name = body.__code__.co_varnames[exc.position]
            raise TypeError(f"argument {name}: {exc}") from None
        if shape and _all_arrays(map(type, values)):
            return _planned(arrays, values, shape)
    if shape:
        return body(*values, shape)
    result = body(*numpy_scalars(*values), shape)
    return float(result) if type(result) is np.float64 else result


def _planned(arrays: Callable[..., Array], values: Sequence[np.ndarray],
             shape: tuple[int, ...]) -> Array:
    """The planned body on NumPy arrays, block by block for a long call whose values all have
    the whole shape."""
    if shape[-1] >= 2 * BLOCK and all(v.shape == shape for v in values):
        return in_blocks(arrays, values, shape)
    return arrays(*values, shape)


_all_arrays = {np.ndarray}.issuperset


def _one_layout(values: Sequence[Any]) -> bool:
    """Whether the values are NumPy float64 arrays of one shape of at least one dimension, taken
    as they are.  (A plain loop: for 6 to 30 arrays it was a third faster than building sets of
    their dtypes and shapes.)"""
    if not values or type(values[0]) is not np.ndarray or not values[0].shape:
        return False
    shape = values[0].shape
    for value in values:
        if type(value) is not np.ndarray or value.dtype is not _FLOAT64 or value.shape != shape:
            return False
    return True


# Points per block of a long call: a block's temporaries stay in the processor's cache.
BLOCK = 1 << 14


def in_blocks(arrays: Callable[..., Array], values: Sequence[Array], shape: tuple[int, ...]) -> Array:
    """``arrays(*values, shape)`` computed block by block along the last axis (every value has
    ``shape``): elementwise code gives the same numbers, and its temporaries stay small.

    ``arrays(*block, block_shape, out)`` writes a block's outputs straight into ``out``, that
    block's slice of the whole result, and returns it; a result that is another array (a single
    output) is copied in.  The result is allocated zeroed, as fresh memory from the system
    already is, for a body that leaves its zero rows unwritten; the body run at the first point
    gives its layout, and a result most of whose rows are zero there is a ``sparse_zeros``.
    """
    n, outer = shape[-1], shape[:-1]
    probe = np.asarray(arrays(*[v[..., :1] for v in values], outer + (1,)))
    nesting = probe.shape[:probe.ndim - len(shape)]
    rows = math.prod(nesting)
    written = np.reshape(probe, (rows, -1)).any(axis=1)
    if nesting and 3 * (rows - np.count_nonzero(written)) > 2 * rows:
        out = sparse_zeros(nesting + shape, rows, row_runs(written))
    else:
        out = np.zeros(nesting + shape)
    for start in range(0, n, BLOCK):
        stop = min(start + BLOCK, n)
        target = out[..., start:stop]
        part = arrays(*[v[..., start:stop] for v in values], outer + (stop - start,), target)
        if part is not target:
            target[...] = part
    return out


def row_runs(flags: Sequence[bool]) -> list[tuple[int, int]]:
    """The runs ``(first, stop)`` of the true entries of a sequence of booleans."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], flags, [0])).astype(np.int8)))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist()))


class ArgumentError(TypeError):
    """An argument that is not a real number or an array of real numbers."""

    def __init__(self, message: str, position: int):
        super().__init__(message)
        self.position = position


def _as_float(value: Any, position: int = 0) -> Array:
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    array = None if value is None or isinstance(value, (str, bytes)) else np.asarray(value)
    if array is None or array.dtype.kind not in "biuf":
        shown = type(value).__name__ if array is None else f"an array of {array.dtype}"
        raise ArgumentError(f"expected a real number or an array of real numbers, got {shown}",
                            position)
    array = array.astype(float, copy=False)
    return array if array.ndim else float(array)


def filled(shape: tuple[int, ...], value: Array) -> Array:
    """``value`` broadcast to ``shape`` as a new float array (a float for the empty shape)."""
    if not shape:
        return float(value)
    return np.zeros(shape) + value


# NumPy asks the system for huge pages (2 MiB, cleared whole when first written) for arrays of
# at least 4 MiB.
_HUGE_PAGE = 1 << 21
_HUGE_PAGES_FROM = 1 << 22


def sparse_zeros(shape: tuple[int, ...], rows: int = 1,
                 written: Sequence[tuple[int, int]] = ()) -> np.ndarray:
    """``np.zeros(shape)`` for an output most of whose ``rows`` (its slices ``out[i, ..., :]``,
    counted in row-major order) stay zero; ``written``: the runs ``(first, stop)`` of the rows
    the caller then writes.

    A large one is mapped without huge pages, so the system clears and maps only the 4 KiB
    pages of the rows written, not the 2 MiB around each: for a Hessian with a few nonzero
    rows, most of the cost of the call.  Those pages are mapped at once, one request per run,
    where the system can (each page's first write would stop the program).  Smaller arrays,
    rows of 2 MiB or more (which fill huge pages of their own), and systems without private
    anonymous maps take ``np.zeros``.
    """
    nbytes = 8 * math.prod(shape)
    if (nbytes < _HUGE_PAGES_FROM or 8 * shape[-1] >= _HUGE_PAGE
            or not hasattr(mmap, "MAP_PRIVATE")):
        return np.zeros(shape)
    memory = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    if hasattr(mmap, "MADV_NOHUGEPAGE"):  # when the system gives huge pages unasked
        memory.madvise(mmap.MADV_NOHUGEPAGE)
        row = nbytes // rows
        try:
            for first, stop in written:
                start = first * row & -mmap.PAGESIZE
                memory.madvise(_POPULATE_WRITE, start, min(stop * row, nbytes) - start)
        except OSError:  # a system before Linux 5.14: the pages are mapped as they are written
            pass
    return np.frombuffer(memory, dtype=float).reshape(shape)  # the array keeps the map alive


# Linux's madvise(MADV_POPULATE_WRITE): map and clear the pages of a range now.
_POPULATE_WRITE = getattr(mmap, "MADV_POPULATE_WRITE", 23)


_NUMBER_TYPES = frozenset({float, int, bool, complex})
_plain_numbers = (_NUMBER_TYPES | {np.float64}).issuperset


def assemble(shape: tuple[int, ...], nesting: tuple[int, ...], rows: Sequence[Array]) -> Array:
    """The outputs ``rows`` (in row-major order) as one array of shape ``nesting + shape``, each
    broadcast to ``shape`` (a constant too), without writing into an array: the rows are
    stacked, and NumPy dispatches ``stack`` to Dask or CuPy when a row is one of their arrays.
    At a single point (Python or NumPy numbers) the result is a float, or a float array of shape
    ``nesting``; a complex row raises TypeError, as Python floats do.
    """
    if not shape:
        if _plain_numbers(map(type, rows)):  # checked in C: the common case, a point of floats
            if len(nesting) == 1:
                return np.fromiter(rows, _FLOAT64, nesting[0])
            if not nesting:
                return float(rows[0])
            return np.fromiter(rows, _FLOAT64, len(rows)).reshape(nesting)
        if all(type(r) in _NUMBER_TYPES or isinstance(r, np.generic) for r in rows):
            if any(isinstance(r, (complex, np.complexfloating)) for r in rows):
                raise TypeError("a complex output at a point")  # not cast to its real part
            if not nesting:
                return float(rows[0])
            stacked = np.array(rows, dtype=float)
            return stacked if len(nesting) == 1 else stacked.reshape(nesting)
    if not nesting:
        (row,) = rows
        if getattr(row, "shape", None) == shape:
            return row
        return np.broadcast_to(row, shape) * 1.0  # a new array, not a read-only view; keeps -0.0
    stacked = np.stack([r if getattr(r, "shape", None) == shape else np.broadcast_to(r, shape)
                        for r in rows])
    return stacked if len(nesting) == 1 else np.reshape(stacked, nesting + shape)


def float_array(x: Any) -> Array:
    """``x`` as a float array; an array of another library that follows NumPy's protocols (Dask,
    CuPy) stays what it is, so the helpers build its lazy or device computation."""
    if type(x) is not np.ndarray and hasattr(x, "__array_function__") and x.dtype.kind == "f":
        return x
    return np.asarray(x, dtype=float)


# --- stable elementwise functions -------------------------------------------------------------
def sigmoid(x: Array) -> Array:
    """``1 / (1 + exp(-x))`` without overflow and with full relative precision for large ``|x|``."""
    kind = type(x)
    if kind is float or kind is np.float64:  # a point: NumPy scalars stay NumPy scalars (1/0)
        if x >= 0:
            value = 1.0 / (1.0 + math.exp(-x))
        else:
            e = math.exp(x)
            value = e / (1.0 + e)
        return value if kind is float else np.float64(value)
    x = float_array(x)
    e = np.exp(-np.abs(x))  # never overflows
    return np.where(x >= 0, 1.0, e) / (1.0 + e)


def logsumexp(*args: Array) -> Array:
    """``log(exp(a) + exp(b) + ...)`` elementwise over broadcast arguments, shifted by the maximum."""
    if len(args) == 1:
        return args[0] + 0.0
    if _all_floats(map(type, args)):
        return _logsumexp_floats(args)
    if all(isinstance(a, float) for a in args):  # NumPy scalars among them stay NumPy scalars
        return np.float64(_logsumexp_floats([float(a) for a in args]))
    if len(args) == 2:
        return np.logaddexp(args[0], args[1])
    if not all(isinstance(a, (int, float, np.generic, np.ndarray)) for a in args):
        return _shifted_logsumexp(args)  # another array type (Dask): no test of its values
    # Without a shift the sum of positive terms is accurate unless it overflows or underflows;
    # only then is the shifted form (twice the work) needed.
    with np.errstate(over="ignore"):
        total = np.exp(args[0])
        same = type(total) is np.ndarray and all(
            type(a) is np.ndarray and a.shape == total.shape for a in args)
        term = np.empty_like(total) if same else None
        for a in args[1:]:
            if same:  # in place: no new array per term
                np.exp(a, out=term)
                total += term
            else:
                total = total + np.exp(a)
    if same:
        safe = _SAFE_LOW < total.min() and total.max() < np.inf
    else:
        safe = np.all((total > _SAFE_LOW) & (total < np.inf))
    if safe:
        return np.log(total)
    return _shifted_logsumexp(args)


def _shifted_logsumexp(args: Sequence[Array]) -> Array:
    """``max + log(sum(exp(a - max)))``: never overflows; only ufuncs and ``where``."""
    top = functools.reduce(np.maximum, args)
    shift = np.where(np.isfinite(top), top, 0.0)  # all -inf, or an inf: no shift needed
    total = np.exp(args[0] - shift)
    for a in args[1:]:
        total = total + np.exp(a - shift)
    return shift + np.log(total)


_SAFE_LOW = 1e-280  # a sum of exponentials above this has lost nothing to underflow


def _logsumexp_floats(args: Sequence[float]) -> float:
    try:
        total = sum(map(math.exp, args))
        if _SAFE_LOW < total < math.inf:
            return math.log(total)
    except OverflowError:
        pass
    if any(a != a for a in args):
        return math.nan
    top = max(args)
    if math.isinf(top):
        return top
    return top + math.log(sum(math.exp(a - top) for a in args))


# --- erf ---------------------------------------------------------------------------------------
_SERIES_LIMIT = 2.5  # |x| below this: series; above: continued fraction for erfc
_SERIES_TERMS = 60
_FRACTION_TERMS = 80
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_ERFC_TAIL_FROM = 1.5  # erfc_numpy: the continued fraction from here on


def erf_numpy(x: Array) -> Array:
    """The error function in plain NumPy, vectorised, accurate to about 1e-15.

    Near zero: ``erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n 2^n x^(2n+1) / (1*3*...*(2n+1))``, whose
    terms are all positive (no cancellation).  In the tails: ``erf(x) = 1 - erfc(x)`` with
    ``erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))`` evaluated
    bottom-up with a fixed depth.
    """
    x = float_array(x)
    a = np.abs(x)
    small = a < _SERIES_LIMIT
    # series, evaluated where it is used (other points get a harmless value)
    s = np.where(small, a, 0.0)
    two_s2 = 2.0 * s * s
    term = s.copy()
    total = s.copy()
    for n in range(1, _SERIES_TERMS):
        term = term * two_s2 / (2 * n + 1)
        total = total + term
    near = _TWO_OVER_SQRT_PI * np.exp(-s * s) * total
    far = 1.0 - _erfc_tail(np.where(small, _SERIES_LIMIT, a))
    result = np.sign(x) * np.where(small, near, far)
    return float(result) if type(result) is np.ndarray and not result.ndim else result


def _erfc_tail(t: np.ndarray) -> np.ndarray:
    """erfc(t) for t >= 1.5 by its continued fraction, to full relative precision (80 terms
    reach 1e-15 from t = 1.5 on)."""
    fraction = t.copy()
    for k in range(_FRACTION_TERMS, 0, -1):
        fraction = t + (0.5 * k) / fraction
    return np.exp(-t * t) / (math.sqrt(math.pi) * fraction)


def erfc_numpy(x: Array) -> Array:
    """The complementary error function ``1 - erf(x)`` in plain NumPy, vectorised.

    ``1 - erf(x)`` loses every digit for large x (erfc(6) is 2e-17); here the tail
    ``x >= 1.5`` comes from the continued fraction directly, and below it ``1 - erf(x)`` is at
    least 0.03, so little is lost (relative error below 1e-13 everywhere).
    """
    x = float_array(x)
    far = x >= _ERFC_TAIL_FROM
    tail = _erfc_tail(np.where(far, x, _ERFC_TAIL_FROM))
    result = np.where(far, tail, 1.0 - erf_numpy(np.where(far, 0.0, x)))
    return float(result) if type(result) is np.ndarray and not result.ndim else result


def _pick_erf() -> Callable[[Array], Array]:
    try:
        from scipy.special import erf as scipy_erf
    except ImportError:  # SciPy is optional
        return erf_numpy
    return scipy_erf


_erf_impl: Callable[[Array], Array] | None = None


def erf(x: Array) -> Array:
    """The error function: SciPy's when SciPy is installed, otherwise ``erf_numpy``."""
    global _erf_impl
    if _erf_impl is None:  # resolved on first use, so importing symcalc never imports SciPy
        _erf_impl = _pick_erf()
    return _erf_impl(x)


_erfc_impl: Callable[[Array], Array] | None = None


def erfc(x: Array) -> Array:
    """The complementary error function: SciPy's when SciPy is installed, else ``erfc_numpy``."""
    global _erfc_impl
    if _erfc_impl is None:
        try:
            from scipy.special import erfc as scipy_erfc
        except ImportError:  # SciPy is optional
            scipy_erfc = erfc_numpy
        _erfc_impl = scipy_erfc
    return _erfc_impl(x)


def erf_backend() -> str:
    """Which implementation ``erf`` uses: ``"scipy"`` or ``"numpy"``."""
    return "numpy" if _pick_erf() is erf_numpy else "scipy"
