"""The command line.

Results are read back from the JSON output and checked independently: SymPy differentiates the
same formula (read by SymPy's own parser, not symcalc's), and central finite differences of the
SymPy function confirm the values.  Most runs call ``main(argv)`` in-process; every subcommand and
format also runs once as a real ``python -m symcalc`` subprocess.
"""

from __future__ import annotations

import io
import json
import re
import shlex
import subprocess
import sys

import numpy as np
import pytest
import sympy

import symcalc as sc
from oracle import check_derivative
from symcalc.cli.main import main

RNG = np.random.default_rng(7)


# --- running the command line ------------------------------------------------------------------
def run(*argv: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "symcalc", *argv], input=stdin,
                          capture_output=True, text=True, timeout=60)


def call(capsys, monkeypatch, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def cli(capsys, monkeypatch):
    return lambda *argv, stdin="": call(capsys, monkeypatch, *argv, stdin=stdin)


def json_of(cli, *argv: str) -> dict:
    status, out, err = cli(*argv, "--format", "json")
    assert status == 0, err
    return json.loads(out)


# --- the independent oracle ------------------------------------------------------------------------
def sympy_formula(text: str) -> sympy.Expr:
    """The formula read by SymPy's parser (real symbols), independently of symcalc."""
    names = {name: sympy.Symbol(name, real=True) for name in "abrtxyz"}
    names["theta"] = sympy.Symbol("theta", real=True)
    return sympy.sympify(text.replace("^", "**"), locals=names)


def symbol(name: str) -> sympy.Symbol:
    return sympy.Symbol(name, real=True)


def from_cli(text: str) -> sympy.Expr:
    """A formula string printed by the command line, as a SymPy expression."""
    return sc.to_sympy(sc.parse(text), real=True)


def assert_derivative(printed: str, formula: str, steps: list[str]) -> None:
    """``printed`` is d^k formula / d steps[-1] ... d steps[0], checked against SymPy symbolically
    and against central differences of SymPy's derivative one order lower."""
    f = sympy_formula(formula)
    lower = f
    for step in steps[:-1]:
        lower = sympy.diff(lower, symbol(step))
    expected = sympy.diff(lower, symbol(steps[-1]))
    got = from_cli(printed)
    assert sympy.simplify(got - expected) == 0, (printed, expected)
    variables = sorted(f.free_symbols | got.free_symbols, key=lambda s: s.name)
    lower_num = sympy.lambdify(variables, lower, "numpy")
    got_num = sympy.lambdify(variables, got, "numpy")
    k = variables.index(symbol(steps[-1]))
    for point in RNG.uniform(0.2, 1.5, size=(5, len(variables))):
        h = 1e-5
        up, down = point.copy(), point.copy()
        up[k] += h
        down[k] -= h
        central = (lower_num(*up) - lower_num(*down)) / (2 * h)
        value = got_num(*point)
        assert abs(central - value) <= 1e-5 * (1 + abs(value)), (printed, point)


# --- diff ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("formula, argv, steps", [
    ("sin(x)*exp(x)", ["x"], ["x"]),
    ("x^3*y", ["x", "y"], ["x", "y"]),
    ("x^5", ["x", "--order", "3"], ["x", "x", "x"]),
    ("x^2*y^3 + sin(x*y)", ["x", "y", "--order", "2"], ["x", "x", "y", "y"]),
    ("tanh(theta)", [], ["theta"]),
    ("-x^2*log(x)", ["x"], ["x"]),
])
def test_diff_agrees_with_sympy_and_finite_differences(cli, formula, argv, steps):
    data = json_of(cli, "diff", formula, *argv)
    assert data["command"] == "diff"
    assert sc.parse(data["input"]) == sc.parse(formula)
    assert_derivative(data["result"], formula, steps)
    assert sc.latex(sc.parse(data["result"])) == data["latex"]


