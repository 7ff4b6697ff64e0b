"""Reading the report's inputs (experiment folders, the baseline run), and making what is missing."""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hydra
import pandas as pd
from omegaconf import OmegaConf

from experiments.common import ExperimentError
from experiments.draws import nested_seeds
from sim import plots, store
from sim.config import NOT_IN_HASH, job_options, params_from_config
from sim.inputs import build_inputs
from sim.runs import replicate_seeds

log = logging.getLogger("experiments")


EXPERIMENTS = (
    "q1_counterfactuals",
    "q2_driver_shares",
    "q4_hysteresis",
    "q5_asean_alignment",
    "scenario_discovery",
    "patterns",
)
# The outputs of each experiment the report reads (besides meta.json).


OUTPUTS = {
    "q1_counterfactuals": ("effects.csv", "sea_states.csv"),
    "q2_driver_shares": ("driver_shares.csv", "verdict.json", "draws.csv"),
    "q4_hysteresis": ("hysteresis.csv", "juncture.json"),
    "q5_asean_alignment": ("classification.csv", "classification_by_year.csv"),
    "q3_sensitivity": ("robustness.json", "sobol.csv"),
    "theories": ("theories.json", "scores.csv"),
    "patterns": ("patterns.csv",),
    "scenario_discovery": ("boxes.csv", "summary.json"),
}
# Written by another tool (the calibration's validation and predictive checks): shown when present, never
# made by the report. experiments_dir/<folder>/<file>.


EVIDENCE = {"validation": ("calibrate", "validation.json"), "checks": ("calibrate", "checks.json")}
# Shown when present, never made by the report (each takes minutes to tens of minutes).


OPTIONAL = ("q3_sensitivity", "theories")


RUN_TABLES = ("states", "dyads", "outcomes")


@dataclass
class Inputs:
    """Everything the report shows, read from result files."""

    experiments: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> file -> content
    run_folder: Path | None = None
    run_meta: dict[str, Any] = field(default_factory=dict)
    run_config: str = ""
    run_tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    poles: tuple[str, str] = ("CHN", "USA")
    events: list[tuple[float, str]] = field(default_factory=list)
    comparison: tuple[pd.DataFrame, pd.DataFrame] | None = None
    comparison_note: str = ""
    made_now: dict[str, str] = field(default_factory=dict)  # folder -> the command that made it
    evidence: dict[str, Any] = field(default_factory=dict)  # validation.json, checks.json when present
    run_overrides: list[str] = field(default_factory=list)  # the shown run's differences from the default config
    other_runs: list[tuple[Path, list[str]]] = field(default_factory=list)  # runs with overrides, not shown


def read_input(path: Path, reader: Callable[[Path], Any]) -> Any:
    """``reader(path)``, or an ExperimentError naming the file and what to do."""
    try:
        return reader(path)
    except Exception as err:  # any parse error: the message says which file, and what to do
        raise ExperimentError(
            f"{path} cannot be read ({type(err).__name__}: {err}); allowed: a complete, unmodified results "
            f"file; delete {path.parent} to recompute it"
        ) from err


def write_bytes(data: bytes, path: Path) -> None:
    """Write ``data`` to ``path`` (called through :func:`read_input`, which names the file if it fails)."""
    path.write_bytes(data)


def read_json(path: Path) -> Any:
    """The JSON document at ``path``."""
    return json.loads(path.read_text(encoding="utf-8"))


def read_yaml(path: Path) -> dict[str, Any]:
    """The YAML mapping at ``path`` (interpolations left as written)."""
    container = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
    assert isinstance(container, dict)
    return {str(k): v for k, v in container.items()}


