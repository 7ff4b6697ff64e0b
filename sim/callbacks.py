"""Hydra callbacks of a sweep (``python -m sim -m ...``), and the resolver that names its folder.

A sweep's folder is named after its command-line overrides (``sweep_id``), so re-launching the
same command finds the jobs it already finished (each job skips itself when its folder holds a
complete run of the same config; see ``sim/__main__.py``). When the sweep ends,
:class:`SweepSummary` joins every job's outcomes into one ``summary.parquet`` beside the job
folders, with the job's overrides as columns; failed jobs are named in ``failures.json``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from sim import store

log = logging.getLogger("sim")
SUMMARY_FILE = "summary.parquet"
FAILURES_FILE = "failures.json"
FAILED_MARK = "failed.json"
JOB_KEY_COLUMNS = ("job",)


def sweep_id(overrides: Any) -> str:
    """A folder name for a sweep: its swept keys and a digest of all its overrides.

    ``seed=1,2 drivers.china_coercion.scale=0,1`` -> ``drivers.china_coercion.scale+seed-1a2b3c4d``.
    A group's ``/`` becomes ``.``: the name is one folder inside ``results_root/sweeps``.
    """
    items = sorted(str(o) for o in (overrides or []))
    swept = sorted(
        {
            o.split("=", 1)[0].lstrip("+~").replace("/", ".")
            for o in items
            if "," in o or "range(" in o or "choice(" in o
        }
    )
    digest = hashlib.sha256("\n".join(items).encode()).hexdigest()[:8]
    return f"{'+'.join(swept) or 'sweep'}-{digest}"


_CURRENT_SWEEP: dict[str, str] = {}


def _current_sweep_id() -> str:
    if "id" not in _CURRENT_SWEEP:
        raise ValueError("${sweep_id:} is only defined in a sweep (python -m sim -m ...)")
    return _CURRENT_SWEEP["id"]


def _absolute_path(path: str) -> str:
    return os.path.abspath(path)


def register_resolvers() -> None:
    """Make ``${sweep_id:}`` and ``${abspath:path}`` available to the configs.

    :class:`SweepSummary` sets ``sweep_id`` from the sweep's own overrides when the multirun
    starts, in the launching process; the resolver caches it, and Hydra copies that cache into
    every job's config (as it does for ``${now:...}``), so all jobs of a sweep agree on its folder.
    ``abspath`` makes a path absolute against the launching process's working directory, cached
    the same way: a Ray or SLURM worker started elsewhere still writes into that folder.
    """
    if not OmegaConf.has_resolver("sweep_id"):
        OmegaConf.register_new_resolver("sweep_id", _current_sweep_id, use_cache=True)
    if not OmegaConf.has_resolver("abspath"):
        OmegaConf.register_new_resolver("abspath", _absolute_path, use_cache=True)


def job_overrides(job_dir: Path) -> dict[str, Any]:
    """The ``key=value`` overrides a job ran with (from Hydra's ``.hydra/overrides.yaml``), parsed."""
    path = job_dir / ".hydra" / "overrides.yaml"
    if not path.is_file():
        return {}
    out = {}
    for item in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
        key, _, value = str(item).partition("=")
        out[key.lstrip("+~")] = yaml.safe_load(value) if value else None
    return out


def job_folders(sweep_dir: Path) -> list[Path]:
    """The job folders of a sweep, in job-number order."""
    jobs = [p for p in sweep_dir.iterdir() if p.is_dir() and (p / ".hydra").is_dir()]
    return sorted(jobs, key=lambda p: (int(p.name) if p.name.isdigit() else 10**9, p.name))


def failure_reason(job: Path, problem: str) -> str:
    """The error a failed job recorded in its ``failed.json``, else ``problem`` (why it is incomplete)."""
    try:
        return str(json.loads((job / FAILED_MARK).read_text(encoding="utf-8"))["error"])
    except (OSError, ValueError, KeyError, TypeError):
        return problem


def summarise_sweep(sweep_dir: Path) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    """The combined outcomes of a sweep's complete jobs, and the jobs that are not complete."""
    frames, failures = [], []
    for job in job_folders(sweep_dir):
        problem = store.run_problem(job)
        if problem is None:
            try:
                outcomes = pd.read_parquet(job / "outcomes.parquet")
            except Exception as err:  # an unreadable table with a matching checksum: written broken
                problem = f"{job / 'outcomes.parquet'}: {type(err).__name__}: {err}"
        if problem is not None:
            failures.append(
                {"job": job.name, "overrides": json.dumps(job_overrides(job)), "error": failure_reason(job, problem)}
            )
            continue
        for key, value in job_overrides(job).items():
            column = f"job_{key}" if key in outcomes.columns else key  # e.g. seed: the runs' own seeds differ
            outcomes.insert(0, column, [value if not isinstance(value, list) else str(value)] * len(outcomes))
        outcomes.insert(0, "job", job.name)
        frames.append(outcomes)
    summary = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(JOB_KEY_COLUMNS))
    return summary, failures


class SweepSummary(Callback):
    """Name the sweep folder when a multirun starts; write ``summary.parquet`` when it ends."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Fix ``${sweep_id:}`` from this sweep's command-line overrides."""
        _CURRENT_SWEEP["id"] = sweep_id(config.hydra.overrides.task)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Join the jobs' outcomes; name the failed jobs; exit non-zero if any job or the summary failed.

        Hydra turns an exception in a callback into a warning, so every error here is caught,
        listed in ``failures.json`` (job ``summary``) and ends the sweep with ``SystemExit(1)``.
        """
        sweep_dir = Path(config.hydra.sweep.dir)
        if not sweep_dir.is_dir():
            return
        failures: list[dict[str, str]] = []
        try:
            for stale in store.remove_stale_temporaries(sweep_dir):
                log.warning("removed %s, left by an interrupted write", stale)
            summary, failures = summarise_sweep(sweep_dir)
            if len(summary):
                store.write_table(sweep_dir / SUMMARY_FILE, summary)
                log.info(
                    "sweep summary: %d rows from %d job(s) -> %s",
                    len(summary),
                    summary["job"].nunique(),
                    sweep_dir / SUMMARY_FILE,
                )
            else:
                (sweep_dir / SUMMARY_FILE).unlink(missing_ok=True)  # no complete job: no stale summary
        except Exception as err:
            failures.append({"job": "summary", "overrides": "", "error": f"{type(err).__name__}: {err}"})
        for failure in failures:
            log.error("job %s (%s) failed: %s", failure["job"], failure["overrides"], failure["error"])
        try:
            store.write_text(sweep_dir / FAILURES_FILE, json.dumps(failures, indent=2))
        except OSError as err:
            log.error("could not write the list of failures: %s", err)
            raise SystemExit(1) from err
        if failures:
            raise SystemExit(1)
