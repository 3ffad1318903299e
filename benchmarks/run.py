"""Benchmark symcalc against SymPy (and SymEngine, CasADi and JAX where installed) on the suite.

    python benchmarks/run.py             # the full suite (all but dask), medians of 5, 60 s limit
    python benchmarks/run.py --quick     # small sizes, one repetition: a smoke run
    python benchmarks/run.py --cases dask      # the Dask case: 10^8 points in chunks of 10^6
    python benchmarks/run.py --cases highorder --orders 6 --points 10000
    python benchmarks/run.py --json out.json   # also write every figure as JSON ('-': stdout only)

Groups, each printed as its own tables: the scalar cases; the backends table (those cases evaluated
at every N of ``--points`` by each symcalc backend, SymPy and JAX's jit); ``matrix``;
``highorder``; ``dask`` (only when named in ``--cases``).

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

import backends  # noqa: E402
import checks  # noqa: E402
import dask_case  # noqa: E402
import highorder  # noqa: E402
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
    for package in ("symcalc", "numpy", "sympy", "symengine", "casadi", "jax", "numexpr", "dask"):
        try:
            described[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return described


CASES = ("parse", "nested", "rosenbrock", "logsumexp", "mlp", "product", "lstsq")
GROUPS = ("matrix", "highorder", "dask")


def _numbers(text: str) -> tuple[int, ...]:
    values = tuple(int(float(v)) for v in text.split(","))
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("expected positive integers, e.g. 10000,1000000")
    return values


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="symcalc against SymPy, SymEngine, CasADi and JAX.",
        epilog=f"Cases: {', '.join(CASES)} (scalar cases: build, size, evaluation, one call; each "
        "also in the backends table); matrix (shaped losses); highorder (nested sin derivatives of "
        "orders 1..--orders, Taylor polynomials); dask (Rosenbrock gradient over chunked Dask "
        "arrays, run only when named). See benchmarks/README.md.")
    parser.add_argument("--quick", action="store_true", help="small sizes and one repetition")
    parser.add_argument("--repeat", type=int, help="samples per timing (default 5; quick: 1)")
    parser.add_argument("--limit", type=float, help="seconds per measurement (default 60; quick: 20)")
    parser.add_argument("--points", type=_numbers, metavar="N[,N...]",
                        help="N for the vectorised evaluation: the first in the main table, all in "
                        "the backends table (default 10000,1000000; quick: 1000,10000)")
    parser.add_argument("--backends", default="numpy,numexpr,jax",
                        help="symcalc backends for the backends table ('none': no table)")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON ('-': to stdout)")
    parser.add_argument("--cases", help="comma-separated cases or groups to run (default: all "
                        "but dask)")
    parser.add_argument("--tools", help="comma-separated tools (default: all installed)")
    parser.add_argument("--depth", type=int, help="highorder: nesting depth (default 30; quick: 5)")
    parser.add_argument("--orders", type=int, help="highorder: highest order (default 8; quick: 3)")
    parser.add_argument("--taylor-orders", type=_numbers, metavar="N,M",
                        help="highorder: Taylor orders in one and in three variables (default 20,6; "
                        "quick: 8,3)")
    parser.add_argument("--dask-points", type=lambda v: int(float(v)),
                        help="dask: points (default 1e8; quick: 1e6)")
    parser.add_argument("--dask-chunk", type=lambda v: int(float(v)),
                        help="dask: points per chunk (default 1e6; quick: 1e5)")
    parser.add_argument("--dask-dim", type=int, default=4, help="dask: Rosenbrock dimension (default 4)")
    args = parser.parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.cases:
        unknown = set(args.cases.split(",")) - set(CASES) - set(GROUPS)
        if unknown:
            parser.error(f"unknown case(s) {', '.join(sorted(unknown))}; "
                         f"choose from {', '.join(CASES + GROUPS)}")
    args.points = args.points or ((1000, 10_000) if args.quick else (10_000, 1_000_000))
    args.depth = args.depth or (5 if args.quick else 30)
    args.orders = args.orders or (3 if args.quick else 8)
    args.taylor_orders = args.taylor_orders or ((8, 3) if args.quick else (20, 6))
    args.dask_points = args.dask_points or (10**6 if args.quick else 10**8)
    args.dask_chunk = args.dask_chunk or (10**5 if args.quick else 10**6)
    return args


def settings_from(args: argparse.Namespace) -> Settings:
    quick = args.quick
    return Settings(
        repeat=args.repeat or (1 if quick else 5),
        limit=args.limit or (20.0 if quick else 60.0),
        points=args.points[0],
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
    wanted = set(args.cases.split(",")) if args.cases else set(CASES + GROUPS) - {"dask"}
    cases = [c for c in cases if c.name in wanted]
    with_matrix = "matrix" in wanted
    names = tools.available()
    if args.tools:
        names = [t for t in names if t in args.tools.split(",")]
    backend_names = tuple(b for b in args.backends.split(",") if b and b != "none")
    jobs = jobs_for(cases, seed=2024)
    to_stdout = args.json == "-"
    say = (lambda *a: None) if to_stdout else (lambda *a: print(*a, flush=True))

    say("symcalc benchmark" + (" (quick)" if args.quick else ""))
    for k, v in machine().items():
        say(f"  {k}: {v}")
    say(f"  repeat {settings.repeat}, limit {settings.limit:g} s per measurement, "
        f"N = {', '.join(f'{n:,}' for n in args.points)}")
    (sm, sn), (mm, mn) = matrix_suite.sizes_for(args.quick)
    say("  cases: " + ", ".join([f"{c.name} ({c.parameters})" for c in cases]
                                + ([f"matrix (m = {mm}, n = {mn}; builds also at {sm} x {sn})"]
                                   if with_matrix else [])
                                + ([f"highorder (depth {args.depth}, orders 1..{args.orders}; "
                                    f"Taylor orders {args.taylor_orders[0]} and {args.taylor_orders[-1]})"]
                                   if "highorder" in wanted else [])
                                + ([f"dask (d = {args.dask_dim}, {args.dask_points:,} points, chunks "
                                    f"of {args.dask_chunk:,})"] if "dask" in wanted else [])))

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

    backend_results: dict = {}
    if backend_names and backends.evaluated(cases):
        backend_results = backends.measure(cases, backend_names, args.points, settings, say,
                                           tuple(names))
        failures += backends.failures(backend_results)
        paired = backends.goals(backend_results, args.points)
        if paired:  # the better measure of the same goal: symcalc and SymPy timed in turn
            targets = [t for t in targets if not t["goal"].startswith("vectorised evaluation")]
            targets += paired
    highorder_results: dict = {}
    if "highorder" in wanted:
        highorder_results = highorder.measure(args.depth, args.orders, args.points[0], settings, say,
                                              args.taylor_orders[:2],
                                              set(args.tools.split(",")) if args.tools else None,
                                              highorder.QUICK_ORDER_CASES if args.quick else highorder.ORDER_CASES)
        failures += highorder.failures(highorder_results)
    dask_results: dict = {}
    if "dask" in wanted:  # one compute() may run long: ten times the limit
        dask_results = dask_case.measure(args.dask_dim, args.dask_points, args.dask_chunk,
                                         10 * settings.limit, say)
        failures += dask_case.failures(dask_results)

    if jobs:
        say("")
        say(report.figures_table(results, names, settings.limit, settings.points))
        say("")
        say("ratios peer/symcalc (above 1: symcalc is faster or smaller)")
        say(report.ratios_table(results, [t for t in names if t != "symcalc"], settings.limit))
    if matrix_results:
        say("")
        say(matrix_suite.report(matrix_results, matrix_tools, args.quick, settings.limit))
    if backend_results:
        say("")
        say(backends.report(backend_results, args.points, settings.limit))
    if highorder_results:
        say("")
        say(highorder.report(highorder_results, args.points[0], settings.limit))
    if dask_results:
        say("")
        say(dask_case.report(dask_results, args.dask_dim, args.dask_points, args.dask_chunk,
                             10 * settings.limit))
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
            "backends": [dict(case=key[0], quantity=key[1], tool=tool, **figures)
                         for key, by_tool in backend_results.items() for tool, figures in by_tool.items()],
            "highorder": [dict(row=row, tool=tool, **figures)
                          for row, by_tool in highorder_results.items() for tool, figures in by_tool.items()],
            "dask": [dict(tool=tool, **figures) for tool, figures in dask_results.items()],
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
