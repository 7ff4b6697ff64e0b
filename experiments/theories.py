"""Rival theories of alignment compared on the evidence: ``python -m experiments.theories``.

Each alignment rule of ``sim/rules/`` (balance of threat, landscape, balance of power) is
calibrated on the same targets (``experiments/targets.py``, data to ``last_year``) with the same
method, its out-of-sample fit is scored on the years after ``last_year``, the rules get posterior
model probabilities, and claim C0 is graded under each rule and averaged over them.

Method
------
*Calibration*: the project's ABC rejection (``experiments/calibrate.py``): a Latin hypercube of
``n_samples`` points per rule over the shared priors (``priors.ranges`` minus the parameters that
only one rule reads) plus the rule's own parameters (``experiment.rule_priors``), one run per
point with the experiment's seed; the loss is the weighted mean squared scaled error. The same
hypercube seed gives every rule the same values of the shared parameters.

*Model probabilities*: ABC rejection model choice (Grelaud et al. 2009; Toni et al. 2009). With
equal prior probabilities and the same number of prior draws per rule, the posterior probability
of rule m is the share of the accepted points that are rule m's, where a point is accepted when
its loss is below the ``accept_fraction`` quantile of the pooled losses of all rules. ABC model
choice depends on the threshold and on the summaries (Robert et al. 2011), so the probabilities
are also reported at the thresholds ``accept_fractions_check``.

*Out of sample*: each rule's accepted points (its ``verdict_draws`` lowest losses) are scored on
the targets' years after ``last_year`` to ``holdout_end`` (same loss, weights renormalised).

*Verdict*: under each rule, the Shapley shares of the five drivers in the change of Japan's
China-wants gap (``from_year`` to ``to_year``; ``experiments/q2_driver_shares.py``), one share
vector per accepted point (the mean Shapley values over ``replicates`` seeds), graded by
``experiments/verdict.py`` (China's player: ``china_coercion``). The model-averaged verdict
pools the rules' draws, each rule weighted by its model probability; its ``n_draws`` counts the
distinct draws in the mixture (not its resampled size), and a verdict from fewer than
``min_distinct_draws`` is flagged (``too_few_draws``) and graded undetermined. A rule's draws are its
lowest-loss points, not the model-choice acceptance: a rule of model probability 0 is marked
``rejected_by_model_choice`` in ``by_theory``.

Outputs in ``experiment.out``: ``design.csv`` (every point, rule, in-sample and out-of-sample
loss), ``model_probabilities.csv``, ``scores.csv``, ``shares.csv`` (every draw's shares),
``china_shares.csv`` (China's share per draw and rule, and the model-averaged sample),
``theories.json`` and ``verdict.json`` (``by_theory``, ``model_probabilities``; the top-level
definition is the model-averaged one), ``theory_shares.png``; with ``experiment.params_out``,
``calibrated_<rule>.yaml`` (each rule's best point and the rule: ``params=calibrated_<rule>`` selects that rule;
naming another is refused).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments import attribution, verdict
from experiments.calibrate import _nested, _yaml, run_tables
from experiments.common import Experiment, ExperimentError, entry_point
from experiments.q2_driver_shares import coalition_params, coalition_values
from experiments.sampling import Prior, evaluate, latin_hypercube, load_priors, point_params
from experiments.targets import Target, load_targets, loss
from experiments.theory_verdicts import averaged_sample, flag_small_sample
from sim import drivers as registry
from sim import store
from sim.params import ALIGNMENT_RULES, Params, with_values

NAME = "theories"
CHINA = "china_coercion"
METHOD = (
    "ABC rejection per rule over a Latin hypercube (experiments/calibrate.py's loss); model probabilities by "
    "ABC rejection model choice at a common threshold (Grelaud et al. 2009)"
)


def rule_priors(
    shared: Sequence[Any], own: Mapping[str, Sequence[Any]], rules: Sequence[str], base: Params
) -> dict[str, list[Prior]]:
    """Each rule's priors: the shared ranges without any rule's own keys, then the rule's own ranges."""
    unknown = sorted(set(own) - set(ALIGNMENT_RULES))
    if unknown:
        raise ExperimentError(f"experiment.rule_priors has unknown rule(s) {unknown}; allowed: {list(ALIGNMENT_RULES)}")
    specific = {str(dict(entry)["key"]) for entries in own.values() for entry in entries}
    common = [entry for entry in shared if str(dict(entry)["key"]) not in specific]
    return {rule: load_priors([*common, *own.get(rule, [])], base) for rule in rules}


