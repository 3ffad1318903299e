"""How symbolic work grows with the size of the formula, side by side with SymEngine and SymPy.

    python benchmarks/scaling.py            # full sizes (a few minutes)
    python benchmarks/scaling.py --quick    # small sizes, a smoke run (the tests run it)
    python benchmarks/scaling.py --cases chain --limit 60

Cases, each at sizes 1x, 2x, 4x, 8x (the doubling ratio is a step's time over the previous size's;
about 2 is linear work, about 4 quadratic):

* ``grad``: the gradient of the linear model ``w1*x1 + ... + wn*xn`` in the w's, n = 250 .. 2000;
  ``grad sq``: of its squared loss ``(w1*x1 + ... + wn*xn - y)^2``; ``jacobian``: of both at once.
  symcalc's ``sc.grad``/``sc.jacobian``; SymEngine and SymPy differentiate in each variable.
* ``hessian sq``: the Hessian of the squared loss in the w's, n = 50 .. 400: n^2 entries, so
  about 4 per doubling is the size of the answer.
* ``chain``: ``e = x^2 + x``, then ``e = e^2 + e`` K times, K = 125 .. 1000: building it, and its
  derivative in x (symcalc's ``sc.diff``).
* ``shaped``: a network of K layers in matrix form, ``h = tanh(W_k@h + b)`` from ``h = x``, the
  loss ``sum(h)``: its gradient in every ``W_k`` (``sc.grad``, the shaped engine's reverse sweep
  with the entrywise parts built by the scalar engine), then its code (``sc.lambdify``),
  K = 20 .. 160; symcalc only (the peers have no matrix form).
* ``point``: the k-th derivative of ``sin`` nested 7 deep, k = 5 and 10: building it and its
  function, and one call at a single point (symcalc's ``sc.lambdify(d, ["x"])(0.3)``;
  SymEngine's ``Lambdify(..., backend="llvm", cse=True)`` where it has LLVM).

Each tool and size runs in a forked child with ``--limit`` seconds per step; a tool that runs out
of time (``>limit``) is not run at larger sizes (``skipped``).  Values are compared with symcalc's at a point
(relative 1e-9; the derivatives of the chain, whose values are huge, relative 1e-6); a disagreement
prints FAILURE and makes the exit status 1.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import sys
import time
import timeit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import child  # noqa: E402

TOOLS = ("symcalc", "SymEngine", "SymPy")
CASES = ("grad", "grad sq", "jacobian", "hessian sq", "chain", "shaped", "point")
ONLY = {"shaped": {"symcalc"}}  # cases the peers cannot express
AGREEMENT = {"chain": 1e-6}
TIMEOUT = ">limit"


def sizes(case: str, quick: bool) -> tuple[int, ...]:
    """The sizes of a case: 1x, 2x, 4x, 8x."""
    full = {"grad": 250, "grad sq": 250, "jacobian": 250, "hessian sq": 50, "chain": 125,
            "shaped": 20}
    small = {"grad": 25, "grad sq": 25, "jacobian": 25, "hessian sq": 8, "chain": 10, "shaped": 5}
    if case == "point":
        return (2, 4) if quick else (5, 10)
    base = (small if quick else full)[case]
    return tuple(base * 2**k for k in range(3 if quick else 4))


def _installed(tool: str) -> bool:
    if tool == "symcalc":
        return True
    try:
        __import__("symengine" if tool == "SymEngine" else "sympy")
    except ImportError:
        return False
    return True


# --- the formulas, written for every tool ----------------------------------------------------------
def _linear_text(n: int, squared: bool, tag: str = "") -> tuple[str, list[str]]:
    text = " + ".join(f"{tag}w{i}*{tag}x{i}" for i in range(n))
    return (f"({text} - {tag}y)^2" if squared else text), [f"{tag}w{i}" for i in range(n)]


def _point_values(names: list[str]) -> dict[str, float]:
    """A fixed point: each variable its own value in [-1, 1]."""
    return {name: ((hash_index(name) * 0.6180339887) % 2.0) - 1.0 for name in names}


def hash_index(name: str) -> int:
    return sum((k + 1) * ord(c) for k, c in enumerate(name))


def _best(send, key: str, work, repeat: int):
    """Time ``work(tag)`` ``repeat`` times, each on symbols of its own (so that no cache of one run
    serves the next), after a garbage collection; send the best time and return the first result."""
    first, best = None, math.inf
    for r in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = work("" if r == 0 else f"r{r}_")
        best = min(best, time.perf_counter() - start)
        if r == 0:
            first = result
    send(key, best)
    return first


def _task(send, tool: str, case: str, size: int, depth: int, repeat: int) -> None:
    """Measure one tool on one case at one size: send its timings and its values at a point."""
    if case in ("grad", "grad sq", "jacobian", "hessian sq"):
        _derivatives(send, tool, case, size, repeat)
    elif case == "chain":
        _chain(send, tool, size, repeat)
    elif case == "shaped":
        _shaped(send, size, repeat)
    else:
        _point(send, tool, depth, size)


def _derivatives(send, tool: str, case: str, n: int, repeat: int) -> None:
    squared = case.endswith("sq")
    names = [f"w{i}" for i in range(n)] + [f"x{i}" for i in range(n)] + ["y"]
    at = _point_values(names)

    def texts(tag: str) -> tuple[list[str], list[str]]:
        if case == "jacobian":
            return [_linear_text(n, False, tag)[0], _linear_text(n, True, tag)[0]], \
                _linear_text(n, False, tag)[1]
        text, ws = _linear_text(n, squared, tag)
        return [text], ws

    send("step", "build")
    if tool == "symcalc":
        import symcalc as sc

        parsed = {tag: ([sc.parse(t) for t in texts(tag)[0]], texts(tag)[1])
                  for tag in ["" if r == 0 else f"r{r}_" for r in range(repeat)]}

        def work(tag):
            fs, ws = parsed[tag]
            if case == "hessian sq":
                return sc.hessian(fs[0], ws)
            if case == "jacobian":
                return sc.jacobian(fs, ws)
            return sc.grad(fs[0], ws)
        entries = _flat(_best(send, "build", work, repeat))
        values = [float(sc.subs(e, at)) if e.free_symbols else float(e) for e in _sample(entries)]
    else:
        mod = __import__("symengine" if tool == "SymEngine" else "sympy")
        parsed = {tag: ([mod.sympify(t.replace("^", "**")) for t in texts(tag)[0]],
                        [mod.Symbol(w) for w in texts(tag)[1]])
                  for tag in ["" if r == 0 else f"r{r}_" for r in range(repeat)]}

        def work(tag):
            fs, symbols = parsed[tag]
            if case == "hessian sq":
                first = [fs[0].diff(w) for w in symbols]
                return [[g.diff(w) for w in symbols] for g in first]
            return [[f.diff(w) for w in symbols] for f in fs]
        entries = _flat(_best(send, "build", work, repeat))
        table = {mod.Symbol(k): v for k, v in at.items()}
        values = [float(e.subs(table)) for e in _sample(entries)]
    send("values", values)


def _flat(result) -> list:
    out = []
    for row in result:
        out.extend(row if isinstance(row, list) else [row])
    return out


def _sample(entries: list) -> list:
    """A few entries spread over the result (evaluating all of them would time the evaluation)."""
    step = max(1, len(entries) // 7)
    return entries[::step][:8]


def _chain(send, tool: str, K: int, repeat: int) -> None:
    at = -0.5  # where the chain stays bounded (at 0.1 it overflows from K = 30 on)
    mod = sc = None
    if tool == "symcalc":
        import symcalc as sc
    else:
        mod = __import__("symengine" if tool == "SymEngine" else "sympy")
    symbol = sc.Symbol if sc is not None else mod.Symbol
    built: dict = {}

    def build(tag):
        x = symbol(tag + "x")
        e = x**2 + x
        for _ in range(K):
            e = e**2 + e
        built[tag] = e
        return e

    def differentiate(tag):
        if sc is not None:
            return sc.diff(built[tag], tag + "x")
        return built[tag].diff(symbol(tag + "x"))
    send("step", "build")
    _best(send, "build", build, repeat)
    send("step", "diff")
    d = _best(send, "diff", differentiate, repeat)
    if sc is not None:
        send("values", [float(sc.lambdify(d, ["x"])(at))])
    else:
        send("values", [_chain_value(mod, d, symbol("x"), at)])


def _shaped(send, K: int, repeat: int) -> None:
    import numpy as np

    import symcalc as sc

    x, b = sc.vector("x", "n"), sc.vector("b", "n")
    built: dict = {}

    def build(tag):
        weights = [sc.matrix(f"{tag}W{k}", "n", "n") for k in range(K)]
        h = x
        for w in weights:
            h = sc.tanh(w @ h + b)
        built[tag] = (weights, sc.grad(sc.sum(h), weights))
        return built[tag]
    send("step", "build")
    weights, grads = _best(send, "build", build, repeat)
    send("step", "code")
    f = _best(send, "code", lambda tag: sc.lambdify(
        built[tag][1], [w.data for w in built[tag][0]] + ["x", "b"]), repeat)
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=(3, 3)) / 3 for _ in weights] + [rng.normal(size=3)] * 2
    got = f(*arrays)

    def loss(ws):  # the same network by hand, for a central difference in W0[0, 0]
        h = arrays[-2]
        for w in ws:
            h = np.tanh(w @ h + arrays[-1])
        return float(np.sum(h))
    step = np.zeros((3, 3))
    step[0, 0] = 1e-6
    ws = arrays[:K]
    slope = (loss([ws[0] + step] + ws[1:]) - loss([ws[0] - step] + ws[1:])) / 2e-6
    if abs(slope - got[0][0, 0]) > 1e-6 * max(1.0, abs(slope)):
        send("error", f"gradient {got[0][0, 0]!r}, central difference {slope!r}")
    send("values", [float(np.sum(g)) for g in got][:8])


def _chain_value(mod, d, x, at: float) -> float:
    if mod.__name__ == "symengine":
        return float(mod.Lambdify([x], [d], cse=True)(at)[0])
    return float(mod.lambdify([x], d, cse=True)(at))


def _point(send, tool: str, depth: int, order: int) -> None:
    at = 0.3
    send("step", "build")
    if tool == "symcalc":
        import symcalc as sc

        f = sc.parse("sin(" * depth + "x" + ")" * depth)
        start = time.perf_counter()
        fn = sc.lambdify(sc.diff(f, "x", order), ["x"])
        value = fn(at)
        send("build", time.perf_counter() - start)
        call = lambda: fn(at)  # noqa: E731
    elif tool == "SymEngine":
        import symengine as se

        x = se.Symbol("x")
        f = x
        for _ in range(depth):
            f = se.sin(f)
        start = time.perf_counter()
        d = f.diff(x, order)
        try:
            fn = se.Lambdify([x], [d], backend="llvm", cse=True)
        except (ValueError, RuntimeError, TypeError):  # built without LLVM
            fn = se.Lambdify([x], [d], cse=True)
        value = float(fn(at)[0])
        send("build", time.perf_counter() - start)
        call = lambda: fn(at)  # noqa: E731
    else:
        import sympy

        x = sympy.Symbol("x")
        f = x
        for _ in range(depth):
            f = sympy.sin(f)
        start = time.perf_counter()
        fn = sympy.lambdify([x], f.diff(x, order), cse=True)
        value = float(fn(at))
        send("build", time.perf_counter() - start)
        call = lambda: fn(at)  # noqa: E731
    send("step", "call")
    number = 200
    send("call", min(timeit.repeat(call, number=number, repeat=5)) / number)
    send("values", [float(value)])


# --- running and reporting -------------------------------------------------------------------------
def measure(cases: tuple[str, ...], quick: bool, limit: float, depth: int,
            only: set[str] | None = None, repeat: int = 1) -> dict:
    """``results[case][tool][size]``: the figures a child sent, or ``{"timeout": step}`` /
    ``{"error": message}``."""
    results: dict = {}
    for case in cases:
        results[case] = {}
        for tool in TOOLS:
            if not _installed(tool) or (only is not None and tool not in only) or \
                    tool not in ONLY.get(case, TOOLS):
                continue
            by_size = results[case][tool] = {}
            stopped = None
            for size in sizes(case, quick):
                if stopped is not None:
                    by_size[size] = stopped
                    continue
                out = child.stream(_task, (tool, case, size, depth, repeat), limit,
                                   memory=6 * 2**30)
                figures = dict(out.figures)
                if out.timed_out:
                    figures["timeout"] = out.step
                    stopped = {"timeout": out.step, "skipped": True}
                elif out.error:
                    figures["error"] = out.error
                    stopped = {"error": out.error, "skipped": True}
                by_size[size] = figures
    return results


def _cell(figures: dict, key: str, limit: float) -> str:
    value = figures.get(key)
    if isinstance(value, float):
        return _seconds(value)
    if figures.get("skipped"):
        return "skipped"
    if "timeout" in figures and (figures["timeout"] == key or key not in figures):
        return f">{limit:g} s"
    if "error" in figures:
        return "error"
    return "-"


def _seconds(t: float) -> str:
    if t < 1e-3:
        return f"{t * 1e6:.1f} us"
    if t < 1:
        return f"{t * 1e3:.1f} ms"
    return f"{t:.2f} s"


def report(results: dict, quick: bool, limit: float, depth: int) -> str:
    lines = []
    for case, by_tool in results.items():
        keys = {"chain": ("build", "diff"), "point": ("build", "call"),
                "shaped": ("build", "code")}.get(case, ("build",))
        label = {"chain": "K", "shaped": "K layers",
                 "point": f"order (sin nested {depth} deep)"}.get(case, "n")
        lines.append(f"\nscaling/{case}  ({label}: {', '.join(map(str, sizes(case, quick)))})")
        for key in keys:
            for tool, by_size in by_tool.items():
                values = [by_size.get(size, {}).get(key) for size in sizes(case, quick)]
                cells = [f"{size}: {_cell(by_size.get(size, {}), key, limit)}"
                         for size in sizes(case, quick)]
                ratios = [f"{b / a:.2f}" if isinstance(a, float) and isinstance(b, float) and a > 0
                          else "-" for a, b in zip(values, values[1:])]
                lines.append(f"  {key:5} {tool:9} " + "  ".join(cells)
                             + "   doubling " + " ".join(ratios))
    return "\n".join(lines)


def failures(results: dict) -> list[str]:
    """Disagreements of each peer's values with symcalc's, size by size."""
    out = []
    for case, by_tool in results.items():
        mine = by_tool.get("symcalc", {})
        rel = AGREEMENT.get(case, 1e-9)
        for tool, by_size in by_tool.items():
            for size, figures in by_size.items():
                if "error" in figures and not figures.get("skipped"):
                    out.append(f"scaling/{case} {tool} at {size}: {figures['error']}")
                theirs, ours = figures.get("values"), mine.get(size, {}).get("values")
                if tool == "symcalc" or theirs is None or ours is None:
                    continue
                for a, b in zip(ours, theirs):
                    if not (math.isfinite(a) and math.isfinite(b)):
                        out.append(f"scaling/{case} {tool} at {size}: {b!r}, symcalc {a!r} "
                                   f"(not finite: no comparison)")
                        break
                    if abs(a - b) > rel * max(abs(a), abs(b), 1e-300):
                        out.append(f"scaling/{case} {tool} at {size}: {b!r}, symcalc {a!r}")
                        break
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--cases", help=f"comma-separated, of: {', '.join(CASES)} (default all)")
    parser.add_argument("--tools", help=f"comma-separated, of: {', '.join(TOOLS)} (default all installed)")
    parser.add_argument("--limit", type=float, help="seconds per step (default 120; quick: 20)")
    parser.add_argument("--depth", type=int, help="point: nesting depth of sin (default 7; quick: 3)")
    parser.add_argument("--repeat", type=int, help="runs of each timing, the best kept (default 3; "
                        "quick: 1)")
    args = parser.parse_args(argv)
    cases = tuple(args.cases.split(",")) if args.cases else CASES
    unknown = set(cases) - set(CASES)
    if unknown:
        parser.error(f"unknown case(s) {', '.join(sorted(unknown))}; choose from {', '.join(CASES)}")
    limit = args.limit or (20.0 if args.quick else 120.0)
    depth = args.depth or (3 if args.quick else 7)
    only = set(args.tools.split(",")) | {"symcalc"} if args.tools else None
    print("symcalc scaling benchmark" + (" (quick)" if args.quick else "")
          + f": limit {limit:g} s per step", flush=True)
    results: dict = {}
    for case in cases:  # each table as soon as its case is measured
        results.update(measure((case,), args.quick, limit, depth, only,
                               args.repeat or (1 if args.quick else 3)))
        print(report({case: results[case]}, args.quick, limit, depth), flush=True)
    problems = failures(results)
    for problem in problems:
        print("FAILURE:", problem)
    if not problems:
        print("\ncorrectness: all tools agree")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
