"""Driver ``china_coercion``: Beijing's grey-zone pressure at sea and in the air (ODD section 6)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.drivers.spec import DataFileError, DriverSpec, SeriesReader, register

DAYS_PER_YEAR = 365.0
SCRAMBLES_VS_CHINA_PEAK = 851.0  # FY2016, the series maximum (jasdf_scrambles.csv)
DATA_LAST_YEAR = 2024  # last year in which both components are observed
SENKAKU_GAP_YEARS = (2010, 2011)  # contiguous-zone days not observed: derived from vessel entries
VESSELS_FILE, SCRAMBLES_FILE = "senkaku_china_gov_vessels.csv", "jasdf_scrambles.csv"


def coercion_index(annual: Callable[[str, str, str], dict[int, float]]) -> dict[int, dict[int, float]]:
    """China's coercion index by year and quarter, in [0, 1].

    The mean of two observed components: the share of days Chinese government vessels were in
    the Senkaku contiguous zone, and scrambles against Chinese aircraft relative to their FY2016
    peak. Scrambles are counted per Japanese fiscal year (April to March), so a calendar
    quarter takes the fiscal year it falls in. Contiguous-zone days before 2012 are derived from
    the vessel entries with the 2012-2013 days-per-entry ratio.
    """
    days = annual(VESSELS_FILE, "China", "cz_presence_days")
    vessels = annual(VESSELS_FILE, "China", "cz_presence_vessels")
    ratio = (days[2012] + days[2013]) / (vessels[2012] + vessels[2013])
    for year in SENKAKU_GAP_YEARS:
        days.setdefault(year, vessels[year] * ratio)
    scrambles = annual(SCRAMBLES_FILE, "Japan", "scrambles_vs_china")
    index: dict[int, dict[int, float]] = {}
    for year in range(min(SENKAKU_GAP_YEARS), DATA_LAST_YEAR + 1):
        index[year] = {}
        for quarter in (1, 2, 3, 4):
            fiscal_year = year if quarter >= 2 else year - 1
            if year not in days:  # the file's schema requires these years: a file other than the shipped one
                raise DataFileError(f"data file {VESSELS_FILE}: no contiguous-zone days for {year}")
            if fiscal_year not in scrambles:
                raise DataFileError(f"data file {SCRAMBLES_FILE}: no scrambles for fiscal year {fiscal_year}")
            index[year][quarter] = (
                0.5 * days[year] / DAYS_PER_YEAR + 0.5 * scrambles[fiscal_year] / SCRAMBLES_VS_CHINA_PEAK
            )
    return index


def load(reader: SeriesReader) -> tuple[np.ndarray, np.ndarray]:
    """The coercion index on the run's turns, observed to 2024."""
    return reader.on_turns(coercion_index(reader.annual), DATA_LAST_YEAR)


SPEC = register(
    DriverSpec(
        name="china_coercion",
        label="China's coercion",
        colour="#d62728",
        owner="CHN",
        meaning="Coercion index of the China pole toward disputing states (index, 1 ~ every day in the "
        "Senkaku contiguous zone and scrambles at their FY2016 peak), before dispute weights.",
        source="Japan Coast Guard via senkaku_china_gov_vessels.csv; Japan MoD via jasdf_scrambles.csv",
        counterfactual="no grey-zone pressure at sea or in the air, and none of the dated coercive events",
        files=(VESSELS_FILE, SCRAMBLES_FILE),
        load=load,
        policy_level=lambda policy: policy.china_coercion_level,
    )
)
