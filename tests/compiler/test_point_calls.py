"""Single-point calls of generated functions: the call method's fast paths give what the general
path gives (the planned body on the arguments converted to floats), for every kind of argument,
and values that agree with an independent evaluation (mpmath, ``tests/oracle.py``)."""

from __future__ import annotations

import linecache
import math
import random
import warnings

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symcalc as sc
from symcalc.compiler.point_source import float_arithmetic

from oracle import value
from strategies import BOX, VARIABLES, formulas

ARITHMETIC = [
    ("x*y*z*w", "x y z w"),
    ("x + y*z + w", "x y z w"),
    ("(x - y^2)^2/3 + z/w - 2*x*w", "x y z w"),
    ("100*(y - x^2)^2 + (1 - x)^2", "x y"),
    ("0.5*((2*x - 3*y + 1)^2 + (x + y - 4)^2)", "x y"),
]


def _general(f, *args):
    """What the general path gives: the planned body on the arguments as floats."""
    return f.planned(*(float(a) for a in args))


def _same(a, b) -> bool:
    return type(a) is type(b) and (a == b or (math.isnan(a) and math.isnan(b)))


@pytest.mark.parametrize("text, names", ARITHMETIC)
def test_arithmetic_bodies_take_the_fast_path_and_match_an_independent_evaluation(text, names):
    f = sc.lambdify(text, names)
    source = "".join(linecache.cache[f._fast_call.__code__.co_filename][2])
    assert "if type(_value) is float:" in source  # the body is plain arithmetic
    rng = random.Random(0)
    variables = names.split()
    for _ in range(20):
        point = [rng.uniform(-3, 3) for _ in variables]
        got = f(*point)
        assert type(got) is float
        assert got == _general(f, *point)
        expected = value(sc.parse(text), {n: mpmath.mpf(v) for n, v in zip(variables, point)})
        assert got == pytest.approx(float(expected), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("text, names", ARITHMETIC)
def test_every_kind_of_argument_gives_what_the_general_path_gives(text, names):
    f = sc.lambdify(text, names)
    n = len(names.split())
    rng = random.Random(1)
    kinds = [float, int, bool, np.float64, np.array, np.float32]
    for _ in range(60):
        point = [rng.choice([-2, -1, 1, 2, 3]) * 1.0 for _ in range(n)]
        args = [rng.choice(kinds)(v) for v in point]
        got, expected = f(*args), _general(f, *args)
        assert float(got) == expected
        if all(type(a) in (float, int, bool, np.float64) or np.ndim(a) == 0 for a in args):
            assert type(got) is float


def test_integer_arguments_are_converted_before_they_meet():
    # (2^53 + 1)^2 in integers is exact; as floats each factor is 2^53 first
    f = sc.lambdify("x + y*z + w", "x y z w")
    big = 2 ** 53 + 1
    got = f(0.0, big, big, 0.0)
    assert got == float(big) * float(big) == _general(f, 0.0, big, big, 0.0)
    assert got != float(big * big)


def test_integer_arguments_past_the_checked_ones_are_converted_too():
    f = sc.lambdify("a*b + c*d + u*v", "a b c d u v")
    source = "".join(linecache.cache[f._fast_call.__code__.co_filename][2])
    assert "1.0 * " in source  # two arguments are checked, the third product is converted
    big = 2 ** 53 + 1
    for args in [(1.5, 2.0, 0.5, 3.0, big, big), (1.5, big, 0.5, big, big, 3.0),
                 (1.5, 2.0, 0.5, 3.0, True, 7), (1.5, 2.0, 0.5, 3.0, np.float64(2.5), big)]:
        got = f(*args)
        assert type(got) is float and got == _general(f, *args)


def test_arrays_take_the_array_path_even_between_floats():
    f = sc.lambdify("x*y*z*w", "x y z w")
    y = np.linspace(-1, 1, 7)
    got = f(2.0, y, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], 0.5)
    assert type(got) is np.ndarray and got.shape == (7,)
    assert np.array_equal(got, 2.0 * y * np.arange(1.0, 8.0) * 0.5)


def test_faults_at_a_point_give_what_numpy_gives():
    f = sc.lambdify("x/y + z^0.5*w", "x y z w")
    with np.errstate(all="ignore"):
        assert f(1.0, 0.0, 1.0, 1.0) == math.inf
        assert math.isnan(f(1.0, 1.0, -1.0, 1.0))
    g = sc.lambdify("x^400*y", "x y")
    with np.errstate(all="ignore"):
        assert g(10.0, 1.0) == math.inf


