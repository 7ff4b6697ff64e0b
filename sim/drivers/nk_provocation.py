"""Driver ``nk_provocation``: North Korea's missile launches (ODD section 6)."""

from __future__ import annotations

import numpy as np

from sim.drivers.spec import DriverSpec, SeriesReader, register

MISSILES_REFERENCE = 20.0  # missiles per year that count as intensity 1 (~2014-2017 level)
DATA_LAST_YEAR = 2024  # launch counts for 2025 may cover part of the year only
FILE = "nk_missile_launches.csv"


def load(reader: SeriesReader) -> tuple[np.ndarray, np.ndarray]:
    """Launches per year over 20, the same in every quarter of the year."""
    launches = reader.annual(FILE, "North Korea", "missiles_launched_cns")
    per_quarter = {y: dict.fromkeys((1, 2, 3, 4), v / MISSILES_REFERENCE) for y, v in launches.items()}
    return reader.on_turns(per_quarter, DATA_LAST_YEAR)


SPEC = register(
    DriverSpec(
        name="nk_provocation",
        label="North Korea's provocations",
        colour="#1f77b4",
        owner="PRK",
        meaning="North Korea's missile launches, in units of 20 missiles a year.",
        source="CNS North Korea Missile Test Database via nk_missile_launches.csv",
        counterfactual="no North Korean missile tests",
        files=(FILE,),
        load=load,
        policy_level=lambda policy: policy.nk_provocation_level,
    )
)
