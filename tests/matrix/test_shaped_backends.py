"""Shaped formulas on every backend (numpy, numexpr, jax), in float32, packed, as standalone
source and pickled: the same values, as stable, with the same size checks.

The reference is the independent evaluation of ``test_matrix_stability``: the shaped formula
spelt out entry by entry as scalar expressions and evaluated with mpmath in 1000 digits (so
``1 - sigmoid(2000)`` does not cancel), gradients as central differences of that value.  Each
gradient is also checked against SymPy and finite differences (``matrix_oracle.check``).
"""

from __future__ import annotations

import builtins
import functools
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import oracle
import symcalc as sc
from matrix_oracle import check
from symcalc.matrix.shapes import ShapeError
from matrix_oracle import random_arrays
from test_matrix_properties import EXAMPLES, MN, N, NN, S, SIZES as PROPERTY_SIZES, SYM, shaped
from test_matrix_stability import (DIGITS, SHAPES, agree, data, reference, reference_gradient,
                                   stability_case)

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402

BACKENDS = ["numpy", "numexpr", "jax"]
MARGINS = [1, 30, 1000]

# The ML losses, each with the variables its gradient is taken in.
LOSSES = {
    "logistic": ("-sum(y*log(sigmoid(X@w)) + (1-y)*log(1-sigmoid(X@w)))", ["w"]),
    "logistic, log(1+exp)": ("sum(log(1 + exp(-(2*y - 1)*(X@w))))", ["w"]),
    "softmax cross-entropy": ("-z@log(softmax(W@x))", ["x", "W"]),
    "log-sum-exp": ("log(sum(exp(W@x)))", ["x"]),
    "least squares": ("0.5*norm(X@w - r)^2", ["w"]),
    "two-layer network": ("sum(softplus(tanh(X@V)@v)) - y@(tanh(X@V)@v)", ["v", "V"]),
}


@pytest.fixture(autouse=True)
def many_digits(monkeypatch):
    monkeypatch.setattr(oracle, "DIGITS", DIGITS)


def names_of(e) -> list[str]:
    items = e if isinstance(e, list) else [e]
    return sorted({s.data for item in items for s in item.free_symbols})


@functools.lru_cache(maxsize=None)
def expected(loss: str, margin: int) -> tuple:
    """The 1000-digit value and gradients of ``loss`` at ``margin`` (computed once for all
    backends)."""
    text, variables = LOSSES[loss]
    f = sc.parse(text, shapes=SHAPES)
    arrays = data(margin)
    return reference(f, arrays), tuple(reference_gradient(f, v, arrays) for v in variables)


def run(e, backend, arrays, **options):
    """``e`` compiled for ``backend`` and called on the arrays of its variables, with every
    floating-point warning (overflow, division by zero, invalid) an error."""
    names = names_of(e)
    function = sc.lambdify(e, names, backend=backend, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return function(*(arrays[n] for n in names))


# --- values and gradients against 1000 digits, on every backend --------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("margin", MARGINS)
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_loss_and_gradient_agree_with_1000_digits_on_every_backend(loss, margin, backend):
    text, variables = LOSSES[loss]
    f = sc.parse(text, shapes=SHAPES)
    arrays = data(margin)
    value, gradients = expected(loss, margin)
    agree(run(f, backend, arrays), value, f"{loss} at margin {margin} on {backend}")
    for name, gradient in zip(variables, gradients):
        g = sc.grad(f, name)
        agree(run(g, backend, arrays), gradient,
              f"gradient of {loss} in {name} at margin {margin} on {backend}: {g}")


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_the_gradients_agree_with_sympy_and_finite_differences(loss):
    text, variables = LOSSES[loss]
    f = sc.parse(text, shapes=SHAPES)
    for name in variables:
        x = next(s for s in f.free_symbols if s.data == name)
        check(f, x, sc.grad(f, name), with_sympy=True)


@settings(max_examples=EXAMPLES, deadline=None)  # 20 in CI, more with --slow
@given(stability_case(), st.sampled_from(["numexpr", "jax"]))
def test_random_formulas_around_each_stability_pattern_on_numexpr_and_jax(case, backend):
    text, margin, seed = case
    f = sc.parse(text, shapes=SHAPES)
    arrays = data(margin, seed)
    agree(run(f, backend, arrays), reference(f, arrays), f"{text} at margin {margin} on {backend}")
    g = sc.grad(f, "w")
    agree(run(g, backend, arrays), reference_gradient(f, "w", arrays),
          f"gradient of {text} in w at margin {margin} on {backend}: {g}")


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.sampled_from([S, N, MN, NN]).flatmap(shaped), st.integers(0, 99))
def test_every_operation_computes_the_same_on_every_backend(f, seed):
    """Random formulas of every operation (products, inverses, determinants, diag, outer,
    softmax, ...), and their gradients: numexpr and jax give NumPy's values."""
    names = sorted(s.data for s in f.free_symbols)
    assume(names)  # (a formula of no variable has no sizes to read: zeros(n) cannot be computed)
    arrays = random_arrays(SYM.values(), PROPERTY_SIZES, seed=seed)
    outputs = [f] + [sc.grad(f, x) for x in sorted(f.free_symbols, key=lambda s: s.data)
                     if not f.shape]
    try:
        expected = sc.lambdify(outputs, names)(*(arrays[n] for n in names))
    except sc.SymcalcError as error:  # sin(zeros(n, m))@b: n is no variable's size
        assume("is not the size of any variable" not in str(error))
        raise
    for backend in ("numexpr", "jax"):
        got = sc.lambdify(outputs, names, backend=backend)(*(arrays[n] for n in names))
        for a, b, e in zip(got, expected, outputs):
            scale = max(1.0, float(np.max(np.abs(b))))
            np.testing.assert_allclose(np.asarray(a), b, rtol=1e-9, atol=1e-11 * scale,
                                       err_msg=f"{e} on {backend}")


