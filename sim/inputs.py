"""Everything a run reads from outside the config: actor attributes and historical driver series.

The files live in ``sim/data/`` (copied from the project's shared data with their sources; see
``sim/data/README.md``). This module reads and validates them once, before a run starts, and
turns them into :class:`RunInputs`: plain numpy arrays indexed by actor and by turn that both
engines share. A missing or malformed file fails here with an error naming the file, the column
and what was expected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from sim import dynamics
from sim.params import DRIVER_NAMES, Params

DATA_DIR = Path(__file__).parent / "data"

ACTOR_COLUMNS = {
    "code": str,
    "name": str,
    "ref_lat": float,
    "ref_lon": float,
    "reach_km": float,
    "nuclear": float,
    "gdp_2010_usd_bn": float,
    "gdp_growth_per_year": float,
    "milex_share_gdp_2010": float,
    "spending_ceiling_share_gdp": float,
    "alignment_2010": float,
    "lockin_2010": float,
    "dispute_with_china": float,
    "trade_share_china": float,
    "trade_share_us": float,
    "trade_share_japan": float,
}
SERIES_COLUMNS = ("country", "metric", "value")

# Normalisations of the driver indices (ODD section 6, "Input data").
DAYS_PER_YEAR = 365.0
SCRAMBLES_VS_CHINA_PEAK = 851.0  # FY2016, the series maximum (jasdf_scrambles.csv)
NK_MISSILES_REFERENCE = 20.0  # missiles per year that count as intensity 1 (~2014-2017 level)
CHINA_DATA_LAST_YEAR = 2024  # last year in which both China components are observed
NK_DATA_LAST_YEAR = 2024  # launch counts for 2025 may cover part of the year only
WAR_DATA_LAST_YEAR = 2025
TECH_CONTROLS_START = (2022, 4)  # BIS rules of 2022-10-07 (milestones_project.csv)
RUSSIA_WAR_START = (2022, 1)  # 2022-02-24 (milestones.csv)
SENKAKU_GAP_YEARS = (2010, 2011)  # contiguous-zone days not observed: derived from vessel entries


class DataFileError(ValueError):
    """A data file is missing, malformed, or lacks a value the model needs."""


def data_path(name: str) -> Path:
    """Path of a data file: absolute paths as given, others inside ``sim/data/``."""
    path = Path(name)
    return path if path.is_absolute() else DATA_DIR / path


def read_table(name: str, required: tuple[str, ...]) -> pd.DataFrame:
    """Read a CSV data file and check that ``required`` columns exist.

    Raises
    ------
    DataFileError
        If the file is missing, unreadable, empty, or lacks a required column.
    """
    path = data_path(name)
    if not path.is_file():
        raise DataFileError(f"data file {path} does not exist")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DataFileError(f"data file {path} is not a readable CSV: {err}") from err
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataFileError(f"data file {path} lacks column(s) {missing}; it has {list(frame.columns)}")
    if frame.empty:
        raise DataFileError(f"data file {path} has no rows")
    return frame


def load_actor_table(params: Params) -> pd.DataFrame:
    """The attribute rows of the configured actors, in config order, validated.

    Raises
    ------
    KeyError
        An actor code without a row in the attribute file (naming the codes it has).
    DataFileError
        A malformed attribute (non-numeric, missing, or out of its range).
    """
    frame = read_table(params.actors.attributes_file, tuple(ACTOR_COLUMNS))
    path = data_path(params.actors.attributes_file)
    if frame["code"].duplicated().any():
        dup = frame.loc[frame["code"].duplicated(), "code"].tolist()
        raise DataFileError(f"data file {path}: duplicate actor code(s) {dup}")
    frame = frame.set_index("code", drop=False)
    unknown = [c for c in params.actors.codes if c not in frame.index]
    if unknown:
        raise KeyError(
            f"actors.codes contains unknown actor code(s) {unknown}; allowed (rows of {path.name}): "
            f"{sorted(frame.index)}"
        )
    table = frame.loc[list(params.actors.codes)].copy()
    for column, kind in ACTOR_COLUMNS.items():
        if kind is float:
            values = pd.to_numeric(table[column], errors="coerce")
            # Only the ceiling may be blank (no ceiling); text where a number belongs is an error.
            blank = (
                table[column].isna() if column == "spending_ceiling_share_gdp" else pd.Series(False, index=table.index)
            )
            bad = values.isna() & ~blank
            if bad.any():
                raise DataFileError(
                    f"data file {path}: column {column!r} is not numeric for {table.index[bad].tolist()}"
                )
            table[column] = values
    _check_actor_ranges(table, path)
    return table


def _check_actor_ranges(table: pd.DataFrame, path: Path) -> None:
    ranges = {
        "alignment_2010": (-1.0, 1.0),
        "lockin_2010": (0.0, 1.0),
        "dispute_with_china": (0.0, 1.0),
        "trade_share_china": (0.0, 1.0),
        "trade_share_us": (0.0, 1.0),
        "trade_share_japan": (0.0, 1.0),
        "nuclear": (0.0, 1.0),
        "ref_lat": (-90.0, 90.0),
        "ref_lon": (-180.0, 180.0),
    }
    for column, (lo, hi) in ranges.items():
        bad = (table[column] < lo) | (table[column] > hi)
        if bad.any():
            raise DataFileError(f"data file {path}: {column} out of [{lo}, {hi}] for {table.index[bad].tolist()}")
    for column in ("gdp_2010_usd_bn", "milex_share_gdp_2010"):
        bad = table[column] <= 0
        if bad.any():
            raise DataFileError(f"data file {path}: {column} must be > 0 for {table.index[bad].tolist()}")


def annual_series(name: str, country: str, metric: str) -> dict[int, float]:
    """Non-missing values of one metric of a shared-format series file, by year."""
    frame = read_table(name, ("year", *SERIES_COLUMNS))
    rows = frame[(frame["country"] == country) & (frame["metric"] == metric)]
    values = pd.to_numeric(rows["value"], errors="coerce")
    out = {int(y): float(v) for y, v in zip(rows["year"], values, strict=True) if not math.isnan(v)}
    if not out:
        raise DataFileError(f"data file {data_path(name)} has no values for {country!r} / {metric!r}")
    return out


def china_coercion_index() -> dict[int, dict[int, float]]:
    """China's coercion index by year and quarter, in [0, 1] (ODD section 6).

    The mean of two observed components: the share of days Chinese government vessels were in
    the Senkaku contiguous zone, and scrambles against Chinese aircraft relative to their FY2016
    peak. Scrambles are counted per Japanese fiscal year (April to March), so a calendar
    quarter takes the fiscal year it falls in. Contiguous-zone days before 2012 are derived from
    the vessel entries with the 2012-2013 days-per-entry ratio.
    """
    days = annual_series("senkaku_china_gov_vessels.csv", "China", "cz_presence_days")
    vessels = annual_series("senkaku_china_gov_vessels.csv", "China", "cz_presence_vessels")
    ratio = (days[2012] + days[2013]) / (vessels[2012] + vessels[2013])
    for year in SENKAKU_GAP_YEARS:
        days.setdefault(year, vessels[year] * ratio)
    scrambles = annual_series("jasdf_scrambles.csv", "Japan", "scrambles_vs_china")
    index: dict[int, dict[int, float]] = {}
    for year in range(min(SENKAKU_GAP_YEARS), CHINA_DATA_LAST_YEAR + 1):
        index[year] = {}
        for quarter in (1, 2, 3, 4):
            fiscal_year = year if quarter >= 2 else year - 1
            if year not in days or fiscal_year not in scrambles:
                raise DataFileError(f"China coercion index: no data for {year}Q{quarter}")
            index[year][quarter] = (
                0.5 * days[year] / DAYS_PER_YEAR + 0.5 * scrambles[fiscal_year] / SCRAMBLES_VS_CHINA_PEAK
            )
    return index


@dataclass(frozen=True)
class DriverSeries:
    """One driver's exogenous level per turn, where data define it, and its knob factor."""

    level: np.ndarray  # (T,) the data level (0 where the policy applies)
    has_data: np.ndarray  # (T,) bool: True where the data level applies
    knob: np.ndarray  # (T,) the counterfactual knob's factor per turn, or (R, T): one row per run


