"""experiments/attribution.py: Shapley and Owen values on hand-worked games, axioms, sampled orders."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from experiments.attribution import (
    mask_of,
    members,
    order_masks,
    owen,
    sampled_orders,
    sampled_values,
    shapley,
)


def game(k: int, v: dict[tuple[int, ...], float]) -> np.ndarray:
    """Coalition values in mask order from a dict of on/off vectors (missing: 0)."""
    return np.array([v.get(members(m, k), 0.0) for m in range(2**k)])


# Glove game: player 0 holds a left glove, 1 and 2 right gloves; a pair is worth 1.
GLOVES = game(3, {(1, 1, 0): 1.0, (1, 0, 1): 1.0, (1, 1, 1): 1.0})


def test_masks_follow_itertools_product_order() -> None:
    for m, on in enumerate(itertools.product((0, 1), repeat=4)):
        assert mask_of(on) == m and members(m, 4) == on


def test_glove_game_by_hand() -> None:
    np.testing.assert_allclose(shapley(GLOVES, 3), [2 / 3, 1 / 6, 1 / 6])


def test_efficiency_symmetry_and_dummy_on_a_random_game() -> None:
    rng = np.random.default_rng(1)
    values = rng.normal(size=(4, 2**5))  # four runs
    values[:, 0] = 0.0
    phi = shapley(values, 5)
    np.testing.assert_allclose(phi.sum(axis=-1), values[:, -1] - values[:, 0])
    # make player 4 a dummy: v(S + 4) = v(S)
    dummy = values.copy()
    for m in range(2**5):
        if m & 1:
            dummy[:, m] = dummy[:, m & ~1]
    phi = shapley(dummy, 5)
    np.testing.assert_allclose(phi[:, 4], 0.0, atol=1e-12)
    # the other players' values are those of the game without the dummy
    np.testing.assert_allclose(phi[:, :4], shapley(dummy[:, ::2], 4))


def test_additive_game_gives_each_player_its_own_effect() -> None:
    effects = np.array([0.3, -0.1, 0.5])
    values = np.array([sum(e for e, on in zip(effects, members(m, 3), strict=True) if on) for m in range(8)])
    np.testing.assert_allclose(shapley(values, 3), effects)
    np.testing.assert_allclose(owen(values, 3, [[0, 1], [2]]), effects)


def test_owen_with_singletons_or_one_group_is_shapley() -> None:
    values = np.random.default_rng(2).normal(size=(3, 2**4))
    phi = shapley(values, 4)
    np.testing.assert_allclose(owen(values, 4, [[0], [1], [2], [3]]), phi)
    np.testing.assert_allclose(owen(values, 4, [[0, 1, 2, 3]]), phi)


def test_owen_group_sum_is_the_groups_shapley_value_in_the_quotient_game() -> None:
    values = np.random.default_rng(3).normal(size=2**4)
    groups = [[0, 1], [2], [3]]
    phi = owen(values, 4, groups)
    # quotient game: the three groups as players
    quotient = np.array([values[mask_of([a, a, b, c])] for a, b, c in itertools.product((0, 1), repeat=3)])
    group_phi = shapley(quotient, 3)
    np.testing.assert_allclose([phi[0] + phi[1], phi[2], phi[3]], group_phi)


def test_owen_glove_game_with_the_right_gloves_in_one_group() -> None:
    # groups {0} and {1, 2}: between groups the pair splits 1/2-1/2; inside {1, 2} symmetric
    np.testing.assert_allclose(owen(GLOVES, 3, [[0], [1, 2]]), [0.5, 0.25, 0.25])


def test_bad_partition_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"a partition of the players 0\.\.2"):
        owen(GLOVES, 3, [[0], [1]])


def test_all_orders_of_three_players_give_the_exact_values() -> None:
    orders = np.array(list(itertools.permutations(range(3))))
    values = {m: np.array(GLOVES[m]) for m in range(8)}
    mean, _ = sampled_values(values, orders)
    np.testing.assert_allclose(mean, shapley(GLOVES, 3))


def test_sampled_orders_estimate_within_their_error() -> None:
    rng = np.random.default_rng(4)
    values = rng.normal(size=2**6)
    exact = shapley(values, 6)
    orders = sampled_orders(6, 4000, np.random.default_rng(5))
    mean, error = sampled_values({m: np.array(values[m]) for m in range(2**6)}, orders)
    assert np.all(np.abs(mean - exact) < 4 * error)
    np.testing.assert_allclose(mean.sum(), values[-1] - values[0])  # every order is efficient


def test_group_respecting_orders_estimate_owen_values() -> None:
    values = np.random.default_rng(6).normal(size=2**5)
    groups = [[0, 2], [1], [3, 4]]
    orders = sampled_orders(5, 4000, np.random.default_rng(7), groups)
    for order in orders[:50]:  # groups stay together
        positions = {j: p for p, j in enumerate(order)}
        for g in groups:
            span = sorted(positions[j] for j in g)
            assert span[-1] - span[0] == len(g) - 1
    mean, error = sampled_values({m: np.array(values[m]) for m in range(2**5)}, orders)
    assert np.all(np.abs(mean - owen(values, 5, groups)) < 4 * error)


def test_order_masks_are_prefixes() -> None:
    masks = order_masks(np.array([[2, 0, 1]]))
    assert masks.tolist() == [[0, mask_of([0, 0, 1]), mask_of([1, 0, 1]), 7]]
