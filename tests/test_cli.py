"""The command line end to end: ``python -m sim`` into a temporary run folder, and bad input.

Each call starts a Python process (~3 s of imports), so these tests are marked slow; the
bad-input cases run concurrently to use both cores.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from helpers import CONTRACT, GOLDEN_SEED, REPO_ROOT
from omegaconf import OmegaConf

from sim import __version__
from sim.config import params_from_config
from sim.params import Params

pytestmark = pytest.mark.slow

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TIMEOUT_S = 300


def command(run_dir: Path, *overrides: str) -> list[str]:
    return [sys.executable, "-m", "sim", f"hydra.run.dir={run_dir}", *overrides]


@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    run_dir = tmp_path_factory.mktemp("cli") / "run"
    done = subprocess.run(
        command(run_dir, f"seed={GOLDEN_SEED}"), cwd=REPO_ROOT, capture_output=True, text=True, timeout=TIMEOUT_S
    )
    return done, run_dir


def test_run_exits_zero_and_writes_the_run_folder(good_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    done, run_dir = good_run
    assert done.returncode == 0, done.stderr
    for name in ("config.yaml", "meta.json", "alignment.png", "japan_dimensions.png"):
        assert (run_dir / name).is_file(), name
    for name in CONTRACT:
        assert (run_dir / f"{name}.parquet").is_file(), name
    assert not list(run_dir.glob(".*.tmp")), "temporary files left behind"


def test_meta_json(good_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, run_dir = good_run
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["seed"] == GOLDEN_SEED
    assert meta["params"] == "calibrated"  # the default configuration's parameter set, recorded
    assert meta["package_version"] == __version__
    assert isinstance(meta["git_revision"], str) and meta["git_revision"]
    assert meta["run_id"].startswith(f"baseline-s{GOLDEN_SEED}-")
    assert meta["seconds_simulate"] > 0 and meta["seconds_total"] >= meta["seconds_simulate"]
    states = pd.read_parquet(run_dir / "states.parquet")
    assert set(states["run_id"]) == {meta["run_id"]}
    assert meta["rows"]["states"] == len(states)


@pytest.mark.parametrize("name", list(CONTRACT))
def test_tables_are_readable_with_contract_columns(
    good_run: tuple[subprocess.CompletedProcess[str], Path], name: str
) -> None:
    _, run_dir = good_run
    frame = pd.read_parquet(run_dir / f"{name}.parquet")
    assert not frame.empty
    assert set(CONTRACT[name]) <= set(frame.columns)


def test_cli_tables_equal_simulate_with_the_same_seed(
    good_run: tuple[subprocess.CompletedProcess[str], Path], baseline_run: dict[str, pd.DataFrame]
) -> None:
    _, run_dir = good_run
    for name in ("states", "outcomes", "actions"):
        written = pd.read_parquet(run_dir / f"{name}.parquet")
        pd.testing.assert_frame_equal(written, baseline_run[name], check_dtype=False, check_exact=True)


def test_written_config_rebuilds_the_same_params(
    good_run: tuple[subprocess.CompletedProcess[str], Path], baseline_params: Params
) -> None:
    _, run_dir = good_run
    cfg = OmegaConf.load(run_dir / "config.yaml")
    assert cfg.seed == GOLDEN_SEED
    assert params_from_config(cfg) == baseline_params


@pytest.mark.parametrize("name", ["alignment.png", "japan_dimensions.png"])
def test_figures_are_png(good_run: tuple[subprocess.CompletedProcess[str], Path], name: str) -> None:
    _, run_dir = good_run
    data = (run_dir / name).read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > 20_000  # a drawn figure, not an empty canvas
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    assert width >= 800 and height >= 500


# ----------------------------------------------------------------------------------------------
# Bad input: non-zero exit, the key or value named on stderr, no table written
# ----------------------------------------------------------------------------------------------

BAD_INPUT = {
    "unknown_actor": (["actors.codes=[CHN,JPN,USA,RUS,PRK,XXX]", "actors.region=[]"], ["XXX"], 2),
    "negative_scale": (["drivers.china_coercion.scale=-1"], ["drivers.china_coercion.scale=-1.0"], 2),
    "from_year_outside_run": (["drivers.russia_war.from_year=2040"], ["drivers.russia_war.from_year=2040"], 2),
    "probability_above_one": (
        ["params.perception.intent_decay_per_quarter=1.5"],
        ["params.perception.intent_decay_per_quarter=1.5", "[0.0, 1.0]"],
        2,
    ),
    "unknown_scenario": (["scenario=no_russia_wra"], ["no_russia_wra", "did you mean 'no_russia_war'"], 2),
    "unknown_key": (["params.perception.bogus=1"], ["bogus", "intent_gain"], 2),
    "misspelt_key": (["replicate=100"], ["did you mean 'replicates'", "'seed'"], 2),
    "misspelt_added_key": (["+replicate=100"], ["did you mean 'replicates'"], 2),
    "misspelt_nested_key": (["drivers.china_coersion.scale=0"], ["did you mean 'china_coercion'"], 2),
    "misspelt_group": (
        ["alignment_rul=landscape"],
        ["did you mean 'alignment_rule'", "config groups ['alignment_rule'"],
        2,
    ),
    "nan_in_a_list": (
        ["params.outcome.gap_weights=[nan,0.25,0.25,0.25,0.25]"],
        ["params.outcome.gap_weights[0]=nan", "finite"],
        2,
    ),
    "infinite_value": (["params.spending.threat_response=inf"], ["params.spending.threat_response=inf"], 2),
    "scenario_name_escapes_results_root": (
        ["scenario.name=../../../escaped"],
        ["scenario.name='../../../escaped'", "without path separators or '..'"],
        2,
    ),
    "callback_from_the_command_line": (
        ["+hydra.callbacks.x._target_=builtins.open", "+hydra.callbacks.x.file=/tmp/truncated-by-a-test"],
        ["hydra.callbacks.x._target_", "config file you trust"],
        2,
    ),
    "missing_data_file": (["actors.attributes_file=/nonexistent.csv"], ["/nonexistent.csv"], 2),
    "scenario_overridden": (
        ["scenario=no_china_coercion", "drivers.china_coercion.scale=0.5"],
        ["drivers.china_coercion.scale=0.5", "no_china_coercion"],
        2,
    ),
    "calibrated_params_under_another_rule": (
        ["params=calibrated_landscape", "alignment_rule=balance_of_threat"],
        ["alignment_rule=landscape", "alignment_rule=balance_of_threat"],
        2,
    ),
    "default_calibration_under_another_rule": (
        ["alignment_rule=landscape"],
        ["params=calibrated was calibrated under alignment_rule=balance_of_threat", "params=calibrated_landscape"],
        2,
    ),
    "posterior_under_another_rule": (
        ["params=default", "alignment_rule=landscape", "posterior=true"],
        ["alignment_rule=balance_of_threat", "alignment_rule=landscape"],
        2,
    ),
}


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str, Path]]:
    """Every bad-input case, launched at once."""
    base = tmp_path_factory.mktemp("cli_bad")
    procs = {}
    for case, (overrides, _, _) in BAD_INPUT.items():
        run_dir = base / case
        procs[case] = (
            subprocess.Popen(
                command(run_dir, *overrides),
                cwd=REPO_ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
            run_dir,
        )
    results = {}
    for case, (proc, run_dir) in procs.items():
        _, stderr = proc.communicate(timeout=TIMEOUT_S)
        results[case] = (proc.returncode, stderr, run_dir)
    return results


def test_help_lists_groups_parameters_with_ranges_and_sweeps() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sim", "--help"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=TIMEOUT_S
    )
    assert done.returncode == 0, done.stderr
    assert "scenario: baseline, " in done.stdout
    assert "no_china_coercion" in done.stdout
    line = next(x for x in done.stdout.splitlines() if x.strip().startswith("drivers.china_coercion.scale"))
    assert "[0.0, 10.0]" in line
    # what validation allows for a year inside the run, not the declared storage bounds
    from_year = next(x for x in done.stdout.splitlines() if x.strip().startswith("drivers.china_coercion.from_year"))
    assert "0 (start) or 2010..2030 year" in from_year and "2100" not in from_year
    assert "run.end_year" in done.stdout and "year" in done.stdout
    assert "nk_vs_china" in done.stdout
    assert "hydra.run.dir" not in done.stdout  # no dump of the composed config


def test_help_into_a_reader_that_stops_early_is_no_error() -> None:
    """``python -m sim --help | head``: the reader closes the pipe before the text is written."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "--help"], cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None
    proc.stdout.close()  # before the child has started writing (its start-up takes far longer)
    _, stderr = proc.communicate(timeout=TIMEOUT_S)
    assert proc.returncode == 0, stderr.decode()
    assert b"BrokenPipeError" not in stderr and b"Traceback" not in stderr


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_fails_cleanly(case: str, bad_runs: dict[str, tuple[int, str, Path]]) -> None:
    _, needles, code = BAD_INPUT[case]
    returncode, stderr, run_dir = bad_runs[case]
    assert returncode != 0, stderr
    if code is not None:
        assert returncode == code, stderr
    for needle in needles:
        assert needle in stderr, (needle, stderr)
    assert "Traceback" not in stderr
    # nothing written: not even an empty run folder
    assert not run_dir.exists(), list(run_dir.rglob("*"))


def test_bad_input_under_results_root_leaves_no_empty_folders(tmp_path: Path) -> None:
    root = tmp_path / "results"
    done = subprocess.run(
        [sys.executable, "-m", "sim", "drivers.china_coercion.from_year=1990", f"results_root={root}"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert done.returncode == 2, done.stderr
    assert not root.exists() or list(root.rglob("*")) == []  # no runs/<scenario>/<time>-seed<seed>/
