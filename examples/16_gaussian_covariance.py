"""Fitting a Gaussian's covariance by gradient ascent, with the gradient by a symmetric matrix.

The log-likelihood of N centred samples (the rows of X) in the covariance S is
``-N/2*logdet(S) - 1/2*trace(X@inv(S)@X.T)``.  S is declared symmetric, so symcalc's gradient is
the one under the Frobenius inner product, ``(G + G.T)/2`` of the gradient G with independent
entries; it is checked against central differences along symmetric directions, where the
textbook rule ``G + G.T - diag(G)`` is off by a factor 2 off the diagonal.  Gradient ascent
(with a step halved until the likelihood rises and S stays positive definite) must reach the
closed-form maximiser, the sample covariance ``X.T@X/N``.
"""

import numpy as np

import symcalc as sc
from _support import options, table


def main() -> None:
    args = options(__doc__)
    n, samples = (3, 200) if args.quick else (6, 2000)
    rng = np.random.default_rng(0)
    root = rng.normal(size=(n, n))
    truth = root @ root.T / n + np.eye(n)
    X = rng.multivariate_normal(np.zeros(n), truth, size=samples)

    S = sc.matrix("S", "n", "n", symmetric=True)
    f = sc.parse("-0.5*N*logdet(S) - 0.5*trace(X@inv(S)@X.T)",
                 shapes={"S": "n,n,symmetric", "X": "m,n"})
    g = sc.grad(f, S)
    print(f"log-likelihood  L(S) = {f}")
    print(f"gradient by the symmetric S:  {g}")
    loss = sc.lambdify(f, ["N", "S", "X"])
    gradient = sc.lambdify(g, ["N", "S", "X"])

    # the gradient predicts a step along each symmetric direction E_ij + E_ji; the textbook
    # rule does not (plain G is the gradient treating all n^2 entries as independent)
    at = np.cov(X.T) + 0.5 * np.eye(n)
    plain = sc.parse(str(f), shapes={"S": "n,n", "X": "m,n"})  # S without structure
    G = sc.lambdify(sc.grad(plain, "S"), ["N", "S", "X"])(samples, at, X)
    textbook = G + G.T - np.diag(np.diag(G))
    i, j, h = 0, 1, 1e-5
    E = np.zeros((n, n))
    E[i, j] = E[j, i] = 1.0
    slope = (loss(samples, at + h * E, X) - loss(samples, at - h * E, X)) / (2 * h)
    ours = float(np.sum(gradient(samples, at, X) * E))
    theirs = float(np.sum(textbook * E))
    assert abs(ours - slope) < 1e-5 * max(1.0, abs(slope)), (ours, slope)
    assert abs(theirs - slope) > 0.1 * abs(slope)
    table(["along E_01 + E_10", "slope"],
          [("central difference", slope), ("<(G + G.T)/2, E>", ours),
           ("<G + G.T - diag(G), E>", theirs)])

    S_k, step, steps = np.eye(n), 1.0, 0
    value = loss(samples, S_k, X)
    while steps < 2000:
        grad_k = gradient(samples, S_k, X)
        if np.linalg.norm(grad_k) < 1e-8 * samples:
            break
        while True:  # halve the step until the likelihood rises inside the cone
            trial = S_k + step * grad_k
            if np.all(np.linalg.eigvalsh(trial) > 0) and loss(samples, trial, X) > value:
                break
            step /= 2
        S_k, value, step, steps = trial, loss(samples, trial, X), step * 2, steps + 1
    closed_form = X.T @ X / samples
    error = np.max(np.abs(S_k - closed_form))
    assert np.allclose(S_k, S_k.T) and error < 1e-6, error
    print(f"gradient ascent: {steps} steps, max |S - X.T@X/N| = {error:.1e}, "
          f"max |S - true covariance| = {np.max(np.abs(S_k - truth)):.2f} (sampling error)")


if __name__ == "__main__":
    main()
