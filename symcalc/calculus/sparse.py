"""Second-order structure at scale: sparse Jacobians and Hessians, Hessian diagonals, Laplacians
and divergences.

A large objective is almost always a sum of small terms, each depending on a few variables (a
Rosenbrock term on two, a finite-difference stencil on three).  The Hessian of the sum is the sum
of the terms' small dense Hessians, so its structural non-zeros are known before anything is
differentiated: ``free_symbols``, memoised on every interned node, says which variables each term
depends on.  Terms that are the same formula up to a renaming of the variables (the same
structure, ``100*(x2 - x1^2)^2`` and ``100*(x3 - x2^2)^2``) form one *group*: its Hessian is
differentiated once, on the first term, and the group keeps, per term, the indices of its
variables.  The symbolic work therefore grows with the number of distinct term structures, the
index arrays with the number of non-zeros, and nothing ever touches the d^2 zero entries.

Evaluation is vectorised per group: the group's few formulas are compiled once by ``lambdify`` and
called on the gathered variables of all its terms, and the contributions are summed into the
``data`` array of a fixed CSR pattern.  The readable formula of an entry is built only when asked
for (``H[i, j]``, ``H.entries``): the group's formula with the term's own variables, summed over
the terms that share the entry.

>>> import symcalc as sc
>>> H = sc.hessian("x^2*y + y^3 + z^4", "x y z", sparse=True)
>>> H
SparseDerivatives(hessian 3 x 3, 4 stored entries (5 non-zeros))
>>> H[0, 1], H[2, 2], H[0, 2]
(Expr('2*x'), Expr('12*z^2'), Expr('0'))
>>> sc.laplacian("exp(-(x^2 + y^2)/2)", "x y")
Expr('exp(-x^2/2 - y^2/2)*(x^2 + y^2 - 2)')
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from ..compiler.compile import lambdify as _lambdify
from ..language.arguments import ExprLike, VarLike, to_expr, to_functions, to_symbols
from .diff import forward
from ..errors import ShapeError, SymcalcError, SymcalcTypeError
from ..core.expr import (ONE, ZERO, Add, Call, Expr, Mul, Num, Symbol, add, count_ops, mul,
                         postorder, power, rebuild)
from ..printing.layout import latex_matrix, list_text
from ..matrix import api as _matrix
from ..matrix.ops import diag as _diag, trace as _trace
from ..rewrite.simplify import simplify

__all__ = ["SparseBatch", "SparseDerivatives", "HessianDiagonal", "divergence", "hessian",
           "hessian_diag", "jacobian", "laplacian"]

_SCIPY_MISSING = ('evaluating a sparse result needs SciPy, which is not installed: '
                  'pip install "symcalc[sparse]"')


# --- terms and their structures ------------------------------------------------------------------
def _terms(e: Expr, wanted: frozenset[Symbol]) -> list[Expr]:
    """``e`` as a sum of terms that depend on ``wanted``: sums are split, and a product of one
    such sum with factors free of ``wanted`` (``c*(a + b)``) is split into ``c*a + c*b``."""
    found, stack = [], [e]
    while stack:
        node = stack.pop()
        if wanted.isdisjoint(node.free_symbols):
            continue
        if isinstance(node, Add):
            stack.extend(node.args)
            continue
        if isinstance(node, Mul):
            varying = [f for f in node.args if not wanted.isdisjoint(f.free_symbols)]
            if len(varying) == 1 and isinstance(varying[0], Add):
                rest = mul(*(f for f in node.args if f is not varying[0]))
                stack.extend(mul(rest, t) for t in varying[0].args)
                continue
        found.append(node)
    return found


def _structure(term: Expr, index: dict[Symbol, int]) -> tuple[tuple, tuple[int, ...]]:
    """A key equal for terms that are the same graph up to renaming the variables of ``index``,
    and the indices of the term's variables in the order the key numbers them."""
    ids: dict[int, int] = {}
    parts: list[tuple] = []
    slot: dict[Symbol, int] = {}
    for node in postorder([term]):
        kind = type(node)
        if kind is Symbol and node in index:
            part = ("v", slot.setdefault(node, len(slot)))
        elif not node.args:
            part = (node,)  # a number, a constant or a parameter: itself
        else:
            head = node.fn if kind is Call else (kind, node._raw)
            part = (head, tuple(ids[id(a)] for a in node.args))
        ids[id(node)] = len(parts)
        parts.append(part)
    return tuple(parts), tuple(index[s] for s in slot)


