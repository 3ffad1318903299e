"""Derivatives in matrix form: the identities people check first, each printed as a person writes
it and proved by unrolling to scalars (scalar engine and SymPy) and by central differences."""

import numpy as np
import pytest

import symcalc as sc
from matrix_oracle import check, random_arrays

LSQ = {"A": ("m", "n"), "t": ("n",), "b": ("m",)}
LOGISTIC = {"X": ("m", "n"), "w": ("n",), "y": ("m",)}


def symbol(f, name):
    return next(s for s in f.free_symbols if s.data == name)


def test_least_squares_gradient_hessian_and_gradient_in_the_matrix():
    f = sc.parse("0.5*norm(A@t - b)^2", shapes=LSQ)
    g, h, ga = sc.grad(f, "t"), sc.hessian(f, "t"), sc.grad(f, "A")
    assert (str(g), str(h), str(ga)) == ("A.T@(A@t - b)", "A.T@A", "outer(A@t - b, t)")
    assert g.shape == ("n",) and h.shape == ("n", "n") and ga.shape == ("m", "n")
    check(f, symbol(f, "t"), g, with_sympy=True)
    check(g, symbol(f, "t"), h)
    check(f, symbol(f, "A"), ga, with_sympy=True)


def test_python_operators_build_the_same_formula():
    A, t, b = sc.matrix("A", "m", "n"), sc.vector("t", "n"), sc.vector("b", "m")
    f = 0.5 * sc.norm(A @ t - b) ** 2
    assert f is sc.parse("0.5*norm(A@t - b)^2", shapes=LSQ)
    assert f.shape == () and sc.grad(f, "t") is sc.grad("0.5*norm(A@t - b)^2", "t", shapes=LSQ)


def test_quadratic_form():
    f = sc.parse("x@Q@x", shapes={"x": "n", "Q": "n,n"})
    g = sc.grad(f, "x")
    assert str(g) == "(Q + Q.T)@x"
    assert str(sc.hessian(f, "x")) == "Q + Q.T"
    check(f, symbol(f, "x"), g, with_sympy=True)
    check(g, symbol(f, "x"), sc.hessian(f, "x"))
    check(f, symbol(f, "Q"), sc.grad(f, "Q"))


def test_trace_of_a_product():
    f = sc.parse("trace(A@X@B)", shapes={"A": "p,m", "X": "m,n", "B": "n,p"})
    g = sc.grad(f, "X")
    assert str(g) == "A.T@B.T"
    check(f, symbol(f, "X"), g, with_sympy=True)


def test_logdet_and_det():
    f = sc.parse("logdet(X)", shapes={"X": "n,n"})
    assert str(sc.grad(f, "X")) == "inv(X).T"
    check(f, symbol(f, "X"), sc.grad(f, "X"), spd="X", with_sympy=True)
    d = sc.parse("det(X)", shapes={"X": "m,m"})
    assert str(sc.grad(d, "X")) == "det(X)*inv(X).T"
    check(d, symbol(d, "X"), sc.grad(d, "X"), spd="X")


def test_logsumexp_softmax_and_its_hessian():
    f = sc.parse("logsumexp(z)", shapes={"z": "k"})
    g, h = sc.grad(f, "z"), sc.hessian(f, "z")
    assert str(g) == "softmax(z)"
    assert str(h) == "diag(softmax(z)) - outer(softmax(z), softmax(z))"
    z = symbol(f, "z")
    check(f, z, g, with_sympy=True)
    check(g, z, h)


def test_logistic_regression():
    f = sc.parse("sum(softplus(X@w)) - y@X@w", shapes=LOGISTIC)
    g, h = sc.grad(f, "w"), sc.hessian(f, "w")
    assert str(g) == "X.T@(sigmoid(X@w) - y)"
    assert str(h) == "X.T@diag(sigmoid(X@w)*(1 - sigmoid(X@w)))@X"
    w = symbol(f, "w")
    check(f, w, g, with_sympy=True)
    check(g, w, h)
    check(f, symbol(f, "X"), sc.grad(f, "X"))