@pytest.mark.parametrize("argv, names, api", [
    (["diff", "f(g(x))^2", "x", "--functions", "f,g"], ["f", "g"], lambda f: sc.diff(f, "x")),
    (["diff", "f(g(x))^2", "x", "--functions", "f", "--functions", "g"], ["f", "g"],
     lambda f: sc.diff(f, "x")),
    (["grad", "f(x*y) + h(y)", "x", "y", "--functions", "f h"], ["f", "h"],
     lambda f: sc.grad(f, ["x", "y"])),
    (["hessian", "f(x, y)", "x", "y", "--functions=f"], ["f"], lambda f: sc.hessian(f, ["x", "y"])),
    (["simplify", "f(x) - f(x) + g(x)", "--functions", "f,g"], ["f", "g"], sc.simplify),
])
def test_abstract_functions_are_named_with_functions(cli, argv, names, api):
    # the command line is a thin layer: its result is the API's, read back with the same names
    data = json_of(cli, *argv)
    expected = api(sc.parse(argv[1], functions=names))

    def read(result):
        if isinstance(result, list):
            return [read(r) for r in result]
        return sc.parse(result, functions=names)

    def plain(result):
        return [plain(r) for r in result] if isinstance(result, list) else result

    assert read(data["result"]) == plain(expected)


def test_the_command_line_names_its_own_option_for_abstract_functions(cli):
    status, _, err = cli("diff", "f(x)", "x")
    assert status == 2 and "give --functions f for an abstract function" in err
    assert "functions=[" not in err
    status, _, err = cli("diff", "A@t", "t")
    assert status == 2 and "--shape A=m,n" in err and "shapes=" not in err
    with pytest.raises(sc.ParseError, match=re.escape("functions=[...]")):  # the API's own words
        sc.parse("f(x)")


@pytest.mark.parametrize("argv, message", [
    (["diff", "f(x)", "x", "--functions", "sin"], "built-in function"),
    (["diff", "f(x)", "x", "--functions", "f_1"], "names a derivative"),
    (["grad", "norm(t)", "t", "--shape", "t=n", "--functions", "f"], "does not combine with --shape"),
])
def test_bad_functions_option_exits_2(cli, argv, message):
    status, out, err = cli(*argv)
    assert status == 2 and out == "" and message in err and err.count("error:") == 1


def test_an_implicit_product_after_a_power_is_a_product(cli):
    # x^2y is x^2*y, never x^(2*y); xy is one name, a constant for d/dy
    status, out, err = cli("diff", "x^2y + xy^2", "y")
    assert status == 0, err
    assert_derivative(out.strip(), "x^2*y + xy^2", ["y"])


@pytest.mark.parametrize("formula, variables", [
    ("x^3*y", ["x", "x"]),
    ("x^3*y", ["x", "y", "x"]),
    ("x^3*y^2 + sin(x*y)", ["y", "x", "y"]),
    ("exp(x)*log(y)", ["y", "y", "--order", "2"]),
])
def test_diff_by_a_variable_listed_again_differentiates_again(cli, formula, variables):
    data = json_of(cli, "diff", formula, *variables)
    names = [v for v in variables if not v.startswith("-") and not v.isdigit()]
    order = int(variables[-1]) if "--order" in variables else 1
    assert_derivative(data["result"], formula, [v for v in names for _ in range(order)])
    assert sc.parse(data["result"]) is sc.diff(formula, *[i for v in names for i in (v, order)])
    assert data["variables"] == names


def test_diff_latex_writes_a_repeated_variable_as_a_power(cli):
    status, out, _ = cli("diff", "x^3*y", "y", "x", "x", "--format", "latex")
    assert status == 0
    assert "\\partial^{3}}{\\partial x^{2} \\partial y}" in out


@pytest.mark.parametrize("argv", [
    ["diff", "x^2", "y"],
    ["diff", "x^2*z", "x", "y"],
    ["grad", "x*y", "x", "z"],
    ["hessian", "x*y", "x", "w"],
    ["jacobian", "x*y, x + y", "x", "z"],
    ["check", "x^2", "x", "y", "--points", "3"],
])
def test_a_variable_the_formula_does_not_have_is_a_note_not_an_error(cli, argv):
    status, out, err = cli(*argv, "--format", "json")
    assert status == 0, err
    absent = [v for v in argv[2:] if v not in argv[1] and not v[0] in "-0123456789"]
    assert err.splitlines() == [f"symcalc: note: {v} does not occur in the formula (its variables: "
                                f"{', '.join(sorted(set(argv[1]) & set('wxyz')))})" for v in absent]
    data = json.loads(out)
    result = data["result"] if "result" in data else None
    if argv[0] == "diff":  # the derivative by a variable that does not occur is 0, as in the API
        assert sc.parse(result) is sc.diff(argv[1], *argv[2:]) is sc.parse("0")
    elif argv[0] == "grad":
        assert sc.parse(result[1]) is sc.parse("0")
        assert_derivative(result[0], argv[1], ["x"])
    elif argv[0] in ("hessian", "jacobian"):
        assert all(sc.parse(row[1]) is sc.parse("0") for row in result)
    else:
        assert data["ok"]


