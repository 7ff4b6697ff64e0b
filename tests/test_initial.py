"""sim/initial.py: the factual start, the noise-free spin-up and the rest-point anchors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import compose_params

from sim import dynamics
from sim.drivers.levels import driver_levels
from sim.initial import (
    ALIGNMENT_LIMIT,
    factual,
    initial_conditions,
    pick_runs,
    start_state,
)
from sim.inputs import DATA_DIR, DataFileError, RunInputs, build_inputs, spin_up_inputs
from sim.params import DriverParams, Params, params_from_mapping
from sim.turn import ALL, Anchors, State, alignment_pull, perception_only, rival_pressure, us_pressure


@pytest.fixture(scope="module")
def start(baseline_params: Params) -> tuple[Params, RunInputs, State, Anchors]:
    state, anchors = initial_conditions(baseline_params)
    return baseline_params, build_inputs(baseline_params), state, anchors


def test_start_state_takes_the_attribute_file_values(baseline_params: Params) -> None:
    inputs = build_inputs(baseline_params)
    state = start_state(inputs, baseline_params)
    np.testing.assert_array_equal(state.alignment[0], inputs.alignment_start)
    np.testing.assert_array_equal(state.spending[0], inputs.spending_start)
    np.testing.assert_array_equal(state.lockin[0], inputs.lockin_start)
    np.testing.assert_array_equal(state.intent, 0.0)
    np.testing.assert_allclose(state.expenditure[0], inputs.spending_start / 100 * inputs.gdp[0])
    # capability is the perpetual-inventory steady state of the start expenditure
    d = baseline_params.params.spending.capability_depreciation_per_year
    steady = state.expenditure[0] / 4 / (1 - (1 - d) ** 0.25)
    np.testing.assert_allclose(state.capability[0], steady, rtol=1e-13)
    np.testing.assert_allclose(
        dynamics.update_capability(state.capability, state.expenditure, d), state.capability, rtol=1e-13
    )
    # the share's smoothed growth starts at zero (a share that keeps pace with GDP), no review pending
    np.testing.assert_array_equal(state.growth[0], 0.0)
    np.testing.assert_array_equal(state.review_clock[0], 0.0)


def test_start_is_a_rest_point_of_the_alignment_equation(start: tuple[Params, RunInputs, State, Anchors]) -> None:
    params, inputs, state, anchors = start
    drive, _, _ = alignment_pull(state, state, state.threat, ALL, inputs, params.params, state.trend, 0)
    target = np.tanh(anchors.baseline_logit + drive)
    x0 = np.clip(inputs.alignment_start, -ALIGNMENT_LIMIT, ALIGNMENT_LIMIT)
    non_poles = ~inputs.is_pole
    np.testing.assert_allclose(target[0, non_poles], x0[non_poles], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(anchors.baseline_logit[0, inputs.is_pole], 0.0)


def test_economic_alignment_starts_at_its_target(start: tuple[Params, RunInputs, State, Anchors]) -> None:
    """y(0) is the trade target of eq. 19e at the spun-up de-risking; the poles sit at their poles."""
    params, inputs, state, _ = start
    model = params.params
    us = inputs.trade_us
    china = inputs.trade_china * (1.0 - model.alignment.derisking_trade_discount * state.denial[0, :, inputs.china])
    non_poles = ~inputs.is_pole
    expected = (us - china) / (us + china)
    np.testing.assert_allclose(state.economic_alignment[0, non_poles], expected[non_poles], rtol=0, atol=1e-12)
    assert state.economic_alignment[0, inputs.china] == -1.0 and state.economic_alignment[0, inputs.us] == 1.0
    assert np.all(np.abs(state.economic_alignment) <= 1.0)


def test_start_is_a_rest_point_of_the_spending_equation(start: tuple[Params, RunInputs, State, Anchors]) -> None:
    params, inputs, state, anchors = start
    model = params.params
    drivers = driver_levels(inputs, model.policy, 0, state.alignment)
    unbounded = dynamics.spending_target(
        anchors.grievance,
        rival_pressure(state.threat, state, ALL, inputs, 0),
        us_pressure(state, model, drivers),
        state.trend,
        model.spending.threat_response,
        model.spending.domestic_trend_response,
    )
    np.testing.assert_allclose(unbounded, state.spending, rtol=1e-12)
    sp = model.spending
    target = dynamics.bounded_target(unbounded, state.ceiling, sp.floor_share_gdp, sp.fiscal_bound_share_gdp)
    np.testing.assert_allclose(target, state.spending, rtol=1e-12)


def test_spending_bounds_that_cannot_hold_the_start_are_refused() -> None:
    # The declared ranges keep the shipped data inside [floor, bound]; another attribute file may not.
    base = Params()
    inputs = build_inputs(base)
    low, high = inputs.spending_start.copy(), inputs.spending_start.copy()
    low[inputs.codes.index("LAO")] = 0.05
    high[inputs.codes.index("PRK")] = 40.0
    with pytest.raises(ValueError, match=r"floor_share_gdp=0\.1 is above LAO"):
        start_state(dataclasses.replace(inputs, spending_start=low), base)
    with pytest.raises(ValueError, match=r"fiscal_bound_share_gdp=30\.0 is below PRK"):
        start_state(
            dataclasses.replace(inputs, spending_start=high, ceiling_start=np.full(inputs.n_actors, np.inf)), base
        )


def test_spin_up_reaches_the_perception_equilibrium(start: tuple[Params, RunInputs, State, Anchors]) -> None:
    params, inputs, state, _ = start
    again = perception_only(state, spin_up_inputs(inputs), params.params, 0)  # the drivers the spin-up holds
    for name in ("intent", "threat", "criticism", "resistance", "denial", "trust"):
        np.testing.assert_allclose(getattr(again, name), getattr(state, name), atol=1e-6, err_msg=name)
    for name in ("intent", "threat", "criticism", "resistance", "denial", "trust"):
        values = getattr(state, name)
        assert np.all((values >= 0) & (values <= 1)), name
    assert state.intent[0, inputs.focal, inputs.china] > 0  # Japan starts out wary of China


def test_initial_conditions_are_deterministic_and_scenario_free(baseline_params: Params) -> None:
    a_state, a_anchors = initial_conditions(baseline_params)
    no_coercion = compose_params(["scenario=no_china_coercion"])
    b_state, b_anchors = initial_conditions(no_coercion)
    for name, value in vars(a_state).items():
        np.testing.assert_array_equal(getattr(b_state, name), value, err_msg=name)
    for name, value in vars(a_anchors).items():
        np.testing.assert_array_equal(getattr(b_anchors, name), value, err_msg=name)
    assert factual(no_coercion).drivers == DriverParams()
    assert factual(no_coercion).scenario == no_coercion.scenario


def test_without_spin_up_perceptions_start_at_zero() -> None:
    state, _ = initial_conditions(params_from_mapping({"run": {"spinup_quarters": 0}}))
    for name in ("intent", "threat", "criticism", "resistance", "denial", "trust"):
        np.testing.assert_array_equal(getattr(state, name), 0.0, err_msg=name)


def test_pick_runs_copies_the_leading_axis(start: tuple[Params, RunInputs, State, Anchors]) -> None:
    _, inputs, state, anchors = start
    states, anchors3 = pick_runs(state, np.zeros(3, int)), pick_runs(anchors, np.zeros(3, int))
    n = inputs.n_actors
    assert states.alignment.shape == (3, n) and states.intent.shape == (3, n, n)
    assert anchors3.baseline_logit.shape == (3, n)
    for r in range(3):
        np.testing.assert_array_equal(states.trust[r], state.trust[0])
        np.testing.assert_array_equal(anchors3.grievance[r], anchors.grievance[0])


def test_start_spending_above_its_ceiling_is_a_data_file_error(tmp_path: Path) -> None:
    frame = pd.read_csv(DATA_DIR / "actors.csv", dtype=str, keep_default_na=False)
    frame.loc[frame["code"] == "JPN", "spending_ceiling_share_gdp"] = "0.5"  # below Japan's 0.95
    path = tmp_path / "actors.csv"
    frame.to_csv(path, index=False)
    params = params_from_mapping({"actors": {"attributes_file": str(path)}})
    with pytest.raises(DataFileError, match="JPN"):
        initial_conditions(params)
