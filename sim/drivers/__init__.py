"""The drivers of Japan's shift: a registry of declarative specs (``spec.py``), one module per driver.

Importing this package registers the built-in drivers in the order below, which is the order of
every table and figure. ``sim.drivers.levels`` computes their levels in a turn (not imported
here: it depends on ``sim.inputs``, which depends on the registry). To add a driver, follow
``docs/EXTENDING.md``.
"""

from sim.drivers.spec import (
    REGISTRY,
    SEMANTICS,
    DataFileError,
    DriverSpec,
    RegistryError,
    colours,
    driver_noise,
    labels,
    load,
    names,
    noisy,
    owned_by,
    register,
    registered,
    spec,
    specs,
)

# Registration order = the order of every table and figure.
BUILT_IN = ("china_coercion", "china_buildup", "nk_provocation", "russia_war", "us_pressure", "japan_domestic_trend")
load(f"sim.drivers.{module}" for module in BUILT_IN)

__all__ = [
    "BUILT_IN",
    "REGISTRY",
    "SEMANTICS",
    "DataFileError",
    "DriverSpec",
    "RegistryError",
    "colours",
    "driver_noise",
    "labels",
    "load",
    "names",
    "noisy",
    "owned_by",
    "register",
    "registered",
    "spec",
    "specs",
]