def test_diff_text_is_the_formula_alone(cli):
    status, out, _ = cli("diff", "sin(x)*exp(x)", "x")
    assert status == 0
    assert_derivative(out.strip(), "sin(x)*exp(x)", ["x"])


def test_formula_from_standard_input(cli):
    status, out, err = cli("diff", "-", "x", stdin="  x^3 + x\n")
    assert status == 0, err
    assert_derivative(out.strip(), "x^3 + x", ["x"])


def test_several_lines_of_standard_input_are_several_formulas(cli):
    # never one formula joined across lines (that read x^2 y^2 as x^(2*y^2))
    status, out, err = cli("diff", "-", "x", stdin="x^2\ny^2")
    assert status == 0
    first, second = out.splitlines()
    assert_derivative(first, "x^2", ["x"])
    assert sc.parse(second) is sc.parse("0")
    assert err.splitlines() == ["symcalc: note: x does not occur in the formula (its variables: y)"]
    status, out, _ = cli("diff", "-", "x", "--format", "json", stdin="x^3*y\n\n  sin(x)\n")
    data = json.loads(out)
    assert status == 0 and [d["input"] for d in data] == ["x^3*y", "sin(x)"]
    for d, formula in zip(data, ["x^3*y", "sin(x)"]):
        assert_derivative(d["result"], formula, ["x"])


def test_several_lines_of_grad_are_separated_by_a_blank_line(cli):
    status, out, _ = cli("grad", "-", "x", "y", stdin="x*y\nx^2 + y\n")
    first, second = out.strip().split("\n\n")
    assert status == 0 and first.count("\n") == second.count("\n") == 1
    for block, formula in ((first, "x*y"), (second, "x^2 + y")):
        for line, var in zip(block.splitlines(), "xy"):
            label, _, result = line.partition("=")
            assert label.strip() == f"d/d{var}"
            assert_derivative(result.strip(), formula, [var])


def test_an_error_on_a_later_line_of_standard_input_names_that_line(cli):
    status, _, err = cli("diff", "-", "x", stdin="x^2\nsin(x) +\n")
    assert status == 2
    assert "(line 2, column 9)" in err and err.splitlines()[1:] == ["  sin(x) +", "          ^"]


def test_an_error_without_a_caret_names_its_line_of_standard_input(cli):
    status, _, err = cli("diff", "-", stdin="x^2\n3\n")
    assert status == 2
    assert err.strip() == ("symcalc: error: line 2 of standard input: the formula has no variables "
                           "to differentiate by")


def test_jacobian_and_codegen_read_one_function_a_line(cli):
    status, out, _ = cli("jacobian", "-", "r", "t", "--det", "--format", "json",
                         stdin="r*cos(t)\nr*sin(t)\n")
    data = json.loads(out)
    assert len(data["result"]) == 2
    for row, f in zip(data["result"], ["r*cos(t)", "r*sin(t)"]):
        for entry, var in zip(row, "rt"):
            assert_derivative(entry, f, [var])
    assert sc.parse(data["det"]) is sc.parse("r")
    status, out, _ = cli("codegen", "-", "x", "y", "--grad", "--format", "json", stdin="x^2\nx*y\n")
    data = json.loads(out)
    assert list(data["functions"]) == ["f_1", "grad_f_1", "f_2", "grad_f_2"]
    namespace: dict = {}
    exec(data["source"], namespace)
    assert namespace["f_1"](3.0, 2.0) == 9.0 and namespace["f_2"](3.0, 2.0) == 6.0
    assert list(namespace["grad_f_2"](3.0, 2.0)) == [2.0, 3.0]


def test_order_zero_is_the_formula_itself(cli):
    data = json_of(cli, "diff", "x^2 + 1", "x", "--order", "0")
    assert sc.parse(data["result"]) == sc.parse("x^2 + 1")


