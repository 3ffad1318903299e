"""The chain rule as a product of Jacobians, and backpropagation through a two-layer network.

For x in R^2 -> g -> u in R^3 -> f -> z in R^2 the Jacobian of the composition is the matrix
product J_f(g(x)) J_g(x); the script forms both sides as formulas and shows that they are equal.
Backpropagation is that product evaluated from the scalar loss backwards: a hand-written backward
pass through tanh(W1 x + b1), a linear output and a squared error gives the same gradient as
symcalc's reverse-mode grad of the whole loss formula.
"""

import numpy as np
import sympy

import symcalc as sc
from _support import options


def jacobian_product() -> None:
    inner = ["tanh(x1 + 2*x2)", "x1*x2", "exp(-x1)"]          # g: R^2 -> R^3
    outer = ["u1*u2 + u3", "sin(u1) - u3^2"]                   # f: R^3 -> R^2
    at_inner = {f"u{k + 1}": sc.parse(gk) for k, gk in enumerate(inner)}
    composite = [sc.subs(fi, at_inner) for fi in outer]
    print("z = f(g(x)) =", [str(z) for z in composite])

    J_composite = sc.jacobian(composite, ["x1", "x2"])
    J_outer = [[sc.subs(entry, at_inner) for entry in row] for row in sc.jacobian(outer, ["u1", "u2", "u3"])]
    J_inner = sc.jacobian(inner, ["x1", "x2"])
    # an independent opinion: SymPy's own Jacobian of the composition
    J_sympy = sympy.Matrix([sc.to_sympy(z) for z in composite]).jacobian(sympy.symbols("x1 x2"))
    print("J_f(u) =", [[str(e) for e in row] for row in sc.jacobian(outer, ["u1", "u2", "u3"])])
    print("J_g(x) =", [[str(e) for e in row] for row in J_inner])

    for i in range(len(outer)):
        for j in range(2):
            terms = [J_outer[i][k] * J_inner[k][j] for k in range(len(inner))]
            product = sc.simplify(sum(terms[1:], terms[0]))
            print(f"dz{i + 1}/dx{j + 1}:  {J_composite[i][j]}\n   (J_f J_g)[{i}][{j}] = {product}")
            assert sc.simplify(J_composite[i][j] - product) == 0, (i, j)
            assert sympy.simplify(J_sympy[i, j] - sc.to_sympy(product)) == 0, (i, j)
    print("every entry of J_(f o g) equals the entry of J_f(g(x)) J_g(x)"
          " (checked against SymPy's Jacobian too)\n")


def two_layer_network(inputs: int, hidden: int, rng: np.random.Generator) -> None:
    """loss = (w2 . tanh(W1 x + b1) + b2 - y)^2 / 2, differentiated in all weights."""
    W1 = [[f"W{i}_{j}" for j in range(inputs)] for i in range(hidden)]
    b1 = [f"b{i}" for i in range(hidden)]
    w2 = [f"v{i}" for i in range(hidden)]
    parameters = [w for row in W1 for w in row] + b1 + w2 + ["c"]
    data = [f"x{j}" for j in range(inputs)] + ["y"]

    activations = [f"tanh({' + '.join(f'{W1[i][j]}*x{j}' for j in range(inputs))} + {b1[i]})"
                   for i in range(hidden)]
    output = " + ".join(f"{w2[i]}*{activations[i]}" for i in range(hidden)) + " + c"
    loss = sc.parse(f"({output} - y)^2/2")
    gradient = sc.grad(loss, parameters)
    print(f"network {inputs} -> {hidden} (tanh) -> 1, squared loss, {len(parameters)} parameters")
    for name in ("c", w2[0], W1[0][0]):
        print(f"dloss/d{name} = {gradient[parameters.index(name)]}")

    values = rng.normal(scale=0.5, size=len(parameters))
    x, y = rng.normal(size=inputs), 0.7
    symbolic = np.asarray(sc.lambdify(gradient, parameters + data)(*values, *x, y), dtype=float)

    # the backward pass by hand: local derivatives multiplied from the loss towards the inputs
    W1_v = values[:inputs * hidden].reshape(hidden, inputs)
    b1_v = values[inputs * hidden:inputs * hidden + hidden]
    w2_v = values[inputs * hidden + hidden:-1]
    c_v = values[-1]
    h = np.tanh(W1_v @ x + b1_v)                 # forward pass
    prediction = w2_v @ h + c_v
    d_prediction = prediction - y                # dloss/dprediction
    d_w2, d_c = d_prediction * h, d_prediction
    d_h = d_prediction * w2_v
    d_pre = d_h * (1 - h**2)                     # through tanh
    d_W1, d_b1 = np.outer(d_pre, x), d_pre
    by_hand = np.concatenate([d_W1.ravel(), d_b1, d_w2, [d_c]])

    largest = float(np.max(np.abs(symbolic - by_hand)))
    print(f"largest difference between backpropagation and symcalc's gradient: {largest:.2e}")
    assert np.allclose(symbolic, by_hand, rtol=1e-12, atol=1e-14)


def main() -> None:
    args = options(__doc__)
    jacobian_product()
    inputs, hidden = (3, 4) if args.quick else (4, 8)
    two_layer_network(inputs, hidden, np.random.default_rng(0))


if __name__ == "__main__":
    main()
