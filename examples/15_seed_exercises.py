"""Exercises from an introduction to calculus for machine learning, answered in LaTeX and checked.

A reader of the introduction works the derivatives of its two tables by hand and types each answer
the way the text writes it, in LaTeX: the one-variable table (x^n, e^x, log x, the sigmoid, tanh),
the worked example d/dx sin(x) e^x with the text's numerical check at x0 = 0.3, and the table of
vector forms (a^T theta, ||theta||^2/2, ||A theta - b||^2/2, log-sum-exp, cross-entropy of a
softmax) with the least-squares check at the text's own A, b and theta0.

Scalar answers go to sc.check_answer.  Vector answers are read with shapes= (so \\mathbf{a},
A^\\top and \\|...\\| mean what they mean in the text) and compared with symcalc's gradient in
matrix form; at a concrete size every entry is then checked with sc.check_answer as well, so an
answer in another form than symcalc's is judged by its values, not its spelling.  Two answers are
wrong on purpose: tanh' written 1 + tanh^2 x (a sign slip) and the least-squares gradient without
its transpose; each verdict names a point where the values differ.  The cross-entropy answer p - y
holds only for a target y whose entries sum to 1, which is what the text's "depending on the
conditions" means: the check says so, and agrees once y_n = 1 - (y_1 + ... + y_{n-1}).
"""

import numpy as np

import symcalc as sc
from _support import options, table
from symcalc.matrix import unroll

ONE_VARIABLE = [  # (f, the answer typed, as the table of one-variable derivatives writes them)
    (r"x^n", r"n x^{n-1}"),
    (r"e^x", r"e^x"),
    (r"\log x", r"\frac{1}{x}"),
    (r"\frac{1}{1+e^{-x}}", r"\sigma(x)(1-\sigma(x))"),
    (r"\tanh x", r"1-\tanh^2 x"),
    (r"\sin(x) e^{x}", r"\cos(x) e^{x} + \sin(x) e^{x}"),  # the worked example
]
SLIP = (r"\tanh x", r"1+\tanh^2 x")

SHAPES = {"a": "n", "theta": "n", "A": "n,n", "b": "n", "y": "n", "z": "n"}
VECTOR = [  # (f, variable, the answer typed), from the table of common vector forms
    (r"\mathbf{a}^\top \boldsymbol{\theta}", "theta", r"\mathbf{a}"),
    (r"\frac{1}{2}\|\boldsymbol{\theta}\|_2^2", "theta", r"\boldsymbol{\theta}"),
    (r"\frac{1}{2}\boldsymbol{\theta}^\top\boldsymbol{\theta}", "theta", r"\boldsymbol{\theta}"),
    (r"\frac{1}{2}\|A\boldsymbol{\theta}-\mathbf{b}\|_2^2", "theta",
     r"A^\top(A\boldsymbol{\theta}-\mathbf{b})"),
    (r"\log\left(\mathbf{1}^\top e^{\boldsymbol{\theta}}\right)", "theta",
     r"\operatorname{softmax}(\boldsymbol{\theta})"),
    (r"\log\left(\mathbf{1}^\top e^{\boldsymbol{\theta}}\right)", "theta",  # in another form
     r"\frac{e^{\boldsymbol{\theta}}}{\mathbf{1}^\top e^{\boldsymbol{\theta}}}"),
]
VECTOR_SLIP = (r"\frac{1}{2}\|A\boldsymbol{\theta}-\mathbf{b}\|_2^2", "theta",
               r"A(A\boldsymbol{\theta}-\mathbf{b})")
CROSS_ENTROPY = (r"-\mathbf{y}^\top \log \operatorname{softmax}(\mathbf{z})", "z",
                 r"\operatorname{softmax}(\mathbf{z}) - \mathbf{y}")


def latex(text: str, shapes=None):
    return sc.parse(text, latex=True, shapes=shapes)


def differs_at_the_point(verdict, f, variables: list) -> bool:
    """The values the verdict gives are the two formulas' values at its point (NumPy), and
    they differ."""
    names = list(verdict.point)
    at = [verdict.point[n] for n in names]
    x = verdict.variable
    ours = sc.lambdify(sc.diff(f, x), names)(*at)
    answer = verdict.answer[variables.index(x.name)] if isinstance(verdict.answer, list) \
        else verdict.answer
    theirs = sc.lambdify(answer, names)(*at)
    return bool(np.isclose(ours, float(verdict.expected_value))
                and np.isclose(theirs, float(verdict.answer_value))
                and not np.isclose(ours, theirs))


