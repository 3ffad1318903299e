"""Hessians in matrix and tensor form: Newton's method for logistic regression and a matrix factor.

The Hessian of the regularised logistic loss ``sum(log(1 + exp(-y*(X@w)))) + lam/2*w@w`` in the
weight vector ``w`` has a matrix form, ``X.T@diag(s)@X + lam*eye(n)`` with ``s`` the sigmoid
curvatures; Newton's method with it reaches the minimiser in a handful of steps.

The Hessian of the factorisation loss ``norm(T - U@V.T)^2`` in the factor ``U`` (m x k) is a
4-index tensor of shape ``U.shape + U.shape``; symcalc writes it as the index expression
``2*einsum("ij,kl->iljk", eye(m), V.T@V)`` (2 delta_ik (V^T V)_lj: the rows of U do not interact),
and its generated code calls ``np.einsum``.  Flattened to an (m k) x (m k) matrix it gives one
Newton step, which for this quadratic loss lands on the least-squares factor ``T@V@inv(V.T@V)``.
The Hessian-vector product ``sc.hvp`` is the matrix formula ``2*D@V.T@V`` instead, never the
tensor: conjugate gradients with it reach the same step.  Every formula is checked against
central differences.
"""

import numpy as np

import symcalc as sc
from _support import options, table


def logistic_newton(m: int, n: int, rng: np.random.Generator) -> None:
    shapes = {"X": ("m", "n"), "w": ("n",), "y": ("m",)}
    f = sc.parse("sum(log(1 + exp(-y*(X@w)))) + lam/2*w@w", shapes=shapes)
    g, H = sc.grad(f, "w"), sc.hessian(f, "w")
    print(f"gradient: {g}")
    print(f"Hessian:  {H}")
    names = ["X", "w", "y", "lam"]
    loss, grad, hess = (sc.lambdify(e, names, shapes=shapes) for e in (f, g, H))
    X = rng.normal(size=(m, n))
    y = np.where(X @ rng.normal(size=n) + 0.5 * rng.normal(size=m) > 0, 1.0, -1.0)
    lam = 0.1
    w = np.zeros(n)
    # the Hessian against central differences of the gradient
    h = 1e-6
    columns = [(grad(X, w + h * e, y, lam) - grad(X, w - h * e, y, lam)) / (2 * h)
               for e in np.eye(n)]
    assert np.allclose(hess(X, w, y, lam), np.array(columns).T, rtol=1e-6, atol=1e-7)
    rows = []
    for step in range(20):
        gradient = grad(X, w, y, lam)
        rows.append([step, f"{loss(X, w, y, lam):.10f}", f"{np.linalg.norm(gradient):.2e}"])
        if np.linalg.norm(gradient) < 1e-11:
            break
        w = w - np.linalg.solve(hess(X, w, y, lam), gradient)
    table(["Newton step", "loss", "|gradient|"], rows)
    assert np.linalg.norm(grad(X, w, y, lam)) < 1e-10, "Newton's method did not converge"
    assert len(rows) < 20  # quadratic convergence: a handful of steps


def factorisation_newton(m: int, n: int, k: int, rng: np.random.Generator) -> None:
    shapes = {"T": ("m", "n"), "U": ("m", "k"), "V": ("n", "k"), "D": ("m", "k")}
    f = sc.parse("norm(T - U@V.T)^2", shapes=shapes)
    g, H = sc.grad(f, "U"), sc.hessian(f, "U")
    Hv = sc.hvp(f, "U", "D", shapes=shapes)
    print(f"gradient in U:         {g}")
    print(f"Hessian in U:          {H}   (shape {H.shape})")
    print(f"Hessian times D:       {Hv}")
    print(f"in LaTeX:              {sc.latex(H)}")
    grad = sc.lambdify(g, ["T", "U", "V"], shapes=shapes)
    hess = sc.lambdify(H, ["U", "V"], shapes=shapes)
    hvp = sc.lambdify(Hv, ["D", "V"], shapes=shapes)
    T, U, V = rng.normal(size=(m, n)), rng.normal(size=(m, k)), rng.normal(size=(n, k))
    tensor = hess(U, V)
    assert tensor.shape == (m, k, m, k)
    # central differences of the gradient, entry by entry of U
    h = 1e-6
    for i, j in [(0, 0), (m - 1, k - 1), (m // 2, k // 2)]:
        E = np.zeros((m, k))
        E[i, j] = h
        column = (grad(T, U + E, V) - grad(T, U - E, V)) / (2 * h)
        assert np.allclose(tensor[:, :, i, j], column, rtol=1e-6, atol=1e-6)
    # one Newton step with the tensor flattened to an (m k) x (m k) matrix
    gradient = grad(T, U, V)
    step = np.linalg.solve(tensor.reshape(m * k, m * k), gradient.reshape(m * k)).reshape(m, k)
    newton = U - step
    least_squares = T @ V @ np.linalg.inv(V.T @ V)
    assert np.allclose(newton, least_squares, rtol=1e-8, atol=1e-10)
    # conjugate gradients with the matrix-form Hessian-vector product: the tensor is never built
    D = np.zeros((m, k))
    r = gradient.copy()
    p = r.copy()
    for _ in range(m * k):
        Ap = hvp(p, V)
        alpha = np.sum(r * r) / np.sum(p * Ap)
        D, r_next = D + alpha * p, r - alpha * Ap
        if np.linalg.norm(r_next) < 1e-12 * np.linalg.norm(gradient):
            break
        p = r_next + np.sum(r_next * r_next) / np.sum(r * r) * p
        r = r_next
    assert np.allclose(U - D, least_squares, rtol=1e-7, atol=1e-9)
    table(["", "value"], [["entries of the Hessian", tensor.size],
                          ["loss before", f"{np.sum((T - U @ V.T) ** 2):.6f}"],
                          ["loss after one Newton step", f"{np.sum((T - newton @ V.T) ** 2):.6f}"],
                          ["least-squares loss", f"{np.sum((T - least_squares @ V.T) ** 2):.6f}"],
                          ["|Newton - CG with hvp|", f"{np.abs(newton - (U - D)).max():.1e}"]])


def main() -> None:
    args = options(__doc__)
    rng = np.random.default_rng(0)
    m, n = (60, 5) if args.quick else (400, 20)
    logistic_newton(m, n, rng)
    print()
    factorisation_newton(*((8, 6, 2) if args.quick else (40, 30, 4)), rng)


if __name__ == "__main__":
    main()