# --- grad, hessian, jacobian -------------------------------------------------------------------------
def test_grad_keeps_the_variable_order(cli):
    data = json_of(cli, "grad", "x^2*y + y^3", "y", "x")
    assert data["variables"] == ["y", "x"]
    for printed, var in zip(data["result"], ["y", "x"]):
        assert_derivative(printed, "x^2*y + y^3", [var])


def test_grad_text_labels_each_partial(cli):
    status, out, _ = cli("grad", "x^2*y + y^3", "x", "y")
    lines = out.splitlines()
    assert [line.split("=")[0].strip() for line in lines] == ["d/dx", "d/dy"]
    for line, var in zip(lines, "xy"):
        assert_derivative(line.split("=", 1)[1], "x^2*y + y^3", [var])


def test_hessian_matrix(cli):
    data = json_of(cli, "hessian", "x^2*y + y^3 + exp(x*y)", "x", "y")
    rows = data["result"]
    assert len(rows) == 2 and all(len(row) == 2 for row in rows)
    for i, a in enumerate("xy"):
        for j, b in enumerate("xy"):
            assert_derivative(rows[i][j], "x^2*y + y^3 + exp(x*y)", [a, b])


def test_hessian_text_rows_are_aligned(cli):
    _, out, _ = cli("hessian", "x^2*y + y^3", "x", "y")
    rows = out.splitlines()
    assert len(rows) == 2
    assert all(r.startswith("[ ") and r.endswith(" ]") for r in rows)
    assert len({len(r) for r in rows}) == 1


def test_jacobian_and_determinant(cli):
    data = json_of(cli, "jacobian", "r*cos(t), r*sin(t)", "r", "t", "--det")
    assert data["input"] == [str(sc.parse("r*cos(t)")), str(sc.parse("r*sin(t)"))]
    functions = ["r*cos(t)", "r*sin(t)"]
    for i, f in enumerate(functions):
        for j, var in enumerate("rt"):
            assert_derivative(data["result"][i][j], f, [var])
    matrix = sympy.Matrix([[sympy.diff(sympy_formula(f), symbol(v)) for v in "rt"] for f in functions])
    assert sympy.simplify(from_cli(data["det"]) - matrix.det()) == 0


@pytest.mark.parametrize("functions, variables", [
    (["r*cos(t)", "r*sin(t)"], "rt"),
    (["x^3 - y", "x*y^2"], "xy"),
])
def test_jacobian_absolute_determinant(cli, functions, variables):
    data = json_of(cli, "jacobian", ", ".join(functions), *variables, "--absolute")
    assert data["absolute"] is True
    matrix = sympy.Matrix([[sympy.diff(sympy_formula(f), symbol(v)) for v in variables]
                           for f in functions])
    expected = sympy.lambdify([symbol(v) for v in variables], sympy.Abs(matrix.det()))
    got = sympy.lambdify([symbol(v) for v in variables], from_cli(data["det"]))
    for point in RNG.uniform(-2, 2, size=(10, len(variables))):  # both signs
        assert abs(got(*point) - expected(*point)) <= 1e-12 * (1 + abs(expected(*point)))
    status, out, _ = cli("jacobian", ", ".join(functions), *variables, "--absolute")
    assert status == 0 and f"|det| = {data['det']}" in out


def test_jacobian_commas_inside_calls_do_not_split(cli):
    status, out, err = cli("jacobian", "-", "x", "y", "--format", "json", stdin="logsumexp(x, y),\n x*y")
    assert status == 0, err
    data = json.loads(out)
    for i, f in enumerate(["log(exp(x) + exp(y))", "x*y"]):
        for j, var in enumerate("xy"):
            assert_derivative(data["result"][i][j], f, [var])


# --- taylor and simplify -----------------------------------------------------------------------------
def test_taylor_exp(cli):
    data = json_of(cli, "taylor", "exp(x)", "--at", "x=0", "--order", "4")
    x = symbol("x")
    expected = sympy.series(sympy.exp(x), x, 0, 5).removeO()
    assert sympy.expand(from_cli(data["result"]) - expected) == 0
    assert data["at"] == {"x": "0"} and data["order"] == 4


