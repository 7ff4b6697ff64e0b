"""Session-wide fixtures: the expensive model runs that several test modules share.

A Mesa run of the default scenario takes ~2 s; each run below is made once per session.
With ``SIM_TEST_ALL=1`` (``make test``) a skipped test fails the session, naming what is missing:
every optional piece (the dashboard, the cluster launchers, the browser) must then be present.
"""

from __future__ import annotations

import os

import pandas as pd
import pytest
from helpers import GOLDEN_SEED, compose_params

from sim.model import simulate
from sim.params import Params


@pytest.fixture(scope="session")
def baseline_params() -> Params:
    """The baseline scenario as composed by Hydra (history, with its dated events)."""
    return compose_params([])


@pytest.fixture(scope="session")
def baseline_run(baseline_params: Params) -> dict[str, pd.DataFrame]:
    """Result tables of the baseline scenario with seed 7."""
    return simulate(baseline_params, GOLDEN_SEED)


@pytest.fixture(scope="session")
def no_coercion_params() -> Params:
    """The counterfactual without Chinese coercion, as composed by Hydra."""
    return compose_params(["scenario=no_china_coercion"])


@pytest.fixture(scope="session")
def no_coercion_run(no_coercion_params: Params) -> dict[str, pd.DataFrame]:
    """Result tables of the no-coercion counterfactual with the baseline's seed (common random numbers)."""
    return simulate(no_coercion_params, GOLDEN_SEED)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under ``SIM_TEST_ALL=1`` turn any skip into a failure of the session, listing the reasons."""
    if os.environ.get("SIM_TEST_ALL") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if not skipped:
        return
    reasons = sorted(
        {str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else str(report.longrepr) for report in skipped}
    )
    reporter.ensure_newline()
    reporter.write_line(f"error: {len(skipped)} test(s) skipped where every test must run (SIM_TEST_ALL=1):", red=True)
    for reason in reasons:
        reporter.write_line(f"  {reason}", red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
