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

from typing import Any

import numpy as np
import pandas as pd

from experiments.common import Experiment, annual, check_years, entry_point, switched_off
from experiments.draws import DrawPlan, per_draw_mean
from sim import drivers as registry
from sim.config import CONFIG_DIR
from sim.outcomes import W_COLUMNS
from sim.params import Params
from sim.plots import effects_figure

NAME = "q1_counterfactuals"
OUTCOMES = (*W_COLUMNS, "china_wants_gap", "sea_alignment_mean", "sea_trust_china", "sea_trust_us", "sea_trust_japan")


def paired_effects(
    base: pd.DataFrame,
    other: pd.DataFrame,
    columns: tuple[str, ...],
    years: list[int],
    plan: DrawPlan,
    key: str = "outcome",
) -> pd.DataFrame:
    """Mean effect (other - base) per column and year over draws, with its 90% interval over draws; paired by seed."""
    rows = []
    for year in years:
        b = base[base["year"] == year].set_index("seed").loc[plan.seeds]
        o = other[other["year"] == year].set_index("seed").loc[plan.seeds]
        for column in columns:
            effects = per_draw_mean((o[column] - b[column]).to_numpy(), plan.seeds, plan)
            rows.append(
                {
                    key: column,
                    "year": year,
                    "baseline": b[column].mean(),
                    "counterfactual": o[column].mean(),
                    "effect": float(effects.mean()),
                    "ci_low": float(np.quantile(effects, 0.05)),
                    "ci_high": float(np.quantile(effects, 0.95)),
                    "n": len(effects),
                }
            )
    return pd.DataFrame(rows)


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
    """Every counterfactual against the baseline; write effects.csv, sea_states.csv, effects.png."""
    years = check_years(list(ex.options["years"]), ex.params, "experiment.years")
    assert ex.plan is not None
    region = list(ex.params.actors.region)
    names = ("states", "outcomes")
    base_tables = ex.tables(ex.scenario_params("baseline"), names)
    base = annual(base_tables["outcomes"], OUTCOMES)
    base_states = _sea_wide(base_tables["states"], region)
    effects, states = [], []
    for scenario, params in counterfactuals(ex):
        tables = ex.tables(params, names)
        effects.append(
            paired_effects(base, annual(tables["outcomes"], OUTCOMES), OUTCOMES, years, ex.plan).assign(
                scenario=scenario
            )
        )
        states.append(
            paired_effects(
                base_states, _sea_wide(tables["states"], region), tuple(region), years, ex.plan, key="actor"
            ).assign(scenario=scenario)
        )
    effects_frame = pd.concat(effects, ignore_index=True)
    states_frame = pd.concat(states, ignore_index=True)
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


def _sea_wide(states: pd.DataFrame, region: list[str]) -> pd.DataFrame:
    """Annual alignment of each Southeast Asian state, one column per state."""
    sea = annual(states[states["actor"].isin(region)], ["alignment"], by=("run_id", "seed", "actor"))
    return sea.pivot_table(index=["run_id", "seed", "year"], columns="actor", values="alignment").reset_index()


main = entry_point(NAME, run)

if __name__ == "__main__":
    main()
