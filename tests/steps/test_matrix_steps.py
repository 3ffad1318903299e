"""Backpropagation steps of matrix gradients (``sc.explain(f, x, shapes=...)``).

Every recorded adjoint is checked numerically at random arrays: the adjoint of each intermediate
node equals the central-difference gradient of the output with respect to that node (the node is
replaced by a fresh symbol of its shape), and each contribution an operation sends to an operand
equals the central-difference gradient of ``sum(bar * node)`` with respect to the operand, the
node's adjoint held fixed.  The trace's result is ``sc.grad``'s node.
"""

import json

import numpy as np
from hypothesis import assume, given, settings, strategies as st

import symcalc as sc
from matrix_oracle import finite_differences, matrix_value, random_arrays
from symcalc.matrix import build, ops
from symcalc.matrix.nodes import postorder
from test_matrix_properties import EXAMPLES, SIZES, S, shaped

LEAST_SQUARES = ("0.5*norm(A@t - b)^2", "t", {"A": ("m", "n"), "t": ("n",), "b": ("m",)})
LOGISTIC = ("sum(softplus(X@w)) - y@X@w", "w", {"X": ("m", "n"), "w": ("n",), "y": ("m",)})
LOGSUMEXP = ("logsumexp(z)", "z", {"z": ("n",)})

_REBUILD = {
    "add": build.add, "mul": build.mul, "pow": build.power,
    "matmul": lambda *a: build.chain(a), "transpose": build.transpose, "sum": ops.sum_,
    "trace": ops.trace, "det": ops.det, "logdet": ops.logdet, "inv": ops.inv, "norm": ops.norm,
    "softmax": ops.softmax, "logsumexp": ops.logsumexp, "diag": ops.diag, "outer": ops.outer,
}


def substitute(f, old, new):
    """``f`` with the node ``old`` replaced by ``new`` (rebuilt with the canonical constructors)."""
    done = {}
    for node in postorder([f]):
        if node is old:
            done[node] = new
        else:
            done[node] = rebuild(node, [done[a] for a in node.args])
    return done[f]


def rebuild(node, args):
    """The operation of ``node`` on other operands."""
    if not node.args:
        return node
    if node.kind == "apply":
        return build.apply(node.data, *args)
    return _REBUILD[node.kind](*args)


def central(g, x, arrays, shapes):
    """Central differences of ``g`` in the symbol ``x``; ``shapes`` for every name in arrays
    (a substituted formula may no longer mention a symbol that tells a size)."""
    base = arrays[x.data]
    out = np.empty(np.shape(matrix_value(g, arrays, shapes)) + base.shape)
    for j in np.ndindex(*base.shape):
        h = 1e-6 * max(1.0, abs(float(base[j])))
        up, down = base.copy(), base.copy()
        up[j] += h
        down[j] -= h
        out[(Ellipsis,) + j] = (matrix_value(g, {**arrays, x.data: up}, shapes)
                                - matrix_value(g, {**arrays, x.data: down}, shapes)) / (2 * h)
    return out


def close(got, expected, what):
    scale = max(1.0, float(np.max(np.abs(expected))) if np.size(expected) else 1.0)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6 * scale, err_msg=what)


def check_trace(f, x, sizes, seed=0):
    d = sc.explain(f, x)
    assert d.result is sc.grad(f, x)
    symbols = f.free_symbols | {x}
    arrays = random_arrays(symbols, sizes, seed)
    shapes = {s.data: s.shape for s in symbols}
    assert [node for _, node in d.forward][-1:] == ([f] if d.steps else [])
    for step in d.steps:
        node = step.expr
        fresh = ops.symbol("node_value", node.shape)
        at = {**arrays, "node_value": matrix_value(node, arrays, shapes)}
        bar = matrix_value(step.result, arrays, shapes)
        # the adjoint of the node: the gradient of the output with respect to it
        g = substitute(f, node, fresh)
        wide = {**shapes, "node_value": node.shape}
        close(bar, central(g, fresh, at, wide), f"bar of {node} in {f}")
        # each contribution: d/d(child) of sum(bar * node), the adjoint held fixed
        held = ops.symbol("held_bar", node.shape)
        pair = lambda e: ops.sum_(build.mul(held, e)) if e.shape else build.mul(held, e)  # noqa
        sums = {}
        for part in step.substeps:
            sums[part.expr] = sums.get(part.expr, 0) + matrix_value(part.result, arrays, shapes)
        for child, got in sums.items():
            child_fresh = ops.symbol("child_value", child.shape)
            # only this operation's own operand changes, not other paths to the same node
            probe = pair(rebuild(node, [child_fresh if a is child else a for a in node.args]))
            point = {**arrays, "held_bar": bar, "child_value": matrix_value(child, arrays, shapes)}
            close(got, central(probe, child_fresh, point,
                               {**shapes, "held_bar": node.shape, "child_value": child.shape}),
                  f"{step.rule} contribution of {node} to {child}")
    close(matrix_value(d.result, arrays, shapes), finite_differences(f, x, arrays),
          f"grad of {f}")
    return d


