"""Rival theories of alignment compared on the evidence: ``python -m experiments.theories``.

The three alignment rules of ``sim/rules/`` (balance of threat, landscape, balance of power) are
calibrated on the calibration's targets by the calibration's method, given posterior model
probabilities, and scored out of sample; the verdict on C0 under each rule is q2's
(``experiments/theory_verdicts.py`` reads what this experiment ships).

Method
------
*Calibration with model choice*: pyabc's ABC-SMC exactly as in ``experiments/calibrate.py``
(``experiments/abc_smc.run_smc``: the same targets to ``last_year``, observation model with a
discrepancy per family and a Student t per series, stochastic acceptor, adaptive temperature,
ordered sampler, seeds per point), with the three rules as three models of one run (pyabc's ABC
model choice; Toni et al. 2009): a particle is a rule and its parameters; the rules have equal prior probability; each
rule's prior is the shared ranges of ``priors.ranges`` (minus the parameters only one rule reads)
plus its own (``experiment.rule_priors``) plus the discrepancy priors. The last generation's
model probabilities are the posterior model probabilities; at a final temperature T > 1 they are
those of the tempered posterior (likelihood to the power 1/T), reported with T. Each rule's
particles in the last generation (a rule that died out earlier: the last generation in which it
was alive) are reweighted to T = 1 and moved by Metropolis-Hastings steps (``experiment.moves``;
``experiments/mcmc_moves.py``): its draws sample the rule's posterior at T = 1, while the model
probabilities stay those of the generation's temperature (the model-averaged verdict mixes the two).

*Out of sample*: the rolling-origin validation of ``experiments/calibrate.py`` per rule: the
same joint calibration with data to each origin (``origins``, ``origin_*`` settings), each rule's
predictive bands (``calibrate.predictive``) forecast every later observed year to ``last_year``,
scored against persistence and a linear trend (``calibrate.score_forecasts``,
``calibrate.validation_summary``). The model probabilities at each origin are reported too.

Outputs in ``experiment.params_out`` (with it set): ``posterior_<rule>.json`` (the format of
``posterior.json``, with ``alignment_rule``), ``calibrated_<rule>.yaml`` (the draw of highest
likelihood; ``params=calibrated_<rule>`` selects its rule) and ``model_probabilities.json`` (with
provenance). In ``experiment.out``: ``model_probabilities.csv`` (every generation of every
calibration), ``scores.csv`` (per rule: probability, fit, out-of-sample scores), ``forecasts.csv``
and ``theories.json``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyabc

from experiments.abc_smc import DISCREPANCY_PREFIX, discrepancy_priors, last_population, resample, run_smc
from experiments.calibrate import (
    METHOD as CALIBRATION_METHOD,
)
from experiments.calibrate import (
    _nested,
    _yaml,
    predictive,
    rule_record,
    score_forecasts,
    settings_of,
    validation_summary,
)
from experiments.common import Experiment, ExperimentError, entry_point
from experiments.mcmc_moves import move_population
from experiments.sampling import Prior, load_priors
from experiments.targets import data_hashes, load_targets
from sim import store
from sim.params import ALIGNMENT_RULES, Params, with_values

NAME = "theories"
# validation_summary's figures shown per rule (scores.csv, model_probabilities.json)
OUT_OF_SAMPLE = (
    "n_points",
    "beats_persistence_share",
    "beats_trend_share",
    "mae_model",
    "mae_persistence",
    "mae_trend",
    "interval_score_model",
    "interval_score_persistence",
)
METHOD = f"ABC model choice over the alignment rules within the calibration's method ({CALIBRATION_METHOD})"


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


def under(params: Params, rule: str) -> Params:
    """``params`` under the alignment rule ``rule``."""
    return dataclasses.replace(params, params=dataclasses.replace(params.params, alignment_rule=rule))


@dataclasses.dataclass(frozen=True)
class RuleFit:
    """One rule's result of a joint calibration: its probability and its posterior."""

    probability: float
    generation: int  # the generation its posterior comes from (the last one in which it was alive)
    temperature: float
    particles: int
    effective_sample_size: float  # of its particles' weights: how many distinct draws its posterior is worth
    draws: pd.DataFrame  # equally weighted draws: parameters, discrepancies, log_likelihood
    moves: dict[str, Any] | None = None  # the Metropolis-Hastings moves after its generation (mcmc_moves.py)


