"""Gradient and Newton steps against SymPy's derivatives, on quadratics and on Rosenbrock; the
damped Newton method with a line search from starts where the plain step fails."""

import importlib

import numpy as np
import pytest
import sympy

import symcalc as sc

optimize = importlib.import_module("symcalc.optimize")
ROSENBROCK = "(1 - x)^2 + 100*(y - x^2)^2"
SYMPY_FUNCTIONS = {
    "sigmoid": lambda t: 1 / (1 + sympy.exp(-t)),
    "softplus": lambda t: sympy.log(1 + sympy.exp(t)),
}


def sympy_gradient_and_hessian(formula, names, at):
    """g and H at the point, from SymPy's derivatives evaluated in floating point."""
    xs = sympy.symbols(names)
    f = sympy.sympify(formula, locals=SYMPY_FUNCTIONS, convert_xor=True)
    point = dict(zip(xs, at))
    g = [float(sympy.diff(f, x).subs(point)) for x in xs]
    h = [[float(sympy.diff(f, x, y).subs(point)) for y in xs] for x in xs]
    return np.array(g), np.array(h)


def random_quadratic(rng, d):
    """0.5 x^T A x + b.x + c with integer A (positive definite), b and c, as text and SymPy."""
    m = rng.integers(-3, 4, size=(d, d))
    a = m @ m.T + np.eye(d, dtype=int)
    b = rng.integers(-5, 6, size=d)
    names = [f"x{i}" for i in range(d)]
    terms = [f"({a[i, j]})*{names[i]}*{names[j]}/2" for i in range(d) for j in range(d)]
    terms += [f"({b[i]})*{names[i]}" for i in range(d)] + ["7"]
    return " + ".join(terms), names


