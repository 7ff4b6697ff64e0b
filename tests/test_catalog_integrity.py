"""The catalogue's status of a run folder checks its tables against what meta.json recorded."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim import store
from sim.catalog import entries


def _run_folder(root: Path) -> Path:
    folder = root / "runs" / "baseline" / "2026-01-01-seed1"
    folder.mkdir(parents=True)
    path = folder / "outcomes.parquet"
    store.write_table(path, pd.DataFrame({"year": range(2010, 2031), "gap": [0.1] * 21}))
    store.write_meta(folder, {"rows": {"outcomes": 21}, "sha256": store.checksums({"outcomes": path}), "seed": 1})
    return folder


def test_an_intact_run_is_complete_and_a_truncated_one_is_damaged(tmp_path: Path) -> None:
    folder = _run_folder(tmp_path)
    assert [e.status for e in entries(tmp_path)] == ["complete"]
    table = folder / "outcomes.parquet"
    table.write_bytes(table.read_bytes()[: table.stat().st_size // 2])
    (entry,) = entries(tmp_path)
    assert entry.status == "damaged" and "sha256" in entry.detail
