"""The modules form layers: no import cycle among them, and each imports on its own.

The imports of every symcalc module, in the subpackages too, read from its source with ``ast``,
those inside functions included (an import inside a function must not hide a circle), must form
a graph without a cycle; a lower layer calls a higher one only through ``symcalc.hooks``, which
the higher module binds when it loads.  Every module must import in a fresh interpreter in which
only that module was asked for (the package's ``__init__``, which imports everything, is not run
first to hide an order dependence).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import symcalc
from symcalc.hooks import Hooks

PACKAGE = Path(symcalc.__file__).resolve().parent
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__"))


def _dotted(path: Path) -> str:
    parts = ("symcalc",) + path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


# every module of the package, subpackages included: dotted name -> source file
ALL_MODULES = {_dotted(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def all_imports(name: str) -> set[str]:
    """The symcalc modules that module ``name`` imports anywhere in its source, inside
    functions too; ``from . import x`` counts as importing the module ``x`` when it is one."""
    path = ALL_MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            modules = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in ALL_MODULES]
            found.update(modules or ([target] if target in ALL_MODULES else []))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in ALL_MODULES)
    found.discard(name)
    return found


def module_imports(name: str) -> set[str]:
    """The symcalc modules that ``symcalc.<name>`` imports at module level ("" is the package)."""
    source = (PACKAGE / ("__init__" if name == "" else name)).with_suffix(".py").read_text("utf-8")
    found: set[str] = set()
    stack = list(ast.parse(source).body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue  # runs later, not at import time (class bodies hold no imports here)
        if isinstance(node, ast.ImportFrom):
            target = _absolute(node)
            if target == "symcalc":
                for alias in node.names:  # from . import calculus -> a module; __version__ -> package
                    found.add(alias.name if alias.name in MODULES else "")
            elif target.startswith("symcalc."):
                found.add(target.split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("symcalc."):
                    found.add(alias.name.split(".")[1])
                elif alias.name == "symcalc":
                    found.add("")
        stack.extend(ast.iter_child_nodes(node))
    found.discard(name)
    return found


def _absolute(node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    return "symcalc" + ("." + node.module if node.module else "")


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
    assert "symcalc.sympy_bridge" in graph["symcalc.calculus"]  # an import inside a function
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
    hooks = Hooks(to_str="symcalc.printing")
    with pytest.raises(symcalc.SymcalcError, match="symcalc.printing"):
        hooks.to_str(1)
    hooks.bind(to_str=str)
    assert hooks.to_str(1) == "1" and hooks.unbound() == []
    with pytest.raises(AttributeError):
        hooks.bind(other=str)


def test_the_module_level_imports_have_no_cycle():
    graph = {name: module_imports(name) for name in ["", *MODULES]}
    assert graph["calculus"] >= {"convert", "diff", "simplify"}  # the walk sees relative imports
    assert find_cycle(graph) is None, " -> ".join(n or "symcalc" for n in find_cycle(graph))


@pytest.mark.parametrize("name", ["program", "taylor", "optimize", "sympy_bridge", "cli"])
def test_argument_conversion_does_not_need_the_api(name):
    imports = module_imports(name)
    assert "convert" in imports
    if name in ("program", "taylor", "sympy_bridge"):
        assert "calculus" not in imports


def test_lower_layers_do_not_import_higher_ones():
    assert module_imports("errors") == set()
    assert module_imports("hooks") <= {"errors"}
    assert module_imports("nodes") <= {"errors", "hooks"}
    assert module_imports("expr") <= {"bigint", "errors", "nodes"}
    assert "parser" not in module_imports("printing")
    assert not {"program", "numpy_printer", "compile"} & module_imports("taylor")


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
