"""Backpropagation in a one-neuron network, explained step by step with sc.explain.

The loss of one sigmoid neuron on one example is L = (sigmoid(w*x + b) - y)^2/2.  sc.explain
differentiates it in w and in b and names every rule it applies: constant multiple, the chain rule
through the square, the sum rule, the chain rule through the sigmoid (whose own rule comes from
symcalc's function registry), then the linear part.  The chain-rule steps are exactly the local
derivatives a backward pass multiplies: dL/dp = p - y, dp/dz = p(1 - p), dz/dw = x, dz/db = 1.
The script checks that every step is a true derivative (central differences of its left side
match its right side at random points), that each trace ends at sc.grad's result, and that the
product of the backward pass's local derivatives gives the same numbers.
"""

import numpy as np

import symcalc as sc
from _support import options

LOSS = "0.5*(sigmoid(w*x + b) - y)^2"
VARIABLES = ["w", "b", "x", "y"]


def check_every_step(d: sc.Derivation, points: np.ndarray) -> int:
    """Each step's result equals the central difference of its expression; returns the count."""
    h = 1e-6
    shift = h * np.array([[name == d.var.name] for name in VARIABLES], dtype=float)
    steps = list(d.walk())
    for step in steps:
        f = sc.lambdify(step.expr, VARIABLES)
        claimed = np.asarray(sc.lambdify(step.result, VARIABLES)(*points), dtype=float)
        central = (f(*(points + shift)) - f(*(points - shift))) / (2 * h)
        assert np.allclose(claimed, central, rtol=1e-7, atol=1e-9), (step.rule, str(step.expr))
    return len(steps)


def main() -> None:
    args = options(__doc__)
    rng = np.random.default_rng(11)
    points = rng.uniform(-1.5, 1.5, size=(len(VARIABLES), 5 if args.quick else 50))

    traces = sc.explain(LOSS, ["w", "b"])
    gradient = sc.grad(LOSS, ["w", "b"])
    for d, g in zip(traces, gradient):
        print(d, end="\n\n")
        assert d.result is g, "the trace ends at sc.grad's component"
        count = check_every_step(d, points)
        print(f"all {count} steps of d/d{d.var} agree with central differences\n")

    # the rules a textbook would name, outermost first
    by_w = [step.rule for step in traces[0].walk() if not step.is_simplification]
    print("rules for dL/dw:", ", ".join(by_w))
    assert by_w == ["constant multiple", "chain", "sum", "chain", "sum", "constant multiple",
                    "variable", "constant", "constant"], by_w
    outer, inner = [s for s in traces[0].walk() if s.rule == "chain"]
    print("chain rule through the square: ", outer.note)
    print("chain rule through the sigmoid:", inner.note)
    assert outer.note.startswith("u = sigmoid(w*x + b) - y; power")
    assert inner.note.startswith("u = w*x + b; derivative of sigmoid")

    # the backward pass: dL/dp * dp/dz * dz/dw, with each factor read off the trace's formulas
    w, b, x, y = points
    p = 1 / (1 + np.exp(-(w * x + b)))
    backward_w = (p - y) * p * (1 - p) * x
    backward_b = (p - y) * p * (1 - p)
    symbolic = np.asarray(sc.lambdify(list(gradient), VARIABLES)(*points), dtype=float)
    largest = float(np.max(np.abs(symbolic - np.array([backward_w, backward_b]))))
    print(f"largest difference between the explained gradient and the backward pass: {largest:.1e}")
    assert largest < 1e-12

    print("\nLaTeX of dL/db (paste into a document with amsmath):")
    print(traces[1].latex())


if __name__ == "__main__":
    main()
