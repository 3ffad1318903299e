"""The public API as people reach for it: Expr methods, values, substitution of subexpressions,
|det J|, and every public callable taking formula strings and lists where it takes expressions.

Derivatives are checked against SymPy and central differences (``oracle``); values against
mpmath at 50 digits (``oracle.value``), which shares no code with symcalc's evaluation.
"""

from __future__ import annotations

import math
import random
from decimal import Decimal
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

import symcalc as sc
from oracle import check_derivative, check_jacobian_det, value
from strategies import exprs, points
from symcalc.core.expr import postorder

x, y, s = sc.symbols("x y s")


# --- methods ---------------------------------------------------------------------------------
@pytest.mark.parametrize("formula, spec", [
    ("x^3*y", ("x",)),
    ("x^3*y", ("x", 2)),
    ("x^3*y + sin(x*y)", ("x", "y", "x")),
    ("exp(x)*log(y)", ("y", 3)),
])
def test_diff_method_is_the_derivative(formula, spec):
    e = sc.parse(formula)
    result = e.diff(*spec)
    assert result is sc.diff(formula, *spec)
    check_derivative(e, spec, result, domain=(0.3, 1.5))


def test_subs_method_and_float():
    e = sc.parse("x^3*y + y")
    assert e.subs({"y": 3}) is sc.subs(e, {"y": 3})
    got = e.subs({"y": 3, "x": "1/2"})
    assert float(got) == float(sympy.sympify("(1/2)**3*3 + 3"))
    assert float(sc.parse("pi/4")) == math.pi / 4
    assert float(sc.parse("1/3")) == 1 / 3
    assert math.isclose(float(sc.parse("exp(1)*sqrt(2)")), math.e * math.sqrt(2), rel_tol=1e-15)


def test_float_is_correctly_rounded_where_float_arithmetic_is_not():
    # 10^25 has no float; sin of the nearest float is a different number
    e = sc.parse("sin(10^25)")
    with mpmath.workdps(60):
        expected = float(mpmath.sin(mpmath.mpf(10) ** 25))
    assert float(e) == expected
    assert float(e) != math.sin(1e25)


@given(exprs(), points(1))
def test_float_of_a_constant_is_its_nearest_float(e, at):
    exact = {name: Fraction(v) for name, v in at[0].items()}  # the float's own binary value
    expected = value(e, {name: mpmath.mpf(v) for name, v in at[0].items()})
    constant = sc.subs(e, exact)
    if expected is None:  # a point where e is undefined
        return
    assert float(constant) == float(expected)


def test_float_of_an_expression_with_variables_is_a_type_error():
    with pytest.raises(TypeError, match="without variables.*x, y"):
        float(sc.parse("x*y + 1"))
    with pytest.raises(TypeError, match="without variables"):
        sc.parse("x").evalf(20)
    with pytest.raises(ValueError, match="no real value"):
        float(sc.parse("log(-1)"))
    with pytest.raises(ValueError, match="no real value"):
        sc.evalf("asin(2)")


@pytest.mark.parametrize("formula", ["pi", "exp(1)/3", "sqrt(2) + log(3)", "atan(1/7)*sigmoid(2)",
                                     "exp(1000)", "10^40 + 1/3", "erf(1/2) - 1"])
@pytest.mark.parametrize("digits", [5, 15, 30, 40])  # the oracle computes 50 digits
def test_evalf_has_the_digits_asked_for(formula, digits):
    result = sc.parse(formula).evalf(digits)
    assert isinstance(result, Decimal)
    assert len(result.as_tuple().digits) == digits
    with mpmath.workdps(digits + 20):
        exact = value(formula, {})
        assert exact is not None
        # correctly rounded to `digits` significant digits: within half a unit of the last digit
        unit = mpmath.mpf(10) ** (result.adjusted() - digits + 1)
        assert abs(mpmath.mpf(str(result)) - exact) <= unit / 2 * (1 + mpmath.mpf("1e-10"))