def one_variable() -> None:
    rows = []
    for f_text, answer_text in ONE_VARIABLE:
        verdict = sc.check_answer(latex(f_text), "x", latex(answer_text))
        assert verdict.correct is True, verdict.message
        rows.append([f_text, answer_text, "correct"])
    table(["f(x)", "answer typed", "verdict"], rows)
    # two forms of the sigmoid's derivative are one function
    same = sc.equivalent(latex(r"\sigma(x)(1-\sigma(x))"), latex(r"\frac{e^{-x}}{(1+e^{-x})^2}"))
    assert same.equal is True
    print(f"\n\\sigma(x)(1-\\sigma(x)) and e^{{-x}}/(1+e^{{-x}})^2: equal ({same.reason})")

    # the text's numerical check of the worked example, at x0 = 0.3 with h = 1e-6
    f = sc.lambdify(latex(r"\sin(x) e^{x}"), ["x"])
    derivative = sc.lambdify(latex(r"\cos(x) e^{x} + \sin(x) e^{x}"), ["x"])
    x0, h = 0.3, 1e-6
    numerical = (f(x0 + h) - f(x0 - h)) / (2 * h)
    print(f"d/dx sin(x) e^x at 0.3: central difference {numerical:.12f}, "
          f"the answer {derivative(x0):.12f}, error {abs(numerical - derivative(x0)):.1e}")
    assert abs(numerical - derivative(x0)) < 1e-8

    f_text, wrong = SLIP
    verdict = sc.check_answer(latex(f_text), "x", latex(wrong))
    assert verdict.correct is False and differs_at_the_point(verdict, latex(f_text), ["x"])
    x = verdict.point["x"]
    print(f"\nd/dx {f_text} answered {wrong}: wrong. At x = {x:.6g} the derivative is "
          f"{float(verdict.expected_value):.6g}, the answer {float(verdict.answer_value):.6g}")
    if verdict.step is not None:
        print(f"  the answer leaves the derivation at the step: {verdict.step.rule}")


def entries(e, size: int) -> list:
    return list(np.atleast_1d(unroll(e, {"n": size})).flat)


def check_entrywise(f, variable: str, answer, size: int, condition=None):
    """sc.check_answer on the formula spelt out at size n (entry by entry)."""
    loss = unroll(f, {"n": size})[()]
    xs = [str(s) for s in entries(sc.parse(variable, shapes=SHAPES), size)]
    answers = entries(answer, size)
    if condition:
        loss = sc.subs(loss, condition)
        answers = [sc.subs(a, condition) for a in answers]
    return sc.check_answer(loss, xs, answers)


def vector_forms(size: int) -> None:
    rows = []
    for f_text, variable, answer_text in VECTOR:
        f, answer = latex(f_text, SHAPES), latex(answer_text, SHAPES)
        gradient = sc.grad(f, variable)
        verdict = check_entrywise(f, variable, answer, size)
        assert verdict.correct is True, verdict.message
        form = "symcalc's own form" if gradient is answer else f"symcalc writes {gradient}"
        rows.append([f_text, answer_text, f"correct ({form})"])
    table(["f(theta)", "answer typed", f"verdict (entries checked at n = {size})"], rows)

    # the text's least-squares check: its A, b and theta0, gradient against central differences
    f = latex(VECTOR[3][0], SHAPES)
    A, b = np.array([[1.0, 2.0], [-1.0, 3.0]]), np.array([0.5, -1.0])
    theta0 = np.array([0.2, -0.1])
    loss = sc.matrix.lambdify(f, ["A", "b", "theta"], shapes=SHAPES)
    gradient = sc.matrix.lambdify(sc.grad(f, "theta"), ["A", "b", "theta"], shapes=SHAPES)
    h, numerical = 1e-6, np.zeros(2)
    for i in range(2):
        step = np.eye(2)[i] * h
        numerical[i] = (loss(A, b, theta0 + step) - loss(A, b, theta0 - step)) / (2 * h)
    error = np.max(np.abs(numerical - gradient(A, b, theta0)))
    print(f"\nleast squares at the text's theta0: gradient {gradient(A, b, theta0)}, "
          f"central differences {numerical}, largest error {error:.1e}")
    assert error < 1e-8

    f_text, variable, wrong = VECTOR_SLIP
    f = latex(f_text, SHAPES)
    verdict = check_entrywise(f, variable, latex(wrong, SHAPES), size)
    assert verdict.correct is False
    xs = [str(s) for s in entries(sc.parse(variable, shapes=SHAPES), size)]
    assert differs_at_the_point(verdict, unroll(f, {"n": size})[()], xs)
    print(f"\n{f_text} answered {wrong}: wrong (the transpose is missing). "
          f"d/d{verdict.variable} at a random point: {float(verdict.expected_value):.6g}, the "
          f"answer {float(verdict.answer_value):.6g}")

    # cross-entropy of a softmax: p - y only when the entries of y sum to 1
    f_text, variable, answer_text = CROSS_ENTROPY
    f, answer = latex(f_text, SHAPES), latex(answer_text, SHAPES)
    print(f"\n{f_text}: symcalc's gradient is {sc.grad(f, variable)}")
    anywhere = check_entrywise(f, variable, answer, size)
    assert anywhere.correct is False
    last = f"y_{size}"
    rest = " - ".join(f"y_{i}" for i in range(1, size))
    summing_to_one = {last: sc.parse(f"1 - {rest}")}
    target = check_entrywise(f, variable, answer, size, summing_to_one)
    assert target.correct is True, target.message
    print(f"  answered {answer_text}: not the gradient for every y (at the point given, y sums to "
          f"{sum(v for k, v in anywhere.point.items() if k.startswith('y_')):.3g}); correct once "
          f"{last} = 1 - ({rest.replace(' - ', ' + ')}), a target that sums to 1")


def main() -> None:
    args = options(__doc__)
    print("One-variable derivatives, answered in LaTeX\n")
    one_variable()
    print("\nVector forms, answered in LaTeX with shapes\n")
    vector_forms(2 if args.quick else 3)


if __name__ == "__main__":
    main()
