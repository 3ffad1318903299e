"""Generated source runs where symcalc is not installed: it needs only NumPy.

``codegen`` writes the helpers of ``symcalc.compiler.runtime`` that a function calls above the
function, copied from that module's source.  Here the source of formulas that call every helper, as
``codegen`` prints it by default and with ``planned=True``, is written to a file and run by an
isolated interpreter (``python -I -S``, NumPy's directory alone on the path) in which
``import symcalc`` fails; its values must equal ``lambdify``'s, and at +-1000 the stable forms
must give the values mpmath computes at 40 digits.  The default source of random formulas, their
gradients and Hessians must give ``lambdify``'s values exactly, and the true values.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from unittest import mock

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symcalc as sc
import oracle
from oracle import value as oracle_value
from strategies import VARIABLES, formulas, points
from symcalc.compiler import runtime
from symcalc.compiler.compile import codegen_module, helper_source
from symcalc.core.expr import Call, postorder
from symcalc.functions.elementary import REGISTRY

HELPER_CALL = re.compile(r"_rt\.(\w+)")


def registry_calls() -> list[str]:
    """One call of every registry function whose NumPy form calls a runtime helper."""
    calls = []
    for fn in REGISTRY.values():
        arity = 2 if fn.max_args is None or fn.max_args > 1 else 1
        arity = max(arity, fn.min_args)
        if HELPER_CALL.search(fn.numpy(["x"] * arity)):
            args = ", ".join(["x", "y", "x*y"][:arity] if arity <= 3 else ["x"] * arity)
            calls.append(f"{fn.name}({args})")
    return calls


CALLS = registry_calls()
FUNCTIONS = {
    "every_helper": " + ".join(CALLS),
    "gradient": sc.grad(" * ".join(CALLS), ["x", "y"]),
    "hessian": sc.hessian("logsumexp(x, y, 2*x) + sigmoid(x*y)", ["x", "y"]),
    "constant": "3/4",                        # broadcast to the arguments' shape
    "softplus_pattern": "log(1 + exp(x)) + y",  # rewritten into softplus
    "sigmoid_pattern": "1/(1 + exp(-x)) + 0*y",
    "lse_pattern": "log(exp(x) + exp(y))",
}
POINTS = [(0.3, -1.2), (1000.0, 1000.0), (-1000.0, -1000.0), (-500.0, 2.0), (1000.0, -1000.0)]

RUNNER = textwrap.dedent("""
    import importlib.util, json, runpy, sys
    sys.path.append({numpy_parent!r})
    if importlib.util.find_spec("symcalc") is not None:  # installed beside NumPy: refuse it
        class Refuse:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "symcalc":
                    raise ImportError("symcalc is hidden from this test")
        sys.meta_path.insert(0, Refuse())
    try:
        import symcalc
    except ImportError:
        pass
    else:
        sys.exit("symcalc could be imported")
    import numpy as np
    module = runpy.run_path({generated!r})
    points = json.loads(sys.argv[1])
    out = {{}}
    for name in {names!r}:
        f = module[name]
        singles = [np.asarray(f(x, y)).tolist() for x, y in points]
        xs, ys = np.array([p[0] for p in points]), np.array([p[1] for p in points])
        out[name] = {{"single": singles, "array": np.asarray(f(xs, ys)).tolist()}}
    out["modules"] = sorted(m for m in sys.modules if m.startswith("symcalc"))
    print(json.dumps(out))