def test_norm_and_its_hessian():
    f = sc.parse("norm(x)", shapes={"x": "n"})
    assert str(sc.grad(f, "x")) == "x/norm(x)"
    x = symbol(f, "x")
    check(f, x, sc.grad(f, "x"), with_sympy=True)
    check(sc.grad(f, "x"), x, sc.hessian(f, "x"))
    frobenius = sc.parse("norm(A)", shapes={"A": "m,n"})
    check(frobenius, symbol(frobenius, "A"), sc.grad(frobenius, "A"))


def test_two_layer_tanh_network_in_each_weight_matrix():
    shapes = {"W1": "h,n", "W2": "k,h", "b1": "h", "b2": "k", "x": "n", "y": "k"}
    f = sc.parse("0.5*norm(W2@tanh(W1@x + b1) + b2 - y)^2", shapes=shapes)
    g2 = sc.grad(f, "W2")
    assert str(g2) == "outer(W2@tanh(W1@x + b1) + b2 - y, tanh(W1@x + b1))"
    g1 = sc.grad(f, "W1")
    assert str(g1) == "outer((W2.T@(W2@tanh(W1@x + b1) + b2 - y))*(1 - tanh(W1@x + b1)^2), x)"
    for name in ("W1", "W2", "b1", "b2"):
        check(f, symbol(f, name), sc.grad(f, name))


def test_softmax_cross_entropy():
    shapes = {"W": "k,n", "x": "n", "y": "k"}
    f = sc.parse("logsumexp(W@x) - y@W@x", shapes=shapes)
    assert str(sc.grad(f, "W")) == "outer(softmax(W@x) - y, x)"
    check(f, symbol(f, "W"), sc.grad(f, "W"), with_sympy=True)
    g = sc.grad(f, "x")
    check(g, symbol(f, "x"), sc.hessian(f, "x"))


@pytest.mark.parametrize("text, shapes, var", [
    ("sum(exp(A@t))", LSQ, "t"),
    ("sum(A*A)", LSQ, "A"),
    ("t@inv(B)@t", {"t": "n", "B": "n,n"}, "B"),
    ("trace(inv(B)@C)", {"B": "n,n", "C": "n,n"}, "B"),
    ("sum(A.T@b)^2 + s*norm(t)", {**LSQ, "s": ()}, "s"),
    ("b@A@t/(1 + t@t)", LSQ, "t"),
    ("sum(sin(A)*A)", LSQ, "A"),
    ("sum(softmax(A@t)*b)", LSQ, "t"),
    ("sum(diag(outer(t, u)))", {"t": "n", "u": "n"}, "u"),
    ("sum(t^3)/norm(t)", {"t": "n"}, "t"),
])
def test_more_rules(text, shapes, var):
    f = sc.parse(text, shapes=shapes)
    x = symbol(f, var)
    spd = ("B",) if "inv" in text else ()
    check(f, x, sc.grad(f, var), spd=spd)
    if x.ndim == 1:
        check(sc.grad(f, var), x, sc.hessian(f, var), spd=spd)


@pytest.mark.parametrize("text, shapes, var", [
    ("sigmoid(W@x + c)", {"W": "m,n", "x": "n", "c": "m"}, "x"),
    ("softmax(W@x)", {"W": "k,n", "x": "n"}, "x"),
    ("x*norm(x)", {"x": "n"}, "x"),
    ("s*A@t + exp(s)*b", {**LSQ, "s": ()}, "s"),
    ("A*s^2", {"A": "m,n", "s": ()}, "s"),
])
def test_jacobians(text, shapes, var):
    g = sc.parse(text, shapes=shapes)
    x = symbol(g, var)
    j = sc.jacobian(g, var)
    assert j.shape == g.shape + x.shape
    check(g, x, j)


