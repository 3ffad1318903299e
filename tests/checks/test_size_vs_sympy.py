"""Size of symcalc's derivatives against SymPy's, on the derivative corpus.

Both sides are counted by one rule, ``sympy.count_ops(..., visual=False)``:

* symcalc's side is its printed result read as a SymPy expression, each registry function kept
  as one function call, as printed (``sigmoid(x)`` is one call, not ``1/(1 + exp(-x))``);
* SymPy's side is ``sympy.diff`` of the same input given in SymPy's own terms (``to_sympy``, with
  real symbols so that ``abs`` and ``relu`` differentiate on the real line), unsimplified, as
  SymPy returns it.

Run with ``pytest -s`` to see the median ratio and the cases where symcalc is longer.
"""

from __future__ import annotations

import statistics

import sympy

import symcalc as sc
from symcalc.language.arguments import to_expr
from symcalc.core.expr import Add, Call, Constant, Mul, Num, Pow, Symbol, postorder

from oracle import parse_spec
from test_derivative_corpus import DERIVATIVES, GRADIENTS, HESSIANS, JACOBIANS


def printed_form(e: sc.Expr) -> sympy.Expr:
    """``e`` as SymPy reads its printed text: every registry function stays one call (SymPy's
    own class where it has one, else an undefined function of the same name)."""
    made: dict = {}
    for node in postorder([e]):
        args = [made[a] for a in node.args]
        if isinstance(node, (Num, Symbol, Constant)):
            made[node] = sc.to_sympy(node, real=True)
        elif isinstance(node, Add):
            made[node] = sympy.Add(*args)
        elif isinstance(node, Mul):
            made[node] = sympy.Mul(*args)
        elif isinstance(node, Pow):
            made[node] = sympy.Pow(*args)
        elif isinstance(node, Call) and node.fn.sympy_names:  # SymPy has the function
            made[node] = node.fn.sympy(sympy, *args)
        elif isinstance(node, Call):
            made[node] = sympy.Function(node.fn.name)(*args)
    return made[e]


def scalar_derivatives():
    """(label, f, spec, symcalc's derivative) for every scalar derivative of the corpus."""
    for case in DERIVATIVES:
        yield case.label(), case.f, case.spec, sc.diff(case.f, *case.spec)
    for f, variables in GRADIENTS:
        for x, g in zip(variables.split(), sc.grad(f, variables.split())):
            yield f"d/{x} {f}", f, (x,), g
    for fs, variables in JACOBIANS:
        for f, row in zip(fs, sc.jacobian(list(fs), variables.split())):
            for x, entry in zip(variables.split(), row):
                yield f"d/{x} {f}", f, (x,), entry
    for f, variables in HESSIANS:
        xs = variables.split()
        matrix = sc.hessian(f, xs)
        for i, xi in enumerate(xs):
            for j in range(i, len(xs)):
                yield f"d/{xi}{xs[j]} {f}", f, (xi, xs[j]), matrix[i][j]


def sympy_derivative(f: str, spec) -> sympy.Expr:
    steps = []
    for x, n in parse_spec(spec):
        steps += [sc.to_sympy(x, real=True), n]
    return sympy.diff(sc.to_sympy(to_expr(f), real=True), *steps)


def measure():
    rows = []
    for label, f, spec, ours in scalar_derivatives():
        mine = sympy.count_ops(printed_form(ours), visual=False)
        theirs = sympy.count_ops(sympy_derivative(f, spec), visual=False)
        rows.append((label, int(mine), int(theirs)))
    return rows


def test_symcalc_is_no_longer_than_sympy_in_nine_cases_of_ten():
    rows = measure()
    no_longer = [r for r in rows if r[1] <= r[2]]
    ratios = [(m + 1) / (t + 1) for _, m, t in rows]  # +1: a constant result counts 0 operations
    share = len(no_longer) / len(rows)
    print(f"\nsize vs SymPy on {len(rows)} derivatives: symcalc no longer in {len(no_longer)} "
          f"({share:.1%}); ratio of (ops + 1): median {statistics.median(ratios):.3f}, "
          f"geometric mean {statistics.geometric_mean(ratios):.3f}; "
          f"total ops {sum(r[1] for r in rows)} vs {sum(r[2] for r in rows)}")
    for label, m, t in rows:
        if m > t:
            print(f"  longer: {label}: {m} vs {t}")
    assert len(rows) >= 300
    assert share >= 0.9
