"""The memory-planned body of generated NumPy code (``symcalc.compiler.memory_plan``) and the pure
body.

The planned body runs on array arguments: it frees each temporary after its last use, reuses
buffers and writes outputs in place.  These tests check its peak memory with ``tracemalloc``
(which sees NumPy's allocations), that it computes exactly what the pure body computes and what
the independent mpmath evaluation of ``tests/oracle.py`` gives, that it never writes into an
argument, and that broadcasting and single points still work.
"""

from __future__ import annotations

import ast
import math
import re
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symcalc as sc
from symcalc.compiler.compile import parameter_names
from symcalc.compiler.numpy_printer import function_body
from symcalc.compiler.program import program

from oracle import value as exact_value
from strategies import VARIABLES, Formula, formulas, points


def product_names(d: int) -> list[str]:
    return [f"x{i}" for i in range(1, d + 1)]


def bodies(f):
    """The pure body and the planned body behind a lambdified ``f``."""
    namespace = f.numpy_function.__globals__
    return namespace["_f_body"], namespace["_f_arrays"]


def peak_bytes(call) -> int:
    call()  # warm-up: NumPy's own caches are filled outside the measurement
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --- memory --------------------------------------------------------------------------------------
def test_product_gradient_peak_is_the_output_and_a_few_temporaries():
    d, n = 30, 100_000
    names = product_names(d)
    g = sc.lambdify(sc.grad("*".join(names), names), names)
    rng = np.random.default_rng(0)
    args = [rng.uniform(0.5, 1.5, n) for _ in names]
    array = 8 * n
    planned = peak_bytes(lambda: g(*args))
    assert planned <= (d + 12) * array  # the output (d rows) and about a dozen temporaries
    pure, _ = bodies(g)
    unplanned = peak_bytes(lambda: pure(*args, (n,)))
    assert unplanned >= 2 * d * array  # every partial product at once: what the plan avoids


def test_a_long_chain_of_temporaries_keeps_few_alive():
    # sin(sin(...)) with each level used twice: a temporary per level, each dead after the next
    e = sc.Symbol("x")
    for _ in range(40):
        e = sc.sin(e) * sc.cos(e)
    f = sc.lambdify(e, ["x"])
    x = np.linspace(-0.1, 0.1, 100_000)
    assert peak_bytes(lambda: f(x)) <= 8 * 8 * x.size
    pure, planned = bodies(f)
    np.testing.assert_array_equal(planned(x, x.shape), pure(x, x.shape))


# --- the planned body computes what the pure body computes ----------------------------------------
def _outputs(f: Formula):
    """A list, a nested list and one expression: the three kinds of output."""
    gradient = list(sc.grad(f.expr, VARIABLES))
    return [gradient, [gradient, [f.expr, 2, 0]], f.expr]


def _columns(pts):
    base = np.array([[p[v] for v in VARIABLES] for p in pts])
    return [np.ascontiguousarray(base[:, k]) for k in range(len(VARIABLES))]


@settings(deadline=None)
@given(formulas(3), points(3))
def test_planned_and_pure_bodies_agree_and_match_the_oracle(f: Formula, pts):
    columns = _columns(pts)
    for outputs in _outputs(f):
        compiled = sc.lambdify(outputs, list(VARIABLES))
        pure, planned = bodies(compiled)
        copies = [c.copy() for c in columns]
        with np.errstate(all="ignore"):
            got = compiled(*columns)
            expected = pure(*columns, columns[0].shape)
        for before, after in zip(copies, columns):
            np.testing.assert_array_equal(before, after)  # no argument is ever written
        np.testing.assert_array_equal(got, expected)
        rows = np.asarray(got).reshape(-1, len(pts))
        exprs = _flatten(outputs)
        for k, p in enumerate(pts):
            point = {name: p[name] for name in VARIABLES}
            for e, row in zip(exprs, rows):
                want = exact_value(e, point)
                if want is not None and math.isfinite(row[k]):
                    assert row[k] == pytest.approx(float(want), rel=1e-8, abs=1e-8), str(e)
            single = compiled(*(float(p[name]) for name in VARIABLES))  # one point: the pure body
            np.testing.assert_allclose(np.ravel(single), rows[:, k], rtol=1e-12, atol=1e-300)