def test_jacobian_of_sigmoid_layer_reads_as_a_person_writes_it():
    j = sc.jacobian("sigmoid(W@x + c)", "x", shapes={"W": "m,n", "x": "n", "c": "m"})
    assert str(j) == "diag(sigmoid(W@x + c)*(1 - sigmoid(W@x + c)))@W"


def test_derivatives_by_a_matrix_are_index_expressions_of_shape_f_plus_x():
    f = sc.parse("0.5*norm(A@t - b)^2", shapes=LSQ)
    h = sc.hessian(f, "A")
    assert h.shape == ("m", "n", "m", "n") and h.kind == "einsum"
    check(sc.grad(f, "A"), symbol(f, "A"), h)
    g = sc.parse("A@t", shapes=LSQ)
    j = sc.jacobian(g, "A")
    assert j.shape == ("m", "m", "n")
    check(g, symbol(g, "A"), j)
    cubic = sc.hessian(sc.parse("sum(A*A*A)", shapes=LSQ), "A")
    with pytest.raises(sc.NoMatrixFormError, match="at most 4"):
        sc.jacobian(cubic, "A")  # 6 indices
    with pytest.raises(ValueError, match="scalar"):
        sc.grad(sc.parse("A@t", shapes=LSQ), "t")


def test_a_variable_the_formula_does_not_mention_gets_zeros():
    f = sc.parse("norm(t)", shapes=LSQ)
    assert str(sc.grad(f, "b", shapes=LSQ)) == "zeros(m)"
    assert sc.grad(f, ["t", "b"], shapes=LSQ)[1].shape == ("m",)


def test_result_size_does_not_depend_on_the_sizes():
    texts = []
    for m, n in (("m", "n"), (3, 2), (300, 200)):
        shapes = {"A": (m, n), "t": (n,), "b": (m,)}
        texts.append(str(sc.hessian("0.5*norm(A@t - b)^2", "t", shapes=shapes)))
    assert texts == ["A.T@A"] * 3


def test_hessian_blocks_in_a_vector_and_a_scalar():
    shapes = {"t": "n", "B": "n,n", "s": ()}
    f = sc.parse("s^2*t@B@t + exp(s)*norm(t)", shapes=shapes)
    blocks = sc.hessian(f, ["t", "s"])
    t, s = symbol(f, "t"), symbol(f, "s")
    assert str(blocks[0][1]) == str(blocks[1][0]) == "exp(s)*t/norm(t) + 2*s*((B + B.T)@t)"
    assert str(blocks[0][0]) == "s^2*(B + B.T) + exp(s)*eye(n)/norm(t) - exp(s)*outer(t, t)/norm(t)^3"
    for first, x in ((sc.grad(f, "t"), t), (sc.grad(f, "s"), s)):
        for block, y in zip(blocks[[t, s].index(x)], (t, s)):
            check(first, y, block)


def test_sqrt_of_a_dot_product():
    f = sc.parse("sqrt(t@t + 1)", shapes={"t": "n"})
    assert str(sc.grad(f, "t")) == "t/sqrt(1 + t@t)"
    check(f, symbol(f, "t"), sc.grad(f, "t"), with_sympy=True)


def test_a_variable_exponent_and_second_derivatives_in_a_scalar():
    f = sc.parse("sum(u^s) + logdet(B + s^2*eye(n)) + det(B + s*eye(n))",
                 shapes={"u": "n", "B": "n,n", "s": ()})
    s = symbol(f, "s")
    g = sc.grad(f, "s")
    check(f, s, g, spd="B", positive="u")
    check(g, s, sc.hessian(f, "s"), spd="B", positive="u")
    check(f, symbol(f, "u"), sc.grad(f, "u"), spd="B", positive="u")
    check(f, symbol(f, "B"), sc.grad(f, "B"), spd="B", positive="u")


