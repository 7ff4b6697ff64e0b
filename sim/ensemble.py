"""The many-run engine: R runs of one parameter set at once, through the same turn phases.

The Mesa model (``sim/model.py``) is the reference: each agent computes its own row of each
phase of ``sim/turn.py``. This engine computes all rows of all runs in one call per phase, with
a leading run axis. Every run draws its random numbers exactly as the Mesa model does (one
``default_rng(seed).standard_normal((T, N, 6))`` array), so the same parameters and seed give
the same tables in both engines (tested to 1e-12).

Runs are processed in chunks (``chunk_size``) so that memory stays flat however many runs are
asked for; :func:`stream_ensemble` writes each chunk's tables to parquet before the next.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from sim.initial import initial_conditions, repeat_runs
from sim.inputs import build_inputs, with_run_knobs
from sim.params import Params, params_digest
from sim.records import TABLES, Recorder, Trajectory, run_id_for, tables
from sim.store import TableStreamWriter
from sim.turn import N_NOISE, advance

DEFAULT_CHUNK = 250  # runs per batch: ~0.3 MB of working memory a run, throughput flat from ~100


def draw_noise(seeds: Sequence[int], n_turns: int, n_actors: int) -> np.ndarray:
    """Each run's standard normal draws, stacked: shape (T, R, N, N_NOISE).

    Identical to the Mesa model's draw for the same seed (its first use of the generator).
    """
    draws = [np.random.default_rng(seed).standard_normal((n_turns, n_actors, N_NOISE)) for seed in seeds]
    return np.stack(draws, axis=1)


def simulate_runs(
    params_list: Sequence[Params], seeds: Sequence[int], *, keep_dyads: bool = True, keep_actions: bool = True
) -> Trajectory:
    """Run ``params_list[k]`` with ``seeds[k]`` for every k at once; return the recorded trajectory.

    The parameter sets may differ in their driver knobs only (counterfactuals side by side):
    they share the factual start, the data and the behavioural parameters.
    """
    if not seeds:
        raise ValueError("seeds is empty; allowed: one or more seeds")
    if len(params_list) != len(seeds):
        raise ValueError(f"{len(params_list)} parameter sets for {len(seeds)} seeds; allowed: one per seed")
    first = params_list[0]
    for other in params_list[1:]:
        if replace(other, drivers=first.drivers, scenario=first.scenario) != first:
            raise ValueError("runs batched together may differ only in drivers and scenario name")
        if other.scenario.events != first.scenario.events:
            raise ValueError("runs batched together must share the scenario's events")
    inputs = build_inputs(first)
    if any(p.drivers != first.drivers for p in params_list):
        inputs = with_run_knobs(inputs, list(params_list))
    state, anchors = repeat_runs(*initial_conditions(first), len(seeds))
    noise = draw_noise(seeds, inputs.n_turns, inputs.n_actors)
    recorder = Recorder(inputs, first.params, keep_dyads=keep_dyads, keep_actions=keep_actions)
    recorder.record(state, None)
    for turn in range(1, inputs.n_turns):
        state, actions, _ = advance(state, anchors, inputs, first.params, turn, noise[turn])
        recorder.record(state, actions)
    digests: dict[int, str] = {}  # by object: the batch usually repeats one parameter set
    for p in params_list:
        if id(p) not in digests:
            digests[id(p)] = params_digest(p)
    run_ids = tuple(run_id_for(p, seed, digests[id(p)]) for p, seed in zip(params_list, seeds, strict=True))
    return recorder.trajectory(run_ids, tuple(int(s) for s in seeds), first.actors.us_pole)


def simulate_chunk(
    params: Params, seeds: Sequence[int], *, keep_dyads: bool = True, keep_actions: bool = True
) -> Trajectory:
    """Run one parameter set for every seed in ``seeds`` at once; return the recorded trajectory."""
    return simulate_runs([params] * len(seeds), seeds, keep_dyads=keep_dyads, keep_actions=keep_actions)


def simulate_many(
    params_list: Sequence[Params],
    seeds: Sequence[int],
    *,
    names: tuple[str, ...] = TABLES,
    chunk_size: int = DEFAULT_CHUNK,
) -> dict[str, pd.DataFrame]:
    """Tables of every parameter set in ``params_list`` run once per seed in ``seeds``.

    Parameter sets that differ only in their driver knobs run side by side in batches of at most
    ``chunk_size`` runs; the tables are in the order of ``params_list``, then ``seeds``.
    """
    if not params_list:
        raise ValueError("params_list is empty; allowed: one or more parameter sets")
    if not seeds:
        raise ValueError("seeds is empty; allowed: one or more seeds")
    runs = [(p, int(s)) for p in params_list for s in seeds]
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in names}
    for start in range(0, len(runs), chunk_size):
        block = runs[start : start + chunk_size]
        traj = simulate_runs(
            [p for p, _ in block], [s for _, s in block], keep_dyads="dyads" in names, keep_actions="actions" in names
        )
        for name, frame in tables(traj, params_list[0].params.outcome.action_log_threshold, names).items():
            parts[name].append(frame)
    return {name: pd.concat(frames, ignore_index=True) for name, frames in parts.items()}


def chunks(seeds: Sequence[int], size: int) -> Iterator[list[int]]:
    """``seeds`` in consecutive chunks of at most ``size``."""
    if size < 1:
        raise ValueError(f"chunk_size={size}; allowed: an integer >= 1")
    for start in range(0, len(seeds), size):
        yield [int(s) for s in seeds[start : start + size]]


def simulate_ensemble(
    params: Params, seeds: Sequence[int], *, names: tuple[str, ...] = TABLES, chunk_size: int = DEFAULT_CHUNK
) -> dict[str, pd.DataFrame]:
    """Result tables of one parameter set run once per seed (the tables of all runs, concatenated).

    Holds every table in memory: for very many runs use :func:`stream_ensemble`.
    """
    if not seeds:
        raise ValueError("seeds is empty; allowed: one or more seeds")
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in names}
    for block in chunks(seeds, chunk_size):
        traj = simulate_chunk(params, block, keep_dyads="dyads" in names, keep_actions="actions" in names)
        for name, frame in tables(traj, params.params.outcome.action_log_threshold, names).items():
            parts[name].append(frame)
    return {name: pd.concat(frames, ignore_index=True) for name, frames in parts.items()}


def stream_ensemble(
    params: Params,
    seeds: Sequence[int],
    folder: Path,
    *,
    names: tuple[str, ...] = ("states", "outcomes"),
    chunk_size: int = DEFAULT_CHUNK,
) -> dict[str, Path]:
    """Run ``params`` once per seed, chunk by chunk, appending each table to ``folder/<name>.parquet``.

    Memory stays that of one chunk. Each file appears under its final name only when complete.
    """
    writers = {name: TableStreamWriter(Path(folder) / f"{name}.parquet") for name in names}
    try:
        for block in chunks(seeds, chunk_size):
            traj = simulate_chunk(params, block, keep_dyads="dyads" in names, keep_actions="actions" in names)
            for name, frame in tables(traj, params.params.outcome.action_log_threshold, names).items():
                writers[name].write(frame)
    except BaseException:
        for writer in writers.values():
            writer.abort()
        raise
    return {name: writer.close() for name, writer in writers.items()}
