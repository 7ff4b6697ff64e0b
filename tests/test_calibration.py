"""Calibration and sensitivity: targets, recovery of known parameters, outputs, the posterior in use."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import run_module

from experiments.calibrate import abc_rejection, run_tables
from experiments.q3_sensitivity import wilson_interval
from experiments.sampling import Prior, latin_hypercube, load_priors
from experiments.targets import load_targets, loss, model_values
from sim.params import Params, with_values

TRUTH = {
    "params.perception.threat_scale": 3.5,
    "params.alignment.balancing_gain": 2.0,
    "params.spending.threat_response": 0.8,
}
PRIORS = [
    Prior("params.perception.threat_scale", 1.0, 6.0),
    Prior("params.alignment.balancing_gain", 0.5, 3.0),
    Prior("params.spending.threat_response", 0.1, 1.5),
]


def test_targets_are_outcomes_up_to_the_last_year_with_weights_summing_to_one() -> None:
    targets = load_targets(2021)
    assert sum(t.weight for t in targets) == pytest.approx(1.0)
    assert {t.family for t in targets} == {
        "japan_spending",
        "sea_spending",
        "japan_opinion",
        "iseas_forced_choice",
        "iseas_trust",
    }
    assert all(t.years.max() <= 2021 and t.years.min() >= 2010 for t in targets)
    japan = next(t for t in targets if t.name == "spending:JPN")
    assert japan.observed[list(japan.years).index(2010)] == pytest.approx(0.95)  # SIPRI, sim/data/sipri_milex.csv
    opinion = next(t for t in targets if t.name == "opinion:JPN")
    assert 2015 not in opinion.years, "a MISSING value is never filled"


def test_loss_is_zero_for_the_model_itself_and_grows_with_error() -> None:
    base = with_values(Params(), {"run.end_year": 2021})
    tables = run_tables(base, 3)
    targets = [
        dataclasses.replace(t, observed=model_values(tables, t).set_index("year")["model"].reindex(t.years).to_numpy())
        for t in load_targets(2021)
    ]
    assert loss(tables, targets) == pytest.approx(0.0, abs=1e-20)
    shifted = [dataclasses.replace(t, observed=t.observed + t.scale) for t in targets]
    assert loss(tables, shifted) == pytest.approx(1.0)  # one scale unit everywhere: weights sum to 1


def test_priors_are_validated() -> None:
    assert len(load_priors([{"key": "params.perception.threat_scale", "low": 1, "high": 2}], Params())) == 1
    with pytest.raises(ValueError, match=r"low=2\.0 >= high=1\.0"):
        load_priors([{"key": "params.perception.threat_scale", "low": 2, "high": 1}], Params())
    with pytest.raises(KeyError, match="names no parameter"):
        load_priors([{"key": "params.perception.nonsense", "low": 0, "high": 1}], Params())
    with pytest.raises(ValueError, match="out of range"):
        load_priors([{"key": "params.perception.intent_decay_per_quarter", "low": 0.5, "high": 1.5}], Params())


def test_latin_hypercube_fills_every_stratum() -> None:
    design = latin_hypercube(PRIORS, 20, seed=1)
    for k, prior in enumerate(PRIORS):
        strata = np.floor((design[:, k] - prior.low) / (prior.high - prior.low) * 20)
        assert sorted(strata) == list(range(20))


@pytest.mark.slow
def test_calibration_on_synthetic_data_recovers_the_parameters() -> None:
    """Data made by the model from known parameters: the truth lies in the posterior's 90% interval."""
    base = with_values(Params(), {"run.end_year": 2021})
    tables = run_tables(with_values(base, TRUTH), 11)
    targets = [
        dataclasses.replace(t, observed=model_values(tables, t).set_index("year")["model"].reindex(t.years).to_numpy())
        for t in load_targets(2021)
    ]
    design, losses, accepted = abc_rejection(base, PRIORS, targets, n_samples=120, accept=12, seed=11, workers=2)
    sample = design[accepted]
    assert losses[accepted].max() <= np.quantile(losses, 0.1) + 1e-12
    narrowed = 0
    for k, prior in enumerate(PRIORS):
        low, high = np.quantile(sample[:, k], [0.05, 0.95])
        assert low <= TRUTH[prior.key] <= high, f"{prior.key}: truth {TRUTH[prior.key]} outside [{low}, {high}]"
        narrowed += (high - low) < 0.6 * (prior.high - prior.low)
    assert narrowed >= 1, "the data inform at least one parameter"


