"""sim/model.py (and the agents it runs): contract over roles, determinism, scripted scenarios,
limits ("no driver, no drift from that driver"), the factual start, and a golden run.

The golden file ``tests/golden/baseline_seed7_outcomes.csv`` holds Japan's W1..W5 and the
China-wants gap at Q1 of each year of the baseline (the main job: the shipped calibration,
``params=calibrated``) with seed 7, rounded to 1e-9. After a deliberate change of the model's
numbers or of the shipped calibration, regenerate it (and review the diff) with::

    REGENERATE_GOLDEN=1 .venv/bin/python tests/test_model.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import (
    ACTION_KINDS,
    ALL_DRIVERS_OFF,
    GOLDEN_DIR,
    GOLDEN_SEED,
    NO_NOISE,
    W_COLUMNS,
    compose_params,
    japan_yearly,
    without_run_keys,
)

from sim.agents import StateAgent
from sim.model import AlignmentModel, simulate
from sim.params import Params
from sim.turn import Actions, State

GOLDEN_FILE = GOLDEN_DIR / "baseline_seed7_outcomes.csv"
GOLDEN_COLUMNS = ["year", *W_COLUMNS, "china_wants_gap"]
SCENARIOS = sorted(p.stem for p in (Path(__file__).resolve().parent.parent / "configs" / "scenario").glob("*.yaml"))

# ----------------------------------------------------------------------------------------------
# Contract over every actor role
# ----------------------------------------------------------------------------------------------

ROLES = {
    "china_pole": "CHN",
    "us_pole": "USA",
    "focal": "JPN",
    "provocateur": "PRK",
    "belligerent": "RUS",
    "southeast_asian": "VNM",
    "engager": "JPN",
}
SCALAR_FIELDS = ("alignment", "spending", "expenditure", "capability", "lockin", "ceiling", "growth", "trend")
DYAD_FIELDS = ("intent", "threat", "criticism", "resistance", "denial", "trust")
TARGETED_ACTIONS = ("coercion", "criticism", "engagement", "derisking")
UNTARGETED_ACTIONS = ("basing", "buildup", "provocation", "war")
CONTRACT_SEED = 11


def short_params() -> Params:
    """2021-2023: the war, North Korea's 2022 launches and China's coercion all happen."""
    return compose_params(["run.start_year=2021", "run.end_year=2023"])


def run_model(params: Params, seed: int) -> tuple[AlignmentModel, list[dict[str, tuple[State, Actions | None]]]]:
    """Construct and step a model to its end, keeping every agent's state and actions per turn."""
    model = AlignmentModel(params, seed)
    history = [{a.code: (a.state, a.actions) for a in model.actors}]
    while model.running:
        model.step()
        history.append({a.code: (a.state, a.actions) for a in model.actors})
    return model, history


@pytest.fixture(scope="module")
def contract_run() -> tuple[AlignmentModel, list[dict[str, tuple[State, Actions | None]]]]:
    return run_model(short_params(), CONTRACT_SEED)


def agent(model: AlignmentModel, code: str) -> StateAgent:
    (found,) = [a for a in model.actors if a.code == code]
    return found


