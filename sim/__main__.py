"""Command line: ``python -m sim [overrides]`` runs one scenario and writes its run folder.

The folder (``results/runs/<scenario>/<time>-seed<seed>`` unless ``hydra.run.dir=...``) gets
``config.yaml``, the four result tables, the figures, and ``meta.json`` last. Bad input (an
unknown key or actor, a value out of range, a broken data file) stops the job before anything
is written, with a message naming the key, the value and what is allowed, and exit code 2.
"""

from __future__ import annotations

import logging
import shutil
import sys
import time
from pathlib import Path

import hydra
import pandas as pd
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from sim import plots, store
from sim.config import JobOptions, check_scenario_not_overridden, job_options, params_from_config, register_schema
from sim.inputs import DataFileError, build_inputs
from sim.model import run_id_for, simulate
from sim.params import Params

log = logging.getLogger("sim")
EXIT_BAD_INPUT = 2

register_schema()


def validate(cfg: DictConfig) -> tuple[Params, JobOptions]:
    """Everything the job needs, validated before anything is written."""
    params = params_from_config(cfg)
    options = job_options(cfg)
    check_scenario_not_overridden(params)
    build_inputs(params)  # reads and checks every data file the run will use
    return params, options


def write_figures(result: dict[str, pd.DataFrame], params: Params, options: JobOptions, folder: Path) -> list[Path]:
    """The run's figures: every actor's alignment, and Japan's W1..W5 with the gap."""
    names = dict(zip(params.actors.codes, build_inputs(params).names, strict=True))
    marks = plots.event_marks(
        pd.DataFrame(options.event_marks, columns=["date", "label"]), params.run.start_year, params.run.end_year
    )
    scenario = params.scenario.name
    written = plots.save_figure(
        plots.plot_alignment(
            result["states"],
            names,
            title=f"Alignment of every actor ({scenario})",
            poles=(params.actors.china_pole, params.actors.us_pole),
        ),
        folder / "alignment",
        options.figure_formats,
    )
    written += plots.save_figure(
        plots.plot_japan_dimensions(
            result["outcomes"], marks, title=f"What Beijing wants from Japan, and what it gets ({scenario})"
        ),
        folder / "japan_dimensions",
        options.figure_formats,
    )
    return written


def remove_job_scaffolding(folder: Path) -> None:
    """Remove what Hydra wrote for a job that failed validation (its .hydra folder and log)."""
    shutil.rmtree(folder / ".hydra", ignore_errors=True)
    for log_file in folder.glob("*.log"):
        log_file.unlink(missing_ok=True)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def run_job(cfg: DictConfig, folder: Path) -> Path:
    """Validate ``cfg``, run it, and write the run folder; return the folder."""
    started = time.perf_counter()
    params, options = validate(cfg)
    t0 = time.perf_counter()
    result = simulate(params, options.seed)
    simulated = time.perf_counter() - t0
    run_id = run_id_for(params, options.seed)
    store.write_run_tables(folder, result, OmegaConf.to_yaml(cfg, resolve=True))
    figures = write_figures(result, params, options, folder)
    meta = {
        "run_id": run_id,
        "seed": options.seed,
        "scenario": params.scenario.name,
        "engine": options.engine,
        "seconds_simulate": round(simulated, 3),
        "seconds_total": round(time.perf_counter() - started, 3),
        "figures": [p.name for p in figures],
        "rows": {name: len(frame) for name, frame in result.items()},
    }
    store.write_meta(folder, meta)
    gap = result["outcomes"].set_index("year").groupby(level=0)["china_wants_gap"].mean()
    log.info(
        "run %s: Japan's China-wants gap %.3f (%d) -> %.3f (%d); folder %s",
        run_id,
        gap.iloc[0],
        gap.index[0],
        gap.iloc[-1],
        gap.index[-1],
        folder,
    )
    return folder


@hydra.main(version_base="1.3", config_path="../configs", config_name="config")
def main(cfg: DictConfig) -> None:
    """Hydra entry point (``python -m sim``)."""
    folder = Path(HydraConfig.get().runtime.output_dir)
    try:
        run_job(cfg, folder)
    except (ValueError, KeyError, DataFileError) as err:
        remove_job_scaffolding(folder)
        message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
        print(f"error: {message}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


if __name__ == "__main__":
    main()
