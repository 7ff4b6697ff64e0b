"""Calibration and sensitivity: targets, recovery of known parameters, outputs, the posterior in use."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyabc
import pytest
from helpers import REPO_ROOT, run_module
from scipy import stats

from experiments.abc_smc import (
    DISCREPANCY_MAX,
    DISCREPANCY_PREFIX,
    SERIES_DF,
    LogitStudentTransition,
    ObservationVariance,
    OrderedBatchSampler,
    SeriesStudentKernel,
    SimulatorModel,
    SmcSettings,
    acceptance_norm,
    conditional_ess,
    discrepancy_priors,
    family_unit,
    last_population,
    next_temperature,
    resample,
    run_points,
    run_smc,
    series_log_density,
    series_scale_draws,
    stored_generations,
    summaries,
)
from experiments.draws import Draw, DrawPlan
from experiments.q2_driver_shares import share_correlations
from experiments.q3_sensitivity import wilson_interval
from experiments.sampling import Prior, latin_hypercube, load_priors
from experiments.targets import load_targets, model_values
from sim.params import Params, with_values
from sim.posterior import load_posterior

PRIORS = [
    Prior("params.perception.threat_scale", 1.0, 6.0),
    Prior("params.alignment.balancing_gain", 0.5, 3.0),
    Prior("params.spending.threat_response", 0.1, 1.5),
]


def test_targets_are_outcomes_up_to_the_last_year_with_their_measurement_error() -> None:
    targets = load_targets(2021)
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
    assert japan.sd[0] == pytest.approx(0.05 * 0.95)  # SIPRI: 5% of the value
    opinion = next(t for t in targets if t.name == "opinion:JPN")
    assert 2015 not in opinion.years, "a MISSING value is never filled"
    p = opinion.observed[0]
    assert opinion.sd[0] == pytest.approx(np.sqrt(p * (1 - p) / 1000))  # Genron: about 1,000 respondents
    vietnam = next(t for t in targets if t.name == "forced_choice:VNM")
    p = vietnam.observed[0]
    assert vietnam.sd[0] == pytest.approx(np.sqrt(p * (1 - p) / 130))  # ISEAS: 1,300 over ten countries
    assert {t.family for t in load_targets(2015)} == {"japan_spending", "sea_spending", "japan_opinion"}


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


# --- sequential ABC (experiments/abc_smc.py) ----------------------------------------------------

TINY_PRIORS = [Prior("params.spending.threat_response", 0.1, 1.5), Prior("params.perception.threat_scale", 1.0, 6.0)]
TINY = SmcSettings(population=5, generations=2, max_points=200, seeds=2, workers=1, seed=3)


def tiny_calibration(db: str) -> None:
    """A calibration small enough for a test (also run in a subprocess that the test kills)."""
    base = with_values(Params(), {"run.end_year": 2021})
    run_smc(base, TINY_PRIORS, load_targets(2021), TINY, Path(db), {"test": "tiny"}, label="tiny")


def _toy_model(par: dict[str, float]) -> dict[str, float]:
    return {"y": par["mu"] + np.random.normal(0.0, 0.5)}  # noqa: NPY002 (pyabc seeds the global generator)


def _toy_population(workers: int, db: Path) -> pd.DataFrame:
    abc = pyabc.ABCSMC(
        _toy_model,
        pyabc.Distribution(mu=pyabc.RV("uniform", -3.0, 6.0)),
        pyabc.PNormDistance(p=2),
        population_size=20,
        sampler=OrderedBatchSampler(workers, seed=7),
    )
    abc.new(f"sqlite:///{db}", {"y": 1.0})
    history = abc.run(max_nr_populations=3)
    abc.sampler.stop()
    return last_population(history)


@pytest.mark.slow
def test_the_sampler_gives_the_same_populations_on_one_worker_or_two(tmp_path: Path) -> None:
    one = _toy_population(1, tmp_path / "one.db")
    two = _toy_population(2, tmp_path / "two.db")
    pd.testing.assert_frame_equal(one, two)
    assert abs(float(np.sum(one["weight"] * one["mu"])) - 1.0) < 1.0, "the posterior moves towards the data"


def test_summaries_of_points_run_together_are_each_points_annual_means() -> None:
    """Two points run side by side: each target's value is the mean over the point's runs of their annual means."""
    targets = load_targets(2021)
    base = with_values(Params(), {"run.end_year": 2021})
    points = [with_values(base, {"params.spending.threat_response": v}) for v in (0.3, 1.2)]
    tables_of_points = run_points(points, [[1, 2], [3, 4]])
    means = summaries(tables_of_points, targets)
    for tables, got in zip(tables_of_points, means, strict=True):
        assert tables["states"]["run_id"].nunique() == 2
        for target in targets:
            expected = model_values(tables, target).groupby("year")["model"].mean().reindex(target.years)
            np.testing.assert_allclose(got[target.name], expected.to_numpy(), rtol=1e-12)
    assert not np.allclose(means[0]["spending:JPN"], means[1]["spending:JPN"])


def test_the_observation_variance_adds_measurement_error_and_the_family_discrepancy() -> None:
    targets = load_targets(2021)
    variance = ObservationVariance.of(targets)
    par = {f"{DISCREPANCY_PREFIX}{f}": 0.1 for f in {t.family for t in targets}}
    expected = np.concatenate([t.sd**2 + (0.1 * family_unit(t)) ** 2 for t in targets])
    np.testing.assert_allclose(variance(par), expected)
    japan = next(t for t in targets if t.name == "spending:JPN")
    assert family_unit(japan) == pytest.approx(float(np.mean(japan.observed)))
    assert [p.key for p in discrepancy_priors(targets)] == [f"{DISCREPANCY_PREFIX}{f}" for f in DISCREPANCY_MAX]


def test_each_series_likelihood_is_a_student_t_of_its_residuals() -> None:
    """The kernel is a sum over series of multivariate t densities (scipy's), scale from the variances."""
    residual, variance = np.array([0.1, -0.3, 0.2]), np.array([0.04, 0.09, 0.01])
    expected = stats.multivariate_t(loc=np.zeros(3), shape=np.diag(variance), df=SERIES_DF).logpdf(residual)
    assert series_log_density(residual, variance) == pytest.approx(expected, rel=1e-12)
    kernel = SeriesStudentKernel(var=lambda _: np.concatenate([variance, [0.25]]), keys=["a", "b"])
    x, x_0 = {"a": residual, "b": np.array([1.0])}, {"a": np.zeros(3), "b": np.array([0.5])}
    one = stats.t(df=SERIES_DF, scale=0.5).logpdf(0.5)
    assert kernel(x, x_0, par={}) == pytest.approx(expected + one, rel=1e-12)


def test_a_series_scale_follows_its_inverse_gamma_given_the_residuals() -> None:
    """lam | q, n ~ InvGamma((df + n) / 2, (df + q) / 2): its mean (df + q) / (df + n - 2)."""
    rng = np.random.default_rng(3)
    for q, n in ((1.0, 12), (30.0, 12), (0.0, 0)):
        draws = series_scale_draws(np.full(200_000, q), np.full(200_000, n), rng)
        mean = (SERIES_DF + q) / (SERIES_DF + n - 2.0)
        assert draws.mean() == pytest.approx(mean, rel=0.03)


def test_the_next_temperature_keeps_the_conditional_ess() -> None:
    """Two equal-weight particles, log densities 0 and -L: CESS(step) = (1 + u)^2 / (2 (1 + u^2)), u = e^(-step L)."""
    weights, density = np.array([0.5, 0.5]), np.array([0.0, -10.0])
    u = 0.5
    target = (1 + u) ** 2 / (2 * (1 + u**2))  # CESS 0.9 at the step ln 2 / 10
    assert conditional_ess(weights, density, np.log(2) / 10) == pytest.approx(target)
    assert next_temperature(weights, density, np.inf, target) == pytest.approx(10 / np.log(2), rel=1e-4)
    beta0 = 1 / 50
    assert next_temperature(weights, density, 50.0, target) == pytest.approx(1 / (beta0 + np.log(2) / 10), rel=1e-4)
    assert next_temperature(weights, np.array([-3.0, -3.0]), np.inf, 0.99) == 1.0, "equal densities: straight to T=1"
    assert next_temperature(weights, density, 1.0, 0.5) == 1.0, "never below 1"


def test_the_acceptance_norm_is_lowered_to_the_target_rate() -> None:
    weights, density = np.full(4, 0.25), np.array([0.0, -1.0, -2.0, -30.0])
    assert acceptance_norm(weights, density, 100.0, 0.3) == 0.0, "the highest density when enough are accepted"
    c = acceptance_norm(weights, density, 1.0, 0.5)
    rate = np.mean(np.minimum(1.0, np.exp(density - c)))
    assert rate == pytest.approx(0.5) and c < 0.0


def test_the_logit_student_proposal_stays_in_the_box_and_is_a_density() -> None:
    """Draws lie inside the prior box; the uniform prior's importance weights average to 1, falling at the edges."""
    rng = np.random.default_rng(2)
    bounds = {"a": (0.0, 1.0), "b": (2.0, 6.0), "c": (-1.0, 1.0)}
    particles = pd.DataFrame(
        {"a": rng.beta(2, 5, 50), "b": 2.0 + 4.0 * rng.beta(5, 2, 50), "c": rng.uniform(-1, 1, 50)}
    )
    transition = LogitStudentTransition(bounds)
    transition.fit(particles, np.full(50, 1 / 50))
    np.random.seed(3)  # noqa: NPY002 (pyabc's transitions draw from numpy's global generator)
    draws = pd.DataFrame([dict(transition.rvs_single()) for _ in range(20_000)])
    assert all(draws[k].between(*bounds[k]).all() for k in bounds)
    assert draws["a"].std() < 0.2 and draws["c"].std() == pytest.approx(2 / np.sqrt(12), rel=0.05), "c: from its prior"
    weights = (1.0 / 8.0) / transition.pdf(draws)  # uniform prior density over the box / proposal density
    assert abs(float(np.mean(weights)) - 1.0) < 4.0 * float(np.std(weights)) / np.sqrt(len(weights))  # 4 errors
    edge = pd.DataFrame({"a": [1 - 1e-3, 1 - 1e-6, 1 - 1e-9], "b": 4.0, "c": 0.0})
    assert np.all(np.diff((1.0 / 8.0) / transition.pdf(edge)) < 0), "the t's tails: weights fall towards the edge"
    assert transition.pdf(draws.iloc[0]) == pytest.approx(transition.pdf(draws.iloc[:1])[0])


def test_a_weighted_posterior_runs_its_samples_as_often_as_their_weights_say(tmp_path: Path) -> None:
    path = tmp_path / "posterior.json"
    payload = {"keys": ["params.perception.threat_scale"], "samples": [[2.0], [3.0], [4.0], [5.0]]}
    path.write_text(json.dumps(payload | {"losses": [1, 1, 1, 1], "weights": [0.0, 0.5, 0.25, 0.25]}))
    posterior = load_posterior(str(path))
    values = [posterior.params(Params(), k).params.perception.threat_scale for k in range(4)]
    assert sorted(values) == [3.0, 3.0, 4.0, 5.0]
    path.write_text(json.dumps(payload | {"losses": [1, 1, 1, 1], "weights": [0.0, -1.0, 1.0, 1.0]}))
    with pytest.raises(ValueError, match="weights"):
        load_posterior(str(path))


def test_resampling_follows_the_weights() -> None:
    population = pd.DataFrame({"x": [0.0, 1.0, 2.0], "weight": [0.5, 0.5, 0.0]})
    draws = resample(population, 1000, seed=1)
    assert set(draws["x"]) == {0.0, 1.0} and (draws["x"] == 0.0).sum() == 500


@pytest.mark.slow
def test_a_killed_calibration_resumes_to_the_same_posterior(tmp_path: Path) -> None:
    """Killed (SIGKILL) after its first generation, the calibration resumes and ends as if never stopped."""
    whole = tmp_path / "whole.db"
    tiny_calibration(str(whole))
    killed = tmp_path / "killed.db"
    code = (
        "import sys; sys.path.insert(0, 'tests'); "
        f"from test_calibration import tiny_calibration; tiny_calibration({str(killed)!r})"
    )
    process = subprocess.Popen([sys.executable, "-c", code], cwd=REPO_ROOT, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and process.poll() is None:
            if stored_generations(killed) >= 1:
                break
            time.sleep(0.2)
    finally:
        process.kill()
        process.wait()
    assert 1 <= stored_generations(killed) < TINY.generations, "killed before the end"
    tiny_calibration(str(killed))
    expected = last_population(pyabc.History(f"sqlite:///{whole}"))
    pd.testing.assert_frame_equal(last_population(pyabc.History(f"sqlite:///{killed}")), expected)


@pytest.mark.slow
def test_calibration_on_synthetic_data_recovers_the_parameters(tmp_path: Path) -> None:
    """Data made by the model from a known point: the truth lies in the posterior's 90% interval."""
    truth = {"params.spending.threat_response": 0.8, "params.perception.threat_scale": 3.5}
    base = with_values(Params(), {"run.end_year": 2021})
    model = SimulatorModel(base, tuple(TINY_PRIORS), tuple(load_targets(2021)), seeds=4)
    np.random.seed(11)  # noqa: NPY002 (the model draws its seeds from numpy's global generator)
    made = model.sample(truth)
    targets = [dataclasses.replace(t, observed=made[t.name]) for t in load_targets(2021)]
    settings = SmcSettings(population=30, generations=4, max_points=600, seeds=4, workers=2, seed=5)
    history, _ = run_smc(base, TINY_PRIORS, targets, settings, tmp_path / "syn.db", {"test": "synthetic"})
    population = last_population(history)
    for prior in TINY_PRIORS:
        draws = resample(population, 2000, seed=1)[prior.key]
        low, high = np.quantile(draws, [0.05, 0.95])
        assert low <= truth[prior.key] <= high, f"{prior.key}: truth {truth[prior.key]} outside [{low}, {high}]"


@pytest.mark.slow
def test_calibrate_cli_writes_posterior_checks_validation_and_projections(tmp_path: Path) -> None:
    out, params_out = tmp_path / "out", tmp_path / "params"
    result = run_module(
        "experiments.calibrate",
        f"experiment.out={out}",
        f"experiment.params_out={params_out}",
        "experiment.seeds=2",
        "experiment.population=4",
        "experiment.early_population=4",
        "experiment.origin_early_population=4",
        "experiment.generations=5",
        "experiment.max_points=20",  # the budget stops it after its first generation
        "experiment.min_ess=2",
        "experiment.origin_min_ess=2",
        "experiment.origins=[2018]",
        "experiment.origin_population=4",
        "experiment.origin_generations=5",
        "experiment.origin_max_points=20",
        "experiment.posterior_draws=8",
        "experiment.predictive_draws=3",
        "experiment.origin_predictive_draws=2",
        timeout=1800,
    )
    assert result.returncode == 0, result.stderr
    posterior = json.loads((params_out / "posterior.json").read_text())
    assert len(posterior["samples"]) == len(posterior["weights"]) == 4, "every particle of the last generation"
    assert sum(posterior["weights"]) == pytest.approx(1.0) and len(posterior["keys"]) == len(posterior["samples"][0])
    assert len(posterior["observation"]["keys"]) == 5
    provenance = posterior["provenance"]
    assert set(provenance["data_files_sha256"]) == {
        "sipri_milex.csv",
        "public_opinion_china.csv",
        "iseas_state_of_sea_survey.csv",
    }
    assert provenance["simulations"] == provenance["n_samples"] * 2
    assert "perception:" in (params_out / "calibrated.yaml").read_text()
    checks_file = json.loads((out / "checks.json").read_text())
    checks, left_out = checks_file["coverage"], checks_file["coverage_loo"]
    assert set(checks) == set(left_out) == set(DISCREPANCY_MAX)
    assert all(0.0 <= c["band50"] <= c["band90"] <= 1.0 and c["n"] > 0 for c in checks.values())
    for family, entry in left_out.items():
        assert entry["n"] == checks[family]["n"] and 0.0 <= entry["band50"] <= entry["band90"] <= 1.0
        assert 0.0 <= entry["truncated_share"] <= 1.0 and 1.0 <= entry["ess_min"] <= 3.0  # of 3 draws
    chances = [c["binomial_p"][band] for c in (*checks.values(), *left_out.values()) for band in ("band50", "band90")]
    assert all(0.0 < p <= 1.0 for p in chances)
    validation = json.loads((out / "validation.json").read_text())
    assert {"n_points", "beats_persistence_share", "beats_trend_share", "by_family", "statement"} <= set(validation)
    projections = pd.read_csv(out / "projections.csv")
    assert list(projections.columns) == ["year", "actor", "metric", "median", "low", "high", "low50", "high50"]
    assert projections["year"].min() == 2010 and projections["year"].max() == 2030
    assert set(projections["metric"]) == {
        "spending_share_gdp",
        "genron_unfavourable_of_china",
        "iseas_trust_in_china",
        "iseas_trust_in_japan",
        "iseas_trust_in_us",
        "iseas_choose_us",
    }
    assert {"ASEAN", "VNM", "PHL"} <= set(projections.loc[projections["metric"] == "iseas_choose_us", "actor"])
    ordered = (projections["low"] <= projections["low50"]) & (projections["low50"] <= projections["median"])
    assert (
        ordered & (projections["median"] <= projections["high50"]) & (projections["high50"] <= projections["high"])
    ).all()
    ident = pd.read_csv(out / "identifiability.csv")
    assert len(ident) == len(posterior["keys"]) + 5 and (ident["sd_ratio"] >= 0).all()
    for name in ("checks.png", "validation.png", "identifiability.png", "fit_japan_spending.png"):
        assert (out / name).stat().st_size > 5_000

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


def test_the_share_correlation_ranks_each_parameter_with_chinas_share() -> None:
    """China's share rises with one parameter, falls with another, ignores a constant one."""
    a = np.linspace(0.0, 1.0, 8)
    plan = DrawPlan(
        "posterior", tuple(Draw(k, k, {"a": a[k], "b": -(a[k] ** 3), "c": 1.0}, (k,)) for k in range(8)), {}
    )
    china = 0.2 + 0.5 * a**2
    shares = {"narrow": np.column_stack([china, 1.0 - china])}
    table = share_correlations(plan, shares, {"narrow": (("China", "Others"), "China")}).set_index("key")
    assert table.loc["a", "spearman_narrow"] == pytest.approx(1.0)
    assert table.loc["b", "spearman_narrow"] == pytest.approx(-1.0)
    assert np.isnan(table.loc["c", "spearman_narrow"])
