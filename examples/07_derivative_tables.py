"""The derivative tables of machine learning, recomputed by symcalc and checked row by row.

Scalar rules: x^n, e^x, log x, the sigmoid and tanh (whose derivatives are written in terms of the
function itself), softplus and relu.  Vector rules for t in R^d: the gradient of a^T t is a, of
|t|^2/2 is t, of the least-squares loss |A t - b|^2/2 is A^T (A t - b), of log-sum-exp is the
softmax, and the gradient of the cross-entropy of softmax(z) against a one-hot label y is p - y.
Each row is checked against the table's formula symbolically (the difference simplifies to 0) and
at random points, and against central differences of the function.
"""

import numpy as np

import symcalc as sc
from _support import options, table

RNG = np.random.default_rng(7)


def check(f, wrt: list[str], got, expected, variables: list[str]) -> str:
    """Confirm a row three ways and say which held: the difference simplifies to 0 (symbolic),
    the table's formula has the same values at random points (table), and central differences
    of f agree (finite differences).  The last two must hold."""
    expected = [sc.parse(e) for e in expected] if isinstance(expected, list) else sc.parse(expected)
    pairs = zip(got, expected) if isinstance(got, list) else [(got, expected)]
    symbolic = all(sc.simplify(g - e) == 0 for g, e in pairs)

    points = np.array([RNG.uniform(0.5, 2.0, size=5) for _ in variables])
    values = np.asarray(sc.lambdify(got, variables)(*points), dtype=float)
    table_values = np.asarray(sc.lambdify(expected, variables)(*points), dtype=float)
    assert np.allclose(values, table_values, rtol=1e-10, atol=1e-12), f"{got} differs from {expected}"

    F, h = sc.lambdify(f, variables), 1e-5
    differences = []
    for name in wrt:
        step = h * np.array([[name == v] for v in variables], dtype=float)
        differences.append((F(*(points + step)) - F(*(points - step))) / (2 * h))
    differences = np.array(differences).reshape(values.shape)
    assert np.allclose(values, differences, rtol=1e-6, atol=1e-8), f"{got} fails the finite differences"
    return "symbolic, table, finite differences" if symbolic else "table, finite differences"


def scalar_table() -> None:
    rows = [("x^n", "n*x^(n - 1)", ["x", "n"]),
            ("exp(x)", "exp(x)", ["x"]),
            ("log(x)", "1/x", ["x"]),
            ("sigmoid(x)", "sigmoid(x)*(1 - sigmoid(x))", ["x"]),
            ("tanh(x)", "1 - tanh(x)^2", ["x"]),
            ("softplus(x)", "sigmoid(x)", ["x"]),
            ("relu(x)", "heaviside(x)", ["x"])]
    printed = []
    for f, expected, variables in rows:
        got = sc.diff(f, "x")
        printed.append((f, str(got), expected, check(f, ["x"], got, expected, variables)))
    table(["f(x)", "symcalc: f'(x)", "table", "checked"], printed)


def vector_table(d: int, m: int) -> None:
    t = [f"t{j}" for j in range(1, d + 1)]
    a = [f"a{j}" for j in range(1, d + 1)]
    A = [[f"A{i}{j}" for j in range(1, d + 1)] for i in range(1, m + 1)]
    b = [f"b{i}" for i in range(1, m + 1)]

    linear = " + ".join(f"{aj}*{tj}" for aj, tj in zip(a, t))
    half_norm = "(" + " + ".join(f"{tj}^2" for tj in t) + ")/2"
    residuals = ["(" + " + ".join(f"{Aij}*{tj}" for Aij, tj in zip(row, t)) + f" - {bi})"
                 for row, bi in zip(A, b)]
    least_squares = "(" + " + ".join(f"{r}^2" for r in residuals) + ")/2"
    A_transpose_r = [" + ".join(f"{A[i][j]}*{residuals[i]}" for i in range(m)) for j in range(d)]
    lse = f"logsumexp({', '.join(t)})"
    softmax = [f"exp({tj} - {lse})" for tj in t]

    rows = [("a^T t", linear, "a", a, t + a),
            ("|t|^2/2", half_norm, "t", t, t),
            ("|A t - b|^2/2", least_squares, "A^T (A t - b)", A_transpose_r,
             t + [x for row in A for x in row] + b),
            ("log-sum-exp", lse, "softmax(t)", softmax, t)]
    printed = []
    for name, f, claim, expected, variables in rows:
        got = sc.grad(f, t)
        printed.append((name, claim, check(f, t, got, expected, variables)))
        print(f"grad {name} = [{', '.join(map(str, got))}]")
    print()
    table([f"f(t), t in R^{d}", "gradient", "checked"], printed)


def cross_entropy(k: int) -> None:
    """L(z) = -sum_i y_i log p_i with p = softmax(z); with y one-hot the gradient is p - y."""
    z = [f"z{i}" for i in range(1, k + 1)]
    y = [f"y{i}" for i in range(1, k + 1)]
    lse = f"logsumexp({', '.join(z)})"
    p = [f"exp({zi} - {lse})" for zi in z]
    loss = "-(" + " + ".join(f"{yi}*log({pi})" for yi, pi in zip(y, p)) + ")"
    gradient = sc.grad(loss, z)
    print(f"\ncross-entropy L(z) = {sc.simplify(loss)}")
    print(f"dL/dz1 for any y  = {gradient[0]}")
    for label in range(k):
        one_hot = {yi: int(i == label) for i, yi in enumerate(y)}
        got = [sc.subs(g, one_hot) for g in gradient]
        expected = [f"{pi} - {one_hot[yi]}" for pi, yi in zip(p, y)]
        how = check(sc.subs(loss, one_hot), z, got, expected, z)
        print(f"y = {[one_hot[yi] for yi in y]}:  gradient = {[str(g) for g in got]}  = p - y ({how})")


def main() -> None:
    args = options(__doc__)
    d, m = (2, 2) if args.quick else (3, 2)
    scalar_table()
    print()
    vector_table(d, m)
    cross_entropy(3)


if __name__ == "__main__":
    main()
