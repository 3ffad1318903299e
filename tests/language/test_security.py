"""Security: text from a user never reaches ``eval``, ``exec`` or ``compile``.

* Injection strings are rejected with ``ParseError`` and have no side effect (a sentinel file
  that the payload would create stays absent).
* A scan of the package source finds ``eval``/``exec``/``compile`` (and SymPy's string-evaluating
  ``sympify``/``parse_expr``) only in the code generator, which compiles source it printed from
  the expression graph.
* Variable names that clash with Python (``np``, ``lambda``, ``exec``, keywords, builtins,
  Unicode letters that Python folds together) are safe in generated code.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import symcalc as sc

pytestmark = pytest.mark.usefixtures("parser_engine")  # each test with both parsers

PACKAGE = Path(sc.__file__).resolve().parent
CODE_GENERATOR = {"compile.py", "generated.py"}  # printing and compiling; compiling again when unpickled
STRING_EVALUATORS = {"eval", "exec", "compile", "sympify", "parse_expr", "__import__"}


def _payloads(sentinel: Path) -> list[str]:
    s = str(sentinel).replace("\\", "/")
    return [
        f"__import__('os').system('touch {s}')",
        f"__import__(\"os\").system(\"touch {s}\")",
        f"open('{s}', 'w')",
        f"exec(\"open('{s}', 'w')\")",
        f"eval(\"open('{s}', 'w')\")",
        f"x; open('{s}', 'w')",
        f"x\nopen('{s}', 'w')",
        f"sin(x) + __import__('pathlib').Path('{s}').touch()",
        "[c for c in ().__class__.__base__.__subclasses__()]",
        f"f'{{open(\"{s}\", \"w\")}}'",
        "x.__class__", "x.__class__.__mro__", "().__class__", "lambda: 1", "lambda x: x",
        "exec('1')", "eval('1')", "compile('1', '', 'eval')", "__builtins__", "__import__",
        "os.system('x')", "os.system", "x; import os", "import os", "globals()", "locals()",
        "getattr(x, 'y')", "sin.__globals__", "sin(x).__class__", "x if x else y", "x[0]",
        "{x: 1}", "x = 1", "x := 1", "'x'", '"x"', "b'x'", "r'x'", "\\x41", "x\\\ny",
        "\\N{LATIN SMALL LETTER X}", "#x", "x # comment", "x @ y", "x % y", "x // y", "~x", "x & y",
        "x | y", "x < y", "x == y", "not x", "x and y", "`x`", "$x", "x!", "...",
        "ｅｘｅｃ('1')", "ｅｖａｌ(x)", "ｓｙｓ.ｅｘｉｔ()", "__ｉｍｐｏｒｔ__('os')",
        "ехес(x)",  # Cyrillic lookalikes of "exec"
        "x\u200b+1", "x\u202e+1", "x\x00", "sin\u2061(x)",
    ]


@pytest.mark.parametrize("index", range(len(_payloads(Path("sentinel")))))
def test_injection_is_a_parse_error_without_side_effect(index, tmp_path):
    sentinel = tmp_path / "sentinel"
    payload = _payloads(sentinel)[index]
    with pytest.raises(sc.ParseError):
        sc.parse(payload)
    assert not sentinel.exists()


@pytest.mark.parametrize("payload", ["__import__('os').system('x')", "x.__class__", "exec('1')"])
def test_injection_through_every_entry_point(payload, tmp_path):
    calls = [
        lambda: sc.diff(payload, "x"), lambda: sc.grad(payload, ["x"]),
        lambda: sc.hessian(payload, ["x"]), lambda: sc.simplify(payload), lambda: sc.latex(payload),
        lambda: sc.jacobian([payload], ["x"]), lambda: sc.subs("x", {"x": payload}),
    ]
    if hasattr(sc, "lambdify"):
        calls.append(lambda: sc.lambdify(payload, ["x"]))
    for call in calls:
        with pytest.raises(sc.ParseError):
            call()


@pytest.mark.parametrize("name", ["__builtins__", "os.system", "x.y", "1x", "_x", "x-y", "lambda:",
                                  "x y", "", "sin", "pi"])
def test_bad_variable_names_are_refused(name):
    with pytest.raises((ValueError, TypeError)):
        sc.diff("x", name)


def _string_evaluator_calls(path: Path) -> list[str]:
    """Every use of a string evaluator in a file: calls, ``module.exec(...)`` and bare references
    (``f = eval``); ``re.compile`` compiles a regular expression and is not one."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in STRING_EVALUATORS:
            if not (isinstance(node.value, ast.Name) and node.value.id == "re"):
                found.append(f"{path.name}:{node.lineno} {node.attr}")
        elif isinstance(node, ast.Name) and node.id in STRING_EVALUATORS:
            found.append(f"{path.name}:{node.lineno} {node.id}")
    return found


