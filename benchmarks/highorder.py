"""The ``highorder`` case: high-order derivatives and Taylor polynomials.

* ``nested dk``: the k-th derivative of ``sin`` nested ``depth`` times (30), k = 1..``orders`` (8).
  symcalc (``sc.diff`` + ``sc.lambdify``), SymPy (``diff`` + ``lambdify(cse=True)``), SymEngine
  (``diff`` + ``Lambdify(cse=True)``), CasADi (``SX``, ``jacobian`` applied k times, ``Function``;
  size is ``Function.n_instructions()``, its own count, inputs and constants included) and JAX
  (``grad`` nested k times, ``jit(vmap(...))`` compiled for N points).
* ``order f dk``: one derivative of a high order ``k`` of a small formula (``ORDER_CASES``):
  symcalc's ``sc.diff`` (closed forms, else Taylor mode) + ``lambdify`` against SymPy's ``diff`` +
  ``lambdify``; build time, size and the values at the check points.
* ``taylor x^20``: ``exp(sin(x))/(1 + x^2)`` to order 20 at 0; ``taylor xyz^6``:
  ``exp(x)*sin(y)*cos(z)`` to order 6 at (0, 0, 0).  symcalc's ``sc.taylor`` against SymPy's
  ``series`` (in three variables: x -> t*x, ... and ``series`` in t, then t = 1) and JAX's
  ``jax.experimental.jet`` (numbers, not a polynomial: the coefficients at 0, along the direction of
  the check point in three variables).

Figures: build (symbolic work and code generation; JAX: tracing and XLA compilation), size
(operations of the generated code, the suite's rule; CasADi its own), evaluation on N points and
that time over the function's.  Each tool and order runs in its own forked child with ``limit``
seconds per step and an address-space cap; after a timeout or a failure the higher orders of that
tool are not run (shown as the same outcome).  Values at two check points are compared with
symcalc's (relative ``AGREEMENT``).
"""

from __future__ import annotations

import math
import time
from typing import Any, Optional

import numpy as np

import child
import tools
from measure import Settings, time_call
from report import _table, seconds

TIMEOUT = ">limit"
AGREEMENT = 1e-6  # high derivatives sum many terms: rounding differs between evaluation orders
MEMORY = 6 * 2**30  # address space of one child (SymPy and SymEngine only: JAX reserves more)
TAYLOR = (("exp(sin(x))/(1 + x^2)", ("x",)), ("exp(x)*sin(y)*cos(z)", ("x", "y", "z")))
TAYLOR_ORDERS = (20, 6)  # the suite's orders, one per formula of TAYLOR
CHECK = np.array([[0.3, -0.2, 0.25], [-0.15, 0.35, 0.1]])  # small: inside Taylor's range
ORDER_CASES = (("x", 10**8), ("x^3*sin(x)", 1000), ("exp(x/2)*x^2", 1000), ("sin(exp(x))", 30))
QUICK_ORDER_CASES = (("x", 10**8), ("x^3*sin(x)", 100), ("sin(exp(x))", 8))
ORDER_TOOLS = ("symcalc", "SymPy")
NESTED_TOOLS = ("symcalc", "SymPy", "SymEngine", "CasADi", "JAX")
TAYLOR_TOOLS = ("symcalc", "SymPy", "JAX jet")


def nested_text(depth: int) -> str:
    return "sin(" * depth + "x" + ")" * depth


def _evaluate(send, vectorised, variables: int, N: int, seed: int, settings: Settings,
              scale: float = 1.0, label: str = "eval") -> None:
    columns = [scale * c for c in _columns(N, variables, seed)]
    send("step", label)
    send(label, time_call(lambda: vectorised(columns), settings, lambda: send("tick")))


def _columns(N: int, d: int, seed: int) -> list[np.ndarray]:
    return [np.random.default_rng([seed, i]).uniform(-1, 1, N) for i in range(d)]


def _values(x: Any) -> list[float]:
    return [float(v) for v in np.asarray(x, dtype=float).ravel()]


