"""The drivers of Japan's shift: a registry of declarative specs (``spec.py``), one module per driver.

Importing this package registers the built-in drivers in the order below, which is the order of
every table and figure. ``sim.drivers.levels`` computes their levels in a turn (not imported
here: it depends on ``sim.inputs``, which depends on the registry). To add a driver, follow
``docs/EXTENDING.md``.
"""

import importlib

from sim.drivers.spec import (
    SEMANTICS,
    DataFileError,
    DriverSpec,
    RegistryError,
    colours,
    labels,
    names,
    owned_by,
    register,
    registered,
    spec,
    specs,
)

# Registration order = the order of every table and figure.
BUILT_IN = ("china_coercion", "nk_provocation", "russia_war", "us_pressure", "japan_domestic_trend")
for _module in BUILT_IN:
    importlib.import_module(f"sim.drivers.{_module}")

__all__ = [
    "BUILT_IN",
    "SEMANTICS",
    "DataFileError",
    "DriverSpec",
    "RegistryError",
    "colours",
    "labels",
    "names",
    "owned_by",
    "register",
    "registered",
    "spec",
    "specs",
]
