"""Property tests: random shaped formulas, their gradients and Hessians in matrix form, against
the scalar engine's derivatives of the same formulas unrolled at small sizes."""

import numpy as np
from hypothesis import given, settings, strategies as st

import symcalc as sc
from symcalc.matrix import parse_shaped
from matrix_oracle import matrix_value, random_arrays, scalar_values, unrolled_derivative

SIZES = {"m": 2, "n": 3}
SHAPES = {"A": ("m", "n"), "B": ("n", "n"), "t": ("n",), "u": ("n",), "b": ("m",), "s": ()}
SYM = {name: sc.matrix.ops.symbol(name, shape) for name, shape in SHAPES.items()}
S, N, M, MN, NN, NM = (), ("n",), ("m",), ("m", "n"), ("n", "n"), ("n", "m")
LEAVES = {S: ["s", 2, "1/2"], N: ["t", "u"], M: ["b"], MN: ["A"], NM: ["A.T"],
          NN: ["B", "outer(t, u)", "diag(t)"]}  # matrices of t: Hessians through them
ENTRYWISE = ["sin", "cos", "tanh", "sigmoid", "softplus"]
EXAMPLES = max(10, settings.default.max_examples // 3)  # 20 in CI, more with --slow


def leaf(name):
    return parse_shaped(str(name), SHAPES)


# the operations with NumPy's meaning (kron, matrix_power, mean, reductions along an axis), drawn
# only when asked for (``numpy_ops=True``): the LaTeX reader does not read them
NUMPY_OPERATIONS = {S: ["mean", "max", "kron"], N: ["sum0", "mean0", "max0", "lse0"],
                    M: ["sum1", "lse1", "max1"], MN: ["softmax1", "softmax0"], NN: ["power"],
                    NM: []}


@st.composite
def shaped(draw, shape, depth=3, numpy_ops=False):
    """A random formula of the given shape."""
    if depth == 0 or draw(st.integers(0, 4)) == 0:
        return leaf(draw(st.sampled_from(LEAVES[shape])))
    sub = lambda s: shaped(s, depth - 1, numpy_ops)  # noqa: E731
    choices = ["add", "sub", "mul", "scale", "fn", "square"]
    choices += {
        S: ["dot", "bilinear", "sum", "norm", "trace", "lse", "logdet", "det"],
        N: ["AT", "Bx", "softmax", "diag", "rowA"],
        M: ["Ax"],
        MN: ["outer", "AB"],
        NN: ["BT", "outerN", "AtA", "BB", "diagN", "inv"],
        NM: ["T"],
    }[shape]
    if numpy_ops:
        choices += NUMPY_OPERATIONS[shape]
    kind = draw(st.sampled_from(choices))
    if kind == "add":
        return draw(sub(shape)) + draw(sub(shape))
    if kind == "sub":
        return draw(sub(shape)) - draw(sub(shape))
    if kind == "mul":
        return draw(sub(shape)) * draw(sub(shape))
    if kind == "scale":
        return draw(sub(S)) * draw(sub(shape))
    if kind == "fn":
        return getattr(sc, draw(st.sampled_from(ENTRYWISE)))(draw(sub(shape)))
    if kind == "square":
        return draw(sub(shape)) ** 2
    table = {
        "dot": lambda: draw(sub(N)) @ draw(sub(N)),
        "bilinear": lambda: draw(sub(M)) @ draw(sub(MN)) @ draw(sub(N)),
        "sum": lambda: sc.sum(draw(sub(draw(st.sampled_from([N, MN]))))),
        "norm": lambda: sc.norm(draw(sub(draw(st.sampled_from([N, M, MN]))))),
        "trace": lambda: sc.trace(draw(sub(NN))),
        "lse": lambda: sc.matrix.logsumexp(draw(sub(N))),
        "logdet": lambda: sc.logdet(spd(draw(sub(NN)))),
        "det": lambda: sc.det(spd(draw(sub(NN)))),
        "inv": lambda: sc.inv(spd(draw(sub(NN)))),
        "AT": lambda: draw(sub(NM)) @ draw(sub(M)),
        "Bx": lambda: draw(sub(NN)) @ draw(sub(N)),
        "softmax": lambda: sc.softmax(draw(sub(N))),
        "diag": lambda: sc.diag(draw(sub(NN))),
        "rowA": lambda: draw(sub(M)) @ draw(sub(MN)),
        "Ax": lambda: draw(sub(MN)) @ draw(sub(N)),
        "outer": lambda: sc.outer(draw(sub(M)), draw(sub(N))),
        "AB": lambda: draw(sub(MN)) @ draw(sub(NN)),
        "BT": lambda: draw(sub(NN)).T,
        "outerN": lambda: sc.outer(draw(sub(N)), draw(sub(N))),
        "AtA": lambda: draw(sub(NM)) @ draw(sub(MN)),
        "BB": lambda: draw(sub(NN)) @ draw(sub(NN)),
        "diagN": lambda: sc.diag(draw(sub(N))),
        "T": lambda: draw(sub(MN)).T,
        "mean": lambda: sc.mean(draw(sub(draw(st.sampled_from([N, MN]))))),
        "max": lambda: sc.max(draw(sub(draw(st.sampled_from([N, MN]))))),
        "kron": lambda: sc.kron(draw(sub(M)), draw(sub(N))) @ sc.kron(draw(sub(M)), draw(sub(N))),
        "sum0": lambda: sc.sum(draw(sub(MN)), axis=0),
        "mean0": lambda: sc.mean(draw(sub(MN)), axis=0),
        "max0": lambda: sc.max(draw(sub(MN)), axis=0),
        "lse0": lambda: sc.logsumexp(draw(sub(MN)), axis=0),
        "sum1": lambda: sc.sum(draw(sub(MN)), axis=1),
        "lse1": lambda: sc.logsumexp(draw(sub(MN)), axis=-1),
        "max1": lambda: sc.max(draw(sub(MN)), axis=1),
        "softmax1": lambda: sc.softmax(draw(sub(MN)), axis=1),
        "softmax0": lambda: sc.softmax(draw(sub(MN)), axis=0),
        "power": lambda: sc.matrix_power(draw(sub(NN)), draw(st.integers(2, 3))),
    }
    return table[kind]()


def spd(m):
    """A symmetric positive-definite matrix from any square one: safe for inv and logdet."""
    return m @ m.T + 3 * sc.eye("n")


def assert_close(got, expected, what):
    scale = max(1.0, float(np.max(np.abs(expected))) if expected.size else 1.0)
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9 * scale, err_msg=what)


