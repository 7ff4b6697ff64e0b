"""Benchmarks of the two engines: ``python -m experiments.bench`` (``make bench``).

Prints a table and writes ``results/bench/bench.json`` with

- ``mesa_runs_per_s``, ``ensemble_runs_per_s``, ``speedup``: runs of the default scenario per
  second (one core), end to end: from the config to the states and outcomes tables written to
  parquet. Each of ``repeats`` rounds times both engines back to back in this process; the
  figures are the medians over rounds, ``speedup`` the median of the rounds' ratios;
- ``turn_loop_runs_per_s``: the ensemble's turn loop alone (one chunk of runs, no recording);
- ``shapley_seconds_per_parameter_set``: one Shapley step of q3 (32 coalitions of one parameter
  set and seed, simulated and post-processed to the drivers' shares);
- ``points_alone_per_s``, ``points_batched_per_s``, ``points_speedup``: parameter points per
  second (one core) of a calibration-like workload: ``points`` points of a Latin hypercube over
  the default priors (``configs/priors/default.yaml``), each run for ``points_seeds`` seeds to
  states and outcomes trajectories (spin-up included), one point at a time
  (``simulate_chunk``) and side by side (``simulate_points``); the same points and seeds in this
  process, each of ``repeats`` rounds timing both back to back (medians; ``points_speedup`` the
  median of the rounds' ratios);
- ``cli_help_seconds``: wall time of ``python -m sim --help`` in a fresh interpreter (median);
- ``scaling_seconds_per_turn``: seconds per turn (one run, one core) for 16 to 2,048 actors (the
  five powers plus synthetic states spread over the globe), ``scaling_exponent`` (least-squares
  slope of log seconds on log actors from 64 actors on; 2 = grows like the number of pairs),
  ``scaling_cubic_share`` (the share of a turn spent in the O(N^3) product of eq. 4, the
  spill-over of targeted acts), ``scaling_cubic_dominates_from`` (the first size at which that
  product takes more than half of a turn, or null), ``scaling_finite`` (every state variable of
  every benchmarked run finite: timings of overflowed arithmetic would not be timings of the
  model) and ``scaling_max_spending_share_gdp`` (the largest defence share reached, per size);
- ``sweep_runs``, ``sweep_seconds``, ``sweep_peak_memory_mb``: a sweep of the default scenario
  written to disk (states and outcomes) by ``workers`` processes with the ensemble engine;
  peak memory is the sum of the workers' peak resident sets (they run at once);
- ``single_job_2000_peak_mb``, ``single_job_2000_seconds``: peak resident memory and wall time of
  the command ``python -m sim replicates=2000`` (all four tables streamed to disk, figures); the
  key names the ``single_job_replicates`` option's value;
- ``verdict_seconds``: the posterior verdict, ``python -m experiments.q2_driver_shares`` with
  ``verdict_draws`` posterior draws (every coalition of the registered drivers, ensemble engine,
  its default workers), from an empty folder;
- ``make_run_seconds``: what ``make run`` does, ``python -m sim`` then ``python -m
  experiments.report`` (which makes the experiments and scenario discovery it lacks), from an
  empty ``results/`` (a temporary folder); ``make_run=0`` skips it (it takes minutes);
- ``load_average``: the machine's 1-minute load at the start and at the end (a shared machine
  slows every figure; the ratios measured in one round are the robust ones), ``cores``.

Figures are measured, never asserted: tests do not time anything. Options (``key=value``):
``mesa_runs=4 ensemble_runs=1000 repeats=3 points=100 points_seeds=2 sweep_runs=10000 workers=2 scaling_turns=12
scaling_max=2048 cli_repeats=5 single_job_replicates=2000 verdict_draws=200 make_run=1 out=results/bench``.
"""

from __future__ import annotations

import os

