"""sim/schemas.py: every shipped series validated on load; errors name file, line and column."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from sim import inputs
from sim.params import Params
from sim.schemas import SERIES_SCHEMAS, TABLE_SCHEMAS

Change = Callable[[pd.DataFrame], pd.DataFrame]


def _where(frame: pd.DataFrame, year: int, metric: str) -> pd.Series:
    return (frame["year"] == year) & (frame["metric"] == metric)


def _set(year: int, metric: str, value: float) -> Change:
    return lambda d: d.assign(value=d["value"].where(~_where(d, year, metric), value))


CASES: dict[str, tuple[str, Change, list[str]]] = {
    "negative_count": (
        "senkaku_china_gov_vessels.csv",
        _set(2015, "cz_presence_days", -3),
        ["line 20", "column 'value'", "-3.0", "greater_than_or_equal_to(0)"],
    ),
    "duplicated_year": (
        "jasdf_scrambles.csv",
        lambda d: pd.concat([d, d[_where(d, 2015, "scrambles_vs_china")]]),
        ["line 36", "year=2015", "metric='scrambles_vs_china'", "duplicated"],
    ),
    "5000_days_in_a_year": (
        "senkaku_china_gov_vessels.csv",
        _set(2016, "cz_presence_days", 5000),
        ["line 24", "value=5000.0", "column 'value'", "<= 366"],
    ),
    "missing_year_silently_filled_before": (
        "nk_missile_launches.csv",
        lambda d: d[~_where(d, 2016, "missiles_launched_cns")],
        ["'missiles_launched_cns'", "[2016]"],
    ),
    "half_a_nuclear_test": (
        "nk_provocations_project.csv",
        _set(2013, "nuclear_tests", 0.5),
        ["value=0.5", "whole numbers"],
    ),
    "missing_row": (
        "senkaku_china_gov_vessels.csv",
        lambda d: d[~_where(d, 2015, "cz_presence_days")],
        ["'cz_presence_days'", "[2015]"],
    ),
    "bad_year_cell": (
        "sipri_milex.csv",
        lambda d: d.astype({"year": str}).assign(year=lambda x: x["year"].where(x.index != 3, "20x8")),
        ["line 5", "column 'year'", "'20x8'"],
    ),
    "percentage_above_100": (
        "public_opinion_china.csv",
        lambda d: d.assign(value=d["value"].where(d.index != 0, 140.0)),
        ["line 2", "<= 100"],
    ),
}


def test_every_shipped_series_file_has_a_schema_and_passes_it() -> None:
    series_files = {p.name for p in inputs.DATA_DIR.glob("*.csv")} - {"actors.csv"}
    dated = {"milestones.csv", "milestones_project.csv"}  # events by date, not yearly series
    assert series_files - dated - set(TABLE_SCHEMAS) == set(SERIES_SCHEMAS)
    for name in SERIES_SCHEMAS:
        inputs.read_table(name, ("year", *inputs.SERIES_COLUMNS))
    for name in TABLE_SCHEMAS:
        inputs.read_table(name, ())


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_broken_series_file_is_refused_naming_file_line_and_column(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, change, needles = CASES[case]
    folder = tmp_path / "data"
    shutil.copytree(inputs.DATA_DIR, folder)
    change(pd.read_csv(folder / name)).to_csv(folder / name, index=False)
    monkeypatch.setattr(inputs, "DATA_DIR", folder)
    with pytest.raises(inputs.DataFileError) as info:
        inputs.read_table(name, ("year", *inputs.SERIES_COLUMNS))
    message = str(info.value)
    assert str(folder / name) in message
    for needle in needles:
        assert needle in message, (needle, message)


def test_a_run_reading_a_broken_series_stops_before_it_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "data"
    shutil.copytree(inputs.DATA_DIR, folder)
    name = "jasdf_scrambles.csv"
    frame = pd.read_csv(folder / name)
    frame[~_where(frame, 2013, "scrambles_vs_china")].to_csv(folder / name, index=False)
    monkeypatch.setattr(inputs, "DATA_DIR", folder)
    with pytest.raises(inputs.DataFileError, match=r"jasdf_scrambles.csv: series 'Japan' / 'scrambles_vs_china'"):
        inputs.build_inputs(Params())


def test_every_registered_driver_reads_only_files_with_a_schema() -> None:
    from sim import drivers

    for spec in drivers.specs():
        assert set(spec.files) <= set(SERIES_SCHEMAS), (spec.name, spec.files)


@pytest.mark.parametrize(
    ("change", "needles"),
    [
        (lambda d: d.assign(kind=d["kind"].where(d.index != 1, "friendship")), ["line 3", "'friendship'", "kind"]),
        (lambda d: d.assign(b=d["b"].where(d.index != 0, "CHN")), ["line 2", "two different actors"]),
        (lambda d: d.assign(since=d["since"].where(d.index != 2, "June 2024")), ["line 4", "'June 2024'", "since"]),
        (
            lambda d: d.assign(since=d["since"].where(d.index != 2, "2024-13-45")),
            ["line 4", "'2024-13-45'", "calendar"],
        ),
        (
            lambda d: pd.concat([d, d.iloc[[0]].assign(a=d["b"].iloc[0], b=d["a"].iloc[0])]),
            ["line 2", "one row per pair"],
        ),
    ],
    ids=["unknown_kind", "self_commitment", "undated", "impossible_date", "pair_written_both_ways"],
)
def test_a_broken_commitments_file_is_refused_naming_the_line(
    change: Callable[[pd.DataFrame], pd.DataFrame],
    needles: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "data"
    shutil.copytree(inputs.DATA_DIR, folder)
    change(pd.read_csv(folder / "commitments.csv")).to_csv(folder / "commitments.csv", index=False)
    monkeypatch.setattr(inputs, "DATA_DIR", folder)
    with pytest.raises(inputs.DataFileError) as info:
        inputs.read_table("commitments.csv", ())
    for needle in needles:
        assert needle in str(info.value), (needle, str(info.value))