def test_numexpr_fuses_entrywise_parts_and_leaves_products_to_numpy():
    f = sc.parse(LOSSES["two-layer network"][0], shapes=SHAPES)
    g = sc.grad(f, "V")
    function = sc.lambdify(g, names_of(g), backend="numexpr")
    assert function.code.kernels, function.code.text
    assert "_kernel0(" in function.code.text and "X.T @ " in function.code.text
    for kernel in function.code.kernels:  # each kernel is entrywise work of two operations or more
        assert sc.count_ops(kernel.expr) >= 2
    arrays = data(3)
    np.testing.assert_allclose(run(g, "numexpr", arrays), run(g, "numpy", arrays),
                               rtol=1e-13, atol=1e-13)


# --- JAX: jit, grad and vmap compose -----------------------------------------------------------
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_jax_grad_of_the_jax_function_is_the_gradient(loss, margin=1000):
    text, variables = LOSSES[loss]
    f = sc.parse(text, shapes=SHAPES)
    names = names_of(f)
    arrays = data(margin)
    args = [arrays[n] for n in names]
    function = sc.lambdify(f, names, backend="jax")
    _, gradients = expected(loss, margin)
    for name, gradient in zip(variables, gradients):
        k = names.index(name)
        agree(np.asarray(jax.grad(function, argnums=k)(*args)), gradient,
              f"jax.grad of {loss} in {name} at margin {margin}")
        agree(np.asarray(jax.jit(jax.grad(function, argnums=k))(*args)), gradient,
              f"jax.jit(jax.grad) of {loss} in {name} at margin {margin}")
    agree(np.asarray(jax.jit(function)(*args)), expected(loss, margin)[0], "jax.jit")


def test_jax_vmap_maps_over_a_batch():
    f = sc.parse(LOSSES["logistic"][0], shapes=SHAPES)
    g = sc.grad(f, "w")
    names = names_of(g)  # X, w, y
    arrays = data(30)
    batch = np.stack([arrays["w"] * s for s in (-2.0, 0.5, 1.0, 3.0)])
    for e in (f, g):
        function = sc.lambdify(e, names, backend="jax")
        mapped = jax.vmap(function, in_axes=(None, 0, None))(arrays["X"], batch, arrays["y"])
        one_by_one = [sc.lambdify(e, names)(arrays["X"], w, arrays["y"]) for w in batch]
        np.testing.assert_allclose(np.asarray(mapped), np.array(one_by_one), rtol=1e-12,
                                   atol=1e-12)


def test_jax_results_are_jax_arrays_and_stable_helpers_are_jax_forms():
    g = sc.grad("-y@log(softmax(z))", "z", shapes={"y": "k", "z": "k"})
    function = sc.lambdify(g, ["y", "z"], backend="jax")
    z = np.array([0.0, 800.0, -5.0])
    y = np.array([1.0, 0.0, 0.0])
    out = function(y, z)
    assert isinstance(out, jax.Array)
    np.testing.assert_allclose(np.asarray(out), [-1.0, 1.0, 0.0], atol=1e-300)
    value = sc.lambdify(sc.parse("-y@log(softmax(z))", shapes={"y": "k", "z": "k"}), ["y", "z"],
                        backend="jax")
    assert float(value(y, z)) == pytest.approx(800.0, rel=1e-15)
    np.testing.assert_allclose(np.asarray(jax.grad(value, argnums=1)(y, z)), [-1.0, 1.0, 0.0],
                               atol=1e-300)


