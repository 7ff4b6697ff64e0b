"""sim/drivers: every registered driver's metadata is true, and bad registry entries fail by name."""

from __future__ import annotations

import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import REPO_ROOT

from sim import drivers as registry
from sim.config import schema
from sim.drivers.spec import OWNER_NAMES, DataFileError, DriverSpec, RegistryError, stream_seed
from sim.inputs import DATA_DIR, build_inputs, data_path
from sim.params import Params, params_from_mapping

ACTOR_CODES = set(pd.read_csv(DATA_DIR / "actors.csv")["code"])


def toy(name: str = "toy_pressure", **changes: object) -> DriverSpec:
    """A driver with no data and no mechanism (a dummy player: it changes nothing)."""
    spec = DriverSpec(
        name=name,
        label="Toy pressure",
        colour="#123456",
        owner="CHN",
        meaning="A test driver (index).",
        source="assumption",
        counterfactual="no toy pressure",
        policy_level=lambda policy: 0.5,
    )
    return replace(spec, **changes) if changes else spec


# --------------------------------------------------------------------------------------------
# The metadata of every registered driver is true (Axelrod's test over every strategy)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", registry.specs(), ids=registry.names())
def test_metadata_of_every_registered_driver_is_true(spec: DriverSpec) -> None:
    assert spec.label and spec.meaning and spec.source and spec.counterfactual
    assert spec.owner in ACTOR_CODES and spec.owner in OWNER_NAMES
    for file in spec.files:
        assert data_path(file).is_file(), file
    assert spec.default_semantics in registry.SEMANTICS
    assert schema()["drivers"][spec.name]["semantics"] == spec.default_semantics
    params = Params()
    inputs = build_inputs(params)
    series = inputs.drivers[spec.name]
    assert series.level.shape == series.has_data.shape == (inputs.n_turns,)
    if spec.load is None:
        assert not series.has_data.any()  # a driver without a loader has no data
    else:
        assert series.has_data.any()  # a loader yields data on some turns of the default run
    if spec.policy_level is not None:
        level = spec.policy_level(params.params.policy)
        assert math.isfinite(level) and level >= 0


def test_labels_and_colours_are_distinct() -> None:
    assert len(set(registry.labels().values())) == len(registry.names())
    assert len(set(registry.colours().values())) == len(registry.names())


def test_the_default_knobs_and_the_schema_list_every_registered_driver() -> None:
    assert tuple(Params().drivers) == registry.names()
    assert tuple(schema()["drivers"]) == registry.names()


# --------------------------------------------------------------------------------------------
# Bad registry entries and knobs
# --------------------------------------------------------------------------------------------


def test_duplicated_name_is_an_error_naming_it() -> None:
    with pytest.raises(RegistryError, match="'china_coercion' is registered twice"):
        with registry.registered(toy("china_coercion")):
            pass
    assert registry.spec("china_coercion").label == "China's coercion"  # the registry is unchanged


def test_unknown_owner_is_an_error_naming_it_and_the_allowed_owners() -> None:
    with pytest.raises(RegistryError, match=r"driver 'toy_pressure': unknown owner 'XXX'; allowed: \['CHN'"):
        toy(owner="XXX")


def test_missing_series_file_is_an_error_naming_driver_and_file() -> None:
    spec = toy(files=("no_such_series.csv",), load=lambda reader: (np.zeros(1), np.zeros(1, dtype=bool)))
    with registry.registered(spec), pytest.raises(DataFileError, match=r"driver 'toy_pressure'.*no_such_series\.csv"):
        build_inputs(Params())


def test_knob_on_a_driver_that_does_not_exist_names_it_and_the_registered_drivers() -> None:
    with pytest.raises(KeyError, match=r"unknown driver\(s\) \['toy'\] in drivers; allowed: \['china_coercion'"):
        params_from_mapping({"drivers": {"toy": {"scale": 0.0}}})


def test_semantics_a_driver_does_not_allow_is_rejected() -> None:
    with registry.registered(toy(semantics=("frozen",))):
        with pytest.raises(ValueError, match=r"drivers.toy_pressure.semantics='absent'; allowed: \['frozen'\]"):
            params_from_mapping({"drivers": {"toy_pressure": {"semantics": "absent"}}})


