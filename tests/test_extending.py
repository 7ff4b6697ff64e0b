"""docs/EXTENDING.md: a driver registered from this file alone runs through the model and q2.

The toy driver below has a spec and nothing else (no data, no mechanism in ``sim/turn.py``): a
dummy player. Registering it must leave every existing scenario's tables unchanged for the same
seed (its own random stream reshuffles nothing), give it a Shapley and an Owen value of exactly
zero, and leave every other driver's values as they were.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import GOLDEN_SEED, compose_config

from experiments import q2_driver_shares as q2
from experiments.common import setup
from sim import drivers as registry
from sim.config import params_from_config
from sim.drivers.spec import DriverSpec, stream_seed
from sim.ensemble import draw_noise, simulate_many
from sim.model import simulate
from sim.params import Params
from sim.turn import N_NOISE

TOY = DriverSpec(
    name="toy_pressure",
    label="Toy pressure",
    colour="#17becf",
    owner="CHN",
    meaning="A test driver without data or mechanism (index).",
    source="assumption",
    counterfactual="no toy pressure",
    policy_level=lambda policy: 1.0,
    noise=True,  # its own random stream, appended after the model's
)


def params_with(overrides: list[str]) -> Params:
    """Composed parameters (not the cached helper: the registry changes between calls)."""
    return params_from_config(compose_config(overrides))


@pytest.mark.parametrize(
    ("scenario", "fixture"), [("baseline", "baseline_run"), ("no_china_coercion", "no_coercion_run")]
)
def test_a_new_driver_leaves_existing_scenario_tables_unchanged(
    scenario: str, fixture: str, request: pytest.FixtureRequest
) -> None:
    before = request.getfixturevalue(fixture)
    with registry.registered(TOY):
        params = params_with([f"scenario={scenario}"])
        assert params.drivers.knob("toy_pressure").scale == 1.0
        after = simulate(params, GOLDEN_SEED)
    for name, frame in before.items():  # the run id digests the parameters, which now name the toy
        pd.testing.assert_frame_equal(frame.drop(columns="run_id"), after[name].drop(columns="run_id"))


def test_a_noisy_driver_gets_its_own_stream_and_both_engines_still_agree() -> None:
    with registry.registered(TOY):
        noise = draw_noise([GOLDEN_SEED], 8, 3)[:, 0]
        own = np.random.default_rng(stream_seed(GOLDEN_SEED, "toy_pressure")).standard_normal((8, 3))
        np.testing.assert_array_equal(noise[..., N_NOISE], own)
        params = params_with(["run.end_year=2012"])
        mesa = simulate(params, GOLDEN_SEED)["outcomes"]
        ensemble = simulate_many([params], [GOLDEN_SEED], names=("outcomes",))["outcomes"]
    np.testing.assert_array_equal(
        np.random.default_rng(GOLDEN_SEED).standard_normal((8, 3, N_NOISE)), noise[..., :N_NOISE]
    )
    pd.testing.assert_frame_equal(mesa.reset_index(drop=True), ensemble.reset_index(drop=True), check_dtype=False)


def run_q2(out: Path) -> pd.DataFrame:
    """q2 in this process (so that the registry of this test applies), short window, two runs."""
    cfg = compose_config(
        [
            "experiment=q2_driver_shares",
            f"experiment.out={out}",
            "replicates=2",
            "experiment.parameter_source=defaults",
            "experiment.to_year=2016",
            "run.end_year=2016",
        ]
    )
    q2.run(setup(q2.NAME, cfg))
    return pd.read_csv(out / "driver_shares.csv")


@pytest.mark.slow
def test_q2_runs_with_a_driver_registered_from_this_file(tmp_path: Path) -> None:
    without = run_q2(tmp_path / "without")
    with registry.registered(TOY):
        with_toy = run_q2(tmp_path / "with")
        broad = registry.owned_by("CHN")
    verdict = pd.read_json(tmp_path / "with" / "verdict.json", typ="series")
    assert verdict["drivers"][-1] == "toy_pressure" and verdict["coalitions"] == 2 ** len(verdict["drivers"])
    assert verdict["definitions"]["broad"]["china_drivers"] == list(broad)
    toy = with_toy[with_toy["driver"] == "toy_pressure"]
    assert len(toy) == 6  # W1..W5 and the gap
    np.testing.assert_allclose(toy[["contribution", "owen_contribution"]], 0.0, atol=1e-12)  # a dummy player
    others = with_toy[with_toy["driver"] != "toy_pressure"].reset_index(drop=True)
    np.testing.assert_allclose(others["contribution"], without["contribution"], atol=1e-12)
    assert list(others["driver"]) == list(without["driver"])
