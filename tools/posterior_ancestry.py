"""How many independent parameter points the shipped posterior and the verdict rest on.

The moved posterior of a calibration (``experiments/mcmc_moves.py``) descends from a few particles
of its last ABC-SMC generation: moves spread each ancestor's copies but do not make them
independent. The posterior the experiments draw from pools several independent calibrations
(``experiments/pool_posteriors.py``), each particle with its part and its ancestor numbered across
parts. This script maps q2's draws to their calibrations and ancestors and bootstraps the verdict's
probabilities over both (a two-level cluster bootstrap: calibrations, then ancestors within each;
the Monte Carlo error that the few of each leave in them); the
verdict within each calibration is q2's own (``verdict.json``: ``by_calibration``). A single calibration's
file without recorded ancestors has them reconstructed from its stored history.

    python tools/posterior_ancestry.py   # after make calibrate-replicates and make run (results/experiments/...)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyabc

from experiments.abc_smc import effective_sample_size, last_population, resample
from experiments.draws import plan_draws

ROOT = Path(__file__).resolve().parent.parent
POSTERIOR = "configs/params/posterior_pooled.json"  # posterior_file of configs/config.yaml
HISTORY = ROOT / "results/experiments/calibrate/abc_2021.db"
DRAWS = ROOT / "results/experiments/q2_driver_shares/draws.csv"
BOOTSTRAP = 4000


def ancestors(shipped: dict[str, Any]) -> np.ndarray:
    """Each particle's ancestor in the last generation (the posterior file's own list when it has one)."""
    if "ancestors" in shipped:
        return np.asarray(shipped["ancestors"], dtype=int)
    if "part" in shipped:
        raise SystemExit(f"{POSTERIOR} pools a calibration without recorded ancestors: rerun that calibration")
    population = last_population(pyabc.History(f"sqlite:///{HISTORY}"))
    if shipped["provenance"]["final_temperature"] > 1.0:
        raise SystemExit("posterior.json was reweighted from T > 1: its ancestors need the weights it used")
    return resample(population, len(population), int(shipped["provenance"]["seed"]))["particle"].to_numpy()


def main() -> None:
    """Print the ancestors' copy counts, their effective number, and the verdict's bootstrap intervals."""
    shipped = json.loads((ROOT / POSTERIOR).read_text())
    ancestor = ancestors(shipped)
    copies = np.bincount(ancestor)
    copies = copies[copies > 0]
    print(f"ancestors: {len(copies)}; copies: {sorted(copies.tolist(), reverse=True)}")
    print(f"effective number of ancestors (Kish): {effective_sample_size(copies):.1f}")
    plan = plan_draws("posterior", 200, 1, 1, 2024, str(ROOT / POSTERIOR))
    rows_of_draws = np.array([d.sample for d in plan.draws])
    of_draw = ancestor[rows_of_draws]
    part = shipped.get("part")
    part_of_draw = np.asarray(part)[rows_of_draws] if part is not None else np.zeros(len(of_draw), dtype=int)
    draws = pd.read_csv(DRAWS)
    drivers = [c for c in draws.columns if c not in ("draw", "total")]
    share = draws["china_coercion"].to_numpy()
    above, largest = share > 0.5, draws[drivers].to_numpy().argmax(axis=1) == drivers.index("china_coercion")
    print(
        f"q2's {len(draws)} draws come from {len(np.unique(of_draw))} ancestors in {len(np.unique(part_of_draw))} "
        f"calibrations; the {above.sum()} draws with China's share above 1/2 from ancestors "
        f"{np.unique(of_draw[above]).tolist()}"
    )
    # Two levels (a pooled posterior): calibrations with replacement, then each one's ancestors with
    # replacement; a single calibration's file has one part, so this is the bootstrap over its ancestors.
    rng = np.random.default_rng(0)
    parts = np.unique(part_of_draw)
    lineages = {k: np.unique(of_draw[part_of_draw == k]) for k in parts}
    stats = []
    for _ in range(BOOTSTRAP):
        rows = np.concatenate(
            [
                np.flatnonzero(of_draw == a)
                for k in rng.choice(parts, len(parts))
                for a in rng.choice(lineages[k], len(lineages[k]))
            ]
        )
        stats.append((above[rows].mean(), largest[rows].mean(), np.median(share[rows])))
    low, high = np.quantile(np.array(stats), [0.05, 0.95], axis=0)
    for k, (name, value) in enumerate(
        [("P(share > 1/2)", above.mean()), ("P(largest)", largest.mean()), ("median share", np.median(share))]
    ):
        print(f"{name}: {value:.3f}; 90% over calibrations and their ancestors {low[k]:.3f}-{high[k]:.3f}")
    print(f"bootstrap samples with P(share > 1/2) above 0.1: {np.mean(np.array(stats)[:, 0] > 0.1):.3f}")


if __name__ == "__main__":
    main()
