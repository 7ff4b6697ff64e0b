"""sim/dynamics.py against hand-worked values, closed forms, limits and invariants.

Every random test draws from a seeded numpy generator.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim import dynamics as dy

# ----------------------------------------------------------------------------------------------
# Geometry
# ----------------------------------------------------------------------------------------------


def test_great_circle_tokyo_beijing_is_about_2100_km() -> None:
    lat = np.array([35.68, 39.90])  # Tokyo, Beijing
    lon = np.array([139.69, 116.40])
    d = dy.great_circle_km(lat, lon)
    assert d[0, 1] == pytest.approx(2100.0, rel=0.01)


def test_great_circle_is_symmetric_with_zero_diagonal_and_antipodes_at_half_circumference() -> None:
    lat = np.array([0.0, 0.0, 90.0, 35.68, -33.87])
    lon = np.array([0.0, 180.0, 0.0, 139.69, 151.21])
    d = dy.great_circle_km(lat, lon)
    np.testing.assert_allclose(d, d.T, rtol=0, atol=1e-9)
    np.testing.assert_allclose(np.diag(d), 0.0, atol=1e-9)
    assert d[0, 1] == pytest.approx(math.pi * dy.EARTH_RADIUS_KM, rel=1e-12)
    assert d[0, 2] == pytest.approx(math.pi / 2 * dy.EARTH_RADIUS_KM, rel=1e-12)  # equator to pole


def test_threat_proximity_is_one_within_reach_and_decays_beyond() -> None:
    distance = np.array([0.0, 800.0, 1000.0, 3000.0])
    prox = dy.threat_proximity(distance, np.array(1000.0), 2000.0)
    np.testing.assert_allclose(prox, [1.0, 1.0, 1.0, math.exp(-1.0)], rtol=1e-12)


def test_spillover_proximity_hand_values() -> None:
    np.testing.assert_allclose(dy.spillover_proximity(np.array([0.0, 2500.0]), 2500.0), [1.0, math.exp(-1.0)])


# ----------------------------------------------------------------------------------------------
# Alignment relations
# ----------------------------------------------------------------------------------------------


def test_affinity_is_one_at_equal_alignment_and_zero_between_poles() -> None:
    x = np.array([-1.0, -0.3, 0.0, 0.7, 1.0])
    np.testing.assert_allclose(dy.affinity(x, x, 8.0), 1.0)
    assert dy.affinity(-1.0, 1.0, 8.0) == 0.0
    assert dy.affinity(1.0, -1.0, 1.0) == 0.0
    # (1 - |0 - 1| / 2) ** 2 = 0.25
    assert dy.affinity(0.0, 1.0, 2.0) == pytest.approx(0.25)


def test_affinity_falls_with_distance_and_with_power() -> None:
    x = np.linspace(-1.0, 1.0, 21)
    aff = dy.affinity(-1.0, x, 3.0)
    assert np.all(np.diff(aff) < 0)
    assert dy.affinity(0.0, 0.5, 8.0) < dy.affinity(0.0, 0.5, 2.0)


def test_alignment_distance_hand_values() -> None:
    np.testing.assert_allclose(dy.alignment_distance(np.array([-1.0, 0.2, 0.5]), 1.0), [1.0, 0.4, 0.25])


def test_exposure_diagonal_is_one_and_off_diagonal_follows_eq3() -> None:
    rng = np.random.default_rng(301)
    n = 5
    neighbourhood = rng.uniform(0, 1, (n, n))
    aff = rng.uniform(0, 1, (n, n))
    threat = rng.uniform(0, 1, (n, n))
    is_self = np.eye(n, dtype=bool)
    s = dy.exposure(neighbourhood, aff, threat, is_self, 0.35, 0.4)
    np.testing.assert_array_equal(np.diag(s), 1.0)
    expected = np.minimum(1.0, 0.35 * neighbourhood * (1 - threat) + 0.4 * aff)
    off = ~is_self
    np.testing.assert_allclose(s[off], expected[off], rtol=1e-12)
    assert np.all((s >= 0) & (s <= 1))


def test_exposure_hand_value_and_cap_at_one() -> None:
    is_self = np.array([[False]])
    s = dy.exposure(np.array([[math.exp(-1)]]), np.array([[0.5]]), np.array([[0.2]]), is_self, 0.35, 0.4)
    assert s[0, 0] == pytest.approx(0.35 * math.exp(-1) * 0.8 + 0.2)
    capped = dy.exposure(np.array([[1.0]]), np.array([[1.0]]), np.array([[0.0]]), is_self, 1.0, 1.0)
    assert capped[0, 0] == 1.0
    # a neighbour that is itself a full threat carries no neighbourhood spill-over
    threatening = dy.exposure(np.array([[1.0]]), np.array([[0.0]]), np.array([[1.0]]), is_self, 1.0, 0.4)
    assert threatening[0, 0] == 0.0


# ----------------------------------------------------------------------------------------------
# Actions
# ----------------------------------------------------------------------------------------------


def test_lognormal_factor_is_one_without_noise_and_has_mean_one() -> None:
    np.testing.assert_array_equal(dy.lognormal_factor(np.array([-2.0, 0.0, 3.0]), 0.0), 1.0)
    assert dy.lognormal_factor(0.0, 0.5) == pytest.approx(math.exp(-0.125))
    eps = np.random.default_rng(302).standard_normal(400_000)
    assert dy.lognormal_factor(eps, 0.3).mean() == pytest.approx(1.0, abs=0.005)


def test_coercion_policy_multiplier_responds_only_to_drift_toward_the_us() -> None:
    x = np.array([0.2, 0.5, 0.1])
    x0 = np.array([0.5, 0.5, 0.0])
    np.testing.assert_allclose(dy.coercion_policy_multiplier(x, x0, 1.5), [1.0, 1.0, 1.15])
    np.testing.assert_array_equal(dy.coercion_policy_multiplier(x, x0, 0.0), 1.0)


def test_stance_action_threshold() -> None:
    stance = np.array([0.0, 0.3, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(dy.stance_action(stance, 0.5), [0.0, 0.0, 0.0, 0.5, 1.0])
    np.testing.assert_allclose(dy.stance_action(stance, 0.0), stance)
    acts = dy.stance_action(np.random.default_rng(303).uniform(0, 1, 1000), 0.4)
    assert np.all((acts >= 0) & (acts <= 1))


def test_engagement_intensity_hand_value() -> None:
    assert dy.engagement_intensity(0.5, np.array(0.4), np.array(0.25)) == pytest.approx(0.5 * 0.4 * 0.75)
    assert dy.engagement_intensity(0.5, np.array(0.4), np.array(1.0)) == 0.0


def test_basing_acceptance_half_at_threshold_and_none_for_china_aligned_hosts() -> None:
    assert dy.basing_acceptance(0.3, 0.8, 0.3, 0.1) == pytest.approx(0.4)
    np.testing.assert_array_equal(dy.basing_acceptance(np.array([0.0, 5.0]), np.array([-0.5, 0.0]), 0.3, 0.1), 0.0)
    high = dy.basing_acceptance(5.0, 1.0, 0.3, 0.1)
    assert 0.99 < high <= 1.0


def test_smoothed_growth_is_at_rest_under_its_own_growth_rate() -> None:
    g = 4 * math.log(1.02)  # the share grows 2% a quarter, as an annual log rate
    assert dy.smoothed_growth(g, 1.02, 1.0) == pytest.approx(g, rel=1e-12)
    # hand value: g' = g + (4 ln(s/s_prev) - g) / 4
    assert dy.smoothed_growth(0.0, 1.1, 1.0) == pytest.approx(math.log(1.1))


def test_buildup_intensity_counts_only_growth_above_normal() -> None:
    np.testing.assert_allclose(dy.buildup_intensity(np.array([0.01, 0.03, 0.1]), 0.03), [0.0, 0.0, 0.07])


# ----------------------------------------------------------------------------------------------
# Perception
# ----------------------------------------------------------------------------------------------


def test_targeted_evidence_hand_example() -> None:
    # E_ij = sum_m S_im H_jm
    exposure = np.array([[1.0, 0.5, 0.0], [0.2, 1.0, 0.1], [0.0, 0.0, 1.0]])
    hostile = np.array([[0.0, 2.0, 1.0], [0.0, 0.0, 0.0], [3.0, 0.0, 0.0]])
    e = dy.targeted_evidence(exposure, hostile)
    expected = np.array([[sum(exposure[i, m] * hostile[j, m] for m in range(3)) for j in range(3)] for i in range(3)])
    np.testing.assert_allclose(e, expected)
    assert e[0, 0] == pytest.approx(0.5 * 2.0 + 0.0 * 1.0)  # i=0 sees j=0 hit 1 (half exposure) and 2 (none)
    # one observer's row gives that row of the matrix
    np.testing.assert_allclose(dy.targeted_evidence(exposure[1], hostile), e[1])


def test_bloc_attribution_hand_example() -> None:
    # E^b_ij = sigma_b sum_k E^war_ik aff_kj: war evidence about belligerent k, read as evidence about k's partners
    war_evidence = np.array([[0.0, 1.0, 2.0]])  # observer 0 sees wars by actors 1 and 2
    partners = np.array([[0.0, 0.5, 0.0], [0.5, 0.0, 0.25], [0.0, 0.25, 0.0]])
    out = dy.bloc_attribution(war_evidence, partners, 0.2)
    np.testing.assert_allclose(out, [[0.2 * 0.5, 0.2 * 2.0 * 0.25, 0.2 * 1.0 * 0.25]])
    np.testing.assert_array_equal(dy.bloc_attribution(war_evidence, partners, 0.0), 0.0)
    np.testing.assert_array_equal(dy.bloc_attribution(np.zeros((1, 3)), partners, 0.2), 0.0)  # no war, no effect


def test_update_intent_hand_value() -> None:
    # relaxed = 0.5 * 0.9 = 0.45, a = 1 - exp(-ln 2) = 0.5: 0.45 + 0.55 * 0.5
    out = dy.update_intent(np.array(0.5), np.array(1.0), np.array(0.0), 0.1, math.log(2.0), 0.6)
    assert out == pytest.approx(0.725)
    # reassurance that halves what is left: exp(-eta_r G) = 1/2
    out = dy.update_intent(np.array(0.5), np.array(0.0), np.array(math.log(2.0) / 0.6), 0.1, 0.5, 0.6)
    assert out == pytest.approx(0.5 * 0.9 * 0.5)


def test_update_intent_without_evidence_decays_geometrically() -> None:
    intent0 = np.array([0.0, 0.2, 0.9, 1.0])
    delta = 0.08
    intent = intent0.copy()
    zeros = np.zeros_like(intent0)
    for t in range(1, 41):
        intent = dy.update_intent(intent, zeros, zeros, delta, 0.5, 0.6)
        np.testing.assert_allclose(intent, intent0 * (1 - delta) ** t, rtol=1e-12)


@pytest.mark.parametrize(("evidence", "delta", "gain"), [(0.7, 0.08, 0.5), (0.05, 0.2, 2.0), (3.0, 0.01, 0.1)])
def test_update_intent_converges_to_closed_form_under_constant_evidence(
    evidence: float, delta: float, gain: float
) -> None:
    a = 1 - math.exp(-gain * evidence)
    fixed_point = a / (1 - (1 - delta) * (1 - a))
    intent = np.array([0.0, 1.0])
    for _ in range(3000):
        intent = dy.update_intent(intent, np.array(evidence), np.array(0.0), delta, gain, 0.6)
    np.testing.assert_allclose(intent, fixed_point, rtol=1e-10)
    # and the closed form is an exact rest point
    rest = dy.update_intent(np.array(fixed_point), np.array(evidence), np.array(0.0), delta, gain, 0.6)
    assert rest == pytest.approx(fixed_point, rel=1e-14)


def test_update_intent_stays_in_unit_interval_for_random_non_negative_inputs() -> None:
    rng = np.random.default_rng(304)
    n = 20_000
    intent = rng.uniform(0, 1, n)
    evidence = rng.exponential(5.0, n) * (rng.uniform(size=n) < 0.8)
    reassurance = rng.exponential(2.0, n) * (rng.uniform(size=n) < 0.5)
    for delta, gain, r_gain in [(0.0, 0.0, 0.0), (1.0, 100.0, 100.0), (0.08, 0.5, 0.6), (0.5, 10.0, 0.0)]:
        out = dy.update_intent(intent, evidence, reassurance, delta, gain, r_gain)
        assert np.all((out >= 0) & (out <= 1)), (delta, gain, r_gain)


def test_update_intent_rises_with_evidence_and_falls_with_reassurance() -> None:
    e = np.linspace(0, 5, 50)
    up = dy.update_intent(np.full(50, 0.3), e, np.zeros(50), 0.08, 0.5, 0.6)
    assert np.all(np.diff(up) > 0)
    g = np.linspace(0, 5, 50)
    down = dy.update_intent(np.full(50, 0.3), np.zeros(50), g, 0.08, 0.5, 0.6)
    assert np.all(np.diff(down) < 0)


def test_relative_power_closed_form() -> None:
    assert dy.relative_power(10.0, 10.0, 1.0) == pytest.approx(0.5)
    assert dy.relative_power(10.0, 10.0, 3.0) == pytest.approx(30.0 / 40.0)  # nuclear, omega = 2
    assert dy.relative_power(10.0, 0.0, 1.0) == 0.0
    assert dy.relative_power(0.0, 5.0, 1.0) == 1.0
    rng = np.random.default_rng(305)
    ki, kj, o = rng.uniform(0.1, 100, 1000), rng.uniform(0.1, 100, 1000), rng.uniform(1, 3, 1000)
    np.testing.assert_allclose(dy.relative_power(ki, kj, o), o * kj / (ki + o * kj), rtol=1e-14)


def test_threat_is_zero_without_intent_power_or_proximity() -> None:
    assert dy.threat(np.array(0.0), np.array(0.9), np.array(1.0), 3.0) == 0.0
    assert dy.threat(np.array(0.9), np.array(0.0), np.array(1.0), 3.0) == 0.0
    assert dy.threat(np.array(0.9), np.array(0.9), np.array(0.0), 3.0) == 0.0
    assert dy.threat(np.array(0.5), np.array(0.4), np.array(1.0), 3.0) == pytest.approx(1 - math.exp(-0.6))


def test_threat_is_monotone_in_each_source_and_below_one() -> None:
    grid = np.linspace(0.0, 1.0, 41)
    others = np.array([0.3, 0.6, 0.9])
    for a in others:
        for b in others:
            for varying in range(3):
                args = [np.full_like(grid, a), np.full_like(grid, b)]
                args.insert(varying, grid)
                t = dy.threat(args[0], args[1], args[2], 3.0)
                assert np.all(np.diff(t) > 0)
                assert np.all((t >= 0) & (t < 1))


def test_bloc_threats_on_a_three_actor_hand_example() -> None:
    x = np.array([-1.0, 1.0, 0.0])  # China pole, US pole, a hedger
    t = np.array([[0.0, 0.2, 0.4], [0.3, 0.0, 0.1], [0.5, 0.6, 0.0]])
    china, us = dy.bloc_threats(t, x)
    # (1 - x)/2 = [1, 0, 0.5] and (1 + x)/2 = [0, 1, 0.5]
    np.testing.assert_allclose(china, [0.4 * 0.5, 0.3 + 0.1 * 0.5, 0.5])
    np.testing.assert_allclose(us, [0.2 + 0.4 * 0.5, 0.1 * 0.5, 0.6])
    np.testing.assert_allclose(china + us, t.sum(axis=1))


# ----------------------------------------------------------------------------------------------
# Responses
# ----------------------------------------------------------------------------------------------


def test_logistic_hand_values_and_symmetry() -> None:
    assert dy.logistic(0.0) == 0.5
    z = np.linspace(-8, 8, 33)
    np.testing.assert_allclose(dy.logistic(z) + dy.logistic(-z), 1.0, rtol=1e-14)
    assert dy.logistic(math.log(3.0)) == pytest.approx(0.75)


def test_vulnerability_hand_value() -> None:
    # prox K_C / (K_C + K_i + L K_U) = 0.5 * 100 / (100 + 50 + 0.5 * 300)
    assert dy.vulnerability(0.5, 50.0, 100.0, 0.5, 300.0) == pytest.approx(50.0 / 300.0)
    # more lock-in with the US, less vulnerable
    assert dy.vulnerability(0.5, 50.0, 100.0, 1.0, 300.0) < dy.vulnerability(0.5, 50.0, 100.0, 0.0, 300.0)


def test_bandwagon_weight_is_half_at_threshold_and_monotone() -> None:
    assert dy.bandwagon_weight(0.55, 0.55, 0.05) == 0.5
    v = np.linspace(0, 1, 21)
    assert np.all(np.diff(dy.bandwagon_weight(v, 0.55, 0.05)) > 0)


def test_derisked_pull_hand_values() -> None:
    assert dy.derisked_pull(0.3, 0.0, 0.5) == pytest.approx(0.3)
    assert dy.derisked_pull(0.3, 1.0, 0.5) == pytest.approx(0.15)  # full de-risking halves China's pull
    assert dy.derisked_pull(0.3, 0.4, 1.0) == pytest.approx(0.3 * 0.6)


def test_economic_alignment_target_closed_forms() -> None:
    # (U - C) / (U + C): only China -1, only the US +1, equal pulls 0, no trade 0 (not NaN).
    got = dy.economic_alignment_target(np.array([0.0, 0.2, 0.1, 0.0, 0.1]), np.array([0.3, 0.0, 0.1, 0.0, 0.3]))
    np.testing.assert_allclose(got, [-1.0, 1.0, 0.0, 0.0, (0.1 - 0.3) / 0.4])
    # Scaling both pulls (both poles' economies growing alike) leaves it unchanged.
    assert dy.economic_alignment_target(0.2, 0.5) == pytest.approx(dy.economic_alignment_target(0.6, 1.5))


def test_overall_alignment_is_the_weighted_mix() -> None:
    assert dy.overall_alignment(0.6, -0.2, 0.0) == pytest.approx(0.6)  # omega = 0: security alone
    assert dy.overall_alignment(0.6, -0.2, 0.25) == pytest.approx(0.75 * 0.6 + 0.25 * -0.2)
    # Per-run weights (R, 1) broadcast over actors (R, n), as in a batch of parameter points.
    mixed = dy.overall_alignment(np.array([[1.0, -1.0]] * 2), np.array([[-1.0, 1.0]] * 2), np.array([[0.0], [0.5]]))
    np.testing.assert_allclose(mixed, [[1.0, -1.0], [0.0, 0.0]])


def test_alignment_drive_adds_the_shared_pulls_to_the_strategic_drive() -> None:
    assert dy.alignment_drive(0.45, 0.0, 0.0, 0.0, 2.0, 0.5, 4.0) == pytest.approx(0.45)
    full = dy.alignment_drive(0.0, 0.2, 0.6, 0.3, 2.0, 0.5, 4.0)
    assert full == pytest.approx(2.0 * 0.2 + 0.5 * 0.6 + 4.0 * 0.3)


def test_update_alignment_moves_toward_tanh_target() -> None:
    out = dy.update_alignment(0.0, 0.5, 0.0, 0.0, 0.1, 0.7)
    assert out == pytest.approx(0.1 * math.tanh(0.5))
    assert dy.update_alignment(0.2, 0.3, 0.4, 0.0, 1.0, 0.7) == pytest.approx(math.tanh(0.7))
    rng = np.random.default_rng(306)
    x = rng.uniform(-1, 1, 2000)
    mu, drive, lock = rng.normal(0, 1, 2000), rng.normal(0, 1, 2000), rng.uniform(0, 1, 2000)
    target = np.tanh(mu + drive)
    new = dy.update_alignment(x, mu, drive, lock, 0.06, 0.7)
    assert np.all(np.abs(new - target) <= np.abs(x - target) + 1e-15)
    assert np.all(np.sign(new - x) == np.sign(target - x))
    assert np.all((new >= -1) & (new <= 1))


def test_update_alignment_does_not_move_without_rate_or_under_full_lockin() -> None:
    rng = np.random.default_rng(307)
    x, mu, drive = rng.uniform(-1, 1, 100), rng.normal(0, 1, 100), rng.normal(0, 1, 100)
    np.testing.assert_array_equal(dy.update_alignment(x, mu, drive, rng.uniform(0, 1, 100), 0.0, 0.7), x)
    np.testing.assert_array_equal(dy.update_alignment(x, mu, drive, np.ones(100), 0.5, 1.0), x)
    # lock-in slows the move in proportion: (1 - phi L)
    free = dy.update_alignment(x, mu, drive, np.zeros(100), 0.5, 0.7) - x
    locked = dy.update_alignment(x, mu, drive, np.full(100, 0.5), 0.5, 0.7) - x
    np.testing.assert_allclose(locked, (1 - 0.35) * free, rtol=1e-12, atol=1e-15)


def test_us_pressure_term_hand_values() -> None:
    assert dy.us_pressure_term(1.0, 0.3, 0.6, 1.0, 2.0) == pytest.approx(0.3 * 0.6 * 1.0)
    assert dy.us_pressure_term(1.0, 0.3, 0.6, 2.5, 2.0) == 0.0  # above the target: no pressure
    assert dy.us_pressure_term(0.0, 0.3, 0.6, 1.0, 2.0) == 0.0


def test_rival_weights_count_a_rival_by_its_share_of_the_pairs_income() -> None:
    threat = np.array([[0.0, 0.5], [0.2, 0.0]])
    w = dy.rival_weights(threat, np.array([100.0, 300.0]), np.array([100.0, 300.0]))
    np.testing.assert_allclose(w, [[0.0, 0.5 * 300 / 400], [0.2 * 100 / 400, 0.0]])


def test_spending_target_and_grievance_anchor_are_inverse() -> None:
    rng = np.random.default_rng(308)
    spending, rivals, pressure, trend = (rng.uniform(0, 3, 2000) for _ in range(4))
    g = dy.grievance_anchor(spending, rivals, pressure, trend, 0.7, 0.3)
    np.testing.assert_allclose(dy.spending_target(g, rivals, pressure, trend, 0.7, 0.3), spending, rtol=1e-12)
    assert dy.spending_target(1.0, 2.0, 0.1, 0.5, 0.5, 0.2) == pytest.approx(1.0 + 1.0 + 0.1 + 0.1)


def test_bounded_target_keeps_floor_ceiling_and_fiscal_bound() -> None:
    out = dy.bounded_target(np.array([-5.0, 0.5, 3.0, 80.0]), np.array([np.inf, np.inf, 1.0, np.inf]), 0.1, 30.0)
    np.testing.assert_allclose(out, [0.1, 0.5, 1.0, 30.0])


def test_update_spending_closes_share_of_gap() -> None:
    assert dy.update_spending(1.0, 3.0, 0.05) == pytest.approx(1.1)
    assert dy.update_spending(2.0, 1.0, 0.1) == pytest.approx(1.9)


def richardson_pair(k: float, l_: float, g: tuple[float, float], bound: float, quarters: int) -> np.ndarray:
    """Two actors under constant threat: reaction weights k (1 to 2) and l (2 to 1), fatigue rho."""
    rho = 0.1
    s = np.array([1.0, 1.0])
    weights = np.array([[0.0, k], [l_, 0.0]])
    for _ in range(quarters):
        rivals = weights @ s
        target = dy.bounded_target(dy.spending_target(np.asarray(g), rivals, 0.0, 0.0, 1.0, 0.0), np.inf, 0.01, bound)
        s = dy.update_spending(s, target, rho)
    return s


def test_two_actor_richardson_settles_at_its_equilibrium_when_k_l_below_a_b() -> None:
    # ds1 = rho (g1 + k s2 - s1), ds2 = rho (g2 + l s1 - s2): Richardson with a = b = rho and
    # reactions rho k, rho l; stable iff (rho k)(rho l) < rho^2, i.e. k l < 1, at
    # s1 = (g1 + k g2) / (1 - k l), s2 = (g2 + l g1) / (1 - k l) (Richardson 1960).
    k, l_, g = 0.6, 0.8, (0.5, 0.3)
    s = richardson_pair(k, l_, g, bound=30.0, quarters=2000)
    expected = np.array([g[0] + k * g[1], g[1] + l_ * g[0]]) / (1.0 - k * l_)
    np.testing.assert_allclose(s, expected, rtol=1e-10)


def test_two_actor_richardson_runs_to_its_fiscal_bound_when_k_l_above_a_b() -> None:
    s = richardson_pair(1.2, 1.1, (0.5, 0.3), bound=30.0, quarters=2000)
    np.testing.assert_allclose(s, [30.0, 30.0], rtol=1e-9)
    assert np.all(np.isfinite(richardson_pair(20.0, 20.0, (5.0, 5.0), bound=30.0, quarters=5000)))


def test_review_steps_the_ceiling_after_sustained_excess_demand_only() -> None:
    clock, ceiling = np.zeros(2), np.array([1.0, 1.0])
    demand = np.array([1.5, 1.05])  # the second is within the 10% margin: never reviewed
    for quarter in range(1, 9):
        clock = dy.review_clock(clock, demand, ceiling, 0.1)
        ceiling, clock = dy.review_ceiling(ceiling, clock, demand, 8.0, 30.0)
        if quarter < 8:
            np.testing.assert_array_equal(ceiling, [1.0, 1.0])
    np.testing.assert_allclose(ceiling, [1.5, 1.0])  # one step, to the demand, in quarter 8
    np.testing.assert_array_equal(clock, [0.0, 0.0])
    interrupted = dy.review_clock(np.array([5.0]), np.array([0.9]), np.array([1.0]), 0.1)
    np.testing.assert_array_equal(interrupted, [0.0])
    no_ceiling = dy.review_clock(np.zeros(1), np.array([50.0]), np.array([np.inf]), 0.1)
    np.testing.assert_array_equal(no_ceiling, [0.0])


def test_hostile_reading_is_zero_between_identical_alignments_and_one_between_poles() -> None:
    np.testing.assert_allclose(dy.hostile_reading(np.array([0.0, 0.25, 1.0]), 2.0, 0.0, 0.8), [0.0, 0.0625, 1.0])
    # committed partners discount a share gamma more, whatever their distance; gamma = 1: nothing is hostile
    committed = np.array([1.0, 0.0])
    np.testing.assert_allclose(dy.hostile_reading(np.array([0.5, 1.0]), 2.0, committed, 0.8), [0.05, 1.0])
    np.testing.assert_allclose(dy.hostile_reading(np.array([0.5, 1.0]), 2.0, committed, 1.0), [0.0, 1.0])


def test_update_capability_steady_state_closed_form() -> None:
    for expenditure, d in [(40.0, 0.1), (1000.0, 0.05), (0.5, 0.5)]:
        steady = (expenditure / 4) / (1 - (1 - d) ** 0.25)
        assert dy.update_capability(steady, expenditure, d) == pytest.approx(steady, rel=1e-13)
        k = np.array(0.0)
        for _ in range(4000):
            k = dy.update_capability(k, expenditure, d)
        assert k == pytest.approx(steady, rel=1e-9)
    # a year of quarters without spending depreciates the stock by delta_K
    k = np.array(100.0)
    for _ in range(4):
        k = dy.update_capability(k, 0.0, 0.1)
    assert k == pytest.approx(90.0)


def test_update_lockin_relaxes_geometrically_toward_start_without_excess_basing() -> None:
    lock0, start, decay = np.array([0.9, 0.1, 0.4]), np.array([0.4, 0.4, 0.4]), 0.05
    lock = lock0.copy()
    for t in range(1, 30):
        lock = dy.update_lockin(lock, np.array(0.3), np.array(0.5), start, 0.05, decay)  # basing below start
        np.testing.assert_allclose(lock - start, (lock0 - start) * (1 - decay) ** t, atol=1e-14)


def test_update_lockin_builds_with_excess_basing_and_stays_in_unit_interval() -> None:
    # L + (1 - L)(1 - exp(-rho excess)) with excess 1, rho 0.1, L = L_0 = 0.5
    assert dy.update_lockin(0.5, 1.5, 0.5, 0.5, 0.1, 0.005) == pytest.approx(0.5 + 0.5 * (1 - np.exp(-0.1)))
    rng = np.random.default_rng(310)
    n = 20_000
    start = rng.uniform(0, 1, n)
    lock = start + rng.uniform(0, 1, n) * (1 - start)  # reachable states: L >= L_0 (the update keeps it so)
    basing, basing_start = rng.uniform(0, 50, n), rng.uniform(0, 2, n)
    for build, decay in [(0.05, 0.005), (1.0, 0.0), (0.3, 0.4), (0.0, 1.0), (1.0, 1.0)]:
        # any allowed rate and any excess: the saturating build keeps lock-in in [L_0, 1]
        out = dy.update_lockin(lock, basing, basing_start, start, build, decay)
        assert np.all(out >= start - 1e-15), (build, decay)
        assert np.all((out >= 0) & (out <= 1)), (build, decay)


def test_stance_targets_hand_values_and_directions() -> None:
    zero = np.zeros((1, 2))
    crit, resist, deny, trust = (-3.0, 4.0, 0.5), (-1.5, 3.0, 1.0, 1.0), (-3.0, 3.0, 2.0), (-1.0, 4.0, 2.0, 1.0)
    c, r, d, t = dy.stance_targets(
        zero, zero, zero, 0.0, 0.0, 0.0, zero, crit=crit, resist=resist, deny=deny, trust=trust, trend_gain=0.5
    )
    np.testing.assert_allclose(c, dy.logistic(-3.0))
    np.testing.assert_allclose(r, dy.logistic(-1.5))
    np.testing.assert_allclose(d, dy.logistic(-3.0))
    np.testing.assert_allclose(t, dy.logistic(-1.0 + 2.0))  # zero distance: full closeness
    threat = np.linspace(0, 1, 11)[None, :]
    flat = np.zeros_like(threat)
    c, r, d, t = dy.stance_targets(
        threat, flat, flat, 0.0, 0.0, 0.0, flat, crit=crit, resist=resist, deny=deny, trust=trust, trend_gain=0.5
    )
    for rising in (c, r, d):
        assert np.all(np.diff(rising) > 0)
    assert np.all(np.diff(t) < 0)
    # Japan's domestic trend shifts W1, W3 and W5 logits, not trust
    stances = {"crit": crit, "resist": resist, "deny": deny, "trust": trust, "trend_gain": 0.5}
    c2, r2, d2, t2 = dy.stance_targets(zero, zero, zero, 0.0, 0.0, np.array([[1.0]]), zero, **stances)
    np.testing.assert_allclose(c2, dy.logistic(-2.5))
    np.testing.assert_allclose(r2, dy.logistic(-1.0))
    np.testing.assert_allclose(d2, dy.logistic(-2.5))
    np.testing.assert_allclose(t2, dy.logistic(1.0))


def test_partial_adjustment_hand_values_and_bounds() -> None:
    assert dy.partial_adjustment(0.2, 0.6, 0.25) == pytest.approx(0.3)
    rng = np.random.default_rng(311)
    v, g = rng.uniform(0, 1, 1000), rng.uniform(0, 1, 1000)
    out = dy.partial_adjustment(v, g, 0.3)
    assert np.all((out >= 0) & (out <= 1))
    np.testing.assert_array_equal(dy.partial_adjustment(v, g, 0.0), v)
    np.testing.assert_allclose(dy.partial_adjustment(v, g, 1.0), g)


# ----------------------------------------------------------------------------------------------
# Batch-agnostic: a (R, N, N) stack gives what each (N, N) slice gives
# ----------------------------------------------------------------------------------------------

R, N = 4, 6


def _stack(rng: np.random.Generator, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    return rng.uniform(low, high, (R, N, N))


def _assert_sliced(batched: np.ndarray, per_slice: list[np.ndarray]) -> None:
    np.testing.assert_allclose(batched, np.stack(per_slice), rtol=1e-13, atol=1e-15)


def test_batch_agnostic_threat_power_intent() -> None:
    rng = np.random.default_rng(312)
    intent, power, prox = _stack(rng), _stack(rng), _stack(rng)
    _assert_sliced(
        dy.threat(intent, power, prox, 3.0), [dy.threat(intent[r], power[r], prox[r], 3.0) for r in range(R)]
    )
    ki, kj, off = rng.uniform(1, 9, (R, N, 1)), rng.uniform(1, 9, (R, 1, N)), rng.uniform(1, 3, N)
    _assert_sliced(dy.relative_power(ki, kj, off), [dy.relative_power(ki[r], kj[r], off) for r in range(R)])
    ev, re = _stack(rng, 0, 3), _stack(rng, 0, 1)
    _assert_sliced(
        dy.update_intent(intent, ev, re, 0.08, 0.5, 0.6),
        [dy.update_intent(intent[r], ev[r], re[r], 0.08, 0.5, 0.6) for r in range(R)],
    )


def test_batch_agnostic_bloc_threats_and_evidence() -> None:
    rng = np.random.default_rng(313)
    t, x = _stack(rng), rng.uniform(-1, 1, (R, 1, N))
    china, us = dy.bloc_threats(t, x)
    slices = [dy.bloc_threats(t[r], x[r]) for r in range(R)]
    _assert_sliced(china, [s[0] for s in slices])
    _assert_sliced(us, [s[1] for s in slices])
    s, h = _stack(rng), _stack(rng, 0, 2)
    _assert_sliced(dy.targeted_evidence(s, h), [dy.targeted_evidence(s[r], h[r]) for r in range(R)])
    e, aff = _stack(rng), _stack(rng)
    _assert_sliced(dy.bloc_attribution(e, aff, 0.2), [dy.bloc_attribution(e[r], aff[r], 0.2) for r in range(R)])


def test_batch_agnostic_exposure_affinity_and_stances() -> None:
    rng = np.random.default_rng(314)
    neigh, aff, thr = _stack(rng), _stack(rng), _stack(rng)
    is_self = np.eye(N, dtype=bool)
    _assert_sliced(
        dy.exposure(neigh, aff, thr, is_self, 0.35, 0.4),
        [dy.exposure(neigh[r], aff[r], thr[r], is_self, 0.35, 0.4) for r in range(R)],
    )
    xi, xj = rng.uniform(-1, 1, (R, N, 1)), rng.uniform(-1, 1, (R, 1, N))
    _assert_sliced(dy.affinity(xi, xj, 8.0), [dy.affinity(xi[r], xj[r], 8.0) for r in range(R)])
    dist, disp, eng = _stack(rng), _stack(rng), _stack(rng)
    pressure, trend = _stack(rng), rng.uniform(0, 1, (R, N, 1))
    kwargs = {
        "crit": (-3.0, 4.0, 0.5),
        "resist": (-1.5, 3.0, 1.0, 1.0),
        "deny": (-3.0, 3.0, 2.0),
        "trust": (-1.0, 4.0, 2.0, 1.0),
        "trend_gain": 0.5,
    }
    batched = dy.stance_targets(thr, dist, disp, 1.0, pressure, trend, eng, **kwargs)
    slices = [
        dy.stance_targets(thr[r], dist[r], disp[r], 1.0, pressure[r], trend[r], eng[r], **kwargs) for r in range(R)
    ]
    for k in range(4):
        _assert_sliced(batched[k], [s[k] for s in slices])


def test_dispute_stake_weights_bystanders_and_claimants() -> None:
    np.testing.assert_allclose(dy.dispute_stake(np.array([0.0, 0.5, 1.0]), 0.3), [0.3, 0.65, 1.0])


def test_base_effort_share_falls_with_income_below_unit_elasticity() -> None:
    # s0 (Y/Y0)^(eta-1): start share at Y = Y0, constant at eta = 1, halved at eta = 0 when Y doubles.
    assert dy.base_effort(1.5, 1.0, 0.3) == pytest.approx(1.5)
    assert dy.base_effort(1.5, 2.0, 1.0) == pytest.approx(1.5)
    assert dy.base_effort(1.5, 2.0, 0.0) == pytest.approx(0.75)
    assert dy.base_effort(1.0, 1.21, 0.5) == pytest.approx(1.0 / 1.1)
    # real base expenditure s Y grows at elasticity eta: doubling Y multiplies it by 2^eta
    assert dy.base_effort(2.0, 2.0, 0.6) * 2.0 == pytest.approx(2.0 * 2.0**0.6)


def test_leadership_access_closes_and_opens_basing() -> None:
    np.testing.assert_allclose(dy.leadership_access(np.array([0.0, -1.0, -2.0, 0.5])), [1.0, 0.0, 0.0, 1.5])


def test_camp_threat_is_one_minus_the_product_over_partners() -> None:
    """Eq. 25a by hand: ``1 - prod_k (1 - T_ik aff_kj)``, for a batch of runs and a subset of targets."""
    rng = np.random.default_rng(3)
    threat, affinity = rng.random((2, 3, 4)), rng.random((2, 4, 4))
    poles = [0, 2]
    camp = dy.camp_threat(threat, affinity[..., :, poles])
    assert camp.shape == (2, 3, 2)
    for r in range(2):
        for i in range(3):
            for c, j in enumerate(poles):
                spared = math.prod(1.0 - threat[r, i, k] * affinity[r, k, j] for k in range(4))
                assert camp[r, i, c] == pytest.approx(1.0 - spared, abs=1e-15)
    # no partners (affinity only with oneself): the camp's threat is the target's own
    np.testing.assert_allclose(
        dy.camp_threat(threat, np.broadcast_to(np.eye(4), (2, 4, 4))), threat, rtol=0, atol=1e-15
    )
    # and the China side of eq. 10 alone is that of bloc_threats
    x = rng.uniform(-1.0, 1.0, (2, 1, 4))
    np.testing.assert_array_equal(dy.china_bloc_threat(threat, x), dy.bloc_threats(threat, x)[0])
