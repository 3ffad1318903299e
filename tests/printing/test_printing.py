"""Printers: text that parses back to the same object, readable forms, LaTeX."""

import re
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

import sympy

import symcalc as sc
from symcalc.cli.main import main
from symcalc.core.expr import Num

x, y = sc.symbols("x y")

FORMS = [
    ("x*(1 - x)", "x*(1 - x)"), ("1 - tanh(x)^2", "1 - tanh(x)^2"), ("n*x^(n-1)", "n*x^(n - 1)"),
    ("x/2", "x/2"), ("-x/2", "-x/2"), ("1/x", "1/x"), ("x^-2", "1/x^2"), ("a/(b*c)", "a/(b*c)"),
    ("x^(1/2)", "sqrt(x)"), ("x^(-1/2)", "1/sqrt(x)"), ("x^(3/2)", "x^(3/2)"), ("(-2)^x", "(-2)^x"),
    ("(1/2)^x", "(1/2)^x"), ("(x^y)^z", "(x^y)^z"), ("x^y^z", "x^y^z"), ("x^(-y)", "x^(-y)"),
    ("-x^2 + 1", "1 - x^2"), ("x - 1", "x - 1"), ("(x + 1)^2", "(1 + x)^2"),
    ("3*x/2", "3*x/2"), ("sin(x)^2", "sin(x)^2"), ("exp(-x)", "exp(-x)"), ("log(x, 10)", "log(x, 10)"),
]


@pytest.mark.parametrize("text, printed", FORMS, ids=[f for f, _ in FORMS])
def test_readable_forms_with_fewest_parentheses(text, printed):
    e = sc.parse(text)
    assert str(e) == printed
    assert sc.parse(printed) is e


# --- the order of terms: ascending degree; a leading minus avoided by reading it backwards ------
ORDERED = [
    ("-4*x^3 + x^2 - 2*x + 3", "3 - 2*x + x^2 - 4*x^3"), ("x^2 + 2*x + 1", "1 + 2*x + x^2"),
    ("-1 + n", "n - 1"), ("-x^2 + y", "y - x^2"), ("-x + y", "y - x"), ("-x - 1", "-1 - x"),
    ("-sigmoid(x) + 1", "1 - sigmoid(x)"), ("-tanh(x)^2 + 1", "1 - tanh(x)^2"),
    ("-y + a*t1 + b*t2", "a*t1 + b*t2 - y"),  # reversed by degree, ties keep their order
    ("x^3 - 3*x^2*y + 3*x*y^2 - y^3", "x^3 - 3*x^2*y + 3*x*y^2 - y^3"),
    ("-1 + x - x^2", "-1 + x - x^2"),  # both ends negative: ascending stays
    ("exp(x) + 1", "1 + exp(x)"), ("sin(1)*x + sin(1)", "sin(1) + x*sin(1)"),
]


@pytest.mark.parametrize("text, printed", ORDERED, ids=[f for f, _ in ORDERED])
def test_terms_in_degree_order(text, printed):
    e = sc.parse(text)
    assert str(e) == printed
    assert sc.parse(printed) is e


TAYLOR = [
    ("exp(x)", 3, "1 + x + x^2/2 + x^3/6"),
    ("sin(x)", 7, "x - x^3/6 + x^5/120 - x^7/5040"),
    ("cos(x)", 6, "1 - x^2/2 + x^4/24 - x^6/720"),
    ("sqrt(1 + x)", 3, "1 + x/2 - x^2/8 + x^3/16"),
]


@pytest.mark.parametrize("f, order, printed", TAYLOR, ids=[f for f, _, _ in TAYLOR])
def test_taylor_polynomials_print_in_ascending_degree(f, order, printed):
    series = sc.taylor(f, {"x": 0}, order=order)
    assert str(series) == printed
    # the coefficients themselves, independently: SymPy's series
    X = sympy.Symbol("x")
    expected = sympy.series(sympy.sympify(f, locals={"x": X}), X, 0, order + 1).removeO()
    assert sympy.expand(sc.to_sympy(series) - expected) == 0