def matrix_products(e):
    """The products of two or more matrices in ``e`` (a chain whose value is a matrix)."""
    from symcalc.matrix.nodes import postorder
    return [n for n in postorder([e]) if n.kind == "matmul" and n.ndim == 2]


RAYLEIGH = {"A": "n,n", "B": "n,n", "x": "n"}


def test_a_gradient_keeps_matrix_vector_products():
    f = sc.parse("(A@x)@(A@x)/((B@x)@(B@x))", shapes=RAYLEIGH)
    g = sc.grad(f, "x")
    assert str(g) == ("2*(A.T@(A@x))/(x@B.T@B@x) "
                      "- 2*(x@A.T@A@x)*(B.T@(B@x))/(x@B.T@B@x)^2")
    assert matrix_products(g) == []
    source = sc.lambdify(g, ["A", "B", "x"]).source
    assert "A.T @ (A @ x)" in source and "A.T @ A" not in source and "B.T @ B" not in source
    # x@A.T@A@x reads the vector A.T@(A@x) the gradient computes anyway
    assert source.count("A @ x") == 1 and source.count("B @ x") == 1
    check(f, symbol(f, "x"), g, with_sympy=True)
    assert sc.parse(str(g), shapes=RAYLEIGH) is g


def test_a_common_coefficient_comes_out_of_a_product():
    f = sc.parse("norm(A@t - b)^2", shapes=LSQ)
    g = sc.grad(f, "t")
    assert str(g) == "2*A.T@(A@t - b)"
    check(f, symbol(f, "t"), g, with_sympy=True)
    assert str(sc.parse("A.T@(-u - v)", shapes={"A": "m,n", "u": "m", "v": "m"})) == "-A.T@(u + v)"
    assert str(sc.parse("sum(3*u - 3*v)", shapes={"u": "m", "v": "m"})) == "3*sum(u - v)"


@pytest.mark.parametrize("text", [
    "(A@x)@(A@x)/((B@x)@(B@x))",       # the gradient has a scalar function of x times A.T@(A@x)
    "(x@A@x)/(x@B@x)",                  # ... times ((A + A.T)/(x@B@x) - ...)@x: a matrix of x
    "logdet(S + outer(x, x))",          # inv of a matrix of x
    "x@inv(S + outer(x, x))@x",
    "sum(exp(outer(x, x)))",            # an entrywise function of a matrix of x
    "(x@x)*(x@A@x)",
    "trace(inv(S + outer(x, x)))",      # a scalar of a matrix of x: the gradient of sum(W*F)
    "logdet(S + diag(x^2))",            # the diagonal of a matrix of x
    "sum(diag(x)@A@diag(x))",
    "norm(A + outer(x, x))",
    "sum(exp(diag(A@exp(outer(x, x)))))",  # the diagonal of a product through exp(outer(x, x))
    "x@(exp(outer(x, x))*(A@exp(outer(x, x))))@x",
])
def test_every_hessian_in_a_vector_has_a_matrix_form(text):
    shapes = {**RAYLEIGH, "S": "n,n"}
    f = sc.parse(text, shapes=shapes)
    x = symbol(f, "x")
    g, h = sc.grad(f, "x"), sc.hessian(f, "x")
    assert h.shape == ("n", "n")
    check(f, x, g, spd="S", with_sympy=True)
    check(g, x, h, spd="S")
    values = sc.lambdify(h, sorted(s.data for s in h.free_symbols | {x}))
    arrays = random_arrays(h.free_symbols | {x}, {"n": 4}, spd="S")
    value = values(*(arrays[name] for name in sorted(arrays)))
    np.testing.assert_allclose(value, value.T, rtol=1e-9, atol=1e-9)


