"""Writing and reading results: parquet tables, the resolved config, provenance. Atomic.

A run folder holds ``config.yaml``, ``states.parquet``, ``dyads.parquet``, ``actions.parquet``,
``outcomes.parquet``, figures, and ``meta.json`` last. ``meta.json`` records each table's row
count and sha256: a folder is complete when its ``meta.json`` reads and every table it lists
matches its checksum, so a truncated or bit-flipped table is found and redone, never trusted.
Every file is written to a temporary name in the same folder (tagged with host and process)
and renamed into place; temporaries left by a killed process are removed on the next launch.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
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
TMP_SUFFIX = ".tmp"
# A temporary file is named ``.<final name>.<host>~<pid>~<random>.tmp``: its writer can be told apart.
_TMP_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<host>[^~/]+)~(?P<pid>\d+)~[^/]*\.tmp$")
STALE_AFTER_SECONDS = 3600.0  # a temporary of another host (or untagged) untouched this long is dead


# The modules whose code decides a run's tables (figures, CLI and dashboard do not).
MODEL_SOURCES = (
    "agents",
    "batch",
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


def temporary_file(path: Path) -> Path:
    """A new empty temporary file beside ``path``, named after it, this host and this process."""
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{path.name}.{socket.gethostname().replace('~', '-')}~{os.getpid()}~"
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=TMP_SUFFIX, dir=path.parent)
    os.close(fd)
    return Path(name)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_stale_temporary(path: Path, now: float | None = None) -> bool:
    """True if ``path`` is a temporary file whose writer is gone.

    Written on this host: its process no longer runs. Written elsewhere (a cluster node) or
    untagged (an older version): untouched for :data:`STALE_AFTER_SECONDS`.
    """
    if not (path.name.startswith(".") and path.name.endswith(TMP_SUFFIX)):
        return False
    match = _TMP_NAME.match(path.name)
    if match and match["host"] == socket.gethostname().replace("~", "-"):
        return not _process_alive(int(match["pid"]))
    try:
        age = (time.time() if now is None else now) - path.stat().st_mtime
    except FileNotFoundError:
        return False
    return age > STALE_AFTER_SECONDS


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Remove the temporary files in ``folder`` left by killed writers; return them."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    stale = [p for p in folder.glob(f".*{TMP_SUFFIX}") if is_stale_temporary(p)]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (hex)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checksums(paths: Mapping[str, Path]) -> dict[str, str]:
    """The sha256 of each file, by name."""
    return {name: file_sha256(path) for name, path in paths.items()}


def checksum_problem(paths: Mapping[str, Path], expected: Mapping[str, str]) -> str | None:
    """Why the files ``paths`` do not match their recorded ``expected`` sha256, or None if they do."""
    for name, path in paths.items():
        if name not in expected:
            return f"{path} has no recorded sha256 (written by an older version)"
        if not path.is_file():
            return f"{path} is missing"
        if file_sha256(path) != expected[name]:
            return f"{path} does not match its recorded sha256 (truncated or corrupted)"
    return None


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``.

    The temporary file is removed if ``write`` fails, so ``path`` is either absent, its
    previous content, or complete. An I/O error (a full disk, say) is raised naming ``path``.
    """
    tmp = temporary_file(path)
    try:
        write(tmp)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise io_error(err, path) from err
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def io_error(err: OSError, path: Path) -> OSError:
    """``err`` as an error that names ``path`` (pyarrow's and some OS errors name no file)."""
    if err.errno is not None:
        return OSError(err.errno, f"{err.strerror or err} (writing {path})")
    return OSError(f"{err} (writing {path})")


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    atomic_write(path, lambda tmp: _write_text_file(tmp, text))


def _write_text_file(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


# The key columns of the result tables: few distinct values, each repeated over many rows.
# Parquet's dictionary encoding makes them small; on measurements it costs time and saves nothing.
KEY_COLUMNS = ("run_id", "seed", "t", "year", "quarter", "actor", "observer", "target", "kind")


def dictionary_columns(columns: list[str]) -> list[str]:
    """The columns of a table to dictionary-encode in parquet: its key columns."""
    return [c for c in columns if c in KEY_COLUMNS]


def write_table(path: Path, frame: pd.DataFrame) -> None:
    """Write ``frame`` as parquet to ``path`` atomically (no index)."""
    encoded = dictionary_columns(list(frame.columns))
    atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False, use_dictionary=encoded))