# --- nested: one child per tool and order (order 0 is the function) ------------------------------
def _nested(send, tool: str, depth: int, order: int, N: int, settings: Settings) -> None:
    text = nested_text(depth)
    send("step", "build")
    start = time.perf_counter()
    if tool == "symcalc":
        import symcalc as sc
        from symcalc.compiler.program import program

        f = sc.parse(text)
        start = time.perf_counter()
        d = sc.diff(f, "x", order) if order else f
        fn = sc.lambdify(d, ["x"])
        send("build", time.perf_counter() - start)
        vectorised, single = (lambda c: fn(*c)), (lambda x: fn(x))
        size = lambda: program(d, ["x"]).operation_count  # noqa: E731
    elif tool in ("SymPy", "SymEngine"):
        mod = __import__("sympy" if tool == "SymPy" else "symengine")
        f = mod.sympify(text)
        x = mod.Symbol("x")
        start = time.perf_counter()
        d = f.diff(x, order) if order else f
        if tool == "SymPy":
            fn = mod.lambdify([x], d, modules="numpy", cse=True)
        else:
            fn = mod.Lambdify([x], [d], cse=True)
        send("build", time.perf_counter() - start)
        if tool == "SymPy":
            vectorised, single = (lambda c: fn(c[0])), (lambda v: fn(v))
        else:  # SymEngine takes points as rows
            vectorised = lambda c: fn(c[0][:, None])  # noqa: E731
            single = lambda v: np.asarray(fn(np.array([v]))).ravel()[0]  # noqa: E731
        size = lambda: tools.count_sympy_operations([__import__("sympy").sympify(d)])  # noqa: E731
    elif tool == "CasADi":
        import casadi

        x = casadi.SX.sym("x")
        start = time.perf_counter()
        d = x
        for _ in range(depth):
            d = casadi.sin(d)
        for _ in range(order):
            d = casadi.jacobian(d, x)
        fn = casadi.Function("f", [x], [d])
        send("build", time.perf_counter() - start)
        mapped = fn.map(N)
        vectorised = lambda c: mapped(c[0].reshape(1, -1))  # noqa: E731
        single = lambda v: float(fn(v))  # noqa: E731
        size = fn.n_instructions
    else:
        import jax

        jax.config.update("jax_enable_x64", True)
        jnp = jax.numpy

        def g(v):
            for _ in range(depth):
                v = jnp.sin(v)
            return v
        start = time.perf_counter()
        for _ in range(order):
            g = jax.grad(g)
        compiled = jax.jit(jax.vmap(g)).lower(jnp.zeros(N)).compile()
        send("build", time.perf_counter() - start)
        scalar = jax.jit(g)
        vectorised = lambda c: compiled(c[0]).block_until_ready()  # noqa: E731
        single = lambda v: scalar(v)  # noqa: E731
        size = None
    send("step", "check")
    send("check", [float(single(float(v))) for v in CHECK[:, 0]])
    _evaluate(send, vectorised, 1, N, settings.seed, settings)
    if size is not None:
        send("step", "size")
        send("size", size())


# --- one high order of a small formula ------------------------------------------------------------
def order_label(formula: str, order: int) -> str:
    return f"order {formula} d{order:.0e}" if order >= 10**6 else f"order {formula} d{order}"


def _order(send, tool: str, formula: str, order: int, N: int, settings: Settings) -> None:
    send("step", "build")
    if tool == "symcalc":
        import symcalc as sc
        from symcalc.compiler.program import program

        f = sc.parse(formula)
        start = time.perf_counter()
        d = sc.diff(f, "x", order)
        fn = sc.lambdify(d, ["x"])
        send("build", time.perf_counter() - start)
        size = lambda: program(d, ["x"]).operation_count  # noqa: E731
    else:
        import sympy as sp

        f, x = sp.sympify(formula.replace("^", "**")), sp.Symbol("x")
        start = time.perf_counter()
        d = sp.diff(f, x, order)
        fn = sp.lambdify([x], d, modules="numpy", cse=True)
        send("build", time.perf_counter() - start)
        size = lambda: tools.count_sympy_operations([d])  # noqa: E731
    send("step", "check")
    send("check", [float(fn(float(v))) for v in CHECK[:, 0]])
    send("step", "size")
    send("size", size())


# --- Taylor ---------------------------------------------------------------------------------------
def taylor_label(index: int, order: int) -> str:
    return f"taylor {''.join(TAYLOR[index][1])}^{order}"