@pytest.mark.parametrize("role", sorted(ROLES))
def test_agent_contract(
    role: str, contract_run: tuple[AlignmentModel, list[dict[str, tuple[State, Actions | None]]]]
) -> None:
    model, history = contract_run
    code = ROLES[role]
    n = model.inputs.n_actors
    me = agent(model, code)
    assert isinstance(me, StateAgent)
    assert model.inputs.codes[me.index] == code
    assert len(history) == model.n_turns == 12
    for turn, record in enumerate(history):
        state, actions = record[code]
        for name in SCALAR_FIELDS:
            assert getattr(state, name).shape == (1, 1), (name, turn)
        for name in DYAD_FIELDS:
            assert getattr(state, name).shape == (1, 1, n), (name, turn)
        assert -1.0 <= state.alignment[0, 0] <= 1.0
        assert 0.0 <= state.lockin[0, 0] <= 1.0
        assert state.spending[0, 0] > 0 and state.capability[0, 0] > 0
        for name in DYAD_FIELDS:
            values = getattr(state, name)
            assert np.all((values >= 0) & (values <= 1)), (name, turn)
        assert state.threat[0, 0, me.index] == 0.0  # no threat from oneself
        if turn == 0:
            assert actions is None
            continue
        assert actions is not None
        for name in TARGETED_ACTIONS:
            values = getattr(actions, name)
            assert values.shape == (1, 1, n), (name, turn)
            assert np.all(values >= 0) and values[0, 0, me.index] == 0.0, (name, turn)
        for name in UNTARGETED_ACTIONS:
            assert getattr(actions, name).shape == (1, 1), (name, turn)
            assert getattr(actions, name)[0, 0] >= 0, (name, turn)
    # the reported properties read the state
    state, _ = history[-1][code]
    assert me.security_alignment == state.alignment[0, 0]
    assert me.economic_alignment == state.economic_alignment[0, 0]
    omega = model.params.params.alignment.economic_weight
    assert me.alignment == pytest.approx((1 - omega) * me.security_alignment + omega * me.economic_alignment)
    assert me.lockin == state.lockin[0, 0]
    assert me.spending_share_gdp == state.spending[0, 0]
    assert me.capability == state.capability[0, 0]


def _actions_of(history: list[dict[str, tuple[State, Actions | None]]], code: str, kind: str) -> np.ndarray:
    return np.array([getattr(record[code][1], kind).sum() for record in history[1:]])


def test_role_behaviour(contract_run: tuple[AlignmentModel, list[dict[str, tuple[State, Actions | None]]]]) -> None:
    model, history = contract_run
    codes = model.inputs.codes
    # only the China pole coerces, only the provocateur tests missiles, only the belligerent wages war
    for code in codes:
        coercion = _actions_of(history, code, "coercion")
        provocation = _actions_of(history, code, "provocation")
        war = _actions_of(history, code, "war")
        assert (coercion > 0).all() if code == "CHN" else (coercion == 0).all(), code
        if code == "RUS":  # the war starts in 2022Q1 (turn 4 of this run)
            assert (war[:3] == 0).all() and (war[3:] > 0).all()
        else:
            assert (war == 0).all(), code
        if code != "PRK":
            assert (provocation == 0).all(), code
        # only the engagers engage; poles host no US bases
        engagement = _actions_of(history, code, "engagement")
        assert (engagement > 0).all() if code in ("CHN", "USA", "JPN") else (engagement == 0).all(), code
        if code in ("CHN", "USA"):
            assert (_actions_of(history, code, "basing") == 0).all(), code
    assert _actions_of(history, "PRK", "provocation")[3:7].min() > 0  # 69 missiles in 2022
    # the focal state's domestic trend grows by japan_trend_per_year / 4 a quarter; nobody else's
    trend = np.array([record["JPN"][0].trend[0, 0] for record in history])
    np.testing.assert_allclose(np.diff(trend), model.params.params.policy.japan_trend_per_year / 4, rtol=1e-12)
    for code in codes:
        if code != "JPN":
            assert all(record[code][0].trend[0, 0] == 0.0 for record in history), code


@pytest.mark.parametrize("code", ["CHN", "USA"])
def test_poles_never_move_in_a_short_run(
    code: str, contract_run: tuple[AlignmentModel, list[dict[str, tuple[State, Actions | None]]]]
) -> None:
    _, history = contract_run
    pole = {"CHN": -1.0, "USA": 1.0}[code]
    assert all(record[code][0].alignment[0, 0] == pole for record in history)
    assert all(record[code][0].economic_alignment[0, 0] == pole for record in history)
    lockins = {record[code][0].lockin[0, 0] for record in history}
    assert len(lockins) == 1


