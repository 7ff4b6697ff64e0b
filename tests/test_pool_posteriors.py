"""Pooling independent calibrations into one posterior (experiments/pool_posteriors.py): hand-worked cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import run_module

from experiments.common import ExperimentError
from experiments.pool_posteriors import between_calibration, pooled_payload
from sim.posterior import load_posterior


def part(seed: int, weights: list[float], ancestors: list[int], particles: int = 4) -> dict[str, Any]:
    """A posterior file's payload with two parameters, one discrepancy and the defining provenance."""
    n = len(weights)
    return {
        "alignment_rule": "balance_of_threat",
        "keys": ["params.a", "params.b"],
        "samples": [[seed + k, -k] for k in range(n)],
        "weights": weights,
        "losses": [float(k) for k in range(n)],
        "observation": {"keys": ["discrepancy.x"], "samples": [[0.1 * k] for k in range(n)]},
        "provenance": {
            "method": "ABC-SMC",
            "model_version": "0.1.0+abc",
            "data_files_sha256": {"d.csv": "00"},
            "targets": [{"name": "t"}],
            "priors": [{"key": "params.a", "low": 0, "high": 1}],
            "discrepancy_priors": [],
            "last_year": 2021,
            "seed": seed,
            "n_samples": 100,
            "simulations": 400,
            "particles": particles,
            "final_temperature": 1.0,
            "final_ess": 3.0,
        },
        "ancestors": ancestors,
    }


def test_each_calibration_gets_an_equal_share_and_its_ancestors_stay_apart() -> None:
    a, b = part(1, [0.5, 0.5], [0, 0]), part(2, [0.2, 0.6, 0.2], [1, 3, 3])
    pooled = pooled_payload(["a.json", "b.json"], [a, b])
    np.testing.assert_allclose(pooled["weights"], [0.25, 0.25, 0.1, 0.3, 0.1])
    assert pooled["samples"] == [[1, 0], [2, -1], [2, 0], [3, -1], [4, -2]]
    assert pooled["observation"]["samples"] == [[0.0], [0.1], [0.0], [0.1], [0.2]]
    assert pooled["losses"] == [0.0, 1.0, 0.0, 1.0, 2.0]
    # b's ancestors index b's own last generation of 4 particles: numbered after a's 4
    assert pooled["ancestors"] == [0, 0, 5, 7, 7] and pooled["part"] == [0, 0, 1, 1, 1]
    provenance = pooled["provenance"]
    assert provenance["seed"] == [1, 2] and provenance["simulations"] == 800 and provenance["particles"] == 8
    summaries = {p["seed"]: p for p in provenance["parts"]}
    assert summaries[1]["ancestors"] == 1 and summaries[1]["effective_ancestors"] == 1.0
    # b: copies 1 and 2 of ancestors 1 and 3 (Kish: 3^2 / (1 + 4))
    assert summaries[2]["ancestors"] == 2 and summaries[2]["effective_ancestors"] == pytest.approx(1.8)


def test_a_part_without_ancestry_leaves_the_pool_without_it() -> None:
    a, b = part(1, [1.0], [0]), part(2, [1.0], [0])
    del b["ancestors"]
    assert "ancestors" not in pooled_payload(["a.json", "b.json"], [a, b])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.update(keys=["params.a", "params.c"]), "keys="),
        (lambda p: p["provenance"].update(model_version="0.1.0+other"), "provenance.model_version="),
        (lambda p: p["provenance"].update(last_year=2018), "provenance.last_year="),
        (lambda p: p.update(alignment_rule="landscape"), "alignment_rule="),
        (lambda p: p["provenance"].update(seed=1), "seed=1 is the seed of experiment.parts.0."),
        (lambda p: p.update(part=[0]), "is itself a pool"),
        (lambda p: p["provenance"].pop("particles"), "lacks provenance.particles"),
        (lambda p: p.pop("observation"), "lacks observation"),
        (lambda p: p["observation"].update(samples=[]), "0 observation samples and 1 ancestors for 1 samples"),
        (lambda p: p.update(ancestors=[4]), r"ancestors in \[4, 4\]; allowed: ancestors in 0..particles-1"),
    ],
)
def test_parts_that_are_not_the_same_posterior_are_refused_by_name(change: Any, message: str) -> None:
    a, b = part(1, [1.0], [0]), part(2, [1.0], [0])
    change(b)
    with pytest.raises(ExperimentError, match=rf"experiment\.parts\[1\]='b\.json'.*{message}"):
        pooled_payload(["a.json", "b.json"], [a, b])


