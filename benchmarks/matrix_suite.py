"""The ``matrix`` case: gradients and Hessians of losses written with shaped symbols.

Two losses, with symbolic shapes (``m`` rows, ``n`` columns), data from ``seed``:

* ``lstsq``: ``0.5*norm(A@t - b)^2``, gradient and Hessian in ``t``;
* ``logistic``: ``sum(softplus(X@w)) - y@X@w``, gradient and Hessian in ``w``.

Tools: symcalc (``sc.grad``/``sc.hessian`` once, for any sizes, then ``sc.lambdify``), the
hand-written NumPy formulas (``A.T@(A@t - b)``, ``A.T@A``, ``X.T@(sigmoid(X@w) - y)``,
``(X.T*s*(1 - s))@X``), JAX's ``jit(grad)`` and ``jit(hessian)`` when JAX is installed, and
SymPy's ``MatrixSymbol`` route (``.diff``; where it fails or gives a form NumPy cannot evaluate,
that is recorded).  Each tool runs in its own forked child, killed after ``limit`` seconds.
symcalc and hand-written NumPy are timed in the same child, their samples taken in turn.

Build times: symcalc's and SymPy's with symbolic shapes, and symcalc's and JAX's (tracing and
XLA compilation) with the shapes fixed at a small and at the full size.
"""

from __future__ import annotations

import gc
import multiprocessing
import statistics
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

TIMEOUT = ">limit"
AGREEMENT = 1e-8  # relative to the largest entry of the hand-written NumPy values
GOAL = 1.3  # the generated code within this factor of hand-written NumPy
QUANTITIES = ("grad", "hessian")


@dataclass(frozen=True)
class Loss:
    name: str
    formula: str  # symcalc syntax
    shapes: dict  # symbol -> symbolic shape
    variables: tuple[str, ...]  # argument order of every generated function
    wrt: str

    def data(self, m: int, n: int, seed: int) -> tuple[np.ndarray, ...]:
        rng = np.random.default_rng(seed)
        M = rng.normal(size=(m, n))
        if self.name == "lstsq":
            return M, rng.normal(size=n), rng.normal(size=m)
        return M / np.sqrt(n), rng.normal(size=n), (rng.uniform(size=m) < 0.5).astype(float)


LOSSES = (
    Loss("lstsq", "0.5*norm(A@t - b)^2", {"A": ("m", "n"), "t": ("n",), "b": ("m",)},
         ("A", "t", "b"), "t"),
    Loss("logistic", "sum(softplus(X@w)) - y@X@w", {"X": ("m", "n"), "w": ("n",), "y": ("m",)},
         ("X", "w", "y"), "w"),
)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def hand_written(loss: Loss, quantity: str) -> Callable[..., np.ndarray]:
    """What a NumPy user writes for the quantity (the Hessian's diagonal never built)."""
    if loss.name == "lstsq":
        if quantity == "grad":
            return lambda A, t, b: A.T @ (A @ t - b)
        return lambda A, t, b: A.T @ A

    if quantity == "grad":
        return lambda X, w, y: X.T @ (_sigmoid(X @ w) - y)

    def hessian(X, w, y):
        s = _sigmoid(X @ w)
        return (X.T * (s * (1 - s))) @ X
    return hessian


def jax_loss(loss: Loss, jnp: Any) -> Callable[..., Any]:
    if loss.name == "lstsq":
        return lambda A, t, b: 0.5 * jnp.sum((A @ t - b) ** 2)
    import jax

    return lambda X, w, y: jnp.sum(jax.nn.softplus(X @ w)) - y @ X @ w


# --- measuring, in children ---------------------------------------------------------------------
@dataclass
class Figures:
    """One tool on one quantity: seconds, values at the data, and what went wrong."""

    build: Any = None  # symbolic shapes (JAX: compiled at the full size)
    build_small: Any = None  # shapes fixed at the small size
    build_full: Any = None  # shapes fixed at the full size
    eval: Any = None
    values: Optional[np.ndarray] = None
    form: Optional[str] = None  # the symbolic result, printed
    errors: list[str] = field(default_factory=list)


