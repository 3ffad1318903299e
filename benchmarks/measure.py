"""Measuring one tool on a list of jobs, in a child process that is cut off when a step hangs.

A job is one quantity of one case: its build, size, compilation, correctness values and timings.
Each tool has its own child process, which runs the jobs it is given and reports every step as it
goes (a message at least once per repetition).  The parent waits at most ``limit`` seconds for
each message; when none comes, the step in progress is recorded as ``>limit``, the child is
killed, and a new child takes the next job.  The run goes job by job, every tool in turn, so the
figures that are compared are taken close together in time.
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

import tools
from suite import Case

TIMEOUT = ">limit"


@dataclass(frozen=True)
class Settings:
    repeat: int = 5  # samples per timing; the median is reported
    limit: float = 60.0  # seconds one repetition of one step may take
    points: int = 10_000  # N for the vectorised evaluation
    min_sample: float = 0.05  # a timing sample repeats a fast call until it lasts this long
    seed: int = 1


@dataclass(frozen=True)
class Job:
    case: Case
    quantity: str
    check_point: np.ndarray  # where every tool's values are compared before timing

    @property
    def key(self) -> tuple[str, str]:
        return (self.case.name, self.quantity)


@dataclass
class Outcome:
    """What one tool gave for one job; a field holds a number, ``TIMEOUT``, or ``None`` (not run)."""

    build: Any = None
    size: Any = None
    eval: Any = None
    call: Any = None
    check: Optional[list[float]] = None
    stable: Optional[bool] = None
    errors: list[str] = field(default_factory=list)


# --- inside the child ---------------------------------------------------------------------------
def _clock(fn: Callable[[], Any], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return time.perf_counter() - start


def _calibrated(fn: Callable[[], Any], settings: Settings,
                tick: Callable[[], None]) -> tuple[int, float]:
    """``(number, seconds)``: how many calls of ``fn`` (after one warm-up call) last at least
    ``settings.min_sample``, and how long they took."""
    fn()
    tick()
    number = 1
    while True:
        elapsed = _clock(fn, number)
        tick()
        if elapsed >= settings.min_sample or number >= 1_000_000:
            return number, elapsed
        number = max(2 * number, int(number * 1.2 * settings.min_sample / max(elapsed, 1e-9)))


def time_call(fn: Callable[[], Any], settings: Settings, tick: Callable[[], None]) -> float:
    """Median seconds per call of ``fn`` over ``settings.repeat`` samples (after one warm-up call)."""
    number, elapsed = _calibrated(fn, settings, tick)
    samples = [elapsed / number]
    for _ in range(settings.repeat - 1):
        samples.append(_clock(fn, number) / number)
        tick()
    return statistics.median(samples)


def time_calls(fns: list[Callable[[], Any]], settings: Settings,
               tick: Callable[[], None]) -> list[float]:
    """``time_call`` of several functions at once, their samples taken in turn (a, b, a, b, ...):
    a machine whose speed drifts slows them alike, so their ratio holds."""
    numbers = [_calibrated(fn, settings, tick)[0] for fn in fns]
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(settings.repeat):
        for fn, number, mine in zip(fns, numbers, samples):
            mine.append(_clock(fn, number) / number)
            tick()
    return [statistics.median(mine) for mine in samples]


def _values(result: Any) -> list[float]:
    return [float(v) for v in np.asarray(result, dtype=float).ravel()]


def _run_job(tool: Any, job: Job, settings: Settings, send: Callable) -> None:
    case, quantity = job.case, job.quantity
    tick = lambda: send(("tick",))  # noqa: E731

    send(("step", "build"))
    if quantity == "parse":
        tool.parse("x_1 + 1")  # loads the parser once, outside the timing
        result, times = None, []
        for _ in range(settings.repeat):
            result = None
            gc.collect()
            start = time.perf_counter()
            result = tool.parse(case.formula if tool.name == "symcalc" else case.sympy_formula)
            times.append(time.perf_counter() - start)
            tick()
        send(("value", "build", statistics.median(times)))
    elif quantity == "f":
        result = tool.fresh(case)
    else:
        result, times = None, []
        for _ in range(settings.repeat):
            f = result = None
            f = tool.fresh(case)
            start = time.perf_counter()
            result = tool.build(f, case, quantity)
            times.append(time.perf_counter() - start)
            tick()
        send(("value", "build", statistics.median(times)))

    send(("step", "size"))
    send(("value", "size", tool.size(result, case)))
    if quantity == "parse":
        return

    send(("step", "eval"))  # compiling belongs to evaluation: it has to happen first
    vectorised, single = tool.compile(result, case, quantity)

    send(("step", "check"))
    send(("value", "check", _values(single(tool.point(job.check_point)))))
    if case.stability_point is not None:
        with np.errstate(all="ignore"):
            values = _values(single(tool.point(np.array(case.stability_point))))
        send(("value", "stable", bool(np.all(np.isfinite(values)))))

    rng = np.random.default_rng(settings.seed)
    P = rng.uniform(-1, 1, (settings.points, len(case.variables)))
    send(("step", "eval"))
    points = tool.points(P)
    send(("value", "eval", time_call(lambda: vectorised(points), settings, tick)))

    send(("step", "call"))
    point = tool.point(P[0])
    send(("value", "call", time_call(lambda: single(point), settings, tick)))


def _serve(conn: Any, tool_name: str, jobs: list[Job], settings: Settings) -> None:
    """The child: runs the jobs whose indices arrive, one at a time, until it gets None."""
    send = conn.send
    tool = tools.ALL[tool_name]()
    if hasattr(tool, "n_points"):
        tool.n_points = settings.points
    while (index := conn.recv()) is not None:
        try:
            _run_job(tool, jobs[index], settings, send)
        except Exception as exc:  # reported, and the next job goes on
            last = traceback.format_exception_only(type(exc), exc)[-1].strip()
            send(("error", last[:300]))
        send(("finished",))


# --- in the parent ------------------------------------------------------------------------------
class Worker:
    """One tool's child process.  The jobs are handed over when it is forked; ``run(i)`` measures
    job i there and returns its ``Outcome``.  A step that sends nothing for ``settings.limit``
    seconds is recorded as ``>limit`` and the child is replaced by a fresh one for the next job."""

    def __init__(self, tool_name: str, jobs: list[Job], settings: Settings):
        self.tool_name, self.jobs, self.settings = tool_name, jobs, settings
        self._child: Any = None
        self._conn: Any = None

    def _start(self) -> None:
        context = multiprocessing.get_context("fork")
        self._conn, theirs = context.Pipe()
        self._child = context.Process(target=_serve, daemon=True,
                                      args=(theirs, self.tool_name, self.jobs, self.settings))
        self._child.start()
        theirs.close()

    def run(self, index: int) -> Outcome:
        if self._child is None:
            self._start()
        outcome, step = Outcome(), "build"
        self._conn.send(index)
        while True:
            if not self._conn.poll(self.settings.limit):
                _record(outcome, step, TIMEOUT)
                self.close(kill=True)
                return outcome
            try:
                message = self._conn.recv()
            except EOFError:  # the child died (for instance killed for memory)
                outcome.errors.append(f"{step}: the measuring process died")
                self.close(kill=True)
                return outcome
            kind = message[0]
            if kind == "step":
                step = message[1]
            elif kind == "value":
                setattr(outcome, message[1], message[2])
            elif kind == "error":
                outcome.errors.append(f"{step}: {message[1]}")
            elif kind == "finished":
                return outcome

    def close(self, kill: bool = False) -> None:
        if self._child is None:
            return
        if kill:
            self._child.kill()
        else:
            self._conn.send(None)
        self._child.join()
        self._conn.close()
        self._child = self._conn = None


def run_tool(tool_name: str, jobs: list[Job], settings: Settings) -> dict[tuple[str, str], Outcome]:
    """Every job for one tool, in order: ``{job.key: Outcome}``."""
    worker = Worker(tool_name, jobs, settings)
    try:
        return {job.key: worker.run(i) for i, job in enumerate(jobs)}
    finally:
        worker.close()


def _record(outcome: Outcome, step: str, value: Any) -> None:
    if step == "check":
        step = "eval"
    setattr(outcome, step, value)
