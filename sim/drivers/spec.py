"""The driver registry: one declarative :class:`DriverSpec` per driver, registered by name.

A driver is an exogenous force on Japan's alignment whose share of the shift the experiments
measure (CLAIMS.md C0). Its spec says what it is (label, colour, the actor that owns it), where
its level comes from (data files, a loader, the policy level after the data end), which
counterfactuals it allows (``absent``: scale toward zero; ``frozen``: scale toward its level in
a stated year) and whether it draws its own random numbers. Everything that lists drivers
(parameters and their knobs, the Hydra schema, input loading, labels and colours, the dashboard,
the experiments' players and coalitions, the report) reads this registry; each driver's
*mechanism* stays explicit code in ``sim/turn.py``.

The model follows Axelrod's registered strategies: declarative metadata per entry, and a test
over every registered entry that the metadata is true (``tests/test_registry.py``).
"""

from __future__ import annotations

import importlib
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

SEMANTICS = ("absent", "frozen")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
COLOUR_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")
OWNER_NAMES = {"CHN": "Beijing", "PRK": "Pyongyang", "RUS": "Moscow", "USA": "Washington", "JPN": "Tokyo"}


class DataFileError(ValueError):
    """A data file is missing, malformed, or lacks a value the model needs."""


class RegistryError(ValueError):
    """A driver spec that cannot be registered or used: names the driver and what is allowed."""