def test_frozen_year_outside_the_run_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"drivers\.nk_provocation\.freeze_year=2005 is outside the run"):
        params_from_mapping({"drivers": {"nk_provocation": {"scale": 0.0, "semantics": "frozen", "freeze_year": 2005}}})


# --------------------------------------------------------------------------------------------
# Registration leaves everything else as it was
# --------------------------------------------------------------------------------------------


def test_a_driver_registered_for_a_block_is_gone_after_it() -> None:
    before = registry.names()
    with registry.registered(toy()):
        assert registry.names() == (*before, "toy_pressure")
        assert registry.owned_by("CHN")[-1] == "toy_pressure"
        assert Params().drivers.knob("toy_pressure").scale == 1.0
    assert registry.names() == before


def test_own_streams_are_keyed_by_name_not_position() -> None:
    draws = np.random.default_rng(stream_seed(7, "toy_pressure")).standard_normal(5)
    with registry.registered(toy("another_toy")):
        again = np.random.default_rng(stream_seed(7, "toy_pressure")).standard_normal(5)
    np.testing.assert_array_equal(draws, again)
    other = np.random.default_rng(stream_seed(7, "another_toy")).standard_normal(5)
    assert not np.allclose(draws, other)
    base = np.random.default_rng(7).standard_normal(5)  # the model's own stream
    assert not np.allclose(draws, base)


# --------------------------------------------------------------------------------------------
# Bad registry entries at the command line: exit 2, the driver named, nothing written
# --------------------------------------------------------------------------------------------


PRELUDE = {
    "missing_series_file": "from sim.drivers.spec import DriverSpec, register\n"
    "import numpy as np\n"
    "register(DriverSpec(name='toy_pressure', label='x', colour='#000000', owner='CHN', meaning='x', source='x', "
    "counterfactual='x', files=('no_such_series.csv',), load=lambda r: (np.zeros(1), np.zeros(1, dtype=bool)), "
    "policy_level=lambda policy: 0.0))\n",
    "unknown_owner": "from sim import drivers\ndrivers.load(['bad_owner_driver'])\n",
    "duplicated_name": "from sim import drivers\ndrivers.load(['dup_driver'])\n",
    "knob_on_unknown_driver": "",
}


def bad_module(folder: Path, name: str, spec_source: str) -> None:
    """A driver module in ``folder`` whose spec is ``spec_source``."""
    (folder / f"{name}.py").write_text(
        "from sim.drivers.spec import DriverSpec, register\n"
        f"SPEC = register(DriverSpec({spec_source}, label='x', colour='#000000', meaning='x', source='x', "
        "counterfactual='x', policy_level=lambda policy: 0.0))\n"
    )


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("missing_series_file", "driver 'toy_pressure': series file"),
        ("unknown_owner", "unknown owner 'XXX'"),
        ("duplicated_name", "driver 'china_coercion' is registered twice"),
        ("knob_on_unknown_driver", "unknown key drivers.nosuch.scale; allowed keys in drivers: ['china_buildup'"),
    ],
)
def test_bad_registry_entry_exits_2_naming_it_and_writes_nothing(case: str, needle: str, tmp_path: Path) -> None:
    """``python -m sim`` after a driver module or spec was added as a user would: exit 2, nothing written."""
    bad_module(tmp_path, "bad_owner_driver", "name='bad_owner', owner='XXX'")
    bad_module(tmp_path, "dup_driver", "name='china_coercion', owner='CHN'")
    run_dir = tmp_path / "run"
    args = [f"hydra.run.dir={run_dir}", "tables=[outcomes]"]
    if case == "knob_on_unknown_driver":
        args.append("drivers.nosuch.scale=0")
    code = (
        f"import sys, runpy\nsys.path.insert(0, {str(tmp_path)!r})\n{PRELUDE[case]}"
        f"sys.argv = ['sim', *{args!r}]\nrunpy.run_module('sim', run_name='__main__', alter_sys=True)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert needle in done.stderr
    assert not run_dir.exists()