def fit_columns(fit: RuleFit) -> dict[str, Any]:
    """A rule's posterior in ``scores.csv``: where it comes from and how well its draws fit."""
    return {
        "generation": fit.generation,
        "temperature": fit.temperature,
        "particles": fit.particles,
        "effective_sample_size": fit.effective_sample_size,
        "log_likelihood_median": float(fit.draws["log_likelihood"].median()),
        "log_likelihood_max": float(fit.draws["log_likelihood"].max()),
    }


def summary(fit: RuleFit) -> dict[str, Any]:
    """A rule's fit without its draws (for the JSON outputs)."""
    return {k: v for k, v in dataclasses.asdict(fit).items() if k != "draws"} | {"draws": len(fit.draws)}


def model_probabilities(history: pyabc.History, rules: Sequence[str]) -> pd.DataFrame:
    """Every generation's model probabilities and temperature: t, temperature, one column per rule."""
    table = history.get_model_probabilities().reindex(columns=range(len(rules))).fillna(0.0)
    table.columns = list(rules)
    pops = history.get_all_populations().set_index("t")
    return table.assign(temperature=pops.loc[table.index, "epsilon"].to_numpy()).reset_index()


Mover = Callable[[str, pd.DataFrame, float], tuple[pd.DataFrame, dict[str, Any]]]


def rule_fits(
    history: pyabc.History, rules: Sequence[str], n_draws: int, seed: int, move: Mover | None = None
) -> dict[str, RuleFit]:
    """Each rule's model probability (last generation) and posterior draws (last generation in which it is
    alive, moved by ``move(rule, population, temperature)`` when given); a rule without a particle in any
    generation has no entry."""
    table = model_probabilities(history, rules)
    last = table.iloc[-1]
    fits = {}
    for m, rule in enumerate(rules):
        alive = table[table[rule] > 0]
        if alive.empty:
            continue
        row = alive.iloc[-1]
        population = last_population(history, m, int(row["t"]))
        effective = float(1.0 / np.sum(population["weight"].to_numpy() ** 2))
        moves = None
        if move is not None:
            population, moves = move(rule, population, float(row["temperature"]))
        fits[rule] = RuleFit(
            probability=float(last[rule]),
            generation=int(row["t"]),
            temperature=float(row["temperature"]),
            particles=len(population),
            effective_sample_size=effective,
            draws=resample(population, n_draws, seed),
            moves=moves,
        )
    return fits


def mover(ex: Experiment, priors: Mapping[str, Sequence[Prior]], last_year: int, prefix: str) -> Mover | None:
    """The moves of each rule's last population (``experiment.moves``; None without moves)."""
    settings = settings_of(ex.options, prefix, int(ex.cfg.seed))
    if not settings.moves:
        return None

    def move(rule: str, population: pd.DataFrame, temperature: float) -> tuple[pd.DataFrame, dict[str, Any]]:
        base = under(with_values(ex.params, {"run.end_year": last_year}), rule)
        targets = load_targets(last_year)
        moved, info = move_population(
            population, base, priors[rule], targets, settings, temperature, f"{rule} to {last_year}"
        )
        ex.runs_done += info["points_simulated"] * settings.seeds
        return moved, info

    return move


def calibrate_rules(
    ex: Experiment, rules: Sequence[str], priors: Mapping[str, Sequence[Prior]], last_year: int, prefix: str
) -> tuple[pyabc.History, dict[str, Any]]:
    """The joint calibration of ``rules`` (ABC model choice) to ``last_year`` with the ``prefix`` settings."""
    seed = int(ex.cfg.seed)
    settings = settings_of(ex.options, prefix, seed)
    base = with_values(ex.params, {"run.end_year": last_year})
    fingerprint = {
        "model_version": store.model_version(),
        "data": data_hashes(),
        "rules": list(rules),
        "priors": {r: [[p.key, p.low, p.high] for p in priors[r]] for r in rules},
        "settings": settings.__dict__,
        "last_year": last_year,
    }
    models = [(under(base, r), list(priors[r])) for r in rules]
    history, info = run_smc(
        *models[0],
        load_targets(last_year),
        settings,
        ex.folder / f"abc_rules_{last_year}.db",
        fingerprint,
        label=f"rules to {last_year}",
        rivals=models[1:],
    )
    if history.max_t < 0:
        raise ExperimentError(
            f"the joint calibration to {last_year} stored no generation ({info['ended']}); allowed: settings under "
            f"which its first generation completes (more experiment.{prefix}max_points, a smaller population)"
        )
    ex.runs_done += info["points_simulated_this_session"] * settings.seeds
    return history, info


