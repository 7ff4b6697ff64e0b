"""Q5: who balances, who bandwagons, who hedges? ``python -m experiments.q5_asean_alignment``.

Each Southeast Asian state's alignment change since the start year (annual means) classifies
it in each run and year: *balancing* (toward the US) above ``+threshold``, *bandwagoning* (with
China) below ``-threshold``, *hedging* in between. Reported for the baseline and without
Chinese coercion: the share of runs in each class at the end year, the mean change with a
bootstrap 95% interval, and the modal class by year (the state-by-time strip).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from experiments.common import Experiment, ExperimentError, annual, bootstrap_ci, entry_point
from sim.plots import classification_strip

NAME = "q5_asean_alignment"
CLASSES = ("bandwagoning", "hedging", "balancing")


def classify(change: np.ndarray | pd.Series, threshold: float) -> np.ndarray:
    """Class of each alignment change: balancing above +threshold, bandwagoning below -threshold."""
    values = np.asarray(change, dtype=float)
    return np.where(values > threshold, "balancing", np.where(values < -threshold, "bandwagoning", "hedging"))


def run(ex: Experiment) -> dict[str, Any]:
    """Classify every state in every scenario; write classification.csv, ..._by_year.csv, the strip."""
    threshold = float(ex.options["threshold"])
    if not 0 < threshold < 2:
        raise ExperimentError(f"experiment.threshold={threshold}; allowed: 0 < threshold < 2")
    region = list(ex.params.actors.region)
    start, end = ex.params.run.start_year, ex.params.run.end_year
    rng = np.random.default_rng(ex.cfg.seed)
    final, by_year = [], []
    for scenario in ex.options["scenarios"]:
        states = ex.tables(ex.scenario_params(str(scenario)), ("states", "outcomes"))["states"]
        yearly = annual(states[states["actor"].isin(region)], ["alignment"], by=("run_id", "seed", "actor"))
        first = yearly[yearly["year"] == start].set_index(["seed", "actor"])["alignment"]
        yearly["change"] = (
            yearly["alignment"].to_numpy()
            - first.loc[list(zip(yearly["seed"], yearly["actor"], strict=True))].to_numpy()
        )
        yearly["class"] = classify(yearly["change"], threshold)
        modal = (
            yearly.groupby(["actor", "year"])["class"]
            .agg(lambda c: str(c.value_counts().idxmax()))
            .rename("modal_class")
        )
        by_year.append(modal.reset_index().assign(scenario=scenario))
        last = yearly[yearly["year"] == end]
        for actor, group in last.groupby("actor"):
            point, low, high = bootstrap_ci(group["change"].to_numpy(), np.mean, int(ex.options["bootstrap"]), rng)
            counts = group["class"].value_counts(normalize=True)
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
                }
            )
    table = pd.DataFrame(final)
    strip = pd.concat(by_year, ignore_index=True)
    ex.write_csv("classification", table)
    ex.write_csv("classification_by_year", strip[["scenario", "actor", "year", "modal_class"]])
    ex.save_figure(classification_strip(strip, list(ex.options["scenarios"])), "classification")
    return {str(s): dict(zip(g["actor"], g["class"], strict=True)) for s, g in table.groupby("scenario")}


main = entry_point(NAME, run)

if __name__ == "__main__":
    main()
