"""Second-order structure at scale: a sparse Hessian for trust-constr, a Laplacian for a PINN loss.

The Hessian of the d-dimensional Rosenbrock function has 3d - 2 non-zeros among its d^2 entries;
``sc.hessian(f, xs, sparse=True)`` holds formulas for those alone and ``lambdify`` of it returns a
``scipy.sparse`` array, which ``scipy.optimize.minimize(method="trust-constr")`` takes as ``hess=``.

A physics-informed network is trained on the residual of a differential equation, here Poisson's
equation -(u_xx + u_yy) = 2 pi^2 sin(pi x) sin(pi y) on the unit square: the loss needs the
Laplacian of the network's output in its input.  ``sc.laplacian`` gives it as one readable formula
(the trace of the Hessian, without forming the Hessian), in the scalar form of a small tanh network
and in the matrix form ``v@tanh(W@z + b)``; both agree with central differences, and the gradient of
the loss in the network's weights is one more ``sc.grad``.
"""

import time

import numpy as np
from scipy.optimize import minimize

import symcalc as sc
from _support import options, table


def rosenbrock(d: int) -> str:
    return " + ".join(f"100*(x{i + 1} - x{i}^2)^2 + (1 - x{i})^2" for i in range(d - 1))


def trust_constr(d: int) -> list:
    xs = [f"x{i}" for i in range(d)]
    f = sc.parse(rosenbrock(d))
    start = time.perf_counter()
    H = sc.hessian(f, xs, sparse=True)
    built = time.perf_counter() - start
    value = sc.lambdify(f, xs, packed=True)
    # The gradient as the sparse Jacobian of the one function: built term by term, like H, in time
    # linear in d (sc.grad's readable gradient differentiates the whole sum once per variable).
    row = sc.lambdify(sc.jacobian([f], xs, sparse=True), xs, packed=True)
    gradient = lambda x: row(x).toarray()[0]
    hessian = sc.lambdify(H, xs, packed=True)
    x0 = 1 + 0.5 * np.cos(np.arange(d))  # away from the minimum, in its valley's basin
    start = time.perf_counter()
    result = minimize(value, x0, method="trust-constr", jac=gradient, hess=hessian,
                      options={"gtol": 1e-9, "maxiter": 5000})
    seconds = time.perf_counter() - start
    error = np.abs(result.x - 1).max()
    assert result.success and error < 1e-5, (result.message, error)
    # Newton-CG, trust-ncg and trust-krylov take the product with a vector instead:
    newton = minimize(value, x0, method="trust-ncg", jac=gradient, hessp=lambda x, p: hessian(x) @ p,
                      options={"gtol": 1e-9})
    assert newton.success and np.abs(newton.x - 1).max() < 1e-5
    assert H.nnz == 3 * d - 2
    return [d, H.nnz, f"{H.nnz / d**2:.1e}", f"{built:.2f} s", result.nit, f"{seconds:.1f} s",
            f"{error:.1e}"]


def network(hidden: int) -> str:
    """u(x, y) = sum_k v_k*tanh(a_k*x + c_k*y + b_k), a tanh network with named weights."""
    return " + ".join(f"v{k}*tanh(a{k}*x + c{k}*y + b{k})" for k in range(hidden))


def laplacian_check(hidden: int, rng: np.random.Generator) -> tuple[dict, str]:
    u = network(hidden)
    weights = {f"{p}{k}": rng.normal() for k in range(hidden) for p in "acbv"}
    names = list(weights)
    lap = sc.laplacian(u, "x y")
    at = (0.3, 0.6)
    value = sc.lambdify(lap, ["x", "y"] + names)(*at, *weights.values())
    u_at = sc.lambdify(u, ["x", "y"] + names)
    h = 1e-4
    central = sum((u_at(*(np.add(at, e)), *weights.values()) - 2 * u_at(*at, *weights.values())
                   + u_at(*(np.subtract(at, e)), *weights.values())) / h**2
                  for e in ((h, 0.0), (0.0, h)))
    assert abs(value - central) < 1e-5 * max(1.0, abs(central))
    # The same network in matrix form: v@tanh(W@z + b), W of shape (hidden, 2).
    shapes = {"W": ("h", 2), "b": ("h",), "v": ("h",), "z": (2,)}
    matrix_form = sc.laplacian(sc.parse("v@tanh(W@z + b)", shapes=shapes), "z")
    W = np.array([[weights[f"a{k}"], weights[f"c{k}"]] for k in range(hidden)])
    b, v = (np.array([weights[f"{p}{k}"] for k in range(hidden)]) for p in "bv")
    other = sc.lambdify(matrix_form, ["W", "b", "v", "z"])(W, b, v, np.array(at))
    assert abs(other - value) < 1e-10 * max(1.0, abs(value))
    print(f"  Laplacian of a tanh network, matrix form: {matrix_form}")
    print(f"  at (x, y) = {at}: {value:.10f}, central differences {central:.10f}")
    return weights, u


def pinn(hidden: int, points: int, steps: int, rng: np.random.Generator) -> list:
    weights, u = laplacian_check(hidden, rng)
    names = list(weights)
    source = "2*pi^2*sin(pi*x)*sin(pi*y)"
    residual = sc.parse(f"{sc.laplacian(u, 'x y')} + {source}")  # -lap(u) = source
    squared = residual**2
    loss = sc.lambdify(squared, ["x", "y"] + names)
    grad = sc.lambdify(sc.grad(squared, names), ["x", "y"] + names)
    x, y = rng.uniform(0, 1, points), rng.uniform(0, 1, points)
    w = np.array(list(weights.values()))
    mean_loss = lambda w: float(np.mean(loss(x, y, *w)))
    g = np.mean(grad(x, y, *w), axis=-1)
    e = np.zeros_like(w)
    e[0] = 1e-6
    assert abs((mean_loss(w + e) - mean_loss(w - e)) / 2e-6 - g[0]) < 1e-5 * max(1, abs(g[0]))
    rows, rate = [[0, f"{mean_loss(w):.4g}"]], 1e-3
    for step in range(1, steps + 1):
        g = np.mean(grad(x, y, *w), axis=-1)
        trial = w - rate * g
        while mean_loss(trial) > mean_loss(w):  # backtrack: every step lowers the loss
            rate /= 2
            trial = w - rate * g
        w, rate = trial, rate * 1.5
        if step % max(1, steps // 4) == 0:
            rows.append([step, f"{mean_loss(w):.4g}"])
    assert mean_loss(w) < 0.5 * float(rows[0][1])
    return rows


def main() -> None:
    args = options(__doc__)
    print("trust-constr on Rosenbrock with the sparse Hessian")
    sizes = (20, 100) if args.quick else (1000, 10000)
    table(["d", "nnz", "nnz/d^2", "Hessian built", "iterations", "time", "max |x - 1|"],
          [trust_constr(d) for d in sizes])
    print()
    print("The Laplacian of a Gaussian:", sc.laplacian("exp(-(x^2+y^2)/2)", ["x", "y"]))
    print()
    rng = np.random.default_rng(0)
    print("A physics-informed loss: mean of (lap u + 2 pi^2 sin(pi x) sin(pi y))^2")
    rows = pinn(hidden=3 if args.quick else 6, points=50 if args.quick else 400,
                steps=20 if args.quick else 200, rng=rng)
    table(["gradient step", "loss"], rows)


if __name__ == "__main__":
    main()
