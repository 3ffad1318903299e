"""Taylor models: first- and second-order approximations in one and two variables, and their errors.

f(x0 + dx) ~ f(x0) + f'(x0) dx + f''(x0) dx^2 / 2 in one variable, and
f(x0 + dx) ~ f(x0) + grad f . dx + dx^T H dx / 2 in several.  The first-order model is the one
gradient descent trusts, the second-order model the one Newton's method minimises.  symcalc builds
both exactly; the script checks the 2-D quadratic model against the gradient and Hessian and
measures the errors: an order-n model misses by O(|dx|^(n+1)).
"""

import numpy as np

import symcalc as sc
from _support import Figures, loglog_slope, options, table


def one_variable(figures: Figures) -> None:
    f, x0 = sc.parse("softplus(x)"), 1.0
    F = sc.lambdify(f, ["x"])
    models = {n: sc.taylor(f, {"x": 1}, order=n) for n in (1, 2, 3, 4)}
    print(f"f(x) = {f} around x0 = 1")
    for n in (1, 2):
        print(f"  order {n}: {models[n]}")
    compiled = {n: sc.lambdify(model, ["x"]) for n, model in models.items()}

    steps = 0.4 * 0.5 ** np.arange(10)
    errors = {n: np.abs(F(x0 + steps) - compiled[n](x0 + steps)) for n in models}
    table(["dx", "error order 1", "error order 2", "error order 3"],
          [(float(h), *(float(errors[n][i]) for n in (1, 2, 3))) for i, h in enumerate(steps)])
    for n in (1, 2, 3):
        slope = loglog_slope(steps[-5:], errors[n][-5:])
        print(f"order {n}: error ~ dx^{slope:.2f}")
        assert abs(slope - (n + 1)) < 0.1, (n, slope)
    print()

    if figures:
        fig, axes = figures.new()
        xs = np.linspace(-3, 5, 300)
        axes.plot(xs, F(xs), "k", lw=2.5, label="softplus(x)")
        for n, model in compiled.items():
            axes.plot(xs, model(xs), "--", label=f"Taylor order {n}")
        axes.plot([x0], [float(F(x0))], "ko")
        axes.set_ylim(-1.5, 5.5)
        axes.set_xlabel("x")
        axes.set_title("Taylor models of softplus around x0 = 1")
        axes.legend()
        figures.save(fig, "05_taylor_orders.png")


def two_variables(figures: Figures, rng: np.random.Generator) -> None:
    f = sc.parse("exp(x)*sin(y)")
    point = {"x": 0, "y": 1}
    linear = sc.taylor(f, point, order=1)
    quadratic = sc.taylor(f, point, order=2)
    print(f"f(x, y) = {f} around (0, 1)")
    print(f"  order 1: {linear}\n  order 2: {quadratic}")

    # the quadratic model is f + grad f . d + d^T H d / 2 with everything taken at the point
    d = [sc.parse("x"), sc.parse("y - 1")]
    g = [sc.subs(e, point) for e in sc.grad(f, ["x", "y"])]
    H = [[sc.subs(e, point) for e in row] for row in sc.hessian(f, ["x", "y"])]
    by_hand = sc.subs(f, point) + sum((g[i] * d[i] for i in range(2)), sc.parse("0")) \
        + sum((H[i][j] * d[i] * d[j] for i in range(2) for j in range(2)), sc.parse("0")) / 2
    print(f"  f + g.d + d^T H d / 2 = {sc.simplify(by_hand)}")
    samples = rng.uniform(-1, 1, size=(2, 50)) + np.array([[0], [1]])
    model_values = sc.lambdify(quadratic, ["x", "y"])(*samples)
    assert np.allclose(model_values, sc.lambdify(by_hand, ["x", "y"])(*samples), rtol=1e-12, atol=1e-12)

    F, L, Q = (sc.lambdify(e, ["x", "y"]) for e in (f, linear, quadratic))
    direction = rng.normal(size=2)
    direction /= np.linalg.norm(direction)
    radii = 0.5 * 0.5 ** np.arange(10)
    xs, ys = radii * direction[0], 1 + radii * direction[1]
    linear_error, quadratic_error = np.abs(F(xs, ys) - L(xs, ys)), np.abs(F(xs, ys) - Q(xs, ys))
    table(["|dx|", "error order 1", "error order 2"],
          [(float(r), float(a), float(b)) for r, a, b in zip(radii, linear_error, quadratic_error)])
    slopes = loglog_slope(radii[-5:], linear_error[-5:]), loglog_slope(radii[-5:], quadratic_error[-5:])
    print(f"order 1: error ~ |dx|^{slopes[0]:.2f};  order 2: error ~ |dx|^{slopes[1]:.2f}")
    assert abs(slopes[0] - 2) < 0.1 and abs(slopes[1] - 3) < 0.1

    if figures:
        fig, axes = figures.new()
        axes.loglog(radii, linear_error, "o-", label="order 1 (gradient): ~ |dx|^2")
        axes.loglog(radii, quadratic_error, "s-", label="order 2 (gradient + Hessian): ~ |dx|^3")
        axes.set_xlabel("|dx|")
        axes.set_ylabel("|f - model|")
        axes.set_title("exp(x) sin(y) around (0, 1)")
        axes.legend()
        figures.save(fig, "05_taylor_error_2d.png")


def main() -> None:
    args = options(__doc__)
    figures = Figures(args.plots)
    one_variable(figures)
    two_variables(figures, np.random.default_rng(5))


if __name__ == "__main__":
    main()