def test_bad_arguments_raise_as_before():
    f = sc.lambdify("x*y*z", "x y z")
    for bad in ("ab", None, 1j):
        with pytest.raises(TypeError):
            f(1.0, bad, 1.0)
    with pytest.raises(TypeError):
        f(1.0, 3, "ab")


def test_only_plain_arithmetic_that_uses_every_argument_is_rewritten():
    names = ("x", "y", "z")
    # x and y are checked to be floats; z*z would multiply two integers: 1.0 goes first
    assert float_arithmetic(["_value = x * y + z"], names) == (["x"], ["_value = x * y + z"])
    assert float_arithmetic(["_value = 2 * x + y ** 2 * z"], names) == (
        ["x"], ["_value = 2.0 * x + y ** 2.0 * z"])
    assert float_arithmetic(["_t0 = x * y", "_t1 = y * z", "_value = _t0 - z * z + _t1"],
                             names) == (["x", "y"], ["_t0 = x * y", "_t1 = y * z",
                                                     "_value = _t0 - 1.0 * z * z + _t1"])
    assert float_arithmetic(["_value = x * 2 + y"], names) is None  # z unused
    assert float_arithmetic(["_value = np.sin(x) * y * z"], names) is None


@pytest.mark.parametrize("count", [2, 7, 33])
def test_exponential_outputs_are_one_numpy_exp_with_the_values_of_one_per_number(count):
    names = [f"x_{i}" for i in range(1, count + 1)]
    f = sc.lambdify(sc.grad("logsumexp(" + ", ".join(names) + ")", names), names)
    source = "".join(linecache.cache[f._fast_call.__code__.co_filename][2])
    assert "_value = np.exp(_fromiter((" in source
    rng = random.Random(count)
    for scale in (1.0, 30.0, 1000.0, -1000.0):
        point = [scale + rng.uniform(-3, 3) for _ in names]
        got = f(*point)
        assert np.array_equal(got, f.planned(*point)) and np.all(np.isfinite(got))
        assert got.shape == (count,) and got.sum() == pytest.approx(1.0, rel=1e-14)
        top = max(point)
        exact = [mpmath.exp(mpmath.mpf(x) - top) for x in point]
        total = mpmath.fsum(exact)
        assert np.allclose(got, [float(e / total) for e in exact], rtol=1e-11, atol=0)


def _banded_hessian(d: int):
    names = [f"x_{i}" for i in range(1, d + 1)]
    text = " + ".join(f"(x_{i + 1} - x_{i}^2)^2 + 3*x_{i}^2*x_{i + 1}^(5/2)" for i in range(1, d))
    return text, names, sc.lambdify(sc.hessian(text, names), names)


def test_mostly_constant_outputs_are_filled_in_by_index_with_the_values_of_every_row():
    text, names, f = _banded_hessian(10)
    source = "".join(linecache.cache[f._fast_call.__code__.co_filename][2])
    assert "_value[_WHERE] = _fromiter((" in source  # 72 zeros of 100 entries
    import sympy

    xs = sympy.symbols(names)
    exact = sympy.lambdify(xs, sympy.hessian(sympy.sympify(text.replace("^", "**")), xs), "mpmath")
    rng = random.Random(5)
    for _ in range(20):
        point = [rng.uniform(0.1, 2) for _ in names]
        got = f(*point)
        assert type(got) is np.ndarray and got.shape == (10, 10)
        assert np.array_equal(got, f.planned(*point))
        with mpmath.workdps(30):
            expected = np.array(exact(*[mpmath.mpf(v) for v in point]).tolist(), dtype=float)
        assert np.allclose(got, expected, rtol=1e-12, atol=1e-12)
        assert np.count_nonzero(got) == np.count_nonzero(expected)
    # a row that turns complex (a negative number to the power 1/2) at a point of floats: the
    # point is computed again as NumPy computes it
    point = [-0.5] * 10
    with np.errstate(invalid="ignore"):
        got, general = f(*point), f.planned(*point)
    assert np.array_equal(got, general, equal_nan=True) and np.isnan(got).any()
    assert got[0, 9] == 0.0
    got[0, 9] = 5.0  # each call gives an array of its own
    assert f(*[0.5] * 10)[0, 9] == 0.0


