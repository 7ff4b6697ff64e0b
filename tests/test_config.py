"""sim/config.py and configs/: every scenario and actor set composes through Hydra's compose API
into validated parameters, scenario knobs are as their files say, and the guard against an
override that undoes a scenario holds."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from helpers import CONFIG_DIR, compose_config, compose_params
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from sim.config import (
    check_scenario_not_overridden,
    config_hash,
    job_options,
    params_from_config,
    scenario_driver_settings,
)
from sim.drivers import names as driver_names
from sim.params import Params, params_to_mapping

SCENARIO_FILES = sorted((CONFIG_DIR / "scenario").glob("*.yaml"))
ACTOR_FILES = sorted((CONFIG_DIR / "actors").glob("*.yaml"))


def test_config_dir_is_the_repository_configs() -> None:
    assert (CONFIG_DIR / "config.yaml").is_file()
    assert len(SCENARIO_FILES) >= 7
    assert {p.stem for p in ACTOR_FILES} >= {"east_asia", "extended"}


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.stem)
def test_every_scenario_composes_with_its_driver_knobs(path: Path) -> None:
    params = compose_params([f"scenario={path.stem}"])
    assert isinstance(params, Params)
    assert params.scenario.name == path.stem
    assert params.scenario.description
    declared = (yaml.safe_load(path.read_text()) or {}).get("drivers") or {}
    assert set(declared) <= set(driver_names()), declared
    for name in driver_names():
        expected = replace(Params().drivers.knob(name), **declared.get(name, {}))
        assert params.drivers.knob(name) == expected, (path.stem, name)
    assert scenario_driver_settings(path.stem) == {k: dict(v) for k, v in declared.items()}
    # every scenario keeps the baseline's history of dated events
    assert [e.label for e in params.scenario.events] == [e.label for e in compose_params([]).scenario.events]
    check_scenario_not_overridden(params)  # as composed, each scenario passes its own guard


def test_counterfactual_scenarios_switch_their_driver_off() -> None:
    for driver in ("china_coercion", "nk_provocation", "russia_war", "us_pressure", "japan_domestic_trend"):
        scenario = "no_japan_domestic_trend" if driver == "japan_domestic_trend" else f"no_{driver}"
        knob = compose_params([f"scenario={scenario}"]).drivers.knob(driver)
        assert knob.scale == 0.0 and knob.from_year == 0, scenario
    restraint = compose_params(["scenario=china_restraint_from_2025"]).drivers.china_coercion
    assert (restraint.scale, restraint.from_year) == (0.0, 2025)
    assert compose_params([]).drivers == Params().drivers  # the baseline: every knob at its default


@pytest.mark.parametrize("path", ACTOR_FILES, ids=lambda p: p.stem)
def test_both_actor_sets_compose(path: Path) -> None:
    params = compose_params([f"actors={path.stem}"])
    assert params.actors.name == path.stem
    declared = yaml.safe_load(path.read_text())
    assert list(params.actors.codes) == declared["codes"]
    assert params.actors.focal == "JPN" and params.actors.china_pole == "CHN" and params.actors.us_pole == "USA"
    assert set(params.actors.region) <= set(params.actors.codes)


def test_extended_set_adds_four_states() -> None:
    base, extended = compose_params([]).actors.codes, compose_params(["actors=extended"]).actors.codes
    assert extended[: len(base)] == base
    assert extended[len(base) :] == ("KOR", "TWN", "AUS", "IND")


def test_schema_defaults_are_the_params_defaults() -> None:
    params = compose_params(["params=default"])
    defaults = Params()
    # the baseline adds its scenario; everything else is the dataclass default
    assert params.run == defaults.run and params.actors == defaults.actors and params.params == defaults.params
    assert params.drivers == defaults.drivers
    # the main job runs the shipped calibration
    assert compose_params([]).params == compose_params(["params=calibrated"]).params != defaults.params


def test_command_line_override_reaches_params() -> None:
    params = compose_params(["params.alignment.balancing_gain=2.0", "run.end_year=2025", "seed=3"])
    assert params.params.alignment.balancing_gain == 2.0
    assert params.run.end_year == 2025


def test_unknown_key_is_rejected_by_hydra() -> None:
    with pytest.raises(ConfigCompositionException, match="bogus"):
        compose_config(["params.perception.bogus=1"])
    with pytest.raises(ConfigCompositionException):
        compose_config(["scenario=no_such_scenario"])


def test_out_of_range_override_is_rejected_naming_the_key() -> None:
    with pytest.raises(ValueError, match=r"params\.perception\.intent_decay_per_quarter=1\.5"):
        compose_params(["params.perception.intent_decay_per_quarter=1.5"])


def test_guard_refuses_an_override_that_undoes_the_scenario() -> None:
    params = compose_params(["scenario=no_china_coercion", "drivers.china_coercion.scale=0.5"])
    assert params.drivers.china_coercion.scale == 0.5  # the command line won, silently ...
    with pytest.raises(ValueError) as info:  # ... which the guard refuses
        check_scenario_not_overridden(params)
    message = str(info.value)
    assert "drivers.china_coercion.scale=0.5" in message
    assert "no_china_coercion" in message and "0.0" in message
    restraint = compose_params(["scenario=china_restraint_from_2025", "drivers.china_coercion.from_year=2030"])
    with pytest.raises(ValueError, match="from_year"):
        check_scenario_not_overridden(restraint)


def test_guard_accepts_the_same_override_from_the_baseline() -> None:
    params = compose_params(["scenario=baseline", "drivers.china_coercion.scale=0.5"])
    check_scenario_not_overridden(params)
    same = compose_params(["scenario=no_china_coercion", "drivers.china_coercion.scale=0"])
    check_scenario_not_overridden(same)  # restating the scenario's own value is fine


def test_resolved_config_round_trips_through_yaml(tmp_path: Path) -> None:
    cfg = compose_config(["scenario=no_nk_provocation", "actors=extended", "params.stance.action_threshold=0.4"])
    path = tmp_path / "config.yaml"
    path.write_text(OmegaConf.to_yaml(cfg, resolve=True))
    again = params_from_config(OmegaConf.load(path))
    assert again == params_from_config(cfg)
    assert params_to_mapping(again)["params"]["stance"]["action_threshold"] == 0.4


def test_job_options_defaults_and_validation() -> None:
    cfg = compose_config([])
    options = job_options(cfg)
    assert options.seed == 2024 and options.replicates == 1
    assert options.figure_formats == ["png"]
    assert {"date", "label"} == set(options.event_marks[0])
    for key, value, needle in [
        ("seed", -1, "seed=-1"),
        ("replicates", 0, "replicates=0"),
        ("engine", "gpu", "engine='gpu'"),
        ("tables", ["states"], "tables="),
        ("figures.formats", ["gif"], "gif"),
    ]:
        bad = copy.deepcopy(cfg)
        OmegaConf.update(bad, key, value, merge=False)
        with pytest.raises(ValueError, match="allowed") as info:
            job_options(bad)
        assert needle in str(info.value), key


def test_config_hash_ignores_only_what_does_not_change_the_tables() -> None:
    cfg = compose_config([])
    base = config_hash(cfg)
    assert base == config_hash(compose_config([]))

    def changed(key: str, value: object) -> str:
        other = copy.deepcopy(cfg)
        OmegaConf.update(other, key, value, merge=False)
        return config_hash(other)

    assert base == changed("figures.formats", ["svg"])
    assert base == changed("results_root", "/shared/elsewhere")  # where results go, not what they are
    assert base != changed("seed", 1)
    assert base != changed("params.perception.intent_gain", 0.6)


EXPERIMENT_FILES = sorted((CONFIG_DIR / "experiment").glob("*.yaml"))


@pytest.mark.parametrize("path", EXPERIMENT_FILES, ids=lambda p: p.stem)
def test_every_experiment_composes_into_valid_params(path: Path, tmp_path: Path) -> None:
    cfg = compose_config([f"experiment={path.stem}"])
    declared = yaml.safe_load(path.read_text())
    assert cfg.experiment.name == path.stem
    for key, value in declared["experiment"].items():
        assert OmegaConf.to_container(cfg.experiment, resolve=True)[key] == value, key
    params = params_from_config(cfg)
    job_options(cfg)
    # the resolved config written to a run folder rebuilds the same parameters
    written = tmp_path / "config.yaml"
    written.write_text(OmegaConf.to_yaml(cfg, resolve=True))
    assert params_from_config(OmegaConf.load(written)) == params
    first = path.read_text().splitlines()[0]
    assert first.startswith("# @package _global_")


def _top_level(path: Path) -> dict[str, object]:
    declared = yaml.safe_load(path.read_text())  # "defaults" is a Hydra directive, not a value
    return {k: v for k, v in declared.items() if k not in ("experiment", "hydra", "defaults")}


@pytest.mark.parametrize("path", [p for p in EXPERIMENT_FILES if _top_level(p)], ids=lambda p: p.stem)
def test_experiment_top_level_settings_survive_composition(path: Path) -> None:
    """An experiment's own top-level values (replicates) beat the main config's (its _self_ comes first)."""
    top_level = _top_level(path)
    cfg = compose_config([f"experiment={path.stem}"])
    for key, value in top_level.items():
        assert OmegaConf.to_container(cfg, resolve=True)[key] == value, key