def _taylor(send, tool: str, index: int, order: int, N: int, settings: Settings) -> None:
    formula, variables = TAYLOR[index]
    points = CHECK[:, :len(variables)]
    send("step", "build")
    if tool == "JAX jet":
        import jax
        from jax.experimental import jet

        jax.config.update("jax_enable_x64", True)
        jnp = jax.numpy
        f = (lambda x: jnp.exp(jnp.sin(x)) / (1 + x**2)) if len(variables) == 1 else \
            (lambda v: jnp.exp(v[0]) * jnp.sin(v[1]) * jnp.cos(v[2]))
        origin = 0.0 if len(variables) == 1 else jnp.zeros(3)

        @jax.jit
        def coefficients(direction):  # derivatives of f(origin + t*direction) in t at 0
            zero = jnp.zeros_like(direction)
            value, series = jet.jet(f, (origin,), ([direction] + [zero] * (order - 1),))
            return value, jnp.stack(series)
        start = time.perf_counter()
        first = coefficients(jnp.asarray(1.0 if len(variables) == 1 else points[0]))
        jax.block_until_ready(first)
        send("build", time.perf_counter() - start)

        def polynomial(p):  # the Taylor polynomial at p, from the derivatives along p
            direction = jnp.asarray(p[0] if len(variables) == 1 else p)
            value, series = coefficients(jnp.ones(()) if len(variables) == 1 else direction)
            scale = float(p[0]) if len(variables) == 1 else 1.0
            return float(value) + sum(float(c) * scale**k / math.factorial(k)
                                      for k, c in enumerate(np.asarray(series), start=1))
        send("check", [polynomial(p) for p in points])
        return
    if tool == "symcalc":
        import symcalc as sc
        from symcalc.compiler.program import program

        f = sc.parse(formula)
        start = time.perf_counter()
        poly = sc.taylor(f, {v: 0 for v in variables}, order)
        fn = sc.lambdify(poly, list(variables))
        send("build", time.perf_counter() - start)
        f_fn = sc.lambdify(f, list(variables))
        size = lambda: program(poly, list(variables)).operation_count  # noqa: E731
    else:
        import sympy as sp

        f = sp.parse_expr(formula.replace("^", "**"))
        xs = sp.symbols(variables)
        start = time.perf_counter()
        if len(xs) == 1:
            poly = sp.series(f, xs[0], 0, order + 1).removeO()
        else:
            t = sp.Symbol("t")
            scaled = f.subs({x: t * x for x in xs}, simultaneous=True)
            poly = sp.series(scaled, t, 0, order + 1).removeO().subs(t, 1)
        fn = sp.lambdify(xs, poly, modules="numpy", cse=True)
        send("build", time.perf_counter() - start)
        f_fn = sp.lambdify(xs, f, modules="numpy", cse=True)
        size = lambda: tools.count_sympy_operations([poly])  # noqa: E731
    send("step", "check")
    send("check", [float(fn(*p)) for p in points])
    _evaluate(send, lambda c: fn(*c), len(variables), N, settings.seed, settings, scale=0.5)
    _evaluate(send, lambda c: f_fn(*c), len(variables), N, settings.seed, settings, scale=0.5,
              label="eval f")
    send("step", "size")
    send("size", size())


# --- the parent -----------------------------------------------------------------------------------
def installed(tool: str) -> bool:
    import importlib.util

    module = {"symcalc": "symcalc", "SymPy": "sympy", "SymEngine": "symengine", "CasADi": "casadi",
              "JAX": "jax", "JAX jet": "jax"}[tool]
    return importlib.util.find_spec(module) is not None


def measure(depth: int, orders: int, N: int, settings: Settings, say=lambda *a: None,
            taylor_orders: tuple[int, ...] = TAYLOR_ORDERS, only: Optional[set] = None,
            order_cases: tuple[tuple[str, int], ...] = ORDER_CASES) -> dict:
    """``{row: {tool: figures}}``: figures hold build, size, eval, eval f, check, and a timeout or
    an error; rows ``nested f``, ``nested d1`` ..., one per order case and the two Taylor rows.
    ``only``: the tools to run (symcalc always runs)."""
    def chosen(tool: str) -> bool:
        return installed(tool) and (only is None or tool == "symcalc" or tool.split()[0] in only)

    results: dict = {}
    stopped: dict = {}  # tool -> the outcome that stops its higher orders
    for order in range(orders + 1):
        row = "nested f" if order == 0 else f"nested d{order}"
        say(f"measuring highorder/{row} ...")
        results[row] = {}
        for tool in filter(chosen, NESTED_TOOLS):
            if tool in stopped:
                results[row][tool] = dict(stopped[tool], skipped=True)
                continue
            memory = MEMORY if tool in ("SymPy", "SymEngine") else None
            figures = _figures(child.stream(_nested, (tool, depth, order, N, settings),
                                            settings.limit, memory))
            results[row][tool] = figures
            if "timeout" in figures or "error" in figures:
                stopped[tool] = {k: figures[k] for k in ("timeout", "error") if k in figures}
    for formula, order in order_cases:
        label = order_label(formula, order)
        say(f"measuring highorder/{label} ...")
        results[label] = {tool: _figures(child.stream(_order, (tool, formula, order, N, settings),
                                                      settings.limit, MEMORY if tool == "SymPy" else None))
                          for tool in filter(chosen, ORDER_TOOLS)}
    for index, order in enumerate(taylor_orders):
        label = taylor_label(index, order)
        say(f"measuring highorder/{label} ...")
        results[label] = {tool: _figures(child.stream(_taylor, (tool, index, order, N, settings),
                                                      settings.limit, MEMORY if tool == "SymPy" else None))
                          for tool in filter(chosen, TAYLOR_TOOLS)}
    return results


