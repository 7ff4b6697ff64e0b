"""Scenario discovery (experiments/scenario_discovery.py): PRIM finds a planted box; the sentence states it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import run_module

from experiments.common import ending_in
from experiments.sampling import Prior
from experiments.scenario_discovery import BoxRule, choose_box, discover, next_to_drop, sentence
from sim.ensemble import simulate_many
from sim.params import Params

PRIORS = [Prior("params.a", 0.0, 1.0), Prior("params.b", 0.0, 2.0), Prior("params.c", 0.0, 1.0)]


def planted(n: int = 1000) -> tuple[pd.DataFrame, np.ndarray]:
    """Uniform points; the claim holds exactly where a > 0.6 and b < 1.0 (a quarter... 0.4 * 0.5 = 20% of the space)."""
    rng = np.random.default_rng(3)
    x = pd.DataFrame(
        {"params.a": rng.uniform(0, 1, n), "params.b": rng.uniform(0, 2, n), "params.c": rng.uniform(0, 1, n)}
    )
    return x, ((x["params.a"] > 0.6) & (x["params.b"] < 1.0)).to_numpy()


def test_prim_recovers_a_planted_box_and_says_it_plainly() -> None:
    x, y = planted()
    rule = BoxRule(max_restricted=3, min_coverage=0.5, significance=0.05)
    boxes, trajectory, figure = discover(x, y, PRIORS, rule, peel_alpha=0.05)
    limits = boxes.set_index("key")
    assert set(limits.index) == {"params.a", "params.b"}, "c is irrelevant and stays unrestricted"
    assert limits.loc["params.a", "low"] == pytest.approx(0.6, abs=0.05)
    assert limits.loc["params.b", "high"] == pytest.approx(1.0, abs=0.1)
    assert boxes["density"].iloc[0] >= 0.9 and boxes["coverage"].iloc[0] > 0.8
    chosen = trajectory[trajectory["chosen"]]
    assert len(chosen) == 1 and chosen["density"].iloc[0] == boxes["density"].iloc[0]
    assert chosen["res_dim"].iloc[0] == 2
    text = sentence(boxes, float(y.mean()), 0.5)
    assert f"a > {limits.loc['params.a', 'low']:.3g}" in text and f"b < {limits.loc['params.b', 'high']:.3g}" in text
    assert f"covers {boxes['coverage'].iloc[0]:.0%}" in text
    assert f"{y.mean():.0%} of the prior space" in text
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert figure.axes[0].get_title() and any(t.startswith("box reported: 2 conditions") for t in legend)


# A hand-made peeling trajectory: coverage falls and density rises as PRIM peels.
TRAJECTORY = pd.DataFrame({"coverage": [1.0, 0.9, 0.8, 0.8, 0.6, 0.45], "density": [0.2, 0.5, 0.7, 0.7, 0.85, 0.95]})


@pytest.mark.parametrize(
    ("min_coverage", "expected"),
    [
        (0.5, 4),  # box 5 is denser but covers less than half the cases
        (0.4, 5),
        (0.65, 2),  # boxes 2 and 3 tie on density and coverage: the earlier
        (0.95, 0),  # only the unrestricted box covers 95%
    ],
)
def test_the_box_started_from_is_the_densest_covering_enough(min_coverage: float, expected: int) -> None:
    assert choose_box(TRAJECTORY, BoxRule(3, min_coverage)) == expected


def test_ties_in_density_go_to_the_wider_box() -> None:
    trajectory = TRAJECTORY.assign(coverage=[1.0, 0.9, 0.7, 0.8, 0.6, 0.45])
    assert choose_box(trajectory, BoxRule(3, 0.65)) == 3


def test_restrictions_are_dropped_least_significant_first_down_to_the_limit() -> None:
    qp = {"params.a": [1e-9, -1.0], "params.b": [0.2, float("nan")], "params.c": [-1.0, 0.6], "params.d": [0.3, 0.01]}
    rule = BoxRule(max_restricted=3, significance=0.05)
    assert next_to_drop(qp, rule) == "params.c"  # all its values above 0.05; d counts by its significant side
    del qp["params.c"]
    assert next_to_drop(qp, rule) == "params.b"
    del qp["params.b"]
    assert next_to_drop(qp, rule) is None  # a and d significant, two of at most three
    assert next_to_drop(qp, BoxRule(max_restricted=1, significance=0.05)) == "params.d"  # too many: the weaker
    assert next_to_drop({}, rule) is None


def test_the_sentence_names_each_condition_with_its_unit_and_at_most_four() -> None:
    boxes = pd.DataFrame(
        [
            {
                "key": "params.perception.intent_gain",
                "low": 0.8,
                "high": 1.5,
                "prior_low": 0.2,
                "prior_high": 1.5,
                "unit": "1/evidence",
            },
            {
                "key": "params.perception.bloc_spillover",
                "low": 0.0,
                "high": 0.2,
                "prior_low": 0.0,
                "prior_high": 0.5,
                "unit": "1",
            },
            {
                "key": "params.alignment.adjustment_per_quarter",
                "low": 0.05,
                "high": 0.1,
                "prior_low": 0.02,
                "prior_high": 0.15,
                "unit": "1/quarter",
            },
        ]
    ).assign(coverage=0.6, density=0.8, mass=0.1)
    text = sentence(boxes, 0.15, 0.5)
    assert "perception.intent_gain > 0.8 (1/evidence)" in text
    assert "perception.bloc_spillover < 0.2 (dimensionless)" in text
    assert "0.05 < alignment.adjustment_per_quarter < 0.1 (1/quarter)" in text
    assert "covers 60%" in text and "in 80% of the cases inside it (10% of the prior space)" in text
    with pytest.raises(ValueError, match="at most 4"):
        sentence(pd.concat([boxes, boxes], ignore_index=True), 0.15, 0.5)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"max_restricted": 5}, "max_restricted=5"),
        ({"min_coverage": 0.0}, "min_coverage=0.0"),
        ({"significance": 1.0}, "significance=1.0"),
        ({"min_density": 0.8}, "unknown key"),
    ],
)
def test_a_bad_box_rule_is_refused_naming_the_key(section: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BoxRule.from_config(section)


def test_no_box_when_nothing_separates() -> None:
    empty = pd.DataFrame(columns=["key", "low", "high", "prior_low", "prior_high", "unit"])
    assert "no parameter box" in sentence(empty, 0.0, 0.5)


@pytest.mark.slow
def test_end_to_end_writes_boxes_and_refuses_too_few_points(tmp_path: Path) -> None:
    refused = run_module("experiments.scenario_discovery", f"experiment.out={tmp_path / 'few'}", "experiment.points=10")
    assert refused.returncode == 2 and "experiment.points=10" in refused.stderr
    result = run_module(
        "experiments.scenario_discovery",
        f"experiment.out={tmp_path}",
        "experiment.points=24",
        "experiment.min_points=8",
    )
    assert result.returncode == 0, result.stderr
    points = pd.read_csv(tmp_path / "points.csv")
    assert len(points) == 24 and set(points["c0_core_holds"]) <= {True, False}
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["fraction"] == pytest.approx(points["c0_core_holds"].mean())
    assert "prior space" in summary["sentence"]
    assert (tmp_path / "boxes.csv").is_file()


def test_a_run_cut_at_a_year_equals_the_full_run_up_to_it(baseline_params: Params) -> None:
    """Why q2 and scenario discovery may stop their runs at to_year (experiments.common.ending_in)."""
    full = simulate_many([baseline_params], [3], names=("outcomes",))["outcomes"]
    cut = simulate_many([ending_in(baseline_params, 2016)], [3], names=("outcomes",))["outcomes"]
    assert cut["year"].max() == 2016
    kept = full[full["year"] <= 2016].reset_index(drop=True)
    numbers = [c for c in kept.columns if c != "run_id" and pd.api.types.is_numeric_dtype(kept[c])]
    pd.testing.assert_frame_equal(cut[numbers], kept[numbers])
