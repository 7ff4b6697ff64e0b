"""Rival theories: priors per rule, ABC model choice (experiments/theories.py), C0 under each rule, the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyabc
import pytest
import yaml
from helpers import REPO_ROOT, compose_params, run_module

from experiments import report, theories, theory_verdicts, verdict
from experiments.abc_smc import OrderedBatchSampler
from experiments.common import ExperimentError
from sim import drivers as registry
from sim.params import ALIGNMENT_RULES, with_values
from sim.posterior import load_posterior


def test_each_rule_samples_the_shared_priors_and_only_its_own_parameters() -> None:
    base = compose_params([])
    shared = [
        {"key": "params.alignment.balancing_gain", "low": 0.5, "high": 3.0},
        {"key": "params.perception.intent_gain", "low": 0.2, "high": 1.5},
    ]
    own = {
        "balance_of_threat": [{"key": "params.alignment.balancing_gain", "low": 0.5, "high": 3.0}],
        "landscape": [{"key": "params.landscape.gain", "low": 0.25, "high": 4.0}],
    }
    priors = theories.rule_priors(shared, own, ["balance_of_threat", "landscape", "balance_of_power"], base)
    keys = {rule: [p.key for p in ps] for rule, ps in priors.items()}
    assert keys["balance_of_threat"] == ["params.perception.intent_gain", "params.alignment.balancing_gain"]
    assert keys["landscape"] == ["params.perception.intent_gain", "params.landscape.gain"]
    assert keys["balance_of_power"] == ["params.perception.intent_gain"]
    with pytest.raises(ExperimentError, match="walt"):
        theories.rule_priors(shared, {"walt": []}, ["landscape"], base)


def _near(par: dict[str, float]) -> dict[str, float]:
    return {"y": par["mu"] + np.random.normal(0.0, 0.3)}  # noqa: NPY002 (pyabc seeds the global generator)


def _far(par: dict[str, float]) -> dict[str, float]:
    return {"y": par["mu"] + 6.0 + np.random.normal(0.0, 0.3)}  # noqa: NPY002


def test_model_choice_gives_each_rules_probability_and_its_posterior_from_its_last_generation_alive(
    tmp_path: Path,
) -> None:
    """Two toy models of y = 0, one of which cannot produce it: pyabc's model choice kills it; its posterior is
    taken from the last generation in which it was alive, its probability is that of the last generation."""
    prior = pyabc.Distribution(mu=pyabc.RV("uniform", -2.0, 4.0))
    abc = pyabc.ABCSMC(
        [_near, _far],
        [prior, prior],
        pyabc.PNormDistance(p=2),
        population_size=30,
        eps=pyabc.ListEpsilon([7.0, 3.0, 1.0]),
        sampler=OrderedBatchSampler(1, seed=4),
    )
    abc.new(f"sqlite:///{tmp_path / 'toy.db'}", {"y": 0.0})
    history = abc.run(max_nr_populations=3)
    table = theories.model_probabilities(history, ["near", "far"])
    assert list(table["t"]) == [0, 1, 2] and list(table["temperature"]) == [7.0, 3.0, 1.0]
    np.testing.assert_allclose(table[["near", "far"]].sum(axis=1), 1.0)
    assert table["far"].iloc[0] > 0 and table["far"].iloc[-1] == 0.0  # alive at first, then rejected
    fits = theories.rule_fits(history, ["near", "far"], 50, seed=1)
    assert fits["near"].probability == 1.0 and fits["near"].generation == 2 and len(fits["near"].draws) == 50
    assert 1.0 <= fits["near"].effective_sample_size <= fits["near"].particles
    alive = int(table.loc[table["far"] > 0, "t"].max())
    assert fits["far"].probability == 0.0 and fits["far"].generation == alive
    assert fits["far"].temperature == table.loc[alive, "temperature"] and fits["far"].particles > 0
    assert abs(float(fits["near"].draws["mu"].mean())) < 1.0  # its posterior moved towards the data


def test_averaged_sample_mixes_the_rules_by_probability() -> None:
    shares = {"a": np.zeros((3, 2)), "b": np.ones((5, 2)), "c": np.full((2, 2), 2.0)}
    mixture, distinct = theory_verdicts.averaged_sample(shares, {"a": 0.25, "b": 0.75, "c": 0.0}, 20000, 1)
    assert mixture.shape == (20000, 2)
    assert np.mean(mixture[:, 0] == 1.0) == pytest.approx(0.75, abs=0.02)
    assert not np.any(mixture == 2.0)  # a rule of probability 0 contributes nothing
    assert distinct == 3 + 5  # 20000 resamples of the 8 draws of the rules with weight


def test_a_mixture_of_four_draws_counts_four_and_is_flagged_below_the_minimum() -> None:
    shares = {"a": np.array([[0.9, 0.1], [0.8, 0.2]]), "b": np.array([[0.7, 0.3], [0.6, 0.4]])}
    mixture, distinct = theory_verdicts.averaged_sample(shares, {"a": 0.5, "b": 0.5}, 500, 2)
    assert len(mixture) == 500 and distinct == 4
    graded = {"grade": "supported", "p_china_share_above_half": 1.0}
    flagged = theory_verdicts.flag_small_sample(graded, distinct, 10)
    assert (
        flagged["too_few_draws"] and flagged["grade"] == "undetermined" and flagged["grade_from_draws"] == "supported"
    )
    assert flagged["n_distinct_draws"] == 4
    assert theory_verdicts.flag_small_sample(graded, 10, 10)["grade"] == "supported"


# --- C0 under every theory in q2's verdict.json (experiments/theory_verdicts.py) -------------------


def write_posterior(path: Path, rule: str, points: list[dict[str, float]], model_version: str) -> None:
    """A posterior file in the format of ``python -m experiments.theories`` (sim/posterior.py reads it)."""
    keys = list(points[0])
    payload = {
        "alignment_rule": rule,
        "keys": keys,
        "samples": [[p[k] for k in keys] for p in points],
        "losses": [0.0] * len(points),
        "provenance": {"method": "test", "model_version": model_version},
    }
    path.write_text(json.dumps(payload))


def test_draws_of_one_particle_count_once() -> None:
    from experiments.draws import Draw, DrawPlan

    plan = DrawPlan("posterior", tuple(Draw(k, k, {"x": v}, (k,)) for k, v in enumerate([0.1, 0.2, 0.1, 0.1])))
    ids = theory_verdicts.distinct_vectors(plan)
    assert ids.tolist() == [0, 1, 0, 0]
    shares = {"a": np.array([[0.9, 0.1], [0.8, 0.2], [0.9, 0.1], [0.9, 0.1]])}
    _, distinct = theory_verdicts.averaged_sample(shares, {"a": 1.0}, 500, 3, {"a": ids})
    assert distinct == 2  # four draws, two parameter vectors


def test_model_probability_files_are_checked(tmp_path: Path) -> None:
    assert theory_verdicts.load_probabilities(str(tmp_path / "missing.json")) is None
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"model_probabilities": {"landscape": 0.7, "walt": 0.3}}))
    with pytest.raises(ExperimentError, match=r"model_probabilities=.*walt.*allowed"):
        theory_verdicts.load_probabilities(str(bad))
    bad.write_text(json.dumps({"model_probabilities": {"landscape": 0.7, "balance_of_power": 0.7}}))
    with pytest.raises(ExperimentError, match="summing to 1"):
        theory_verdicts.load_probabilities(str(bad))
    bad.write_text("{")
    with pytest.raises(ExperimentError, match="not a model-probability file"):
        theory_verdicts.load_probabilities(str(bad))


@pytest.mark.slow
def test_q2_grades_c0_under_every_rule_from_the_shipped_posteriors(tmp_path: Path) -> None:
    """q2 reads each rival rule's posterior and the model probabilities and grades C0 under each and averaged;
    a posterior of another rule is refused; a file of another model version is flagged stale."""
    from sim import store

    version = store.model_version()
    write_posterior(
        tmp_path / "landscape.json", "landscape", [{"params.landscape.gain": g} for g in (0.5, 2.0)], version
    )
    write_posterior(tmp_path / "bop.json", "balance_of_power", [{"params.balance_of_power.gain": 1.5}], "old")
    probabilities = {"balance_of_threat": 0.5, "landscape": 0.5, "balance_of_power": 0.0}
    (tmp_path / "p.json").write_text(
        json.dumps({"model_probabilities": probabilities, "provenance": {"model_version": version}})
    )
    common = [
        "experiment.draws=2",
        "experiment.theories.draws=2",
        f"experiment.theories.posteriors.landscape={tmp_path / 'landscape.json'}",
        f"experiment.theories.model_probabilities={tmp_path / 'p.json'}",
    ]
    out = tmp_path / "q2"
    done = run_module(
        "experiments.q2_driver_shares",
        f"experiment.out={out}",
        f"experiment.theories.posteriors.balance_of_power={tmp_path / 'bop.json'}",
        *common,
    )
    assert done.returncode == 0, done.stderr
    document = json.loads((out / "verdict.json").read_text())
    assert document["model_probabilities"] == probabilities
    by_theory = document["by_theory"]
    assert set(by_theory) == set(ALIGNMENT_RULES)
    own = by_theory["balance_of_threat"]
    assert own["posterior"]["headline"]
    assert own["definitions"]["narrow"]["china_share"] == document["definitions"]["narrow"]["china_share"]
    assert by_theory["balance_of_power"]["posterior"]["stale"]  # made by model version "old"
    assert not by_theory["landscape"]["posterior"]["stale"]
    for rule in ALIGNMENT_RULES:
        for name in ("narrow", "broad"):
            assert by_theory[rule]["definitions"][name]["grade"] in ("supported", "contradicted", "undetermined")
    averaged = document["model_averaged"]["definitions"]["narrow"]
    assert averaged["n_draws"] == 4  # two distinct draws of each rule with weight (balance of power has none)
    assert averaged["too_few_draws"] and averaged["grade"] == "undetermined"
    shares = pd.read_csv(out / "china_shares_by_theory.csv")
    assert set(shares["rule"]) == set(ALIGNMENT_RULES) and (out / "theory_shares.png").stat().st_size > 5_000
    wrong = run_module(
        "experiments.q2_driver_shares",
        f"experiment.out={tmp_path / 'wrong'}",
        f"experiment.theories.posteriors.balance_of_power={tmp_path / 'landscape.json'}",
        *common,
    )
    assert wrong.returncode == 2 and "calibrated under alignment_rule=landscape" in wrong.stderr


@pytest.mark.parametrize("rule", ALIGNMENT_RULES)
def test_the_shipped_posterior_of_each_rule_is_of_its_rule(rule: str) -> None:
    """``posterior_<rule>.json`` is calibrated under its rule, names parameters in range, and
    ``params=calibrated_<rule>`` selects the rule; the model probabilities sum to one over the rules."""
    posterior = load_posterior(f"configs/params/posterior_{rule}.json")
    assert posterior.alignment_rule == rule and len(posterior.samples) >= 10
    params = compose_params([f"params=calibrated_{rule}"])
    assert params.params.alignment_rule == rule
    posterior.params(params, 0)  # every key names a parameter, every value in its range
    shipped = json.loads((REPO_ROOT / "configs/params/model_probabilities.json").read_text())
    assert set(shipped["model_probabilities"]) == set(ALIGNMENT_RULES)
    assert sum(shipped["model_probabilities"].values()) == pytest.approx(1.0)
    assert shipped["provenance"]["posteriors"][rule] == f"posterior_{rule}.json"


@pytest.mark.slow
def test_end_to_end_model_choice_ships_posteriors_probabilities_and_scores(tmp_path: Path) -> None:
    out, params_out = tmp_path / "theories", tmp_path / "params"
    done = run_module(
        "experiments.theories",
        f"experiment.out={out}",
        f"experiment.params_out={params_out}",
        "experiment.rules=[balance_of_threat,balance_of_power]",
        "experiment.population=4",
        "experiment.early_population=4",
        "experiment.min_ess=2",
        "experiment.generations=1",
        "experiment.max_points=30",
        "experiment.seeds=1",
        "experiment.origins=[2018]",
        "experiment.origin_population=2",
        "experiment.origin_early_population=2",
        "experiment.origin_min_ess=1",
        "experiment.origin_generations=1",
        "experiment.origin_max_points=30",
        "experiment.origin_predictive_draws=2",
        "experiment.posterior_draws=5",
        "experiment.workers=1",
    )
    assert done.returncode == 0, done.stderr
    shipped = json.loads((params_out / "model_probabilities.json").read_text())
    probabilities = shipped["model_probabilities"]
    assert set(probabilities) == {"balance_of_threat", "balance_of_power"}
    assert sum(probabilities.values()) == pytest.approx(1.0)
    assert shipped["provenance"]["final_temperature"] >= 1.0 and shipped["provenance"]["simulations"] > 0
    scores = pd.read_csv(out / "scores.csv")
    for rule in (r for r, p in probabilities.items() if p > 0):
        posterior = load_posterior(str(params_out / f"posterior_{rule}.json"))
        assert posterior.alignment_rule == rule and len(posterior.samples) == 5
        assert "params.landscape.gain" not in posterior.keys
        calibrated: dict[str, Any] = yaml.safe_load((params_out / f"calibrated_{rule}.yaml").read_text())
        assert calibrated.pop("alignment_rule") == rule  # the file selects the rule it was calibrated under
        flat = {f"params.{group}.{k}": v for group, values in calibrated.items() for k, v in values.items()}
        with_values(
            compose_params(["params=default", f"alignment_rule={rule}"]), flat
        )  # every key names a parameter in range
    assert set(scores["rule"]) == set(probabilities) and "probability_to_2018" in scores
    forecasts = pd.read_csv(out / "forecasts.csv")
    assert set(forecasts["origin"]) == {2018} and forecasts["model_abs_error"].notna().all()
    # the report's section: the grades from q2's by_theory, the out-of-sample scores from this run
    drivers = registry.names()
    shares = np.random.default_rng(1).dirichlet(np.ones(len(drivers)), 20)
    graded = verdict.grade_definition(shares, drivers, "china_coercion", verdict.Thresholds())
    by_theory = {rule: {"model_probability": p, "definitions": {"narrow": graded}} for rule, p in probabilities.items()}
    q2 = {"verdict.json": {"by_theory": by_theory, "model_averaged": {"definitions": {"narrow": graded}}}}
    section = report.theories_html(q2, report.read_experiment(out, "theories"), {})
    assert "Does the verdict depend on the theory?" in section and "beats persistence" in section


# Settings that size a run rather than define the method (theories.yaml sizes them for three rules).
BUDGET = {
    "population",
    "early_population",
    "generations",
    "max_points",
    "min_ess",
    "origin_population",
    "origin_early_population",
    "origin_generations",
    "origin_max_points",
    "origin_min_ess",
    "posterior_draws",
    "origin_predictive_draws",
    "workers",
}


def test_the_rules_are_calibrated_with_the_calibrations_method_settings() -> None:
    """theories.yaml has every setting of calibrate.yaml (but its name, folders and in-sample checks) and
    the same value for each that defines the method (seeds, tempering targets, data years, origins)."""
    calibration = yaml.safe_load((REPO_ROOT / "configs/experiment/calibrate.yaml").read_text())["experiment"]
    rules = yaml.safe_load((REPO_ROOT / "configs/experiment/theories.yaml").read_text())["experiment"]
    own = {"name", "out", "params_out", "predictive_draws", "point"}  # point: the main calibration's params=calibrated
    assert set(calibration) - own <= set(rules), "a calibration setting is missing from theories.yaml"
    method = set(calibration) - own - BUDGET
    assert {key: rules[key] for key in method} == {key: calibration[key] for key in method}
