"""Scores of predictive bands and forecasts: interval score, coverage, baselines (hand-worked cases)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from experiments.calibrate import coverage, validation_summary
from experiments.scoring import interval_score, linear_trend, persistence


def test_interval_score_closed_form() -> None:
    low, high = np.array([1.0, 1.0, 1.0]), np.array([3.0, 3.0, 3.0])
    observed = np.array([2.0, 0.0, 5.0])
    # inside: the width; below by 1: width + 2/0.1 * 1; above by 2: width + 2/0.1 * 2
    np.testing.assert_allclose(interval_score(low, high, observed, 0.1), [2.0, 22.0, 42.0])
    assert interval_score(np.array([1.0]), np.array([1.0]), np.array([1.0]), 0.5)[0] == 0.0
    with pytest.raises(ValueError, match=r"alpha=1\.5"):
        interval_score(low, high, observed, 1.5)


def test_coverage_of_hand_made_bands() -> None:
    points = pd.DataFrame(
        {
            "family": ["a"] * 4 + ["b"] * 2,
            "observed": [0.0, 1.0, 2.0, 10.0, 5.0, 5.0],
            "low": [-1.0, -1.0, -1.0, -1.0, 4.0, 6.0],
            "high": [3.0, 3.0, 3.0, 3.0, 6.0, 7.0],
            "low50": [0.5, 0.5, 0.5, 0.5, 5.0, 6.5],
            "high50": [1.5, 1.5, 1.5, 1.5, 5.0, 6.9],
        }
    )
    assert coverage(points) == {
        "a": {"band50": 0.25, "band90": 0.75, "n": 4},
        "b": {"band50": 0.5, "band90": 0.5, "n": 2},
    }


def test_persistence_carries_the_last_value_with_a_random_walk_band() -> None:
    years, values = np.array([2010, 2011, 2012, 2013]), np.array([1.0, 2.0, 2.0, 4.0])
    forecast = persistence(years, values, 2017, 0.1)
    assert forecast is not None and forecast.point == 4.0
    sd = np.std([1.0, 0.0, 2.0], ddof=1) * np.sqrt(4)  # year-to-year changes, horizon 4
    assert forecast.high - forecast.point == pytest.approx(stats.norm.ppf(0.95) * sd)
    assert persistence(years[:0], values[:0], 2017, 0.1) is None


def test_linear_trend_extends_the_line_with_its_prediction_interval() -> None:
    years, values = np.array([2010, 2011, 2012]), np.array([1.0, 2.0, 3.0])
    forecast = linear_trend(years, values, 2015, 0.1)
    assert forecast is not None
    assert forecast.point == pytest.approx(6.0) and forecast.low == pytest.approx(6.0)  # exact line: no spread
    years, values = np.array([2010, 2011, 2012]), np.array([0.0, 2.0, 1.0])
    forecast = linear_trend(years, values, 2013, 0.1)
    assert forecast is not None and forecast.point == pytest.approx(2.0)  # slope 0.5, intercept at 2011: 1
    residual_sd = np.sqrt((0.5**2 + 1.0**2 + 0.5**2) / 1)
    sd = residual_sd * np.sqrt(1 + 1 / 3 + 2**2 / 2)
    assert forecast.high - forecast.point == pytest.approx(stats.t.ppf(0.95, 1) * sd)
    assert linear_trend(years[:1], values[:1], 2013, 0.1) is None


def test_validation_summary_counts_wins_against_each_baseline() -> None:
    scores = pd.DataFrame(
        {
            "origin": [2015, 2015, 2018],
            "family": ["a", "a", "b"],
            "model_abs_error": [1.0, 3.0, 1.0],
            "model_interval_score": [2.0, 2.0, 2.0],
            "persistence_abs_error": [2.0, 2.0, 0.5],
            "persistence_interval_score": [1.0, 1.0, 1.0],
            "trend_abs_error": [0.5, 4.0, np.nan],
            "trend_interval_score": [1.0, 1.0, np.nan],
        }
    )
    summary = validation_summary(scores)
    assert summary["n_points"] == 3
    assert summary["beats_persistence_share"] == pytest.approx(1 / 3, abs=1e-4)
    assert summary["beats_trend_share"] == pytest.approx(1 / 2)
    assert summary["by_family"]["a"]["beats_persistence_share"] == pytest.approx(0.5)
    assert "does not beat persistence" in summary["statement"] and "b" in summary["statement"]