def test_known_forms_keep_their_order():
    assert str(sc.diff("sigmoid(x)", "x")) == "sigmoid(x)*(1 - sigmoid(x))"
    assert str(sc.diff("tanh(x)", "x")) == "1 - tanh(x)^2"
    assert str(sc.diff("x^n", "x")) == "n*x^(n - 1)"


def test_latex_and_command_line_use_the_same_order(capsys):
    series = sc.taylor("sin(x)", {"x": 0}, order=7)
    assert sc.latex(series) == r"x - \frac{x^{3}}{6} + \frac{x^{5}}{120} - \frac{x^{7}}{5040}"
    assert sc.latex("3 - 2*x + x^2 - 4*x^3") == r"3 - 2 x + x^{2} - 4 x^{3}"
    assert main(["taylor", "sin(x)", "--order", "7"]) == 0
    assert capsys.readouterr().out.strip() == "x - x^3/6 + x^5/120 - x^7/5040"


def _top_level_terms(text: str) -> list[str]:
    """Split printed text at the + and - signs outside parentheses, keeping each sign."""
    terms, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0 and i > 0 and text[i - 1] == " " and ch in "+-" and text[i + 1] == " ":
            terms.append(text[start:i])
            start = i
    terms.append(text[start:])
    return [t.replace(" ", "") for t in terms]


polynomials = st.lists(
    st.tuples(st.integers(-9, 9).filter(bool), st.integers(0, 4), st.integers(0, 4)),
    min_size=2, max_size=7,
)


@given(polynomials)
def test_printed_polynomials_are_in_monotone_degree_order(monomials):
    e = sum((c * x**i * y**j for c, i, j in monomials), Num(0))
    text = str(e)
    assert sc.parse(text) is e
    X, Y = sympy.symbols("x y")
    terms = [sympy.sympify(t.replace("^", "**"), locals={"x": X, "y": Y})
             for t in _top_level_terms(text)]
    assert sympy.expand(sum(terms) - sc.to_sympy(e)) == 0  # the split found every term
    degrees = [sympy.Poly(t, X, Y).total_degree() for t in terms]
    assert degrees == sorted(degrees) or degrees == sorted(degrees, reverse=True)
    if text.startswith("-"):  # a leading minus only when reading backwards would not avoid it
        assert terms[-1].could_extract_minus_sign()


# --- decimals print as typed; the numbers stay exact ------------------------------------------------
DECIMALS = [
    ("x + 1e-8", "1e-8 + x", r"10^{-8} + x"), ("3.14159*x", "3.14159*x", r"3.14159 x"),
    ("0.001*x", "0.001*x", r"0.001 x"), ("1.5e-8*x", "1.5e-8*x", r"1.5 \cdot 10^{-8} x"),
    ("-0.3*x", "-0.3*x", r"-0.3 x"), ("x^0.1", "x^0.1", r"x^{0.1}"),
    ("(1e-8)^x", "(1e-8)^x", r"\left(10^{-8}\right)^{x}"), ("x^(1e-6)", "x^(1e-6)", r"x^{10^{-6}}"),
    ("-0.1*(a + b)*c", "-0.1*c*(a + b)", r"-0.1 c \left(a + b\right)"),
    ("x/2", "x/2", r"\frac{x}{2}"), ("2*x/3", "2*x/3", r"\frac{2 x}{3}"),  # shorter as fractions
    ("0.5*x", "x/2", r"\frac{x}{2}"), ("5/128", "5/128", r"\frac{5}{128}"),
    ("12/125", "12/125", r"\frac{12}{125}"), ("2e-5", "2e-5", r"2 \cdot 10^{-5}"),
]


@pytest.mark.parametrize("text, printed, tex", DECIMALS, ids=[f for f, _, _ in DECIMALS])
def test_decimals_print_as_typed(text, printed, tex):
    e = sc.parse(text)
    assert str(e) == printed
    assert sc.parse(printed) is e
    assert sc.latex(e) == tex


def test_decimal_arithmetic_stays_exact():
    assert sc.parse("1e-8") == Fraction(1, 10**8)
    assert sc.parse("3.14159*x") is Fraction(314159, 100000) * x
    assert str(sc.parse("0.1 + 0.2")) == "0.3"
    assert str(sc.diff("0.05*x^2", "x")) == "0.1*x"