def _figures(got: child.Streamed) -> dict:
    figures = dict(got.figures)
    if got.timed_out:
        figures["timeout"] = got.step
    if got.error:
        figures["error"] = got.error
    return figures


def failures(results: dict) -> list[str]:
    out = []
    for row, by_tool in results.items():
        mine = by_tool.get("symcalc", {}).get("check")
        for tool, figures in by_tool.items():
            theirs = figures.get("check")
            if theirs is None or mine is None or tool == "symcalc" or figures.get("skipped"):
                continue
            reference = np.array(mine)
            err = float(np.max(np.abs(np.array(theirs) - reference))) / max(np.max(np.abs(reference)), 1e-300)
            if not err <= AGREEMENT:
                out.append(f"highorder/{row}: {tool} differs from symcalc (relative error {err:.2e})")
    return out


def _cell(figures: dict, field: str, limit: float) -> str:
    if figures.get("timeout") is not None and field not in figures:
        return f">{limit:g} s" if field in ("build", figures["timeout"]) else "-"
    if "error" in figures and field not in figures:
        return "failed" if field == "build" else "-"
    value = figures.get(field)
    return str(value) if field == "size" and value is not None else seconds(value, limit)


def report(results: dict, N: int, limit: float) -> str:
    rows = []
    f_eval = {tool: fig.get("eval") for tool, fig in results.get("nested f", {}).items()}
    for row, by_tool in results.items():
        for k, (tool, figures) in enumerate(by_tool.items()):
            base = figures.get("eval f", f_eval.get(tool))
            mine = figures.get("eval")
            over = f"{mine / base:.3g}" if isinstance(mine, float) and isinstance(base, float) else "-"
            rows.append([f"highorder/{row}" if k == 0 else "", tool, _cell(figures, "build", limit),
                         _cell(figures, "size", limit), _cell(figures, "eval", limit), over,
                         "not run (lower order stopped)" if figures.get("skipped") else ""])
    lines = [f"highorder: build = symbolic work + code generation; eval on N = {N:,} points",
             _table(["case/quantity", "tool", "build", "size", f"eval N={N:,}", "eval/f", ""], rows),
             "", "highorder ratios peer/symcalc (above 1: symcalc is faster or smaller)"]
    rows = []
    for row, by_tool in results.items():
        mine = by_tool.get("symcalc", {})
        for k, (tool, figures) in enumerate(t for t in by_tool.items() if t[0] != "symcalc"):
            cells = []
            for field in ("build", "size", "eval"):
                a, b = figures.get(field), mine.get(field)
                if field == "build" and figures.get("timeout") and a is None and isinstance(b, float):
                    cells.append(f">{limit / b:.3g}x")
                elif isinstance(a, (int, float)) and isinstance(b, (int, float)) and b:
                    cells.append(f"{a / b:.3g}x")
                else:
                    cells.append("-")
            rows.append([f"highorder/{row}" if k == 0 else "", tool] + cells)
    lines.append(_table(["case/quantity", "peer", "build", "size", "eval"], rows))
    lines.append("CasADi's size is Function.n_instructions() (its own count); JAX jet computes the "
                 "Taylor coefficients numerically at one point (build: tracing, compilation, one call)")
    for row, by_tool in results.items():
        for tool, figures in by_tool.items():
            if "error" in figures and not figures.get("skipped"):
                lines.append(f"highorder/{row} {tool}: {figures['error']}")
    return "\n".join(lines)
