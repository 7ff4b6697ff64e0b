"""The many-run engine equals the Mesa model (the reference) run by run, and streams to disk."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from helpers import REPO_ROOT, compose_params

from sim.ensemble import chunks, draw_noise, simulate_ensemble, stream_ensemble
from sim.model import AlignmentModel, simulate
from sim.turn import N_NOISE

SCENARIOS = [
    [],
    ["scenario=no_china_coercion"],
    ["scenario=no_nk_provocation"],
    ["scenario=no_russia_war"],
    ["scenario=no_us_pressure"],
    ["scenario=no_japan_domestic_trend"],
    ["scenario=china_restraint_from_2025"],
    ["run.mode=policy"],
    ["actors=extended"],
    ["params=default", "alignment_rule=landscape"],
    ["params=default", "alignment_rule=balance_of_power"],
    [
        "params=default",
        "alignment_rule=landscape",
        "actors=extended",
        "params.landscape.size_basis=gdp",
        "run.mode=policy",
    ],
    ["params=default", "alignment_rule=balance_of_power", "actors=extended", "scenario=no_china_coercion"],
]
TOLERANCE = 1e-12


def assert_tables_equal(reference: pd.DataFrame, other: pd.DataFrame) -> None:
    """Same columns, keys and labels; numbers equal to a relative tolerance of 1e-12."""
    assert list(reference.columns) == list(other.columns)
    assert len(reference) == len(other)
    numeric = reference.select_dtypes("number").columns
    labels = [c for c in reference.columns if c not in numeric]
    pd.testing.assert_frame_equal(reference[labels], other[labels])
    np.testing.assert_allclose(
        other[numeric].to_numpy(float), reference[numeric].to_numpy(float), rtol=TOLERANCE, atol=TOLERANCE
    )


def test_noise_is_the_mesa_models_first_draw() -> None:
    params = compose_params([])
    model = AlignmentModel(params, 11)
    noise = draw_noise([5, 11], model.n_turns, len(params.actors.codes))
    assert noise.shape == (model.n_turns, 2, len(params.actors.codes), N_NOISE)
    np.testing.assert_array_equal(noise[:, 1], model.noise)


@pytest.mark.slow
@pytest.mark.parametrize("overrides", SCENARIOS, ids=lambda o: o[0] if o else "baseline")
def test_ensemble_tables_equal_mesa_tables(overrides: list[str]) -> None:
    params = compose_params(overrides)
    seeds = [3, 2024] if not overrides else [3]
    ensemble = simulate_ensemble(params, seeds)
    for name in ("states", "dyads", "actions", "outcomes"):
        mesa = pd.concat([simulate(params, seed)[name] for seed in seeds], ignore_index=True)
        mesa = mesa.sort_values(["run_id", "t"], kind="stable").reset_index(drop=True)
        assert_tables_equal(mesa, ensemble[name])


def test_chunking_does_not_change_results() -> None:
    params = compose_params([])
    seeds = [1, 2, 3, 4, 5]
    whole = simulate_ensemble(params, seeds, names=("outcomes",), chunk_size=5)["outcomes"]
    pieces = simulate_ensemble(params, seeds, names=("outcomes",), chunk_size=2)["outcomes"]
    pd.testing.assert_frame_equal(whole, pieces)


def test_chunks_and_bad_sizes() -> None:
    assert list(chunks([1, 2, 3, 4, 5], 2)) == [[1, 2], [3, 4], [5]]
    with pytest.raises(ValueError, match="chunk_size=0"):
        list(chunks([1], 0))
    with pytest.raises(ValueError, match="seeds is empty"):
        simulate_ensemble(compose_params([]), [])


def test_stream_writes_what_memory_gives(tmp_path) -> None:
    params = compose_params([])
    seeds = [7, 8, 9]
    paths = stream_ensemble(params, seeds, tmp_path, names=("states", "outcomes"), chunk_size=2)
    in_memory = simulate_ensemble(params, seeds, names=("states", "outcomes"))
    for name, path in paths.items():
        pd.testing.assert_frame_equal(pd.read_parquet(path), in_memory[name])
    assert not list(tmp_path.glob("*.tmp")), "no temporary files remain"


def test_interrupted_stream_leaves_no_table(tmp_path, monkeypatch) -> None:
    import sim.ensemble as ensemble

    calls = {"n": 0}
    real = ensemble.simulate_runs

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(ensemble, "simulate_runs", failing)
    with pytest.raises(KeyboardInterrupt):
        stream_ensemble(compose_params([]), [1, 2, 3], tmp_path, chunk_size=1)
    assert list(tmp_path.iterdir()) == []


def test_ensemble_path_imports_neither_mesa_nor_matplotlib() -> None:
    code = "import sys, sim.ensemble, sim.runs; print(sorted(m for m in ('mesa', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    assert out.stdout.strip() == "[]"
