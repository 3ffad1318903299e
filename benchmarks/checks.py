"""Correctness inside the benchmark: every tool's values, taken before any timing, are compared
with symcalc's and with central finite differences of the case's NumPy array form."""

from __future__ import annotations

from typing import Mapping, Optional

import numpy as np

from measure import Outcome
from suite import Case

AGREEMENT = 1e-8  # relative to the largest value: tools must agree to this
FINITE_DIFFERENCE = {"f": 1e-10, "grad": 1e-5, "d1": 1e-5, "hessian": 1e-4}


def finite_differences(case: Case, quantity: str, x: np.ndarray) -> Optional[np.ndarray]:
    """The quantity at ``x`` from the NumPy array form: exact for f, central differences for the
    gradient and the Hessian; None where differences would be too inaccurate to judge."""
    if case.array_function is None or quantity not in FINITE_DIFFERENCE:
        return None
    f = case.array_function(np)
    d = len(x)
    if quantity == "f":
        return np.array([f(x)])
    h = 1e-5
    unit = np.eye(d)
    if quantity in ("grad", "d1"):
        return np.array([(f(x + h * unit[i]) - f(x - h * unit[i])) / (2 * h) for i in range(d)])
    h = 1e-4
    H = np.empty((d, d))
    for i in range(d):
        for j in range(i, d):
            a, b = h * unit[i], h * unit[j]
            H[i, j] = H[j, i] = (f(x + a + b) - f(x + a - b) - f(x - a + b) + f(x - a - b)) / (4 * h * h)
    return H.ravel()


def relative_error(values: np.ndarray, reference: np.ndarray) -> float:
    if values.shape != reference.shape:
        return float("inf")
    scale = max(float(np.max(np.abs(reference), initial=0.0)), 1e-300)
    return float(np.max(np.abs(values - reference), initial=0.0)) / scale


def check_job(case: Case, quantity: str, x: np.ndarray, outcomes: Mapping[str, Outcome]) -> list[str]:
    """Failure messages for one quantity of one case (empty when every tool agrees)."""
    failures = []
    label = f"{case.name}/{quantity}"
    oracle = finite_differences(case, quantity, x)
    mine = outcomes.get("symcalc")
    ours = np.array(mine.check) if mine is not None and mine.check is not None else None
    for tool, outcome in outcomes.items():
        if outcome.check is None:
            continue
        values = np.array(outcome.check)
        if not np.all(np.isfinite(values)):
            failures.append(f"{label}: {tool} gives non-finite values at the check point")
            continue
        if oracle is not None:
            err = relative_error(values, oracle)
            if err > FINITE_DIFFERENCE[quantity]:
                failures.append(f"{label}: {tool} differs from finite differences "
                                f"(relative error {err:.2e})")
        if tool != "symcalc" and ours is not None:
            err = relative_error(values, ours)
            if err > AGREEMENT:
                failures.append(f"{label}: {tool} differs from symcalc (relative error {err:.2e})")
    if mine is not None and mine.stable is False:
        failures.append(f"{label}: symcalc overflows at the stability point {case.stability_point[0]:.0f}...")
    return failures