def _derivative(e: Expr, var: Symbol, memo: dict | None = None) -> Expr:
    return simplify(forward(e, {var: ONE}, memo))


@dataclass
class _Group:
    """Terms of one structure: the first term (the template), its variables, and per term the
    indices of its variables (``index``, one row per term) and the row it belongs to."""

    term: Expr
    variables: list[Symbol]
    index: list[tuple[int, ...]] = field(default_factory=list)
    owner: list[int] = field(default_factory=list)
    entries: list[tuple[int, int, Expr]] = field(default_factory=list)  # (a, b, formula)
    compiled: Any = None  # (parameters, function): see _compiled_group


def _template_entries(group: _Group, kind: str) -> list[tuple[int, int, Expr]]:
    """The non-zero derivatives of the template term: ``(a, b, d2t/dva dvb)`` for a <= b
    (Hessian), ``(a, a, ...)`` (diagonal) or ``(-1, a, dt/dva)`` (gradient: a Jacobian row)."""
    t, vs = group.term, group.variables
    first = [_derivative(t, v) for v in vs]
    if kind == "jacobian":
        return [(-1, a, g) for a, g in enumerate(first) if g is not ZERO]
    memos = [{} for _ in vs]  # per variable: shared subexpressions differentiated once
    found = []
    for a, g in enumerate(first):
        for b in (range(a, len(vs)) if kind == "hessian" else (a,)):
            if vs[b] in g.free_symbols:
                entry = _derivative(g, vs[b], memos[b])
                if entry is not ZERO:
                    found.append((a, b, entry))
    return found


