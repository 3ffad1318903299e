"""The source the generated code shares: the Python names of the parameters, and the runtime
helpers a function calls, copied from ``symcalc.compiler.runtime`` (each written once, there),
optionally without annotations.  ``symcalc.compiler.compile`` and
``symcalc.compiler.backends.numexpr_backend`` print with them."""

from __future__ import annotations

import ast
import functools
import inspect
import keyword
import re
import unicodedata
from dataclasses import dataclass
from typing import Optional, Sequence

from . import runtime
from ..errors import SymcalcError
from ..core.expr import Symbol

# Generated code calls the runtime helper NAME as ``_rt.NAME`` (the registry's NumPy forms do too);
# the final source calls it as ``NAME``, defined above the function.  (The literal first, then the
# look-behind: the regex engine then skips to each "_rt." instead of trying every position.)
_HELPER_CALL = re.compile(r"_rt\.(?<![\w.]_rt\.)([A-Za-z]\w*)")

# Names the generated functions refer to: a parameter must not shadow them.
_RESERVED = frozenset({"np", "type", "float", "complex", "isinstance", "FLOAT_FAULTS"} | {name for name, value in vars(runtime).items()
                                if inspect.isfunction(value) and not name.startswith("_")})


def parameter_names(symbols: Sequence[Symbol]) -> dict[Symbol, str]:
    """A valid, distinct Python parameter name for each symbol.

    A plain ASCII name is kept; keywords, names that would shadow ``np``, the runtime helpers or
    the generated ``_``-prefixed temporaries, and non-ASCII names (Python folds some Unicode
    letters together) get an ASCII spelling: ``lambda -> lambda_``, ``θ -> theta_``.
    """
    names: dict[Symbol, str] = {}
    for s in symbols:
        if _usable(s.name):
            names[s] = s.name
    taken = set(names.values())
    for s in symbols:
        if s in names:
            continue
        base = _ascii_spelling(s.name)
        name, k = base, 1
        while name in taken:
            name, k = f"{base}{k}", k + 1
        names[s] = name
        taken.add(name)
    return names


def _usable(name: str) -> bool:
    return (name.isascii() and name.isidentifier() and not keyword.iskeyword(name)
            and not name.startswith("_") and name not in _RESERVED)


def _ascii_spelling(name: str) -> str:
    parts = []
    for ch in name:
        if ch.isascii() and (ch.isalnum() or ch == "_"):
            parts.append(ch)
        elif ch.isalpha():  # e.g. GREEK SMALL LETTER THETA -> theta
            parts.append(unicodedata.name(ch, "v").split()[-1].lower())
    text = "".join(parts).lstrip("_")
    if not text or not text[0].isalpha():
        text = "v" + text
    return text + "_"


# --- the helpers' source, copied from symcalc.compiler.runtime ----------------------------------
@dataclass
class _Statement:
    """A top-level statement of ``symcalc.compiler.runtime``: its text (with the comment just above
    it), the names it binds and the other names it reads (every name it spells, but attributes),
    read from its ``code`` (strings and comments blanked) when first asked."""

    text: str
    binds: frozenset[str]
    kind: str  # "import", "definition" (a function or class) or "assignment"
    code: str = ""
    known_reads: Optional[frozenset[str]] = None

    @property
    def reads(self) -> frozenset[str]:
        if self.known_reads is None:
            self.known_reads = _read_names(self.code) - self.binds
        return self.known_reads

    @functools.cached_property
    def plain(self) -> tuple[str, frozenset[str]]:
        """The text without annotations, and the names it reads."""
        if self.kind == "import":
            return self.text, self.reads
        text = _without_annotations(self.text)
        return text, _read_names(_LITERAL.sub(_blanked, text)) - self.binds


# Read once per process, the module is split into statements by scanning its lines, not by
# parsing it (several times slower); tests/compiler/test_helper_source.py checks the split against ast.
# A string literal (an f-string, whose braces read names, is kept whole) or a comment:
_LITERAL = re.compile(r"""(?=[#"'rbufRBUF])(?:#[^\n]*|(?<!\w)(?i:[rbuf]{0,2})"""
                      r"""("{3}[\s\S]*?"{3}|'{3}[\s\S]*?'{3}"""
                      r"""|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'))""")
