"""Interning under threads: equal formulas built at the same time are one object."""

from __future__ import annotations

import sys
import threading

import symcalc as sc

FORMULAS = [
    "sin(x)*exp(y) + x^2", "sigmoid(w*x + b)", "0.5*(a*t1 + b*t2 - y)^2",
    "logsumexp(x, y, z) - log(1 + exp(x))", "tanh(x*y)^3/(1 + x^2)",
]


def test_threads_building_the_same_formulas_get_the_same_objects():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        for round_ in range(20):
            variant = [f"{text} + q{round_}" for text in FORMULAS]  # fresh nodes each round
            results: list[list] = [[] for _ in range(8)]
            start = threading.Barrier(8)

            def work(k: int) -> None:
                start.wait()
                for text in variant:
                    e = sc.parse(text)
                    results[k].append((e, sc.grad(e, sorted(s.name for s in e.free_symbols))))

            threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for k in range(1, 8):
                for (e0, g0), (e, g) in zip(results[0], results[k]):
                    assert e is e0
                    assert all(a is b for a, b in zip(g, g0))
                    assert sc.simplify(e - e0) == 0
    finally:
        sys.setswitchinterval(old)


def test_threads_building_the_same_shaped_formulas_get_the_same_objects():
    shapes = {"A": ("m", "n"), "t": ("n",), "b": ("m",)}
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for round_ in range(10):
            text = f"0.5*norm(A@t - b)^2 + {round_}*sum(t)"
            results: list = [None] * 8
            start = threading.Barrier(8)

            def work(k: int) -> None:
                start.wait()
                f = sc.parse(text, shapes=shapes)
                results[k] = (f, sc.grad(f, "t"))

            threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert all(f is results[0][0] and g is results[0][1] for f, g in results)
    finally:
        sys.setswitchinterval(old)
