"""Partial derivatives, the gradient, and the directional derivative along a unit vector.

Each partial derivative is the rate of change when one variable moves and the others stay fixed;
the gradient stacks them.  Along a unit vector u = (cos t, sin t) the rate of change is the inner
product grad f . u = |grad f| cos(angle between them), so it is largest for u = grad f/|grad f|,
where it equals |grad f|, and the script finds that maximum by scanning all directions.
"""

import numpy as np

import symcalc as sc
from _support import Figures, options, table

POINT = (0.5, -0.4)


def main() -> None:
    args = options(__doc__)
    f = sc.parse("x*exp(-x^2 - y^2) + (x^2 + y^2)/20")
    variables = ["x", "y"]
    gradient = sc.grad(f, variables)
    print(f"f(x, y) = {f}")
    for name, partial in zip(variables, gradient):
        print(f"df/d{name} = {partial}")

    F = sc.lambdify(f, variables)
    g = np.asarray(sc.lambdify(gradient, variables)(*POINT), dtype=float)
    x0, y0 = POINT
    h = 1e-6  # central differences: one variable moves, the other is held fixed
    by_limit = [(F(x0 + h, y0) - F(x0 - h, y0)) / (2 * h), (F(x0, y0 + h) - F(x0, y0 - h)) / (2 * h)]
    print(f"\nat (x, y) = {POINT}:")
    table(["partial", "symcalc", "difference quotient"],
          [(f"df/d{name}", float(exact), float(approx))
           for name, exact, approx in zip(variables, g, by_limit)])
    assert np.allclose(g, by_limit, rtol=1e-7, atol=1e-9)

    # the directional derivative as a formula in the angle t of the unit direction
    directional = sc.directional(f, variables, ["cos(t)", "sin(t)"])
    print(f"\nD_u f with u = (cos t, sin t):  {directional}")
    angles = np.linspace(-np.pi, np.pi, 7201)
    rates = sc.lambdify(directional, ["x", "y", "t"])(x0, y0, angles)

    norm = float(np.hypot(*g))
    gradient_angle = float(np.arctan2(g[1], g[0]))
    best = int(np.argmax(rates))
    print(f"largest rate over {len(angles)} directions: {rates[best]:.8f} at t = {angles[best]:+.5f}")
    print(f"|grad f| = {norm:.8f}, direction of grad f: t = {gradient_angle:+.5f}")
    assert abs(angles[best] - gradient_angle) <= angles[1] - angles[0]
    assert np.isclose(rates[best], norm, rtol=1e-6)
    # the whole curve is |grad f| cos(t - angle of grad f): an inner product with a unit vector
    assert np.allclose(rates, norm * np.cos(angles - gradient_angle), atol=1e-12)

    # the rate along the best direction, from the limit definition (f(p + s u) - f(p - s u)) / 2s
    u = g / norm
    along = (F(x0 + h * u[0], y0 + h * u[1]) - F(x0 - h * u[0], y0 - h * u[1])) / (2 * h)
    print(f"along u = grad/|grad|: difference quotient {float(along):.8f}")
    assert np.isclose(along, norm, rtol=1e-7)

    figures = Figures(args.plots)
    if figures:
        plot(figures, F, g, angles, rates, gradient_angle)


def plot(figures, F, g, angles, rates, gradient_angle) -> None:
    fig, (left, right) = figures.new(ncols=2)
    xs, ys = np.meshgrid(np.linspace(-2, 2, 161), np.linspace(-2, 2, 161))
    left.contour(xs, ys, F(xs, ys), levels=20, cmap="viridis")
    x0, y0 = POINT
    scale = 0.6 / np.hypot(*g)
    left.quiver([x0], [y0], [g[0] * scale], [g[1] * scale], angles="xy", scale_units="xy", scale=1,
                color="red", label="grad f (scaled)")
    left.set_aspect("equal")
    left.set_title("contours of f and the gradient: steepest ascent")
    left.legend(loc="lower left")
    right.plot(angles, rates, label="D_u f, u = (cos t, sin t)")
    right.axhline(np.hypot(*g), color="gray", ls=":", label="|grad f|")
    right.axvline(gradient_angle, color="red", ls="--", label="angle of grad f")
    right.set_xlabel("t")
    right.set_title("directional derivative against direction")
    right.legend(loc="lower center")
    figures.save(fig, "02_gradient_direction.png")


if __name__ == "__main__":
    main()