class _Plan:
    """The groups of a sum of terms, and where each of their contributions goes.

    Contributions are ordered group by group, entry by entry, term by term; ``slot[c]`` is the
    stored entry contribution ``c`` adds to (stored entries sorted row-major), or ``-1`` for a
    contribution to an entry where the terms cancel (see ``_drop_cancelled``)."""

    def __init__(self, functions: Sequence[Expr], xs: Sequence[Symbol], kind: str):
        self.kind, self.xs = kind, list(xs)
        index = {x: i for i, x in enumerate(xs)}
        wanted = frozenset(xs)
        groups: dict[tuple, _Group] = {}
        for row, f in enumerate(functions):
            for term in _terms(f, wanted):
                key, variables = _structure(term, index)
                group = groups.get(key)
                if group is None:
                    group = groups[key] = _Group(term, [xs[i] for i in variables])
                group.index.append(variables)
                group.owner.append(row)
        rows, cols = [], []
        self.groups: list[_Group] = []
        for group in groups.values():
            group.entries = _template_entries(group, kind)
            if not group.entries:
                continue
            table = np.array(group.index, dtype=np.int64).reshape(len(group.index), -1)
            group.index = table
            owner = np.array(group.owner, dtype=np.int64)
            for a, b, _ in group.entries:
                i, j = (owner if a < 0 else table[:, a]), table[:, b]
                rows.append(np.minimum(i, j) if kind != "jacobian" else i)
                cols.append(np.maximum(i, j) if kind != "jacobian" else j)
            self.groups.append(group)
        sizes = [len(g.entries) * len(g.index) for g in self.groups]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        empty = np.zeros(0, dtype=np.int64)
        self._route(np.concatenate(rows) * len(xs) + np.concatenate(cols) if rows else empty)
        if self.summed:
            self._drop_cancelled()

    def _route(self, keys: np.ndarray) -> None:
        """Stored entries and slots from the contributions' keys ``row*d + col`` (-1: dropped)."""
        stored, slot = np.unique(keys, return_inverse=True)
        slot = slot.reshape(-1)
        if len(stored) and stored[0] < 0:
            stored, slot = stored[1:], slot - 1
        d = max(len(self.xs), 1)
        self.keys, self.slot = stored, slot
        self.rows, self.cols = stored // d, stored % d
        kept = np.flatnonzero(slot >= 0)
        self.order = kept[np.argsort(slot[kept], kind="stable")]
        self.counts = np.bincount(slot[kept], minlength=len(stored))
        self.starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]]).astype(np.int64)
        self.summed = bool((self.counts > 1).any())
        self.complete = len(kept) == len(slot)  # no contribution dropped

    def _drop_cancelled(self) -> None:
        """Entries to which several terms contribute and whose sum simplifies to 0 are no
        structural non-zeros (``x*(1 + y) - x*y``): found by their values at two points, then
        confirmed symbolically (all of them symbolically when the formulas have no numeric form,
        such as abstract functions)."""
        shared = np.flatnonzero(self.counts > 1)
        try:
            shared = shared[self._near_zero(shared)]
        except SymcalcError:
            pass
        cancelled = [k for k in shared if self.formula(int(k)) is ZERO]
        if cancelled:
            keys = self.keys[self.slot]
            keys[np.isin(self.slot, cancelled)] = -1
            self._route(keys)

    def _near_zero(self, shared: np.ndarray) -> np.ndarray:
        """Which of the ``shared`` entries are 0 (to rounding) at two random points."""
        symbols = sorted({s for g in self.groups for _, _, e in g.entries for s in e.free_symbols}
                         | set(self.xs), key=lambda s: s.name)
        values = _Values(self, symbols)
        random = np.random.default_rng(0)
        suspects = np.ones(len(shared), dtype=bool)
        for _ in range(2):
            point = random.uniform(0.3, 1.3, len(symbols))
            with np.errstate(all="ignore"):
                parts = values.contributions(point[values.xs_at], point)
                total = np.add.reduceat(parts[self.order], self.starts)[shared]
                size = np.add.reduceat(np.abs(parts[self.order]), self.starts)[shared]
            suspects &= np.abs(total) <= 1e-9 * size
        return suspects

    def contributions(self, stored: int) -> Iterator[tuple[_Group, int, int]]:
        """(group, entry number, term number) of each contribution to stored entry ``stored``."""
        first = self.starts[stored]
        for c in self.order[first:first + self.counts[stored]]:
            g = int(np.searchsorted(self.offsets, c, side="right")) - 1
            group = self.groups[g]
            e, t = divmod(int(c - self.offsets[g]), len(group.index))
            yield group, e, t

    def formula(self, stored: int) -> Expr:
        """The readable formula of a stored entry: its terms' formulas, renamed and summed."""
        parts = [self.renamed(group.entries[e][2], group, t)
                 for group, e, t in self.contributions(stored)]
        return parts[0] if len(parts) == 1 else simplify(add(*parts))

    def renamed(self, formula: Expr, group: _Group, t: int) -> Expr:
        """A formula of the group's template written in the variables of its ``t``-th term."""
        table = {v: self.xs[i] for v, i in zip(group.variables, group.index[t])}
        return rebuild(formula, lambda leaf: table.get(leaf, leaf))


# --- evaluation ----------------------------------------------------------------------------------
def _scipy_sparse():
    """``scipy.sparse``, imported when a sparse result is first evaluated."""
    try:
        import scipy.sparse
    except ImportError:
        raise SymcalcError(_SCIPY_MISSING) from None
    return scipy.sparse


