"""Q4: if Beijing stopped coercion in year Y, would Japan come back? ``python -m experiments.q4_hysteresis``.

For each restraint year Y, the baseline runs with China's coercion at scale 0 from Y on (the
same parameters and seeds; runs come from parameter draws, the calibrated posterior by default).
A run *comes back* if Japan's China-wants gap in ``check_year`` is at most the gap of the same run
never coerced, plus ``tolerance``: restraint then undoes coercion's effect. A run's critical
juncture is the earliest restraint year from which on it never comes back: restraint after the
juncture comes too late (CLAIMS.md, the "critical juncture"). A run that comes back for every Y
has no juncture within the window; one that comes back for none has its juncture at or before
the first Y (left-censored).

The stricter criterion, back to the run's own ``reference_year`` level, is also reported
(``vs_reference_level``), with how many runs reach it even never coerced: where none does, that
criterion is unreachable (other drivers move Japan too) and its juncture means nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from experiments.common import Experiment, ExperimentError, annual, check_years, entry_point, switched_off
from sim.plots import hysteresis_figure

NAME = "q4_hysteresis"


def junctures(returns: pd.DataFrame, years: list[int]) -> pd.Series:
    """Per run (rows), the earliest restraint year from which on it never returns (NaN: none).

    ``returns`` has one boolean column per restraint year, in increasing order.
    """
    out = {}
    for seed, row in returns[years].iterrows():
        flags = row.to_numpy(dtype=bool)
        late = [k for k in range(len(years)) if not flags[k:].any()]
        out[seed] = float(years[late[0]]) if late else np.nan
    return pd.Series(out, name="juncture")


def run(ex: Experiment) -> dict[str, Any]:
    """Every restraint year; write hysteresis.csv, junctures.csv, juncture.json, hysteresis.png."""
    years = sorted(check_years(list(ex.options["restraint_years"]), ex.params, "experiment.restraint_years"))
    reference, check = check_years(
        [ex.options["reference_year"], ex.options["check_year"]], ex.params, "experiment.reference_year/check_year"
    )
    if check <= reference:
        raise ExperimentError(f"experiment.check_year={check} is not after reference_year={reference}")
    tolerance = float(ex.options["tolerance"])
    if tolerance < 0:
        raise ExperimentError(f"experiment.tolerance={tolerance}; allowed: >= 0")

    def gap_by_year(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
        outcomes = annual(tables["outcomes"], ["china_wants_gap"])
        return outcomes.pivot_table(index="seed", columns="year", values="china_wants_gap")

    restrained = [switched_off(ex.params, ["china_coercion"], f"china_restraint_from_{y}", y) for y in years]
    never_coerced = switched_off(ex.params, ["china_coercion"], "no_china_coercion")
    all_tables = ex.tables_many([ex.params, never_coerced, *restrained])
    base, never = gap_by_year(all_tables[0]), gap_by_year(all_tables[1])
    level = base[reference]
    rows, returns, returns_path = [], {}, {}
    for year, tables in zip(years, all_tables[2:], strict=True):
        gap = gap_by_year(tables)
        returns[year] = gap[check] <= level + tolerance
        returns_path[year] = gap[check] <= never[check] + tolerance
        rows.append(
            {
                "restraint_year": year,
                "gap_check_median": gap[check].median(),
                "gap_check_low": gap[check].quantile(0.05),
                "gap_check_high": gap[check].quantile(0.95),
                "share_returning": returns[year].mean(),
                "excess_over_never_coerced": (gap[check] - never[check]).mean(),
                "share_back_on_never_coerced_path": returns_path[year].mean(),
            }
        )
    curve = pd.DataFrame(rows)
    flags = pd.DataFrame(returns_path)
    per_run = junctures(flags, years)
    found = per_run.dropna()
    strict = pd.DataFrame(returns)
    strict_found = junctures(strict, years).dropna()
    reachable = int((never[check] <= level + tolerance).sum())
    summary = {
        "criterion": "back: the gap in check_year at most the never-coerced run's gap plus tolerance",
        "reference_year": reference,
        "check_year": check,
        "tolerance": tolerance,
        "gap_reference_median": float(level.median()),
        "gap_check_baseline_median": float(base[check].median()),
        "gap_check_never_coerced_median": float(never[check].median()),
        "runs": len(per_run),
        "runs_with_juncture": len(found),
        "runs_never_returning": int((~flags.any(axis=1)).sum()),
        "juncture_median": float(found.median()) if len(found) else None,
        "juncture_interval_90": [float(found.quantile(0.05)), float(found.quantile(0.95))] if len(found) else None,
        "note": "a juncture equal to the first restraint year means restraint from then on never brings Japan back "
        "(left-censored: the juncture may lie earlier)",
        "vs_reference_level": {
            "criterion": "back: the gap in check_year at most the run's own reference_year level plus tolerance",
            "runs_back_even_never_coerced": reachable,
            "reachable": reachable > 0,
            "runs_with_juncture": len(strict_found),
            "juncture_median": float(strict_found.median()) if len(strict_found) and reachable else None,
        },
    }
    ex.write_csv("hysteresis", curve)
    ex.write_csv("junctures", per_run.rename_axis("seed").reset_index())
    ex.write_json("juncture", summary)
    ex.save_figure(hysteresis_figure(curve, summary), "hysteresis")
    return {
        "juncture_median": summary["juncture_median"],
        "juncture_interval_90": summary["juncture_interval_90"],
        "runs_with_juncture": summary["runs_with_juncture"],
    }


main = entry_point(NAME, run)

if __name__ == "__main__":
    main()