def holdout_targets(targets: list[Target], last_year: int) -> list[Target]:
    """The targets' years after ``last_year`` (targets without such years dropped; weights renormalised)."""
    kept = []
    for target in targets:
        late = target.years > last_year
        if late.any():
            kept.append(dataclasses.replace(target, years=target.years[late], observed=target.observed[late]))
    if not kept:
        raise ExperimentError(
            f"no target has data after experiment.last_year={last_year}; allowed: a last_year before the data end"
        )
    total = sum(t.weight for t in kept)
    return [dataclasses.replace(t, weight=t.weight / total) for t in kept]


def accepted_counts(losses: dict[str, np.ndarray], fraction: float) -> dict[str, int]:
    """Each rule's number of points at or below the pooled ``fraction`` quantile of all rules' losses."""
    threshold = float(np.quantile(np.concatenate(list(losses.values())), fraction))
    return {rule: int(np.sum(values <= threshold)) for rule, values in losses.items()}


def model_probabilities(losses: dict[str, np.ndarray], fraction: float) -> dict[str, float]:
    """ABC rejection model choice: each rule's share of the points below the pooled ``fraction`` quantile.

    Rules have equal prior probability; the shares are divided by each rule's number of points,
    so unequal designs are allowed.
    """
    counts = accepted_counts(losses, fraction)
    rates = {rule: counts[rule] / len(values) for rule, values in losses.items()}
    total = sum(rates.values())
    return {rule: rate / total for rule, rate in rates.items()}


def draw_shares(ex: Experiment, params: Params, start: int, end: int) -> np.ndarray:
    """The drivers' Shapley shares of Japan's shift for ``params`` (mean values over the seeds)."""
    drivers = registry.names()
    runs = coalition_params(params, list(range(2 ** len(drivers))), drivers)
    values = coalition_values(ex.tables_many(runs), ex.seeds, start, end, ("china_wants_gap",))[..., 0]  # (R, 2^k)
    phi = attribution.shapley(values, len(drivers)).mean(axis=0)
    total = phi.sum()
    return phi / total if total != 0 else np.full(len(registry.names()), np.nan)


def by_theory_block(rule: str, graded: dict[str, Any], probability: float, accepted: int) -> dict[str, Any]:
    """A rule's ``by_theory`` entry: its grade, its model probability and how its draws were chosen.

    Its draws are its ``verdict_draws`` lowest losses, not the points accepted by model choice; a rule
    with model probability 0 (no point below the pooled threshold) is marked so: its grade is that of
    points the evidence rejects, and it has no weight in the averaged verdict.
    """
    block: dict[str, Any] = {
        "n_draws": graded["n_distinct_draws"],
        "model_probability": probability,
        "accepted_at_model_choice": accepted,
        "definitions": {"narrow": graded},
    }
    if probability == 0:
        block["rejected_by_model_choice"] = True
        block["note"] = (
            f"{rule}: no point below the model-choice threshold (probability 0); its grade is of its own "
            "lowest-loss points, which the evidence rejects, and has no weight in the averaged verdict"
        )
    return block


def theory_shares_figure(china_shares: pd.DataFrame, probabilities: dict[str, float], majority: float) -> Figure:
    """China's share of Japan's shift under each rule and averaged over them (``china_shares.csv``)."""
    figure = Figure(figsize=(7.5, 3.6), layout="constrained")
    ax = figure.add_subplot()
    labels = list(dict.fromkeys(china_shares["sample"]))
    samples = [china_shares.loc[china_shares["sample"] == k, "china_share"].to_numpy() for k in labels]
    ax.boxplot(samples, orientation="horizontal", whis=(5, 95), showfliers=False)
    for row, values in enumerate(samples, start=1):
        ax.plot(values, np.full(len(values), row), "|", color="0.4", alpha=0.5)
    ax.set_yticks(range(1, len(labels) + 1))
    ax.set_yticklabels([f"{k}\n(P = {probabilities[k]:.2f})" if k in probabilities else k for k in labels])
    ax.axvline(majority, color="firebrick", linestyle="--", linewidth=1, label=f"C0 threshold ({majority:g})")
    ax.set_xlabel("China's coercion: share of the change in Japan's China-wants gap (1)")
    ax.set_title("China's share by theory of alignment (boxes: 50%, whiskers: 90%)")
    ax.legend(loc="lower right", fontsize=8)
    return figure


