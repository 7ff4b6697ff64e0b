"""Parameter draws of the experiments (experiments/draws.py): posterior rows, nested paired seeds, labels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from experiments.common import run_key, switched_off
from experiments.draws import DrawPlan, per_draw_mean, plan_draws
from sim.params import Params
from sim.records import run_id_for
from sim.runs import replicate_seeds

KEYS = ["params.perception.intent_gain", "params.alignment.balancing_gain"]


def posterior_file(tmp_path: Path, rows: list[list[float]]) -> str:
    path = tmp_path / "posterior.json"
    path.write_text(json.dumps({"keys": KEYS, "samples": rows, "losses": [0.0] * len(rows), "provenance": {}}))
    return str(path)


def test_defaults_are_one_draw_per_replicate_seed_and_labelled(tmp_path: Path) -> None:
    plan = plan_draws("defaults", 200, 1, 3, 7, "unused")
    assert plan.seeds == replicate_seeds(7, 3)
    assert all(d.values == {} for d in plan.draws)
    assert plan.describe()["parameter_source"] == "defaults" and "illustration" in plan.describe()["note"]


def test_posterior_draws_nest_distinct_seeds_and_say_when_drawn_with_replacement(tmp_path: Path) -> None:
    plan = plan_draws("posterior", 12, 2, 30, 5, posterior_file(tmp_path, [[0.5, 1.0], [1.0, 2.0], [1.4, 0.6]]))
    assert len(plan.draws) == 12 and all(len(d.seeds) == 2 for d in plan.draws)
    assert len(set(plan.seeds)) == 24  # noise nested in each draw, no seed shared between draws
    assert plan.info["with_replacement"] and "fewer" in plan.info["note"]
    for draw in plan.draws:
        assert draw.sample is not None
        assert list(draw.values.values()) == [[0.5, 1.0], [1.0, 2.0], [1.4, 0.6]][draw.sample]
    assert plan == plan_draws("posterior", 12, 2, 30, 5, plan.info["posterior_file"])  # reproducible


def test_a_large_enough_posterior_is_drawn_without_replacement(tmp_path: Path) -> None:
    rows = [[0.2 + 0.1 * k, 1.0] for k in range(10)]
    plan = plan_draws("posterior", 10, 1, 1, 5, posterior_file(tmp_path, rows))
    assert not plan.info["with_replacement"] and plan.info["unique_samples"] == 10


def test_every_counterfactual_of_a_draw_gets_its_values_and_keeps_its_drivers(tmp_path: Path) -> None:
    plan: DrawPlan = plan_draws("posterior", 2, 1, 1, 5, posterior_file(tmp_path, [[0.7, 2.5]]))
    counterfactuals = [Params(), switched_off(Params(), ["china_coercion"], "no_china_coercion")]
    drawn = plan.draws[0].apply(counterfactuals)
    for before, after in zip(counterfactuals, drawn, strict=True):
        assert after.params.perception.intent_gain == 0.7 and after.params.alignment.balancing_gain == 2.5
        assert after.drivers == before.drivers and after.scenario == before.scenario


@pytest.mark.parametrize(
    ("args", "key"),
    [(("guess", 2, 1), "parameter_source"), (("posterior", 0, 1), "draws"), (("posterior", 2, 0), "replicates")],
)
def test_bad_plans_name_the_key(tmp_path: Path, args: tuple[str, int, int], key: str) -> None:
    with pytest.raises(ValueError, match=key):
        plan_draws(*args, 1, 5, posterior_file(tmp_path, [[0.7, 2.5]]))


def test_a_missing_posterior_file_is_named() -> None:
    with pytest.raises(ValueError, match=r"nowhere\.json"):
        plan_draws("posterior", 2, 1, 1, 5, "/nowhere.json")


def test_per_draw_mean_groups_runs_by_their_draw(tmp_path: Path) -> None:
    plan = plan_draws("posterior", 2, 2, 1, 5, posterior_file(tmp_path, [[0.7, 2.5]]))
    values = np.array([1.0, 3.0, 10.0, 20.0])
    np.testing.assert_allclose(per_draw_mean(values, plan.seeds, plan), [2.0, 15.0])


def test_a_run_is_told_by_its_scenario_name_and_seed_before_its_digest(baseline_params: Params) -> None:
    """experiments.common.owners reads run_key from the run id: the two must agree."""
    assert run_id_for(baseline_params, 123).rsplit("-", 1)[0] == run_key(baseline_params, 123)
    named = switched_off(baseline_params, ["china_coercion"], "drivers-0111")
    assert run_id_for(named, 9).rsplit("-", 1)[0] == run_key(named, 9) == "drivers-0111-s9"


def test_a_weighted_posterior_is_resampled_by_its_weights(tmp_path: Path) -> None:
    rows = [[0.5 + 0.1 * k, 1.0] for k in range(4)]
    path = tmp_path / "posterior.json"
    weights = [0.5, 0.25, 0.25, 0.0]
    path.write_text(
        json.dumps({"keys": KEYS, "samples": rows, "weights": weights, "losses": [0.0] * 4, "provenance": {}})
    )
    plan = plan_draws("posterior", 8, 1, 30, 5, str(path))
    counts = np.bincount([d.sample for d in plan.draws], minlength=4)
    assert counts.tolist() == [4, 2, 2, 0]  # systematic: exactly 8 x weight each here
    assert plan.info["with_replacement"] and plan.info["unique_samples"] == 3
