"""The calculus API: argument handling, structure sharing, and the shapes of every result.

The values of derivatives are checked against SymPy and finite differences in
test_derivative_corpus.py; here each result is also checked numerically against SymPy so that no
assertion rests on a hand-written answer.
"""

import random

import pytest
import sympy

import symcalc as sc
from symcalc.language.arguments import Derivatives
from symcalc.core.expr import count_ops, postorder

x, y, z, r, t = sc.symbols("x y z r t")


def sympy_of(e):
    return sc.to_sympy(e)


def agree(ours, theirs, symbols, trials=5, tol=1e-9):
    """ours (a symcalc Expr) and theirs (a SymPy expression) agree at random points."""
    rng = random.Random(1)
    f = sympy.lambdify(symbols, sympy_of(ours))
    g = sympy.lambdify(symbols, theirs)
    for _ in range(trials):
        point = [rng.uniform(0.3, 1.7) for _ in symbols]
        a, b = float(f(*point)), float(g(*point))
        assert abs(a - b) <= tol * max(1.0, abs(b)), (ours, theirs, point)


SX, SY = sympy.symbols("x y")


def test_diff_orders_and_mixed_partials():
    f = "x^3*y^2 + sin(x*y)"
    F = SX**3 * SY**2 + sympy.sin(SX * SY)
    agree(sc.diff(f, "x"), sympy.diff(F, SX), [SX, SY])
    agree(sc.diff(f, "x", 3), sympy.diff(F, SX, 3), [SX, SY])
    agree(sc.diff(f, "x", "y"), sympy.diff(F, SX, SY), [SX, SY])
    agree(sc.diff(f, "x", 2, "y"), sympy.diff(F, SX, 2, SY), [SX, SY])
    assert sc.diff(f, "x", 0) is sc.parse(f)
    assert sc.diff("x^2 + 1") is 2 * x  # the only variable is used


def test_diff_argument_errors():
    with pytest.raises(ValueError, match=">= 0"):
        sc.diff("x^2", "x", -1)
    with pytest.raises(TypeError, match="integer"):
        sc.diff("x^2", "x", 1.5)
    with pytest.raises(TypeError):
        sc.diff("x^2", 2)
    with pytest.raises(ValueError, match="needs a variable"):
        sc.diff("x*y")
    with pytest.raises(ValueError, match="function name"):
        sc.diff("x", "sin")
    with pytest.raises(sc.ParseError):
        sc.diff("x +", "x")


def test_gradient_entries_are_the_partial_derivatives():
    f = "sigmoid(w*x + b) + x^2"
    g = sc.grad(f, "w x b")
    assert isinstance(g, Derivatives) and len(g) == 3
    for entry, v in zip(g, "wxb"):
        assert entry is sc.diff(f, v)
    assert [str(e) for e in sc.grad("x*y", [x, y])] == ["y", "x"]


def test_hessian_is_symmetric_by_identity_and_matches_sympy():
    f = "x^2*y + y^3 + exp(x*y)"
    h = sc.hessian(f, ["x", "y"])
    assert h[0][1] is h[1][0]
    H = sympy.hessian(SX**2 * SY + SY**3 + sympy.exp(SX * SY), [SX, SY])
    for i in range(2):
        for j in range(2):
            agree(h[i][j], H[i, j], [SX, SY])
    assert sc.hessian("x^2*y + y^3", "x y") == [[2 * y, 2 * x], [2 * x, 6 * y]]


def test_product_gradient_is_linear_in_the_number_of_variables():
    for d in (10, 20, 30):
        xs = sc.symbols([f"x{i}" for i in range(1, d + 1)])
        f = sc.parse("*".join(str(v) for v in xs))
        g = sc.grad(f, xs)
        distinct = set(postorder(g)) - set(xs)
        assert len(distinct) == d  # one product node per entry
        assert count_ops(g.graph) <= 3 * d  # the shared graph: O(d), not O(d^2)
        assert count_ops(g) == d * (d - 2)  # the readable forms are O(d^2), as for any CAS


def test_gradient_graph_agrees_with_readable_forms():
    f = "0.5*(a*t1 + b*t2 - y)^2 + logsumexp(a, b)*t1"
    g = sc.grad(f, "a b")
    for shown, raw in zip(g, g.graph):
        assert sc.simplify(raw) is sc.simplify(shown) or agree_both(shown, raw)


def agree_both(a, b):
    s = sorted(a.free_symbols | b.free_symbols, key=lambda v: v.name)
    symbols = [sympy.Symbol(v.name) for v in s]
    agree(a, sympy_of(b), symbols)
    return True


def test_jacobian_and_determinant():
    j = sc.jacobian(["r*cos(t)", "r*sin(t)"], ["r", "t"])
    assert len(j) == 2 and all(len(row) == 2 for row in j)
    assert j[0][0] is sc.cos(t) and j[1][1] is r * sc.cos(t)
    assert sc.jacobian_det(["r*cos(t)", "r*sin(t)"], ["r", "t"]) is r
    assert sc.jacobian_det("r*cos(t), r*sin(t)", "r t") is r
    rho, phi, theta = sympy.symbols("r p t")
    spherical = ["r*sin(p)*cos(t)", "r*sin(p)*sin(t)", "r*cos(p)"]
    assert str(sc.jacobian_det(spherical, ["r", "p", "t"])) == "r^2*sin(p)"
    with pytest.raises(ValueError, match="as many"):
        sc.jacobian_det(["x", "y"], ["x"])


def test_products_with_vectors_match_the_matrices():
    fs = ["x*y*z", "sin(x) + y^2", "exp(z)*x"]
    xs = ["x", "y", "z"]
    v = [1, -2, 3]
    J = sc.jacobian(fs, xs)
    jv = sc.jvp(fs, xs, v)
    vj = sc.vjp(fs, xs, v)
    for i in range(3):
        assert sc.simplify(sum((J[i][k] * v[k] for k in range(3)), sc.parse("0"))) is jv[i]
        expected = sc.simplify(sum((J[k][i] * v[k] for k in range(3)), sc.parse("0")))
        assert agree_both(vj[i], expected)
    H = sc.hessian(fs[0] + " + " + fs[1], xs)
    hv = sc.hvp(fs[0] + " + " + fs[1], xs, v)
    for i in range(3):
        assert agree_both(hv[i], sc.simplify(sum((H[i][k] * v[k] for k in range(3)), sc.parse("0"))))
    # a direction that mentions the variables is held fixed, not differentiated
    assert sc.hvp("x^3*y", "x y", ["y", "x"]) == [3 * x**3 + 6 * x * y**2, 3 * x**2 * y]


def test_directional_derivative_uses_the_direction_as_given():
    assert sc.directional("x^2 + y^2", ["x", "y"], [1, 1]) is 2 * x + 2 * y
    assert sc.directional("x*y", "x y", [3, 0]) is 3 * y
    with pytest.raises(ValueError, match="2 entries, expected 3"):
        sc.directional("x", "x y z", [1, 2])


def test_variables_are_checked():
    with pytest.raises(ValueError, match="twice"):
        sc.grad("x*y", ["x", "x"])
    with pytest.raises(TypeError):
        sc.grad("x*y", [1, 2])
    assert sc.grad("x", ["y"]) == [0]