def test_dense_outputs_at_a_point_are_built_from_every_row():
    names = [f"x_{i}" for i in range(1, 9)]
    f = sc.lambdify(sc.hessian("exp(" + " + ".join(f"{k}*x_{k}" for k in range(1, 9)) + ")",
                               names), names)
    source = "".join(linecache.cache[f._fast_call.__code__.co_filename][2])
    assert "_WHERE" not in source
    point = [0.01 * k for k in range(8)]
    assert np.array_equal(f(*point), f.planned(*point))


@given(st.lists(formulas(3), min_size=4, max_size=4),
       st.lists(st.floats(BOX[0], BOX[1], allow_nan=False), min_size=12, max_size=12))
def test_mostly_constant_jacobians_of_random_formulas_at_a_point(parts, point):
    # each formula in variables of its own: 36 of the 48 entries are zero, so a point call fills
    # in the others by index; it must give what the general path and an exact evaluation give
    names = [f"{v}{k}" for k in range(4) for v in VARIABLES]
    outputs = [sc.subs(part.expr, {sc.symbols(v): sc.symbols(f"{v}{k}") for v in VARIABLES})
               for k, part in enumerate(parts)]
    jacobian = sc.jacobian(outputs, names)
    f = sc.lambdify(jacobian, names)
    source = "".join(linecache.cache[f._fast_call.__code__.co_filename][2])
    assert "_value[_WHERE] = _fromiter((" in source or "_value = _CONSTANT.copy()" in source
    with np.errstate(all="ignore"):
        got, general = f(*point), f.planned(*point)
        column = f(*[np.array([v]) for v in point])[..., 0]
    assert type(got) is np.ndarray and got.shape == (4, 12)
    assert np.array_equal(got, general, equal_nan=True)
    assert np.allclose(got, column, rtol=1e-13, atol=1e-13, equal_nan=True)
    exact = {name: mpmath.mpf(v) for name, v in zip(names, point)}
    for i, row in enumerate(jacobian):
        for j, entry in enumerate(row):
            expected = value(entry, exact)
            if expected is not None and math.isfinite(got[i, j]):
                assert got[i, j] == pytest.approx(float(expected), rel=1e-9, abs=1e-9)


# --- a point gives what an array gives there, outside the functions' domains too ----------------
# The strategies of tests/strategies.py keep every function inside its domain, so they never meet
# a negative number to a fractional power (complex in Python floats, nan in NumPy): these
# formulas take any argument anywhere.
_UNARY = sorted(name for name, fn in sc.REGISTRY.items()
                if fn.min_args == 1 and fn.max_args == 1)
_NARY = ["atan2", "max", "min", "logsumexp"]
_EXPONENTS = ["1/2", "3/2", "-1/2", "1/3", "2.5", "-0.7", "x", "y"]
_LEAVES = ["x", "y", "-1", "0", "2", "1/2", "-3/2", "atan2(-3/2, 0)"]
_AWKWARD = [-1.0, 0.0, -0.5, 2.0, -3.0, 1000.0, -1000.0, 1e-300, 0.5, -0.0]


@st.composite
def _wild_formula(draw, depth: int = 3) -> str:
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(_LEAVES))
    kind = draw(st.sampled_from(["call", "call", "nary", "power", "operator"]))
    if kind == "call":
        return f"{draw(st.sampled_from(_UNARY))}({draw(_wild_formula(depth - 1))})"
    if kind == "nary":
        return (f"{draw(st.sampled_from(_NARY))}({draw(_wild_formula(depth - 1))}, "
                f"{draw(_wild_formula(depth - 1))})")
    if kind == "power":
        return f"({draw(_wild_formula(depth - 1))})^({draw(st.sampled_from(_EXPONENTS))})"
    operator = draw(st.sampled_from("+-*/^"))
    return f"({draw(_wild_formula(depth - 1))}){operator}({draw(_wild_formula(depth - 1))})"


def _agree(point, array) -> bool:
    point, array = np.asarray(point), np.asarray(array)
    return (point.dtype == array.dtype == np.float64 and point.shape == array.shape
            and np.allclose(point, array, rtol=1e-11, atol=1e-300, equal_nan=True)
            and np.array_equal(np.isnan(point), np.isnan(array)))


@given(_wild_formula(), st.sampled_from(["value", "gradient", "hessian"]),
       st.lists(st.tuples(st.sampled_from(_AWKWARD), st.sampled_from(_AWKWARD)),
                min_size=3, max_size=3))
