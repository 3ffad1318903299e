"""The derivative as a limit of difference quotients, and as the best local linear approximation.

For f(x) = sin(x)*exp(x) at x0 = 0.3 the quotient (f(x0 + h) - f(x0))/h approaches symcalc's
exact f'(x0) as h shrinks.  The tangent line f(x0) + f'(x0)*dx misses f(x0 + dx) by about
f''(x0)/2 * dx^2, an error of second order, while any other slope leaves an error proportional to
dx: that is what "best linear approximation" means.
"""

import numpy as np

import symcalc as sc
from _support import Figures, loglog_slope, options, table

X0 = 0.3


def main() -> None:
    args = options(__doc__)
    f = sc.parse("sin(x)*exp(x)")
    slope_expr, curvature_expr = sc.diff(f, "x"), sc.diff(f, "x", 2)
    print(f"f(x)   = {f}\nf'(x)  = {slope_expr}\nf''(x) = {curvature_expr}")

    F = sc.lambdify(f, ["x"])
    value, slope, curvature = (float(v) for v in sc.lambdify([f, slope_expr, curvature_expr], ["x"])(X0))
    print(f"at x0 = {X0}: f = {value:.12f}, f' = {slope:.12f}, f'' = {curvature:.12f}\n")

    # 1. the limit: difference quotients approach f'(x0)
    steps = 10.0 ** -np.arange(1, 7)
    quotients = (F(X0 + steps) - value) / steps
    errors = np.abs(quotients - slope)
    table(["h", "(f(x0+h) - f(x0))/h", "error", "error/h"],
          [(float(h), float(q), float(e), float(e / h)) for h, q, e in zip(steps, quotients, errors)])
    assert np.all(np.diff(errors) < 0), "the quotient must get closer to f'(x0) as h shrinks"
    # the remaining error is the curvature term h*f''/2
    assert np.isclose(errors[-1] / steps[-1], abs(curvature) / 2, rtol=1e-3)

    # 2. the tangent line misses by O(dx^2); a slightly wrong slope misses by O(dx)
    dx = 0.2 * 0.5 ** np.arange(12)
    actual = F(X0 + dx)
    tangent_error = np.abs(actual - (value + slope * dx))
    wrong_slope = slope * 1.05
    wrong_error = np.abs(actual - (value + wrong_slope * dx))
    print()
    table(["dx", "tangent error", "error/dx^2", f"slope {wrong_slope:.4f}: error/dx"],
          [(float(d), float(t), float(t / d**2), float(w / d))
           for d, t, w in zip(dx, tangent_error, wrong_error)])
    order_tangent = loglog_slope(dx, tangent_error)
    order_wrong = loglog_slope(dx[-4:], wrong_error[-4:])
    print(f"\nlog-log slope of the tangent error: {order_tangent:.3f} (second order)")
    print(f"log-log slope with a 5% wrong slope: {order_wrong:.3f} (first order)")
    assert abs(order_tangent - 2) < 0.1 and abs(order_wrong - 1) < 0.1
    assert np.isclose(tangent_error[-1] / dx[-1] ** 2, abs(curvature) / 2, rtol=1e-2)
    assert np.all(tangent_error[-4:] < wrong_error[-4:])

    figures = Figures(args.plots)
    if figures:
        plot(figures, F, value, slope, wrong_slope, dx, tangent_error, wrong_error)


def plot(figures, F, value, slope, wrong_slope, dx, tangent_error, wrong_error) -> None:
    fig, (left, right) = figures.new(ncols=2)
    xs = np.linspace(X0 - 1.0, X0 + 1.0, 200)
    left.plot(xs, F(xs), label="f(x) = sin(x) exp(x)")
    left.plot(xs, value + slope * (xs - X0), "--", label="tangent f(x0) + f'(x0) dx")
    left.plot([X0], [value], "ko")
    left.set_xlabel("x")
    left.set_title(f"the tangent line at x0 = {X0}")
    left.legend()
    right.loglog(dx, tangent_error, "o-", label="tangent: error ~ dx^2")
    right.loglog(dx, wrong_error, "s-", label=f"slope {wrong_slope:.3f}: error ~ dx")
    right.set_xlabel("dx")
    right.set_ylabel("|f(x0 + dx) - linear model|")
    right.set_title("the tangent is the best linear model")
    right.legend()
    figures.save(fig, "01_tangent_line.png")


if __name__ == "__main__":
    main()