# One thread per process: the per-core figures must not borrow the other core through BLAS.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import json  # noqa: E402
import multiprocessing  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import string  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from dataclasses import dataclass, replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim import dynamics  # noqa: E402
from sim.ensemble import DEFAULT_CHUNK, Start, draw_noise, simulate_chunk, simulate_points, stream_ensemble  # noqa: E402
from sim.initial import pick_runs  # noqa: E402
from sim.inputs import DATA_DIR  # noqa: E402
from sim.params import ActorParams, Params, RunParams  # noqa: E402
from sim.store import write_table  # noqa: E402
from sim.turn import State, advance  # noqa: E402

DEFAULTS = {
    "mesa_runs": 4,
    "ensemble_runs": 1000,
    "repeats": 3,
    "points": 100,
    "points_seeds": 2,
    "sweep_runs": 10000,
    "workers": 2,
    "scaling_turns": 12,
    "scaling_max": 2048,
    "cli_repeats": 5,
    "single_job_replicates": 2000,
    "verdict_draws": 200,
    "make_run": 1,
    "out": "results/bench",
}
SCALING_SIZES = (16, 64, 256, 1024, 2048)
FIT_FROM = 64
POWERS = ("CHN", "JPN", "USA", "RUS", "PRK")
SHAPLEY_YEARS = (2011, 2024)  # q3's default from_year and to_year
REPO_ROOT = Path(__file__).resolve().parent.parent


def parse_options(argv: list[str]) -> dict[str, object]:
    """``key=value`` options over :data:`DEFAULTS`; an unknown key or a bad value is an error."""
    options: dict[str, object] = dict(DEFAULTS)
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep or key not in DEFAULTS:
            raise SystemExit(f"error: option {arg!r}; allowed: {', '.join(f'{k}=...' for k in DEFAULTS)}")
        if isinstance(DEFAULTS[key], int):
            least = 0 if key == "make_run" else 1
            if not value.isdigit() or int(value) < least:
                raise SystemExit(f"error: {key}={value!r}; allowed: an integer >= {least}")
            options[key] = int(value)
        else:
            options[key] = value
    return options


def mesa_runs_per_s(runs: int, folder: Path) -> float:
    """Runs per second of the Mesa engine, config to states and outcomes tables written to parquet."""
    from sim.model import AlignmentModel  # the Mesa engine only here: the rest never imports Mesa
    from sim.records import run_id_for, tables

    started = time.perf_counter()
    params = Params()
    for seed in range(runs):
        model = AlignmentModel(params, seed)
        while model.running:
            model.step()
        traj = model.trajectory(run_id_for(params, seed), keep_dyads=False, keep_actions=False)
        for name, frame in tables(traj, params.params.outcome.action_log_threshold, ("states", "outcomes")).items():
            write_table(folder / f"{name}-{seed}.parquet", frame)
    return runs / (time.perf_counter() - started)


def ensemble_runs_per_s(runs: int, folder: Path) -> float:
    """Runs per second of the ensemble engine, config to states and outcomes tables written to parquet."""
    started = time.perf_counter()
    stream_ensemble(Params(), list(range(runs)), folder)
    return runs / (time.perf_counter() - started)


def turn_loop_runs_per_s(runs: int = DEFAULT_CHUNK) -> float:
    """Runs per second of the ensemble's turn loop alone (start, noise and tables excluded)."""
    params = Params()
    start = Start.of(params)
    inputs = start.inputs
    state, anchors = pick_runs(start.state, np.zeros(runs, int)), pick_runs(start.anchors, np.zeros(runs, int))
    noise = draw_noise(list(range(runs)), inputs.n_turns, inputs.n_actors)
    started = time.perf_counter()
    for turn in range(1, inputs.n_turns):
        state, _, _ = advance(state, anchors, inputs, params.params, turn, noise[turn])
    return runs / (time.perf_counter() - started)


