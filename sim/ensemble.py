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

from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from sim import drivers as registry
from sim.batch import SHARED, batch_key, batch_model_params
from sim.initial import initial_points, join_runs, pick_runs
from sim.inputs import RunInputs, build_inputs, with_run_knobs
from sim.params import DriverParams, ModelParams, Params, params_digest
from sim.records import TABLES, Recorder, Trajectory, arrow_tables, run_id_for
from sim.store import stream_tables
from sim.turn import N_NOISE, Anchors, State, advance

DEFAULT_CHUNK = 250  # runs per batch: ~0.3 MB of working memory a run, throughput flat from ~100
SPINUP_POINTS = 1000  # parameter points spun up side by side at most: ~0.1 MB of working memory each


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
    """What the runs of a batch share, computed once: the inputs; and each parameter point's start.

    The start is the factual one whatever the driver knobs (``initial_conditions``), so runs
    that differ only in their knobs share one start; runs of different parameter points (their
    behavioural parameters, ``params.params``) each read their point's row of ``state`` and
    ``anchors``, spun up side by side (:func:`sim.initial.initial_points`). The inputs of the
    parameter sets batched together differ in their knob factors and the references of their
    policy levels only, which each batch sets per run (``with_run_knobs``).
    """

    params: Params  # the parameter set the inputs were built for
    inputs: RunInputs
    state: State  # one run per point of ``models``
    anchors: Anchors
    models: tuple[ModelParams, ...] = ()  # the points' behavioural parameters, row by row (default: params')

    @classmethod
    def of(cls, params: Params) -> Start:
        """The start of ``params`` (a deterministic spin-up: no random numbers)."""
        return cls.of_points([params])

    @classmethod
    def of_points(cls, points: Sequence[Params], inputs: RunInputs | None = None) -> Start:
        """The starts of every distinct parameter point in ``points`` (same :func:`sim.batch.batch_key`)."""
        models = tuple(dict.fromkeys(p.params for p in points))
        first = points[0]
        inputs = inputs or build_inputs(first)
        start_inputs = inputs if first.drivers == DriverParams() else None  # the factual inputs: reused
        state, anchors = initial_points([replace(first, params=m) for m in models], start_inputs)
        return cls(first, inputs, state, anchors, models)

    def with_points(self, params_list: Sequence[Params]) -> Start:
        """This start (its inputs) for the points of ``params_list`` (same batch key); only new points are spun up."""
        models = tuple(dict.fromkeys(p.params for p in params_list))
        known = {m: k for k, m in enumerate(self.models)}
        new = [m for m in models if m not in known]
        state, anchors = self.state, self.anchors
        if new:
            start_inputs = self.inputs if self.params.drivers == DriverParams() else None
            new_state, new_anchors = initial_points([replace(self.params, params=m) for m in new], start_inputs)
            state, anchors = join_runs(state, new_state), join_runs(anchors, new_anchors)
            known.update({m: len(self.models) + j for j, m in enumerate(new)})
        rows = np.array([known[m] for m in models])
        return replace(self, state=pick_runs(state, rows), anchors=pick_runs(anchors, rows), models=models)

    def rows(self, params_list: Sequence[Params]) -> np.ndarray:
        """The row of ``state`` and ``anchors`` of each parameter set's point.

        Raises
        ------
        ValueError
            A parameter set whose behavioural parameters are not among this start's points.
        """
        models = self.models or (self.params.params,)
        by_id = {id(m): k for k, m in enumerate(models)}
        by_value: dict[ModelParams, int] = {}
        rows = np.empty(len(params_list), dtype=int)
        for k, p in enumerate(params_list):
            row = by_id.get(id(p.params))
            if row is None:
                by_value = by_value or {m: j for j, m in enumerate(models)}
                row = by_value.get(p.params)
            if row is None:
                raise ValueError("a parameter set's behavioural parameters are not among the batch's start points")
            rows[k] = by_id[id(p.params)] = row
        return rows