@given(st.integers(-10**15, 10**15), st.integers(0, 40), st.integers(0, 40))
def test_numbers_with_a_decimal_expansion_round_trip(numerator, twos, fives):
    value = Fraction(numerator, 2**twos * 5**fives)
    for e in (Num(value), Num(value) * x, x**Num(value), x + Num(value)):
        assert sc.parse(str(e)) is e
    if value.denominator > 1 and value.denominator == 10**(len(str(value.denominator)) - 1):
        assert "/" not in str(Num(value))  # a power of ten below: always a decimal


def test_huge_numbers_print_and_parse_back():
    big = Num(7**50_000)
    assert sc.parse(str(big)) is big
    r = sc.parse("1/" + "3" * 20_000)
    assert sc.parse(str(r)) is r


def test_latex():
    assert sc.latex("sigmoid(x)") == r"\sigma\left(x\right)"
    assert sc.latex("x/2") == r"\frac{x}{2}"
    assert sc.latex("sqrt(x)") == r"\sqrt{x}"
    assert sc.latex("theta_1^2") == r"\theta_{1}^{2}"
    assert sc.latex("x1 + lr") == r"\mathrm{lr} + x_{1}"
    assert sc.latex("exp(x)*sin(x)") == r"e^{x} \sin\left(x\right)"
    assert sc.latex("2*3^x") == r"2 \cdot 3^{x}"
    assert sc.latex("log(x, 2)") == r"\log_{2}\left(x\right)"
    assert sc.parse("x^2")._repr_latex_() == r"$\displaystyle x^{2}$"


def test_latex_special_forms():
    assert sc.latex("exp(x)^2") == r"\left(e^{x}\right)^{2}"
    # not log(e^a + e^b), log(1 + x), e^x - 1: those read back as other nodes (latex=True)
    assert sc.latex("logsumexp(a, b)") == r"\operatorname{logsumexp}\left(a, b\right)"
    assert sc.latex("log1p(x) + expm1(x)") == \
        r"\operatorname{expm1}\left(x\right) + \operatorname{log1p}\left(x\right)"
    # the name sigma times a bracket is no sigmoid
    assert sc.latex("sigma*(1 + x)") == r"\sigma \cdot \left(1 + x\right)"
    assert sc.latex("x_1_2") == r"x_{1,2}" and sc.latex("x_12") == r"x_{12}"
    assert sc.latex("theta_hat") == r"\hat{\theta}" and sc.latex("x_bar_1") == r"\bar{x}_{1}"
    assert sc.latex("y_tilde + z_dot") == r"\tilde{y} + \dot{z}"


# --- every LaTeX output is valid LaTeX ---------------------------------------------------------------
def _latex_corpus() -> list[str]:
    formulas = ["x_1_2 + x_12 + x12 + theta_hat + theta_hat_1 + w_ij + sigma_alpha + lr + x_bar",
                "1/(1 + 1/(1 + 1/x))", "(a/b)/(c/d)", "x^(3/2)/(y + 1)^(1/3)", "x^y^z", "(x^y)^z",
                "exp(exp(x))^2", "exp(x)^(-1/2)", "2^x^2", "(1e-8)^x*x^(1.5e-8)", "-x^-y",
                "sqrt(x)^n", "abs(x)^abs(y)", "log(x, 2)^2 + log(x)^n", "theta_1^2*x_1_2^3",
                "logsumexp(a, b)^2 + logsumexp(a, x^2, exp(y))", "exp(a - logsumexp(a, b))"]
    for fn in sc.REGISTRY.values():
        args = ", ".join(["x", "y", "z"][: fn.min_args])
        formulas += [f"{fn.name}({args})", f"{fn.name}({args})^2", f"{fn.name}({args})^(x + 1)",
                     f"2^{fn.name}({args})", f"{fn.name}(x^2/(y + 1))/{fn.name}(exp(x))"]
    out = []
    for text in formulas:
        try:
            e = sc.parse(text)
        except sc.ParseError:  # sign and heaviside are not in the language's surface; use the registry
            continue
        out.append(sc.latex(e))
        out.append(sc.latex(sc.diff(e, "x")))
    out.append(sc.latex(sc.taylor("sin(x)", {"x": 0}, order=5)))
    return out