""")


@pytest.fixture(scope="module", params=[False, True], ids=["default", "planned"])
def standalone(tmp_path_factory, request):
    """The values the standalone file gives, computed by an isolated interpreter."""
    folder = tmp_path_factory.mktemp("standalone")
    generated = folder / "generated.py"
    generated.write_text(codegen_module(FUNCTIONS, ["x", "y"], planned=request.param))
    runner = folder / "runner.py"
    numpy_parent = os.path.dirname(os.path.dirname(np.__file__))
    runner.write_text(RUNNER.format(numpy_parent=numpy_parent, generated=str(generated),
                                    names=list(FUNCTIONS)))
    done = subprocess.run([sys.executable, "-I", "-S", str(runner), json.dumps(POINTS)],
                          capture_output=True, text=True, timeout=120, cwd=folder)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("planned", [False, True])
def test_every_helper_is_called_by_the_formulas(planned):
    source = codegen_module(FUNCTIONS, ["x", "y"], planned=planned)
    called = {m for c in CALLS
              for m in HELPER_CALL.findall(REGISTRY[c.split("(")[0]].numpy(["x", "y"]))}
    machinery = {"evaluate", "filled", "prepare", "in_blocks"}
    for name in called | (machinery if planned else set()):
        assert f"def {name}(" in source, name
    for name in set() if planned else machinery:
        assert f"def {name}(" not in source, name
    assert not re.search(r"^\s*(import|from)\s+symcalc", source, re.MULTILINE)
    assert "_rt." not in source


def test_the_file_runs_without_symcalc(standalone):
    assert standalone["modules"] == []


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_standalone_values_equal_lambdify(standalone, name):
    f = sc.lambdify(FUNCTIONS[name], ["x", "y"])
    with np.errstate(all="ignore"):
        for point, got in zip(POINTS, standalone[name]["single"]):
            np.testing.assert_allclose(got, f(*point), rtol=1e-15, atol=0, err_msg=str(point))
        xs, ys = np.array(POINTS).T
        np.testing.assert_allclose(standalone[name]["array"], f(xs, ys), rtol=1e-15, atol=0)


MEANINGS = {
    "sigmoid_pattern": lambda x, y: 1 / (1 + mpmath.exp(-x)),
    "softplus_pattern": lambda x, y: mpmath.log(1 + mpmath.exp(x)) + y,
    "lse_pattern": lambda x, y: mpmath.log(mpmath.exp(x) + mpmath.exp(y)),
}


@pytest.mark.parametrize("name", list(MEANINGS))
def test_stable_forms_are_accurate_at_large_arguments_in_the_standalone_file(standalone, name):
    with mpmath.workdps(40):
        for k, point in enumerate(POINTS):
            want = float(MEANINGS[name](*map(mpmath.mpf, point)))
            for got in (standalone[name]["single"][k], standalone[name]["array"][k]):
                assert got == pytest.approx(want, rel=1e-14, abs=1e-300), (point, got, want)


def test_sigmoid_softplus_logsumexp_and_their_gradients_at_1000():
    source = codegen_module({
        "s": ["sigmoid(x)", "softplus(x)", "logsumexp(x, -x, 2*x)"],
        "g": [sc.diff("softplus(x)", "x"), sc.diff("logsumexp(x, -x)", "x")],
    }, ["x"])
    namespace: dict = {}
    exec(compile(source, "<standalone>", "exec"), namespace)
    with mpmath.workdps(40):
        for x in (1000.0, -1000.0, 745.5, -745.5):
            X = mpmath.mpf(x)
            want = [1 / (1 + mpmath.exp(-X)), mpmath.log(1 + mpmath.exp(X)),
                    mpmath.log(mpmath.exp(X) + mpmath.exp(-X) + mpmath.exp(2 * X)),
                    1 / (1 + mpmath.exp(-X)), mpmath.tanh(X)]
            got = list(namespace["s"](x)) + list(namespace["g"](x))
            assert np.all(np.isfinite(got))
            for g, w in zip(got, want):
                assert g == pytest.approx(float(w), rel=1e-14, abs=1e-300), (x, g, w)


@pytest.mark.parametrize("plain", [False, True])
def test_every_runtime_helper_compiles_alone(plain):
    for name, value in vars(runtime).items():
        if callable(value) and not name.startswith("_") and getattr(value, "__module__", "") == runtime.__name__:
            namespace: dict = {}
            exec(compile(helper_source((name,), plain), f"<{name}>", "exec"), namespace)
            assert callable(namespace[name])


def test_a_function_name_that_is_a_helper_is_refused():
    for name in ("evaluate", "sigmoid", "np", "math"):
        with pytest.raises(sc.SymcalcError, match="helper"):
            sc.codegen("x", ["x"], name=name)


def test_a_variable_named_like_a_helper_is_renamed():
    f = sc.lambdify("sigmoid(x) + evaluate*filled", [sc.Symbol("x"), sc.Symbol("evaluate"),
                                                   sc.Symbol("filled")])
    assert "def f(x, evaluate_, filled_):" in f.source
    assert f(0.0, 2.0, 3.0) == 6.5


def test_without_the_runtime_source_the_helpers_are_imported(monkeypatch):
    from symcalc.compiler import helper_source as compile_module

    def unavailable(_):
        raise OSError("no source")

    helper_source.cache_clear()
    compile_module._runtime_statements.cache_clear()
    monkeypatch.setattr(compile_module.inspect, "getsource", unavailable)
    try:
        f = sc.lambdify("sigmoid(x)*y", ["x", "y"])
        assert "from symcalc.compiler.runtime import FLOAT_FAULTS, evaluate, sigmoid" in f.source
        namespace: dict = {}
        exec(compile(f.source, "<fallback>", "exec"), namespace)
        assert namespace["f"](0.0, 3.0) == f(0.0, 3.0) == 1.5
    finally:
        helper_source.cache_clear()
        compile_module._runtime_statements.cache_clear()


@pytest.mark.parametrize("planned", [False, True])
def test_the_command_line_writes_one_standalone_module(capsys, planned):
    from symcalc.cli.main import main

    assert main(["codegen", "logsumexp(a, b)*sigmoid(a)", "a", "b", "--grad", "--hessian"]
                + ["--planned"] * planned) == 0
    source = capsys.readouterr().out
    assert source.count("def logsumexp(") == source.count("def sigmoid(") == 1
    assert source.count("from __future__") == source.count("def evaluate(") == planned
    assert not re.search(r"^\s*(import|from)\s+symcalc", source, re.MULTILINE)
    namespace: dict = {}
    exec(compile(source, "<cli>", "exec"), namespace)
    for name, outputs in [("f", "logsumexp(a, b)*sigmoid(a)"),
                          ("grad_f", sc.grad("logsumexp(a, b)*sigmoid(a)", ["a", "b"])),
                          ("hessian_f", sc.hessian("logsumexp(a, b)*sigmoid(a)", ["a", "b"]))]:
        np.testing.assert_allclose(namespace[name](0.3, -700.0),
                                   sc.lambdify(outputs, ["a", "b"])(0.3, -700.0), rtol=1e-15)


# --- the default source on random formulas -----------------------------------------------------
# Forms that the stable helpers (or their patterns) compute; {0} and {1} are random formulas,
# scaled by 300 so that exp of them overflows where the form is not computed stably.
STABLE_FORMS = ("sigmoid({0})", "softplus({0})", "log(1 + exp({0}))", "1/(1 + exp(-({0})))",
                "log1p(exp({0}))", "logsumexp({0}, {1})", "log(exp({0}) + exp({1}))",
                "logsumexp({0}, {1}, -({0}))")
KINKS = ("abs", "relu", "sign", "heaviside", "max", "min")


@st.composite
def random_outputs(draw):
    """A random formula (half of the time one of the stable forms of random formulas), and the
    outputs built from it: itself, its gradient or its Hessian."""
    depth = draw(st.sampled_from([1, 2, 3]))
    f = draw(formulas(depth))
    scale = ""
    if draw(st.booleans()):
        g = draw(formulas(2))
        scale = draw(st.sampled_from(["", "300*"]))
        form = draw(st.sampled_from(STABLE_FORMS))
        text = form.format(f"{scale}({f.text})", f"{scale}({g.text})")
        expr = sc.parse(text)
    else:
        expr = f.expr
    kinds = ["value", "gradient", "hessian"] if depth < 3 else ["value", "gradient"]
    kind = draw(st.sampled_from(kinds))
    if kind == "value":
        return expr
    return sc.grad(expr, VARIABLES) if kind == "gradient" else sc.hessian(expr, VARIABLES)


def standalone_function(outputs) -> tuple[str, object]:
    """The default source of ``outputs`` and its function, run in a namespace of its own."""
    source = sc.codegen(outputs, list(VARIABLES))
    imported = re.findall(r"^\s*(?:import|from)\s+(\S+)", source, re.MULTILINE)
    # (erf imports SciPy's when SciPy is present)
    assert set(imported) <= {"numpy", "math", "functools", "scipy.special"}, imported
    assert "_rt." not in source and "+ -" not in source[source.index("def f("):]
    namespace: dict = {}
    exec(compile(source, "<codegen>", "exec"), namespace)
    return source, namespace["f"]


def entries(outputs) -> list:
    """The outputs in row-major order."""
    if isinstance(outputs, (list, tuple)):
        return [e for part in outputs for e in entries(part)]
    return [outputs]


def near_a_kink(outputs, point: dict, margin: float = 1e-6) -> bool:
    """Whether an argument of abs, relu, sign or heaviside is near 0 at ``point``, or two of
    max or min near each other (rounding may put the float on the other side)."""
    exact = {name: mpmath.mpf(v) for name, v in point.items()}
    for node in postorder(entries(outputs)):
        if isinstance(node, Call) and node.fn.name in KINKS:
            values = [oracle_value(a, exact) for a in node.args]
            if None in values:
                return True
            if node.fn.name in ("max", "min"):
                values = sorted(values)
                if any(b - a < margin for a, b in zip(values, values[1:])):
                    return True
            elif abs(values[0]) < margin:
                return True
    return False


@given(random_outputs(), points(3))
def test_default_source_gives_lambdify_values_and_the_true_values(outputs, pts):
    source, f = standalone_function(outputs)
    g = sc.lambdify(outputs, list(VARIABLES))
    columns = [np.array([p[v] for p in pts]) for v in VARIABLES]
    mixed = [columns[0], pts[0]["y"], columns[2][:, None]]  # (3,), a float, (3, 1): (3, 3)
    with np.errstate(all="ignore"):
        for args in [[p[v] for v in VARIABLES] for p in pts] + [columns, mixed]:
            got, want = f(*args), g(*args)
            assert np.shape(got) == np.shape(want), source
            np.testing.assert_array_equal(got, want, err_msg=source)
        at_points = [f(*(p[v] for v in VARIABLES)) for p in pts]
    # enough digits for the true value of a readable derivative that cancels exp(600)-sized terms
    with mock.patch.object(oracle, "DIGITS", 800):
        for p, got in zip(pts, at_points):
            if near_a_kink(outputs, p):
                continue
            exact = {name: mpmath.mpf(v) for name, v in p.items()}
            for entry, value in zip(entries(outputs), np.ravel(got)):
                true = oracle_value(entry, exact)
                if true is not None and abs(true) < 1e300:
                    scale = max(1.0, abs(value), abs(float(true)))
                    assert abs(value - float(true)) <= 1e-8 * scale, (str(entry), p, value, true)


def test_default_source_of_a_hessian_with_zero_and_constant_entries():
    hessian = sc.hessian("100*(y - x^2)^2 + (1 - x)^2 + 100*(z - y^2)^2 + (1 - y)^2", VARIABLES)
    source, f = standalone_function(hessian)
    assert "_out[0, 2]" not in source and "np.zeros(" in source  # zero entries stay as allocated
    g = sc.lambdify(hessian, list(VARIABLES))
    x = np.linspace(-1, 1, 5)
    for args in [(0.5, -1.0, 2.0), (x, x, x), (x, 0.25, 3), (1, 2, 3)]:
        got = f(*args)
        assert got.shape == np.shape(g(*args)) == (3, 3) + np.broadcast(*args).shape
        np.testing.assert_array_equal(got, g(*args))
    assert f(0.0, 0.0, 0.0)[2, 2] == 200.0 and f(x, 0.0, 0.0)[0, 2].tolist() == [0.0] * 5


def test_default_source_at_single_points_computes_as_lambdify_does():
    """At a point the arguments are NumPy floats, so a helper takes the path it takes for
    lambdify's Python floats (NumPy's exp and the math module's differ in the last bit)."""
    rng = np.random.default_rng(7)
    for formula in ("sigmoid(x)", "logsumexp(x, y, z)", "sigmoid(x)*y + softplus(z)",
                    "erf(x) + erfc(y)"):
        _, f = standalone_function(formula)
        g = sc.lambdify(formula, list(VARIABLES))
        for point in rng.uniform(-40, 40, (300, 3)).tolist():
            assert f(*point) == g(*point), (formula, point)
            assert f(*map(np.float64, point)) == g(*point), (formula, point)


