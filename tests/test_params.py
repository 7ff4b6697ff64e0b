"""sim/params.py: defaults, validation at the boundary, round trips, provenance metadata."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from typing import Any

import numpy as np
import pytest

from sim.drivers import names as driver_names
from sim.inputs import NO_ACTOR, build_inputs
from sim.params import (
    DriverKnob,
    Event,
    ModelParams,
    Params,
    RunParams,
    parameter_table,
    params_digest,
    params_from_mapping,
    params_to_mapping,
)


def test_defaults_validate_and_describe_the_default_run() -> None:
    params = Params()
    assert params.run.start_year == 2010 and params.run.end_year == 2030
    assert params.run.n_turns == 4 * 21
    assert params.actors.codes[:5] == ("CHN", "JPN", "USA", "RUS", "PRK")
    assert all(params.drivers.knob(name).scale == 1.0 for name in driver_names())
    assert sum(params.params.outcome.gap_weights) == pytest.approx(1.0)
    # the defaults pass the mapping boundary too
    assert params_from_mapping({}) == params


def test_unknown_key_is_a_key_error_naming_key_and_allowed_keys() -> None:
    with pytest.raises(KeyError) as info:
        params_from_mapping({"params": {"perception": {"intent_decay": 0.1}}})
    message = str(info.value)
    assert "intent_decay" in message
    assert "params.perception" in message
    assert "intent_decay_per_quarter" in message  # the allowed keys are listed
    with pytest.raises(KeyError, match="bogus") as info:
        params_from_mapping({"bogus": 1})
    assert "drivers" in str(info.value)


@pytest.mark.parametrize(
    ("mapping", "key", "allowed"),
    [
        ({"run": {"start_year": "2010"}}, "run.start_year", "an integer"),
        ({"run": {"start_year": 2010.5}}, "run.start_year", "an integer"),
        ({"run": {"start_year": True}}, "run.start_year", "an integer"),
        ({"params": {"perception": {"intent_gain": "fast"}}}, "params.perception.intent_gain", "a number"),
        ({"params": {"perception": {"intent_gain": None}}}, "params.perception.intent_gain", "a number"),
        ({"actors": {"codes": "CHN,JPN"}}, "actors.codes", "a list"),
        ({"actors": {"codes": ["CHN", 5]}}, "actors.codes[1]", "a string"),
        ({"drivers": {"china_coercion": 0}}, "drivers.china_coercion", "a mapping"),
    ],
)
def test_wrong_type_is_a_value_error_naming_key_and_allowed(mapping: dict[str, Any], key: str, allowed: str) -> None:
    with pytest.raises(ValueError, match="allowed") as info:
        params_from_mapping(mapping)
    assert key in str(info.value)
    assert allowed in str(info.value)


@pytest.mark.parametrize(
    ("mapping", "key", "value", "allowed"),
    [
        (
            {"params": {"perception": {"intent_decay_per_quarter": 1.5}}},
            "params.perception.intent_decay_per_quarter",
            "1.5",
            "[0.0, 1.0]",
        ),
        ({"params": {"alignment": {"balancing_gain": -0.1}}}, "params.alignment.balancing_gain", "-0.1", "[0.0, 20.0]"),
        ({"params": {"stance": {"action_threshold": 1.0}}}, "params.stance.action_threshold", "1.0", "[0.0, 0.99]"),
        ({"drivers": {"nk_provocation": {"scale": -1}}}, "drivers.nk_provocation.scale", "-1.0", "[0.0, 10.0]"),
        (
            {"params": {"perception": {"intent_decay_per_quarter": 1.5}}},
            "params.perception.intent_decay_per_quarter",
            "1.5",
            "[0.0, 1.0] (1/quarter)",
        ),
        ({"run": {"spinup_quarters": -1}}, "run.spinup_quarters", "-1", "[0, "),
        (
            {"params": {"outcome": {"action_log_threshold": 11}}},
            "params.outcome.action_log_threshold",
            "11",
            "[0.0, 10.0]",
        ),
    ],
)
def test_out_of_range_is_a_value_error_naming_dotted_key_value_and_range(
    mapping: dict[str, Any], key: str, value: str, allowed: str
) -> None:
    with pytest.raises(ValueError) as info:
        params_from_mapping(mapping)
    message = str(info.value)
    assert f"{key}={value}" in message
    assert allowed in message
    assert not message.endswith("(1)")  # a pure number's unit is not shown


def test_bad_choice_names_key_and_options() -> None:
    with pytest.raises(ValueError, match=r"run\.mode='forecast'") as info:
        params_from_mapping({"run": {"mode": "forecast"}})
    assert "replay" in str(info.value) and "policy" in str(info.value)


@pytest.mark.parametrize(
    ("mapping", "key"),
    [
        ({"params": {"perception": {"intent_gain": math.nan}}}, "params.perception.intent_gain"),
        ({"drivers": {"china_coercion": {"scale": math.nan}}}, "drivers.china_coercion.scale"),
        ({"params": {"outcome": {"gap_weights": [math.nan, 0.25, 0.25, 0.25, 0.25]}}}, "params.outcome.gap_weights[0]"),
        ({"params": {"spending": {"threat_response": math.inf}}}, "params.spending.threat_response"),
        ({"run": {"spinup_tolerance": -math.inf}}, "run.spinup_tolerance"),
    ],
)
def test_nan_and_infinities_are_refused_lists_included(mapping: dict[str, Any], key: str) -> None:
    with pytest.raises(ValueError, match=re.escape(key)):
        params_from_mapping(mapping)


@pytest.mark.parametrize("name", ["../../../escaped", "a/b", "..", ".hidden", "", "x\\y", "tab\tname"])
def test_a_scenario_name_that_would_leave_its_folder_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match=r"scenario\.name=.*names a folder"):
        params_from_mapping({"scenario": {"name": name}})
    assert (
        params_from_mapping({"scenario": {"name": "no_china_coercion-2015"}}).scenario.name == "no_china_coercion-2015"
    )


def test_from_year_outside_the_run_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"drivers\.russia_war\.from_year=2040") as info:
        params_from_mapping({"drivers": {"russia_war": {"scale": 0.0, "from_year": 2040}}})
    assert "2010..2030" in str(info.value)
    with pytest.raises(ValueError, match=r"drivers\.china_coercion\.from_year=2005"):
        params_from_mapping({"drivers": {"china_coercion": {"from_year": 2005}}})
    # 0 (the start) and the run's own years are allowed
    for year in (0, 2010, 2030):
        params = params_from_mapping({"drivers": {"china_coercion": {"scale": 0.0, "from_year": year}}})
        assert params.drivers.china_coercion.from_year == year


def test_end_year_before_start_year_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"run\.end_year=2009.*run\.start_year=2010"):
        params_from_mapping({"run": {"end_year": 2009}})
    assert params_from_mapping({"run": {"start_year": 2015, "end_year": 2015}}).run.n_turns == 4


@pytest.mark.parametrize(
    "weights",
    [[0.2, 0.2, 0.2, 0.2], [0.2, 0.2, 0.2, 0.2, 0.3], [0.6, 0.6, -0.2, 0.0, 0.0], [0.2, 0.2, 0.2, 0.2, 0.2, 0.0]],
)
def test_bad_gap_weights_are_rejected(weights: list[float]) -> None:
    with pytest.raises(ValueError, match=r"params\.outcome\.gap_weights") as info:
        params_from_mapping({"params": {"outcome": {"gap_weights": weights}}})
    assert "summing to 1" in str(info.value)


def test_other_gap_weights_summing_to_one_are_accepted() -> None:
    params = params_from_mapping({"params": {"outcome": {"gap_weights": [1, 0, 0, 0, 0]}}})
    assert params.params.outcome.gap_weights == (1.0, 0.0, 0.0, 0.0, 0.0)


GOOD_EVENT = {"kind": "intent_shock", "actor": "CHN", "target": "JPN", "year": 2013, "quarter": 4, "size": 0.5}


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"kind": "invasion"}, "kind='invasion'"),
        ({"quarter": 5}, "quarter=5"),
        ({"quarter": 0}, "quarter=0"),
        ({"size": -0.5}, "size=-0.5"),
        ({"driver": "chinese_coercion"}, "driver='chinese_coercion'"),
        ({"kind": "coercion_campaign", "until_year": 2012}, "until_year=2012"),
        ({"actor": "china"}, "'china'"),
        ({"actor": ""}, "needs an actor"),
        ({"target": ""}, "needs a target"),
    ],
)
def test_invalid_event_is_rejected(change: dict[str, Any], needle: str) -> None:
    event = {**GOOD_EVENT, "label": "test event", **change}
    with pytest.raises(ValueError, match=r"allowed|needs|before") as info:
        params_from_mapping({"scenario": {"name": "x", "events": [event]}})
    assert needle in str(info.value)
    assert "test event" in str(info.value)


def test_valid_events_are_built_as_events() -> None:
    ruling = {"kind": "claims_ruling", "target": "CHN", "year": 2016, "quarter": 3, "size": 1.0}
    params = params_from_mapping({"scenario": {"events": [GOOD_EVENT, ruling]}})
    assert params.scenario.events == (Event(**GOOD_EVENT), Event(**ruling))


def test_unknown_event_key_is_rejected() -> None:
    with pytest.raises(KeyError, match="when"):
        params_from_mapping({"scenario": {"events": [{**GOOD_EVENT, "when": "2013"}]}})


def test_actor_roles_must_be_among_codes() -> None:
    with pytest.raises(ValueError, match=r"actors\.focal='KOR'"):
        params_from_mapping({"actors": {"focal": "KOR"}})
    with pytest.raises(ValueError, match=r"actors\.region contains 'KOR'"):
        params_from_mapping({"actors": {"region": ["VNM", "KOR"]}})
    with pytest.raises(ValueError, match="duplicates"):
        params_from_mapping({"actors": {"codes": ["CHN", "JPN", "USA", "RUS", "PRK", "JPN"], "region": []}})
    with pytest.raises(ValueError, match="upper-case ISO-3"):
        params_from_mapping({"actors": {"codes": ["CHN", "JPN", "USA", "RUS", "PRK", "vnm"], "region": []}})


@pytest.mark.parametrize("pole", ["CHN", "USA"])
def test_focal_state_cannot_be_a_pole(pole: str) -> None:
    with pytest.raises(ValueError, match=r"actors\.focal"):
        params_from_mapping({"actors": {"focal": pole}})


@pytest.mark.parametrize("role", ["provocateur", "belligerent"])
def test_a_pole_cannot_take_another_actors_role(role: str) -> None:
    codes = ["CHN", "JPN", "USA", "VNM"]
    with pytest.raises(ValueError, match=rf"actors\.{role}='CHN' is a pole"):
        params_from_mapping({"actors": {"codes": codes, "region": ["VNM"], "provocateur": "", "belligerent": "",
                                        role: "CHN"}})  # fmt: skip


def test_roles_are_optional_when_their_actor_is_absent() -> None:
    codes = ["CHN", "JPN", "USA", "VNM"]
    with pytest.raises(
        ValueError, match=r"actors\.provocateur='PRK' is not among actors\.codes.*'' \(no provocateur\)"
    ):
        params_from_mapping({"actors": {"codes": codes, "region": ["VNM"], "belligerent": ""}})
    params = params_from_mapping({"actors": {"codes": codes, "region": ["VNM"], "provocateur": "", "belligerent": ""}})
    inputs = build_inputs(params)
    assert inputs.provocateur == inputs.belligerent == NO_ACTOR


def test_leadership_event_has_an_actor_only_and_may_be_negative() -> None:
    event = {"kind": "leadership", "actor": "PHL", "year": 2016, "quarter": 3, "size": -1.0}
    params = params_from_mapping({"scenario": {"events": [event]}})
    inputs = build_inputs(params)
    phl = inputs.codes.index("PHL")
    assert inputs.leadership[0, phl] == 0.0
    assert inputs.leadership[-1, phl] == -1.0
    first = int(np.flatnonzero(inputs.leadership[:, phl])[0])
    assert (inputs.year[first], inputs.quarter[first]) == (2016, 3)
    with pytest.raises(ValueError, match="leadership event has an actor only"):
        params_from_mapping({"scenario": {"events": [{**event, "target": "CHN"}]}})


def test_event_actor_cannot_target_itself() -> None:
    with pytest.raises(ValueError, match="CHN"):
        params_from_mapping({"scenario": {"events": [{**GOOD_EVENT, "target": "CHN"}]}})


def test_knob_of_unknown_driver_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="allowed"):
        Params().drivers.knob("weather")


def _non_default_mapping() -> dict[str, Any]:
    return {
        "run": {"start_year": 2012, "end_year": 2020, "mode": "policy", "spinup_quarters": 50},
        "actors": {"codes": ["CHN", "JPN", "USA", "RUS", "PRK", "VNM"], "region": ["VNM"]},
        "drivers": {"china_coercion": {"scale": 0.0, "from_year": 2015}, "us_pressure": {"scale": 2.5}},
        "scenario": {"name": "custom", "description": "test", "events": [GOOD_EVENT]},
        "params": {"perception": {"intent_gain": 0.7}, "outcome": {"gap_weights": [0.1, 0.2, 0.3, 0.2, 0.2]}},
    }


def test_round_trip_mapping_params_mapping() -> None:
    for params in (Params(), params_from_mapping(_non_default_mapping())):
        mapping = params_to_mapping(params)
        again = params_from_mapping(mapping)
        assert again == params
        assert params_to_mapping(again) == mapping
        assert params_digest(again) == params_digest(params)


def test_params_are_frozen() -> None:
    params = Params()
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.run = RunParams()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.run.start_year = 2000  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.params.perception.intent_gain = 2.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.drivers.china_coercion.scale = 0.0  # type: ignore[misc]


def test_list_valued_params_cannot_be_changed_after_validation() -> None:
    params = Params()
    with pytest.raises((TypeError, AttributeError)):
        params.params.outcome.gap_weights[0] = 5.0  # type: ignore[index]
    with pytest.raises((TypeError, AttributeError)):
        params.actors.codes.append("XXX")  # type: ignore[attr-defined]


def test_parameter_table_has_unit_range_meaning_and_source_for_every_numeric_field() -> None:
    rows = parameter_table()
    keys = [row["key"] for row in rows]
    assert len(keys) == len(set(keys))
    assert "params.perception.intent_decay_per_quarter" in keys
    assert "drivers.<name>.scale" in keys and "drivers.<name>.from_year" in keys
    for row in rows:
        for column in ("unit", "meaning", "source"):
            assert isinstance(row[column], str) and row[column].strip(), (row["key"], column)
        lo, hi = row["range"]
        assert lo is None or hi is None or lo <= hi, row["key"]
        default = row["default"]
        assert default is not None, row["key"]
        assert (lo is None or default >= lo) and (hi is None or default <= hi), (row["key"], default, lo, hi)


def test_parameter_table_covers_every_numeric_field_of_the_model() -> None:
    numeric = []
    groups = [g for g in dataclasses.fields(ModelParams) if dataclasses.is_dataclass(getattr(ModelParams(), g.name))]
    for group in groups:
        for f in dataclasses.fields(group.type if isinstance(group.type, type) else getattr(ModelParams(), group.name)):
            if f.type in ("float", "int", float, int):
                numeric.append(f"params.{group.name}.{f.name}")
    keys = {row["key"] for row in parameter_table()}
    assert numeric and set(numeric) <= keys


def test_params_digest_changes_when_a_value_changes() -> None:
    base = params_digest(Params())
    assert base == params_digest(Params())
    assert len(base) == 64
    changed = [
        params_from_mapping({"params": {"perception": {"intent_gain": 0.51}}}),
        params_from_mapping({"drivers": {"china_coercion": {"scale": 0.0}}}),
        params_from_mapping({"scenario": {"name": "other"}}),
        params_from_mapping({"scenario": {"events": [GOOD_EVENT]}}),
    ]
    digests = {params_digest(p) for p in changed}
    assert base not in digests
    assert len(digests) == len(changed)
    for p in [Params(), *changed]:  # built from cached section texts: the same as the whole mapping's JSON
        text = json.dumps(params_to_mapping(p), sort_keys=True, default=str)
        assert params_digest(p) == hashlib.sha256(text.encode()).hexdigest()


def test_driver_knob_defaults_are_the_factual_world() -> None:
    knob = DriverKnob()
    assert knob.scale == 1.0 and knob.from_year == 0
