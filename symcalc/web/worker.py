"""Worker processes that compute the API's answers, so that a computation can be stopped.

A thread cannot be stopped in Python, so each answer is computed in a child process
(``python -m symcalc.web.worker``) that reads one JSON request a line on standard input and
writes one JSON answer a line.  A child that takes longer than the time limit is killed and
replaced; the request gets a clear error.  ``Pool`` hands out idle workers to the server's
threads.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Optional

MEMORY_LIMIT = 4 * 2**30  # bytes of address space a worker may use (where the OS supports it)
START_LIMIT = 60.0  # seconds a new worker may take to import symcalc
READY = "ready\n"  # the line a worker writes once it can answer


class TimeLimit(Exception):
    """A computation that did not finish within the time limit."""


class Worker:
    """One child process and a thread that reads its answers."""

    def __init__(self) -> None:
        root = str(Path(__file__).resolve().parents[2])  # the directory holding symcalc/
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "symcalc.web.worker"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True,
            encoding="utf-8", bufsize=1)
        self.answers: queue.Queue[Optional[str]] = queue.Queue()
        self.ready = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.answers.put(line)
        self.answers.put(None)  # the child has ended

    def call(self, endpoint: str, request: object, time_limit: float) -> dict:
        """The child's answer, or ``TimeLimit`` (and the child is killed).  The time limit counts
        from when the child is ready (it says so once it has imported symcalc)."""
        if not self.ready:
            try:
                line = self.answers.get(timeout=START_LIMIT)
            except queue.Empty:
                line = None
            if line != READY:
                raise RuntimeError("the worker process did not start")
            self.ready = True
        self.process.stdin.write(json.dumps({"endpoint": endpoint, "request": request}) + "\n")
        self.process.stdin.flush()
        try:
            line = self.answers.get(timeout=time_limit)
        except queue.Empty:
            self.stop()
            raise TimeLimit from None
        if line is None:
            raise RuntimeError("the worker process ended unexpectedly")
        try:
            return json.loads(line)
        except ValueError:
            raise RuntimeError("the worker process wrote something that is not an answer") from None

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass


class Pool:
    """Up to ``size`` workers, started when first needed; a killed one is replaced."""

    def __init__(self, size: int = 2):
        self.idle: queue.Queue[Worker] = queue.Queue()
        self.lock = threading.Lock()
        self.size = size
        self.started = 0
        self.closed = False
        self.workers: list[Worker] = []

    def warm(self) -> None:
        """Start one worker now, so that the first request does not wait for it."""
        with self.lock:
            self.started += 1
        self._put_new()

    def _put_new(self) -> None:
        worker = Worker()
        with self.lock:
            self.workers.append(worker)
        self.idle.put(worker)

    def call(self, endpoint: str, request: object, time_limit: float) -> dict:
        with self.lock:
            start = self.idle.empty() and self.started < self.size
            self.started += start
        if start:
            self._put_new()
        worker = self.idle.get()
        while not worker.alive() and not self.closed:  # ended while idle: replaced, unnoticed
            self._retire(worker)
            worker = self.idle.get()
        try:
            answer = worker.call(endpoint, request, time_limit)
        except Exception:
            self._retire(worker)
            raise
        self.idle.put(worker)
        return answer

    def _retire(self, worker: Worker) -> None:
        """Stop ``worker`` and put a new one in its place."""
        worker.stop()
        with self.lock:
            self.workers.remove(worker)
        if not self.closed:
            self._put_new()

    def close(self) -> None:
        self.closed = True
        with self.lock:
            workers = list(self.workers)
        for worker in workers:
            worker.stop()


def _serve() -> None:
    """The child: answer requests from standard input until it closes."""
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except (ImportError, ValueError, OSError):
        pass
    from .api import answer

    out, sys.stdout = sys.stdout, sys.stderr  # only answers go to the server
    out.write(READY)
    out.flush()
    for line in sys.stdin:
        try:
            message = json.loads(line)
            result = answer(message["endpoint"], message["request"])
        except Exception as exc:  # a fault of symcalc itself: said, and the worker goes on
            result = {"error": f"internal error: {type(exc).__name__}: {exc}", "kind": "internal"}
        out.write(json.dumps(result) + "\n")
        out.flush()


if __name__ == "__main__":
    _serve()
