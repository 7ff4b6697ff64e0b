"""Q1: where would Japan and Southeast Asia be without each driver? ``python -m experiments.q1_counterfactuals``.

Baseline against each single-driver counterfactual (``configs/scenario/no_*.yaml``), paired by
seed: both runs of a pair share their parameters and random numbers, so their difference is the
driver's effect in that run. Runs come from parameter draws (``experiment.parameter_source``:
the calibrated posterior by default; see experiments/draws.py). For each outcome and chosen year:
the mean effect over draws and its 90% central interval over draws (a draw's effect is the mean
over its runs). Years are annual means of the quarterly outcomes.

Removing one driver alone measures its effect given all the others; q2's Shapley value averages
its effect over every order of removal. The two differ where drivers interact.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from experiments.common import Experiment, annual_means, check_years, entry_point, switched_off
from experiments.draws import DrawPlan, per_draw_mean
from sim import drivers as registry
from sim.config import CONFIG_DIR
from sim.outcomes import W_COLUMNS
from sim.params import Params
from sim.plots import effects_figure

NAME = "q1_counterfactuals"
OUTCOMES = (*W_COLUMNS, "china_wants_gap", "sea_alignment_mean", "sea_trust_china", "sea_trust_us", "sea_trust_japan")


def paired_effects(
    base: np.ndarray, other: np.ndarray, labels: Sequence[str], years: list[int], plan: DrawPlan, key: str = "outcome"
) -> pd.DataFrame:
    """Mean effect (other - base) per label and year over draws, with its 90% interval over draws.

    ``base`` and ``other`` have shape (R, Y, L): runs in ``plan.seeds`` order (paired: run r of
    both has the same parameters and seed), years in ``years`` order, one column per label.
    """
    effects = per_draw_mean(other - base, plan.seeds, plan)  # (D, Y, L)
    low, high = np.quantile(effects, [0.05, 0.95], axis=0)
    year_grid, label_grid = np.meshgrid(np.arange(len(years)), np.arange(len(labels)), indexing="ij")
    y, c = year_grid.ravel(), label_grid.ravel()
    return pd.DataFrame(
        {
            key: np.asarray(labels, dtype=object)[c],
            "year": np.asarray(years)[y],
            "baseline": base.mean(axis=0)[y, c],
            "counterfactual": other.mean(axis=0)[y, c],
            "effect": effects.mean(axis=0)[y, c],
            "ci_low": low[y, c],
            "ci_high": high[y, c],
            "n": len(effects),
        }
    )


def counterfactuals(ex: Experiment) -> list[tuple[str, Params]]:
    """The scenarios compared with the baseline: ``experiment.scenarios``, or ``no_<driver>`` for every driver.

    A ``no_<driver>`` without a scenario file is the baseline with that driver switched off from
    the start (at its configured counterfactual semantics).
    """
    names = ex.options.get("scenarios") or [f"no_{d}" for d in registry.names()]
    out = []
    for scenario in map(str, names):
        driver = scenario.removeprefix("no_")
        if not (CONFIG_DIR / "scenario" / f"{scenario}.yaml").is_file() and driver in registry.names():
            out.append((scenario, switched_off(ex.scenario_params("baseline"), [driver], scenario)))
        else:
            out.append((scenario, ex.scenario_params(scenario)))
    return out


def run(ex: Experiment) -> dict[str, Any]:
    """Every counterfactual against the baseline; write effects.csv, sea_states.csv, effects.png.

    The baseline and every counterfactual run in one call, so each parameter draw runs them side
    by side (one spin-up per draw, not one per scenario).
    """
    years = check_years(list(ex.options["years"]), ex.params, "experiment.years")
    assert ex.plan is not None
    region = list(ex.params.actors.region)
    scenarios = counterfactuals(ex)
    tables = ex.tables_many([ex.scenario_params("baseline"), *(p for _, p in scenarios)], ("states", "outcomes"))
    seeds = ex.plan.seeds
    outcomes = [annual_means(t["outcomes"], OUTCOMES, seeds, years) for t in tables]  # (R, Y, C) each
    sea = [annual_means(t["states"], ["alignment"], seeds, years, by=("actor", region))[..., 0] for t in tables]
    effects_frame = pd.concat(
        [
            paired_effects(outcomes[0], outcomes[k], OUTCOMES, years, ex.plan).assign(scenario=name)
            for k, (name, _) in enumerate(scenarios, start=1)
        ],
        ignore_index=True,
    )
    states_frame = pd.concat(
        [
            paired_effects(sea[0], sea[k], region, years, ex.plan, key="actor").assign(scenario=name)
            for k, (name, _) in enumerate(scenarios, start=1)
        ],
        ignore_index=True,
    )
    ex.write_csv(
        "effects",
        effects_frame[
            ["scenario", "outcome", "year", "baseline", "counterfactual", "effect", "ci_low", "ci_high", "n"]
        ],
    )
    ex.write_csv(
        "sea_states",
        states_frame[["scenario", "actor", "year", "baseline", "counterfactual", "effect", "ci_low", "ci_high", "n"]],
    )
    ex.save_figure(effects_figure(effects_frame, "china_wants_gap"), "effects")
    gap = effects_frame[(effects_frame["outcome"] == "china_wants_gap") & (effects_frame["year"] == max(years))]
    return {
        f"gap_effect_{max(years)}": {
            str(scenario): values.tolist()
            for scenario, values in zip(
                gap["scenario"], gap[["effect", "ci_low", "ci_high"]].to_numpy(dtype=float).round(4), strict=True
            )
        }
    }


main = entry_point(NAME, run)

if __name__ == "__main__":
    main()
