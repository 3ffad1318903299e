"""Evaluation backends side by side, at several N: symcalc's ``lambdify(..., backend=b)`` for b
in numpy, numexpr and jax, SymPy's ``lambdify(..., cse=True)`` and JAX's own ``jit(vmap(...))`` of
the case's array form, on every case and quantity that is evaluated.

A symcalc backend that this version of symcalc does not offer (``lambdify`` refusing the
``backend`` keyword, or naming the backend unknown) is shown ``n/a``; the NumPy column then uses
plain ``lambdify``, whose code is NumPy's.  Each tool measures a quantity in its own forked child
(``child.stream``), at every N in turn; a step silent for ``limit`` seconds is cut off.  An N at
which the inputs and outputs alone would exceed ``MEMORY_BUDGET`` bytes is skipped.

symcalc's NumPy backend and SymPy are the exception: both run the same kind of code (one NumPy
call per operation), so one child times them in turn (``_paired``), and a machine whose speed
drifts slows both alike.  What remains is where the allocator places each function's arrays: the
same NumPy calls were seen to take up to 1.6x longer in one layout than in another, so a ratio
within about 30% of 1 between programs of the same operations is noise.

Before timing, every tool's values at the first ``CHECKED`` points are compared with symcalc's
NumPy values (relative ``AGREEMENT``); a disagreement is a failure.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

import child
import tools
from measure import Settings, time_call, time_calls
from report import _table, seconds
from suite import Case

BACKENDS = ("numpy", "numexpr", "jax")
FUSED = ("numexpr", "jax")  # backends that fuse the elementwise operations of a program
PEERS = ("SymPy cse", "JAX jit")
MEMORY_BUDGET = 2e9  # bytes of inputs and outputs of one call
CHECKED = 8  # points whose values are compared between tools
AGREEMENT = 1e-8
TIMEOUT = ">limit"


def tool_names(backends: tuple[str, ...] = BACKENDS) -> list[str]:
    return [f"symcalc/{b}" for b in backends] + list(PEERS)


def input_columns(N: int, d: int, seed: int) -> list[np.ndarray]:
    """d columns of N points in [-1, 1]; each column from its own seed, so the first points are
    the same whatever N is."""
    return [np.random.default_rng([seed, i]).uniform(-1, 1, N) for i in range(d)]


def output_count(case: Case, quantity: str) -> int:
    d = len(case.variables)
    return {"grad": d, "hessian": d * d}.get(quantity, 1)


def fits(case: Case, quantity: str, N: int) -> bool:
    return 8.0 * N * (len(case.variables) + output_count(case, quantity)) <= MEMORY_BUDGET


def _ready(value: Any) -> Any:
    """Wait for an asynchronous (JAX) result."""
    for leaf in tools.flatten(value):
        if hasattr(leaf, "block_until_ready"):
            leaf.block_until_ready()
    return value


def _sample(value: Any, points_last: bool = True) -> list[float]:
    """The values at the first ``CHECKED`` points, output by output; the points are the last axis
    of each output (``points_last``) or the first (JAX's ``vmap``)."""
    out: list[float] = []
    for leaf in tools.flatten(value):
        a = np.asarray(leaf, dtype=float)
        if a.ndim == 0:  # a constant output, not broadcast
            a = np.full(CHECKED, float(a))
        elif not points_last:
            a = np.moveaxis(a, 0, -1)
        out += [float(v) for v in a[..., :CHECKED].ravel()]
    return out


# --- the children -------------------------------------------------------------------------------
def _fitting_columns(send, case: Case, quantity: str, sizes: tuple, seed: int):
    """``(N, input columns)`` for each size whose call fits in memory; the others are reported
    as skipped."""
    for N in sizes:
        if not fits(case, quantity, N):
            send(f"eval {N}", "memory")
            continue
        send("step", f"eval {N}")
        yield N, input_columns(N, len(case.variables), seed)


def _symcalc_function(send, case: Case, quantity: str, backend: str, step: str = "compile"):
    """symcalc's ``lambdify(..., backend=backend)`` of the quantity; None (reported
    unavailable) for a backend this symcalc does not offer."""
    import symcalc as sc

    adapter = tools.Symcalc()
    f = adapter.fresh(case)
    result = f if quantity == "f" else adapter.build(f, case, quantity)
    send("step", step)
    try:
        return sc.lambdify(result, list(case.variables), backend=backend)
    except (TypeError, sc.SymcalcError) as exc:
        if backend != "numpy":
            send("unavailable", child.describe(exc))
            return None
        return sc.lambdify(result, list(case.variables))  # NumPy code, before backends


def _sympy_function(send, case: Case, quantity: str, step: str = "compile"):
    """SymPy's ``lambdify(cse=True)`` of the quantity, called with the list of columns."""
    adapter = tools.Sympy()
    f = adapter.fresh(case)
    result = f if quantity == "f" else adapter.build(f, case, quantity)
    send("step", step)
    vectorised, _ = adapter.compile(result, case, quantity)
    return vectorised


def _constant(values: Any) -> bool:
    """Whether SymPy gave numbers, not N values: nothing to time."""
    return all(np.ndim(leaf) == 0 for leaf in tools.flatten(values))


def _symcalc(send, case: Case, quantity: str, backend: str, sizes: tuple, settings: Settings) -> None:
    function = _symcalc_function(send, case, quantity, backend)
    if function is None:
        return
    for N, args in _fitting_columns(send, case, quantity, sizes, settings.seed):
        if backend == "jax":
            import jax

            jax.config.update("jax_enable_x64", True)
            args = [jax.device_put(a) for a in args]
        send(f"check {N}", _sample(_ready(function(*args))))
        send(f"eval {N}", time_call(lambda: _ready(function(*args)), settings, lambda: send("tick")))


def _paired(send, case: Case, quantity: str, sizes: tuple, settings: Settings) -> None:
    """symcalc's NumPy backend and SymPy's ``lambdify(cse=True)`` in one child, their samples
    taken in turn; figures ``numpy:<key>`` and ``sympy:<key>``, steps ``numpy:``, ``sympy:``
    or ``pair:`` (both)."""
    function = _symcalc_function(send, case, quantity, "numpy", "numpy:compile")
    vectorised = _sympy_function(send, case, quantity, "sympy:compile")

    def both(key: str, value: Any = None) -> None:
        if key == "step":
            send("step", f"pair:{value}")
        else:  # an N skipped for memory
            send(f"numpy:{key}", value)
            send(f"sympy:{key}", value)

    tick = lambda: send("tick")  # noqa: E731
    for N, args in _fitting_columns(both, case, quantity, sizes, settings.seed):
        mine = lambda: function(*args)  # noqa: E731
        theirs = lambda: vectorised(args)  # noqa: E731
        send(f"numpy:check {N}", _sample(mine()))
        values = theirs()
        send(f"sympy:check {N}", _sample(values))
        if _constant(values):
            send(f"sympy:eval {N}", "constant")
            send(f"numpy:eval {N}", time_call(mine, settings, tick))
            continue
        numpy_time, sympy_time = time_calls([mine, theirs], settings, tick)
        send(f"numpy:eval {N}", numpy_time)
        send(f"sympy:eval {N}", sympy_time)


def _numpy_and_sympy(case: Case, quantity: str, sizes: tuple, settings: Settings
                     ) -> tuple[dict, dict]:
    """The figures of symcalc/numpy and of SymPy cse from one ``_paired`` child; the sizes it
    did not time symcalc at (SymPy too slow to build or to run) come from a child of its own."""
    got = child.stream(_paired, (case, quantity, sizes, settings), settings.limit)
    figures: dict = {"numpy": {}, "sympy": {}}
    for key, value in got.figures.items():
        tool, _, rest = key.partition(":")
        figures[tool][rest] = value
    tool, _, step = got.step.partition(":")
    # a child stopped before it named a step (a loaded machine, a short limit) stopped both
    stopped = [tool] if tool in figures else ["numpy", "sympy"]
    for name in stopped if got.timed_out or got.error else []:
        if got.error:
            figures[name]["error"] = got.error
        else:
            figures[name][step if step.startswith("eval") else "timeout"] = TIMEOUT
    numpy = figures["numpy"]
    missing = tuple(N for N in sizes if not isinstance(numpy.get(f"eval {N}"), (float, str))
                    or numpy.get(f"eval {N}") == TIMEOUT)
    if missing:
        alone = _run(_symcalc, (case, quantity, "numpy", missing, settings), settings.limit)
        numpy.pop("error", None)
        numpy.pop("timeout", None)
        numpy.update(alone)
    return numpy, figures["sympy"]


def _sympy(send, case: Case, quantity: str, sizes: tuple, settings: Settings) -> None:
    vectorised = _sympy_function(send, case, quantity)
    for N, args in _fitting_columns(send, case, quantity, sizes, settings.seed):
        values = vectorised(args)
        send(f"check {N}", _sample(values))
        if _constant(values):
            send(f"eval {N}", "constant")
            continue
        send(f"eval {N}", time_call(lambda: vectorised(args), settings, lambda: send("tick")))


def _jax(send, case: Case, quantity: str, sizes: tuple, settings: Settings) -> None:
    adapter = tools.Jax()
    for N, columns in _fitting_columns(send, case, quantity, sizes, settings.seed):
        adapter.n_points = N
        f = adapter.fresh(case)
        built = f if quantity == "f" else adapter.build(f, case, quantity)  # compile builds f
        vectorised, _ = adapter.compile(built, case, quantity)
        P = adapter.points(np.stack(columns, axis=1))
        send(f"check {N}", _sample(vectorised(P), points_last=False))
        send(f"eval {N}", time_call(lambda: vectorised(P), settings, lambda: send("tick")))


# --- the parent ---------------------------------------------------------------------------------
def evaluated(cases: list[Case]) -> list[tuple[Case, str]]:
    return [(case, q) for case in cases for q in case.quantities
            if q != "parse" and case.array_function is not None]


def measure(cases: list[Case], backends: tuple[str, ...], sizes: tuple[int, ...],
            settings: Settings, say=lambda *a: None, peers: tuple[str, ...] = ("SymPy", "JAX")) -> dict:
    """``{(case, quantity): {tool: {"eval N": seconds | "memory" | TIMEOUT, "check N": values,
    "unavailable": why, "error": message}}}``."""
    results: dict = {}
    for case, quantity in evaluated(cases):
        say(f"measuring backends {case.name}/{quantity} ...")
        by_tool: dict = {}
        paired = None
        if "SymPy" in peers and "numpy" in backends:
            paired = _numpy_and_sympy(case, quantity, sizes, settings)
        for backend in backends:
            if backend == "numpy" and paired is not None:
                by_tool["symcalc/numpy"] = paired[0]
                continue
            by_tool[f"symcalc/{backend}"] = _run(_symcalc, (case, quantity, backend, sizes, settings),
                                                 settings.limit)
        if "SymPy" in peers:
            by_tool["SymPy cse"] = (paired[1] if paired is not None
                                    else _run(_sympy, (case, quantity, sizes, settings), settings.limit))
        if "JAX" in peers and _installed("jax"):
            by_tool["JAX jit"] = _run(_jax, (case, quantity, sizes, settings), settings.limit)
        results[(case.name, quantity)] = by_tool
    return results


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _run(task, args: tuple, limit: float) -> dict:
    got = child.stream(task, args, limit)
    figures = dict(got.figures)
    if got.timed_out:
        figures[got.step if got.step.startswith("eval") else "timeout"] = TIMEOUT
    if got.error:
        figures["error"] = got.error
    return figures


def failures(results: dict) -> list[str]:
    """Tools whose values at the checked points differ from symcalc's NumPy values."""
    out = []
    for (name, quantity), by_tool in results.items():
        reference = by_tool.get("symcalc/numpy", {})
        for tool, figures in by_tool.items():
            for key, values in figures.items():
                if not key.startswith("check") or tool == "symcalc/numpy" or key not in reference:
                    continue
                mine, theirs = np.array(reference[key]), np.array(values)
                if mine.shape != theirs.shape:
                    out.append(f"backends {name}/{quantity}: {tool} gives {theirs.size} values, "
                               f"symcalc/numpy {mine.size} ({key})")
                    continue
                scale = max(float(np.max(np.abs(mine), initial=0.0)), 1e-300)
                err = float(np.max(np.abs(mine - theirs), initial=0.0)) / scale
                if not err <= AGREEMENT:
                    out.append(f"backends {name}/{quantity}: {tool} differs from symcalc/numpy at "
                               f"N = {key.split()[1]} (relative error {err:.2e})")
        for tool, figures in by_tool.items():
            if "error" in figures and tool.startswith("symcalc/numpy"):
                out.append(f"backends {name}/{quantity}: {tool}: {figures['error']}")
    return out


def _cell(figures: dict, N: int, limit: float) -> str:
    if "unavailable" in figures:
        return "n/a"
    value = figures.get(f"eval {N}")
    if value == "memory":
        return "skip (mem)"
    if value == "constant":
        return "constant"
    if value is None and "error" in figures:
        return "error"
    if value is None and figures.get("timeout") == TIMEOUT:
        return f">{limit:g} s (build)"
    return seconds(value, limit)


def _time(figures: Optional[dict], N: int) -> Optional[float]:
    value = (figures or {}).get(f"eval {N}")
    return value if isinstance(value, float) else None


def _ratio(peer: Optional[float], mine: Optional[float]) -> str:
    return f"{peer / mine:.3g}x" if peer is not None and mine else "-"


def goals(results: dict, sizes: tuple[int, ...]) -> list[dict]:
    """The goal "the NumPy backend at least as fast as SymPy", read from the paired timings (see
    the module docstring), in the form of ``report.goals``; none without SymPy figures."""
    pairs = []
    for (name, quantity), by_tool in results.items():
        for N in sizes:
            mine, peer = _time(by_tool.get("symcalc/numpy"), N), _time(by_tool.get("SymPy cse"), N)
            if mine and peer is not None:
                pairs.append((f"{name}/{quantity} N={N:,}", peer / mine))
    if not pairs:
        return []
    missed = [(key, value) for key, value in pairs if value < 1]
    return [{"goal": "NumPy backend at least as fast as SymPy's lambdify(cse=True), timed in turn",
             "met": not missed, "figures": {key: round(value, 4) for key, value in pairs},
             "summary": ", ".join(f"{key} {value:.3g}x" for key, value in (missed or pairs))}]


def report(results: dict, sizes: tuple[int, ...], limit: float) -> str:
    """The figures table (one row per tool) and the ratios table (one row per N)."""
    rows = []
    for key, by_tool in results.items():
        for k, (tool, figures) in enumerate(by_tool.items()):
            rows.append(["/".join(key) if k == 0 else "", tool] + [_cell(figures, N, limit) for N in sizes])
    lines = ["evaluation by backend (one vectorised call; n/a: backend not offered by this symcalc)",
             _table(["case/quantity", "tool"] + [f"eval N={N:,}" for N in sizes], rows), "",
             "backend ratios (above 1: symcalc is faster; best fused = faster of symcalc/numexpr "
             "and symcalc/jax)"]
    rows = []
    for key, by_tool in results.items():
        numpy = by_tool.get("symcalc/numpy")
        for k, N in enumerate(sizes):
            fused = {b: _time(by_tool.get(f"symcalc/{b}"), N) for b in FUSED}
            fused = {b: t for b, t in fused.items() if t is not None}
            best = min(fused, key=fused.get) if fused else None
            jit = _time(by_tool.get("JAX jit"), N)
            rows.append(["/".join(key) if k == 0 else "", f"{N:,}",
                         _ratio(_time(by_tool.get("SymPy cse"), N), _time(numpy, N)),
                         _ratio(jit, _time(numpy, N)),
                         best or "n/a", _ratio(jit, fused[best]) if best else "n/a"])
    lines.append(_table(["case/quantity", "N", "SymPy/numpy", "JAX jit/numpy", "best fused",
                         "JAX jit/best fused"], rows))
    unavailable = {tool: figures["unavailable"] for by_tool in results.values()
                   for tool, figures in by_tool.items() if "unavailable" in figures}
    lines += [f"{tool}: n/a ({why})" for tool, why in unavailable.items()]
    lines.append(f"skip (mem): inputs and outputs of one call over {MEMORY_BUDGET:.0e} bytes; "
                 "constant: SymPy returns numbers, not N values")
    for key, by_tool in results.items():
        for tool, figures in by_tool.items():
            if "error" in figures:
                lines.append(f"backends {'/'.join(key)} {tool}: {figures['error']}")
            if figures.get("timeout") == TIMEOUT:
                lines.append(f"backends {'/'.join(key)} {tool}: over {limit:g} s before evaluating")
    return "\n".join(lines)
