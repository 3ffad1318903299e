"""Numerical differentiation: how the error of finite differences depends on the step h.

The forward difference (f(x+h) - f(x))/h has a truncation error of about h|f''|/2, the central
difference (f(x+h) - f(x-h))/(2h) one of about h^2|f'''|/6; both suffer a rounding error of about
eps|f|/h, which grows as h shrinks.  The total is smallest near h = 2 sqrt(eps|f|/|f''|) for forward
and h = (3 eps|f|/|f'''|)^(1/3) for central differences, that is near the square and the cube root
of machine epsilon.  symcalc supplies the exact derivative to measure the error against, and the
higher derivatives that predict the best step.  The same central differences then check a
gradient in several variables.
"""

import numpy as np

import symcalc as sc
from _support import Figures, loglog_slope, options, table

EPS = np.finfo(float).eps
X0 = 0.3


def main() -> None:
    args = options(__doc__)
    f = sc.parse("sin(x)*exp(x)")
    derivatives = [f] + [sc.diff(f, "x", k) for k in (1, 2, 3)]
    value, slope, second, third = (float(v) for v in sc.lambdify(derivatives, ["x"])(X0))
    F = sc.lambdify(f, ["x"])
    print(f"f(x) = {f}, f'(x) = {derivatives[1]}, at x0 = {X0}: f' = {slope!r}")

    steps = 10.0 ** -np.linspace(1, 13, 49 if args.quick else 97)
    forward = np.abs((F(X0 + steps) - F(X0)) / steps - slope)
    central = np.abs((F(X0 + steps) - F(X0 - steps)) / (2 * steps) - slope)
    every = 4 if args.quick else 8  # print one step per power of ten
    table(["h", "forward error", "central error"],
          [(float(steps[i]), float(forward[i]), float(central[i])) for i in range(0, len(steps), every)])

    predicted_forward = 2 * np.sqrt(EPS * abs(value) / abs(second))
    predicted_central = (3 * EPS * abs(value) / abs(third)) ** (1 / 3)
    best_forward, best_central = steps[np.argmin(forward)], steps[np.argmin(central)]
    print(f"\nmachine epsilon {EPS:.3e}: sqrt(eps) = {np.sqrt(EPS):.2e}, cbrt(eps) = {np.cbrt(EPS):.2e}")
    table(["difference", "best h measured", "best h predicted", "smallest error"],
          [("forward", float(best_forward), float(predicted_forward), float(forward.min())),
           ("central", float(best_central), float(predicted_central), float(central.min()))])
    assert predicted_forward / 10 < best_forward < predicted_forward * 10
    assert predicted_central / 10 < best_central < predicted_central * 10
    assert np.cbrt(EPS) / 10 < best_central < np.cbrt(EPS) * 10
    assert central.min() < forward.min() / 100

    large = steps > 1e-3  # truncation dominates: error ~ h for forward, ~ h^2 for central
    tiny = steps < 1e-10  # rounding dominates: error ~ 1/h for both
    orders = [loglog_slope(steps[large], forward[large]), loglog_slope(steps[large], central[large]),
              loglog_slope(steps[tiny], forward[tiny]), loglog_slope(steps[tiny], central[tiny])]
    print(f"\nlog-log slopes: large h: forward {orders[0]:.2f}, central {orders[1]:.2f}; "
          f"tiny h: forward {orders[2]:.2f}, central {orders[3]:.2f}")
    assert abs(orders[0] - 1) < 0.1 and abs(orders[1] - 2) < 0.1
    assert -1.5 < orders[2] < -0.5 and -1.5 < orders[3] < -0.5

    gradient_check(np.random.default_rng(2))

    figures = Figures(args.plots)
    if figures:
        plot(figures, steps, forward, central, predicted_forward, predicted_central)


def gradient_check(rng: np.random.Generator) -> None:
    """Central differences in each coordinate against symcalc's gradient of a least-squares loss."""
    A, b = rng.integers(-3, 4, size=(3, 3)), rng.integers(-2, 3, size=3)
    residuals = [" + ".join(f"{A[i, j]}*t{j}" for j in range(3)) + f" - {b[i]}" for i in range(3)]
    loss = sc.parse("(" + " + ".join(f"({r})^2" for r in residuals) + ")/2")
    names = ["t0", "t1", "t2"]
    L, gradient = sc.lambdify(loss, names), sc.lambdify(sc.grad(loss, names), names)
    theta = rng.normal(size=3)
    h = np.cbrt(EPS)
    numeric = np.array([(L(*(theta + h * e)) - L(*(theta - h * e))) / (2 * h) for e in np.eye(3)])
    exact = np.asarray(gradient(*theta), dtype=float)
    print("\ngradient check of |A t - b|^2/2 at a random t with h = cbrt(eps):")
    table(["", "t0", "t1", "t2"], [("symcalc", *map(float, exact)), ("central", *map(float, numeric)),
                                    ("A^T(At - b)", *map(float, A.T @ (A @ theta - b)))])
    error = float(np.max(np.abs(numeric - exact)))
    print(f"largest difference: {error:.2e}")
    assert error < 1e-8 and np.allclose(exact, A.T @ (A @ theta - b), rtol=1e-12)


def plot(figures, steps, forward, central, predicted_forward, predicted_central) -> None:
    fig, axes = figures.new(width=7)
    tiny = np.finfo(float).tiny  # an exact difference would be 0, which a log axis cannot show
    axes.loglog(steps, np.maximum(forward, tiny), "o-", ms=3, label="forward (f(x+h) - f(x))/h")
    axes.loglog(steps, np.maximum(central, tiny), "s-", ms=3, label="central (f(x+h) - f(x-h))/2h")
    axes.axvline(predicted_forward, color="C0", ls=":", label="predicted best h, forward ~ sqrt(eps)")
    axes.axvline(predicted_central, color="C1", ls=":", label="predicted best h, central ~ cbrt(eps)")
    axes.set_ylim(1e-13, 1)
    axes.set_xlabel("step h")
    axes.set_ylabel("|difference quotient - f'(x0)|")
    axes.set_title("finite differences of sin(x) exp(x) at x0 = 0.3")
    axes.legend(loc="upper center", fontsize="small")
    figures.save(fig, "10_error_against_h.png")


if __name__ == "__main__":
    main()
