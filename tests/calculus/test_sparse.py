"""Sparse Jacobians and Hessians, Hessian diagonals, Laplacians and divergence
(symcalc.calculus.sparse).

Every formula is checked against SymPy and central finite differences (tests/oracle.py), every
pattern against the non-zeros of the dense result, and every evaluated value against the dense
result's generated code.
"""

import subprocess
import sys

import numpy as np
import pytest
import sympy
from hypothesis import given, strategies as st

import symcalc as sc
from symcalc.calculus import sparse
from symcalc.core.expr import ONE, ZERO, add
from oracle import Term, check_derivative, check_hessian, check_jacobian, check_terms

scipy_optimize = pytest.importorskip("scipy.optimize")


def rosenbrock(d: int) -> str:
    return " + ".join(f"100*(x{i + 1} - x{i}^2)^2 + (1 - x{i})^2" for i in range(d - 1))


def names(d: int) -> list[str]:
    return [f"x{i}" for i in range(d)]


def bratu(d: int) -> list[str]:
    """The residual of u'' + exp(u) = 0 on a grid of d points, u = 0 beyond both ends."""
    u = names(d)
    left, right = ["0"] + u[:-1], u[1:] + ["0"]
    return [f"{a} - 2*{b} + {c} + exp({b})/{(d + 1) ** 2}" for a, b, c in zip(left, u, right)]


def nonzeros(matrix) -> set[tuple[int, int]]:
    return {(i, j) for i, row in enumerate(matrix) for j, e in enumerate(row) if e is not ZERO}


def pattern(result) -> set[tuple[int, int]]:
    rows, cols = result.pattern
    return set(zip(rows.tolist(), cols.tolist()))


HESSIANS = [
    (rosenbrock(4), names(4)),
    ("x0*sin(x1) + exp(x2)*x3^2 + log(1 + x0^2) + x3", names(4)),
    ("(x0 - x1)^2*(x2 + 1) + sigmoid(x3)*x0 + x2^3", names(4)),
    ("x*(1 + y) - x*y + (x - y)^2 + 2*x*y + z^3*sin(y)", ["x", "y", "z"]),  # (x, y) cancels
]


@pytest.mark.parametrize("f, xs", HESSIANS)
def test_sparse_hessian_agrees_with_sympy_finite_differences_and_the_dense_hessian(f, xs):
    H = sc.hessian(f, xs, sparse=True)
    dense = sc.hessian(f, xs)
    check_hessian(f, xs, H.to_list())
    assert pattern(H) == nonzeros(dense)
    assert all(i <= j for i, j in zip(H.rows, H.cols)) and len(H.entries) == len(H.rows)
    point = np.random.default_rng(1).uniform(0.2, 1.2, len(xs))
    at = sc.lambdify(H, xs)(*point)
    assert type(at).__name__ == "csr_array" and at.shape == (len(xs), len(xs))
    np.testing.assert_allclose(at.toarray(), sc.lambdify(dense, xs)(*point), rtol=1e-12, atol=1e-12)
    assert at.nnz == H.nnz and sorted(zip(*at.nonzero())) == sorted(pattern(H))


JACOBIANS = [
    (bratu(5), names(5)),
    (["x*y + x*z", "sin(z)", "x + z^2", "y^2*exp(x)"], ["x", "y", "z"]),
]


@pytest.mark.parametrize("fs, xs", JACOBIANS)
def test_sparse_jacobian_agrees_with_sympy_finite_differences_and_the_dense_jacobian(fs, xs):
    J = sc.jacobian(fs, xs, sparse=True)
    dense = sc.jacobian(fs, xs)
    check_jacobian(fs, xs, J.to_list())
    assert pattern(J) == nonzeros(dense) and J.shape == (len(fs), len(xs))
    point = np.random.default_rng(2).uniform(-1, 1, len(xs))
    np.testing.assert_allclose(sc.lambdify(J, xs)(*point).toarray(),
                               sc.lambdify(dense, xs)(*point), rtol=1e-12, atol=1e-14)


