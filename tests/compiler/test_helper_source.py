"""The statements of ``symcalc.compiler.runtime`` that ``codegen`` copies into standalone source.

``helper_source._runtime_statements`` splits the module by scanning its lines (parsing it costs more,
once per process, than a small function's whole code generation); here the split is checked
against the one ``ast`` gives: the same statements, the same text, the same names bound and the
same names of the module read.
"""

from __future__ import annotations

import ast
import inspect

import numpy as np

import symcalc as sc
from symcalc.compiler import helper_source as compile_module
from symcalc.compiler import runtime


def reference_statements() -> list[tuple[str, frozenset, frozenset, str]]:
    """(text, binds, reads, kind) of each statement, from ``ast``."""
    text = inspect.getsource(runtime)
    lines = text.splitlines()
    out, previous_end = [], 0
    for node in ast.parse(text).body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        first = start - 1
        while (first > previous_end and lines[first - 1].startswith("#")
               and not lines[first - 1].startswith("# ---")):
            first -= 1
        previous_end = node.end_lineno
        if (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)) or (
                isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            continue
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            binds, kind = frozenset({node.name}), "definition"
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            binds = frozenset((a.asname or a.name).split(".")[0] for a in node.names)
            kind = "import"
        else:
            targets = (node.targets if isinstance(node, ast.Assign)
                       else [getattr(node, "target", None)])
            binds = frozenset(t.id for t in targets if isinstance(t, ast.Name))
            kind = "assignment"
        reads = frozenset(n.id for n in ast.walk(node) if isinstance(n, ast.Name))
        out.append(("\n".join(lines[first:node.end_lineno]), binds, reads, kind))
    return out


def test_the_scanned_statements_are_the_parsed_ones():
    scanned = compile_module._runtime_statements()
    reference = reference_statements()
    defined = set().union(*(binds for _, binds, _, _ in reference))
    assert len(scanned) == len(reference)
    for statement, (text, binds, reads, kind) in zip(scanned, reference):
        assert statement.text == text
        assert (statement.binds, statement.kind) == (binds, kind), text
        assert statement.reads & defined == (reads - binds) & defined, text


def test_the_copied_helpers_are_those_the_parsed_statements_give(monkeypatch):
    scanned = compile_module._runtime_statements()
    names = sorted(set().union(*(s.binds for s in scanned if s.kind != "import")))
    got = {name: compile_module.helper_source((name,)) for name in names}
    got["all"] = compile_module.helper_source(tuple(names))
    reference = tuple(compile_module._Statement(text, binds, kind, known_reads=reads)
                      for text, binds, reads, kind in reference_statements())
    monkeypatch.setattr(compile_module, "_runtime_statements", lambda: reference)
    compile_module.helper_source.cache_clear()
    try:
        for name in names:
            assert compile_module.helper_source((name,)) == got[name], name
        assert compile_module.helper_source(tuple(names)) == got["all"]
    finally:
        compile_module.helper_source.cache_clear()


def test_the_scanner_reads_strings_comments_and_continuations():
    source = '''"""Doc: not_a_name, assemble."""
import os, numpy as np
from typing import (Any,
    Callable)
# the constant
LIMIT = 3  # uses FAKE
A = B = (LIMIT +
1)
T: Any = f"{LIMIT}" + "(" + 'x#y'
T += 1


@decorate
def g(x=LIMIT):
    """not C"""
    return (x,
)
try:
    import scipy
except ImportError:
    scipy = None
'''
    blanked = compile_module._LITERAL.sub(compile_module._blanked, source)
    code = blanked.split("\n")
    spans = compile_module._statement_lines(blanked)
    firsts = [source.splitlines()[a].split()[0] for a, _ in spans]
    assert firsts == ['"""Doc:', "import", "from", "LIMIT", "A", "T:", "T", "@decorate", "try:"]
    tree = ast.parse(source).body
    assert [(a + 1, b) for a, b in spans] == [(min([n.lineno] + [d.lineno for d in getattr(
        n, "decorator_list", [])]), n.end_lineno) for n in tree]
    assert compile_module._imported_names("\n".join(code[2:4])) == {"Any", "Callable"}
    assert compile_module._imported_names(code[1]) == {"os", "np"}
    assert compile_module._assigned_names(code[6]) == {"A", "B"}
    assert compile_module._assigned_names(code[8]) == {"T"}
    assert "LIMIT" in compile_module._NAME.findall(code[8])  # the f-string's braces read it
    assert "FAKE" not in compile_module._NAME.findall("\n".join(code))


def test_standalone_source_runs_with_the_helpers_it_copies():
    for formula, variables in [("sigmoid(x) + logsumexp(x, y)", ["x", "y"]), ("erf(x)", ["x", "y"]),
                               (["softplus(x)", "0"], ["x"])]:
        f = sc.lambdify(formula, variables)
        namespace: dict = {}
        exec(compile(f.source, "<test>", "exec"), namespace)
        args = [np.linspace(-2, 2, 5) + k for k in range(len(variables))]
        np.testing.assert_allclose(namespace["f"](*args), f(*args), rtol=1e-15)


class _Unannotated(ast.NodeTransformer):
    """A tree without annotations: what the plain helpers must parse to."""

    def visit_arg(self, node):
        node.annotation = None
        return node

    def visit_FunctionDef(self, node):
        node.returns = None
        return self.generic_visit(node)

    def visit_AnnAssign(self, node):
        if node.value is None or not node.simple:
            return node
        return ast.Assign(targets=[node.target], value=self.visit(node.value), lineno=node.lineno)


def test_the_plain_helpers_are_the_helpers_without_annotations():
    for statement in compile_module._runtime_statements():
        plain, reads = statement.plain
        want = ast.dump(_Unannotated().visit(ast.parse(statement.text)))
        assert ast.dump(ast.parse(plain)) == want, plain
    source = compile_module.helper_source(tuple(sorted(
        name for s in compile_module._runtime_statements() if s.kind == "definition"
        for name in s.binds)), plain=True)
    assert "typing" not in source and "annotations" not in source and "Array = Any" not in source
    assert "def sparse_zeros(shape, rows=1,\n" in source  # a default keeps no spaces
    namespace: dict = {}
    exec(compile(source, "<plain>", "exec"), namespace)
    assert namespace["sigmoid"](0.0) == 0.5 and namespace["logsumexp"](0.0, 0.0) == np.log(2.0)


def test_the_plain_strip_handles_every_kind_of_annotation():
    text = ('def g(a: int, /, b: "T" = 1, *args: Tuple[int, ...], c: int = 2, d: X,\n'
            '      **kw: Any) -> Dict[str,\n                     int]:\n'
            '    value: List[int] = []\n    other: int\n    return value\n')
    plain = compile_module._without_annotations(text)
    assert plain.splitlines()[:2] == ["def g(a, /, b=1, *args, c=2, d,", "      **kw):"]
    assert "    value = []" in plain and "    other: int" in plain
