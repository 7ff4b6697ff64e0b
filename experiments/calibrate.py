"""Calibration against history: ``python -m experiments.calibrate``.

Approximate Bayesian computation by rejection (Pritchard et al. 1999; Beaumont 2010) over a
space-filling design: ``n_samples`` points of a Latin hypercube over the uniform priors
(``configs/priors/default.yaml``), each run once to ``last_year`` (2021) with the experiment's
seed; the loss of a point is the weighted mean squared scaled error over the targets of
``experiments/targets.py``; the ``accept`` points of lowest loss are the posterior sample.

Outputs: ``configs/params/calibrated.yaml`` (the best point; ``params=calibrated``) and
``configs/params/posterior.json`` (the accepted sample with its provenance: data files' hashes,
method, losses, sample size, date, model version; ``posterior=true``) in the project
(``experiment.params_out``), and in ``experiment.out``: ``design.csv`` (every point and its loss),
``fit.csv`` and ``fit_<family>.png`` (data against the posterior band, in-sample years marked),
``projections.csv`` (2022-2030 medians and 90% bands from the posterior), ``posterior.csv``
(the posterior intervals of the parameters).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.common import Experiment, ExperimentError, entry_point
from experiments.sampling import Prior, evaluate, latin_hypercube, load_priors, point_params
from experiments.targets import Target, data_hashes, load_targets, loss, model_values
from sim import store
from sim.ensemble import simulate_chunk
from sim.outcomes import W_COLUMNS
from sim.params import Params, with_values
from sim.plots_calibration import calibration_fit_figure
from sim.records import tables as build_tables

NAME = "calibrate"
METHOD = "ABC rejection over a Latin hypercube design (accept the lowest-loss points)"


def run_tables(params: Params, seed: int) -> dict[str, pd.DataFrame]:
    """States and outcomes of one run of ``params`` (the ensemble engine, no dyads or actions)."""
    traj = simulate_chunk(params, [seed], keep_dyads=False, keep_actions=False)
    return build_tables(traj, params.params.outcome.action_log_threshold, ("states", "outcomes"))


def point_loss(params: Params, seed: int, targets: list[Target]) -> float:
    """The calibration loss of one parameter point."""
    return loss(run_tables(params, seed), targets)


def abc_rejection(
    base: Params, priors: list[Prior], targets: list[Target], n_samples: int, accept: int, seed: int, workers: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The design, every point's loss, and the indices of the accepted points (lowest loss first)."""
    if not 1 <= accept <= n_samples:
        raise ExperimentError(f"experiment.accept={accept}; allowed: 1..experiment.n_samples ({n_samples})")
    design = latin_hypercube(priors, n_samples, seed)
    params_list = [point_params(base, priors, point) for point in design]
    losses = np.asarray(evaluate(functools.partial(point_loss, seed=seed, targets=targets), params_list, workers))
    order = np.argsort(losses, kind="stable")
    return design, losses, order[:accept]