def experiment_state(folder: Path, name: str) -> str:
    """``complete``, or ``missing`` (no meta.json: never run or interrupted); raise if unusable.

    Raises
    ------
    ExperimentError
        If the folder holds results of another model version, a corrupt ``meta.json``, results
        of another experiment, or a ``meta.json`` without the outputs the report reads.
    """
    if folder.exists() and not folder.is_dir():
        raise ExperimentError(f"{folder} is a file; allowed: the results folder of {name}")
    meta_path = folder / store.META_FILE
    if not meta_path.is_file():
        return "missing"
    meta = read_input(meta_path, read_json)
    found, current = meta.get("model_version") if isinstance(meta, dict) else None, store.model_version()
    if found != current:
        raise ExperimentError(
            f"{folder} holds results of {name} of model version {found!r}, not {current!r}; allowed: results of this "
            f"version: delete {folder} and run the report again (it remakes missing results), or point "
            "experiment.experiments_dir elsewhere"
        )
    if meta.get("experiment") != name:
        raise ExperimentError(
            f"{folder} holds results of experiment {meta.get('experiment')!r}, not {name!r}; allowed: the "
            f"folder python -m experiments.{name} writes"
        )
    absent = [f for f in OUTPUTS[name] if not (folder / f).is_file()]
    if absent:
        raise ExperimentError(
            f"{folder} is incomplete: {absent} missing beside its meta.json; allowed: a complete results folder; "
            f"delete {folder} to recompute it"
        )
    return "complete"


def read_experiment(folder: Path, name: str) -> dict[str, Any]:
    """The outputs of a complete experiment folder (``meta``, then each file by name)."""
    out: dict[str, Any] = {"meta": read_input(folder / store.META_FILE, read_json), "folder": folder}
    for file in OUTPUTS[name]:
        out[file] = read_input(folder / file, pd.read_csv if file.endswith(".csv") else read_json)
    return out


def run_state(folder: Path) -> str:
    """``complete`` if ``folder`` is a complete run of this model version with the tables the report needs."""
    meta = store.read_meta(folder)
    found, current = meta.get("model_version"), store.model_version()
    if found != current:
        raise ExperimentError(
            f"{folder} holds a run of model version {found!r}, not {current!r}; allowed: a run folder of this "
            "version (python -m sim)"
        )
    absent = [f"{t}.parquet" for t in RUN_TABLES if not (folder / f"{t}.parquet").is_file()]
    if absent or not (folder / "config.yaml").is_file():
        raise ExperimentError(
            f"{folder} lacks {absent or ['config.yaml']}; allowed: a run folder written with "
            f"tables={list(RUN_TABLES)} or more (the default of python -m sim)"
        )
    return "complete"


def default_config() -> dict[str, Any]:
    """The resolved config of a bare ``python -m sim`` (no override), as a plain dict."""
    container = OmegaConf.to_container(hydra.compose(config_name="config"), resolve=True)
    assert isinstance(container, dict)
    return {str(k): v for k, v in container.items()}


def flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted keys of a nested config (lists kept whole)."""
    if not isinstance(node, Mapping):
        return {prefix: node}
    out: dict[str, Any] = {}
    for key, value in node.items():
        out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def run_overrides(run_config: Mapping[str, Any], default: Mapping[str, Any]) -> list[str]:
    """``key=value`` for every key where a run's resolved config differs from the default (what changes tables)."""
    ignored = (*NOT_IN_HASH, "hydra")
    run_flat = {k: v for k, v in flatten(run_config).items() if k.split(".")[0] not in ignored}
    default_flat = {k: v for k, v in flatten(default).items() if k.split(".")[0] not in ignored}
    keys = sorted(set(run_flat) | set(default_flat))
    return [f"{k}={run_flat.get(k, '<absent>')}" for k in keys if run_flat.get(k) != default_flat.get(k)]


def complete_runs(runs_dir: Path) -> list[Path]:
    """Complete run folders of this model version under ``runs_dir``, by name."""
    if not runs_dir.is_dir():
        return []
    found = []
    for meta_path in sorted(runs_dir.glob(f"*/{store.META_FILE}")):
        try:
            run_state(meta_path.parent)
        except ValueError:  # another version, incomplete, unreadable: not a candidate
            continue
        found.append(meta_path.parent)
    return found