_NAME = re.compile(r"(?<![\w.])[A-Za-z_]\w*")
_IMPORT = re.compile(r"(?<![\w.])(?:from\s+\S+\s+)?import\s[^\n]*")
_CLAUSE = re.compile(r"(?:else|elif|except|finally)\b")
_COLUMN_0 = re.compile(r"^[^\s#)\]}]", re.MULTILINE)  # a line beginning in column 0
_DEFINED = re.compile(r"(?:async\s+)?(?:def|class)\s+(\w+)")
_TARGETS = re.compile(r"(?:[A-Za-z_]\w*\s*=(?!=)\s*)+")
_TARGET = re.compile(r"([A-Za-z_]\w*)\s*(?::|(?:[-+*/%&|^@]|//|\*\*|>>|<<)=)")


def _blanked(match: re.Match) -> str:
    """A comment as ``#``; a string as its first and last characters around blank lines (as
    many line breaks as it has), so that no line within it begins a statement."""
    text = match.group()
    if text[0] == "#":
        return "#"
    if "f" in text[:len(text) - len(match.group(1))].lower():
        return text
    return text[0] + " " + "\n" * text.count("\n") + " " + text[-1]


def _statement_lines(code: str) -> list[tuple[int, int]]:
    """(first, end) line indices of each top-level statement of ``code`` (strings and comments
    blanked): a statement starts at a line that begins in column 0 outside brackets, and ends at
    its last line with code."""
    starts: list[int] = []
    depth, line, last = 0, 0, 0
    for candidate in _COLUMN_0.finditer(code):
        at = candidate.start()
        part = code[last:at]
        depth += (part.count("(") + part.count("[") + part.count("{")
                  - part.count(")") - part.count("]") - part.count("}"))
        line += part.count("\n")
        last = at
        before = code[code.rfind("\n", 0, at - 1) + 1:at - 1] if at else ""
        if (depth == 0 and not before.rstrip().endswith("\\") and not _CLAUSE.match(code, at)
                and not (starts and before.startswith("@"))):
            starts.append(line)
    lines = code.split("\n")
    spans = []
    for first, following in zip(starts, starts[1:] + [len(lines)]):
        end = following
        while end > first + 1 and lines[end - 1].strip() in ("", "#"):
            end -= 1
        spans.append((first, end))
    return spans


@functools.lru_cache(maxsize=None)
def _runtime_statements() -> tuple[_Statement, ...]:
    text = inspect.getsource(runtime)
    lines = text.splitlines()
    blanked = _LITERAL.sub(_blanked, text)
    code = blanked.split("\n")
    statements = []
    previous_end = 0
    for start, end in _statement_lines(blanked):
        first = start
        while (first > previous_end and lines[first - 1].startswith("#")
               and not lines[first - 1].startswith("# ---")):
            first -= 1  # the comment that explains the statement
        previous_end = end
        statement = "\n".join(code[start:end])
        head = next(line for line in code[start:end] if not line.startswith("@"))
        if head[0] in "\"'" or head.startswith("from __future__ "):
            continue  # the module's docstring; the future import
        if head.startswith(("import ", "from ")):
            kind, binds = "import", _imported_names(statement)
        elif _DEFINED.match(head):
            kind, binds = "definition", frozenset({_DEFINED.match(head).group(1)})
        else:
            kind, binds = "assignment", _assigned_names(head)
        statements.append(_Statement("\n".join(lines[first:end]), binds, kind, statement))
    return tuple(statements)


def _read_names(statement: str) -> frozenset[str]:
    """The names ``statement`` spells, but attributes and the names of its imports."""
    return frozenset(_NAME.findall(_IMPORT.sub("", statement) if "import" in statement
                                   else statement))


def _imported_names(statement: str) -> frozenset[str]:
    names = statement.split(" import ", 1)[1] if statement.startswith("from ") else statement[7:]
    bound = set()
    for part in names.replace("(", " ").replace(")", " ").replace("\\", " ").split(","):
        words = part.split()
        if words:
            bound.add(words[-1] if len(words) == 3 and words[1] == "as" else words[0].split(".")[0])
    return frozenset(bound)


def _assigned_names(head: str) -> frozenset[str]:
    """The names an assignment (``a = b = ...``, ``a: T = ...``, ``a += ...``) binds."""
    chain = _TARGETS.match(head)
    if chain:
        return frozenset(name.strip() for name in chain.group().split("=")[:-1])
    single = _TARGET.match(head)
    if single and not keyword.iskeyword(single.group(1)):
        return frozenset({single.group(1)})
    if head.startswith("for "):
        target = head[4:].split(" in ", 1)[0].strip()
        return frozenset({target} if target.isidentifier() else ())
    return frozenset()


