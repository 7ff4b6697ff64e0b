"""Scenario discovery (experiments/scenario_discovery.py): PRIM finds a planted box; the sentence states it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import run_module

from experiments.sampling import Prior
from experiments.scenario_discovery import choose_box, discover, sentence

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
    boxes, trajectory, chosen, figure = discover(x, y, PRIORS, min_density=0.9, peel_alpha=0.05)
    limits = boxes.set_index("key")
    assert set(limits.index) == {"params.a", "params.b"}, "c is irrelevant and stays unrestricted"
    assert limits.loc["params.a", "low"] == pytest.approx(0.6, abs=0.05)
    assert limits.loc["params.b", "high"] == pytest.approx(1.0, abs=0.1)
    assert boxes["density"].iloc[0] >= 0.9 and boxes["coverage"].iloc[0] > 0.8
    assert trajectory.loc[chosen, "density"] == boxes["density"].iloc[0]
    text = sentence(boxes, float(y.mean()), 0.5)
    assert f"a > {limits.loc['params.a', 'low']:.3g}" in text and f"b < {limits.loc['params.b', 'high']:.3g}" in text
    assert f"covers {boxes['coverage'].iloc[0]:.0%}" in text
    assert f"{y.mean():.0%} of the prior space" in text
    assert figure.axes


def test_the_chosen_box_is_the_widest_dense_enough_one() -> None:
    trajectory = pd.DataFrame({"coverage": [1.0, 0.9, 0.7, 0.4], "density": [0.2, 0.6, 0.85, 0.95]})
    assert choose_box(trajectory, 0.8) == 2
    assert choose_box(trajectory, 0.99) == 3  # none dense enough: the densest


def test_no_box_when_nothing_separates() -> None:
    empty = pd.DataFrame(columns=["key", "low", "high", "prior_low", "prior_high"])
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
