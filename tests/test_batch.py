"""Parameter points side by side (sim/batch.py): a batch gives each point what it gets alone.

Every batchable behavioural parameter differs between the points of a batch (so a field used
with arrays of the wrong rank would fail here), the points converge in their spin-ups after
different numbers of quarters, and batches have more runs than actors and fewer than N^2 (a run
axis that broadcast against an actor axis would raise, not pass).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers import compose_params

from sim import ensemble, initial
from sim.batch import BATCHABLE, DYADIC, SHARED, batch_key, batch_model_params
from sim.ensemble import check_batch, simulate_chunk, simulate_many, simulate_points
from sim.params import ALIGNMENT_RULES, ModelParams, Params, with_values
from sim.records import Trajectory

TOLERANCE = 1e-12
SHORT = ["run.end_year=2013"]  # 16 quarters: the spin-up and every mechanism, in little time


def perturbed(base: Params, seed: int) -> Params:
    """``base`` with every batchable parameter moved to a random value near its default (validated)."""
    rng = np.random.default_rng(seed)
    defaults = ModelParams()
    values = {}
    for key in sorted(BATCHABLE):
        group, name = key.split(".")
        default = getattr(getattr(defaults, group), name)
        field = next(f for f in dataclasses.fields(getattr(defaults, group)) if f.name == name)
        lo, hi = field.metadata["range"]
        value = default * rng.uniform(0.8, 1.2) if default != 0.0 else rng.uniform(0.0, 0.01)
        values[f"params.{key}"] = float(
            np.clip(value, lo if lo is not None else -np.inf, hi if hi is not None else np.inf)
        )
    return with_values(base, values)


def assert_trajectories_equal(alone: Trajectory, batched: Trajectory) -> None:
    assert alone.run_ids == batched.run_ids and alone.seeds == batched.seeds
    for part in ("states", "dyads", "actions", "outcomes"):
        mine, theirs = getattr(alone, part), getattr(batched, part)
        assert mine.keys() == theirs.keys(), part
        for name in mine:
            np.testing.assert_allclose(
                theirs[name], mine[name], rtol=TOLERANCE, atol=TOLERANCE, err_msg=f"{part}.{name}"
            )


def spinup_quarters(params: Params, monkeypatch: pytest.MonkeyPatch) -> int:
    """Quarters the spin-up of ``params`` takes alone."""
    calls = []
    real = initial.perception_only

    def counted(*args: Any) -> Any:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(initial, "perception_only", counted)
    initial.initial_conditions(params)
    monkeypatch.setattr(initial, "perception_only", real)
    return len(calls)


@pytest.mark.parametrize("rule", ALIGNMENT_RULES)
def test_points_batched_equal_points_alone(rule: str, monkeypatch: pytest.MonkeyPatch) -> None:
    base = compose_params([*SHORT, "params=default", f"alignment_rule={rule}"])
    points = [perturbed(base, k) for k in range(6)]
    seeds = [[11 + k, 500 + k, 900 + k] for k in range(len(points))]
    assert len({batch_key(p) for p in points}) == 1
    assert len({spinup_quarters(p, monkeypatch) for p in points}) > 1, "the points' spin-ups should differ in length"
    batched = list(simulate_points(points, seeds, keep_dyads=True, keep_actions=True))
    runs = sum(len(s) for s in seeds)
    assert len(base.actors.codes) < runs < len(base.actors.codes) ** 2
    assert len(batched) == len(points)
    for point, point_seeds, traj in zip(points, seeds, batched, strict=True):
        assert_trajectories_equal(simulate_chunk(point, point_seeds), traj)


def test_spin_up_side_by_side_gives_each_point_its_own_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """Points that settle at different quarters, and points stopped by the quarter limit, start as alone."""
    base = compose_params([*SHORT, "run.spinup_quarters=100", "run.spinup_tolerance=1e-4"])
    points = [perturbed(base, k) for k in range(8)]
    lengths = {spinup_quarters(p, monkeypatch) for p in points}
    assert 100 in lengths and min(lengths) < 100, lengths
    state, anchors = initial.initial_points(points)
    for k, point in enumerate(points):
        alone_state, alone_anchors = initial.initial_conditions(point)
        for block, alone in ((state, alone_state), (anchors, alone_anchors)):
            for name, values in vars(alone).items():
                np.testing.assert_allclose(
                    getattr(block, name)[k : k + 1], values, rtol=TOLERANCE, atol=TOLERANCE, err_msg=name
                )


@pytest.mark.parametrize("spinup_points", [ensemble.SPINUP_POINTS, 2])
def test_points_with_knobs_and_policies_side_by_side_equal_alone(
    spinup_points: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Driver knobs and policy levels differ too; a frozen driver without data holds each point's policy level.

    With at most 2 points spun up at a time, later chunks extend the start (``Start.with_points``).
    """
    monkeypatch.setattr(ensemble, "SPINUP_POINTS", spinup_points)
    frozen_nk = {
        "drivers.nk_provocation.scale": 0.0,
        "drivers.nk_provocation.semantics": "frozen",
        "drivers.nk_provocation.freeze_year": 2030,
    }
    scenarios = [[], ["scenario=no_china_coercion"], ["scenario=beijing_frozen_2010"], ["run.mode=replay"]]
    points = [perturbed(compose_params(o), k) for k, o in enumerate(scenarios)]
    points[3] = with_values(points[3], frozen_nk)
    points.append(points[0])  # the same point twice, other seeds
    seeds = [101, 202, 303]
    assert len({batch_key(p) for p in points}) == 1
    mixed = simulate_many(points, seeds, names=("outcomes", "states"), chunk_size=4)  # points straddle chunks
    alone = [simulate_many([p], seeds, names=("outcomes", "states")) for p in points]
    for name, keys in (("outcomes", ["run_id", "t"]), ("states", ["run_id", "t", "actor"])):
        # within a chunk rows are ordered by run id (sim/records.py): compare run by run
        reference = pd.concat([a[name] for a in alone]).sort_values(keys, kind="stable").reset_index(drop=True)
        batched = mixed[name].sort_values(keys, kind="stable").reset_index(drop=True)
        pd.testing.assert_frame_equal(batched[keys], reference[keys])
        numeric = reference.select_dtypes("number").columns
        np.testing.assert_allclose(
            batched[numeric].to_numpy(float), reference[numeric].to_numpy(float), rtol=TOLERANCE, atol=TOLERANCE
        )