def _structurally_valid(tex: str) -> bool:
    depth = 0
    for ch in tex:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    if depth or tex.count(r"\left") != tex.count(r"\right"):
        return False
    # a group followed by two scripts of the same kind: x^{a}^{b}, x_{a}_{b}
    return not re.search(r"\^\{[^{}]*(\{[^{}]*\}[^{}]*)*\}\^|_\{[^{}]*(\{[^{}]*\}[^{}]*)*\}_", tex)


def test_every_latex_output_is_valid_latex():
    corpus = _latex_corpus()
    assert len(corpus) > 100
    for tex in corpus:
        assert _structurally_valid(tex), tex
    assert not _structurally_valid(r"e^{x}^{2}") and not _structurally_valid(r"x_{1}_{2}")
    try:
        from matplotlib.mathtext import MathTextParser
    except ImportError:
        return
    parser = MathTextParser("path")
    for tex in corpus:
        parser.parse(f"${tex}$")  # raises ValueError on invalid LaTeX
    with pytest.raises(ValueError):
        parser.parse(r"$e^{x}^{2}$")


def test_lists_of_results_read_as_formulas():
    g = sc.grad("x^2*y", ["x", "y"])
    assert repr(g) == "[2*x*y, x^2]" and str(g) == "[2*x*y, x^2]"
    assert g._repr_latex_() == ("$\\displaystyle \\begin{pmatrix}\n2 x y \\\\\nx^{2}\n"
                                "\\end{pmatrix}$")
    h = sc.hessian("x^2*y + y^3", ["x", "y"])
    assert repr(h) == "[[2*y, 2*x], [2*x, 6*y]]"
    assert h._repr_latex_() == ("$\\displaystyle \\begin{pmatrix}\n2 y & 2 x \\\\\n2 x & 6 y\n"
                                "\\end{pmatrix}$")
    assert repr(sc.jacobian(["x*y", "sin(x)"], ["x", "y"])) == "[[y, x], [cos(x), 0]]"
    assert repr(sc.jvp(["x*y", "sin(x)"], ["x", "y"], [1, 2])) == "[2*x + y, cos(x)]"
    assert repr(sc.vjp(["x*y", "sin(x)"], ["x", "y"], [1, 1])) == "[y + cos(x), x]"
    assert repr(sc.hvp("x^2*y", ["x", "y"], [1, 0])) == "[2*y, 2*x]"
    # each entry reads back
    assert [sc.parse(t.strip()) for t in repr(g)[1:-1].split(",")] == list(g)


def test_repr_is_informative():
    assert repr(sc.parse("x + 1")) == "Expr('1 + x')"


# random trees over every operator and registry function, built with the operators
names = st.sampled_from([x, y, sc.Symbol("theta_2"), sc.pi, sc.e])
numbers = st.one_of(st.integers(-50, 50), st.fractions(max_denominator=9)).map(Num)


def _apply(fn_and_args):
    fn, args = fn_and_args
    try:
        return fn(*args)
    except (ValueError, ZeroDivisionError):  # log(0) and the like are refused when built
        return args[0]


def _extend(children):
    unary = [f for f in sc.REGISTRY.values() if f.min_args == 1]
    calls = st.tuples(st.sampled_from(unary), st.lists(children, min_size=1, max_size=1)).map(_apply)
    lse = st.lists(children, min_size=2, max_size=3).map(lambda a: sc.logsumexp(*a))
    log2 = st.tuples(st.just(sc.log), st.tuples(children, children)).map(_apply)
    binary = st.tuples(children, children, st.sampled_from("+-*/^")).map(_binary)
    return st.one_of(calls, lse, log2, binary)


def _binary(t):
    a, b, op = t
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return a / b
        return a ** b
    except ZeroDivisionError:
        return a


expressions = st.recursive(st.one_of(names, numbers), _extend, max_leaves=12)


@given(expressions)
def test_print_parse_round_trip(e):
    assert sc.parse(str(e)) is e
    assert sc.latex(e)
