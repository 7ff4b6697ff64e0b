"""Writing and reading results: parquet tables, the resolved config, provenance. Atomic.

A run folder holds ``config.yaml``, ``states.parquet``, ``dyads.parquet``, ``actions.parquet``,
``outcomes.parquet``, figures, and ``meta.json`` last: a folder whose ``meta.json`` exists is
complete. Every file is written to a temporary name in the same folder and renamed into place,
so an interrupted run never leaves a half-written table under a final name.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim import __version__

TABLE_NAMES = ("states", "dyads", "actions", "outcomes")
META_FILE = "meta.json"
RESULT_SCHEMA_VERSION = 1
_UMASK = os.umask(0)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK  # what open() would give; mkstemp's own 0600 is for secrets


# The modules whose code decides a run's tables (figures, CLI and dashboard do not).
MODEL_SOURCES = (
    "agents",
    "drivers",
    "dynamics",
    "ensemble",
    "initial",
    "inputs",
    "model",
    "outcomes",
    "params",
    "records",
    "runs",
    "turn",
)


class ResultsError(ValueError):
    """A results folder that cannot be read as this version's results."""


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``.

    The temporary file is removed if ``write`` fails, so ``path`` is either absent, its
    previous content, or complete.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    atomic_write(path, lambda tmp: _write_text_file(tmp, text))


def _write_text_file(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def write_table(path: Path, frame: pd.DataFrame) -> None:
    """Write ``frame`` as parquet to ``path`` atomically (no index)."""
    atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))


class TableStreamWriter:
    """Append data frames to one parquet file, chunk by chunk; the file appears when closed.

    Writes go to a temporary file beside ``path``; :meth:`close` renames it into place and
    :meth:`abort` removes it, so a crash never leaves a partial table under the final name.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        os.close(fd)
        self._tmp = Path(name)
        self._writer: pq.ParquetWriter | None = None

    def write(self, frame: pd.DataFrame) -> None:
        """Append ``frame`` (same columns and types as the first one)."""
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._tmp, table.schema)
        self._writer.write_table(table.cast(self._writer.schema))

    def close(self) -> Path:
        """Finish the file and move it to its final name; return that path."""
        if self._writer is None:
            raise ValueError(f"nothing was written to {self.path}")
        self._writer.close()
        os.chmod(self._tmp, FILE_MODE)
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Drop the partial file."""
        if self._writer is not None:
            self._writer.close()
        self._tmp.unlink(missing_ok=True)


def git_revision() -> str:
    """The git revision of the source tree, with ``+dirty`` if it has uncommitted changes."""
    root = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return rev + ("+dirty" if dirty else "")


def source_digest() -> str:
    """SHA-256 (first 12 hex digits) of the model's source files and shipped data.

    Changes whenever the code or data that produce results change, committed or not.
    """
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted([*(package / f"{name}.py" for name in MODEL_SOURCES), *package.glob("data/*.csv")]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def model_version() -> str:
    """The package version and the source digest: results of different model versions never mix."""
    return f"{__version__}+{source_digest()}"


def provenance() -> dict[str, Any]:
    """Version information for ``meta.json``."""
    return {
        "package_version": __version__,
        "result_schema_version": RESULT_SCHEMA_VERSION,
        "git_revision": git_revision(),
        "model_version": model_version(),
        "python": platform.python_version(),
    }


def write_run_tables(folder: Path, tables: Mapping[str, pd.DataFrame], config_yaml: str) -> None:
    """Write a run's resolved config and its tables into ``folder`` (atomically, each)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_text(folder / "config.yaml", config_yaml)
    for name, frame in tables.items():
        write_table(folder / f"{name}.parquet", frame)


def write_meta(folder: Path, meta: Mapping[str, Any]) -> None:
    """Write ``meta.json`` (provenance plus ``meta``): the last file of a complete run folder."""
    write_text(folder / META_FILE, json.dumps({**provenance(), **meta}, indent=2, sort_keys=True, default=str))


def read_meta(folder: Path) -> dict[str, Any]:
    """The ``meta.json`` of a complete run folder.

    Raises
    ------
    ResultsError
        If the folder is not a complete run, or was written by another result schema version.
    """
    path = Path(folder) / META_FILE
    if not path.is_file():
        raise ResultsError(f"{folder} is not a complete run folder (no {META_FILE})")
    try:
        meta: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ResultsError(f"{path} is not valid JSON: {err}") from err
    version = meta.get("result_schema_version")
    if version != RESULT_SCHEMA_VERSION:
        raise ResultsError(
            f"{folder} holds results of schema version {version!r}; this version reads {RESULT_SCHEMA_VERSION}. "
            "Re-run it with this version."
        )
    return meta


def is_complete(folder: Path, config_hash: str) -> bool:
    """True if ``folder`` holds a complete run (``meta.json`` and every table it lists) of ``config_hash``."""
    path = Path(folder) / META_FILE
    if not path.is_file():
        return False
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return False
    if meta.get("config_hash") != config_hash or meta.get("result_schema_version") != RESULT_SCHEMA_VERSION:
        return False
    return all((Path(folder) / f"{name}.parquet").is_file() for name in meta.get("rows", {}))


def read_run(folder: Path) -> dict[str, pd.DataFrame]:
    """The tables of a complete run folder, by name."""
    meta = read_meta(folder)
    names = list(meta.get("rows", {})) or list(TABLE_NAMES)
    return {name: pd.read_parquet(Path(folder) / f"{name}.parquet") for name in names}
