"""Attribution of a change to players (drivers): exact Shapley, Owen group values, sampled orders.

Pure numpy functions over a table of coalition values. A coalition is an integer mask over the
``k`` players: player ``j`` is on when bit ``k - 1 - j`` is set, so mask order is
``itertools.product((0, 1), repeat=k)`` order (the first player is the most significant bit).
``values`` has shape ``(..., 2**k)`` (any leading axes: runs, dimensions) for the exact methods.

- :func:`shapley` -- ``phi_j = sum_{S not containing j} |S|! (k - |S| - 1)! / k! [v(S + j) - v(S)]``
  (Shapley 1953); the values sum to ``v(all) - v(none)`` (efficiency).
- :func:`owen` -- Owen (1977) values for a partition of the players into groups (the drivers'
  owners): the average marginal contribution over the orders that keep each group together.
  A group's values sum to its Shapley value in the game between groups; with one group, or
  with every player alone, they are the Shapley values.
- :func:`sampled_orders` and :func:`sampled_values` -- beyond ``EXACT_MAX_PLAYERS`` players, the
  mean marginal contribution over random orders (group-respecting for Owen values), with its
  standard error (Castro, Gomez and Tejada 2009).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

EXACT_MAX_PLAYERS = 8  # 2^8 = 256 coalitions in one ensemble batch


def bit(j: int, k: int) -> int:
    """The mask bit of player ``j`` among ``k``."""
    return 1 << (k - 1 - j)


def mask_of(on: Sequence[int]) -> int:
    """The mask of an on/off vector (1 = on) in player order."""
    return int("".join(str(int(x)) for x in on) or "0", 2)


def members(mask: int, k: int) -> tuple[int, ...]:
    """The on/off vector of ``mask`` (the inverse of :func:`mask_of`)."""
    return tuple((mask >> (k - 1 - j)) & 1 for j in range(k))


def shapley(values: np.ndarray, k: int) -> np.ndarray:
    """Exact Shapley values, shape ``(..., k)``, from coalition values of shape ``(..., 2**k)``."""
    values = np.asarray(values, dtype=float)
    if values.shape[-1] != 2**k:
        raise ValueError(f"coalition values of shape {values.shape}; allowed: last axis 2**{k} = {2**k}")
    masks = np.arange(2**k)
    sizes = np.array([bin(m).count("1") for m in masks])
    weight = np.array([math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k) for s in range(k)])
    phi = np.empty((*values.shape[:-1], k))
    for j in range(k):
        b = bit(j, k)
        without = masks[(masks & b) == 0]
        phi[..., j] = (values[..., without | b] - values[..., without]) @ weight[sizes[without]]
    return phi


def owen(values: np.ndarray, k: int, groups: Sequence[Sequence[int]]) -> np.ndarray:
    """Exact Owen values, shape ``(..., k)``, for ``groups``, a partition of the players 0..k-1.

    ``phi_i = sum_{R subset of other groups} sum_{T subset of G(i) - i}
    r! (m - r - 1)! / m! * t! (g - t - 1)! / g! * [v(Q_R + T + i) - v(Q_R + T)]``, with ``m`` groups,
    ``g = |G(i)|`` and ``Q_R`` the union of the groups in ``R``.
    """
    values = np.asarray(values, dtype=float)
    check_partition(groups, k)
    m = len(groups)
    group_masks = [sum(bit(j, k) for j in g) for g in groups]
    phi = np.zeros((*values.shape[:-1], k))
    for gi, group in enumerate(groups):
        others = [group_masks[h] for h in range(m) if h != gi]
        g = len(group)
        for i in group:
            mates = [bit(j, k) for j in group if j != i]
            for r_pick in range(2 ** len(others)):
                q = sum(others[h] for h in range(len(others)) if r_pick >> h & 1)
                r = bin(r_pick).count("1")
                w_r = math.factorial(r) * math.factorial(m - r - 1) / math.factorial(m)
                for t_pick in range(2 ** len(mates)):
                    t_mask = sum(mates[h] for h in range(len(mates)) if t_pick >> h & 1)
                    t = bin(t_pick).count("1")
                    w_t = math.factorial(t) * math.factorial(g - t - 1) / math.factorial(g)
                    base = q | t_mask
                    phi[..., i] += w_r * w_t * (values[..., base | bit(i, k)] - values[..., base])
    return phi


def check_partition(groups: Sequence[Sequence[int]], k: int) -> None:
    """``groups`` must hold every player 0..k-1 exactly once."""
    flat = sorted(j for g in groups for j in g)
    if flat != list(range(k)) or any(len(g) == 0 for g in groups):
        raise ValueError(f"groups {list(map(list, groups))}; allowed: a partition of the players 0..{k - 1}")


def sampled_orders(
    k: int, n_orders: int, rng: np.random.Generator, groups: Sequence[Sequence[int]] | None = None
) -> np.ndarray:
    """``n_orders`` random orders of the players, shape (n_orders, k).

    With ``groups``, the orders keep each group together (a random order of the groups, then a
    random order within each group): their mean marginal contributions estimate Owen values.
    """
    if groups is None:
        return np.stack([rng.permutation(k) for _ in range(n_orders)])
    check_partition(groups, k)
    orders = []
    for _ in range(n_orders):
        order: list[int] = []
        for h in rng.permutation(len(groups)):
            order.extend(int(j) for j in rng.permutation(np.asarray(groups[h])))
        orders.append(order)
    return np.asarray(orders)


def order_masks(orders: np.ndarray) -> np.ndarray:
    """The masks of every prefix of every order, shape (n_orders, k + 1) (from none to all)."""
    n, k = orders.shape
    masks = np.zeros((n, k + 1), dtype=np.int64)
    for step in range(k):
        masks[:, step + 1] = masks[:, step] | (1 << (k - 1 - orders[:, step]))
    return masks


def sampled_values(values: dict[int, np.ndarray], orders: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean marginal contribution of each player over ``orders`` and its standard error.

    ``values[mask]`` has shape ``(...)`` (the same for every mask) and must hold every prefix mask
    of every order (:func:`order_masks`). Returns two arrays of shape ``(..., k)``.
    """
    n, k = orders.shape
    masks = order_masks(orders)
    first = np.asarray(next(iter(values.values())))
    contributions = np.empty((n, *first.shape, k))
    for row in range(n):
        for step in range(k):
            contributions[row, ..., orders[row, step]] = (
                values[int(masks[row, step + 1])] - values[int(masks[row, step])]
            )
    mean = contributions.mean(axis=0)
    error = contributions.std(axis=0, ddof=1) / math.sqrt(n) if n > 1 else np.full(mean.shape, np.inf)
    return mean, error
