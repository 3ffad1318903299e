"""The benchmark script: its cases, its size rule, its time limit, and a full smoke run."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import sympy

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import matrix_suite  # noqa: E402
import measure  # noqa: E402
import suite  # noqa: E402
import tools  # noqa: E402

import symcalc as sc  # noqa: E402

# The benchmark runner forks its measuring children from a parent that never imports JAX.  In the
# test process other tests have loaded JAX, which then warns at every fork; the children forked
# here run NumPy, SymPy and Dask only, never JAX, so the warning does not apply to them.
pytestmark = pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")


FULL_SIZE = [c for c in suite.suite() if c.name != "parse"]  # the full parse case is slow in SymPy


@pytest.mark.parametrize("case", suite.suite(quick=True) + FULL_SIZE, ids=lambda c: c.name + c.parameters)
def test_both_syntaxes_and_the_array_form_give_the_same_function(case):
    mine = sc.parse(case.formula)
    theirs = sympy.parse_expr(case.sympy_formula)
    assert {s.name for s in mine.free_symbols} <= set(case.variables)
    x = np.random.default_rng(3).uniform(-1, 1, len(case.variables))
    variables = sympy.symbols(case.variables)
    expected = float(sympy.lambdify(variables, theirs)(*x))
    assert float(sympy.lambdify(variables, sc.to_sympy(mine))(*x)) == pytest.approx(expected, rel=1e-10)
    if case.array_function is not None:
        assert float(case.array_function(np)(x)) == pytest.approx(expected, rel=1e-10)


def test_cases_are_generated_the_same_way_every_time():
    assert [c.formula for c in suite.suite()] == [c.formula for c in suite.suite()]
    assert suite.parse_case(n=50, seed=1).formula != suite.parse_case(n=50, seed=2).formula
    assert len(suite.mlp_case().variables) == 8 and len(suite.lstsq_case().variables) == 10


@pytest.mark.parametrize("text", ["x*y + sin(x*y)", "(x + 1)^2*exp(x + 1) + 3*y", "x*y*z + sin(x*y*z)"])
def test_one_size_rule_for_symcalc_and_sympy(text):
    # the same graph counted on both sides; sympy.cse can also share parts of products and sums
    # (x*y in x*y*z - x*y), which only ever makes the peers' sizes smaller
    mine = sc.count_ops([sc.parse(text)])
    assert tools.count_sympy_operations([sympy.parse_expr(text.replace("^", "**"))]) == mine


class _Hanging:
    """A tool whose gradient never finishes."""

    name = "hanging"

    def fresh(self, case):
        return None

    def build(self, f, case, quantity):
        if quantity == "grad":
            time.sleep(60)
        return 0

    def size(self, result, case):
        return 7

    def compile(self, result, case, quantity):
        return (lambda P: 0.0), (lambda p: 0.0)

    points = staticmethod(lambda P: P)
    point = staticmethod(lambda p: p)


def test_a_hanging_step_is_cut_off_and_the_run_goes_on(monkeypatch):
    monkeypatch.setitem(tools.ALL, "hanging", _Hanging)
    case = suite.product_case(d=2)
    jobs = [measure.Job(case, q, np.zeros(2)) for q in ("grad", "hessian")]
    settings = measure.Settings(repeat=1, limit=1.0, points=10, min_sample=0.0)
    start = time.perf_counter()
    outcomes = measure.run_tool("hanging", jobs, settings)
    assert time.perf_counter() - start < 30
    assert outcomes[("product", "grad")].build == measure.TIMEOUT
    assert outcomes[("product", "hessian")].size == 7
    assert isinstance(outcomes[("product", "hessian")].eval, float)


def _run(*flags: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BENCHMARKS / "run.py"), *flags],
                          capture_output=True, text=True, timeout=timeout)


def test_quick_run_prints_every_case_and_no_failure():
    run = subprocess.run([sys.executable, str(BENCHMARKS / "run.py"), "--quick", "--backends", "none",
                          "--cases", "parse,nested,rosenbrock,logsumexp,mlp,product,lstsq,matrix"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    for case in suite.suite(quick=True):
        assert f"\n{case.name}/" in run.stdout
    assert "FAILURE" not in run.stdout
    assert "correctness: all tools agree" in run.stdout
    assert "ratios peer/symcalc" in run.stdout
    for loss in matrix_suite.LOSSES:
        for quantity in matrix_suite.QUANTITIES:
            assert f"\nmatrix/{loss.name}/{quantity}" in run.stdout
    assert "generated gradient within 1.3x of hand-written NumPy" in run.stdout


def _numpy_loss(loss, M, v, u):
    z = M @ v
    if loss.name == "lstsq":
        return 0.5 * np.sum((z - u) ** 2)
    return np.sum(np.logaddexp(0, z)) - u @ z


@pytest.mark.parametrize("loss", matrix_suite.LOSSES, ids=lambda loss: loss.name)
def test_matrix_references_match_finite_differences_and_symcalc(loss):
    M, v, u = loss.data(30, 4, seed=0)
    h, unit = 1e-5, np.eye(4)
    gradient = matrix_suite.hand_written(loss, "grad")(M, v, u)
    differences = [(_numpy_loss(loss, M, v + h * e, u) - _numpy_loss(loss, M, v - h * e, u)) / (2 * h)
                   for e in unit]
    assert np.allclose(gradient, differences, rtol=1e-6, atol=1e-7)
    hessian = matrix_suite.hand_written(loss, "hessian")(M, v, u)
    columns = [(matrix_suite.hand_written(loss, "grad")(M, v + h * e, u)
                - matrix_suite.hand_written(loss, "grad")(M, v - h * e, u)) / (2 * h) for e in unit]
    assert np.allclose(hessian, np.array(columns).T, rtol=1e-6, atol=1e-7)
    f = sc.parse(loss.formula, shapes=loss.shapes)
    for derivative, expected in ((sc.grad, gradient), (sc.hessian, hessian)):
        generated = sc.lambdify(derivative(f, loss.wrt), list(loss.variables))
        assert matrix_suite._relative_error(generated(M, v, u), expected) <= matrix_suite.AGREEMENT


def test_matrix_check_reports_a_wrong_value_and_a_hang_is_cut_off():
    right = np.array([1.0, 2.0])
    results = {("lstsq", "grad"): {"symcalc": matrix_suite.Figures(values=right + 1e-6),
                                   "NumPy": matrix_suite.Figures(values=right),
                                   "JAX": matrix_suite.Figures(values=right)}}
    assert [m.split(":")[1].strip() for m in matrix_suite.failures(results)] == \
        ["symcalc differs from hand-written NumPy (relative error 5.00e-07)"]
    start = time.perf_counter()
    assert matrix_suite._in_child(time.sleep, (60,), limit=1.0) == matrix_suite.TIMEOUT
    assert time.perf_counter() - start < 30


def test_backends_table_has_every_backend_and_n_and_the_ratios():
    run = _run("--quick", "--cases", "product", "--points", "50,300", "--tools", "symcalc,SymPy,JAX")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "eval N=50" in run.stdout and "eval N=300" in run.stdout
    for tool in ("symcalc/numpy", "symcalc/numexpr", "symcalc/jax", "SymPy cse", "JAX jit"):
        assert tool in run.stdout
    assert "JAX jit/best fused" in run.stdout and "SymPy/numpy" in run.stdout
    assert "correctness: all tools agree" in run.stdout


def test_backend_cells_say_na_when_a_backend_is_missing_and_skip_beyond_memory():
    import backends
    from report import seconds

    assert backends._cell({"unavailable": "TypeError"}, 10, 60) == "n/a"
    assert backends._cell({"eval 10": "memory"}, 10, 60) == "skip (mem)"
    assert backends._cell({"eval 10": 0.5}, 10, 60) == seconds(0.5, 60)
    assert not backends.fits(suite.rosenbrock_case(), "hessian", 1_000_000)
    assert backends.fits(suite.rosenbrock_case(), "grad", 1_000_000)
    reference = {"check 5": [1.0, 2.0]}
    results = {("c", "f"): {"symcalc/numpy": reference, "JAX jit": {"check 5": [1.0, 2.1]}}}
    assert "JAX jit differs from symcalc/numpy at N = 5" in backends.failures(results)[0]


def test_highorder_run_gives_every_tool_and_order_and_taylor():
    run = _run("--quick", "--cases", "highorder", "--depth", "3", "--orders", "2",
               "--taylor-orders", "4,2", "--points", "100", "--backends", "none")
    assert run.returncode == 0, run.stdout + run.stderr
    for row in ("nested f", "nested d1", "nested d2", "taylor x^4", "taylor xyz^2"):
        assert f"highorder/{row} " in run.stdout
    import highorder

    for tool in highorder.NESTED_TOOLS + highorder.TAYLOR_TOOLS:
        assert (f" {tool} " in run.stdout) == highorder.installed(tool)
    assert "highorder ratios peer/symcalc" in run.stdout
    assert "correctness: all tools agree" in run.stdout


def test_highorder_stops_a_tool_after_its_timeout():
    import highorder

    settings = measure.Settings(repeat=1, limit=0.5, points=10, min_sample=0.0)
    results = highorder.measure(60, 2, 10, settings, taylor_orders=(), only={"SymPy"})
    sympy_rows = [results[row]["SymPy"] for row in ("nested d1", "nested d2")]
    assert "timeout" in sympy_rows[0] or "timeout" in sympy_rows[1]
    assert sympy_rows[1].get("skipped") or "timeout" in sympy_rows[1]
    assert ">0.5 s" in highorder.report(results, 10, 0.5)


def test_dask_run_reports_time_and_memory_or_eager():
    run = _run("--cases", "dask", "--dask-points", "20000", "--dask-chunk", "5000", "--limit", "30",
               "--repeat", "1")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "dask/grad" in run.stdout and "peak memory" in run.stdout
    assert "hand-written Dask" in run.stdout
    symcalc_line = next(line for line in run.stdout.splitlines() if line.startswith("dask/grad"))
    assert "n/a (eager)" in symcalc_line or "MiB" in symcalc_line
    assert "correctness: all tools agree" in run.stdout


def test_dask_hand_written_gradient_matches_finite_differences():
    import dask_case

    x = np.random.default_rng(0).uniform(-1, 1, 4)
    f = suite.rosenbrock_case(4).array_function(np)
    h, unit = 1e-6, np.eye(4)
    expected = [(f(x + h * e) - f(x - h * e)) / (2 * h) for e in unit]
    assert np.allclose(dask_case.hand_written_gradient(list(x)), expected, rtol=1e-6)


def test_a_backend_lambdify_offers_is_timed_and_one_it_refuses_is_na(monkeypatch):
    import backends

    plain = sc.lambdify

    def with_backends(exprs, variables, backend="numpy"):
        if backend not in ("numpy", "fake"):
            raise sc.SymcalcError(f"unknown backend {backend!r}")
        return plain(exprs, variables)
    monkeypatch.setattr(sc, "lambdify", with_backends)  # the children are forked: they see it
    settings = measure.Settings(repeat=1, limit=30.0, points=10, min_sample=0.0)
    results = backends.measure([suite.product_case(d=2)], ("numpy", "fake", "missing"), (10,),
                               settings, peers=())
    grad = results[("product", "grad")]
    assert isinstance(grad["symcalc/fake"]["eval 10"], float)
    assert grad["symcalc/fake"]["check 10"] == grad["symcalc/numpy"]["check 10"]
    assert "unknown backend" in grad["symcalc/missing"]["unavailable"]
    assert backends.failures(results) == []
    assert "n/a" in backends.report(results, (10,), 30.0)


def test_a_lazy_gradient_is_computed_chunk_by_chunk_and_its_memory_reported(monkeypatch):
    import dask_case

    hand_written = dask_case._gradient_function
    monkeypatch.setattr(dask_case, "_gradient_function",  # symcalc as it will be: lazy for Dask
                        lambda tool, d: hand_written("hand-written Dask", d))
    results = dask_case.measure(2, 20_000, 5_000, limit=60.0)
    assert "wall" in results["symcalc"], results  # a child that failed says why
    assert isinstance(results["symcalc"]["wall"], float) and results["symcalc"]["peak"] >= 0
    assert dask_case.failures(results) == []
    assert "MiB" in dask_case.report(results, 2, 20_000, 5_000, 60.0).splitlines()[3]


def test_numpy_and_sympy_are_timed_in_one_child_and_symcalc_alone_when_sympy_stalls(monkeypatch):
    import backends
    import tools

    settings = measure.Settings(repeat=2, limit=5.0, points=10, min_sample=0.0)
    case = suite.product_case(d=3)
    numpy, sympy = backends._numpy_and_sympy(case, "grad", (10, 20), settings)
    for N in (10, 20):
        assert isinstance(numpy[f"eval {N}"], float) and isinstance(sympy[f"eval {N}"], float)
        np.testing.assert_allclose(numpy[f"check {N}"], sympy[f"check {N}"], rtol=1e-12)

    def stalled(self, *args):
        time.sleep(60)
    monkeypatch.setattr(tools.Sympy, "compile", stalled)  # the children are forked: they see it
    settings = measure.Settings(repeat=1, limit=4.0, points=10, min_sample=0.0)
    numpy, sympy = backends._numpy_and_sympy(case, "grad", (10,), settings)
    assert sympy == {"timeout": backends.TIMEOUT}
    assert isinstance(numpy["eval 10"], float) and "timeout" not in numpy


def test_functions_timed_in_turn_keep_their_own_figures():
    settings = measure.Settings(repeat=3, limit=5.0, points=10, min_sample=0.01)
    fast, slow = measure.time_calls([lambda: None, lambda: time.sleep(0.002)], settings,
                                    lambda: None)
    assert fast < 0.0005 < 0.002 <= slow < 0.05


def test_the_evaluation_goal_reads_the_paired_timings():
    import backends

    results = {("a", "f"): {"symcalc/numpy": {"eval 10": 1.0, "eval 20": 2.0},
                            "SymPy cse": {"eval 10": 2.0, "eval 20": 1.0}},
               ("b", "grad"): {"symcalc/numpy": {"eval 10": 1.0},
                               "SymPy cse": {"eval 10": "constant"}}}
    (goal,) = backends.goals(results, (10, 20))
    assert not goal["met"] and goal["figures"] == {"a/f N=10": 2.0, "a/f N=20": 0.5}
    assert goal["summary"] == "a/f N=20 0.5x"
    results[("a", "f")]["SymPy cse"]["eval 20"] = 3.0
    assert backends.goals(results, (10, 20))[0]["met"]
    assert backends.goals({("a", "f"): {"symcalc/numpy": {"eval 10": 1.0}}}, (10,)) == []


def test_sparse_hessian_quick_run_agrees_with_jax_and_prints_the_doubling_ratios():
    run = subprocess.run([sys.executable, str(BENCHMARKS / "sparse_hessian.py"), "--quick"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    for case in ("rosenbrock", "rosenbrock-diag", "pde", "pde-jacobian"):
        assert re.search(rf"^{case} +400 ", run.stdout, re.MULTILINE)  # its row at d = 400
        assert re.search(rf"^{case} +200 -> 400 ", run.stdout, re.MULTILINE)  # its ratios
    assert "FAILURE" not in run.stdout


def test_tensor_hessian_quick_run_agrees_with_jax_and_prints_each_problem_and_goal():
    pytest.importorskip("jax")
    run = subprocess.run([sys.executable, str(BENCHMARKS / "tensor_hessian.py"), "--quick"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    for problem in ("quadratic", "logistic", "factorisation"):
        assert re.search(rf"^{problem} +\S+.* \d+\.\d+x$", run.stdout, re.MULTILINE), run.stdout
        assert re.search(rf"^goal {problem} at .*(met|MISSED)", run.stdout, re.MULTILINE)
    assert 'einsum("ij,kl->iljk", eye(m), V.T@V)' in run.stdout
    assert "FAILURE" not in run.stdout
