"""Progress reporting: log lines when not on a terminal, silence when asked, a clean Ctrl-C."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from sim import progress


def test_off_a_terminal_the_bar_logs_its_start_and_end_with_the_count(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIM_PROGRESS", "log")
    with caplog.at_level(logging.INFO, logger="progress"):
        with progress.bar(total=40, desc="baseline") as runs:
            for _ in range(4):
                runs.update(10)
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("baseline:   0% 0/40")
    assert lines[-1].startswith("baseline: 100% 40/40")
    assert "run/s" in lines[-1]
    assert len(lines) == 2  # at most one line per LOG_EVERY seconds in between


def test_a_disabled_bar_says_nothing(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIM_PROGRESS", "log")
    with caplog.at_level(logging.INFO, logger="progress"):
        assert list(progress.track(range(3), desc="x")) == [0, 1, 2]
        with progress.bar(total=3, desc="y", disable=True) as quiet:
            quiet.update(3)
    assert [r.getMessage()[:2] for r in caplog.records] == ["x:", "x:"]


def test_ctrl_c_becomes_one_line_and_exit_130(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop, progress.stop_cleanly(lambda: "3 runs", "run it again"):
        raise KeyboardInterrupt
    assert stop.value.code == progress.EXIT_INTERRUPTED
    assert capsys.readouterr().err.strip() == "interrupted: 3 runs; run it again"


def test_ctrl_c_advice_says_sweeps_resume_and_single_runs_start_over() -> None:
    from sim.__main__ import rerun_advice

    assert "to resume" in rerun_advice(["-m", "seed=1,2"], "python -m sim -m seed=1,2")
    assert "to resume" in rerun_advice(["--multirun", "seed=1,2"], "python -m sim --multirun seed=1,2")
    single = rerun_advice(["seed=3"], "python -m sim seed=3")
    assert "does not resume" in single and "start it over" in single and "to resume" not in single


def test_on_a_terminal_that_reports_no_size_the_bar_still_shows() -> None:
    import pty
    import subprocess
    import sys

    from helpers import REPO_ROOT

    leader, follower = pty.openpty()  # a pseudo-terminal never sized: 0 columns, 0 rows
    assert os.get_terminal_size(follower) == (0, 0)
    code = "from sim import progress\nwith progress.bar(total=3, desc='three') as done:\n    done.update(3)\n"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("SIM_PROGRESS", None)
    subprocess.run([sys.executable, "-c", code], stderr=follower, cwd=REPO_ROOT, env=env, timeout=120, check=True)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: everything written has been read
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert "three: 100%" in shown.decode() and "3/3" in shown.decode()


def test_pool_workers_leave_ctrl_c_to_the_parent_which_stops_them_at_once(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    from helpers import REPO_ROOT, as_from_a_terminal

    from experiments.sampling import evaluate

    # A worker interrupted inside the pool's queues could hang the pool (seen once in q1: the
    # process waited for its idle workers for 10 minutes); the workers ignore Ctrl-C instead.
    assert evaluate(signal.getsignal, [signal.SIGINT] * 2, workers=2) == [signal.SIG_IGN] * 2
    script = tmp_path / "pool.py"
    # Each task says "busy" (a worker runs a task only after its initializer: it ignores Ctrl-C by
    # then), then sleeps a second; 60 tasks are queued.
    script.write_text(
        "import os\nfrom sim import progress\nfrom experiments.sampling import evaluate\n"
        "if __name__ == '__main__':  # the pool's workers import this script: they must not run it\n"
        "    with progress.stop_cleanly(lambda: 'nothing', 'run it again'):\n"
        "        evaluate(os.system, ['echo busy; sleep 1'] * 60, workers=2)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=as_from_a_terminal,
    )
    assert process.stdout is not None
    busy = 0
    while busy < 2:  # both workers started and running tasks (however long start-up takes under load)
        line = process.stdout.readline()
        assert line, "the pool ended before both workers ran a task"
        busy += line.strip() == "busy"
    os.killpg(process.pid, signal.SIGINT)  # a terminal's Ctrl-C: the whole process group
    started = time.monotonic()
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "interrupted: nothing; run it again" and "Traceback" not in stderr
    assert time.monotonic() - started < 20, "the queued tasks were run after Ctrl-C"  # about 28 s of work was left


def test_importing_the_experiments_prints_no_warning_of_an_unused_optional_dependency() -> None:
    import subprocess
    import sys

    from helpers import REPO_ROOT

    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", "import experiments.figures, experiments.scenario_discovery"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert "ipyparallel" not in done.stderr, done.stderr


@pytest.mark.parametrize(
    "arguments",
    [
        ["experiments.q1_counterfactuals", "experiment.draws=2", "experiment.out={tmp}/q1"],
        ["sim", "results_root={tmp}"],
    ],
    ids=["experiment", "sim"],
)
def test_ctrl_c_while_the_command_still_loads_is_one_line(tmp_path: Path, arguments: list[str]) -> None:
    import signal
    import subprocess
    import sys
    import time

    from helpers import REPO_ROOT, as_from_a_terminal

    command = [sys.executable, "-m", *(a.format(tmp=tmp_path) for a in arguments)]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stderr=subprocess.PIPE, text=True, preexec_fn=as_from_a_terminal
    )
    time.sleep(0.5)  # loading its modules (pandas, scipy, matplotlib, hydra) takes a second or more
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode in (130, -signal.SIGINT), stderr
    assert "Traceback" not in stderr, stderr
    assert stderr.strip().splitlines()[-1].startswith("interrupted"), stderr