@pytest.mark.parametrize("options", [{}, {"line_search": True, "damping": True}])
@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_newton_minimises_a_quadratic_in_one_step(d, options):
    rng = np.random.default_rng(d)
    formula, names = random_quadratic(rng, d)
    xs = sympy.symbols(names)
    f = sympy.sympify(formula)
    solution = sympy.solve([sympy.diff(f, x) for x in xs], xs, dict=True)[0]
    minimum = np.array([float(solution[x]) for x in xs])
    for _ in range(3):
        start = rng.normal(scale=10, size=d)
        reached = start + sc.newton_step(formula, names, start, **options)
        np.testing.assert_allclose(reached, minimum, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("formula, at", [
    ("exp(x)*sin(y) + x^4", [0.3, -0.7]),
    (ROSENBROCK, [-1.2, 1.0]),
    ("log(1 + x^2 + y^2) + x*y*z + z^2", [0.5, 1.5, -2.0]),
    ("sigmoid(x*y) + softplus(x - y) + x^2", [1.0, 2.0]),
])
def test_steps_agree_with_sympy_derivatives(formula, at):
    names = ["x", "y", "z"][:len(at)]
    g, h = sympy_gradient_and_hessian(formula, names, at)
    np.testing.assert_allclose(sc.gradient_step(formula, names, at, 0.01), -0.01 * g, rtol=1e-12)
    np.testing.assert_allclose(h @ sc.newton_step(formula, names, at), -g, rtol=1e-9, atol=1e-9)


def test_a_small_gradient_step_decreases_the_function():
    f = sc.lambdify(sc.parse(ROSENBROCK), ["x", "y"])
    start = np.array([-1.2, 1.0])
    step = sc.gradient_step(ROSENBROCK, ["x", "y"], start, 1e-4)
    assert f(*(start + step)) < f(*start)


def iterations_to_converge(step, start, tolerance=1e-6, limit=50_000):
    point, count = np.array(start, dtype=float), 0
    while np.linalg.norm(point - 1) > tolerance and count < limit:
        point = point + step(point)
        count += 1
    return count, point


def test_newton_beats_gradient_descent_on_rosenbrock():
    f, xs = sc.parse(ROSENBROCK), ["x", "y"]
    newton, at_newton = iterations_to_converge(lambda p: sc.newton_step(f, xs, p), [-1.2, 1.0])
    descent, at_descent = iterations_to_converge(lambda p: sc.gradient_step(f, xs, p, 1.5e-3),
                                                 [-1.2, 1.0])
    np.testing.assert_allclose(at_newton, [1, 1], atol=1e-6)
    np.testing.assert_allclose(at_descent, [1, 1], atol=1e-5)
    assert newton <= 10
    assert descent > 1000 * newton


def test_point_may_be_a_mapping():
    by_name = sc.newton_step("x^4 + x*y + 2*y^2", "x y", {"y": 1, "x": 2})
    np.testing.assert_array_equal(by_name, sc.newton_step("x^4 + x*y + 2*y^2", "x y", [2, 1]))


def test_compiled_derivatives_are_reused():
    f = sc.parse("x^3*y + cos(y)")
    sc.newton_step(f, ["x", "y"], [1, 2])
    before = optimize._compiled_hessian.cache_info()
    sc.newton_step(f, ["x", "y"], [3, 4])
    after = optimize._compiled_hessian.cache_info()
    assert after.hits == before.hits + 1 and after.misses == before.misses


# --- the damped Newton method with a line search ------------------------------------------------
def rosenbrock_value(point):
    """Rosenbrock's function in plain floating point, independent of symcalc."""
    x, y = point
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


@pytest.mark.parametrize("start", [(-1.2, 1.0), (2.0, 2.0), (-2.0, -1.0), (0.0, 3.0), (0.0, 0.0)])
def test_newton_minimises_rosenbrock_from_several_starts(start):
    result = sc.newton(ROSENBROCK, "x y", start)
    assert result.converged
    np.testing.assert_allclose(result.point, [1, 1], atol=1e-9)  # the minimum, known exactly
    g, _ = sympy_gradient_and_hessian(ROSENBROCK, ["x", "y"], result.point)
    assert np.max(np.abs(g)) <= 1e-8 and result.gradient_norm <= 1e-8
    assert result.steps <= 30  # measured 14 to 25
    assert len(result.path) == result.steps + 1 and tuple(result.path[0]) == start
    values = [rosenbrock_value(p) for p in result.path]
    assert all(after < before for before, after in zip(values, values[1:]))


def test_damped_newton_leaves_a_saddle_that_plain_newton_walks_into():
    formula, names, start = "x^4 - 2*x^2 + y^2", ["x", "y"], [0.1, 1.0]
    _, h = sympy_gradient_and_hessian(formula, names, start)
    assert np.linalg.eigvalsh(h).min() < 0 < np.linalg.eigvalsh(h).max()  # indefinite at the start
    plain = np.array(start)
    for _ in range(10):
        plain = plain + sc.newton_step(formula, names, plain)
    np.testing.assert_allclose(plain, [0, 0], atol=1e-12)  # the saddle point
    result = sc.newton(formula, names, start)
    assert result.converged and result.steps <= 10
    g, h = sympy_gradient_and_hessian(formula, names, result.point)
    assert np.max(np.abs(g)) <= 1e-8 and np.linalg.eigvalsh(h).min() > 0  # a minimum, by SymPy
    np.testing.assert_allclose(result.point, [1, 0], atol=1e-9)
    f = sympy.lambdify(sympy.symbols(names), sympy.sympify(formula))
    values = [f(*p) for p in result.path]
    assert all(after < before for before, after in zip(values, values[1:]))
    assert result.value == pytest.approx(-1, abs=1e-15)


def test_damped_newton_converges_where_plain_newton_diverges():
    # 1-D: the plain step maps x to -x^3, so it diverges from |x| > 1
    formula, start = "sqrt(1 + x^2) + sqrt(1 + y^2)", [1.5, 0.5]
    plain = np.array(start)
    for _ in range(3):
        plain = plain + sc.newton_step(formula, "x y", plain)
    expected = 1.5
    for _ in range(3):
        expected = -expected ** 3
    np.testing.assert_allclose(plain[0], expected, rtol=1e-12)  # -56815.1: running away
    result = sc.newton(formula, "x y", start)
    assert result.converged and np.max(np.abs(result.point)) < 1e-8 and result.steps <= 10


@pytest.mark.parametrize("formula, at", [
    ("exp(x)*sin(y) + x^4", [0.3, -0.7]),  # indefinite Hessian
    ("x^2 + y", [1, 2]),  # singular Hessian
    (ROSENBROCK, [0.0, 3.0]),
])
def test_damped_step_is_a_descent_step(formula, at):
    g, _ = sympy_gradient_and_hessian(formula, ["x", "y"], at)
    f = sympy.lambdify(sympy.symbols("x y"), sympy.sympify(formula))
    damped = sc.newton_step(formula, "x y", at, damping=True)
    assert g @ damped < 0
    searched = sc.newton_step(formula, "x y", at, damping=True, line_search=True)
    assert f(*(np.array(at) + searched)) < f(*at)
    np.testing.assert_allclose(searched / np.linalg.norm(searched),
                               damped / np.linalg.norm(damped), rtol=1e-12)


def test_newton_stops_after_max_steps_without_claiming_convergence():
    result = sc.newton(ROSENBROCK, "x y", [-1.2, 1.0], max_steps=3)
    assert result.steps == 3 and not result.converged
    assert result.value == pytest.approx(rosenbrock_value(result.point), rel=1e-12)


def test_newton_at_a_minimum_takes_no_step():
    result = sc.newton("(x - 2)^2 + y^2", "x y", {"x": 2, "y": 0})
    assert result.converged and result.steps == 0 and result.to_dict()["point"] == [2.0, 0.0]


def test_newton_on_a_function_unbounded_below_ends_unconverged():
    result = sc.newton("x^2 - y^2", "x y", [1.0, 1e-3])
    assert not result.converged and result.value < -1e100


def test_newton_reuses_the_compiled_derivatives():
    f = sc.parse("x^4 + x*y + 2*y^2 + cos(y)")
    sc.newton(f, "x y", [1, 2])
    before = [c.cache_info() for c in (optimize._compiled_function, optimize._compiled_hessian)]
    sc.newton(f, "x y", [3, -4])
    after = [c.cache_info() for c in (optimize._compiled_function, optimize._compiled_hessian)]
    assert [a.misses for a in after] == [b.misses for b in before]


# --- errors ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("formula, at", [
    ("x^2 + y", [1, 2]), ("(x + y)^2", [1, 2]), ("x^3", [0]),
    ("7*(x/10 + 3*y/10)^2", [0.3, 0.7]),  # singular, but rounding hides it from the LU solve
])
def test_singular_hessian(formula, at):
    names = ["x", "y"][:len(at)]
    with pytest.raises(ValueError, match="Hessian .* is singular"):
        sc.newton_step(formula, names, at)


