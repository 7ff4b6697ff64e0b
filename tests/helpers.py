"""Shared helpers of the test suite: paths, Hydra composition, small table utilities.

Imported by test modules as ``from helpers import ...`` (pytest puts ``tests/`` on ``sys.path``
because the folder has no ``__init__.py``; running a test module as a script does the same).
"""

from __future__ import annotations

import functools
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from sim import config
from sim.config import register_schema
from sim.drivers import names as driver_names
from sim.params import Params

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO_ROOT / "configs"
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"

# Overrides that remove every source of randomness from a run.
NO_NOISE = ("params.noise.action_noise_sd=0", "params.perception.perception_noise_sd=0")
# Overrides that switch every driver off from the start of the run.
ALL_DRIVERS_OFF = tuple(f"drivers.{name}.scale=0" for name in driver_names())

STATE_CONTRACT = (
    "run_id",
    "seed",
    "t",
    "year",
    "quarter",
    "actor",
    "alignment",
    "spending_share_gdp",
    "capability",
    "lockin",
)
DYAD_CONTRACT = ("run_id", "seed", "t", "year", "quarter", "observer", "target", "threat", "intent")
ACTION_CONTRACT = ("run_id", "seed", "t", "year", "quarter", "actor", "kind", "target", "intensity")
OUTCOME_CONTRACT = (
    "run_id",
    "seed",
    "t",
    "year",
    "quarter",
    "w1_criticism",
    "w2_standing",
    "w3_claims_resistance",
    "w4_military_alignment",
    "w5_tech_denial",
    "china_wants_gap",
    "sea_alignment_mean",
    "sea_trust_china",
    "sea_trust_us",
    "sea_trust_japan",
)
CONTRACT = {"states": STATE_CONTRACT, "dyads": DYAD_CONTRACT, "actions": ACTION_CONTRACT, "outcomes": OUTCOME_CONTRACT}
ACTION_KINDS = {"coercion", "basing", "arms_buildup", "criticism", "engagement", "provocation", "war", "derisking"}
W_COLUMNS = ["w1_criticism", "w2_standing", "w3_claims_resistance", "w4_military_alignment", "w5_tech_denial"]


def as_from_a_terminal() -> None:
    """``preexec_fn`` for a child a test interrupts: Ctrl-C (SIGINT) at its default, as in a terminal.

    A test suite started in the background (``nohup``, ``cmd &`` in a script) inherits SIGINT ignored,
    and a child inheriting that would ignore the Ctrl-C the test sends it: the test would then
    measure how it was launched, not the program.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def compose_config(overrides: Sequence[str] = ()) -> DictConfig:
    """The composed main config of ``configs/`` with ``overrides`` (Hydra's compose API)."""
    register_schema()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def compose_params(overrides: Sequence[str] = ()) -> Params:
    """Validated parameters of the composed config with ``overrides`` (cached: treat as read-only)."""
    return _compose_params(tuple(overrides))


@functools.cache
def _compose_params(overrides: tuple[str, ...]) -> Params:
    return config.compose_params(overrides)


def without_run_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without the columns that name the run (to compare runs with different seeds)."""
    return frame.drop(columns=["run_id", "seed"]).reset_index(drop=True)


def japan_yearly(outcomes: pd.DataFrame, column: str = "china_wants_gap") -> pd.Series:
    """``column`` of the outcomes table at Q1 of each year, indexed by year."""
    q1 = outcomes[outcomes["quarter"] == 1]
    return q1.set_index("year")[column]


GOLDEN_SEED = 7


def run_module(module: str, *args: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    """``python -m <module> <args>`` from the repository root, output captured."""
    command = [sys.executable, "-m", module, *args]
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout)
