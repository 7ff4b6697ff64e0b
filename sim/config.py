"""The Hydra boundary: the config schema, and composed configs turned into validated parameters.

The schema registered here (``schema`` in ``configs/config.yaml``'s defaults) is generated from
the dataclasses of ``sim/params.py``, so every default lives in one place. Hydra's struct mode
rejects an override of a key the schema lacks; :func:`params_from_config` rejects wrong types
and out-of-range values with the key, the value and what is allowed.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from sim import cli
from sim import drivers as registry
from sim.params import Params, params_from_mapping, params_to_mapping
from sim.records import TABLES
from sim.runs import ENGINES

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
PARAM_SECTIONS = ("run", "actors", "drivers", "scenario", "params")
FIGURE_FORMATS = ("png", "svg", "pdf")
NOT_IN_HASH = ("figures", "priors", "results_root")  # keys that do not change a job's tables


@dataclass(frozen=True)
class JobOptions:
    """What a job runs besides the model parameters: seed, replicates, engine, tables, figures."""

    seed: int = 2024
    replicates: int = 1
    engine: str = "auto"
    tables: list[str] = field(default_factory=lambda: list(TABLES))
    figure_formats: list[str] = field(default_factory=lambda: ["png"])
    event_marks: list[dict[str, str]] = field(default_factory=list)
    posterior_file: str | None = None  # set when runs draw their parameters from the posterior


def schema() -> dict[str, Any]:
    """The defaults of every key, as a plain dict (the ``schema`` config node)."""
    return {
        **params_to_mapping(Params()),
        "seed": JobOptions.seed,
        "replicates": JobOptions.replicates,
        "engine": JobOptions.engine,
        "tables": list(TABLES),
        "posterior": False,
        "posterior_file": "configs/params/posterior_pooled.json",
        "figures": {"formats": ["png"], "event_marks": []},
    }


def config_hash(cfg: DictConfig) -> str:
    """SHA-256 of the resolved config minus the keys that do not change the tables.

    Identifies a job's results: a re-launched sweep skips a job whose folder holds a complete
    run with the same hash.
    """
    container = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(container, dict)
    relevant = {k: v for k, v in container.items() if k not in NOT_IN_HASH and k != "hydra"}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True, default=str).encode()).hexdigest()


def register_schema() -> None:
    """Register :func:`schema` with Hydra's ConfigStore under the name ``schema``."""
    ConfigStore.instance().store(name="schema", node=schema())


def params_from_config(cfg: DictConfig | dict[str, Any]) -> Params:
    """Validated :class:`Params` from a composed config (its parameter sections)."""
    container = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
    assert isinstance(container, dict)
    return params_from_mapping({k: container[k] for k in PARAM_SECTIONS if k in container})


# Hydra's compose API keeps global state; two compositions at once (two dashboard sessions
# resetting) must not interleave.
_COMPOSE_LOCK = threading.Lock()


def compose_params(overrides: Sequence[str]) -> Params:
    """Validated parameters of ``configs/`` composed with ``overrides``, outside a Hydra job.

    The command line's checks run first (``sim/cli.py``: unknown keys, a calibration run under
    another alignment rule), so a program gets the refusals ``python -m sim`` gives.

    Raises
    ------
    ValueError
        From the checks or from validation, naming the key, the value and what is allowed.
    """
    cli.check_overrides(overrides)
    register_schema()
    with _COMPOSE_LOCK, initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=list(overrides))
    return params_from_config(cfg)


def job_options(cfg: DictConfig) -> JobOptions:
    """Validated :class:`JobOptions` from a composed config."""
    seed = cfg.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed={seed!r}; allowed: an integer >= 0")
    replicates = cfg.get("replicates")
    if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 1:
        raise ValueError(f"replicates={replicates!r}; allowed: an integer >= 1")
    engine = cfg.get("engine")
    if engine not in ENGINES:
        raise ValueError(f"engine={engine!r}; allowed: {list(ENGINES)}")
    names = list(cfg.get("tables"))
    if not names or any(n not in TABLES for n in names) or "outcomes" not in names:
        raise ValueError(f"tables={names}; allowed: a subset of {list(TABLES)} that includes outcomes")
    figures = cfg.get("figures") or {}
    formats = list(figures.get("formats", ["png"]))
    bad = [f for f in formats if f not in FIGURE_FORMATS]
    if bad:
        raise ValueError(f"figures.formats contains {bad}; allowed: {list(FIGURE_FORMATS)}")
    marks = [dict(m) for m in figures.get("event_marks", [])]
    for mark in marks:
        if set(mark) != {"date", "label"}:
            raise ValueError(f"figures.event_marks entry {mark}; allowed keys: date (YYYY-MM), label")
    posterior = cfg.get("posterior", False)
    if not isinstance(posterior, bool):
        raise ValueError(f"posterior={posterior!r}; allowed: true or false")
    return JobOptions(
        seed=seed,
        replicates=replicates,
        engine=engine,
        tables=names,
        figure_formats=formats,
        event_marks=marks,
        posterior_file=str(cfg.get("posterior_file")) if posterior else None,
    )


def scenario_driver_settings(name: str) -> dict[str, dict[str, Any]]:
    """The driver knobs a scenario file sets itself (empty for a scenario without a file here)."""
    path = CONFIG_DIR / "scenario" / f"{name}.yaml"
    if not path.is_file():
        return {}
    loaded = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
    assert isinstance(loaded, dict)
    drivers = loaded.get("drivers") or {}
    return {k: dict(v) for k, v in drivers.items() if k in registry.names()}


def check_scenario_not_overridden(params: Params) -> None:
    """Refuse a config in which an override undoes the scenario's own counterfactual.

    A command-line override beats a group choice, so ``scenario=no_china_coercion
    drivers.china_coercion.scale=0.5`` would silently run something else than its name says.

    Raises
    ------
    ValueError
        Naming the driver key, the scenario's value and the overriding value.
    """
    for driver, settings in scenario_driver_settings(params.scenario.name).items():
        knob = params.drivers.knob(driver)
        for key, value in settings.items():
            actual = getattr(knob, key)
            if actual != value:
                raise ValueError(
                    f"drivers.{driver}.{key}={actual!r} overrides scenario {params.scenario.name!r}, which sets it to "
                    f"{value!r}; allowed: leave drivers.{driver}.{key} to the scenario, or vary it from "
                    "scenario=baseline"
                )
