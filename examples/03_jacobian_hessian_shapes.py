"""Jacobian and Hessian: what shape each derivative has, and the Hessian as directional curvature.

A derivative of f: R -> R is a scalar, a gradient of f: R^d -> R has d entries, a Jacobian of
f: R^d -> R^m is an m x d matrix and a Hessian of f: R^d -> R is a symmetric d x d matrix.  The
script checks that table on functions from machine learning (an activation, a logistic loss, a
tanh layer), then shows that u^T H u is the second derivative of f along the line x + s*u, so the
curvature depends on the direction u and lies between the smallest and largest eigenvalue of H.
"""

from fractions import Fraction

import numpy as np

import symcalc as sc
from _support import options, table


def shape(result) -> str:
    """"scalar", "d" or "m x d" for an Expr, a list or a list of lists."""
    if isinstance(result, sc.Expr):
        return "scalar"
    if result and isinstance(result[0], list):
        return f"{len(result)} x {len(result[0])}"
    return str(len(result))


def exact(e: sc.Expr) -> Fraction:
    """The exact rational value of an expression that has no variables left."""
    assert isinstance(e, sc.Num), f"{e} is not a number"
    return Fraction(e.value)


def shape_table() -> None:
    weights = ["w1", "w2", "w3"]
    logistic_loss = "softplus(-(w1 + 2*w2 - w3))"   # log(1 + exp(-margin)) for one example
    layer = ["tanh(x1 - 2*x2 + x3)", "tanh(3*x1 + x2)"]  # R^3 -> R^2

    derivative = sc.diff("sigmoid(x)", "x")
    gradient = sc.grad(logistic_loss, weights)
    jacobian = sc.jacobian(layer, ["x1", "x2", "x3"])
    hessian = sc.hessian(logistic_loss, weights)

    rows = [("derivative", "R -> R", derivative, "scalar", "slope, local linear model"),
            ("gradient", "R^3 -> R", gradient, "3", "steepest ascent direction"),
            ("Jacobian", "R^3 -> R^2", jacobian, "2 x 3", "local linear map"),
            ("Hessian", "R^3 -> R", hessian, "3 x 3", "curvature, quadratic model")]
    table(["object", "map", "shape", "meaning"],
          [(name, kind, shape(result), meaning) for name, kind, result, _, meaning in rows])
    for name, _, result, expected, _ in rows:
        assert shape(result) == expected, (name, shape(result), expected)

    print("\nd/dx sigmoid(x)      =", derivative)
    print("gradient of the loss =", [str(g) for g in gradient])
    print("Jacobian of the layer:")
    for row in jacobian:
        print("   ", [str(entry) for entry in row])
    # symmetric by construction: the mirrored entries are the same object
    assert all(hessian[i][j] is hessian[j][i] for i in range(3) for j in range(3))
    print("Hessian[0][1] = Hessian[1][0] =", hessian[0][1])


def curvature() -> None:
    f = sc.parse("(1 - x)^2 + 5*(y - x^2)^2")
    point = {"x": Fraction(1, 2), "y": Fraction(1, 2)}
    u = (Fraction(3, 5), Fraction(4, 5))            # a unit vector with exact entries
    print(f"\nf(x, y) = {f}, at (x, y) = (1/2, 1/2), direction u = (3/5, 4/5)")

    hessian = sc.hessian(f, ["x", "y"])
    H = [[exact(sc.subs(entry, point)) for entry in row] for row in hessian]
    quadratic_form = sum(u[i] * H[i][j] * u[j] for i in range(2) for j in range(2))

    # the same number as the second derivative of s -> f(point + s*u) at s = 0
    along_line = sc.subs(f, {"x": sc.parse(f"1/2 + {u[0]}*s"), "y": sc.parse(f"1/2 + {u[1]}*s")})
    second = exact(sc.subs(sc.diff(along_line, "s", 2), {"s": 0}))
    # and as u . (H u), from the Hessian-vector product that never forms H
    Hu = [exact(sc.subs(entry, point)) for entry in sc.hvp(f, ["x", "y"], list(u))]
    via_hvp = u[0] * Hu[0] + u[1] * Hu[1]

    print("H =", [[str(v) for v in row] for row in H])
    print(f"u^T H u = {quadratic_form};  d^2/ds^2 f(p + s u) at s=0 = {second};  u . hvp = {via_hvp}")
    assert quadratic_form == second == via_hvp

    # curvature over all unit directions ranges exactly between the eigenvalues of H
    matrix = np.array(H, dtype=float)
    angles = np.linspace(0, np.pi, 721)
    units = np.stack([np.cos(angles), np.sin(angles)])
    curvatures = np.einsum("in,ij,jn->n", units, matrix, units)
    low, high = np.linalg.eigvalsh(matrix)
    print(f"curvature over directions: min {curvatures.min():.4f}, max {curvatures.max():.4f}; "
          f"eigenvalues of H: {low:.4f}, {high:.4f}")
    assert np.isclose(curvatures.min(), low, atol=1e-3) and np.isclose(curvatures.max(), high, atol=1e-3)


def main() -> None:
    options(__doc__)
    shape_table()
    curvature()


if __name__ == "__main__":
    main()