def run(ex: Experiment) -> dict[str, Any]:
    """Calibrate every rule, compare them, grade C0 under each and averaged."""
    opts = ex.options
    rules = [str(r) for r in opts["rules"]]
    bad = [r for r in rules if r not in ALIGNMENT_RULES]
    if bad or not rules:
        raise ExperimentError(f"experiment.rules={rules}; allowed: a non-empty subset of {list(ALIGNMENT_RULES)}")
    last_year, holdout_end = int(opts["last_year"]), int(opts["holdout_end"])
    start, end = int(opts["from_year"]), int(opts["to_year"])
    if not ex.params.run.start_year < last_year < holdout_end or not ex.params.run.start_year <= start < end:
        raise ExperimentError(
            f"experiment.last_year={last_year}, holdout_end={holdout_end}, from_year={start}, to_year={end}; "
            "allowed: start_year < last_year < holdout_end and start_year <= from_year < to_year"
        )
    base = with_values(ex.params, {"run.end_year": max(holdout_end, end)})
    priors = rule_priors(list(ex.cfg.priors.ranges), dict(opts["rule_priors"]), rules, base)
    targets, late = load_targets(last_year), holdout_targets(load_targets(holdout_end), last_year)
    n_samples, draws, workers = (int(opts[k]) for k in ("n_samples", "verdict_draws", "workers"))
    seed = int(ex.cfg.seed)
    if not 1 <= draws <= n_samples:
        raise ExperimentError(f"experiment.verdict_draws={draws}; allowed: 1..experiment.n_samples ({n_samples})")
    thresholds = verdict.Thresholds.from_config(dict(opts["verdict"]))
    minimum = int(opts["min_distinct_draws"])

    design_rows, losses, oos, accepted, shares, best = [], {}, {}, {}, {}, {}
    for rule in rules:
        rule_base = dataclasses.replace(base, params=dataclasses.replace(base.params, alignment_rule=rule))
        points = latin_hypercube(priors[rule], n_samples, seed)
        params_list = [point_params(rule_base, priors[rule], point) for point in points]
        runs = evaluate(functools.partial(run_tables, seed=seed), params_list, workers)
        ex.runs_done += len(runs)
        losses[rule] = np.array([loss(tables, targets) for tables in runs])
        oos[rule] = np.array([loss(tables, late) for tables in runs])
        order = np.argsort(losses[rule], kind="stable")
        accepted[rule] = order[:draws]
        best[rule] = dict(zip([p.key for p in priors[rule]], points[order[0]].tolist(), strict=True))
        frame = pd.DataFrame(points, columns=[p.key for p in priors[rule]])
        design_rows.append(frame.assign(rule=rule, loss=losses[rule], loss_out_of_sample=oos[rule]))
        shares[rule] = np.stack([draw_shares(ex, params_list[k], start, end) for k in accepted[rule]])

    fraction = float(opts["accept_fraction"])
    probabilities = model_probabilities(losses, fraction)
    checks = {str(f): model_probabilities(losses, float(f)) for f in opts["accept_fractions_check"]}
    at_threshold = accepted_counts(losses, fraction)
    drivers = list(registry.names())
    graded = {
        rule: flag_small_sample(verdict.grade_definition(shares[rule], drivers, CHINA, thresholds), draws, minimum)
        for rule in rules
    }
    by_theory = {rule: by_theory_block(rule, graded[rule], probabilities[rule], at_threshold[rule]) for rule in rules}
    for rule in rules:
        by_theory[rule]["calibrated"] = best[rule]
    mixture, distinct = averaged_sample(shares, probabilities, int(opts["averaged_sample"]), seed)
    pooled = verdict.grade_definition(mixture, drivers, CHINA, thresholds)
    # the distinct draws are the evidence; the mixture only resamples them
    pooled = {**pooled, "n_draws": distinct, "n_mixture_resamples": pooled["n_draws"]}
    averaged = flag_small_sample(pooled, distinct, minimum)
    scores = pd.DataFrame(
        {
            "rule": rules,
            "model_probability": [probabilities[r] for r in rules],
            "loss_in_sample_best": [float(losses[r].min()) for r in rules],
            "loss_in_sample_accepted_mean": [float(losses[r][accepted[r]].mean()) for r in rules],
            "loss_out_of_sample_best": [float(oos[r][accepted[r][0]]) for r in rules],
            "loss_out_of_sample_accepted_mean": [float(oos[r][accepted[r]].mean()) for r in rules],
            "china_share_median": [graded[r]["china_share"]["median"] for r in rules],
            "p_china_share_above_half": [graded[r]["p_china_share_above_half"] for r in rules],
            "grade": [graded[r]["grade"] for r in rules],
        }
    )
    ex.write_csv("design", pd.concat(design_rows, ignore_index=True))
    ex.write_csv("scores", scores)
    ex.write_csv(
        "model_probabilities",
        pd.DataFrame(
            [
                {"accept_fraction": float(f), "rule": r, "probability": p}
                for f, ps in [(fraction, probabilities), *((float(k), v) for k, v in checks.items())]
                for r, p in ps.items()
            ]
        ),
    )
    ex.write_csv(
        "shares",
        pd.concat([pd.DataFrame(shares[r], columns=drivers).assign(rule=r) for r in rules], ignore_index=True),
    )
    provenance = {
        "method": METHOD,
        "date": dt.date.today().isoformat(),
        "model_version": store.model_version(),
        "n_samples_per_rule": n_samples,
        "accept_fraction": fraction,
        "last_year": last_year,
        "holdout_years": [last_year + 1, holdout_end],
        "verdict_window": [start, end],
        "seeds_per_verdict_draw": len(ex.seeds),
        "priors": {r: [dataclasses.asdict(p) for p in priors[r]] for r in rules},
    }
    extra = {"by_theory": by_theory, "model_probabilities": probabilities, "provenance": provenance}
    document = verdict.verdict_document({"narrow": averaged}, thresholds, "posterior", distinct, extra)
    document["n_mixture_resamples"] = len(mixture)
    document["definitions_note"] = (
        "definitions: the verdict averaged over the rules (a mixture of their posterior draws, weighted by "
        "model_probabilities); by_theory: each rule's own"
    )
    ex.write_json("verdict", document)
    ex.write_json(
        "theories",
        {
            **extra,
            "averaged": averaged,
            "thresholds": dataclasses.asdict(thresholds),
            "model_probabilities_by_threshold": checks,
            "scores": scores.to_dict(orient="records"),
        },
    )
    china = drivers.index(CHINA)
    china_shares = pd.concat(
        [pd.DataFrame({"sample": r, "china_share": shares[r][:, china]}) for r in rules]
        + [pd.DataFrame({"sample": "model-averaged", "china_share": mixture[:, china]})],
        ignore_index=True,
    )
    ex.write_csv("china_shares", china_shares)
    ex.save_figure(theory_shares_figure(china_shares, probabilities, thresholds.majority_share), "theory_shares")
    if opts.get("params_out"):
        out = Path(str(opts["params_out"]))
        for rule in rules:
            header = (
                f"# {rule}: the best point of `python -m experiments.theories` ({provenance['date']}): "
                f"{n_samples} points, loss {losses[rule].min():.4f}; model version {provenance['model_version']}.\n"
                f"#   python -m sim params=calibrated_{rule}\n"
                f"alignment_rule: {rule}  # calibrated under this rule: selects it; another rule is refused\n"
            )
            store.write_text(out / f"calibrated_{rule}.yaml", header + _yaml(_nested(best[rule])) + "\n")
    return {
        "model_probabilities": {r: round(p, 3) for r, p in probabilities.items()},
        "by_theory": {r: graded[r]["grade"] for r in rules},
        "averaged": averaged["grade"],
    }


main = entry_point(NAME, run)

if __name__ == "__main__":
    main()