def prior_points(n_points: int) -> list[Params]:
    """``n_points`` parameter points of a Latin hypercube (seed 0) over the default priors."""
    import yaml

    from experiments.sampling import latin_hypercube, load_priors, point_params

    base = Params()
    ranges = yaml.safe_load((REPO_ROOT / "configs" / "priors" / "default.yaml").read_text(encoding="utf-8"))["ranges"]
    priors = load_priors(ranges, base)
    return [point_params(base, priors, values) for values in latin_hypercube(priors, n_points, 0)]


def points_per_s(points: list[Params], seeds_per_point: int) -> tuple[float, float]:
    """Parameter points per second, one at a time and side by side (same points and seeds, trajectories only)."""
    seeds = [[1000 + k * seeds_per_point + j for j in range(seeds_per_point)] for k in range(len(points))]
    started = time.perf_counter()
    for point, point_seeds in zip(points, seeds, strict=True):
        simulate_chunk(point, point_seeds, keep_dyads=False, keep_actions=False)
    alone = len(points) / (time.perf_counter() - started)
    started = time.perf_counter()
    for _ in simulate_points(points, seeds):
        pass
    return alone, len(points) / (time.perf_counter() - started)


def parameter_points(n_points: int, seeds_per_point: int, repeats: int) -> dict[str, object]:
    """The ``points_*`` figures: medians over ``repeats`` rounds of :func:`points_per_s`."""
    points = prior_points(n_points)
    rounds = [points_per_s(points, seeds_per_point) for _ in range(repeats)]
    return {
        "points_n": n_points,
        "points_seeds_per_point": seeds_per_point,
        "points_alone_per_s": round(statistics.median(a for a, _ in rounds), 2),
        "points_batched_per_s": round(statistics.median(b for _, b in rounds), 2),
        "points_speedup": round(statistics.median(b / a for a, b in rounds), 1),
    }


def shapley_seconds() -> float:
    """Seconds of one Shapley step of q3: every coalition of drivers for one parameter set and seed."""
    from experiments.q3_sensitivity import shapley_point

    started = time.perf_counter()
    shapley_point(Params(), 0, *SHAPLEY_YEARS, 0.5)
    return time.perf_counter() - started


def cli_help_seconds(repeats: int) -> float:
    """Median wall time of ``python -m sim --help`` in a fresh interpreter."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sim", "--help"], check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def single_job(replicates: int, folder: Path) -> tuple[float, float]:
    """Wall time and peak resident memory (MB) of ``python -m sim replicates=<replicates>``.

    The command a user types (all four tables, figures), in a child process whose own peak is
    read from ``wait4``.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "sim", f"replicates={replicates}", f"results_root={folder}"]
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        stderr = child.stderr.read().decode() if child.stderr else ""
        raise SystemExit(f"error: {' '.join(command)} failed ({child.returncode}): {stderr[-2000:]}")
    return seconds, usage.ru_maxrss / 1024.0  # KiB on Linux