def write_rule_posterior(
    out: Path, rule: str, keys: Sequence[str], fit: RuleFit, provenance: dict[str, Any]
) -> dict[str, Any]:
    """``posterior_<rule>.json`` and ``calibrated_<rule>.yaml`` in ``out``; returns the file's provenance."""
    observation = [c for c in fit.draws.columns if c.startswith(DISCREPANCY_PREFIX)]
    own = provenance | {
        "model_probability": fit.probability,
        "generation": fit.generation,
        "temperature": fit.temperature,
        "particles": fit.particles,
        "effective_sample_size": fit.effective_sample_size,
        "draws": len(fit.draws),
        "moves": fit.moves,  # reweighted to T = 1 and moved (experiments/mcmc_moves.py); None without moves
        "draws_temperature": 1.0 if fit.moves else fit.temperature,  # the target the draws sample
    }
    payload = {
        "alignment_rule": rule,  # sim/posterior.py and q2 refuse it for another rule
        "keys": list(keys),
        "samples": fit.draws[list(keys)].to_numpy().tolist(),
        "losses": (-fit.draws["log_likelihood"]).to_numpy().tolist(),
        "observation": {"keys": observation, "samples": fit.draws[observation].to_numpy().tolist()},
        "provenance": own,
    }
    store.write_text(out / f"posterior_{rule}.json", json.dumps(payload, indent=1) + "\n")
    best = fit.draws.iloc[int(np.argmax(fit.draws["log_likelihood"].to_numpy()))]
    header = (
        f"# {rule}: the posterior draw of highest likelihood of `python -m experiments.theories` ({own['date']}):\n"
        f"# {METHOD}; generation {fit.generation}, temperature {fit.temperature:.3g}"
        + (" (its draws reweighted to T = 1 and moved)" if fit.moves else "")
        + f", model probability {fit.probability:.3f} (at the generation's temperature); model version "
        f"{own['model_version']}; the draws: posterior_{rule}.json.\n"
        f"#   python -m sim params=calibrated_{rule}\n" + rule_record(rule)
    )
    store.write_text(out / f"calibrated_{rule}.yaml", header + _yaml(_nested({k: best[k] for k in keys})) + "\n")
    return own


