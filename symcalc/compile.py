"""Naming and compiling: a ``Program`` -> Python source -> a compiled NumPy function.

``codegen`` gives standalone source: NumPy imports, then the helpers of ``symcalc.runtime`` that the
function calls (their source copied from that module, so each is written once), then the function.
``lambdify`` compiles only the function (never any user text: the source was printed from the
expression graph) against the shared runtime helpers, registers the whole source with
``linecache`` so that tracebacks show the generated lines, and returns the function.
"""

from __future__ import annotations

import ast
import functools
import inspect
import itertools
import keyword
import linecache
import re
import unicodedata
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from . import runtime
from .errors import SymcalcError, SymcalcTypeError
from .expr import Symbol
from .matrix import api as _matrix
from .numpy_printer import function_body
from .program import Outputs, Program, program, variable_symbols

# Generated code calls the runtime helper NAME as ``_rt.NAME`` (the registry's NumPy forms do too);
# the final source calls it as ``NAME``, defined above the function.
_HELPER_CALL = re.compile(r"(?<![\w.])_rt\.([A-Za-z]\w*)")

# Names the generated function bodies refer to: a parameter must not shadow them.
_RESERVED = frozenset({"np"} | {name for name, value in vars(runtime).items()
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


# --- the helpers' source, copied from symcalc.runtime ---------------------------------------------
@dataclass(frozen=True)
class _Statement:
    """A top-level statement of ``symcalc.runtime``: its text (with the comment just above it),
    the names it binds and the names it reads."""

    text: str
    binds: frozenset[str]
    reads: frozenset[str]
    kind: str  # "import", "definition" (a function or class) or "assignment"


@functools.lru_cache(maxsize=None)
def _runtime_statements() -> tuple[_Statement, ...]:
    text = inspect.getsource(runtime)
    lines = text.splitlines()
    statements = []
    previous_end = 0
    for node in ast.parse(text).body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        first = start - 1
        while (first > previous_end and lines[first - 1].startswith("#")
               and not lines[first - 1].startswith("# ---")):
            first -= 1  # the comment that explains the statement
        previous_end = node.end_lineno
        is_docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        if is_docstring or (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            continue
        reads = frozenset(n.id for n in ast.walk(node) if isinstance(n, ast.Name))
        kind = ("import" if isinstance(node, (ast.Import, ast.ImportFrom)) else "definition"
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)) else "assignment")
        statements.append(_Statement("\n".join(lines[first:node.end_lineno]), _bound_names(node),
                                     reads, kind))
    return tuple(statements)


def _bound_names(node: ast.stmt) -> frozenset[str]:
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        return frozenset({node.name})
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return frozenset((a.asname or a.name).split(".")[0] for a in node.names)
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return frozenset(t.id for t in targets if isinstance(t, ast.Name))


@functools.lru_cache(maxsize=None)
def helper_source(names: tuple[str, ...]) -> str:
    """The imports and the source of the ``symcalc.runtime`` helpers ``names`` and of everything
    they use, in the module's order: the top of a standalone generated file.  Where symcalc is
    installed without its source files, the helpers are imported from ``symcalc.runtime``."""
    try:
        statements = _runtime_statements()
    except OSError:
        imported = f"\nfrom symcalc.runtime import {', '.join(names)}" if names else ""
        return f"import numpy as np{imported}\n"
    defined = set().union(*(s.binds for s in statements))
    unknown = sorted(set(names) - defined)
    if unknown:
        raise SymcalcError(f"generated code calls {', '.join(unknown)}, which symcalc.runtime lacks")
    wanted, needed = {"np", *names}, set()
    while wanted:
        name = wanted.pop()
        for k, s in enumerate(statements):
            if name in s.binds and k not in needed:
                needed.add(k)
                wanted |= s.reads & defined
    chosen = [s for k, s in enumerate(statements) if k in needed]
    imports = [s.text for s in chosen if s.kind == "import"]
    standard = [text for text in imports if "numpy" not in text]
    numpy = [text for text in imports if "numpy" in text]
    parts = ["from __future__ import annotations"] + ["\n".join(g) for g in (standard, numpy) if g]
    helpers = [s for s in chosen if s.kind != "import"]
    if helpers:
        parts.append("\n# Helpers from symcalc.runtime: this file needs only NumPy.\n"
                     + _module_spacing(helpers))
    return "\n\n".join(parts) + "\n"


def _module_spacing(statements: list[_Statement]) -> str:
    """The statements joined as in a module: two blank lines around a function or class."""
    out = statements[0].text
    for before, statement in zip(statements, statements[1:]):
        apart = "definition" in (before.kind, statement.kind)
        out += ("\n\n\n" if apart else "\n") + statement.text
    return out


# --- source and function -------------------------------------------------------------------------
@dataclass(frozen=True)
class _Generated:
    """The functions' source (helpers called by bare name) and the runtime helpers it calls."""

    text: str
    helpers: tuple[str, ...]

    @property
    def source(self) -> str:
        """Standalone source: imports and helpers, then the functions."""
        return helper_source(self.helpers) + "\n\n" + self.text


def _check_name(name: str) -> None:
    if not (isinstance(name, str) and name.isidentifier() and name.isascii()
            and not keyword.iskeyword(name)):
        raise SymcalcError(f"{name!r} is not a valid function name")
    if name == "np" or name in vars(runtime):
        raise SymcalcError(f"{name!r} is the name of a helper of the generated code; "
                           "choose another function name")


def _generate(programs: Mapping[str, Program]) -> _Generated:
    pieces = []
    for name, prog in programs.items():
        parameters = parameter_names(prog.variables)
        args = ", ".join(parameters[s] for s in prog.variables)
        inner = f"_{name}_body"
        lines = [f"def {inner}({args}{', ' if args else ''}_shape):"]
        lines += ["    " + line for line in function_body(prog, parameters)]
        lines += ["", "", f"def {name}({args}):"]
        lines += [f"    return _rt.evaluate({inner}, {args})" if args else f"    return {inner}(())"]
        pieces.append("\n".join(lines) + "\n")
    text = "\n\n".join(pieces)
    helpers = tuple(sorted(set(_HELPER_CALL.findall(text))))
    return _Generated(_HELPER_CALL.sub(r"\1", text), helpers)


def codegen(exprs: Outputs, variables: Iterable[Symbol | str] | str, name: str = "f",
            backend: str = "numpy") -> str:
    """Readable, standalone Python source of a NumPy function computing ``exprs`` from ``variables``.

    ``exprs`` may be an expression, a formula string, a list or a list of lists (for example a
    gradient or a Hessian); each shared node is computed once, numerically stable forms replace
    overflow-prone patterns, and the function is vectorised over broadcasting array arguments.
    The source needs only NumPy: the helpers it calls are written out above the function.
    ``backend="numexpr"``: the source of ``lambdify``'s numexpr function (needs numexpr too).
    """
    if backend == "numexpr":
        _check_name(name)
        from . import numexpr_backend  # imports numexpr: only when asked for
        return numexpr_backend.codegen(exprs, variables, name)
    if backend != "numpy":
        raise SymcalcError(f"unknown backend {backend!r}: use 'numpy' or 'numexpr'")
    if _matrix.is_shaped(exprs):
        _check_name(name)
        return _matrix.codegen(exprs, variables, name=name)
    return codegen_module({name: exprs}, variables)


def codegen_module(functions: Mapping[str, Outputs], variables: Iterable[Symbol | str] | str) -> str:
    """Standalone source of several functions of the same ``variables`` (name -> outputs), with
    the imports and helpers written once."""
    if not isinstance(functions, Mapping):
        raise SymcalcTypeError(f"the functions must be a mapping of names to outputs, "
                               f"not {type(functions).__name__}")
    symbols = variable_symbols(variables)
    for name in functions:
        _check_name(name)
        if f"_{name}_body" in functions:
            raise SymcalcError(f"the function names {name!r} and '_{name}_body' collide")
    return _generate({name: program(exprs, symbols) for name, exprs in functions.items()}).source


_generated = itertools.count()


def execute_generated(text: str, namespace: dict[str, Any]) -> None:
    """Run source that a symcalc printer generated from an expression graph (never user text)
    in ``namespace``: other backends compile here too, the one place that compiles."""
    exec(compile(text, f"<symcalc-generated-{next(_generated)}>", "exec"), namespace)


def lambdify(exprs: Outputs, variables: Iterable[Symbol | str] | str,
             backend: str = "numpy") -> Callable[..., Any]:
    """A fast NumPy function of ``variables`` (in that order) computing ``exprs``.

    Arguments broadcast against each other; integers are computed as floats; an output that
    is constant or misses a variable is broadcast to the common shape.  A list (or list of lists)
    of expressions gives one ndarray of shape ``nesting + broadcast shape``.  ``Derivatives``
    results (``grad``, ``jacobian``, ``hessian``, ``vjp``, ``hvp``) compile their shared
    reverse-accumulation graph when it is smaller, so a gradient costs a few times the function.
    The standalone source is ``f.source`` (also ``symcalc.codegen``).

    ``backend="numexpr"`` (the extra ``symcalc[numexpr]``) gives the same values computed by
    fused, multi-threaded numexpr kernels: much faster on large arrays.
    """
    if backend == "numexpr":
        from . import numexpr_backend  # imports numexpr: only when asked for
        return numexpr_backend.lambdify(exprs, variables)
    if backend != "numpy":
        raise SymcalcError(f"unknown backend {backend!r}: use 'numpy' or 'numexpr'")
    if _matrix.is_shaped(exprs):
        return _matrix.lambdify(exprs, variables)
    generated = _generate({"f": program(exprs, variables)})
    source = generated.source
    # Only the function is compiled, at its line in the whole source, against the shared helpers.
    offset = source.count("\n") - generated.text.count("\n")
    filename = f"<symcalc-generated-{next(_generated)}>"
    code = compile("\n" * offset + generated.text, filename, "exec")
    namespace: dict[str, Any] = {"np": np}
    namespace.update((name, getattr(runtime, name)) for name in generated.helpers)
    exec(code, namespace)  # the source was printed from the expression graph, never user text
    function = namespace["f"]
    function.source = source
    function.__doc__ = "Generated by symcalc.lambdify (helpers: symcalc.runtime):\n\n" + generated.text
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    weakref.finalize(function, linecache.cache.pop, filename, None)
    return function