def test_taylor_multivariate_point_and_parameters(cli):
    data = json_of(cli, "taylor", "exp(a*x)*sin(y)", "--at", "x=0, y=1", "--order", "2")
    a, x, y, s = symbol("a"), symbol("x"), symbol("y"), sympy.Symbol("s")
    f = sympy.exp(a * x) * sympy.sin(y)
    # the total-degree-2 polynomial: expand f(s*dx, 1 + s*dy) in s to order 2, then set s = 1
    along = f.subs({x: s * x, y: 1 + s * (y - 1)})
    expected = sympy.series(along, s, 0, 3).removeO().subs(s, 1)
    assert sympy.simplify(from_cli(data["result"]) - expected) == 0
    assert data["variables"] == ["x", "y"]


def test_taylor_at_a_variable_the_formula_does_not_have(cli):
    status, out, err = cli("taylor", "exp(x)", "--at", "y=0", "--format", "json")
    assert status == 0
    assert err == "symcalc: note: y does not occur in the formula (its variables: x)\n"
    assert sc.parse(json.loads(out)["result"]) is sc.parse("exp(x)")  # x is a parameter


def test_simplify(cli):
    data = json_of(cli, "simplify", "sin(x)^2 + cos(x)^2 + log(exp(y)) + 0*z")
    got = from_cli(data["result"])
    assert sympy.simplify(got - sympy_formula("1 + y")) == 0


def test_latex_pastes_as_display_math(cli):
    _, out, _ = cli("hessian", "x^2*y + y^3", "x", "y", "--format", "latex")
    assert out.startswith("\\[") and out.rstrip().endswith("\\]")
    assert "\\begin{pmatrix}" in out and "\\end{pmatrix}" in out
    assert out.count("\\left(") == out.count("\\right)")


# --- codegen -------------------------------------------------------------------------------------------
def compiled(source: str) -> dict:
    namespace: dict = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    return namespace


def test_codegen_value_gradient_and_hessian(cli):
    formula = "x^2*sin(y) + exp(x*y)"
    data = json_of(cli, "codegen", formula, "x", "y", "--grad", "--hessian", "--name", "loss")
    assert list(data["functions"]) == ["loss", "grad_loss", "hessian_loss"]
    functions = compiled(data["source"])
    f = sympy_formula(formula)
    x, y = symbol("x"), symbol("y")
    value = sympy.lambdify([x, y], f)
    gradient = sympy.lambdify([x, y], [sympy.diff(f, v) for v in (x, y)])
    hessian = sympy.lambdify([x, y], sympy.hessian(f, (x, y)).tolist())
    xs, ys = RNG.uniform(-1, 1, 6), RNG.uniform(-1, 1, 6)
    np.testing.assert_allclose(functions["loss"](xs, ys), value(xs, ys), rtol=1e-12)
    np.testing.assert_allclose(functions["grad_loss"](xs, ys), np.array(gradient(xs, ys)), rtol=1e-12)
    np.testing.assert_allclose(functions["hessian_loss"](xs, ys), np.array(hessian(xs, ys)), rtol=1e-12)
    h = 1e-6  # the generated gradient also matches central differences of the generated function
    central = (functions["loss"](xs + h, ys) - functions["loss"](xs - h, ys)) / (2 * h)
    np.testing.assert_allclose(functions["grad_loss"](xs, ys)[0], central, rtol=1e-6, atol=1e-8)


def test_codegen_text_is_runnable_and_stable(cli):
    status, out, _ = cli("codegen", "logsumexp(a, b)", "a", "b", "--grad")
    assert status == 0
    functions = compiled(out)
    assert functions["f"](1000.0, 1000.0) == pytest.approx(1000 + np.log(2))
    np.testing.assert_allclose(functions["grad_f"](1000.0, -1000.0), [1.0, 0.0], atol=1e-300)


def test_codegen_prints_the_function_alone_and_planned_prints_lambdify_s_source(cli):
    status, out, _ = cli("codegen", "x*y", "x", "y")
    assert status == 0
    assert out.rstrip("\n") == (
        "import numpy as np\n\n\n"
        "def f(x, y):\n"
        "    x = np.asarray(x, dtype=float)[()]  # a NumPy float, or an array of floats\n"
        "    y = np.asarray(y, dtype=float)[()]\n"
        "    return x * y")
    status, out, _ = cli("codegen", "x*y", "x", "y", "--planned")
    f = sc.lambdify("x*y", ["x", "y"])
    assert status == 0 and out.rstrip("\n") == f.source.rstrip("\n")
    assert compiled(out)["f"](np.arange(3.0), 2).tolist() == [0.0, 2.0, 4.0]