@pytest.mark.parametrize("step", [
    lambda: sc.newton_step("log(x)", ["x"], [0]),
    lambda: sc.gradient_step("sqrt(x)", ["x"], [-1], 0.1),
    lambda: sc.gradient_step("1/x", ["x"], [0.0], 0.1),
])
def test_derivatives_not_finite_at_the_point(step):
    with pytest.raises(ValueError, match="not finite"):
        step()


@pytest.mark.parametrize("lr", [0, -0.1, float("nan"), float("inf")])
def test_learning_rate_must_be_positive(lr):
    with pytest.raises(ValueError, match="learning rate"):
        sc.gradient_step("x^2", ["x"], [1], lr)


@pytest.mark.parametrize("lr", ["0.1", None, True])
def test_learning_rate_must_be_a_number(lr):
    with pytest.raises(TypeError, match="learning rate"):
        sc.gradient_step("x^2", ["x"], [1], lr)


@pytest.mark.parametrize("at, words", [
    ([1.0], "needs 2 values"), ([1, 2, 3], "needs 2 values"), ({"x": 1}, "no value for y"),
    ({"x": 1, "y": 2, "z": 3}, "not among the variables"), ([1, float("nan")], "finite"),
])
def test_bad_points(at, words):
    with pytest.raises(ValueError, match=words):
        sc.newton_step("x^2 + y^2", ["x", "y"], at)


def test_point_must_be_numbers():
    with pytest.raises(TypeError, match="numbers"):
        sc.newton_step("x^2", ["x"], ["a"])