def test_many_points_give_values_of_shape_nnz_by_n_beside_the_pattern():
    f, xs = "x0^2*x1 + sin(x1)*x2 + x2^4", names(3)
    H, dense = sc.hessian(f, xs, sparse=True), sc.lambdify(sc.hessian(f, xs), xs)
    points = np.random.default_rng(3).uniform(-1, 1, (7, 3))
    batch = sc.lambdify(H, xs)(*points.T)
    assert isinstance(batch, sc.SparseBatch) and batch.values.shape == (H.nnz, 7)
    assert batch.shape == (3, 3) and (batch.rows, batch.cols) == H.pattern
    np.testing.assert_allclose(batch.toarray(), dense(*points.T), rtol=1e-12)
    np.testing.assert_allclose(batch.point(4).toarray(), dense(*points[4]), rtol=1e-12)
    packed = sc.lambdify(H, xs, packed=True)
    np.testing.assert_allclose(packed(points).values, batch.values, rtol=1e-15)
    np.testing.assert_allclose(packed(points[2]).toarray(), dense(*points[2]), rtol=1e-12)


def test_parameters_and_factored_sums():
    f, xs = "c*((x0 - x1)^2 + x1*x2) + a*x2^4", names(3)
    H = sc.hessian(f, xs, sparse=True)
    check_hessian(f, xs, H.to_list())
    assert pattern(H) == nonzeros(sc.hessian(f, xs))
    h = sc.lambdify(H, xs + ["a", "c"])
    expected = sc.lambdify(sc.hessian(f, xs), xs + ["a", "c"])(0.3, 0.7, -0.4, 2.0, 3.0)
    np.testing.assert_allclose(h(0.3, 0.7, -0.4, 2.0, 3.0).toarray(), expected, rtol=1e-12)
    with pytest.raises(sc.SymcalcError, match="also depend on a"):
        sc.lambdify(H, xs + ["c"])
    with pytest.raises(sc.SymcalcError, match="missing: x2"):
        sc.lambdify(H, ["x0", "x1", "a", "c"])


@pytest.mark.parametrize("f, xs", HESSIANS[:3])
def test_hessian_diagonal_and_laplacian_agree_with_sympy_and_finite_differences(f, xs):
    diagonal = sc.hessian_diag(f, xs)
    assert len(diagonal) == len(xs)
    for x, entry in zip(xs, diagonal):
        check_derivative(f, (x, 2), entry)
    check_terms([Term(ONE, sc.parse(f), ((sc.Symbol(x), 2),)) for x in xs], sc.laplacian(f, xs))
    point = np.random.default_rng(4).uniform(0.2, 1.2, len(xs))
    dense = sc.lambdify(sc.hessian(f, xs), xs)(*point)
    np.testing.assert_allclose(sc.lambdify(diagonal, xs)(*point), np.diag(dense), rtol=1e-12)


def test_divergence_agrees_with_sympy_and_finite_differences():
    fs, xs = ["x*y + sin(z)", "y^2*z", "exp(x*z) + z"], ["x", "y", "z"]
    check_terms([Term(ONE, sc.parse(f), ((sc.Symbol(x), 1),)) for f, x in zip(fs, xs)],
                sc.divergence(fs, xs))
    with pytest.raises(sc.SymcalcError, match="as many functions as variables"):
        sc.divergence(fs, ["x", "y"])


def test_the_laplacian_of_a_gaussian_reads_as_a_person_writes_it():
    result = sc.laplacian("exp(-(x^2+y^2)/2)", ["x", "y"])
    check_terms([Term(ONE, sc.parse("exp(-(x^2+y^2)/2)"), ((sc.Symbol(v), 2),)) for v in "xy"],
                result)
    text = str(result)
    assert text.count("exp(") == 1 and sc.parse(text) == result  # the exponential taken out once


NETWORK = {"W": ("h", "n"), "b": ("h",), "v": ("h",), "x": ("n",)}


def _network(W, b, v, x):
    return v @ np.tanh(W @ x + b)


def test_matrix_forms_of_the_laplacian_diagonal_and_divergence_match_finite_differences():
    rng = np.random.default_rng(5)
    W, b, v, x = rng.normal(size=(4, 3)), rng.normal(size=4), rng.normal(size=4), rng.normal(size=3)
    f = sc.parse("v@tanh(W@x + b)", shapes=NETWORK)
    step, eye = 1e-4, np.eye(3)
    second = np.array([(_network(W, b, v, x + step * e) - 2 * _network(W, b, v, x)
                        + _network(W, b, v, x - step * e)) / step**2 for e in eye])
    laplacian = sc.laplacian(f, "x")
    assert laplacian.shape == ()
    value = sc.lambdify(laplacian, ["W", "b", "v", "x"])(W, b, v, x)
    np.testing.assert_allclose(value, second.sum(), rtol=1e-6)
    diagonal = sc.lambdify(sc.hessian_diag(f, "x"), ["W", "b", "v", "x"])(W, b, v, x)
    np.testing.assert_allclose(diagonal, second, rtol=1e-6, atol=1e-7)
    field = sc.parse("tanh(W@x + b)", shapes={"W": ("n", "n"), "b": ("n",), "x": ("n",)})
    A, c = rng.normal(size=(3, 3)), rng.normal(size=3)
    first = [(np.tanh(A @ (x + step * e) + c) - np.tanh(A @ (x - step * e) + c))[k] / (2 * step)
             for k, e in enumerate(eye)]
    value = sc.lambdify(sc.divergence(field, "x"), ["W", "b", "x"])(A, c, x)
    np.testing.assert_allclose(value, sum(first), rtol=1e-6)