def _median_in_turn(functions: list[Callable[[], Any]], repeat: int, min_sample: float) -> list[float]:
    """Median seconds per call of each function; samples are taken in turn, a fast call repeated
    until a sample lasts ``min_sample``."""
    numbers = []
    for fn in functions:
        fn()
        number, elapsed = 1, 0.0
        while True:
            start = time.perf_counter()
            for _ in range(number):
                fn()
            elapsed = time.perf_counter() - start
            if elapsed >= min_sample or number >= 100_000:
                break
            number *= 2
        numbers.append(number)
    samples: list[list[float]] = [[] for _ in functions]
    for _ in range(repeat):
        for fn, number, times in zip(functions, numbers, samples):
            start = time.perf_counter()
            for _ in range(number):
                fn()
            times.append((time.perf_counter() - start) / number)
    return [statistics.median(t) for t in samples]


def _timed(fn: Callable[[Any], Any], repeat: int,
           prepare: Callable[[], Any] = lambda: None) -> tuple[float, Any]:
    """Median seconds of ``fn(prepare())``, ``prepare`` (a fresh parse, say) untimed."""
    times, result = [], None
    for _ in range(repeat):
        result = None
        argument = prepare()
        gc.collect()
        start = time.perf_counter()
        result = fn(argument)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _symcalc_and_numpy(loss: Loss, quantity: str, sizes: tuple, repeat: int, min_sample: float) -> dict:
    import symcalc as sc
    from symcalc.matrix import convert

    derivative = sc.grad if quantity == "grad" else sc.hessian
    (small_m, small_n), (m, n) = sizes
    mine = Figures()
    build = lambda f: derivative(f, loss.wrt)  # noqa: E731

    def fresh(shapes):  # every build pays for the registry partials it converts
        getattr(convert, "_partials_cache", {}).clear()
        return sc.parse(loss.formula, shapes=shapes)
    mine.build, result = _timed(build, repeat, lambda: fresh(loss.shapes))
    mine.form = str(result)
    for label, (rows, cols) in (("build_small", (small_m, small_n)), ("build_full", (m, n))):
        fixed = {k: tuple({"m": rows, "n": cols}[d] for d in v) for k, v in loss.shapes.items()}
        setattr(mine, label, _timed(build, repeat, lambda: fresh(fixed))[0])
    generated = sc.lambdify(result, list(loss.variables))
    numpy = hand_written(loss, quantity)
    data = loss.data(m, n, seed=0)
    mine.values = np.asarray(generated(*data))
    theirs = Figures(values=np.asarray(numpy(*data)))
    if _relative_error(mine.values, theirs.values) <= AGREEMENT:  # values first, then timing
        mine.eval, theirs.eval = _median_in_turn([lambda: generated(*data), lambda: numpy(*data)],
                                                 repeat, min_sample)
    return {"symcalc": mine, "NumPy": theirs}


def _jax(loss: Loss, quantity: str, sizes: tuple, repeat: int, min_sample: float) -> dict:
    import jax

    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")
    transform = jax.grad if quantity == "grad" else jax.hessian
    figures = Figures()
    compiled = None
    for label, (rows, cols) in (("build_small", sizes[0]), ("build_full", sizes[1])):
        examples = [jax.ShapeDtypeStruct(a.shape, a.dtype) for a in loss.data(rows, cols, seed=0)]

        def build(f):
            return jax.jit(transform(f, argnums=1)).lower(*examples).compile()
        # a new closure each time: nothing traced before is reused
        seconds, compiled = _timed(build, repeat, lambda: jax_loss(loss, jax.numpy))
        setattr(figures, label, seconds)
    figures.build = figures.build_full
    data = [jax.device_put(a) for a in loss.data(*sizes[1], seed=0)]
    figures.values = np.asarray(compiled(*data))
    figures.eval = _median_in_turn([lambda: compiled(*data).block_until_ready()], repeat, min_sample)[0]
    return {"JAX": figures}


