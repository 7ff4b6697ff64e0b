"""Sweeps through Hydra's cluster launchers: Ray and submitit (SLURM's path, on submitit's local executor).

The Ray tests start their own Ray head node (``ray start --head --block`` on a port Ray picks, read
back from its output, and two distinct free ports held until all are picked; its state
in a temporary HOME and temp dir, usage stats and the dashboard off) and reach it by ``RAY_ADDRESS``,
as a sweep reaches a real cluster; the fixture stops exactly the processes it started (never
``ray stop``, which kills every Ray process on the machine). Each launcher must give the combined
table of Hydra's basic launcher for the same seeds, name a job that raises, and report a worker
that dies, a re-launch then running only what is missing. The sweeps run from their own working
directory with the default relative ``results_root``: the jobs must land in one sweep folder there,
named by ``${sweep_id:}``, although the Ray workers run elsewhere.

Needs the ``cluster`` extra (``pip install -e ".[cluster]"``; ``make test`` installs it).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hydra.experimental.callback import Callback

from sim.callbacks import sweep_id

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("hydra_plugins.hydra_ray_launcher") is None
        or importlib.util.find_spec("hydra_plugins.hydra_submitit_launcher") is None,
        reason="the cluster launchers are absent (pip install -e '.[cluster]'; make test installs them)",
    ),
]

TESTS_DIR = Path(__file__).resolve().parent
LAUNCHERS = ("ray", "submitit_local")
# Three jobs of three replicates each (the ensemble engine); job 1 (from_year=2025) raises while it
# runs (FailJob: a bad config would be refused before any job is launched). The callbacks come from
# config files (tests/configs/hydra/callbacks/): the command line refuses `_target_` overrides.
SWEEP = (
    "seed=5",
    "drivers.china_coercion.from_year=2015,2025,2020",
    "replicates=3",
    "tables=[outcomes]",
    f"hydra.searchpath=[file://{TESTS_DIR / 'configs'}]",
)
FAIL_JOB_1 = ("hydra/callbacks=fail_job_1",)
# Job 1 fails as above and job 2 (from_year 2020) is killed as it starts, as the OOM killer or a lost
# node would kill it.
FAIL_JOB_1_KILL_JOB_2 = ("hydra/callbacks=fail_job_1_kill_job_2",)
SWEEP_TIMEOUT_S = 300
RAY_START_TIMEOUT_S = 120
# What each launcher raises in the launching process when a worker process dies.
CRASH_ERRORS = {"ray": "WorkerCrashedError", "submitit_local": "UncompletedJobError"}


class InjectedFailure(RuntimeError):
    """The error FailJob makes a job raise."""


class FailJob(Callback):
    """Make the job whose China's coercion starts in ``from_year`` raise while it runs.

    Wraps ``sim.job.table_chunks`` in the worker (once per process: the basic launcher runs every
    job in one process), so the job passes validation and fails as a run-time error would.
    """

    def __init__(self, from_year: int) -> None:
        self.from_year = from_year

    def on_job_start(self, config: Any, **kwargs: Any) -> None:
        import sim.job

        original = sim.job.table_chunks
        if getattr(original, "injected", False):
            return
        from_year = self.from_year

        def failing(params: Any, *args: Any, **kwargs: Any) -> Any:
            if params.drivers.china_coercion.from_year == from_year:
                raise InjectedFailure(f"injected failure (from_year={from_year})")
            return original(params, *args, **kwargs)

        failing.injected = True  # type: ignore[attr-defined]
        sim.job.table_chunks = failing  # type: ignore[assignment]


class KillJob(Callback):
    """Kill the worker process of the job whose China's coercion starts in ``from_year``, as it starts.

    Added to a sweep by :data:`FAIL_JOB_1_KILL_JOB_2` (a config file); the workers import this
    module (``tests/`` is on their PYTHONPATH).
    """

    def __init__(self, from_year: int) -> None:
        self.from_year = from_year

    def on_job_start(self, config: Any, **kwargs: Any) -> None:
        if config.drivers.china_coercion.from_year == self.from_year:
            os.kill(os.getpid(), signal.SIGKILL)


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports: every socket is held until all are picked.

    Released one at a time, two picks could be the same port, which Ray refuses ("... is trying
    to use a port number ... used by other components").
    """
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]