def test_building_differentiates_each_term_structure_once(monkeypatch):
    """The symbolic work does not grow with d: Rosenbrock's terms are two structures."""
    calls = []
    original = sparse._derivative
    monkeypatch.setattr(sparse, "_derivative", lambda *a: calls.append(1) or original(*a))
    counts = []
    for d in (20, 2000):
        xs = sc.symbols(" ".join(names(d)))
        f = add(*[100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(d - 1)])
        calls.clear()
        H = sc.hessian(f, xs, sparse=True)
        counts.append(len(calls))
        assert H.nnz == 3 * d - 2 and len(H.rows) == 2 * d - 1
    assert counts[0] == counts[1]


# --- random sparse sums ---------------------------------------------------------------------------
PIECES = ["{a}*{b}", "sin({a})*{b}", "exp({a})*{b}^2", "({a} - {b}^2)^2", "({a} - {b})^2",
          "log(1 + {a}^2)", "{a}^3*{b}*{c}", "tanh({a} + {b}*{c})", "{a}*(1 + {b})", "{a}^4"]


@st.composite
def sparse_sums(draw):
    d = draw(st.integers(3, 6))
    count = draw(st.integers(1, 6))
    terms = []
    for _ in range(count):
        piece = draw(st.sampled_from(PIECES))
        a, b, c = draw(st.permutations(range(d)))[:3]
        coefficient = draw(st.sampled_from([-3, -1, 1, 2, 5]))
        terms.append(f"{coefficient}*" + piece.format(a=f"x{a}", b=f"x{b}", c=f"x{c}"))
    return " + ".join(terms), names(d)


