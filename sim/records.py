"""Recording R runs turn by turn, and turning the record into the result tables.

Both engines feed the same :class:`Recorder` and build tables with the same functions, so that
a table never depends on the engine that produced it. The columns are the result contract of
DESIGN.md (snake_case; a turn carries ``t``, ``year``, ``quarter``). Dyads and actions are the
bulk of a record (N^2 per run and turn): a sweep may leave them out and keep states and outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.finite import check_finite
from sim.inputs import RunInputs
from sim.outcomes import OUTCOME_COLUMNS, outcome_arrays, overall_alignment
from sim.params import ModelParams, Params, params_digest
from sim.turn import Actions, State

# The overall alignment (eq. 19f), derived from the two state fields when a turn is recorded.
OVERALL_ALIGNMENT = "overall_alignment"
# Recorded state -> column of states.parquet: ``alignment`` is the overall alignment, the one
# outcomes, figures and surveys read; its two parts have their own columns.
STATE_COLUMNS = {
    OVERALL_ALIGNMENT: "alignment",
    "alignment": "security_alignment",
    "economic_alignment": "economic_alignment",
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
# Untargeted action field -> logged kind.
UNTARGETED_KINDS = {"basing": "basing", "buildup": "arms_buildup", "provocation": "provocation", "war": "war"}
UNTARGETED_TARGET = "REGION"  # build-ups and missile tests are seen by everyone in range
WAR_TARGET = "UKR"  # the third party of Russia's war, outside the model
ACTION_KINDS = ("coercion", "basing", "arms_buildup", "criticism", "engagement", "provocation", "war", "derisking")
TABLES = ("states", "dyads", "actions", "outcomes")


@dataclass(frozen=True)
class Trajectory:
    """Recorded state, actions and outcomes of R runs over T turns (turn 0 is the initial state).

    ``dyads`` and ``actions`` are empty when the recorder was told not to keep them.
    """

    run_ids: tuple[str, ...]
    seeds: tuple[int, ...]
    codes: tuple[str, ...]
    us_pole: str
    year: np.ndarray  # (T,)
    quarter: np.ndarray  # (T,)
    states: dict[str, np.ndarray]  # field -> (T, R, N)
    dyads: dict[str, np.ndarray]  # field -> (T, R, N, N)
    actions: dict[str, np.ndarray]  # kind -> (T, R, N, N) or (T, R, N); zero at turn 0
    outcomes: dict[str, np.ndarray]  # column -> (T, R)

    def select(self, runs: slice) -> Trajectory:
        """The runs ``runs`` of this trajectory (views, no copy)."""

        def part(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            return {name: array[:, runs] for name, array in arrays.items()}

        return replace(
            self,
            run_ids=self.run_ids[runs],
            seeds=self.seeds[runs],
            states=part(self.states),
            dyads=part(self.dyads),
            actions=part(self.actions),
            outcomes=part(self.outcomes),
        )

    @property
    def shape(self) -> tuple[int, int, int]:
        """(T turns, R runs, N actors)."""
        t, r, n = self.states["alignment"].shape
        return t, r, n


class TurnBuffer:
    """Named arrays with a leading turn axis, allocated at the first turn recorded and filled in place.

    Rows of turns never recorded stay zero (the actions of turn 0).
    """

    def __init__(self, n_turns: int) -> None:
        self.n_turns = n_turns
        self.arrays: dict[str, np.ndarray] = {}

    def put(self, turn: int, values: dict[str, np.ndarray]) -> None:
        """Store ``values`` (the same names and shapes every turn) as turn ``turn``."""
        if not self.arrays:
            self.arrays = {k: np.zeros((self.n_turns, *np.shape(v)), np.result_type(v)) for k, v in values.items()}
        for name, value in values.items():
            self.arrays[name][turn] = value

    def first(self, turns: int) -> dict[str, np.ndarray]:
        """The arrays of the first ``turns`` turns (empty if nothing was stored)."""
        return {name: array[:turns] for name, array in self.arrays.items()}


class Recorder:
    """Collects one turn at a time for R runs into arrays with a leading turn axis.

    Parameters
    ----------
    keep_dyads, keep_actions : bool
        Whether to keep the N x N arrays (needed for ``dyads`` and ``actions`` tables).
    """

    def __init__(self, inputs: RunInputs, params: ModelParams, *, keep_dyads: bool = True, keep_actions: bool = True):
        self.inputs = inputs
        self.params = params
        self.keep_dyads = keep_dyads
        self.keep_actions = keep_actions
        self.turns = 0
        self._states = TurnBuffer(inputs.n_turns)
        self._dyads = TurnBuffer(inputs.n_turns)
        self._actions = TurnBuffer(inputs.n_turns)
        self._outcomes = TurnBuffer(inputs.n_turns)

    def record(self, state: State, actions: Actions | None) -> None:
        """Record the state after a turn and the actions of that turn (None for turn 0).

        Raises
        ------
        NonFiniteError
            If any state variable is NaN or infinite (naming the actor, quarter and variable).
        """
        if self.turns == self.inputs.n_turns:
            raise ValueError(f"all {self.inputs.n_turns} turns of the run are recorded; allowed: no more")
        turn, self.turns = self.turns, self.turns + 1
        check_finite(state, self.inputs.codes, int(self.inputs.year[turn]), int(self.inputs.quarter[turn]))
        self._states.put(turn, state_record(state, self.params))
        if self.keep_dyads:
            self._dyads.put(turn, {f: getattr(state, f) for f in DYAD_COLUMNS})
        if self.keep_actions and actions is not None:
            self._actions.put(turn, vars(actions))
        self._outcomes.put(turn, outcome_arrays(state, self.inputs, self.params))

    def trajectory(self, run_ids: tuple[str, ...], seeds: tuple[int, ...], us_pole: str) -> Trajectory:
        """The record as arrays with a leading turn axis."""
        turns = self.turns
        return Trajectory(
            run_ids=run_ids,
            seeds=seeds,
            codes=self.inputs.codes,
            us_pole=us_pole,
            year=self.inputs.year[:turns],
            quarter=self.inputs.quarter[:turns],
            states=self._states.first(turns),
            dyads=self._dyads.first(turns),
            actions=self._actions.first(turns),
            outcomes=self._outcomes.first(turns),
        )


def state_record(state: State, params: ModelParams) -> dict[str, np.ndarray]:
    """The recorded state variables of one turn, by :data:`STATE_COLUMNS` key, the overall alignment included."""
    record = {f: getattr(state, f) for f in STATE_COLUMNS if f != OVERALL_ALIGNMENT}
    record[OVERALL_ALIGNMENT] = overall_alignment(state, params)
    return record


def run_id_for(params: Params, seed: int, digest: str | None = None) -> str:
    """A readable, unique id of a run: scenario, seed and a digest of the parameters.

    ``digest`` (of ``params``) may be passed when many runs share the parameters: the digest
    hashes every parameter, so it is worth computing once per parameter set.
    """
    return f"{params.scenario.name}-s{seed}-{(digest or params_digest(params))[:10]}"


def _block_order(traj: Trajectory) -> tuple[np.ndarray, np.ndarray]:
    """Turn and run of each (turn, run) block of the tables, in table order.

    Rows are ordered by run id, then turn; runs that share an id (the same parameters and seed
    twice) keep their order within a turn. Returns the turn and run index of each block.
    """
    t_n, r_n, _ = traj.shape
    rank = np.unique(np.asarray(traj.run_ids, dtype=str), return_inverse=True)[1].reshape(r_n)
    t_idx, r_idx = (a.ravel() for a in np.meshgrid(np.arange(t_n), np.arange(r_n), indexing="ij"))
    order = np.lexsort((r_idx, t_idx, rank[r_idx]))
    return t_idx[order], r_idx[order]


def _key_columns(traj: Trajectory, t_idx: np.ndarray, r_idx: np.ndarray, repeat: int) -> dict[str, pa.Array]:
    """Index columns (run_id, seed, t, year, quarter) of blocks ``(t_idx, r_idx)``, ``repeat`` rows each."""
    t_rows, r_rows = np.repeat(t_idx, repeat), np.repeat(r_idx, repeat)
    return {
        "run_id": pa.array(traj.run_ids, pa.large_string()).take(pa.array(r_rows)),
        "seed": pa.array(np.asarray(traj.seeds, dtype=np.int64)[r_rows]),
        "t": pa.array(t_rows.astype(np.int64)),
        "year": pa.array(traj.year[t_rows].astype(np.int64)),
        "quarter": pa.array(traj.quarter[t_rows].astype(np.int64)),
    }


def _labels(codes: tuple[str, ...], index: np.ndarray) -> pa.Array:
    """Actor codes at positions ``index``, as an Arrow column (large strings, as pandas makes them)."""
    return pa.array(codes, pa.large_string()).take(pa.array(index))


def _measure(values: np.ndarray) -> pa.Array:
    """A column of measurements; NaN (not measured, no ceiling) is stored as null, as pandas does."""
    return pa.array(values, from_pandas=True)


def states_table(traj: Trajectory) -> pa.Table:
    """One row per run, turn and actor (states.parquet), built in its final order."""
    t_n, r_n, n_n = traj.shape
    t_idx, r_idx = _block_order(traj)
    blocks = t_idx * r_n + r_idx
    columns = _key_columns(traj, t_idx, r_idx, n_n)
    columns["actor"] = _labels(traj.codes, np.tile(np.arange(n_n), len(blocks)))
    for field, name in STATE_COLUMNS.items():
        values = traj.states[field].reshape(t_n * r_n, n_n)[blocks].ravel()
        columns[name] = _measure(np.where(np.isinf(values), np.nan, values))
    return pa.table(columns)


def dyads_table(traj: Trajectory) -> pa.Table:
    """One row per run, turn, observer and target, observer != target (dyads.parquet), in final order."""
    if not traj.dyads:
        raise ValueError("this trajectory was recorded without dyads (keep_dyads=False)")
    t_n, r_n, n_n = traj.shape
    t_idx, r_idx = _block_order(traj)
    blocks = t_idx * r_n + r_idx
    pairs = np.flatnonzero(~np.eye(n_n, dtype=bool))  # observer-major, the diagonal left out
    columns = _key_columns(traj, t_idx, r_idx, len(pairs))
    columns["observer"] = _labels(traj.codes, np.tile(pairs // n_n, len(blocks)))
    columns["target"] = _labels(traj.codes, np.tile(pairs % n_n, len(blocks)))
    for field, name in DYAD_COLUMNS.items():
        columns[name] = _measure(traj.dyads[field].reshape(t_n * r_n, n_n * n_n)[blocks[:, None], pairs].ravel())
    return pa.table(columns)


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


def actions_table(traj: Trajectory, threshold: float) -> pa.Table:
    """One row per action with intensity >= ``threshold`` (and > 0), actions.parquet.

    Few rows (the actions above the threshold): built with pandas and sorted by run, turn, kind,
    actor and target.
    """
    if not traj.actions:
        raise ValueError("this trajectory was recorded without actions (keep_actions=False)")
    t_n, r_n, n_n = traj.shape
    codes = np.asarray(traj.codes, dtype=object)
    parts = []
    pair_keys = _keys(traj, 2)
    for kind in TARGETED_KINDS:
        frame = pd.DataFrame(
            {
                **pair_keys,
                "actor": np.tile(np.repeat(codes, n_n), t_n * r_n),
                "kind": kind,
                "target": np.tile(codes, t_n * r_n * n_n),
                "intensity": traj.actions[kind].ravel(),
            }
        )
        parts.append(frame[frame["intensity"] >= threshold])
    actor_keys = _keys(traj, 1)
    actor_codes = np.tile(codes, t_n * r_n)
    for field, kind in UNTARGETED_KINDS.items():
        if kind == "basing":  # the US offers, each host accepts: logged as US -> host
            actor, target = np.full(actor_codes.shape, traj.us_pole, dtype=object), actor_codes
        else:
            actor = actor_codes
            target = np.full(actor_codes.shape, WAR_TARGET if kind == "war" else UNTARGETED_TARGET, dtype=object)
        frame = pd.DataFrame(
            {**actor_keys, "actor": actor, "kind": kind, "target": target, "intensity": traj.actions[field].ravel()}
        )
        parts.append(frame[frame["intensity"] >= threshold])
    frame = pd.concat(parts, ignore_index=True)
    frame = frame[frame["intensity"] > 0.0]
    frame = frame.sort_values(["run_id", "t", "kind", "actor", "target"], kind="stable")
    return pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)


def outcomes_table(traj: Trajectory) -> pa.Table:
    """One row per run and turn with W1..W5, the gap and the regional means (outcomes.parquet)."""
    t_n, r_n, _ = traj.shape
    t_idx, r_idx = _block_order(traj)
    blocks = t_idx * r_n + r_idx
    columns = _key_columns(traj, t_idx, r_idx, 1)
    for name in OUTCOME_COLUMNS:
        columns[name] = _measure(traj.outcomes[name].reshape(t_n * r_n)[blocks])
    return pa.table(columns)


def arrow_tables(traj: Trajectory, action_threshold: float, names: tuple[str, ...] = TABLES) -> dict[str, pa.Table]:
    """The result tables of a trajectory as Arrow tables, by name (``states``, ``dyads``, ``actions``, ``outcomes``)."""
    builders = {
        "states": lambda: states_table(traj),
        "dyads": lambda: dyads_table(traj),
        "actions": lambda: actions_table(traj, action_threshold),
        "outcomes": lambda: outcomes_table(traj),
    }
    unknown = [n for n in names if n not in builders]
    if unknown:
        raise ValueError(f"unknown table name(s) {unknown}; allowed: {list(builders)}")
    return {name: builders[name]() for name in names}


def tables(traj: Trajectory, action_threshold: float, names: tuple[str, ...] = TABLES) -> dict[str, pd.DataFrame]:
    """The result tables of a trajectory as data frames, by name (see :func:`arrow_tables`)."""
    return {name: table.to_pandas() for name, table in arrow_tables(traj, action_threshold, names).items()}