def check_batch(params_list: Sequence[Params]) -> None:
    """Raise ValueError unless the parameter sets can run side by side (the same :func:`sim.batch.batch_key`).

    They may differ in driver knobs, scenario name and behavioural parameters (the floats of
    :data:`sim.batch.BATCHABLE`); not in actors, run settings, scenario events, alignment rule or
    the parameters that build the inputs.
    """
    first = batch_key(params_list[0])
    for other in params_list[1:]:
        if other is not params_list[0] and batch_key(other) != first:
            raise ValueError(
                "runs batched together may differ only in drivers, scenario name and behavioural parameters "
                "(sim/batch.py BATCHABLE); not in actors, run settings, scenario events, alignment rule or "
                f"{sorted(SHARED)}"
            )


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

    The parameter sets may differ in their driver knobs (counterfactuals side by side) and in
    their behavioural parameters (parameter points side by side, ``sim/batch.py``); they share
    the data, the actors, the run settings and the scenario's events. Each run starts from its
    point's factual start. ``start`` (the batch's :class:`Start`, holding every point of
    ``params_list``) and ``digests`` (parameter digest by ``id`` of each set) may be passed by a
    caller that runs the same parameter sets in several chunks, so that the inputs, the spin-up
    and the digests are computed once, not once per chunk.
    """
    if not seeds:
        raise ValueError("seeds is empty; allowed: one or more seeds")
    if len(params_list) != len(seeds):
        raise ValueError(f"{len(params_list)} parameter sets for {len(seeds)} seeds; allowed: one per seed")
    first = params_list[0]
    start = start or Start.of_points(params_list)
    check_batch([start.params, *params_list])
    inputs = start.inputs
    reference = start.params
    if any(p.drivers != reference.drivers or p.params.policy != reference.params.policy for p in params_list):
        inputs = with_run_knobs(inputs, list(params_list))
    rows = start.rows(params_list)
    state, anchors = pick_runs(start.state, rows), pick_runs(start.anchors, rows)
    model = batch_model_params([p.params for p in params_list])
    noise = draw_noise(seeds, inputs.n_turns, inputs.n_actors)
    recorder = Recorder(inputs, model, keep_dyads=keep_dyads, keep_actions=keep_actions)
    recorder.record(state, None)
    for turn in range(1, inputs.n_turns):
        state, actions, _ = advance(state, anchors, inputs, model, turn, noise[turn])
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

    Runs are in the order of ``params_list``, then ``seeds``, in chunks of at most ``chunk_size``
    runs; a chunk also ends where the next parameter set cannot share its batch (another
    :func:`sim.batch.batch_key`: other actors, run settings, events or alignment rule). Parameter
    sets may differ in their driver knobs and behavioural parameters; each point is spun up
    once, side by side with the other points of its chunk, and the digests once for all chunks.
    """
    if not params_list:
        raise ValueError("params_list is empty; allowed: one or more parameter sets")
    if not seeds:
        raise ValueError("seeds is empty; allowed: one or more seeds")
    runs = [(p, int(s)) for p in params_list for s in seeds]
    keep_dyads, keep_actions = "dyads" in names, "actions" in names
    for traj, threshold in _batches(batch_blocks(runs, chunk_size), keep_dyads, keep_actions):
        yield arrow_tables(traj, threshold, names)


