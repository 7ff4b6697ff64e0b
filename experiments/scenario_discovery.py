"""Where in parameter space does the claim hold? ``python -m experiments.scenario_discovery``.

Scenario discovery (Bryant and Lempert 2010) with PRIM, the patient rule induction method
(Friedman and Fisher 1999), in the EMA Workbench's maintained implementation
(``ema_workbench.analysis.prim``; Kwakkel 2017). Over a Latin hypercube of ``points`` parameter
sets from the priors (``configs/priors/``), one run per set of all 2^k driver coalitions gives
China's Shapley share of Japan's shift (as q2 and q3 compute it); a set is a case of interest when
C0's core holds there: China's share above ``majority_share``. PRIM peels the parameter box
toward the cases of interest; along its peeling trajectory every box has a *coverage* (the share
of all cases of interest inside it) and a *density* (the share of the cases inside it that are of
interest). The box reported is the one of highest coverage whose density reaches
``min_density`` (the densest box if none does).

Outputs: ``points.csv`` (every point, China's share, whether C0 holds), ``trajectory.csv`` (the
peeling trade-off), ``boxes.csv`` (the chosen box: each restricted parameter's limits against its
prior, with the box's coverage, density and mass), ``summary.json`` (with a plain sentence for
the report) and ``tradeoff.png`` (coverage against density along the peeling).
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import numpy as np
import pandas as pd
from ema_workbench.analysis import prim
from matplotlib.figure import Figure

from experiments.common import Experiment, ExperimentError, check_years, entry_point
from experiments.q3_sensitivity import shapley_point
from experiments.sampling import Prior, evaluate, latin_hypercube, load_priors, point_params

NAME = "scenario_discovery"
BOX_STATS = ("coverage", "density", "mass", "res_dim")
logging.getLogger("EMA").setLevel(logging.WARNING)


def choose_box(trajectory: pd.DataFrame, min_density: float) -> int:
    """The position of the box of highest coverage whose density is at least ``min_density`` (else the densest)."""
    density = trajectory["density"].to_numpy(dtype=float)
    coverage = trajectory["coverage"].to_numpy(dtype=float)
    dense = np.flatnonzero(density >= min_density)
    if len(dense) == 0:
        return int(np.argmax(density))
    return int(dense[np.argmax(coverage[dense])])


def box_table(
    limits: pd.DataFrame, initial: pd.DataFrame, priors: list[Prior], stats: dict[str, float]
) -> pd.DataFrame:
    """One row per parameter the box restricts (limits inside the sample's range ``initial``), with its prior.

    ``limits`` and ``initial`` have rows 0 (lower) and 1 (upper) and one column per prior's key.
    """
    rows = []
    for prior in priors:
        low, high = float(limits[prior.key].iloc[0]), float(limits[prior.key].iloc[1])
        if low <= float(initial[prior.key].iloc[0]) and high >= float(initial[prior.key].iloc[1]):
            continue  # not restricted
        rows.append({"key": prior.key, "low": low, "high": high, "prior_low": prior.low, "prior_high": prior.high})
    frame = pd.DataFrame(rows, columns=["key", "low", "high", "prior_low", "prior_high"])
    return frame.assign(**{k: float(v) for k, v in stats.items()})


def sentence(boxes: pd.DataFrame, holds_fraction: float, majority: float) -> str:
    """The box in plain words: where C0 holds, how much of it the box covers, how dense it is."""
    if boxes.empty:
        return (
            f"C0 (China's share above {majority:g}) holds in {holds_fraction:.0%} of the prior space; PRIM finds no "
            "parameter box that separates where it holds."
        )
    parts = []
    for row in boxes.to_dict("records"):
        name = str(row["key"]).removeprefix("params.")
        low, high, prior_low, prior_high = (float(row[k]) for k in ("low", "high", "prior_low", "prior_high"))
        tolerance = 0.01 * (prior_high - prior_low)  # within 1% of the prior's edge: not a condition worth stating
        if low > prior_low + tolerance and high < prior_high - tolerance:
            parts.append(f"{low:.3g} < {name} < {high:.3g}")
        elif low > prior_low + tolerance:
            parts.append(f"{name} > {low:.3g}")
        elif high < prior_high - tolerance:
            parts.append(f"{name} < {high:.3g}")
    first = boxes.iloc[0]
    if not parts:
        return (
            f"C0 (China's share above {majority:g}) holds in {holds_fraction:.0%} of the prior space; PRIM's best box "
            "trims no parameter by more than 1% of its prior range: where it holds is not confined to a region."
        )
    return (
        f"C0 (China's share above {majority:g}) holds in {holds_fraction:.0%} of the prior space. It holds mostly when "
        f"{' and '.join(parts)}: that box covers {first['coverage']:.0%} of the cases where the claim holds, and the "
        f"claim holds in {first['density']:.0%} of the cases inside it ({first['mass']:.0%} of the prior space)."
    )


def discover(
    x: pd.DataFrame, y: np.ndarray, priors: list[Prior], min_density: float, peel_alpha: float
) -> tuple[pd.DataFrame, pd.DataFrame, int, Figure]:
    """PRIM on points ``x`` (one column per prior) and cases of interest ``y``.

    Returns the chosen box's table (:func:`box_table`), the peeling trajectory, the chosen box's
    position on it, and the trade-off figure.
    """
    finder = prim.Prim(x, np.asarray(y, dtype=bool), peel_alpha=peel_alpha)
    box = finder.find_box()
    trajectory = box.peeling_trajectory.astype(float).reset_index(drop=True)
    chosen = choose_box(trajectory, min_density)
    box.select(chosen)
    stats = {k: float(trajectory[k].to_numpy()[chosen]) for k in BOX_STATS}
    figure = box.show_tradeoff()
    figure.axes[0].set_title(f"PRIM peeling trade-off; chosen box {chosen} (density >= {min_density:g})")
    return box_table(box.box_lims[chosen], finder.box_init, priors, stats), trajectory, chosen, figure


def run(ex: Experiment) -> dict[str, Any]:
    """Evaluate the hypercube, run PRIM, write the box, the trade-off and the sentence."""
    start, end = check_years(
        [ex.options["from_year"], ex.options["to_year"]], ex.params, "experiment.from_year/to_year"
    )
    if end <= start:
        raise ExperimentError(f"experiment.to_year={end} is not after experiment.from_year={start}")
    n_points = int(ex.options["points"])
    if n_points < int(ex.options["min_points"]):
        raise ExperimentError(f"experiment.points={n_points}; allowed: >= {ex.options['min_points']}")
    min_density = float(ex.options["min_density"])
    if not 0.0 < min_density <= 1.0:
        raise ExperimentError(f"experiment.min_density={min_density}; allowed: 0 < value <= 1")
    majority = float(ex.options["majority_share"])
    priors = load_priors(list(ex.cfg.priors.ranges), ex.params)
    space = latin_hypercube(priors, n_points, int(ex.cfg.seed) + 2)
    function = functools.partial(shapley_point, seed=int(ex.cfg.seed), start=start, end=end, majority=majority)
    results = pd.DataFrame(
        evaluate(function, [point_params(ex.params, priors, p) for p in space], int(ex.options["workers"]))
    )
    ex.runs_done += 32 * n_points
    x = pd.DataFrame(space, columns=[p.key for p in priors])
    share = results["china_share"].to_numpy()
    finite = np.isfinite(share)
    holds = finite & (np.where(finite, share, 0.0) > majority)
    points = x.assign(china_share=share, gap_change=results["gap_change"], c0_core_holds=holds)
    ex.write_csv("points", points)
    fraction = float(holds.mean())
    summary: dict[str, Any] = {
        "points": n_points,
        "points_without_change": int((~finite).sum()),
        "c0_core_holds": int(holds.sum()),
        "fraction": fraction,
        "majority_share": majority,
        "min_density": min_density,
        "outcome": f"China's Shapley share of Japan's shift {start}-{end} above {majority:g}",
    }
    if 0 < holds.sum() < n_points:
        boxes, trajectory, chosen, figure = discover(
            x[finite].reset_index(drop=True), holds[finite], priors, min_density, float(ex.options["peel_alpha"])
        )
        ex.write_csv("trajectory", trajectory.assign(chosen=trajectory.index == chosen))
        ex.save_figure(figure, "tradeoff")
        summary["box"] = {"index": chosen, **{k: float(trajectory[k].to_numpy()[chosen]) for k in BOX_STATS}}
    else:
        boxes = box_table(pd.DataFrame(), pd.DataFrame(), [], {})
        summary["box"] = None
    ex.write_csv("boxes", boxes)
    summary["sentence"] = sentence(boxes, fraction, majority)
    ex.write_json("summary", summary)
    return {"fraction": round(fraction, 3), "sentence": summary["sentence"]}


main = entry_point(NAME, run)

if __name__ == "__main__":
    main()