def test_poles_never_move_in_the_baseline(baseline_run: dict[str, pd.DataFrame]) -> None:
    states = baseline_run["states"]
    chn, usa = states[states["actor"] == "CHN"], states[states["actor"] == "USA"]
    for column in ("alignment", "security_alignment", "economic_alignment"):
        assert (chn[column] == -1.0).all() and (usa[column] == 1.0).all(), column
    assert chn["lockin"].nunique() == 1 and usa["lockin"].nunique() == 1


def test_same_seed_same_agent_trajectory_for_every_role() -> None:
    _, a = run_model(short_params(), CONTRACT_SEED)
    _, b = run_model(short_params(), CONTRACT_SEED)
    for code in set(ROLES.values()):
        for ra, rb in zip(a, b, strict=True):
            for name in (*SCALAR_FIELDS, *DYAD_FIELDS):
                np.testing.assert_array_equal(getattr(ra[code][0], name), getattr(rb[code][0], name))


def test_model_stops_after_its_last_turn() -> None:
    model = AlignmentModel(compose_params(["run.start_year=2020", "run.end_year=2020"]), 3)
    steps = 0
    while model.running:
        model.step()
        steps += 1
    assert model.turn == model.n_turns - 1 == 3
    assert steps == 3  # the step into the last turn ends the run
    model.step()  # a step after the end changes nothing
    assert model.turn == 3 and not model.running


# ----------------------------------------------------------------------------------------------
# Determinism
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def short_runs() -> dict[str, dict[str, pd.DataFrame]]:
    params = compose_params(["run.end_year=2014"])
    return {"a": simulate(params, 5), "b": simulate(params, 5), "other": simulate(params, 6)}


def test_same_params_and_seed_give_identical_tables(short_runs: dict[str, dict[str, pd.DataFrame]]) -> None:
    assert set(short_runs["a"]) == {"states", "dyads", "actions", "outcomes"}
    for name in short_runs["a"]:
        pd.testing.assert_frame_equal(short_runs["a"][name], short_runs["b"][name], check_exact=True)


def test_different_seeds_give_different_tables(short_runs: dict[str, dict[str, pd.DataFrame]]) -> None:
    a, other = short_runs["a"], short_runs["other"]
    assert (a["states"]["seed"] == 5).all() and (other["states"]["seed"] == 6).all()
    assert a["states"]["run_id"].iloc[0] != other["states"]["run_id"].iloc[0]
    for name in ("states", "dyads", "outcomes"):
        x, y = without_run_keys(a[name]), without_run_keys(other[name])
        # the same start (turn 0) ...
        pd.testing.assert_frame_equal(x[x["t"] == 0], y[y["t"] == 0])
        # ... and different paths after it
        numeric = x.select_dtypes("float").columns
        later = x["t"] > 0
        assert not np.allclose(x.loc[later, numeric].to_numpy(), y.loc[later, numeric].to_numpy(), equal_nan=True), name


# ----------------------------------------------------------------------------------------------
# Scripted scenarios with expected directions
# ----------------------------------------------------------------------------------------------


def test_baseline_gap_rises_between_2012_and_2024(baseline_run: dict[str, pd.DataFrame]) -> None:
    gap = japan_yearly(baseline_run["outcomes"])
    assert gap[2024] > gap[2012] + 0.1
    for column in ("w1_criticism", "w3_claims_resistance", "w4_military_alignment", "w5_tech_denial"):
        w = japan_yearly(baseline_run["outcomes"], column)
        assert w[2024] > w[2012], column


