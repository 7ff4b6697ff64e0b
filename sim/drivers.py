"""The five drivers' levels in one turn: data where the replay has them, else the policy.

Shared by both engines. ``alignment`` is last turn's alignment of all actors in R runs,
shape ``(R, N)`` (one run: R = 1). Levels come out per run, shape ``(R, 1)``, so that runs
with different counterfactual knobs can share a batch; China's coercion comes out per run and
target, ``(R, N)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import dynamics
from sim.inputs import DriverSeries, RunInputs
from sim.params import PolicyParams


@dataclass(frozen=True)
class TurnDrivers:
    """Driver levels of one turn, knob factors applied (ODD sections 6.3 and 8).

    Attributes
    ----------
    china_coercion : array (R, N)
        Coercion index of the China pole toward each target (before dispute weights).
    nk_provocation : array (R, 1)
        North Korea's missile launches, in units of 20 missiles a year.
    russia_war : array (R, 1)
        Intensity of Russia's war (1 = the full-scale war from 2022).
    us_pressure : array (R, 1)
        US burden-sharing pressure on its allies' spending (index).
    tech_controls : array (R, 1)
        US export-control pressure on its allies (index; 1 = after the 2022 controls).
    trend_increment : array (R, 1)
        Quarterly increment of Japan's domestic normalisation index.
    event_coercion : array (R, N, N) or None
        Extra coercion from the scenario's dated events this turn, scaled by their drivers' knobs.
    china_spending : float
        China's observed defence spending share (% GDP), or NaN where the model decides it.
    """

    china_coercion: np.ndarray
    nk_provocation: np.ndarray
    russia_war: np.ndarray
    us_pressure: np.ndarray
    tech_controls: np.ndarray
    trend_increment: np.ndarray
    event_coercion: np.ndarray | None
    china_spending: float


def knob_at(series: DriverSeries, turn: int, runs: int) -> np.ndarray:
    """The knob factor of ``series`` at ``turn`` for each of ``runs`` runs, shape (R, 1)."""
    factor = np.asarray(series.knob[..., turn], dtype=float)
    return np.broadcast_to(factor.reshape(-1, 1), (runs, 1))


def driver_levels(inputs: RunInputs, policy: PolicyParams, turn: int, alignment: np.ndarray) -> TurnDrivers:
    """Levels of every driver at ``turn`` given last turn's ``alignment`` (eq. 11 and ODD section 6.3)."""
    runs = alignment.shape[0]
    series = inputs.drivers

    def level(name: str, policy_level: float) -> np.ndarray:
        driver = series[name]
        base = driver.level[turn] if driver.has_data[turn] else policy_level
        return base * knob_at(driver, turn, runs)

    china = series["china_coercion"]
    if china.has_data[turn]:
        china_level = np.full(alignment.shape, china.level[turn])
    else:
        china_level = policy.china_coercion_level * dynamics.coercion_policy_multiplier(
            alignment, inputs.alignment_start, policy.china_spiral_gain
        )
    events = inputs.extra_coercion.get(turn)
    event_coercion = None
    if events:
        event_coercion = sum(
            (knob_at(series[name], turn, runs)[:, :, None] if name else np.ones((runs, 1, 1))) * matrix
            for name, matrix in events.items()
        )
    tech = inputs.tech_controls
    tech_level = tech.level[turn] if tech.has_data[turn] else policy.us_pressure_level
    return TurnDrivers(
        china_coercion=china_level * knob_at(china, turn, runs),
        nk_provocation=level("nk_provocation", policy.nk_provocation_level),
        russia_war=level("russia_war", policy.russia_war_level),
        us_pressure=level("us_pressure", policy.us_pressure_level),
        tech_controls=tech_level * knob_at(tech, turn, runs),
        trend_increment=level("japan_domestic_trend", policy.japan_trend_per_year / 4.0),
        event_coercion=np.asarray(event_coercion) if event_coercion is not None else None,
        china_spending=float(inputs.china_spending.level[turn])
        if inputs.china_spending.has_data[turn]
        else float("nan"),
    )
