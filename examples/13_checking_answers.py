"""Checking derivatives worked by hand: right, or wrong at a point and at a named step.

The exercises are the derivative table of an introduction to calculus for machine learning
(x^n, e^x, log x, the sigmoid, tanh), its worked example d/dx sin(x)*e^x, and two gradients from
its list of common vector forms (the l2 penalty and a least-squares loss).  Each is answered once
correctly, in a form a person writes (not symcalc's), and once with a typical slip.

sc.check_answer says whether an answer is the derivative; when it is not, it gives a point where
the two differ and, where one typical mistake (a missing chain factor, a sign, the product rule
left out, ...) explains the answer, the step of sc.explain's derivation where it happened.  The
script asserts every verdict, that each wrong answer really differs at the point given (values
from NumPy), and that symcalc's derivative agrees with central differences.
"""

import numpy as np

import symcalc as sc
from _support import options

# (f, variables, a right answer, a wrong answer, the rule of the step the slip is traced to)
EXERCISES = [
    ("x^3", "x", "3x^2", "3x^3", "power"),
    ("x^n", "x", "n x^(n - 1)", "n x^n", "power"),
    ("e^(2x)", "x", "2e^(2x)", "e^(2x)", "chain"),
    ("log(x^2)", "x", "2/x", "1/x^2", "chain"),
    ("sigmoid(x)", "x", "exp(-x)/(1 + exp(-x))^2", "sigmoid(x)", None),
    ("tanh(3x)", "x", "3/cosh(3x)^2", "1 - tanh(3x)^2", "chain"),
    ("sin(x)*exp(x)", "x", "(cos(x) + sin(x)) e^x", "cos(x) exp(x)", "product"),
    ("cos(x)*exp(x)", "x", "(cos(x) - sin(x)) e^x", "(cos(x) + sin(x)) e^x", "derivative of cos"),
    ("(t1^2 + t2^2)/2", ["t1", "t2"], ["t1", "t2"], ["t1^2", "t2"], "power"),
    ("(a*t - b)^2/2", "t", "a(a t - b)", "(a t - b)", "chain"),
]


def central_difference_agrees(f, variables, derivatives, rng) -> bool:
    """symcalc's derivatives match central differences at random points in (0.5, 1.5)."""
    f = sc.parse(f)
    names = sorted(s.name for s in f.free_symbols)
    values = sc.lambdify(f, names)
    point = rng.uniform(0.5, 1.5, size=len(names))
    for x, d in zip(variables, derivatives):
        h = np.zeros(len(names))
        h[names.index(x)] = 1e-6
        estimate = (values(*(point + h)) - values(*(point - h))) / 2e-6
        exact = sc.lambdify(d, names)(*point)
        if not np.isclose(estimate, exact, rtol=1e-6, atol=1e-8):
            return False
    return True


def main() -> None:
    options(__doc__)
    rng = np.random.default_rng(13)
    for f, var, right, wrong, rule in EXERCISES:
        variables = [var] if isinstance(var, str) else var
        good = sc.check_answer(f, var, right)
        assert good.correct is True, good.message
        expected = good.expected if isinstance(good.expected, list) else [good.expected]
        assert central_difference_agrees(f, variables, expected, rng), f
        bad = sc.check_answer(f, var, wrong)
        assert bad.correct is False, bad.message
        # the point given is one where the two values differ, also in float arithmetic
        names = list(bad.point)
        at = [bad.point[n] for n in names]
        answer = bad.answer[variables.index(bad.variable.name)] if isinstance(bad.answer, list) \
            else bad.answer
        ours = sc.lambdify(sc.diff(f, bad.variable), names)(*at)
        theirs = sc.lambdify(answer, names)(*at)
        assert not np.isclose(ours, theirs), (f, wrong)
        assert (bad.step.rule if bad.step else None) == rule, (f, wrong, bad.step)
        right, wrong = (a if isinstance(a, str) else ", ".join(a) for a in (right, wrong))
        print(f"d/d{', '.join(variables)} {f}")
        print(f"  {right:24} {good.message.split(':')[0]}")
        print(f"  {wrong:24} {bad.message}")
        print()
    print(f"{len(EXERCISES)} exercises: every right answer accepted, every slip caught at a point "
          "where the values differ")


if __name__ == "__main__":
    main()
