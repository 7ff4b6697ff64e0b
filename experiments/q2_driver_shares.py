"""Q2 and claim C0: what share of Japan's shift does each driver explain? ``python -m experiments.q2_driver_shares``.

The value of a coalition S of drivers is the change in Japan's China-wants gap (annual means,
``from_year`` to ``to_year``) when the drivers in S are on (at their configured scale) and the
others off for the whole run. Each driver's Shapley value is its average marginal contribution
over all orders (Shapley 1953), computed exactly from the 2^k coalitions of the k registered
drivers (``sim/drivers``), run by run with the same seeds (paired); the values sum to
v(all) - v(none), the total change the drivers explain (checked). A driver's share is its value
over that total. Intervals: percentile bootstrap over runs.

C0 holds (``supported: true``) if the intervals show China's share above ``majority_share``
and above every other driver's, and North Korea's and Russia's contributions positive;
``false`` if an interval shows one of these reversed; ``null`` when the intervals leave it open.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pandas as pd

from experiments.common import Experiment, ExperimentError, annual, check_years, entry_point, switched_off
from sim import drivers as registry
from sim.params import Params
from sim.plots import driver_shares_figure

NAME = "q2_driver_shares"
CHINA, NK, RUSSIA = "china_coercion", "nk_provocation", "russia_war"


def coalitions(n: int) -> list[tuple[int, ...]]:
    """All on/off vectors of ``n`` drivers (1 = on), in a fixed order."""
    return list(itertools.product((0, 1), repeat=n))


def shapley_values(values: dict[tuple[int, ...], np.ndarray], n: int) -> np.ndarray:
    """Exact Shapley values from the value of every coalition.

    ``values[S]`` has shape (R,) (one value per run); the result has shape (R, n).
    ``phi_k = sum_{S not containing k} |S|! (n - |S| - 1)! / n! [v(S + k) - v(S)]``.
    """
    runs = next(iter(values.values())).shape[0]
    phi = np.zeros((runs, n))
    for k in range(n):
        for coalition in coalitions(n):
            if coalition[k]:
                continue
            size = sum(coalition)
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            with_k = tuple(1 if j == k else c for j, c in enumerate(coalition))
            phi[:, k] += weight * (values[with_k] - values[coalition])
    return phi


def coalition_params(params: Params) -> list[Params]:
    """``params`` once per coalition of drivers (in :func:`coalitions` order): the others off from the start."""
    drivers = list(registry.names())
    return [
        switched_off(params, [d for d, on in zip(drivers, c, strict=True) if not on], "drivers-" + "".join(map(str, c)))
        for c in coalitions(len(drivers))
    ]


def coalition_values(
    tables: list[dict[str, pd.DataFrame]], combos: list[tuple[int, ...]], seeds: list[int], start: int, end: int
) -> dict[tuple[int, ...], np.ndarray]:
    """v(S) per run: the change of Japan's gap (annual means) from ``start`` to ``end`` in each coalition's runs."""
    values = {}
    for coalition, table in zip(combos, tables, strict=True):
        gap = annual(table["outcomes"], ["china_wants_gap"]).pivot_table(
            index="seed", columns="year", values="china_wants_gap"
        )
        values[coalition] = (gap[end] - gap[start]).reindex(seeds).to_numpy()
    return values


def c0_holds(shares: np.ndarray, contributions: np.ndarray, majority: float) -> bool:
    """C0 at a point estimate: China's share above ``majority`` and the largest; NK's and Russia's positive."""
    drivers = list(registry.names())
    china = shares[drivers.index(CHINA)]
    return bool(
        china > majority
        and china >= shares.max()
        and contributions[drivers.index(NK)] > 0
        and contributions[drivers.index(RUSSIA)] > 0
    )


