"""Declared schemas of the shipped series files, checked on load (pandera).

Every series file in ``sim/data/`` shares one long format (``year, country, metric, value, unit,
source_url_or_repo_path, note``). :data:`SERIES_SCHEMAS` declares, per file name, what a valid
file is: column types, value ranges (per metric where units differ: days in a year, counts,
percentages), unique ``(year, country, metric)`` rows, and :data:`COMPLETE_SERIES`, the series a
run reads year by year, which must have no missing year between their first and last. A loader
(``sim/inputs.py`` or a driver's entry in the registry) names its file; :func:`validate_series`
checks it against that file's schema; :data:`TABLE_SCHEMAS` does the same for the data files that
are not series (the commitments between pairs of actors). Errors name the file, the line, the column and the rule,
and are :class:`sim.inputs.DataFileError` (exit code 2).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from sim.params import COMMITMENT_KINDS

SERIES_KEY = ["year", "country", "metric"]
FIRST_YEAR, LAST_YEAR = 1945, 2100
DAYS_IN_A_YEAR = 366


def _at_most(metrics: tuple[str, ...], limit: float, what: str) -> pa.Check:
    """Rows of ``metrics`` have ``value <= limit`` (blank values pass: not observed)."""
    return pa.Check(
        lambda frame: ~frame["metric"].isin(metrics) | frame["value"].isna() | (frame["value"] <= limit),
        element_wise=False,
        error=f"column 'value': {what} must be <= {limit} for metric(s) {list(metrics)}",
    )


def _whole_numbers(metrics: tuple[str, ...], what: str) -> pa.Check:
    """Rows of ``metrics`` hold whole numbers (counts of events)."""
    return pa.Check(
        lambda frame: ~frame["metric"].isin(metrics) | frame["value"].isna() | (frame["value"] % 1 == 0),
        error=f"column 'value': {what} must be whole numbers for metric(s) {list(metrics)}",
    )


def _percent_at_most_100() -> pa.Check:
    return pa.Check(
        lambda frame: (
            ~frame["unit"].astype(str).str.startswith("percent") | frame["value"].isna() | (frame["value"] <= 100)
        ),
        error="column 'value': a percentage must be <= 100",
    )


def series_schema(*checks: pa.Check) -> pa.DataFrameSchema:
    """The long series format, with file-specific ``checks`` on top of the common rules."""
    return pa.DataFrameSchema(
        {
            "year": pa.Column(int, pa.Check.in_range(FIRST_YEAR, LAST_YEAR), coerce=True),
            "country": pa.Column(str, pa.Check.str_length(min_value=1)),
            "metric": pa.Column(str, pa.Check.str_length(min_value=1)),
            # Counts, money, shares and percentages: never negative; blank = not observed.
            "value": pa.Column(float, pa.Check.ge(0), nullable=True, coerce=True),
            "unit": pa.Column(str, nullable=True),
        },
        checks=[_percent_at_most_100(), *checks],
        unique=SERIES_KEY,
        report_duplicates="all",
        strict=False,
    )


def _is_calendar_date(values: pd.Series) -> pd.Series:
    return pd.Series(pd.to_datetime(values, format="%Y-%m-%d", errors="coerce"), index=values.index).notna()


def _one_row_per_pair_and_kind(frame: pd.DataFrame) -> pd.Series:
    pair = pd.DataFrame({"low": frame[["a", "b"]].min(axis=1), "high": frame[["a", "b"]].max(axis=1)})
    return ~pair.assign(kind=frame["kind"]).duplicated(keep=False)


COMMITMENTS_SCHEMA = pa.DataFrameSchema(
    {
        "a": pa.Column(str, pa.Check.str_length(min_value=1)),
        "b": pa.Column(str, pa.Check.str_length(min_value=1)),
        "since": pa.Column(
            str,
            [
                pa.Check.str_matches(r"^\d{4}-\d{2}-\d{2}$"),
                pa.Check(_is_calendar_date, error="a calendar date YYYY-MM-DD"),
            ],
            coerce=True,
        ),
        "kind": pa.Column(str, pa.Check.isin(COMMITMENT_KINDS)),
    },
    checks=[
        pa.Check(lambda frame: frame["a"] != frame["b"], error="a commitment joins two different actors"),
        pa.Check(_one_row_per_pair_and_kind, error="one row per pair of actors (either order) and kind"),
    ],
    strict=False,
)

SERIES_SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "senkaku_china_gov_vessels.csv": series_schema(
        _at_most(("cz_presence_days", "ts_intrusion_days"), DAYS_IN_A_YEAR, "days in a year")
    ),
    "jasdf_scrambles.csv": series_schema(),
    "nk_missile_launches.csv": series_schema(_at_most(("launch_days_cns",), DAYS_IN_A_YEAR, "launch days in a year")),
    "sipri_milex.csv": series_schema(),
    "public_opinion_china.csv": series_schema(),
    "iseas_state_of_sea_survey.csv": series_schema(),
    "nk_provocations_project.csv": series_schema(
        _whole_numbers(("nuclear_tests", "deadly_armed_attacks"), "counts of events")
    ),
}
# Data files that are not series: one row per pair of actors (sim/inputs.py: commitment_matrix).
TABLE_SCHEMAS: dict[str, pa.DataFrameSchema] = {"commitments.csv": COMMITMENTS_SCHEMA}
# Series a run reads year by year: (country, metric, first year, last year) with a value for every
# year in between; None: the series' own first or last observed year (no gap inside it). The
# China coercion index reads contiguous-zone days 2012-2024, vessel entries 2010-2013 (to derive
# the days of 2010-2011) and scrambles of fiscal years 2009-2024 (sim/inputs.py).
COMPLETE_SERIES: dict[str, tuple[tuple[str, str, int | None, int | None], ...]] = {
    "senkaku_china_gov_vessels.csv": (
        ("China", "cz_presence_days", 2012, 2024),
        ("China", "cz_presence_vessels", 2010, 2013),
    ),
    "jasdf_scrambles.csv": (("Japan", "scrambles_vs_china", 2009, 2024),),
    "nk_missile_launches.csv": (("North Korea", "missiles_launched_cns", None, None),),
    "nk_provocations_project.csv": (
        ("North Korea", "nuclear_tests", None, None),
        ("North Korea", "deadly_armed_attacks", None, None),
    ),
    "sipri_milex.csv": (("China", "milex_share_gdp", None, None),),
}


class SeriesSchemaError(ValueError):
    """A series file that breaks its declared schema (subclassed as DataFileError by the loader)."""


def _show(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _describe(failures: pd.DataFrame) -> list[str]:
    """One line per failing row and rule: ``line L: column 'c': value fails rule``.

    Row-wide rules (a duplicated key, a per-metric range) are reported once per row, with the
    row's key; a failure without a row (a rule that could not run on a column already reported)
    is dropped when that column has a failure of its own.
    """
    out: list[str] = []
    with_rows = failures[failures["index"].notna()]
    reported = set(with_rows["column"].dropna())
    for (index, check), group in with_rows.groupby(["index", "check"], sort=True):
        line = f"line {int(str(index)) + 2}"
        if len(group) == 1:
            first = group.iloc[0]
            out.append(f"{line}: column {first['column']!r}: {_show(first['failure_case'])} fails {check}")
        else:
            cells = dict(zip(group["column"], group["failure_case"], strict=True))
            key = ", ".join(f"{c}={_show(cells[c])}" for c in [*SERIES_KEY, "value"] if c in cells)
            rule = "duplicated (year, country, metric)" if "uniqueness" in str(check) else str(check)
            out.append(f"{line} ({key}): {rule}")
    for column, case, rule in failures.loc[failures["index"].isna(), ["column", "failure_case", "check"]].itertuples(
        index=False
    ):
        if column not in reported:
            out.append(f"column {column!r}: {_show(case)} fails {rule}")
    return out


def validate_series(path: Path, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` read from ``path``, checked against its file's declared schema and coerced.

    Files without a declared schema (a user's own file under another name) are returned as they
    are. Raises :class:`SeriesSchemaError` naming the file, the line and the column of each of the
    first few failures.
    """
    schema = SERIES_SCHEMAS.get(Path(path).name) or TABLE_SCHEMAS.get(Path(path).name)
    if schema is None:
        return frame
    try:
        checked = schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        problems = _describe(err.failure_cases)
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise SeriesSchemaError(f"data file {path} breaks its schema: {'; '.join(problems[:5])}{more}") from None
    for country, metric, first, last in COMPLETE_SERIES.get(Path(path).name, ()):
        rows = checked[(checked["country"] == country) & (checked["metric"] == metric) & checked["value"].notna()]
        years = {int(y) for y in rows["year"]}
        first = min(years, default=0) if first is None else first
        last = max(years, default=0) if last is None else last
        missing = sorted(set(range(first, last + 1)) - years)
        if missing or not years:
            raise SeriesSchemaError(
                f"data file {path}: series {country!r} / {metric!r} has no value for year(s) {missing or 'any'}; "
                f"allowed: a value for every year from {first} to {last} (the run reads it year by year)"
            )
    return checked