class SeriesReader(Protocol):
    """What a driver's loader may use to read its data (built by ``sim/inputs.py``)."""

    @property
    def year(self) -> np.ndarray:
        """(T,) calendar year of each turn."""
        ...

    @property
    def quarter(self) -> np.ndarray:
        """(T,) quarter of each turn, 1..4."""
        ...

    def annual(self, file: str, country: str, metric: str) -> dict[int, float]:
        """Non-missing values of one metric of a shared-format series file, by year."""
        ...

    def on_turns(self, values: Mapping[int, Mapping[int, float]], last_year: int) -> tuple[np.ndarray, np.ndarray]:
        """``values[year][quarter]`` on the run's turns up to ``last_year``: (level, has_data)."""
        ...

    def step(
        self, start: tuple[int, int], last_year: int, before: float, after: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """A step from ``before`` to ``after`` at ``start`` (year, quarter), data up to ``last_year``."""
        ...


Loader = Callable[[SeriesReader], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class DriverSpec:
    """Everything the tool needs to know about one driver besides its mechanism.

    Attributes
    ----------
    name : str
        Config key (``drivers.<name>.scale``); lower-case letters, digits and underscores.
    label : str
        Human name used in figures, tables, the report and the dashboard.
    colour : str
        ``#rrggbb`` colour of the driver in every figure.
    owner : str
        ISO-3 code of the actor whose behaviour the driver is (``CHN`` for Beijing's drivers);
        the Owen group values of q2 group drivers by owner.
    meaning : str
        What the level measures, with its unit.
    source : str
        Where the level comes from (data set and citation, or ``assumption``).
    files : tuple of str
        Data files in ``sim/data/`` the loader reads (checked to exist before a run).
    load : callable or None
        ``load(reader) -> (level, has_data)`` on the run's turns; None for a driver without data.
    pre_start : callable or None
        ``pre_start(reader) -> level or None``: the level the spin-up holds (ODD section 5), read
        from the years before the run's start; None (or a None result): the start quarter's level.
    policy_level : callable or None
        ``policy_level(params.params.policy)``: the level where data do not apply (policy mode,
        after the data end); None where the model itself decides the level (``china_buildup``).
        Elementwise arithmetic only (no ``float()``): in a batch of parameter points the policy's
        fields hold one value per run (``sim/batch.py``).
    replayed_in_policy_mode : bool
        True for a dated series that stays exogenous in policy mode (Russia's war).
    semantics : tuple of str
        Allowed counterfactual semantics, the first being the default (``absent`` or ``frozen``).
    freeze_year : int
        Default year whose level ``frozen`` holds.
    frozen_in_real_terms : bool
        True if ``frozen`` holds the level times the owner's GDP (a share of GDP kept at its real
        value: the share falls as GDP grows), not the level itself.
    counterfactual : str
        One sentence: what the world looks like with the driver switched off (shown in the report).
    noise : bool
        True if the driver's mechanism draws random numbers; it then gets its own stream,
        keyed by its name (:func:`stream_seed`), so that adding a driver never changes the draws
        of the others.
    """

    name: str
    label: str
    colour: str
    owner: str
    meaning: str
    source: str
    counterfactual: str
    files: tuple[str, ...] = ()
    load: Loader | None = None
    pre_start: Callable[[SeriesReader], float | None] | None = None
    policy_level: Callable[[Any], float] | None = None
    replayed_in_policy_mode: bool = False
    semantics: tuple[str, ...] = ("absent", "frozen")
    freeze_year: int = 2010
    frozen_in_real_terms: bool = False
    noise: bool = False

    def __post_init__(self) -> None:
        where = f"driver {self.name!r}"
        if not NAME_PATTERN.match(self.name):
            raise RegistryError(f"{where}: name must match {NAME_PATTERN.pattern}")
        if self.owner not in OWNER_NAMES:
            raise RegistryError(f"{where}: unknown owner {self.owner!r}; allowed: {sorted(OWNER_NAMES)}")
        if not COLOUR_PATTERN.match(self.colour):
            raise RegistryError(f"{where}: colour {self.colour!r}; allowed: '#rrggbb'")
        if not self.semantics or any(s not in SEMANTICS for s in self.semantics):
            raise RegistryError(f"{where}: semantics {self.semantics}; allowed: a non-empty subset of {SEMANTICS}")
        if self.files and self.load is None:
            raise RegistryError(f"{where}: names files {self.files} but has no loader to read them")

    @property
    def default_semantics(self) -> str:
        """The counterfactual used when a config does not say (the first allowed)."""
        return self.semantics[0]


@dataclass
class Registry:
    """Registered drivers in registration order (the order of every table and figure)."""

    specs: dict[str, DriverSpec] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # bad modules met by :func:`load`, reported by every run

    def add(self, spec: DriverSpec) -> DriverSpec:
        if spec.name in self.specs:
            raise RegistryError(f"driver {spec.name!r} is registered twice; allowed: one spec per name")
        self.specs[spec.name] = spec
        return spec


REGISTRY = Registry()


def register(spec: DriverSpec) -> DriverSpec:
    """Add ``spec`` to the registry (a second spec with the same name is an error)."""
    return REGISTRY.add(spec)


def names() -> tuple[str, ...]:
    """Names of the registered drivers, in registration order."""
    return tuple(REGISTRY.specs)


def specs() -> tuple[DriverSpec, ...]:
    """The registered specs, in registration order."""
    return tuple(REGISTRY.specs.values())


def spec(name: str) -> DriverSpec:
    """The spec of driver ``name``; KeyError naming the registered drivers otherwise."""
    if name not in REGISTRY.specs:
        raise KeyError(f"unknown driver {name!r}; allowed: {list(REGISTRY.specs)}")
    return REGISTRY.specs[name]


def owned_by(owner: str) -> tuple[str, ...]:
    """Names of the drivers owned by actor ``owner`` (ISO-3)."""
    return tuple(s.name for s in specs() if s.owner == owner)


def labels() -> dict[str, str]:
    """Driver name -> label."""
    return {s.name: s.label for s in specs()}


def colours() -> dict[str, str]:
    """Driver name -> colour."""
    return {s.name: s.colour for s in specs()}


@contextmanager
def registered(*extra: DriverSpec) -> Iterator[None]:
    """Register ``extra`` specs for the duration of a ``with`` block (tests, exploratory work)."""
    before, errors = dict(REGISTRY.specs), list(REGISTRY.errors)
    try:
        for s in extra:
            register(s)
        yield
    finally:
        REGISTRY.specs.clear()
        REGISTRY.specs.update(before)
        REGISTRY.errors[:] = errors


def load(modules: Iterable[str]) -> None:
    """Import driver modules, which register their specs.

    A module whose spec is invalid (unknown owner, a name registered twice ...) is kept as an
    error rather than raised at import: every run then reports it before writing anything
    (``sim/inputs.py: check_registry``, exit code 2), naming the driver.
    """
    for module in modules:
        try:
            importlib.import_module(module)
        except RegistryError as err:
            REGISTRY.errors.append(f"{module}: {err}")


def noisy() -> tuple[str, ...]:
    """Names of the registered drivers that draw random numbers, in registration order."""
    return tuple(s.name for s in specs() if s.noise)


def driver_noise(seed: int, n_turns: int, n_actors: int) -> np.ndarray:
    """Standard normals of every noisy driver, shape (T, N, K): column k from driver ``noisy()[k]``'s own stream.

    The engines append these columns to the run's own draws (``sim/turn.py``'s ``N_NOISE``
    columns), so the model's draws and every other driver's stay as they were when a driver is
    registered; a driver's mechanism reads its column at ``N_NOISE + noisy().index(name)``.
    """
    columns = [np.random.default_rng(stream_seed(seed, name)).standard_normal((n_turns, n_actors)) for name in noisy()]
    return np.stack(columns, axis=-1) if columns else np.zeros((n_turns, n_actors, 0))


def stream_seed(seed: int, name: str) -> np.random.SeedSequence:
    """The seed sequence of driver ``name``'s own random stream in the run with ``seed``.

    Keyed by a checksum of the name (not by position), so registering another driver changes
    no existing stream.
    """
    return np.random.SeedSequence(seed, spawn_key=(zlib.crc32(name.encode()),))