@pytest.mark.slow
def test_calibrate_cli_writes_params_posterior_fits_and_projections(tmp_path: Path) -> None:
    out, params_out = tmp_path / "out", tmp_path / "params"
    result = run_module(
        "experiments.calibrate",
        f"experiment.out={out}",
        f"experiment.params_out={params_out}",
        "experiment.n_samples=12",
        "experiment.accept=3",
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    posterior = json.loads((params_out / "posterior.json").read_text())
    assert len(posterior["samples"]) == 3 and len(posterior["keys"]) == len(posterior["samples"][0])
    assert posterior["losses"] == sorted(posterior["losses"])
    provenance = posterior["provenance"]
    assert set(provenance["data_files_sha256"]) == {
        "sipri_milex.csv",
        "public_opinion_china.csv",
        "iseas_state_of_sea_survey.csv",
    }
    assert {"method", "date", "model_version", "n_samples", "loss_best"} <= set(provenance)
    calibrated = (params_out / "calibrated.yaml").read_text()
    assert "perception:" in calibrated and "Model version" in calibrated
    projections = pd.read_csv(out / "projections.csv")
    assert list(projections.columns) == ["year", "actor", "metric", "median", "low", "high"]
    assert projections["year"].min() == 2022 and projections["year"].max() == 2030
    japan = projections[(projections["actor"] == "JPN") & (projections["metric"] == "spending_share_gdp")]
    assert len(japan) == 9 and (japan["low"] <= japan["median"]).all() and (japan["median"] <= japan["high"]).all()
    assert {"alignment", "china_wants_gap", "w1_criticism", "forced_choice_us_share", "sea_trust_japan"} <= set(
        projections["metric"]
    )
    fit = pd.read_csv(out / "fit.csv")
    assert set(fit["family"]) == {
        "japan_spending",
        "sea_spending",
        "japan_opinion",
        "iseas_forced_choice",
        "iseas_trust",
    }
    assert len(list(out.glob("fit_*.png"))) == 5

    # The posterior in use: each replicate takes its own posterior sample.
    run_dir = tmp_path / "run"
    result = run_module(
        "sim",
        f"hydra.run.dir={run_dir}",
        "posterior=true",
        f"posterior_file={params_out / 'posterior.json'}",
        "replicates=2",
        "tables=[outcomes]",
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["posterior"]["n_samples"] == 12
    assert len({rid.rsplit("-", 1)[1] for rid in meta["run_ids"]}) == 2, "two different parameter sets"


def test_a_missing_posterior_is_refused(tmp_path: Path) -> None:
    result = run_module(
        "sim",
        f"hydra.run.dir={tmp_path / 'run'}",
        "posterior=true",
        f"posterior_file={tmp_path / 'none.json'}",
        timeout=600,
    )
    assert result.returncode == 2
    assert "posterior_file=" in result.stderr and "no such file" in result.stderr
    assert not (tmp_path / "run" / "outcomes.parquet").exists()


def test_wilson_interval() -> None:
    low, high = wilson_interval(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-3) and high == pytest.approx(0.7634, abs=1e-3)
    assert wilson_interval(0, 10)[0] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.slow
def test_q3_sensitivity_cli_tiny(tmp_path: Path) -> None:
    result = run_module(
        "experiments.q3_sensitivity",
        f"experiment.out={tmp_path}",
        "experiment.morris_trajectories=2",
        "experiment.sobol_top=2",
        "experiment.sobol_base=2",
        "experiment.robustness_points=4",
        f"posterior_file={tmp_path / 'absent.json'}",
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    morris = pd.read_csv(tmp_path / "morris.csv")
    assert set(morris["output"]) == {"gap_change", "china_share"}
    assert (morris["mu_star"] >= 0).all()
    sobol = pd.read_csv(tmp_path / "sobol.csv")
    assert len(sobol) == 2 * 2
    robustness = json.loads((tmp_path / "robustness.json").read_text())
    points = pd.read_csv(tmp_path / "robustness_points.csv")
    assert robustness["prior_space"]["c0_holds"] == int(points["c0_holds"].sum())
    low, high = robustness["prior_space"]["wilson_95"]
    assert low <= robustness["prior_space"]["fraction"] <= high
    shares = points[[c for c in points.columns if c.startswith("share_")]].sum(axis=1)
    np.testing.assert_allclose(shares, 1.0, atol=1e-9)
    for name in ("morris.png", "sobol.png", "robustness.png"):
        assert (tmp_path / name).stat().st_size > 5_000