# --- dtype and packed ----------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["numpy", "jax"])
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_float32_results_are_close_to_float64(loss, backend):
    text, variables = LOSSES[loss]
    f = sc.parse(text, shapes=SHAPES)
    arrays = data(3)
    for e in [f] + [sc.grad(f, v) for v in variables]:
        single = run(e, backend, arrays, dtype=np.float32)
        double = run(e, "numpy", arrays)
        assert np.asarray(single).dtype == np.float32
        scale = max(1.0, float(np.max(np.abs(double))))
        np.testing.assert_allclose(np.asarray(single), double, rtol=1e-4, atol=1e-4 * scale)
        kept = run(e, backend, {k: v.astype(np.float32) for k, v in arrays.items()}, dtype=None)
        assert np.asarray(kept).dtype == np.float32
        np.testing.assert_allclose(np.asarray(kept), double, rtol=1e-4, atol=1e-4 * scale)


def test_numexpr_computes_in_float64_only():
    f = sc.parse(LOSSES["least squares"][0], shapes=SHAPES)
    with pytest.raises(sc.SymcalcError, match="float64"):
        sc.lambdify(f, names_of(f), backend="numexpr", dtype=np.float32)


@pytest.mark.parametrize("backend", BACKENDS)
def test_packed_takes_the_variables_raveled_and_concatenated(backend):
    f = sc.parse(LOSSES["least squares"][0], shapes=SHAPES)
    names = ["X", "w", "r"]
    arrays = data(3)
    args = [arrays[n] for n in names]
    v = np.concatenate([a.ravel() for a in args])
    m = arrays["X"].shape[0]
    packed = sc.lambdify(f, names, backend=backend, packed={"m": m})
    plain = sc.lambdify(f, names)
    assert float(packed(v)) == pytest.approx(float(plain(*args)), rel=1e-13)
    batch = np.stack([v, 2 * v, -v])
    got = np.asarray(packed(batch))
    assert got.shape == (3,)
    for row, value in zip(batch, got):
        k = 0
        parts = []
        for a in args:
            parts.append(row[k:k + a.size].reshape(a.shape))
            k += a.size
        assert value == pytest.approx(float(plain(*parts)), rel=1e-12)
    # a gradient in every variable is one flat array: SciPy's jac
    jac = sc.lambdify(sc.grad(f, names), names, backend=backend, packed={"m": m})
    flat = np.concatenate([np.ravel(g) for g in sc.lambdify(sc.grad(f, names), names)(*args)])
    np.testing.assert_allclose(np.asarray(jac(v)), flat, rtol=1e-12, atol=1e-12)
    assert np.asarray(jac(batch)).shape == (3, v.size)
    assert pickle.loads(pickle.dumps(packed))(v) == pytest.approx(float(plain(*args)), rel=1e-13)


def test_packed_reads_one_unknown_size_from_the_length_and_says_when_it_cannot():
    f = sc.parse("log(sum(exp(z)))", shapes={"z": "k"})
    packed = sc.lambdify(f, ["z"], packed=True)
    z = np.array([1.0, -2.0, 1000.0, 3.0])
    assert float(packed(z)) == pytest.approx(1000.0, rel=1e-15)
    g = sc.lambdify(sc.grad(f, "z"), ["z"], packed=True)
    np.testing.assert_allclose(g(z), sc.lambdify(sc.grad(f, "z"), ["z"])(z))
    two = sc.lambdify(sc.parse("0.5*norm(X@w - r)^2", shapes=SHAPES), ["X", "w", "r"], packed=True)
    with pytest.raises(ShapeError, match="does not fix the sizes m, n"):
        two(np.ones(10))
    three = sc.lambdify(sc.parse("0.5*norm(X@w - r)^2", shapes=SHAPES), ["X", "w", "r"],
                        packed={"m": 4})
    with pytest.raises(ShapeError, match="length 11"):
        three(np.ones(11))  # 4n + n + 4 is never 11


# --- standalone source ---------------------------------------------------------------------------
def _without_symcalc(name, *args, **kwargs):
    if name == "symcalc" or name.startswith("symcalc."):
        raise ImportError(f"{name} is not importable here")
    return builtins.__import__(name, *args, **kwargs)