# --- check -----------------------------------------------------------------------------------------------
def test_check_agrees_and_its_table_matches_an_independent_computation(cli):
    formula = "sin(x)*exp(y) + x^3*y"
    status, out, err = cli("check", formula, "x", "y", "--points", "6", "--format", "json")
    assert status == 0, err
    data = json.loads(out)
    assert data["ok"] and data["sympy"]["agree"] and data["central_differences"]["agree"]
    for printed, var in zip(data["result"], "xy"):
        assert_derivative(printed, formula, [var])
    assert [row["h"] for row in data["steps"]] == [10.0 ** -k for k in range(1, 13)]
    x, y = symbol("x"), symbol("y")
    f = sympy_formula(formula)
    value = sympy.lambdify([x, y], f)
    exact = [sympy.lambdify([x, y], sympy.diff(f, v)) for v in (x, y)]
    points = np.array(data["points"])
    assert points.shape == (6, 2)
    for row in data["steps"][:4]:  # where truncation, not rounding, dominates
        h = row["h"]
        forward = central = 0.0
        for i in range(2):
            step = np.eye(2)[i] * h
            up, down = points + step, points - step
            slope = exact[i](*points.T)
            forward = max(forward, np.max(np.abs((value(*up.T) - value(*points.T)) / h - slope)))
            central = max(central, np.max(np.abs((value(*up.T) - value(*down.T)) / (2 * h) - slope)))
        assert row["forward"] == pytest.approx(forward, rel=1e-4)
        assert row["central"] == pytest.approx(central, rel=1e-4)
    errors = {row["h"]: row for row in data["steps"]}
    best = data["best_h"]
    assert errors[best["central"]]["central"] == min(r["central"] for r in data["steps"])
    assert errors[best["forward"]]["forward"] == min(r["forward"] for r in data["steps"])
    assert 1e-7 <= best["central"] <= 1e-3 and 1e-10 <= best["forward"] <= 1e-6


@pytest.mark.parametrize("formula, variables", [
    ("sigmoid(w*x + b)", ["w"]),  # b and x are parameters, as diff takes them
    ("x^2", ["y"]),  # y does not occur: its derivative 0 is checked, x is a parameter
    ("exp(a*t)*sin(t) + a^2", ["t"]),
])
def test_check_holds_the_other_symbols_as_random_parameters(cli, formula, variables):
    status, out, err = cli("check", formula, *variables, "--points", "5", "--format", "json")
    assert status == 0, err
    data = json.loads(out)
    parameters = sorted(s.name for s in sc.parse(formula).free_symbols if s.name not in variables)
    assert data["ok"] and data["parameters"] == parameters
    assert data["sympy"]["compared"] == 5 * len(variables)
    for printed, var in zip(data["result"], variables):
        check_derivative(formula, (var,), sc.parse(printed))
    # the points give every symbol a value, the parameters different ones at different points
    points = np.array(data["points"])
    assert points.shape == (5, len(variables) + len(parameters))
    assert all(len(set(points[:, k])) == 5 for k in range(points.shape[1]))
    status, out, _ = cli("check", formula, *variables, "--points", "3")
    assert status == 0 and "random at each point, held fixed" in out.splitlines()[0]


def test_check_with_parameters_still_catches_a_wrong_gradient(cli, monkeypatch):
    import symcalc.checks.verify as verify

    wrong = sc.parse("b")  # the derivative by w with one of the parameters in the wrong place
    monkeypatch.setattr(verify, "grad", lambda f, xs: [g + wrong * 0.001 for g in sc.grad(f, xs)])
    status, out, _ = cli("check", "sigmoid(w*x + b)", "w")
    assert status == 1 and "DISAGREE" in out


def test_check_text_marks_the_best_step(cli):
    status, out, _ = cli("check", "sin(x)*exp(x)", "x")
    assert status == 0
    table = [line for line in out.splitlines() if line.strip()[:2] == "1e"]
    assert len(table) == 12
    assert sum(line.count("*") for line in table) == 2
    assert "all checks agree" in out


def test_check_reports_a_wrong_gradient_with_exit_1(cli, monkeypatch):
    import symcalc.checks.verify as verify

    off_by_a_little = sc.parse("1001/1000")
    monkeypatch.setattr(verify, "grad", lambda f, xs: sc.grad(f * off_by_a_little, xs))
    status, out, _ = cli("check", "sin(x)*exp(x)", "x")
    assert status == 1
    assert "DISAGREE" in out and "CHECK FAILED" in out


