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
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from sim import drivers as registry
from sim.initial import initial_conditions, repeat_runs
from sim.inputs import RunInputs, build_inputs, with_run_knobs
from sim.params import Params, params_digest
from sim.records import TABLES, Recorder, Trajectory, arrow_tables, run_id_for
from sim.store import stream_tables
from sim.turn import N_NOISE, Anchors, State, advance

DEFAULT_CHUNK = 250  # runs per batch: ~0.3 MB of working memory a run, throughput flat from ~100


def draw_noise(seeds: Sequence[int], n_turns: int, n_actors: int) -> np.ndarray:
    """Each run's standard normal draws, stacked: shape (T, R, N, N_NOISE).

    Identical to the Mesa model's draw for the same seed (its first use of the generator). Each
    run's draw is written in place (run axis first), and the result is a view with turns first.
    """
    extra = len(registry.noisy())  # drivers with their own streams (sim/drivers/spec.py)
    draws = np.empty((len(seeds), n_turns, n_actors, N_NOISE + extra))
    for k, seed in enumerate(seeds):
        if extra:
            draws[k, ..., :N_NOISE] = np.random.default_rng(seed).standard_normal((n_turns, n_actors, N_NOISE))
            draws[k, ..., N_NOISE:] = registry.driver_noise(seed, n_turns, n_actors)
        else:
            np.random.default_rng(seed).standard_normal(out=draws[k])
    return draws.transpose(1, 0, 2, 3)


@dataclass(frozen=True)
class Start:
    """What every run of a batch shares, computed once: the inputs, the spun-up start and its anchors.

    The start is the factual one whatever the driver knobs (``initial_conditions``), and the
    inputs differ between parameter sets batched together (they differ in drivers and scenario
    name only) in their knob factors only, which each batch sets per run (``with_run_knobs``).
    """

    params: Params  # the parameter set the inputs were built for
    inputs: RunInputs
    state: State  # leading run axis of length 1
    anchors: Anchors

    @classmethod
    def of(cls, params: Params) -> Start:
        """The start of ``params`` (a deterministic spin-up: no random numbers)."""
        return cls(params, build_inputs(params), *initial_conditions(params))


def check_batch(params_list: Sequence[Params]) -> None:
    """Raise ValueError unless the parameter sets differ in driver knobs and scenario name only."""
    first = params_list[0]
    for other in params_list[1:]:
        if other is first:
            continue
        if replace(other, drivers=first.drivers, scenario=first.scenario) != first:
            raise ValueError("runs batched together may differ only in drivers and scenario name")
        if other.scenario.events != first.scenario.events:
            raise ValueError("runs batched together must share the scenario's events")


def simulate_runs(
    params_list: Sequence[Params],
    seeds: Sequence[int],
    *,
    keep_dyads: bool = True,
    keep_actions: bool = True,
    start: Start | None = None,
    digests: dict[int, str] | None = None,
) -> Trajectory:
    """Run ``params_list[k]`` with ``seeds[k]`` for every k at once; return the recorded trajectory.

    The parameter sets may differ in their driver knobs only (counterfactuals side by side):
    they share the factual start, the data and the behavioural parameters. ``start`` (the
    batch's :class:`Start`) and ``digests`` (parameter digest by ``id`` of each set) may be
    passed by a caller that runs the same parameter sets in several chunks, so that the inputs,
    the spin-up and the digests are computed once, not once per chunk.
    """
    if not seeds:
        raise ValueError("seeds is empty; allowed: one or more seeds")
    if len(params_list) != len(seeds):
        raise ValueError(f"{len(params_list)} parameter sets for {len(seeds)} seeds; allowed: one per seed")
    first = params_list[0]
    start = start or Start.of(first)
    check_batch([start.params, *params_list])
    inputs = start.inputs
    if any(p.drivers != start.params.drivers for p in params_list):
        inputs = with_run_knobs(inputs, list(params_list))
    state, anchors = repeat_runs(start.state, start.anchors, len(seeds))
    noise = draw_noise(seeds, inputs.n_turns, inputs.n_actors)
    recorder = Recorder(inputs, first.params, keep_dyads=keep_dyads, keep_actions=keep_actions)
    recorder.record(state, None)
    for turn in range(1, inputs.n_turns):
        state, actions, _ = advance(state, anchors, inputs, first.params, turn, noise[turn])
        recorder.record(state, actions)
    digests = {} if digests is None else digests  # by object: a batch usually repeats one parameter set
    for p in params_list:
        if id(p) not in digests:
            digests[id(p)] = params_digest(p)
    run_ids = tuple(run_id_for(p, seed, digests[id(p)]) for p, seed in zip(params_list, seeds, strict=True))
    return recorder.trajectory(run_ids, tuple(int(s) for s in seeds), first.actors.us_pole)


def simulate_chunk(
    params: Params,
    seeds: Sequence[int],
    *,
    keep_dyads: bool = True,
    keep_actions: bool = True,
    start: Start | None = None,
    digests: dict[int, str] | None = None,
) -> Trajectory:
    """Run one parameter set for every seed in ``seeds`` at once; return the recorded trajectory."""
    return simulate_runs(
        [params] * len(seeds), seeds, keep_dyads=keep_dyads, keep_actions=keep_actions, start=start, digests=digests
    )


def chunk_tables(
    params_list: Sequence[Params], seeds: Sequence[int], names: tuple[str, ...], chunk_size: int
) -> Iterator[dict[str, pa.Table]]:
    """Arrow tables of every parameter set in ``params_list`` run once per seed, one chunk of runs at a time.

    Runs are in the order of ``params_list``, then ``seeds``, in chunks of at most ``chunk_size``;
    the spin-up and the parameter digests are computed once for all chunks.
    """
    if not params_list:
        raise ValueError("params_list is empty; allowed: one or more parameter sets")
    if not seeds:
        raise ValueError("seeds is empty; allowed: one or more seeds")
    check_batch(params_list)
    runs = [(p, int(s)) for p in params_list for s in seeds]
    start, digests = Start.of(params_list[0]), {id(p): params_digest(p) for p in params_list}
    threshold = params_list[0].params.outcome.action_log_threshold
    for block in chunks(runs, chunk_size):
        traj = simulate_runs(
            [p for p, _ in block],
            [s for _, s in block],
            keep_dyads="dyads" in names,
            keep_actions="actions" in names,
            start=start,
            digests=digests,
        )
        yield arrow_tables(traj, threshold, names)


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
    parts: dict[str, list[pa.Table]] = {name: [] for name in names}
    for chunk in chunk_tables(params_list, seeds, names, chunk_size):
        for name, table in chunk.items():
            parts[name].append(table)
    return {name: pa.concat_tables(chunk).to_pandas() for name, chunk in parts.items()}


def chunks[T](items: Sequence[T], size: int) -> Iterator[list[T]]:
    """``items`` in consecutive chunks of at most ``size``."""
    if size < 1:
        raise ValueError(f"chunk_size={size}; allowed: an integer >= 1")
    for first in range(0, len(items), size):
        yield list(items[first : first + size])


def simulate_ensemble(
    params: Params, seeds: Sequence[int], *, names: tuple[str, ...] = TABLES, chunk_size: int = DEFAULT_CHUNK
) -> dict[str, pd.DataFrame]:
    """Result tables of one parameter set run once per seed (the tables of all runs, concatenated).

    Holds every table in memory: for very many runs use :func:`stream_ensemble`.
    """
    return simulate_many([params], seeds, names=names, chunk_size=chunk_size)


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
    return stream_tables(folder, chunk_tables([params], seeds, names, chunk_size), names)