@dataclass(frozen=True)
class RunInputs:
    """Arrays shared by every engine for one parameter set (no state, no randomness)."""

    codes: tuple[str, ...]
    names: tuple[str, ...]
    year: np.ndarray  # (T,)
    quarter: np.ndarray  # (T,)
    # roles
    china: int
    us: int
    focal: int
    provocateur: int
    belligerent: int
    region: np.ndarray  # indices of the Southeast Asian states
    is_engager: np.ndarray  # (N,) bool
    is_pole: np.ndarray  # (N,) bool
    # geography and structure
    distance_km: np.ndarray  # (N, N)
    threat_proximity: np.ndarray  # (N, N)
    neighbourhood: np.ndarray  # (N, N)
    is_self: np.ndarray  # (N, N) bool
    offence: np.ndarray  # (N,)
    dispute: np.ndarray  # (N, N) symmetric: disputes with the China pole
    trade_china: np.ndarray  # (N,)
    trade_us: np.ndarray  # (N,)
    trade_with_engager: np.ndarray  # (N, N): share of j's trade that is with engager i
    gdp: np.ndarray  # (T, N) USD bn, constant 2023
    gdp_start: np.ndarray  # (N,)
    # initial conditions
    alignment_start: np.ndarray
    spending_start: np.ndarray
    lockin_start: np.ndarray
    ceiling_start: np.ndarray
    # drivers and events
    drivers: dict[str, DriverSeries]
    china_spending: DriverSeries  # China's share of GDP (SIPRI) in replay mode
    tech_controls: DriverSeries  # US export-control pressure (milestone-based)
    # turn -> {driver that scales it ("" for none): (N, N) extra coercion by actor and target, unscaled}
    extra_coercion: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)
    ruling: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (T, N) cumulative

    @property
    def n_actors(self) -> int:
        """Number of actors N."""
        return len(self.codes)

    @property
    def n_turns(self) -> int:
        """Number of quarterly turns T."""
        return len(self.year)


