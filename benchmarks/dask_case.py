"""The ``dask`` case: the Rosenbrock gradient over chunked Dask arrays, beyond memory.

``d`` variables (default 4: 50 inputs of 10^8 doubles would be 40 GB before any work), each a
lazy ``dask.array`` of ``points`` values uniform in [-1, 1] in chunks of ``chunk`` (generated
chunk by chunk, never held whole).  Each tool's gradient function is applied to the arrays and the
result reduced to its sum over the points, which ``compute()`` evaluates chunk by chunk with
Dask's threaded scheduler.  Figures: wall time of ``compute()`` and peak memory, the largest
resident set size of the measuring process sampled every 10 ms by a thread (psutil, or
/proc/self/statm), minus its size before ``compute()``.

Tools: symcalc (``sc.lambdify(sc.grad(f, xs), xs)``), SymPy (``lambdify(cse=True)`` of its
gradient, which Dask's operators keep lazy) and the gradient written by hand with Dask operations.
A function that does not return a lazy Dask array (tried first on a 10-point array) would compute
everything in memory: it is not run at the full size and is shown ``n/a (eager)``.  The sums are
compared with the hand-written one's (relative ``AGREEMENT``).
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

import child
from report import _table, seconds

AGREEMENT = 1e-8
TOOLS = ("symcalc", "SymPy", "hand-written Dask")


def formula(d: int) -> tuple[str, tuple[str, ...]]:
    xs = tuple(f"x_{i}" for i in range(1, d + 1))
    return " + ".join(f"100*({xs[i + 1]} - {xs[i]}^2)^2 + (1 - {xs[i]})^2" for i in range(d - 1)), xs


def hand_written_gradient(xs: list) -> list:
    """What a Dask user writes: the Rosenbrock gradient, term by term."""
    d = len(xs)
    out = []
    for i, x in enumerate(xs):
        g = 0 * x
        if i < d - 1:
            g = g - 400 * x * (xs[i + 1] - x**2) - 2 * (1 - x)
        if i > 0:
            g = g + 200 * (x - xs[i - 1] ** 2)
        out.append(g)
    return out


def inputs(points: int, chunk: int, d: int, seed: int = 0) -> list:
    import dask.array as da

    return [da.random.default_rng([seed, i]).uniform(-1, 1, size=points, chunks=chunk)
            for i in range(d)]


def _gradient_function(tool: str, d: int):
    text, xs = formula(d)
    if tool == "symcalc":
        import symcalc as sc

        return sc.lambdify(sc.grad(text, list(xs)), list(xs))
    if tool == "SymPy":
        import sympy as sp

        f = sp.parse_expr(text.replace("^", "**"))
        symbols = sp.symbols(xs)
        return sp.lambdify(symbols, [sp.diff(f, x) for x in symbols], modules="numpy", cse=True)
    return lambda *columns: hand_written_gradient(list(columns))


def _lazy(result: Any) -> Any:
    """The result as one Dask array (d x points), or None when it was computed eagerly."""
    import dask.array as da

    if isinstance(result, da.Array):
        return result
    if isinstance(result, (list, tuple)) and all(isinstance(r, da.Array) for r in result):
        return da.stack(list(result))
    return None


class PeakMemory:
    """Largest resident set size of this process while the ``with`` block runs, sampled."""

    def __init__(self, period: float = 0.01):
        self.period, self.peak, self.before = period, 0, 0
        self._stop = threading.Event()
        try:
            import psutil

            self._rss = psutil.Process().memory_info
            self._read = lambda: self._rss().rss
        except ImportError:
            page = os.sysconf("SC_PAGE_SIZE")
            self._read = lambda: int(open("/proc/self/statm").read().split()[1]) * page

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._read())
            time.sleep(self.period)

    def __enter__(self) -> "PeakMemory":
        self.before = self.peak = self._read()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._read())


def _task(send, tool: str, d: int, points: int, chunk: int) -> None:
    function = _gradient_function(tool, d)
    if _lazy(function(*inputs(10, 5, d))) is None:
        send("eager", True)
        return
    total = _lazy(function(*inputs(points, chunk, d))).sum(axis=-1)
    send("step", "compute")
    # a pool of this process's own: a child forked from a process that had used Dask's default
    # pool inherits that pool without its threads, and would wait on them forever
    with PeakMemory() as memory, ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        start = time.perf_counter()
        values = np.asarray(total.compute(scheduler="threads", pool=pool), dtype=float)
        send("wall", time.perf_counter() - start)
    send("peak", memory.peak - memory.before)
    send("rss", memory.peak)
    send("sums", [float(v) for v in values.ravel()])


def measure(d: int, points: int, chunk: int, limit: float, say=lambda *a: None) -> dict:
    """``{tool: figures}``; ``limit`` bounds the whole computation of one tool."""
    results = {}
    for tool in TOOLS:
        say(f"measuring dask/{tool} ...")
        got = child.stream(_task, (tool, d, points, chunk), limit)
        figures = dict(got.figures)
        if got.timed_out:
            figures["timeout"] = True
        if got.error:
            figures["error"] = got.error
        results[tool] = figures
    return results


def failures(results: dict) -> list[str]:
    reference = results.get("hand-written Dask", {}).get("sums")
    out = [f"dask: hand-written Dask: {results['hand-written Dask'].get('error', 'no result')}"] \
        if reference is None else []
    for tool, figures in results.items():
        if reference is None or "sums" not in figures or tool == "hand-written Dask":
            continue
        mine, theirs = np.array(reference), np.array(figures["sums"])
        err = float(np.max(np.abs(mine - theirs))) / max(float(np.max(np.abs(mine))), 1e-300)
        if mine.shape != theirs.shape or not err <= AGREEMENT:
            out.append(f"dask: {tool} differs from hand-written Dask (relative error {err:.2e})")
    return out


def report(results: dict, d: int, points: int, chunk: int, limit: float) -> str:
    rows = []
    hand = results.get("hand-written Dask", {})
    for tool, figures in results.items():
        if figures.get("eager"):
            cells = ["n/a (eager)"] * 3
        elif figures.get("timeout"):
            cells = [f">{limit:g} s", "-", "-"]
        elif "error" in figures:
            cells = ["failed", "-", "-"]
        else:
            cells = [seconds(figures.get("wall"), limit), f"{figures['peak'] / 2**20:.0f} MiB",
                     f"{figures['rss'] / 2**20:.0f} MiB"]
        wall, base = figures.get("wall"), hand.get("wall")
        cells.append(f"{wall / base:.3g}x" if isinstance(wall, float) and base else "-")
        rows.append(["dask/grad" if not rows else "", tool] + cells)
    lines = [f"dask: Rosenbrock gradient, d = {d}, {points:,} points in chunks of {chunk:,} "
             f"(inputs {8 * d * points / 2**30:.2f} GiB if held whole), summed over the points",
             _table(["case/quantity", "tool", "wall", "peak memory", "peak RSS", "time/hand-written"],
                    rows),
             "peak memory: largest RSS while computing minus RSS before; n/a (eager): the function "
             "returns computed values for Dask input, so the full size is not run"]
    lines += [f"dask {tool}: {f['error']}" for tool, f in results.items() if "error" in f]
    return "\n".join(lines)
