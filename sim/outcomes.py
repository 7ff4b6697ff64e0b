"""From result tables to the outcomes the claim is about: Japan's W1..W5, the gap, regional means.

Each dimension is in [0, 1] with 0 = as Beijing wants and 1 = its opposite (CLAIMS.md):

==========================  =================================================================
column                      definition (observer -> target)
==========================  =================================================================
``w1_criticism``            criticism of JPN toward CHN
``w2_standing``             mean trust of the Southeast Asian states in JPN
``w3_claims_resistance``    claims resistance of JPN toward CHN
``w4_military_alignment``   mean of JPN's spending relative to s_ref (capped at 1), its lock-in
                            with the US, and its alignment rescaled to [0, 1]
``w5_tech_denial``          tech denial of JPN toward CHN
``china_wants_gap``         weighted mean of W1..W5 (``params.outcome.gap_weights``)
==========================  =================================================================

Regional columns: ``sea_alignment_mean`` (mean alignment of the region), ``sea_trust_china``,
``sea_trust_us``, ``sea_trust_japan`` (mean trust of the region in each power), and
``alignment_polarisation`` (standard deviation of the alignments of all non-pole actors).
The codes of the focal state, the poles and the region come from the actor config.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.params import Params

KEYS = ["run_id", "seed", "t", "year", "quarter"]
W_COLUMNS = ["w1_criticism", "w2_standing", "w3_claims_resistance", "w4_military_alignment", "w5_tech_denial"]


def military_alignment(
    spending_share_gdp: np.ndarray, lockin: np.ndarray, alignment: np.ndarray, reference_share: float
) -> np.ndarray:
    """W4: ``(min(s / s_ref, 1) + L + (x + 1) / 2) / 3`` in [0, 1]."""
    spending_part = np.minimum(np.asarray(spending_share_gdp) / reference_share, 1.0)
    return np.asarray((spending_part + np.asarray(lockin) + (np.asarray(alignment) + 1.0) / 2.0) / 3.0)


def _pair(dyads: pd.DataFrame, observer: str, target: str, column: str) -> pd.Series:
    rows = dyads[(dyads["observer"] == observer) & (dyads["target"] == target)]
    return rows.set_index(KEYS)[column]


def _mean_toward(dyads: pd.DataFrame, observers: list[str], target: str, column: str) -> pd.Series:
    rows = dyads[dyads["observer"].isin(observers) & (dyads["target"] == target)]
    return rows.groupby(KEYS, sort=True)[column].mean()


def outcomes_table(states: pd.DataFrame, dyads: pd.DataFrame, params: Params) -> pd.DataFrame:
    """One row per run and turn with W1..W5, the gap and the regional means (outcomes.parquet)."""
    actors = params.actors
    focal, china, us, region = actors.focal, actors.china_pole, actors.us_pole, list(actors.region)
    own = states[states["actor"] == focal].set_index(KEYS)
    out = pd.DataFrame(index=own.index)
    out["w1_criticism"] = _pair(dyads, focal, china, "criticism")
    out["w2_standing"] = _mean_toward(dyads, region, focal, "trust")
    out["w3_claims_resistance"] = _pair(dyads, focal, china, "claims_resistance")
    out["w4_military_alignment"] = military_alignment(
        own["spending_share_gdp"].to_numpy(),
        own["lockin"].to_numpy(),
        own["alignment"].to_numpy(),
        params.params.spending.us_target_share_gdp,
    )
    out["w5_tech_denial"] = _pair(dyads, focal, china, "tech_denial")
    weights = np.asarray(params.params.outcome.gap_weights)
    out["china_wants_gap"] = out[W_COLUMNS].to_numpy() @ weights
    sea = states[states["actor"].isin(region)]
    out["sea_alignment_mean"] = sea.groupby(KEYS, sort=True)["alignment"].mean()
    out["sea_trust_china"] = _mean_toward(dyads, region, china, "trust")
    out["sea_trust_us"] = _mean_toward(dyads, region, us, "trust")
    out["sea_trust_japan"] = out["w2_standing"] if focal == "JPN" else _mean_toward(dyads, region, "JPN", "trust")
    non_poles = states[~states["actor"].isin([china, us])]
    out["alignment_polarisation"] = non_poles.groupby(KEYS, sort=True)["alignment"].std(ddof=0)
    return out.reset_index()