def test_a_point_gives_what_an_array_gives_for_any_formula(text, output, points):
    try:
        e = sc.parse(text)
        outputs = {"value": lambda: e, "gradient": lambda: sc.grad(e, ["x", "y"]),
                   "hessian": lambda: sc.hessian(e, ["x", "y"])}[output]()
    except sc.SymcalcError:  # log(0) and the like, folded
        return
    f = sc.lambdify(outputs, ["x", "y"])
    for x, y in points:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("error", np.exceptions.ComplexWarning)
            array = f(np.array([x]), np.array([y]))[..., 0]
            for args in [(x, y), (np.float64(x), np.float64(y)), (int(x), y)]:
                if type(args[0]) is int and (args[0] != x or math.copysign(1.0, x) < 0):
                    continue
                got = f(*args)
                assert _agree(got, array), (text, output, args, got, array)
                if output == "value":
                    assert isinstance(got, float) and not isinstance(got, complex)


def test_a_negative_number_to_a_fractional_power_is_nan_at_a_point():
    f = sc.lambdify(sc.diff("exp(z) + sqrt(z)", "z", 2), ["z"])
    with np.errstate(all="ignore"):
        assert math.isnan(f(-1.0)) and math.isnan(f(-1)) and math.isnan(f(np.float64(-1.0)))
        assert math.isnan(f(np.array([-1.0]))[0])
        # abs would turn the complex power of Python floats into a wrong real number
        g = sc.lambdify("abs((x^2.5)^2.5) + y", ["x", "y"])
        assert math.isnan(g(-3.0, 1.0)) and math.isnan(g(-3, 1))
        hessian = sc.lambdify(sc.hessian("exp(x)*y^(3/2)", ["x", "y"]), ["x", "y"])
        with warnings.catch_warnings():
            warnings.simplefilter("error", np.exceptions.ComplexWarning)
            got = hessian(1.0, -1.0)
        assert got.dtype == np.float64 and np.isnan(got).all()
        # a power of constants: complex in Python floats in every body
        h = sc.lambdify("(atan2(-3/2, 0))^(-0.7) + x", ["x"])
        assert math.isnan(h(1.0)) and np.isnan(h(np.array([1.0]))).all()
    assert "math.pow" not in sc.codegen("sqrt(x) + x^1.5", ["x"])  # standalone: NumPy only


@pytest.mark.parametrize("text", ["1/(1 - sigmoid(x))", "sigmoid(x)/sigmoid(-x)",
                                  "1/(logsumexp(x, y) - logsumexp(y, x))"])
def test_a_division_by_zero_at_a_point_gives_what_numpy_gives(text):
    f = sc.lambdify(text, ["x", "y"] if "y" in text else ["x"])
    args = (1000.0, 3.0) if "y" in text else (1000.0,)
    with np.errstate(all="ignore"):
        array = f(*(np.array([a]) for a in args))[0]
        for kind in (float, np.float64, int):
            assert f(*map(kind, args)) == array == math.inf


def test_a_complex_output_at_a_point_is_never_cast_to_its_real_part():
    from symcalc.compiler import runtime

    for row in (np.complex128(1j), 1j, np.complex64(1)):
        with pytest.raises(TypeError):
            runtime.assemble((), (2,), (1.0, row))


@pytest.mark.parametrize("dtype", [None, np.float32])
def test_float32_functions_at_a_point_give_what_their_arrays_give(dtype):
    f = sc.lambdify("abs((x^2.5)^2.5) + y", ["x", "y"], dtype=dtype)
    g = sc.lambdify(sc.diff("exp(z) + sqrt(z)", "z", 2), ["z"], dtype=dtype)
    x32, y32 = np.array([-3.0, 2.0], dtype=np.float32), np.array([1.0, 1.0], dtype=np.float32)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error", np.exceptions.ComplexWarning)
        array = f(x32, y32)
        assert math.isnan(array[0]) and array[1] == pytest.approx(2.0 ** 6.25 + 1, rel=1e-6)
        for x, y in [(-3.0, 1.0), (-3, 1), (-3.0, np.float32(1.0))]:
            assert math.isnan(f(x, y))
        assert math.isnan(f(-3.0, y32)[0])
        assert math.isnan(g(-1.0)) and math.isnan(g(np.float32(-1.0)))
        assert math.isnan(g(np.array([-1.0], dtype=np.float32))[0])
