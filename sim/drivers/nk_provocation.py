"""Driver ``nk_provocation``: North Korea's missile launches, nuclear tests and deadly attacks (ODD section 6)."""

from __future__ import annotations

import numpy as np

from sim.drivers.spec import DriverSpec, SeriesReader, register

MISSILES_REFERENCE = 20.0  # missiles per year that count as intensity 1 (~2014-2017 level)
# A nuclear test or a deadly armed attack counts as this many missile launches: half a reference
# year. An assumption: each nuclear test drew a new UN Security Council sanctions resolution and
# the 2010 attacks the gravest inter-Korean crisis since 1953, which single launches did not.
EVENT_MISSILES = 10.0
DATA_LAST_YEAR = 2024  # launch counts for 2025 may cover part of the year only
FILE = "nk_missile_launches.csv"
EVENTS_FILE = "nk_provocations_project.csv"


def yearly_level(reader: SeriesReader) -> dict[int, float]:
    """Launches plus 10 per nuclear test or deadly attack, over 20, by year of the data."""
    launches = reader.annual(FILE, "North Korea", "missiles_launched_cns")
    tests = reader.annual(EVENTS_FILE, "North Korea", "nuclear_tests")
    attacks = reader.annual(EVENTS_FILE, "North Korea", "deadly_armed_attacks")
    return {
        y: (v + EVENT_MISSILES * (tests.get(y, 0.0) + attacks.get(y, 0.0))) / MISSILES_REFERENCE
        for y, v in launches.items()
    }


def load(reader: SeriesReader) -> tuple[np.ndarray, np.ndarray]:
    """The yearly level, the same in every quarter of the year."""
    per_quarter = {y: dict.fromkeys((1, 2, 3, 4), v) for y, v in yearly_level(reader).items()}
    return reader.on_turns(per_quarter, DATA_LAST_YEAR)


def pre_start(reader: SeriesReader) -> float | None:
    """Mean yearly level over the data's years before the run's start (2005-2009: 0.35), None without any.

    The spin-up holds it: the start's perceptions remember the 2006 and 2009 tests, not the
    start year's own events as if they recurred forever.
    """
    start = int(reader.year[0])
    before = [v for y, v in yearly_level(reader).items() if y < start]
    return float(np.mean(before)) if before else None


SPEC = register(
    DriverSpec(
        name="nk_provocation",
        label="North Korea's provocations",
        colour="#1f77b4",
        owner="PRK",
        meaning=(
            "North Korea's missile launches plus 10 per nuclear test or deadly armed attack, "
            "in units of 20 missiles a year."
        ),
        source="CNS North Korea Missile Test Database (nk_missile_launches.csv); nk_provocations_project.csv",
        counterfactual="no North Korean missile tests, nuclear tests or deadly attacks",
        files=(FILE, EVENTS_FILE),
        load=load,
        pre_start=pre_start,
        policy_level=lambda policy: policy.nk_provocation_level,
    )
)
