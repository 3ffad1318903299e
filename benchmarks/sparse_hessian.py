"""Sparse second-order derivatives at scale: Rosenbrock and a banded PDE residual.

    python benchmarks/sparse_hessian.py                 # d = 1000 ... 100000, medians of 5
    python benchmarks/sparse_hessian.py --quick         # d = 200, 400, one repetition (CI runs it)
    python benchmarks/sparse_hessian.py --sizes 1000,2000 --jax-max 2000

Cases, each at every d:

* ``rosenbrock``: ``hessian(f, xs, sparse=True)`` of ``sum 100*(x[i+1] - x[i]^2)^2 + (1 - x[i])^2``
  (3d - 2 non-zeros), against ``jax.jit(jax.hessian(f))`` (dense);
* ``rosenbrock-diag``: ``hessian_diag(f, xs)``, against JAX's Hessian followed by its diagonal;
* ``pde``: ``hessian(f, xs, sparse=True)`` of ``0.5*sum F_i(u)^2``, the squared residual of
  Bratu's problem ``u'' + exp(u) = 0`` discretised on d points (pentadiagonal), against JAX;
* ``pde-jacobian``: ``jacobian(F, xs, sparse=True)`` of the residual (tridiagonal), against
  ``jax.jit(jax.jacfwd(F))``.

Columns: ``formula`` is the time to parse the formula text (symcalc's core, before any
derivative), ``build`` the sparse derivative, ``compile`` its ``lambdify``, ``eval`` one call at a
point (median); ``peak MB`` the largest Python/NumPy allocation (``tracemalloc``) during build +
compile (measured on a second build, as tracemalloc slows Python severalfold) and ``eval MB``
during one evaluation.  JAX's compile is its first call (tracing + XLA), its ``eval``
the median call after it, and its memory the dense result alone (XLA's buffers are not traced).
Values are compared with JAX's (relative 1e-9) before timing; a disagreement prints FAILURE and
the exit status is 1.  Doubling ratios (time at 2d over time at d) show the growth: 2 is linear.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

import symcalc as sc

FULL_SIZES = (1000, 2000, 4000, 10_000, 20_000, 50_000, 100_000)
QUICK_SIZES = (200, 400)


@dataclass
class Case:
    name: str
    formula: Callable[[int], Any]  # d -> formula text (or list of texts)
    derivative: Callable[[Any, list[str]], Any]
    reference: Callable[[int], Callable | None]  # d -> a jitted JAX function, or None


@dataclass
class Row:
    case: str
    d: int
    nnz: int
    formula: float
    build: float
    compile: float
    eval: float
    peak_build: float
    peak_eval: float
    jax: dict = field(default_factory=dict)


# --- the formulas ---------------------------------------------------------------------------------
def rosenbrock(d: int) -> str:
    return " + ".join(f"100*(x{i + 1} - x{i}^2)^2 + (1 - x{i})^2" for i in range(d - 1))


def bratu(d: int) -> list[str]:
    """F_i = u_{i-1} - 2 u_i + u_{i+1} + h^2 exp(u_i), h = 1/(d + 1), u = 0 beyond both ends."""
    u = [f"x{i}" for i in range(d)]
    left, right = ["0"] + u[:-1], u[1:] + ["0"]
    return [f"{a} - 2*{b} + {c} + exp({b})/{(d + 1) ** 2}" for a, b, c in zip(left, u, right)]


def bratu_energy(d: int) -> str:
    return " + ".join(f"({r})^2/2" for r in bratu(d))


def _jax():
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None, None
    jax.config.update("jax_enable_x64", True)
    return jax, jnp


def jax_rosenbrock(jnp):
    return lambda x: jnp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def jax_bratu(jnp, d: int):
    def residual(u):
        padded = jnp.pad(u, 1)
        return padded[:-2] - 2 * u + padded[2:] + jnp.exp(u) / (d + 1) ** 2
    return residual


def reference(kind: str, limit: int) -> Callable[[int], Callable | None]:
    def make(d: int):
        jax, jnp = _jax()
        if jax is None or d > limit:
            return None
        if kind == "rosenbrock":
            return jax.jit(jax.hessian(jax_rosenbrock(jnp)))
        if kind == "rosenbrock-diag":
            return jax.jit(lambda x: jnp.diagonal(jax.hessian(jax_rosenbrock(jnp))(x)))
        residual = jax_bratu(jnp, d)
        if kind == "pde":
            return jax.jit(jax.hessian(lambda u: 0.5 * jnp.sum(residual(u) ** 2)))
        return jax.jit(jax.jacfwd(residual))
    return make


def cases(limit: int) -> list[Case]:
    hessian = lambda f, xs: sc.hessian(f, xs, sparse=True)
    return [
        Case("rosenbrock", rosenbrock, hessian, reference("rosenbrock", limit)),
        Case("rosenbrock-diag", rosenbrock, sc.hessian_diag, reference("rosenbrock-diag", limit)),
        Case("pde", bratu_energy, hessian, reference("pde", limit)),
        Case("pde-jacobian", bratu, lambda f, xs: sc.jacobian(f, xs, sparse=True),
             reference("pde-jacobian", limit)),
    ]


# --- measuring ------------------------------------------------------------------------------------
def median_seconds(fn: Callable[[], Any], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def peaks(case: Case, f: Any, xs: list[str], x: np.ndarray) -> tuple[float, float]:
    """Peak traced memory (MB) of building and compiling the derivative again, and of one
    evaluation (tracemalloc slows Python down severalfold, so the timings are taken without it)."""
    tracemalloc.start()
    function = sc.lambdify(case.derivative(f, xs), xs, packed=True)
    build = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    function(x)
    evaluation = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    return build / 1e6, evaluation / 1e6


def _dense(value: Any) -> np.ndarray:
    return value.toarray() if hasattr(value, "toarray") else np.asarray(value)


def measure(case: Case, d: int, repeat: int, formulas: dict) -> tuple[Row, bool]:
    xs = [f"x{i}" for i in range(d)]
    key = (case.formula.__name__, d)
    if key not in formulas:  # the cases of one formula share it
        start = time.perf_counter()
        text = case.formula(d)
        parsed = [sc.parse(t) for t in text] if isinstance(text, list) else sc.parse(text)
        formulas.clear()
        formulas[key] = (parsed, time.perf_counter() - start)
    f, formula_seconds = formulas[key]
    start = time.perf_counter()
    result = case.derivative(f, xs)
    built = time.perf_counter()
    function = sc.lambdify(result, xs, packed=True)
    compiled = time.perf_counter()
    x = np.random.default_rng(0).uniform(0.5, 1.5, d)
    value = function(x)
    nnz = result.nnz if hasattr(result, "nnz") else int(np.count_nonzero(value))
    row = Row(case.name, d, nnz, formula_seconds, built - start, compiled - built,
              median_seconds(lambda: function(x), repeat), *peaks(case, f, xs, x))
    agree = True
    jitted = case.reference(d)
    if jitted is not None:
        start = time.perf_counter()
        expected = np.asarray(jitted(x).block_until_ready())
        row.jax["compile"] = time.perf_counter() - start
        row.jax["eval"] = median_seconds(lambda: jitted(x).block_until_ready(), repeat)
        row.jax["memory"] = expected.nbytes / 1e6
        ours = _dense(value)
        agree = bool(np.allclose(ours, expected, rtol=1e-9, atol=1e-9 * np.abs(expected).max()))
        if not agree:
            print(f"FAILURE: {case.name} at d = {d} differs from JAX by "
                  f"{np.abs(ours - expected).max():.3g}")
    return row, agree


# --- printing -------------------------------------------------------------------------------------
def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:.3g}"


HEADER = (f"{'case':<16} {'d':>7} {'nnz':>7} {'formula s':>9} {'build s':>8} {'compile s':>9} "
          f"{'eval ms':>8} {'peak MB':>8} {'eval MB':>8} | {'JAX comp s':>10} {'JAX eval ms':>11} "
          f"{'JAX MB':>8} {'speedup':>8}")


def print_row(r: Row) -> None:
    jax_eval = r.jax.get("eval")
    speedup = f"{jax_eval / r.eval:.1f}x" if jax_eval else "-"
    jax_compile = f"{r.jax['compile']:.2f}" if r.jax else "-"
    jax_memory = f"{r.jax['memory']:.1f}" if r.jax else "-"
    print(f"{r.case:<16} {r.d:>7} {r.nnz:>7} {r.formula:>9.2f} {r.build:>8.3f} {r.compile:>9.3f} "
          f"{_ms(r.eval):>8} {r.peak_build:>8.1f} {r.peak_eval:>8.2f} | {jax_compile:>10} "
          f"{_ms(jax_eval):>11} {jax_memory:>8} {speedup:>8}", flush=True)


def print_doubling(rows: list[Row]) -> None:
    print("\ndoubling ratios (time at 2d / time at d; 2 is linear growth)")
    print(f"{'case':<16} {'d -> 2d':>15} {'formula':>8} {'build':>8} {'compile':>8} {'eval':>8}")
    by_case: dict[str, dict[int, Row]] = {}
    for r in rows:
        by_case.setdefault(r.case, {})[r.d] = r
    for name, sized in by_case.items():
        for d, r in sized.items():
            twice = sized.get(2 * d)
            if twice is None:
                continue
            ratios = [twice.formula / r.formula, twice.build / r.build,
                      twice.compile / max(r.compile, 1e-9), twice.eval / r.eval]
            print(f"{name:<16} {f'{d} -> {2 * d}':>15} " + " ".join(f"{q:>8.2f}" for q in ratios))


def print_goals(rows: list[Row]) -> None:
    print("\ngoals")
    for r in rows:
        if r.case == "rosenbrock" and r.d == 2000 and r.jax:
            speedup = r.jax["eval"] / r.eval
            print(f"  d = 2000 sparse Hessian evaluation {speedup:.0f}x faster than JAX's dense "
                  f"(goal: at least 50x): {'met' if speedup >= 50 else 'NOT met'}")
    largest = max(rows, key=lambda r: (r.case == "rosenbrock", r.d))
    print(f"  rosenbrock at d = {largest.d}: formula parsed in {largest.formula:.1f} s, sparse "
          f"Hessian built in {largest.build:.1f} s, compiled in {largest.compile:.2f} s, evaluated "
          f"in {largest.eval * 1e3:.2f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="d = 200, 400, one repetition")
    parser.add_argument("--sizes", help="comma-separated sizes d")
    parser.add_argument("--repeat", type=int, default=None, help="evaluations per median")
    parser.add_argument("--jax-max", type=int, default=5000,
                        help="largest d for JAX's dense Hessian (d^2 doubles each)")
    parser.add_argument("--cases", help="comma-separated case names")
    args = parser.parse_args(argv)
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    if args.sizes:
        sizes = tuple(int(float(s)) for s in args.sizes.split(","))
    repeat = args.repeat or (1 if args.quick else 5)
    chosen = cases(args.jax_max)
    if args.cases:
        wanted = args.cases.split(",")
        chosen = [c for c in chosen if c.name in wanted]
    rows, ok, formulas = [], True, {}
    print(HEADER, flush=True)
    for d in sizes:  # size by size: the cases of one formula share its parse
        for case in chosen:
            row, agree = measure(case, d, repeat, formulas)
            rows.append(row)
            ok &= agree
            print_row(row)
    print_doubling(rows)
    print_goals(rows)
    print("\ncorrectness: " + ("all values agree with JAX" if ok else "FAILURE"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
