"""Forward against reverse mode: what J v and v^T J cost as the numbers of inputs and outputs grow.

Forward accumulation carries one input direction v to all outputs (J v); reverse accumulation
carries one output weighting w back to all inputs (w^T J).  Either product costs a small multiple
of the function itself, so a full m x d Jacobian takes d forward passes or m reverse passes.  For
a scalar loss (m = 1) one reverse pass gives the whole gradient, whatever d is: the reason
backpropagation trains networks.  Costs are operation counts of the code symcalc generates
(``sc.count_ops``: shared subexpressions counted once).
"""

import numpy as np

import symcalc as sc
from _support import Figures, options, table


def flatten(values) -> list:
    out = []
    for v in values:
        out.extend(flatten(v) if isinstance(v, list) else [v])
    return out


def cost(result) -> int:
    """Operations in the compiled code: the smaller of the readable form and the shared graph."""
    if isinstance(result, sc.Expr):
        return sc.count_ops([result])
    ops = sc.count_ops(flatten(result))
    graph = getattr(result, "graph", None)
    return min(ops, sc.count_ops(flatten(graph))) if graph is not None else ops


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
    xs = [f"x{j}" for j in range(d)]
    m = len(f)
    return {
        "f": cost(f),
        "J v": cost(sc.jvp(f, xs, [f"v{j}" for j in range(d)])),
        "w^T J": cost(sc.vjp(f, xs, [f"w{k}" for k in range(m)])),
        "J by forward": sum(cost(sc.jvp(f, xs, basis(d, j))) for j in range(d)),
        "J by reverse": sum(cost(sc.vjp(f, xs, basis(m, k))) for k in range(m)),
    }


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
    largest = 16 if args.quick else 64
    sizes = [2**k for k in range(1, largest.bit_length())]

    scalar = sweep("a scalar loss (m = 1) with more and more inputs d:", [(d, 1) for d in sizes], rng)
    wide = sweep("two inputs (d = 2) with more and more outputs m:", [(2, m) for m in sizes], rng)

    for r in scalar + wide:  # one product in either direction costs a few times f
        assert r["J v"] <= 4 * r["f"] and r["w^T J"] <= 4 * r["f"], r
    first, last = scalar[0], scalar[-1]
    print(f"scalar loss: the reverse gradient costs {last['J by reverse'] / last['f']:.1f} x f at d = {last['d']}; "
          f"the forward one {last['J by forward'] / last['f']:.1f} x f")
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
    for axes, rows, key, label in ((left, scalar, "d", "inputs d (m = 1)"), (right, wide, "m", "outputs m (d = 2)")):
        sizes = [r[key] for r in rows]
        for column, style in (("f", "k:"), ("J by forward", "o-"), ("J by reverse", "s-")):
            axes.loglog(sizes, [r[column] for r in rows], style, label=column)
        axes.set_xlabel(label)
        axes.set_ylabel("operations in generated code")
        axes.legend()
    left.set_title("a gradient: one reverse pass")
    right.set_title("a tall Jacobian: few forward passes")
    figures.save(fig, "08_forward_reverse_cost.png")


if __name__ == "__main__":
    main()