def knob_factors(params: Params, year: np.ndarray) -> dict[str, np.ndarray]:
    """Per-turn factor of each driver's knob: its scale from ``from_year`` on, 1 before."""
    out = {}
    for name in DRIVER_NAMES:
        knob = params.drivers.knob(name)
        start = knob.from_year or params.run.start_year
        out[name] = np.where(year >= start, knob.scale, 1.0)
    return out


def with_run_knobs(inputs: RunInputs, params_list: list[Params]) -> RunInputs:
    """``inputs`` with one row of knob factors per run, for runs that differ only in their drivers.

    The many-run engine uses it to run counterfactuals side by side in one batch (the Shapley
    decomposition's 32 driver combinations, say).
    """
    rows = [knob_factors(p, inputs.year) for p in params_list]
    drivers = {name: replace(series, knob=np.stack([r[name] for r in rows])) for name, series in inputs.drivers.items()}
    tech = replace(inputs.tech_controls, knob=np.stack([r["us_pressure"] for r in rows]))
    return replace(inputs, drivers=drivers, tech_controls=tech)


def _series_on_turns(
    year: np.ndarray, quarter: np.ndarray, values: dict[int, dict[int, float]], last_year: int
) -> tuple[np.ndarray, np.ndarray]:
    level = np.zeros(len(year))
    has = np.zeros(len(year), dtype=bool)
    for k, (y, q) in enumerate(zip(year, quarter, strict=True)):
        if int(y) <= last_year and int(y) in values:
            level[k] = values[int(y)][int(q)]
            has[k] = True
    return level, has


def _step_series(
    year: np.ndarray, quarter: np.ndarray, start: tuple[int, int], last_year: int, before: float, after: float
) -> tuple[np.ndarray, np.ndarray]:
    at_or_after = (year > start[0]) | ((year == start[0]) & (quarter >= start[1]))
    level = np.where(at_or_after, after, before)
    return level, year <= last_year


