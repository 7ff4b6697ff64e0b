"""Q3: how robust is the verdict, and which parameters decide it? ``python -m experiments.q3_sensitivity``.

Over the uncertain parameters and their prior ranges (``configs/priors/default.yaml``), for two
outputs of one run per point: (a) ``gap_change``, the change in Japan's China-wants gap from
``from_year`` to ``to_year`` with every driver on, and (b) ``china_share``, China's Shapley
share of it (the 2^k coalitions of q2's k registered drivers, run side by side):

1. Morris screening (Morris 1991; Campolongo et al. 2007): ``morris_trajectories`` trajectories;
   mu* ranks the parameters; the ``sobol_top`` largest by mu* (of either output) go on.
2. Sobol indices (Saltelli 2002; Sobol 2001), first order and total, with bootstrap 95%
   intervals, over those parameters (the others at their base values: the configured ``params``,
   the calibrated point by default, so the indices are conditional on it), from ``sobol_base``
   base samples (``sobol_base * (2k + 2)`` points).
3. Robustness: the fraction of a Latin hypercube over the whole prior space (``robustness_points``)
   in which C0 holds (q2's criteria at the point estimate), with a Wilson 95% interval, the same
   fraction over the calibrated posterior sample if one exists, and a figure of China's share
   against the parameters that decide it most.

Outputs: ``morris.csv``, ``sobol.csv``, ``robustness_points.csv``, ``robustness.json``,
``morris.png``, ``sobol.png``, ``robustness.png``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from experiments import attribution, verdict
from experiments.common import Experiment, ExperimentError, check_years, entry_point, run_pairs
from experiments.q2_driver_shares import coalition_params
from experiments.sampling import Prior, evaluate, latin_hypercube, load_priors, point_params
from sim import drivers as registry
from sim.params import Params
from sim.plots_calibration import morris_figure, robustness_figure, sobol_figure
from sim.posterior import load_posterior, posterior_path

NAME = "q3_sensitivity"
OUTPUTS = ("gap_change", "china_share")


def shapley_point(params: Params, seed: int, start: int, end: int, majority: float) -> dict[str, float]:
    """Japan's gap change, every driver's Shapley share, and whether C0 (narrow) holds, for one run of ``params``."""
    return shapley_points([params], seed, start, end, majority)[0]


def shapley_points(
    points: Sequence[Params], seed: int, start: int, end: int, majority: float
) -> list[dict[str, float]]:
    """:func:`shapley_point` of every parameter set of ``points``, their 2^k coalitions run side by side.

    Points and coalitions share the engine's batches, the points spun up together
    (:func:`experiments.common.run_pairs`); the gap is read from the trajectories (no tables).
    """
    drivers = registry.names()
    k = len(drivers)
    runs = [(c, seed) for p in points for c in coalition_params(p, list(range(2**k)), drivers)]
    parts = []
    for traj in run_pairs(runs):
        gap = traj.outcomes["china_wants_gap"]  # (T, R)
        first, last = traj.year == start, traj.year == end
        if not (first.any() and last.any()):
            raise ExperimentError(f"a coalition's run lacks year {start} or {end} in its outcomes")
        parts.append(gap[last].mean(axis=0) - gap[first].mean(axis=0))
    values = np.concatenate(parts)
    values = values.reshape(len(points), 2**k)  # (points, 2^k), masks in order
    phi = attribution.shapley(values, k)
    narrow = verdict.definition("narrow", drivers, {d: registry.spec(d).owner for d in drivers})
    out = []
    for point_values, point_phi in zip(values, phi, strict=True):
        total = float(point_values[-1] - point_values[0])
        shares = point_phi / total if total != 0 else np.full(k, np.nan)
        row = {
            "gap_change": float(point_values[-1]),
            "total_change": total,
            "c0_holds": float(verdict.holds_at_point(shares, point_phi, narrow, majority)),
        }
        row.update({f"share_{d}": float(s) for d, s in zip(drivers, shares, strict=True)})
        row["china_share"] = row["share_china_coercion"]
        out.append(row)
    return out


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (Wilson 1927)."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (centre - half, centre + half)


def _evaluate(ex: Experiment, params_list: list[Params], start: int, end: int) -> pd.DataFrame:
    function = functools.partial(
        shapley_point, seed=int(ex.cfg.seed), start=start, end=end, majority=float(ex.options["majority_share"])
    )
    ex.runs_done += 2 ** len(registry.names()) * len(params_list)
    return pd.DataFrame(evaluate(function, params_list, int(ex.options["workers"])))


def run(ex: Experiment) -> dict[str, Any]:
    """Morris, then Sobol on the top parameters, then the robustness of the verdict."""
    start, end = check_years(
        [ex.options["from_year"], ex.options["to_year"]], ex.params, "experiment.from_year/to_year"
    )
    if end <= start:
        raise ExperimentError(f"experiment.to_year={end} is not after experiment.from_year={start}")
    priors = load_priors(list(ex.cfg.priors.ranges), ex.params)
    top = int(ex.options["sobol_top"])
    if not 1 <= top <= len(priors):
        raise ExperimentError(f"experiment.sobol_top={top}; allowed: 1..{len(priors)} (the number of priors)")
    seed = int(ex.cfg.seed)

    # 1. Morris screening over every prior.
    problem = _problem(priors)
    design = morris_sample.sample(problem, int(ex.options["morris_trajectories"]), num_levels=4, seed=seed)
    results = _evaluate(ex, [point_params(ex.params, priors, p) for p in design], start, end)
    morris = _index_table(
        results,
        problem["names"],
        lambda y: morris_analyze.analyze(problem, design, y, num_levels=4, seed=seed),
        ("mu_star", "mu_star_conf", "sigma"),
    )
    ex.write_csv("morris", morris)
    ex.save_figure(morris_figure(morris, OUTPUTS), "morris")
    ranks = morris.assign(rank=morris.groupby("output")["mu_star"].rank(ascending=False))
    chosen = list(ranks.sort_values("rank").drop_duplicates("key")["key"][:top])
    selected = [p for p in priors if p.key in chosen]

    # 2. Sobol indices over the selected parameters.
    sub_problem = _problem(selected)
    sobol_design = sobol_sample.sample(sub_problem, int(ex.options["sobol_base"]), calc_second_order=False, seed=seed)
    sobol_results = _evaluate(ex, [point_params(ex.params, selected, p) for p in sobol_design], start, end)
    sobol = _index_table(
        sobol_results,
        sub_problem["names"],
        lambda y: sobol_analyze.analyze(sub_problem, y, calc_second_order=False, seed=seed),
        ("S1", "S1_conf", "ST", "ST_conf"),
    )
    ex.write_csv("sobol", sobol)
    ex.save_figure(sobol_figure(sobol, OUTPUTS), "sobol")

    # 3. Robustness over the whole prior space, and over the posterior.
    n_points = int(ex.options["robustness_points"])
    space = latin_hypercube(priors, n_points, seed + 1)
    points = _evaluate(ex, [point_params(ex.params, priors, p) for p in space], start, end)
    points = pd.concat([pd.DataFrame(space, columns=[p.key for p in priors]), points], axis=1)
    ex.write_csv("robustness_points", points)
    holds = int(points["c0_holds"].sum())
    deciding = list(sobol[sobol["output"] == "china_share"].sort_values("ST", ascending=False)["key"][:6])
    ex.save_figure(robustness_figure(points, deciding, float(ex.options["majority_share"])), "robustness")
    robustness: dict[str, Any] = {
        "prior_space": {
            "points": n_points,
            "c0_holds": holds,
            "fraction": holds / n_points,
            "wilson_95": list(wilson_interval(holds, n_points)),
        },
        "deciding_parameters": deciding,
        "china_share_median": float(points["china_share"].median()),
    }
    posterior_file = str(ex.cfg.get("posterior_file", ""))
    if posterior_file and posterior_path(posterior_file).is_file():
        posterior = load_posterior(posterior_file)
        post = _evaluate(ex, [posterior.params(ex.params, k) for k in range(len(posterior.samples))], start, end)
        ok = int(post["c0_holds"].sum())
        robustness["posterior"] = {
            "points": len(post),
            "c0_holds": ok,
            "fraction": ok / len(post),
            "wilson_95": list(wilson_interval(ok, len(post))),
            "china_share_median": float(post["china_share"].median()),
            "file": str(Path(posterior_file)),
        }
    else:
        robustness["posterior"] = None
    ex.write_json("robustness", robustness)
    return {
        "morris_top": chosen,
        "sobol_china_share_ST": {
            str(key): round(value, 3)
            for key, value in zip(
                sobol.loc[sobol["output"] == "china_share", "key"],
                sobol.loc[sobol["output"] == "china_share", "ST"].to_numpy(dtype=float).tolist(),
                strict=True,
            )
        },
        "robustness": robustness,
    }


def _index_table(
    results: pd.DataFrame, names: list[str], analyse: Callable[[np.ndarray], Any], fields: tuple[str, ...]
) -> pd.DataFrame:
    """One row per output and parameter with the ``fields`` of ``analyse`` (a SALib analysis) of that output."""
    rows = []
    for output in OUTPUTS:
        analysis = analyse(results[output].to_numpy())
        rows += [{"output": output, "key": key, **{f: analysis[f][k] for f in fields}} for k, key in enumerate(names)]
    return pd.DataFrame(rows)


def _problem(priors: list[Prior]) -> dict[str, Any]:
    return {"num_vars": len(priors), "names": [p.key for p in priors], "bounds": [[p.low, p.high] for p in priors]}


main = entry_point(NAME, run)

if __name__ == "__main__":
    main()
