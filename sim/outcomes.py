"""From a run's state to the outcomes the claim is about: Japan's W1..W5, the gap, regional means.

Each dimension is in [0, 1] with 0 = as Beijing wants and 1 = its opposite (CLAIMS.md):

==========================  =================================================================
column                      definition (observer -> target)
==========================  =================================================================
``w1_criticism``            criticism of JPN toward CHN
``w2_standing``             mean trust of the Southeast Asian states in JPN
``w3_claims_resistance``    claims resistance of JPN toward CHN
``w4_military_alignment``   mean of JPN's spending relative to s_ref (capped at 1), its lock-in
                            with the US, and its security alignment rescaled to [0, 1]
``w5_tech_denial``          tech denial of JPN toward CHN
``china_wants_gap``         weighted mean of W1..W5 (``params.outcome.gap_weights``)
==========================  =================================================================

Regional columns: ``sea_alignment_mean`` (mean overall alignment of the region, eq. 19f), ``sea_trust_china``,
``sea_trust_us``, ``sea_trust_japan`` (mean trust of the region in each power), and
``alignment_polarisation`` (standard deviation of the overall alignments of all non-pole actors).
``focal_threat_from_china`` and ``focal_intent_of_china`` are Japan's perceived threat from,
and hostile intent of, China (the quantities Japanese opinion of China is compared with).
The focal state, the poles and the region are the roles of the actor config ("JPN" above
stands for the focal state). Both engines compute outcomes with :func:`outcome_arrays` on
their state arrays, turn by turn.
"""

from __future__ import annotations

import numpy as np

from sim import dynamics
from sim.inputs import RunInputs
from sim.params import ModelParams
from sim.turn import State

W_COLUMNS = ("w1_criticism", "w2_standing", "w3_claims_resistance", "w4_military_alignment", "w5_tech_denial")
OUTCOME_COLUMNS = (
    *W_COLUMNS,
    "china_wants_gap",
    "sea_alignment_mean",
    "sea_trust_china",
    "sea_trust_us",
    "sea_trust_japan",
    "alignment_polarisation",
    "focal_threat_from_china",
    "focal_intent_of_china",
)


def military_alignment(
    spending_share_gdp: np.ndarray, lockin: np.ndarray, alignment: np.ndarray, reference_share: float | np.ndarray
) -> np.ndarray:
    """W4: ``(min(s / s_ref, 1) + L + (x + 1) / 2) / 3`` in [0, 1]."""
    spending_part = np.minimum(np.asarray(spending_share_gdp) / reference_share, 1.0)
    return np.asarray((spending_part + np.asarray(lockin) + (np.asarray(alignment) + 1.0) / 2.0) / 3.0)


def overall_alignment(state: State, params: ModelParams) -> np.ndarray:
    """The overall alignment (eq. 19f) of every actor in R runs, (R, N): security and economic, weighted."""
    # omega: one value, or one per run, (R, 1), in a batch of parameter points (sim/batch.py)
    return dynamics.overall_alignment(state.alignment, state.economic_alignment, params.alignment.economic_weight)


def outcome_arrays(state: State, inputs: RunInputs, params: ModelParams) -> dict[str, np.ndarray]:
    """Every outcome column for R runs at one turn, each of shape (R,)."""
    f, c, u, region = inputs.focal, inputs.china, inputs.us, inputs.region
    # s_ref: one value, or one per run, (R, 1), in a batch of parameter points (sim/batch.py)
    reference_share = np.ravel(params.spending.us_target_share_gdp)
    out = {
        "w1_criticism": state.criticism[:, f, c],
        "w2_standing": state.trust[:, region, f].mean(axis=1),
        "w3_claims_resistance": state.resistance[:, f, c],
        "w4_military_alignment": military_alignment(
            state.spending[:, f], state.lockin[:, f], state.alignment[:, f], reference_share
        ),
        "w5_tech_denial": state.denial[:, f, c],
    }
    out["china_wants_gap"] = np.stack([out[w] for w in W_COLUMNS], axis=-1) @ np.asarray(params.outcome.gap_weights)
    alignment = overall_alignment(state, params)
    out["sea_alignment_mean"] = alignment[:, region].mean(axis=1)
    out["sea_trust_china"] = state.trust[:, region, c].mean(axis=1)
    out["sea_trust_us"] = state.trust[:, region, u].mean(axis=1)
    japan = inputs.codes.index("JPN") if "JPN" in inputs.codes else None
    r = state.alignment.shape[0]
    out["sea_trust_japan"] = state.trust[:, region, japan].mean(axis=1) if japan is not None else np.full(r, np.nan)
    out["alignment_polarisation"] = alignment[:, ~inputs.is_pole].std(axis=1)
    out["focal_threat_from_china"] = state.threat[:, f, c]
    out["focal_intent_of_china"] = state.intent[:, f, c]
    return out
