"""The modules form layers: no import cycle among them, and each imports on its own.

The imports of every symcalc module, in the subpackages too, read from its source with ``ast``,
those inside functions included (an import inside a function must not hide a circle), must form
a graph without a cycle; a lower layer calls a higher one only through ``symcalc.core.hooks``,
which the higher module binds when it loads.  Every module must import in a fresh interpreter in
which only that module was asked for (the package's ``__init__``, which imports everything, is not
run first to hide an order dependence).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import symcalc
from symcalc.core.hooks import Hooks

PACKAGE = Path(symcalc.__file__).resolve().parent


def _dotted(path: Path) -> str:
    parts = ("symcalc",) + path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


# every module of the package, subpackages included: dotted name -> source file
ALL_MODULES = {_dotted(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _targets(node: ast.AST, package: str) -> set[str]:
    """The symcalc modules an import statement inside ``package`` names; ``from . import x``
    names the module ``x`` when it is one."""
    if isinstance(node, ast.ImportFrom):
        if node.level:
            base = package.split(".")
            base = base[:len(base) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        modules = {f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in ALL_MODULES}
        return modules or ({target} if target in ALL_MODULES else set())
    return {a.name for a in node.names if a.name in ALL_MODULES}


def _package(name: str) -> str:
    return name if ALL_MODULES[name].name == "__init__.py" else name.rpartition(".")[0]


def all_imports(name: str) -> set[str]:
    """The symcalc modules that module ``name`` imports anywhere in its source, inside
    functions too."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(ALL_MODULES[name].read_text("utf-8"))):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.update(_targets(node, _package(name)))
    found.discard(name)
    return found


def module_imports(name: str) -> set[str]:
    """The symcalc modules that module ``name`` imports at module level: what runs at import."""
    found: set[str] = set()
    stack = list(ast.parse(ALL_MODULES[name].read_text("utf-8")).body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue  # runs later, not at import time (class bodies hold no imports here)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.update(_targets(node, _package(name)))
        stack.extend(ast.iter_child_nodes(node))
    found.discard(name)
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the graph as a list of nodes, or None (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    for root in graph:
        if state.get(root):
            continue
        path, stack = [], [(root, iter(sorted(graph[root])))]
        state[root] = 1
        path.append(root)
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = 2
            elif state.get(child) == 1:
                return path[path.index(child):] + [child]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(graph.get(child, ())))))
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_imports_of_every_module_have_no_cycle_even_inside_functions():
    graph = {name: all_imports(name) for name in ALL_MODULES}
    assert "symcalc.matrix.operations" in graph["symcalc.matrix.adjoint"]  # relative, subpackage
    assert "symcalc.matrix.nodes" in graph["symcalc.steps.backprop"]  # two dots up and down
    assert "symcalc.checks.sympy_bridge" in graph["symcalc.api"]  # an import inside a function
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def test_every_hook_a_lower_layer_declares_is_bound_once_symcalc_is_imported():
    found = 0
    for name in ALL_MODULES:
        module = sys.modules.get(name)
        for attribute, value in vars(module or object).items():
            if isinstance(value, Hooks) and not attribute.startswith("_"):
                found += 1
                assert value.unbound() == [], f"{name}.{attribute}: {value.unbound()} unbound"
    assert found >= 5


def test_an_unbound_hook_names_the_module_that_provides_it():
    hooks = Hooks(to_str="symcalc.printing.infix")
    with pytest.raises(symcalc.SymcalcError, match="symcalc.printing.infix"):
        hooks.to_str(1)
    hooks.bind(to_str=str)
    assert hooks.to_str(1) == "1" and hooks.unbound() == []
    with pytest.raises(AttributeError):
        hooks.bind(other=str)


def test_the_module_level_imports_have_no_cycle():
    graph = {name: module_imports(name) for name in ALL_MODULES}
    assert graph["symcalc.api"] >= {"symcalc.language.arguments", "symcalc.calculus.diff",
                                    "symcalc.rewrite.simplify"}  # relative imports are seen
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


@pytest.mark.parametrize("name", ["compiler.program", "calculus.taylor", "optimize",
                                  "checks.sympy_bridge", "cli.main"])
def test_argument_conversion_does_not_need_the_api(name):
    imports = module_imports("symcalc." + name)
    assert "symcalc.language.arguments" in imports
    if name in ("compiler.program", "calculus.taylor", "checks.sympy_bridge"):
        assert "symcalc.api" not in imports


def _stage(module: str) -> str:
    """The subpackage of a module (``core``), or the module itself at the top."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 else module


# the lowest stages of the pipeline, each with the stages it may build on
LOWER_STAGES = {
    "symcalc.errors": set(),
    "core": {"symcalc.errors"},
    "functions": {"symcalc.errors", "core"},
    "printing": {"symcalc.errors", "core", "functions"},
    "rewrite": {"symcalc.errors", "core", "functions"},
}


@pytest.mark.parametrize("stage", sorted(LOWER_STAGES))
def test_lower_stages_do_not_import_higher_ones(stage):
    """The graph's core, the function registry, the printers and the rewrites are the lowest
    layers: they never reach up, not even inside a function (a higher layer binds a hook)."""
    members = [name for name in ALL_MODULES if _stage(name) == stage]
    assert members
    reached = {_stage(t) for name in members for t in all_imports(name)}
    assert reached - {stage} <= LOWER_STAGES[stage]


def test_lower_layers_do_not_import_higher_ones():
    assert module_imports("symcalc.errors") == set()
    assert module_imports("symcalc.core.hooks") <= {"symcalc.errors"}
    assert module_imports("symcalc.core.nodes") <= {"symcalc.errors", "symcalc.core.hooks"}
    assert module_imports("symcalc.core.expr") <= {"symcalc.core.bigint", "symcalc.errors",
                                                   "symcalc.core.nodes"}
    assert "symcalc.language.parser" not in module_imports("symcalc.printing.infix")
    assert not {"symcalc.compiler.program", "symcalc.compiler.numpy_printer",
                "symcalc.compiler.compile"} & module_imports("symcalc.calculus.taylor")


ISOLATED_IMPORT = """
import importlib, sys, types
package = types.ModuleType("symcalc")
package.__path__ = [{path!r}]
package.__version__ = "isolated"
sys.modules["symcalc"] = package  # the package without its __init__, which imports everything
importlib.import_module("symcalc." + {name!r})
"""


def test_every_module_imports_on_its_own_in_a_fresh_interpreter():
    runs = {}
    names = [n.partition(".")[2] for n in ALL_MODULES
             if n != "symcalc" and not n.endswith("__main__")]
    assert "matrix.operations" in names and "steps.backprop" in names
    for name in names:  # all at once: each interpreter mostly waits for its imports
        code = ISOLATED_IMPORT.format(path=str(PACKAGE), name=name)
        runs[name] = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)
    failures = {}
    for name, run in runs.items():
        _, err = run.communicate(timeout=120)
        if run.returncode != 0:
            failures[name] = err.strip().splitlines()[-1]
    assert not failures