class _Values:
    """The stored entries' values from the variables' values: per group one compiled call on the
    gathered variables of all its terms, then the contributions summed per entry."""

    def __init__(self, plan: _Plan, variables: list[Symbol]):
        position = {v: k for k, v in enumerate(variables)}
        missing = [x.name for x in plan.xs if x not in position]
        if missing:
            raise SymcalcError(f"lambdify of a sparse result needs every variable it was built in; "
                               f"missing: {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
        self.plan = plan
        self.xs_at = np.array([position[x] for x in plan.xs], dtype=np.int64)
        self.direct = np.array_equal(self.xs_at, np.arange(len(variables)))
        self.calls = []
        for group in plan.groups:
            params, function = _compiled_group(group, plan.xs)
            absent = [p.name for p in params if p not in position]
            if absent:
                raise SymcalcError(f"lambdify of a sparse result: the formulas also depend on "
                                   f"{', '.join(absent)}; list it among the variables")
            columns = [np.ascontiguousarray(group.index[:, a]) for a in range(group.index.shape[1])]
            self.calls.append((function, columns, [position[p] for p in params],
                               len(group.entries) * len(group.index)))

    def contributions(self, x: np.ndarray, args: Sequence[Any]) -> np.ndarray:
        """Every term's contribution; ``x`` holds the plan's variables along axis 0."""
        batch = x.shape[1:]
        out = np.empty((len(self.plan.slot),) + batch)
        at = 0
        for function, columns, params, count in self.calls:
            values = function(*(x[c] for c in columns), *(args[p] for p in params))
            out[at:at + count] = np.reshape(values, (count,) + batch)
            at += count
        return out

    def __call__(self, x: np.ndarray, args: Sequence[Any]) -> np.ndarray:
        """Values of the stored entries, in the order of ``plan.keys``."""
        plan, parts = self.plan, self.contributions(x, args)
        if plan.summed and parts.ndim == 1 and plan.complete:  # one point: one pass
            return np.bincount(plan.slot, weights=parts, minlength=len(plan.keys))
        if plan.summed:
            return np.add.reduceat(parts[plan.order], plan.starts, axis=0)
        return parts[plan.order]


def _compiled_group(group: _Group, xs: Sequence[Symbol]) -> tuple[list[Symbol], Any]:
    """The group's parameters (symbols other than ``xs``) and its formulas compiled as a
    function of its template variables and those parameters (compiled once)."""
    if group.compiled is None:
        formulas = [entry for _, _, entry in group.entries]
        wanted = set(xs)
        params = sorted({s for f in formulas for s in f.free_symbols if s not in wanted},
                        key=lambda s: s.name)
        group.compiled = params, _lambdify(formulas, group.variables + params)
    return group.compiled


class _Function:
    """What ``lambdify`` gives for a sparse result (see ``SparseDerivatives``)."""

    def __init__(self, result: "SparseDerivatives | HessianDiagonal", variables: list[Symbol],
                 packed: bool):
        self.result, self.variables, self.packed = result, variables, packed
        self.values = _Values(result._plan, variables)

    def __call__(self, *args: Any) -> Any:
        x, args = self._inputs(args)
        return self.result._assemble(self.values(x, args))

    def _inputs(self, args: tuple) -> tuple[np.ndarray, Sequence[Any]]:
        """The plan's variables stacked along axis 0, and the arguments one per variable."""
        count = len(self.variables)
        if self.packed:
            if len(args) != 1:
                raise SymcalcTypeError(f"a packed function takes one array, not {len(args)} arguments")
            v = np.asarray(args[0], dtype=float)
            if not v.shape or v.shape[-1] != count:
                raise ShapeError(f"a packed function of {count} variables needs an array whose last "
                                 f"axis has length {count}, not shape {v.shape}")
            v = np.moveaxis(v, -1, 0)
        else:
            if len(args) != count:
                raise SymcalcTypeError(f"the function takes {count} arguments "
                                       f"({', '.join(s.name for s in self.variables[:5])}"
                                       f"{', ...' if count > 5 else ''}), not {len(args)}")
            try:
                v = np.array(args, dtype=float)  # floats, or arrays of one shape
            except ValueError:
                v = np.array(np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in args)))
        x = v if self.values.direct else v[self.values.xs_at]
        return x, v

    def __repr__(self) -> str:
        return f"<symcalc sparse function of {len(self.variables)} variables>"