def commands_seconds(commands: list[list[str]], cwd: Path) -> float:
    """Wall time of ``python -m <command>`` commands run one after the other in ``cwd`` (each must succeed)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    started = time.perf_counter()
    for command in commands:
        subprocess.run([sys.executable, "-m", *command], cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def fibonacci_sphere(count: int) -> tuple[np.ndarray, np.ndarray]:
    """Latitudes and longitudes (degrees) of ``count`` points spread evenly over the globe."""
    k = np.arange(count) + 0.5
    lat = np.degrees(np.arcsin(1.0 - 2.0 * k / count))
    lon = (np.degrees(np.pi * (1.0 + 5.0**0.5) * k) + 180.0) % 360.0 - 180.0
    return lat, lon


def synthetic_actor_params(n_actors: int, folder: Path, seed: int = 0) -> Params:
    """Params for ``n_actors`` actors: the five powers of the default set plus synthetic states.

    Synthetic states take the attributes of a Southeast Asian state (Vietnam) with GDP, defence
    share, alignment, dispute and trade shares drawn within the ranges of the real ones, and
    positions spread evenly over the globe, as the world's states are: packed into Southeast
    Asia, a thousand states would each have hundreds of neighbours within a threat's reach and
    their summed threat overflows ``exp()`` within a few quarters (NaN at 2,048 actors). Spread
    out, every run stays finite; from 1,024 actors the unbounded Richardson term of eq. 20 still
    drives some defence shares far beyond any real value within the benchmarked quarters (the
    benchmark reports the largest). No spin-up: the benchmark times turns, not the start (a
    spin-up at 2,048 actors takes minutes). Rows are written to an attribute file in ``folder``.
    """
    if n_actors <= len(POWERS):
        raise ValueError(f"n_actors={n_actors}; allowed: more than {len(POWERS)} (the five powers)")
    real = pd.read_csv(DATA_DIR / "actors.csv").set_index("code")
    rng = np.random.default_rng(seed)
    letters = string.ascii_uppercase
    codes = [a + b + c for a in letters for b in letters for c in letters if a + b + c not in real.index]
    extra = n_actors - len(POWERS)
    lat, lon = fibonacci_sphere(extra)
    synthetic = real.loc[["VNM"] * extra].copy()
    synthetic.index = pd.Index(codes[:extra], name="code")
    synthetic["name"] = [f"Synthetic {code}" for code in synthetic.index]
    synthetic["ref_lat"], synthetic["ref_lon"] = lat.round(4), lon.round(4)
    synthetic["gdp_2010_usd_bn"] = rng.uniform(10, 800, extra)
    synthetic["milex_share_gdp_2010"] = rng.uniform(0.5, 3.0, extra)
    synthetic["alignment_2010"] = rng.uniform(-0.6, 0.6, extra)
    synthetic["dispute_with_china"] = rng.choice([0.0, 0.5, 1.0], extra)
    synthetic["trade_share_china"] = rng.uniform(0.05, 0.3, extra)
    synthetic["trade_share_us"] = rng.uniform(0.0, 0.2, extra)
    synthetic["trade_share_japan"] = rng.uniform(0.0, 0.15, extra)
    frame = pd.concat([real.loc[list(POWERS)], synthetic])
    path = folder / f"actors_{n_actors}.csv"
    frame.reset_index().to_csv(path, index=False)
    actors = ActorParams(codes=tuple(frame.index), attributes_file=str(path), region=tuple(synthetic.index))
    return Params(actors=actors, run=RunParams(spinup_quarters=0))


@dataclass(frozen=True)
class ScalingRun:
    """One synthetic run of the scaling benchmark: its timings and its last state."""

    seconds_per_turn: float
    cubic_seconds_per_turn: float
    last: State


def scaling_run(n_actors: int, turns: int, folder: Path) -> ScalingRun:
    """Run ``turns`` turns (after a warm-up turn) of one synthetic run of ``n_actors`` actors.

    Also times, on each turn's state, the O(N^3) product of eq. 4 (every observer's exposure to
    every target times every actor's hostile acts), the term that grows fastest with N.
    """
    params = synthetic_actor_params(n_actors, folder)
    params = replace(params, run=replace(params.run, end_year=params.run.start_year + turns // 4 + 1))
    start = Start.of(params)
    inputs = start.inputs
    state, anchors = start.state, start.anchors
    noise = draw_noise([0], inputs.n_turns, inputs.n_actors)
    times, cubic = [], []
    for turn in range(1, min(turns + 2, inputs.n_turns)):
        started = time.perf_counter()
        state, actions, _ = advance(state, anchors, inputs, params.params, turn, noise[turn])
        times.append(time.perf_counter() - started)
        started = time.perf_counter()
        dynamics.targeted_evidence(state.threat, actions.coercion + actions.criticism + actions.derisking)
        cubic.append(time.perf_counter() - started)
    return ScalingRun(float(np.median(times[1:])), float(np.median(cubic[1:])), state)


def is_finite(state: State) -> bool:
    """True if every state variable is finite (no ceiling is inf by design: those are left out)."""
    return all(bool(np.isfinite(v).all()) for k, v in vars(state).items() if k != "ceiling")


def scaling(turns: int, largest: int) -> dict[str, object]:
    """Seconds per turn, the O(N^3) share and finiteness by number of actors, and the fitted exponent."""
    sizes = [n for n in SCALING_SIZES if n <= largest]
    with tempfile.TemporaryDirectory() as tmp:
        runs = {n: scaling_run(n, turns, Path(tmp)) for n in sizes}
    fitted = [n for n in sizes if n >= FIT_FROM]
    secs = [runs[n].seconds_per_turn for n in fitted]
    exponent = float(np.polyfit(np.log(fitted), np.log(secs), 1)[0]) if len(fitted) > 1 else float("nan")
    share = {n: r.cubic_seconds_per_turn / r.seconds_per_turn for n, r in runs.items()}
    return {
        "scaling_seconds_per_turn": {str(n): round(r.seconds_per_turn, 6) for n, r in runs.items()},
        "scaling_exponent": round(exponent, 3),
        "scaling_cubic_share": {str(n): round(s, 3) for n, s in share.items()},
        "scaling_cubic_dominates_from": next((n for n in sizes if share[n] > 0.5), None),
        "scaling_finite": all(is_finite(r.last) for r in runs.values()),
        "scaling_max_spending_share_gdp": {str(n): round(float(np.max(r.last.spending)), 3) for n, r in runs.items()},
    }


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


def engines(mesa_runs: int, ensemble_runs: int, repeats: int) -> dict[str, object]:
    """Both engines end to end, ``repeats`` rounds back to back; medians, and every round's figures."""
    rounds = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            mesa = mesa_runs_per_s(mesa_runs, Path(tmp))
        with tempfile.TemporaryDirectory() as tmp:
            ensemble = ensemble_runs_per_s(ensemble_runs, Path(tmp))
        rounds.append((mesa, ensemble))
    return {
        "mesa_runs_per_s": round(statistics.median(m for m, _ in rounds), 3),
        "ensemble_runs_per_s": round(statistics.median(e for _, e in rounds), 1),
        "speedup": round(statistics.median(e / m for m, e in rounds), 1),
        "speedup_by_round": [round(e / m, 1) for m, e in rounds],
    }