def validate_rules(
    ex: Experiment, rules: Sequence[str], priors: Mapping[str, Sequence[Prior]], last_year: int
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Rolling-origin validation of every rule: forecasts (rule column), model probabilities per origin, facts."""
    seed, n_draws = int(ex.cfg.seed), int(ex.options["origin_predictive_draws"])
    forecasts, tables, facts = [], [], {}
    for origin in (int(o) for o in ex.options["origins"]):
        history, info = calibrate_rules(ex, rules, priors, origin, "origin_")
        fits = rule_fits(history, rules, n_draws, seed, mover(ex, priors, origin, "origin_"))
        tables.append(model_probabilities(history, rules).assign(calibration=f"to {origin}"))
        facts[str(origin)] = info | {"rules": {r: summary(f) for r, f in fits.items()}}
        for rule, fit in fits.items():  # a rule never accepted at this origin has no forecast
            base = under(with_values(ex.params, {"run.end_year": last_year}), rule)
            bands = predictive(ex, base, priors[rule], fit.draws, origin, seed)
            forecasts.append(score_forecasts(bands, origin, last_year).assign(rule=rule))
    return pd.concat(forecasts, ignore_index=True), pd.concat(tables, ignore_index=True), facts


def run(ex: Experiment) -> dict[str, Any]:
    """Calibrate the rules together, validate each out of sample, ship their posteriors and probabilities."""
    opts = ex.options
    rules = [str(r) for r in opts["rules"]]
    if sorted(set(rules)) != sorted(rules) or not set(rules) <= set(ALIGNMENT_RULES) or len(rules) < 2:
        raise ExperimentError(
            f"experiment.rules={rules}; allowed: two or more distinct rules of {list(ALIGNMENT_RULES)}"
        )
    last_year = int(opts["last_year"])
    origins = [int(o) for o in opts["origins"]]
    if not ex.params.run.start_year < last_year <= ex.params.run.end_year or any(
        not ex.params.run.start_year + 2 <= o < last_year for o in origins
    ):
        raise ExperimentError(
            f"experiment.last_year={last_year}, origins={origins}; allowed: last_year in "
            f"{ex.params.run.start_year + 1}..{ex.params.run.end_year} and origins from "
            f"{ex.params.run.start_year + 2} to last_year - 1"
        )
    priors = rule_priors(list(ex.cfg.priors.ranges), dict(opts["rule_priors"]), rules, ex.params)
    seed = int(ex.cfg.seed)

    history, info = calibrate_rules(ex, rules, priors, last_year, "")
    fits = rule_fits(history, rules, int(opts["posterior_draws"]), seed, mover(ex, priors, last_year, ""))
    generations = model_probabilities(history, rules).assign(calibration=f"to {last_year}")
    forecasts, origin_tables, origin_facts = validate_rules(ex, rules, priors, last_year)
    probabilities = {r: float(generations[r].iloc[-1]) for r in rules}
    provenance = {
        "method": METHOD,
        "date": dt.date.today().isoformat(),
        "model_version": store.model_version(),
        "git_revision": store.git_revision(),
        "data_files_sha256": data_hashes(),
        "seed": seed,
        "last_year": last_year,
        "rule_prior": "uniform",
        "priors": {r: [dataclasses.asdict(p) for p in priors[r]] for r in rules},
        "discrepancy_priors": [dataclasses.asdict(p) for p in discrepancy_priors(load_targets(last_year))],
        "simulations": info["points_counted"] * info["seeds_per_point"],
        "losses_are": "negative log-likelihood of the data under the observation model",
        **info,
    }
    validation = {r: validation_summary(forecasts[forecasts["rule"] == r]) for r in dict.fromkeys(forecasts["rule"])}
    at_origin = origin_tables.groupby("calibration").last()
    scores = pd.DataFrame(
        [
            {"rule": r, "model_probability": probabilities[r]}
            | (fit_columns(fits[r]) if r in fits else {})
            | {f"probability_{c.replace(' ', '_')}": float(at_origin.loc[c, r]) for c in at_origin.index}
            | ({k: validation[r][k] for k in OUT_OF_SAMPLE} if r in validation else {})
            for r in rules
        ]
    )
    ex.write_csv("model_probabilities", pd.concat([generations, origin_tables], ignore_index=True))
    ex.write_csv("scores", scores)
    ex.write_csv("forecasts", forecasts)
    document = {
        "model_probabilities": probabilities,
        "provenance": provenance,
        "validation": validation,
        "origins": origin_facts,
        "scores": scores.to_dict(orient="records"),
    }
    ex.write_json("theories", document)
    if opts.get("params_out"):
        out = Path(str(opts["params_out"]))
        files = {r: write_rule_posterior(out, r, [p.key for p in priors[r]], fits[r], provenance) for r in fits}
        for rule in set(rules) - set(fits):  # never accepted: no posterior, and none of an earlier run left behind
            for stale in (out / f"posterior_{rule}.json", out / f"calibrated_{rule}.yaml"):
                stale.unlink(missing_ok=True)
        shipped = {
            "model_probabilities": probabilities,
            "provenance": provenance | {"posteriors": {r: f"posterior_{r}.json" for r in files}},
            "out_of_sample": {r: {k: validation[r][k] for k in OUT_OF_SAMPLE} for r in validation},
        }
        store.write_text(out / "model_probabilities.json", json.dumps(shipped, indent=1, default=float) + "\n")
    return {
        "model_probabilities": {r: round(p, 3) for r, p in probabilities.items()},
        "final_temperature": info["final_temperature"],
        "simulations": provenance["simulations"],
        "beats_persistence_share": {r: v["beats_persistence_share"] for r, v in validation.items()},
    }


main = entry_point(NAME, run)

if __name__ == "__main__":
    main()