def verdict(boot_shares: np.ndarray, boot_contrib: np.ndarray, drivers: list[str], majority: float) -> dict[str, Any]:
    """Decide C0 from bootstrap draws of shares and contributions (rows: draws, columns: drivers)."""

    def interval(x: np.ndarray) -> tuple[float, float]:
        return float(np.quantile(x, 0.025)), float(np.quantile(x, 0.975))

    c, nk, ru = drivers.index(CHINA), drivers.index(NK), drivers.index(RUSSIA)
    criteria = {"china_share_above_majority": interval(boot_shares[:, c] - majority)}
    for k, name in enumerate(drivers):
        if k != c:
            criteria[f"china_share_above_{name}"] = interval(boot_shares[:, c] - boot_shares[:, k])
    criteria["nk_contribution_positive"] = interval(boot_contrib[:, nk])
    criteria["russia_contribution_positive"] = interval(boot_contrib[:, ru])
    holds = {k: low > 0 for k, (low, _) in criteria.items()}
    fails = {k: high < 0 for k, (_, high) in criteria.items()}
    supported = True if all(holds.values()) else (False if any(fails.values()) else None)
    return {
        "claim": "C0: China's coercion explains the largest share of Japan's shift, above one half; "
        "North Korea's and Russia's contributions are positive and smaller",
        "supported": supported,
        "criteria": {
            k: {"interval_95": [round(lo, 4), round(hi, 4)], "established": holds[k], "rejected": fails[k]}
            for k, (lo, hi) in criteria.items()
        },
        "rule": "true if every criterion's 95% interval lies above 0, false if any lies below 0, else null",
        "bootstrap_fraction_all_criteria": float(
            np.mean(
                (boot_shares[:, c] > majority)
                & np.all(boot_shares[:, [c]] >= boot_shares, axis=1)
                & (boot_contrib[:, nk] > 0)
                & (boot_contrib[:, ru] > 0)
            )
        ),
    }


def run(ex: Experiment) -> dict[str, Any]:
    """All 2^k coalitions; write driver_shares.csv, shapley_runs.csv, verdict.json, driver_shares.png."""
    start, end = check_years(
        [ex.options["from_year"], ex.options["to_year"]], ex.params, "experiment.from_year/to_year"
    )
    if end <= start:
        raise ExperimentError(
            f"experiment.to_year={end} is not after experiment.from_year={start}; allowed: to_year > from_year"
        )
    drivers = list(registry.names())
    combos = coalitions(len(drivers))
    values = coalition_values(ex.tables_many(coalition_params(ex.params)), combos, ex.seeds, start, end)
    phi = shapley_values(values, len(drivers))
    total = values[(1,) * len(drivers)] - values[(0,) * len(drivers)]
    sum_error = float(np.max(np.abs(phi.sum(axis=1) - total)))
    if sum_error > 1e-9:
        raise AssertionError(f"Shapley values do not sum to the total change (max error {sum_error})")

    rng = np.random.default_rng(ex.cfg.seed)
    n_runs, n_boot = phi.shape[0], int(ex.options["bootstrap"])
    draws = [rng.integers(0, n_runs, n_runs) for _ in range(n_boot)]
    boot_contrib = np.stack([phi[idx].mean(axis=0) for idx in draws])
    boot_shares = np.stack([phi[idx].mean(axis=0) / total[idx].mean() for idx in draws])
    contribution, share = phi.mean(axis=0), phi.mean(axis=0) / total.mean()
    table = pd.DataFrame(
        {
            "driver": drivers,
            "share": share,
            "ci_low": np.quantile(boot_shares, 0.025, axis=0),
            "ci_high": np.quantile(boot_shares, 0.975, axis=0),
            "contribution": contribution,
            "contribution_ci_low": np.quantile(boot_contrib, 0.025, axis=0),
            "contribution_ci_high": np.quantile(boot_contrib, 0.975, axis=0),
        }
    )
    result = verdict(boot_shares, boot_contrib, drivers, float(ex.options["majority_share"]))
    largest = drivers[int(np.argmax(share))]
    result.update(
        {
            "largest_driver": largest,
            "window": [start, end],
            "total_change": float(total.mean()),
            "change_all_drivers": float(values[(1,) * len(drivers)].mean()),
            "change_no_driver": float(values[(0,) * len(drivers)].mean()),
            "shares_sum": float(share.sum()),
            "contributions_sum_error_max": sum_error,
            "runs_per_coalition": n_runs,
        }
    )
    ex.write_csv("driver_shares", table)
    ex.write_csv("shapley_runs", pd.DataFrame(phi, columns=drivers).assign(seed=ex.seeds, total_change=total))
    ex.write_json("verdict", result)
    ex.save_figure(driver_shares_figure(table, result), "driver_shares")
    return {
        "supported": result["supported"],
        "largest_driver": largest,
        "shares": {d: round(float(s), 3) for d, s in zip(drivers, share, strict=True)},
    }


main = entry_point(NAME, run)

if __name__ == "__main__":
    main()
