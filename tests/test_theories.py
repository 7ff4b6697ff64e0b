"""experiments/theories.py: model choice, holdout split, priors per rule, mixture, and an end-to-end run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import compose_params, run_module

from experiments import report, theories, theory_verdicts
from experiments.calibrate import run_tables
from experiments.common import ExperimentError
from experiments.targets import load_targets, loss
from sim.params import ALIGNMENT_RULES, Params, with_values


def test_model_probabilities_are_each_rules_share_below_the_pooled_threshold() -> None:
    losses = {"a": np.array([1.0, 2.0, 3.0, 4.0]), "b": np.array([5.0, 6.0, 7.0, 8.0])}
    assert theories.model_probabilities(losses, 0.5) == {"a": 1.0, "b": 0.0}
    mixed = {"a": np.array([1.0, 10.0]), "b": np.array([2.0, 3.0, 11.0, 12.0])}
    # threshold: the 0.5 quantile of the six pooled losses (6.5): a accepts 1 of 2, b 2 of 4 -> equal rates
    assert theories.model_probabilities(mixed, 0.5) == pytest.approx({"a": 0.5, "b": 0.5})


def test_holdout_targets_keep_the_later_years_with_weights_summing_to_one() -> None:
    late = theories.holdout_targets(load_targets(2021), 2020)
    assert late and all(np.all(t.years == 2021) for t in late)
    assert sum(t.weight for t in late) == pytest.approx(1.0)
    with pytest.raises(ExperimentError, match="last_year=2021"):
        theories.holdout_targets(load_targets(2021), 2021)


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


def test_a_rule_of_probability_zero_is_marked_in_by_theory() -> None:
    losses = {"a": np.array([1.0, 2.0, 3.0, 4.0]), "b": np.array([5.0, 6.0, 7.0, 8.0])}
    counts = theories.accepted_counts(losses, 0.5)
    assert counts == {"a": 4, "b": 0}
    graded = theory_verdicts.flag_small_sample({"grade": "supported"}, 20, 10)
    rejected = theories.by_theory_block("b", graded, 0.0, counts["b"])
    assert rejected["rejected_by_model_choice"] and "probability 0" in rejected["note"]
    kept = theories.by_theory_block("a", graded, 1.0, counts["a"])
    assert "rejected_by_model_choice" not in kept and kept["accepted_at_model_choice"] == 4 and kept["n_draws"] == 20


@pytest.mark.slow
def test_end_to_end_run_writes_by_theory_and_model_probabilities(tmp_path: Path) -> None:
    out, params_out = tmp_path / "theories", tmp_path / "params"
    done = run_module(
        "experiments.theories",
        f"experiment.out={out}",
        f"experiment.params_out={params_out}",
        "experiment.rules=[balance_of_threat,balance_of_power]",
        "experiment.n_samples=3",
        "experiment.verdict_draws=1",
        "experiment.workers=1",
        "experiment.averaged_sample=50",
        "replicates=1",
    )
    assert done.returncode == 0, done.stderr
    verdict = json.loads((out / "verdict.json").read_text())
    assert set(verdict["by_theory"]) == {"balance_of_threat", "balance_of_power"}
    assert sum(verdict["model_probabilities"].values()) == pytest.approx(1.0)
    assert verdict["definitions"]["narrow"]["grade"] in ("supported", "contradicted", "undetermined")
    for rule in ("balance_of_threat", "balance_of_power"):
        block = verdict["by_theory"][rule]["definitions"]["narrow"]
        assert 0.0 <= block["p_china_share_above_half"] <= 1.0
        calibrated: dict[str, Any] = yaml.safe_load((params_out / f"calibrated_{rule}.yaml").read_text())
        assert calibrated.pop("alignment_rule") == rule  # the file selects the rule it was calibrated under
        flat = {f"params.{group}.{k}": v for group, values in calibrated.items() for k, v in values.items()}
        with_values(compose_params([f"alignment_rule={rule}"]), flat)  # every key names a parameter in range
    design = pd.read_csv(out / "design.csv")
    assert len(design) == 6 and design["loss_out_of_sample"].notna().all()
    assert "params.balance_of_power.gain" in design and "params.landscape.gain" not in design
    section = report.theories_html(report.read_experiment(out, "theories"), {})
    assert "Does the verdict depend on the theory?" in section


@pytest.mark.parametrize("rule", ALIGNMENT_RULES)
def test_shipped_calibration_of_each_rule_selects_its_rule_and_fits_better_than_the_defaults(rule: str) -> None:
    """``params=calibrated_<rule>`` alone runs under its rule, and on the calibration targets (data to 2020,
    the experiment's seed) its point has a lower loss than the rule's default parameters."""
    calibrated = compose_params([f"params=calibrated_{rule}"])
    assert calibrated.params.alignment_rule == rule
    targets = load_targets(2020)

    def fit(params: Params) -> float:
        return loss(run_tables(with_values(params, {"run.end_year": 2020}), seed=2024), targets)

    assert fit(calibrated) < fit(compose_params([f"alignment_rule={rule}"]))


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