@dataclass
class SparseBatch:
    """A sparse matrix of a fixed pattern at N points: ``values[k]`` is the value at
    ``(rows[k], cols[k])``, shape ``(nnz, N)`` (``(nnz,) + batch shape`` in general)."""

    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    shape: tuple[int, int]
    indptr: np.ndarray
    indices: np.ndarray

    def point(self, k: int | tuple) -> Any:
        """The ``scipy.sparse.csr_array`` at the ``k``-th point."""
        data = self.values[(slice(None),) + np.index_exp[k]]
        return _scipy_sparse().csr_array((data, self.indices, self.indptr), shape=self.shape)

    def toarray(self) -> np.ndarray:
        """Dense values, shape ``self.shape + batch``: what a dense ``lambdify`` gives."""
        dense = np.zeros(self.shape + self.values.shape[1:])
        dense[self.rows, self.cols] = self.values
        return dense


# --- results ------------------------------------------------------------------------------------
class SparseDerivatives:
    """A sparse Jacobian or Hessian: formulas for the structural non-zeros only.

    ``pattern`` is ``(rows, cols)``, the positions of every structural non-zero (for a Hessian both
    triangles), sorted row by row: the ``data`` of the ``scipy.sparse.csr_array`` that
    ``lambdify(H, xs)`` returns at a point, and a ``jac_sparsity`` for ``scipy.optimize``.
    A Hessian stores one formula per pair i <= j: ``rows``, ``cols`` and ``entries`` list those
    pairs and their formulas (built when first asked for); ``H[i, j]`` is one entry (0 off the
    pattern), ``to_list()`` the dense list of lists for small sizes.

    ``lambdify(H, xs)`` gives a function that returns, at one point, a ``scipy.sparse.csr_array``
    whose ``data`` is computed straight from the variables; at N points (arrays of shape (N,), or
    ``packed=True`` with shape (N, d)) a ``SparseBatch`` of ``values`` of shape (nnz, N) with the
    pattern beside it.  One pattern and one array of values is what both libraries take: SciPy's
    CSR/COO constructors take ``data`` and the indices apart (``SparseBatch.point(k)`` builds the
    k-th array without copying the pattern), and JAX's ``BCOO`` takes a batch of values over a
    shared pattern; N separate SciPy arrays (SciPy has no stacked sparse arrays) would repeat the
    pattern N times.  The non-zero axis comes first, as the nesting axes do in ``lambdify``.
    """

    def __init__(self, plan: _Plan, shape: tuple[int, int]):
        self._plan, self.shape = plan, shape
        self.symmetric = plan.kind == "hessian"
        self.variables = plan.xs
        self.rows, self.cols = plan.rows, plan.cols
        rows, cols, source = plan.rows, plan.cols, np.arange(len(plan.rows))
        if self.symmetric:
            below = plan.rows < plan.cols
            rows = np.concatenate([plan.rows, plan.cols[below]])
            cols = np.concatenate([plan.cols, plan.rows[below]])
            source = np.concatenate([source, source[below]])
            order = np.argsort(rows * shape[1] + cols, kind="stable")
            rows, cols, source = rows[order], cols[order], source[order]
        self.pattern = (rows, cols)
        self._source = None if not self.symmetric else source
        self._indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=shape[0]))])
        self._keys = plan.keys
        self._formulas: dict[int, Expr] = {}

    @property
    def nnz(self) -> int:
        """The number of structural non-zeros (both triangles of a Hessian)."""
        return len(self.pattern[0])

    def __getitem__(self, position: tuple[int, int]) -> Expr:
        i, j = position
        for k, size in zip((i, j), self.shape):
            if not -size <= k < size:
                raise IndexError(f"index {k} is out of range for shape {self.shape}")
        i, j = i % self.shape[0], j % self.shape[1]
        if self.symmetric and i > j:
            i, j = j, i
        key = i * self.shape[1] + j
        at = int(np.searchsorted(self._keys, key))
        if at == len(self._keys) or self._keys[at] != key:
            return ZERO
        return self._formula(at)

    def _formula(self, stored: int) -> Expr:
        if stored not in self._formulas:
            self._formulas[stored] = self._plan.formula(stored)
        return self._formulas[stored]

    @property
    def entries(self) -> list[Expr]:
        """The formulas of the stored entries, in the order of ``rows`` and ``cols``."""
        return [self._formula(k) for k in range(len(self._keys))]

    def to_list(self) -> list[list[Expr]]:
        """The dense list of lists (as ``hessian``/``jacobian`` give without ``sparse=True``)."""
        return [[self[i, j] for j in range(self.shape[1])] for i in range(self.shape[0])]

    def sparsity(self) -> Any:
        """The pattern as a ``scipy.sparse.csr_array`` of ones (``jac_sparsity=`` of
        ``scipy.optimize.least_squares``)."""
        rows, cols = self.pattern
        return _scipy_sparse().csr_array((np.ones(len(rows)), cols, self._indptr), shape=self.shape)

    def _assemble(self, stored: np.ndarray) -> Any:
        data = stored if self._source is None else stored[self._source]
        if data.ndim == 1:
            return _scipy_sparse().csr_array((data, self.pattern[1], self._indptr), shape=self.shape)
        return SparseBatch(self.pattern[0], self.pattern[1], data, self.shape, self._indptr,
                           self.pattern[1])

    def _symcalc_lambdify(self, variables, backend: str, dtype: Any, packed: bool) -> _Function:
        return _compiled(self, variables, backend, dtype, packed)

    def __repr__(self) -> str:
        what = "hessian" if self.symmetric else "jacobian"
        extra = f" ({self.nnz} non-zeros)" if self.symmetric else ""
        return (f"SparseDerivatives({what} {self.shape[0]} x {self.shape[1]}, "
                f"{len(self._keys)} stored entries{extra})")


