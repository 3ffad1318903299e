"""The expression language: precedence, numbers, names, functions and every error case."""

import time
from fractions import Fraction

import pytest

import symcalc as sc
from symcalc.core.expr import Num, Pow

pytestmark = pytest.mark.usefixtures("parser_engine")  # each test with both parsers

x, y, z, a, b, c, n = sc.symbols("x y z a b c n")

# Each formula and the tree it must give, built independently with Python operators.
PRECEDENCE = [
    ("1 + 2*3", Num(7)),
    ("(1 + 2)*3", Num(9)),
    ("2^3^2", Num(512)),  # right-associative: 2^(3^2)
    ("(2^3)^2", Num(64)),
    ("2**3**2", Num(512)),
    ("x^y^z", x ** (y ** z)),
    ("(x^y)^z", (x**y) ** z),
    ("-x^2", -(x**2)),
    ("(-x)^2", x**2),
    ("-2^2", Num(-4)),
    ("a - b - c", a - b - c),
    ("a - (b - c)", a - b + c),
    ("a/b/c", a / (b * c)),
    ("a/(b/c)", a * c / b),
    ("a*b/c", (a * b) / c),
    ("a + b*c", a + (b * c)),
    ("a*b + c", (a * b) + c),
    ("a*b^2", a * b**2),
    ("(a*b)^2", a**2 * b**2),
    ("a^-1", 1 / a),
    ("a^-b", a ** (-b)),
    ("x - -y", x + y),
    ("x + -y", x - y),
    ("+x", x),
    ("--x", x),
    ("2x", 2 * x),
    ("2x^2", 2 * x**2),
    ("3(x + 1)", 3 * x + 3),
    ("2 sin(x)", 2 * sc.sin(x)),
    ("-2x", -2 * x),
    ("2(x)^2", 2 * x**2),
    ("x/2*y", x * y / 2), ("x/(2y)", x / (2 * y)),  # x/2y has two readings: see below
    # an implicit product binds as "*" does, never tighter than "^": x^2y is x^2*y
    ("x^2y", x**2 * y),
    ("x^2 y", x**2 * y),
    ("x^2y + xy^2", x**2 * y + sc.symbols("xy") ** 2),  # xy is one name
    ("2x^2y^3z", 2 * x**2 * y**3 * z),
    ("x^-2y", y / x**2),
    ("x^2(x + 1)", x**2 * (x + 1)),
    ("x^2 sin(x)", x**2 * sc.sin(x)),
    ("2^3^2x", 512 * x),
    ("e^2x", sc.exp(2) * x),
    ("x/x^2*y", y / x), ("x/y^2 + z", x / y**2 + z),
    ("x^(2y)", x ** (2 * y)),
    ("-x^2y", -(x**2 * y)),
    ("1/3", Num(Fraction(1, 3))),
    ("0.5", Num(Fraction(1, 2))),
    (".25", Num(Fraction(1, 4))),
    ("3.", Num(3)),
    ("1e-3", Num(Fraction(1, 1000))),
    ("2.5E+4", Num(25000)),
    ("2e3x", 2000 * x),
    ("sin(x)^2", sc.sin(x) ** 2),
    ("sin(x^2)", sc.sin(x**2)),
    ("e^x", sc.exp(x)),
    ("2^x", Num(2) ** x),
    ("log(x, 2)", sc.log(x, 2)),
    ("ln(x)", sc.log(x)),
    ("sqrt(x)", x ** Fraction(1, 2)),
    ("logsumexp(a, b, c)", sc.logsumexp(a, b, c)),
    ("x\n +\n y", x + y),
    ("x^2 + 2*x*y + y^2", x**2 + 2 * x * y + y**2),
]


@pytest.mark.parametrize("text, tree", PRECEDENCE, ids=[t for t, _ in PRECEDENCE])
def test_precedence_and_associativity(text, tree):
    assert sc.parse(text) is tree


def test_table_is_large_enough():
    assert len(PRECEDENCE) >= 30


def test_parser_and_operators_build_the_same_objects():
    assert sc.parse("x^2 + 1") is x**2 + 1
    assert sc.parse("x^2 + 1") == x**2 + 1
    assert hash(sc.parse("sin(x)*y")) == hash(y * sc.sin(x))


