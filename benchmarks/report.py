"""The printed report: one table of figures, one table of ratios peer/symcalc, and the goals."""

from __future__ import annotations

import statistics
from typing import Any, Mapping, Optional

from measure import TIMEOUT, Outcome

Results = Mapping[tuple[str, str], Mapping[str, Outcome]]  # (case, quantity) -> tool -> outcome
DERIVATIVES = ("grad", "hessian", "d1", "d2", "d3", "d4", "d5", "d6")


def seconds(value: Any, limit: float) -> str:
    if value is None:
        return "-"
    if value == TIMEOUT:
        return f">{limit:g} s"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if value >= scale or unit == "us":
            return f"{value / scale:.3g} {unit}"
    return str(value)


def ratio(peer: Any, mine: Any, limit: float) -> Optional[str]:
    """``peer / mine`` as text; a time limit on one side gives a bound."""
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (peer, mine))
    if numbers and mine > 0:
        return f"{peer / mine:.3g}x"
    if peer == TIMEOUT and isinstance(mine, (int, float)) and mine > 0:
        return f">{limit / mine:.3g}x"
    if mine == TIMEOUT and isinstance(peer, (int, float)):
        return f"<{peer / limit:.3g}x"
    return None


def ratio_value(peer: Any, mine: Any, limit: float) -> Optional[float]:
    """The ratio as a number (a bound counts as its value), or None."""
    text = ratio(peer, mine, limit)
    return None if text is None else float(text.strip("<>x"))


def eval_over_f(results: Results, key: tuple[str, str], tool: str) -> Optional[float]:
    """Evaluation time of a derivative over that of the function, for one tool."""
    f = results.get((key[0], "f"), {}).get(tool)
    mine = results[key].get(tool)
    if key[1] not in DERIVATIVES or f is None or mine is None:
        return None
    if isinstance(f.eval, float) and isinstance(mine.eval, float) and f.eval > 0:
        return mine.eval / f.eval
    return None


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "  ".join(c.rjust(w) if i > 1 else c.ljust(w)  # noqa: E731
                              for i, (c, w) in enumerate(zip(r, widths))).rstrip()
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def figures_table(results: Results, tools: list[str], limit: float, points: int) -> str:
    header = ["case/quantity", "tool", "build", "size", f"eval N={points}", "call 1 pt", "eval/f"]
    rows = []
    for key, by_tool in results.items():
        first = True
        for tool in tools:
            o = by_tool.get(tool)
            if o is None:
                continue
            over = eval_over_f(results, key, tool)
            size = "-" if o.size is None else (o.size if o.size == TIMEOUT else str(o.size))
            rows.append(["/".join(key) if first else "", tool, seconds(o.build, limit), size,
                         seconds(o.eval, limit), seconds(o.call, limit),
                         "-" if over is None else f"{over:.2f}"])
            first = False
    return _table(header, rows)


def ratios_table(results: Results, peers: list[str], limit: float) -> str:
    header = ["case/quantity", "peer", "build", "size", "eval", "call 1 pt"]
    rows = []
    for key, by_tool in results.items():
        mine = by_tool.get("symcalc")
        if mine is None:
            continue
        first = True
        for peer in peers:
            o = by_tool.get(peer)
            if o is None:
                continue
            cells = [ratio(getattr(o, f), getattr(mine, f), limit) or "-"
                     for f in ("build", "size", "eval", "call")]
            rows.append(["/".join(key) if first else "", peer] + cells)
            first = False
    return _table(header, rows)


def goals(results: Results, limit: float) -> list[dict]:
    """The targets symcalc works to: each with met/missed and the figures behind it."""
    def collect(field: str, peer: str, keys) -> list[tuple[str, float]]:
        out = []
        for key in keys:
            by_tool = results[key]
            if "symcalc" in by_tool and peer in by_tool:
                value = ratio_value(getattr(by_tool[peer], field), getattr(by_tool["symcalc"], field), limit)
                if value is not None:
                    out.append(("/".join(key), value))
        return out

    built = [k for k in results if k[1] in DERIVATIVES]
    # a constant result (size 0, e.g. the Hessian of a quadratic) is broadcast to N points by
    # symcalc but returned as plain numbers by SymPy: no evaluation to compare
    evaluated = [k for k in results if k[1] != "parse"
                 and getattr(results[k].get("symcalc"), "size", None) != 0]
    gradients = [k for k in results if k[1] in ("grad", "d1")]
    targets = []

    def target(text: str, pairs: list[tuple[str, float]], ok, show=lambda v: f"{v:.3g}x") -> None:
        if not pairs:
            return
        missed = [(k, v) for k, v in pairs if not ok(v)]
        targets.append({
            "goal": text, "met": not missed,
            "figures": {k: round(v, 4) for k, v in pairs},
            "summary": ", ".join(f"{k} {show(v)}" for k, v in (missed or pairs)),
        })

    target("build at least 10x faster than SymPy on every case", collect("build", "SymPy", built),
           lambda v: v >= 10)
    se = collect("build", "SymEngine", built)
    if se:
        median = statistics.median(v for _, v in se)
        target("build within 2x of SymEngine on the median case", [("median", median)],
               lambda v: v >= 0.5)
    target("parse at least 5x faster than sympy.parse_expr",
           collect("build", "SymPy", [k for k in results if k[1] == "parse"]), lambda v: v >= 5)
    target("vectorised evaluation at least as fast as SymPy's lambdify(cse=True)",
           collect("eval", "SymPy", evaluated), lambda v: v >= 1)
    over = [("/".join(k), eval_over_f(results, k, "symcalc")) for k in gradients]
    target("gradient evaluation at most 4x the function's", [(k, v) for k, v in over if v is not None],
           lambda v: v <= 4, show=lambda v: f"{v:.2f}")
    return targets


def goals_text(targets: list[dict]) -> str:
    return "\n".join(f"  [{'met' if t['met'] else 'MISSED'}] {t['goal']}: {t['summary']}"
                     for t in targets)
