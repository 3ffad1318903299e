"""Shared test configuration: ``--slow`` turns on the heavy property and resource runs.

The tests sit in folders that mirror the package (``tests/core`` for ``symcalc/core`` ...); the
oracles (``oracle.py``, ``matrix_oracle.py``) and strategies are here at the top, and a few tables
are shared across folders (the derivative corpus, the shaped-formula examples), so every folder is
on the import path, whichever test file is run alone.
"""

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

_HERE = Path(__file__).resolve().parent
for _folder in sorted(p for p in _HERE.iterdir() if p.is_dir() and any(p.glob("test_*.py"))):
    if str(_folder) not in sys.path:
        sys.path.append(str(_folder))

# Under CI (CI=true) the examples are derived from each test's name, so a run on a clean clone is
# reproducible; elsewhere they are random, so every local run explores new formulas.
settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow],
    derandomize=bool(os.environ.get("CI")), print_blob=True,
)
settings.register_profile(
    "slow", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", help="run heavy property and resource tests")


def pytest_configure(config):
    settings.load_profile("slow" if config.getoption("--slow") else os.environ.get("SYMCALC_HYPOTHESIS", "ci"))


def pytest_collection_modifyitems(config, items):
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="heavy; run with --slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(params=["lark-cython", "pure"])
def parser_engine(request, monkeypatch):
    """Run a test with each parser engine: lark-cython (the ``fast`` extra) and pure Lark."""
    from symcalc.language import parser

    if request.param == "lark-cython" and parser.lark_cython is None:
        pytest.skip("lark-cython is not installed")
    monkeypatch.setattr(parser, "USE_LARK_CYTHON", request.param == "lark-cython")
    return request.param
