"""Hessians of matrix formulas: symcalc's generated code against ``jax.jit(jax.hessian(f))``.

    python benchmarks/tensor_hessian.py            # n = 100, 300, 1000; medians of 5
    python benchmarks/tensor_hessian.py --quick    # small sizes, medians of 3 (CI runs it)
    python benchmarks/tensor_hessian.py --sizes 100,300 --repeat 3

The three problems of Laue, Mitterreiter and Giesen, "Computing Higher Order Derivatives of
Matrix and Tensor Expressions" (NeurIPS 2018), in one run:

* ``quadratic``: the Hessian of ``x@A@x`` in ``x`` (A n x n): symcalc gives ``A + A.T``;
* ``logistic``: the Hessian in ``w`` of the logistic loss ``sum(log(1 + exp(-y*(X@w))))`` with
  ``X`` of m = 2n rows and n columns, ``y`` of +-1: symcalc gives
  ``X.T@diag(sigmoid(...)*(1 - sigmoid(...)))@X``, computed as a row-scaled matrix product;
* ``factorisation``: the Hessian in ``U`` of ``norm(T - U@V.T)^2`` (T m x n, U m x k, V n x k), a
  4-index tensor ``U.shape + U.shape``: symcalc gives ``2*einsum("ij,kl->iljk", eye(m),
  V.T@V)``.  Sizes (m, n, k) = (100, 100, 5), (200, 200, 8), (300, 300, 10) (quick: smaller).

JAX computes the same Hessians from the same losses written in ``jax.numpy`` (the logistic loss
as ``logaddexp(0, -y*(X@w))``, its stable spelling), with 64-bit floats (``jax_enable_x64``) on
the CPU.  Columns: ``build`` is symcalc's symbolic Hessian plus its code generation
(``sc.hessian`` + ``sc.lambdify``), done once for all sizes since the shapes are names; JAX's
``compile`` is its first call at that size (tracing + XLA compilation); ``eval`` the median of
``--repeat`` calls; ``ratio`` JAX's eval over symcalc's.  Values are compared first (relative
1e-9 of the largest entry); a disagreement prints FAILURE and the exit status is 1.  The goal
printed: symcalc's generated Hessian at least 10x faster than JAX's at the largest size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np

import symcalc as sc

FULL_SIZES = (100, 300, 1000)
QUICK_SIZES = (20, 40)
FACTOR_SIZES = {100: (100, 100, 5), 300: (200, 200, 8), 1000: (300, 300, 10)}
QUICK_FACTOR_SIZES = {20: (20, 15, 3), 40: (30, 25, 4)}
GOAL = 10.0
AGREEMENT = 1e-9


@dataclass
class Problem:
    name: str
    formula: str
    variable: str
    names: list  # the arguments of the generated function, in order
    shapes: dict
    data: Callable[[int, np.random.Generator], dict]  # size -> arrays by name
    jax_loss: Callable  # (jnp, arrays) -> a function of the variable
    label: Callable[[int], str]  # size -> the sizes shown


def _quadratic_data(n: int, rng: np.random.Generator) -> dict:
    return {"A": rng.normal(size=(n, n)), "x": rng.normal(size=n)}


def _logistic_data(n: int, rng: np.random.Generator) -> dict:
    m = 2 * n
    return {"X": rng.normal(size=(m, n)) / np.sqrt(n), "w": rng.normal(size=n),
            "y": rng.choice([-1.0, 1.0], size=m)}


def _factor_sizes(quick: bool) -> dict:
    return QUICK_FACTOR_SIZES if quick else FACTOR_SIZES


def problems(quick: bool) -> list[Problem]:
    factor = _factor_sizes(quick)

    def factor_data(n: int, rng: np.random.Generator) -> dict:
        m, cols, k = factor.get(n, (n, n, max(2, n // 30)))
        return {"T": rng.normal(size=(m, cols)), "U": rng.normal(size=(m, k)),
                "V": rng.normal(size=(cols, k))}

    return [
        Problem("quadratic", "x@A@x", "x", ["A", "x"], {"A": ("n", "n"), "x": ("n",)},
                _quadratic_data, lambda jnp, a: (lambda x: x @ a["A"] @ x), lambda n: f"n={n}"),
        Problem("logistic", "sum(log(1 + exp(-y*(X@w))))", "w", ["X", "w", "y"],
                {"X": ("m", "n"), "w": ("n",), "y": ("m",)}, _logistic_data,
                lambda jnp, a: (lambda w: jnp.sum(jnp.logaddexp(0.0, -a["y"] * (a["X"] @ w)))),
                lambda n: f"m={2 * n} n={n}"),
        Problem("factorisation", "norm(T - U@V.T)^2", "U", ["U", "V"],
                {"T": ("m", "n"), "U": ("m", "k"), "V": ("n", "k")}, factor_data,
                lambda jnp, a: (lambda U: jnp.sum((a["T"] - U @ a["V"].T) ** 2)),
                lambda n: "m={} n={} k={}".format(*factor.get(n, (n, n, max(2, n // 30))))),
    ]


def _jax():
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None, None
    jax.config.update("jax_enable_x64", True)
    return jax, jnp


def median_seconds(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


@dataclass
class Row:
    problem: str
    size: int
    label: str
    build: float
    eval: float
    jax_compile: Optional[float] = None
    jax_eval: Optional[float] = None
    agrees: bool = True

    @property
    def ratio(self) -> Optional[float]:
        return None if self.jax_eval is None else self.jax_eval / self.eval


def build(p: Problem) -> tuple[Any, float, str]:
    """symcalc's Hessian and its generated function, and the time both took."""
    start = time.perf_counter()
    h = sc.hessian(sc.parse(p.formula, shapes=p.shapes), p.variable)
    fn = sc.lambdify(h, p.names, shapes=p.shapes)
    return fn, time.perf_counter() - start, str(h)


