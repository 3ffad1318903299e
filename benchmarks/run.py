"""Benchmark symcalc against SymPy (and SymEngine and JAX where installed) on the suite.

    python benchmarks/run.py             # the full suite, medians of 5, 60 s per measurement
    python benchmarks/run.py --quick     # small sizes, one repetition: a smoke run
    python benchmarks/run.py --json out.json   # also write every figure as JSON ('-': stdout only)

Each tool is measured in its own child process, job by job with every tool in turn; a step that takes longer than ``--limit`` seconds is
recorded as ``>limit`` and the run goes on.  Before any timing, every tool's values are compared
with symcalc's and with finite differences; a disagreement is printed as FAILURE and makes the
exit status 1.  See benchmarks/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
from importlib import metadata
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import checks  # noqa: E402
import matrix_suite  # noqa: E402
import report  # noqa: E402
import tools  # noqa: E402
from measure import Job, Outcome, Settings, Worker  # noqa: E402
from suite import suite  # noqa: E402


def machine() -> dict[str, str]:
    """Where the figures come from: CPU, Python and library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    described = {"cpu": f"{cpu} ({os.cpu_count()} cores)", "python": platform.python_version(),
                 "system": platform.platform(terse=True)}
    for package in ("symcalc", "numpy", "sympy", "symengine", "jax"):
        try:
            described[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return described


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="symcalc against SymPy, SymEngine and JAX.")
    parser.add_argument("--quick", action="store_true", help="small sizes and one repetition")
    parser.add_argument("--repeat", type=int, help="samples per timing (default 5; quick: 1)")
    parser.add_argument("--limit", type=float, help="seconds per measurement (default 60; quick: 20)")
    parser.add_argument("--points", type=int, help="N for the vectorised evaluation (default 10000)")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON ('-': to stdout)")
    parser.add_argument("--cases", help="comma-separated case names to run (default: all)")
    parser.add_argument("--tools", help="comma-separated tools (default: all installed)")
    args = parser.parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def settings_from(args: argparse.Namespace) -> Settings:
    quick = args.quick
    return Settings(
        repeat=args.repeat or (1 if quick else 5),
        limit=args.limit or (20.0 if quick else 60.0),
        points=args.points or (1000 if quick else 10_000),
        min_sample=0.002 if quick else 0.05,
    )


def jobs_for(cases: list, seed: int) -> list[Job]:
    rng = np.random.default_rng(seed)
    return [Job(case, quantity, rng.uniform(-1, 1, len(case.variables)))
            for case in cases for quantity in case.quantities]


def runs(tool: str, job: Job) -> bool:
    """JAX has no parser and needs the array form of the function."""
    return tool != "JAX" or (job.quantity != "parse" and job.case.array_function is not None)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    settings = settings_from(args)
    cases = suite(quick=args.quick)
    with_matrix = True
    if args.cases:
        wanted = set(args.cases.split(","))
        cases = [c for c in cases if c.name in wanted]
        with_matrix = "matrix" in wanted
    names = tools.available()
    if args.tools:
        names = [t for t in names if t in args.tools.split(",")]
    jobs = jobs_for(cases, seed=2024)
    to_stdout = args.json == "-"
    say = (lambda *a: None) if to_stdout else (lambda *a: print(*a, flush=True))

    say("symcalc benchmark" + (" (quick)" if args.quick else ""))
    for k, v in machine().items():
        say(f"  {k}: {v}")
    say(f"  repeat {settings.repeat}, limit {settings.limit:g} s per measurement, N = {settings.points}")
    (sm, sn), (mm, mn) = matrix_suite.sizes_for(args.quick)
    say("  cases: " + ", ".join([f"{c.name} ({c.parameters})" for c in cases]
                                + ([f"matrix (m = {mm}, n = {mn}; builds also at {sm} x {sn})"]
                                   if with_matrix else [])))

    results: dict[tuple[str, str], dict[str, Outcome]] = {job.key: {} for job in jobs}
    workers = {tool: Worker(tool, jobs, settings) for tool in names}
    try:
        for index, job in enumerate(jobs):
            say(f"measuring {job.case.name}/{job.quantity} ...")
            for tool in names:
                if runs(tool, job):
                    results[job.key][tool] = workers[tool].run(index)
    finally:
        for worker in workers.values():
            worker.close()

    failures = []
    for job in jobs:
        failures += checks.check_job(job.case, job.quantity, job.check_point, results[job.key])
    errors = [f"{'/'.join(key)} {tool}: {message}"
              for key, by_tool in results.items() for tool, o in by_tool.items() for message in o.errors]
    stability = {f"{key[0]}/{key[1]}": {tool: o.stable for tool, o in by_tool.items() if o.stable is not None}
                 for key, by_tool in results.items()
                 if any(o.stable is not None for o in by_tool.values())}
    targets = report.goals(results, settings.limit)
    matrix_results: dict = {}
    if with_matrix:
        say("measuring matrix ...")
        matrix_tools = ["symcalc"] + [t for t in names if t in matrix_suite.TASKS and t != "symcalc"]
        matrix_results = matrix_suite.measure(matrix_tools, args.quick, settings.repeat,
                                              settings.limit, settings.min_sample)
        failures += matrix_suite.failures(matrix_results)
        targets += matrix_suite.goals(matrix_results)

    if jobs:
        say("")
        say(report.figures_table(results, names, settings.limit, settings.points))
        say("")
        say("ratios peer/symcalc (above 1: symcalc is faster or smaller)")
        say(report.ratios_table(results, [t for t in names if t != "symcalc"], settings.limit))
    if matrix_results:
        say("")
        say(matrix_suite.report(matrix_results, matrix_tools, args.quick, settings.limit))
    say("")
    for label, by_tool in stability.items():
        say(f"{label} at x near 1000: " + ", ".join(
            f"{tool} {'finite' if ok else 'overflows'}" for tool, ok in by_tool.items()))
    say("goals:")
    say(report.goals_text(targets))
    for message in errors:
        say(f"error: {message}")
    for message in failures:
        say(f"FAILURE: {message}")
    say("correctness: " + ("all tools agree" if not failures else f"{len(failures)} failure(s)"))

    if args.json:
        document = {
            "machine": machine(), "settings": dataclasses.asdict(settings),
            "results": [dict(case=key[0], quantity=key[1], tool=tool,
                             eval_over_f=report.eval_over_f(results, key, tool),
                             **{f: getattr(o, f) for f in ("build", "size", "eval", "call", "stable")},
                             errors=o.errors)
                        for key, by_tool in results.items() for tool, o in by_tool.items()]
            + [dict(case="matrix", loss=key[0], quantity=key[1], tool=tool,
                    **{f: getattr(o, f) for f in ("build", "build_small", "build_full", "eval")},
                    errors=o.errors)
               for key, by_tool in matrix_results.items() for tool, o in by_tool.items()],
            "goals": targets, "failures": failures, "errors": errors,
        }
        text = json.dumps(document, indent=2, default=_plain)
        if to_stdout:
            print(text)
        else:
            with open(args.json, "w") as out:
                out.write(text + "\n")
    return 1 if failures else 0


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON: {type(value).__name__}")


if __name__ == "__main__":
    sys.exit(main())
