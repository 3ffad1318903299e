"""The derivative corpus: every case is computed by symcalc and checked by the oracle, against
SymPy's own derivative and against central finite differences (see tests/oracle.py).

The lists are shared with tests/test_size_vs_sympy.py, which compares the size of the results.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import pytest

import symcalc as sc

import oracle
from oracle import (check_derivative, check_directional, check_gradient, check_hessian,
                    check_hvp, check_jacobian, check_jacobian_det, check_jvp, check_vjp)


class D(NamedTuple):
    """One derivative: ``sc.diff(f, *spec)``, sampled in ``domain`` (default: the oracle's box)."""

    f: str
    spec: tuple = ("x",)
    domain: Optional[object] = None

    def label(self) -> str:
        return f"d/{''.join(map(str, self.spec))} {self.f}"


def d(f: str, *spec, domain=None) -> D:
    return D(f, spec or ("x",), domain)


POSITIVE = (0.1, 2.0)
UNIT = (-0.95, 0.95)

TEXTBOOK = [
    d("x^5"), d("3*x^4 - 2*x^2 + 7"), d("1/x"), d("1/x^3"), d("sqrt(x)"), d("x^(3/2)"),
    d("x^(-1/3)", domain=POSITIVE), d("(2*x + 1)^7"), d("sqrt(x^2 + 1)"), d("x*sin(x)"),
    d("x^2*exp(x)"), d("exp(x)*cos(x)"), d("x*log(x)"), d("sin(x)*cos(x)"),
    d("(x + 1)*(x - 1)*(x + 2)"), d("x/(x + 1)"), d("(x^2 + 1)/(x^2 - 4)"), d("sin(x)/x"),
    d("exp(x)/(1 + exp(x))"), d("(1 - x)/(1 + x)^2"), d("sin(x^2)"), d("cos(3*x + 1)"),
    d("exp(-x^2/2)"), d("log(1 + x^2)"), d("sqrt(1 - x^2)"), d("sin(cos(x))"), d("exp(sin(x))"),
    d("log(cos(x))"), d("tan(2*x)", domain=(-0.7, 0.7)), d("sin(x)^3"), d("cos(x)^2"),
    d("log(x^2 + 1)^2"), d("(x^3 - x)^4"), d("exp(exp(x))"), d("sqrt(x + sqrt(x))"),
    d("x^2 + 2*x*y + y^2"), d("a*x^2 + b*x + c"), d("exp(a*x)*sin(b*x)"), d("1/sqrt(x^2 + y^2)"),
    d("(x - 1)^2*(x + 3)^3/(x^2 + 5)"), d("2*x*e^x"), d("pi*x^2 + e*x"), d("0.5*x^2 - 1.25e-3*x"),
    d("x*(x*(x*(x + 1) + 1) + 1)"), d("cos(x)*sin(x)^2 - 2*cos(x)^3"),
]

SYMBOLIC_EXPONENTS = [
    d("x^n"), d("x^(n + 1)"), d("x^(2*n - 1)"), d("a^x"), d("2^x"), d("x^x"), d("x^(1/x)"),
    d("x^sin(x)"), d("(x + 1)^(x - 1)", domain=POSITIVE), d("a^(x^2)"), d("x^n", "n"),
    d("pi^x"), d("e^(2*x)"), d("x^e"), d("x^pi"), d("(x^2 + 1)^y", "y"),
    d("x^y", "y"), d("(a*x)^n"),
]

LOGARITHMS = [
    d("log(x, 2)"), d("log(x, 10)"), d("log(x^2 + 1, 3)"), d("log(2, x)"), d("log(y, x)"),
    d("log(x, b)", "b"), d("ln(x)"), d("log(log(x))"), d("log(sin(x))"), d("log(x*y)"),
    d("log(x/(1 + x))"), d("log(exp(x) + exp(-x))"), d("log(x, x + 1)", domain=POSITIVE),
]

TRIGONOMETRIC = [
    d("sin(x)"), d("cos(x)"), d("tan(x)"), d("asin(x)"), d("acos(x)"), d("atan(x)"),
    d("asin(2*x)", domain=(-0.45, 0.45)), d("acos(x^2)", domain=UNIT), d("atan(1/x)"),
    d("atan(x/y)"), d("atan(x/y)", "y"), d("asin(sqrt(x))", domain=(0.05, 0.95)),
    d("sinh(x)"), d("cosh(x)"), d("tanh(x)"), d("sinh(x)*cosh(x)"), d("tanh(x^2)"),
    d("cosh(x)^2 - sinh(x)^2"), d("tan(x)^2"), d("sin(x)^2 + cos(x)^2"), d("atan(tan(x))"),
    d("asin(x) + acos(x)"), d("sinh(asin(x))"), d("cosh(atan(x))"), d("atan(sinh(x))"),
    d("sin(x)*cos(y) + cos(x)*sin(y)", "y"),
]

MACHINE_LEARNING = [
    d("sigmoid(x)"), d("sigmoid(2*x + 1)"), d("sigmoid(x)^2"), d("log(sigmoid(x))"),
    d("log(1 - sigmoid(x))"), d("softplus(x)"), d("softplus(-x)"), d("softplus(x) - softplus(-x)"),
    d("relu(x)"), d("relu(x)", domain=(0.1, 2.0)), d("relu(x)", domain=(-2.0, -0.1)),
    d("relu(x)^2"), d("relu(x - 1)*x"), d("tanh(x)"), d("erf(x)"), d("erf(x/sqrt(2))"),
    d("abs(x)"), d("abs(x^3 - x)"), d("sign(x)*x^2"), d("heaviside(x)*x"), d("logsumexp(x, 0)"),
    d("logsumexp(x, 2*x, x^2)"), d("logsumexp(a, b, c)", "a"), d("logsumexp(x)"),
    d("x*sigmoid(x)"), d("x*(1 + erf(x/sqrt(2)))/2"), d("x*tanh(softplus(x))"),
    d("log(cosh(x))"), d("-y*log(sigmoid(x)) - (1 - y)*log(1 - sigmoid(x))", domain={"y": (0, 1)}),
    d("(sigmoid(w*x + b) - y)^2", "w"), d("relu(w*x + b)", "b"), d("abs(x - y)"),
    d("sqrt(x^2 + 1) - 1"), d("exp(x - logsumexp(x, y))"), d("log(1 + exp(x))"),
    d("softplus(relu(x))"), d("sigmoid(tanh(x))"), d("erf(sigmoid(x))"),
    d("relu(x)*sigmoid(x) + abs(x)*tanh(x)"), d("tanh(w1*tanh(w0*x))", "w0"),
]

HIGHER_ORDER = [
    d("sin(x)", "x", 4), d("x^5", "x", 3), d("exp(2*x)", "x", 5), d("x^n", "x", 2),
    d("sigmoid(x)", "x", 2), d("sigmoid(x)", "x", 3), d("tanh(x)", "x", 2), d("tanh(x)", "x", 3),
    d("log(x)", "x", 3), d("atan(x)", "x", 2), d("x^x", "x", 2), d("erf(x)", "x", 2),
    d("softplus(x)", "x", 2), d("exp(-x^2/2)", "x", 4), d("relu(x)^3", "x", 2),
    d("logsumexp(x, y)", "x", 2), d("abs(x)^3", "x", 2), d("1/(1 + x^2)", "x", 3),
    d("sqrt(x)", "x", 3), d("asin(x)", "x", 2), d("log(x, 2)", "x", 2), d("x^10", "x", 10),
]

MIXED_PARTIALS = [
    d("x^2*y^3", "x", "y"), d("exp(x*y)", "x", "y"), d("sin(x*y)", "x", "y"),
    d("x*y*z", "x", "y", "z"), d("log(x^2 + y^2)", "x", "y"), d("atan(y/x)", "x", "y"),
    d("x^y", "x", "y"), d("sigmoid(x*y)", "x", "y"), d("exp(x)*sin(y)", "x", 2, "y"),
    d("logsumexp(x, y, z)", "x", "y"), d("sqrt(x^2 + y^2 + z^2)", "x", "z"),
    d("x^3*y^2*z", "x", 2, "y", 2), d("tanh(x + y^2)", "y", "x"), d("softplus(x - y)", "x", "y"),
    d("x*sin(y) + y*cos(x)", "y", "x"), d("relu(x)*relu(y)", "x", "y"),
]

DERIVATIVES = (TEXTBOOK + SYMBOLIC_EXPONENTS + LOGARITHMS + TRIGONOMETRIC + MACHINE_LEARNING
               + HIGHER_ORDER + MIXED_PARTIALS)

GRADIENTS = [
    ("x^2 + y^2", "x y"), ("x*y*z", "x y z"), ("exp(x*y)*sin(z)", "x y z"),
    ("logsumexp(a, b, c)", "a b c"), ("sigmoid(w1*x1 + w2*x2 + b)", "w1 w2 b"),
    ("log(sigmoid(w*x + b))", "w b"), ("(w*x + b - y)^2", "w b"), ("sqrt(x^2 + y^2)", "x y"),
    ("x^y", "x y"), ("softplus(a*b) + relu(a - b)", "a b"), ("(1 - x)^2 + 100*(y - x^2)^2", "x y"),
    ("x1*x2*x3*x4*x5", "x1 x2 x3 x4 x5"), ("tanh(w*x)", "w x"),
    ("exp(x - logsumexp(x, y, z))", "x y z"), ("erf(a*x)*abs(b)", "a b"),
]

JACOBIANS = [
    (("r*cos(t)", "r*sin(t)"), "r t"),
    (("r*sin(th)*cos(ph)", "r*sin(th)*sin(ph)", "r*cos(th)"), "r th ph"),
    (("r*cos(t)", "r*sin(t)", "z"), "r t z"),
    (("sqrt(x^2 + y^2)", "atan(y/x)"), "x y"),
    (("x*y", "sin(x)"), "x y"),
    (("exp(a - logsumexp(a, b, c))", "exp(b - logsumexp(a, b, c))",
      "exp(c - logsumexp(a, b, c))"), "a b c"),
    (("sigmoid(x)", "relu(y)", "tanh(x*y)"), "x y"),
    (("tanh(w11*x1 + w12*x2)", "tanh(w21*x1 + w22*x2)"), "x1 x2"),
    (("x^2 - y^2", "2*x*y"), "x y"),
]

HESSIANS = [
    ("x^2*y + y^3", "x y"), ("exp(x*y)", "x y"), ("x^2 + y^2 + z^2 + x*y*z", "x y z"),
    ("(1 - x)^2 + 100*(y - x^2)^2", "x y"), ("logsumexp(a, b, c)", "a b c"),
    ("log(sigmoid(w*x))", "w x"), ("sin(x)*cos(y)", "x y"), ("sqrt(x^2 + y^2)", "x y"),
    ("x^y", "x y"), ("softplus(x*y)", "x y"), ("tanh(a + b*c)", "a b c"),
]

DETERMINANTS = [
    (("r*cos(t)", "r*sin(t)"), "r t"),
    (("r*sin(th)*cos(ph)", "r*sin(th)*sin(ph)", "r*cos(th)"), "r th ph"),
    (("r*cos(t)", "r*sin(t)", "z"), "r t z"),
    (("x^2 - y^2", "2*x*y"), "x y"),
    (("x + y", "x - y"), "x y"),
    (("exp(x)*cos(y)", "exp(x)*sin(y)"), "x y"),
    (("u*v", "u/v"), "u v"),
]

PRODUCTS = [
    ("jvp", ("x*y", "sin(x)"), "x y", (1, 2)),
    ("jvp", ("r*cos(t)", "r*sin(t)"), "r t", ("a", "b")),
    ("jvp", ("exp(x)*y", "x^2", "sigmoid(x - y)"), "x y", ("y", 1)),
    ("vjp", ("x*y", "sin(x)"), "x y", (1, -1)),
    ("vjp", ("sigmoid(x*y)", "relu(x)"), "x y", ("a", 2)),
    ("vjp", ("x*y", "sin(x)"), "x y", ("x", 2)),
    ("vjp", ("exp(a - logsumexp(a, b))", "exp(b - logsumexp(a, b))"), "a b", (1, 0)),
    ("hvp", "x^2*y + exp(x*y)", "x y", (1, "a")),
    ("hvp", "logsumexp(a, b)", "a b", (1, -1)),
    ("hvp", "x^3*y", "x y", ("y", "x")),
    ("hvp", "(1 - x)^2 + 100*(y - x^2)^2", "x y", (1, 2)),
    ("directional", "x^2*y", "x y", (1, 1)),
    ("directional", "sin(x)*exp(y)", "x y", ("u", "v")),
    ("directional", "sqrt(x^2 + y^2)", "x y", ("x", "y")),
    ("directional", "logsumexp(a, b, c)", "a b c", (1, 1, 1)),
]

# Derivatives keep the forms a person writes (sigmoid(x)*(1 - sigmoid(x)), 1 - tanh(x)^2, the
# softmax for logsumexp), or an equivalent form no longer; each is also checked by the oracle.
FORMS = [
    ("sigmoid(x)", "sigmoid(x)*(1 - sigmoid(x))"),
    ("tanh(x)", "1 - tanh(x)^2"),
    ("x^n", "n*x^(n - 1)"),
    ("softplus(x)", "sigmoid(x)"),
    ("relu(x)", "heaviside(x)"),
    ("abs(x)", "sign(x)"),
    ("log(x)", "1/x"),
    ("exp(x)", "exp(x)"),
    ("sin(x)", "cos(x)"),
    ("sqrt(x)", "1/(2*sqrt(x))"),
    ("erf(x)", "2*exp(-x^2)/sqrt(pi)"),
    ("x^x", "x^x*(1 + log(x))"),
    ("a^x", "a^x*log(a)"),
    ("log(x, 2)", "1/(x*log(2))"),
    ("atan(x)", "1/(1 + x^2)"),
]


@pytest.mark.parametrize("case", DERIVATIVES, ids=D.label)
def test_derivative(case):
    check_derivative(case.f, case.spec, sc.diff(case.f, *case.spec), case.domain)


@pytest.mark.parametrize("f, variables", GRADIENTS, ids=lambda v: str(v))
def test_gradient(f, variables):
    check_gradient(f, variables, sc.grad(f, variables.split()))


@pytest.mark.parametrize("fs, variables", JACOBIANS, ids=lambda v: str(v))
def test_jacobian(fs, variables):
    check_jacobian(fs, variables, sc.jacobian(list(fs), variables.split()), domain={"x": POSITIVE})


@pytest.mark.parametrize("f, variables", HESSIANS, ids=lambda v: str(v))
def test_hessian(f, variables):
    check_hessian(f, variables, sc.hessian(f, variables.split()))


@pytest.mark.parametrize("fs, variables", DETERMINANTS, ids=lambda v: str(v))
def test_jacobian_det(fs, variables):
    check_jacobian_det(fs, variables, sc.jacobian_det(list(fs), variables.split()))


@pytest.mark.parametrize("kind, f, variables, vector", PRODUCTS, ids=lambda v: str(v))
def test_products(kind, f, variables, vector):
    xs = variables.split()
    if kind == "jvp":
        check_jvp(f, xs, vector, sc.jvp(list(f), xs, list(vector)))
    elif kind == "vjp":
        check_vjp(f, xs, vector, sc.vjp(list(f), xs, list(vector)))
    elif kind == "hvp":
        check_hvp(f, xs, vector, sc.hvp(f, xs, list(vector)))
    else:
        check_directional(f, xs, vector, sc.directional(f, xs, list(vector)))


@pytest.mark.parametrize("f, printed", FORMS, ids=lambda v: str(v))
def test_known_forms(f, printed):
    result = sc.diff(f, "x")
    assert str(result) == printed
    check_derivative(f, ("x",), result)


def test_softmax_is_the_gradient_of_logsumexp():
    gradient = sc.grad("logsumexp(a, b, c)", ["a", "b", "c"])
    assert [str(g) for g in gradient] == [
        f"exp({v} - logsumexp(a, b, c))" for v in "abc"
    ]
    check_gradient("logsumexp(a, b, c)", "a b c", gradient)


def test_polar_jacobian_determinant_is_r():
    fs, xs = ["r*cos(t)", "r*sin(t)"], ["r", "t"]
    det = sc.jacobian_det(fs, xs)
    assert str(det) == "r"
    check_jacobian_det(fs, xs, det)


def test_the_corpus_is_large_enough():
    scalar_checks = (len(DERIVATIVES) + sum(len(v.split()) for _, v in GRADIENTS)
                     + sum(len(fs) * len(v.split()) for fs, v in JACOBIANS)
                     + sum(len(v.split()) * (len(v.split()) + 1) // 2 for _, v in HESSIANS))
    assert len(DERIVATIVES) >= 150
    assert scalar_checks >= 300


# --- the oracle itself can fail ---------------------------------------------------------------
@pytest.mark.parametrize("check, args", [
    (check_derivative, ("sin(x)", ("x",), "cos(x) + 1e-20")),
    (check_derivative, ("x^3", ("x", 2), "-6*x")),
    (check_derivative, ("relu(x)", ("x",), "heaviside(-x)")),
    (check_derivative, ("x^2*y", ("x", "y"), "2*y")),
    (check_gradient, ("x*y^2", "x y", ["y^2", "x*y"])),
    (check_hessian, ("x^2*y", "x y", [["2*y", "2*x"], ["2*x", "1"]])),
    (check_jacobian, (("x*y", "x + y"), "x y", [["y", "x"], ["1", "-1"]])),
    (check_jacobian_det, (("r*cos(t)", "r*sin(t)"), "r t", "-r")),
    (check_jvp, (("x*y",), "x y", (1, 2), ["y + x"])),
    (check_vjp, (("x*y", "x"), "x y", (1, 2), ["y", "x"])),
    (check_hvp, ("x^2*y", "x y", (1, 0), ["2*y", "0"])),
    (check_directional, ("x^2*y", "x y", (1, 1), "2*x*y")),
])
def test_the_oracle_rejects_wrong_results(check, args):
    *inputs, wrong = args
    with pytest.raises(AssertionError):
        check(*inputs, _parsed(wrong))


def _parsed(text_or_nested_lists):
    if isinstance(text_or_nested_lists, str):
        return sc.parse(text_or_nested_lists)
    return [_parsed(item) for item in text_or_nested_lists]


def test_the_oracle_rejects_results_undefined_where_f_is_defined():
    with pytest.raises(AssertionError, match="undefined"):
        check_derivative("x^2", ("x",), sc.parse("2*x*heaviside(sqrt(x) + 1)"))


@pytest.mark.parametrize("name", sorted(sc.REGISTRY))
def test_the_oracle_evaluates_every_registry_function_as_sympy_does(name):
    fn = sc.REGISTRY[name]
    sample = "17/10" if name == "acosh" else "3/10"  # inside the real domain
    args = [sc.Num(sc.parse(sample)), sc.Num(sc.parse("7/10"))][:max(fn.min_args, 1)]
    call = fn(*[sc.Symbol(f"a{k}") for k in range(len(args))])
    point = {f"a{k}": oracle.mpmath.mpf(a.value.numerator) / a.value.denominator
             for k, a in enumerate(args)}
    symbols = {oracle.sympy.Symbol(k): v for k, v in point.items()}
    expected = sc.to_sympy(call).evalf(40, subs=symbols)
    assert abs(oracle.value(call, point) - expected) < 1e-30
