"""`make run`: overrides go to python -m sim through ARGS; a bare `make run key=value` is refused with a hint."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from helpers import REPO_ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def dry_run(*args: str) -> subprocess.CompletedProcess[str]:
    """``make -n run ...``: the commands make would run, none run."""
    return subprocess.run(["make", "-n", "run", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)


def test_args_reach_python_m_sim() -> None:
    result = dry_run("ARGS=scenario=no_china_coercion seed=7")
    assert result.returncode == 0, result.stderr
    assert "-m sim scenario=no_china_coercion seed=7" in result.stdout
    assert "-m experiments.report" in result.stdout


def test_a_bare_override_is_refused_with_the_command_that_works() -> None:
    result = dry_run("scenario=no_china_coercion")
    assert result.returncode == 2
    assert 'make run ARGS="scenario=no_china_coercion"' in result.stderr
    assert "-m sim" not in result.stdout
