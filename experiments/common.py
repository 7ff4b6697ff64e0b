"""What every experiment shares: its Hydra entry point, its folder, cached runs, statistics.

An experiment ``experiments/<name>.py`` is run as ``python -m experiments.<name> [overrides]``;
its config is ``configs/experiment/<name>.yaml`` (selected automatically), on top of the main
config, so ``replicates=``, ``seed=``, ``params=`` and any model parameter can be overridden.

Runs are cached in ``<out>/runs/``, one parquet file per parameter set and seed list, keyed by
their digests: an interrupted experiment, re-run, does not redo finished runs. The folder's
``meta.json`` records the model version (package version and a digest of the model's source and
data); a folder written by another model version is refused with a clear error rather than
mixed with new results.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import logging
import math
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import hydra
import numpy as np
import pandas as pd
import pyarrow as pa
from hydra.core.hydra_config import HydraConfig
from matplotlib.figure import Figure
from omegaconf import DictConfig, OmegaConf

from experiments.draws import DrawPlan, draws_from_config
from experiments.sampling import evaluate
from sim import cli, plots, progress, store
from sim.batch import batch_key
from sim.callbacks import register_resolvers
from sim.config import CONFIG_DIR, check_scenario_not_overridden, job_options, params_from_config, register_schema
from sim.ensemble import DEFAULT_CHUNK, Start, chunk_tables, simulate_runs
from sim.inputs import DataFileError, build_inputs
from sim.params import DriverKnob, Params, params_digest, with_values
from sim.records import Trajectory, arrow_tables, run_id_for
from sim.runs import replicate_seeds, resolve_engine, run_tables

log = logging.getLogger("experiments")
EXIT_BAD_INPUT = 2
RUNS_FOLDER = "runs"
CHECKSUM_SUFFIX = ".sha256"  # beside each cached table: its sha256, written after it
PROGRESS_RUNS = 50  # runs simulated between two progress updates


class ExperimentError(ValueError):
    """Bad experiment input, or a results folder this version must not touch."""


def annual(frame: pd.DataFrame, columns: Sequence[str], by: Sequence[str] = ("run_id", "seed")) -> pd.DataFrame:
    """Annual means of ``columns`` per run (and any other ``by`` keys): one row per run and year."""
    return frame.groupby([*by, "year"], sort=True)[list(columns)].mean().reset_index()


def annual_means(
    frame: pd.DataFrame,
    columns: Sequence[str],
    seeds: Sequence[int],
    years: Sequence[int],
    by: tuple[str, Sequence[Any]] | None = None,
) -> np.ndarray:
    """Annual means of ``columns`` per run (by seed) and year, in numpy: shape (R, Y, C), or (R, Y, G, C).

    Runs in ``seeds`` order, years in ``years`` order; with ``by=(column, values)`` one more axis,
    the rows whose ``column`` is each of ``values`` (the alignment of each of some actors, say).
    Rows of other years or values are ignored.

    Raises
    ------
    ExperimentError
        A run (seed) the frame does not hold, or a run without one of the years.
    """
    seed_row = pd.Index(np.asarray(seeds, dtype=np.int64))
    year_col = pd.Index(np.asarray(years, dtype=np.int64))
    run = seed_row.get_indexer(pd.Index(frame["seed"].to_numpy(dtype=np.int64)))
    year = year_col.get_indexer(pd.Index(frame["year"].to_numpy(dtype=np.int64)))
    groups = 1 if by is None else len(by[1])
    group = np.zeros(len(frame), dtype=np.int64) if by is None else pd.Index(list(by[1])).get_indexer(frame[by[0]])
    keep = (run >= 0) & (year >= 0) & (group >= 0)
    index = (run[keep], year[keep], group[keep])
    sums = np.zeros((len(seeds), len(years), groups, len(columns)))
    counts = np.zeros((len(seeds), len(years), groups, 1))
    np.add.at(sums, index, frame.loc[keep, list(columns)].to_numpy(dtype=float))
    np.add.at(counts, index, 1.0)
    if (counts == 0).any():
        raise ExperimentError(f"a run lacks one of the years {list(years)} (or a group of {by}) in its table")
    means = sums / counts
    return means[:, :, 0] if by is None else means


def ending_in(params: Params, year: int) -> Params:
    """``params`` with the run ending in ``year`` (its Q4), when that is earlier than the configured end.

    For an experiment that reads nothing after ``year``: the model is causal (no turn reads a later
    one, and the random numbers of a turn do not depend on the run's length), so a run cut at
    ``year`` equals the full run up to it (tests/test_scenario_discovery.py) and costs less.
    """
    return with_values(params, {"run.end_year": int(year)}) if year < params.run.end_year else params


def with_drivers(params: Params, knobs: dict[str, DriverKnob], label: str) -> Params:
    """``params`` with some driver knobs replaced and the scenario renamed ``label``."""
    drivers = params.drivers.with_knobs(knobs)
    return replace(params, drivers=drivers, scenario=replace(params.scenario, name=label))


def switched_off(params: Params, names: Sequence[str], label: str, from_year: int = 0) -> Params:
    """``params`` with the drivers ``names`` at scale 0 from ``from_year`` (0: the start).

    Each driver keeps its configured counterfactual semantics (absent or frozen) and freeze year.
    """
    knobs = {n: replace(params.drivers.knob(n), scale=0.0, from_year=from_year) for n in names}
    return with_drivers(params, knobs, label)


@dataclass
class Experiment:
    """One experiment's config, base parameters, seeds, folder and run cache."""

    name: str
    cfg: DictConfig
    params: Params
    seeds: list[int]
    folder: Path
    options: dict[str, Any]
    plan: DrawPlan | None = None  # the parameter draws (experiments with experiment.parameter_source)
    started: float = field(default_factory=time.perf_counter)
    runs_done: int = 0
    runs_cached: int = 0
    composed: dict[str, Params] = field(default_factory=dict)  # scenario_params by scenario

    def scenario_params(self, scenario: str) -> Params:
        """The parameters of ``scenario`` with this experiment's overrides (composed by Hydra once per scenario)."""
        if scenario not in self.composed:
            self.composed[scenario] = self._compose(scenario)
        return self.composed[scenario]

    def _compose(self, scenario: str) -> Params:
        overrides = [o for o in HydraConfig.get().overrides.task if not o.startswith(("scenario=", "experiment"))]
        cfg = hydra.compose(config_name="config", overrides=[*overrides, f"scenario={scenario}"])
        params = params_from_config(cfg)
        check_scenario_not_overridden(params)
        return params

    def _cache_paths(self, params: Params, names: tuple[str, ...]) -> dict[str, Path]:
        seeds_digest = hashlib.sha256(json.dumps(self.seeds).encode()).hexdigest()[:12]
        key = f"{params.scenario.name}-{params_digest(params)[:16]}-{seeds_digest}"
        return {name: self.folder / RUNS_FOLDER / f"{key}.{name}.parquet" for name in names}

    def _cached(self, paths: dict[str, Path]) -> bool:
        """True if every cached table is present and matches the sha256 recorded beside it."""
        for name, path in paths.items():
            try:
                recorded = {name: path.with_suffix(CHECKSUM_SUFFIX).read_text(encoding="utf-8").strip()}
            except (OSError, UnicodeDecodeError):
                recorded = {}
            problem = store.checksum_problem({name: path}, recorded)
            if problem:
                if path.exists():
                    log.warning("cached table redone: %s", problem)
                return False
        return True

    @property
    def posterior_draws(self) -> bool:
        """True when the runs draw their parameters from the posterior (one parameter set per draw)."""
        return self.plan is not None and self.plan.source == "posterior"

    def tables(self, params: Params, names: tuple[str, ...] = ("outcomes",)) -> dict[str, pd.DataFrame]:
        """Tables of ``params`` for this experiment's seeds, from the cache or freshly run."""
        return self.tables_many([params], names)[0]

    def tables_many(
        self, params_list: Sequence[Params], names: tuple[str, ...] = ("outcomes",)
    ) -> list[dict[str, pd.DataFrame]]:
        """Tables of each parameter set for this experiment's seeds, from the cache or freshly run.

        Sets missing from the cache run together where the ensemble engine can batch them (they
        differ only in their driver knobs); each set's tables are cached on their own. Over
        posterior draws, each draw runs every set with its own parameters and seeds (paired), on
        ``experiment.workers`` processes; the tables of all draws are concatenated (their seeds
        differ, :meth:`DrawPlan.draw_of_seed` maps a seed to its draw).
        """
        if self.posterior_draws:
            return self._draw_tables(params_list, names)
        paths = [self._cache_paths(p, names) for p in params_list]
        for stale in store.remove_stale_temporaries(self.folder / RUNS_FOLDER):
            log.warning("removed %s, left by an interrupted write", stale)
        missing = [k for k, path in enumerate(paths) if not self._cached(path)]
        engine = resolve_engine(str(self.options.get("engine", "auto")), len(self.seeds))
        label = (
            f"{self.name}: "
            + ", ".join(params_list[k].scenario.name for k in missing[:3])
            + ("..." * (len(missing) > 3))
        )
        with progress.bar(total=len(missing) * len(self.seeds), desc=label, disable=not missing) as done:
            if missing and engine == "ensemble":
                parts: dict[str, list[pa.Table]] = {name: [] for name in names}
                chunks = chunk_tables([params_list[k] for k in missing], self.seeds, names, PROGRESS_RUNS)
                for chunk in chunks:
                    for name, table in chunk.items():
                        parts[name].append(table)
                    done.update(min(PROGRESS_RUNS, done.total - done.n))
                fresh = {name: pa.concat_tables(tables).to_pandas() for name, tables in parts.items()}
                for k in missing:
                    ids = {run_id_for(params_list[k], seed) for seed in self.seeds}
                    for name, frame in fresh.items():
                        cache_table(paths[k][name], frame[frame["run_id"].isin(ids)].reset_index(drop=True))
            else:
                for k in missing:
                    for name, frame in run_tables(params_list[k], self.seeds, engine, names).items():
                        cache_table(paths[k][name], frame)
                    done.update(len(self.seeds))
        self.runs_done += len(missing) * len(self.seeds)
        self.runs_cached += (len(params_list) - len(missing)) * len(self.seeds)
        return [{name: pd.read_parquet(path) for name, path in p.items()} for p in paths]

    def _draw_tables(self, params_list: Sequence[Params], names: tuple[str, ...]) -> list[dict[str, pd.DataFrame]]:
        """:meth:`tables_many` over posterior draws: each draw's tables cached in one file per table.

        A draw's file is keyed by the digests of ``params_list``, the draw's values and seeds (the
        draw's parameter sets are a function of these), so that the thousands of drawn sets are
        digested once, by the engine that runs them. Within a draw, a run is told from the others
        by its scenario name and seed (:func:`run_key`): sets with the same name must be the same.
        """
        assert self.plan is not None
        digests = [params_digest(p) for p in params_list]
        first_of: dict[str, int] = {}
        same_as = []
        for k, p in enumerate(params_list):
            j = first_of.setdefault(p.scenario.name, k)
            if digests[j] != digests[k]:
                raise ExperimentError(
                    f"two parameter sets of {self.name} share the scenario name {p.scenario.name!r}; allowed: "
                    "one name per parameter set"
                )
            same_as.append(j)
        distinct = sorted(set(same_as))
        unique = [params_list[k] for k in distinct]
        pending, files = [], []
        for draw in self.plan.draws:
            key = json.dumps([[digests[k] for k in distinct], sorted(draw.values.items()), list(draw.seeds), names])
            digest = hashlib.sha256(key.encode()).hexdigest()[:20]
            paths = {name: self.folder / RUNS_FOLDER / f"draw-{digest}.{name}.parquet" for name in names}
            files.append(paths)
            if not self._cached(paths):
                pending.append(DrawRuns(draw.apply(unique), list(draw.seeds), paths))
        workers = max(1, int(self.options.get("workers", 1)))
        # A few jobs per worker (balance), each of many draws (the engine runs a job's draws side by side).
        size = max(1, math.ceil(len(pending) / (DRAW_JOBS_PER_WORKER * workers)))
        jobs = [DrawJob(pending[k : k + size], names) for k in range(0, len(pending), size)]
        evaluate(run_draw_job, jobs, workers, desc=f"{self.name}: parameter draws ({size} a job)", unit="job")
        runs_per_draw = len(unique) * len(self.plan.draws[0].seeds)
        self.runs_done += len(pending) * runs_per_draw
        self.runs_cached += (len(files) - len(pending)) * runs_per_draw
        set_of = {run_key(p, seed): k for k, p in enumerate(unique) for seed in self.plan.seeds}
        by_set: list[dict[str, pd.DataFrame]] = [{} for _ in unique]
        for name in names:
            frame = pd.concat([pd.read_parquet(paths[name]) for paths in files], ignore_index=True)
            owner = owners(frame, set_of)
            for k in range(len(unique)):
                by_set[k][name] = frame[owner == k].reset_index(drop=True)
        return [by_set[distinct.index(same_as[k])] for k in range(len(params_list))]

    def write_csv(self, name: str, frame: pd.DataFrame) -> Path:
        """Write an output table ``<folder>/<name>.csv`` atomically."""
        path = self.folder / f"{name}.csv"
        store.write_text(path, frame.to_csv(index=False))
        return path

    def write_json(self, name: str, payload: dict[str, Any]) -> Path:
        """Write an output document ``<folder>/<name>.json`` atomically."""
        path = self.folder / f"{name}.json"
        store.write_text(path, json.dumps(payload, indent=2, default=_json_default) + "\n")
        return path

    def save_figure(self, figure: Figure, name: str) -> list[Path]:
        """Save a figure as ``<folder>/<name>.png`` (and the formats the config asks for)."""
        return plots.save_figure(figure, self.folder / name, job_options(self.cfg).figure_formats)

    def finish(self, summary: dict[str, Any]) -> None:
        """Write ``meta.json`` (provenance, timings, the summary) and log the summary."""
        meta = {
            "experiment": self.name,
            "model_version": store.model_version(),
            "seed": int(self.cfg.seed),
            "replicates": len(self.seeds),
            "parameters": self.plan.describe() if self.plan is not None else None,
            "seconds": round(time.perf_counter() - self.started, 2),
            "runs_simulated": self.runs_done,
            "runs_from_cache": self.runs_cached,
            "overrides": [o for o in HydraConfig.get().overrides.task if not o.startswith("experiment=")],
            "config": OmegaConf.to_container(self.cfg, resolve=True),
            "summary": summary,
        }
        store.write_meta(self.folder, meta)
        log.info(
            "%s done in %.1f s (%d runs simulated, %d from cache): %s",
            self.name,
            meta["seconds"],
            self.runs_done,
            self.runs_cached,
            json.dumps(summary, default=_json_default),
        )


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def check_folder(folder: Path) -> None:
    """Refuse a folder holding results of another model version (nothing in it is touched)."""
    meta_path = folder / store.META_FILE
    if not meta_path.is_file():
        return
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ExperimentError(
            f"{meta_path} is not valid JSON ({err}); allowed: a folder of this tool's results"
        ) from err
    found, current = meta.get("model_version"), store.model_version()
    if found != current:
        raise ExperimentError(
            f"experiment.out={str(folder)!r} holds results of model version {found!r}, not {current!r}; allowed: "
            f"a new folder (experiment.out=...) or delete {folder} to recompute"
        )


def setup(name: str, cfg: DictConfig) -> Experiment:
    """Validate the config and prepare the experiment's folder."""
    if "experiment" not in cfg or cfg.experiment.get("name") != name:
        raise ExperimentError(
            f"experiment={cfg.get('experiment', {}).get('name')!r} does not match the module {name!r}"
        )
    options = job_options(cfg)
    params = params_from_config(cfg)
    check_scenario_not_overridden(params)
    build_inputs(params)
    replicates = options.replicates
    minimum = int(cfg.experiment.get("min_replicates", 2))
    if replicates < minimum:
        raise ExperimentError(
            f"replicates={replicates}; allowed: an integer >= {minimum} (intervals need several runs)"
        )
    folder = Path(str(cfg.experiment.out))
    check_folder(folder)
    folder.mkdir(parents=True, exist_ok=True)
    container = OmegaConf.to_container(cfg.experiment, resolve=True)
    assert isinstance(container, dict)
    experiment_options = {str(k): v for k, v in container.items()}
    experiment_options["engine"] = options.engine
    if "parameter_source" not in experiment_options:
        return Experiment(name, cfg, params, replicate_seeds(options.seed, replicates), folder, experiment_options)
    plan = draws_from_config(experiment_options, replicates, options.seed, str(cfg.posterior_file))
    return Experiment(name, cfg, params, plan.seeds, folder, experiment_options, plan)


DRAW_JOBS_PER_WORKER = 4


@dataclass(frozen=True)
class DrawRuns:
    """The runs of one posterior draw: every parameter set for every seed, and the files of their tables."""

    params_list: list[Params]
    seeds: list[int]
    paths: dict[str, Path]


@dataclass(frozen=True)
class DrawJob:
    """Some draws run together in one process, and the tables they record."""

    draws: list[DrawRuns]
    names: tuple[str, ...]


def run_pairs(runs: Sequence[tuple[Params, int]], names: tuple[str, ...] = ()) -> Iterator[Trajectory]:
    """Trajectories of the runs ``(parameter set, seed)``, in order, in batches of at most ``DEFAULT_CHUNK`` runs.

    Consecutive runs that can share a batch (:func:`sim.batch.batch_key`) are spun up all
    together once (:meth:`sim.ensemble.Start.of_points`: the spin-up of many parameter points
    vectorised), then simulated chunk by chunk from that start. ``names`` says which tables the
    caller will build (dyads and actions are recorded only if named).
    """
    digests: dict[int, str] = {}
    keep = {"keep_dyads": "dyads" in names, "keep_actions": "actions" in names}
    for _, grouped in itertools.groupby(runs, key=lambda run: batch_key(run[0])):
        group = list(grouped)
        start = Start.of_points([p for p, _ in group])
        for first in range(0, len(group), DEFAULT_CHUNK):
            block = group[first : first + DEFAULT_CHUNK]
            yield simulate_runs([p for p, _ in block], [s for _, s in block], start=start, digests=digests, **keep)


def run_draw_job(job: DrawJob) -> None:
    """Run the draws' parameter sets side by side and write each draw's tables, one file each.

    Parameter points, counterfactuals and seeds share batches (:func:`run_pairs`); runs that
    can share one (:func:`sim.batch.batch_key`) are put next to each other first.
    """
    keys = [[batch_key(p) for p in draw.params_list] for draw in job.draws]
    runs = [
        (p, seed)
        for key in dict.fromkeys(k for draw_keys in keys for k in draw_keys)
        for draw, draw_keys in zip(job.draws, keys, strict=True)
        for p, k in zip(draw.params_list, draw_keys, strict=True)
        if k == key
        for seed in draw.seeds
    ]
    parts: dict[str, list[pa.Table]] = {name: [] for name in job.names}
    for traj in run_pairs(runs, job.names):
        threshold = job.draws[0].params_list[0].params.outcome.action_log_threshold
        for name, table in arrow_tables(traj, threshold, job.names).items():
            parts[name].append(table)
    draw_of = {run_key(p, seed): d for d, draw in enumerate(job.draws) for p in draw.params_list for seed in draw.seeds}
    for name, tables in parts.items():
        frame = pa.concat_tables(tables).to_pandas()
        owner = owners(frame, draw_of)
        for d, draw in enumerate(job.draws):
            cache_table(draw.paths[name], frame[owner == d].reset_index(drop=True))


def run_key(params: Params, seed: int) -> str:
    """What a run id (:func:`sim.records.run_id_for`) says before its digest: the scenario name and the seed."""
    return f"{params.scenario.name}-s{seed}"


def owners(frame: pd.DataFrame, owner_of: Mapping[str, int]) -> np.ndarray:
    """``owner_of[run_key]`` of every row of ``frame`` (:func:`run_key` read from its run id once per run)."""
    run_ids = pd.Categorical(frame["run_id"])
    keys = [str(c).rsplit("-", 1)[0] for c in run_ids.categories]  # the digest (hex) ends the id
    return np.array([owner_of[k] for k in keys], dtype=np.int64)[run_ids.codes]


def cache_table(path: Path, frame: pd.DataFrame) -> None:
    """Write a cached table, then its sha256 (last: a table without one is not trusted)."""
    store.write_table(path, frame)
    store.write_text(path.with_suffix(CHECKSUM_SUFFIX), store.file_sha256(path) + "\n")


def check_years(years: Sequence[int], params: Params, key: str) -> list[int]:
    """``years`` as ints, each inside the simulated period."""
    run = params.run
    bad = [y for y in years if not run.start_year <= int(y) <= run.end_year]
    if bad:
        raise ExperimentError(
            f"{key}={list(years)} has year(s) {bad} outside the run; allowed: {run.start_year}..{run.end_year}"
        )
    return [int(y) for y in years]


def entry_point(name: str, body: Callable[[Experiment], dict[str, Any]]) -> Callable[[], None]:
    """The ``python -m experiments.<name>`` entry point of an experiment whose work is ``body``.

    The experiment's config group option is selected unless the command line names one.
    """
    register_schema()
    register_resolvers()

    @hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
    def main(cfg: DictConfig) -> None:
        try:
            experiment = setup(name, cfg)
            experiment.finish(body(experiment))
        except (ValueError, KeyError, DataFileError) as err:
            message = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
            print(f"error: {message}", file=sys.stderr)
            sys.exit(EXIT_BAD_INPUT)

    @functools.wraps(main)
    def run() -> None:
        if not any(arg.startswith("experiment=") for arg in sys.argv[1:]):
            sys.argv.insert(1, f"experiment={name}")
        try:
            cli.check_overrides(sys.argv[1:])
        except cli.UsageError as err:
            print(f"error: {err}", file=sys.stderr)
            sys.exit(EXIT_BAD_INPUT)
        resume = f"run the same command again to resume: {progress.resume_command()}"
        with progress.stop_cleanly(
            lambda: f"every finished run, cached in the experiment's {RUNS_FOLDER}/ folder", resume
        ):
            main()

    return run
