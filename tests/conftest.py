"""Shared test configuration: ``--slow`` turns on the heavy property and resource runs."""

import os

import pytest
from hypothesis import HealthCheck, settings

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
