"""Parser fuzzing: random text, and valid formulas broken by token-level mutations.

Whatever the input, ``symcalc.parse`` either returns an expression or raises ``ParseError``
(a ``ValueError``) - never another exception - and it finishes within ``BOUND`` seconds.  What
does parse must print back to itself and differentiate, or refuse with a clear ``ValueError``.
"""

from __future__ import annotations

import re
import time

from hypothesis import given
from hypothesis import strategies as st

import symcalc as sc
from strategies import formulas

BOUND = 2.0  # seconds for one input (inputs here are at most a few hundred characters)

TOKEN = re.compile(r"\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+|[^\W\d]\w*|\*\*|\S")
VOCABULARY = [
    "x", "y", "2", "0", "1.5", "1e-3", "pi", "e", "θ", "+", "-", "*", "/", "^", "**", "(", ")",
    ",", *sorted(sc.REGISTRY), "ln", "_", ".", "'", '"', "\\", "=", "[", "]", "{", "}", "!", "@",
    "#", "$", "%", "&", "|", "~", "`", ";", ":", "?", "<", ">", "\n", " ", "\t", "\x00", "é", "∑",
]
CORPUS = [
    "sin(x)*exp(x)", "sigmoid(w*x + b)", "logsumexp(a, b, c)", "log(x, 2) + ln(y)",
    "x^2*y + y^3", "-x^2", "2^3^2", "2x + 3(x + 1) - 2 sin(x)", "sqrt(1 + x**2)/abs(y)",
    "tanh(theta_2)^2 + θ", "asin(x/2) + acos(y/3) - atan(x*y)", "erf(x)*relu(x - 1)*softplus(x)",
    "1.5e-3*x + .5 - 3.", "exp(-(x - mu)^2/(2*sigma^2))", "cosh(x)^2 - sinh(x)^2",
    "0^x + x^(0^y)", "4^(1/2^200)*x", "1e99999999999*x",
]


def parse_or_parse_error(text: str):
    """Parse ``text``; the only exception allowed is ParseError.  Returns the Expr or None."""
    start = time.perf_counter()
    try:
        result = sc.parse(text)
    except sc.ParseError as error:
        assert isinstance(error, ValueError)
        assert error.line >= 1 and error.column >= 1
        assert "^" in str(error)  # the caret under the fault
        result = None
    elapsed = time.perf_counter() - start
    assert elapsed < BOUND, f"{text!r} took {elapsed:.2f} s"
    if result is not None:
        assert isinstance(result, sc.Expr)
        assert sc.parse(str(result)) is result
        for symbol in sorted(result.free_symbols, key=lambda s: s.name)[:2]:
            try:  # a clear ValueError is allowed: d/dx 0^x needs log(0)
                assert isinstance(sc.diff(result, symbol), sc.Expr)
            except ValueError as error:
                assert not isinstance(error, sc.ParseError) and str(error)
    return result


@given(st.text(max_size=80))
def test_random_text(text):
    parse_or_parse_error(text)


@given(st.lists(st.sampled_from(VOCABULARY), max_size=25).map("".join))
def test_random_token_soup(text):
    parse_or_parse_error(text)


def _mutate(tokens: list[str], data) -> list[str]:
    """One random edit: delete, duplicate, swap or insert tokens."""
    tokens = list(tokens)
    kind = data.draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "replace"]))
    if not tokens:
        return [data.draw(st.sampled_from(VOCABULARY))]
    i = data.draw(st.integers(0, len(tokens) - 1))
    if kind == "delete":
        del tokens[i]
    elif kind == "duplicate":
        tokens.insert(i, tokens[i])
    elif kind == "swap":
        j = data.draw(st.integers(0, len(tokens) - 1))
        tokens[i], tokens[j] = tokens[j], tokens[i]
    elif kind == "insert":
        tokens.insert(i, data.draw(st.sampled_from(VOCABULARY)))
    else:
        tokens[i] = data.draw(st.sampled_from(VOCABULARY))
    return tokens


@given(st.one_of(st.sampled_from(CORPUS), formulas().map(lambda f: f.text)), st.data())
def test_mutated_formulas(text, data):
    tokens = TOKEN.findall(text)
    for _ in range(data.draw(st.integers(1, 3))):
        tokens = _mutate(tokens, data)
    separator = data.draw(st.sampled_from(["", " "]))
    parse_or_parse_error(separator.join(tokens))


def test_the_corpus_parses():
    for text in CORPUS:
        assert parse_or_parse_error(text) is not None, text
