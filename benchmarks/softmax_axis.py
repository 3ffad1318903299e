"""The gradient of multi-class logistic regression, -sum(Y*log(softmax(X@W, axis=1))), in W:
symcalc's generated NumPy code beside jax.jit(jax.grad(...)), with building and compiling each.

    python benchmarks/softmax_axis.py            # m, d, k = 1000, 50, 10 and 10000, 100, 20
    python benchmarks/softmax_axis.py --quick    # m, d, k = 1000, 50, 10

Times are the best of 20 calls.  The weights are scaled so that the logits reach about +-1000: both
gradients must stay finite there.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import symcalc as sc

SHAPES = {"X": ("m", "d"), "W": ("d", "k"), "Y": ("m", "k")}
LOSS = "-sum(Y*log(softmax(X@W, axis=1)))"


def best(call, repeat: int = 20) -> float:
    """The least time of ``repeat`` calls, in seconds (JAX's results awaited)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        getattr(result, "block_until_ready", lambda: None)()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the small size only")
    sizes = [(1000, 50, 10)] if parser.parse_args().quick else [(1000, 50, 10), (10000, 100, 20)]
    start = time.perf_counter()
    gradient = sc.grad(sc.parse(LOSS, shapes=SHAPES), "W")
    ours = sc.lambdify(gradient, ["X", "W", "Y"])
    build = time.perf_counter() - start
    print(f"gradient: {gradient}\nsymcalc build + code generation: {build * 1e3:.0f} ms")
    try:
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)
    except ImportError:
        jax = None
    rng = np.random.default_rng(0)
    for m, d, k in sizes:
        X, W = rng.normal(size=(m, d)), 30 * rng.normal(size=(d, k))
        Y = np.eye(k)[rng.integers(0, k, m)]
        value = ours(X, W, Y)
        line = (f"m={m} d={d} k={k}: symcalc {best(lambda: ours(X, W, Y)) * 1e3:.2f} ms"
                f" (finite: {bool(np.all(np.isfinite(value)))})")
        if jax is not None:
            def loss(W):
                return -jnp.sum(Y * jax.nn.log_softmax(X @ W, axis=1))
            start = time.perf_counter()
            theirs = jax.jit(jax.grad(loss))
            theirs(W).block_until_ready()
            compile_time = time.perf_counter() - start
            reference = np.asarray(theirs(W))
            difference = np.max(np.abs(value - reference)) / np.max(np.abs(reference))
            line += (f", jax.jit(jax.grad) {best(lambda: theirs(W)) * 1e3:.2f} ms"
                     f" (trace + compile {compile_time * 1e3:.0f} ms), relative difference "
                     f"{difference:.1e}")
        print(line)


if __name__ == "__main__":
    main()