def standalone(source: str) -> dict:
    """``source`` run in a fresh namespace in which symcalc cannot be imported."""
    assert "symcalc" not in "\n".join(line for line in source.splitlines()
                                       if line.lstrip().startswith(("import ", "from ")))
    namespace = {"__builtins__": {**vars(builtins), "__import__": _without_symcalc}}
    exec(compile(source, "<standalone>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_standalone_codegen_equals_lambdify(loss):
    text, variables = LOSSES[loss]
    f = sc.parse(text, shapes=SHAPES)
    outputs = [f] + [sc.grad(f, v) for v in variables]
    names = names_of(outputs)
    arrays = data(1000)
    args = [arrays[n] for n in names]
    source = sc.codegen(outputs, names)
    assert sc.lambdify(outputs, names).source == source
    assert sc.codegen(outputs, names, planned=True) == source
    got = standalone(source)["f"](*args)
    for a, b in zip(got, sc.lambdify(outputs, names)(*args)):
        np.testing.assert_array_equal(a, b)


def test_standalone_code_writes_out_only_the_helpers_it_calls():
    source = sc.codegen(sc.parse("0.5*norm(A@t - b)^2", shapes={"A": "m,n", "t": "n", "b": "m"}),
                        ["A", "t", "b"])
    assert "def bind(" in source and "class ShapeError(ValueError)" in source
    for absent in ("def softmax", "def sigmoid", "def vector_logsumexp", "def logdet"):
        assert absent not in source
    source = sc.codegen(sc.grad("log(sum(exp(z)))", "z", shapes={"z": "k"}), ["z"])
    assert "def softmax(" in source and "def vector_logsumexp(" not in source


def test_standalone_code_runs_in_an_interpreter_without_symcalc(tmp_path):
    f = sc.parse(LOSSES["logistic"][0], shapes=SHAPES)
    g = sc.grad(f, "w")
    names = names_of(g)
    (tmp_path / "loss.py").write_text(sc.codegen([f, g], names))
    arrays = data(1000)
    np.savez(tmp_path / "arrays.npz", **{n: arrays[n] for n in names})
    script = ("import sys\n"
              "class Refuse:  # symcalc is installed in this interpreter: make it unimportable\n"
              "    def find_spec(self, name, path=None, target=None):\n"
              "        if name.partition('.')[0] == 'symcalc':\n"
              "            raise ImportError(name)\n"
              "sys.meta_path.insert(0, Refuse())\n"
              "import numpy as np\n"
              "loss = {}\n"
              "exec(open('loss.py').read(), loss)\n"
              "a = np.load('arrays.npz')\n"
              f"value, gradient = loss['f']({', '.join(f'a[{n!r}]' for n in names)})\n"
              "np.save('out.npy', np.concatenate([[value], gradient]))\n"
              "try:\n"
              "    loss['f'](a['X'], np.ones(5), a['y'])\n"
              "except ValueError as e:\n"
              "    print(type(e).__name__, e)\n"
              "print('symcalc' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-I", "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "ShapeError size n disagrees: X has 2 (axis 1) but w has 5 (axis 0)", "False"]
    out = np.load(tmp_path / "out.npy")
    value, gradients = expected("logistic", 1000)
    agree(out[0], value, "standalone value")
    agree(out[1:], gradients[0], "standalone gradient")


# --- pickle and size checks on every backend ---------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_pickle_round_trip(backend):
    f = sc.parse(LOSSES["two-layer network"][0], shapes=SHAPES)
    outputs = [f, sc.grad(f, "V"), sc.grad(f, "v")]
    names = names_of(outputs)
    function = sc.lambdify(outputs, names, backend=backend)
    again = pickle.loads(pickle.dumps(function))
    assert again.source == function.source and again.backend == backend
    arrays = data(30)
    args = [arrays[n] for n in names]
    for a, b in zip(again(*args), function(*args)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("backend", BACKENDS)
def test_sizes_are_checked_on_every_backend(backend):
    g = sc.grad(sc.parse("0.5*norm(A@t - b)^2", shapes={"A": "m,n", "t": "n", "b": "m"}), "t")
    function = sc.lambdify(g, ["A", "t", "b"], backend=backend)
    A, b = np.ones((3, 2)), np.ones(3)
    np.testing.assert_allclose(np.asarray(function(A, np.ones(2), b)), [3.0, 3.0])
    with pytest.raises(ShapeError, match="size n disagrees: A has 2 .* but t has 4"):
        function(A, np.ones(4), b)
    with pytest.raises(ShapeError, match="size m disagrees"):
        function(A, np.ones(2), np.ones(5))
    with pytest.raises(ShapeError, match="t must be a 1-D array"):
        function(A, np.ones((2, 2)), b)
    if backend == "jax":
        with pytest.raises(ShapeError, match="size n disagrees"):
            jax.jit(function)(A, np.ones(4), b)
        with pytest.raises(ShapeError, match="size n disagrees"):
            jax.grad(lambda t: jnp.sum(function(A, t, b)))(jnp.ones(4))
    packed = sc.lambdify(g, ["A", "t", "b"], backend=backend, packed={"m": 3, "n": 2})
    with pytest.raises(ShapeError):
        packed(np.ones(12))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_variable_the_result_no_longer_mentions_is_checked(backend):
    h = sc.hessian("0.5*t@t", "t", shapes={"t": "n"})
    function = sc.lambdify(h, ["t"], backend=backend)
    np.testing.assert_array_equal(np.asarray(function(np.ones(3))), np.eye(3))
    with pytest.raises(ShapeError, match="t must be a 1-D array"):
        function(np.ones((3, 3)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_source_of_every_backend_is_standalone_numpy_with_the_same_values(backend):
    f = sc.parse(LOSSES["two-layer network"][0], shapes=SHAPES)
    outputs = [f, sc.grad(f, "V")]
    names = names_of(outputs)
    function = sc.lambdify(outputs, names, backend=backend)
    assert function.source == sc.codegen(outputs, names)
    arrays = data(1000)
    args = [arrays[n] for n in names]
    for a, b in zip(standalone(function.source)["f"](*args), function(*args)):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-12, atol=1e-12)


def test_jax_multiplies_a_vector_by_a_matrix_without_transposing_it():
    g = sc.grad(sc.parse("0.5*norm(A@t - b)^2", shapes={"A": "m,n", "t": "n", "b": "m"}), "t")
    assert "A.T @ " in sc.lambdify(g, ["A", "t", "b"]).code.text
    text = sc.lambdify(g, ["A", "t", "b"], backend="jax").code.text
    assert ".T" not in text and "(A @ t - b) @ A" in text


def test_packed_sizes_must_be_whole_numbers():
    f = sc.parse("log(sum(exp(z)))", shapes={"z": "k"})
    for bad in ({"k": 2.5}, {"k": -1}, {3: 3}, "yes"):
        with pytest.raises(sc.SymcalcError, match="packed"):
            sc.lambdify(f, ["z"], packed=bad)


def test_a_matrix_and_its_transpose_are_computed_once():
    # the normal form writes tanh(X@W).T as tanh(W.T@X.T); the code reads it as the .T of the
    # hidden layer it computes anyway
    from matrix_oracle import check
    shapes = {"X": "m,n", "W": "n,h", "v": "h", "y": "m"}
    f = sc.parse("sum(softplus(tanh(X@W)@v)) - y@(tanh(X@W)@v)", shapes=shapes)
    gradient = sc.grad(f, ["W", "v"])
    source = sc.codegen(gradient, ["X", "W", "v", "y"])
    body = source[source.index("def f("):]
    assert body.count("np.tanh(") == 1 and "np.tanh(X @ W)" in body, body
    for variable, result in zip(["W", "v"], gradient):  # values against SymPy and differences
        check(f, sc.parse(variable, shapes=shapes), result, with_sympy=True)


def test_code_for_a_deep_network_grows_linearly_and_computes_each_layer_once():
    from test_scaling import calls

    def gradient(k, tag):
        shapes = {"X": "m,n", "v": "n", "y": "m"}
        h = "X"
        for i in range(k):
            shapes[f"{tag}{i}"] = "n,n"
            h = f"tanh({h}@{tag}{i})"
        f = sc.parse(f"sum(softplus({h}@v)) - y@({h}@v)", shapes=shapes)
        names = [f"{tag}{i}" for i in range(k)]
        return sc.grad(f, names), ["X", "v", "y"] + names

    small, large = gradient(60, "P"), gradient(120, "Q")
    sc.codegen(*gradient(5, "R"))  # what a first call makes once is not counted
    assert calls(lambda: sc.codegen(*large)) / calls(lambda: sc.codegen(*small)) < 2.3  # 2.8 before
    assert sc.codegen(*large).count("np.tanh(") == 120
