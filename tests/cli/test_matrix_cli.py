"""The command line with --shape: gradients, Hessians and Jacobians in matrix form."""

import io
import json

import pytest

from symcalc.cli.main import main

LSQ = ["--shape", "A=m,n", "--shape", "t=n", "--shape", "b=m"]


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out.strip(), err.strip()


@pytest.mark.parametrize("command, expected", [("grad", "A.T@(A@t - b)"), ("hessian", "A.T@A")])
def test_least_squares(capsys, command, expected):
    assert run(capsys, command, "0.5*norm(A@t - b)^2", "t", *LSQ) == (0, expected, "")


def test_jacobian_and_json(capsys):
    status, out, _ = run(capsys, "jacobian", "sigmoid(W@x + c)", "x", "--shape", "W=m,n",
                         "--shape", "x=n", "--shape", "c=m", "--format", "json")
    data = json.loads(out)
    assert status == 0 and data["result"] == ["diag(sigmoid(W@x + c)*(1 - sigmoid(W@x + c)))@W"]
    assert data["result_shapes"] == [["m", "n"]]


def test_several_variables_and_latex(capsys):
    status, out, _ = run(capsys, "grad", "0.5*norm(A@t - b)^2", "t", "A", *LSQ)
    assert status == 0 and out.splitlines() == ["d/dt = A.T@(A@t - b)", "d/dA = outer(A@t - b, t)"]
    status, out, _ = run(capsys, "grad", "0.5*norm(A@t - b)^2", "t", *LSQ, "--format", "latex")
    assert status == 0 and r"A^{\top} \left(A t - b\right)" in out


def test_a_hessian_in_a_matrix_is_an_index_expression_that_parses_back(capsys):
    from symcalc.matrix.parsing import parse_shaped
    status, out, _ = run(capsys, "hessian", "0.5*norm(A@t - b)^2", "A", *LSQ)
    assert status == 0 and out.startswith("einsum(")
    shapes = {"A": ("m", "n"), "t": ("n",), "b": ("m",)}
    assert str(parse_shaped(out, shapes)) == out


@pytest.mark.parametrize("argv, message", [
    (["grad", "norm(A@b)", "b", "--shape", "A=m,n", "--shape", "b=m"], "cannot multiply A"),
    (["grad", "norm(t)", "t", "--shape", "t"], "write NAME=SIZES"),
    (["grad", "norm(t)", "t", "--shape", "t=n,n,n"], "at most 2 sizes"),
])
def test_bad_input_is_one_clear_error_and_status_2(capsys, argv, message):
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == "" and message in err and "Traceback" not in err


def test_a_shape_error_in_json_has_its_line_and_column_as_a_parse_error_has(capsys):
    status, out, _ = run(capsys, "grad", "norm(A@b)", "b", "--shape", "A=m,n", "--shape", "b=m",
                         "--format", "json")
    error = json.loads(out)
    assert status == 2 and error == {
        "error": "cannot multiply A (an m x n matrix) by b (a vector of size m): n != m",
        "line": 1, "column": 7, "expected": []}


def test_several_lines_of_standard_input_are_several_shaped_formulas(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("0.5*norm(A@t - b)^2\nsum(A@t)\n"))
    status, out, _ = run(capsys, "grad", "-", "t", *LSQ)
    assert status == 0 and out.splitlines() == ["A.T@(A@t - b)", "A.T@ones(m)"]
    monkeypatch.setattr("sys.stdin", io.StringIO("norm(t)\nsum(A@t) + t@b\n"))
    status, out, _ = run(capsys, "grad", "-", "t", *LSQ, "--format", "json")
    error = json.loads(out)
    assert status == 2 and (error["line"], error["column"]) == (2, 13)


def test_matrix_benchmark_smoke_run():
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "matrix.py"
    result = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "gradient: A.T@(A@t - b)" in result.stdout and "FAILURE" not in result.stdout
    assert "logsumexp Hessian: X.T@(diag(softmax(X@w))" in result.stdout


def test_diff_by_a_scalar_parameter(capsys):
    shapes = ["--shape", "t=n", "--shape", "A=n,n"]
    assert run(capsys, "diff", "exp(s*t)@A@t", "s", *shapes) == (0, "(t*exp(s*t))@A@t", "")
    status, out, _ = run(capsys, "diff", "exp(s*t)@A@t", "s", "--order", "2", *shapes,
                         "--format", "latex")
    assert status == 0 and r"\left(e^{s t}\right)^{\top} A t" in out  # no e^{st}^{\top}
    status, _, err = run(capsys, "diff", "t@t", "t", "--shape", "t=n")
    assert status == 2 and "use grad or jacobian" in err


def test_codegen_with_shapes_writes_one_module(capsys, tmp_path):
    import numpy as np
    status, out, _ = run(capsys, "codegen", "sum(exp(A@t))", "A", "t", "--grad",
                         "--shape", "A=m,n", "--shape", "t=n")
    assert status == 0 and out.count("def bind(") == 1 and "def grad_f(A, t):" in out
    namespace: dict = {}
    exec(compile(out, "<generated>", "exec"), namespace)  # the printed module runs as it is
    A, t = np.arange(6.0).reshape(2, 3) / 10, np.array([0.5, -1.0, 2.0])
    dA, dt = namespace["grad_f"](A, t)
    e = np.exp(A @ t)
    np.testing.assert_allclose(dt, A.T @ e)
    np.testing.assert_allclose(dA, np.outer(e, t))
    assert namespace["f"](A, t) == pytest.approx(e.sum())


def test_check_with_shapes_compares_entry_by_entry(capsys):
    status, out, _ = run(capsys, "check", "sum(log(1 + exp(-y*(X@w))))", "w", "--shape", "X=m,n",
                         "--shape", "w=n", "--shape", "y=m", "--format", "json")
    data = json.loads(out)
    assert status == 0 and data["ok"] and data["sizes"] == {"m": 3, "n": 2}
    assert data["result"] == ["-X.T@(y*sigmoid(-(X@w)*y))"]
    assert data["sympy"]["agree"] and data["central_differences"]["agree"]
    assert len(data["variables"]) == 1 and data["sympy"]["compared"] == 2 * 10