def test_a_hessian_through_a_matrix_function_without_matrix_form_is_an_index_expression():
    # the entrywise product of two matrices of x inside a product: a 3-index contraction
    f = sc.parse("sum(exp(diag(A@(exp(outer(x, x))*(A@exp(outer(x, x)))))))", shapes=RAYLEIGH)
    h = sc.hessian(f, "x")
    assert h.shape == ("n", "n")
    check(sc.grad(f, "x"), symbol(f, "x"), h, sizes={"n": 2})


def unrolled_hessian(f, x, sizes):
    """The scalar engine's Hessian of the unrolled scalar formula, entry by entry."""
    from symcalc.matrix.unroll import symbol_grid, unroll
    scalar_f, xs = unroll(f, sizes)[()], list(symbol_grid(x, sizes).flat)
    first = [sc.diff(scalar_f, xi) for xi in xs]
    return np.array([[sc.diff(d, xj) for xj in xs] for d in first], dtype=object)


@pytest.mark.parametrize("text", [
    "sum(log(1 + exp(-y*(X@w))))",
    "logsumexp(X@w) + 0.5*w@w",
    "sum(softmax(X@w)*y)",
    "sum(tanh(X@w)^2)",
])
def test_hessian_code_scales_rows_and_never_builds_an_m_by_m_matrix(text):
    import tracemalloc
    from matrix_oracle import scalar_values
    f = sc.parse(text, shapes=LOGISTIC)
    w, names = symbol(f, "w"), sorted(s.data for s in f.free_symbols)
    g, h = sc.grad(f, "w"), sc.hessian(f, "w")
    function = sc.lambdify(h, names)
    assert "np.diag(" not in function.source
    check(f, w, g)
    check(g, w, h)
    sizes = {"m": 3, "n": 2}
    arrays = random_arrays(f.free_symbols, sizes, seed=1)
    np.testing.assert_allclose(function(*(arrays[k] for k in names)),
                               scalar_values(unrolled_hessian(f, w, sizes), arrays),
                               rtol=1e-9, atol=1e-10)
    large = random_arrays(f.free_symbols, {"m": 2000, "n": 3}, seed=2)  # m x m: 32 MB
    tracemalloc.start()
    function(*(large[k] for k in names))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2**20, peak


@pytest.mark.parametrize("text", [
    "(A@x)@(A@x) + x@B@x",
    "((A@x)@(A@x))*((B@x)@(B@x))",
    "norm(A@x)^2/norm(B@x)^2",
    "exp((A@x)@(A@x)) + (B@x)@(B@x)",
    "norm(A@B@x - b2)^2",
])
def test_gradients_of_quadratic_forms_multiply_matrices_by_vectors(text):
    f = sc.parse(text, shapes={**RAYLEIGH, "b2": "n"})
    g = sc.grad(f, "x")
    assert matrix_products(g) == [], str(g)
    check(f, symbol(f, "x"), g)


def test_a_factor_cancels_against_an_inverse_beside_it():
    S = {"A": "n,n", "B": "n,n", "X": "n,n", "x": "n", "C": "m,n", "D": "n,m"}
    for text, want in [("X@inv(X)@A", "A"), ("inv(X@A)@X@B", "inv(A)@B"), ("A@inv(X@A)", "inv(X)"),
                       ("x@X@inv(X)", "x"), ("X.T@inv(X@A).T", "inv(A).T"), ("X@inv(X)", "eye(n)"),
                       ("C@inv(D@C)", "C@inv(D@C)")]:  # D@C is square, its factors are not
        assert str(sc.parse(text, shapes=S)) == want, text
    X = sc.matrix("X", "n", "n")
    for k, f in [(3, sc.det(X @ X @ X)), (2, sc.det(X @ X))]:
        g = sc.grad(f, "X")
        assert g is k * f * sc.inv(X).T
        check(f, X, g, spd=["X"], with_sympy=True)
    h = sc.grad("logdet(X@X)", "X", shapes=S)
    assert str(h) == "2*inv(X).T"
    check(sc.logdet(X @ X), X, h, spd=["X"], with_sympy=True)
