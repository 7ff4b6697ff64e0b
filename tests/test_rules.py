"""The alignment rules of sim/rules/: closed forms, the landscape's energy, what each rule reads."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from helpers import compose_params, run_module

from sim import dynamics, rules
from sim.initial import ALIGNMENT_LIMIT, initial_conditions
from sim.inputs import RunInputs, build_inputs
from sim.params import ALIGNMENT_RULES, ModelParams, params_from_mapping
from sim.rules import balance_of_power, balance_of_threat, landscape
from sim.turn import ALL, State, alignment_pull


def random_landscape(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Sizes (n,) summing to 1 and a symmetric propensity matrix (n, n) with a zero diagonal."""
    size = landscape.sizes(rng.uniform(0.1, 1.0, n))
    q = rng.normal(0.0, 1.0, (n, n))
    prop = (q + q.T) / 2.0
    np.fill_diagonal(prop, 0.0)
    return size, prop


# ----------------------------------------------------------------------------------------------
# Landscape (Axelrod and Bennett 1993)
# ----------------------------------------------------------------------------------------------


def test_landscape_drive_is_the_frustration_difference_of_a_binary_choice() -> None:
    rng = np.random.default_rng(14)
    for _ in range(20):
        n = int(rng.integers(3, 12))
        size, prop = random_landscape(rng, n)
        x = rng.uniform(-1.0, 1.0, n)  # the others anywhere in [-1, 1]
        gain = float(rng.uniform(0.1, 3.0))
        drive = landscape.drive(x, size, prop, gain)
        at_china = landscape.frustration(np.full(n, -1.0), x, size, prop)
        at_us = landscape.frustration(np.full(n, 1.0), x, size, prop)
        np.testing.assert_allclose(drive, gain * (at_china - at_us), rtol=0, atol=1e-13)


def test_a_move_changes_the_energy_by_twice_the_movers_size_times_its_frustration_change() -> None:
    rng = np.random.default_rng(15)
    size, prop = random_landscape(rng, 7)
    x = rng.uniform(-1.0, 1.0, 7)
    for i in range(7):
        moved = x.copy()
        moved[i] = rng.uniform(-1.0, 1.0)
        d_energy = landscape.energy(moved, size, prop) - landscape.energy(x, size, prop)
        d_frustration = landscape.frustration(moved, moved, size, prop)[i] - landscape.frustration(x, x, size, prop)[i]
        assert d_energy == pytest.approx(2.0 * size[i] * d_frustration, abs=1e-13)


@pytest.mark.parametrize("n", [3, 5, 8])
def test_landscape_rest_points_are_exactly_the_local_minima_of_the_energy(n: int) -> None:
    """Exhaustive enumeration of the 2**n two-bloc configurations."""
    rng = np.random.default_rng(100 + n)
    size, prop = random_landscape(rng, n)
    configs = np.array(list(itertools.product((-1.0, 1.0), repeat=n)))
    energies = landscape.energy(configs, size, prop)
    index = {tuple(c): k for k, c in enumerate(configs)}
    minima, rests = set(), set()
    for k, x in enumerate(configs):
        neighbours = [index[tuple(np.where(np.arange(n) == i, -x, x))] for i in range(n)]
        if all(energies[m] >= energies[k] for m in neighbours):
            minima.add(k)
        # A rest point of the rule: no state's drive points to the other side (tanh(beta drive) keeps its sign).
        if np.all(x * landscape.drive(x, size, prop, 1.0) >= 0.0):
            rests.add(k)
    assert minima and rests == minima
    assert int(np.argmin(energies)) in rests  # the global minimum is among them


def test_landscape_dynamics_settle_in_a_local_minimum_of_the_energy() -> None:
    """The model's partial adjustment toward tanh(beta drive) (eq. 19), all states at once, ends in a minimum."""
    rng = np.random.default_rng(16)
    n = 6
    size, prop = random_landscape(rng, n)
    energies = landscape.energy(np.array(list(itertools.product((-1.0, 1.0), repeat=n))), size, prop)
    for _ in range(10):
        x = rng.uniform(-0.1, 0.1, n)
        for _ in range(2000):
            x = dynamics.update_alignment(x, 0.0, landscape.drive(x, size, prop, 20.0), 0.0, 0.06, 0.0)
        corner = np.sign(x)
        assert np.all(np.abs(x) > 0.9)
        e = landscape.energy(corner, size, prop)
        flips = [np.where(np.arange(n) == i, -corner, corner) for i in range(n)]
        assert all(landscape.energy(f, size, prop) >= e for f in flips)
        assert e >= energies.min()


def test_shared_disputes_and_propensity_hand_case() -> None:
    dispute = np.zeros((4, 4))  # actor 0 is China; 1 and 2 dispute with it, 3 does not
    dispute[0, 1] = dispute[1, 0] = 0.8
    dispute[0, 2] = dispute[2, 0] = 0.5
    shared = landscape.shared_disputes(dispute)
    expected = np.zeros((4, 4))
    expected[1, 2] = expected[2, 1] = 0.5
    np.testing.assert_array_equal(shared, expected)
    trust = np.full((4, 4), 0.5)
    trust[1, 2], trust[2, 1] = 0.9, 0.7
    threat = np.zeros((4, 4))
    threat[1, 0] = 0.6
    prop = landscape.propensity(trust, threat, shared, 1.0, 2.0, 3.0)
    np.testing.assert_array_equal(prop, prop.T)
    assert np.all(np.diag(prop) == 0.0)
    assert prop[1, 2] == pytest.approx(((2 * 0.9 - 1) + (2 * 0.7 - 1)) / 2 + 3.0 * 0.5)
    assert prop[0, 1] == pytest.approx(-2.0 * 0.6 / 2)  # threat felt by one side, shared by the pair
    assert prop[0, 3] == 0.0


