"""Calibration targets: observed outcome series and the model quantity each is compared with.

Outcome series only (driver series are inputs, never targets), up to ``last_year`` (2021: later
years are kept aside for out-of-sample checks). Every target has a documented mapping from model
output to the observed quantity, a scale (the error that counts as one unit) and a weight. The
five target families weigh equally in the loss; a family's weight is split evenly over its series.

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

Scales: 10% of the series' mean for spending shares, 0.1 (ten points) for shares of respondents.
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


def _series(file: str, country: str, metric: str, last_year: int) -> pd.Series:
    frame = read_table(file, ("year", "country", "metric", "value"))
    rows = frame[(frame["country"] == country) & (frame["metric"] == metric)].copy()
    rows["value"] = pd.to_numeric(rows["value"], errors="coerce")
    rows = rows.dropna(subset=["value"])
    rows = rows[(rows["year"] >= 2010) & (rows["year"] <= last_year)]
    return rows.groupby("year")["value"].mean()  # ALT rows (two sources) are averaged


def load_targets(last_year: int) -> list[Target]:
    """Every calibration target with data from 2010 to ``last_year``, weights summing to 1."""
    families: dict[str, list[dict[str, object]]] = {
        f: [] for f in ("japan_spending", "sea_spending", "japan_opinion", "iseas_forced_choice", "iseas_trust")
    }
    for country, code in SPENDING_STATES.items():
        series = _series("sipri_milex.csv", country, "milex_share_gdp", last_year)
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
        }
    )
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
            }
        )
    targets = []
    live = {f: [m for m in members if len(m["series"])] for f, members in families.items()}  # type: ignore[arg-type]
    live = {f: m for f, m in live.items() if m}
    for family, members in live.items():
        for member in members:
            series = member["series"]
            assert isinstance(series, pd.Series)
            targets.append(
                Target(
                    name=str(member["name"]),
                    family=family,
                    years=series.index.to_numpy(dtype=int),
                    observed=series.to_numpy(dtype=float),
                    scale=float(member["scale"]),  # type: ignore[arg-type]
                    weight=1.0 / len(live) / len(members),
                    table=str(member["table"]),
                    column=str(member["column"]),
                    actor=str(member["actor"]),
                    transform=str(member["transform"]),
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