def baseline_run(runs_dir: Path, baseline_hash: str) -> Path | None:
    """The run whose resolved config is the default's (same config hash), never picked by recency.

    Runs of the same config give the same tables; among several the first by name is taken.
    """
    for folder in complete_runs(runs_dir):
        if store.read_meta(folder).get("config_hash") == baseline_hash:
            return folder
    return None


def read_run(folder: Path, inputs: Inputs) -> None:
    """Read a run folder's tables, config, names of its actors and its dated events into ``inputs``."""
    run_state(folder)
    inputs.run_folder = folder
    inputs.run_meta = store.read_meta(folder)
    inputs.run_config = read_input(folder / "config.yaml", lambda p: p.read_text(encoding="utf-8"))
    inputs.run_tables = {t: read_input(folder / f"{t}.parquet", pd.read_parquet) for t in RUN_TABLES}
    cfg = read_input(folder / "config.yaml", OmegaConf.load)
    params = params_from_config(cfg)
    inputs.names = dict(zip(params.actors.codes, build_inputs(params).names, strict=True))
    inputs.poles = (params.actors.china_pole, params.actors.us_pole)
    marks = pd.DataFrame(job_options(cfg).event_marks, columns=["date", "label"])
    inputs.events = plots.event_marks(marks, params.run.start_year, params.run.end_year)


def q1_states(folder: Path, meta: Mapping[str, Any], scenario: str) -> pd.DataFrame | None:
    """q1's cached states table of ``scenario`` for the runs of its meta.json, or None.

    Over posterior draws the cache holds one file per draw (every scenario of the draw): the
    scenario's rows of the draws of q1's seeds are gathered from them.
    """
    parameters = meta.get("parameters") or {}
    if parameters.get("parameter_source") == "posterior":
        seeds = {
            s
            for group in nested_seeds(
                int(meta["seed"]), int(parameters["n_draws"]), int(parameters["replicates_per_draw"])
            )
            for s in group
        }
        frames = []
        for path in sorted((folder / "runs").glob("draw-*.states.parquet")):
            frame = read_input(path, pd.read_parquet)
            frames.append(frame[frame["run_id"].str.startswith(f"{scenario}-s") & frame["seed"].isin(seeds)])
        found = pd.concat(frames, ignore_index=True) if frames else None
        return found if found is not None and found["seed"].nunique() == len(seeds) else None
    seeds_list = replicate_seeds(int(meta["seed"]), int(meta["replicates"]))
    digest = hashlib.sha256(json.dumps(seeds_list).encode()).hexdigest()[:12]
    paths = sorted((folder / "runs").glob(f"{scenario}-*-{digest}.states.parquet"), key=lambda p: p.stat().st_mtime)
    return read_input(paths[-1], pd.read_parquet) if paths else None


def make(command: list[str], what: str) -> None:
    """Run ``command`` (its output goes to the console); raise an ExperimentError if it fails."""
    log.info("report: %s is missing; running %s", what, " ".join(command[1:]))
    result = subprocess.run(command, check=False)
    if result.returncode != 0:
        raise ExperimentError(
            f"{' '.join(command[1:])} (to make {what}) failed with exit code {result.returncode}; its message is "
            "above. Fix it, or run that command yourself, then the report again"
        )


def experiment_command(name: str, folder: Path, size: int | None) -> list[str]:
    """The command that makes ``folder``: the experiment's own entry point (``size``: fewer runs than its default).

    ``size`` sets the replicates and parameter draws of q1..q5 and of the patterns, the points of scenario
    discovery.
    """
    command = [sys.executable, "-m", f"experiments.{name}", f"experiment.out={folder}"]
    if size is None:
        return command
    if name == "scenario_discovery":
        return [*command, f"experiment.points={size}", f"experiment.min_points={size}"]
    return [*command, f"replicates={size}", f"experiment.draws={size}"]
