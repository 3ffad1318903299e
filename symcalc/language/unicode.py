"""Formulas as people paste them: Unicode spellings rewritten into the ASCII symcalc language.

``normalise`` rewrites the text and returns, for every character of the result, the index of the
character of the original text it came from, so a parse error points at what the user typed.

* superscripts are powers: ``x²`` is ``x^(2)``, ``x⁻¹`` is ``x^(-1)``, ``(x+1)¹⁰`` is ``(x+1)^(10)``,
  and a name or ``(`` right after one multiplies, as in print: ``x²y`` is ``x^(2)*y``;
* subscripts index a name: ``x₁`` is ``x_1``, ``w₁₂`` is ``w_12``, ``xᵢ`` is ``x_i``;
* ``√x``, ``√2`` and ``√(x+1)`` are square roots (a superscript on the radicand stays under the
  root, as under a drawn radical: ``√x²`` is ``sqrt(x^2)``);
* ``·`` ``⋅`` ``∙`` ``×`` multiply, ``÷`` and ``∕`` divide, and the minus sign ``−``, the en
  dash ``–`` and the other dashes subtract;
* vulgar fractions are numbers: ``½x`` is ``(1/2)x``;
* other symbols go through NFKC compatibility normalisation (full-width digits and operators,
  circled digits); among letters only the micro sign (``µ`` is the Greek ``μ``), the Greek symbol
  variants (``ϵ`` is ``ε``) and the mathematical alphanumerics (``𝑥`` is ``x``) are folded: other
  letters, such as the full-width ``ｘ``, stay distinct names.

Greek letters are left as they are; the parser spells them out.
"""

from __future__ import annotations

import unicodedata
from typing import Sequence

OPERATORS = {
    "\u00b7": "*", "\u22c5": "*", "\u2219": "*", "\u00d7": "*",  # · ⋅ ∙ ×
    "\u00f7": "/", "\u2215": "/",  # ÷ ∕
    "\u2212": "-", "\u2013": "-", "\u2012": "-", "\u2014": "-", "\u2010": "-", "\u2011": "-",
    "\ufe63": "-", "\uff0d": "-",
}
ROOT = "\u221a"  # √


def _script(ch: str) -> tuple[str, str] | None:
    """('super' or 'sub', the plain character) for a superscript or subscript character."""
    tag, _, code = unicodedata.decomposition(ch).partition(" ")
    if tag in ("<super>", "<sub>") and code and " " not in code:
        return tag[1:-1], chr(int(code, 16))
    return None


class _Writer:
    """Accumulates output text with the original index of each character."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.origin: list[int] = []

    def put(self, text: str, index: int) -> None:
        self.parts.append(text)
        self.origin.extend([index] * len(text))

    def last(self) -> str:
        return self.parts[-1][-1] if self.parts and self.parts[-1] else ""


def normalise(text: str) -> tuple[str, Sequence[int]]:
    """The ASCII-language form of ``text`` and, per character of it, its index in ``text``."""
    if text.isascii():
        return text, range(len(text))
    out = _Writer()
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        script = _script(ch)
        if script is not None:
            kind = script[0]
            j = i
            while j < n and (_script(text[j]) or ("", ""))[0] == kind:
                j += 1
            _write_script(out, text, i, j, kind)
            k = j
            while k < n and text[k].isspace():
                k += 1
            if kind == "super" and k < n and (text[k].isalpha() or text[k] in "(" + ROOT):
                out.put("*", j)  # x²y and x² y: x^(2)*y
            i = j
        elif ch == ROOT:
            i = _write_root(out, text, i)
        elif ch in OPERATORS:
            out.put(OPERATORS[ch], i)
            i += 1
        else:
            j = i + 1
            while j < n and unicodedata.combining(text[j]):  # keep accents with their letter
                j += 1
            plain = text[i:j] if _keeps_its_identity(ch) else unicodedata.normalize("NFKC", text[i:j])
            if "\u2044" in plain:  # a vulgar fraction: ½ -> (1/2), ½x -> (1/2)*x
                plain = "(" + plain.replace("\u2044", "/") + ")"
                if j < n and (text[j].isalpha() or text[j] in "(" + ROOT):
                    plain += "*"
            out.put(plain, i)
            i = j
    return "".join(out.parts), out.origin


def _write_script(out: _Writer, text: str, start: int, end: int, kind: str) -> None:
    if kind == "super":
        out.put("^(", start)
        for k in range(start, end):
            plain = _script(text[k])[1]
            out.put(OPERATORS.get(plain, plain), k)
        out.put(")", end - 1)
        return
    if out.last() != "_":
        out.put("_", start)
    for k in range(start, end):
        out.put(_script(text[k])[1], k)


def _write_root(out: _Writer, text: str, i: int) -> int:
    """Write ``√...`` as ``sqrt(...)``; returns the index after the radicand."""
    n = len(text)
    j = i + 1
    while j < n and text[j] in " \t":
        j += 1
    if j < n and text[j] == "(":  # √(x + 1): the parentheses are the call's
        out.put("sqrt", i)
        return j
    # the radicand: one name (a call with its parentheses) or number, and a superscript on it
    k = j
    if k < n and (text[k].isdigit() or text[k] == "."):  # √2x is sqrt(2)*x
        while k < n and (text[k].isdigit() or text[k] == "."):
            k += 1
    elif k < n and text[k].isalpha():
        while k < n and (text[k].isalnum() or text[k] == "_") and not _is_super(text[k]):
            k += 1
    if k < n and text[k] == "(" and k > j:
        depth = 0
        while k < n:
            depth += {"(": 1, ")": -1}.get(text[k], 0)
            k += 1
            if depth == 0:
                break
    while k < n and _is_super(text[k]):
        k += 1
    if k == j:  # nothing to take the root of: let the parser report it
        out.put("sqrt", i)
        return j
    out.put("sqrt(", i)
    inner, origin = normalise(text[j:k])
    for offset, char in zip(origin, inner):
        out.put(char, j + offset)
    out.put(")", k - 1)
    if k < n and (text[k].isalpha() or text[k] in "(" + ROOT):  # √2x: sqrt(2)*x
        out.put("*", k)
    return k


def _keeps_its_identity(ch: str) -> bool:
    """Letters keep their identity (``ｘ`` is not ``x``) except the micro sign, the Greek symbol
    variants (``ϵ``, ``ϑ``) and the mathematical alphanumerics (italic ``𝑥`` from rendered math),
    which are only other glyphs of one letter."""
    if not unicodedata.category(ch).startswith("L"):
        return False
    code = ord(ch)
    return not (ch == "\u00b5" or 0x3D0 <= code <= 0x3F5 or 0x1D400 <= code <= 0x1D7FF)


def _is_super(ch: str) -> bool:
    script = _script(ch)
    return script is not None and script[0] == "super"