RAY_ADDRESS_LINE = re.compile(r"ray start --address='([^']+)'")


def ray_address(log: Path) -> str | None:
    """The head's address once ``ray start`` has started Ray and printed it (it chose the port)."""
    text = log.read_text(errors="replace")
    found = RAY_ADDRESS_LINE.search(text)
    return found.group(1) if found and "Ray runtime started" in text else None


def test_picked_ports_are_distinct() -> None:
    ports = free_ports(64)
    assert len(set(ports)) == 64


def sweep(
    cwd: Path, overrides: tuple[str, ...], launcher: str, env: dict[str, str], *extra: str
) -> subprocess.CompletedProcess[str]:
    """``python -m sim -m ...`` run from ``cwd`` (results under ``cwd/results``), bounded in time."""
    cwd.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "sim", "-m", *overrides, f"hydra/launcher={launcher}", *extra]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env, timeout=SWEEP_TIMEOUT_S)


def sweep_folder(cwd: Path, overrides: tuple[str, ...]) -> Path:
    """The sweep's one folder: every job landed in ``results/sweeps/<sweep_id>`` of the launching directory."""
    folders = list((cwd / "results" / "sweeps").iterdir())
    assert [f.name for f in folders] == [sweep_id([o for o in overrides if not o.startswith("hydra")])]
    return folders[0]


def base_env(tmp: Path) -> dict[str, str]:
    """The sweep's environment: HOME in ``tmp`` (Ray's token, matplotlib's cache), tests/ importable."""
    home = tmp / "home"
    home.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "HOME": str(home),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS_DIR), os.environ.get("PYTHONPATH")])),
        "HYDRA_FULL_ERROR": "1",
    }


