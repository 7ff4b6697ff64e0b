"""The results catalogue: ``python -m sim.catalog`` lists what has been run and makes it queryable.

It walks a results folder (``results/`` by default: ``runs/<scenario>/<time>-seed<seed>/``,
``sweeps/<swept keys>-<digest>/<job>/``, ``experiments/<name>/``), prints one line per run, sweep
and experiment with its status, model version and overrides, and writes a DuckDB database,
``<root>/catalog.duckdb``, holding that listing (table ``catalog``) and views over every result
table, read with ``union_by_name`` so that sweeps over different keys combine (a key a sweep did
not vary is NULL in its rows):

``sweep_outcomes``
    every sweep's ``summary.parquet`` (one row per job, run and quarter; the job's overrides as
    columns), with ``sweep`` naming the sweep;
``run_outcomes``
    every single run's ``outcomes.parquet``, with ``run`` naming its folder;
``<experiment>_<table>``
    each experiment's CSV outputs (``q1_counterfactuals_effects``, ...).

Example::

    python -m sim.catalog
    python -c "import duckdb; print(duckdb.connect('results/catalog.duckdb').sql(
        'select sweep, year, avg(china_wants_gap) from sweep_outcomes group by all order by all'))"
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from sim.callbacks import FAILED_MARK, FAILURES_FILE, SUMMARY_FILE, job_folders
from sim.store import run_problem

META_FILE = "meta.json"
DATABASE_FILE = "catalog.duckdb"
EXIT_BAD_INPUT = 2


@dataclass(frozen=True)
class Entry:
    """One line of the catalogue."""

    kind: str  # run | sweep | experiment
    name: str  # path relative to the results folder
    status: str  # complete | incomplete | damaged | failed | partial (a sweep with some jobs not complete)
    model_version: str
    overrides: str
    detail: str  # runs and seeds, or jobs, or the experiment's replicate count


def _meta(folder: Path) -> dict[str, Any] | None:
    try:
        loaded = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return loaded if isinstance(loaded, dict) else None


def _overrides_text(overrides: dict[str, Any] | list[str]) -> str:
    if isinstance(overrides, dict):
        return " ".join(f"{k}={v}" for k, v in overrides.items())
    return " ".join(str(o) for o in overrides)


def _typed_overrides(folder: Path) -> list[str]:
    """A run's overrides as they were typed (Hydra's ``.hydra/overrides.yaml``), ``hydra.*`` aside."""
    try:
        typed = yaml.safe_load((folder / ".hydra" / "overrides.yaml").read_text(encoding="utf-8")) or []
    except (OSError, yaml.YAMLError):
        return []
    return [str(o) for o in typed if not str(o).lstrip("+~").startswith("hydra")]


def run_entry(folder: Path, root: Path) -> Entry:
    """The catalogue line of a single run's folder.

    Complete only if its tables match the row counts and sha256 its ``meta.json`` recorded
    (:func:`sim.store.run_problem`); a folder with ``meta.json`` whose tables do not is ``damaged``.
    """
    meta = _meta(folder)
    overrides = _typed_overrides(folder)  # as typed: posterior=true, tables=[outcomes]
    if meta is None:
        return Entry("run", str(folder.relative_to(root)), "incomplete", "", _overrides_text(overrides), "")
    detail = f"{meta.get('replicates', 1)} run(s), seed {meta.get('seed')}, {meta.get('engine', '')} engine"
    problem = run_problem(folder)
    return Entry(
        "run",
        str(folder.relative_to(root)),
        "complete" if problem is None else "damaged",
        str(meta.get("model_version", "")),
        _overrides_text(overrides),
        detail if problem is None else f"{detail}; {problem}",
    )


def sweep_entry(folder: Path, root: Path) -> Entry:
    """The catalogue line of a sweep: its jobs' states and the overrides it was launched with."""
    jobs = job_folders(folder)
    metas = [_meta(job) for job in jobs]
    complete = sum(m is not None and run_problem(job) is None for job, m in zip(jobs, metas, strict=True))
    failed = sum((job / FAILED_MARK).is_file() and m is None for job, m in zip(jobs, metas, strict=True))
    versions = sorted({str(m.get("model_version", "")) for m in metas if m is not None})
    if failed or _listed_failures(folder):
        status = "failed"
    elif complete == len(jobs) and jobs and (folder / SUMMARY_FILE).is_file():
        status = "complete"
    else:
        status = "partial" if complete else "incomplete"
    planned = _planned_jobs(folder)
    started = f"{len(jobs)} of {planned} job(s) started" if planned and planned != len(jobs) else f"{len(jobs)} job(s)"
    detail = f"{started}: {complete} complete, {failed} failed"
    return Entry("sweep", str(folder.relative_to(root)), status, ",".join(versions), _sweep_overrides(folder), detail)


