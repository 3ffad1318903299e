"""The table of matrix operations: every operation has every field, and every field is right.

Each rule of a record is checked on the unrolled formula (entry by entry, ``matrix_oracle``):
the adjoint rule by ``check`` on ``sum(B*op(X))`` and the Jacobian rule through the forward
sweep, each against the scalar engine, SymPy and central differences; the tangent rule as the
scalar engine's unrolled derivative applied to a direction and by central differences along it;
the transpose rule by the transposed entries; the NumPy and JAX forms by their values; the text
form by parsing it back.
"""

from __future__ import annotations

import dataclasses
import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import symcalc as sc
from matrix_oracle import SIZES, check, matrix_value, random_arrays, scalar_values, \
    unrolled_derivative
from symcalc.matrix import ops, runtime
from symcalc.matrix.forward import jacobian_vector
from symcalc.matrix.nodes import MatrixExpr
from symcalc.matrix.operations import (FUNCTION_ARITY, FUNCTIONS, LEAVES, OPERATIONS, REQUIRED,
                                       RUNTIME_HELPERS, VARIADIC, Form, Operation)
from symcalc.matrix.parsing import parse_shaped
from symcalc.matrix.printing import latex
from symcalc.matrix.tensor import einsum, tensor_symbol
from symcalc.matrix.unroll import concrete, unroll

SHAPES = {"x": ("n",), "y": ("m",), "A": ("m", "n"), "C": ("n", "m"), "X": ("n", "n"),
          "S": ("n", "n")}
SYM = {name: ops.symbol(name, shape) for name, shape in SHAPES.items()}
x, y, A, C, X = (SYM[k] for k in "xyACX")
SPD = ("S",)  # symmetric positive definite
SHIFTED = ("X",)  # not symmetric, a positive determinant: a transposed rule shows

# samples of each operation, on symbols (kind -> nodes); the table and this list must agree
SAMPLES: dict[str, list[MatrixExpr]] = {
    "matmul": [A @ x, A @ X, y @ A @ x, A @ C],
    "transpose": [A.T],
    "sum": [ops.sum_(A), ops.sum_(x)],
    "norm": [ops.norm(x), ops.norm(A)],
    "trace": [ops.trace(X)],
    "det": [ops.det(X)],
    "logdet": [ops.logdet(X)],
    "inv": [ops.inv(X)],
    "diag": [ops.diag(x), ops.diag(X)],
    "outer": [ops.outer(y, x)],
    "softmax": [ops.softmax(x)],
    "logsumexp": [ops.logsumexp(x)],
    "eye": [ops.eye("n")],
    "ones": [ops.ones("m", "n"), ops.ones("n")],
    "zeros": [ops.zeros("m", "n")],
    "einsum": [einsum("ij,kl->ikjl", A, C), einsum("ij,jk,kl->ijl", A, X, C),
               einsum("ii,jk->ijk", X, A)],
    "sum_axis": [sc.sum(A, axis=0), sc.sum(A, axis=1)],
    "mean": [sc.mean(A), sc.mean(x), sc.mean(A, axis=0), sc.mean(A, axis=-1)],
    "max": [sc.max(A), sc.max(x), sc.max(A, axis=0), sc.max(A, axis=1)],
    "logsumexp_axis": [sc.logsumexp(A, axis=0), sc.logsumexp(A, axis=1)],
    "softmax_axis": [sc.softmax(A, axis=0), sc.softmax(A, axis=1)],
    "kron": [sc.kron(A, X), sc.kron(x, y)],
    "matrix_power": [sc.matrix_power(X, 2), sc.matrix_power(X, 3)],
}
CASES = [(kind, node) for kind, nodes in SAMPLES.items() for node in nodes]
WITH_OPERANDS = [(k, n) for k, n in CASES if n.args]


def _ids(cases):
    return [f"{kind}:{node}" for kind, node in cases]


def _direction(name: str, shape: tuple) -> MatrixExpr:
    return ops.symbol(name, shape) if len(shape) <= 2 else tensor_symbol(name, shape)


# --- completeness -------------------------------------------------------------------------------
def test_every_operation_has_samples_and_every_sample_its_operation():
    assert set(SAMPLES) == set(OPERATIONS)
    for kind, node in CASES:
        assert node.kind == kind, (kind, str(node))


