"""Trajectories of R runs as arrays, and their conversion to the result tables.

Both engines record the same arrays (one :class:`Trajectory`) and turn them into tables with the
same code, so that a table never depends on which engine produced it. The table columns are the
result contract of DESIGN.md (snake_case, a turn carries ``t``, ``year``, ``quarter``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.turn import Actions, State

# State field -> column of states.parquet.
STATE_COLUMNS = {
    "alignment": "alignment",
    "spending": "spending_share_gdp",
    "capability": "capability",
    "lockin": "lockin",
    "expenditure": "expenditure_usd_bn",
    "ceiling": "spending_ceiling_share_gdp",
    "trend": "domestic_trend",
}
# Dyad field -> column of dyads.parquet.
DYAD_COLUMNS = {
    "threat": "threat",
    "intent": "intent",
    "criticism": "criticism",
    "resistance": "claims_resistance",
    "denial": "tech_denial",
    "trust": "trust",
}
TARGETED_KINDS = ("coercion", "criticism", "engagement", "derisking")
UNTARGETED_TARGET = "REGION"  # build-ups and missile tests are seen by everyone in range
WAR_TARGET = "UKR"  # the third party of Russia's war, outside the model
ACTION_KINDS = ("coercion", "basing", "arms_buildup", "criticism", "engagement", "provocation", "war", "derisking")


@dataclass(frozen=True)
class Trajectory:
    """Recorded state and actions of R runs over T turns (turn 0 is the initial state)."""

    run_ids: tuple[str, ...]
    seeds: tuple[int, ...]
    codes: tuple[str, ...]
    us_pole: str
    year: np.ndarray  # (T,)
    quarter: np.ndarray  # (T,)
    states: dict[str, np.ndarray]  # field -> (T, R, N)
    dyads: dict[str, np.ndarray]  # field -> (T, R, N, N)
    actions: dict[str, np.ndarray]  # kind -> (T, R, N, N) or (T, R, N); zero at turn 0

    @classmethod
    def from_steps(
        cls,
        states: list[State],
        actions: list[Actions | None],
        *,
        run_ids: tuple[str, ...],
        seeds: tuple[int, ...],
        codes: tuple[str, ...],
        us_pole: str,
        year: np.ndarray,
        quarter: np.ndarray,
    ) -> Trajectory:
        """Stack per-turn :class:`State` and :class:`Actions` (None at turn 0) into arrays."""
        template = next(a for a in actions if a is not None)
        filled = [a if a is not None else _zero_actions(template) for a in actions]
        return cls(
            run_ids=run_ids,
            seeds=seeds,
            codes=codes,
            us_pole=us_pole,
            year=year,
            quarter=quarter,
            states={f: np.stack([getattr(s, f) for s in states]) for f in STATE_COLUMNS},
            dyads={f: np.stack([getattr(s, f) for s in states]) for f in DYAD_COLUMNS},
            actions={f: np.stack([getattr(a, f) for a in filled]) for f in vars(template)},
        )

    @property
    def shape(self) -> tuple[int, int, int]:
        """(T turns, R runs, N actors)."""
        t, r, n = self.states["alignment"].shape
        return t, r, n


def _zero_actions(template: Actions) -> Actions:
    return Actions(**{k: np.zeros_like(v) for k, v in vars(template).items()})


def _keys(traj: Trajectory, extra_axes: int) -> dict[str, np.ndarray]:
    """Index columns (run_id, seed, t, year, quarter) for arrays of shape (T, R, N, ...)."""
    t_n, r_n, n_n = traj.shape
    shape = (t_n, r_n) + (n_n,) * extra_axes
    t_idx = np.broadcast_to(np.arange(t_n).reshape((t_n,) + (1,) * (extra_axes + 1)), shape).ravel()
    r_idx = np.broadcast_to(np.arange(r_n).reshape((1, r_n) + (1,) * extra_axes), shape).ravel()
    return {
        "run_id": np.asarray(traj.run_ids, dtype=object)[r_idx],
        "seed": np.asarray(traj.seeds, dtype=np.int64)[r_idx],
        "t": t_idx.astype(np.int64),
        "year": traj.year[t_idx].astype(np.int64),
        "quarter": traj.quarter[t_idx].astype(np.int64),
    }


def states_table(traj: Trajectory) -> pd.DataFrame:
    """One row per run, turn and actor (states.parquet)."""
    t_n, r_n, _n_n = traj.shape
    columns = _keys(traj, 1)
    columns["actor"] = np.tile(np.asarray(traj.codes, dtype=object), t_n * r_n)
    for field, name in STATE_COLUMNS.items():
        values = traj.states[field].ravel()
        columns[name] = np.where(np.isinf(values), np.nan, values)
    return pd.DataFrame(columns)


def dyads_table(traj: Trajectory) -> pd.DataFrame:
    """One row per run, turn, observer and target, observer != target (dyads.parquet)."""
    t_n, r_n, n_n = traj.shape
    columns = _keys(traj, 2)
    codes = np.asarray(traj.codes, dtype=object)
    columns["observer"] = np.tile(np.repeat(codes, n_n), t_n * r_n)
    columns["target"] = np.tile(codes, t_n * r_n * n_n)
    for field, name in DYAD_COLUMNS.items():
        columns[name] = traj.dyads[field].ravel()
    frame = pd.DataFrame(columns)
    return frame[frame["observer"] != frame["target"]].reset_index(drop=True)


def actions_table(traj: Trajectory, threshold: float) -> pd.DataFrame:
    """One row per action with intensity >= ``threshold`` (actions.parquet), in a fixed order."""
    t_n, r_n, n_n = traj.shape
    codes = np.asarray(traj.codes, dtype=object)
    parts = []
    for kind in TARGETED_KINDS:
        keys = _keys(traj, 2)
        frame = pd.DataFrame(
            {
                **keys,
                "actor": np.tile(np.repeat(codes, n_n), t_n * r_n),
                "kind": kind,
                "target": np.tile(codes, t_n * r_n * n_n),
                "intensity": traj.actions[kind].ravel(),
            }
        )
        parts.append(frame)
    for field, kind in (
        ("basing", "basing"),
        ("buildup", "arms_buildup"),
        ("provocation", "provocation"),
        ("war", "war"),
    ):
        keys = _keys(traj, 1)
        actor_codes = np.tile(codes, t_n * r_n)
        if kind == "basing":  # the US offers, each host accepts: logged as US -> host
            actor, target = np.full(actor_codes.shape, traj.us_pole, dtype=object), actor_codes
        else:
            actor = actor_codes
            target = np.full(actor_codes.shape, WAR_TARGET if kind == "war" else UNTARGETED_TARGET, dtype=object)
        parts.append(
            pd.DataFrame(
                {**keys, "actor": actor, "kind": kind, "target": target, "intensity": traj.actions[field].ravel()}
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    frame = frame[frame["intensity"] >= max(threshold, np.finfo(float).tiny)]
    return frame.sort_values(["run_id", "t", "kind", "actor", "target"], kind="stable").reset_index(drop=True)