def textbook(case):
    text, var, shapes = case
    f = sc.parse(text, shapes=shapes)
    return f, f.free_symbols and {s.data: s for s in f.free_symbols}[var]


def test_least_squares_steps():
    f, t = textbook(LEAST_SQUARES)
    d = check_trace(f, t, {"m": 4, "n": 3})
    assert [name for name, _ in d.forward] == ["v1", "v2", "v3", "v4", "v5"]
    assert [s.rule for s in d.steps] == ["product", "power", "norm", "sum of terms",
                                         "matrix product"]
    assert d.steps[-1].substeps[0].note == "bar(t) += A.T@bar(v1)"
    assert str(d).splitlines()[-1] == f"bar(t) = {d.result}"


def test_logistic_regression_steps():
    f, w = textbook(LOGISTIC)
    d = check_trace(f, w, {"m": 5, "n": 3}, seed=1)
    assert "entrywise softplus" in [s.rule for s in d.steps]
    assert sum(1 for s in d.steps for p in s.substeps if p.expr is w) == 2  # two paths to w


def test_logsumexp_steps():
    f, z = textbook(LOGSUMEXP)
    d = check_trace(f, z, {"n": 4}, seed=2)
    assert [s.rule for s in d.steps] == ["logsumexp"]
    assert d.steps[0].substeps[0].note == "bar(z) += bar(v1)*softmax(z)"


def test_forms_and_shapes_argument():
    text, var, shapes = LEAST_SQUARES
    d = sc.explain(text, var, shapes=shapes)
    assert d.result is sc.grad(text, var, shapes=shapes)
    assert d.latex().startswith("\\begin{align*}") and d._repr_latex_() == d.latex()
    data = json.loads(json.dumps(d.to_dict()))
    assert sc.parse(data["result"], shapes=shapes) is d.result
    assert [s["rule"] for s in data["steps"]] == [s.rule for s in d.steps]
    both = sc.explain("t@u + norm(t)", "t u", shapes={"t": ("n",), "u": ("n",)})
    assert both.result == sc.grad("t@u + norm(t)", ["t", "u"], shapes={"t": ("n",), "u": ("n",)})


@settings(max_examples=EXAMPLES)
@given(shaped(S), st.data())
def test_random_formula_steps(f, data):
    names = sorted(s.data for s in f.free_symbols)
    sizes_used = {d for node in postorder([f]) for d in node.shape}
    # the generated code learns sizes from its arguments (eye(n) alone does not tell n)
    assume(names and sizes_used <= {d for s in f.free_symbols for d in s.shape})
    x = {s.data: s for s in f.free_symbols}[data.draw(st.sampled_from(names))]
    check_trace(f, x, SIZES, seed=data.draw(st.integers(0, 99)))


def test_inverse_times_diagonal_compiles():
    # a contribution of the form inv(X).T@diag(t): the solve must not be mistaken for a scaling
    shapes = {"B": ("n", "n"), "t": ("n",)}
    e = sc.parse("inv(B).T@diag(t)", shapes=shapes)
    arrays = random_arrays(e.free_symbols, {"n": 3}, seed=3)
    arrays["B"] += 3 * np.eye(3)
    expected = np.linalg.inv(arrays["B"]).T @ np.diag(arrays["t"])
    close(matrix_value(e, arrays, shapes), expected, str(e))


def test_command_line_steps(capsys):
    from symcalc.cli.main import main

    text, var, shapes = LEAST_SQUARES
    argv = ["grad", text, var, "--shape", "A=m,n", "--shape", "t=n", "--shape", "b=m", "--steps"]
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    expected = sc.explain(text, var, shapes=shapes)
    assert out[:len(str(expected).splitlines())] == str(expected).splitlines()
    assert out[-1] == str(sc.grad(text, var, shapes=shapes))
    assert main(argv + ["--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["steps"] == [json.loads(json.dumps(expected.to_dict()))]
