"""The five drivers' levels in one turn: data where the replay has them, else the policy.

Shared by both engines. ``alignment`` may be one run's vector ``(N,)`` or an ensemble's
``(R, N)``; China's coercion level comes out per target with the same shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import dynamics
from sim.inputs import RunInputs
from sim.params import PolicyParams


@dataclass(frozen=True)
class TurnDrivers:
    """Driver levels of one turn, knob factors applied (ODD sections 6.3 and 8).

    Attributes
    ----------
    china_coercion : array (..., N)
        Coercion index of the China pole toward each target (before dispute weights).
    nk_provocation : float
        North Korea's missile launches, in units of 20 missiles a year.
    russia_war : float
        Intensity of Russia's war (1 = the full-scale war from 2022).
    us_pressure : float
        US burden-sharing pressure on its allies' spending (index).
    tech_controls : float
        US export-control pressure on its allies (index; 1 = after the 2022 controls).
    trend_increment : float
        Quarterly increment of Japan's domestic normalisation index.
    china_spending : float
        China's observed defence spending share (% GDP), or NaN where the model decides it.
    """

    china_coercion: np.ndarray
    nk_provocation: float
    russia_war: float
    us_pressure: float
    tech_controls: float
    trend_increment: float
    china_spending: float


def driver_levels(inputs: RunInputs, policy: PolicyParams, turn: int, alignment: np.ndarray) -> TurnDrivers:
    """Levels of every driver at ``turn`` given last turn's ``alignment`` (eq. 11 and ODD section 6.3)."""
    series = inputs.drivers
    china = series["china_coercion"]
    if china.has_data[turn]:
        china_level = np.full(np.shape(alignment), china.level[turn])
    else:
        china_level = policy.china_coercion_level * dynamics.coercion_policy_multiplier(
            alignment, inputs.alignment_start, policy.china_spiral_gain
        )
    nk = series["nk_provocation"]
    war = series["russia_war"]
    tech = inputs.tech_controls
    return TurnDrivers(
        china_coercion=china_level * china.knob[turn],
        nk_provocation=float((nk.level[turn] if nk.has_data[turn] else policy.nk_provocation_level) * nk.knob[turn]),
        russia_war=float((war.level[turn] if war.has_data[turn] else policy.russia_war_level) * war.knob[turn]),
        us_pressure=float(policy.us_pressure_level * series["us_pressure"].knob[turn]),
        tech_controls=float((tech.level[turn] if tech.has_data[turn] else policy.us_pressure_level) * tech.knob[turn]),
        trend_increment=float(policy.japan_trend_per_year / 4.0 * series["japan_domestic_trend"].knob[turn]),
        china_spending=float(inputs.china_spending.level[turn])
        if inputs.china_spending.has_data[turn]
        else float("nan"),
    )
