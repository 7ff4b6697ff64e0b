"""Claim C0 under each rival theory of alignment and averaged over them (q2's ``by_theory``).

``python -m experiments.theories`` calibrates the three alignment rules of ``sim/rules/`` together
(ABC-SMC with model choice) and ships each rule's posterior (``configs/params/posterior_<rule>.json``)
and their posterior model probabilities (``configs/params/model_probabilities.json``, with its
provenance). The q2 step (``experiments/q2_driver_shares.py``) reads them here, so the verdict under
each rule is computed from the shipped posteriors by the same decomposition as the headline verdict,
never copied from an earlier run:

- the run's own rule (``params.alignment_rule``) is the headline verdict (``posterior_file``);
- every other rule runs every coalition in ``experiment.theories.draws`` draws of its own
  posterior (the same seeds as the headline draws: paired) and is graded by the same thresholds;
- a rule's grade from fewer than ``min_distinct_draws`` distinct parameter vectors (a posterior of
  few effective particles) is flagged ``too_few_draws`` and graded undetermined;
- the model-averaged verdict pools the rules' draws, each rule weighted by its model probability
  (a mixture resampled ``averaged_sample`` times; its ``n_distinct_draws`` counts the distinct
  parameter vectors, and fewer than ``min_distinct_draws`` is flagged and graded undetermined).

A posterior or probability file written for another model version is used but flagged
``stale`` (with both versions), so a reader sees it; a missing rival posterior leaves that rule's
block with a ``note`` saying how to make it (the headline verdict does not depend on it).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments import verdict
from experiments.common import Experiment, ExperimentError
from experiments.draws import DrawPlan, plan_draws
from sim import store
from sim.params import ALIGNMENT_RULES
from sim.posterior import load_posterior, posterior_path

CALIBRATE = "python -m experiments.theories experiment.params_out=configs/params"
SharesUnder = Callable[[Experiment], Mapping[str, np.ndarray]]


def averaged_sample(
    shares: Mapping[str, np.ndarray],
    probabilities: Mapping[str, float],
    size: int,
    seed: int,
    vectors: Mapping[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, int]:
    """A sample of share vectors from the mixture of the rules' samples, weighted by model probability,
    and the number of distinct draws it holds (it resamples the rules' draws: ``size`` is not evidence).

    ``vectors[rule][i]`` identifies the parameter vector of the rule's draw i (draws of one posterior
    particle count once); without it every draw is distinct.
    """
    rng = np.random.default_rng(seed)
    rules = list(shares)
    weights = np.array([probabilities[r] for r in rules], dtype=float)
    which = rng.choice(len(rules), size=size, p=weights / weights.sum())
    picks = [(int(k), int(rng.integers(len(shares[rules[k]])))) for k in which]
    ids = {(k, int(vectors[rules[k]][i]) if vectors else i) for k, i in picks}
    return np.stack([shares[rules[k]][i] for k, i in picks]), len(ids)


def distinct_vectors(plan: DrawPlan) -> np.ndarray:
    """An id per draw of ``plan``: equal for draws of the same parameter vector."""
    keys: dict[tuple[tuple[str, float], ...], int] = {}
    return np.array([keys.setdefault(tuple(sorted(d.values.items())), len(keys)) for d in plan.draws])


def flag_small_sample(graded: dict[str, Any], distinct: int, minimum: int) -> dict[str, Any]:
    """``graded`` with its number of distinct draws; below ``minimum`` it is flagged and graded undetermined."""
    block = {**graded, "n_distinct_draws": distinct, "min_distinct_draws": minimum}
    if distinct < minimum:
        block.update(
            too_few_draws=True,
            grade_from_draws=graded["grade"],
            grade="undetermined",
            grade_reason=f"{distinct} distinct draw(s), below min_distinct_draws={minimum}",
        )
    return block


def staleness(provenance: Mapping[str, Any]) -> dict[str, Any]:
    """``stale`` (and both versions) when a shipped file was made by another model version."""
    found, current = provenance.get("model_version"), store.model_version()
    return {"stale": found != current, "model_version": found, "current_model_version": current}


def load_probabilities(name: str) -> dict[str, Any] | None:
    """The shipped model probabilities (None if the file is missing); bad content is a clear error."""
    path = posterior_path(name)
    if not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        probabilities = {str(r): float(p) for r, p in raw["model_probabilities"].items()}
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as err:
        raise ExperimentError(
            f"experiment.theories.model_probabilities={name!r} is not a model-probability file ({err}); "
            f"allowed: a file written by {CALIBRATE}"
        ) from err
    unknown = sorted(set(probabilities) - set(ALIGNMENT_RULES))
    total = sum(probabilities.values())
    if unknown or any(p < 0 for p in probabilities.values()) or not np.isclose(total, 1.0):
        raise ExperimentError(
            f"experiment.theories.model_probabilities={name!r}: probabilities {probabilities}; allowed: "
            f"non-negative values for rules among {list(ALIGNMENT_RULES)} summing to 1"
        )
    return {"model_probabilities": probabilities, "provenance": dict(raw.get("provenance", {}))}


def check(ex: Experiment) -> None:
    """Refuse, before any run, a ``theories`` section naming an unknown rule, a posterior of another rule,
    or a bad model-probability file (missing files are allowed: their rules get a note)."""
    options = ex.options.get("theories")
    if not options:
        return
    files = {str(r): str(f) for r, f in dict(options["posteriors"]).items()}
    unknown = sorted(set(files) - set(ALIGNMENT_RULES))
    if unknown or int(options["draws"]) < 1:
        raise ExperimentError(
            f"experiment.theories: posteriors for {unknown or list(files)}, draws={options['draws']}; allowed: "
            f"rules among {list(ALIGNMENT_RULES)} and draws >= 1"
        )
    for rule, name in files.items():
        if rule == ex.params.params.alignment_rule or not posterior_path(name).is_file():
            continue
        found = load_posterior(name).alignment_rule
        if found != rule:
            raise ExperimentError(
                f"experiment.theories.posteriors.{rule}={name!r} was calibrated under alignment_rule={found}; "
                f"allowed: a posterior of {rule} ({CALIBRATE})"
            )
    load_probabilities(str(options["model_probabilities"]))


def rule_experiment(ex: Experiment, rule: str, name: str, draws: int) -> Experiment:
    """``ex`` under ``rule`` with ``draws`` draws of the posterior in ``name`` (the headline's seeds and counts)."""
    assert ex.plan is not None
    per_draw = len(ex.plan.draws[0].seeds)
    plan: DrawPlan = plan_draws("posterior", draws, per_draw, len(ex.seeds), int(ex.cfg.seed), name)
    params = dataclasses.replace(ex.params, params=dataclasses.replace(ex.params.params, alignment_rule=rule))
    return dataclasses.replace(ex, params=params, plan=plan, seeds=plan.seeds, runs_done=0, runs_cached=0)


def by_theory(
    ex: Experiment,
    own: Mapping[str, np.ndarray],
    players: Mapping[str, tuple[tuple[str, ...], str]],
    shares_under: SharesUnder,
    thresholds: verdict.Thresholds,
) -> dict[str, Any]:
    """``by_theory``, ``model_probabilities`` and ``model_averaged`` for q2's ``verdict.json``.

    Parameters
    ----------
    ex
        The q2 experiment (its options' ``theories`` section; without one, nothing is added).
    own
        The headline draws' shares per definition (draws, players): the run's own rule.
    players
        Each definition's players (columns of the shares) and its China player.
    shares_under
        The shares per definition of an experiment run under another rule and plan.
    thresholds
        The grading rule (the headline's).
    """
    options = ex.options.get("theories")
    if not options or ex.plan is None or ex.plan.source != "posterior":
        return {}
    check(ex)
    own_rule = ex.params.params.alignment_rule
    draws, minimum = int(options["draws"]), int(options["min_distinct_draws"])
    files = {str(r): str(f) for r, f in dict(options["posteriors"]).items()}
    shipped = load_probabilities(str(options["model_probabilities"]))
    probabilities = shipped["model_probabilities"] if shipped else {}
    shares: dict[str, Mapping[str, np.ndarray]] = {own_rule: own}
    vectors = {own_rule: distinct_vectors(ex.plan)}
    blocks: dict[str, dict[str, Any]] = {}
    for rule in ALIGNMENT_RULES:
        if rule == own_rule:
            block: dict[str, Any] = {"posterior": {"file": ex.plan.info.get("posterior_file"), "headline": True}}
            block["posterior"] |= staleness(ex.plan.info.get("posterior_provenance") or {})
        elif rule not in files or not posterior_path(files[rule]).is_file():
            blocks[rule] = {
                "model_probability": probabilities.get(rule),
                "note": f"no posterior of {rule} (experiment.theories.posteriors.{rule}): run {CALIBRATE}",
            }
            continue
        else:
            sub = rule_experiment(ex, rule, files[rule], draws)
            shares[rule] = shares_under(sub)
            assert sub.plan is not None
            vectors[rule] = distinct_vectors(sub.plan)
            ex.runs_done, ex.runs_cached = ex.runs_done + sub.runs_done, ex.runs_cached + sub.runs_cached
            info = sub.plan.info
            block = {"posterior": {"file": files[rule], "n_draws": len(sub.plan.draws)} | info}
            block["posterior"] |= staleness(load_posterior(files[rule]).provenance)
        block["model_probability"] = probabilities.get(rule)
        distinct = len(set(vectors[rule].tolist()))  # a posterior of few particles gives few distinct draws
        block["definitions"] = {
            name: flag_small_sample(verdict.grade_definition(values, *players[name], thresholds), distinct, minimum)
            for name, values in shares[rule].items()
        }
        blocks[rule] = block
    out: dict[str, Any] = {"by_theory": blocks, "model_probabilities": probabilities or None}
    if shipped:
        out["model_probabilities_provenance"] = shipped["provenance"] | staleness(shipped["provenance"])
    weighted = {r: p for r, p in probabilities.items() if p > 0}
    missing = sorted(set(weighted) - set(shares))
    if not shipped or missing:
        out["model_averaged"] = {
            "note": f"not computed: no model probabilities ({CALIBRATE})"
            if not shipped
            else f"not computed: no posterior draws of {missing}, which have model probability > 0"
        }
        return out
    averaged: dict[str, Any] = {}
    for name in own:
        mixture, distinct = averaged_sample(
            {r: shares[r][name] for r in weighted}, weighted, int(options["averaged_sample"]), int(ex.cfg.seed), vectors
        )
        graded = verdict.grade_definition(mixture, *players[name], thresholds)
        graded = {**graded, "n_draws": distinct, "n_mixture_resamples": len(mixture)}
        averaged[name] = flag_small_sample(graded, distinct, minimum)
    out["model_averaged"] = {
        "definitions": averaged,
        "note": "a mixture of the rules' posterior draws, each rule weighted by its model probability",
    }
    china = {name: list(players[name][0]).index(players[name][1]) for name in own}
    frame = pd.concat(
        [
            pd.DataFrame({"rule": r, "definition": name, "china_share": values[:, china[name]]})
            for r, by_definition in shares.items()
            for name, values in by_definition.items()
        ],
        ignore_index=True,
    )
    ex.write_csv("china_shares_by_theory", frame)
    ex.save_figure(
        theory_shares_figure(frame, probabilities, thresholds.majority_share, int(ex.cfg.seed)), "theory_shares"
    )
    return out


def theory_shares_figure(
    china_shares: pd.DataFrame, probabilities: Mapping[str, float], majority: float, seed: int
) -> Figure:
    """China's coercion's share under each rule and averaged by model probability (``china_shares_by_theory.csv``)."""
    narrow = china_shares[china_shares["definition"] == "narrow"]
    rules = list(dict.fromkeys(narrow["rule"]))
    samples = {r: narrow.loc[narrow["rule"] == r, "china_share"].to_numpy() for r in rules}
    weighted = {r: probabilities.get(r, 0.0) for r in rules}
    labels = [f"{r}\n(P = {weighted[r]:.2f})" for r in rules]
    if sum(weighted.values()) > 0:
        mixture, _ = averaged_sample({r: samples[r][:, None] for r in rules}, weighted, 4000, seed)
        samples["model-averaged"] = mixture[:, 0]
        labels.append("model-averaged")
    figure = Figure(figsize=(7.5, 3.6), layout="constrained")
    ax = figure.add_subplot()
    values = list(samples.values())
    ax.boxplot(values, orientation="horizontal", whis=(5, 95), showfliers=False)
    for row, sample in enumerate(values, start=1):
        ax.plot(sample, np.full(len(sample), row), "|", color="0.4", alpha=0.5)
    ax.set_yticks(range(1, len(labels) + 1))
    ax.set_yticklabels(labels)
    ax.axvline(majority, color="firebrick", linestyle="--", linewidth=1, label=f"C0 threshold ({majority:g})")
    ax.set_xlabel("China's coercion: share of the change in Japan's China-wants gap (1)")
    ax.set_title("China's share by theory of alignment (boxes: 50%, whiskers: 90%)")
    ax.legend(loc="lower right", fontsize=8)
    return figure