def _flatten(outputs) -> list:
    if not isinstance(outputs, list):
        return [outputs]
    return [e for item in outputs for e in _flatten(item)]


@settings(deadline=None, max_examples=25)
@given(formulas(3), st.sampled_from(["scalar", "grid", "column"]))
def test_broadcasting_arguments_of_different_shapes(f: Formula, kind):
    gradient = sc.grad(f.expr, VARIABLES)
    compiled = sc.lambdify([list(gradient), [f.expr, 1, 0]], list(VARIABLES))
    x = np.linspace(-1.5, 1.5, 4)
    if kind == "scalar":  # a number with arrays: the pure body
        args = [x, 0.75, x[::-1].copy()]
    elif kind == "grid":  # (N, 1) with (1, M): the planned body
        args = [x[:, None], x[None, :3].copy(), np.array([[0.5]])]
    else:
        args = [x[:, None], x[:, None] / 2, x[None, :]]
    shape = np.broadcast_shapes(*(np.shape(a) for a in args))
    with np.errstate(all="ignore"):
        got = compiled(*args)
    assert got.shape == (2, 3) + shape
    full = [np.broadcast_to(a, shape) for a in args]
    for index in np.ndindex(shape):
        with np.errstate(all="ignore"):
            one = compiled(*(float(a[index]) for a in full))
        np.testing.assert_allclose(got[(...,) + index], one, rtol=1e-12, atol=1e-300)


def test_a_temporary_held_in_an_output_row_has_the_full_shape():
    # exp(coth(e)) is computed in the row of the constant e-term, shape (4, 3); the temporary of
    # x alone, shape (4, 1), must not take a product with it in place
    e = "exp(coth(e))^erf(sqrt(pi)^x)"
    compiled = sc.lambdify([list(sc.grad(e, "x y z")), [e, 1, 0]], "x y z")
    x = np.linspace(0.1, 1.0, 4)
    got = compiled(x[:, None], x[None, :3], np.array([[0.5]]))
    for i, j in np.ndindex(4, 3):
        np.testing.assert_allclose(got[:, :, i, j], compiled(float(x[i]), float(x[j]), 0.5),
                                   rtol=1e-13)


def test_constant_and_missing_variable_rows_are_broadcast():
    f = sc.lambdify([["x", 3], ["0", "y^2"]], ["x", "y"])
    x, y = np.arange(3.0), np.arange(3.0) + 1
    expected = np.array([[x, np.full(3, 3.0)], [np.zeros(3), y * y]])
    np.testing.assert_array_equal(f(x, y), expected)
    pure, _ = bodies(f)
    np.testing.assert_array_equal(pure(x, y, (3,)), expected)
    np.testing.assert_array_equal(f(1.0, 2.0), [[1.0, 3.0], [0.0, 4.0]])
    g = sc.lambdify("2*x", ["x", "y"])  # misses y: filled to the broadcast shape
    assert g(np.ones(2), np.ones((3, 1))).shape == (3, 2)


# --- the two bodies as text ------------------------------------------------------------------------
def _body_tree(outputs, names, plan):
    prog = program(outputs, names)
    text = "\n".join(function_body(prog, parameter_names(prog.variables), plan=plan))
    return ast.parse("def _b():\n" + "\n".join("    " + line for line in text.splitlines()))


