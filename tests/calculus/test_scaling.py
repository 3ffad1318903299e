"""Symbolic work that grows with the formula, not faster: the gradient of a linear model and of its
squared loss from one pass, a sum grown term by term, the derivative of a formula built as
``e = e^2 + e`` in a loop, and long bodies at a point of floats.

Values are checked against SymPy and central finite differences; growth is checked by counting
the Python function calls the work makes (``sys.setprofile``) at a size and twice that size,
never by a clock.
"""

from __future__ import annotations

import gc
import math
import subprocess
import sys
from pathlib import Path

import mpmath
import pytest
import sympy

import symcalc as sc
from symcalc import api as calculus
from symcalc.calculus.diff import forward, grown_size, partials
from symcalc.core.expr import ONE, Add, add, count_ops, postorder, sum_parts

from oracle import check_gradient, check_hessian, check_jacobian


def linear(n: int, squared: bool = False, tag: str = "") -> sc.Expr:
    text = " + ".join(f"{tag}w{i}*{tag}x{i}" for i in range(n))
    return sc.parse(f"({text} - {tag}y)^2" if squared else text)


def weights(n: int, tag: str = "") -> list[str]:
    return [f"{tag}w{i}" for i in range(n)]


def calls(work) -> int:
    """The Python function calls ``work()`` makes: the symbolic operations it performs."""
    count = 0

    def profile(frame, event, arg):
        nonlocal count
        if event == "call":
            count += 1
    gc.collect()  # the garbage of earlier work is not collected, nor its callbacks counted, here
    gc.disable()
    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(None)
        gc.enable()
    return count


def chain(K: int, name: str = "x") -> sc.Expr:
    x = sc.Symbol(name)
    e = x**2 + x
    for _ in range(K):
        e = e**2 + e
    return e


# --- values ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("squared", [False, True])
def test_gradient_and_hessian_of_the_linear_model_agree_with_sympy_and_differences(squared):
    f = linear(5, squared)
    ws = weights(5)
    check_gradient(f, ws, sc.grad(f, ws))
    check_hessian(f, ws[:3] + ["x1"], sc.hessian(f, ws[:3] + ["x1"]))
    check_jacobian([linear(5), f], ws + ["y"], sc.jacobian([linear(5), f], ws + ["y"]))


def test_one_pass_gives_the_very_expressions_of_a_pass_per_variable():
    formulas = [linear(12, squared=True), sc.parse("sin(x*y)*exp(x + z) + log(1 + x^2*y^2)"),
                sc.parse("x^y + y^x*z + sigmoid(x*y*z)/(1 + z^2)"),
                sc.parse("logsumexp(x, 2*y, z^2)*max(x, y) + atan2(y, x)")]
    for f in formulas:
        xs = sorted(f.free_symbols, key=lambda s: s.name)
        assert partials(f, xs) == [forward(f, {v: ONE}) for v in xs]
        memo: dict = {}
        for g in partials(f, xs):  # the rows of a Hessian, sharing one memo
            assert partials(g, xs, memo) == [forward(g, {v: ONE}) for v in xs]


def test_gradient_of_the_squared_loss_at_a_large_size_against_differences():
    n = 300
    f = linear(n, squared=True)
    g = sc.lambdify(sc.grad(f, weights(n)), [str(s) for s in sorted(f.free_symbols, key=str)])
    names = sorted(f.free_symbols, key=str)
    point = {s: math.sin(1.7 * k + 0.3) for k, s in enumerate(names)}
    got = g(*point.values())
    residual = sum(point[sc.Symbol(f"w{i}")] * point[sc.Symbol(f"x{i}")] for i in range(n)) \
        - point[sc.Symbol("y")]
    h = 1e-6
    for i in (0, 137, n - 1):
        # the loss along w_i is a parabola: the central difference is exact up to rounding
        xi = point[sc.Symbol(f"x{i}")]
        difference = ((residual + h * xi) ** 2 - (residual - h * xi) ** 2) / (2 * h)
        assert got[i] == pytest.approx(difference, rel=1e-7)
        assert got[i] == pytest.approx(2 * xi * residual, rel=1e-12)


def _sympy_chain_step():
    """SymPy's derivative of one step ``e -> e^2 + e``, as a function of (e, e')."""
    x = sympy.Symbol("x")
    f = sympy.Function("f")(x)
    step = sympy.diff(f**2 + f, x)
    e, de = sympy.symbols("e de")
    return sympy.lambdify([e, de], step.subs(sympy.Derivative(f, x), de).subs(f, e), "mpmath")


def _chain_reference(K: int, x0: float) -> tuple[mpmath.mpf, mpmath.mpf]:
    """(SymPy's derivative by the chain rule step by step, the central difference of e), at 50
    digits."""
    step = _sympy_chain_step()
    with mpmath.workdps(50):
        x = mpmath.mpf(x0)
        e, d = x**2 + x, 2 * x + 1
        for _ in range(K):
            e, d = e**2 + e, step(e, d)

        def value(t):
            v = t**2 + t
            for _ in range(K):
                v = v**2 + v
            return v
        h = mpmath.mpf("1e-20")
        return d, (value(x + h) - value(x - h)) / (2 * h)