def test_evalf_default_and_bad_precisions():
    assert str(sc.evalf("1/3")) == "0.333333333333333"
    with pytest.raises(TypeError):
        sc.evalf("pi", 2.5)
    with pytest.raises(ValueError):
        sc.evalf("pi", 0)


# --- subs with subexpressions ---------------------------------------------------------------------
def test_subs_replaces_subexpressions():
    result = sc.subs("sin(x)^2 + sin(x)", {"sin(x)": "s"})
    assert result is s**2 + s
    # replacing back gives the formula again (the values are not substituted a second time)
    assert sc.subs(result, {"s": "sin(x)"}) is sc.parse("sin(x)^2 + sin(x)")


def test_subs_is_one_simultaneous_pass():
    # a matched node is replaced whole; its variables are not substituted inside it
    assert sc.subs("sin(x) + x", {"sin(x)": "s", "x": 2}) is s + 2
    assert sc.subs("x + y", {"x": "y", "y": "x"}) is x + y
    assert sc.subs("exp(x*y) + 2*x*y", {"x*y": "s"}) is sc.exp(s) + 2 * x * y
    assert sc.subs("sqrt(x + 1)/(x + 1)", {"x + 1": "s"}) is sc.parse("sqrt(s)/s")


@given(exprs(), points(1), st.data())
def test_subs_of_any_subexpression_keeps_the_value(e, at, data):
    parts = [n for n in postorder([e]) if not isinstance(n, sc.Num)]
    if not parts:
        return  # a number has no part that may be a key
    part = data.draw(st.sampled_from(parts))
    fresh = sc.Symbol("fresh")
    replaced = sc.subs(e, {part: fresh})
    assert sc.subs(replaced, {fresh: part}) is e
    point = {name: mpmath.mpf(v) for name, v in at[0].items()}
    expected, part_value = value(e, point), value(part, point)
    if expected is not None and part_value is not None:
        with mpmath.workdps(50):
            got = value(replaced, {**point, "fresh": part_value})
            assert abs(got - expected) <= mpmath.mpf("1e-40") * (1 + abs(expected))


def test_subs_values_may_be_numbers_or_expressions_and_keys_not_numbers():
    e = sc.parse("log(x^2 + 1) + x^2")
    point = {"x": mpmath.mpf("0.7")}
    for replacement in [3, 0.5, "y + 1", sc.parse("pi")]:
        got = sc.subs(e, {"x^2": replacement})
        expected = value(sc.parse(f"log(({replacement}) + 1) + ({replacement})"),
                         {"y": mpmath.mpf(2), **point})
        with mpmath.workdps(50):
            assert abs(value(got, {"y": mpmath.mpf(2), **point}) - expected) < 1e-40
    with pytest.raises(TypeError, match="not the number 2"):
        sc.subs("2*x", {2: 3})
    with pytest.raises(TypeError, match="number"):
        sc.subs("2*x", {"2": "y"})
    with pytest.raises(ValueError, match="twice"):
        sc.subs("x", {"x": 1, x: 2})
    with pytest.raises(TypeError, match="mapping"):
        sc.subs("x", [("x", 1)])


# --- |det J| --------------------------------------------------------------------------------------
@pytest.mark.parametrize("fs, xs", [
    (["r*cos(t)", "r*sin(t)"], "r t"),
    (["r*sin(p)*cos(t)", "r*sin(p)*sin(t)", "r*cos(p)"], "r p t"),
    (["x^3 - y", "x*y^2"], "x y"),
    (["-2*u*exp(v)", "u + v"], "u v"),
])
def test_absolute_jacobian_determinant(fs, xs):
    det = sc.jacobian_det(fs, xs)
    check_jacobian_det(fs, xs, det)  # the determinant itself, against SymPy and differences
    absolute = sc.jacobian_det(fs, xs, absolute=True)
    names = sorted(v.name for v in det.free_symbols)
    rng = random.Random(3)
    for _ in range(20):  # both signs of every variable
        point = {n: mpmath.mpf(rng.uniform(-2, 2)) for n in names}
        with mpmath.workdps(50):
            assert abs(value(absolute, point) - abs(value(det, point))) < 1e-40
    assert sc.jacobian_det("r*cos(t), r*sin(t)", "r t", absolute=True) is sc.abs(sc.parse("r"))