@pytest.mark.parametrize("outputs", [
    sc.grad("x*y*z*exp(x*y)", ["x", "y", "z"]),
    sc.hessian("sin(x*y) + x^3*z", ["x", "y", "z"]),
    "exp(x)*y + z",
])
def test_the_pure_body_only_assigns_names(outputs):
    tree = _body_tree(outputs, ["x", "y", "z"], plan=False)
    for node in ast.walk(tree):
        assert not isinstance(node, (ast.AugAssign, ast.Delete))
        assert not (isinstance(node, ast.keyword) and node.arg == "out")
        if isinstance(node, ast.Assign):
            assert all(isinstance(t, ast.Name) for t in node.targets)
        if isinstance(node, ast.Attribute):
            assert node.attr not in ("empty", "zeros")
    planned = _body_tree(outputs, ["x", "y", "z"], plan=True)
    if not isinstance(outputs, str):  # the planned body writes its rows into _out
        assert any((isinstance(n, ast.keyword) and n.arg == "out")
                   or (isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Subscript))
                   for n in ast.walk(planned))


def test_the_planned_body_never_writes_a_parameter():
    for outputs in (sc.grad("x*y*z*w", ["x", "y", "z", "w"]), "sin(x)*y - z/w",
                    sc.hessian("exp(x*y) + z^2*w", ["x", "y", "z", "w"])):
        tree = _body_tree(outputs, ["x", "y", "z", "w"], plan=True)
        for node in ast.walk(tree):
            if isinstance(node, ast.AugAssign):
                assert node.target.id.startswith("_t")
            if isinstance(node, ast.keyword) and node.arg == "out":
                assert ast.unparse(node.value).startswith(("_t", "_out["))


def test_codegen_shows_both_bodies_tidily():
    names = product_names(4)
    source = sc.codegen(sc.grad("*".join(names), names), names, planned=True)
    planned = source[source.index("def _f_arrays"):source.index("def f(")]
    assert "out=_out[" in planned and "return _out" in planned
    assert "return evaluate(_f_body, _f_arrays, x1, x2, x3, x4)" in source
    namespace: dict = {}
    exec(compile(source, "<standalone>", "exec"), namespace)
    args = [np.arange(1.0, 4.0) + k for k in range(4)]
    np.testing.assert_array_equal(namespace["f"](*args), sc.lambdify(
        sc.grad("*".join(names), names), names)(*args))


FORMS = ["x - y", "y / x", "x^y", "-x", "sin(x)", "atan2(y, x)", "max(x, 0)", "x*y", "x + y",
         "2 - x", "1/x", "x^2", "softplus(y)", "heaviside(x)"]


@pytest.mark.parametrize("form", FORMS)
def test_each_single_ufunc_form_into_rows_and_in_place(form):
    # as a row by itself, as a temporary placed in a row, and in place in a dying temporary
    t = sc.parse(form)
    x, y = sc.symbols("x y")
    outputs = [t, t * y, sc.exp(sc.parse(re.sub(r"\bx\b", "(x*y)", form))) * x, sc.sin(t) * t]
    f = sc.lambdify(outputs, ["x", "y"])
    xs, ys = np.array([0.5, 1.25, 2.0, 3.5]), np.array([1.5, 0.75, 2.5, 1.0])
    got = f(xs, ys)
    pure, _ = bodies(f)
    np.testing.assert_array_equal(got, pure(xs, ys, xs.shape))
    for k in range(xs.size):
        for e, row in zip(outputs, got):
            want = exact_value(e, {"x": xs[k], "y": ys[k]})
            assert row[k] == pytest.approx(float(want), rel=1e-12), (str(e), k)


@pytest.mark.parametrize("formula", ["exp(sin(x*y))*cos(x*y)*x", "logsumexp(x*y, x, y)*tanh(x - y)",
                                     "sqrt(x^2 + y^2)*atan2(y, x)", "sin(cos(x - y))/(2 + x*y)"])
def test_gradients_and_hessians_with_reused_buffers(formula):
    xs, ys = np.array([0.5, 1.25, 2.0, 3.5]), np.array([1.5, -0.75, 2.5, 1.0])
    for outputs in (sc.grad(formula, ["x", "y"]), sc.hessian(formula, ["x", "y"])):
        f = sc.lambdify(outputs, ["x", "y"])
        got = f(xs, ys)
        pure, _ = bodies(f)
        np.testing.assert_array_equal(got, pure(xs, ys, xs.shape))
        rows = got.reshape(-1, xs.size)
        for k in range(xs.size):
            for e, row in zip(_flatten([list(r) for r in outputs] if isinstance(outputs[0], list)
                                       else list(outputs)), rows):
                want = exact_value(e, {"x": xs[k], "y": ys[k]})
                assert row[k] == pytest.approx(float(want), rel=1e-10, abs=1e-12), (str(e), k)


