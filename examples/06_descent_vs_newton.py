"""Gradient descent against Newton's method, on a quadratic and on the Rosenbrock function.

Gradient descent trusts the linear Taylor model and steps along -lr * grad f; Newton's method
jumps to the stationary point of the quadratic model, solving H d = -grad f.  On a quadratic the
quadratic model is exact, so Newton arrives in one step, while gradient descent needs many steps
and diverges once the learning rate exceeds 2 / (largest eigenvalue of H).  On Rosenbrock's curved
valley Newton needs a handful of steps and gradient descent thousands.

The plain Newton step is only as good as the quadratic model: where the Hessian is not positive
definite it heads for a saddle or a maximum, and where the model is poor it can overshoot and
diverge.  ``sc.newton`` damps the Hessian (H + lambda I, Levenberg-Marquardt) until it is positive
definite and backtracks along the step until f decreases enough (Armijo), so every step goes
downhill; it reaches the minimum from starts where the plain step fails.
"""

import numpy as np

import symcalc as sc
from _support import Figures, options, table

TOLERANCE = 1e-6


def run(step, start, minimum, limit: int) -> tuple[int | None, np.ndarray]:
    """Iterate ``x <- x + step(x)`` until within TOLERANCE of the minimum.

    Returns the number of steps (None if the limit was reached or the iterates ran away) and the path.
    """
    path = [np.asarray(start, dtype=float)]
    for count in range(1, limit + 1):
        path.append(path[-1] + step(path[-1]))
        distance = np.linalg.norm(path[-1] - minimum)
        if distance < TOLERANCE:
            return count, np.array(path)
        if distance > 1e6:
            break  # diverged
    return None, np.array(path)


def describe(count: int | None, path: np.ndarray, minimum) -> str:
    if count is not None:
        return f"{count} steps"
    distance = np.linalg.norm(path[-1] - minimum)
    return f"diverged ({len(path) - 1} steps, distance {distance:.1e})" if distance > 1e3 \
        else f"not within {TOLERANCE:g} after {len(path) - 1} steps (distance {distance:.1e})"


def quadratic() -> None:
    f = sc.parse("(x - 1)^2/2 + 5*(y + 1/2)^2")
    names, start, minimum = ["x", "y"], [-2.0, 1.5], np.array([1.0, -0.5])
    hessian = np.array(sc.lambdify(sc.hessian(f, names), names)(*start), dtype=float)
    largest = np.linalg.eigvalsh(hessian).max()
    print(f"f(x, y) = {f};  Hessian {hessian.tolist()}, so gradient descent needs lr < 2/{largest:g}")

    rows, counts = [], {}
    newton_count, newton_path = run(lambda p: sc.newton_step(f, names, p), start, minimum, 10)
    rows.append(("Newton", "", describe(newton_count, newton_path, minimum)))
    for lr in (0.05, 0.1, 0.18, 0.21):
        counts[lr], path = run(lambda p: sc.gradient_step(f, names, p, lr=lr), start, minimum, 2000)
        rows.append(("gradient descent", lr, describe(counts[lr], path, minimum)))
    table(["method", "lr", "reaches the minimum in"], rows)
    assert newton_count == 1
    assert counts[0.05] > counts[0.1] > counts[0.18] > 10  # larger steps help ... up to 2/L
    assert counts[0.21] is None
    print()