def test_only_the_code_generator_compiles_source():
    sources = sorted(PACKAGE.rglob("*.py"))
    assert any(p.name == "parser.py" for p in sources)
    offenders = [hit for p in sources if p.name not in CODE_GENERATOR for hit in _string_evaluator_calls(p)]
    assert offenders == []


def test_the_scan_finds_what_it_looks_for(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import builtins, re\nf = eval\nbuiltins.exec('1')\ncompile('1', 'f', 'eval')\n"
                      "re.compile('x')\n")
    assert [hit.split()[1] for hit in _string_evaluator_calls(sample)] == ["eval", "exec", "compile"]


# --- names in generated code ----------------------------------------------------------------------
needs_lambdify = pytest.mark.skipif(not hasattr(sc, "lambdify"), reason="no lambdify yet")

CLASHING_NAMES = ["np", "numpy", "lambda", "exec", "eval", "compile", "def", "None", "True", "import",
                  "print", "f", "math", "self", "_rt", "x_", "out", "result", "abs_", "sin_",
                  "return", "class", "yield", "async", "await", "nonlocal", "open", "object",
                  "type", "len", "range", "id", "t0", "t1", "v0", "linecache", "theta"]


@needs_lambdify
@pytest.mark.parametrize("name", [n for n in CLASHING_NAMES if not n.startswith("_")])
def test_variable_names_that_clash_with_python(name):
    import numpy as np

    formula = f"sin({name}) + {name}^2 + exp({name})*y"
    f = sc.lambdify(formula, [name, "y"])
    got = f(np.array([0.5, 2.0]), 3.0)
    expected = np.sin([0.5, 2.0]) + np.array([0.5, 2.0]) ** 2 + np.exp([0.5, 2.0]) * 3.0
    assert np.allclose(got, expected, rtol=1e-12)
    assert "sin" in sc.codegen(formula, [name, "y"])


@needs_lambdify
def test_unicode_names_that_python_would_fold_together():
    # Python reads the identifiers ｘ (fullwidth) and x as the same name (NFKC); symcalc must not
    x_full, x = sc.symbols("ｘ"), sc.symbols("x")
    assert x_full is not x
    f = sc.lambdify(x_full + 10 * x, [x_full, x])
    assert f(1.0, 2.0) == 21.0
    g = sc.lambdify("ｘ + 10*x", ["x", "ｘ"])
    assert g(2.0, 1.0) == 21.0
    h = sc.lambdify("θ^2 + theta", ["theta"])  # θ is spelt theta
    assert h(3.0) == 12.0


@needs_lambdify
def test_generated_source_holds_no_user_text():
    # the names are sanitised; no quote, backslash or dunder from a name gets into the source
    for planned in (False, True):
        source = sc.codegen("lambda_1 + np*exec", ["lambda_1", "np", "exec"], planned=planned)
        compiled = compile(source, "<check>", "exec")  # it is plain Python
        assert compiled is not None
        # above the function: helpers copied from symcalc.compiler.runtime
        function = source[source.index("def _f_body" if planned else "def f("):]
        assert "__" not in function