def test_check_without_usable_points_fails_with_valid_json(cli):
    status, out, _ = cli("check", "log(-1 - x^2)", "x", "--format", "json")
    assert status == 1
    data = json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))
    assert data["ok"] is False and data["points"] == [] and data["best_h"] is None


def test_check_latex_table(cli):
    status, out, _ = cli("check", "x^3", "x", "--points", "3", "--format", "latex")
    assert status == 0
    assert "\\begin{tabular}" in out and out.count("\\mathbf{") == 2


# --- bad input ---------------------------------------------------------------------------------
BAD_INPUTS = [
    (["diff", "sin x", "x"], "sin(x)"),
    (["diff", "sinn(x)", "x"], "did you mean sin"),
    (["diff", "x +", "x"], "^"),
    (["diff", "x*y"], "name the variable"),
    (["diff", "x^2", "x", "--order", "-1"], "must be >= 0"),
    (["diff", "x^2", "x", "--order", "two"], "whole number"),
    (["grad", "x*y", "2x"], "not a variable name"),
    (["grad", "x*y", "x", "x"], "twice"),
    (["hessian", "x*y", "pi"], "constant"),
    (["taylor", "exp(x)", "--at", "x"], "VARIABLE=VALUE"),
    (["taylor", "exp(x)", "--at", "x=0", "--at", "x=1"], "twice"),
    (["taylor", "log(x)", "--at", "x=0"], "undefined"),
    (["jacobian", "x, , y", "x", "y"], "empty"),
    (["diff", "-", "x"], "standard input"),
    (["diff", "x", "x", "--format", "xml"], "invalid choice"),
    (["frobnicate", "x"], "invalid choice"),
    (["codegen", "x*y", "x"], "also depends on y"),
    (["codegen", "x*y", "x", "y", "--name", "2f"], "not a valid function name"),
    (["check", "x^2", "x", "--points", "0"], "at least 1"),
]


@pytest.mark.parametrize("argv, message", BAD_INPUTS)
def test_bad_input_exits_2_with_a_clear_message(cli, argv, message):
    status, out, err = cli(*argv)
    assert status == 2
    assert out == ""
    assert message in err
    assert "Traceback" not in err
    assert err.count("error:") == 1


@pytest.mark.parametrize("argv, message", [(a, m) for a, m in BAD_INPUTS if "--format" not in a])
def test_bad_input_with_format_json_is_a_json_error(cli, argv, message):
    status, out, err = cli(*argv, "--format", "json")
    assert status == 2
    assert err == ""
    error = json.loads(out)
    assert message in error["error"] or message == "^"
    if argv[0] != "frobnicate":
        assert set(error) in ({"error"}, {"error", "line", "column", "expected"})


def test_a_json_parse_error_gives_the_line_and_column(cli):
    status, out, _ = cli("diff", "-", "x", "--format=json", stdin="x^2\n  * 3")
    assert status == 2
    error = json.loads(out)
    assert (error["line"], error["column"]) == (2, 3)
    assert error["error"] and "\n" not in error["error"]
    status, out, _ = cli("diff", "x", "x", "--form", "json", "--order", "two")  # an abbreviation
    assert status == 2 and "whole number" in json.loads(out)["error"]


def test_an_internal_failure_in_json_keeps_exit_3(cli, monkeypatch):
    import symcalc.cli.main as cli_module

    def broken(args):
        raise RuntimeError("something inside went wrong")

    monkeypatch.setitem(cli_module.COMMANDS, "simplify", broken)
    status, out, err = cli("simplify", "x", "--format", "json")
    assert (status, err) == (3, "")
    assert json.loads(out) == {"error": "internal error: RuntimeError: something inside went wrong"}


def test_an_internal_failure_is_one_line_and_exit_3(cli, monkeypatch):
    import symcalc.cli.main as cli_module

    def broken(args):
        raise RuntimeError("something inside went wrong")

    monkeypatch.setitem(cli_module.COMMANDS, "simplify", broken)
    status, out, err = cli("simplify", "x")
    assert status == 3
    assert err.strip() == "symcalc: internal error: RuntimeError: something inside went wrong"