@pytest.mark.parametrize("call, error, words", [
    (lambda: sc.newton("x^2", "x", [1], tol=0), sc.SymcalcError, "tolerance"),
    (lambda: sc.newton("x^2", "x", [1], tol=float("nan")), sc.SymcalcError, "tolerance"),
    (lambda: sc.newton("x^2", "x", [1], tol="1e-8"), sc.SymcalcTypeError, "tolerance"),
    (lambda: sc.newton("x^2", "x", [1], max_steps=0), sc.SymcalcError, "max_steps"),
    (lambda: sc.newton("x^2", "x", [1], max_steps=2.5), sc.SymcalcTypeError, "max_steps"),
    (lambda: sc.newton("x^2", "x", [1], max_steps=True), sc.SymcalcTypeError, "max_steps"),
    (lambda: sc.newton("x^2 + y^2", "x y", [1]), sc.SymcalcError, "needs 2 values"),
    (lambda: sc.newton("log(x)", "x", [-1]), sc.DomainError, "not finite"),
    (lambda: sc.newton("x +", "x", [1]), sc.ParseError, None),
    (lambda: sc.newton_step("x^2", "x", [1], damping=1), sc.SymcalcTypeError, "damping"),
    (lambda: sc.newton_step("x^2", "x", [1], line_search="yes"), sc.SymcalcTypeError,
     "line_search"),
    (lambda: sc.newton_step("x^4 - 2*x^2", "x", [0.1], line_search=True), sc.DomainError,
     "not a descent direction"),
])
def test_bad_newton_input(call, error, words):
    with pytest.raises(error, match=words):
        call()


@pytest.mark.parametrize("formula, names, start, minima", [
    ("(x^2 - 1)^2", ["x"], [1e-9], [[1.0], [-1.0]]),  # a local maximum, gradient within tol
    ("(x^2 - 1)^2", ["x"], [0.0], [[1.0], [-1.0]]),  # exactly stationary
    ("x^4 - x^2 + y^2", ["x", "y"], [0.0, 0.0], [[0.5 ** 0.5, 0.0], [-0.5 ** 0.5, 0.0]]),  # saddle
    ("(x^2 + y^2 - 1)^2", ["x", "y"], [0.0, 0.0], None),  # a maximum in a ring of minima
])
def test_newton_leaves_a_stationary_point_that_is_not_a_minimum(formula, names, start, minima):
    g, h = sympy_gradient_and_hessian(formula, names, start)
    assert np.max(np.abs(g)) <= 1e-8 and np.linalg.eigvalsh(h).min() < 0  # not a minimum
    result = sc.newton(formula, names, start)
    assert result.converged and result.steps >= 1
    g, h = sympy_gradient_and_hessian(formula, names, result.point)
    assert np.max(np.abs(g)) <= 1e-8 and np.linalg.eigvalsh(h).min() >= -1e-8  # a minimum
    assert result.value == pytest.approx(min(
        float(sympy.sympify(formula).subs(dict(zip(sympy.symbols(names), p))))
        for p in (minima or [[1.0, 0.0]])), abs=1e-12)
    if minima:
        assert any(np.allclose(result.point, p, atol=1e-8) for p in minima)


def test_newton_does_not_claim_convergence_at_a_maximum_it_cannot_leave():
    # -x^2 has no minimum: the step along the negative curvature runs off to -inf
    result = sc.newton("-x^2", "x", [0.0])
    assert not result.converged
    result = sc.newton("x^4", "x", [0.0])  # a degenerate minimum: positive semidefinite
    assert result.converged and result.steps == 0


@pytest.mark.parametrize("formula, names, at", [
    ("(x^2 - 1)^2", ["x"], [0.0]), ("x^4 - x^2 + y^2", ["x", "y"], [0.0, 0.0]),
    ("-x^2 - y^2", ["x", "y"], [0.0, 0.0]),
])
def test_the_damped_step_leaves_a_stationary_point_that_is_not_a_minimum(formula, names, at):
    g, h = sympy_gradient_and_hessian(formula, names, at)
    assert not np.any(g) and np.linalg.eigvalsh(h).min() < 0
    f = sympy.lambdify(sympy.symbols(names), sympy.sympify(formula))
    for line_search in (False, True):
        step = sc.newton_step(formula, names, at, damping=True, line_search=line_search)
        assert np.any(step) and step @ h @ step < 0  # along negative curvature
        if line_search:
            assert f(*(np.array(at) + step)) < f(*at)
    # at a minimum the damped step stays
    assert not np.any(sc.newton_step("x^2 + y^4", "x y", [0, 0], damping=True, line_search=True))
