"""experiments/bench.py: the synthetic actor sets of the scaling benchmark, and its options.

The benchmark's figures are measured, never asserted; what is asserted here is that what it
times is the model: every synthetic run it benchmarks stays finite.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.bench import (
    DEFAULTS,
    POWERS,
    SCALING_SIZES,
    fibonacci_sphere,
    is_finite,
    parameter_points,
    parse_options,
    scaling_run,
    synthetic_actor_params,
)
from sim.dynamics import great_circle_km
from sim.inputs import build_inputs


def test_synthetic_actor_set_has_the_powers_and_distinct_states(tmp_path: Path) -> None:
    params = synthetic_actor_params(64, tmp_path)
    inputs = build_inputs(params)
    assert inputs.n_actors == 64 and len(set(params.actors.codes)) == 64
    assert tuple(params.actors.codes[: len(POWERS)]) == POWERS
    table = pd.read_csv(params.actors.attributes_file).set_index("code")
    synthetic = table.drop(list(POWERS))
    assert synthetic["gdp_2010_usd_bn"].between(10, 800).all()
    assert synthetic["alignment_2010"].between(-0.6, 0.6).all()
    with pytest.raises(ValueError, match="n_actors=5"):
        synthetic_actor_params(5, tmp_path)


def test_synthetic_states_are_spread_over_the_globe() -> None:
    lat, lon = fibonacci_sphere(500)
    assert lat.min() < -80 and lat.max() > 80 and lon.min() < -170 and lon.max() > 170
    # Evenly: each point's nearest neighbour is about as far as an equal share of the surface implies.
    distances = great_circle_km(lat, lon) + np.diag(np.full(500, np.inf))
    spacing = np.sqrt(4 * np.pi * 6371.0**2 / 500)
    nearest = distances.min(axis=1)
    assert 0.7 * spacing < nearest.min() and nearest.max() < 1.3 * spacing


def test_options_are_checked() -> None:
    assert parse_options(["repeats=2", "out=x"])["repeats"] == 2
    with pytest.raises(SystemExit, match="allowed"):
        parse_options(["speed=2"])
    with pytest.raises(SystemExit, match="integer"):
        parse_options(["repeats=0"])


@pytest.mark.slow
def test_every_benchmarked_size_stays_finite(tmp_path: Path) -> None:
    turns = int(DEFAULTS["scaling_turns"])  # type: ignore[call-overload]
    for n in SCALING_SIZES:
        run = scaling_run(n, turns, tmp_path)
        assert run.last.alignment.shape == (1, n)
        assert is_finite(run.last), n


def test_parameter_points_figures_are_measured() -> None:
    figures = parameter_points(3, 1, 1)
    assert figures["points_n"] == 3 and figures["points_seeds_per_point"] == 1
    for key in ("points_alone_per_s", "points_batched_per_s", "points_speedup"):
        assert isinstance(figures[key], float) and figures[key] > 0, key
