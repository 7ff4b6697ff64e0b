"""Benchmarks of the two engines: ``python -m experiments.bench`` (``make bench``).

Prints a table and writes ``results/bench/bench.json`` with

- ``mesa_runs_per_s``, ``ensemble_runs_per_s``, ``speedup``: runs of the default scenario per
  second (one core), from config to the states and outcomes tables, measured in this process;
- ``scaling``: seconds per turn (one run, one core) for 16, 64, 256 and 1,024 actors (the five
  powers plus synthetic states), and ``scaling_exponent``, the least-squares slope of
  log(seconds per turn) on log(actors) from 64 to 1,024 (2 = grows like the number of pairs);
- ``sweep_runs``, ``sweep_seconds``, ``sweep_peak_memory_mb``: a sweep of the default scenario
  written to disk (states and outcomes) by ``workers`` processes with the ensemble engine;
  peak memory is the sum of the workers' peak resident sets (they run at once);
- ``cores``: the machine's core count.

Figures are measured, never asserted: tests do not time anything. Options (``key=value``):
``mesa_runs=4 ensemble_runs=1000 sweep_runs=10000 workers=2 out=results/bench``.
"""

from __future__ import annotations

import os

# One thread per process: the per-core figures must not borrow the other core through BLAS.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import json  # noqa: E402
import multiprocessing  # noqa: E402
import resource  # noqa: E402
import string  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.ensemble import draw_noise, simulate_ensemble, stream_ensemble  # noqa: E402
from sim.initial import initial_conditions, repeat_runs  # noqa: E402
from sim.inputs import DATA_DIR, build_inputs  # noqa: E402
from sim.model import AlignmentModel  # noqa: E402
from sim.params import ActorParams, Params, RunParams  # noqa: E402
from sim.records import run_id_for, tables  # noqa: E402
from sim.turn import advance  # noqa: E402

DEFAULTS = {
    "mesa_runs": 4,
    "ensemble_runs": 1000,
    "sweep_runs": 10000,
    "workers": 2,
    "scaling_turns": 12,
    "out": "results/bench",
}
SCALING_SIZES = (16, 64, 256, 1024)
FIT_FROM = 64
POWERS = ("CHN", "JPN", "USA", "RUS", "PRK")


def parse_options(argv: list[str]) -> dict[str, object]:
    """``key=value`` options over :data:`DEFAULTS`; an unknown key or a bad value is an error."""
    options: dict[str, object] = dict(DEFAULTS)
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep or key not in DEFAULTS:
            raise SystemExit(f"error: option {arg!r}; allowed: {', '.join(f'{k}=...' for k in DEFAULTS)}")
        if isinstance(DEFAULTS[key], int):
            if not value.isdigit() or int(value) < 1:
                raise SystemExit(f"error: {key}={value!r}; allowed: an integer >= 1")
            options[key] = int(value)
        else:
            options[key] = value
    return options


def mesa_runs_per_s(params: Params, runs: int) -> float:
    """Runs per second of the Mesa engine, config to states and outcomes tables."""
    started = time.perf_counter()
    for seed in range(runs):
        model = AlignmentModel(params, seed)
        while model.running:
            model.step()
        traj = model.trajectory(run_id_for(params, seed), keep_dyads=False, keep_actions=False)
        tables(traj, params.params.outcome.action_log_threshold, ("states", "outcomes"))
    return runs / (time.perf_counter() - started)


def ensemble_runs_per_s(params: Params, runs: int) -> float:
    """Runs per second of the ensemble engine, config to states and outcomes tables."""
    started = time.perf_counter()
    simulate_ensemble(params, list(range(runs)), names=("states", "outcomes"))
    return runs / (time.perf_counter() - started)


def synthetic_actor_params(n_actors: int, folder: Path, seed: int = 0) -> Params:
    """Params for ``n_actors`` actors: the five powers of the default set plus synthetic states.

    Synthetic states get random positions in Southeast Asia and random attributes within the
    ranges of the real ones; their rows are written to an attribute file in ``folder``.
    """
    real = pd.read_csv(DATA_DIR / "actors.csv").set_index("code")
    rng = np.random.default_rng(seed)
    letters = string.ascii_uppercase
    codes = [a + b + c for a in letters for b in letters for c in letters if a + b + c not in real.index]
    extra = n_actors - len(POWERS)
    template = pd.Series(real.loc["VNM"])
    rows = [real.loc[c] for c in POWERS]
    for code in codes[:extra]:
        row = template.copy()
        row["name"] = f"Synthetic {code}"
        row["ref_lat"] = rng.uniform(-8, 25)
        row["ref_lon"] = rng.uniform(95, 130)
        row["gdp_2010_usd_bn"] = rng.uniform(10, 800)
        row["milex_share_gdp_2010"] = rng.uniform(0.5, 3.0)
        row["alignment_2010"] = rng.uniform(-0.6, 0.6)
        row["dispute_with_china"] = rng.choice([0.0, 0.5, 1.0])
        row["trade_share_china"] = rng.uniform(0.05, 0.3)
        row["trade_share_us"] = rng.uniform(0.0, 0.2)
        row["trade_share_japan"] = rng.uniform(0.0, 0.15)
        rows.append(row.rename(code))
    frame = pd.DataFrame(rows)
    frame.index.name = "code"
    path = folder / f"actors_{n_actors}.csv"
    frame.reset_index().to_csv(path, index=False)
    synthetic = list(frame.index[len(POWERS) :])
    actors = ActorParams(codes=tuple(frame.index), attributes_file=str(path), region=tuple(synthetic))
    return Params(actors=actors, run=RunParams(spinup_quarters=0))