@pytest.mark.parametrize("K", [5, 20, 150])
def test_the_derivative_of_the_chain_agrees_with_sympy_and_differences(K):
    e = chain(K)
    d = sc.diff(e, "x")
    assert d._raw == (K == 150)  # a graph once the sums that grew dominate the formula
    for x0 in (-0.5, -0.9, -0.05):  # where the chain stays bounded
        expected, difference = _chain_reference(K, x0)
        got = sc.lambdify(d, ["x"])(x0)
        assert float(difference) == pytest.approx(float(expected), rel=1e-12)
        assert got == pytest.approx(float(expected), rel=1e-9)


def test_gradient_and_jacobian_of_the_chain_are_graphs_with_the_values_of_diff():
    e = chain(150) * sc.Symbol("y") + sc.Symbol("y") ** 2
    g = sc.grad(e, ["x", "y"])
    j = sc.jacobian([e, chain(150)], ["x", "y"])
    assert g[0]._raw and g.graph == list(g)
    f = sc.lambdify(g, ["x", "y"])
    for x0, y0 in ((-0.5, 0.3), (-0.9, -1.2)):
        dx, _ = _chain_reference(150, x0)
        e0 = _chain_value(150, x0)
        assert f(x0, y0)[0] == pytest.approx(float(dx) * y0, rel=1e-9)
        assert f(x0, y0)[1] == pytest.approx(e0 + 2 * y0, rel=1e-9)
        assert sc.lambdify(j, ["x", "y"])(x0, y0)[1][0] == pytest.approx(float(dx), rel=1e-9)
    assert count_ops(list(g)) - count_ops([e]) < 6 * 150


def _chain_value(K: int, x0: float) -> float:
    with mpmath.workdps(50):
        v = mpmath.mpf(x0) ** 2 + x0
        for _ in range(K):
            v = v**2 + v
        return float(v)


def test_the_graph_and_the_readable_derivative_of_the_chain_agree():
    e = chain(24)
    graph = calculus.forward_graph(e, sc.Symbol("x"))
    readable = sc.diff(e, "x", readable=True)
    assert graph._raw and not readable._raw
    for x0 in (-0.5, -0.2, 0.01):
        assert sc.lambdify(graph, ["x"])(x0) == pytest.approx(sc.lambdify(readable, ["x"])(x0),
                                                              rel=1e-12)


def test_a_sum_grown_term_by_term_is_the_sum_built_at_once():
    terms = [sc.parse(f"a{i}*b{i}") for i in range(30)] + [sc.parse(t) for t in [
        "x", "3*y^2", "sin(x)", "-2*x*y", "x^3/7", "exp(y)", "z", "-x", "-a3*b3", "2*a4*b4",
        "a4*b4/2", "-3*y^2", "-z", "4", "x^2"]]
    total = sc.Num(0)
    for k, t in enumerate(terms):
        total = total + t
        assert total is add(*terms[:k + 1])
        assert total is sc.parse(" + ".join(f"({s})" for s in terms[:k + 1]))


def test_a_grown_sum_remembers_how_it_grew_only_while_its_part_lives():
    s = sum((sc.parse(f"a{i}*b{i}") for i in range(20)), sc.Num(0))
    grown = s + sc.parse("c^2")
    assert sum_parts(grown) == (s, sc.parse("c^2"))
    nodes, operations = grown_size(grown)
    assert (nodes, operations) == (len(set(postorder([grown, s]))), count_ops([grown, s]))
    del s
    gc.collect()
    assert sum_parts(grown) is None  # the grown sum does not keep its part alive


def test_the_chain_builds_the_sums_as_the_general_constructor_does():
    e = chain(30)
    sums = [n for n in postorder([e]) if isinstance(n, Add)]
    assert len(sums) == 31
    for node in sums:
        assert add(*node.args) is node  # canonical: building it at once gives it back


# --- structure: work linear in the size -----------------------------------------------------------
_tags = iter(range(10**6))


def _ratio(make, work, n: int) -> float:
    """Calls of ``work`` on a formula ``make(2n, tag)`` over those on ``make(n, tag)``, each formula
    of symbols of its own (no node or cache of one is met again in the other)."""
    work(make(10, f"t{next(_tags)}_"))  # what a first call makes once is not counted
    small, large = make(n, f"t{next(_tags)}_"), make(2 * n, f"t{next(_tags)}_")
    return calls(lambda: work(large)) / calls(lambda: work(small))


@pytest.mark.parametrize("squared", [False, True])
def test_gradient_work_grows_linearly(squared):
    def make(n, tag):
        return linear(n, squared, tag), weights(n, tag)
    assert _ratio(make, lambda fw: sc.grad(*fw), 200) < 2.3
    assert _ratio(make, lambda fw: sc.jacobian([fw[0]], fw[1]), 200) < 2.3


