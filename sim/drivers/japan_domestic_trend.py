"""Driver ``japan_domestic_trend``: Japan's own normalisation, a rival explanation (ODD section 6)."""

from __future__ import annotations

from sim.drivers.spec import DriverSpec, register

SPEC = register(
    DriverSpec(
        name="japan_domestic_trend",
        label="Japan's domestic trend",
        colour="#ff7f0e",
        owner="JPN",
        meaning="Quarterly increment of Japan's domestic normalisation index.",
        source="Samuels 2007; Hughes 2015 (the trend's rate is an assumption)",
        counterfactual="no domestic normalisation trend in Japan",
        policy_level=lambda policy: policy.japan_trend_per_year / 4.0,
    )
)
