"""Driver ``china_buildup``: Beijing's arms build-up, the growth of its defence effort (ODD section 6).

Its level is China's defence spending as a share of GDP (SIPRI), which replay mode imposes on
China's spending; in policy mode and after the data end the model decides China's spending
(eq. 20) and this driver only carries the knob. Its counterfactual is ``frozen`` only: China's
*real* defence expenditure held at its observed level of ``freeze_year`` (default 2010), i.e. a
share of GDP that falls as China's GDP grows. Holding the 2010 *share* instead would change
almost nothing: SIPRI puts it at 1.73% in 2010 and 1.71% in 2024, so China's build-up is the
growth of a constant share of a fast-growing economy. ``absent`` (no defence spending) is not
a meaningful world and is not offered.
"""

from __future__ import annotations

import numpy as np

from sim.drivers.spec import DriverSpec, SeriesReader, register

FILE = "sipri_milex.csv"


def load(reader: SeriesReader) -> tuple[np.ndarray, np.ndarray]:
    """China's SIPRI share of GDP (%), the same in every quarter of a year, to the last year observed."""
    share = reader.annual(FILE, "China", "milex_share_gdp")
    return reader.on_turns({y: dict.fromkeys((1, 2, 3, 4), v) for y, v in share.items()}, max(share))


SPEC = register(
    DriverSpec(
        name="china_buildup",
        label="China's arms build-up",
        colour="#8c1d18",
        owner="CHN",
        meaning="China's defence spending (% of GDP) where observed; the knob blends China's spending "
        "with the path that keeps its real expenditure at the freeze year's level.",
        source="SIPRI Military Expenditure Database 2025 via sipri_milex.csv",
        counterfactual="China's real defence expenditure held at its observed level of the freeze year",
        files=(FILE,),
        load=load,
        policy_level=None,  # the model decides China's spending outside the data (eq. 20)
        semantics=("frozen",),
        frozen_in_real_terms=True,
    )
)