@functools.lru_cache(maxsize=None)
def helper_source(names: tuple[str, ...], plain: bool = False) -> str:
    """The imports and the source of the ``symcalc.compiler.runtime`` helpers ``names`` and of
    everything they use, in the module's order: the top of a standalone generated file.  ``plain``:
    without annotations (so without the names only they need).  Where symcalc is installed without
    its source files, the helpers are imported from ``symcalc.compiler.runtime``."""
    try:
        statements = _runtime_statements()
    except OSError:
        imported = f"\nfrom symcalc.compiler.runtime import {', '.join(names)}" if names else ""
        return f"import numpy as np{imported}\n"
    defined = set().union(*(s.binds for s in statements))
    unknown = sorted(set(names) - defined)
    if unknown:
        raise SymcalcError(f"generated code calls {', '.join(unknown)}, "
                           "which symcalc.compiler.runtime lacks")
    wanted, needed = {"np", *names}, set()
    while wanted:
        name = wanted.pop()
        for k, s in enumerate(statements):
            if name in s.binds and k not in needed:
                needed.add(k)
                wanted |= (s.plain[1] if plain else s.reads) & defined
    chosen = [(s.kind, s.plain[0] if plain else s.text) for k, s in enumerate(statements)
              if k in needed]
    imports = [text for kind, text in chosen if kind == "import"]
    standard = [text for text in imports if "numpy" not in text]
    numpy = [text for text in imports if "numpy" in text]
    parts = [] if plain else ["from __future__ import annotations"]
    parts += ["\n".join(g) for g in (standard, numpy) if g]
    helpers = [(kind, text) for kind, text in chosen if kind != "import"]
    if helpers:
        parts.append("\n# Helpers from symcalc.compiler.runtime: this file needs only NumPy.\n"
                     + _module_spacing(helpers))
    return "\n\n".join(parts) + "\n"


def _module_spacing(statements: list[tuple[str, str]]) -> str:
    """The statements (kind, text) joined as in a module: two blank lines around a function or
    class."""
    out = statements[0][1]
    for (before, _), (kind, text) in zip(statements, statements[1:]):
        apart = "definition" in (before, kind)
        out += ("\n\n\n" if apart else "\n") + text
    return out


_EQUALS = re.compile(r"\s*=\s*")


def _without_annotations(text: str) -> str:
    """``text``, a top-level statement, without the annotations of its parameters and return
    values (``rows: int = 1`` -> ``rows=1``) and of its annotated assignments (``a: T = v`` ->
    ``a = v``): what needs no ``typing`` import."""
    starts = [0]
    for line in text.split("\n"):
        starts.append(starts[-1] + len(line) + 1)

    def at(line: int, column: int) -> int:  # runtime.py is ASCII: columns are characters
        return starts[line - 1] + column

    cuts: list[tuple[int, int, str]] = []  # (start, end, replacement)
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            defaults = a.posonlyargs + a.args
            defaulted = set(map(id, defaults[len(defaults) - len(a.defaults):]))
            defaulted |= {id(arg) for arg, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None}
            for arg in [*a.posonlyargs, *a.args, a.vararg, *a.kwonlyargs, a.kwarg]:
                if arg is None or arg.annotation is None:
                    continue
                start = at(arg.lineno, arg.col_offset) + len(arg.arg)
                end = at(arg.annotation.end_lineno, arg.annotation.end_col_offset)
                equals = _EQUALS.match(text, end) if id(arg) in defaulted else None
                cuts.append((start, equals.end(), "=") if equals else (start, end, ""))
            if node.returns is not None:
                arrow = text.rindex("->", 0, at(node.returns.lineno, node.returns.col_offset))
                end = at(node.returns.end_lineno, node.returns.end_col_offset)
                cuts.append((len(text[:arrow].rstrip()), end, ""))
        elif isinstance(node, ast.AnnAssign) and node.value is not None and node.simple:
            start = at(node.target.end_lineno, node.target.end_col_offset)
            end = at(node.annotation.end_lineno, node.annotation.end_col_offset)
            cuts.append((start, end, ""))
    for start, end, replacement in sorted(cuts, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text
