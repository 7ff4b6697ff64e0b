"""sim/store.py: atomic writes, streamed tables, run folders and their meta.json."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim import __version__, store


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
    store.write_run_tables(tmp_path, tables, "seed: 7\n")
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
    store.write_run_tables(tmp_path, {"states": pd.DataFrame({"t": [0]})}, "seed: 1\n")
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


def test_is_complete_needs_meta_matching_hash_and_every_listed_table(tmp_path: Path) -> None:
    assert not store.is_complete(tmp_path, "abc")
    tables = {"states": pd.DataFrame({"t": [0]}), "outcomes": pd.DataFrame({"t": [0]})}
    store.write_run_tables(tmp_path, tables, "")
    store.write_meta(tmp_path, {"config_hash": "abc", "rows": {"states": 1, "outcomes": 1}})
    assert store.is_complete(tmp_path, "abc")
    assert not store.is_complete(tmp_path, "abd")
    (tmp_path / "states.parquet").unlink()
    assert not store.is_complete(tmp_path, "abc")