def seconds_per_turn(params: Params, turns: int) -> float:
    """Median wall time of one turn of one run (after a warm-up turn)."""
    inputs = build_inputs(params)
    state, anchors = repeat_runs(*initial_conditions(params), 1)
    noise = draw_noise([0], inputs.n_turns, inputs.n_actors)
    times = []
    for turn in range(1, min(turns + 2, inputs.n_turns)):
        started = time.perf_counter()
        state, _, _ = advance(state, anchors, inputs, params.params, turn, noise[turn])
        times.append(time.perf_counter() - started)
    return float(np.median(times[1:]))


def scaling(turns: int) -> tuple[dict[int, float], float]:
    """Seconds per turn by number of actors, and the fitted exponent from :data:`FIT_FROM` on."""
    per_turn = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in SCALING_SIZES:
            params = synthetic_actor_params(n, Path(tmp))
            params = replace(params, run=replace(params.run, end_year=params.run.start_year + turns // 4 + 1))
            per_turn[n] = seconds_per_turn(params, turns)
    sizes = np.array([n for n in SCALING_SIZES if n >= FIT_FROM], dtype=float)
    secs = np.array([per_turn[int(n)] for n in sizes])
    exponent = float(np.polyfit(np.log(sizes), np.log(secs), 1)[0])
    return per_turn, exponent


def _sweep_worker(args: tuple[int, int, str]) -> tuple[int, float]:
    first, count, folder = args
    stream_ensemble(Params(), list(range(first, first + count)), Path(folder))
    own_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux
    return count, own_peak_mb


def sweep(runs: int, workers: int, folder: Path) -> tuple[float, float]:
    """Wall time and peak memory (MB) of ``runs`` default runs written to disk by ``workers`` processes.

    The memory is the sum of the workers' peak resident sets (all run at once: an upper bound of
    the sweep's footprint); the launching process only waits.
    """
    share = -(-runs // workers)
    jobs = [(k * share, min(share, runs - k * share), str(folder / f"part{k}")) for k in range(workers)]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
        results = list(pool.map(_sweep_worker, [j for j in jobs if j[1] > 0]))
    seconds = time.perf_counter() - started
    assert sum(count for count, _ in results) == runs
    return seconds, sum(peak for _, peak in results)


def main(argv: list[str]) -> dict[str, object]:
    """Run every benchmark, print the table, write bench.json; return the figures."""
    options = parse_options(argv)
    params = Params()
    mesa = mesa_runs_per_s(params, int(options["mesa_runs"]))  # type: ignore[call-overload]
    ensemble = ensemble_runs_per_s(params, int(options["ensemble_runs"]))  # type: ignore[call-overload]
    per_turn, exponent = scaling(int(options["scaling_turns"]))  # type: ignore[call-overload]
    with tempfile.TemporaryDirectory() as tmp:
        sweep_seconds, sweep_memory = sweep(int(options["sweep_runs"]), int(options["workers"]), Path(tmp))  # type: ignore[call-overload]
    figures: dict[str, object] = {
        "mesa_runs_per_s": round(mesa, 3),
        "ensemble_runs_per_s": round(ensemble, 1),
        "speedup": round(ensemble / mesa, 1),
        "scaling_seconds_per_turn": {str(n): round(s, 6) for n, s in per_turn.items()},
        "scaling_exponent": round(exponent, 3),
        "sweep_runs": options["sweep_runs"],
        "sweep_workers": options["workers"],
        "sweep_seconds": round(sweep_seconds, 2),
        "sweep_peak_memory_mb": round(sweep_memory, 1),
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
    }
    out = Path(str(options["out"]))
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"{'benchmark':<40} {'value':>14}")
    print(f"{'Mesa engine, runs/s (1 core)':<40} {mesa:>14.3f}")
    print(f"{'ensemble engine, runs/s (1 core)':<40} {ensemble:>14.1f}")
    print(f"{'speedup (same process)':<40} {ensemble / mesa:>14.1f}")
    for n, s in per_turn.items():
        print(f"{f'seconds per turn, {n} actors':<40} {s:>14.6f}")
    print(f"{f'scaling exponent ({FIT_FROM}-{SCALING_SIZES[-1]} actors)':<40} {exponent:>14.3f}")
    print(f"{f'sweep of {options["sweep_runs"]} runs, seconds':<40} {sweep_seconds:>14.2f}")
    print(f"{'sweep peak memory, MB':<40} {sweep_memory:>14.1f}")
    print(f"wrote {out / 'bench.json'}")
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