def _listed_failures(folder: Path) -> int:
    try:
        failures = json.loads((folder / FAILURES_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return 0
    return len(failures) if isinstance(failures, list) else 0


def _planned_jobs(folder: Path) -> int | None:
    """How many jobs the sweep's command line asks for (an interrupted sweep has started fewer), or None."""
    from omegaconf import OmegaConf

    from sim.job import sweep_job_overrides  # the sweep's own expansion of its overrides

    try:
        return len(sweep_job_overrides(OmegaConf.load(folder / "multirun.yaml")))  # type: ignore[arg-type]
    except Exception:  # an unreadable or unparsable multirun.yaml only loses this count
        return None


def _sweep_overrides(folder: Path) -> str:
    """The command-line overrides of a sweep (from Hydra's ``multirun.yaml``), or ''."""
    try:
        config = yaml.safe_load((folder / "multirun.yaml").read_text(encoding="utf-8")) or {}
        hydra = config.get("hydra", {})
        swept = [f"{k}={v}" for k, v in (hydra.get("sweeper", {}).get("params") or {}).items()]
        return _overrides_text([*swept, *hydra.get("overrides", {}).get("task", [])])
    except (OSError, yaml.YAMLError, AttributeError):
        return ""


def experiment_entry(folder: Path, root: Path) -> Entry:
    """The catalogue line of an experiment's folder."""
    meta = _meta(folder)
    if meta is None:
        return Entry("experiment", str(folder.relative_to(root)), "incomplete", "", "", "")
    draws = (meta.get("parameters") or {}).get("n_draws")
    size = f"{draws} parameter draw(s)" if draws else f"{meta.get('replicates', '?')} replicate(s)"
    simulated = f", {meta['runs_simulated']} runs simulated" if "runs_simulated" in meta else ""
    detail = f"{size}{simulated}, seed {meta.get('seed')}, {meta.get('seconds', '?')} s"
    overrides = _overrides_text(meta.get("overrides", []))
    return Entry(
        "experiment", str(folder.relative_to(root)), "complete", str(meta.get("model_version", "")), overrides, detail
    )


def entries(root: Path) -> list[Entry]:
    """Every run, sweep and experiment under ``root``."""
    found = [run_entry(f, root) for f in sorted(root.glob("runs/*/*/")) if f.is_dir()]
    found += [sweep_entry(f, root) for f in sorted(root.glob("sweeps/*/")) if f.is_dir()]
    found += [experiment_entry(f, root) for f in sorted(root.glob("experiments/*/")) if f.is_dir()]
    return found


def _view_name(text: str) -> str:
    return re.sub(r"\W+", "_", text).strip("_").lower()


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def view_definitions(root: Path) -> dict[str, str]:
    """The SQL of every view over the result tables under ``root`` (only those with files)."""
    base = root.resolve()
    views: dict[str, str] = {}
    if list(base.glob(f"sweeps/*/{SUMMARY_FILE}")):
        pattern = _sql_text(str(base / "sweeps" / "*" / SUMMARY_FILE))
        views["sweep_outcomes"] = (
            "select regexp_extract(filename, '.*/sweeps/([^/]+)/[^/]+$', 1) as sweep, * exclude (filename) "
            f"from read_parquet({pattern}, union_by_name = true, filename = true)"
        )
    if list(base.glob("runs/*/*/outcomes.parquet")):
        pattern = _sql_text(str(base / "runs" / "*" / "*" / "outcomes.parquet"))
        views["run_outcomes"] = (
            "select regexp_extract(filename, '.*/runs/(.+)/outcomes.parquet$', 1) as run, * exclude (filename) "
            f"from read_parquet({pattern}, union_by_name = true, filename = true)"
        )
    for csv in sorted(base.glob("experiments/*/*.csv")):
        views[_view_name(f"{csv.parent.name}_{csv.stem}")] = f"select * from read_csv_auto({_sql_text(str(csv))})"
    return views


def write_database(root: Path, listing: list[Entry], path: Path) -> dict[str, str]:
    """Write the DuckDB catalogue at ``path`` (replaced atomically); return its views."""
    import duckdb
    import pandas as pd

    views = view_definitions(root)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    with duckdb.connect(str(tmp)) as db:
        frame = pd.DataFrame([asdict(e) for e in listing], columns=list(Entry.__dataclass_fields__))
        db.register("listing", frame)
        db.execute("create table catalog as select * from listing")
        for name, sql in views.items():
            db.execute(f'create view "{name}" as {sql}')
    tmp.replace(path)
    return views


def format_listing(listing: list[Entry]) -> str:
    """The catalogue as aligned text lines."""
    if not listing:
        return "(nothing yet)"
    header = ("kind", "name", "status", "model version", "detail", "overrides")
    rows = [header, *((e.kind, e.name, e.status, e.model_version, e.detail, e.overrides) for e in listing)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header) - 1)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1] for r in rows)


def main(argv: list[str] | None = None) -> int:
    """``python -m sim.catalog [--root results] [--database PATH] [--no-database]``."""
    parser = argparse.ArgumentParser(prog="python -m sim.catalog", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path("results"), help="results folder (default: results)")
    parser.add_argument("--database", type=Path, help=f"DuckDB file to write (default: <root>/{DATABASE_FILE})")
    parser.add_argument("--no-database", action="store_true", help="only print the listing")
    args = parser.parse_args(argv)
    root: Path = args.root
    if not root.is_dir():
        print(
            f"error: --root={str(root)!r} is not a folder; allowed: a results folder (default results)", file=sys.stderr
        )
        return EXIT_BAD_INPUT
    listing = entries(root)
    print(format_listing(listing))
    if not args.no_database:
        path = args.database or root / DATABASE_FILE
        views = write_database(root, listing, path)
        print(f"\n{path}: table catalog ({len(listing)} rows), views {', '.join(views) or '(none yet)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
