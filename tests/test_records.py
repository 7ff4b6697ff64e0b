"""sim/records.py: the result contract of the tables, on a run and on a hand-made trajectory."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from helpers import ACTION_KINDS, CONTRACT

from sim.ensemble import simulate_runs
from sim.outcomes import OUTCOME_COLUMNS
from sim.params import Params
from sim.records import (
    DYAD_COLUMNS,
    OVERALL_ALIGNMENT,
    STATE_COLUMNS,
    TABLES,
    Trajectory,
    actions_table,
    arrow_tables,
    dyads_table,
    outcomes_table,
    state_record,
    states_table,
    tables,
)
from sim.store import KEY_COLUMNS, TableStreamWriter

SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
T, N = 84, 15


@pytest.mark.parametrize("name", TABLES)
def test_tables_have_the_contract_columns_in_snake_case(baseline_run: dict[str, pd.DataFrame], name: str) -> None:
    frame = baseline_run[name]
    missing = [c for c in CONTRACT[name] if c not in frame.columns]
    assert not missing, missing
    assert all(SNAKE.match(c) for c in frame.columns), list(frame.columns)
    for column in ("seed", "t", "year", "quarter"):
        assert frame[column].dtype == np.int64, column
    assert frame["run_id"].nunique() == 1
    assert (frame["seed"] == 7).all()


def test_outcome_table_has_every_outcome_column(baseline_run: dict[str, pd.DataFrame]) -> None:
    assert set(OUTCOME_COLUMNS) <= set(baseline_run["outcomes"].columns)


def test_row_counts(baseline_run: dict[str, pd.DataFrame]) -> None:
    assert len(baseline_run["states"]) == T * N
    assert len(baseline_run["dyads"]) == T * N * (N - 1)
    assert len(baseline_run["outcomes"]) == T
    assert not baseline_run["states"].duplicated(["t", "actor"]).any()
    assert not baseline_run["dyads"].duplicated(["t", "observer", "target"]).any()
    assert (baseline_run["dyads"]["observer"] != baseline_run["dyads"]["target"]).all()


def test_turn_year_quarter_agree(baseline_run: dict[str, pd.DataFrame]) -> None:
    for name in TABLES:
        frame = baseline_run[name]
        np.testing.assert_array_equal(frame["year"], 2010 + frame["t"] // 4)
        np.testing.assert_array_equal(frame["quarter"], frame["t"] % 4 + 1)
        assert frame["t"].is_monotonic_increasing, name


def test_action_log(baseline_run: dict[str, pd.DataFrame], baseline_params: Params) -> None:
    actions = baseline_run["actions"]
    assert set(actions["kind"]) <= ACTION_KINDS
    threshold = baseline_params.params.outcome.action_log_threshold
    assert (actions["intensity"] >= threshold).all() and (actions["intensity"] > 0).all()
    assert actions["t"].min() >= 1  # nothing is done in the initial state
    codes = set(baseline_params.actors.codes)
    assert set(actions["actor"]) <= codes
    basing = actions[actions["kind"] == "basing"]
    assert set(basing["actor"]) == {"USA"} and set(basing["target"]) <= codes - {"USA", "CHN"}
    for kind, target in (("provocation", "REGION"), ("arms_buildup", "REGION"), ("war", "UKR")):
        assert set(actions.loc[actions["kind"] == kind, "target"]) == {target}, kind
    targeted = actions[actions["kind"].isin(["coercion", "criticism", "engagement", "derisking"])]
    assert set(targeted["target"]) <= codes
    assert (targeted["actor"] != targeted["target"]).all()


def test_states_table_writes_no_ceiling_as_missing(baseline_run: dict[str, pd.DataFrame]) -> None:
    states = baseline_run["states"]
    ceiling = states.set_index(["t", "actor"])["spending_ceiling_share_gdp"]
    assert ceiling.loc[(0, "CHN")] != ceiling.loc[(0, "CHN")]  # NaN: no ceiling
    assert ceiling.loc[(0, "JPN")] == 1.0
    assert not np.isinf(states.select_dtypes("float").to_numpy()).any()


# ----------------------------------------------------------------------------------------------
# A hand-made trajectory: 2 turns, 1 run, 3 actors
# ----------------------------------------------------------------------------------------------

CODES = ("CHN", "JPN", "USA")


def hand_trajectory() -> Trajectory:
    t, r, n = 2, 1, 3
    states = {f: np.arange(t * r * n, dtype=float).reshape(t, r, n) / 10 for f in STATE_COLUMNS}
    states["ceiling"][1, 0, 0] = np.inf
    dyads = {
        f: np.arange(t * r * n * n, dtype=float).reshape(t, r, n, n) / 100
        for f in ("threat", "intent", "criticism", "resistance", "denial", "trust")
    }
    zeros_pair, zeros_actor = np.zeros((t, r, n, n)), np.zeros((t, r, n))
    actions = {k: zeros_pair.copy() for k in ("coercion", "criticism", "engagement", "derisking")}
    actions.update({k: zeros_actor.copy() for k in ("basing", "buildup", "provocation", "war")})
    actions["coercion"][1, 0, 0, 1] = 0.7  # CHN coerces JPN
    actions["coercion"][1, 0, 0, 2] = 0.01  # below the log threshold
    actions["engagement"][1, 0, 2, 1] = 0.2  # USA engages JPN
    actions["basing"][1, 0, 1] = 0.3  # JPN accepts US basing
    actions["buildup"][1, 0, 0] = 0.1
    outcomes = {c: np.array([[0.1], [0.2]]) for c in OUTCOME_COLUMNS}
    return Trajectory(
        run_ids=("hand-s3",),
        seeds=(3,),
        codes=CODES,
        us_pole="USA",
        year=np.array([2010, 2010]),
        quarter=np.array([1, 2]),
        states=states,
        dyads=dyads,
        actions=actions,
        outcomes=outcomes,
    )


def test_hand_trajectory_states_and_dyads() -> None:
    traj = hand_trajectory()
    states = states_table(traj).to_pandas()
    assert len(states) == 2 * 3
    assert states[["t", "actor"]].values.tolist() == [
        [0, "CHN"],
        [0, "JPN"],
        [0, "USA"],
        [1, "CHN"],
        [1, "JPN"],
        [1, "USA"],
    ]
    np.testing.assert_allclose(states["alignment"], np.arange(6) / 10)
    assert np.isnan(states.loc[(states["t"] == 1) & (states["actor"] == "CHN"), "spending_ceiling_share_gdp"]).all()
    dyads = dyads_table(traj).to_pandas()
    assert len(dyads) == 2 * 3 * 2
    row = dyads[(dyads["t"] == 1) & (dyads["observer"] == "JPN") & (dyads["target"] == "USA")]
    # (t=1, observer=1, target=2) is element 9 + 3 + 2 = 14 of the flattened array
    assert row["threat"].item() == pytest.approx(0.14)
    assert row["tech_denial"].item() == pytest.approx(0.14)


def test_state_record_derives_the_overall_alignment(baseline_params: Params) -> None:
    """The recorded ``alignment`` is eq. 19f of the two state fields; each part keeps its own column."""
    security, economic = np.array([[-1.0, 0.6, 1.0]]), np.array([[-1.0, -0.2, 1.0]])
    state = SimpleNamespace(**{f: np.zeros((1, 3)) for f in STATE_COLUMNS})
    state.alignment, state.economic_alignment = security, economic
    model = replace(baseline_params.params, alignment=replace(baseline_params.params.alignment, economic_weight=0.4))
    record = state_record(state, model)  # type: ignore[arg-type]
    assert set(record) == set(STATE_COLUMNS)
    np.testing.assert_allclose(record[OVERALL_ALIGNMENT], [[-1.0, 0.6 * 0.6 + 0.4 * -0.2, 1.0]])
    np.testing.assert_array_equal(record["alignment"], security)
    np.testing.assert_array_equal(record["economic_alignment"], economic)
    assert STATE_COLUMNS[OVERALL_ALIGNMENT] == "alignment"
    assert STATE_COLUMNS["alignment"] == "security_alignment"


def test_hand_trajectory_actions_filtered_and_logged_by_kind() -> None:
    actions = actions_table(hand_trajectory(), 0.05).to_pandas()
    logged = actions[["t", "actor", "kind", "target", "intensity"]].values.tolist()
    assert sorted(map(tuple, logged)) == sorted(
        [
            (1, "CHN", "coercion", "JPN", 0.7),
            (1, "USA", "engagement", "JPN", 0.2),
            (1, "USA", "basing", "JPN", 0.3),
            (1, "CHN", "arms_buildup", "REGION", 0.1),
        ]
    )
    assert (actions["run_id"] == "hand-s3").all() and (actions["seed"] == 3).all()
    assert len(actions_table(hand_trajectory(), 0.0)) == 5  # the small coercion too, never the zeros
    assert actions_table(hand_trajectory(), 1.0).num_rows == 0


def test_hand_trajectory_outcomes_and_table_names() -> None:
    traj = hand_trajectory()
    outcomes = outcomes_table(traj).to_pandas()
    assert len(outcomes) == 2
    np.testing.assert_allclose(outcomes["china_wants_gap"], [0.1, 0.2])
    built = tables(traj, 0.05)
    assert list(built) == list(TABLES)
    assert list(tables(traj, 0.05, ("outcomes",))) == ["outcomes"]
    with pytest.raises(ValueError, match="allowed"):
        tables(traj, 0.05, ("outcomes", "trajectories"))


def test_tables_without_recorded_dyads_or_actions_refuse_to_build_them() -> None:
    traj = hand_trajectory()
    bare = Trajectory(**{**vars(traj), "dyads": {}, "actions": {}})
    with pytest.raises(ValueError, match="dyads"):
        dyads_table(bare)
    with pytest.raises(ValueError, match="actions"):
        actions_table(bare, 0.05)
    assert len(tables(bare, 0.05, ("states", "outcomes"))["states"]) == 6


# ----------------------------------------------------------------------------------------------
# The Arrow tables equal those of the pandas writer they replaced (kept here as the reference)
# ----------------------------------------------------------------------------------------------


def reference_keys(traj: Trajectory, extra_axes: int) -> dict[str, np.ndarray]:
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


def reference_tables(traj: Trajectory) -> dict[str, pd.DataFrame]:
    """States, dyads and outcomes as the pandas writer built them: unordered frames, then a stable sort."""
    t_n, r_n, n_n = traj.shape
    codes = np.asarray(traj.codes, dtype=object)
    states = reference_keys(traj, 1)
    states["actor"] = np.tile(codes, t_n * r_n)
    for field, name in STATE_COLUMNS.items():
        values = traj.states[field].ravel()
        states[name] = np.where(np.isinf(values), np.nan, values)
    dyads = reference_keys(traj, 2)
    dyads["observer"] = np.tile(np.repeat(codes, n_n), t_n * r_n)
    dyads["target"] = np.tile(codes, t_n * r_n * n_n)
    for field, name in DYAD_COLUMNS.items():
        dyads[name] = traj.dyads[field].ravel()
    outcomes = reference_keys(traj, 0)
    for name in OUTCOME_COLUMNS:
        outcomes[name] = traj.outcomes[name].ravel()
    dyad_frame = pd.DataFrame(dyads)
    frames = {
        "states": pd.DataFrame(states),
        "dyads": dyad_frame[dyad_frame["observer"] != dyad_frame["target"]],
        "outcomes": pd.DataFrame(outcomes),
    }
    return {k: f.sort_values(["run_id", "t"], kind="stable").reset_index(drop=True) for k, f in frames.items()}


@pytest.fixture(scope="module")
def mixed_batch() -> Trajectory:
    """Two parameter sets side by side, seeds out of order and one run twice (the same run id)."""
    base = Params()
    other = Params(scenario=replace(base.scenario, name="other"))
    params_list, seeds = [base, other, base, base], [11, 5, 2, 11]
    return simulate_runs(params_list, seeds, keep_actions=False)


@pytest.mark.parametrize("name", ["states", "dyads", "outcomes"])
def test_arrow_tables_equal_the_pandas_reference(mixed_batch: Trajectory, name: str, tmp_path: Path) -> None:
    reference = reference_tables(mixed_batch)[name]
    built = arrow_tables(mixed_batch, 0.05, (name,))[name]
    pd.testing.assert_frame_equal(built.to_pandas(), reference, check_exact=True)
    # The written files: the same schema and values, bit for bit, as the frame pandas wrote.
    reference.to_parquet(tmp_path / "reference.parquet", index=False)
    writer = TableStreamWriter(tmp_path / "built.parquet")
    writer.write(built.slice(0, 100))
    writer.write(built.slice(100))
    written, expected = pq.read_table(writer.close()), pq.read_table(tmp_path / "reference.parquet")
    assert written.schema.remove_metadata() == expected.schema.remove_metadata()
    assert written.equals(expected.replace_schema_metadata(None))
    # Only the key columns are dictionary-encoded (measurements are not worth the try).
    group = pq.ParquetFile(tmp_path / "built.parquet").metadata.row_group(0)
    encoded = {
        group.column(k).path_in_schema for k in range(group.num_columns) if group.column(k).dictionary_page_offset
    }
    assert encoded == {c for c in built.column_names if c in KEY_COLUMNS}