class TableStreamWriter:
    """Append data frames to one parquet file, chunk by chunk; the file appears when closed.

    Writes go to a temporary file beside ``path``; :meth:`close` renames it into place and
    :meth:`abort` removes it, so a crash never leaves a partial table under the final name.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._tmp = temporary_file(self.path)
        self._writer: pq.ParquetWriter | None = None
        self._empty: pa.Table | None = None

    def write(self, frame: pd.DataFrame | pa.Table) -> None:
        """Append ``frame`` (same columns and types as the first non-empty one).

        Empty frames are skipped: their column types (an empty text column of pandas, say) may
        not be the table's. If every frame is empty, the file holds the first one.
        """
        table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
        if table.num_rows == 0:
            self._empty = table if self._empty is None else self._empty
            return
        try:
            if self._writer is None:
                encoded = dictionary_columns(table.column_names)
                self._writer = pq.ParquetWriter(self._tmp, table.schema, use_dictionary=encoded)
            self._writer.write_table(table.cast(self._writer.schema))
        except OSError as err:
            raise io_error(err, self.path) from err

    def close(self) -> Path:
        """Finish the file and move it to its final name; return that path."""
        if self._writer is None and self._empty is not None:
            self._writer = pq.ParquetWriter(self._tmp, self._empty.schema)
        if self._writer is None:
            raise ValueError(f"nothing was written to {self.path}")
        try:
            self._writer.close()
            os.chmod(self._tmp, FILE_MODE)
            os.replace(self._tmp, self.path)
        except OSError as err:
            raise io_error(err, self.path) from err
        return self.path

    def abort(self) -> None:
        """Drop the partial file."""
        if self._writer is not None:
            self._writer.close()
        self._tmp.unlink(missing_ok=True)


def stream_tables(
    folder: Path, chunks: Iterable[Mapping[str, pd.DataFrame | pa.Table]], names: Sequence[str]
) -> dict[str, Path]:
    """Append each chunk's tables to ``folder/<name>.parquet``; return the files by name.

    Memory stays that of one chunk. Each file appears under its final name only when every chunk
    is written; on any error (or interrupt) the partial files are removed.
    """
    writers = {name: TableStreamWriter(Path(folder) / f"{name}.parquet") for name in names}
    try:
        for chunk in chunks:
            for name in names:
                writers[name].write(chunk[name])
        return {name: writer.close() for name, writer in writers.items()}
    except BaseException:
        for writer in writers.values():
            writer.abort()
        raise


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
    files = [
        *(package / f"{name}.py" for name in MODEL_SOURCES),
        *package.glob("drivers/*.py"),
        *package.glob("rules/*.py"),
    ]
    for path in sorted([*files, *package.glob("data/*.csv")]):
        digest.update(path.relative_to(package).as_posix().encode())
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
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ResultsError(f"{path} is not valid JSON: {err}") from err
    if not isinstance(meta, dict):
        raise ResultsError(f"{path} is not a JSON object")
    version = meta.get("result_schema_version")
    if version != RESULT_SCHEMA_VERSION:
        raise ResultsError(
            f"{folder} holds results of schema version {version!r}; this version reads {RESULT_SCHEMA_VERSION}. "
            "Re-run it with this version."
        )
    return meta


def parquet_rows(path: Path) -> int:
    """The number of rows of a parquet file (from its footer)."""
    return int(pq.ParquetFile(path).metadata.num_rows)


def table_paths(folder: Path, names: Any) -> dict[str, Path]:
    """The parquet file of each table name in ``folder``."""
    return {name: Path(folder) / f"{name}.parquet" for name in names}


def run_problem(folder: Path, config_hash: str | None = None) -> str | None:
    """Why ``folder`` is not a complete, intact run (of ``config_hash`` if given), or None if it is.

    Complete means: ``meta.json`` reads as this schema version's JSON, records ``config_hash``,
    and every table it lists is present with the sha256 it recorded.
    """
    try:
        meta = read_meta(folder)
    except ResultsError as err:
        return str(err)
    if config_hash is not None and meta.get("config_hash") != config_hash:
        return f"{Path(folder) / META_FILE} records another config"
    return checksum_problem(table_paths(folder, meta.get("rows", {})), meta.get("sha256", {}))


def is_complete(folder: Path, config_hash: str) -> bool:
    """True if ``folder`` holds a complete, intact run of ``config_hash`` (see :func:`run_problem`)."""
    return run_problem(folder, config_hash) is None


def read_run(folder: Path) -> dict[str, pd.DataFrame]:
    """The tables of a complete run folder, by name."""
    meta = read_meta(folder)
    names = list(meta.get("rows", {})) or list(TABLE_NAMES)
    return {name: pd.read_parquet(Path(folder) / f"{name}.parquet") for name in names}