# kinds that are not matrix operations: the scalar engine's entrywise operations, the values,
# and the code generator's fused entrywise kernel (symcalc.matrix.fusion)
NOT_OPERATIONS = {"add", "mul", "pow", "apply", "symbol", "number", "constant", "kernel"}


def test_every_kind_the_package_builds_has_a_record():
    package = Path(sc.__file__).resolve().parent / "matrix"
    built = set()
    for path in package.glob("*.py"):
        built.update(re.findall(r'\bmake\("(\w+)"', path.read_text("utf-8")))
    assert built >= {"sum", "logdet", "outer", "eye"}  # the scan reads the constructors
    assert built - NOT_OPERATIONS <= set(OPERATIONS), built - NOT_OPERATIONS - set(OPERATIONS)


@pytest.mark.parametrize("kind", sorted(OPERATIONS))
def test_every_operation_has_every_field(kind):
    op = OPERATIONS[kind]
    assert op.name == kind
    for field in REQUIRED:
        value = getattr(op, field)
        assert value is not None and value != "", f"{kind} has no {field}"
    for field in ("shape", "build", "adjoint", "tangent", "unroll"):
        assert callable(getattr(op, field)), f"{kind}.{field} is not a rule"
    for field in ("numpy", "jax", "text", "latex"):
        form = getattr(op, field)
        assert isinstance(form, Form), f"{kind}.{field} is not a form"
        if op.arity > 0:  # the pattern names each operand once
            for i in range(op.arity):
                assert "{%d}" % i in form.pattern, f"{kind}.{field} does not show operand {i}"
        elif op.arity == VARIADIC:
            assert form.sep is not None
    assert op.jacobian is None or callable(op.jacobian)


def test_a_record_without_a_field_cannot_be_made():
    record = OPERATIONS["sum"]
    values = {f.name: getattr(record, f.name) for f in dataclasses.fields(Operation)}
    for field in REQUIRED:
        partial = {k: v for k, v in values.items() if k != field}
        with pytest.raises(TypeError):
            Operation(**partial)
    assert Operation(**values) == record


def test_the_callable_functions_are_the_reserved_names():
    assert set(FUNCTIONS) == set(ops.FUNCTION_NAMES)
    assert set(FUNCTION_ARITY) == set(FUNCTIONS)
    for name in FUNCTIONS:
        with pytest.raises(sc.SymcalcError, match="reserved"):
            ops.symbol(name, ("n",))


# --- shape rule and constructor -----------------------------------------------------------------
@pytest.mark.parametrize("kind, node", CASES, ids=_ids(CASES))
def test_shape_rule_and_canonical_constructor(kind, node):
    op = OPERATIONS[kind]
    if kind in LEAVES:
        sizes = node.shape[:1] if kind == "eye" else node.shape  # the constructor's arguments
        assert op.shape(*sizes) == node.shape
        assert op.build(*sizes) is node
    elif op.with_data:  # the node's data first: einsum's subscripts
        assert op.shape(node.data, *(a.shape for a in node.args)) == node.shape
        assert op.build(node.data, *node.args) is node
    else:
        data = () if node.data is None else (node.data,)  # an axis or an exponent
        assert op.shape(*(a.shape for a in node.args), *data) == node.shape
        assert op.build(*node.args, *data) is node


@pytest.mark.parametrize("kind", ["matmul", "trace", "det", "inv", "outer", "softmax"])
def test_shape_rule_refuses_what_the_constructor_refuses(kind):
    op = OPERATIONS[kind]
    bad = {"matmul": (A, y), "trace": (A,), "det": (A,), "inv": (A,), "outer": (A, x),
           "softmax": (A,)}[kind]
    with pytest.raises(sc.matrix.ShapeError):
        op.shape(*(a.shape for a in bad))
    with pytest.raises(sc.matrix.ShapeError):
        op.build(*bad)


# --- adjoint, tangent and Jacobian rules against the unrolled scalar derivative ------------------
@pytest.mark.parametrize("kind, node", WITH_OPERANDS, ids=_ids(WITH_OPERANDS))
def test_adjoint_rule_is_the_unrolled_derivative(kind, node):
    bar = _direction("B", node.shape)
    objective = ops.sum_(bar * node)  # d objective / d operand is the operand's adjoint
    sent = dict(OPERATIONS[kind].adjoint(node, bar, lambda u: True))
    assert set(sent) == set(node.args)
    for operand, contribution in sent.items():
        check(objective, operand, contribution, spd=SPD, shifted=SHIFTED, with_sympy=True)


@pytest.mark.parametrize("kind, node", WITH_OPERANDS, ids=_ids(WITH_OPERANDS))
def test_tangent_rule_is_the_unrolled_derivative_along_a_direction(kind, node):
    op = OPERATIONS[kind]
    for k, operand in enumerate(node.args):
        direction = _direction("V", operand.shape)
        ds = [direction if i == k else None for i in range(len(node.args))]
        tangent = op.tangent(node, ds)
        assert tangent is not None and tangent.shape == node.shape
        symbols = node.free_symbols | tangent.free_symbols | {direction}
        arrays = random_arrays(symbols, SIZES, seed=k + 1, spd=SPD, shifted=SHIFTED)
        jac = scalar_values(unrolled_derivative(node, operand, SIZES), arrays)
        axes = operand.ndim
        expected = np.tensordot(jac, arrays["V"], axes=(list(range(jac.ndim - axes, jac.ndim)),
                                                        list(range(axes))))
        got = matrix_value(tangent, arrays, {s.data: s.shape for s in symbols})
        np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)
        h = 1e-6  # and central differences along the direction
        at = {**arrays, operand.data: arrays[operand.data] + h * arrays["V"]}
        back = {**arrays, operand.data: arrays[operand.data] - h * arrays["V"]}
        differences = (matrix_value(node, at) - matrix_value(node, back)) / (2 * h)
        np.testing.assert_allclose(got, differences, rtol=1e-5, atol=1e-6)


def test_leaves_send_nothing():
    for kind in LEAVES:
        node = SAMPLES[kind][0]
        assert list(OPERATIONS[kind].adjoint(node, node, lambda u: True)) == []
        assert OPERATIONS[kind].tangent(node, []) is None


# a scalar or vector of the vector x through each operation with a Jacobian rule
S = SYM["S"]
JACOBIAN_SAMPLES = {
    "transpose": [ops.sum_(sc.sin(A * ops.outer(y, x)).T)],  # sum(F*G) would be a trace
    "sum": [ops.sum_(sc.sin(x)), ops.sum_(sc.sin(ops.outer(y, x) * A))],
    "norm": [ops.norm(sc.sin(x)), ops.norm(ops.outer(y, x) + A)],
    "trace": [ops.trace(X * ops.outer(x, x))],
    "det": [ops.det(X + ops.outer(x, x))],
    "logdet": [ops.logdet(S + ops.outer(x, A.T @ y))],
    "diag": [ops.diag(S * ops.outer(x, x))],
    "softmax": [ops.softmax(sc.sin(x))],
    "logsumexp": [ops.logsumexp(sc.sin(x))],
    "sum_axis": [sc.sum(ops.outer(y, x) * A, axis=0), sc.sum(sc.sin(ops.outer(y, x)), axis=1)],
    "mean": [sc.mean(sc.sin(x)), sc.mean(ops.outer(y, x) * A),
             sc.mean(sc.exp(ops.outer(y, x)), axis=0), sc.mean(ops.outer(y, x) * A, axis=1)],
    "max": [sc.max(sc.sin(x)), sc.max(ops.outer(y, x) + A), sc.max(ops.outer(y, x) + A, axis=0),
            sc.max(ops.outer(y, x) * A, axis=1)],
    "logsumexp_axis": [sc.logsumexp(ops.outer(y, x) * A, axis=0),
                       sc.logsumexp(ops.outer(y, sc.sin(x)) + A, axis=1)],
    "kron": [sc.kron(sc.sin(x), y), sc.kron(y, x * x), sc.kron(x, x)],
}


def test_the_jacobian_samples_cover_every_jacobian_rule():
    assert set(JACOBIAN_SAMPLES) == {k for k, op in OPERATIONS.items() if op.jacobian}


@pytest.mark.parametrize("kind, node", [(k, n) for k, ns in JACOBIAN_SAMPLES.items() for n in ns],
                         ids=lambda v: str(v))
def test_jacobian_rule_is_the_unrolled_derivative(kind, node):
    assert any(n.kind == kind for n in sc.matrix.nodes.postorder([node])) or kind == "transpose"
    check(node, x, jacobian_vector(node, x), spd=SPD, shifted=SHIFTED, with_sympy=True)


