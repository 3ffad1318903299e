"""The exception classes: one base for all bad input, specific kinds, and the old bases kept."""

from __future__ import annotations

import math

import numpy as np
import pytest

import symcalc as sc
from symcalc.core.expr import Num
from symcalc.core.numeric import float_value, is_defined

pytestmark = pytest.mark.usefixtures("parser_engine")  # each test with both parsers


def test_the_classes_form_one_tree_under_value_error():
    for cls in (sc.ParseError, sc.ShapeError, sc.DomainError, sc.SymcalcTypeError,
                sc.DivisionByZeroError):
        assert issubclass(cls, sc.SymcalcError)
    assert issubclass(sc.SymcalcError, ValueError)
    assert issubclass(sc.SymcalcTypeError, TypeError)
    assert issubclass(sc.DivisionByZeroError, sc.DomainError)
    assert issubclass(sc.DivisionByZeroError, ZeroDivisionError)


@pytest.mark.parametrize("build, kind", [
    (lambda: sc.parse("x +"), sc.ParseError),
    (lambda: sc.log(0), sc.DomainError),
    (lambda: Num(0) ** -1, sc.DomainError),
    (lambda: sc.grad("x*y", "x x"), sc.SymcalcError),
    (lambda: sc.diff("x^2", "x", -1), sc.SymcalcError),
    (lambda: sc.diff("x^2", "x", 1.5), TypeError),
    (lambda: sc.diff("x^2", 3), TypeError),
    (lambda: sc.taylor("log(x)", {"x": 0}, 2), sc.DomainError),
    (lambda: sc.taylor("1/x", {"x": 0}, 2), sc.DomainError),
    (lambda: sc.newton_step("x^3", "x", [0.0]), sc.DomainError),
    (lambda: sc.symbols("2x"), sc.SymcalcError),
    # names given in functions= that cannot name an abstract function
    (lambda: sc.parse("sin(x)", functions=["sin"]), sc.SymcalcError),
    (lambda: sc.parse("f_1(x)", functions=["f_1"]), sc.SymcalcError),
    (lambda: sc.parse("x", functions=["2f"]), sc.SymcalcError),
    (lambda: sc.parse("x", functions=[3]), sc.SymcalcTypeError),
    (lambda: sc.parse("x", functions=3), sc.SymcalcTypeError),
    (lambda: sc.function("f", 0), sc.SymcalcError),
    (lambda: sc.function("f", "a"), sc.SymcalcTypeError),
    (lambda: sc.function("f", 1)(sc.parse("x"), 2), sc.SymcalcTypeError),
    (lambda: sc.function("f")(), sc.SymcalcTypeError),
    # wrong arity of a registered function, from Python
    (lambda: sc.sin(1, 2), sc.SymcalcTypeError),
    (lambda: sc.atan2(1), sc.SymcalcTypeError),
    # the logarithms to a fixed base at 0, as log(0)
    (lambda: sc.log2(0), sc.DomainError),
    (lambda: sc.log10(0), sc.DomainError),
    (lambda: sc.subs("log2(x)", {"x": 0}), sc.DomainError),
])
def test_bad_input_raises_a_symcalc_error_of_the_right_kind(build, kind):
    with pytest.raises(kind) as info:
        build()
    assert isinstance(info.value, sc.SymcalcError)


def test_a_divisor_that_simplifies_to_zero_is_named():
    with pytest.raises(sc.DomainError, match=r"x - log\(exp\(x\)\)") as info:
        sc.diff("log(x)/(x - log(exp(x)))", "x")
    assert isinstance(info.value, ZeroDivisionError)  # `except ZeroDivisionError` keeps working
    with pytest.raises(sc.DomainError, match=r"x - log\(exp\(x\)\)"):
        sc.simplify("1/(x - log(exp(x)))")


def test_latex_takes_strings_numbers_and_lists():
    x = sc.parse("x")
    assert sc.latex("x^2/2") == sc.latex(x ** 2 / 2) == "\\frac{x^{2}}{2}"
    assert sc.latex(3) == "3"
    assert sc.latex(["x", 2]) == "\\begin{pmatrix}\nx \\\\\n2\n\\end{pmatrix}"
    assert sc.latex(sc.hessian("x*y", "x y")) == "\\begin{pmatrix}\n0 & 1 \\\\\n1 & 0\n\\end{pmatrix}"


def test_every_registered_function_has_a_float_form_that_agrees_with_numpy():
    assert all(fn.real is not None for fn in sc.REGISTRY.values())
    for name, fn in sc.REGISTRY.items():
        symbols = [sc.Symbol(f"a{k}") for k in range(fn.min_args)]
        compiled = sc.lambdify(fn(*symbols), symbols)
        for value in (-1.7, -0.7, 0.3, 0.9, 2.5):
            point = [value + k / 10 for k in range(fn.min_args)]
            constant = sc.subs(fn(*symbols), {s: sc.as_expr(v) for s, v in zip(symbols, point)})
            with np.errstate(all="ignore"):
                expected = float(compiled(*point))
            if math.isnan(expected):
                assert not is_defined(constant), (name, point)
            else:
                assert float_value(constant) == pytest.approx(expected, rel=1e-12, abs=1e-15), name


@pytest.mark.parametrize("text, defined", [
    ("exp(1000)", True), ("log(-1)", False), ("asin(2)", False), ("(-8)^(1/3)", False),
    ("tan(pi/2)", True), ("sqrt(2) - 1", True), ("acos(1/2)", True),
])
def test_constants_are_defined_when_numpy_gives_a_real_number(text, defined):
    assert is_defined(sc.parse(text)) is defined
    try:
        with np.errstate(all="ignore"):
            value = sc.lambdify(sc.parse(text), [])()
    except TypeError:  # a complex power
        value = math.nan
    assert (not math.isnan(value)) is defined
