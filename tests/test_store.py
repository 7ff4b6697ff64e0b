"""sim/store.py: atomic writes, streamed tables, run folders and their meta.json."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim import __version__, store


def write_run_tables(folder: Path, tables: dict[str, pd.DataFrame], config_yaml: str) -> None:
    store.write_text(folder / "config.yaml", config_yaml)
    for name, frame in tables.items():
        store.write_table(folder / f"{name}.parquet", frame)


class WriterFailed(RuntimeError):
    pass


def _half_then_fail(tmp: Path) -> None:
    tmp.write_text("half a table")
    raise WriterFailed("disk full")


def test_failing_writer_leaves_no_file_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "states.parquet"
    with pytest.raises(WriterFailed):
        store.atomic_write(target, _half_then_fail)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_existing_file_survives_a_failed_rewrite(tmp_path: Path) -> None:
    target = tmp_path / "config.yaml"
    store.write_text(target, "seed: 1\n")
    with pytest.raises(WriterFailed):
        store.atomic_write(target, _half_then_fail)
    assert target.read_text() == "seed: 1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["config.yaml"]


def test_interrupt_is_cleaned_up_too(tmp_path: Path) -> None:
    def interrupted(tmp: Path) -> None:
        tmp.write_text("x")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.atomic_write(tmp_path / "a.txt", interrupted)
    assert list(tmp_path.iterdir()) == []


def test_write_table_round_trip_and_file_mode(tmp_path: Path) -> None:
    frame = pd.DataFrame({"t": [0, 1], "actor": ["JPN", "CHN"], "alignment": [0.55, -1.0]})
    path = tmp_path / "states.parquet"
    store.write_table(path, frame)
    pd.testing.assert_frame_equal(pd.read_parquet(path), frame)
    assert path.stat().st_mode & 0o777 == store.FILE_MODE  # as open() would give, not mkstemp's 0600
    assert [p.name for p in tmp_path.iterdir()] == ["states.parquet"]


def test_stream_writer_appends_chunks_and_appears_only_when_closed(tmp_path: Path) -> None:
    path = tmp_path / "outcomes.parquet"
    writer = store.TableStreamWriter(path)
    writer.write(pd.DataFrame({"t": [0, 1], "gap": [0.4, 0.5]}))
    writer.write(pd.DataFrame({"t": [2], "gap": [0.6]}))
    assert not path.exists()
    assert writer.close() == path
    pd.testing.assert_frame_equal(pd.read_parquet(path), pd.DataFrame({"t": [0, 1, 2], "gap": [0.4, 0.5, 0.6]}))
    assert [p.name for p in tmp_path.iterdir()] == ["outcomes.parquet"]


def test_stream_writer_abort_leaves_nothing(tmp_path: Path) -> None:
    writer = store.TableStreamWriter(tmp_path / "states.parquet")
    writer.write(pd.DataFrame({"t": [0]}))
    writer.abort()
    assert list(tmp_path.iterdir()) == []
    empty = store.TableStreamWriter(tmp_path / "dyads.parquet")
    with pytest.raises(ValueError, match="nothing was written"):
        empty.close()
    empty.abort()
    assert list(tmp_path.iterdir()) == []


def test_run_folder_round_trip(tmp_path: Path) -> None:
    tables = {name: pd.DataFrame({"t": [0, 1], "value": [1.0, 2.0]}) for name in store.TABLE_NAMES}
    write_run_tables(tmp_path, tables, "seed: 7\n")
    store.write_meta(tmp_path, {"run_id": "baseline-s7-abc", "seed": 7, "rows": {n: 2 for n in tables}})
    meta = store.read_meta(tmp_path)
    assert meta["run_id"] == "baseline-s7-abc" and meta["seed"] == 7
    assert meta["package_version"] == __version__
    assert meta["result_schema_version"] == store.RESULT_SCHEMA_VERSION
    assert isinstance(meta["git_revision"], str) and meta["git_revision"]
    read = store.read_run(tmp_path)
    assert set(read) == set(tables)
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(read[name], frame)
    assert (tmp_path / "config.yaml").read_text() == "seed: 7\n"


def test_read_meta_refuses_a_folder_without_meta(tmp_path: Path) -> None:
    write_run_tables(tmp_path, {"states": pd.DataFrame({"t": [0]})}, "seed: 1\n")
    with pytest.raises(store.ResultsError, match="not a complete run folder"):
        store.read_meta(tmp_path)
    with pytest.raises(store.ResultsError):
        store.read_run(tmp_path)


def test_read_meta_refuses_another_schema_version(tmp_path: Path) -> None:
    (tmp_path / store.META_FILE).write_text(json.dumps({"result_schema_version": store.RESULT_SCHEMA_VERSION + 1}))
    with pytest.raises(store.ResultsError, match="schema version") as info:
        store.read_meta(tmp_path)
    assert str(store.RESULT_SCHEMA_VERSION + 1) in str(info.value)
    (tmp_path / store.META_FILE).write_text(json.dumps({"run_id": "x"}))  # no version at all
    with pytest.raises(store.ResultsError, match="None"):
        store.read_meta(tmp_path)


def test_read_meta_refuses_invalid_json(tmp_path: Path) -> None:
    (tmp_path / store.META_FILE).write_text("{not json")
    with pytest.raises(store.ResultsError, match="not valid JSON"):
        store.read_meta(tmp_path)


def test_results_error_is_a_value_error() -> None:
    assert issubclass(store.ResultsError, ValueError)


def _complete_run(folder: Path) -> None:
    tables = {"states": pd.DataFrame({"t": [0, 1], "x": [0.5, 0.25]}), "outcomes": pd.DataFrame({"t": [0, 1]})}
    write_run_tables(folder, tables, "")
    sums = store.checksums(store.table_paths(folder, tables))
    store.write_meta(folder, {"config_hash": "abc", "rows": {"states": 2, "outcomes": 2}, "sha256": sums})


def test_is_complete_needs_meta_matching_hash_and_every_listed_table(tmp_path: Path) -> None:
    assert not store.is_complete(tmp_path, "abc")
    _complete_run(tmp_path)
    assert store.is_complete(tmp_path, "abc")
    assert store.run_problem(tmp_path) is None
    assert not store.is_complete(tmp_path, "abd")
    (tmp_path / "states.parquet").unlink()
    assert not store.is_complete(tmp_path, "abc")
    assert store.run_problem(tmp_path) == f"{tmp_path / 'states.parquet'} is missing"


def test_a_truncated_table_is_not_complete_and_is_named(tmp_path: Path) -> None:
    _complete_run(tmp_path)
    path = tmp_path / "states.parquet"
    path.write_bytes(path.read_bytes()[:-100])
    problem = store.run_problem(tmp_path, "abc")
    assert problem is not None and str(path) in problem and "sha256" in problem


def test_a_bit_flip_inside_a_table_is_not_complete(tmp_path: Path) -> None:
    _complete_run(tmp_path)
    path = tmp_path / "states.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x01  # one bit, inside a page: the file still reads
    path.write_bytes(bytes(data))
    assert not store.is_complete(tmp_path, "abc")


def test_a_binary_or_unchecksummed_meta_is_not_complete(tmp_path: Path) -> None:
    _complete_run(tmp_path)
    meta_path = tmp_path / store.META_FILE
    meta = json.loads(meta_path.read_text())
    del meta["sha256"]  # written by a version that recorded no checksums
    meta_path.write_text(json.dumps(meta))
    assert "no recorded sha256" in str(store.run_problem(tmp_path, "abc"))
    meta_path.write_bytes(b"\x00\xff\xfe")
    assert "not valid JSON" in str(store.run_problem(tmp_path, "abc"))
    with pytest.raises(store.ResultsError, match="not valid JSON"):
        store.read_meta(tmp_path)
    meta_path.write_text("[1, 2]")
    assert "not a JSON object" in str(store.run_problem(tmp_path, "abc"))


def test_stale_temporaries_are_removed_live_ones_kept(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys
    import time

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    dead = store.temporary_file(tmp_path / "states.parquet")
    dead = dead.rename(dead.with_name(dead.name.replace(f"~{os.getpid()}~", f"~{dead_pid}~")))
    alive = store.temporary_file(tmp_path / "dyads.parquet")  # this process: still writing
    old_untagged = tmp_path / ".outcomes.parquet.x1y2.tmp"
    old_untagged.write_bytes(b"")
    past = time.time() - 2 * store.STALE_AFTER_SECONDS
    os.utime(old_untagged, (past, past))
    fresh_untagged = tmp_path / ".actions.parquet.x1y2.tmp"
    fresh_untagged.write_bytes(b"")
    (tmp_path / "states.parquet").write_bytes(b"final")
    assert sorted(store.remove_stale_temporaries(tmp_path)) == sorted([dead, old_untagged])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, fresh_untagged.name, "states.parquet"])


def test_an_io_error_names_the_file(tmp_path: Path) -> None:
    import errno

    def disk_full(tmp: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    target = tmp_path / "summary.parquet"
    with pytest.raises(OSError, match="No space left on device") as info:
        store.atomic_write(target, disk_full)
    assert str(target) in str(info.value) and info.value.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == []
