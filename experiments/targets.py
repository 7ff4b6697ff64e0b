"""Calibration targets: observed outcome series and the model quantity each is compared with.

Outcome series only (driver series are inputs, never targets), up to ``last_year`` (2021: later
years are kept aside for out-of-sample checks). Every target has a documented mapping from model
output to the observed quantity and the measurement error of each observed value; the
calibration's likelihood weighs every observation by its error (``experiments/abc_smc.py``).
Each target also has a scale (the error that counts as one unit: 10% of the series' mean for
spending shares, 0.1 for shares of respondents) and a weight (the five families weigh equally,
a family's weight split evenly over its series): the loss of ``experiments/theories.py``.

============================  =============================================  =====================
family (source file)          observed                                       model quantity
============================  =============================================  =====================
``japan_spending``            SIPRI military expenditure, % GDP, Japan        Japan's spending share
(sipri_milex.csv)                                                             (annual mean)
``sea_spending``              the same for VNM, PHL, IDN, MYS, SGP, THA       each state's share
``japan_opinion``             Genron NPO: Japanese with an unfavourable       Japan's perceived
(public_opinion_china.csv)    impression of China (share)                     threat from China
``iseas_forced_choice``       ISEAS: elites who would align with the US if    (1 + alignment) / 2 of
(iseas_state_of_sea_...)      forced to choose, by country (share)            each state
``iseas_trust``               ISEAS: regional trust in Japan, the US, China   mean trust of the
                              (share confident they will do the right thing)  region in each power
============================  =============================================  =====================

Observation model (measurement error of each observed value, its standard deviation ``sd`` in the
observed units; the calibration adds a model-discrepancy term per family on top, see
``experiments/abc_smc.py``):

- surveys (Genron, ISEAS): binomial sampling error ``sqrt(p (1 - p) / n)`` of a share ``p`` among
  ``n`` respondents. Genron NPO polls about 1,000 Japanese adults a year (``n~1000`` in the data
  notes); the ISEAS survey had about 1,300 respondents in 2020 (``respondents_n`` in the data file,
  used for every edition), split over ten countries, so a country's share rests on about 130.
  Elite surveys are not random samples: this is a lower bound on their error.
- SIPRI spending shares: SIPRI publishes no standard errors; it flags estimates and revises
  series when GDP is revised. We take 5% of the value as the standard deviation (an assumption:
  a revision of a 1%-of-GDP share by 0.05 points is typical of SIPRI's yearly releases).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.inputs import data_path, read_table

SPENDING_STATES = {
    "Japan": "JPN",
    "Vietnam": "VNM",
    "Philippines": "PHL",
    "Indonesia": "IDN",
    "Malaysia": "MYS",
    "Singapore": "SGP",
    "Thailand": "THA",
}
# Every state with SIPRI shares in the data (projections); the targets are SPENDING_STATES.
SIPRI_STATES = {
    **SPENDING_STATES,
    "China": "CHN",
    "Russia": "RUS",
    "United States": "USA",
    "South Korea": "KOR",
    "Taiwan": "TWN",
}
ISEAS_STATES = {
    "Brunei": "BRN",
    "Cambodia": "KHM",
    "Indonesia": "IDN",
    "Laos": "LAO",
    "Malaysia": "MYS",
    "Myanmar": "MMR",
    "Philippines": "PHL",
    "Singapore": "SGP",
    "Thailand": "THA",
    "Vietnam": "VNM",
}
TRUST_METRICS = {
    "trust_confident_do_right_thing__target_Japan": "sea_trust_japan",
    "trust_confident_do_right_thing__target_United_States": "sea_trust_us",
    "trust_confident_do_right_thing__target_China": "sea_trust_china",
}
TARGET_FILES = ("sipri_milex.csv", "public_opinion_china.csv", "iseas_state_of_sea_survey.csv")
SHARE_SCALE = 0.1
SPENDING_RELATIVE_SCALE = 0.1
GENRON_RESPONDENTS = 1000  # Genron NPO's Japanese sample (data notes: n~1000)
ISEAS_COUNTRIES = 10
SIPRI_RELATIVE_SD = 0.05  # assumption, see the module docstring


@dataclass(frozen=True)
class Target:
    """One observed series and how to compare the model with it."""

    name: str  # e.g. "spending:JPN"
    family: str
    years: np.ndarray
    observed: np.ndarray
    scale: float
    weight: float
    table: str  # "states" or "outcomes"
    column: str  # the model column
    actor: str  # actor code for states targets, "" for outcomes targets
    transform: str  # "identity" or "alignment_to_share"
    sd: np.ndarray  # measurement error (standard deviation) of each observed value, observed units
    metric: str  # the series' name in projections.csv
    where: str  # the series' actor in projections.csv (a state, or ASEAN for regional figures)


def sampling_sd(share: np.ndarray, respondents: float) -> np.ndarray:
    """Binomial sampling error of shares ``share`` (0..1) estimated from ``respondents`` answers."""
    p = np.clip(np.asarray(share, dtype=float), 0.0, 1.0)
    return np.sqrt(p * (1.0 - p) / respondents)


def iseas_respondents() -> float:
    """Respondents of the ISEAS survey (its ``respondents_n`` row; 2020, the only edition given)."""
    frame = read_table("iseas_state_of_sea_survey.csv", ("year", "country", "metric", "value"))
    values = pd.to_numeric(frame.loc[frame["metric"] == "respondents_n", "value"], errors="coerce").dropna()
    if values.empty:
        raise ValueError("iseas_state_of_sea_survey.csv has no respondents_n row; allowed: one giving the sample size")
    return float(values.mean())


def spending_series(code: str, last_year: int) -> pd.Series:
    """SIPRI's share of GDP of state ``code`` by year, 2010 to ``last_year`` (empty without data)."""
    names = {c: n for n, c in SIPRI_STATES.items()}
    if code not in names:
        return pd.Series(dtype=float)
    return _series("sipri_milex.csv", names[code], "milex_share_gdp", last_year)


