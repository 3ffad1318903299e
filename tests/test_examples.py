"""Every example script runs to the end: its printed claims are asserted inside the script.

Each example runs as a subprocess with ``--quick`` (small sizes); when matplotlib is installed it
also writes its figures (Agg backend) into a temporary folder, and the PNG files must be real.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(EXAMPLES.glob("[0-9][0-9]_*.py"))
HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run(script: Path, *arguments: str) -> subprocess.CompletedProcess:
    environment = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0")
    return subprocess.run([sys.executable, str(script), "--quick", *arguments], cwd=EXAMPLES,
                          env=environment, capture_output=True, text=True, timeout=120)


def test_examples_exist():
    assert len(SCRIPTS) >= 1


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_example_runs(script, tmp_path):
    arguments = ("--plots", str(tmp_path)) if HAVE_MATPLOTLIB else ()
    result = run(script, *arguments)
    assert result.returncode == 0, f"{script.name} failed:\n{result.stdout}\n{result.stderr}"
    assert result.stdout.strip(), f"{script.name} printed nothing"
    for png in tmp_path.glob("*.png"):
        assert png.read_bytes()[:8] == PNG_SIGNATURE, png.name


def test_every_example_has_a_docstring_and_a_readme_line():
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for script in SCRIPTS:
        source = script.read_text(encoding="utf-8")
        assert source.lstrip().startswith('"""'), f"{script.name} has no module docstring"
        assert script.name in readme, f"{script.name} is not listed in examples/README.md"


def test_plots_option_without_matplotlib_only_prints(tmp_path):
    """With matplotlib hidden, an example still succeeds and says that it prints only."""
    plotting = [s for s in SCRIPTS if "Figures(" in s.read_text(encoding="utf-8")]
    if not plotting:
        pytest.skip("no example draws figures yet")
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "matplotlib.py").write_text("raise ImportError('hidden for this test')\n")
    search_path = [str(blocker)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(search_path))
    script = plotting[0]
    result = subprocess.run([sys.executable, str(script), "--quick", "--plots", str(tmp_path / "out")],
                            cwd=EXAMPLES, env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "matplotlib is not installed" in result.stdout
    assert not (tmp_path / "out").exists()


def test_the_install_commands_of_the_examples_readme_name_the_project():
    import re
    import tomllib

    text = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r'pip install "([^"\[]+)\[(\w+)\]"`? from (this|the repository)', text)
    assert len(commands) == 2
    for path, extra, folder in commands:
        where = EXAMPLES if folder == "this" else EXAMPLES.parent
        project = (where / path).resolve() / "pyproject.toml"
        assert project.is_file(), (path, folder)
        extras = tomllib.loads(project.read_text())["project"]["optional-dependencies"]
        assert extra in extras