def test_sizes_are_shares_and_scale_free() -> None:
    mass = np.array([[1.0, 3.0, 6.0]])
    np.testing.assert_allclose(landscape.sizes(mass), [[0.1, 0.3, 0.6]])
    np.testing.assert_allclose(landscape.sizes(5.0 * mass), landscape.sizes(mass))


# ----------------------------------------------------------------------------------------------
# Balance of threat (the original rule) and balance of power
# ----------------------------------------------------------------------------------------------


def test_balance_of_threat_balances_or_bandwagons() -> None:
    assert balance_of_threat.drive(0.4, 0.1, 0.0, 1.5) == pytest.approx(1.5 * (0.4 - 0.1))  # away from China
    assert balance_of_threat.drive(0.4, 0.1, 1.0, 1.5) == pytest.approx(1.5 * (-0.4 - 0.1))  # toward China


def test_capability_balance_hand_case() -> None:
    alignment = np.array([[-1.0, 1.0, 0.5, 0.0]])
    capability = np.array([[300.0, 900.0, 50.0, 50.0]])
    balance = balance_of_power.capability_balance(alignment, capability, np.arange(4))
    others = capability.sum() - capability[0]
    expected = [(900 + 25) / (others[0]), (-300 + 25) / (1300 - 900), (-300 + 900) / 1250, (-300 + 900 + 25) / 1250]
    np.testing.assert_allclose(balance[0], expected)
    assert balance_of_power.drive(balance, 2.0)[0, 0] == pytest.approx(-2.0 * expected[0])


Start = tuple[RunInputs, State, ModelParams]


@pytest.fixture(scope="module")
def start() -> Start:
    params = compose_params([])
    state, _ = initial_conditions(params)
    return build_inputs(params), state, params.params


def strategic(start: Start, state: State, rule: str) -> np.ndarray:
    """The strategic drive of every actor under ``rule`` when the world is ``state``."""
    inputs, _, model = start
    china, us = dynamics.bloc_threats(state.threat, state.alignment[:, None, :])
    where = rules.Situation(np.arange(inputs.n_actors), state, state, state.threat, china, us, inputs, 0)
    return rules.strategic_drive(where, replace(model, alignment_rule=rule))


def test_balance_of_power_responds_to_capability_not_to_intent(start: Start) -> None:
    inputs, state, _ = start
    base = strategic(start, state, "balance_of_power")
    hostile = replace(state, intent=np.minimum(1.0, state.intent + 0.5), threat=np.minimum(1.0, 3 * state.threat + 0.1))
    np.testing.assert_array_equal(strategic(start, hostile, "balance_of_power"), base)
    threat_moved = strategic(start, hostile, "balance_of_threat") - strategic(start, state, "balance_of_threat")
    assert np.max(np.abs(threat_moved)) > 0.05  # the same change moves the balance-of-threat drive
    china = np.arange(inputs.n_actors) == inputs.china
    stronger = replace(state, capability=state.capability * np.where(china, 2.0, 1.0))
    moved = strategic(start, stronger, "balance_of_power") - base
    assert np.all(moved[0, ~china] > 0.0)  # China's capability doubles: every other state leans toward the US


def test_landscape_reads_trust_threat_and_size(start: Start) -> None:
    _, state, model = start
    base = strategic(start, state, "landscape")
    for changed in (
        replace(state, trust=np.clip(state.trust + 0.2, 0.0, 1.0)),
        replace(state, threat=np.minimum(1.0, state.threat + 0.2)),
        replace(state, capability=state.capability[:, ::-1].copy()),
    ):
        assert np.max(np.abs(strategic(start, changed, "landscape") - base)) > 1e-3
    by_gdp = (start[0], state, replace(model, landscape=replace(model.landscape, size_basis="gdp")))
    assert np.max(np.abs(strategic(by_gdp, state, "landscape") - base)) > 1e-3


@pytest.mark.parametrize("rule", ALIGNMENT_RULES)
def test_start_is_a_rest_point_under_every_rule(rule: str) -> None:
    params = compose_params(["params=default", f"alignment_rule={rule}"])
    assert params.params.alignment_rule == rule
    inputs = build_inputs(params)
    state, anchors = initial_conditions(params)
    drive, _, _ = alignment_pull(state, state, state.threat, ALL, inputs, params.params, state.trend, 0)
    target = np.tanh(anchors.baseline_logit + drive)
    x0 = np.clip(inputs.alignment_start, -ALIGNMENT_LIMIT, ALIGNMENT_LIMIT)
    np.testing.assert_allclose(target[0, ~inputs.is_pole], x0[~inputs.is_pole], rtol=0, atol=1e-12)


def test_unknown_rule_is_refused_with_the_allowed_names() -> None:
    with pytest.raises(ValueError, match=r"params.alignment_rule='walt'.*balance_of_threat"):
        params_from_mapping({"params": {"alignment_rule": "walt"}})
    with pytest.raises(ValueError, match=r"params.landscape.size_basis='population'"):
        params_from_mapping({"params": {"landscape": {"size_basis": "population"}}})


@pytest.mark.slow
def test_cli_runs_under_a_rival_rule_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    common = [f"results_root={tmp_path}", "tables=[outcomes]", "figures.formats=[]"]
    done = run_module("sim", "params=default", "alignment_rule=balance_of_power", "actors=extended", *common)
    assert done.returncode == 0, done.stderr
    (meta_file,) = tmp_path.glob("runs/*/*/meta.json")
    assert json.loads(meta_file.read_text())["params"] == "default"  # the parameter set named on the command line
    bad = run_module("sim", "alignment_rule=walt", *common)
    assert bad.returncode != 0 and "alignment_rule" in bad.stderr
