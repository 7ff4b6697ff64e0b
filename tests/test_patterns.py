"""The record's patterns (experiments/patterns.py): hand-built runs, tolerances, the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import run_module

from experiments.patterns import DESCRIPTIONS, Yearly, falling_sipri_shares, holds, measure, p2, p4, p5, p12, p13

CODES = ("CHN", "JPN", "USA", "RUS", "PRK", "KHM", "LAO", "PHL", "VNM", "IDN")
REGION = ("KHM", "LAO", "PHL", "VNM", "IDN")
YEARS = np.arange(2010, 2022)


def run_with(threat: dict[tuple[str, str], float], spending: dict[str, float] | None = None) -> Yearly:
    """A run whose threats (and spending) are constant over the years."""
    n = len(CODES)
    t = np.zeros((len(YEARS), n, n))
    for (i, j), v in threat.items():
        t[:, CODES.index(i), CODES.index(j)] = v
    s = np.ones((len(YEARS), n))
    for code, v in (spending or {}).items():
        s[:, CODES.index(code)] = v
    return Yearly(CODES, YEARS, t, np.zeros((len(YEARS), n)), s)


def test_partners_are_not_each_others_main_threat() -> None:
    run = run_with({("RUS", "USA"): 0.6, ("RUS", "CHN"): 0.1, ("CHN", "USA"): 0.5, ("CHN", "RUS"): 0.2})
    assert p2(run, {"years": (2010, 2021)}) == pytest.approx(0.3)  # CHN: 0.5 - 0.2, RUS: 0.6 - 0.1
    reversed_ = run_with({("RUS", "USA"): 0.1, ("RUS", "CHN"): 0.6, ("CHN", "USA"): 0.5})
    assert p2(reversed_, {"years": (2010, 2021)}) == pytest.approx(-0.5)


def test_japans_lead_threats_are_china_and_north_korea() -> None:
    run = run_with({("JPN", "CHN"): 0.5, ("JPN", "PRK"): 0.4, ("JPN", "RUS"): 0.3})
    assert p4(run, {"years": (2010, 2021)}) == pytest.approx(0.1)
    assert p4(run_with({("JPN", "CHN"): 0.5, ("JPN", "RUS"): 0.3}), {"years": (2010, 2021)}) < 0


def test_front_line_and_rear_ranking() -> None:
    ranked = {("PHL", "CHN"): 0.6, ("VNM", "CHN"): 0.5, ("IDN", "CHN"): 0.3, ("KHM", "CHN"): 0.1, ("LAO", "CHN"): 0.2}
    assert p5(run_with(ranked), {"years": (2012, 2021)}, REGION) == pytest.approx(0.1)  # IDN 0.3 - LAO 0.2
    ranked[("LAO", "CHN")] = 0.7
    assert p5(run_with(ranked), {"years": (2012, 2021)}, REGION) < 0


def test_spending_statistics() -> None:
    run = run_with({}, {"JPN": 1.0})
    assert p13(run, {"years": (2010, 2021)}) == 0.0
    rising = Yearly(CODES, YEARS, run.threat, run.alignment, run.spending.copy())
    rising.spending[-1, CODES.index("PHL")] = 1.2
    assert p12(rising, {"years": (2010, 2021)}, ("PHL",)) == pytest.approx(0.2)


def test_a_missing_actor_gives_nan_which_never_holds() -> None:
    run = Yearly(("CHN", "USA"), YEARS, np.zeros((12, 2, 2)), np.zeros((12, 2)), np.ones((12, 2)))
    values = measure(run, {"P4": p4}, {"P4": {"years": (2010, 2021)}})
    assert np.isnan(values["P4"])
    assert not holds(values["P4"], {"threshold": 0.0, "holds_if": "above"})
    assert holds(0.1, {"threshold": 0.2, "holds_if": "below"})


def test_falling_sipri_shares_read_from_the_data() -> None:
    # SIPRI: MYS 1.49 -> 0.98, SGP 3.38 -> 2.54, THA 1.52 -> 1.42 (falling); PHL, IDN rising.
    assert falling_sipri_shares(("MYS", "SGP", "THA", "PHL", "IDN"), (2010, 2021)) == ("MYS", "SGP", "THA")


def test_the_cli_writes_the_table_and_refuses_bad_tolerances(tmp_path: Path) -> None:
    done = run_module("experiments.patterns", f"experiment.out={tmp_path}", "experiment.draws=2")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(tmp_path / "patterns.csv")
    assert list(table["pattern"]) == list(DESCRIPTIONS)
    assert table["share_of_draws_holding"].between(0, 1).all()
    assert (tmp_path / "patterns.png").is_file()
    bad = run_module(
        "experiments.patterns", f"experiment.out={tmp_path / 'bad'}", "experiment.patterns.P3.holds_if=maybe"
    )
    assert bad.returncode == 2
    assert "experiment.patterns.P3.holds_if" in bad.stderr


def test_the_report_shows_the_pattern_table() -> None:
    from experiments.report import patterns_html

    frame = pd.DataFrame(
        {
            "pattern": ["P1", "P2"],
            "description": ["a", "b"],
            "holds_if": ["above", "below"],
            "threshold": [0.0, 0.2],
            "value": [0.1, 0.3],
            "median": [0.1, 0.3],
            "low": [0.0, 0.2],
            "high": [0.2, 0.4],
            "share_of_draws_holding": [0.9, 0.1],
            "holds": [True, False],
        }
    )
    html = patterns_html({"patterns.csv": frame})
    assert "1 of 2 patterns" in html
    assert html.count("<tr>") >= 3 and "fails" in html and "holds" in html