def test_no_china_coercion_gap_is_lower_in_2024_than_the_baseline(
    baseline_run: dict[str, pd.DataFrame], no_coercion_run: dict[str, pd.DataFrame]
) -> None:
    base = japan_yearly(baseline_run["outcomes"])
    counter = japan_yearly(no_coercion_run["outcomes"])
    assert counter[2024] < base[2024]
    for column in ("w1_criticism", "w3_claims_resistance"):
        assert (
            japan_yearly(no_coercion_run["outcomes"], column)[2024]
            < japan_yearly(baseline_run["outcomes"], column)[2024]
        )

    # and Japan feels less threatened by China
    def threat_2024(run: dict[str, pd.DataFrame]) -> float:
        d = run["dyads"]
        row = d[(d["observer"] == "JPN") & (d["target"] == "CHN") & (d["year"] == 2024) & (d["quarter"] == 1)]
        return float(row["threat"].iloc[0])

    assert threat_2024(no_coercion_run) < threat_2024(baseline_run)


def test_turn_zero_is_identical_across_baseline_and_counterfactual_runs(
    baseline_run: dict[str, pd.DataFrame], no_coercion_run: dict[str, pd.DataFrame]
) -> None:
    for name in ("states", "dyads", "outcomes"):
        a, b = without_run_keys(baseline_run[name]), without_run_keys(no_coercion_run[name])
        pd.testing.assert_frame_equal(a[a["t"] == 0], b[b["t"] == 0], check_exact=True)


@pytest.mark.slow
def test_initial_state_is_the_factual_start_in_every_scenario() -> None:
    reference = AlignmentModel(compose_params(["scenario=baseline"]), 1)
    assert len(SCENARIOS) >= 7
    for seed, scenario in enumerate(SCENARIOS, start=2):  # the seed does not enter the start either
        model = AlignmentModel(compose_params([f"scenario={scenario}"]), seed)
        for name, value in vars(reference.snapshot).items():
            np.testing.assert_array_equal(getattr(model.snapshot, name), value, err_msg=f"{scenario}: {name}")
        for a, b in zip(model.actors, reference.actors, strict=True):
            for name, value in vars(b.anchors).items():
                np.testing.assert_array_equal(getattr(a.anchors, name), value, err_msg=f"{scenario}: {name}")


@pytest.mark.slow
def test_knob_from_year_leaves_every_earlier_turn_unchanged(baseline_run: dict[str, pd.DataFrame]) -> None:
    restraint = simulate(compose_params(["scenario=china_restraint_from_2025"]), GOLDEN_SEED)
    for name in ("states", "dyads", "actions", "outcomes"):
        a, b = without_run_keys(baseline_run[name]), without_run_keys(restraint[name])
        pd.testing.assert_frame_equal(
            a[a["year"] < 2025].reset_index(drop=True), b[b["year"] < 2025].reset_index(drop=True), check_exact=True
        )
    actions = restraint["actions"]
    coercion = actions[actions["kind"] == "coercion"]
    assert coercion["year"].max() == 2024
    assert (baseline_run["actions"].query("kind == 'coercion'")["year"] >= 2025).any()


# ----------------------------------------------------------------------------------------------
# Limits: no driver, no drift from that driver
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nk_off_from_2015() -> dict[str, pd.DataFrame]:
    return simulate(
        compose_params(
            ["drivers.nk_provocation.scale=0", "drivers.nk_provocation.from_year=2015", "run.end_year=2023"]
        ),
        GOLDEN_SEED,
    )


@pytest.fixture(scope="module")
def russia_off() -> dict[str, pd.DataFrame]:
    return simulate(compose_params(["scenario=no_russia_war", "run.end_year=2023"]), GOLDEN_SEED)


def _kind(run: dict[str, pd.DataFrame], kind: str) -> pd.DataFrame:
    actions = run["actions"]
    return actions[actions["kind"] == kind]


def test_no_provocation_after_from_year_without_north_korea(nk_off_from_2015: dict[str, pd.DataFrame]) -> None:
    provocation = _kind(nk_off_from_2015, "provocation")
    assert not provocation.empty
    assert provocation["year"].max() == 2014  # launches in 2012-2014, none from 2015
    assert set(provocation["actor"]) == {"PRK"}
    assert not _kind(nk_off_from_2015, "war").empty  # the other drivers are untouched


