"""Driver ``us_pressure``: US burden-sharing and export-control pressure on its allies (ODD section 6).

Its knob also scales the export-control series (``RunInputs.tech_controls``, built in
``sim/inputs.py``), a second series of the same driver.
"""

from __future__ import annotations

from sim.drivers.spec import DriverSpec, register

SPEC = register(
    DriverSpec(
        name="us_pressure",
        label="US pressure",
        colour="#2ca02c",
        owner="USA",
        meaning="US burden-sharing pressure on its allies' spending (index); its knob also scales "
        "the export-control pressure (1 = after the 2022 controls).",
        source="assumption (policy level); milestones_project.csv for the 2022 export controls",
        counterfactual="no US pressure for burden-sharing or export controls",
        policy_level=lambda policy: policy.us_pressure_level,
    )
)