def rosenbrock(limit: int, figures: Figures) -> None:
    f = sc.parse("(1 - x)^2 + 100*(y - x^2)^2")
    names, start, minimum = ["x", "y"], [-1.2, 1.0], np.array([1.0, 1.0])
    print(f"Rosenbrock f(x, y) = {f}, from {tuple(start)}")
    newton_count, newton_path = run(lambda p: sc.newton_step(f, names, p), start, minimum, 100)
    descent_count, descent_path = run(lambda p: sc.gradient_step(f, names, p, lr=1e-3), start, minimum, limit)
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            outcome = run(lambda p: sc.gradient_step(f, names, p, lr=0.01), start, minimum, 200)
            too_large = describe(*outcome, minimum)
        except ValueError as error:  # the gradient overflowed: the iterates ran off to infinity
            too_large = f"diverged ({error})"
    damped = sc.newton(f, names, start)
    damped_count = next(i for i, p in enumerate(damped.path)
                        if np.linalg.norm(p - minimum) < TOLERANCE)
    table(["method", "lr", "reaches the minimum in"],
          [("Newton", "", describe(newton_count, newton_path, minimum)),
           ("damped Newton, line search", "", f"{damped_count} steps, each downhill"),
           ("gradient descent", 1e-3, describe(descent_count, descent_path, minimum)),
           ("gradient descent", 0.01, too_large)])
    assert newton_count is not None and newton_count <= 10
    # gradient descent crawls along the curved valley: at least 100 times as many steps
    assert (descent_count or limit) >= 100 * newton_count
    assert too_large.startswith("diverged")
    # the plain step goes uphill on the way; the line search keeps every step downhill, at the
    # price of more (shorter) steps in the curved valley
    F = sc.lambdify(f, names)
    assert any(F(*b) > F(*a) for a, b in zip(newton_path, newton_path[1:]))
    assert all(F(*b) < F(*a) for a, b in zip(damped.path, damped.path[1:]))
    assert damped.converged and newton_count < damped_count <= 30

    if figures:
        fig, axes = figures.new(width=7, height=5.5)
        both = np.vstack([descent_path, newton_path])
        low, high = both.min(axis=0) - 0.4, both.max(axis=0) + 0.4
        xs, ys = np.meshgrid(np.linspace(low[0], high[0], 241), np.linspace(low[1], high[1], 241))
        F = sc.lambdify(f, names)
        axes.contour(xs, ys, np.log10(F(xs, ys) + 1e-3), levels=25, cmap="Greys", linewidths=0.7)
        axes.plot(*descent_path[::max(1, len(descent_path) // 400)].T, "-", color="C0",
                  label=f"gradient descent, lr = 1e-3 ({len(descent_path) - 1} steps)")
        axes.plot(*newton_path.T, "o-", color="C3", label=f"Newton ({len(newton_path) - 1} steps)")
        axes.plot(*minimum, "k*", ms=14, label="minimum (1, 1)")
        axes.set_xlabel("x")
        axes.set_ylabel("y")
        axes.set_title("descent paths on the Rosenbrock function")
        axes.legend(loc="lower left")
        figures.save(fig, "06_descent_paths.png")


def hard_starts() -> None:
    """Starts from which the plain Newton step fails and the damped method does not."""
    print("Where the plain Newton step fails")
    rows = []
    cases = [("sqrt(1 + x^2) + sqrt(1 + y^2)", [1.5, 0.5], [0.0, 0.0]),
             ("x^4 - 2*x^2 + y^2", [0.1, 1.0], [1.0, 0.0])]
    for formula, start, minimum in cases:
        f, names = sc.parse(formula), ["x", "y"]
        try:
            count, path = run(lambda p: sc.newton_step(f, names, p), start, minimum, 50)
            plain, end = describe(count, path, minimum), path[-1]
        except ValueError as error:  # the Hessian became numerically singular far away
            plain, end = f"diverged ({error.args[0].split(':')[0]})", None
        damped = sc.newton(f, names, start)
        reached = tuple(float(v) for v in np.round(damped.point, 9) + 0)  # + 0 turns -0.0 into 0.0
        rows.append((formula, tuple(start), plain, f"{damped.steps} steps to {reached}"))
        F = sc.lambdify(f, names)
        assert all(F(*b) < F(*a) for a, b in zip(damped.path, damped.path[1:]))
        assert damped.converged and damped.steps <= 10
        assert np.linalg.norm(damped.point - minimum) < TOLERANCE
        assert not plain.endswith("steps")  # the plain step does not reach the minimum
        hessian = np.array(sc.lambdify(sc.hessian(f, names), names)(*damped.point), dtype=float)
        assert np.linalg.eigvalsh(hessian).min() > 0  # a minimum, not a saddle
        if formula.startswith("x^4"):  # the plain step walks into the saddle point (0, 0)
            assert end is not None and np.linalg.norm(end) < 1e-12
            rows[-1] = rows[-1][:2] + ("converges to the saddle (0, 0)",) + rows[-1][3:]
    table(["f(x, y)", "start", "plain Newton", "damped Newton with line search"], rows)
    print()


def main() -> None:
    args = options(__doc__)
    quadratic()
    hard_starts()
    rosenbrock(3000 if args.quick else 60000, Figures(args.plots))


if __name__ == "__main__":
    main()
