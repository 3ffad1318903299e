"""max, min, log2, log10, the inverse hyperbolic functions, atan2, erfc and the reciprocal
trigonometric and hyperbolic functions: derivatives (oracle), printing, SymPy, compiled values.

The generic registry tests (test_sympy_bridge, test_derivative_corpus, test_properties) cover
these entries too; here each gets cases inside its own domain and at its edges.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy

import symcalc as sc
from oracle import check_derivative, check_gradient, check_hessian
from symcalc.compiler import runtime

NEW = ("max", "min", "log2", "log10", "asinh", "acosh", "atanh", "atan2", "erfc",
       "sec", "csc", "cot", "sech", "csch", "coth")

POSITIVE = (0.2, 2.0)
UNIT = (-0.9, 0.9)
ABOVE_ONE = (1.1, 3.0)
NO_POLE = (0.2, 1.4)  # inside (0, pi/2): sin, cos and tan are away from 0

DERIVATIVES = [
    ("max(x, y)", ("x",), None), ("max(x, y)", ("y",), None),
    ("min(x, y)", ("x",), None), ("min(x^2, y*x)", ("x",), None),
    ("max(x, y, z)", ("y",), None), ("min(x, 2*y, sin(z))", ("z",), None),
    ("max(x^2, 1/2)*x", ("x",), None), ("x*max(x, 0)", ("x",), None),
    ("log2(x)", ("x",), POSITIVE), ("log10(x^2 + 1)", ("x",), None),
    ("log2(x)*log10(x)", ("x", 2), POSITIVE),
    ("asinh(x)", ("x",), None), ("asinh(x^2 - y)", ("y",), None), ("asinh(x)", ("x", 2), None),
    ("acosh(x)", ("x",), ABOVE_ONE), ("acosh(x^2 + 1)", ("x",), POSITIVE),
    ("acosh(x)", ("x", 2), ABOVE_ONE),
    ("atanh(x)", ("x",), UNIT), ("atanh(sin(x))", ("x",), UNIT), ("atanh(x)", ("x", 3), UNIT),
    ("atan2(y, x)", ("x",), None), ("atan2(y, x)", ("y",), None),
    ("atan2(y, x)", ("x", "y"), None), ("atan2(sin(x), cos(x) + 2)", ("x",), None),
    ("erfc(x)", ("x",), None), ("erfc(x^2)*x", ("x", 2), None),
    ("sec(x)", ("x",), NO_POLE), ("csc(x)", ("x",), NO_POLE), ("cot(x)", ("x",), NO_POLE),
    ("sec(x)^2 - tan(x)^2", ("x",), NO_POLE), ("cot(x^2)", ("x", 2), NO_POLE),
    ("sech(x)", ("x",), None), ("csch(x)", ("x",), POSITIVE), ("coth(x)", ("x",), POSITIVE),
    ("sech(x)*coth(y)", ("x", "y"), POSITIVE), ("csch(x)", ("x", 2), POSITIVE),
    ("abs(x^2 - sin(y) + exp(x*y))", ("x",), None), ("abs(x - y)*abs(log2(x))", ("x",), POSITIVE),
]


@pytest.mark.parametrize("f, spec, domain", DERIVATIVES, ids=lambda c: str(c))
def test_derivatives_agree_with_sympy_and_finite_differences(f, spec, domain):
    check_derivative(f, spec, sc.diff(f, *spec), domain)


def test_gradient_and_hessian_of_a_mixture():
    f = "max(x, y)*atan2(y, x) + log10(x^2 + y^2)*sech(x - y)"
    check_gradient(f, "x y", sc.grad(f, "x y"))
    check_hessian("atan2(y, x)*erfc(x*y)", "x y", sc.hessian("atan2(y, x)*erfc(x*y)", "x y"))


def test_every_new_function_is_in_the_registry_and_exported():
    for name in NEW:
        assert name in sc.REGISTRY
        assert getattr(sc, name) is sc.REGISTRY[name]


@pytest.mark.parametrize("text", [
    "max(x, y)", "min(x, y, z)", "log2(x)", "log10(x + 1)", "asinh(x)", "acosh(x)", "atanh(x)",
    "atan2(y, x)", "atan2(-y, x - 1)", "erfc(x)", "sec(x)", "csc(x)", "cot(x)", "sech(x)",
    "csch(x)", "coth(x)", "max(x, y)^2", "-min(x, 1)",
])
def test_text_round_trip(text):
    e = sc.parse(text)
    assert sc.parse(str(e)) is e
    for x in ("x", "y"):
        d = sc.diff(e, x)
        assert sc.parse(str(d)) is d


@pytest.mark.parametrize("text, tex", [
    ("max(x, y)", r"\max\left(x, y\right)"),
    ("min(x, y, z)", r"\min\left(x, y, z\right)"),
    ("log2(x)", r"\log_{2}\left(x\right)"),
    ("log10(x)", r"\log_{10}\left(x\right)"),
    ("asinh(x)", r"\operatorname{arsinh}\left(x\right)"),
    ("atan2(y, x)", r"\operatorname{atan2}\left(y, x\right)"),
    ("erfc(x)", r"\operatorname{erfc}\left(x\right)"),
    ("sec(x)", r"\sec\left(x\right)"),
    ("coth(x)", r"\operatorname{coth}\left(x\right)"),
])
def test_latex(text, tex):
    assert sc.latex(text) == tex


# --- exact values -------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "max(2, 3)", "min(2, -3, 1/2)", "max(x, x)", "log2(8)", "log2(1/4)", "log10(1000)",
    "log10(1/100)", "asinh(0)", "acosh(1)", "atanh(0)", "atan2(0, 3)", "atan2(2, 0)",
    "atan2(-2, 0)", "erfc(0)", "sec(0)", "sec(pi)", "csc(pi/2)", "csc(3*pi/2)", "cot(pi/2)",
    "sech(0)",
])
def test_exact_values_agree_with_sympy(text):
    e = sc.parse(text)
    assert not isinstance(e, sc.Call), f"{text} is not folded"
    names = {"max": sympy.Max, "min": sympy.Min, "log2": lambda a: sympy.log(a, 2),
             "log10": lambda a: sympy.log(a, 10), "x": sympy.Symbol("x")}
    expected = sympy.sympify(text.replace("^", "**"), locals=names)
    assert sympy.simplify(sc.to_sympy(e) - expected) == 0


def test_max_with_zero_is_relu_and_reads_back_from_sympy():
    assert sc.parse("max(x, 0)") is sc.parse("relu(x)")
    assert sc.parse("max(0, x)") is sc.parse("relu(x)")
    assert sc.from_sympy(sympy.Max(sympy.Symbol("x"), 0)) is sc.parse("relu(x)")


def test_log2_of_a_non_power_stays_symbolic():
    assert isinstance(sc.parse("log2(6)"), sc.Call)
    assert isinstance(sc.parse("log10(1/3)"), sc.Call)
    with pytest.raises(sc.ParseError):
        sc.parse("log2(0)")


# --- SymPy bridge ---------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "max(x, y)", "min(x, y)", "max(x, y, z)", "asinh(x)", "acosh(x)", "atanh(x)", "atan2(y, x)",
    "erfc(x)", "sec(x)", "csc(x)", "cot(x)", "sech(x)", "csch(x)", "coth(x)",
    "atan2(y, x)*erfc(y) + sec(x)^2",
])
def test_sympy_round_trip_is_the_same_node(text):
    e = sc.parse(text)
    assert sc.from_sympy(sc.to_sympy(e)) is e


@pytest.mark.parametrize("text", ["log2(x)", "log10(x) + log2(y)"])
def test_sympy_round_trip_of_fixed_base_logs_keeps_the_value(text):
    e = sc.parse(text)
    back = sc.from_sympy(sc.to_sympy(e))
    at = {sympy.Symbol("x"): sympy.Rational(7, 3), sympy.Symbol("y"): sympy.Rational(5, 2)}
    assert abs((sc.to_sympy(back) - sc.to_sympy(e)).evalf(40, subs=at)) < 1e-35


# --- compiled values --------------------------------------------------------------------------------
MPMATH = {
    "max": lambda *a: max(a), "min": lambda *a: min(a),
    "log2": lambda x: mpmath.log(x, 2), "log10": mpmath.log10, "asinh": mpmath.asinh,
    "acosh": mpmath.acosh, "atanh": mpmath.atanh, "atan2": mpmath.atan2, "erfc": mpmath.erfc,
    "sec": mpmath.sec, "csc": mpmath.csc, "cot": mpmath.cot, "sech": mpmath.sech,
    "csch": mpmath.csch, "coth": mpmath.coth,
}
POINTS = {
    "max": [(0.3, -1.2, 0.7), (-2.0, -2.5, -3.0)], "min": [(0.3, -1.2, 0.7), (4.0, 5.0, 6.0)],
    "log2": [(0.3,), (1024.0,), (1e-300,)], "log10": [(0.3,), (1e200,)],
    "asinh": [(-3.0,), (1e-10,), (1e200,)], "acosh": [(1.0,), (1.5,), (1e200,)],
    "atanh": [(-0.999,), (1e-12,), (0.5,)],
    "atan2": [(1.0, -1.0), (-1.0, -1.0), (0.0, 2.0), (-0.5, 1e-3), (1e-300, -1.0)],
    "erfc": [(-3.0,), (0.1,), (1.4999,), (1.5,), (4.0,), (10.0,), (26.0,)],
    "sec": [(0.3,), (3.0,)], "csc": [(0.3,), (-2.0,)], "cot": [(0.3,), (-2.0,), (1.5707,)],
    "sech": [(0.3,), (-800.0,)], "csch": [(0.3,), (-5.0,)], "coth": [(0.3,), (-5.0,)],
}


@pytest.mark.parametrize("name", NEW)
def test_compiled_values_agree_with_mpmath(name):
    fn = sc.REGISTRY[name]
    for point in POINTS[name]:
        names = [f"a{k}" for k in range(len(point))]
        f = sc.lambdify(fn(*[sc.Symbol(n) for n in names]), names)
        with np.errstate(over="ignore"):
            got = f(*point)
            array = f(*[np.array([v, v]) for v in point])
        with mpmath.workdps(40):
            want = MPMATH[name](*[mpmath.mpf(v) for v in point])
        assert got == pytest.approx(float(want), rel=1e-13, abs=1e-300), point
        assert np.allclose(array, float(want), rtol=1e-13, atol=1e-300)


def test_sympy_lambdify_of_the_sympy_form_agrees():
    names = sympy.symbols("a0 a1")
    for name in NEW:
        fn = sc.REGISTRY[name]
        args = [sc.Symbol(str(n)) for n in names][:max(fn.min_args, 1)]
        point = (1.7, 0.4)[:len(args)] if name != "atanh" else (0.4,)
        reference = sympy.lambdify(names[:len(args)], sc.to_sympy(fn(*args)), "mpmath")
        ours = sc.lambdify(fn(*args), [str(n) for n in names[:len(args)]])
        assert ours(*point) == pytest.approx(float(reference(*point)), rel=1e-13), name


def test_erfc_without_scipy_keeps_full_relative_precision_in_the_tail():
    xs = np.concatenate([np.linspace(-6, 26, 801), [1.5, np.nextafter(1.5, 0)]])
    got = runtime.erfc_numpy(xs)
    with mpmath.workdps(40):
        want = [mpmath.erfc(mpmath.mpf(float(x))) for x in xs]
    worst = max(abs(g - w) / w for g, w in zip(got, want) if w > 1e-300)
    assert worst < 1e-13
    assert runtime.erfc_numpy(30.0) == 0.0 and runtime.erfc_numpy(-30.0) == 2.0
    assert math.isnan(runtime.erfc_numpy(float("nan")))
    assert runtime.erfc_numpy(np.array([[0.5, 8.0]])).shape == (1, 2)


@pytest.mark.parametrize("text", ["asinh(sinh(x))", "atanh(tanh(x))"])
def test_inverse_hyperbolic_functions_undo_their_function_everywhere(text):
    assert sc.simplify(text) is sc.Symbol("x")
    with mpmath.workdps(30):
        for v in (-3.5, -0.2, 0.7, 4.0):
            assert abs(MPMATH[text[:5]](getattr(mpmath, text[6:10])(v)) - v) < 1e-25


# --- ties of max and min: each of k tied extreme arguments gets 1/k -----------------------------
def _tie_gradient_cases():
    cases = []
    for n in (2, 3, 4):
        for tied in range(1, n + 1):  # the first `tied` arguments share the extreme value
            for name in ("max", "min"):
                extreme = 1.0 if name == "max" else -1.0
                point = [extreme] * tied + [0.0] * (n - tied)
                expected = [1.0 / tied] * tied + [0.0] * (n - tied)
                cases.append((name, point[::-1], expected[::-1]))  # the ties last, too
                cases.append((name, point, expected))
    return cases


@pytest.mark.parametrize("name, point, expected", _tie_gradient_cases(), ids=lambda c: str(c))
def test_gradients_of_max_and_min_at_ties_split_evenly_and_add_up_to_one(name, point, expected):
    names = [f"x{k}" for k in range(len(point))]
    gradient = sc.grad(f"{name}({', '.join(names)})", names)
    f = sc.lambdify(gradient, names)
    got = f(*point)
    assert np.allclose(got, expected, rtol=1e-15, atol=0) and math.isclose(sum(got), 1.0)
    column = f(*[np.array([v, v]) for v in point])
    assert np.array_equal(column[:, 0], got) and np.array_equal(column[:, 1], got)
    # the symbolic gradient itself, exactly
    values = [sc.subs(g, dict(zip(names, map(sc.parse, map(str, map(int, point))))))
              for g in gradient]
    assert [float(v) for v in values] == pytest.approx(expected, rel=1e-15, abs=0)


@pytest.mark.parametrize("f", ["max(x, y, z)", "min(x, y, z)", "max(x, y, z, w)",
                               "min(x*y, sin(z), w)", "max(x, y, z)^2"])
def test_gradients_of_n_ary_max_and_min_away_from_ties_agree_with_sympy(f):
    names = [n for n in "xyzw" if n in f]
    check_gradient(f, names, sc.grad(f, names))