def process_table() -> dict[int, tuple[int, str]]:
    """Every live process: pid -> (parent pid, start time), from /proc."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            table[int(entry.name)] = (int(fields[1]), fields[19])
    return table


def process_tree(root: int) -> dict[int, str]:
    """``root`` and its live descendants (Ray's workers too, which leave its process group): pid -> start time."""
    table = process_table()
    tree, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            tree[pid] = table[pid][1]
            todo += [child for child, (parent, _) in table.items() if parent == pid]
    return tree


def still_running(processes: dict[int, str]) -> list[int]:
    """The processes of ``processes`` still alive (the same process: same pid and start time)."""
    table = process_table()
    return [pid for pid, start in processes.items() if pid in table and table[pid][1] == start]


@pytest.fixture(scope="module")
def ray_env() -> Iterator[dict[str, str]]:
    """A local Ray head node started for this module; the environment that reaches it (RAY_ADDRESS)."""
    # Ray's socket paths must stay short (AF_UNIX limit): a temp dir right under /tmp.
    root = Path(tempfile.mkdtemp(prefix="simray-", dir="/tmp"))
    env = {
        **base_env(root),
        "RAY_TMPDIR": str(root / "t"),
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_DEDUP_LOGS": "0",
    }
    client_port, agent_port = free_ports(2)
    command = [
        str(Path(sys.executable).with_name("ray")),
        "start",
        "--head",
        "--block",
        "--node-ip-address=127.0.0.1",
        "--port=0",  # Ray picks the head's port itself; read back from its output below
        f"--ray-client-server-port={client_port}",
        f"--dashboard-agent-listen-port={agent_port}",
        "--include-dashboard=false",
        "--disable-usage-stats",
        "--num-cpus=2",
        "--object-store-memory=100000000",
        f"--temp-dir={root / 't'}",
    ]
    log = root / "ray-start.log"
    with log.open("w") as out:
        # Its own session, so that a Ctrl-C of the tests reaches it only through the teardown below.
        head = subprocess.Popen(
            command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + RAY_START_TIMEOUT_S
        while (address := ray_address(log)) is None:
            if head.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"ray start failed (exit {head.poll()}):\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.5)
        yield {**env, "RAY_ADDRESS": address}
    finally:
        ours = process_tree(head.pid)
        head.send_signal(signal.SIGTERM)  # `ray start --block` shuts its processes down on SIGTERM
        try:
            head.wait(timeout=30)
        except subprocess.TimeoutExpired:
            head.kill()
            head.wait(timeout=10)
        deadline = time.monotonic() + 15  # the workers leave when their raylet has gone
        while (left := still_running(ours)) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in left:  # only processes this fixture started, by id
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(root, ignore_errors=True)
        assert not left, f"Ray processes still running 15 s after ray start exited (killed): {left}"


@pytest.fixture(scope="module")
def basic_sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    """The summary and failures of the sweep through Hydra's basic launcher (in process, one job at a time)."""
    cwd = tmp_path_factory.mktemp("basic")
    result = sweep(cwd, SWEEP, "basic", base_env(cwd), *FAIL_JOB_1)
    assert result.returncode == 1, result.stderr[-3000:]
    folder = sweep_folder(cwd, SWEEP)
    return pd.read_parquet(folder / "summary.parquet"), json.loads((folder / "failures.json").read_text())


@dataclass
class ClusterSweep:
    """The sweep through one cluster launcher: launched with job 2's worker killed, then re-launched."""

    launcher: str
    folder: Path
    first: subprocess.CompletedProcess[str]
    first_complete: dict[str, int]  # job -> mtime of its meta.json, after the first launch
    first_failed: list[str]  # jobs marked failed after the first launch
    second: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module", params=LAUNCHERS)
def cluster_sweep(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> ClusterSweep:
    launcher = request.param
    cwd = tmp_path_factory.mktemp(launcher)
    env: dict[str, str] = request.getfixturevalue("ray_env") if launcher == "ray" else base_env(cwd)
    no_retry = ["hydra.launcher.ray.remote.max_retries=0"] if launcher == "ray" else []
    started = time.perf_counter()
    first = sweep(cwd, SWEEP, launcher, env, *FAIL_JOB_1_KILL_JOB_2, *no_retry)
    first_s = time.perf_counter() - started
    assert (cwd / "results" / "sweeps").is_dir(), first.stderr[-3000:]
    folder = sweep_folder(cwd, SWEEP)
    complete = {p.parent.name: p.stat().st_mtime_ns for p in folder.glob("*/meta.json")}
    failed = sorted(p.parent.name for p in folder.glob("*/failed.json"))
    second = sweep(cwd, SWEEP, launcher, env, *FAIL_JOB_1)
    print(f"\n{launcher}: first launch {first_s:.1f} s, re-launch {time.perf_counter() - started - first_s:.1f} s")
    return ClusterSweep(launcher, folder, first, complete, failed, second)


def test_the_combined_table_equals_the_basic_launchers(
    cluster_sweep: ClusterSweep, basic_sweep: tuple[pd.DataFrame, list[dict[str, str]]]
) -> None:
    folder = cluster_sweep.folder
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "summary.parquet"), basic_sweep[0])
    for job in ("0", "2"):  # every job ran its replicates through the ensemble engine
        meta = json.loads((folder / job / "meta.json").read_text())
        assert (meta["engine"], len(meta["seeds"])) == ("ensemble", 3)


def test_a_job_that_raises_is_named_and_the_others_are_collected(
    cluster_sweep: ClusterSweep, basic_sweep: tuple[pd.DataFrame, list[dict[str, str]]]
) -> None:
    assert cluster_sweep.second.returncode == 1, cluster_sweep.second.stderr[-3000:]
    failures = json.loads((cluster_sweep.folder / "failures.json").read_text())
    assert [f["job"] for f in failures] == ["1"]
    assert "InjectedFailure: injected failure (from_year=2025)" in failures[0]["error"]
    assert failures == basic_sweep[1]
    assert sorted(pd.read_parquet(cluster_sweep.folder / "summary.parquet")["job"].unique()) == ["0", "2"]


def test_a_dead_worker_stops_the_sweep_and_a_relaunch_runs_only_what_is_missing(cluster_sweep: ClusterSweep) -> None:
    first, folder = cluster_sweep.first, cluster_sweep.folder
    assert first.returncode == 1
    assert CRASH_ERRORS[cluster_sweep.launcher] in first.stderr, first.stderr[-3000:]
    # Job 0 finished and job 1 failed before the launcher reached job 2's result; job 2 never finished.
    assert sorted(cluster_sweep.first_complete) == ["0"]
    assert cluster_sweep.first_failed == ["1"]
    # The re-launch ran job 2 (and job 1, which fails again), not job 0.
    assert (folder / "0" / "meta.json").stat().st_mtime_ns == cluster_sweep.first_complete["0"]
    assert (folder / "2" / "meta.json").is_file()