def test_hessian_work_grows_with_its_entries():
    def make(n, tag, squared=True):
        return linear(n, squared, tag), weights(n, tag)
    assert _ratio(make, lambda fw: sc.hessian(*fw), 30) < 4.6  # n^2 entries, none of them 0
    # the linear model's Hessian in the weights is 0: its symbolic work is linear
    assert _ratio(lambda n, tag: make(n, tag, False), lambda fw: sc.hessian(*fw), 100) < 2.3


def test_building_and_differentiating_the_chain_grow_linearly():
    chain(50, "warm")
    assert calls(lambda: chain(400, "b")) / calls(lambda: chain(200, "a")) < 2.3
    es = {K: chain(K, f"c{K}") for K in (200, 400)}
    work = {K: calls(lambda: sc.diff(es[K], f"c{K}")) for K in es}
    assert work[400] / work[200] < 2.3
    new = {}
    for K, e in es.items():
        d = sc.diff(e, f"c{K}")
        new[K] = count_ops([e, d]) - count_ops([e])  # operations the derivative adds
    assert new[200] < 6 * 200 and new[400] / new[200] < 2.2


# --- a long body at a point of floats -------------------------------------------------------------
def test_a_long_body_at_a_point_computes_in_floats_and_agrees_with_arrays():
    import numpy as np

    d = sc.diff(sc.parse("sin(sin(sin(sin(x))))"), "x", 8)
    f = sc.lambdify(d, ["x"])
    assert "_math_sin" in f._fast_call.__globals__["_point"].__code__.co_names
    for x0 in (0.3, -1.2, 2.5):
        got = f(x0)
        assert type(got) is float
        assert got == pytest.approx(float(f(np.array([x0]))[0]), rel=1e-12)
        expected = sympy.diff(sympy.sin(sympy.sin(sympy.sin(sympy.sin(sympy.Symbol("x"))))),
                              sympy.Symbol("x"), 8).subs(sympy.Symbol("x"), x0)
        assert got == pytest.approx(float(expected), rel=1e-10)


def test_a_long_body_falls_back_to_numpy_where_math_raises():
    import numpy as np

    d = sc.diff(sc.parse("log(sin(sin(sin(x))))*sin(sin(sin(sin(x))))"), "x", 6)
    f = sc.lambdify(d, ["x"])
    assert "_math_log" in f._fast_call.__globals__["_point"].__code__.co_names
    with np.errstate(all="ignore"):
        got, array = f(-0.5), f(np.array([-0.5]))[0]  # log of a negative number: nan, not a raise
    assert math.isnan(got) and math.isnan(array)
    assert f(0.5) == pytest.approx(float(f(np.array([0.5]))[0]), rel=1e-12)


# --- the benchmark ------------------------------------------------------------------------------
def test_the_scaling_benchmark_runs_quickly_and_agrees():
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "scaling.py"
    run = subprocess.run([sys.executable, str(script), "--quick", "--tools", "symcalc,SymEngine",
                          "--limit", "60"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    for case in ("grad", "grad sq", "jacobian", "hessian sq", "chain", "point"):
        assert f"scaling/{case} " in run.stdout
    assert "doubling" in run.stdout and "correctness: all tools agree" in run.stdout


def test_reading_a_long_shaped_sum_grows_linearly():
    # the shaped reader built a sum term by term, each step flattening all terms before it
    def make(n, tag):
        return " + ".join(f"sin({tag}a{i})*{tag}b{i}" for i in range(n)) + " + t@t"
    assert _ratio(make, lambda text: sc.parse(text, shapes={"t": "n"}), 200) < 2.3
    text = make(50, "v")
    plain = sc.parse(text.replace(" + t@t", ""))
    shaped = sc.parse(text, shapes={"t": "n"})
    assert sc.parse(str(shaped), shapes={"t": "n"}) is shaped
    assert sc.subs(shaped, {"t": 0}) is sc.matrix.parsing.parse_shaped(str(plain), {})


def test_building_shaped_entrywise_formulas_grows_linearly():
    # the entrywise parts are the scalar engine's expressions: each node is lifted to it and
    # lowered from it once, so a long sum of vector terms and a deep chain cost their new parts
    from symcalc.matrix import build, ops

    def vectors(n, tag):
        return [ops.vector(f"{tag}v{i}", "n") for i in range(n)]

    def long_sum(vs):
        return build.add(*(sc.sin(v) * v + 1 for v in vs))

    assert _ratio(vectors, long_sum, 200) < 2.3
    vs = vectors(30, "check_")
    total = long_sum(vs)
    assert total is sc.parse(str(total), shapes={v.data: "n" for v in vs})
    assert str(total).startswith("30 + ")  # the constant first, as the scalar engine writes it

    def deep(K, tag):
        return K, ops.vector(f"{tag}x", "n")

    def chain_of(job):
        K, x = job
        e = x
        for _ in range(K):
            e = sc.tanh(e) * x + x
        return e

    assert _ratio(deep, chain_of, 200) < 2.3
