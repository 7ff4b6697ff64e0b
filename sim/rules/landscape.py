r"""Landscape theory of aggregation (Axelrod and Bennett 1993): states lower their frustration.

Actor i's frustration with alignment ``x`` is ``Phi_i(x) = sum_j z_j psi_ij d(x, x_j)`` with the
alignment distance ``d = |x - x_j| / 2`` in [0, 1] (Axelrod and Bennett's 0/1 distance between
coalitions, made continuous), sizes ``z_j`` (shares of capability or of GDP) and symmetric
propensities ``psi_ij`` (positive: i and j would rather be together). The energy of the system,
``E = sum_i z_i Phi_i``, is what aggregation lowers: a state's move that lowers its own
frustration lowers ``E`` by twice as much times its size, so the rest points of the rule are
local minima of ``E`` (tests/test_rules.py checks this by enumeration).

For the two-sided choice of this model the drive toward the US pole is the frustration
difference between the sides, ``Phi_i(-1) - Phi_i(+1) = sum_j z_j psi_ij x_j`` (for any ``x_j`` in
[-1, 1]), scaled by ``beta_A``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim import dynamics
from sim.params import ModelParams

if TYPE_CHECKING:
    from sim.rules import Situation


def sizes(mass: dynamics.Array) -> dynamics.Array:
    """Sizes ``z_j = m_j / sum_k m_k`` (eq. 19a): shares, so that growth of all alike changes nothing."""
    return np.asarray(mass / mass.sum(axis=-1, keepdims=True))


def shared_disputes(dispute: dynamics.Array) -> dynamics.Array:
    """Disputes i and j share with a third state, ``S_ij = max_{k != i, j} min(D_ik, D_jk)`` (eq. 19b).

    ``dispute`` is the symmetric (N, N) dispute matrix; the result is symmetric with a zero
    diagonal. With disputes only with China, ``S_ij = min(D_iC, D_jC)`` for two other states.
    """
    n = dispute.shape[-1]
    common = np.minimum(dispute[:, None, :], dispute[None, :, :])  # [i, j, k]
    third = ~(np.eye(n, dtype=bool)[:, None, :] | np.eye(n, dtype=bool)[None, :, :])  # k not i, k not j
    shared = np.where(third, common, 0.0).max(axis=-1)
    np.fill_diagonal(shared, 0.0)
    return shared


def propensity(
    trust: dynamics.Array,
    threat: dynamics.Array,
    shared: dynamics.Array,
    trust_weight: float,
    threat_weight: float,
    dispute_weight: float,
) -> dynamics.Array:
    """Symmetric propensities ``psi_ij = (q_ij + q_ji) / 2`` with a zero diagonal (eq. 19b).

    ``q_ij = w_tau (2 tau_ij - 1) - w_T T_ij + w_d S_ij``: trust above its neutral 1/2 and shared
    disputes draw i and j together, threat pushes them apart. Axelrod and Bennett's propensity
    is a property of the pair; averaging both views makes it one, and only a symmetric
    propensity gives an energy that every self-interested move lowers.
    """
    q = trust_weight * (2.0 * trust - 1.0) - threat_weight * threat + dispute_weight * shared
    p = (q + np.swapaxes(q, -1, -2)) / 2.0
    n = p.shape[-1]
    return np.asarray(np.where(np.eye(n, dtype=bool), 0.0, p))


def frustration(
    x: dynamics.ArrayLike, alignment: dynamics.Array, size: dynamics.Array, prop: dynamics.Array
) -> dynamics.Array:
    """Frustration ``Phi_i(x) = sum_j z_j psi_ij |x - x_j| / 2`` of the actors with rows ``prop`` (..., n, N).

    ``x`` (..., n) are their alignments, ``alignment`` and ``size`` (..., N) everyone's.
    """
    distance = dynamics.alignment_distance(np.asarray(x)[..., :, None], alignment[..., None, :])
    return np.asarray(np.sum(size[..., None, :] * prop * distance, axis=-1))


def energy(alignment: dynamics.Array, size: dynamics.Array, prop: dynamics.Array) -> dynamics.Array:
    """The system's energy ``E = sum_i z_i Phi_i(x_i)`` (Axelrod and Bennett 1993)."""
    return np.asarray(np.sum(size * frustration(alignment, alignment, size, prop), axis=-1))


def drive(alignment: dynamics.Array, size: dynamics.Array, prop: dynamics.Array, gain: float) -> dynamics.Array:
    """Drive toward the US pole (eq. 19a): ``beta_A sum_j z_j psi_ij x_j = beta_A (Phi_i(-1) - Phi_i(+1))``.

    ``alignment`` and ``size`` are (..., N), ``prop`` the responders' rows (..., n, N).
    """
    return np.asarray(gain * np.sum(prop * (size * alignment)[..., None, :], axis=-1))


def strategic_drive(situation: Situation, params: ModelParams) -> np.ndarray:
    """The rule applied to the model's state.

    Sizes from last turn's capability stocks or this turn's GDP; propensities from last turn's
    trust and threat of every pair (the pair's propensity needs both sides' views, and every
    actor responds to the same snapshot) and from the shared disputes of the attribute file.
    """
    lp, snapshot, inputs = params.landscape, situation.snapshot, situation.inputs
    mass = (
        snapshot.capability
        if lp.size_basis == "capability"
        else np.broadcast_to(inputs.gdp[situation.turn], snapshot.capability.shape)
    )
    prop = propensity(
        snapshot.trust,
        snapshot.threat,
        shared_disputes(inputs.dispute),
        lp.trust_weight,
        lp.threat_weight,
        lp.dispute_weight,
    )
    return drive(snapshot.alignment, sizes(mass), prop[:, situation.rows], lp.gain)
