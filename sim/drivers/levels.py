"""Every registered driver's level in one turn: data where the replay has them, else the policy.

Shared by both engines. ``alignment`` is last turn's alignment of all actors in R runs,
shape ``(R, N)`` (one run: R = 1). Levels come out per run, shape ``(R, 1)``, so that runs
with different counterfactual knobs can share a batch; China's coercion comes out per run and
target, ``(R, N)``. A knob blends the level with its counterfactual reference,
``knob * level + (1 - knob) * reference`` (exactly the level at knob 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import drivers as registry
from sim import dynamics
from sim.inputs import DriverSeries, RunInputs
from sim.params import PolicyParams


@dataclass(frozen=True)
class TurnDrivers:
    """Driver levels of one turn, knobs applied (ODD sections 6.3 and 8).

    ``drivers.<name>`` reads ``level[name]`` for every registered driver.

    Attributes
    ----------
    level : dict of str to array
        Each registered driver's level, ``(R, 1)``; ``china_coercion`` is ``(R, N)``, the
        coercion index of the China pole toward each target (before dispute weights).
        Units in each driver's spec (``sim/drivers/<name>.py``).
    tech_controls : array (R, 1)
        US export-control pressure on its allies (index; 1 = after the 2022 controls).
    event_coercion : array (R, N, N) or None
        Extra coercion from the scenario's dated events this turn, scaled by their drivers' knobs.
    china_spending : float
        China's observed defence spending share (% GDP), or NaN where the model decides it.
    decided : dict of str to (array (R, 1), array (R, 1))
        For each driver whose level the model decides (no policy level: ``china_buildup``), its
        knob and counterfactual reference this turn; its mechanism blends the model's level with
        the reference, ``knob * level + (1 - knob) * reference``.
    """

    level: dict[str, np.ndarray]
    tech_controls: np.ndarray
    event_coercion: np.ndarray | None
    china_spending: float
    decided: dict[str, tuple[np.ndarray, np.ndarray]]

    def __getattr__(self, name: str) -> np.ndarray:
        level = self.__dict__.get("level", {})
        if name in level:
            return np.asarray(level[name])
        raise AttributeError(name)


def knob_at(series: DriverSeries, turn: int, runs: int) -> np.ndarray:
    """The knob factor of ``series`` at ``turn`` for each of ``runs`` runs, shape (R, 1)."""
    factor = np.asarray(series.knob[..., turn], dtype=float)
    return np.broadcast_to(factor.reshape(-1, 1), (runs, 1))


def reference_at(series: DriverSeries, turn: int, runs: int) -> np.ndarray:
    """The counterfactual reference of ``series`` at ``turn`` for each of ``runs`` runs, shape (R, 1)."""
    return np.broadcast_to(np.asarray(series.reference[..., turn], dtype=float).reshape(-1, 1), (runs, 1))


def knobbed(series: DriverSeries, base: np.ndarray | float, turn: int, runs: int) -> np.ndarray:
    """``base`` blended with the series' counterfactual reference by its knob at ``turn``."""
    knob = knob_at(series, turn, runs)
    return np.asarray(knob * base + (1.0 - knob) * reference_at(series, turn, runs))


def driver_levels(inputs: RunInputs, policy: PolicyParams, turn: int, alignment: np.ndarray) -> TurnDrivers:
    """Levels of every driver at ``turn`` given last turn's ``alignment`` (eq. 11 and ODD section 6.3)."""
    runs = alignment.shape[0]
    series = inputs.drivers
    level = {}
    decided = {}
    for spec in registry.specs():
        driver = series[spec.name]
        if spec.policy_level is None:  # the model decides the level; its mechanism applies the knob
            decided[spec.name] = (knob_at(driver, turn, runs), reference_at(driver, turn, runs))
            continue
        if driver.has_data[turn]:
            base: np.ndarray | float = driver.level[turn]
        elif spec.name == "china_coercion":  # Beijing's policy answers drift toward the US (the spiral)
            base = policy.china_coercion_level * dynamics.coercion_policy_multiplier(
                alignment, inputs.alignment_start, policy.china_spiral_gain
            )
        else:
            base = spec.policy_level(policy)
        level[spec.name] = knobbed(driver, base, turn, runs)
    level["china_coercion"] = np.broadcast_to(level["china_coercion"], alignment.shape)
    events = inputs.extra_coercion.get(turn)
    event_coercion = None
    if events:
        event_coercion = sum(
            (knob_at(series[name], turn, runs)[:, :, None] if name else np.ones((runs, 1, 1))) * matrix
            for name, matrix in events.items()
        )
    tech = inputs.tech_controls
    tech_level = tech.level[turn] if tech.has_data[turn] else policy.us_pressure_level
    buildup = series["china_buildup"]
    return TurnDrivers(
        level=level,
        tech_controls=knobbed(tech, tech_level, turn, runs),
        event_coercion=np.asarray(event_coercion) if event_coercion is not None else None,
        china_spending=float(buildup.level[turn]) if buildup.has_data[turn] else float("nan"),
        decided=decided,
    )