def _sympy(loss: Loss, quantity: str, sizes: tuple, repeat: int, min_sample: float) -> dict:
    """SymPy's MatrixSymbol route: vectors are n x 1 matrices, the sum of softplus is a ones row
    times an elementwise function."""
    import sympy as sp

    figures = Figures()
    m, n = sp.symbols("m n", integer=True, positive=True)
    M, v, u = (sp.MatrixSymbol(name, *shape) for name, shape in
               zip(loss.variables, ((m, n), (n, 1), (m, 1))))
    if loss.name == "lstsq":
        r = M * v - u
        f = sp.Rational(1, 2) * (r.T * r)
    else:
        softplus = (M * v).applyfunc(lambda z: sp.log(1 + sp.exp(z)))
        f = sp.OneMatrix(1, m) * softplus - u.T * M * v

    def build(_):
        g = f.diff(v)
        return g if quantity == "grad" else g.diff(v)
    try:
        figures.build, result = _timed(build, repeat, sp.core.cache.clear_cache)
    except Exception as exc:
        figures.errors.append(f"{quantity}: .diff raises {_describe(exc)}")
        return {"SymPy": figures}
    figures.form = str(result)
    rows, cols = sizes[1]
    data = loss.data(rows, cols, seed=0)
    arrays = (data[0], data[1].reshape(-1, 1), data[2].reshape(-1, 1))
    try:
        function = sp.lambdify([M, v, u], result, modules="numpy")
        values = np.asarray(function(*arrays), dtype=float)
    except Exception as exc:
        figures.errors.append(f"{quantity}: .diff gives {_head(result)}, which lambdify cannot "
                              f"evaluate ({_describe(exc)})")
        return {"SymPy": figures}
    figures.values = values.reshape(-1, cols) if quantity == "hessian" else values.ravel()
    figures.eval = _median_in_turn([lambda: function(*arrays)], repeat, min_sample)[0]
    return {"SymPy": figures}


def _describe(exc: Exception) -> str:
    return traceback.format_exception_only(type(exc), exc)[-1].strip()[:160]


def _head(result: Any) -> str:
    text = str(result)
    return text if len(text) <= 70 else text[:67] + "..."


def _relative_error(values: Any, reference: np.ndarray) -> float:
    values = np.asarray(values, dtype=float)
    if values.shape != reference.shape:
        return float("inf")
    scale = max(float(np.max(np.abs(reference), initial=0.0)), 1e-300)
    return float(np.max(np.abs(values - reference), initial=0.0)) / scale


def _in_child(task: Callable, args: tuple, limit: float) -> dict | str:
    """``task(*args)`` in a forked child: what it returns, its error message as text, or
    ``TIMEOUT`` when it does not answer within ``limit`` seconds (then it is killed)."""
    context = multiprocessing.get_context("fork")
    mine, theirs = context.Pipe()

    def serve():
        try:
            theirs.send(("ok", task(*args)))
        except Exception as exc:  # reported; the run goes on
            theirs.send(("error", _describe(exc)))
    child = context.Process(target=serve, daemon=True)
    child.start()
    theirs.close()
    try:
        if not mine.poll(limit):
            child.kill()
            return TIMEOUT
        try:
            _, payload = mine.recv()  # the figures, or the error message
        except EOFError:
            return "the measuring process died"
        return payload
    finally:
        child.join()
        mine.close()


# --- the run and its report ---------------------------------------------------------------------
TASKS = {"symcalc": _symcalc_and_numpy, "JAX": _jax, "SymPy": _sympy}


def sizes_for(quick: bool) -> tuple[tuple[int, int], tuple[int, int]]:
    """(small, full) sizes (m, n)."""
    return ((200, 5), (2000, 50)) if quick else ((2000, 50), (20_000, 500))


def measure(tools: list[str], quick: bool, repeat: int, limit: float, min_sample: float) -> dict:
    """``{(loss, quantity): {tool: Figures}}``; a tool that timed out or failed has errors."""
    results: dict[tuple[str, str], dict[str, Figures]] = {}
    sizes = sizes_for(quick)
    for loss in LOSSES:
        for quantity in QUANTITIES:
            by_tool: dict[str, Figures] = {}
            for tool in tools:
                got = _in_child(TASKS[tool], (loss, quantity, sizes, repeat, min_sample), limit)
                if isinstance(got, dict):
                    by_tool.update(got)
                elif tool == "symcalc":
                    by_tool["symcalc"] = Figures(errors=[got if got != TIMEOUT else f"over {limit:g} s"])
                else:
                    by_tool[tool] = Figures(build=got if got == TIMEOUT else None,
                                            errors=[] if got == TIMEOUT else [got])
            results[(loss.name, quantity)] = by_tool
    return results