def test_batched_fields_broadcast_along_the_run_axis() -> None:
    a, b = (
        ModelParams(),
        with_values(Params(), {"params.perception.intent_gain": 0.9, "params.spending.threat_response": 0.7}).params,
    )
    batched = batch_model_params([a, b, a])
    assert batched.perception.intent_gain.shape == (3, 1, 1)  # type: ignore[attr-defined]
    assert batched.spending.threat_response.shape == (3, 1)  # type: ignore[attr-defined]
    assert batched.perception.intent_decay_per_quarter == a.perception.intent_decay_per_quarter  # shared: a float
    assert batch_model_params([a, a]) is a
    assert "perception.intent_gain" in DYADIC and "spending.threat_response" not in DYADIC


def test_runs_that_cannot_share_a_batch_are_refused_or_split() -> None:
    base = compose_params(SHORT)
    other = with_values(base, {"params.perception.threat_distance_km": 2500.0})
    assert "perception.threat_distance_km" in SHARED
    with pytest.raises(ValueError, match="threat_distance_km"):
        batch_model_params([base.params, other.params])
    with pytest.raises(ValueError, match="batched together"):
        check_batch([base, other])
    landscape = compose_params([*SHORT, "params=default", "alignment_rule=landscape"])
    (alone,) = simulate_points([landscape], [[5]])
    batched = list(simulate_points([base, landscape], [[5], [5]]))  # two batch keys: two chunks
    assert_trajectories_equal(alone, batched[1])


def test_simulate_points_rejects_bad_seed_lists() -> None:
    base = compose_params(SHORT)
    with pytest.raises(ValueError, match="one list per set"):
        list(simulate_points([base, base], [[1]]))
    with pytest.raises(ValueError, match="no seeds"):
        list(simulate_points([base], [[]]))
