"""The two parser engines, lark-cython (the ``fast`` extra) and pure Lark, read every text alike:
the same node for a formula, the same ParseError (message, line, column, caret, expected tokens)
for a faulty one.  ``SYMCALC_PURE_PARSER=1`` forces the pure engine."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

import symcalc as sc
from symcalc.language import parser

needs_cython = pytest.mark.skipif(parser.lark_cython is None, reason="lark-cython is not installed")

# pieces that make valid formulas, syntax errors, unknown functions, unicode and bad characters
PIECES = ["x", "y", "2", "3.5", "1e3", ".5", "0", "sin", "f", "exp", "sinn", "log", "atan2", "pi",
          "θ", "x₁", "²", "√", "·", "−", "(", ")", ",", "+", "-", "*", "/", "^", "**", " ", "\n",
          "$", "_", "f_1", "2x", "@"]


def outcome(text: str, functions=()):
    try:
        return "ok", sc.parse(text, functions=functions)
    except sc.ParseError as e:
        return "error", str(e), e.line, e.column, e.expected
    except sc.SymcalcError as e:  # e.g. a value error from a constructor
        return type(e).__name__, str(e)


def both_engines(text: str, functions=()):
    results = []
    for fast in (True, False):
        saved = parser.USE_LARK_CYTHON
        parser.USE_LARK_CYTHON = fast
        try:
            results.append(outcome(text, functions))
        finally:
            parser.USE_LARK_CYTHON = saved
    return results


@needs_cython
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=9), st.booleans())
def test_engines_agree_on_random_texts(pieces, abstract):
    fast, pure = both_engines("".join(pieces), ("f", "g") if abstract else ())
    assert fast == pure


@needs_cython
@pytest.mark.parametrize("text", ["x $ y", "(x + 1", "x + 1)", "x y", "sin x", "x +", "2 3",
                                  "f(x,)", "_a", "x\n+ )", "x/0", "sinn(x)", "θ θ", "x²y z",
                                  "(" * 3000 + "x", "1" * 5000 + " 2"])
def test_engines_agree_on_errors(text):
    fast, pure = both_engines(text)
    assert fast[0] == "error" and fast == pure


@needs_cython
def test_the_fast_engine_is_lark_cython():
    saved = parser.USE_LARK_CYTHON
    try:
        parser.USE_LARK_CYTHON = True
        assert type(parser._get_parser().parser.parser).__module__.startswith("lark_cython")
        parser.USE_LARK_CYTHON = False
        assert type(parser._get_parser().parser.parser).__module__.startswith("lark.")
    finally:
        parser.USE_LARK_CYTHON = saved


def test_environment_variable_forces_the_pure_engine():
    code = "from symcalc.language import parser; print(parser.USE_LARK_CYTHON, parser.parse('2x^2'))"
    env = dict(os.environ, SYMCALC_PURE_PARSER="1")
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    assert run.stdout.split() == ["False", "2*x^2"]