def test_huge_integers_stay_exact():
    digits = "1234567890" * 1000
    e = sc.parse(digits + "*x")
    expected = sum(int(digits[i:i + 1000]) * 10 ** (9000 - i) for i in range(0, 10_000, 1000))
    assert isinstance(e.args[0], Num) and e.args[0].value == expected
    assert sc.parse(str(e)) is e


def test_names_and_greek_letters():
    assert sc.parse("θ") is sc.parse("theta")
    assert sc.parse("θ_1 + w_ij + x1") == sc.Symbol("theta_1") + sc.Symbol("w_ij") + sc.Symbol("x1")
    assert sc.parse("pi") is sc.pi and sc.parse("π") is sc.pi
    assert sc.parse("e") is sc.e


def test_every_registry_function_parses():
    for name, fn in sc.REGISTRY.items():
        args = ", ".join(["x"] * fn.min_args)
        e = sc.parse(f"{name}({args})")
        assert sc.parse(str(e)) is e


def test_oversized_powers_stay_symbolic_and_fast():
    start = time.perf_counter()
    e = sc.parse("9^9^9")
    f = sc.parse("10^10^10^10")
    assert time.perf_counter() - start < 1.0
    assert isinstance(e, Pow) and e.args[0] is Num(9)
    assert isinstance(f, Pow)
    assert sc.parse(str(e)) is e and sc.parse(str(f)) is f


# --- errors ----------------------------------------------------------------------------------
def error_of(text):
    with pytest.raises(sc.ParseError) as info:
        sc.parse(text)
    return info.value


def test_parse_error_is_a_value_error_with_position_and_caret():
    err = error_of("x + * y")
    assert isinstance(err, ValueError)
    assert (err.line, err.column) == (1, 5)
    assert err.expected
    lines = str(err).splitlines()
    assert lines[1].strip() == "x + * y"
    assert lines[2].index("^") == lines[1].index("*")


def test_multiline_position():
    err = error_of("x +\n  y +\n  )")
    assert (err.line, err.column) == (3, 3)
    assert "  )" in str(err)


def test_unknown_function_suggests_the_nearest():
    err = error_of("sinn(x)")
    assert "unknown function sinn" in str(err) and "did you mean sin?" in str(err)
    assert "did you mean sigmoid?" in str(error_of("sigmod(x)"))
    assert "did you mean logsumexp?" in str(error_of("logsumexpp(a, b)"))


@pytest.mark.parametrize("text, suggestion", [
    ("ReLU(x)", "relu"), ("Sigmoid(x)", "sigmoid"), ("TANH(x)", "tanh"), ("SoftPlus(x)", "softplus"),
    ("Sigmod(x)", "sigmoid"),
    ("σ(x)", "sigmoid"), ("sigma(x)", "sigmoid"),  # σ: the usual name of the logistic sigmoid
])
def test_unknown_function_suggestion_ignores_case_and_knows_usual_names(text, suggestion):
    assert f"did you mean {suggestion}?" in error_of(text).reason


@pytest.mark.parametrize("text, spelling", [
    ("sin^2(x)", "write sin(x)^2 for a power of it"),
    ("sin**2 (x + 1)", "write sin(x + 1)^2 for a power of it"),
    ("tanh²(x)", "write tanh(x)^2 for a power of it"),
    ("cos^(3)(2*x)", "write cos(2*x)^3 for a power of it"),
    ("sin^-1(x)", "write asin(x) for the inverse function, or sin(x)^(-1) for 1/sin(x)"),
    ("tan⁻¹(x)", "write atan(x) for the inverse function"),
    ("exp^-1(x)", "write exp(x)^(-1) for a power of it"),
    ("sin + 1", "sin is a function: write sin(...)"),
])
def test_a_power_written_on_a_function_name_gets_its_spelling(text, spelling):
    err = error_of(text)
    assert spelling in err.reason and err.column == 1