@pytest.mark.parametrize("operator", ["-", "/", "^", "+", "*"])
def test_a_dying_temporary_on_the_right_of_an_operator(operator):
    # a = sin(x*y) dies in b = x <op> a, which reuses a's buffer: computing x <op> a, not a <op> x
    a = sc.parse("sin(x*y)")
    b = sc.parse(f"x {operator} sin(x*y)")
    x, y = sc.symbols("x y")
    outputs = [a * x, b * y, sc.sin(b) * y, sc.sin(b) * x]
    f = sc.lambdify(outputs, ["x", "y"])
    planned = f.source[f.source.index("def _f_arrays"):]
    assert "_t1" not in planned  # b took the buffer of a, _t0
    xs, ys = np.array([0.5, 1.25, 2.0]), np.array([1.5, -0.75, 2.5])
    got = f(xs, ys)
    for k in range(xs.size):
        for e, row in zip(outputs, got):
            want = exact_value(e, {"x": xs[k], "y": ys[k]})
            assert row[k] == pytest.approx(float(want), rel=1e-12), (str(e), k)


@settings(deadline=None, max_examples=25)
@given(formulas(3))
def test_long_calls_computed_in_blocks_equal_one_call(f: Formula):
    from symcalc.compiler import runtime

    outputs = [list(sc.grad(f.expr, VARIABLES)), [f.expr, 1, 0]]
    compiled = sc.lambdify(outputs, list(VARIABLES))
    grid = np.linspace(-1.5, 1.5, 103)
    columns = [grid, grid[::-1].copy(), np.cos(grid)]
    _, planned = bodies(compiled)
    with np.errstate(all="ignore"):
        whole = planned(*columns, grid.shape)
        previous, runtime.BLOCK = runtime.BLOCK, 16  # 103 points: six blocks and a short one
        try:
            blocked = compiled(*columns)
        finally:
            runtime.BLOCK = previous
    assert blocked.shape == whole.shape
    np.testing.assert_allclose(blocked, whole, rtol=1e-15, atol=0)


def test_a_long_call_runs_in_blocks_of_bounded_memory():
    from symcalc.compiler import runtime

    names = [f"x{k}" for k in range(30)]
    gradient = sc.lambdify(sc.grad("*".join(names), names), names)
    n = 8 * runtime.BLOCK
    columns = [np.full(n, 1.0 + k / 100) for k in range(30)]
    tracemalloc.start()
    try:
        result = gradient(*columns)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    output = result.nbytes
    assert peak <= output + 12 * 30 * runtime.BLOCK * 8 + 2 ** 20  # the output, a block's worth
    np.testing.assert_allclose(result[:, -1], gradient(*(float(c[-1]) for c in columns)), rtol=1e-14)


def test_a_long_call_writes_each_block_into_its_slice_of_the_result(monkeypatch):
    from symcalc.compiler import runtime

    x, y = sc.symbols("x y")
    f = sc.parse("x^3*y + sin(x*y)")
    hessian = sc.hessian(f, ["x", "y"])
    outputs = [list(hessian[0]) + [0], list(hessian[1]) + [sc.cos(x) - y]]
    compiled = sc.lambdify(outputs, ["x", "y"])
    _, planned = bodies(compiled)
    given_out = []

    def spy(*args):
        given_out.append(args[-1] if len(args) == 4 else None)
        return planned(*args)

    monkeypatch.setattr(runtime, "BLOCK", 16)
    xs, ys = np.linspace(-2, 2, 100), np.linspace(3, -1, 100)
    result = runtime.in_blocks(spy, [xs, ys], xs.shape)
    # the body at the first point gives the layout; then every block is written in place
    assert len(given_out) == 8 and given_out[0] is None
    for out in given_out[1:]:
        assert out.shape == (2, 3, 16) or out.shape == (2, 3, 4)
        assert np.shares_memory(out, result)
    for k in (0, 17, 50, 99):
        want = [[float(exact_value(e, {"x": xs[k], "y": ys[k]})) for e in row] for row in outputs]
        np.testing.assert_allclose(result[..., k], want, rtol=1e-13, atol=1e-13)
    assert not result[0, 2].any()  # the zero row, never written, is zero in every block


