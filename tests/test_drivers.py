"""sim/drivers/levels.py: each driver's level per turn, data in replay, policy otherwise, knobs applied."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.drivers.china_coercion import coercion_index
from sim.drivers.levels import driver_levels
from sim.inputs import annual_series, build_inputs
from sim.model import simulate
from sim.params import params_from_mapping


def turn_of(year: int, quarter: int) -> int:
    return 4 * (year - 2010) + quarter - 1


def test_replay_levels_follow_the_data() -> None:
    params = params_from_mapping({})
    inputs = build_inputs(params)
    x = inputs.alignment_start[None, :]
    d = driver_levels(inputs, params.params.policy, turn_of(2016, 3), x)
    assert d.china_coercion.shape == (1, inputs.n_actors)
    np.testing.assert_allclose(d.china_coercion, coercion_index(annual_series)[2016][3])
    assert d.nk_provocation == pytest.approx((24 + 2 * 10) / 20)  # 24 launches, two nuclear tests
    assert d.russia_war == 0.0
    assert d.us_pressure == 1.0
    assert d.tech_controls == pytest.approx(0.2)
    assert d.japan_domestic_trend == pytest.approx(0.05 / 4)
    assert d.china_spending == pytest.approx(float(inputs.drivers["china_buildup"].level[turn_of(2016, 3)]))
    war = driver_levels(inputs, params.params.policy, turn_of(2023, 1), x)
    assert war.russia_war == 1.0 and war.tech_controls == 1.0


def test_after_the_data_the_policies_take_over() -> None:
    params = params_from_mapping({})
    inputs = build_inputs(params)
    policy = params.params.policy
    x0 = inputs.alignment_start
    drift = x0.copy()
    drift[inputs.focal] += 0.2  # Japan has moved toward the US since the start
    d = driver_levels(inputs, policy, turn_of(2027, 1), drift[None, :])
    expected = np.full(inputs.n_actors, policy.china_coercion_level)
    expected[inputs.focal] *= 1 + policy.china_spiral_gain * 0.2  # the spiral, eq. 11
    np.testing.assert_allclose(d.china_coercion[0], expected)
    assert d.nk_provocation == policy.nk_provocation_level
    assert d.russia_war == policy.russia_war_level
    assert d.tech_controls == policy.us_pressure_level


def test_knobs_scale_every_driver() -> None:
    knobs = {
        "china_coercion": {"scale": 0.5},
        "nk_provocation": {"scale": 0.0},
        "russia_war": {"scale": 2.0},
        "us_pressure": {"scale": 0.25},
        "japan_domestic_trend": {"scale": 3.0},
    }
    scaled = params_from_mapping({"drivers": knobs})
    plain = params_from_mapping({})
    for turn in (turn_of(2016, 3), turn_of(2023, 2), turn_of(2028, 4)):
        a_in, b_in = build_inputs(plain), build_inputs(scaled)
        x = a_in.alignment_start[None, :]
        a = driver_levels(a_in, plain.params.policy, turn, x)
        b = driver_levels(b_in, scaled.params.policy, turn, x)
        np.testing.assert_allclose(b.china_coercion, 0.5 * a.china_coercion)
        assert b.nk_provocation == 0.0
        assert b.russia_war == pytest.approx(2.0 * a.russia_war)
        assert b.us_pressure == pytest.approx(0.25 * a.us_pressure)
        assert b.tech_controls == pytest.approx(0.25 * a.tech_controls)
        assert b.japan_domestic_trend == pytest.approx(3.0 * a.japan_domestic_trend)
        assert b.china_spending == a.china_spending or (math.isnan(a.china_spending) and math.isnan(b.china_spending))


def test_policy_mode_has_no_data_but_the_dated_war() -> None:
    params = params_from_mapping({"run": {"mode": "policy"}})
    inputs = build_inputs(params)
    policy = params.params.policy
    d = driver_levels(inputs, policy, turn_of(2016, 3), inputs.alignment_start[None, :])
    np.testing.assert_allclose(d.china_coercion, policy.china_coercion_level)  # no drift at the start values
    assert d.nk_provocation == policy.nk_provocation_level
    assert d.russia_war == 0.0  # the war is dated in both modes
    assert math.isnan(d.china_spending)  # the model decides China's spending
    assert driver_levels(inputs, policy, turn_of(2022, 1), inputs.alignment_start[None, :]).russia_war == 1.0


def test_china_level_per_run_for_an_ensemble() -> None:
    params = params_from_mapping({"run": {"mode": "policy"}})
    inputs = build_inputs(params)
    x = np.repeat(inputs.alignment_start[None, :], 3, axis=0)
    x[1, inputs.focal] += 0.1
    d = driver_levels(inputs, params.params.policy, 5, x)
    assert d.china_coercion.shape == (3, inputs.n_actors)
    assert d.china_coercion[1, inputs.focal] > d.china_coercion[0, inputs.focal] == d.china_coercion[2, inputs.focal]


# --------------------------------------------------------------------------------------------
# Counterfactual semantics: absent (toward 0) and frozen (toward a year's level)
# --------------------------------------------------------------------------------------------


def test_frozen_holds_the_freeze_years_observed_level() -> None:
    knobs = {"china_coercion": {"scale": 0.0, "semantics": "frozen", "freeze_year": 2012}}
    params = params_from_mapping({"drivers": knobs})
    inputs = build_inputs(params)
    index = coercion_index(annual_series)
    frozen = np.mean([index[2012][q] for q in (1, 2, 3, 4)])
    for turn in (turn_of(2010, 1), turn_of(2016, 3), turn_of(2028, 4)):  # in the data and after (policy)
        d = driver_levels(inputs, params.params.policy, turn, inputs.alignment_start[None, :])
        np.testing.assert_allclose(d.china_coercion, frozen)


def test_frozen_at_half_scale_is_halfway_between_history_and_the_frozen_level() -> None:
    half = params_from_mapping({"drivers": {"nk_provocation": {"scale": 0.5, "semantics": "frozen"}}})
    inputs, plain = build_inputs(half), build_inputs(params_from_mapping({}))
    x = inputs.alignment_start[None, :]
    frozen_2010 = inputs.drivers["nk_provocation"].level[turn_of(2010, 1)]
    for turn in (turn_of(2017, 2), turn_of(2027, 1)):
        a = driver_levels(plain, half.params.policy, turn, x).nk_provocation
        b = driver_levels(inputs, half.params.policy, turn, x).nk_provocation
        assert b == pytest.approx(0.5 * a + 0.5 * frozen_2010)


def test_a_frozen_driver_without_data_in_its_year_holds_its_policy_level() -> None:
    params = params_from_mapping({"drivers": {"us_pressure": {"scale": 0.0, "semantics": "frozen"}}})
    inputs = build_inputs(params)
    d = driver_levels(inputs, params.params.policy, turn_of(2020, 1), inputs.alignment_start[None, :])
    assert d.us_pressure == params.params.policy.us_pressure_level


def test_china_buildup_offers_frozen_only_and_holds_real_expenditure() -> None:
    with pytest.raises(ValueError, match=r"drivers.china_buildup.semantics='absent'; allowed: \['frozen'\]"):
        params_from_mapping({"drivers": {"china_buildup": {"semantics": "absent"}}})
    params = params_from_mapping({"drivers": {"china_buildup": {"scale": 0.0}}})
    inputs = build_inputs(params)
    series = inputs.drivers["china_buildup"]
    gdp = inputs.gdp[:, inputs.china]
    in_2010 = inputs.year == 2010
    real_2010 = np.mean(series.level[in_2010] * gdp[in_2010])  # SIPRI share x GDP over 2010
    np.testing.assert_allclose(series.reference * gdp, real_2010)  # the same real expenditure every quarter
    assert series.reference[-1] < 0.5 * series.level[in_2010].mean()  # a share that falls as GDP grows


@pytest.mark.parametrize("mode", ["replay", "policy"])
def test_without_the_buildup_chinas_real_expenditure_stays_at_its_2010_level(mode: str) -> None:
    params = params_from_mapping({"run": {"mode": mode}, "drivers": {"china_buildup": {"scale": 0.0}}})
    states = simulate(params, 3)["states"]
    china = states[states["actor"] == "CHN"]
    inputs = build_inputs(params)
    in_2010 = inputs.year == 2010
    real_2010 = np.mean(inputs.drivers["china_buildup"].level[in_2010] * inputs.gdp[in_2010, inputs.china]) / 100.0
    # every quarter after the start state (the first row, the observed 2010Q1)
    np.testing.assert_allclose(china["expenditure_usd_bn"].iloc[1:], real_2010, rtol=1e-12)
