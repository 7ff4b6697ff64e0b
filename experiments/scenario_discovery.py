"""Where in parameter space does the claim hold? ``python -m experiments.scenario_discovery``.

Scenario discovery (Bryant and Lempert 2010) with PRIM, the patient rule induction method
(Friedman and Fisher 1999), in the EMA Workbench's maintained implementation
(``ema_workbench.analysis.prim``; Kwakkel 2017). Over a Latin hypercube of ``points`` parameter
sets from the priors (``configs/priors/``), one run per set of all 2^k driver coalitions gives
China's Shapley share of Japan's shift (as q2 and q3 compute it); a set is a case of interest when
C0's core holds there: China's share above ``majority_share``. PRIM peels the parameter box
toward the cases of interest; along its peeling trajectory every box has a *coverage* (the share
of all cases of interest inside it) and a *density* (the share of the cases inside it that are of
interest). The box reported is chosen by a rule fixed in the config before the run
(``experiment.box``, :class:`BoxRule`): the densest box on the trajectory that covers at least
``min_coverage`` of the cases of interest (:func:`choose_box`); then its restrictions are dropped
one at a time (``PrimBox.drop_restriction``), the least significant first by their quasi-p values
(Bryant and Lempert 2010: a one-sided binomial test, from ``PrimBox.inspect``), while any has all
its quasi-p values above ``significance`` or more than ``max_restricted`` (at most 4) remain
(:func:`next_to_drop`). A reader gets a box of a few conditions that each matter, with its
coverage and density recomputed, not the densest corner of 15 dimensions peeled by a few
percent each.

Outputs: ``points.csv`` (every point, China's share, whether C0 holds), ``trajectory.csv`` (the
peeling trade-off), ``boxes.csv`` (the chosen box: each restricted parameter's limits against its
prior and its unit, with the box's coverage, density and mass), ``summary.json`` (with a plain
sentence for the report) and ``tradeoff.png`` (coverage against density along the peeling, the
chosen box marked).
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from ema_workbench.analysis import prim
from matplotlib.figure import Figure

from experiments.common import Experiment, ExperimentError, check_years, ending_in, entry_point
from experiments.figures import tradeoff_figure
from experiments.q3_sensitivity import shapley_points
from experiments.sampling import Prior, evaluate, latin_hypercube, load_priors, point_params
from sim import drivers as registry
from sim.params import parameter_table

NAME = "scenario_discovery"
BOX_STATS = ("coverage", "density", "mass", "res_dim")
MAX_CONDITIONS = 4  # a sentence a reader can hold in mind
BLOCKS_PER_WORKER = 6  # blocks of points per worker: progress and balance against batch size
logging.getLogger("EMA").setLevel(logging.WARNING)


@dataclass(frozen=True)
class BoxRule:
    """How the reported box is chosen (``experiment.box``, fixed before any run).

    Attributes
    ----------
    max_restricted
        The box restricts at most this many parameters (1..4).
    min_coverage
        The box it starts from holds at least this share of all the cases of interest.
    significance
        A restriction whose quasi-p values are all above this is dropped.
    """

    max_restricted: int = 3
    min_coverage: float = 0.5
    significance: float = 0.05

    def __post_init__(self) -> None:
        if not 1 <= self.max_restricted <= MAX_CONDITIONS:
            raise ValueError(f"experiment.box.max_restricted={self.max_restricted}; allowed: 1..{MAX_CONDITIONS}")
        if not 0.0 < self.min_coverage <= 1.0:
            raise ValueError(f"experiment.box.min_coverage={self.min_coverage}; allowed: 0 < value <= 1")
        if not 0.0 < self.significance < 1.0:
            raise ValueError(f"experiment.box.significance={self.significance}; allowed: 0 < value < 1")

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> BoxRule:
        """The rule from a config section with the keys of this class (missing ones at their defaults)."""
        allowed = list(cls.__dataclass_fields__)
        unknown = set(section) - set(allowed)
        if unknown:
            raise ValueError(f"experiment.box has unknown key(s) {sorted(unknown)}; allowed: {allowed}")
        return cls(
            int(section.get("max_restricted", cls.max_restricted)),
            float(section.get("min_coverage", cls.min_coverage)),
            float(section.get("significance", cls.significance)),
        )

    def describe(self) -> str:
        """The rule in words, with its numbers."""
        return (
            f"the densest box on PRIM's peeling trajectory that covers at least {self.min_coverage:.0%} of the cases "
            f"where the claim holds, reduced to at most {self.max_restricted} restrictions, each with a quasi-p value "
            f"of at most {self.significance:g} (the least significant dropped first)"
        )


def choose_box(trajectory: pd.DataFrame, rule: BoxRule) -> int:
    """The position on the peeling trajectory of the densest box covering at least ``rule.min_coverage``.

    Ties go to the higher coverage, then to the earlier box. The first box (nothing restricted,
    every case covered) always qualifies.
    """
    density = trajectory["density"].to_numpy(dtype=float)
    coverage = trajectory["coverage"].to_numpy(dtype=float)
    allowed = coverage >= rule.min_coverage - 1e-12
    allowed[0] = True
    candidates = np.flatnonzero(allowed)
    best = np.lexsort((candidates, -coverage[candidates], -density[candidates]))[0]
    return int(candidates[best])


def next_to_drop(qp_values: Mapping[str, Sequence[float]], rule: BoxRule) -> str | None:
    """The restriction to drop next, or None when every one is significant and at most ``rule.max_restricted`` remain.

    ``qp_values[key]`` holds the quasi-p values of a restricted parameter's lower and upper limit
    (-1 or NaN: that side is not restricted); a parameter counts by its most significant side. The
    least significant parameter goes first.
    """
    significance = {}
    for key, values in qp_values.items():
        tested = [float(v) for v in values if v is not None and np.isfinite(v) and v >= 0]
        significance[key] = min(tested) if tested else 1.0
    if not significance:
        return None
    weakest = max(significance, key=lambda k: significance[k])
    if significance[weakest] > rule.significance or len(significance) > rule.max_restricted:
        return weakest
    return None


def box_table(
    limits: pd.DataFrame, initial: pd.DataFrame, priors: list[Prior], stats: dict[str, float]
) -> pd.DataFrame:
    """One row per parameter the box restricts (limits inside the sample's range ``initial``), with its prior and unit.

    ``limits`` and ``initial`` have rows 0 (lower) and 1 (upper) and one column per prior's key.
    """
    units = {row["key"]: str(row["unit"]) for row in parameter_table()}
    rows = []
    for prior in priors:
        low, high = float(limits[prior.key].iloc[0]), float(limits[prior.key].iloc[1])
        below, above = low > float(initial[prior.key].iloc[0]), high < float(initial[prior.key].iloc[1])
        if not (below or above):
            continue
        rows.append(
            {
                "key": prior.key,
                "low": low if below else prior.low,
                "high": high if above else prior.high,
                "prior_low": prior.low,
                "prior_high": prior.high,
                "unit": units.get(prior.key, ""),
            }
        )
    frame = pd.DataFrame(rows, columns=["key", "low", "high", "prior_low", "prior_high", "unit"])
    return frame.assign(**{k: float(v) for k, v in stats.items()})


def condition(row: Mapping[str, Any]) -> str:
    """One restriction in words with its unit: ``0.3 < perception.intent_gain < 0.9 (1/evidence)``."""
    name = str(row["key"]).removeprefix("params.")
    low, high, prior_low, prior_high = (float(row[k]) for k in ("low", "high", "prior_low", "prior_high"))
    unit = str(row.get("unit") or "")
    suffix = " (dimensionless)" if unit in ("1", "") else f" ({unit})"
    if low > prior_low and high < prior_high:
        return f"{low:.3g} < {name} < {high:.3g}{suffix}"
    if low > prior_low:
        return f"{name} > {low:.3g}{suffix}"
    return f"{name} < {high:.3g}{suffix}"


def sentence(boxes: pd.DataFrame, holds_fraction: float, majority: float, rule: BoxRule | None = None) -> str:
    """The box in plain words: where C0 holds (at most four conditions), how much of it the box covers, its density."""
    claim = f"C0 (China's share above {majority:g}) holds in {holds_fraction:.0%} of the prior space"
    if boxes.empty and rule is not None:
        return (
            f"{claim}; no condition on the parameters separates where it holds: in PRIM's densest box covering "
            f"{rule.min_coverage:.0%} of those cases, no restriction has a quasi-p value of at most "
            f"{rule.significance:g}."
        )
    if boxes.empty:
        return f"{claim}; PRIM finds no parameter box that separates where it holds."
    if len(boxes) > MAX_CONDITIONS:
        raise ValueError(
            f"a box of {len(boxes)} conditions; allowed: at most {MAX_CONDITIONS} (experiment.box.max_restricted)"
        )
    first = boxes.iloc[0]
    conditions = " and ".join(condition({str(k): v for k, v in r.items()}) for r in boxes.to_dict("records"))
    return (
        f"{claim}. It holds mostly when {conditions}: that box covers "
        f"{first['coverage']:.0%} of the cases where the claim holds, and the claim holds in {first['density']:.0%} of "
        f"the cases inside it ({first['mass']:.0%} of the prior space)."
    )


def quasi_p(box: prim.PrimBox, i: int) -> dict[str, list[float]]:
    """The quasi-p values of the lower and upper limit of each parameter box ``i`` restricts (``PrimBox.inspect``)."""
    _, limits = box.inspect(i, style="data")[0]
    return {str(key): [float(v) for v in limits.loc[key].iloc[2:]] for key in limits.index}


def discover(
    x: pd.DataFrame, y: np.ndarray, priors: list[Prior], rule: BoxRule, peel_alpha: float
) -> tuple[pd.DataFrame, pd.DataFrame, Figure]:
    """PRIM on points ``x`` (one column per prior) and cases of interest ``y``; the box by ``rule``.

    Returns the chosen box's table (:func:`box_table`), the trajectory (peeling boxes, then the
    boxes made by dropping non-significant restrictions; ``chosen`` marks the reported one), and
    the trade-off figure.
    """
    finder = prim.Prim(x, np.asarray(y, dtype=bool), peel_alpha=peel_alpha)
    box = finder.find_box()
    n_peel = len(box.peeling_trajectory)
    chosen = choose_box(box.peeling_trajectory.astype(float).reset_index(drop=True), rule)
    while (drop := next_to_drop(quasi_p(box, chosen), rule)) is not None:
        box.drop_restriction(drop, chosen)
        chosen = len(box.peeling_trajectory) - 1
    trajectory = box.peeling_trajectory.reset_index(drop=True)
    trajectory = trajectory.assign(
        step=np.where(trajectory.index < n_peel, "peel", "drop"), chosen=trajectory.index == chosen
    )
    stats = {k: float(trajectory[k].to_numpy()[chosen]) for k in BOX_STATS}
    table = box_table(box.box_lims[chosen], finder.box_init, priors, stats)
    return table, trajectory, tradeoff_figure(trajectory, rule.describe())


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
    rule = BoxRule.from_config(dict(ex.options.get("box") or {}))
    majority = float(ex.options["majority_share"])
    priors = load_priors(list(ex.cfg.priors.ranges), ex.params)
    space = latin_hypercube(priors, n_points, int(ex.cfg.seed) + 2)
    function = functools.partial(shapley_points, seed=int(ex.cfg.seed), start=start, end=end, majority=majority)
    point_sets = [point_params(ending_in(ex.params, end), priors, p) for p in space]
    workers = max(1, int(ex.options["workers"]))
    # Blocks of points, a few per worker: the engine runs a block's points and coalitions side by side.
    size = math.ceil(n_points / (BLOCKS_PER_WORKER * workers))
    blocks = [point_sets[k : k + size] for k in range(0, n_points, size)]
    found = evaluate(function, blocks, workers, desc=f"{NAME}: points ({size} a block)", unit="block")
    results = pd.DataFrame([row for block in found for row in block])
    ex.runs_done += 2 ** len(registry.names()) * n_points
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
        "box_rule": asdict(rule),
        "box_rule_text": rule.describe(),
        "outcome": f"China's Shapley share of Japan's shift {start}-{end} above {majority:g}",
    }
    if 0 < holds.sum() < n_points:
        boxes, trajectory, figure = discover(
            x[finite].reset_index(drop=True), holds[finite], priors, rule, float(ex.options["peel_alpha"])
        )
        ex.write_csv("trajectory", trajectory)
        ex.save_figure(figure, "tradeoff")
        chosen = int(np.flatnonzero(trajectory["chosen"].to_numpy())[0])
        summary["box"] = {"index": chosen, **{k: float(trajectory[k].to_numpy()[chosen]) for k in BOX_STATS}}
    else:
        boxes = box_table(pd.DataFrame(), pd.DataFrame(), [], {})
        summary["box"] = None
    ex.write_csv("boxes", boxes)
    summary["sentence"] = sentence(boxes, fraction, majority, rule if summary["box"] else None)
    ex.write_json("summary", summary)
    return {"fraction": round(fraction, 3), "sentence": summary["sentence"]}


main = entry_point(NAME, run)

if __name__ == "__main__":
    main()