class HessianDiagonal(Sequence):
    """The diagonal of a Hessian, ``[d2f/dx_i^2 for x_i in xs]``, a sequence of formulas built when
    first read.  ``lambdify`` of it evaluates only the structural non-zeros: an ndarray of shape
    ``(d,)`` at a point, ``(d, N)`` at N points."""

    def __init__(self, plan: _Plan):
        self._plan = plan
        self._at = {int(i): k for k, i in enumerate(plan.rows)}
        self._formulas: dict[int, Expr] = {}

    def __len__(self) -> int:
        return len(self._plan.xs)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        if not -len(self) <= i < len(self):
            raise IndexError(f"index {i} is out of range for {len(self)} variables")
        stored = self._at.get(i % len(self))
        if stored is None:
            return ZERO
        if stored not in self._formulas:
            self._formulas[stored] = self._plan.formula(stored)
        return self._formulas[stored]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    def __repr__(self) -> str:
        return list_text(list(self))

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {latex_matrix(list(self))}$"

    def _assemble(self, stored: np.ndarray) -> np.ndarray:
        out = np.zeros((len(self),) + stored.shape[1:])
        out[self._plan.rows] = stored
        return out

    def _symcalc_lambdify(self, variables, backend: str, dtype: Any, packed: bool) -> _Function:
        return _compiled(self, variables, backend, dtype, packed, needs_scipy=False)


def _compiled(result, variables, backend: str, dtype: Any, packed: bool,
              needs_scipy: bool = True) -> _Function:
    if backend != "numpy" or (dtype is not float and np.dtype(dtype) != np.float64):
        raise SymcalcError("sparse results compile for the NumPy backend in float64 only")
    if needs_scipy and importlib.util.find_spec("scipy") is None:
        raise SymcalcError(_SCIPY_MISSING)
    return _Function(result, to_symbols(variables), packed)


# --- the API -------------------------------------------------------------------------------------

def _scalar(e: Any, shapes: Any, what: str) -> None:
    if shapes is not None or _matrix.is_shaped(e):
        raise SymcalcError(f"{what}(..., sparse=True) is for scalar formulas in a list of "
                           f"variables; a shaped formula's {what} is already one matrix formula")


def hessian(e: ExprLike, variables: Iterable[VarLike] | str, shapes: Any = None) -> SparseDerivatives:
    """The Hessian with formulas for its structural non-zeros only (``hessian(..., sparse=True)``).

    >>> H = hessian("(1 - x)^2 + 100*(y - x^2)^2", "x y")
    >>> [(int(i), int(j)) for i, j in zip(*H.pattern)], H[0, 1]
    ([(0, 0), (0, 1), (1, 0), (1, 1)], Expr('-400*x'))
    """
    _scalar(e, shapes, "hessian")
    xs = to_symbols(variables)
    return SparseDerivatives(_Plan([to_expr(e)], xs, "hessian"), (len(xs), len(xs)))