def _series(file: str, country: str, metric: str, last_year: int) -> pd.Series:
    frame = read_table(file, ("year", "country", "metric", "value"))
    rows = frame[(frame["country"] == country) & (frame["metric"] == metric)].copy()
    rows["value"] = pd.to_numeric(rows["value"], errors="coerce")
    rows = rows.dropna(subset=["value"])
    rows = rows[(rows["year"] >= 2010) & (rows["year"] <= last_year)]
    return rows.groupby("year")["value"].mean()  # ALT rows (two sources) are averaged


def load_targets(last_year: int) -> list[Target]:
    """Every calibration target with data from 2010 to ``last_year`` (families without data left out)."""
    families: dict[str, list[dict[str, object]]] = {
        f: [] for f in ("japan_spending", "sea_spending", "japan_opinion", "iseas_forced_choice", "iseas_trust")
    }
    for code in SPENDING_STATES.values():
        series = spending_series(code, last_year)
        family = "japan_spending" if code == "JPN" else "sea_spending"
        families[family].append(
            {
                "name": f"spending:{code}",
                "series": series,
                "scale": SPENDING_RELATIVE_SCALE * float(series.mean()),
                "table": "states",
                "column": "spending_share_gdp",
                "actor": code,
                "transform": "identity",
                "sd": SIPRI_RELATIVE_SD * series.to_numpy(dtype=float),
                "metric": "spending_share_gdp",
                "where": code,
            }
        )
    opinion = _series("public_opinion_china.csv", "Japan", "genron_unfavorable_impression_of_China", last_year) / 100
    families["japan_opinion"].append(
        {
            "name": "opinion:JPN",
            "series": opinion,
            "scale": SHARE_SCALE,
            "table": "outcomes",
            "column": "focal_threat_from_china",
            "actor": "",
            "transform": "identity",
            "sd": sampling_sd(opinion.to_numpy(dtype=float), GENRON_RESPONDENTS),
            "metric": "genron_unfavourable_of_china",
            "where": "JPN",
        }
    )
    iseas_n = iseas_respondents()
    for country, code in ISEAS_STATES.items():
        series = _series("iseas_state_of_sea_survey.csv", country, "forced_choice_align_US", last_year) / 100
        families["iseas_forced_choice"].append(
            {
                "name": f"forced_choice:{code}",
                "series": series,
                "scale": SHARE_SCALE,
                "table": "states",
                "column": "alignment",
                "actor": code,
                "transform": "alignment_to_share",
                "sd": sampling_sd(series.to_numpy(dtype=float), iseas_n / ISEAS_COUNTRIES),
                "metric": "iseas_choose_us",
                "where": code,
            }
        )
    for metric, column in TRUST_METRICS.items():
        series = _series("iseas_state_of_sea_survey.csv", "ASEAN-10 (regional aggregate)", metric, last_year) / 100
        families["iseas_trust"].append(
            {
                "name": f"trust:{column.removeprefix('sea_trust_')}",
                "series": series,
                "scale": SHARE_SCALE,
                "table": "outcomes",
                "column": column,
                "actor": "",
                "transform": "identity",
                "sd": sampling_sd(series.to_numpy(dtype=float), iseas_n),
                "metric": f"iseas_trust_in_{column.removeprefix('sea_trust_')}",
                "where": "ASEAN",
            }
        )
    targets = []
    live = {f: [m for m in members if len(m["series"])] for f, members in families.items()}  # type: ignore[arg-type]
    live = {f: m for f, m in live.items() if m}
    for family, members in live.items():
        for member in members:
            observed = member["series"]
            assert isinstance(observed, pd.Series)
            targets.append(
                Target(
                    name=str(member["name"]),
                    family=family,
                    years=observed.index.to_numpy(dtype=int),
                    observed=observed.to_numpy(dtype=float),
                    scale=float(member["scale"]),  # type: ignore[arg-type]
                    weight=1.0 / len(live) / len(members),
                    table=str(member["table"]),
                    column=str(member["column"]),
                    actor=str(member["actor"]),
                    transform=str(member["transform"]),
                    sd=np.asarray(member["sd"], dtype=float),
                    metric=str(member["metric"]),
                    where=str(member["where"]),
                )
            )
    return targets


def model_values(tables: dict[str, pd.DataFrame], target: Target) -> pd.DataFrame:
    """The model quantity of ``target`` by run and year (annual means), in the observed units."""
    frame = tables[target.table]
    if target.actor:
        frame = frame[frame["actor"] == target.actor]
    values = frame.groupby(["run_id", "year"])[target.column].mean().rename("model").reset_index()
    if target.transform == "alignment_to_share":
        values["model"] = (1.0 + values["model"]) / 2.0
    return values


def loss(tables: dict[str, pd.DataFrame], targets: list[Target]) -> float:
    """Weighted mean squared scaled error over all targets (one run's tables)."""
    total = 0.0
    for target in targets:
        model = model_values(tables, target).set_index("year")["model"].reindex(target.years).to_numpy()
        total += target.weight * float(np.mean(((model - target.observed) / target.scale) ** 2))
    return total


def data_hashes() -> dict[str, str]:
    """SHA-256 of every target data file (provenance of a calibration)."""
    return {name: hashlib.sha256(data_path(name).read_bytes()).hexdigest() for name in TARGET_FILES}
