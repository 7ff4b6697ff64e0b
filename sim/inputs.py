"""Everything a run reads from outside the config: actor attributes and historical driver series.

The files live in ``sim/data/`` (copied from the project's shared data with their sources; see
``sim/data/README.md``). This module reads and validates them once, before a run starts, and
turns them into :class:`RunInputs`: plain numpy arrays indexed by actor and by turn that both
engines share. A missing or malformed file fails here with an error naming the file, the column
and what was expected.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from sim import drivers as registry
from sim import dynamics
from sim.drivers.spec import DataFileError, RegistryError
from sim.params import DriverKnob, Params, PolicyParams
from sim.schemas import SeriesSchemaError, validate_series

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

# The export-control series of the us_pressure driver (ODD section 6, "Input data").
NO_ACTOR = -1  # index of a vacant role: matches no actor
COMMITMENTS_FILE = "commitments.csv"  # treaties and declared alignments (eqs. 4a, 6)
DEFAULT_ATTRIBUTES_FILE = "actors.csv"  # the shipped attribute table: the actors commitments.csv may name
TECH_CONTROLS_START = (2022, 4)  # BIS rules of 2022-10-07 (milestones_project.csv)
TECH_CONTROLS_DATA_LAST_YEAR = 2025


def data_path(name: str) -> Path:
    """Path of a data file: absolute paths as given, others inside ``sim/data/``."""
    path = Path(name)
    return path if path.is_absolute() else DATA_DIR / path


def read_table(name: str, required: tuple[str, ...]) -> pd.DataFrame:
    """Read a CSV data file and check that ``required`` columns exist.

    A series file with a declared schema (``sim/schemas.py``) is checked against it and coerced.
    The parsed, validated frame is cached by the file's content (not its name or time stamp), so
    the many parameter points of a calibration or a posterior verdict parse and validate each
    file once; every call returns its own copy.

    Raises
    ------
    DataFileError
        If the file is missing, unreadable, empty, lacks a required column or breaks its schema.
    """
    path = data_path(name)
    if not path.is_file():
        raise DataFileError(f"data file {path} does not exist")
    return _parsed_table(path, path.read_bytes(), required).copy()


@functools.lru_cache(maxsize=64)
def _parsed_table(path: Path, content: bytes, required: tuple[str, ...]) -> pd.DataFrame:
    """The validated frame of ``content`` (the bytes of ``path``); errors are raised, never cached."""
    try:
        frame = pd.read_csv(io.BytesIO(content))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DataFileError(f"data file {path} is not a readable CSV: {err}") from err
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataFileError(f"data file {path} lacks column(s) {missing}; it has {list(frame.columns)}")
    if frame.empty:
        raise DataFileError(f"data file {path} has no rows")
    try:
        return validate_series(path, frame)
    except SeriesSchemaError as err:
        raise DataFileError(str(err)) from None


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


GDP_FILE = "sipri_milex.csv"  # real GDP derived from SIPRI: constant-dollar expenditure over its share of GDP


def observed_gdp_index(country: str) -> dict[int, float]:
    """Real GDP by year where SIPRI gives both a constant-dollar expenditure and a share of GDP (DERIVED).

    ``Y_t = 100 M_t / s_t`` (USD bn, constant 2023): SIPRI's own GDP denominator in constant
    prices, the same derivation as ``gdp_2010_usd_bn`` in the attribute file. Empty where the
    file has no such year for ``country`` (the caller then grows GDP at the constant rate).
    """
    frame = read_table(GDP_FILE, ("year", *SERIES_COLUMNS))
    rows = frame[frame["country"] == country].assign(value=lambda f: pd.to_numeric(f["value"], errors="coerce"))
    wide = rows.pivot_table(index="year", columns="metric", values="value", aggfunc="mean")
    if not {"milex_constant_2023usd", "milex_share_gdp"} <= set(wide.columns):
        return {}
    gdp = 100.0 * wide["milex_constant_2023usd"] / wide["milex_share_gdp"]
    years, values = gdp.index.to_numpy(dtype=int), gdp.to_numpy(dtype=float)
    return {int(y): float(v) for y, v in zip(years, values, strict=True) if np.isfinite(v) and v > 0.0}


def gdp_paths(names: tuple[str, ...], gdp_start: np.ndarray, growth: np.ndarray, time: np.ndarray) -> np.ndarray:
    """GDP per turn and actor (T, N): observed paths where SIPRI has them, constant growth after (section 6.1).

    ``time`` is the turn's date in years (``year + (quarter - 1) / 4``). Where a state has
    observed years, ``Y(t) = Y_2010 Y_obs(t) / Y_obs(2010)`` with log-linear interpolation between
    years, and ``Y_obs(L) (1 + g)^(t - L)`` after its last observed year ``L`` (before the first,
    ``(1 + g)^(t - F)`` back from it); elsewhere ``Y_2010 (1 + g)^(t - 2010)`` as before.
    """
    log_gdp = np.log(gdp_start)[None, :] + np.log1p(growth)[None, :] * (time[:, None] - 2010.0)
    for k, name in enumerate(names):
        observed = observed_gdp_index(name)
        if 2010 not in observed:
            continue
        years = np.array(sorted(observed), dtype=float)
        log_obs = np.log([observed[int(y)] for y in years]) - math.log(observed[2010]) + math.log(gdp_start[k])
        inside = np.interp(time, years, log_obs)
        after = log_obs[-1] + math.log1p(growth[k]) * (time - years[-1])
        before = log_obs[0] + math.log1p(growth[k]) * (time - years[0])
        log_gdp[:, k] = np.where(time > years[-1], after, np.where(time < years[0], before, inside))
    return np.asarray(np.exp(log_gdp))


@dataclass(frozen=True)
class DriverSeries:
    """One driver's exogenous level per turn, where data define it, and its knob.

    The knobbed level is ``knob * level + (1 - knob) * reference`` (exactly the level at knob 1).
    """

    level: np.ndarray  # (T,) the data level (0 where the policy applies)
    has_data: np.ndarray  # (T,) bool: True where the data level applies
    knob: np.ndarray  # (T,) the counterfactual knob's factor per turn, or (R, T): one row per run
    reference: np.ndarray  # (T,) or (R, T): the counterfactual level (0: absent; frozen: a year's level)
    observed: np.ndarray  # (T,) bool: where the data exist, whatever the mode (a frozen level reads them)
    real_terms: np.ndarray | None = None  # (T,) the owner's GDP where a frozen level keeps its real value
    spin_up_level: float | None = None  # the level the spin-up holds (years before the start); None: level[0]


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
    provocateur: int  # NO_ACTOR (-1) when the role is vacant
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
    projects_power: np.ndarray  # (N,) bool: reach_km > 0 (forces that operate beyond the home territory)
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
    tech_controls: DriverSeries  # US export-control pressure (milestone-based)
    # turn -> {driver that scales it ("" for none): (N, N) extra coercion by actor and target, unscaled}
    extra_coercion: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)
    ruling: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (T, N) cumulative
    # (T, N) summed sizes of the leadership events in force, relative to the start turn
    leadership: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    # (T, N, N) 1 where a recorded commitment (commitments.csv) joins i and j at the turn, else 0
    commitment: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0)))

    @property
    def n_actors(self) -> int:
        """Number of actors N."""
        return len(self.codes)

    @property
    def n_turns(self) -> int:
        """Number of quarterly turns T."""
        return len(self.year)


def knob_factor(knob: DriverKnob, year: np.ndarray, start_year: int) -> np.ndarray:
    """Per-turn factor of a knob: its scale from ``from_year`` on, 1 before."""
    return np.where(year >= (knob.from_year or start_year), knob.scale, 1.0)


def reference_level(
    knob: DriverKnob, series: DriverSeries, policy_level: float, year: np.ndarray, key: str
) -> np.ndarray:
    """The counterfactual reference of a series per turn (ODD section 6.3).

    ``absent`` (and any knob at scale 1, where the reference has no weight): 0. ``frozen``: the
    series' mean observed level over ``freeze_year`` (whatever the
    mode), else the driver's policy level; for a series kept in real terms, the level times the
    owner's GDP held at its freeze-year value (a share that falls as GDP grows).

    Raises
    ------
    DataFileError
        A frozen driver without an observed level or a policy level in ``freeze_year``.
    """
    if knob.semantics == "absent" or knob.scale == 1.0:  # at scale 1 the reference has no weight
        return np.zeros(len(year))
    in_year = year == knob.freeze_year
    if series.observed[in_year].all():
        values = series.level[in_year]
    elif np.isfinite(policy_level):
        values = np.full(int(in_year.sum()), policy_level)
    else:
        years = sorted({int(y) for y in year[series.observed]})
        raise DataFileError(
            f"{key}.freeze_year={knob.freeze_year} has no observed level; allowed: a year with data "
            f"({years[0]}..{years[-1]})"
            if years
            else f"{key}.freeze_year={knob.freeze_year} has no observed level and the driver has no data in this run"
        )
    if series.real_terms is None:
        return np.full(len(year), float(values.mean()))
    return np.asarray(float((values * series.real_terms[in_year]).mean()) / series.real_terms)


def with_run_knobs(inputs: RunInputs, params_list: list[Params]) -> RunInputs:
    """``inputs`` with one row of knob factors and references per run, for runs batched together.

    The many-run engine uses it to run counterfactuals side by side in one batch (the Shapley
    decomposition's 2^k driver combinations, say), and parameter points side by side: each
    run's reference reads its own policy levels (a frozen driver without data holds it).
    """

    def stacked(name: str, series: DriverSeries) -> DriverSeries:
        rows = [driver_series_for(name, series, _policy_level(name, p.params.policy), p) for p in params_list]
        return replace(series, knob=np.stack([r.knob for r in rows]), reference=np.stack([r.reference for r in rows]))

    drivers = {name: stacked(name, series) for name, series in inputs.drivers.items()}
    return replace(inputs, drivers=drivers, tech_controls=stacked("us_pressure", inputs.tech_controls))


def _policy_level(name: str, policy: PolicyParams) -> float:
    level = registry.spec(name).policy_level
    return level(policy) if level is not None else float("nan")


def driver_series_for(name: str, series: DriverSeries, policy_level: float, params: Params) -> DriverSeries:
    """``series`` (of driver ``name``) with the knob factor and reference of ``params``."""
    knob = params.drivers.knob(name)
    year = params.run.start_year + np.arange(len(series.level)) // 4
    return replace(
        series,
        knob=knob_factor(knob, year, params.run.start_year),
        reference=reference_level(knob, series, policy_level, year, f"drivers.{name}"),
    )


@dataclass
class _Reader:
    """The :class:`sim.drivers.spec.SeriesReader` of a run: reads files, maps years to turns."""

    year: np.ndarray
    quarter: np.ndarray

    def annual(self, file: str, country: str, metric: str) -> dict[int, float]:
        return annual_series(file, country, metric)

    def on_turns(self, values: Mapping[int, Mapping[int, float]], last_year: int) -> tuple[np.ndarray, np.ndarray]:
        return _series_on_turns(self.year, self.quarter, values, last_year)

    def step(
        self, start: tuple[int, int], last_year: int, before: float, after: float
    ) -> tuple[np.ndarray, np.ndarray]:
        return _step_series(self.year, self.quarter, start, last_year, before, after)


def check_registry() -> None:
    """Every driver module registered cleanly and every registered driver's data files exist.

    Called before anything is written.

    Raises
    ------
    RegistryError
        A driver module whose spec could not be registered (naming it and why).
    DataFileError
        Naming the driver and the missing file.
    """
    if registry.REGISTRY.errors:
        raise RegistryError("; ".join(registry.REGISTRY.errors))
    for spec in registry.specs():
        for file in spec.files:
            if not data_path(file).is_file():
                raise DataFileError(f"driver {spec.name!r}: series file {data_path(file)} does not exist")


def _series_on_turns(
    year: np.ndarray, quarter: np.ndarray, values: Mapping[int, Mapping[int, float]], last_year: int
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
    gdp = gdp_paths(tuple(table["name"].astype(str)), gdp_start, growth, year + (quarter - 1) / 4.0)

    ceiling = table["spending_ceiling_share_gdp"].to_numpy(dtype=float)
    ceiling = np.where(np.isnan(ceiling), np.inf, ceiling)

    drivers = load_drivers(params, year, quarter, {c: gdp[:, k] for c, k in index.items()})
    policy = params.params.policy
    tech_level, tech_observed = _step_series(
        year, quarter, TECH_CONTROLS_START, TECH_CONTROLS_DATA_LAST_YEAR, policy.us_techcontrol_baseline, 1.0
    )
    tech_has = tech_observed & (run.mode != "policy")
    ones, zeros = np.ones(len(year)), np.zeros(len(year))
    tech = driver_series_for(
        "us_pressure", DriverSeries(tech_level, tech_has, ones, zeros, tech_observed), policy.us_pressure_level, params
    )
    known = set(read_table(params.actors.attributes_file, ("code",))["code"])
    extra, ruling, leadership = _event_arrays(params, index, known, year, quarter)
    # The shipped commitments name shipped actors: a run on another attribute file (a synthetic
    # benchmark set, a user's own) still knows them, and skips those it does not simulate.
    shipped = set(read_table(DEFAULT_ATTRIBUTES_FILE, ("code",))["code"])
    commitment = commitment_matrix(index, known | shipped, params.actors.commitment_kinds, year, quarter)
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
        provocateur=index.get(params.actors.provocateur, NO_ACTOR),
        belligerent=index.get(params.actors.belligerent, NO_ACTOR),
        region=region,
        is_engager=np.isin(np.array(codes), params.actors.engagers),
        is_pole=is_pole,
        distance_km=distance,
        threat_proximity=dynamics.threat_proximity(distance, reach[:, None] + reach[None, :], perc.threat_distance_km),
        neighbourhood=dynamics.spillover_proximity(distance, perc.spillover_distance_km),
        is_self=is_self,
        projects_power=reach > 0.0,
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
        tech_controls=tech,
        extra_coercion=extra,
        ruling=ruling,
        leadership=leadership,
        commitment=commitment,
    )


def commitment_matrix(
    index: Mapping[str, int], known: set[str], kinds: tuple[str, ...], year: np.ndarray, quarter: np.ndarray
) -> np.ndarray:
    """Per turn, which pairs of actors a recorded commitment of one of ``kinds`` joins (eqs. 4a, 6).

    Read from ``commitments.csv``. A commitment counts from the quarter of its date (its
    signature) on, in both directions; pairs with an actor outside the actor set are skipped.

    Returns
    -------
    array (T, N, N)
        1.0 where a commitment is in force, else 0.0 (zero diagonal).

    Raises
    ------
    DataFileError
        If the file names an actor in none of ``known`` (the attribute files' codes).
    """
    table = read_table(COMMITMENTS_FILE, ("a", "b", "since", "kind"))
    unknown = sorted((set(table["a"]) | set(table["b"])) - known)
    if unknown:
        raise DataFileError(
            f"data file {data_path(COMMITMENTS_FILE)} names actor(s) {unknown}, which are not in the "
            f"attribute file; allowed: {sorted(known)}"
        )
    matrix = np.zeros((len(year), len(index), len(index)))
    for a, b, since, kind in table[["a", "b", "since", "kind"]].itertuples(index=False):
        if a in index and b in index and kind in kinds:
            date = pd.Timestamp(since)
            in_force = (year > date.year) | ((year == date.year) & (quarter >= date.quarter))
            matrix[in_force, index[a], index[b]] = matrix[in_force, index[b], index[a]] = 1.0
    return matrix


def spin_up_inputs(inputs: RunInputs) -> RunInputs:
    """``inputs`` with each driver's start-quarter level replaced by the level its spin-up holds.

    A driver whose data reach back before the start (North Korea's) holds their mean there, so the
    start's perceptions remember the years before it (ODD section 5); the others hold the start
    quarter's level.
    """
    drivers = {}
    for name, series in inputs.drivers.items():
        if series.spin_up_level is None:
            drivers[name] = series
        else:
            level = series.level.copy()
            level[0] = series.spin_up_level
            drivers[name] = replace(series, level=level)
    return replace(inputs, drivers=drivers)


def load_drivers(
    params: Params, year: np.ndarray, quarter: np.ndarray, gdp: Mapping[str, np.ndarray]
) -> dict[str, DriverSeries]:
    """Every registered driver's series on the run's turns, with its knob (ODD section 6).

    In policy mode the data apply only to drivers replayed in both modes (Russia's dated war).
    ``gdp`` maps each simulated actor to its GDP path (for drivers frozen in real terms).

    Raises
    ------
    DataFileError
        A missing series file (naming the driver), or a frozen driver without a level to hold.
    KeyError
        A driver frozen in real terms whose owner is not simulated.
    """
    check_registry()
    reader = _Reader(year, quarter)
    out = {}
    for spec in registry.specs():
        if spec.load is not None:
            level, has = spec.load(reader)
        else:
            level, has = np.zeros(len(year)), np.zeros(len(year), dtype=bool)
        observed = has.copy()
        if params.run.mode == "policy" and not spec.replayed_in_policy_mode:
            has = np.zeros(len(year), dtype=bool)
        real_terms = None
        if spec.frozen_in_real_terms:
            if spec.owner not in gdp:
                raise KeyError(f"driver {spec.name!r} is owned by {spec.owner!r}, which is not among actors.codes")
            real_terms = gdp[spec.owner]
        spin_up_level = spec.pre_start(reader) if spec.pre_start is not None and has[0] else None
        series = DriverSeries(level, has, np.ones(len(year)), np.zeros(len(year)), observed, real_terms, spin_up_level)
        out[spec.name] = driver_series_for(spec.name, series, _policy_level(spec.name, params.params.policy), params)
    return out


def _event_arrays(
    params: Params,
    index: dict[str, int],
    known: set[str],
    year: np.ndarray,
    quarter: np.ndarray,
) -> tuple[dict[int, dict[str, np.ndarray]], np.ndarray, np.ndarray]:
    """Turn the scenario's events into per-turn extra coercion (by driver, unscaled), rulings and leaderships.

    A leadership event in force at the start is part of the start-year coding (the anchors make
    the start a rest point), so the leadership array counts changes since the start turn.

    The knob of an event's driver scales it at each turn (``sim/drivers/levels.py``).

    Events name actors by code: a code without attributes is an error; a known actor that is
    not simulated in this actor set drops out of the event (the ECS zone event names Taiwan,
    which only the extended set has).
    """
    n = len(index)
    extra: dict[int, dict[str, np.ndarray]] = {}
    ruling = np.zeros((len(year), n))
    leadership = np.zeros((len(year), n))
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
        if event.kind == "leadership":
            ends = event.until_year * 4 + 3 if event.until_year else when[-1]
            leadership[(when >= begins) & (when <= ends), index[event.actor]] += event.size
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
    return extra, ruling, leadership - leadership[:1]