@given(sparse_sums(), st.integers(0, 2**32 - 1))
def test_random_sparse_sums_match_the_dense_hessian(case, seed):
    f, xs = case
    H, dense = sc.hessian(f, xs, sparse=True), sc.hessian(f, xs)
    assert pattern(H) == nonzeros(dense)
    point = np.random.default_rng(seed).uniform(-1, 1, len(xs))
    values = sc.lambdify(dense, xs)(*point)
    np.testing.assert_allclose(sc.lambdify(H, xs)(*point).toarray(), values, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(sc.lambdify(sc.hessian_diag(f, xs), xs)(*point), np.diag(values),
                               rtol=1e-10, atol=1e-10)
    laplacian = sc.lambdify(sc.laplacian(f, xs), xs)(*point)
    np.testing.assert_allclose(laplacian, np.trace(values), rtol=1e-10, atol=1e-10)
    # independent of symcalc's Hessians: SymPy's, and central differences of the gradient
    symbols = sympy.symbols(xs)
    expected = sympy.lambdify(symbols, sympy.hessian(sc.to_sympy(sc.parse(f)), symbols))(*point)
    np.testing.assert_allclose(values, np.array(expected, dtype=float), rtol=1e-10, atol=1e-10)
    gradient, step = sc.lambdify(sc.grad(f, xs), xs, packed=True), 1e-5
    central = np.array([(gradient(point + step * e) - gradient(point - step * e)) / (2 * step)
                        for e in np.eye(len(xs))])
    np.testing.assert_allclose(values, central, rtol=1e-6, atol=1e-6)


# --- with SciPy ----------------------------------------------------------------------------------
def test_trust_constr_with_the_sparse_hessian_solves_a_50_dimensional_rosenbrock():
    d = 50
    f, xs = rosenbrock(d), names(d)
    value = sc.lambdify(f, xs, packed=True)
    gradient = sc.lambdify(sc.grad(f, xs), xs, packed=True)
    hessian = sc.lambdify(sc.hessian(f, xs, sparse=True), xs, packed=True)
    start = np.full(d, 0.5)
    start[::2] = -1.2
    result = scipy_optimize.minimize(value, start, method="trust-constr", jac=gradient,
                                     hess=hessian, options={"gtol": 1e-10, "maxiter": 2000})
    assert result.success
    np.testing.assert_allclose(result.x, np.ones(d), atol=1e-6)


def test_least_squares_with_the_sparsity_pattern_or_the_sparse_jacobian():
    d = 40
    fs, xs = bratu(d), names(d)
    residual = sc.lambdify(fs, xs, packed=True)
    J = sc.jacobian(fs, xs, sparse=True)
    assert J.sparsity().nnz == 3 * d - 2
    by_pattern = scipy_optimize.least_squares(residual, np.zeros(d), jac_sparsity=J.sparsity(),
                                              xtol=1e-14, ftol=1e-14, gtol=1e-14)
    exact = scipy_optimize.least_squares(residual, np.zeros(d), xtol=1e-14, ftol=1e-14, gtol=1e-14,
                                         jac=sc.lambdify(J, xs, packed=True), tr_solver="lsmr")
    for result in (by_pattern, exact):
        assert np.abs(residual(result.x)).max() < 1e-10
    np.testing.assert_allclose(by_pattern.x, exact.x, atol=1e-8)
    assert exact.x.max() > 0.01  # a non-trivial solution


# --- errors and laziness --------------------------------------------------------------------------
def test_sparse_asks_for_scalar_formulas():
    with pytest.raises(sc.SymcalcError, match="scalar formulas"):
        sc.hessian("x@x", "x", shapes={"x": ("n",)}, sparse=True)


def test_a_missing_scipy_is_named_with_the_extra(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "scipy" else real(name, *a))
    with pytest.raises(sc.SymcalcError, match=r'pip install "symcalc\[sparse\]"'):
        sc.lambdify(sc.hessian("x*y", "x y", sparse=True), "x y")


def test_building_imports_neither_scipy_nor_sympy_and_evaluating_imports_scipy():
    code = ("import sys, symcalc as sc\n"
            "H = sc.hessian('x^2*y + y^3', 'x y', sparse=True); H[0, 1]; sc.laplacian('x^3', 'x')\n"
            "h = sc.lambdify(H, 'x y'); print('scipy' in sys.modules, 'sympy' in sys.modules)\n"
            "h(1.0, 2.0); print('scipy' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "True"]


def test_entries_are_indexed_symmetrically_and_checked():
    H = sc.hessian("x^2*y + z", "x y z", sparse=True)
    assert H[1, 0] is H[0, 1] and H[2, 2] is ZERO and H[-3, -2] is H[0, 1]
    with pytest.raises(IndexError):
        H[3, 0]
    assert repr(H).startswith("SparseDerivatives(hessian 3 x 3")


def test_abstract_functions_and_cancelling_terms_without_numeric_forms():
    f = sc.parse("f(x*y) + g(y, z)^2 + x*(1 + y) - x*y", functions=["f", "g"])
    H, dense = sc.hessian(f, "x y z", sparse=True), sc.hessian(f, "x y z")
    assert pattern(H) == nonzeros(dense)
    assert all(sc.simplify(a - b) is ZERO for row, other in zip(H.to_list(), dense)
               for a, b in zip(row, other))  # the dense Hessian is checked in test_abstract_functions


def test_the_sparse_jacobian_of_one_function_is_its_gradient():
    f, xs = rosenbrock(6), names(6)
    J = sc.jacobian([f], xs, sparse=True)
    check_jacobian([f], xs, J.to_list())
    point = np.random.default_rng(6).uniform(-1, 1, 6)
    np.testing.assert_allclose(sc.lambdify(J, xs, packed=True)(point).toarray()[0],
                               sc.lambdify(sc.grad(f, xs), xs, packed=True)(point), rtol=1e-12)


def test_wrong_arguments_are_clear_errors():
    h = sc.lambdify(sc.hessian("x^2*y", "x y", sparse=True), "x y")
    with pytest.raises(sc.SymcalcTypeError, match="takes 2 arguments"):
        h(1.0)
    packed = sc.lambdify(sc.hessian("x^2*y", "x y", sparse=True), "x y", packed=True)
    with pytest.raises(sc.ShapeError, match="last axis has length 2"):
        packed(np.ones(3))
    with pytest.raises(sc.SymcalcError, match="NumPy backend"):
        sc.lambdify(sc.hessian("x^2*y", "x y", sparse=True), "x y", backend="jax")
