"""Matrix calculus with symbolic shapes: least squares, logistic regression and softmax
cross-entropy, their gradients and Hessians in matrix form, checked numerically.

The sizes are names (m samples, n features, k classes), so each derivative is one short formula
whatever the sizes are; ``sc.lambdify`` turns it into NumPy code that reads the sizes from the
arrays.  Every formula is checked against central finite differences of the loss itself, and a
few Newton steps ``w - inv(H)@g`` reach the minimiser.
"""

import numpy as np

import symcalc as sc
from _support import options, table


def central_gradient(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of f at x: shape f(x).shape + x.shape."""
    out = np.empty(np.shape(f(x)) + x.shape)
    for i in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        out[(Ellipsis,) + i] = (f(up) - f(down)) / (2 * h)
    return out


def study(name, loss, shapes, variable, arrays, rows):
    """Gradient and Hessian of ``loss`` in ``variable``, printed, compiled and checked."""
    f = sc.parse(loss, shapes=shapes)
    g, h = sc.grad(f, variable), sc.hessian(f, variable)
    names = sorted(arrays)
    values = [arrays[n] for n in names]
    f_num, g_num, h_num = (sc.lambdify(e, names) for e in (f, g, h))
    where = names.index(variable)

    def loss_at(x):
        return f_num(*values[:where], x, *values[where + 1:])

    def grad_at(x):
        return g_num(*values[:where], x, *values[where + 1:])

    x0 = arrays[variable]
    g_error = np.max(np.abs(grad_at(x0) - central_gradient(loss_at, x0)))
    h_error = np.max(np.abs(h_num(*values) - central_gradient(grad_at, x0)))
    assert g_error < 1e-5 and h_error < 1e-5, (name, g_error, h_error)
    x = x0.copy()
    for _ in range(8):  # Newton's method with the matrix-form Hessian
        x = x - np.linalg.solve(h_num(*values[:where], x, *values[where + 1:]), grad_at(x))
    assert np.linalg.norm(grad_at(x)) < 1e-8, name
    print(f"{name}:  f = {f}")
    print(f"  grad_{variable} f = {g}")
    print(f"  hess_{variable} f = {h}")
    rows.append((name, g_error, h_error, float(np.linalg.norm(grad_at(x)))))
    return f, x


def main() -> None:
    args = options(__doc__)
    m, n, k = (40, 5, 3) if args.quick else (400, 20, 6)
    rng = np.random.default_rng(0)
    rows = []

    X = rng.normal(size=(m, n))
    b = X @ rng.normal(size=n) + 0.1 * rng.normal(size=m)
    _, t = study("least squares", "0.5*norm(A@t - b)^2", {"A": "m,n", "t": "n", "b": "m"}, "t",
                 {"A": X, "t": np.zeros(n), "b": b}, rows)
    assert np.allclose(t, np.linalg.lstsq(X, b, rcond=None)[0])  # the normal equations' solution

    y = (X @ rng.normal(size=n) + rng.normal(size=m) > 0).astype(float)
    study("logistic regression", "sum(softplus(X@w)) - y@X@w + 0.5*lam*w@w",
          {"X": "m,n", "w": "n", "y": "m"}, "w",
          {"X": X, "w": np.zeros(n), "y": y, "lam": 1.0}, rows)

    W = rng.normal(size=(k, n))
    onehot = np.eye(k)[1]
    shapes = {"W": "k,n", "x": "n", "y": "k"}
    study("softmax cross-entropy", "logsumexp(W@x) - y@W@x + 0.5*lam*x@x", shapes, "x",
          {"W": W, "x": np.zeros(n), "y": onehot, "lam": 0.1}, rows)
    ce = sc.parse("logsumexp(W@x) - y@W@x", shapes=shapes)
    grad_w = sc.grad(ce, "W")
    assert str(grad_w) == "outer(softmax(W@x) - y, x)"  # (p - y) x^T: the layer's weight gradient
    x = rng.normal(size=n)
    loss = sc.lambdify(ce, ["W", "x", "y"])
    numeric = sc.lambdify(grad_w, ["W", "x", "y"])(W, x, onehot)
    w_error = np.max(np.abs(numeric - central_gradient(lambda w: loss(w, x, onehot), W)))
    assert w_error < 1e-6
    print(f"  grad_W (without the penalty) = {grad_w}, error against differences {w_error:.1e}")
    print()
    table(["loss", "grad error vs FD", "Hessian error vs FD", "|grad| after Newton"], rows)


if __name__ == "__main__":
    main()
