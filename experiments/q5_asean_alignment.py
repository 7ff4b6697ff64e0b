"""Q5: who balances, who bandwagons, who hedges? ``python -m experiments.q5_asean_alignment``.

Each Southeast Asian state is classified in each run and year by where it stands and where it
is going. Its level (annual mean alignment) gives the class: *balancing* (with the US) above
``+level``, *bandwagoning* (with China) below ``-level``, *hedging* in between. Its change since
the start year gives the direction: *toward the US* above ``+threshold``, *toward China* below
``-threshold``, *steady* in between; so a state at -0.4 that rose from -0.6 bandwagons, moving
toward the US. Runs come from parameter draws (``experiment.parameter_source``: the calibrated
posterior by default). Reported for the baseline and without Chinese coercion: the share of runs
in each class at the end year, the modal direction, the mean change with its 90% interval over
draws, and the modal class and direction by year (the state-by-time strip).

The class reads the overall alignment (eq. 19f). Hedging in Kuik's (2008) sense is measured apart,
on the two alignments it mixes: a run is a *split hedge* at the end year when its security and
economic alignments (eqs. 19, 19e) lie on opposite sides of 0 and more than ``split`` apart
(security with one power, the economy with the other). Reported per state: the mean security and
economic alignments, their difference with its 90% interval over draws, and the share of split runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from experiments.common import Experiment, ExperimentError, annual, entry_point
from experiments.draws import per_draw_mean
from sim.inputs import build_inputs
from sim.plots import classification_strip

NAME = "q5_asean_alignment"
CLASSES = ("bandwagoning", "hedging", "balancing")
DIRECTIONS = ("toward China", "steady", "toward the US")


def classify(alignment: np.ndarray | pd.Series, level: float) -> np.ndarray:
    """Class of each alignment level: balancing above +level, bandwagoning below -level, else hedging."""
    values = np.asarray(alignment, dtype=float)
    return np.where(values > level, "balancing", np.where(values < -level, "bandwagoning", "hedging"))


def direction(change: np.ndarray | pd.Series, threshold: float) -> np.ndarray:
    """Direction of each alignment change since the start: toward the US or China beyond the threshold."""
    values = np.asarray(change, dtype=float)
    return np.where(values > threshold, DIRECTIONS[2], np.where(values < -threshold, DIRECTIONS[0], DIRECTIONS[1]))


def split_hedge(security: np.ndarray | pd.Series, economic: np.ndarray | pd.Series, split: float) -> np.ndarray:
    """Whether each security and economic alignment pair is a split hedge (Kuik 2008).

    True where the two lie on opposite sides of 0 and differ by more than ``split``.
    """
    x, y = np.asarray(security, dtype=float), np.asarray(economic, dtype=float)
    return np.asarray((x * y < 0) & (np.abs(x - y) > split))


def _modal(values: pd.Series) -> str:
    return str(values.value_counts().idxmax())


def run(ex: Experiment) -> dict[str, Any]:
    """Classify every state in every scenario; write classification.csv, ..._by_year.csv, the strip."""
    threshold = float(ex.options["threshold"])
    if not 0 < threshold < 2:
        raise ExperimentError(f"experiment.threshold={threshold}; allowed: 0 < threshold < 2")
    level = float(ex.options["level"])
    if not 0 < level < 1:
        raise ExperimentError(f"experiment.level={level}; allowed: 0 < level < 1")
    split = float(ex.options["split"])
    if not 0 <= split < 2:
        raise ExperimentError(f"experiment.split={split}; allowed: 0 <= split < 2")
    region = list(ex.params.actors.region)
    start, end = ex.params.run.start_year, ex.params.run.end_year
    assert ex.plan is not None
    final, by_year = [], []
    scenarios = [str(s) for s in ex.options["scenarios"]]
    # Every scenario in one call: each parameter draw runs them side by side (one spin-up per draw).
    every = ex.tables_many([ex.scenario_params(s) for s in scenarios], ("states", "outcomes"))
    for scenario, tables in zip(scenarios, every, strict=True):
        states = tables["states"]
        yearly = annual(
            states[states["actor"].isin(region)],
            ["alignment", "security_alignment", "economic_alignment"],
            by=("run_id", "seed", "actor"),
        )
        first = yearly[yearly["year"] == start].set_index(["seed", "actor"])["alignment"]
        yearly["change"] = (
            yearly["alignment"].to_numpy()
            - first.loc[list(zip(yearly["seed"], yearly["actor"], strict=True))].to_numpy()
        )
        yearly["class"] = classify(yearly["alignment"], level)
        yearly["direction"] = direction(yearly["change"], threshold)
        modal = yearly.groupby(["actor", "year"]).agg(
            modal_class=("class", _modal), modal_direction=("direction", _modal)
        )
        by_year.append(modal.reset_index().assign(scenario=scenario))
        last = yearly[yearly["year"] == end]
        for actor, group in last.groupby("actor"):
            changes = per_draw_mean(group["change"].to_numpy(), list(group["seed"]), ex.plan)
            point, low, high = changes.mean(), np.quantile(changes, 0.05), np.quantile(changes, 0.95)
            counts = group["class"].value_counts(normalize=True)
            gap = group["security_alignment"] - group["economic_alignment"]
            gaps = per_draw_mean(gap.to_numpy(), list(group["seed"]), ex.plan)
            final.append(
                {
                    "scenario": scenario,
                    "actor": actor,
                    "alignment_start": float(first.xs(actor, level="actor").mean()),
                    "alignment_end": float(group["alignment"].mean()),
                    "change": float(point),
                    "ci_low": float(low),
                    "ci_high": float(high),
                    **{f"share_{c}": float(counts.get(c, 0.0)) for c in CLASSES},
                    "class": max(CLASSES, key=lambda c: counts.get(c, 0.0)),
                    "direction": _modal(group["direction"]),
                    "security_end": float(group["security_alignment"].mean()),
                    "economic_end": float(group["economic_alignment"].mean()),
                    "gap_end": float(gaps.mean()),
                    "gap_low": float(np.quantile(gaps, 0.05)),
                    "gap_high": float(np.quantile(gaps, 0.95)),
                    "share_split": float(
                        split_hedge(group["security_alignment"], group["economic_alignment"], split).mean()
                    ),
                }
            )
    table = pd.DataFrame(final)
    strip = pd.concat(by_year, ignore_index=True)
    ex.write_csv("classification", table)
    ex.write_csv("classification_by_year", strip[["scenario", "actor", "year", "modal_class", "modal_direction"]])
    names = dict(zip(ex.params.actors.codes, build_inputs(ex.params).names, strict=True))
    figure = classification_strip(strip, list(ex.options["scenarios"]), names, level=level, threshold=threshold)
    ex.save_figure(figure, "classification")
    return {str(s): dict(zip(g["actor"], g["class"], strict=True)) for s, g in table.groupby("scenario")}


main = entry_point(NAME, run)

if __name__ == "__main__":
    main()
