"""Balance of power (Waltz 1979): lean against the side with more aggregate capability.

States respond to the distribution of capabilities, not to intentions: the rule reads the
others' capability stocks and alignments only, never perceived intent or threat.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim import dynamics
from sim.params import ModelParams

if TYPE_CHECKING:
    from sim.rules import Situation


def capability_balance(alignment: dynamics.Array, capability: dynamics.Array, rows: np.ndarray) -> dynamics.Array:
    """US side minus China side of the others' capability, as a share of it (eq. 19c).

    ``B_i = sum_{j != i} K_j x_j / sum_{j != i} K_j`` in [-1, 1]: each state counts toward the
    US side with ``(1 + x_j) / 2`` of its stock and toward China's with ``(1 - x_j) / 2``, and
    ``B_i`` is their difference over the total. ``alignment`` and ``capability`` are (R, N);
    the result is (R, n) for the actors ``rows``.
    """
    weighted = capability * alignment
    others_weighted = weighted.sum(axis=-1, keepdims=True) - weighted[:, rows]
    others_total = capability.sum(axis=-1, keepdims=True) - capability[:, rows]
    return np.asarray(others_weighted / others_total)


def drive(balance: dynamics.ArrayLike, gain: float) -> dynamics.Array:
    """Drive toward the weaker side (eq. 19c): ``-beta_P B_i`` (positive toward the US pole)."""
    return np.asarray(-gain * np.asarray(balance))


def strategic_drive(situation: Situation, params: ModelParams) -> np.ndarray:
    """The rule applied to the model's state: last turn's alignments and capability stocks."""
    snapshot = situation.snapshot
    balance = capability_balance(snapshot.alignment, snapshot.capability, situation.rows)
    return drive(balance, params.balance_of_power.gain)