def test_parse_error_shows_a_caret_under_the_fault(cli):
    _, _, err = cli("diff", "x + * 2", "x")
    lines = err.splitlines()
    assert lines[0].startswith("symcalc: error:")
    assert lines[-2].strip() == "x + * 2"
    assert lines[-1].index("^") == lines[-2].index("*")


# --- help -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv", [[], ["diff"], ["grad"], ["jacobian"], ["hessian"], ["taylor"],
                                  ["simplify"], ["codegen"], ["check"]])
def test_help_shows_a_real_example(cli, argv):
    status, out, _ = cli(*argv, "--help")
    assert status == 0
    example = next(line.strip() for line in out.splitlines() if line.strip().startswith("symcalc "))
    words = shlex.split(example.split("  (")[0])[1:]
    status, _, err = cli(*words)
    assert status == 0, (example, err)


# --- real subprocesses: every subcommand and format ---------------------------------------------
SUBPROCESS_RUNS = {
    "diff": ["diff", "sin(x)*exp(x)", "x"],
    "grad": ["grad", "x^2*y + y^3", "x", "y"],
    "jacobian": ["jacobian", "r*cos(t), r*sin(t)", "r", "t", "--det"],
    "hessian": ["hessian", "x^2*y + y^3", "x", "y"],
    "taylor": ["taylor", "exp(x)", "--at", "x=0", "--order", "4"],
    "simplify": ["simplify", "x*x + 0"],
    "codegen": ["codegen", "x*sin(x)", "x", "--grad"],
    "check": ["check", "x*sin(x)", "x", "--points", "3"],
}


@pytest.mark.parametrize("command", sorted(SUBPROCESS_RUNS))
def test_subprocess_every_format(command):
    argv = SUBPROCESS_RUNS[command]
    outputs = {}
    for fmt in ("text", "latex", "json"):
        done = run(*argv, "--format", fmt)
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        outputs[fmt] = done.stdout
    data = json.loads(outputs["json"])
    assert data["command"] == command
    if command == "codegen":
        assert data["source"].rstrip() == outputs["text"].rstrip()
        assert "\\begin{verbatim}" in outputs["latex"]
        return
    result = data["result"]
    first = result if isinstance(result, str) else result[0] if isinstance(result[0], str) else result[0][0]
    assert sc.to_sympy(sc.parse(first)) is not None
    assert first in outputs["text"]
    assert sc.latex(sc.parse(first)) in outputs["latex"]
    assert outputs["latex"].startswith("\\[")
    if command == "check":
        assert data["ok"]
        assert_derivative(first, "x*sin(x)", ["x"])


def test_subprocess_readme_command_and_stdin():
    done = run("diff", "sin(x)*exp(x)", "x")
    assert done.returncode == 0
    assert_derivative(done.stdout.strip(), "sin(x)*exp(x)", ["x"])
    piped = run("diff", "-", "x", stdin=done.stdout)
    assert_derivative(piped.stdout.strip(), "cos(x)*exp(x) + sin(x)*exp(x)", ["x"])


def test_subprocess_bad_input_has_no_traceback():
    done = run("diff", "sin x", "x")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "Traceback" not in done.stderr and "sin(x)" in done.stderr


def test_a_library_error_exits_2_and_any_other_exception_exits_3(cli, monkeypatch):
    import symcalc.cli.main as cli_module

    def undefined(e):
        raise sc.DomainError("log(0) is undefined")

    monkeypatch.setattr(cli_module.calculus, "simplify", undefined)
    status, out, err = cli("simplify", "x")
    assert (status, out) == (2, "")
    assert err.strip() == "symcalc: error: log(0) is undefined"

    def bug(e):
        raise ValueError("a bare ValueError is a fault of symcalc\nsecond line")

    monkeypatch.setattr(cli_module.calculus, "simplify", bug)
    status, out, err = cli("simplify", "x")
    assert (status, out) == (3, "")
    assert err.strip() == ("symcalc: internal error: ValueError: a bare ValueError is a fault of "
                           "symcalc second line")
    assert "Traceback" not in err


def test_every_subcommand_is_one_row_of_the_table():
    import symcalc.cli.main as cli_module

    assert [c.name for c in cli_module.SUBCOMMANDS] == list(cli_module.COMMANDS)
    choices = cli_module.build_parser()._subparsers._group_actions[0].choices
    assert sorted(choices) == sorted(cli_module.COMMANDS)