def batch_blocks(runs: Sequence[tuple[Params, int]], chunk_size: int) -> Iterator[list[tuple[Params, int]]]:
    """Consecutive blocks of ``runs`` of at most ``chunk_size`` runs that can share a batch."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size={chunk_size}; allowed: an integer >= 1")
    keys: dict[int, Hashable] = {}
    block: list[tuple[Params, int]] = []
    for run in runs:
        key = keys.setdefault(id(run[0]), batch_key(run[0]))
        if block and (len(block) == chunk_size or keys[id(block[-1][0])] != key):
            yield block
            block = []
        block.append(run)
    if block:
        yield block


def _batches(
    blocks: Iterable[list[tuple[Params, int]]], keep_dyads: bool, keep_actions: bool
) -> Iterator[tuple[Trajectory, float]]:
    """Each block simulated side by side: its trajectory and the action-log threshold of its tables.

    The points of consecutive blocks that share a batch key are spun up together, up to
    :data:`SPINUP_POINTS` at a time (one spin-up, whose last quarters compute only the slowest
    points, instead of one per chunk); the inputs are built once per run of such blocks.
    """
    blocks = list(blocks)
    keys = [batch_key(block[0][0]) for block in blocks]
    start: Start | None = None
    digests: dict[int, str] = {}
    for k, block in enumerate(blocks):
        params_list = [p for p, _ in block]
        if start is None or batch_key(start.params) != keys[k]:
            start = Start.of_points(_points_ahead(blocks, keys, k))
        elif not {p.params for p in params_list} <= set(start.models):
            start = start.with_points(_points_ahead(blocks, keys, k))
        traj = simulate_runs(
            params_list,
            [s for _, s in block],
            keep_dyads=keep_dyads,
            keep_actions=keep_actions,
            start=start,
            digests=digests,
        )
        yield traj, params_list[0].params.outcome.action_log_threshold


def _points_ahead(blocks: Sequence[list[tuple[Params, int]]], keys: Sequence[Hashable], first: int) -> list[Params]:
    """One parameter set per distinct point of ``blocks[first]`` and of the next blocks of its key.

    Whole blocks, while the points so far are fewer than :data:`SPINUP_POINTS`.
    """
    points: dict[ModelParams, Params] = {}
    seen: set[int] = set()  # ids of the points met (a point usually repeats, once per seed)
    for block, key in zip(blocks[first:], keys[first:], strict=True):
        if key != keys[first] or len(points) >= SPINUP_POINTS:
            break
        for params, _ in block:
            if id(params.params) not in seen:
                seen.add(id(params.params))
                points.setdefault(params.params, params)
    return list(points.values())


def simulate_points(
    params_list: Sequence[Params],
    seeds: Sequence[Sequence[int]],
    *,
    keep_dyads: bool = False,
    keep_actions: bool = False,
    chunk_size: int = DEFAULT_CHUNK,
) -> Iterator[Trajectory]:
    """The trajectory of each parameter set ``params_list[k]`` run once per seed of ``seeds[k]``, in order.

    The batched equivalent of ``simulate_chunk(params_list[k], seeds[k])`` for every k (equal
    to it to 1e-12, tests/test_batch.py), for callers that evaluate many parameter points: a
    calibration's particles, posterior draws, a Latin hypercube. Points (and their driver knobs)
    run side by side in chunks of whole points of at most ``chunk_size`` runs (a point with more
    seeds is a chunk of its own), so memory stays that of one chunk; points that cannot share a
    batch (:func:`sim.batch.batch_key`) start a new chunk. Each trajectory is yielded as soon
    as its chunk is done; build its tables with :func:`sim.records.tables`.

    Example (an ABC-SMC sampler evaluating a generation's candidates in one call)::

        for params, traj in zip(candidates, simulate_points(candidates, seeds_per_candidate)):
            stats = summaries(tables(traj, threshold, ("states", "outcomes")), targets)

    pyabc's ``simulate_one`` draws a proposal and simulates it in one closure; a sampler that
    seeds the global generators per task (``experiments/abc_smc.py``) can batch a round by
    calling it twice per seed: first with a model that records each proposal (and the seeds it
    draws) and returns placeholder statistics, then, after one ``simulate_points`` over the
    recorded proposals, with a model that draws its seeds as before and returns the batched
    statistics of the same proposal (the same task seed gives the same proposal and leaves the
    generators in the same state), so the particles are those of the unbatched sampler.
    """
    if len(params_list) != len(seeds):
        raise ValueError(f"{len(params_list)} parameter sets for {len(seeds)} seed lists; allowed: one list per set")
    if any(not s for s in seeds):
        raise ValueError("a parameter set has no seeds; allowed: one or more seeds for each")
    points = [[(p, int(s)) for s in point_seeds] for p, point_seeds in zip(params_list, seeds, strict=True)]
    k = 0
    for traj, _ in _batches(_whole_points(points, chunk_size), keep_dyads, keep_actions):
        first = 0
        while first < len(traj.run_ids):
            stop = first + len(points[k])
            yield traj.select(slice(first, stop))
            first, k = stop, k + 1


def _whole_points(points: Sequence[list[tuple[Params, int]]], chunk_size: int) -> Iterator[list[tuple[Params, int]]]:
    """Blocks of whole points (each point's runs together) of at most ``chunk_size`` runs that can share a batch."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size={chunk_size}; allowed: an integer >= 1")
    block: list[tuple[Params, int]] = []
    key: Hashable = None
    for runs in points:
        point_key = batch_key(runs[0][0])
        if block and (len(block) + len(runs) > chunk_size or point_key != key):
            yield block
            block = []
        block.extend(runs)
        key = point_key
    if block:
        yield block


def simulate_many(
    params_list: Sequence[Params],
    seeds: Sequence[int],
    *,
    names: tuple[str, ...] = TABLES,
    chunk_size: int = DEFAULT_CHUNK,
) -> dict[str, pd.DataFrame]:
    """Tables of every parameter set in ``params_list`` run once per seed in ``seeds``.

    Parameter sets run side by side in batches of at most ``chunk_size`` runs (see
    :func:`chunk_tables`); the tables are in the order of ``params_list``, then ``seeds``.
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
