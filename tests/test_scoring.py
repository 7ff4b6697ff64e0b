"""Scores of predictive bands and forecasts: interval score, coverage, baselines (hand-worked cases)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from experiments.calibrate import coverage, loo_coverage, rolling_origin_validation, validation_summary, with_chance
from experiments.scoring import (
    band_chance,
    interval_score,
    linear_trend,
    loo_weights,
    persistence,
    weighted_quantiles,
)


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


def test_band_chance_of_hand_counted_cases() -> None:
    # 7 of 9 inside a 50% band: P(X >= 7) + P(X <= 2) = 2 (36 + 9 + 1) / 512
    assert band_chance(7, 9, 0.5) == pytest.approx(92 / 512)
    assert band_chance(2, 9, 0.5) == pytest.approx(92 / 512)  # as far below n/2
    # 2 misses of 10 from a 90% band: P(misses >= 2) = 1 - 0.9**10 - 10 * 0.1 * 0.9**9
    assert band_chance(8, 10, 0.9) == pytest.approx(1 - 0.9**10 - 10 * 0.1 * 0.9**9)
    assert band_chance(10, 10, 0.9) == 1.0
    with pytest.raises(ValueError, match="inside_count=10, n=9"):
        band_chance(10, 9, 0.5)


def test_with_chance_adds_the_binomial_probabilities_to_each_family() -> None:
    checked = with_chance({"japan_opinion": {"band50": 0.7778, "band90": 1.0, "n": 9}})
    assert checked["japan_opinion"]["band50"] == 0.7778 and checked["japan_opinion"]["n"] == 9
    assert checked["japan_opinion"]["binomial_p"] == {"band50": pytest.approx(0.1797, abs=1e-4), "band90": 1.0}


def test_loo_weights_and_weighted_quantiles_by_hand() -> None:
    # p(y | draw) = 1, 1/2, 1/4, 1/2: raw weights 1, 2, 4, 2 (mean 2.25, cap 4.5: not truncated)
    weights, truncated = loo_weights(np.log([1.0, 0.5, 0.25, 0.5]))
    np.testing.assert_allclose(weights, np.array([1.0, 2.0, 4.0, 2.0]) / 9.0)
    assert not truncated
    # sorted draws 1, 2, 3, 4 with weights 2/9, 4/9, 1/9, 2/9: cumulative 2/9, 6/9, 7/9, 1, plotting
    # positions (S - w) / (1 - w) = 0, 0.4, 0.75, 1
    quantiles = weighted_quantiles(np.array([3.0, 1.0, 2.0, 4.0]), weights, [0.05, 0.25, 0.5, 0.75, 0.95])
    np.testing.assert_allclose(quantiles, [1.125, 1.625, 2.0 + 0.1 / 0.35, 3.0, 3.8])
    # one draw far less likely: raw 1/100 -> weight 100 > cap mean * sqrt(4) = 51.5
    weights, truncated = loo_weights(np.log([1.0, 1.0, 1.0, 0.01]))
    np.testing.assert_allclose(weights, np.array([1.0, 1.0, 1.0, 51.5]) / 54.5)
    assert truncated


def test_equally_likely_draws_give_the_in_sample_band() -> None:
    values = np.random.default_rng(3).normal(size=57)
    weights, truncated = loo_weights(np.full(57, -1.3))
    probabilities = [0.05, 0.25, 0.75, 0.95]
    np.testing.assert_allclose(weighted_quantiles(values, weights, probabilities), np.quantile(values, probabilities))
    assert not truncated
    # through loo_coverage: draws of equal mean and sd have equal densities; its bands are pandas' quantiles
    frame = pd.DataFrame(
        {"year": 2015, "actor": "JPN", "metric": "m", "draw": np.arange(57), "expected": 0.0, "sd": 1.0}
    ).assign(value=values)
    band = pd.Series(values).quantile(probabilities).to_numpy()
    points = pd.DataFrame({"target": ["t", "u"], "family": "f", "year": 2015, "actor": "JPN", "metric": "m"})
    points = points.assign(observed=[(band[1] + band[2]) / 2, band[3] + 0.01])  # inside both; above the 90% band
    loo = loo_coverage(frame, points)
    assert loo == {"f": {"band50": 0.5, "band90": 0.5, "n": 2, "truncated_share": 0.0, "ess_min": 57.0}}


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


def test_no_origins_skip_the_validation_without_calibrating() -> None:
    """An empty ``experiment.origins`` (a replicate calibration) calibrates nothing and writes that it did not."""

    class Writes:  # an experiment that only records what is written: calibrating would fail on it
        def __init__(self) -> None:
            self.written: dict[str, object] = {}

        def write_json(self, name: str, value: object) -> None:
            self.written[name] = value

    experiment = Writes()
    summary = rolling_origin_validation(experiment, [], [], 2021, 1)  # type: ignore[arg-type]
    assert summary["origins"] == [] and "not run" in summary["statement"]
    assert experiment.written == {"validation": summary}