def test_a_single_output_in_blocks_equals_the_exact_values(monkeypatch):
    from symcalc.compiler import runtime

    f = sc.lambdify("exp(x)*y - log(1 + y^2)", ["x", "y"])
    monkeypatch.setattr(runtime, "BLOCK", 16)
    xs, ys = np.linspace(-2, 2, 100), np.linspace(3, -1, 100)
    result = f(xs, ys)
    assert result.shape == (100,)
    for k in (0, 16, 33, 99):
        want = float(exact_value(sc.parse("exp(x)*y - log(1 + y^2)"), {"x": xs[k], "y": ys[k]}))
        assert result[k] == pytest.approx(want, rel=1e-13)


def test_a_mostly_zero_output_is_mapped_page_by_page_and_exact():
    names = [f"x{k}" for k in range(12)]
    f = " + ".join(f"{a}^2*{b}" for a, b in zip(names, names[1:]))
    hessian = sc.hessian(f, names)
    compiled = sc.lambdify(hessian, names)
    planned = compiled.source[compiled.source.index("def _f_arrays"):]
    # 110 of the 144 rows are zero; the runs of the others are mapped at once
    runs = re.search(r"sparse_zeros\(\(12, 12\) \+ _shape, 144, (\(.*\))\)\n", planned)
    written = {k for first, stop in ast.literal_eval(runs.group(1)) for k in range(first, stop)}
    assert written == {12 * i + j for i, row in enumerate(hessian) for j, e in enumerate(row)
                       if e != 0}
    n = 4000  # 4.6 MB: above the size from which NumPy asks for huge pages
    columns = [np.linspace(-1, 1, n) * (1 + k / 10) for k in range(12)]
    result = compiled(*columns)
    assert type(result) is np.ndarray and result.shape == (12, 12, n) and result.flags.writeable
    for k in (0, 1234, n - 1):
        point = {name: columns[i][k] for i, name in enumerate(names)}
        want = [[float(exact_value(e, point)) for e in row] for row in hessian]
        np.testing.assert_allclose(result[..., k], want, rtol=1e-14, atol=0)
    result[3, 7] = 2.0  # a zero row is ordinary memory
    assert result[3, 7].sum() == 2.0 * n