# --- count_ops, determinant ----------------------------------------------------------------------
def test_count_ops_takes_strings_and_nested_lists():
    assert sc.count_ops("sin(x)*x") == 2  # one product, one call
    assert sc.count_ops(["sin(x)*x", "sin(x) + 1"]) == 3  # sin(x) is shared
    assert sc.count_ops([["x*y"], ["x*y + 1"]]) == 2
    assert sc.count_ops(e for e in ["x*y", "x*y"]) == 1
    h = sc.hessian("x^2*y + y^3", "x y")
    assert sc.count_ops(h) == sc.core.expr.count_ops([e for row in h for e in row])
    assert sc.parse("sin(x)*x").count_ops() == sc.count_ops("sin(x)*x")


def test_determinant_of_strings_matches_sympy():
    rows = [["x", "y", "1"], ["sin(x)", "2", "y"], ["0", "x*y", "3"]]
    expected = sympy.Matrix([[sympy.sympify(e) for e in row] for row in rows]).det()
    assert sympy.simplify(sc.to_sympy(sc.determinant(rows)) - expected) == 0
    with pytest.raises(TypeError, match="list"):
        sc.determinant("x")
    with pytest.raises(TypeError, match="row"):
        sc.determinant(["x", "y"])


# --- every public callable takes strings and lists where it takes expressions ------------------
def _parsed(arg):
    """The same argument with every formula string parsed (variable lists stay as they are)."""
    if isinstance(arg, str):
        return sc.parse(arg)
    if isinstance(arg, list):
        return [_parsed(a) for a in arg]
    if isinstance(arg, dict):
        return {k: _parsed(v) for k, v in arg.items()}
    return arg


F, FS, VS, V = "x^2*y + sin(x)", ["x*y", "exp(x) + y"], ["x", "y"], ["1", "y"]
# name -> (arguments with strings and lists, which of them are formulas to parse for the comparison)
PUBLIC_CALLS = {
    "as_expr": [(("x + 1",), {0})],
    "check_answer": [((F, "x", "2x*y + cos(x)"), {0, 2}),
                     ((F, VS, ["2x*y + cos(x)", "x^2"]), {0, 2})],
    "codegen": [((FS, VS), {0}), ((F, "x y"), {0}), (([FS, FS], VS), {0})],
    "count_ops": [((F,), {0}), (([F, [F, "x"]],), {0})],
    "determinant": [(([["x", "y"], ["1", "x"]],), {0})],
    "diff": [((F, "x", "y", "x"), {0}), ((F, "x", 2), {0})],
    "divergence": [((FS, VS), {0}), (("x*y, exp(x) + y", "x y"), set())],
    "directional": [((F, VS, V), {0, 2}), ((F, "x y", [1, "x"]), {0, 2})],
    "equivalent": [(("x*(x + 1)", "x^2 + x"), {0, 1})],
    "evalf": [(("pi/4", 20), {0})],
    "explain": [((F, "x"), {0}), ((F, VS), {0})],
    "grad": [((F, VS), {0}), ((F, "x, y"), {0})],
    "gradient_step": [((F, VS, [1.0, 2.0], 0.1), {0})],
    "hessian": [((F, VS), {0})],
    "hessian_diag": [((F, VS), {0})],
    "hvp": [((F, VS, V), {0, 2})],
    "jacobian": [((FS, VS), {0}), (("x*y, exp(x) + y", "x y"), set())],
    "jacobian_det": [((FS, VS), {0})],
    "jvp": [((FS, VS, V), {0, 2})],
    "lambdify": [((FS, VS), {0}), ((F, "x y"), {0})],
    "laplacian": [((F, VS), {0}), ((F, "x y"), {0})],
    "latex": [((F,), {0}), ((FS,), {0}), (([FS, FS],), {0})],
    "newton": [(("(x - 1)^2 + x*y + y^2", VS, [0.0, 0.0]), {0})],
    "newton_step": [(("(x - 1)^2 + x*y + y^2", VS, [0.0, 0.0]), {0})],
    "parse": [((F,), set())],
    "simplify": [(("x + x",), {0})],
    "subs": [((F, {"x": "2", "sin(2)": "s"}), {0, 1})],
    "symbols": [(("x y",), set())],
    "taylor": [((F, {"x": "1"}, 2), {0, 1})],
    "to_sympy": [((F,), {0}), ((FS,), {0}), (([FS, [F]],), {0})],
    "vjp": [((FS, VS, V), {0, 2})],
}
TAKES_NO_FORMULA = {"from_sympy",  # a SymPy expression in, an Expr out
                    "function"}  # a name in, an abstract function out