def build_inputs(params: Params) -> RunInputs:
    """Read the data files and build the :class:`RunInputs` of ``params`` (validated).

    Raises
    ------
    KeyError, DataFileError
        For unknown actors and missing or malformed data.
    """
    table = load_actor_table(params)
    codes = tuple(params.actors.codes)
    index = {c: k for k, c in enumerate(codes)}
    n = len(codes)
    run = params.run
    turns = np.arange(run.n_turns)
    year = run.start_year + turns // 4
    quarter = turns % 4 + 1
    perc = params.params.perception

    distance = dynamics.great_circle_km(table["ref_lat"].to_numpy(), table["ref_lon"].to_numpy())
    reach = table["reach_km"].to_numpy()
    is_self = np.eye(n, dtype=bool)
    china = index[params.actors.china_pole]
    us = index[params.actors.us_pole]
    dispute_vec = table["dispute_with_china"].to_numpy()
    dispute = np.zeros((n, n))
    dispute[:, china] = dispute_vec
    dispute[china, :] = dispute_vec
    dispute[china, china] = 0.0

    trade_with_engager = np.zeros((n, n))
    trade_columns = {
        params.actors.china_pole: "trade_share_china",
        params.actors.us_pole: "trade_share_us",
        "JPN": "trade_share_japan",
    }
    for code in params.actors.engagers:
        if code not in trade_columns:
            raise ValueError(
                f"actors.engagers contains {code!r}; allowed: {sorted(c for c in trade_columns if c in codes)} "
                "(engagers need a trade-share column in the attribute file)"
            )
        trade_with_engager[index[code], :] = table[trade_columns[code]].to_numpy()
    np.fill_diagonal(trade_with_engager, 0.0)

    gdp_start = table["gdp_2010_usd_bn"].to_numpy()
    growth = table["gdp_growth_per_year"].to_numpy()
    years_since_2010 = (year + (quarter - 1) / 4.0 - 2010.0)[:, None]
    gdp = gdp_start[None, :] * (1.0 + growth[None, :]) ** years_since_2010

    ceiling = table["spending_ceiling_share_gdp"].to_numpy(dtype=float)
    ceiling = np.where(np.isnan(ceiling), np.inf, ceiling)

    factors = knob_factors(params, year)
    china_level, china_has = _series_on_turns(year, quarter, china_coercion_index(), CHINA_DATA_LAST_YEAR)
    nk = annual_series("nk_missile_launches.csv", "North Korea", "missiles_launched_cns")
    nk_level, nk_has = _series_on_turns(
        year,
        quarter,
        {y: dict.fromkeys((1, 2, 3, 4), v / NK_MISSILES_REFERENCE) for y, v in nk.items()},
        NK_DATA_LAST_YEAR,
    )
    war_level, war_has = _step_series(year, quarter, RUSSIA_WAR_START, WAR_DATA_LAST_YEAR, 0.0, 1.0)
    policy = params.params.policy
    tech_level, tech_has = _step_series(
        year, quarter, TECH_CONTROLS_START, WAR_DATA_LAST_YEAR, policy.us_techcontrol_baseline, 1.0
    )
    china_share = annual_series("sipri_milex.csv", "China", "milex_share_gdp")
    share_level, share_has = _series_on_turns(
        year, quarter, {y: dict.fromkeys((1, 2, 3, 4), v) for y, v in china_share.items()}, max(china_share)
    )
    war_has_any_mode = war_has.copy()
    if run.mode == "policy":
        for has in (china_has, nk_has, tech_has, share_has):
            has[:] = False
    no_data = np.zeros(len(year), dtype=bool)
    drivers = {
        "china_coercion": DriverSeries(china_level, china_has, factors["china_coercion"]),
        "nk_provocation": DriverSeries(nk_level, nk_has, factors["nk_provocation"]),
        # Russia's war is exogenous in both modes: the dated war, then the policy level.
        "russia_war": DriverSeries(war_level, war_has_any_mode, factors["russia_war"]),
        "us_pressure": DriverSeries(np.zeros(len(year)), no_data, factors["us_pressure"]),
        "japan_domestic_trend": DriverSeries(np.zeros(len(year)), no_data, factors["japan_domestic_trend"]),
    }
    extra, ruling = _event_arrays(
        params, index, set(read_table(params.actors.attributes_file, ("code",))["code"]), year, quarter
    )
    region = np.array([index[c] for c in params.actors.region], dtype=int)
    is_pole = np.zeros(n, dtype=bool)
    is_pole[[china, us]] = True
    return RunInputs(
        codes=codes,
        names=tuple(table["name"].astype(str)),
        year=year,
        quarter=quarter,
        china=china,
        us=us,
        focal=index[params.actors.focal],
        provocateur=index[params.actors.provocateur],
        belligerent=index[params.actors.belligerent],
        region=region,
        is_engager=np.isin(np.array(codes), params.actors.engagers),
        is_pole=is_pole,
        distance_km=distance,
        threat_proximity=dynamics.threat_proximity(distance, reach[None, :], perc.threat_distance_km),
        neighbourhood=dynamics.spillover_proximity(distance, perc.spillover_distance_km),
        is_self=is_self,
        offence=1.0 + perc.nuclear_offence_factor * table["nuclear"].to_numpy(),
        dispute=dispute,
        trade_china=table["trade_share_china"].to_numpy(),
        trade_us=table["trade_share_us"].to_numpy(),
        trade_with_engager=trade_with_engager,
        gdp=gdp,
        gdp_start=gdp_start,
        alignment_start=table["alignment_2010"].to_numpy(dtype=float),
        spending_start=table["milex_share_gdp_2010"].to_numpy(dtype=float),
        lockin_start=table["lockin_2010"].to_numpy(dtype=float),
        ceiling_start=ceiling,
        drivers=drivers,
        china_spending=DriverSeries(share_level, share_has, np.ones(len(year))),
        tech_controls=DriverSeries(tech_level, tech_has, factors["us_pressure"]),
        extra_coercion=extra,
        ruling=ruling,
    )


