"""Driver ``russia_war``: Russia's war against Ukraine (ODD section 6)."""

from __future__ import annotations

import numpy as np

from sim.drivers.spec import DriverSpec, SeriesReader, register

WAR_START = (2022, 1)  # 2022-02-24 (milestones.csv)
DATA_LAST_YEAR = 2025


def load(reader: SeriesReader) -> tuple[np.ndarray, np.ndarray]:
    """0 before the full-scale invasion, 1 from its quarter on (dated, not a data file)."""
    return reader.step(WAR_START, DATA_LAST_YEAR, 0.0, 1.0)


SPEC = register(
    DriverSpec(
        name="russia_war",
        label="Russia's war",
        colour="#9467bd",
        owner="RUS",
        meaning="Intensity of Russia's war (1 = the full-scale war from 2022).",
        source="milestones.csv (2022-02-24)",
        counterfactual="no full-scale Russian war against Ukraine",
        load=load,
        policy_level=lambda policy: policy.russia_war_level,
        replayed_in_policy_mode=True,
    )
)
