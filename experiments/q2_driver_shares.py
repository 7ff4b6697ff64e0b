"""Q2 and claim C0: what share of Japan's shift does each driver explain? ``python -m experiments.q2_driver_shares``.

The players are the registered drivers (``sim/drivers``). The value of a coalition S is the
change in one of Japan's dimensions (W1..W5 and the China-wants gap; annual means, ``from_year``
to ``to_year``) when the drivers in S are on (at their configured scale) and the others at their
counterfactual (scale 0, with each driver's configured semantics: absent or frozen) for the
whole run, run by run with the same seeds (paired). With k <= 8 drivers the 2^k coalitions run
in one ensemble batch and the Shapley values (Shapley 1953) and the Owen values for the drivers'
owners (Owen 1977: "Beijing" = every China-owned driver) are exact; beyond, they are the mean
marginal contributions over ``experiment.orders`` sampled orders, with their standard error
(``experiments/attribution.py``). A driver's share is its value over the total change
v(all) - v(none).

Every coalition runs in every parameter draw (``experiment.parameter_source``: the calibrated
posterior by default, ``experiment.draws`` of them; ``experiments/draws.py``) with the draw's
seeds. A draw's shares are its mean values over its mean total; intervals are 90% central
intervals over draws (parametric uncertainty, noise nested). The verdict on C0 is graded
(``experiments/verdict.py``: P(China's share > 1/2), P(largest), thresholds ``experiment.verdict``
fixed before any run) under two definitions of "Beijing's behaviour": ``narrow`` (China's
coercion alone, one player among the drivers) and ``broad`` (every China-owned driver together,
one player among the owners).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from experiments import attribution, patterns, theory_verdicts, verdict
from experiments.common import Experiment, ExperimentError, check_years, ending_in, entry_point, log, switched_off
from experiments.draws import DrawPlan, per_draw_mean
from experiments.figures import dimension_shares_figure, share_distributions_figure
from sim import drivers as registry
from sim.outcomes import W_COLUMNS
from sim.params import Params, with_values
from sim.posterior import load_posterior

NAME = "q2_driver_shares"
DIMENSIONS = (*W_COLUMNS, "china_wants_gap")
GAP = len(DIMENSIONS) - 1


def coalition_params(params: Params, masks: list[int], drivers: tuple[str, ...]) -> list[Params]:
    """``params`` once per coalition mask: the drivers not in it off (at their counterfactual) from the start."""
    k = len(drivers)
    out = []
    for mask in masks:
        on = attribution.members(mask, k)
        label = "drivers-" + "".join(map(str, on))
        out.append(switched_off(params, [d for d, o in zip(drivers, on, strict=True) if not o], label))
    return out


def coalition_values(
    tables: list[dict[str, pd.DataFrame]], seeds: list[int], start: int, end: int, columns: tuple[str, ...] = DIMENSIONS
) -> np.ndarray:
    """v(S) per run and dimension: the change of each of ``columns`` (annual means) from ``start`` to ``end``.

    Returns shape (R, C, D): runs in ``seeds`` order, coalitions in ``tables`` order. Computed in
    numpy over all coalitions at once (one concatenation, one grouped sum).
    """
    frames = [t["outcomes"] for t in tables]
    sizes = np.array([len(f) for f in frames])
    data = pd.concat([f[["seed", "year", *columns]] for f in frames], ignore_index=True)
    coalition = np.repeat(np.arange(len(frames)), sizes)
    year = data["year"].to_numpy()
    keep = (year == start) | (year == end)
    seed_index = {s: r for r, s in enumerate(seeds)}
    run = data["seed"].map(seed_index).to_numpy()
    if np.isnan(run[keep].astype(float)).any():
        raise ExperimentError("coalition tables hold seeds the experiment did not run")
    slot = (year[keep] == end).astype(int)
    sums = np.zeros((len(seeds), len(frames), 2, len(columns)))
    counts = np.zeros((len(seeds), len(frames), 2, 1))
    index = (run[keep].astype(int), coalition[keep], slot)
    np.add.at(sums, index, data.loc[keep, list(columns)].to_numpy(dtype=float))
    np.add.at(counts, index, 1.0)
    if (counts == 0).any():
        raise ExperimentError(f"a coalition's run lacks year {start} or {end} in its outcomes")
    means = sums / counts
    return np.asarray(means[:, :, 1] - means[:, :, 0])


def attribute(
    values: np.ndarray, k: int, groups: list[list[int]], masks: list[int], orders: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Shapley and Owen values, shape (R, k, D), from coalition values (R, C, D) in ``masks`` order.

    Exact when every mask is present (``orders`` empty); otherwise from the sampled ``orders``
    (``shapley`` and ``owen`` keys), with standard errors.
    """
    moved = np.moveaxis(values, 1, -1)  # (R, D, C)
    if not orders:
        by_mask = moved[..., np.argsort(masks)]
        return {
            "shapley": np.moveaxis(attribution.shapley(by_mask, k), -1, 1),
            "owen": np.moveaxis(attribution.owen(by_mask, k, groups), -1, 1),
        }
    lookup = {m: moved[..., c] for c, m in enumerate(masks)}
    out = {}
    for kind in ("shapley", "owen"):
        mean, error = attribution.sampled_values(lookup, orders[kind])
        out[kind] = np.moveaxis(mean, -1, 1)
        out[f"{kind}_error"] = np.moveaxis(error, -1, 1)
    return out


