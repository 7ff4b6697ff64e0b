"""Calibration against history: ``python -m experiments.calibrate`` (``make calibrate``).

1. Sequential ABC (pyabc's ABC-SMC with a stochastic acceptor, ``experiments/abc_smc.py``) of
   the priors of ``configs/priors/default.yaml`` plus one model-discrepancy term per target
   family, against the targets of ``experiments/targets.py`` to ``last_year`` (2021), each point
   run with several seeds in one ensemble batch. Stored in ``<out>/abc_<last_year>.db`` (SQLite):
   killed, the same command resumes it and ends with the same posterior.
2. Posterior predictive: ``predictive_draws`` equally weighted draws, each the mean of its runs
   with ``seeds`` seeds to the end year (the likelihood's simulated mean), plus the observation
   model's noise (measurement error and the draw's discrepancy): bands for every series (``projections.csv``) and their
   in-sample and leave-one-out coverage, with the chance of each count under calibrated bands (``checks.json``).
3. Rolling-origin validation: the same calibration to each of ``origins`` (2015, 2018), its
   forecasts of the later observed years to ``last_year`` scored against persistence and a
   linear trend (``validation.json``).
4. Identifiability: posterior over prior width of every parameter (``identifiability.csv``).

Outputs in the project (``experiment.params_out``): ``posterior.json`` (the last generation
reweighted to T = 1, resampled and moved by ``experiments/mcmc_moves.py``: equally weighted
``weights``, each particle's negative log-likelihood as ``losses``, its discrepancy values, and the
provenance, with the moves' ancestry) and ``calibrated.yaml`` (the particle that reproduces the
most of the record's patterns, of highest likelihood among them: ``experiments/calibrated_point.py``,
rule ``experiment.point``). In ``experiment.out``: ``checks.json``, ``validation.json``,
``projections.csv``, ``point_patterns.csv`` (each particle's patterns), ``fit.csv``,
``identifiability.csv``, ``posterior.csv``, ``forecasts.csv`` and the figures.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from experiments.abc_smc import (
    DISCREPANCY_PREFIX,
    SmcSettings,
    discrepancy_priors,
    effective_sample_size,
    family_unit,
    last_population,
    resample,
    run_points,
    run_smc,
    series_scale_draws,
)
from experiments.calibrated_point import Point, calibrated_point
from experiments.calibrated_point import check_rule as check_point_rule
from experiments.common import Experiment, ExperimentError, entry_point
from experiments.mcmc_moves import move_population
from experiments.sampling import Prior, evaluate, load_priors, point_params
from experiments.scoring import (
    Forecast,
    band_chance,
    inside,
    interval_score,
    linear_trend,
    loo_weights,
    persistence,
    weighted_quantiles,
)
from experiments.targets import (
    GENRON_RESPONDENTS,
    ISEAS_COUNTRIES,
    SIPRI_RELATIVE_SD,
    SIPRI_STATES,
    Target,
    data_hashes,
    iseas_respondents,
    load_targets,
    spending_series,
)
from sim import store
from sim.params import Params, with_values
from sim.plots_calibration import (
    calibration_fit_figure,
    coverage_figure,
    identifiability_figure,
    validation_figure,
)

NAME = "calibrate"
METHOD = "ABC-SMC (pyabc 0.13), stochastic acceptor, adaptive temperature, Student t observation model per series"
ALPHA90, ALPHA50 = 0.10, 0.50
FIRST_YEAR = 2010
PREDICTIVE_BLOCK = 25  # draws run together in one engine batch
PERCENT_METRICS = (
    "genron_unfavourable_of_china",
    "iseas_trust_in_china",
    "iseas_trust_in_japan",
    "iseas_trust_in_us",
    "iseas_choose_us",
)


# --- series of the model in the observed units ---------------------------------------------


def series_frame(tables: dict[str, pd.DataFrame], params: Params) -> pd.DataFrame:
    """Annual model values of every projected series: run_id, seed, year, actor, metric, value.

    Shares are 0..1 here (percent in ``projections.csv``); spending is % of GDP.
    """
    states = tables["states"].groupby(["run_id", "seed", "year", "actor"])[["alignment", "spending_share_gdp"]].mean()
    states = states.reset_index()
    parts = []
    sipri = [c for c in SIPRI_STATES.values() if c in params.actors.codes]
    spend = states[states["actor"].isin(sipri)]
    parts.append(spend.assign(metric="spending_share_gdp", value=spend["spending_share_gdp"]))
    region = states[states["actor"].isin(params.actors.region)]
    choose = region.assign(metric="iseas_choose_us", value=(1.0 + region["alignment"]) / 2.0)
    parts.append(choose)
    regional = choose.groupby(["run_id", "seed", "year"])["value"].mean().reset_index()
    parts.append(regional.assign(actor="ASEAN", metric="iseas_choose_us"))
    outcomes = tables["outcomes"].groupby(["run_id", "seed", "year"]).mean(numeric_only=True).reset_index()
    for metric, column, actor in (
        ("genron_unfavourable_of_china", "focal_threat_from_china", params.actors.focal),
        ("iseas_trust_in_china", "sea_trust_china", "ASEAN"),
        ("iseas_trust_in_japan", "sea_trust_japan", "ASEAN"),
        ("iseas_trust_in_us", "sea_trust_us", "ASEAN"),
    ):
        parts.append(outcomes[["run_id", "seed", "year"]].assign(actor=actor, metric=metric, value=outcomes[column]))
    columns = ["run_id", "seed", "year", "actor", "metric", "value"]
    return pd.concat([p[columns] for p in parts], ignore_index=True)


def run_tables(params: Params, seed: int | Sequence[int]) -> dict[str, pd.DataFrame]:
    """States and outcomes of runs of ``params``, one per seed (the ensemble engine, no dyads or actions)."""
    seeds = [seed] if isinstance(seed, int) else list(seed)
    return run_points([params], [seeds])[0]


def expected_series(params_list: Sequence[Params], seeds: Sequence[int]) -> list[pd.DataFrame]:
    """Each point's series (year, actor, metric, value) averaged over runs with ``seeds``: the likelihood's mean."""
    out = []
    for params, tables in zip(params_list, run_points(params_list, [list(seeds)] * len(params_list)), strict=True):
        frame = series_frame(tables, params)
        out.append(frame.groupby(["year", "actor", "metric"])["value"].mean().reset_index())
    return out


def family_of(metric: str, actor: str) -> str:
    """The target family whose discrepancy applies to a projected series."""
    if metric == "spending_share_gdp":
        return "japan_spending" if actor == "JPN" else "sea_spending"
    if metric == "genron_unfavourable_of_china":
        return "japan_opinion"
    if metric == "iseas_choose_us":
        return "iseas_forced_choice"
    return "iseas_trust"


def series_scales(
    frame: pd.DataFrame, discrepancy: pd.DataFrame, targets: Sequence[Target], rng: np.random.Generator
) -> np.ndarray:
    """Each row's series variance factor: one draw per draw and series, given the draw's residuals.

    The likelihood's series factor lam (``experiments/abc_smc.py``, ``SERIES_DF``) has, given a
    draw's model values and the series' observations to ``last_year``, an inverse-gamma
    distribution (conjugate); a series without observations draws it from its prior.
    """
    observed = pd.DataFrame(
        [
            {
                "year": int(y),
                "actor": t.where,
                "metric": t.metric,
                "observed": v,
                "variance": sd**2,
                "unit": family_unit(t),
                "column": DISCREPANCY_PREFIX + t.family,
            }
            for t in targets
            for y, v, sd in zip(t.years, t.observed, t.sd, strict=True)
        ]
    )
    keys = ["draw", "actor", "metric"]
    rows = frame[["year", *keys, "value"]].assign(row=np.arange(len(frame)))
    matched = rows.merge(observed, on=["year", "actor", "metric"])
    delta = np.zeros(len(matched))
    for column in matched["column"].unique():
        at = (matched["column"] == column).to_numpy()
        delta[at] = discrepancy[column].to_numpy()[matched["draw"].to_numpy()[at]]
    matched["q"] = (matched["value"] - matched["observed"]) ** 2 / (
        matched["variance"] + (delta * matched["unit"]) ** 2
    )
    series = rows.groupby(keys).size().rename("rows").to_frame()
    fit = matched.groupby(keys)["q"].agg(["sum", "size"])
    series = series.join(fit).fillna(0.0)
    series["scale"] = series_scale_draws(series["sum"].to_numpy(), series["size"].to_numpy(), rng)
    return rows.merge(series["scale"].reset_index(), on=keys, how="left").sort_values("row")["scale"].to_numpy()


def observation_sd(
    frame: pd.DataFrame, discrepancy: pd.DataFrame, last_year: int, rng: np.random.Generator
) -> np.ndarray:
    """Standard deviation of the observation model's Normal error of every row, given the draw.

    ``frame`` has a ``draw`` column indexing the rows of ``discrepancy`` (one column per family).
    Measurement error follows ``experiments/targets.py`` at the simulated value: binomial for
    survey shares (Genron's 1,000 respondents, ISEAS's per country or regional sample), SIPRI's 5%
    for spending; the discrepancy is in the family's unit (a state's mean SIPRI share 2010 to
    ``last_year``; 1 for shares); the series' variance factor is drawn by :func:`series_scales`.
    The one sd behind both the predictive noise (:func:`observation_noise`) and the density of the
    leave-one-out weights (:func:`loo_coverage`).
    """
    value = frame["value"].to_numpy(dtype=float)
    metric, actor = frame["metric"].to_numpy(), frame["actor"].to_numpy()
    spending = metric == "spending_share_gdp"
    iseas_n = iseas_respondents()
    respondents = np.where(
        metric == "genron_unfavourable_of_china",
        GENRON_RESPONDENTS,
        np.where((metric == "iseas_choose_us") & (actor != "ASEAN"), iseas_n / ISEAS_COUNTRIES, iseas_n),
    )
    share = np.clip(value, 0.0, 1.0)
    measurement = np.where(spending, SIPRI_RELATIVE_SD * value, np.sqrt(share * (1.0 - share) / respondents))
    units = {code: float(spending_series(code, last_year).mean()) for code in set(actor[spending])}
    unit = np.array([units[a] if s else 1.0 for a, s in zip(actor, spending, strict=True)])
    families = np.array([family_of(m, a) for m, a in zip(metric, actor, strict=True)])
    delta = np.zeros(len(frame))
    draws = frame["draw"].to_numpy()
    for family in np.unique(families):
        rows = families == family
        column = DISCREPANCY_PREFIX + family
        # a family without data at this origin has no discrepancy estimate: measurement error only
        delta[rows] = discrepancy[column].to_numpy()[draws[rows]] if column in discrepancy else 0.0
    scale = series_scales(frame, discrepancy, load_targets(last_year), rng)
    return np.asarray(np.sqrt(scale * (measurement**2 + (delta * unit) ** 2)), dtype=float)


def observation_noise(frame: pd.DataFrame, sd: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Model values plus the observation model's Normal error of standard deviation ``sd``, kept in range."""
    value = frame["value"].to_numpy(dtype=float)
    noisy = value + rng.normal(0.0, 1.0, len(value)) * sd
    spending = frame["metric"].to_numpy() == "spending_share_gdp"
    return np.where(spending, np.maximum(noisy, 0.0), np.clip(noisy, 0.0, 1.0))