def test_default_source_without_variables_and_with_many():
    for outputs in ("3/4", ["3", "0"], [["pi", "0"], ["0", "2^-1100"]]):
        namespace: dict = {}
        exec(compile(sc.codegen(outputs, []), "<codegen>", "exec"), namespace)
        got, want = namespace["f"](), sc.lambdify(outputs, [])()
        assert np.shape(got) == np.shape(want)
        np.testing.assert_array_equal(got, want)
    names = [f"x{k}" for k in range(1, 31)]
    gradient = sc.grad("*".join(names), names)
    source = sc.codegen(gradient, names)
    assert max(map(len, source.splitlines())) <= 100
    namespace = {}
    exec(compile(source, "<codegen>", "exec"), namespace)
    args = [np.linspace(0.5, 1.5, 4) + k / 30 for k in range(29)] + [2.0]
    np.testing.assert_array_equal(namespace["f"](*args), sc.lambdify(gradient, names)(*args))


def test_hessian_of_a_scaled_log_of_a_sum_of_exponentials():
    hessian = sc.hessian("log(exp(300*x) + exp(300*z))", ["x", "z"])
    # d2/dz2 = 90000 * sigmoid(300(z - x)) * sigmoid(300(x - z)): about 90000 * exp(-600) at z = 2
    got = sc.lambdify(hessian, ["x", "z"])(0.0, 2.0)
    with mpmath.workdps(30):
        want = 90000 / (1 + mpmath.exp(-600)) / (1 + mpmath.exp(600))
    assert got[1][1] == pytest.approx(float(want), rel=1e-12)