MATRICES = [(k, n) for k, n in CASES if n.ndim >= 2]  # a tensor's .T reverses its axes


@pytest.mark.parametrize("kind, node", MATRICES, ids=_ids(MATRICES))
def test_transpose_rule_gives_the_transposed_entries(kind, node):
    from symcalc.matrix.build import transpose
    flipped = OPERATIONS[kind].transposed(node, transpose)
    assert flipped.shape == node.shape[::-1] and transpose(node) is flipped
    arrays = random_arrays(node.free_symbols, SIZES, seed=5, spd=SPD, shifted=SHIFTED)
    np.testing.assert_allclose(scalar_values(unroll(flipped, SIZES), arrays),
                               scalar_values(unroll(node, SIZES), arrays).T, rtol=1e-12)


# --- NumPy and JAX forms against the unrolled formula --------------------------------------------
def _write(form: Form, node: MatrixExpr, sizes: dict) -> str:
    if not node.args:
        return form.leaf([str(d) for d in concrete(node.shape, sizes)])[0]
    return form.write([(a.data, 5) for a in node.args], lambda t: f"({t})", node)[0]


@pytest.mark.parametrize("kind, node", CASES, ids=_ids(CASES))
def test_numpy_and_jax_forms_compute_the_unrolled_values(kind, node):
    op = OPERATIONS[kind]
    arrays = random_arrays(node.free_symbols, SIZES, seed=3, spd=SPD, shifted=SHIFTED)
    expected = scalar_values(unroll(node, SIZES), arrays)
    got = eval(_write(op.numpy, node, SIZES), {"np": np, "_mrt": runtime}, dict(arrays))
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    jnp = pytest.importorskip("jax.numpy")
    from symcalc.matrix import jax_runtime
    got = eval(_write(op.jax, node, SIZES), {"jnp": jnp, "_mrt": jax_runtime},
               {k: jnp.asarray(v) for k, v in arrays.items()})
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-5, atol=1e-6)


def test_every_runtime_helper_a_form_calls_exists_for_numpy_and_jax():
    assert set(RUNTIME_HELPERS) == {"logdet", "softmax", "vector_logsumexp", "logsumexp_axis",
                                    "softmax_axis"}
    for name in RUNTIME_HELPERS:
        assert callable(getattr(runtime, name))
    pytest.importorskip("jax")
    from symcalc.matrix import jax_runtime
    for name in RUNTIME_HELPERS:
        assert callable(getattr(jax_runtime, name))


# --- text and LaTeX ------------------------------------------------------------------------------
@pytest.mark.parametrize("kind, node", CASES, ids=_ids(CASES))
def test_text_form_parses_back(kind, node):
    text = str(node)
    assert parse_shaped(text, SHAPES) is node
    if kind != "matmul" and node.args:
        assert text == OPERATIONS[kind].text.write([(a.data, 5) for a in node.args],
                                                   lambda t: f"({t})", node)[0]


@pytest.mark.parametrize("kind, node", CASES, ids=_ids(CASES))
def test_latex_form_shows_every_operand(kind, node):
    text = latex(node)
    for a in node.args:
        assert latex(a) in text
    if kind != "matmul":
        parts = [(latex(a), 5) for a in node.args]
        expected = (OPERATIONS[kind].latex_for(node.args).write(parts, lambda t: t, node)[0]
                    if node.args else
                    OPERATIONS[kind].latex.leaf([str(d) for d in node.shape])[0])
        assert text == expected


# --- facts the other modules read: linearity, products applied without building, LaTeX of a
# transpose ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind, node", CASES, ids=_ids(CASES))
def test_linear_field_is_the_operation_s_homogeneity(kind, node):
    """``linear``: scaling any one operand by a scalar scales the value by it (checked on the
    unrolled entries; an operation that is not linear fails it for some operand)."""
    from symcalc.matrix.build import mul
    from symcalc.matrix.nodes import number
    from symcalc.matrix.operations import with_args

    arrays = random_arrays(node.free_symbols, SIZES, seed=7, spd=SPD, shifted=SHIFTED)
    value = scalar_values(unroll(node, SIZES), arrays)
    homogeneous = []
    for i in range(len(node.args)):
        c = Fraction(-7, 4)
        args = node.args[:i] + (mul(number(c), node.args[i]),) + node.args[i + 1:]
        scaled = with_args(node, args)
        got = scalar_values(unroll(scaled, SIZES), arrays)
        homogeneous.append(np.allclose(got, float(c) * value, rtol=1e-10, atol=1e-12))
    if OPERATIONS[kind].linear:
        assert homogeneous and all(homogeneous), f"{kind} is not linear in each operand"
    else:
        assert not all(homogeneous) or not homogeneous, f"{kind} is linear: mark it so"