@pytest.mark.parametrize("shape", [(3, 4), (60, 60, 300), (3, 300000), (2, 2, 5000)])
def test_sparse_zeros_are_zeros(shape):
    from symcalc.compiler import runtime

    rows = math.prod(shape[:-1])
    for written in [(), ((0, 1),), ((1, rows),), ((0, 1), (rows // 2, rows // 2 + 1))]:
        zeros = runtime.sparse_zeros(shape, rows, written)
        assert zeros.shape == shape and zeros.dtype == np.float64 and not zeros.any()
        zeros.reshape(-1)[-1] = 1.0  # a view: the array is contiguous
        assert zeros.sum() == 1.0


def test_temporaries_read_once_are_made_where_they_are_read():
    # sum_k v_k*tanh(linear form k): the printer names each tanh argument; the planned body
    # computes each where the sum reads it, so the sixteen are never alive together
    rng = np.random.default_rng(3)
    names = [f"x{i}" for i in range(8)]
    units = []
    for row in np.round(rng.uniform(-1, 1, (16, 10)), 2):
        linear = " + ".join(f"({w})*{x}" for w, x in zip(row[2:], names))
        units.append(f"({row[0]})*tanh({linear} + ({row[1]}))")
    text = f"({' + '.join(units)} - 0.5)^2"
    f = sc.lambdify(text, names)
    planned = f.source[f.source.index("def _f_arrays"):f.source.index("def f(")]
    pure = f.source[f.source.index("def _f_body"):f.source.index("def _f_arrays")]
    assert len(re.findall(r"_t\d+ = ", pure)) >= 10 and len(re.findall(r"_t\d+ = ", planned)) <= 2
    n = 20_000
    columns = [np.linspace(-2, 2, n) * np.cos(k) for k in range(8)]
    assert peak_bytes(lambda: f(*columns)) <= 6 * 8 * n  # not sixteen arrays
    expr = sc.parse(text)
    for k in (0, 777, n - 1):
        want = float(exact_value(expr, dict(zip(names, (c[k] for c in columns)))))
        assert f(*columns)[k] == pytest.approx(want, rel=1e-13)


def test_arrays_of_every_layout_give_the_same_values():
    # float64 arrays of one shape take the planned body at once; any other mix goes through
    # prepare (conversion, broadcasting): the numbers are the same either way
    f = sc.lambdify(["x*y^2 - sin(x)", "exp(y)/(1 + x^2)"], ["x", "y"])
    xs, ys = np.array([0.5, -1.25, 2.0]), np.array([1.5, 0.75, -2.5])
    want = np.array([[float(exact_value(sc.parse(e), {"x": a, "y": b}))
                      for a, b in zip(xs, ys)] for e in ("x*y^2 - sin(x)", "exp(y)/(1 + x^2)")])
    for x, y in [(xs, ys), (xs.astype(">f8"), ys), (xs, ys.astype(np.float32).astype(float)),
                 (np.array([1, 2, 3]), ys), (xs[:, None], ys[None, :])]:
        got = f(x, y)
        if got.ndim == 3:  # broadcast (3, 1) with (1, 3): the diagonal is the points
            got = got[:, np.arange(3), np.arange(3)]
        xv = np.asarray(x, dtype=float).ravel()
        expect = np.array([[float(exact_value(sc.parse(e), {"x": a, "y": b}))
                            for a, b in zip(xv, np.asarray(y, float).ravel())]
                           for e in ("x*y^2 - sin(x)", "exp(y)/(1 + x^2)")])
        np.testing.assert_allclose(got, expect, rtol=1e-14)
    np.testing.assert_allclose(f(xs, ys), want, rtol=1e-14)


def test_a_long_call_of_a_mostly_zero_output_maps_only_the_written_rows(monkeypatch):
    from symcalc.compiler import runtime

    names = [f"x{k}" for k in range(12)]
    f = " + ".join(f"{a}^2*{b}" for a, b in zip(names, names[1:]))
    hessian = sc.hessian(f, names)
    compiled = sc.lambdify(hessian, names)
    _, planned = bodies(compiled)
    allocations = []

    def spy(shape, rows=1, written=()):
        allocations.append((shape, rows, tuple(written)))
        return sparse_zeros(shape, rows, written)
    sparse_zeros = runtime.sparse_zeros
    monkeypatch.setattr(runtime, "sparse_zeros", spy)
    monkeypatch.setattr(runtime, "BLOCK", 1024)
    n = 4000  # 4.6 MB: a private map, written block by block
    columns = [np.linspace(-1, 1, n) * (1 + k / 10) for k in range(12)]
    result = runtime.in_blocks(planned, columns, (n,))
    whole = planned(*columns, (n,))  # in one piece
    np.testing.assert_array_equal(result, whole)
    nonzero = {12 * i + j for i, row in enumerate(hessian) for j, e in enumerate(row) if e != 0}
    shape, rows, written = allocations[-1]
    assert shape == (12, 12, n) and rows == 144
    assert {k for first, stop in written for k in range(first, stop)} == nonzero
    for k in (0, 1500, n - 1):
        point = {name: columns[i][k] for i, name in enumerate(names)}
        want = [[float(exact_value(e, point)) for e in row] for row in hessian]
        np.testing.assert_allclose(result[..., k], want, rtol=1e-14, atol=0)
