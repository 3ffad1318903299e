"""The shortcuts that make gradients and Hessians fast to build keep values and forms.

* forward accumulation holds a tangent c*S (S a sum) as a pair until it is used: derivatives of
  scaled squared sums (least squares) are checked against SymPy and finite differences, and
  their forms against the plain constructors;
* ``_expand_products`` reuses a term's multiplied-out products and rejects, before building it,
  an expansion a lower bound shows cannot be shorter: the answers are those of the full check.
"""

from __future__ import annotations

import sys

import pytest
from hypothesis import given, settings

import symcalc as sc
from oracle import check_gradient, check_hessian
from strategies import exprs
from symcalc.calculus.diff import forward
from symcalc.core.expr import ONE, Add, add, mul, postorder, power, raw_mul

simplify_module = sys.modules["symcalc.rewrite.simplify"]

SCALED_SQUARES = [
    "0.5*((2*a - 3*b + 1)^2 + (a + 4*b - 2)^2 + (-a + b)^2)",
    "3*(a - 2*b + 5)^2/7 - 2*(b + a)^2",
    "(2*a + b - 1)^2*sin(a) + 0.25*(a - b)^3",   # a scaled sum then multiplied by a function
    "exp(0.5*(a + 2*b)^2) + (a*b + 1)^2",        # a scaled sum inside a call
    "(a + b)^a + 2*(a - b)^2",                   # base and exponent both vary
    "((a + 1)^2 + 2*(b - a)^2)^2/4",             # a scaled sum inside a sum that is squared
]


TANH_SUMS = [
    "(0.3*tanh(2*a - b) + 0.5*tanh(a + 3*b) - 0.5)^2",  # f'(u)*u' with u' a number, then scaled
    "0.25*sin(3*a + b) - 2*tanh(a/2)",
]


@pytest.mark.parametrize("text", SCALED_SQUARES + TANH_SUMS)
def test_scaled_sums_differentiate_right(text):
    f = sc.parse(text)
    check_gradient(f, "a b", sc.grad(f, "a b"))
    check_hessian(f, "a b", sc.hessian(f, "a b"))


def _plain_tangent(e, x):
    """d e/dx by the chain rule over the graph with the canonical constructors only, each
    scaled sum built where it arises: the form forward accumulation gave before tangents could
    be held as pairs."""
    from symcalc.calculus.diff import local_factors
    dot = {}
    for node in postorder([e]):
        if node is x:
            dot[node] = ONE
        elif not node.args or x not in node.free_symbols:
            continue
        elif isinstance(node, sc.Call) and len(node.args) == 1:
            dot[node] = raw_mul(node.partials()[0], dot[node.args[0]])
        else:
            terms = [mul(dot[a], *local_factors(node, i)) for i, a in enumerate(node.args)
                     if a in dot]
            if isinstance(node, sc.Pow) and len(terms) == 2:
                inverse = power(node, sc.Num(-1))
                dot[node] = mul(node, add(*(mul(t, inverse) for t in terms)))
            else:
                dot[node] = add(*terms)
    return dot.get(e, sc.Num(0))


@pytest.mark.parametrize("text", SCALED_SQUARES + TANH_SUMS)
def test_scaled_sums_keep_their_form(text):
    f, a = sc.parse(text), sc.Symbol("a")
    assert forward(f, {a: ONE}) is _plain_tangent(f, a)


def _full_expansion_check(monkeypatch):
    """_expand_products with the early rejection switched off."""
    monkeypatch.setattr(simplify_module, "_fewest_ops_above", lambda expanded, atoms: 0)


def _sums_in(exprs_):
    return [n for n in postorder(exprs_) if isinstance(n, Add)]


def test_early_rejection_agrees_with_building_the_expansion(monkeypatch):
    f = sc.parse("(0.3*tanh(a - 2*b + 0.1) - 0.7*tanh(0.5*a + b) + 0.2*tanh(a + b) - 0.5)^2")
    sums = _sums_in(list(sc.hessian(f, "a b")[0]) + list(sc.grad(f, "a b")))
    sums += _sums_in([sc.parse("3*(x + 1)^2 - 3*x^2 - 6*x + sin(x)*(1 - sin(x)) + sin(x)^2")])
    quick = [simplify_module._expand_products(s) for s in sums]
    _full_expansion_check(monkeypatch)
    assert quick == [simplify_module._expand_products(s) for s in sums]


@settings(max_examples=60, deadline=None)
@given(exprs())
def test_early_rejection_agrees_on_random_sums(e):
    sums = _sums_in([sc.simplify(e)])
    quick = [simplify_module._expand_products(s) for s in sums]
    original = simplify_module._fewest_ops_above
    simplify_module._fewest_ops_above = lambda expanded, atoms: 0
    try:
        assert quick == [simplify_module._expand_products(s) for s in sums]
    finally:
        simplify_module._fewest_ops_above = original


@pytest.mark.parametrize("c", [1, 3, -2, "1/2"])
def test_reused_expansions_scale_with_the_coefficient(c):
    # the products of (x + 1)^2 are built once and reused with each coefficient
    e = sc.parse(f"({c})*(x + 1)^2 - ({c})*x^2 - 2*({c})*x + y")
    expected = sc.parse(f"({c}) + y")
    assert sc.simplify(e) == expected
    import sympy
    from symcalc.checks.sympy_bridge import to_sympy
    assert sympy.simplify(to_sympy(e) - to_sympy(expected)) == 0


def _reference_postorder(roots, done=None):
    """Postorder by the textbook two-visit stack: the order ``postorder`` must keep."""
    seen, out = set(), []
    stack = [(r, False) for r in reversed(list(roots))]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            out.append(node)
        elif id(node) not in seen and not (done is not None and done(node)):
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((c, False) for c in reversed(node.args) if id(c) not in seen)
    return out


@settings(max_examples=60, deadline=None)
@given(exprs(), exprs())
def test_postorder_keeps_its_order(e, g):
    roots = [e, g, sc.grad(e, sorted(e.free_symbols, key=str) or ["x"]).graph[0]]
    assert list(postorder(roots)) == _reference_postorder(roots)
    calls = [n for n in postorder(roots) if isinstance(n, Add)]
    skip = set(calls[::2])
    done = skip.__contains__
    assert list(postorder(roots, done)) == _reference_postorder(roots, done)


@settings(max_examples=60, deadline=None)
@given(exprs(), exprs())
def test_count_ops_counts_each_shared_node_once(e, g):
    roots = [e, g, sc.grad(e, sorted(e.free_symbols, key=str) or ["x"]).graph[0]]
    expected = 0
    for node in _reference_postorder(roots):
        if isinstance(node, (Add, sc.Mul)):
            expected += len(node.args) - 1
        elif isinstance(node, (sc.Pow, sc.Call)):
            expected += 1
    assert sc.count_ops(roots) == expected
