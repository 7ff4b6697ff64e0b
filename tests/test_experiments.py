"""Experiments end to end (reduced replicate counts): outputs, checks, the claim test failing, resuming."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import run_module

from experiments.q4_hysteresis import junctures
from experiments.q5_asean_alignment import classify, direction, split_hedge
from sim import drivers as registry
from sim import store

FAST = ("experiment.draws=2",)  # two posterior draws, one run each per counterfactual
# Three posterior draws of the headline and two of each rival alignment rule (by_theory), one run each
# per coalition.
Q2_FAST = ("experiment.draws=3", "experiment.theories.draws=2")
Q2_DRAWS = 3 + 2 * 2
Q2_MAIN_DRAWS = 3  # the pattern filter checks the main posterior's draws


def experiment(name: str, out: Path, *overrides: str) -> subprocess.CompletedProcess[str]:
    return run_module(f"experiments.{name}", f"experiment.out={out}", *overrides)


# --- pure parts -------------------------------------------------------------------------------


def test_juncture_is_the_first_year_from_which_a_run_never_returns() -> None:
    years = [2014, 2016, 2018, 2020]
    flags = pd.DataFrame(
        {
            2014: [True, True, False, True],
            2016: [True, False, False, True],
            2018: [False, True, False, True],
            2020: [False, False, False, True],
        },
        index=[1, 2, 3, 4],
    )
    result = junctures(flags, years)
    assert result[1] == 2018  # returns for 2014 and 2016 only
    assert result[2] == 2020  # returns again for 2018: the juncture is after it
    assert result[3] == 2014  # never returns: left-censored at the first year
    assert np.isnan(result[4])  # always returns: no juncture in the window


def test_classification_by_level_and_direction() -> None:
    assert list(classify(np.array([0.5, 0.33, 0.0, -0.33, -0.4]), 0.33)) == [
        "balancing",
        "hedging",
        "hedging",
        "hedging",
        "bandwagoning",
    ]
    # Cambodia at -0.4 after rising from -0.6 bandwagons, moving toward the US
    assert list(direction(np.array([0.2, 0.1, -0.05, -0.2]), 0.1)) == [
        "toward the US",
        "steady",
        "steady",
        "toward China",
    ]


def test_split_hedge_needs_opposite_sides_and_a_gap() -> None:
    security = np.array([0.3, 0.3, 0.1, -0.4, 0.5, 0.0])
    economic = np.array([-0.2, -0.01, -0.1, 0.2, 0.2, -0.6])
    # security with the US and economy with China 0.5 apart: split; 0.31 apart: not beyond 0.33;
    # opposite sides 0.2 apart: no; the reverse hedge counts too; same side: no; at 0: no.
    assert list(split_hedge(security, economic, 0.33)) == [True, False, False, True, False, False]
    assert list(split_hedge(security, economic, 0.0)) == [True, True, True, True, False, False]


# --- end to end ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_q2_shares_sum_to_the_total_and_state_a_verdict(tmp_path: Path) -> None:
    result = experiment("q2_driver_shares", tmp_path, *Q2_FAST)
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(tmp_path / "driver_shares.csv")
    verdict = json.loads((tmp_path / "verdict.json").read_text())
    assert list(table.columns[:3]) == ["driver", "owner", "dimension"]
    assert len(table) == len(registry.names()) * 6  # every driver, W1..W5 and the gap
    for _, by_dimension in table.groupby("dimension"):  # efficiency in every dimension
        assert by_dimension["share"].sum() == pytest.approx(1.0, abs=1e-9)
        assert by_dimension["owen_share"].sum() == pytest.approx(1.0, abs=1e-9)
    shares = table[table["dimension"] == "china_wants_gap"].reset_index(drop=True)
    assert list(shares["driver"]) == list(registry.names())
    assert shares["contribution"].sum() == pytest.approx(verdict["total_change"], abs=1e-9)
    assert verdict["contributions_sum_error_max"] < 1e-9
    assert (verdict["parameter_source"], verdict["n_draws"]) == ("posterior", 3)
    narrow = verdict["definitions"]["narrow"]
    assert narrow["grade"] in ("supported", "contradicted", "undetermined")
    draws = pd.read_csv(tmp_path / "draws.csv")
    assert narrow["p_china_share_above_half"] == pytest.approx(float((draws["china_coercion"] > 0.5).mean()))
    assert verdict["supported"] == {"supported": True, "contradicted": False, "undetermined": None}[narrow["grade"]]
    assert verdict["largest_driver"] == shares.loc[shares["share"].idxmax(), "driver"]
    assert (tmp_path / "share_distributions.png").stat().st_size > 10_000
    # The pattern filter (at least 11 of 13 patterns, at least 20 such draws): 3 draws cannot grade it.
    consistent = verdict["pattern_consistent"]
    assert sum(consistent["patterns_held_per_draw"].values()) == Q2_MAIN_DRAWS
    assert consistent["n_draws"] == sum(n for k, n in consistent["patterns_held_per_draw"].items() if int(k) >= 11)
    assert consistent["narrow"]["grade"] == "undetermined" and "at least 20" in consistent["narrow"]["reason"]
    # The shipped posterior pools calibrations: the same draws graded within each one they come from.
    calibrations = verdict["by_calibration"]["calibrations"]
    assert sum(c["narrow"]["n_draws"] for c in calibrations) == Q2_MAIN_DRAWS
    assert {c["seed"] for c in calibrations} <= {2024, 2025, 2026, 2027}
    assert all(c["narrow"]["grade"] in ("supported", "contradicted", "undetermined") for c in calibrations)
    # Run again with a filter every draw passes: every coalition run comes from the cache (the pattern
    # check of each draw is run again), and the filtered verdict is the whole sample's.
    again = experiment(
        "q2_driver_shares",
        tmp_path,
        *Q2_FAST,
        "experiment.pattern_filter.min_patterns=0",
        "experiment.pattern_filter.min_draws=1",
    )
    assert again.returncode == 0, again.stderr
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["runs_simulated"] == Q2_MAIN_DRAWS
    assert meta["runs_from_cache"] == 2 ** len(registry.names()) * Q2_DRAWS
    verdict = json.loads((tmp_path / "verdict.json").read_text())
    assert verdict["pattern_consistent"]["n_draws"] == Q2_MAIN_DRAWS
    for key in ("grade", "p_china_share_above_half", "p_china_largest", "china_share"):
        assert verdict["pattern_consistent"]["narrow"][key] == verdict["definitions"]["narrow"][key]
    for name, drivers in (("narrow", ["china_coercion"]), ("broad", list(registry.owned_by("CHN")))):
        definition = verdict["definitions"][name]
        assert definition["china_drivers"] == drivers
        assert definition["grade"] in ("supported", "contradicted", "undetermined")
        low, high = definition["china_share"]["interval_90"]
        assert low <= definition["china_share"]["median"] <= high


@pytest.mark.slow
def test_q2_with_default_parameters_is_labelled_an_illustration(tmp_path: Path) -> None:
    result = experiment("q2_driver_shares", tmp_path, "experiment.parameter_source=defaults", "replicates=2")
    assert result.returncode == 0, result.stderr
    verdict = json.loads((tmp_path / "verdict.json").read_text())
    assert (verdict["parameter_source"], verdict["n_draws"]) == ("defaults", 2)
    assert "illustration" in verdict["parameters"]["note"]


@pytest.mark.slow
def test_the_claim_test_can_fail(tmp_path: Path) -> None:
    """North Korea's provocations much stronger, China's coercion much weaker: C0 must not hold."""
    result = experiment(
        "q2_driver_shares",
        tmp_path,
        "experiment.parameter_source=defaults",
        "replicates=2",
        "drivers.nk_provocation.scale=5",
        "drivers.china_coercion.scale=0.2",
    )
    assert result.returncode == 0, result.stderr
    verdict = json.loads((tmp_path / "verdict.json").read_text())
    assert verdict["largest_driver"] == "nk_provocation"
    assert verdict["definitions"]["narrow"]["grade"] == "contradicted"
    assert verdict["supported"] is False


@pytest.mark.slow
def test_q1_effects_are_paired_differences(tmp_path: Path) -> None:
    result = experiment("q1_counterfactuals", tmp_path, *FAST, "experiment.years=[2016,2024]")
    assert result.returncode == 0, result.stderr
    effects = pd.read_csv(tmp_path / "effects.csv")
    assert set(effects["scenario"]) == {f"no_{d}" for d in registry.names()}  # one per registered driver
    assert set(effects["year"]) == {2016, 2024}
    np.testing.assert_allclose(effects["effect"], effects["counterfactual"] - effects["baseline"], atol=1e-12)
    gap = effects[(effects["outcome"] == "china_wants_gap") & (effects["scenario"] == "no_china_coercion")]
    assert (gap["effect"] < 0).all(), "without coercion Japan's gap is lower"
    states = pd.read_csv(tmp_path / "sea_states.csv")
    assert set(states["actor"]) == {"BRN", "KHM", "IDN", "LAO", "MYS", "MMR", "PHL", "SGP", "THA", "VNM"}
    assert (tmp_path / "effects.png").is_file()


@pytest.mark.slow
def test_q4_and_q5_write_their_tables(tmp_path: Path) -> None:
    q4 = experiment("q4_hysteresis", tmp_path / "q4", *FAST, "experiment.restraint_years=[2014,2022,2030]")
    assert q4.returncode == 0, q4.stderr
    curve = pd.read_csv(tmp_path / "q4" / "hysteresis.csv")
    assert list(curve["restraint_year"]) == [2014, 2022, 2030]
    assert curve["excess_over_never_coerced"].is_monotonic_increasing, "later restraint leaves more of the shift"
    juncture = json.loads((tmp_path / "q4" / "juncture.json").read_text())
    assert juncture["runs"] == 2
    q5 = experiment("q5_asean_alignment", tmp_path / "q5", *FAST)
    assert q5.returncode == 0, q5.stderr
    table = pd.read_csv(tmp_path / "q5" / "classification.csv")
    assert set(table["class"]) <= {"balancing", "hedging", "bandwagoning"}
    assert set(table["direction"]) <= {"toward China", "steady", "toward the US"}
    # the class follows the level: a state on China's side of -level bandwagons whatever its direction
    assert (table.loc[table["alignment_end"] < -0.5, "class"] == "bandwagoning").all()
    shares = table[["share_bandwagoning", "share_hedging", "share_balancing"]].sum(axis=1)
    np.testing.assert_allclose(shares, 1.0)
    assert len(table) == 2 * 10
    # Kuik's hedge on the two alignments: the split's point is the difference of the two means
    # (every draw has the same runs), inside its interval, and a share of runs.
    np.testing.assert_allclose(table["gap_end"], table["security_end"] - table["economic_end"], atol=1e-12)
    assert (table["gap_low"] <= table["gap_end"] + 1e-12).all()
    assert (table["gap_end"] <= table["gap_high"] + 1e-12).all()
    assert table["share_split"].between(0.0, 1.0).all()
    assert table[["security_end", "economic_end"]].abs().le(1.0).all().all()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (("experiment.years=[1990]",), "outside the run"),
        (("replicates=0",), "replicates=0"),
        (("experiment.draws=0",), "experiment.draws=0"),
        (("experiment.parameter_source=guess",), "experiment.parameter_source='guess'"),
    ],
)
def test_bad_input_is_refused(tmp_path: Path, overrides: tuple[str, ...], message: str) -> None:
    result = experiment("q1_counterfactuals", tmp_path, *overrides)
    assert result.returncode == 2
    assert message in result.stderr
    assert not (tmp_path / "effects.csv").exists()


@pytest.mark.slow
def test_a_folder_of_another_model_version_is_refused_and_kept(tmp_path: Path) -> None:
    meta = {"model_version": "0.0.1+000000000000", "experiment": "q5_asean_alignment"}
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    (tmp_path / "classification.csv").write_text("old results\n")
    result = experiment("q5_asean_alignment", tmp_path, *FAST)
    assert result.returncode == 2
    assert "model version '0.0.1+000000000000'" in result.stderr and store.model_version() in result.stderr
    assert (tmp_path / "classification.csv").read_text() == "old results\n"
    assert json.loads((tmp_path / "meta.json").read_text()) == meta


@pytest.mark.slow
def test_an_interrupted_experiment_finishes_what_is_missing(tmp_path: Path) -> None:
    three = ("experiment.draws=3",)  # each draw runs both scenarios side by side, its tables in its own files
    first = experiment("q5_asean_alignment", tmp_path, *three)
    assert first.returncode == 0, first.stderr
    table = pd.read_csv(tmp_path / "classification.csv")
    first_draw = sorted((tmp_path / "runs").glob("draw-*.states.parquet"))[0].name.split(".")[0]
    for path in (tmp_path / "runs").glob(f"{first_draw}.*"):  # as if interrupted before this draw's tables
        path.unlink()
    # A cached table with one flipped bit is not trusted: its draw is redone too.
    corrupt = sorted((tmp_path / "runs").glob("draw-*.states.parquet"))[0]
    data = bytearray(corrupt.read_bytes())
    data[len(data) // 2] ^= 0x01
    corrupt.write_bytes(bytes(data))
    (tmp_path / "classification.csv").unlink()
    second = experiment("q5_asean_alignment", tmp_path, *three)
    assert second.returncode == 0, second.stderr
    assert f"{corrupt} does not match its recorded sha256" in second.stdout + second.stderr
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["runs_simulated"] == 4 and meta["runs_from_cache"] == 2  # two draws redone (2 scenarios each), one kept
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "classification.csv"), table)
