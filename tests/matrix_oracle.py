"""Independent checks of derivatives in matrix form.

A matrix result is confirmed three ways, at small concrete sizes and random arrays:

1. unrolled: the shaped formula is spelt out entry by entry as scalar expressions
   (``symcalc.matrix.unroll``: ``A`` becomes ``A_1_1 ... A_m_n``), the scalar engine
   differentiates every entry by every entry of the variable, and the values must equal the
   matrix result's, entry by entry;
2. optionally against SymPy, differentiating the same unrolled scalar formulas;
3. against central finite differences of the shaped formula's own NumPy function.

A matrix declared symmetric unrolls with one scalar symbol per pair of entries (``S_2_1`` is
``S_1_2``) and a diagonal one with zeros off the diagonal, so the scalar engine differentiates by
the entries the matrix really has.  Its gradient ``R`` must lie in the structure (``R = R.T``;
zero off the diagonal) and give each of those derivatives by the chain rule: ``R_ij + R_ji`` by
the shared ``s_ij`` (i != j) and ``R_ii`` by ``s_ii``; finite differences step along the same
symmetric directions ``E_ij + E_ji`` and ``E_ii``.

A transposed or mis-ordered factor changes the numbers at once, so each check catches it.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Optional

import numpy as np

import symcalc as sc
from symcalc.matrix.nodes import MatrixExpr
from symcalc.matrix.unroll import concrete, symbol_grid, unroll

SIZES = {"m": 3, "n": 2, "k": 3, "p": 2, "h": 2}
RTOL, ATOL = 1e-8, 1e-10
FD_RTOL, FD_ATOL = 1e-5, 1e-6


def random_arrays(symbols: Iterable[MatrixExpr], sizes: Mapping[str, int], seed: int = 0,
                  spd: Iterable[str] = (), positive: Iterable[str] = (),
                  shifted: Iterable[str] = ()) -> dict[str, np.ndarray]:
    """Random values for each symbol; names in ``spd`` get symmetric positive-definite
    matrices, names in ``positive`` entries in (0.5, 2), names in ``shifted`` square matrices
    that are not symmetric, with the diagonal shifted so the determinant is positive."""
    rng = np.random.default_rng(seed)
    spd, positive, shifted = set(spd), set(positive), set(shifted)
    out = {}
    for s in sorted(symbols, key=lambda s: s.data):
        shape = concrete(s.shape, sizes)
        if s.structure == "diagonal":
            low = 0.5 if s.data in spd or s.data in positive else -2.0
            out[s.data] = np.diag(rng.uniform(low, 2.0, size=shape[0]))
        elif s.structure == "symmetric" and s.data not in spd:
            m = rng.normal(size=shape)
            out[s.data] = (m + m.T) / 2
        elif s.data in spd:
            m = rng.normal(size=shape)
            out[s.data] = m @ m.T + shape[0] * np.eye(shape[0])
        elif s.data in shifted:
            m = rng.normal(size=shape)
            out[s.data] = m + (np.abs(m).sum(axis=1).max() + 1) * np.eye(shape[0])
        elif s.data in positive:
            out[s.data] = rng.uniform(0.5, 2.0, size=shape)
        else:
            out[s.data] = rng.normal(size=shape)
    return out


def _entry_values(arrays: Mapping[str, np.ndarray]) -> dict[str, float]:
    values = {}
    for name, array in arrays.items():
        if array.ndim == 0:
            values[name] = float(array)
        for index in np.ndindex(*array.shape):
            if array.ndim:
                values[name + "".join(f"_{i + 1}" for i in index)] = float(array[index])
    return values


def scalar_values(exprs: np.ndarray, arrays: Mapping[str, np.ndarray]) -> np.ndarray:
    """Values of an object array of scalar expressions, through the scalar code generator."""
    values = _entry_values(arrays)
    names = sorted(values)
    flat = list(exprs.flat)
    if not flat:
        return np.zeros(exprs.shape)
    f = sc.lambdify(flat, names)
    return np.asarray(f(*(values[n] for n in names)), dtype=float).reshape(exprs.shape)


def matrix_value(e: MatrixExpr, arrays: Mapping[str, np.ndarray], shapes=None) -> np.ndarray:
    names = sorted(arrays)
    f = sc.matrix.lambdify(e, names, shapes=shapes)
    return np.asarray(f(*(arrays[n] for n in names)), dtype=float)


def unrolled_derivative(f: MatrixExpr, x: MatrixExpr, sizes: Mapping[str, int]) -> np.ndarray:
    """``d f[i] / d x[j]`` for every entry pair, with the scalar engine: shape f + x.  For a
    matrix with structure, ``x[j]`` is the scalar symbol standing at ``j`` (0 where a zero
    stands)."""
    fs = unroll(f, sizes)
    xs = symbol_grid(x, sizes)
    out = np.empty(fs.shape + xs.shape, dtype=object)
    for i in np.ndindex(*fs.shape):
        for j in np.ndindex(*xs.shape):
            out[i + j] = sc.diff(fs[i], xs[j]) if isinstance(xs[j], sc.Symbol) else sc.Num(0)
    return out


def by_shared_entries(result: np.ndarray, x: MatrixExpr) -> np.ndarray:
    """The derivatives by the scalar entries of a structured ``x`` that a gradient ``result``
    (trailing axes shaped like x) gives: ``R_ij + R_ji`` off the diagonal of a symmetric
    matrix, ``R_ii`` on it; a diagonal matrix's zeros off its diagonal stay as they are
    (compared with 0).  Without structure, ``result`` itself."""
    if x.structure != "symmetric":
        return result
    swapped = np.swapaxes(result, -1, -2)
    n = result.shape[-1]
    return np.where(np.eye(n, dtype=bool), result, result + swapped)


def in_structure(result: np.ndarray, x: MatrixExpr) -> None:
    """A gradient by a structured ``x`` lies in its structure."""
    if x.structure == "symmetric":
        np.testing.assert_allclose(result, np.swapaxes(result, -1, -2), rtol=RTOL, atol=ATOL,
                                   err_msg="a gradient by a symmetric matrix is not symmetric")
    elif x.structure == "diagonal":
        off = ~np.eye(result.shape[-1], dtype=bool)
        np.testing.assert_allclose(result[..., off], 0, atol=ATOL,
                                   err_msg="a gradient by a diagonal matrix is not diagonal")


def sympy_derivative(f: MatrixExpr, x: MatrixExpr, sizes, arrays) -> np.ndarray:
    import sympy

    fs = unroll(f, sizes)
    xs = symbol_grid(x, sizes)
    subs = {sympy.Symbol(k): v for k, v in _entry_values(arrays).items()}
    out = np.empty(fs.shape + xs.shape)
    for i in np.ndindex(*fs.shape):
        s = sc.to_sympy(fs[i])
        for j in np.ndindex(*xs.shape):
            out[i + j] = (float(sympy.diff(s, sc.to_sympy(xs[j])).evalf(30, subs=subs))
                          if isinstance(xs[j], sc.Symbol) else 0.0)
    return out


def finite_differences(f: MatrixExpr, x: MatrixExpr, arrays: Mapping[str, np.ndarray]) -> np.ndarray:
    base = arrays[x.data]
    fvalue = matrix_value(f, arrays)
    out = np.empty(fvalue.shape + base.shape)
    for j in np.ndindex(*base.shape):
        h = 1e-6 * max(1.0, abs(float(base[j])))
        step = np.zeros_like(base)
        if x.structure == "diagonal" and j[0] != j[1]:
            out[(Ellipsis,) + j] = 0.0  # no direction: the entry is zero
            continue
        step[j] = h
        if x.structure == "symmetric":  # the symmetric direction E_ij + E_ji
            step[j[::-1]] = h
        up, down = base + step, base - step
        out[(Ellipsis,) + j] = (matrix_value(f, {**arrays, x.data: up})
                                - matrix_value(f, {**arrays, x.data: down})) / (2 * h)
    return out


def check(f: MatrixExpr, x: MatrixExpr, result: MatrixExpr, sizes: Optional[Mapping] = None,
          seed: int = 0, spd: Iterable[str] = (), positive: Iterable[str] = (),
          with_sympy: bool = False, shifted: Iterable[str] = ()) -> None:
    """``result`` is d f / d x (shape ``f.shape + x.shape``), checked every way listed above."""
    sizes = dict(SIZES, **(sizes or {}))
    assert result.shape == f.shape + x.shape, (result.shape, f.shape, x.shape)
    symbols = f.free_symbols | result.free_symbols | {x}
    arrays = random_arrays(symbols, sizes, seed, spd, positive, shifted)
    value = matrix_value(result, arrays, {s.data: s.shape for s in symbols if s.ndim <= 2})
    in_structure(value, x)
    got = by_shared_entries(value, x)
    expected = scalar_values(unrolled_derivative(f, x, sizes), arrays)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL,
                               err_msg=f"{result} disagrees with the unrolled derivative")
    if with_sympy:
        np.testing.assert_allclose(got, sympy_derivative(f, x, sizes, arrays), rtol=RTOL,
                                   atol=ATOL, err_msg=f"{result} disagrees with SymPy")
    differences = finite_differences(f, x, arrays)
    # a central difference's error grows with the size of the values: the tolerance of an entry
    # near 0 beside entries of 1e3 is relative to those
    scale = max(1.0, float(np.max(np.abs(differences)))) if differences.size else 1.0
    np.testing.assert_allclose(got, differences, rtol=FD_RTOL, atol=FD_ATOL * scale,
                               err_msg=f"{result} disagrees with finite differences")
