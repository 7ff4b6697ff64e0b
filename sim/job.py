"""The job of ``python -m sim [overrides]``: run one scenario and write its run folder.

The folder (``results/runs/<scenario>/<time>-seed<seed>`` unless ``hydra.run.dir=...``) gets
``config.yaml``, the four result tables, the figures, and ``meta.json`` last. Bad input (an
unknown key or actor, a value out of range, a broken data file) stops the job before anything
is written, with a message naming the key, the value and what is allowed, and exit code 2.
A sweep (``-m``) checks every job's config before it launches any (:class:`SweepJobs`) and shows
the jobs done as a progress bar; several runs in one job show the runs done.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import hydra
import pandas as pd
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf, open_dict

from sim import cli, progress, store
from sim.callbacks import FAILED_MARK, register_resolvers
from sim.config import (
    CONFIG_DIR,
    JobOptions,
    check_scenario_not_overridden,
    config_hash,
    job_options,
    params_from_config,
    register_schema,
)
from sim.inputs import DataFileError, build_inputs
from sim.params import Params
from sim.posterior import load_posterior
from sim.records import run_id_for
from sim.runs import replicate_seeds, resolve_engine, table_chunks

log = logging.getLogger("sim")
EXIT_BAD_INPUT = 2

register_schema()
register_resolvers()


def validate(cfg: DictConfig, checked: set[Any] | None = None) -> tuple[Params, JobOptions]:
    """Everything the job needs, validated before anything is written.

    ``checked`` holds the parameter sets and posterior files whose data files were already read
    (a sweep's jobs often share them): they are not read again.
    """
    params = params_from_config(cfg)
    options = job_options(cfg)
    check_scenario_not_overridden(params)
    seen = set() if checked is None else checked
    if params not in seen:
        build_inputs(params)  # reads and checks every data file the run will use
        seen.add(params)
    if options.posterior_file and (options.posterior_file, params.params.alignment_rule) not in seen:
        load_posterior(options.posterior_file).check_rule(params.params.alignment_rule, options.posterior_file)
        seen.add((options.posterior_file, params.params.alignment_rule))
    return params, options


ALIGNMENT_COLUMNS = ["run_id", "t", "year", "quarter", "actor", "alignment"]


def write_figures(
    outcomes: pd.DataFrame, states: pd.DataFrame | None, params: Params, options: JobOptions, folder: Path
) -> list[Path]:
    """The run's figures: every actor's alignment (if states are kept), the focal state's W1..W5 and the gap."""
    from sim import plots  # matplotlib only where figures are drawn: --help and bad input answer fast

    names = dict(zip(params.actors.codes, build_inputs(params).names, strict=True))
    marks = plots.event_marks(
        pd.DataFrame(options.event_marks, columns=["date", "label"]), params.run.start_year, params.run.end_year
    )
    scenario = job_label(params, options, HydraConfig.get().overrides.task)
    written = []
    if states is not None:
        figure = plots.plot_alignment(
            states,
            names,
            title=f"Alignment of every actor\n({scenario})",
            poles=(params.actors.china_pole, params.actors.us_pole),
            banded=None if len(params.actors.codes) <= BANDS_FOR_ALL else (params.actors.focal,),
        )
        written += plots.save_figure(figure, folder / "alignment", options.figure_formats)
    focal = names[params.actors.focal]  # the W's are the focal state's (Japan in the shipped actor sets)
    figure = plots.plot_japan_dimensions(
        outcomes, marks, title=f"What Beijing wants from {focal}, and what it gets\n({scenario})"
    )
    written += plots.save_figure(figure, folder / "japan_dimensions", options.figure_formats)
    return written


BANDS_FOR_ALL = 6  # actors up to which every actor's band is drawn; beyond, the focal actor's only
NOT_IN_LABEL = ("hydra", "results_root", "tables", "figures", "scenario", "engine", "replicates", "seed")


def job_label(params: Params, options: JobOptions, overrides: Sequence[str]) -> str:
    """What a figure's title says the run is: scenario, the overrides that change the model, runs or seed.

    ``baseline; actors=extended, params.alignment.balancing_gain=2.0; 50 runs from seed 2024``.
    """
    kept = [o for o in overrides if re.split(r"[=./]", o.lstrip("+~"), maxsplit=1)[0] not in NOT_IN_LABEL]
    runs = f"{options.replicates} runs from seed {options.seed}" if options.replicates > 1 else f"seed {options.seed}"
    return "; ".join([params.scenario.name, *([", ".join(kept)] if kept else []), runs])


def remove_job_scaffolding(folder: Path, root: Path) -> None:
    """Remove what Hydra wrote for a job that failed (its .hydra folder and log), and the folder
    and its parents up to ``root`` if that leaves them empty: a failed run leaves no trace."""
    shutil.rmtree(folder / ".hydra", ignore_errors=True)
    for log_file in folder.glob("*.log"):
        log_file.unlink(missing_ok=True)
    store.remove_stale_temporaries(folder)
    if not folder.is_dir() or any(folder.iterdir()):
        return
    folder.rmdir()
    root, parent = root.resolve(), folder.resolve().parent
    while root in parent.parents and not any(parent.iterdir()):  # e.g. runs/<scenario>/, made for it
        parent.rmdir()
        parent = parent.parent


def params_option() -> str | None:
    """The option of the ``params`` group the run composed (``calibrated`` by default; None outside Hydra)."""
    if not HydraConfig.initialized():
        return None
    choice = HydraConfig.get().runtime.choices.get("params")
    return None if choice is None else str(choice)


def run_job(cfg: DictConfig, folder: Path) -> Path:
    """Validate ``cfg``, run it, and write the run folder; return the folder.

    A folder that already holds a complete, intact run of the same config (same hash, every
    table matching its recorded sha256) is left as it is: a re-launched sweep finishes only what
    is missing, and redoes (with a warning naming the file) what is truncated or corrupted.
    """
    started = time.perf_counter()
    params, options = validate(cfg)
    digest = config_hash(cfg)
    for stale in store.remove_stale_temporaries(folder):
        log.warning("removed %s, left by an interrupted write", stale)
    problem = store.run_problem(folder, digest)
    if problem is None:
        log.info("complete run of this config in %s: skipped", folder)
        return folder
    if (folder / store.META_FILE).exists():
        log.warning("redoing the run in %s: %s", folder, problem)
        (folder / store.META_FILE).unlink()
    (folder / FAILED_MARK).unlink(missing_ok=True)
    seeds = replicate_seeds(options.seed, options.replicates)
    engine = resolve_engine(options.engine, len(seeds))
    t0 = time.perf_counter()
    posterior = load_posterior(options.posterior_file) if options.posterior_file else None
    # Streamed: memory stays that of one chunk of runs, however many replicates.
    names = tuple(options.tables)
    paths = store.stream_tables(folder, table_chunks(params, seeds, engine, names, posterior), names)
    simulated = time.perf_counter() - t0
    rows = {name: store.parquet_rows(path) for name, path in paths.items()}
    log.info("wrote %s to %s", ", ".join(f"{n} ({count:,} rows)" for n, count in rows.items()), folder)
    outcomes = pd.read_parquet(paths["outcomes"])
    states = pd.read_parquet(paths["states"], columns=ALIGNMENT_COLUMNS) if "states" in paths else None
    figures = write_figures(outcomes, states, params, options, folder)
    del states
    store.write_text(folder / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    meta = {
        "run_ids": sorted(outcomes["run_id"].unique()),
        "run_id": run_id_for(params, options.seed),
        "seed": options.seed,
        "seeds": seeds,
        "replicates": options.replicates,
        "scenario": params.scenario.name,
        "params": params_option(),
        "engine": engine,
        "posterior": posterior.provenance if posterior else None,
        "config_hash": digest,
        "seconds_simulate": round(simulated, 3),
        "seconds_total": round(time.perf_counter() - started, 3),
        "figures": [p.name for p in figures],
        "rows": rows,
        "sha256": store.checksums(paths),
    }
    store.write_meta(folder, meta)
    gap = outcomes.groupby("year")["china_wants_gap"].mean()
    log.info(
        "%s (%d run(s), %s engine, %.1f s): Japan's China-wants gap %.3f (%d) -> %.3f (%d); folder %s",
        params.scenario.name,
        len(seeds),
        engine,
        simulated,
        gap.iloc[0],
        gap.index[0],
        gap.iloc[-1],
        gap.index[-1],
        folder,
    )
    return folder


def record_failure(folder: Path, err: BaseException) -> None:
    """Mark a sweep job as failed, with its error, for the sweep summary."""
    store.write_text(folder / FAILED_MARK, json.dumps({"error": f"{type(err).__name__}: {error_message(err)}"}))


def error_message(err: BaseException) -> str:
    """The message of an error (a KeyError's without its quotes)."""
    return str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
def main(cfg: DictConfig) -> None:
    """Hydra entry point (``python -m sim``; ``python -m sim -m ...`` for a sweep).

    A single run with bad input exits with code 2 and leaves nothing behind. In a sweep a failing
    job is marked failed in its folder and the others go on; the summary names it and the sweep
    exits with code 1.
    """
    hydra_cfg = HydraConfig.get()
    folder = Path(hydra_cfg.runtime.output_dir)
    if hydra_cfg.mode == RunMode.MULTIRUN:
        progress.silence()
        try:
            run_job(cfg, folder)
        except Exception as err:
            record_failure(folder, err)
            log.error("job %s failed: %s", hydra_cfg.job.num, error_message(err))
        return
    _INTERRUPTED["kept"] = f"nothing (the unfinished run folder {folder} was removed)"
    try:
        run_job(cfg, folder)
    except (ValueError, KeyError, DataFileError) as err:
        remove_job_scaffolding(folder, Path(str(cfg.get("results_root", "results"))))
        print(f"error: {error_message(err)}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        discard_incomplete(folder)
        raise


def stop_on_terminate() -> None:
    """Treat SIGTERM like Ctrl-C in this (the launching) process.

    Python's default SIGTERM ends the process at once, without unwinding: joblib never gets to
    stop its loky workers, which live on as orphans (hundreds of MB each, for many minutes). As
    a KeyboardInterrupt, joblib aborts the sweep and kills its workers, a single run removes its
    unfinished folder, and the line saying what was kept is printed (exit code 130).
    """

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)


_INTERRUPTED = {"kept": "nothing"}
RUN_FILE_SUFFIXES = (".parquet", ".png", ".svg", ".pdf", ".log", ".yaml", ".json", ".tmp")


def kept_on_interrupt() -> str:
    """What an interrupted ``python -m sim`` leaves behind, for the line printed on Ctrl-C."""
    return _INTERRUPTED["kept"]


def discard_incomplete(folder: Path) -> None:
    """Remove an interrupted single run's folder if it holds only this tool's files and no meta.json."""
    if not folder.is_dir() or (folder / store.META_FILE).exists():
        return
    entries = list(folder.iterdir())
    if all(p.name == ".hydra" or p.suffix in RUN_FILE_SUFFIXES or p.name.startswith(".") for p in entries):
        shutil.rmtree(folder, ignore_errors=True)


def sweep_job_overrides(config: DictConfig) -> list[list[str]]:
    """The overrides of every job of a sweep, as Hydra's basic sweeper will launch them."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    swept = [f"{k}={v}" for k, v in (config.hydra.sweeper.get("params") or {}).items()]
    arguments = [*swept, *OmegaConf.to_container(config.hydra.overrides.task, resolve=False)]  # type: ignore[misc]
    parsed = OverridesParser.create().parse_overrides(arguments)
    return [job for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]


def job_config(config: DictConfig, overrides: list[str]) -> DictConfig:
    """The config of one sweep job (its ``hydra`` node aside, which the launcher fills per job).

    Jobs that only set existing keys are the sweep's config with those values, which is what
    composing them gives, at a fraction of the cost; others (group choices, ``+`` or ``~``
    overrides) are composed by Hydra.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import OverrideType

    parsed = OverridesParser.create().parse_overrides(overrides)
    group_names = set(cli.groups())
    if any(o.type != OverrideType.CHANGE or o.key_or_group in group_names or "/" in o.key_or_group for o in parsed):
        composed = GlobalHydra.instance().config_loader().load_sweep_config(config, list(overrides))
    else:
        composed = config.copy()
        for override in parsed:
            if not override.key_or_group.startswith("hydra."):
                OmegaConf.update(composed, override.key_or_group, override.value(), merge=False)
    with open_dict(composed):
        del composed["hydra"]
    return composed


def check_sweep(config: DictConfig, jobs: list[list[str]]) -> None:
    """Validate every job's config; exit 2 naming the first bad job before any is launched."""
    checked: set[Any] = set()
    for number, overrides in enumerate(progress.track(jobs, desc="checking the jobs' configs", unit="job")):
        try:
            validate(job_config(config, list(overrides)), checked)
        except (ValueError, KeyError, DataFileError) as err:
            print(f"error: job {number} ({' '.join(overrides)}): {error_message(err)}", file=sys.stderr)
            print("nothing was launched", file=sys.stderr)
            sys.exit(EXIT_BAD_INPUT)


def keep_ctrl_c_from_workers() -> bool:
    """Let Ctrl-C stop the sweep from this process alone, not in each joblib worker as well.

    A terminal's Ctrl-C goes to every process of its foreground group, and workers still
    importing at the start of a sweep printed a KeyboardInterrupt traceback each. A process
    started by a thread inherits that thread's signal mask, so SIGINT is blocked in the main
    thread (hence in the workers and threads it starts) and left open in one idle thread started
    just before, where the kernel delivers it; Python still raises KeyboardInterrupt in the main
    thread, and joblib stops the workers. The resource trackers of multiprocessing and loky are
    started first: starting one unblocks SIGINT in the calling thread. Returns False (nothing
    changed) outside the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    from multiprocessing import resource_tracker

    from joblib.externals.loky.backend import resource_tracker as loky_resource_tracker

    resource_tracker.ensure_running()
    loky_resource_tracker.ensure_running()
    threading.Thread(target=threading.Event().wait, name="receives Ctrl-C", daemon=True).start()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    return True


class SweepJobs(Callback):
    """Check every job of a sweep before launching any; then show the jobs done as a progress bar.

    The bar counts job folders holding ``meta.json`` (complete) or a failure mark, so it works
    with every launcher that writes to this filesystem (joblib, Ray, SLURM) and counts the jobs a
    re-launched sweep finds already complete.
    """

    POLL_SECONDS = 0.5

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._ctrl_c_blocked = False

    def __getstate__(self) -> dict[str, Any]:
        """Nothing: launchers pickle the callbacks to their workers, which do not watch."""
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Check the jobs, then start watching the sweep folder."""
        jobs = sweep_job_overrides(config)
        check_sweep(config, jobs)
        sweep_dir = Path(config.hydra.sweep.dir)
        _INTERRUPTED["kept"] = f"the complete jobs in {sweep_dir} (a job is complete when its folder has meta.json)"
        self._watcher = threading.Thread(target=self._watch, args=(sweep_dir, len(jobs)), daemon=True)
        self._watcher.start()
        if "joblib" in str(config.hydra.launcher.get("_target_", "")):
            self._ctrl_c_blocked = keep_ctrl_c_from_workers()

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Stop watching (the bar ends with its last count); Ctrl-C reaches the main thread again."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join()
        if self._ctrl_c_blocked:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

    def _watch(self, sweep_dir: Path, total: int) -> None:
        with progress.bar(total=total, desc=f"sweep {sweep_dir.name}", unit="job") as jobs:
            while True:
                stopping = self._stop.wait(self.POLL_SECONDS)
                done = sum(
                    1 for p in sweep_dir.glob("*/") if (p / store.META_FILE).is_file() or (p / FAILED_MARK).is_file()
                )
                jobs.update(min(done, total) - jobs.n)
                if stopping:
                    return