def main(argv: list[str]) -> dict[str, object]:
    """Run every benchmark, print the table, write bench.json; return the figures."""
    options = parse_options(argv)
    opt = {k: v for k, v in options.items() if isinstance(v, int)}
    load_start = os.getloadavg()[0]
    figures: dict[str, object] = engines(opt["mesa_runs"], opt["ensemble_runs"], opt["repeats"])
    figures["turn_loop_runs_per_s"] = round(statistics.median(turn_loop_runs_per_s() for _ in range(opt["repeats"])), 1)
    figures["shapley_seconds_per_parameter_set"] = round(
        statistics.median(shapley_seconds() for _ in range(opt["repeats"])), 3
    )
    figures.update(parameter_points(opt["points"], opt["points_seeds"], opt["repeats"]))
    figures["cli_help_seconds"] = round(cli_help_seconds(opt["cli_repeats"]), 3)
    figures.update(scaling(opt["scaling_turns"], opt["scaling_max"]))
    with tempfile.TemporaryDirectory() as tmp:
        sweep_seconds, sweep_memory = sweep(opt["sweep_runs"], opt["workers"], Path(tmp))
    replicates = opt["single_job_replicates"]
    with tempfile.TemporaryDirectory() as tmp:
        job_seconds, job_memory = single_job(replicates, Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        q2 = ["experiments.q2_driver_shares", f"experiment.out={tmp}/q2", f"experiment.draws={opt['verdict_draws']}"]
        figures["verdict_draws"] = opt["verdict_draws"]
        figures["verdict_seconds"] = round(commands_seconds([q2], Path(tmp)), 1)
    figures["make_run_seconds"] = None
    if opt["make_run"]:
        with tempfile.TemporaryDirectory() as tmp:
            figures["make_run_seconds"] = round(commands_seconds([["sim"], ["experiments.report"]], Path(tmp)), 1)
    figures.update(
        {
            f"single_job_{replicates}_seconds": round(job_seconds, 1),
            f"single_job_{replicates}_peak_mb": round(job_memory, 1),
            "sweep_runs": opt["sweep_runs"],
            "sweep_workers": opt["workers"],
            "sweep_seconds": round(sweep_seconds, 2),
            "sweep_peak_memory_mb": round(sweep_memory, 1),
            "load_average": [round(load_start, 2), round(os.getloadavg()[0], 2)],
            "cores": os.cpu_count(),
            "python": sys.version.split()[0],
            "numpy": np.__version__,
        }
    )
    out = Path(str(options["out"]))
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(report(figures))
    print(f"wrote {out / 'bench.json'}")
    return figures


def report(figures: dict[str, object]) -> str:
    """The figures as a two-column table."""
    rows = [
        ("Mesa engine, runs/s end to end (1 core)", f"{figures['mesa_runs_per_s']:.3f}"),
        ("ensemble engine, runs/s end to end", f"{figures['ensemble_runs_per_s']:.1f}"),
        ("speedup (same process, median of rounds)", f"{figures['speedup']:.1f}"),
        ("ensemble turn loop, runs/s", f"{figures['turn_loop_runs_per_s']:.1f}"),
        ("Shapley step per parameter set, s", f"{figures['shapley_seconds_per_parameter_set']:.3f}"),
        (
            f"parameter points/s, {figures['points_n']} x {figures['points_seeds_per_point']} seeds, alone",
            f"{figures['points_alone_per_s']:.2f}",
        ),
        ("parameter points/s, side by side", f"{figures['points_batched_per_s']:.2f}"),
        ("parameter points speedup (same process)", f"{figures['points_speedup']:.1f}"),
        ("python -m sim --help, s", f"{figures['cli_help_seconds']:.3f}"),
    ]
    per_turn = figures["scaling_seconds_per_turn"]
    share = figures["scaling_cubic_share"]
    spending = figures["scaling_max_spending_share_gdp"]
    assert isinstance(per_turn, dict) and isinstance(share, dict) and isinstance(spending, dict)
    for n, seconds in per_turn.items():
        rows.append((f"s per turn, {n} actors (O(N^3) share)", f"{seconds:.6f} ({share[n]:.2f})"))
    rows += [
        ("scaling exponent", f"{figures['scaling_exponent']:.3f}"),
        ("O(N^3) product dominates from (actors)", str(figures["scaling_cubic_dominates_from"])),
        ("scaling runs finite", str(figures["scaling_finite"])),
        ("max defence share reached, % GDP", ", ".join(f"{n}: {v:.1f}" for n, v in spending.items())),
        (f"sweep of {figures['sweep_runs']} runs, s", f"{figures['sweep_seconds']:.2f}"),
        ("sweep peak memory, MB", f"{figures['sweep_peak_memory_mb']:.1f}"),
    ]
    for n in [key.split("_")[2] for key in figures if key.startswith("single_job_") and key.endswith("_peak_mb")]:
        rows.append((f"python -m sim replicates={n}, s", f"{figures[f'single_job_{n}_seconds']:.1f}"))
        rows.append((f"python -m sim replicates={n}, peak MB", f"{figures[f'single_job_{n}_peak_mb']:.1f}"))
    rows += [
        (f"posterior verdict, {figures['verdict_draws']} draws, s", str(figures["verdict_seconds"])),
        ("make run from an empty results/, s", str(figures["make_run_seconds"])),
        ("load average (start, end)", str(figures["load_average"])),
    ]
    return "\n".join(f"{name:<44} {value:>20}" for name, value in [("benchmark", "value"), *rows])


if __name__ == "__main__":
    main(sys.argv[1:])
