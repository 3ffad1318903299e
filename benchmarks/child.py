"""Running one measuring task in a forked child that reports as it goes and is cut off when it
stops reporting.

``stream(task, args, limit)`` forks a child that runs ``task(send, *args)``; the task calls
``send(key, value)`` for every figure it has (``send("step", name)`` names the step under way,
``send("tick")`` only shows it is alive).  The parent waits at most ``limit`` seconds for each
message: when none comes, the child is killed and the figures received so far are returned with
``timed_out`` set.  An exception in the task is returned as its message.  The parent never imports
what the task uses (JAX, Dask, SymPy), so every child starts clean.
"""

from __future__ import annotations

import multiprocessing
import resource
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Optional


@dataclass
class Streamed:
    """What a child sent before it finished, failed, died or was cut off."""

    figures: dict = field(default_factory=dict)  # key -> value, in the order they came
    step: str = ""  # the last step announced: where a timeout happened
    timed_out: bool = False
    error: str = ""


def describe(exc: BaseException) -> str:
    """The last line of the exception's message, shortened."""
    return traceback.format_exception_only(type(exc), exc)[-1].strip()[:200]


def stream(task: Callable[..., None], args: tuple, limit: float,
           memory: Optional[int] = None) -> Streamed:
    """Run ``task(send, *args)`` in a forked child; see the module docstring.  ``memory`` caps
    the child's address space (bytes), so that expression swell fails with MemoryError in the
    child instead of exhausting the machine."""
    context = multiprocessing.get_context("fork")
    mine, theirs = context.Pipe()

    def serve() -> None:
        if memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory, resource.getrlimit(resource.RLIMIT_AS)[1]))
        def send(key: str, value: Any = None) -> None:
            theirs.send(("value", key, value))
        try:
            task(send, *args)
        except Exception as exc:  # reported; the run goes on
            theirs.send(("error", describe(exc), None))
        theirs.send(("done", None, None))

    child = context.Process(target=serve, daemon=True)
    child.start()
    theirs.close()
    out = Streamed()
    try:
        while True:
            if not mine.poll(limit):
                child.kill()
                out.timed_out = True
                return out
            try:
                kind, key, value = mine.recv()
            except EOFError:
                out.error = out.error or "the measuring process died"
                return out
            if kind == "done":
                return out
            if kind == "error":
                out.error = key
            elif key == "step":
                out.step = value
            elif key != "tick":  # a tick only shows the child is alive
                out.figures[key] = value
    finally:
        child.join()
        mine.close()