APPLIED = [(k, n) for k, n in CASES if n.ndim == 2 and OPERATIONS[k].applied]


def test_the_applied_operations_have_samples():
    assert {k for k, _ in APPLIED} == {k for k, op in OPERATIONS.items() if op.applied}
    for kind, op in OPERATIONS.items():  # an applied operation is a matrix of a product
        if op.applied:
            assert all(n.ndim == 2 for n in SAMPLES[kind] if n.kind == kind and n.ndim == 2)


@pytest.mark.parametrize("kind, node", APPLIED, ids=_ids(APPLIED))
def test_applied_operations_are_never_built_in_a_product(kind, node):
    """``applied``: a product through a sum of such matrices is written term by term, so the
    code neither builds the operation's matrix nor the outer product beside it, and computes the
    unrolled values."""
    rows, cols = node.shape
    left = ops.symbol("L", ("k", rows))
    p, q, v = ops.symbol("p", (rows,)), ops.symbol("q", (cols,)), ops.symbol("v", (cols,))
    e = left @ (node + ops.outer(p, q)) @ v
    names = sorted(s.data for s in e.free_symbols)
    shapes = {s.data: s.shape for s in e.free_symbols}
    source = sc.matrix.codegen(e, names, shapes=shapes)
    built = OPERATIONS[kind].numpy.pattern.split("(")[0] + "("
    assert built not in source and "np.outer(" not in source, source
    sizes = dict(SIZES, k=2)
    arrays = random_arrays(e.free_symbols, sizes, seed=8, spd=SPD, shifted=SHIFTED)
    np.testing.assert_allclose(matrix_value(e, arrays, shapes),
                               scalar_values(unroll(e, sizes), arrays), rtol=1e-10, atol=1e-12)


TRANSPOSED_LATEX = [(k, n) for k, n in MATRICES if OPERATIONS[k].latex_transposed is not None]


def test_the_operations_with_a_latex_transpose_have_samples():
    assert {k for k, _ in TRANSPOSED_LATEX} == {
        k for k, op in OPERATIONS.items() if op.latex_transposed is not None}


@pytest.mark.parametrize("kind, node", TRANSPOSED_LATEX, ids=_ids(TRANSPOSED_LATEX))
def test_latex_of_the_transpose_is_the_record_s_and_reads_back(kind, node):
    from symcalc.language.latex import parse_latex
    from symcalc.matrix.build import transpose
    flipped = transpose(node)
    text = latex(flipped)
    parts = [(latex(a), 5) for a in node.args]
    assert text == OPERATIONS[kind].latex_transposed.write(parts, lambda t: t)[0]
    assert parse_latex(text, (), SHAPES) is flipped


IN_PRODUCT = [(k, n) for k, n in MATRICES if OPERATIONS[k].in_product is not None]


def test_the_operations_applied_in_products_have_samples():
    assert {k for k, _ in IN_PRODUCT} == {
        k for k, op in OPERATIONS.items() if op.in_product is not None}


@pytest.mark.parametrize("kind, node", IN_PRODUCT, ids=_ids(IN_PRODUCT))
def test_in_product_forms_are_the_code_of_products_and_compute_their_values(kind, node):
    """``in_product``: in each position the record names, the code of a product is the
    record's form (the matrix itself is never built) and computes the unrolled values."""
    form = OPERATIONS[kind].in_product
    rows, cols = node.shape
    M, u = ops.symbol("M", (cols, "k")), ops.symbol("u", ("k",))
    L, w = ops.symbol("L", ("k", rows)), ops.symbol("w", (rows,))
    operand = node.args[0].data
    # (product, form, the rest's code and precedence); diag(x)@v alone is x*v, so the vector
    # after the matrix is a product too
    cases = [(node @ M, form.left, ("M", 5)), (node @ M @ u, form.left_of_vector, ("M @ u", 2)),
             (L @ node, form.right, ("L", 5)), (node.T @ w, form.transposed, ("w", 5))]
    builder = OPERATIONS[kind].numpy.pattern.split("(")[0] + "("
    sizes = dict(SIZES, k=2)
    for e, written, other in cases:
        if written is None:
            continue
        assert e.kind == "matmul", str(e)
        names = sorted(s.data for s in e.free_symbols)
        shapes = {s.data: s.shape for s in e.free_symbols}
        source = sc.matrix.codegen(e, names, shapes=shapes)
        expected = written.write([(operand, 5), other], lambda t: f"({t})")[0]
        assert expected in source and builder not in source, (str(e), source)
        arrays = random_arrays(e.free_symbols, sizes, seed=9, spd=SPD, shifted=SHIFTED)
        np.testing.assert_allclose(matrix_value(e, arrays, shapes),
                                   scalar_values(unroll(e, sizes), arrays), rtol=1e-9, atol=1e-12)


