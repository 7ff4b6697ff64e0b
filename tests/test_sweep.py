"""Sweeps end to end: joblib on all cores, the combined table, re-launch, failures, the guard."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from helpers import REPO_ROOT, as_from_a_terminal

from sim.callbacks import summarise_sweep, sweep_id

pytestmark = pytest.mark.slow


def sweep(tmp: Path, *overrides: str, launcher: str = "basic") -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "sim", "-m", *overrides, f"hydra.sweep.dir={tmp}", "tables=[outcomes]"]
    if launcher == "basic":
        command.append("hydra/launcher=basic")
    env = {**os.environ, "HYDRA_FULL_ERROR": "1"}
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, env=env, timeout=600)


def test_sweep_id_names_the_swept_keys_and_is_stable() -> None:
    first = sweep_id(["seed=1,2", "drivers.nk_provocation.scale=0,1", "replicates=2"])
    assert first.startswith("drivers.nk_provocation.scale+seed-")
    assert first == sweep_id(["replicates=2", "seed=1,2", "drivers.nk_provocation.scale=0,1"])
    assert first != sweep_id(["seed=1,2,3", "drivers.nk_provocation.scale=0,1", "replicates=2"])


def test_joblib_sweep_writes_a_summary_and_a_relaunch_completes_it(tmp_path: Path) -> None:
    folder = tmp_path / "sweep"
    args = ("seed=1,2", "drivers.nk_provocation.scale=0,2")
    first = sweep(folder, *args, launcher="joblib")
    assert first.returncode == 0, first.stderr
    summary = pd.read_parquet(folder / "summary.parquet")
    assert summary["job"].nunique() == 4
    assert len(summary) == 4 * 84
    assert {"job_seed", "drivers.nk_provocation.scale", "china_wants_gap"} <= set(summary.columns)
    jobs = sorted(p for p in folder.iterdir() if p.is_dir() and p.name.isdigit())
    for job in jobs:
        outcomes = pd.read_parquet(job / "outcomes.parquet")
        part = summary[summary["job"] == job.name][outcomes.columns].reset_index(drop=True)
        pd.testing.assert_frame_equal(part, outcomes)
    # DuckDB reads the combined table directly.
    duckdb = pytest.importorskip("duckdb")
    rows = duckdb.sql(f"select count(*) from '{folder / 'summary.parquet'}' where year = 2024").fetchall()
    assert rows == [(4 * 4,)]

    # An interrupted sweep: one job never finished (no meta.json), one table was truncated, one
    # meta.json is binary garbage, one killed write left a temporary file. Re-launching the same
    # command redoes those jobs only (naming the bad files), removes the temporary, and the
    # combined table equals the uninterrupted one.
    (jobs[2] / "meta.json").unlink()
    (jobs[2] / "outcomes.parquet").unlink()
    truncated = jobs[1] / "outcomes.parquet"
    truncated.write_bytes(truncated.read_bytes()[:1000])
    (jobs[3] / "meta.json").write_bytes(b"\x00\xff" * 8)
    leftover = jobs[0] / ".outcomes.parquet.otherhost~1~abc.tmp"
    leftover.write_bytes(b"")
    os.utime(leftover, (0, 0))
    kept = {jobs[0]: (jobs[0] / "meta.json").stat().st_mtime_ns}
    second = sweep(folder, *args, launcher="joblib")
    assert second.returncode == 0, second.stderr
    assert f"{truncated} does not match its recorded sha256" in second.stdout + second.stderr
    assert f"{jobs[3] / 'meta.json'} is not valid JSON" in second.stdout + second.stderr
    assert {job: (job / "meta.json").stat().st_mtime_ns for job in kept} == kept
    assert not leftover.exists()
    assert all((job / "meta.json").is_file() for job in jobs)
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "summary.parquet"), summary)


def test_a_bad_job_stops_the_sweep_before_any_job_is_launched(tmp_path: Path) -> None:
    folder = tmp_path / "sweep"
    result = sweep(folder, "drivers.china_coercion.from_year=2015,1990")
    assert result.returncode == 2, result.stderr
    assert "job 1 (drivers.china_coercion.from_year=1990" in result.stderr
    assert "nothing was launched" in result.stderr
    assert not folder.exists() or not any(p.is_dir() for p in folder.iterdir())


def test_a_failing_job_is_named_and_the_others_are_collected(tmp_path: Path) -> None:
    """A job that fails while running (after the checks) is marked; the summary names it."""
    folder = tmp_path / "sweep"
    result = sweep(folder, "drivers.china_coercion.from_year=2015,2016")
    assert result.returncode == 0, result.stderr
    job = folder / "1"
    (job / "meta.json").unlink()
    (job / "failed.json").write_text(json.dumps({"error": "MemoryError: out of memory"}))
    summary, failures = summarise_sweep(folder)
    assert [f["job"] for f in failures] == ["1"]
    assert failures[0]["error"] == "MemoryError: out of memory"
    assert "from_year" in failures[0]["overrides"]
    assert summary["job"].unique().tolist() == ["0"]


def test_a_failed_summary_exits_non_zero_and_is_listed(tmp_path: Path) -> None:
    folder = tmp_path / "sweep"
    (folder / "summary.parquet").mkdir(parents=True)  # the summary cannot be written there
    result = sweep(folder, "seed=1,2")
    assert result.returncode == 1, result.stderr
    failures = json.loads((folder / "failures.json").read_text())
    assert [f["job"] for f in failures] == ["summary"]
    assert str(folder / "summary.parquet") in failures[0]["error"]


def test_a_sweep_axis_that_undoes_the_counterfactual_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "sweep"
    result = sweep(folder, "scenario=no_china_coercion", "drivers.china_coercion.scale=0.5,1")
    assert result.returncode == 2
    assert "overrides scenario 'no_china_coercion'" in result.stderr
    assert not list(folder.glob("*/outcomes.parquet"))


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in found]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.mark.parametrize(
    ("signum", "to_group", "after_a_job"),
    [
        (signal.SIGTERM, False, True),
        (signal.SIGINT, False, True),
        (signal.SIGINT, True, True),
        (signal.SIGINT, True, False),
    ],
    ids=["SIGTERM", "SIGINT", "ctrl-c", "ctrl-c-while-workers-start"],
)
def test_a_signal_stops_the_sweep_and_its_workers_with_one_line(
    tmp_path: Path, signum: int, to_group: bool, after_a_job: bool
) -> None:
    """A signal to the launcher alone (``kill``, a scheduler), or Ctrl-C (the terminal's whole process group),
    once a job is done or while the workers are still starting."""
    command = [sys.executable, "-m", "sim", "-m", "seed=1,2,3,4,5,6,7,8", "replicates=100", "tables=[outcomes]"]
    command += [f"hydra.sweep.dir={tmp_path / 'sweep'}", "hydra.launcher.n_jobs=2"]
    launcher = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=as_from_a_terminal,
    )
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(workers) < 2:
            workers = [c for c in _children(launcher.pid) if "LokyProcess" in _cmdline(c)]
            time.sleep(0.5)
        assert len(workers) == 2, "the joblib workers never started"
        helpers = _children(launcher.pid)
        while after_a_job and time.monotonic() < deadline and not list((tmp_path / "sweep").glob("*/meta.json")):
            time.sleep(0.2)  # a job done: the workers have run whole jobs (a killed one used to leak a semaphore)
        if to_group:
            os.killpg(launcher.pid, signum)
        else:
            launcher.send_signal(signum)
        _, stderr = launcher.communicate(timeout=120)
        assert launcher.returncode == 130, stderr
        # One line says what was kept, and it is the last: no warning of leaked semaphores follows.
        assert stderr.strip().splitlines()[-1].startswith("interrupted: the complete jobs"), stderr
        assert "run the same command again to resume" in stderr and "leaked" not in stderr, stderr
        assert "Traceback" not in stderr, stderr  # workers still importing used to print theirs
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(_cmdline(p) for p in helpers):
            time.sleep(0.5)
        assert not [p for p in helpers if _cmdline(p)], [_cmdline(p) for p in helpers]
    finally:
        for pid in [launcher.pid, *workers]:
            if _cmdline(pid):
                os.kill(pid, signal.SIGKILL)