def _nested(values: dict[str, float]) -> dict[str, Any]:
    """Dotted ``params.x.y`` keys as the nested mapping of a params/ config file."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        *path, leaf = key.removeprefix("params.").split(".")
        node = out
        for part in path:
            node = node.setdefault(part, {})
        node[leaf] = round(float(value), 6)
    return out


def _yaml(mapping: dict[str, Any], indent: int = 0) -> str:
    lines = []
    for key, value in mapping.items():
        if isinstance(value, dict):
            lines.append(" " * indent + f"{key}:")
            lines.append(_yaml(value, indent + 2))
        else:
            lines.append(" " * indent + f"{key}: {value}")
    return "\n".join(lines)


def run(ex: Experiment) -> dict[str, Any]:
    """Calibrate; write the calibrated parameters, the posterior, fits and projections."""
    options = ex.options
    last_year = int(options["last_year"])
    if not ex.params.run.start_year < last_year < ex.params.run.end_year:
        raise ExperimentError(
            f"experiment.last_year={last_year}; allowed: {ex.params.run.start_year + 1}..{ex.params.run.end_year - 1}"
        )
    priors = load_priors(list(ex.cfg.priors.ranges), ex.params)
    targets = load_targets(last_year)
    workers, seed = int(options["workers"]), int(ex.cfg.seed)
    in_sample = with_values(ex.params, {"run.end_year": last_year})
    design, losses, accepted = abc_rejection(
        in_sample, priors, targets, int(options["n_samples"]), int(options["accept"]), seed, workers
    )
    keys = [p.key for p in priors]
    ex.write_csv("design", pd.DataFrame(design, columns=keys).assign(loss=losses))
    sample = design[accepted]
    summary = pd.DataFrame(
        {
            "key": keys,
            "prior_low": [p.low for p in priors],
            "prior_high": [p.high for p in priors],
            "best": sample[0],
            "median": np.median(sample, axis=0),
            "low": np.quantile(sample, 0.05, axis=0),
            "high": np.quantile(sample, 0.95, axis=0),
        }
    )
    ex.write_csv("posterior", summary)

    # Full runs (to the end year) of every accepted point: fits and projections.
    posterior_runs = evaluate(
        functools.partial(run_tables, seed=seed), [point_params(ex.params, priors, point) for point in sample], workers
    )
    fit = _fit_table(posterior_runs, targets, last_year)
    ex.write_csv("fit", fit)
    for family in dict.fromkeys(t.family for t in targets):
        ex.save_figure(calibration_fit_figure(fit[fit["family"] == family], family, last_year), f"fit_{family}")
    projections = _projections(posterior_runs, ex.params, last_year)
    ex.write_csv("projections", projections)
    ex.runs_done += len(design) + len(sample)

    provenance = {
        "method": METHOD,
        "date": dt.date.today().isoformat(),
        "model_version": store.model_version(),
        "git_revision": store.git_revision(),
        "data_files_sha256": data_hashes(),
        "targets": [
            {"name": t.name, "family": t.family, "years": t.years.tolist(), "weight": t.weight, "scale": t.scale}
            for t in targets
        ],
        "priors": [{"key": p.key, "low": p.low, "high": p.high} for p in priors],
        "n_samples": int(options["n_samples"]),
        "accepted": len(accepted),
        "seed": seed,
        "last_year": last_year,
        "loss_best": float(losses[accepted[0]]),
        "loss_accepted_max": float(losses[accepted[-1]]),
        "loss_design_median": float(np.median(losses)),
    }
    out = Path(str(options["params_out"]))
    store.write_text(
        out / "posterior.json",
        json.dumps(
            {"keys": keys, "samples": sample.tolist(), "losses": losses[accepted].tolist(), "provenance": provenance},
            indent=1,
        )
        + "\n",
    )
    header = (
        f"# Calibrated parameters: the best point of `python -m experiments.calibrate` ({provenance['date']}).\n"
        f"# Method: {METHOD}; {provenance['n_samples']} points, {provenance['accepted']} accepted; loss "
        f"{provenance['loss_best']:.4f} (design median {provenance['loss_design_median']:.4f}).\n"
        f"# Model version {provenance['model_version']}; data hashes and the posterior sample: posterior.json.\n"
        "#   python -m sim params=calibrated            # this point\n"
        "#   python -m sim params=calibrated posterior=true replicates=40   # runs drawn from the posterior\n"
    )
    store.write_text(out / "calibrated.yaml", header + _yaml(_nested(dict(zip(keys, sample[0], strict=True)))) + "\n")
    japan = projections[(projections["actor"] == "JPN") & (projections["metric"] == "spending_share_gdp")]
    return {
        "loss_best": provenance["loss_best"],
        "loss_design_median": provenance["loss_design_median"],
        "fit_rmse_scaled": {
            t: float(v)
            for t, v in fit.groupby("target")["scaled_error"].apply(lambda e: np.sqrt(np.mean(e**2))).items()
        },
        "posterior_90": {row.key: [round(row.low, 4), round(row.high, 4)] for row in summary.itertuples()},
        "japan_spending_projection": {
            int(r.year): [round(r.median, 3), round(r.low, 3), round(r.high, 3)]
            for r in japan.itertuples()
            if r.year <= 2024
        },
    }


def _fit_table(runs: list[dict[str, pd.DataFrame]], targets: list[Target], last_year: int) -> pd.DataFrame:
    """Per target and year: observed value, posterior median and 90% band of the model, scaled error."""
    rows = []
    for target in targets:
        values = pd.concat([model_values(r, target) for r in runs], ignore_index=True)
        band = values.groupby("year")["model"].quantile([0.05, 0.5, 0.95]).unstack()
        observed = dict(zip(target.years, target.observed, strict=True))
        for year, q in band.iterrows():
            obs = observed.get(int(year), np.nan)
            rows.append(
                {
                    "target": target.name,
                    "family": target.family,
                    "year": int(year),
                    "observed": obs,
                    "model_median": q[0.5],
                    "model_low": q[0.05],
                    "model_high": q[0.95],
                    "in_sample": int(year) <= last_year,
                    "scaled_error": (q[0.5] - obs) / target.scale if not np.isnan(obs) else np.nan,
                }
            )
    return pd.DataFrame(rows)


def _projections(runs: list[dict[str, pd.DataFrame]], params: Params, last_year: int) -> pd.DataFrame:
    """Posterior medians and 90% bands after ``last_year``: year, actor, metric, median, low, high."""
    states = pd.concat([r["states"] for r in runs], ignore_index=True)
    outcomes = pd.concat([r["outcomes"] for r in runs], ignore_index=True)
    parts = []
    states = states.assign(forced_choice_us_share=(1.0 + states["alignment"]) / 2.0)
    for metric in ("alignment", "spending_share_gdp", "forced_choice_us_share"):
        frame = states.groupby(["run_id", "year", "actor"])[metric].mean().reset_index()
        if metric == "forced_choice_us_share":
            frame = frame[frame["actor"].isin(params.actors.region)]
        if metric == "spending_share_gdp":
            frame = frame[frame["actor"] == params.actors.focal]
        parts.append(frame.rename(columns={metric: "value"}).assign(metric=metric))
    columns = [*W_COLUMNS, "china_wants_gap", "sea_trust_japan", "sea_trust_us", "sea_trust_china"]
    yearly = outcomes.groupby(["run_id", "year"])[columns].mean().reset_index()
    long = yearly.melt(id_vars=["run_id", "year"], var_name="metric", value_name="value")
    long["actor"] = np.where(long["metric"].str.startswith("sea_"), "SEA", params.actors.focal)
    parts.append(long)
    table = pd.concat(parts, ignore_index=True)
    table = table[table["year"] > last_year]
    grouped = table.groupby(["year", "actor", "metric"])["value"]
    return pd.DataFrame(
        {"median": grouped.median(), "low": grouped.quantile(0.05), "high": grouped.quantile(0.95)}
    ).reset_index()


main = entry_point(NAME, run)

if __name__ == "__main__":
    main()