@pytest.mark.parametrize("text", ["A@t", "x.T", "x.T@y"])
def test_matrix_syntax_without_shapes_says_how_to_declare_them(text):
    err = error_of(text)
    assert "shapes=" in err.reason and 'shapes={"A": "m,n", "t": "n"}' in err.reason
    assert text[err.column - 1] in "@."


def test_two_names_side_by_side_explains_the_product():
    err = error_of("x y")
    assert "x*y" in str(err) and err.column == 3
    assert "x*sin" in str(error_of("x sin(x)"))


def test_function_without_parentheses():
    assert "sin needs parentheses" in str(error_of("sin x"))
    assert "sin is a function" in str(error_of("sin + 1"))


def test_wrong_arity_names_function_and_arity():
    assert "sin takes 1 argument, got 2" in str(error_of("sin(x, y)"))
    assert "log takes 1 or 2 arguments, got 3" in str(error_of("log(x, 2, 3)"))
    with pytest.raises(TypeError, match="sigmoid takes 1 argument"):
        sc.sigmoid(x, y)


def test_other_syntax_errors():
    assert "end of the formula" in str(error_of("x +"))
    assert "unexpected character '$'" in str(error_of("x $ y"))
    assert "empty formula" in str(error_of("   "))
    assert "division by zero" in str(error_of("x/0"))
    assert "unexpected" in str(error_of("(x + 1"))
    assert "unexpected" in str(error_of("x + 1)"))
    assert "names start with a letter" in str(error_of("_x + 1"))
    assert "two numbers" in str(error_of("2 3"))
    assert "missing operator" in str(error_of("(x)(y)"))


def test_non_string_input_is_a_type_error():
    with pytest.raises(TypeError):
        sc.parse(3.5)
    with pytest.raises(TypeError):
        sc.parse(None)


def test_deep_parentheses_and_long_input_finish_quickly():
    start = time.perf_counter()
    assert sc.parse("(" * 10_000 + "x" + ")" * 10_000) is x
    deep = sc.parse("sin(" * 10_000 + "x" + ")" * 10_000)
    assert deep.depth == 10_001
    assert sc.parse(str(deep)) is deep
    long_sum = sc.parse(" + ".join(f"x{i % 50}" for i in range(100_000)))
    assert len(long_sum.args) == 50
    assert time.perf_counter() - start < 30
    err = error_of("(" * 10_000 + "x" + ")" * 9_999)
    assert "end of the formula" in str(err)


def test_long_error_lines_show_a_window():
    text = "x + " * 50_000 + "$"
    err = error_of(text)
    shown = str(err).splitlines()[1]
    assert len(shown) < 200 and shown.rstrip().endswith("$...")


@pytest.mark.parametrize("text, typed, first, factor", [
    ("x/2y", "/2y", "2", "y"), ("1/2 x^2", "/2 x", "2", "x"), ("1/2pi", "/2pi", "2", "pi"),
    ("x/x^2y", "/x^2y", "x^2", "y"), ("x/2(y + 1)", "/2(y + 1)", "2", "(y + 1)"),
    ("a + x/sin(x)^2y", "/sin(x)^2y", "sin(x)^2", "y"),
])
def test_a_division_before_a_product_side_by_side_is_refused_with_both_readings(text, typed, first, factor):
    with pytest.raises(sc.ParseError) as info:
        sc.parse(text)
    message = str(info.value)
    assert f"'{typed}' has two readings: /{first}*{factor}" in message
    assert f"or /({first}*{factor})" in message
    assert info.value.column == text.index("/") + 1
    with pytest.raises(sc.ParseError, match="two readings"):  # the same in shaped formulas
        sc.parse(text, shapes={"t": "n"})


def test_the_division_check_reads_long_numbers_in_linear_time_and_as_the_lexer_does():
    digits = "3" * 50000
    assert sc.parse(f"x/{digits}.{digits}e5") is not None  # one number, exponent and all
    assert sc.parse("x/2.5e3") is sc.parse("x/2500")
    with pytest.raises(sc.ParseError, match="two readings") as info:
        sc.parse("1/" + "7" * 100000 + "x")
    assert len(str(info.value).splitlines()[0]) < 300  # the number is shortened in the message
