"""Packaging: the wheel carries the grammar, importing symcalc does not import SymPy, and the
README's set-up commands are the ones CI runs."""

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(args, cwd, env=None):
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_import_and_differentiate_without_sympy():
    code = (
        "import sys, symcalc as sc\n"
        "d = sc.grad('sigmoid(w*x + b) + logsumexp(x, w)', ['w', 'x', 'b'])\n"
        "sc.hessian('x^2*y', ['x', 'y']); sc.latex(d[0])\n"
        "assert 'sympy' not in sys.modules, 'sympy was imported'\n"
        "print(d[0])\n"
    )
    result = run([sys.executable, "-c", code], cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_wheel_works_outside_the_checkout(tmp_path):
    pytest.importorskip("hatchling")
    wheel_dir = tmp_path / "wheel"
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                 "-w", str(wheel_dir), str(ROOT)], cwd=tmp_path)
    assert built.returncode == 0, built.stdout + built.stderr
    wheel = next(wheel_dir.glob("symcalc-*.whl"))
    with zipfile.ZipFile(wheel) as archive:  # the web page ships with the package
        shipped = set(archive.namelist())
    for name in ("index.html", "app.js", "style.css"):
        assert f"symcalc/web/static/{name}" in shipped, sorted(shipped)

    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # The new environment sees the dependencies installed where this test runs (lark, numpy,
    # sympy) through a .pth file, so nothing is downloaded and nothing depends on what the base
    # interpreter happens to have.  Plain path lines do not process the .pth files found there,
    # so an editable install of symcalc in the running environment stays invisible.
    site_packages = run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                        cwd=tmp_path).stdout.strip()
    here = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    Path(site_packages, "_running_environment.pth").write_text("\n".join(sorted(here)) + "\n")
    clean_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    installed = run([str(python), "-m", "pip", "install", "--no-deps", "--force-reinstall", str(wheel)],
                    cwd=tmp_path, env=clean_env)
    assert installed.returncode == 0, installed.stdout + installed.stderr

    code = ("import symcalc, pathlib\n"
            "assert str(pathlib.Path(symcalc.__file__).resolve()).startswith(%r), symcalc.__file__\n"
            "print(symcalc.diff('x^3 + sin(x)', 'x'))\n"
            "print(symcalc.parse(r'\\frac{1}{1 + e^{-x}}', latex=True))\n"
            "from symcalc.web import make_server, server\n"
            "assert b'/static/app.js' in server.static_file('index.html')\n"
            "s = make_server(0); worker = s.pool.idle.get()\n"
            "assert worker.call('render', {'formula': 'x'}, 60)['text'] == 'x'\n"
            "s.pool.idle.put(worker); s.server_close()\n") % str(env_dir.resolve())
    result = run([str(python), "-c", code], cwd=tmp_path, env=clean_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["cos(x)", "+", "3*x^2", "1/(1", "+", "exp(-x))"]


def test_readme_starts_with_the_two_commands_ci_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```bash\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert block == [
        'pip install . && symcalc diff "sin(x)*exp(x)" x',
        'pip install ".[test]" && python -m pytest',
    ]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for command in block:
        assert command.replace("pip install ", "pip install --quiet ") in ci
