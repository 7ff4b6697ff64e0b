"""sim/outcomes.py: W1..W5, the China-wants gap and the regional columns on a hand-made state,
and their consistency with the state and dyad tables of a run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import W_COLUMNS

from sim.inputs import RunInputs, build_inputs
from sim.outcomes import OUTCOME_COLUMNS, military_alignment, outcome_arrays
from sim.params import Params, params_from_mapping
from sim.turn import State

CODES = ["CHN", "JPN", "USA", "RUS", "PRK", "PHL", "VNM"]
WEIGHTS = [0.4, 0.1, 0.2, 0.2, 0.1]


@pytest.fixture(scope="module")
def small() -> tuple[Params, RunInputs]:
    params = params_from_mapping(
        {"actors": {"codes": CODES, "region": ["PHL", "VNM"]}, "params": {"outcome": {"gap_weights": WEIGHTS}}}
    )
    return params, build_inputs(params)


def hand_state() -> State:
    """Two runs of seven actors with hand-chosen values where the outcomes read them."""
    r, n = 2, len(CODES)
    c = CODES.index
    dyad = {
        name: np.full((r, n, n), 0.05) for name in ("intent", "threat", "criticism", "resistance", "denial", "trust")
    }
    dyad["criticism"][:, c("JPN"), c("CHN")] = [0.3, 0.8]
    dyad["resistance"][:, c("JPN"), c("CHN")] = [0.6, 0.9]
    dyad["denial"][:, c("JPN"), c("CHN")] = [0.1, 0.5]
    trust = dyad["trust"]
    trust[:, c("PHL"), c("JPN")] = [0.7, 0.2]
    trust[:, c("VNM"), c("JPN")] = [0.5, 0.4]
    trust[:, c("PHL"), c("CHN")] = [0.1, 0.3]
    trust[:, c("VNM"), c("CHN")] = [0.3, 0.5]
    trust[:, c("PHL"), c("USA")] = [0.9, 0.6]
    trust[:, c("VNM"), c("USA")] = [0.4, 0.2]
    alignment = np.array([[-1.0, 0.5, 1.0, -0.5, -0.9, 0.4, 0.0], [-1.0, -0.2, 1.0, -0.6, -0.8, 0.6, 0.2]])
    # Economic alignments differ from the security ones (hedging): the overall alignment mixes them.
    economic = np.array([[-1.0, 0.1, 1.0, -0.7, -0.3, -0.4, -0.8], [-1.0, 0.3, 1.0, -0.2, -0.5, 0.2, 0.0]])
    spending = np.array([[1.7, 1.0, 3.5, 4.0, 20.0, 1.2, 2.0], [1.7, 3.0, 3.5, 4.0, 20.0, 1.2, 2.0]])
    lockin = np.zeros((r, n))
    lockin[:, c("JPN")] = [0.6, 0.9]
    lockin[:, c("USA")] = 1.0
    ones = np.ones((r, n))
    return State(
        alignment=alignment,
        economic_alignment=economic,
        spending=spending,
        expenditure=ones,
        capability=ones,
        lockin=lockin,
        ceiling=np.full((r, n), np.inf),
        review_clock=np.zeros((r, n)),
        growth=np.zeros((r, n)),
        trend=np.zeros((r, n)),
        **dyad,
    )


def test_military_alignment_closed_form() -> None:
    # (min(s / s_ref, 1) + L + (x + 1) / 2) / 3
    assert military_alignment(np.array(1.0), np.array(0.6), np.array(0.5), 2.0) == pytest.approx((0.5 + 0.6 + 0.75) / 3)
    assert military_alignment(np.array(3.0), np.array(0.9), np.array(-0.2), 2.0) == pytest.approx((1 + 0.9 + 0.4) / 3)
    assert military_alignment(np.array(0.0), np.array(0.0), np.array(-1.0), 2.0) == 0.0  # what Beijing wants
    assert military_alignment(np.array(5.0), np.array(1.0), np.array(1.0), 2.0) == 1.0  # its opposite
    rng = np.random.default_rng(501)
    w4 = military_alignment(rng.uniform(0, 10, 1000), rng.uniform(0, 1, 1000), rng.uniform(-1, 1, 1000), 2.0)
    assert np.all((w4 >= 0) & (w4 <= 1))


def test_outcomes_on_a_hand_made_state(small: tuple[Params, RunInputs]) -> None:
    params, inputs = small
    out = outcome_arrays(hand_state(), inputs, params.params)
    assert set(out) == set(OUTCOME_COLUMNS)
    for column in OUTCOME_COLUMNS:
        assert out[column].shape == (2,), column
    np.testing.assert_allclose(out["w1_criticism"], [0.3, 0.8])
    np.testing.assert_allclose(out["w2_standing"], [0.6, 0.3])  # mean SEA trust in Japan
    np.testing.assert_allclose(out["w3_claims_resistance"], [0.6, 0.9])
    np.testing.assert_allclose(out["w4_military_alignment"], [(0.5 + 0.6 + 0.75) / 3, (1.0 + 0.9 + 0.4) / 3])
    np.testing.assert_allclose(out["w5_tech_denial"], [0.1, 0.5])
    w = np.array([[0.3, 0.6, 0.6, 1.85 / 3, 0.1], [0.8, 0.3, 0.9, 2.3 / 3, 0.5]])
    np.testing.assert_allclose(out["china_wants_gap"], w @ np.array(WEIGHTS))
    # Overall alignment (eq. 19f, omega = 0.25 by default): 0.75 x + 0.25 y. Security means of
    # PHL and VNM 0.2 and 0.4, economic means -0.6 and 0.1.
    assert params.params.alignment.economic_weight == 0.25
    np.testing.assert_allclose(out["sea_alignment_mean"], [0.0, 0.325], atol=1e-15)
    np.testing.assert_allclose(out["sea_trust_china"], [0.2, 0.4])
    np.testing.assert_allclose(out["sea_trust_us"], [0.65, 0.4])
    np.testing.assert_allclose(out["sea_trust_japan"], out["w2_standing"])
    security = np.array([[0.5, -0.5, -0.9, 0.4, 0.0], [-0.2, -0.6, -0.8, 0.6, 0.2]])
    economic = np.array([[0.1, -0.7, -0.3, -0.4, -0.8], [0.3, -0.2, -0.5, 0.2, 0.0]])
    non_poles = 0.75 * security + 0.25 * economic
    np.testing.assert_allclose(out["alignment_polarisation"], non_poles.std(axis=1))  # ddof 0
    for column in (*W_COLUMNS, "china_wants_gap"):
        assert np.all((out[column] >= 0) & (out[column] <= 1)), column


def test_gap_extremes(small: tuple[Params, RunInputs]) -> None:
    """The Japan Beijing wants has gap 0; its opposite has gap 1."""
    params, inputs = small
    c = CODES.index
    state = hand_state()
    for name in ("criticism", "resistance", "denial"):
        getattr(state, name)[:, c("JPN"), c("CHN")] = [0.0, 1.0]
    state.trust[:, [c("PHL"), c("VNM")], c("JPN")] = np.array([[0.0, 0.0], [1.0, 1.0]])
    state.spending[:, c("JPN")] = [0.0, 5.0]
    state.lockin[:, c("JPN")] = [0.0, 1.0]
    state.alignment[:, c("JPN")] = [-1.0, 1.0]
    out = outcome_arrays(state, inputs, params.params)
    np.testing.assert_allclose(out["china_wants_gap"], [0.0, 1.0], atol=1e-15)


def test_outcomes_are_in_unit_interval_for_random_valid_states(small: tuple[Params, RunInputs]) -> None:
    params, inputs = small
    rng = np.random.default_rng(502)
    r, n = 50, len(CODES)
    base = hand_state()
    state = State(
        **{
            **vars(base),
            "alignment": rng.uniform(-1, 1, (r, n)),
            "economic_alignment": rng.uniform(-1, 1, (r, n)),
            "spending": rng.uniform(0, 8, (r, n)),
            "expenditure": np.ones((r, n)),
            "capability": np.ones((r, n)),
            "lockin": rng.uniform(0, 1, (r, n)),
            "ceiling": np.full((r, n), np.inf),
            "growth": np.zeros((r, n)),
            "trend": np.zeros((r, n)),
            **{
                k: rng.uniform(0, 1, (r, n, n))
                for k in ("intent", "threat", "criticism", "resistance", "denial", "trust")
            },
        }
    )
    out = outcome_arrays(state, inputs, params.params)
    for column in (*W_COLUMNS, "china_wants_gap", "sea_trust_china", "sea_trust_us", "sea_trust_japan"):
        assert np.all((out[column] >= 0) & (out[column] <= 1)), column
    assert np.all(np.abs(out["sea_alignment_mean"]) <= 1)


def test_outcome_table_agrees_with_state_and_dyad_tables(
    baseline_run: dict[str, pd.DataFrame], baseline_params: Params
) -> None:
    states, dyads, outcomes = baseline_run["states"], baseline_run["dyads"], baseline_run["outcomes"]
    keys = ["t"]
    o = outcomes.set_index(keys).sort_index()

    def pair(observer: str, target: str, column: str) -> pd.Series:
        rows = dyads[(dyads["observer"] == observer) & (dyads["target"] == target)]
        return rows.set_index(keys)[column].sort_index()

    region = list(baseline_params.actors.region)
    np.testing.assert_allclose(o["w1_criticism"], pair("JPN", "CHN", "criticism"), rtol=1e-12)
    np.testing.assert_allclose(o["w3_claims_resistance"], pair("JPN", "CHN", "claims_resistance"), rtol=1e-12)
    np.testing.assert_allclose(o["w5_tech_denial"], pair("JPN", "CHN", "tech_denial"), rtol=1e-12)
    trust_in_japan = dyads[dyads["observer"].isin(region) & (dyads["target"] == "JPN")].groupby("t")["trust"].mean()
    np.testing.assert_allclose(o["w2_standing"], trust_in_japan.sort_index(), rtol=1e-12)
    jpn = states[states["actor"] == "JPN"].set_index("t").sort_index()
    w4 = military_alignment(
        jpn["spending_share_gdp"].to_numpy(), jpn["lockin"].to_numpy(), jpn["security_alignment"].to_numpy(), 2.0
    )
    np.testing.assert_allclose(o["w4_military_alignment"], w4, rtol=1e-12)
    np.testing.assert_allclose(o["china_wants_gap"], o[W_COLUMNS].mean(axis=1), rtol=1e-12)  # default equal weights
    omega = baseline_params.params.alignment.economic_weight
    overall = (1.0 - omega) * states["security_alignment"] + omega * states["economic_alignment"]
    np.testing.assert_allclose(states["alignment"], overall, rtol=1e-12)  # eq. 19f
    sea = states[states["actor"].isin(region)].groupby("t")["alignment"].mean()
    np.testing.assert_allclose(o["sea_alignment_mean"], sea.sort_index(), rtol=1e-12)
    non_poles = states[~states["actor"].isin(["CHN", "USA"])].groupby("t")["alignment"].std(ddof=0)
    np.testing.assert_allclose(o["alignment_polarisation"], non_poles.sort_index(), rtol=1e-10)
    values = outcomes[[*W_COLUMNS, "china_wants_gap"]].to_numpy()
    assert np.all((values >= 0) & (values <= 1))
