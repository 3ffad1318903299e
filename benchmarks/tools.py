"""One adapter per tool: how each builds, sizes and compiles a benchmark quantity.

Every adapter offers the same steps, which the measuring process calls in this order:

* ``fresh(case)``: the function, ready for symbolic work (parsed, untimed), with the tool's caches
  emptied so that a repeated build does not reuse the previous one;
* ``parse(text)``: the timed step of the ``parse`` case;
* ``build(f, case, quantity)``: the timed symbolic work (derivative, gradient or Hessian);
* ``size(result, case)``: operations in the code that gets evaluated (the rule below);
* ``compile(result, case, quantity)``: ``(vectorised, single)`` callables; ``vectorised`` takes the
  points prepared by ``points`` (N x d), ``single`` the point prepared by ``point`` (d,).

Size rule, the same for every tool: the result is reduced to a graph in which every distinct
subexpression is computed once (symcalc's generated programs are such graphs already, its nodes
being interned; SymPy and SymEngine results go through ``sympy.cse`` first, which can share even
more: parts of sums and products), then an n-ary sum or product counts n - 1 operations and a
power or a function call counts 1; numbers and symbols are free.  JAX has no symbolic result.
"""

from __future__ import annotations

import gc
import importlib.util
from typing import Any, Callable, Sequence

import numpy as np

from suite import Case

Compiled = tuple[Callable[[Any], Any], Callable[[Any], Any]]


def derivative_order(quantity: str) -> int:
    """``"d3"`` -> 3 (an x-derivative of the nested case)."""
    return int(quantity[1:])


def flatten(value: Any) -> list:
    """Nested lists (or matrices) of results -> one flat list, row by row."""
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in flatten(item)]
    return [value]


def columns(P: np.ndarray) -> list[np.ndarray]:
    """N x d points -> d contiguous arrays, one argument per variable."""
    return [np.ascontiguousarray(P[:, i]) for i in range(P.shape[1])]


def floats(p: np.ndarray) -> list[float]:
    """One point -> d Python floats, as an optimiser passes them."""
    return [float(v) for v in p]


# --- the one size rule ------------------------------------------------------------------------------
def count_sympy_operations(exprs: Sequence[Any]) -> int:
    """Operations after ``sympy.cse``: n-ary +/* count n - 1, powers and functions 1, shared once."""
    import sympy

    replacements, reduced = sympy.cse(list(exprs), order="none")
    roots = [rhs for _, rhs in replacements] + list(reduced)
    seen: set = set()
    total = 0
    stack = list(roots)
    while stack:
        node = stack.pop()
        if node in seen or not getattr(node, "args", ()):
            continue
        seen.add(node)
        if isinstance(node, (sympy.Add, sympy.Mul)):
            total += len(node.args) - 1
        elif isinstance(node, (sympy.Pow, sympy.Function)):
            total += 1
        stack.extend(node.args)
    return total


# --- symcalc ------------------------------------------------------------------------------------------
class Symcalc:
    name = "symcalc"

    def __init__(self) -> None:
        import symcalc

        self.sc = symcalc

    def fresh(self, case: Case) -> Any:
        gc.collect()  # derivative caches live on interned nodes; unreferenced nodes go away
        return self.sc.parse(case.formula)

    def parse(self, text: str) -> Any:
        return self.sc.parse(text)

    def build(self, f: Any, case: Case, quantity: str) -> Any:
        sc = self.sc
        if quantity == "grad":
            return sc.grad(f, case.variables)
        if quantity == "hessian":
            return sc.hessian(f, case.variables)
        return sc.diff(f, case.variables[0], derivative_order(quantity))

    def size(self, result: Any, case: Case) -> int:
        """Operations of the program ``lambdify`` compiles (the readable forms or the shared
        graph, whichever is smaller, after the numerical-stability rewrites)."""
        from symcalc.compiler.program import program

        return program(result, list(case.variables)).operation_count

    def compile(self, result: Any, case: Case, quantity: str) -> Compiled:
        f = self.sc.lambdify(result, list(case.variables))
        return (lambda columns: f(*columns)), (lambda values: f(*values))

    points = staticmethod(columns)
    point = staticmethod(floats)