def predictive_frame(
    ex: Experiment, base: Params, priors: Sequence[Prior], draws: pd.DataFrame, last_year: int, seed: int
) -> pd.DataFrame:
    """Every draw's predictive value of every series: year, actor, metric, draw, expected, sd, value.

    ``expected`` is the mean of the draw's runs with ``seeds`` seeds (the simulated mean of the
    likelihood), ``sd`` its observation model's standard deviation (measurement error and the
    draw's discrepancy, :func:`observation_sd`), ``value`` the two combined (a predictive draw).
    """
    n_seeds = int(ex.options["seeds"])
    seeds = [int(s) for s in np.random.SeedSequence([seed, last_year]).generate_state(n_seeds)]
    params_list = [point_params(base, priors, [row[p.key] for p in priors]) for _, row in draws.iterrows()]
    block = max(1, min(PREDICTIVE_BLOCK, len(params_list) // max(1, 2 * int(ex.options["workers"]))))
    blocks = [params_list[i : i + block] for i in range(0, len(params_list), block)]
    run = functools.partial(expected_series, seeds=seeds)
    frames = [
        f for part in evaluate(run, blocks, int(ex.options["workers"]), desc="predictive", unit="block") for f in part
    ]
    ex.runs_done += len(params_list) * n_seeds
    frame = pd.concat([f.assign(draw=k) for k, f in enumerate(frames)], ignore_index=True)
    rng = np.random.default_rng([seed, last_year, 1])
    frame["expected"] = frame["value"]
    frame["sd"] = observation_sd(frame, draws, last_year, rng)
    frame["value"] = observation_noise(frame, frame["sd"].to_numpy(), rng)
    return frame


def predictive_bands(frame: pd.DataFrame) -> pd.DataFrame:
    """Posterior predictive bands of every series from :func:`predictive_frame`: year, actor, metric,
    median, low, high, low50, high50 (from ``FIRST_YEAR``)."""
    grouped = frame.groupby(["year", "actor", "metric"])["value"]
    bands = pd.DataFrame(
        {
            "median": grouped.median(),
            "low": grouped.quantile(ALPHA90 / 2),
            "high": grouped.quantile(1 - ALPHA90 / 2),
            "low50": grouped.quantile(ALPHA50 / 2),
            "high50": grouped.quantile(1 - ALPHA50 / 2),
        }
    ).reset_index()
    return bands[bands["year"] >= FIRST_YEAR].reset_index(drop=True)


def predictive(
    ex: Experiment, base: Params, priors: Sequence[Prior], draws: pd.DataFrame, last_year: int, seed: int
) -> pd.DataFrame:
    """Posterior predictive bands of every series: year, actor, metric, median, low, high, low50, high50.

    Each draw's value is the mean of its runs with ``seeds`` seeds (the simulated mean of the
    likelihood) plus the observation model's noise (measurement error and the draw's discrepancy).
    """
    return predictive_bands(predictive_frame(ex, base, priors, draws, last_year, seed))


def observed_points(targets: Sequence[Target]) -> pd.DataFrame:
    """Every observation of ``targets``: target, family, year, actor, metric, observed."""
    rows = [
        {"target": t.name, "family": t.family, "year": int(y), "actor": t.where, "metric": t.metric, "observed": v}
        for t in targets
        for y, v in zip(t.years, t.observed, strict=True)
    ]
    return pd.DataFrame(rows)


def coverage(points: pd.DataFrame) -> dict[str, dict[str, float | int]]:
    """Share of observations inside the 50% and 90% bands, per family (points joined with bands)."""
    out: dict[str, dict[str, float | int]] = {}
    for family, group in points.groupby("family", sort=False):
        out[str(family)] = {
            "band50": round(float(inside(*(group[c].to_numpy() for c in ("low50", "high50", "observed"))).mean()), 4),
            "band90": round(float(inside(*(group[c].to_numpy() for c in ("low", "high", "observed"))).mean()), 4),
            "n": len(group),
        }
    return out


def loo_coverage(frame: pd.DataFrame, points: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Coverage of the leave-one-out predictive bands, per family, with the weights' diagnostics.

    ``frame`` is :func:`predictive_frame`'s, ``points`` :func:`observed_points`'. Observation i's
    band: the weighted quantiles of its predictive draws, each draw weighted by
    1 / Normal(y_i; expected, sd) (the density under which its noise was drawn), truncated
    (:func:`experiments.scoring.loo_weights`). Per family, besides :func:`coverage`'s entries:
    ``truncated_share`` (observations whose weights were truncated) and ``ess_min`` (the smallest
    effective sample size of an observation's weights, of the draws).
    """
    probabilities = (ALPHA90 / 2, ALPHA50 / 2, 1 - ALPHA50 / 2, 1 - ALPHA90 / 2)
    rows = []
    matched = points.merge(frame, on=["year", "actor", "metric"])
    for (family, _, _), group in matched.groupby(["family", "target", "year"], sort=False):
        observed = float(group["observed"].iloc[0])
        log_density = stats.norm.logpdf(observed, group["expected"].to_numpy(), group["sd"].to_numpy())
        weights, truncated = loo_weights(log_density)
        low, low50, high50, high = weighted_quantiles(group["value"].to_numpy(), weights, probabilities)
        rows.append(
            {"family": family, "observed": observed, "low": low, "low50": low50, "high50": high50, "high": high}
            | {"truncated": truncated, "ess": effective_sample_size(weights)}
        )
    table = pd.DataFrame(rows)
    out: dict[str, dict[str, Any]] = {}
    for family, entry in coverage(table).items():
        group = table[table["family"] == family]
        out[family] = entry | {
            "truncated_share": round(float(group["truncated"].mean()), 4),
            "ess_min": round(float(group["ess"].min()), 1),
        }
    return out


def with_chance(covered: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each family's coverage with ``binomial_p``: the chance of its counts under calibrated bands (4 digits).

    ``band50``: two-sided, a count inside at least as far from n/2; ``band90``: at least as many
    misses (:func:`experiments.scoring.band_chance`).
    """
    out = {}
    for family, entry in covered.items():
        n = int(entry["n"])
        chance = {
            band: float(f"{band_chance(round(float(entry[band]) * n), n, level):.4g}")
            for band, level in (("band50", 1 - ALPHA50), ("band90", 1 - ALPHA90))
        }
        out[family] = entry | {"binomial_p": chance}
    return out


# --- calibration ---------------------------------------------------------------------------


def settings_of(options: dict[str, Any], prefix: str, seed: int) -> SmcSettings:
    """The ABC-SMC settings ``<prefix>population`` etc. of the experiment's config.

    The tempering settings (``ess_target``, ``acceptance_target``, ``<prefix>min_ess``,
    ``<prefix>early_population``) may be left out: :class:`SmcSettings`' defaults apply.
    """
    defaults = SmcSettings(population=1, generations=1, max_points=1, seeds=1, workers=1, seed=seed)
    return SmcSettings(
        population=int(options[f"{prefix}population"]),
        generations=int(options[f"{prefix}generations"]),
        max_points=int(options[f"{prefix}max_points"]),
        seeds=int(options["seeds"]),
        workers=int(options["workers"]),
        seed=seed,
        ess_target=float(options.get("ess_target", defaults.ess_target)),
        acceptance_target=float(options.get("acceptance_target", defaults.acceptance_target)),
        min_ess=float(options.get(f"{prefix}min_ess", defaults.min_ess)),
        early_population=int(options.get(f"{prefix}early_population", defaults.early_population)),
        moves=int(options.get("moves", defaults.moves)),
    )


def calibrate(
    ex: Experiment, priors: list[Prior], last_year: int, settings: SmcSettings
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Calibrate to ``last_year``: the last population (weighted), equally weighted draws, the run's facts."""
    targets = load_targets(last_year)
    base = with_values(ex.params, {"run.end_year": last_year})
    fingerprint = {
        "model_version": store.model_version(),
        "data": data_hashes(),
        "priors": [[p.key, p.low, p.high] for p in priors],
        "settings": settings.__dict__,
        "last_year": last_year,
    }
    db = ex.folder / f"abc_{last_year}.db"
    history, info = run_smc(base, priors, targets, settings, db, fingerprint, label=f"ABC-SMC to {last_year}")
    if history.max_t < 0:
        raise ExperimentError(
            f"the calibration to {last_year} stored no generation ({info['ended']}); allowed: settings under which "
            "its first generation completes (more points in the budget, a smaller population, more generations)"
        )
    population = last_population(history)
    ex.runs_done += info["points_simulated_this_session"] * settings.seeds
    if settings.moves:
        population, info["moves"] = move_population(
            population, base, priors, targets, settings, info["final_temperature"], f"ABC-SMC to {last_year}"
        )
        ex.runs_done += info["moves"]["points_simulated"] * settings.seeds
    draws = resample(population, int(ex.options["posterior_draws"]), settings.seed)
    info["particles"] = len(population)
    keys = [p.key for p in priors]
    info["distinct_particles_in_draws"] = len(draws[keys].drop_duplicates())
    info["targets"] = len(targets)
    info["observations"] = int(sum(len(t.years) for t in targets))
    return population, draws, info


def identifiability(priors: Sequence[Prior], population: pd.DataFrame) -> pd.DataFrame:
    """Posterior over prior spread of each parameter (weighted standard deviations and 90% widths)."""
    rows = []
    w = population["weight"].to_numpy()
    for p in priors:
        x = population[p.key].to_numpy(dtype=float)
        mean = float(np.sum(w * x))
        sd = float(np.sqrt(np.sum(w * (x - mean) ** 2)))
        order = np.argsort(x)
        cdf = np.cumsum(w[order])
        low, median, high = (float(x[order][np.searchsorted(cdf, q)]) for q in (0.05, 0.5, 0.95))
        prior_sd = (p.high - p.low) / np.sqrt(12.0)
        rows.append(
            {
                "key": p.key,
                "prior_low": p.low,
                "prior_high": p.high,
                "median": median,
                "low": low,
                "high": high,
                "sd_ratio": sd / prior_sd,
                "width90_ratio": (high - low) / (0.9 * (p.high - p.low)),
            }
        )
    return pd.DataFrame(rows)


# --- rolling-origin validation -------------------------------------------------------------


def score_forecasts(bands: pd.DataFrame, origin: int, last_year: int) -> pd.DataFrame:
    """Every observed point after ``origin``: the model's forecast and the baselines', scored."""
    rows = []
    for target in load_targets(last_year):
        history = target.years <= origin
        years, values = target.years[history], target.observed[history]
        for year, observed in zip(target.years[~history], target.observed[~history], strict=True):
            same = (bands["actor"] == target.where) & (bands["metric"] == target.metric)
            match = bands[same & (bands["year"] == year)]
            model = Forecast(float(match["median"].iloc[0]), float(match["low"].iloc[0]), float(match["high"].iloc[0]))
            row: dict[str, Any] = {"origin": origin, "target": target.name, "family": target.family, "year": int(year)}
            row["observed"] = float(observed)
            for name, forecast in (
                ("model", model),
                ("persistence", persistence(years, values, int(year), ALPHA90)),
                ("trend", linear_trend(years, values, int(year), ALPHA90)),
            ):
                if forecast is None:
                    row |= {f"{name}_point": np.nan, f"{name}_abs_error": np.nan, f"{name}_interval_score": np.nan}
                    continue
                bounds = np.array([forecast.low]), np.array([forecast.high])
                score = interval_score(*bounds, np.array([observed]), ALPHA90)
                row |= {
                    f"{name}_point": forecast.point,
                    f"{name}_abs_error": abs(forecast.point - observed),
                    f"{name}_interval_score": float(score[0]),
                }
            rows.append(row)
    return pd.DataFrame(rows)


def validation_summary(scores: pd.DataFrame) -> dict[str, Any]:
    """Shares of forecast points where the model beats each baseline, overall and per family."""

    def shares(frame: pd.DataFrame) -> dict[str, Any]:
        out: dict[str, Any] = {"n_points": len(frame)}
        for baseline in ("persistence", "trend"):
            scored = frame.dropna(subset=[f"{baseline}_abs_error"])
            beats = scored["model_abs_error"] < scored[f"{baseline}_abs_error"]
            out[f"n_points_with_{baseline}"] = len(scored)
            out[f"beats_{baseline}_share"] = round(float(beats.mean()), 4) if len(scored) else None
            out[f"mae_{baseline}"] = round(float(scored[f"{baseline}_abs_error"].mean()), 5) if len(scored) else None
            out[f"mae_model_where_{baseline}"] = (
                round(float(scored["model_abs_error"].mean()), 5) if len(scored) else None
            )
            with_band = scored.dropna(subset=[f"{baseline}_interval_score"])
            out[f"interval_score_{baseline}"] = (
                round(float(with_band[f"{baseline}_interval_score"].mean()), 5) if len(with_band) else None
            )
            out[f"interval_score_model_where_{baseline}"] = (
                round(float(with_band["model_interval_score"].mean()), 5) if len(with_band) else None
            )
        out["mae_model"] = round(float(frame["model_abs_error"].mean()), 5)
        out["interval_score_model"] = round(float(frame["model_interval_score"].mean()), 5)
        return out

    with_persistence = scores.dropna(subset=["persistence_abs_error"])
    summary = shares(with_persistence)
    summary["by_family"] = {str(f): shares(g) for f, g in with_persistence.groupby("family", sort=False)}
    summary["by_origin"] = {str(o): shares(g) for o, g in with_persistence.groupby("origin", sort=False)}
    summary["points_without_persistence"] = int(scores["persistence_abs_error"].isna().sum())
    failing = [f for f, s in summary["by_family"].items() if (s["beats_persistence_share"] or 0.0) < 0.5]
    beats = (summary["beats_persistence_share"] or 0.0) >= 0.5
    summary["statement"] = (
        f"The model {'beats' if beats else 'does not beat'} persistence on at least half of the "
        f"{summary['n_points']} forecast points ({summary['beats_persistence_share']:.0%}); "
        + (f"families where it loses to persistence: {', '.join(failing)}." if failing else "it wins in every family.")
    )
    return summary


# --- outputs -------------------------------------------------------------------------------


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


def rule_record(rule: str) -> str:
    """The line of a params/ file that records (and selects) the alignment rule it was calibrated under.

    ``sim/cli.py`` refuses to run the file's parameters under another rule.
    """
    return f"alignment_rule: {rule}  # calibrated under this rule: selects it; another rule is refused\n"


def _yaml(mapping: dict[str, Any], indent: int = 0) -> str:
    lines = []
    for key, value in mapping.items():
        if isinstance(value, dict):
            lines.append(" " * indent + f"{key}:")
            lines.append(_yaml(value, indent + 2))
        else:
            lines.append(" " * indent + f"{key}: {value}")
    return "\n".join(lines)


def projections_table(bands: pd.DataFrame, end_year: int) -> pd.DataFrame:
    """``projections.csv``: shares as percent, one row per year from 2010 to the end year."""
    table = bands[bands["year"] <= end_year].copy()
    percent = table["metric"].isin(PERCENT_METRICS)
    for column in ("median", "low", "high", "low50", "high50"):
        table.loc[percent, column] = table.loc[percent, column] * 100.0
    columns = ["year", "actor", "metric", "median", "low", "high", "low50", "high50"]
    return table[columns].sort_values(["metric", "actor", "year"]).reset_index(drop=True)


def _moves_note(info: dict[str, Any]) -> str:
    """How the last population was moved (experiments/mcmc_moves.py), for the calibrated.yaml header."""
    moves = info.get("moves")
    if not moves:
        return ""
    return (
        f"; then resampled and moved {moves['moves']} times by Metropolis-Hastings (acceptance "
        f"{min(moves['acceptance_rates']):.2f}-{max(moves['acceptance_rates']):.2f}): {moves['distinct_after']} "
        f"distinct particles of equal weight from {moves['ancestors']} ancestors "
        f"({moves['effective_ancestors']:.1f} effective)"
    )


def write_posterior(
    ex: Experiment,
    priors: Sequence[Prior],
    population: pd.DataFrame,
    info: dict[str, Any],
    last_year: int,
    point: Point,
) -> dict[str, Any]:
    """``posterior.json`` and ``calibrated.yaml`` (the particle ``point`` names) in ``experiment.params_out``.

    Returns the provenance.
    """
    keys = [p.key for p in priors]
    observation_keys = [c for c in population.columns if c.startswith(DISCREPANCY_PREFIX)]
    best = population.iloc[point.index]
    targets = load_targets(last_year)
    provenance = {
        "method": METHOD,
        "date": dt.date.today().isoformat(),
        "model_version": store.model_version(),
        "git_revision": store.git_revision(),
        "data_files_sha256": data_hashes(),
        "targets": [
            {"name": t.name, "family": t.family, "years": t.years.tolist(), "measurement_sd": t.sd.round(5).tolist()}
            for t in targets
        ],
        "priors": [{"key": p.key, "low": p.low, "high": p.high} for p in priors],
        "discrepancy_priors": [{"key": p.key, "low": p.low, "high": p.high} for p in discrepancy_priors(targets)],
        "n_samples": info["points_counted"],
        "simulations": info["points_counted"] * info["seeds_per_point"],
        "particles": len(population),
        "seed": int(ex.cfg.seed),
        "last_year": last_year,
        "losses_are": "negative log-likelihood of the data under the observation model",
        **{k: v for k, v in info.items() if k not in ("targets",)},
    }
    out = Path(str(ex.options["params_out"]))
    payload = {
        "alignment_rule": ex.params.params.alignment_rule,  # sim/posterior.py refuses runs under another rule
        "keys": keys,
        "samples": population[keys].to_numpy().tolist(),
        "weights": population["weight"].to_numpy().tolist(),
        "losses": (-population["log_likelihood"]).to_numpy().tolist(),
        "observation": {"keys": observation_keys, "samples": population[observation_keys].to_numpy().tolist()},
        "provenance": provenance,
    }
    if "ancestor" in population:  # moved: the particle of the last generation each descends from
        payload["ancestors"] = population["ancestor"].astype(int).tolist()
    store.write_text(out / "posterior.json", json.dumps(payload, indent=1) + "\n")
    header = (
        f"# Calibrated parameters: {point.note(population['log_likelihood'].to_numpy())} of this calibration "
        f"(seed {provenance['seed']}), `python -m experiments.calibrate` ({provenance['date']}).\n"
        f"# Method: {METHOD}; {provenance['simulations']} simulations ({provenance['n_samples']} points x "
        f"{info['seeds_per_point']} seeds), {info['generations']} generations, final temperature "
        f"{info['final_temperature']:.3g}, {len(population)} particles, effective sample size "
        f"{info['final_ess']:.0f} (before any move){_moves_note(info)}.\n"
        f"# Model version {provenance['model_version']}; data hashes and the {len(population)} particles: "
        "posterior.json.\n"
        "#   python -m sim params=calibrated            # this point\n"
        "#   python -m sim params=calibrated posterior=true replicates=40   # runs drawn from the posterior\n"
        + rule_record(ex.params.params.alignment_rule)
    )
    store.write_text(out / "calibrated.yaml", header + _yaml(_nested({k: best[k] for k in keys})) + "\n")
    return provenance


def rolling_origin_validation(
    ex: Experiment, priors: list[Prior], origins: Sequence[int], last_year: int, seed: int
) -> dict[str, Any]:
    """Calibrate to each origin, forecast to ``last_year`` and score against the baselines (validation.json).

    With no origins nothing is calibrated and validation.json says that the validation was not run
    (a validation of an earlier calibration in the folder would otherwise sit beside the new posterior).
    """
    if not origins:
        skipped = {"origins": [], "statement": "Rolling-origin validation not run (experiment.origins is empty)."}
        ex.write_json("validation", skipped)
        return skipped
    scores, facts = [], {}
    for origin in origins:
        _, origin_draws, origin_info = calibrate(ex, priors, origin, settings_of(ex.options, "origin_", seed))
        n_origin = int(ex.options["origin_predictive_draws"])
        subset = origin_draws.iloc[:: max(1, len(origin_draws) // n_origin)][:n_origin]
        origin_bands = predictive(ex, with_values(ex.params, {"run.end_year": last_year}), priors, subset, origin, seed)
        scores.append(score_forecasts(origin_bands, origin, last_year))
        facts[str(origin)] = origin_info
    forecasts = pd.concat(scores, ignore_index=True)
    ex.write_csv("forecasts", forecasts)
    validation = validation_summary(forecasts) | {
        "origins": list(origins),
        "last_year": last_year,
        "calibrations": facts,
    }
    ex.write_json("validation", validation)
    ex.save_figure(validation_figure(validation), "validation")
    return validation


def run(ex: Experiment) -> dict[str, Any]:
    """Calibrate, check, validate, project; write the posterior and every table and figure."""
    options = ex.options
    last_year = int(options["last_year"])
    if not ex.params.run.start_year < last_year < ex.params.run.end_year:
        raise ExperimentError(
            f"experiment.last_year={last_year}; allowed: {ex.params.run.start_year + 1}..{ex.params.run.end_year - 1}"
        )
    origins = [int(o) for o in options["origins"]]
    bad = [o for o in origins if not ex.params.run.start_year + 2 <= o < last_year]
    if bad:
        raise ExperimentError(
            f"experiment.origins={origins}; allowed: years from {ex.params.run.start_year + 2} to {last_year - 1}"
        )
    if int(options["posterior_draws"]) < int(options["predictive_draws"]):
        raise ExperimentError(
            f"experiment.predictive_draws={options['predictive_draws']}; allowed: at most experiment.posterior_draws "
            f"({options['posterior_draws']})"
        )
    point_rule = check_point_rule(str(options["point"]))
    priors = load_priors(list(ex.cfg.priors.ranges), ex.params)
    seed = int(ex.cfg.seed)
    n_predictive = int(options["predictive_draws"])

    # 1-2. Calibration to last_year, its calibrated point, its predictive bands, checks and projections.
    population, draws, info = calibrate(ex, priors, last_year, settings_of(options, "", seed))
    particles = [
        point_params(ex.params, priors, row) for row in population[[p.key for p in priors]].to_numpy().tolist()
    ]
    log_likelihood = population["log_likelihood"].to_numpy()
    point = calibrated_point(point_rule, particles, log_likelihood, seed, int(options["workers"]))
    ex.runs_done += len(point.patterns)
    if not point.patterns.empty:
        ex.write_csv("point_patterns", point.patterns)
    provenance = write_posterior(ex, priors, population, info, last_year, point)
    subset = draws.iloc[:: max(1, len(draws) // n_predictive)][:n_predictive]
    frame = predictive_frame(ex, ex.params, priors, subset, last_year, seed)
    bands = predictive_bands(frame)
    ex.write_csv("projections", projections_table(bands, ex.params.run.end_year))
    points = observed_points(load_targets(last_year)).merge(bands, on=["year", "actor", "metric"], how="left")
    fit = points.rename(columns={"median": "model_median", "low": "model_low", "high": "model_high"})
    series = bands.merge(points[["target", "family", "actor", "metric"]].drop_duplicates(), on=["actor", "metric"])
    series = series.merge(points[["target", "year", "observed"]], on=["target", "year"], how="left")
    series = series.rename(columns={"median": "model_median", "low": "model_low", "high": "model_high"})
    series = series[series["year"] <= last_year + 3].assign(in_sample=lambda f: f["year"] <= last_year)
    ex.write_csv("fit", series)
    for family in dict.fromkeys(fit["family"]):
        ex.save_figure(calibration_fit_figure(series[series["family"] == family], family, last_year), f"fit_{family}")
    covered = with_chance(coverage(points))
    loo = with_chance(loo_coverage(frame, points.drop(columns=["median", "low", "high", "low50", "high50"])))
    checks = {"coverage": covered, "coverage_loo": loo, "draws": n_predictive, "seeds_per_draw": int(options["seeds"])}
    ex.write_json("checks", checks)
    ex.save_figure(coverage_figure(covered), "checks")

    # 4. Identifiability.
    all_priors = [*priors, *discrepancy_priors(load_targets(last_year))]
    ident = identifiability(all_priors, population)
    ex.write_csv("identifiability", ident)
    ex.write_csv("posterior", ident[["key", "prior_low", "prior_high", "median", "low", "high"]])
    ex.save_figure(identifiability_figure(ident), "identifiability")

    # 3. Rolling-origin validation (skipped with no origins: a replicate calibration, say).
    validation = rolling_origin_validation(ex, priors, origins, last_year, seed)

    uninformed = ident.loc[ident["sd_ratio"] > 0.8, "key"].tolist()
    return {
        "simulations": provenance["simulations"],
        "points": provenance["n_samples"],
        "ended": info["ended"],
        "final_temperature": info["final_temperature"],
        "coverage": checks["coverage"],
        "beats_persistence_share": validation.get("beats_persistence_share"),
        "beats_trend_share": validation.get("beats_trend_share"),
        "validation": validation["statement"],
        "uninformed_parameters": uninformed,
        "final_ess": info["final_ess"],
        "particles": info["particles"],
        "shapley_correlation": "q2's parameter_share_correlation.csv (China's share per posterior draw is q2's)",
    }


main = entry_point(NAME, run)

if __name__ == "__main__":
    main()
