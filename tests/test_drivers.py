"""sim/drivers/levels.py: each driver's level per turn, data in replay, policy otherwise, knobs applied."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.drivers.china_coercion import coercion_index
from sim.drivers.levels import driver_levels
from sim.inputs import annual_series, build_inputs
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
    assert d.nk_provocation == pytest.approx(24 / 20)
    assert d.russia_war == 0.0
    assert d.us_pressure == 1.0
    assert d.tech_controls == pytest.approx(0.2)
    assert d.japan_domestic_trend == pytest.approx(0.05 / 4)
    assert d.china_spending == pytest.approx(float(inputs.china_spending.level[turn_of(2016, 3)]))
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