def test_one_part_is_not_a_pool() -> None:
    with pytest.raises(ExperimentError, match="two or more"):
        pooled_payload(["a.json"], [part(1, [1.0], [0])])


def test_pool_cli_writes_a_posterior_the_runs_can_draw_from(tmp_path: Path) -> None:
    files = []
    for seed, weights in ((1, [0.5, 0.5]), (2, [1.0])):
        path = tmp_path / f"posterior_{seed}.json"
        path.write_text(json.dumps(part(seed, weights, [0] * len(weights))))
        files.append(str(path))
    pooled = tmp_path / "pooled.json"
    args = [f"experiment.out={tmp_path / 'out'}", f"experiment.pooled={pooled}"]
    result = run_module("experiments.pool_posteriors", f"experiment.parts=[{','.join(files)}]", *args, timeout=300)
    assert result.returncode == 0, result.stderr
    posterior = load_posterior(str(pooled))
    assert posterior.samples.shape == (3, 2) and posterior.weights is not None
    np.testing.assert_allclose(posterior.weights, [0.25, 0.25, 0.5])

    # a part rewritten after pooling (a new calibration): the stale pool is refused, naming both
    Path(files[1]).write_text(json.dumps(part(2, [0.5, 0.5], [0, 0])))
    with pytest.raises(ValueError, match=r"pools '.*posterior_2\.json' as it was before it was rewritten"):
        load_posterior(str(pooled))
    Path(files[1]).unlink()  # a part that is not here: the pooled file stands alone
    assert load_posterior(str(pooled)).samples.shape == (3, 2)
    Path(files[1]).write_text(json.dumps(part(2, [1.0], [0])))

    # bad input: exit 2, the key and value named, the pooled file already written and the parts untouched
    before, part_before = pooled.read_bytes(), Path(files[0]).read_bytes()
    missing = str(tmp_path / "nowhere.json")
    for overrides, message in (
        ([f"experiment.parts=[{files[0]},{missing}]", *args], "experiment.parts[1]: posterior_file="),
        (["experiment.parts=3", *args], "experiment.parts=3; allowed: a list"),
        (
            [
                f"experiment.parts=[{','.join(files)}]",
                f"experiment.out={tmp_path / 'out'}",
                f"experiment.pooled={files[0]}",
            ],
            "is experiment.parts[0]",
        ),
        (
            [f"experiment.parts=[{','.join(files)}]", f"experiment.out={tmp_path / 'out'}", "experiment.pooled=5"],
            "pooled=5",
        ),
    ):
        result = run_module("experiments.pool_posteriors", *overrides, timeout=300)
        assert result.returncode == 2 and message in result.stderr, (overrides, result.stderr)
    assert pooled.read_bytes() == before and Path(files[0]).read_bytes() == part_before


def test_the_between_calibration_spread_and_rhat_of_hand_worked_parts() -> None:
    """Parts [0, 2] and [2, 4]: W = 2, means' variance 2, n = 2: spread 1, R = sqrt(1/2 + 1); equal: 0, sqrt(1/2)."""
    a, b = part(1, [0.5, 0.5], [0, 1]), part(2, [0.5, 0.5], [0, 1])
    a["samples"], b["samples"] = [[0.0, 1.0], [2.0, 1.0]], [[2.0, 1.0], [4.0, 1.0]]
    found = between_calibration(["params.a", "params.b"], [a, b])
    assert found["params.a"] == {"spread": 1.0, "rhat": pytest.approx(np.sqrt(1.5), abs=1e-3)}
    assert found["params.b"] == {"spread": 0.0, "rhat": pytest.approx(np.sqrt(0.5), abs=1e-3)}  # no spread at all
    b["samples"] = a["samples"]
    assert between_calibration(["params.a", "params.b"], [a, b])["params.a"]["spread"] == 0.0
