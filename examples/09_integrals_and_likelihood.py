"""Integrals in machine learning: expectations, the log-likelihood gradient, change of variables.

An expectation is an integral, E[g(X)] = integral of g(x) p(x) dx: for a Gaussian X the script
estimates it by quadrature and by Monte Carlo sampling and compares with the exact value.  Maximum
likelihood maximises sum_i log p(x_i; mu, s); symcalc differentiates the log-density, and the
summed gradient vanishes at the closed-form estimates (sample mean and standard deviation).
Finally, polar coordinates stretch areas by |det J| = r, which turns a density of (x, y) into a
density of (r, t).
"""

import numpy as np

import symcalc as sc
from _support import options, table

DENSITY = "exp(-(x - mu)^2/(2*s^2))/(s*sqrt(2*pi))"  # the Gaussian N(mu, s^2)


def trapezoid(values: np.ndarray, grid: np.ndarray) -> float:
    return float(np.sum((values[1:] + values[:-1]) * np.diff(grid)) / 2)


def expectations(samples: int, rng: np.random.Generator) -> None:
    mu, s = 0.5, 0.8
    cases = [("x", mu), ("x^2", mu**2 + s**2), ("exp(x)", np.exp(mu + s**2 / 2)),
             ("cos(x)", np.cos(mu) * np.exp(-s**2 / 2))]
    grid = np.linspace(mu - 12 * s, mu + 12 * s, 4001)
    draws = rng.normal(mu, s, size=samples)
    density = sc.lambdify(DENSITY, ["x", "mu", "s"])
    print(f"X ~ N({mu}, {s}^2), density p(x) = {sc.parse(DENSITY)}")
    total = trapezoid(density(grid, mu, s), grid)
    print(f"integral of p = {total:.12f}")
    assert abs(total - 1) < 1e-10

    rows = []
    for g, exact in cases:
        weighted = sc.lambdify(f"({g})*{DENSITY}", ["x", "mu", "s"])
        by_quadrature = trapezoid(weighted(grid, mu, s), grid)
        values = sc.lambdify(g, ["x"])(draws)
        by_sampling, standard_error = values.mean(), values.std(ddof=1) / np.sqrt(samples)
        rows.append((f"E[{g}]", float(exact), by_quadrature, float(by_sampling), float(standard_error)))
        assert abs(by_quadrature - exact) < 1e-9 * max(1, abs(exact))
        assert abs(by_sampling - exact) < 5 * standard_error
    table(["expectation", "exact", "quadrature", f"Monte Carlo ({samples})", "standard error"], rows)
    print()


def likelihood_gradient(n: int, rng: np.random.Generator) -> None:
    log_density = sc.parse("-(x - mu)^2/(2*s^2) - log(s) - log(2*pi)/2")
    gradient = sc.grad(log_density, ["mu", "s"])
    print(f"log p(x; mu, s) = {log_density}")
    print(f"d/dmu = {gradient[0]}\nd/ds  = {gradient[1]}")
    # the same gradient from the density itself: d log p = (dp)/p
    from_density = sc.grad(f"log({DENSITY})", ["mu", "s"])

    data = rng.normal(2.0, 1.5, size=n)
    per_point = sc.lambdify(gradient, ["x", "mu", "s"])
    assert np.allclose(per_point(data, 1.0, 2.0), sc.lambdify(from_density, ["x", "mu", "s"])(data, 1.0, 2.0))

    def score(mu: float, s: float) -> np.ndarray:
        return per_point(data, mu, s).sum(axis=1)  # the gradient of the sum is the sum of gradients

    mle = (data.mean(), data.std())
    print(f"\n{n} samples; sample mean {mle[0]:.6f}, standard deviation {mle[1]:.6f}")
    print(f"summed gradient at (mu, s) = (1, 2):  {score(1.0, 2.0)}")
    print(f"summed gradient at the closed-form estimates: {score(*mle)}")
    assert np.all(np.abs(score(*mle)) < 1e-9 * n)
    assert np.all(np.abs(score(1.0, 2.0)) > 1)

    theta = np.array([0.0, 1.0])
    for _ in range(200):  # gradient ascent on the average log-likelihood
        theta = theta + 0.5 * score(*theta) / n
    print(f"gradient ascent from (0, 1): mu = {theta[0]:.6f}, s = {theta[1]:.6f}")
    assert np.allclose(theta, mle, atol=1e-6)
    print()


def polar(samples: int, rng: np.random.Generator) -> None:
    to_cartesian = ["r*cos(t)", "r*sin(t)"]
    jacobian = sc.jacobian(to_cartesian, ["r", "t"])
    factor = sc.jacobian_det(to_cartesian, ["r", "t"])
    print(f"(x, y) = (r cos t, r sin t): J = {[[str(e) for e in row] for row in jacobian]}, det J = {factor}")
    assert factor == sc.parse("r")

    # a standard 2-D Gaussian in (x, y) becomes p(x(r,t), y(r,t)) * |det J| in (r, t)
    in_xy = sc.parse("exp(-(x^2 + y^2)/2)/(2*pi)")
    in_polar = sc.simplify(sc.subs(in_xy, {"x": to_cartesian[0], "y": to_cartesian[1]}) * factor)
    print(f"density of (x, y): {in_xy}\ndensity of (r, t): {in_polar}")
    p = sc.lambdify(in_polar, ["r", "t"])
    r = np.linspace(0, 12, 2401)
    t = np.linspace(0, 2 * np.pi, 201)
    R, T = np.meshgrid(r, t, indexing="ij")
    values = p(R, T)
    total = trapezoid(np.array([trapezoid(row, t) for row in values]), r)
    mean_r = trapezoid(np.array([trapezoid(row, t) for row in values * R]), r)
    draws = rng.normal(size=(2, samples))
    radii = np.hypot(*draws)
    standard_error = radii.std(ddof=1) / np.sqrt(samples)
    print(f"integral over r and t: {total:.10f}")
    print(f"E[r] = {mean_r:.6f} by quadrature, {radii.mean():.6f} +- {standard_error:.6f} from {samples} "
          f"samples; exactly sqrt(pi/2) = {np.sqrt(np.pi / 2):.6f}")
    # the trapezoid rule on a step of 0.005 is good to about 1e-6 here
    assert abs(total - 1) < 1e-5 and abs(mean_r - np.sqrt(np.pi / 2)) < 1e-5
    assert abs(radii.mean() - np.sqrt(np.pi / 2)) < 5 * standard_error


def main() -> None:
    args = options(__doc__)
    rng = np.random.default_rng(11)
    samples = 20_000 if args.quick else 400_000
    expectations(samples, rng)
    likelihood_gradient(50 if args.quick else 500, rng)
    polar(samples, rng)


if __name__ == "__main__":
    main()