def failures(results: dict) -> list[str]:
    """Tools whose values differ from hand-written NumPy's (SymPy's failures to give a value are
    findings, reported as errors, not failures)."""
    out = []
    for (loss, quantity), by_tool in results.items():
        reference = by_tool.get("NumPy")
        if "symcalc" in by_tool and (reference is None or reference.values is None):
            out.append(f"matrix/{loss}/{quantity}: symcalc gave no values "
                       f"({'; '.join(by_tool['symcalc'].errors)})")
            continue
        for tool, figures in by_tool.items():
            if tool == "NumPy" or figures.values is None:
                continue
            err = _relative_error(figures.values, reference.values)
            if err > AGREEMENT:
                out.append(f"matrix/{loss}/{quantity}: {tool} differs from hand-written NumPy "
                           f"(relative error {err:.2e})")
    return out


def _ratio(peer: Any, mine: Any, limit: float) -> str:
    if isinstance(peer, float) and isinstance(mine, float) and mine > 0:
        return f"{peer / mine:.3g}x"
    if peer == TIMEOUT and isinstance(mine, float) and mine > 0:
        return f">{limit / mine:.3g}x"
    return "-"


def goals(results: dict) -> list[dict]:
    """The generated code within ``GOAL`` of hand-written NumPy: the gradients are the goal, the
    Hessians are shown alongside."""
    targets = []
    for quantities, text in ((("grad",), "generated gradient within 1.3x of hand-written NumPy"),
                             (("hessian",), "generated Hessian within 1.3x of hand-written NumPy")):
        figures = {}
        for (loss, quantity), by_tool in results.items():
            mine, numpy = by_tool.get("symcalc"), by_tool.get("NumPy")
            if quantity in quantities and mine and numpy and isinstance(mine.eval, float) \
                    and isinstance(numpy.eval, float):
                figures[f"matrix/{loss}/{quantity}"] = round(mine.eval / numpy.eval, 4)
        if figures:
            targets.append({"goal": text, "met": all(v <= GOAL for v in figures.values()),
                            "figures": figures,
                            "summary": ", ".join(f"{k} {v:.2f}x NumPy's time"
                                                 for k, v in figures.items())})
    return targets


def report(results: dict, tools: list[str], quick: bool, limit: float) -> str:
    from report import _table, seconds  # the suite's table and time formats

    (sm, sn), (m, n) = sizes_for(quick)
    header = ["case/quantity", "tool", "build", f"build {sm}x{sn}", f"build {m}x{n}",
              f"eval {m}x{n}"]
    rows = []
    order = ["symcalc", "NumPy"] + [t for t in tools if t not in ("symcalc", "NumPy")]
    for (loss, quantity), by_tool in results.items():
        first = True
        for tool in order:
            fig = by_tool.get(tool)
            if fig is None:
                continue
            rows.append([f"matrix/{loss}/{quantity}" if first else "", tool,
                         *(seconds(getattr(fig, f), limit)
                           for f in ("build", "build_small", "build_full", "eval"))])
            first = False
    lines = [f"matrix case: symbolic shapes m x n; data at m = {m}, n = {n}, seed 0",
             _table(header, rows), "", "matrix ratios peer/symcalc (above 1: symcalc is faster)"]
    rows = []
    for (loss, quantity), by_tool in results.items():
        mine, first = by_tool.get("symcalc"), True
        for tool in order[1:]:
            fig = by_tool.get(tool)
            if fig is None or mine is None:
                continue
            rows.append([f"matrix/{loss}/{quantity}" if first else "", tool,
                         _ratio(fig.build, mine.build, limit), _ratio(fig.eval, mine.eval, limit)])
            first = False
    lines.append(_table(["case/quantity", "peer", "build", "eval"], rows))
    lines.append("")
    for (loss, quantity), by_tool in results.items():
        mine = by_tool.get("symcalc")
        if mine is not None and mine.form:
            lines.append(f"matrix/{loss}/{quantity}: symcalc builds {mine.form}")
        for tool, fig in by_tool.items():
            if tool == "SymPy" and fig.form and not fig.errors:
                lines.append(f"matrix/{loss}/{quantity}: SymPy builds {_head(fig.form)}")
            for message in fig.errors:
                lines.append(f"matrix/{loss}/{quantity}: {tool}: {message}")
            if fig.build == TIMEOUT:
                lines.append(f"matrix/{loss}/{quantity}: {tool}: over {limit:g} s, stopped")
    return "\n".join(lines)