@settings(max_examples=EXAMPLES)
@given(shaped(S), st.data())
def test_gradient_agrees_with_the_unrolled_scalar_gradient(f, data):
    assert parse_shaped(str(f), SHAPES) is f
    names = sorted(s.data for s in f.free_symbols)
    if not names:
        return
    x = SYM[data.draw(st.sampled_from(names))]
    g = sc.grad(f, x)
    assert g.shape == x.shape and parse_shaped(str(g), SHAPES) is g
    arrays = random_arrays(SYM.values(), SIZES, seed=data.draw(st.integers(0, 99)))
    expected = scalar_values(unrolled_derivative(f, x, SIZES), arrays)
    assert_close(matrix_value(g, arrays, SHAPES), expected, f"grad of {f} in {x.data}: {g}")


@settings(max_examples=EXAMPLES, deadline=None)
@given(shaped(S, numpy_ops=True), st.data())
def test_gradient_through_numpys_operations_agrees_with_the_unrolled_scalar_gradient(f, data):
    test_gradient_agrees_with_the_unrolled_scalar_gradient.hypothesis.inner_test(f, data)


@settings(max_examples=EXAMPLES // 2 + 5, deadline=None)
@given(shaped(S, depth=2, numpy_ops=True), st.sampled_from(["t", "u", "s"]))
def test_hessian_through_numpys_operations_agrees_with_the_unrolled_scalar_hessian(f, name):
    test_hessian_agrees_with_the_unrolled_scalar_hessian.hypothesis.inner_test(f, name)


@settings(max_examples=EXAMPLES // 2 + 5, deadline=None)
@given(shaped(N, depth=2, numpy_ops=True))
def test_jacobian_through_numpys_operations_agrees_with_the_unrolled_scalar_jacobian(g):
    test_jacobian_agrees_with_the_unrolled_scalar_jacobian.hypothesis.inner_test(g)


@settings(max_examples=EXAMPLES // 2 + 5)
@given(shaped(S, depth=2), st.sampled_from(["t", "u", "s"]))
def test_hessian_agrees_with_the_unrolled_scalar_hessian(f, name):
    x = SYM[name]
    try:
        h = sc.hessian(f, x)
    except sc.NoMatrixFormError:
        return  # a matrix in the formula depends on x: no matrix form, and it says so
    assert h.shape == x.shape + x.shape
    arrays = random_arrays(SYM.values(), SIZES, seed=1)
    expected = scalar_values(unrolled_derivative(sc.grad(f, x), x, SIZES), arrays)
    assert_close(matrix_value(h, arrays, SHAPES), expected, f"hessian of {f} in {name}: {h}")


@settings(max_examples=EXAMPLES // 2 + 5)
@given(shaped(N, depth=2))
def test_jacobian_agrees_with_the_unrolled_scalar_jacobian(g):
    x = SYM["t"]
    try:
        j = sc.jacobian(g, x)
    except sc.NoMatrixFormError:
        return
    arrays = random_arrays(SYM.values(), SIZES, seed=2)
    expected = scalar_values(unrolled_derivative(g, x, SIZES), arrays)
    assert_close(matrix_value(j, arrays, SHAPES), expected, f"jacobian of {g}: {j}")


@settings(max_examples=EXAMPLES)
@given(shaped(S, depth=2), st.sampled_from([N, M, MN, NN]).flatmap(lambda s: shaped(s, depth=2)),
       st.integers(1, 3), st.sampled_from(["", " "]))
def test_a_power_ending_in_a_number_then_a_factor_is_their_product(a, b, n, space):
    # printed forms never write a product side by side, so the round trips above cannot see how
    # (a)^2 (b) reads: as a^2*b, never a^(2*b)
    assert parse_shaped(f"({a})^{n}{space}({b})", SHAPES) is a**n * b


def _matrix_products(e):
    """The products of matrices in ``e``, each with its transpose."""
    from symcalc.matrix.nodes import postorder
    found = {n for n in postorder([e]) if n.kind == "matmul" and n.ndim == 2}
    return found | {n.T for n in found}


@settings(max_examples=EXAMPLES)
@given(shaped(S), st.sampled_from(["t", "u"]))
def test_a_gradient_multiplies_no_matrices_the_formula_does_not(f, name):
    """A gradient in a vector keeps matrix-vector products: ``A.T@(A@x)``, not ``(A.T@A)@x``
    (when no matrix of the formula depends on the vector)."""
    from symcalc.matrix.nodes import postorder
    x = SYM[name]
    if any(n.ndim == 2 and x in n.free_symbols for n in postorder([f])):
        return
    g = sc.grad(f, x)
    assert not _matrix_products(g) - _matrix_products(f), f"grad of {f} in {name}: {g}"