def test_no_war_without_russia(russia_off: dict[str, pd.DataFrame], baseline_run: dict[str, pd.DataFrame]) -> None:
    assert _kind(russia_off, "war").empty
    war = _kind(baseline_run, "war")
    assert set(war["actor"]) == {"RUS"} and war["year"].min() == 2022 and set(war["target"]) == {"UKR"}
    assert not _kind(russia_off, "provocation").empty and not _kind(russia_off, "coercion").empty


def test_no_coercion_without_china_coercion_dated_events_included(
    no_coercion_run: dict[str, pd.DataFrame], baseline_run: dict[str, pd.DataFrame]
) -> None:
    assert _kind(no_coercion_run, "coercion").empty
    base = _kind(baseline_run, "coercion")
    assert set(base["actor"]) == {"CHN"}
    # the baseline's dated events are in the baseline's log: the 2013Q4 ADIZ shock on top of the Senkaku index
    adiz = base[(base["year"] == 2013) & (base["quarter"] == 4) & (base["target"] == "JPN")]["intensity"]
    before = base[(base["year"] == 2013) & (base["quarter"] == 3) & (base["target"] == "JPN")]["intensity"]
    assert float(adiz.iloc[0]) > float(before.iloc[0]) + 0.3
    assert not _kind(no_coercion_run, "provocation").empty and not _kind(no_coercion_run, "war").empty


def _same_before(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame], year: int) -> None:
    for name in ("states", "dyads", "actions", "outcomes"):
        x, y = without_run_keys(a[name]), without_run_keys(b[name])
        pd.testing.assert_frame_equal(
            x[x["year"] < year].reset_index(drop=True), y[y["year"] < year].reset_index(drop=True), check_exact=True
        )


def _japan_intent(run: dict[str, pd.DataFrame], target: str, year: int) -> float:
    d = run["dyads"]
    rows = d[(d["observer"] == "JPN") & (d["target"] == target) & (d["year"] == year)]
    return float(rows["intent"].mean())


def test_switching_off_a_driver_changes_nothing_before_it_acts(
    russia_off: dict[str, pd.DataFrame],
    nk_off_from_2015: dict[str, pd.DataFrame],
    baseline_run: dict[str, pd.DataFrame],
) -> None:
    """Common random numbers: a counterfactual departs from the baseline only where its driver would act."""
    _same_before(russia_off, baseline_run, 2022)  # Russia's war is 0 before 2022Q1 in the data
    assert _japan_intent(russia_off, "RUS", 2023) < _japan_intent(baseline_run, "RUS", 2023)
    _same_before(nk_off_from_2015, baseline_run, 2015)  # the knob acts from 2015
    assert _japan_intent(nk_off_from_2015, "PRK", 2016) < _japan_intent(baseline_run, "PRK", 2016)


@pytest.fixture(scope="module")
def all_off_runs() -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    params = compose_params([*ALL_DRIVERS_OFF, *NO_NOISE, "run.end_year=2016"])
    return simulate(params, 1), simulate(params, 2)


def test_all_drivers_off_and_no_noise(
    all_off_runs: tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]], baseline_run: dict[str, pd.DataFrame]
) -> None:
    a, b = all_off_runs
    # without noise the seed does not matter: every table is the same, number for number
    for name in a:
        pd.testing.assert_frame_equal(without_run_keys(a[name]), without_run_keys(b[name]), check_exact=True)
    # no driver, no act of that driver, dated events included
    kinds = set(a["actions"]["kind"])
    assert not kinds & {"coercion", "provocation", "war"}
    # no domestic trend: Japan's normalisation index stays exactly 0
    states = a["states"]
    assert (states["domestic_trend"] == 0.0).all()
    # and the run departs from the factual start of the baseline
    for name in ("states", "dyads", "outcomes"):
        x, y = without_run_keys(a[name]), without_run_keys(baseline_run[name])
        pd.testing.assert_frame_equal(x[x["t"] == 0], y[y["t"] == 0], check_exact=True)


