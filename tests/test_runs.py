"""Replicate seeds and the choice of engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import compose_params

from sim.runs import replicate_seeds, resolve_engine, run_tables


def test_replicate_seeds_come_from_seed_sequence_spawn() -> None:
    seeds = replicate_seeds(42, 3)
    expected = [int(c.generate_state(1, dtype=np.uint32)[0]) for c in np.random.SeedSequence(42).spawn(3)]
    assert seeds == expected
    assert len(set(seeds)) == 3
    assert replicate_seeds(42, 1) == [42]
    assert replicate_seeds(42, 5)[:3] != replicate_seeds(43, 5)[:3]


def test_zero_replicates_is_an_error() -> None:
    with pytest.raises(ValueError, match="replicates=0"):
        replicate_seeds(1, 0)


def test_engine_choice() -> None:
    assert resolve_engine("auto", 1) == "mesa"
    assert resolve_engine("auto", 2) == "ensemble"
    assert resolve_engine("mesa", 10) == "mesa"
    with pytest.raises(ValueError, match="engine='gpu'"):
        resolve_engine("gpu", 1)


@pytest.mark.slow
def test_both_engines_give_the_same_tables() -> None:
    params = compose_params([])
    seeds = replicate_seeds(5, 2)
    mesa = run_tables(params, seeds, "mesa", ("states", "outcomes"))
    ensemble = run_tables(params, seeds, "ensemble", ("states", "outcomes"))
    for name in mesa:
        pd.testing.assert_frame_equal(
            mesa[name].sort_values(["run_id", "t"], kind="stable").reset_index(drop=True),
            ensemble[name],
            check_exact=False,
            rtol=1e-12,
            atol=1e-12,
        )


def test_streamed_chunks_concatenate_to_the_tables_of_all_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A single job streams its tables chunk by chunk (python -m sim replicates=N): the files must
    # hold exactly the in-memory tables, in seed order, with dyads and actions in small batches.
    from sim import runs, store

    monkeypatch.setattr(runs, "CHUNK", 2)
    params = compose_params([])
    seeds = replicate_seeds(3, 5)
    chunks = list(runs.table_chunks(params, seeds, "ensemble", ("dyads", "outcomes")))
    assert [len(set(c["outcomes"]["seed"].to_pylist())) for c in chunks] == [2, 2, 1]
    paths = store.stream_tables(tmp_path, iter(chunks), ("dyads", "outcomes"))
    whole = run_tables(params, seeds, "ensemble", ("dyads", "outcomes"))
    for name, path in paths.items():
        pd.testing.assert_frame_equal(pd.read_parquet(path), whole[name])
        assert store.parquet_rows(path) == len(whole[name])
