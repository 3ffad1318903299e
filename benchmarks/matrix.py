"""Matrix calculus benchmark: least squares at m = 20000, n = 500.

    python benchmarks/matrix.py            # m = 20000, n = 500, medians of 7
    python benchmarks/matrix.py --quick    # m = 2000, n = 50, one repetition (CI runs it)

The gradient of ``0.5*norm(A@t - b)^2`` in matrix form is built once, whatever the sizes
(``A.T@(A@t - b)``); the NumPy code ``sc.lambdify`` generates for it is timed against the
hand-written ``A.T @ (A @ t - b)``.  For contrast, the scalar engine differentiates the same loss
unrolled into scalar symbols (``A_1_1 ... A_m_n``), whose work grows with the sizes.  Values are
compared first; a disagreement prints FAILURE and the exit status is 1.
"""

from __future__ import annotations

import argparse
import time

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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
