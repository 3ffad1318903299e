"""The command line with --shape: gradients, Hessians and Jacobians in matrix form."""

import json

import pytest

from symcalc.cli import main

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


@pytest.mark.parametrize("argv, message", [
    (["grad", "norm(A@b)", "b", "--shape", "A=m,n", "--shape", "b=m"], "cannot multiply A"),
    (["hessian", "norm(A@t)", "A", "--shape", "A=m,n", "--shape", "t=n"], "no matrix form"),
    (["grad", "norm(t)", "t", "--shape", "t"], "write NAME=SIZES"),
    (["grad", "norm(t)", "t", "--shape", "t=n,n,n"], "at most 2 sizes"),
])
def test_bad_input_is_one_clear_error_and_status_2(capsys, argv, message):
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == "" and message in err and "Traceback" not in err


def test_matrix_benchmark_smoke_run():
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "benchmarks" / "matrix.py"
    result = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "gradient: A.T@(A@t - b)" in result.stdout and "FAILURE" not in result.stdout
    assert "logsumexp Hessian: X.T@(diag(softmax(X@w))" in result.stdout