def jacobian(es: Iterable[ExprLike] | str, variables: Iterable[VarLike] | str,
             shapes: Any = None) -> SparseDerivatives:
    """The m x d Jacobian with formulas for its structural non-zeros only.

    >>> J = jacobian(["x*y", "z"], "x y z")
    >>> J.pattern, J[0, 0], J[1, 0]
    ((array([0, 0, 1]), array([0, 1, 2])), Expr('y'), Expr('0'))
    """
    _scalar(es, shapes, "jacobian")
    fs, xs = to_functions(es), to_symbols(variables)
    return SparseDerivatives(_Plan(fs, xs, "jacobian"), (len(fs), len(xs)))


def hessian_diag(e: ExprLike, variables: Iterable[VarLike] | str, *,
                 shapes: Any = None) -> HessianDiagonal | Any:
    """The diagonal of the Hessian, ``[d2e/dx^2 for x in variables]``, without the rest of it.

    A shaped formula in a vector ``x`` gets ``diag`` of its Hessian in matrix form.

    >>> hessian_diag("x^3*y + exp(y)", "x y")
    [6*x*y, exp(y)]
    """
    if shapes is not None or _matrix.is_shaped(e):
        return _diag(_matrix.hessian(e, variables, shapes))
    return HessianDiagonal(_Plan([to_expr(e)], to_symbols(variables), "diagonal"))


def laplacian(e: ExprLike, variables: Iterable[VarLike] | str, *, shapes: Any = None) -> Expr | Any:
    """The Laplacian ``sum_i d2e/dx_i^2`` (the trace of the Hessian), without forming the Hessian.

    A shaped formula in a vector ``x`` (``shapes={"x": ("n",), ...}``: the output of a network in
    its input) gets ``trace`` of its Hessian in matrix form.

    >>> laplacian("x^2*y + y^3", "x y")
    Expr('8*y')
    """
    if shapes is not None or _matrix.is_shaped(e):
        return _trace(_matrix.hessian(e, variables, shapes))
    plan = _Plan([to_expr(e)], to_symbols(variables), "diagonal")
    parts = []
    for group in plan.groups:
        trace = add(*(entry for _, _, entry in group.entries))
        parts.extend(plan.renamed(trace, group, t) for t in range(len(group.index)))
    return _factored(simplify(add(*parts)))


def divergence(es: Iterable[ExprLike] | str, variables: Iterable[VarLike] | str, *,
               shapes: Any = None) -> Expr | Any:
    """The divergence ``sum_i dF_i/dx_i`` of a vector field (as many functions as variables).

    A shaped field ``F(x)`` of a vector ``x`` gets ``trace`` of its Jacobian in matrix form.

    >>> divergence(["x*y", "y^2*z", "z*x"], "x y z")
    Expr('x + y + 2*y*z')
    """
    if shapes is not None or _matrix.is_shaped(es):
        return _trace(_matrix.jacobian(es, variables, shapes))
    fs, xs = to_functions(es), to_symbols(variables)
    if len(fs) != len(xs):
        raise SymcalcError(f"divergence needs as many functions as variables, got {len(fs)} and "
                           f"{len(xs)}")
    return _factored(simplify(add(*(_derivative(f, x) for f, x in zip(fs, xs)))))


def _factored(total: Expr) -> Expr:
    """A sum whose terms share a function factor with that factor taken out, when shorter:
    ``exp(u)*(x^2 - 1) + exp(u)*(y^2 - 1) -> exp(u)*(x^2 + y^2 - 2)``."""
    if not isinstance(total, Add):
        return total
    shared = None
    for term in total.args:
        factors = set(term.args) if isinstance(term, Mul) else {term}
        calls = {f for f in factors if isinstance(f, Call)}
        shared = calls if shared is None else shared & calls
        if not shared:
            return total
    common = mul(*sorted(shared, key=str))
    candidate = mul(common, add(*(mul(t, power(common, Num(-1))) for t in total.args)))
    return candidate if count_ops([candidate]) < count_ops([total]) else total