def _event_arrays(
    params: Params,
    index: dict[str, int],
    known: set[str],
    year: np.ndarray,
    quarter: np.ndarray,
) -> tuple[dict[int, dict[str, np.ndarray]], np.ndarray]:
    """Turn the scenario's events into per-turn extra coercion (by driver, unscaled) and rulings.

    The knob of an event's driver scales it at each turn (``sim/drivers.py``).

    Events name actors by code: a code without attributes is an error; a known actor that is
    not simulated in this actor set drops out of the event (the ECS zone event names Taiwan,
    which only the extended set has).
    """
    n = len(index)
    extra: dict[int, dict[str, np.ndarray]] = {}
    ruling = np.zeros((len(year), n))
    for event in params.scenario.events:
        for code in [event.actor, event.target, *event.targets]:
            if code and code not in known:
                raise KeyError(
                    f"scenario event {event.label or event.kind!r} names unknown actor {code!r}; "
                    f"allowed: {sorted(known)}"
                )
        if (event.actor and event.actor not in index) or (event.kind == "claims_ruling" and event.target not in index):
            continue
        when = year * 4 + quarter - 1
        begins = event.year * 4 + event.quarter - 1
        ends = (event.until_year or event.year) * 4 + 3 if event.kind == "coercion_campaign" else begins
        if event.kind == "claims_ruling":  # a ruling made before the run holds from its start
            ruling[when >= begins, index[event.target]] += event.size
            continue
        active = np.flatnonzero((when >= begins) & (when <= ends))
        if active.size == 0:
            continue  # the event lies outside the simulated period
        first, last = int(active[0]), int(active[-1])
        targets = [c for c in ([event.target] if event.target else event.targets) if c in index]
        for turn in range(first, last + 1):
            matrix = extra.setdefault(turn, {}).setdefault(event.driver, np.zeros((n, n)))
            for code in targets:
                matrix[index[event.actor], index[code]] += event.size
    return extra, ruling