# --- SymPy ------------------------------------------------------------------------------------------
class Sympy:
    name = "SymPy"

    def __init__(self) -> None:
        import sympy

        self.sp = sympy

    def fresh(self, case: Case) -> Any:
        self.sp.core.cache.clear_cache()
        return self.sp.parse_expr(case.sympy_formula)

    def parse(self, text: str) -> Any:
        return self.sp.parse_expr(text)

    def _symbols(self, case: Case) -> list:
        return list(self.sp.symbols(case.variables))

    def build(self, f: Any, case: Case, quantity: str) -> Any:
        sp, xs = self.sp, self._symbols(case)
        if quantity == "grad":
            return [sp.diff(f, x) for x in xs]
        if quantity == "hessian":
            return sp.hessian(f, xs)
        return sp.diff(f, xs[0], derivative_order(quantity))

    def size(self, result: Any, case: Case) -> int:
        return count_sympy_operations(self._flat(result))

    def _flat(self, result: Any) -> list:
        if isinstance(result, self.sp.MatrixBase):
            return list(result)
        return flatten(result)

    def compile(self, result: Any, case: Case, quantity: str) -> Compiled:
        exprs = self._flat(result)
        target = exprs if quantity in ("grad", "hessian") else exprs[0]
        f = self.sp.lambdify(self._symbols(case), target, modules="numpy", cse=True)
        return (lambda columns: f(*columns)), (lambda values: f(*values))

    points = staticmethod(columns)
    point = staticmethod(floats)


# --- SymEngine --------------------------------------------------------------------------------------
class Symengine:
    name = "SymEngine"

    def __init__(self) -> None:
        import symengine

        self.se = symengine

    def fresh(self, case: Case) -> Any:
        return self.se.sympify(case.sympy_formula)

    def parse(self, text: str) -> Any:
        return self.se.sympify(text)

    def _symbols(self, case: Case) -> list:
        return [self.se.Symbol(name) for name in case.variables]

    def build(self, f: Any, case: Case, quantity: str) -> Any:
        xs = self._symbols(case)
        if quantity == "grad":
            return [f.diff(x) for x in xs]
        if quantity == "hessian":  # the upper triangle, mirrored, as sympy.hessian does
            first = [f.diff(x) for x in xs]
            n = len(xs)
            rows = [[None] * n for _ in range(n)]
            for i in range(n):
                for j in range(i, n):
                    rows[i][j] = rows[j][i] = first[i].diff(xs[j])
            return rows
        return f.diff(xs[0], derivative_order(quantity))

    def size(self, result: Any, case: Case) -> int:
        import sympy

        return count_sympy_operations([sympy.sympify(e) for e in flatten(result)])

    def compile(self, result: Any, case: Case, quantity: str) -> Compiled:
        exprs = flatten(result)
        f = self.se.Lambdify(self._symbols(case), exprs, cse=True)
        return f, f

    points = staticmethod(np.ascontiguousarray)
    point = staticmethod(np.ascontiguousarray)


# --- JAX --------------------------------------------------------------------------------------------
class Jax:
    """JAX traces the array form of the function; its "build" is tracing plus XLA compilation of
    the vectorised derivative.  It has no symbolic result, so no size."""

    name = "JAX"

    def __init__(self) -> None:
        import jax

        jax.config.update("jax_enable_x64", True)
        jax.config.update("jax_platforms", "cpu")
        self.jax = jax
        self.jnp = jax.numpy
        self.n_points = 2  # the batch size the vectorised derivative is compiled for

    def fresh(self, case: Case) -> Any:
        return case.array_function(self.jnp)  # a new closure: nothing traced before is reused

    def parse(self, text: str) -> Any:
        raise NotImplementedError("JAX does not parse formulas")

    def _derivative(self, f: Callable, quantity: str) -> Callable:
        jax = self.jax
        if quantity == "f":
            return f
        if quantity == "grad":
            return jax.grad(f)
        if quantity == "hessian":
            return jax.hessian(f)
        scalar = lambda x: f(self.jnp.reshape(x, (1,)))  # noqa: E731
        for _ in range(derivative_order(quantity)):
            scalar = jax.grad(scalar)
        return lambda v: scalar(v[0])

    def build(self, f: Any, case: Case, quantity: str) -> Any:
        g = self._derivative(f, quantity)
        example = self.jnp.zeros((self.n_points, len(case.variables)))
        vectorised = self.jax.jit(self.jax.vmap(g)).lower(example).compile()
        return g, vectorised

    def size(self, result: Any, case: Case) -> None:
        return None

    def compile(self, result: Any, case: Case, quantity: str) -> Compiled:
        if quantity == "f":
            result = self.build(result, case, quantity)
        g, vectorised = result  # compiled by build for the N x d points
        single = self.jax.jit(g)
        return ((lambda P: vectorised(P).block_until_ready()),
                (lambda p: single(p).block_until_ready()))

    def points(self, P: np.ndarray) -> Any:
        return self.jax.device_put(P)

    def point(self, p: np.ndarray) -> Any:
        return self.jax.device_put(p)


ALL = {"symcalc": Symcalc, "SymPy": Sympy, "SymEngine": Symengine, "JAX": Jax}
_MODULES = {"symcalc": "symcalc", "SymPy": "sympy", "SymEngine": "symengine", "JAX": "jax"}


def available() -> list[str]:
    """The tools importable here (checked without importing them)."""
    return [name for name in ALL if importlib.util.find_spec(_MODULES[name]) is not None]