# --- product rules ------------------------------------------------------------------------------
PRODUCT_RULES = [(k, side) for k, op in OPERATIONS.items() if op.product is not None
                 for side in ("left", "right") if getattr(op.product, side) is not None]


def _partners(node: MatrixExpr, left: bool) -> list[MatrixExpr]:
    """Symbols a product with ``node`` can have on the other side: a matrix and a vector."""
    size = node.shape[-1] if left else node.shape[0]
    other = "m" if size == "n" else "n"
    return [ops.symbol("P", (size, other) if left else (other, size)), ops.symbol("p", (size,))]


@pytest.mark.parametrize("kind, side", PRODUCT_RULES, ids=[f"{k}:{s}" for k, s in PRODUCT_RULES])
def test_product_rules_are_the_canonical_products_and_keep_their_values(kind, side):
    """``product``: where the rule gives a simpler form, the canonical constructor returns that
    very node, and its values are the product's, entry by entry."""
    from symcalc.matrix.build import matmul
    rule = getattr(OPERATIONS[kind].product, side)
    fired = 0
    for node in SAMPLES[kind]:
        for other in _partners(node, side == "left"):
            a, b = (node, other) if side == "left" else (other, node)
            if a.ndim == 1 and b.ndim == 2:
                continue  # x@A is written A.T@x first
            simpler = rule(a, b)
            if simpler is None:
                continue
            fired += 1
            assert matmul(a, b) is simpler and simpler.shape == (a.shape[:-1] + b.shape[1:])
            arrays = random_arrays(simpler.free_symbols | a.free_symbols | b.free_symbols,
                                   SIZES, seed=11, spd=SPD, shifted=SHIFTED)
            product = (scalar_values(unroll(a, SIZES), arrays)
                       @ scalar_values(unroll(b, SIZES), arrays))
            np.testing.assert_allclose(scalar_values(unroll(simpler, SIZES), arrays), product,
                                       rtol=1e-10, atol=1e-12)
    assert fired, f"no sample of {kind} exercises its {side} product rule"


# --- Jacobians through a matrix that depends on the variable ---------------------------------------
# vectors of x in which a matrix of each operation with a ``through`` rule depends on x
THROUGH_SAMPLES = {
    "diag": "A@diag(sin(x))@C@y",
    "outer": "(outer(x, sin(x)) + X)@x",
    "inv": "inv(S + outer(x, x))@x",
    "transpose": "inv(X + outer(x, sin(x))).T@x",
    "matrix_power": "matrix_power(X + outer(x, sin(x)), 3)@x",
    "softmax_axis": "softmax(X + outer(x, sin(x)), axis=1)@x",
}


def test_the_through_samples_cover_every_through_rule():
    assert set(THROUGH_SAMPLES) == {k for k, op in OPERATIONS.items() if op.through is not None}


@pytest.mark.parametrize("kind", sorted(THROUGH_SAMPLES))
def test_through_rule_is_the_unrolled_derivative(kind):
    """``through``: the Jacobian of a vector in which a matrix of the operation depends on x,
    against the scalar engine, SymPy and central differences."""
    node = parse_shaped(THROUGH_SAMPLES[kind], SHAPES)
    assert any(n.kind == kind and n.ndim == 2 and x in n.free_symbols
               for n in sc.matrix.nodes.postorder([node]))
    check(node, x, jacobian_vector(node, x), spd=SPD, shifted=SHIFTED, with_sympy=True)
