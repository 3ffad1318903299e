"""Shared test configuration: ``--slow`` turns on the heavy property and resource runs."""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
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
