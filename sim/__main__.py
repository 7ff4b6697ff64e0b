"""Command line: ``python -m sim [overrides]`` runs one scenario and writes its run folder.

The folder (``results/runs/<scenario>/<time>-seed<seed>`` unless ``hydra.run.dir=...``) gets
``config.yaml``, the four result tables, the figures, and ``meta.json`` last. Bad input (an
unknown key or actor, a value out of range, a broken data file) stops the job before anything
is written, with a message naming the key, the value and what is allowed, and exit code 2.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
import time
from pathlib import Path

import hydra
import pandas as pd
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from sim import store
from sim.callbacks import FAILED_MARK, register_resolvers
from sim.config import (
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
from sim.runs import replicate_seeds, resolve_engine, run_tables

log = logging.getLogger("sim")
EXIT_BAD_INPUT = 2

register_schema()
register_resolvers()


def validate(cfg: DictConfig) -> tuple[Params, JobOptions]:
    """Everything the job needs, validated before anything is written."""
    params = params_from_config(cfg)
    options = job_options(cfg)
    check_scenario_not_overridden(params)
    build_inputs(params)  # reads and checks every data file the run will use
    if options.posterior_file:
        load_posterior(options.posterior_file)
    return params, options


def write_figures(result: dict[str, pd.DataFrame], params: Params, options: JobOptions, folder: Path) -> list[Path]:
    """The run's figures: every actor's alignment (if states are kept), Japan's W1..W5 and the gap."""
    from sim import plots  # matplotlib only where figures are drawn: --help and bad input answer fast

    names = dict(zip(params.actors.codes, build_inputs(params).names, strict=True))
    marks = plots.event_marks(
        pd.DataFrame(options.event_marks, columns=["date", "label"]), params.run.start_year, params.run.end_year
    )
    scenario = params.scenario.name
    written = []
    if "states" in result:
        figure = plots.plot_alignment(
            result["states"],
            names,
            title=f"Alignment of every actor ({scenario})",
            poles=(params.actors.china_pole, params.actors.us_pole),
        )
        written += plots.save_figure(figure, folder / "alignment", options.figure_formats)
    figure = plots.plot_japan_dimensions(
        result["outcomes"], marks, title=f"What Beijing wants from Japan, and what it gets ({scenario})"
    )
    written += plots.save_figure(figure, folder / "japan_dimensions", options.figure_formats)
    return written


def remove_job_scaffolding(folder: Path) -> None:
    """Remove what Hydra wrote for a job that failed validation (its .hydra folder and log)."""
    shutil.rmtree(folder / ".hydra", ignore_errors=True)
    for log_file in folder.glob("*.log"):
        log_file.unlink(missing_ok=True)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


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
    result = run_tables(params, seeds, engine, tuple(options.tables), posterior)
    simulated = time.perf_counter() - t0
    store.write_run_tables(folder, result, OmegaConf.to_yaml(cfg, resolve=True))
    figures = write_figures(result, params, options, folder)
    meta = {
        "run_ids": sorted(result["outcomes"]["run_id"].unique()),
        "run_id": run_id_for(params, options.seed),
        "seed": options.seed,
        "seeds": seeds,
        "replicates": options.replicates,
        "scenario": params.scenario.name,
        "engine": engine,
        "posterior": posterior.provenance if posterior else None,
        "config_hash": digest,
        "seconds_simulate": round(simulated, 3),
        "seconds_total": round(time.perf_counter() - started, 3),
        "figures": [p.name for p in figures],
        "rows": {name: len(frame) for name, frame in result.items()},
        "sha256": store.checksums(store.table_paths(folder, result)),
    }
    store.write_meta(folder, meta)
    gap = result["outcomes"].groupby("year")["china_wants_gap"].mean()
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


@hydra.main(version_base="1.3", config_path="../configs", config_name="config")
def main(cfg: DictConfig) -> None:
    """Hydra entry point (``python -m sim``; ``python -m sim -m ...`` for a sweep).

    A single run with bad input exits with code 2 and leaves nothing behind. In a sweep a failing
    job is marked failed in its folder and the others go on; the summary names it and the sweep
    exits with code 1.
    """
    hydra_cfg = HydraConfig.get()
    folder = Path(hydra_cfg.runtime.output_dir)
    if hydra_cfg.mode == RunMode.MULTIRUN:
        try:
            run_job(cfg, folder)
        except Exception as err:
            record_failure(folder, err)
            log.error("job %s failed: %s", hydra_cfg.job.num, error_message(err))
        return
    try:
        run_job(cfg, folder)
    except (ValueError, KeyError, DataFileError) as err:
        remove_job_scaffolding(folder)
        print(f"error: {error_message(err)}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


if __name__ == "__main__":
    main()