BUILDERS = {name for name, fn in vars(sc).items() if isinstance(fn, sc.functions.registry.Function)}
# builders of shaped formulas: they take shaped expressions, names and sizes (a formula string
# has no shapes to give them; sc.parse(text, shapes=...) is the way in from text)
SHAPED_BUILDERS = {"det", "diag", "dot", "eye", "inv", "logdet", "matrix", "norm", "ones", "outer",
                   "softmax", "sum", "trace", "vector", "zeros", "kron", "matrix_power", "mean"}


def _public_callables() -> list[str]:
    return sorted(name for name, obj in vars(sc).items()
                  if not name.startswith("_") and callable(obj) and not isinstance(obj, type))


def test_every_public_callable_is_covered():
    missing = [n for n in _public_callables()
               if n not in PUBLIC_CALLS and n not in TAKES_NO_FORMULA and n not in BUILDERS
               and n not in SHAPED_BUILDERS]
    assert not missing, f"add a row to PUBLIC_CALLS for sc.{', sc.'.join(missing)}"


def _same(a, b) -> bool:
    if callable(a):  # lambdify: the two functions give the same values
        return np.array_equal(a(0.7, 1.3), b(0.7, 1.3))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    if hasattr(a, "to_dict"):  # explain: the same derivation, step by step
        return a.to_dict() == b.to_dict()
    return a == b


@pytest.mark.parametrize("name", sorted(PUBLIC_CALLS))
def test_public_callables_take_formula_strings_and_lists(name):
    fn = getattr(sc, name)
    for args, formulas in PUBLIC_CALLS[name]:
        with_strings = fn(*args)
        with_exprs = fn(*(_parsed(a) if i in formulas else a for i, a in enumerate(args)))
        assert _same(with_strings, with_exprs), (name, args)


def test_latex_of_a_gradient_and_a_hessian():
    g = sc.grad(F, VS)
    assert sc.latex(g) == sc.latex([str(e) for e in g])
    h = sc.hessian(F, VS)
    assert sc.latex(h) == sc.latex([[str(e) for e in row] for row in h])


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_function_builders_take_expressions_and_refuse_strings_clearly(name):
    fn = getattr(sc, name)
    args = [x, y, s][:fn.min_args]
    assert isinstance(fn(*args), sc.Expr)
    with pytest.raises(sc.SymcalcTypeError, match="cannot use str"):
        fn(*["x"] * fn.min_args)


def test_from_sympy_takes_sympy_and_refuses_strings_clearly():
    assert sc.from_sympy(sympy.sympify("x*y")) is x * y
    with pytest.raises(TypeError, match="SymPy expression"):
        sc.from_sympy("x*y")


@pytest.mark.parametrize("call", [lambda: sc.grad("x", 5), lambda: sc.hessian("x*y", 2.5),
                                  lambda: sc.jacobian(["x"], None)])
def test_variables_that_are_not_names_or_a_list_are_a_clear_type_error(call):
    with pytest.raises(sc.SymcalcTypeError, match="variables must be names"):
        call()
