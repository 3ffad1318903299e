"""Matrix calculus benchmark: least squares at m = 20000, n = 500, and derivatives whose code
must cost what the formula needs.

    python benchmarks/matrix.py            # m = 20000, n = 500, medians of 7
    python benchmarks/matrix.py --quick    # m = 2000, n = 50, one repetition (CI runs it)

The gradient of ``0.5*norm(A@t - b)^2`` in matrix form is built once, whatever the sizes
(``A.T@(A@t - b)``); the NumPy code ``sc.lambdify`` generates for it is timed against the
hand-written ``A.T @ (A @ t - b)``.  For contrast, the scalar engine differentiates the same loss
unrolled into scalar symbols (``A_1_1 ... A_m_n``), whose work grows with the sizes.  Values are
compared first; a disagreement prints FAILURE and the exit status is 1.

Then three results whose naive code multiplies matrices where vectors serve, each timed against
NumPy written by hand (peak memory by ``tracemalloc``): the Hessians of the logistic loss and of
``logsumexp(X@w)`` at m = 8000, n = 50 (``X.T@diag(s)@X`` runs as ``X.T@(s[:, None]*X)``, never
building the m x m ``diag(s)``), and the gradient of ``(A@x)@(A@x)/((B@x)@(B@x))`` at n = 1500
(``A.T@(A@x)``, never ``A.T@A``); quick: m = 2000, n = 20 and n = 300.

Last, gradients compiled for the JAX backend against ``jax.jit(jax.grad(...))`` of the same loss
written by hand in ``jax.numpy`` (least squares, logistic loss, a two-layer network), with the
ratio of their times; the goal is within 1.5x.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

import symcalc as sc
from symcalc.matrix import unroll

SHAPES = {"A": ("m", "n"), "t": ("n",), "b": ("m",)}
LOSS = "0.5*norm(A@t - b)^2"


def median_seconds(functions, repeat: int) -> list[float]:
    """Median time of each function, sampled in turn (after one warm-up call each) so that a
    busy machine slows all of them alike."""
    samples = [[] for _ in functions]
    for fn in functions:
        fn()
    for _ in range(repeat):
        for fn, times in zip(functions, samples):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return [float(np.median(times)) for times in samples]


def unrolled_gradient_seconds(m: int, n: int) -> float:
    f = unroll(sc.parse(LOSS, shapes=SHAPES), {"m": m, "n": n})[()]
    start = time.perf_counter()
    sc.grad(f, [f"t_{j + 1}" for j in range(n)])
    return time.perf_counter() - start


def _softmax(z):
    p = np.exp(z - z.max())
    return p / p.sum()


def _logistic_hessian(X, w, y):
    s = 1 / (1 + np.exp(y * (X @ w)))
    return X.T @ ((s * (1 - s) * y ** 2)[:, None] * X)


def _logsumexp_hessian(X, w):
    p = _softmax(X @ w)
    q = X.T @ p
    return X.T @ (p[:, None] * X) - np.outer(q, q)


def _quotient_gradient(A, B, x):
    Ax, Bx = A @ x, B @ x
    a, b = Ax @ Ax, Bx @ Bx
    return 2 * (A.T @ Ax) / b - 2 * a / b ** 2 * (B.T @ Bx)


LOGISTIC = {"X": ("m", "n"), "w": ("n",), "y": ("m",)}
QUOTIENT = {"A": ("n", "n"), "B": ("n", "n"), "x": ("n",)}
# (label, derivative, formula, shapes, arguments, variable, NumPy by hand, sizes, quick sizes)
CHEAP_FORMS = (
    ("logistic Hessian", sc.hessian, "sum(log(1 + exp(-y*(X@w))))", LOGISTIC, ("X", "w", "y"),
     "w", _logistic_hessian, {"m": 8000, "n": 50}, {"m": 2000, "n": 20}),
    ("logsumexp Hessian", sc.hessian, "logsumexp(X@w)", LOGISTIC, ("X", "w"), "w",
     _logsumexp_hessian, {"m": 8000, "n": 50}, {"m": 2000, "n": 20}),
    ("quotient gradient", sc.grad, "(A@x)@(A@x)/((B@x)@(B@x))", QUOTIENT, ("A", "B", "x"), "x",
     _quotient_gradient, {"n": 1500}, {"n": 300}),
)


def peak_mib(fn) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2 ** 20
    finally:
        tracemalloc.stop()


def cheap_forms(quick: bool, repeat: int) -> bool:
    """Each result of ``CHEAP_FORMS`` against NumPy by hand; False when a value disagrees."""
    rng = np.random.default_rng(1)
    ok = True
    for label, derivative, formula, shapes, names, wrt, numpy, full, small in CHEAP_FORMS:
        sizes = small if quick else full
        result = derivative(formula, wrt, shapes=shapes)
        generated = sc.lambdify(result, list(names))
        arrays = [rng.normal(size=tuple(sizes[d] for d in shapes[name])) for name in names]
        if not np.allclose(generated(*arrays), numpy(*arrays), rtol=1e-9, atol=1e-12):
            print(f"FAILURE: the generated {label} disagrees with NumPy")
            ok = False
            continue
        ours, theirs = median_seconds([lambda: generated(*arrays), lambda: numpy(*arrays)], repeat)
        where = ", ".join(f"{k} = {v}" for k, v in sizes.items())
        print(f"{label}: {result}")
        memory = [peak_mib(lambda: generated(*arrays)), peak_mib(lambda: numpy(*arrays))]
        print(f"  {where}: generated {ours * 1e3:.2f} ms, {memory[0]:.1f} MiB; "
              f"by hand {theirs * 1e3:.2f} ms, {memory[1]:.1f} MiB")
    return ok


# (label, loss, shapes, arguments, variable, the loss in jax.numpy by hand)
JAX_LOSSES = (
    ("least squares", "0.5*norm(A@t - b)^2", {"A": ("m", "n"), "t": ("n",), "b": ("m",)},
     ("A", "t", "b"), "t", lambda jnp, nn: lambda A, t, b: 0.5 * jnp.sum((A @ t - b) ** 2)),
    ("logistic", "sum(log(1 + exp(-y*(X@w))))", LOGISTIC, ("X", "w", "y"), "w",
     lambda jnp, nn: lambda X, w, y: jnp.sum(jnp.logaddexp(0, -y * (X @ w)))),
    ("two-layer network", "sum(softplus(tanh(X@W)@v)) - y@(tanh(X@W)@v)",
     {"X": ("m", "n"), "W": ("n", "h"), "v": ("h",), "y": ("m",)}, ("X", "W", "v", "y"), "W",
     lambda jnp, nn: lambda X, W, v, y: (jnp.sum(nn.softplus(jnp.tanh(X @ W) @ v))
                                         - y @ (jnp.tanh(X @ W) @ v))),
)
JAX_GOAL = 1.5


def jax_gradients(quick: bool, repeat: int) -> bool:
    """The gradients of ``JAX_LOSSES`` compiled with ``backend="jax"`` against
    ``jax.jit(jax.grad(...))`` of the loss written by hand in ``jax.numpy``; False when a value
    disagrees.  Skipped (True) without JAX."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        print("JAX backend: JAX is not installed, skipped")
        return True
    jax.config.update("jax_enable_x64", True)
    sizes = {"m": 2000, "n": 50, "h": 16} if quick else {"m": 20000, "n": 500, "h": 32}
    rng = np.random.default_rng(2)
    ok = True
    print(f"JAX backend, gradients against jax.jit(jax.grad(loss by hand)), "
          f"{', '.join(f'{k} = {v}' for k, v in sizes.items())}:")
    for label, formula, shapes, names, wrt, by_hand in JAX_LOSSES:
        generated = sc.lambdify(sc.grad(sc.parse(formula, shapes=shapes), wrt), list(names),
                                backend="jax")
        reference = jax.jit(jax.grad(by_hand(jnp, jax.nn), argnums=names.index(wrt)))
        arrays = [jnp.asarray(rng.normal(size=tuple(sizes[d] for d in shapes[name])))
                  for name in names]
        if not np.allclose(generated(*arrays), reference(*arrays), rtol=1e-9, atol=1e-9):
            print(f"FAILURE: the JAX backend's gradient of the {label} disagrees with jax.grad")
            ok = False
            continue
        ours, theirs = median_seconds([lambda: generated(*arrays).block_until_ready(),
                                       lambda: reference(*arrays).block_until_ready()],
                                      max(repeat, 5))
        verdict = "within" if ours <= JAX_GOAL * theirs else "NOT within"
        print(f"  {label}: generated {ours * 1e3:.2f} ms, jit(grad) {theirs * 1e3:.2f} ms, "
              f"ratio {ours / theirs:.2f} ({verdict} {JAX_GOAL}x)")
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="least-squares gradient: generated vs NumPy")
    parser.add_argument("--quick", action="store_true", help="m = 2000, n = 50, one repetition")
    args = parser.parse_args(argv)
    m, n, repeat = (2000, 50, 1) if args.quick else (20000, 500, 7)

    start = time.perf_counter()
    gradient = sc.grad(sc.parse(LOSS, shapes=SHAPES), "t")
    generated = sc.lambdify(gradient, ["A", "t", "b"])
    build = time.perf_counter() - start
    print(f"gradient: {gradient}   (built and compiled in {build * 1e3:.1f} ms, for any m and n)")

    rng = np.random.default_rng(0)
    A, t, b = rng.normal(size=(m, n)), rng.normal(size=n), rng.normal(size=m)
    expected = A.T @ (A @ t - b)
    got = generated(A, t, b)
    if not np.allclose(got, expected, rtol=1e-10, atol=1e-8):
        print("FAILURE: the generated gradient disagrees with NumPy")
        return 1
    ours, numpy = median_seconds([lambda: generated(A, t, b), lambda: A.T @ (A @ t - b)], repeat)
    print(f"m = {m}, n = {n}: generated {ours * 1e3:.2f} ms, hand-written NumPy "
          f"{numpy * 1e3:.2f} ms, ratio {ours / numpy:.2f}")

    print("scalar engine on the unrolled loss (grows with the sizes):")
    for size in ((4, 2), (8, 4), (16, 8)) if args.quick else ((4, 2), (8, 4), (16, 8), (32, 16)):
        print(f"  m = {size[0]:3d}, n = {size[1]:3d}: {unrolled_gradient_seconds(*size) * 1e3:8.1f} ms")
    print("results whose code multiplies by vectors and scales rows, against NumPy by hand:")
    ok = cheap_forms(args.quick, repeat)
    return 0 if jax_gradients(args.quick, repeat) and ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