def coalition_masks(
    k: int, groups: list[list[int]], n_orders: int, seed: int
) -> tuple[list[int], dict[str, np.ndarray]]:
    """Every mask (k <= 8), or the prefixes of sampled orders with the orders themselves."""
    if k <= attribution.EXACT_MAX_PLAYERS:
        return list(range(2**k)), {}
    rng = np.random.default_rng(seed)
    orders = {
        "shapley": attribution.sampled_orders(k, n_orders, rng),
        "owen": attribution.sampled_orders(k, n_orders, rng, groups),
    }
    masks = sorted({int(m) for o in orders.values() for m in attribution.order_masks(o).ravel()})
    return masks, orders


def per_draw(ex: Experiment, per_run: np.ndarray, total: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per draw mean values (Dr, ...), mean totals (Dr, D) and shares (values over totals)."""
    assert ex.plan is not None
    values, totals = per_draw_mean(per_run, ex.seeds, ex.plan), per_draw_mean(total, ex.seeds, ex.plan)
    with np.errstate(divide="ignore", invalid="ignore"):
        return values, totals, values / totals[:, None, :]


def shares_table(
    drivers: tuple[str, ...], phi: np.ndarray, owen: np.ndarray, total: np.ndarray, draws: tuple[np.ndarray, np.ndarray]
) -> pd.DataFrame:
    """``driver_shares.csv``: one row per driver and dimension; intervals: 90% over the draws' values and shares."""
    draw_contrib, draw_shares = draws
    contribution, share = phi.mean(axis=0), phi.mean(axis=0) / total.mean(axis=0)
    rows = []
    for j, name in enumerate(drivers):
        spec = registry.spec(name)
        for d, dim in enumerate(DIMENSIONS):
            rows.append(
                {
                    "driver": name,
                    "owner": spec.owner,
                    "dimension": dim,
                    "share": share[j, d],
                    "ci_low": np.nanquantile(draw_shares[:, j, d], 0.05),
                    "ci_high": np.nanquantile(draw_shares[:, j, d], 0.95),
                    "contribution": contribution[j, d],
                    "contribution_ci_low": np.quantile(draw_contrib[:, j, d], 0.05),
                    "contribution_ci_high": np.quantile(draw_contrib[:, j, d], 0.95),
                    "owen_contribution": owen[:, j, d].mean(),
                    "owen_share": owen[:, j, d].mean() / total[:, d].mean(),
                    "semantics": "",
                }
            )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Game:
    """The attribution game of C0: the players, their owners' groups, the coalitions run, the window."""

    drivers: tuple[str, ...]
    groups: list[list[int]]
    masks: list[int]
    orders: dict[str, np.ndarray]
    start: int
    end: int


@dataclass(frozen=True)
class DrawAttribution:
    """Every coalition run in every draw of an experiment, decomposed (R runs, C coalitions, D dimensions)."""

    values: np.ndarray  # (R, C, D) coalition values
    total: np.ndarray  # (R, D) v(all) - v(none)
    by: dict[str, np.ndarray]  # attribute(): shapley, owen (R, k, D), with errors when sampled
    sum_error: float  # largest |sum of Shapley values - total|
    draw_phi: np.ndarray  # (draws, k, D) mean Shapley values per draw
    draw_shares: np.ndarray  # (draws, k, D) shares per draw
    group_shares: np.ndarray  # (draws, owners, D) owner groups' shares per draw


def attribute_draws(ex: Experiment, game: Game) -> DrawAttribution:
    """Run every coalition of ``game`` in every draw of ``ex`` (its parameters and plan) and decompose."""
    k = len(game.drivers)
    # The runs stop at game.end: nothing later is read (experiments.common.ending_in).
    tables = ex.tables_many(coalition_params(ending_in(ex.params, game.end), game.masks, game.drivers))
    values = coalition_values(tables, ex.seeds, game.start, game.end)
    position = {m: c for c, m in enumerate(game.masks)}
    total = values[:, position[2**k - 1]] - values[:, position[0]]  # (R, D)
    by = attribute(values, k, game.groups, game.masks, game.orders)
    sum_error = float(np.max(np.abs(by["shapley"].sum(axis=1) - total)))
    if sum_error > 1e-9:
        raise AssertionError(f"Shapley values do not sum to the total change (max error {sum_error})")
    draw_phi, _, draw_shares = per_draw(ex, by["shapley"], total)
    # Owner group values: the sum of the Owen values of each owner's drivers (Shapley values between owners).
    group_phi = np.stack([by["owen"][:, g].sum(axis=1) for g in game.groups], axis=1)  # (R, owners, D)
    _, _, group_shares = per_draw(ex, group_phi, total)
    return DrawAttribution(values, total, by, sum_error, draw_phi, draw_shares, group_shares)


def definition_shares(found: DrawAttribution) -> dict[str, np.ndarray]:
    """Each definition's players' shares of the change of Japan's gap, per draw (draws, players)."""
    return {"narrow": found.draw_shares[..., GAP], "broad": found.group_shares[..., GAP]}


def definition_players(drivers: tuple[str, ...]) -> dict[str, tuple[tuple[str, ...], str]]:
    """Each definition's players (columns of :func:`definition_shares`) and its China player."""
    owner_of = {d: registry.spec(d).owner for d in drivers}
    rules = {name: verdict.definition(name, drivers, owner_of) for name in ("narrow", "broad")}
    return {name: (rule.players, rule.china) for name, rule in rules.items()}


def share_correlations(
    plan: DrawPlan, shares: dict[str, np.ndarray], players: dict[str, tuple[tuple[str, ...], str]]
) -> pd.DataFrame:
    """Rank correlation (Spearman) over the draws of each drawn parameter with China's share, per definition.

    The identifiability table's last column (docs/ODD.md, B.7): which calibrated parameters the
    verdict on C0 leans on. Draws without a finite share are left out; a parameter constant over
    the draws has no correlation (NaN).
    """
    values = pd.DataFrame([dict(d.values) for d in plan.draws])
    rows = []
    for key in values.columns:
        row: dict[str, Any] = {"key": key}
        for name, sample in shares.items():
            names, china = players[name]
            share = sample[:, list(names).index(china)]
            ok = np.isfinite(share)
            x = values[key].to_numpy(dtype=float)[ok]
            constant = np.ptp(x) == 0 or np.ptp(share[ok]) == 0
            row[f"spearman_{name}"] = np.nan if constant else float(stats.spearmanr(x, share[ok]).statistic)
        rows.append(row)
    return pd.DataFrame(rows)


def shares_under(ex: Experiment, game: Game) -> dict[str, np.ndarray]:
    """:func:`definition_shares` of ``game`` over the draws of ``ex`` (another rule's posterior)."""
    return definition_shares(attribute_draws(ex, game))


def pattern_consistent(
    ex: Experiment,
    shares: dict[str, np.ndarray],
    players: dict[str, tuple[tuple[str, ...], str]],
    thresholds: verdict.Thresholds,
) -> dict[str, Any]:
    """C0 over the draws that reproduce at least ``pattern_filter.min_patterns`` of the record's patterns.

    Pattern-oriented modelling uses the record's qualitative patterns as filters on the parameter
    space (Grimm et al. 2005): the data the calibration fits leave some parameters uninformed,
    and the patterns may not. Each draw is run once to the patterns' last year with the run's
    seed (common random numbers) and the patterns are tested with the tolerances of
    ``configs/experiment/patterns.yaml``. Fewer than ``pattern_filter.min_draws`` such draws: graded
    undetermined, with the reason.
    """
    assert ex.plan is not None
    options = dict(ex.options["pattern_filter"])
    minimum, min_draws = int(options["min_patterns"]), int(options["min_draws"])
    specs, last_year = patterns.shipped_specs(ex.params)
    base = with_values(ex.params, {"run.end_year": last_year})
    params_list = [draw.apply([base])[0] for draw in ex.plan.draws]
    held = patterns.patterns_held(params_list, specs, int(ex.cfg.seed), int(ex.options["workers"]))
    ex.runs_done += len(params_list)
    count = held.sum(axis=1).to_numpy()
    keep = count >= minimum
    out: dict[str, Any] = {
        "rule": f"draws whose run reproduces at least {minimum} of the {held.shape[1]} patterns (seed {ex.cfg.seed})",
        "min_patterns": minimum,
        "n_draws": int(keep.sum()),
        "share_of_draws": float(keep.mean()),
        "patterns_held_per_draw": {str(k): int(n) for k, n in zip(*np.unique(count, return_counts=True), strict=True)},
        "share_of_draws_holding": {name: round(float(held[name].mean()), 3) for name in held.columns},
    }
    if keep.sum() < min_draws:
        reason = f"{int(keep.sum())} draws reproduce at least {minimum} patterns; allowed: at least {min_draws}"
        return out | {name: {"grade": "undetermined", "reason": reason} for name in shares}
    return out | subset_grades(shares, players, keep, thresholds)


def subset_grades(
    shares: dict[str, np.ndarray],
    players: dict[str, tuple[tuple[str, ...], str]],
    keep: np.ndarray,
    thresholds: verdict.Thresholds,
) -> dict[str, dict[str, Any]]:
    """C0 graded by the same rule over the draws in ``keep``, under each definition."""
    out = {}
    for name, sample in shares.items():
        graded = verdict.grade_definition(sample[keep], *players[name], thresholds)
        out[name] = {
            k: graded[k] for k in ("n_draws", "china_share", "p_china_share_above_half", "p_china_largest", "grade")
        }
    return out


def by_calibration(
    ex: Experiment,
    shares: dict[str, np.ndarray],
    players: dict[str, tuple[tuple[str, ...], str]],
    thresholds: verdict.Thresholds,
) -> dict[str, Any] | None:
    """C0 within each calibration of a pooled posterior (``experiments/pool_posteriors.py``), or None.

    The calibrations are independent approximations of the same posterior: their verdicts differ by
    the Monte Carlo error of one calibration, which the pooled verdict shrinks.
    """
    assert ex.plan is not None
    posterior = load_posterior(str(ex.cfg.posterior_file))
    if posterior.parts is None:
        return None
    part = posterior.parts[np.array([draw.sample for draw in ex.plan.draws])]
    summaries = posterior.provenance.get("parts", [])
    out = []
    for k in np.unique(part):
        about = summaries[k] if k < len(summaries) else {}
        out.append(
            {"part": int(k), "seed": about.get("seed"), "file": about.get("file")}
            | subset_grades(shares, players, part == k, thresholds)
        )
    return {"calibrations": out, "rule": "the headline's draws grouped by the calibration each comes from"}


def run(ex: Experiment) -> dict[str, Any]:
    """All coalitions of the registered drivers in every draw; write driver_shares.csv, draws.csv, verdict.json."""
    start, end = check_years(
        [ex.options["from_year"], ex.options["to_year"]], ex.params, "experiment.from_year/to_year"
    )
    if end <= start:
        raise ExperimentError(
            f"experiment.to_year={end} is not after experiment.from_year={start}; allowed: to_year > from_year"
        )
    theory_verdicts.check(ex)  # the rival theories' files, before any run
    drivers = registry.names()
    k = len(drivers)
    owners = list(dict.fromkeys(registry.spec(d).owner for d in drivers))
    groups = [[j for j, d in enumerate(drivers) if registry.spec(d).owner == o] for o in owners]
    masks, orders = coalition_masks(k, groups, int(ex.options.get("orders", 200)), int(ex.cfg.seed))
    game = Game(drivers, groups, masks, orders, start, end)
    found = attribute_draws(ex, game)
    values, total, values_by, sum_error = found.values, found.total, found.by, found.sum_error
    phi, owen = values_by["shapley"], values_by["owen"]
    position = {m: c for c, m in enumerate(masks)}

    assert ex.plan is not None
    thresholds = verdict.Thresholds.from_config(dict(ex.options["verdict"]))
    draw_phi, draw_shares = found.draw_phi, found.draw_shares
    table = shares_table(drivers, phi, owen, total, (draw_phi, draw_shares))
    table["semantics"] = [ex.params.drivers.knob(d).semantics for d in table["driver"]]
    owner_of = {d: registry.spec(d).owner for d in drivers}
    players = definition_players(drivers)
    shares_by_definition = definition_shares(found)
    definitions = {}
    for name, shares_k in shares_by_definition.items():
        rule = verdict.definition(name, drivers, owner_of)
        graded = verdict.grade_definition(shares_k, *players[name], thresholds)
        definitions[name] = graded | {"china_drivers": list(rule.members[rule.china])}
    share = phi.mean(axis=0)[:, GAP] / total[:, GAP].mean()
    largest = drivers[int(np.argmax(share))]
    grade_to_supported = {"supported": True, "contradicted": False, "undetermined": None}
    result = verdict.verdict_document(
        definitions, thresholds, ex.plan.source, len(ex.plan.draws), {"parameters": ex.plan.describe()}
    )
    # C0 under every rival theory of alignment, over its own posterior, and averaged by model probability
    result |= theory_verdicts.by_theory(ex, shares_by_definition, players, partial(shares_under, game=game), thresholds)
    if ex.plan.source == "posterior":
        if ex.options.get("pattern_filter"):
            result["pattern_consistent"] = pattern_consistent(ex, shares_by_definition, players, thresholds)
        if calibrations := by_calibration(ex, shares_by_definition, players, thresholds):
            result["by_calibration"] = calibrations
    result |= {
        "supported": grade_to_supported[definitions["narrow"]["grade"]],
        "interval": "90% central interval over draws",
        "drivers": list(drivers),
        "owners": owners,
        "semantics": {d: ex.params.drivers.knob(d).semantics for d in drivers},
        "largest_driver": largest,
        "window": [start, end],
        "total_change": float(total[:, GAP].mean()),
        "change_all_drivers": float(values[:, position[2**k - 1], GAP].mean()),
        "change_no_driver": float(values[:, position[0], GAP].mean()),
        "shares_sum": float(share.sum()),
        "contributions_sum_error_max": sum_error,
        "runs_per_coalition": phi.shape[0],
        "coalitions": len(masks),
        "method": "exact" if not orders else f"sampled orders ({len(orders['shapley'])})",
    }
    if orders:
        result["max_standard_error"] = {
            kind: float(values_by[f"{kind}_error"][..., GAP].mean(axis=0).max()) for kind in ("shapley", "owen")
        }
    ex.write_csv("driver_shares", table)
    gap_shares = pd.DataFrame(draw_shares[..., GAP], columns=list(drivers))
    ex.write_csv("draws", gap_shares.assign(draw=range(len(gap_shares)), total=draw_phi[..., GAP].sum(axis=1)))
    if ex.plan.source == "posterior":
        ex.write_csv("parameter_share_correlation", share_correlations(ex.plan, shares_by_definition, players))
    ex.write_json("verdict", result)
    ex.save_figure(share_distributions_figure(draw_shares[..., GAP], list(drivers), result), "share_distributions")
    ex.save_figure(dimension_shares_figure(table[table["dimension"].isin(W_COLUMNS)]), "shares_by_dimension")
    log.info("verdict (%s, %d draws): %s", ex.plan.source, len(ex.plan.draws), thresholds.rule())
    return {
        "drivers": list(drivers),
        "parameter_source": ex.plan.source,
        "n_draws": len(ex.plan.draws),
        "grades": {name: d["grade"] for name, d in definitions.items()},
        "p_china_share_above_half": {name: round(d["p_china_share_above_half"], 3) for name, d in definitions.items()},
        "p_china_largest": {name: round(d["p_china_largest"], 3) for name, d in definitions.items()},
        "largest_driver": largest,
        "shares": {d: round(float(s), 3) for d, s in zip(drivers, share, strict=True)},
    }


main = entry_point(NAME, run)

if __name__ == "__main__":
    main()
