"""Formulas as people paste them: superscripts, subscripts, roots, Unicode operators.

Each Unicode spelling must parse to the very node its ASCII spelling gives (the ASCII grammar is
tested elsewhere); derivatives of pasted formulas are checked with the oracle; a parse error in
pasted text puts its caret under the character the user typed.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

import symcalc as sc
from oracle import check_derivative
from strategies import formulas
from symcalc.language.unicode import normalise

pytestmark = pytest.mark.usefixtures("parser_engine")  # each test with both parsers

SAME_AS = [
    ("x²", "x^2"),
    ("x³ + x²", "x^3 + x^2"),
    ("x⁻¹", "x^(-1)"),
    ("x⁻²·y", "x^(-2)*y"),
    ("(x+1)²", "(x+1)^2"),
    ("x¹⁰", "x^10"),
    ("3x²", "3*x^2"),
    ("-x²", "-(x^2)"),
    ("sin(x)²", "sin(x)^2"),
    ("e^x²", "e^(x^2)"),
    ("x⁽ⁿ⁺¹⁾", "x^(n+1)"),
    ("x²y", "x^2*y"),  # a factor right after a superscript multiplies, as x^2y does
    ("x² y", "x^2*y"),
    ("x²(x+1)", "x^2*(x+1)"),
    ("eˣy", "e^x*y"),
    ("x₁", "x_1"),
    ("w₁₂", "w_12"),
    ("x₁² + x₂²", "x_1^2 + x_2^2"),
    ("θ₁", "theta_1"),
    ("xᵢ", "x_i"),
    ("µ", "μ"),  # micro sign is the Greek letter mu
    ("µ", "mu"),
    ("ϵ", "epsilon"),
    ("𝑥² + 𝑦", "x^2 + y"),  # italic letters from rendered math
    ("√x", "sqrt(x)"),
    ("√(x+1)", "sqrt(x+1)"),
    ("√ (x+1)", "sqrt(x+1)"),
    ("2√x", "2*sqrt(x)"),
    ("√2", "sqrt(2)"),
    ("√2x", "sqrt(2)*x"),
    ("√x²", "sqrt(x^2)"),
    ("√sin(x) + 1", "sqrt(sin(x)) + 1"),
    ("a·b", "a*b"),
    ("a⋅b", "a*b"),
    ("a×b", "a*b"),
    ("a÷b", "a/b"),
    ("a − b", "a - b"),  # U+2212 minus sign
    ("a – b", "a - b"),  # en dash
    ("−x²", "-x^2"),
    ("½x", "x/2"),
    ("x + ¾", "x + 3/4"),
    ("１２x", "12*x"),  # full-width digits
]


@pytest.mark.parametrize("pasted, ascii_text", SAME_AS)
def test_pasted_unicode_means_its_ascii_spelling(pasted, ascii_text):
    e = sc.parse(pasted)
    assert e is sc.parse(ascii_text)
    assert sc.parse(str(e)) is e


def test_full_width_letters_stay_distinct_names():
    assert sc.parse("ｘ") is not sc.parse("x")


@pytest.mark.parametrize("pasted, variable", [
    ("x²+x", "x"), ("(x+1)² · sin(x)", "x"), ("x⁻¹ − √x", "x"), ("w₁₂·x³", "x"),
    ("√(x²+1)", "x"), ("x₁²·x₂", "x_1"),
])
def test_derivatives_of_pasted_formulas(pasted, variable):
    e = sc.parse(pasted)
    check_derivative(e, (variable,), sc.diff(e, variable), domain=(0.2, 1.5))


def test_the_command_line_differentiates_a_pasted_square():
    out = subprocess.run([sys.executable, "-m", "symcalc", "diff", "x²+x", "x"],
                         capture_output=True, text=True, timeout=60, encoding="utf-8")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1 + 2*x"


def test_variable_names_are_read_like_the_formula():
    assert sc.symbols("x₁") is sc.Symbol("x_1")
    assert sc.diff("x₁²", "x₁") is sc.parse("2*x_1")
    with pytest.raises(ValueError):
        sc.symbols("x²")


@pytest.mark.parametrize("text, column, char", [
    ("x² y z", 6, "z"),  # missing operator: the caret under z, counted as typed, not as x^(2)*y
    ("x²+)", 4, ")"),
    ("x⁻¹ + √(x+1)) ", 13, ")"),
    ("−x₁² + $", 8, "$"),
    ("√x·µ·sin x", 10, "x"),
    ("a − ", 5, None),  # end of the formula: one past the last character typed
    ("x⁺", 2, "⁺"),  # a superscript plus with no exponent
    ("½ ½", 3, "½"),
])
def test_errors_point_into_the_text_as_typed(text, column, char):
    with pytest.raises(sc.ParseError) as info:
        sc.parse(text)
    error = info.value
    assert error.text == text and error.line == 1
    assert error.column == column, str(error)
    if char is not None:
        assert text[error.column - 1] == char
    caret_line = str(error).split("\n")[-1]
    assert caret_line.index("^") - 2 == column - 1


def test_errors_on_later_lines_are_mapped_too():
    with pytest.raises(sc.ParseError) as info:
        sc.parse("x² +\n  y³ )")
    assert (info.value.line, info.value.column) == (2, 6)


def test_the_position_map_covers_every_character():
    text = "√(x₁²+1)·½ − µ"
    plain, origin = normalise(text)
    assert len(origin) == len(plain)
    assert origin == sorted(origin) and all(0 <= k < len(text) for k in origin)
    assert plain.isascii() is False  # μ stays Greek; the parser spells it out
    assert sc.parse(text) is sc.parse("sqrt(x_1^2 + 1)/2 - mu")


# --- random formulas, pasted ----------------------------------------------------------------------
SUPERSCRIPT_DIGITS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _pasted(text: str) -> str:
    """The formula as it might come from a document: superscript powers, · for *, − for -."""
    text = re.sub(r"(\^|\*\*)(\d+)(?![\d.])", lambda m: m.group(2).translate(SUPERSCRIPT_DIGITS), text)
    text = re.sub(r"(?<!\*)\*(?!\*)", "·", text)
    return text.replace("-", "\u2212")


@given(formulas(3))
def test_random_formulas_pasted_with_unicode_parse_to_the_same_node(formula):
    assert sc.parse(_pasted(formula.text)) is formula.expr


PASTE_ALPHABET = st.sampled_from(list("x y2(),.+-*/^_") + list("²³⁻⁺⁽⁾¹⁰ⁿ₁₂ᵢ√·×÷−–½µθ𝑥ｘ①\u0301\t\n"))


@given(st.lists(PASTE_ALPHABET, max_size=20).map("".join))
def test_any_pasted_text_parses_or_fails_cleanly_with_a_caret_inside_it(text):
    try:
        e = sc.parse(text)
    except sc.ParseError as error:
        lines = text.split("\n")
        assert 1 <= error.line <= len(lines)
        assert 1 <= error.column <= len(lines[error.line - 1]) + 1
    except (TypeError, ValueError) as error:  # e.g. a wrong number of arguments
        raise AssertionError(f"not a ParseError: {error!r}") from None
    else:
        assert sc.parse(str(e)) is e