def measure(p: Problem, fn: Any, build_seconds: float, n: int, repeat: int, jax, jnp) -> Row:
    arrays = p.data(n, np.random.default_rng(n))
    args = [arrays[name] for name in p.names]
    mine = np.asarray(fn(*args))
    row = Row(p.name, n, p.label(n), build_seconds, median_seconds(lambda: fn(*args), repeat))
    if jax is None:
        return row
    given = {k: jnp.asarray(v) for k, v in arrays.items()}
    hessian = jax.jit(jax.hessian(p.jax_loss(jnp, given)))
    point = given[p.variable]
    start = time.perf_counter()
    theirs = np.asarray(hessian(point).block_until_ready())
    row.jax_compile = time.perf_counter() - start
    row.jax_eval = median_seconds(lambda: hessian(point).block_until_ready(), repeat)
    scale = max(float(np.max(np.abs(theirs))), 1e-300)
    row.agrees = mine.shape == theirs.shape and bool(
        np.max(np.abs(mine - theirs)) <= AGREEMENT * scale)
    if not row.agrees:
        how = (f"relative {np.max(np.abs(mine - theirs)) / scale:.2e}"
               if mine.shape == theirs.shape else f"shapes {mine.shape} vs {theirs.shape}")
        print(f"FAILURE: {p.name} at {row.label}: symcalc and JAX disagree ({how})")
    return row


def _ms(seconds: Optional[float]) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:.2f}"


def report(rows: list[Row]) -> list[str]:
    lines = [f"{'problem':<14} {'sizes':<20} {'build+codegen ms':>16} {'eval ms':>9} "
             f"{'JAX compile ms':>14} {'JAX eval ms':>11} {'JAX/symcalc':>11}"]
    for r in rows:
        ratio = "-" if r.ratio is None else f"{r.ratio:.1f}x"
        lines.append(f"{r.problem:<14} {r.label:<20} {_ms(r.build):>16} {_ms(r.eval):>9} "
                     f"{_ms(r.jax_compile):>14} {_ms(r.jax_eval):>11} {ratio:>11}")
    return lines


def goals(rows: list[Row]) -> list[str]:
    lines = []
    largest = max(r.size for r in rows)
    for r in rows:
        if r.size != largest or r.ratio is None:
            continue
        met = "met" if r.ratio >= GOAL else "MISSED"
        lines.append(f"goal {r.problem} at {r.label}: JAX/symcalc = {r.ratio:.1f}x "
                     f"(goal >= {GOAL:.0f}x) {met}; build+codegen {_ms(r.build)} ms vs JAX "
                     f"trace+compile {_ms(r.jax_compile)} ms")
    return lines


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (CI)")
    parser.add_argument("--sizes", help="comma-separated n (default 100,300,1000)")
    parser.add_argument("--repeat", type=int, default=None, help="calls per median")
    args = parser.parse_args(argv)
    sizes = (tuple(int(s) for s in args.sizes.split(",")) if args.sizes else
             QUICK_SIZES if args.quick else FULL_SIZES)
    repeat = args.repeat or (3 if args.quick else 5)
    jax, jnp = _jax()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} CPUs, load average {load:.1f} (BLAS and XLA share them: a load "
          "above the CPU count slows both)")
    if jax is None:
        print("JAX is not installed (pip install \"symcalc[jax]\"): symcalc alone")
    rows = []
    for p in problems(args.quick):
        fn, seconds, text = build(p)
        print(f"{p.name}: hessian of {p.formula} in {p.variable} = {text}")
        for n in sizes:
            rows.append(measure(p, fn, seconds, n, repeat, jax, jnp))
    print()
    print("\n".join(report(rows)))
    print()
    print("\n".join(goals(rows)))
    return 0 if all(r.agrees for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
