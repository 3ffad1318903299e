"""Forward against reverse mode: what J v and v^T J cost as the numbers of inputs and outputs grow.

Forward accumulation carries one input direction v to all outputs (J v); reverse accumulation
carries one output weighting w back to all inputs (w^T J).  Either product costs a small multiple
of the function itself, so a full m x d Jacobian takes d forward passes or m reverse passes.  For
a scalar loss (m = 1) one reverse pass gives the whole gradient, whatever d is: the reason
backpropagation trains networks.  Costs are operation counts of the code ``sc.lambdify`` generates
(``sc.count_ops`` of the compiled graph: shared subexpressions counted once).
"""

import numpy as np

import symcalc as sc
from symcalc.compiler.program import program
from _support import Figures, options, table


def cost(result, variables: list[str]) -> int:
    """Operations in the code ``sc.lambdify(result, variables)`` compiles (``sc.count_ops`` of it)."""
    return program(result, variables).operation_count


def basis(n: int, k: int) -> list[int]:
    return [int(i == k) for i in range(n)]


def weights(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    w = rng.integers(-3, 4, size=shape)
    w[w == 0] = 1
    return w


def network(d: int, m: int, hidden: int, rng: np.random.Generator) -> list[sc.Expr]:
    """z = W2 tanh(W1 x): d inputs, a shared hidden layer, m outputs (small integer weights)."""
    W1, W2 = weights(rng, (hidden, d)), weights(rng, (m, hidden))
    h = [f"tanh({' + '.join(f'{W1[i, j]}*x{j}' for j in range(d))})" for i in range(hidden)]
    return [sc.parse(" + ".join(f"{W2[k, i]}*{h[i]}" for i in range(hidden))) for k in range(m)]


def measure(f: list[sc.Expr], d: int) -> dict[str, int]:
    m = len(f)
    xs, vs, ws = [f"x{j}" for j in range(d)], [f"v{j}" for j in range(d)], [f"w{k}" for k in range(m)]
    return {
        "f": cost(f, xs),
        "J v": cost(sc.jvp(f, xs, vs), xs + vs),
        "w^T J": cost(sc.vjp(f, xs, ws), xs + ws),
        "J by forward": sum(cost(sc.jvp(f, xs, basis(d, j)), xs) for j in range(d)),
        "J by reverse": sum(cost(sc.vjp(f, xs, basis(m, k)), xs) for k in range(m)),
    }


def check_products(d: int, m: int, rng: np.random.Generator) -> None:
    """The products are what they claim: J v and w^T J agree with the full Jacobian at a point."""
    f = network(d, m, 4, rng)
    xs = [f"x{j}" for j in range(d)]
    x, v, w = rng.normal(size=d), rng.normal(size=d), rng.normal(size=m)
    J = np.asarray(sc.lambdify(sc.jacobian(f, xs), xs)(*x), dtype=float)
    Jv = np.asarray(sc.lambdify(sc.jvp(f, xs, v.tolist()), xs)(*x), dtype=float)
    wJ = np.asarray(sc.lambdify(sc.vjp(f, xs, w.tolist()), xs)(*x), dtype=float)
    assert np.allclose(Jv, J @ v, rtol=1e-9, atol=1e-12) and np.allclose(wJ, w @ J, rtol=1e-9, atol=1e-12)
    print(f"check at d = {d}, m = {m}: J v and w^T J equal the full Jacobian's products\n")


def sweep(title: str, sizes: list[tuple[int, int]], rng) -> list[dict[str, int]]:
    print(title)
    results = []
    for d, m in sizes:
        row = measure(network(d, m, 6, rng), d)
        row.update(d=d, m=m)
        results.append(row)
    columns = ["d", "m", "f", "J v", "w^T J", "J by forward", "J by reverse"]
    table(columns, [[r[c] for c in columns] for r in results])
    print()
    return results


def main() -> None:
    args = options(__doc__)
    rng = np.random.default_rng(3)
    check_products(3, 5, rng)
    largest = 16 if args.quick else 64
    sizes = [2**k for k in range(1, largest.bit_length())]

    scalar = sweep("a scalar loss (m = 1) with more and more inputs d:", [(d, 1) for d in sizes], rng)
    wide = sweep("two inputs (d = 2) with more and more outputs m:", [(2, m) for m in sizes], rng)

    for r in scalar + wide:  # one product in either direction costs a few times f
        assert r["J v"] <= 4 * r["f"] and r["w^T J"] <= 4 * r["f"], r
    first, last = scalar[0], scalar[-1]
    reverse_ratio, forward_ratio = last["J by reverse"] / last["f"], last["J by forward"] / last["f"]
    print(f"scalar loss: at d = {last['d']} the reverse gradient costs {reverse_ratio:.1f} x f, "
          f"the forward one {forward_ratio:.1f} x f")
    assert last["J by reverse"] <= 4 * last["f"]
    assert last["J by forward"] / last["f"] > last["d"] / 2 > first["J by forward"] / first["f"]
    last = wide[-1]
    print(f"many outputs: the full Jacobian costs {last['J by forward']} operations by forward mode "
          f"and {last['J by reverse']} by reverse mode at m = {last['m']}")
    assert all(r["J by forward"] < r["J by reverse"] for r in wide if r["m"] >= 4)

    figures = Figures(args.plots)
    if figures:
        plot(figures, scalar, wide)


def plot(figures, scalar, wide) -> None:
    fig, (left, right) = figures.new(ncols=2)
    panels = ((left, scalar, "d", "inputs d (m = 1)"), (right, wide, "m", "outputs m (d = 2)"))
    for axes, rows, key, axis_label in panels:
        sizes = [r[key] for r in rows]
        for column, style, label in (("f", "k:", "f itself"),
                                     ("J by forward", "o-", "full Jacobian: d forward passes (J v)"),
                                     ("J by reverse", "s-", "full Jacobian: m reverse passes (w^T J)")):
            axes.loglog(sizes, [r[column] for r in rows], style, label=label)
        axes.set_xscale("log", base=2)
        axes.set_xlabel(axis_label)
        axes.set_ylabel("operations in generated code")
        axes.legend()
    left.set_title("a gradient: one reverse pass")
    right.set_title("a tall Jacobian: few forward passes")
    figures.save(fig, "08_forward_reverse_cost.png")


if __name__ == "__main__":
    main()
