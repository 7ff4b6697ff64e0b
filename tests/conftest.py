"""Session-wide fixtures: the expensive model runs that several test modules share.

A Mesa run of the default scenario takes ~2 s; each run below is made once per session.
"""

from __future__ import annotations

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