def test_trend_only_from_the_domestic_driver(baseline_params: Params, baseline_run: dict[str, pd.DataFrame]) -> None:
    states = baseline_run["states"]
    jpn = states[states["actor"] == "JPN"].sort_values("t")
    per_quarter = baseline_params.params.policy.japan_trend_per_year / 4
    np.testing.assert_allclose(jpn["domestic_trend"].to_numpy(), per_quarter * jpn["t"].to_numpy(), rtol=1e-12, atol=0)
    assert (states.loc[states["actor"] != "JPN", "domestic_trend"] == 0.0).all()


def test_state_stays_in_bounds_for_extreme_valid_parameters() -> None:
    params = compose_params(
        ["params.lockin.build_per_quarter=1.0", "params.lockin.basing_offer=5", "run.end_year=2016"]
    )
    states = simulate(params, 1)["states"]
    assert states["lockin"].between(0.0, 1.0).all()
    for column in ("alignment", "security_alignment", "economic_alignment"):
        assert states[column].between(-1.0, 1.0).all(), column


# ----------------------------------------------------------------------------------------------
# Golden run
# ----------------------------------------------------------------------------------------------


def golden_frame(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Japan's W1..W5 and the gap at Q1 of each year, rounded to 1e-9."""
    q1 = outcomes[outcomes["quarter"] == 1].sort_values("year")
    frame = q1[GOLDEN_COLUMNS].reset_index(drop=True)
    frame[GOLDEN_COLUMNS[1:]] = frame[GOLDEN_COLUMNS[1:]].round(9)
    return frame


def write_golden() -> Path:
    """Run the baseline with seed 7 and write the golden file."""
    tables = simulate(compose_params([]), GOLDEN_SEED)
    GOLDEN_FILE.parent.mkdir(parents=True, exist_ok=True)
    golden_frame(tables["outcomes"]).to_csv(GOLDEN_FILE, index=False, float_format="%.9f")
    return GOLDEN_FILE


def test_golden_baseline_seed7(baseline_run: dict[str, pd.DataFrame]) -> None:
    assert GOLDEN_FILE.is_file(), f"missing {GOLDEN_FILE}: REGENERATE_GOLDEN=1 .venv/bin/python tests/test_model.py"
    expected = pd.read_csv(GOLDEN_FILE)
    actual = golden_frame(baseline_run["outcomes"])
    assert list(expected.columns) == GOLDEN_COLUMNS
    assert expected["year"].tolist() == list(range(2010, 2031))
    pd.testing.assert_frame_equal(actual, expected, check_exact=False, rtol=0, atol=1e-9, check_dtype=False)


def test_golden_frame_values_are_in_unit_interval() -> None:
    expected = pd.read_csv(GOLDEN_FILE)
    values = expected[GOLDEN_COLUMNS[1:]].to_numpy()
    assert np.all((values >= 0) & (values <= 1))


def test_every_logged_kind_is_known(baseline_run: dict[str, pd.DataFrame]) -> None:
    # at the calibrated point no stance of criticism passes the action threshold (W1 stays below it)
    assert set(baseline_run["actions"]["kind"]) <= ACTION_KINDS
    at_defaults = simulate(compose_params(["params=default"]), GOLDEN_SEED)
    assert set(at_defaults["actions"]["kind"]) == ACTION_KINDS  # the documented defaults produce all eight kinds


if __name__ == "__main__":
    if os.environ.get("REGENERATE_GOLDEN") == "1":
        print(f"wrote {write_golden()}")
    else:
        sys.exit("set REGENERATE_GOLDEN=1 to rewrite the golden file: REGENERATE_GOLDEN=1 python tests/test_model.py")
