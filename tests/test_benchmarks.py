"""The benchmark script: its cases, its size rule, its time limit, and a full smoke run."""

from __future__ import annotations

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


def test_quick_run_prints_every_case_and_no_failure():
    run = subprocess.run([sys.executable, str(BENCHMARKS / "run.py"), "--quick"],
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
