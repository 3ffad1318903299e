"""The command line, run as a real subprocess and in-process."""

import subprocess
import sys

import sympy

import symcalc as sc


def run(*argv):
    return subprocess.run([sys.executable, "-m", "symcalc", *argv], capture_output=True, text=True)


def test_diff_subprocess_matches_sympy():
    done = run("diff", "sin(x)*exp(x)", "x")
    assert done.returncode == 0, done.stderr
    x = sympy.Symbol("x")
    got = sc.to_sympy(sc.parse(done.stdout.strip())) if hasattr(sc, "to_sympy") else sympy.sympify(
        done.stdout.strip().replace("^", "**"))
    assert sympy.simplify(got - sympy.diff(sympy.sin(x) * sympy.exp(x), x)) == 0


def test_syntax_error_exits_2():
    done = run("diff", "sin x", "x")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
