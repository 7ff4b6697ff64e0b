"""sim/turn.py: the phases of a turn give the same rows whether computed one actor at a time (the
Mesa agents) or for all actors and runs at once (the ensemble), and respect the roles."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest
from helpers import compose_params

from sim.drivers.levels import TurnDrivers, driver_levels
from sim.inputs import build_inputs
from sim.model import AlignmentModel
from sim.params import ModelParams, Params, with_values
from sim.turn import (
    ALL,
    N_NOISE,
    Actions,
    Anchors,
    Relations,
    State,
    advance,
    decide,
    economic_alignment_target,
    perceive,
    respond,
    stack,
    take,
)

SEED = 13
TURN_STEPS = 20  # a mid-run snapshot (2015Q1) with non-trivial perceptions and events


@pytest.fixture(scope="module")
def mid_run() -> AlignmentModel:
    model = AlignmentModel(compose_params(["run.end_year=2016"]), SEED)
    for _ in range(TURN_STEPS):
        model.step()
    return model


def _assert_same(a: State | Actions, b: State | Actions) -> None:
    for f in fields(a):
        np.testing.assert_allclose(getattr(a, f.name), getattr(b, f.name), rtol=1e-13, atol=1e-15, err_msg=f.name)


def next_turn(m: AlignmentModel) -> tuple[State, Anchors, int, TurnDrivers]:
    """The model's snapshot, the anchors, the next turn and its driver levels, for phases called by hand."""
    snapshot = stack([a.state for a in m.actors])
    anchors = stack([a.anchors for a in m.actors])  # type: ignore[list-item]
    assert isinstance(snapshot, State) and isinstance(anchors, Anchors)
    turn = m.turn + 1
    return snapshot, anchors, turn, driver_levels(m.inputs, m.params.params.policy, turn, snapshot.alignment)


def test_take_and_stack_are_inverse(mid_run: AlignmentModel) -> None:
    snapshot = stack([a.state for a in mid_run.actors])
    n = mid_run.inputs.n_actors
    blocks = [take(snapshot, slice(i, i + 1)) for i in range(n)]
    _assert_same(stack(blocks), snapshot)  # type: ignore[arg-type]
    assert take(snapshot, slice(2, 5)).intent.shape == (1, 3, n)  # type: ignore[union-attr]


def test_phases_row_by_row_equal_all_rows(mid_run: AlignmentModel) -> None:
    m = mid_run
    snapshot, anchors, turn, drivers = next_turn(m)
    params, inputs = m.params.params, m.inputs
    noise = m.noise[turn][None]
    n = inputs.n_actors
    rows = [slice(i, i + 1) for i in range(n)]

    everyone = decide(snapshot, ALL, inputs, params, turn, drivers, noise)
    _assert_same(stack([decide(snapshot, r, inputs, params, turn, drivers, noise) for r in rows]), everyone)

    intent, threat = perceive(snapshot, everyone, ALL, inputs, params, turn, noise)
    per_row = [perceive(snapshot, everyone, r, inputs, params, turn, noise) for r in rows]
    np.testing.assert_allclose(np.concatenate([p[0] for p in per_row], axis=1), intent, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(np.concatenate([p[1] for p in per_row], axis=1), threat, rtol=1e-13, atol=1e-15)

    new = respond(snapshot, anchors, everyone, intent, threat, ALL, inputs, params, turn, drivers)  # type: ignore[arg-type]
    new_rows = [
        respond(snapshot, take(anchors, r), everyone, intent[:, r], threat[:, r], r, inputs, params, turn, drivers)  # type: ignore[arg-type]
        for r in rows
    ]
    _assert_same(stack(new_rows), new)  # type: ignore[arg-type]
    # and advance() is these three phases
    advanced, actions, _ = advance(snapshot, anchors, inputs, params, turn, noise)  # type: ignore[arg-type]
    _assert_same(advanced, new)
    _assert_same(actions, everyone)


def test_runs_of_a_batch_are_independent(mid_run: AlignmentModel) -> None:
    """Two runs advanced together give what each gives alone (no leak across the run axis)."""
    m = mid_run
    snapshot = stack([a.state for a in m.actors])
    anchors = stack([a.anchors for a in m.actors])  # type: ignore[list-item]
    assert isinstance(snapshot, State)
    turn = m.turn + 1
    rng = np.random.default_rng(77)
    other_noise = rng.standard_normal((1, m.inputs.n_actors, N_NOISE))
    noise = np.concatenate([m.noise[turn][None], other_noise])

    def rep(block):  # type: ignore[no-untyped-def]
        return type(block)(**{f.name: np.repeat(getattr(block, f.name), 2, axis=0) for f in fields(block)})

    both, _, _ = advance(rep(snapshot), rep(anchors), m.inputs, m.params.params, turn, noise)
    for r, run_noise in enumerate((m.noise[turn][None], other_noise)):
        alone, _, _ = advance(snapshot, anchors, m.inputs, m.params.params, turn, run_noise)  # type: ignore[arg-type]
        for f in fields(alone):
            np.testing.assert_allclose(getattr(both, f.name)[r], getattr(alone, f.name)[0], rtol=1e-13, atol=1e-15)


def test_decisions_respect_roles_and_noise(mid_run: AlignmentModel) -> None:
    m = mid_run
    snapshot = stack([a.state for a in m.actors])
    assert isinstance(snapshot, State)
    inputs, params = m.inputs, m.params.params
    turn = m.turn + 1
    drivers = driver_levels(inputs, params.policy, turn, snapshot.alignment)
    quiet = decide(snapshot, ALL, inputs, params, turn, drivers, None)
    # without noise, China's coercion is the driver level times the dispute weight (plus dated events)
    n = inputs.n_actors
    extra = np.zeros((n, n)) if drivers.event_coercion is None else drivers.event_coercion[0]
    np.testing.assert_allclose(
        quiet.coercion[0, inputs.china], drivers.china_coercion[0] * inputs.dispute[inputs.china] + extra[inputs.china]
    )
    others = np.delete(quiet.coercion[0], inputs.china, axis=0)
    np.testing.assert_array_equal(others, np.delete(extra, inputs.china, axis=0))
    for kind in ("coercion", "criticism", "engagement", "derisking"):
        np.testing.assert_array_equal(np.diagonal(getattr(quiet, kind)[0]), 0.0, err_msg=kind)
    assert quiet.provocation[0, inputs.provocateur] == pytest.approx(float(drivers.nk_provocation[0, 0]))
    np.testing.assert_array_equal(np.delete(quiet.provocation[0], inputs.provocateur), 0.0)
    np.testing.assert_array_equal(quiet.basing[0, inputs.is_pole], 0.0)
    np.testing.assert_array_equal(quiet.engagement[0, ~inputs.is_engager], 0.0)
    # noise multiplies intensities by a mean-one log-normal factor and never changes the sign
    noisy = decide(snapshot, ALL, inputs, params, turn, drivers, m.noise[turn][None])
    for kind in ("coercion", "criticism", "engagement", "derisking", "provocation"):
        a, b = getattr(quiet, kind), getattr(noisy, kind)
        assert np.array_equal(a > 0, b > 0), kind


def test_phases_given_the_turns_relations_equal_their_own(mid_run: AlignmentModel) -> None:
    """advance() computes the alignment relations once per turn: the phases give exactly what they give alone."""
    m = mid_run
    snapshot = stack([a.state for a in m.actors])
    anchors = stack([a.anchors for a in m.actors])  # type: ignore[list-item]
    assert isinstance(snapshot, State)
    turn, params, inputs, noise = m.turn + 1, m.params.params, m.inputs, m.noise[m.turn + 1][None]
    drivers = driver_levels(inputs, params.policy, turn, snapshot.alignment)
    actions = decide(snapshot, ALL, inputs, params, turn, drivers, noise)
    relations = Relations.of(snapshot.alignment, params)
    for rows in (ALL, slice(3, 4)):
        own = perceive(snapshot, actions, rows, inputs, params, turn, noise)
        shared = perceive(snapshot, actions, rows, inputs, params, turn, noise, relations)
        assert all(np.array_equal(a, b) for a, b in zip(own, shared, strict=True))
        intent, threat = own
        alone = respond(snapshot, take(anchors, rows), actions, intent, threat, rows, inputs, params, turn, drivers)  # type: ignore[arg-type]
        given = respond(
            snapshot,
            take(anchors, rows),
            actions,
            intent,
            threat,
            rows,
            inputs,
            params,
            turn,
            drivers,
            relations,  # type: ignore[arg-type]
        )
        assert all(np.array_equal(getattr(alone, f.name), getattr(given, f.name)) for f in fields(alone))


def test_force_is_attributed_only_to_partners_committed_at_that_turn(mid_run: AlignmentModel) -> None:
    """Eq. 6 reads the commitments of the turn: North Korea's launches reflect on China (1961 treaty)
    in 2024Q1 and 2024Q2, on Russia only from the quarter of the 2024 treaty (2024Q2), never on Japan."""
    m = mid_run
    snapshot = stack([a.state for a in m.actors])
    assert isinstance(snapshot, State)
    codes = list(m.inputs.codes)
    jpn, chn, rus, prk = (codes.index(c) for c in ("JPN", "CHN", "RUS", "PRK"))
    full = compose_params(["run.end_year=2030"])
    inputs = build_inputs(full)
    zero = np.zeros_like(snapshot.alignment)
    zeros_nn = np.zeros_like(snapshot.intent)
    provocation = zero.copy()
    provocation[:, prk] = 1.0
    actions = Actions(zeros_nn, zeros_nn, zeros_nn, zeros_nn, zero, zero, provocation, zero)

    def attributed(turn: int) -> np.ndarray:
        """Japan's intent gained with bloc attribution over without it, about each actor."""
        with_bloc, without = (
            perceive(snapshot, actions, ALL, inputs, with_values_model(full, spillover), turn, None)[0]
            for spillover in (0.5, 0.0)
        )
        return (with_bloc - without)[0, jpn]

    before, signed = attributed(4 * (2024 - 2010)), attributed(4 * (2024 - 2010) + 1)  # 2024Q1, 2024Q2
    assert before[chn] > 0 and signed[chn] > 0
    assert before[rus] == 0 and signed[rus] > 0
    assert before[jpn] == signed[jpn] == 0 and before[prk] == signed[prk] == 0


def with_values_model(params: Params, spillover: float) -> ModelParams:
    """The model parameters of ``params`` with ``perception.bloc_spillover`` set."""
    return with_values(params, {"params.perception.bloc_spillover": spillover}).params


def test_economic_alignment_closes_its_gap_at_rho_x_whatever_the_lockin(mid_run: AlignmentModel) -> None:
    """Eq. 19e: y' = y + rho_x (y* - y), the security alignment's rate without lock-in's slowing."""
    m = mid_run
    snapshot, anchors, turn, drivers = next_turn(m)
    params, inputs = m.params.params, m.inputs
    actions = decide(snapshot, ALL, inputs, params, turn, drivers, None)
    intent, threat = perceive(snapshot, actions, ALL, inputs, params, turn, None)
    rate = params.alignment.adjustment_per_quarter
    target = economic_alignment_target(snapshot, ALL, inputs, params, turn)
    expected = snapshot.economic_alignment + rate * (target - snapshot.economic_alignment)
    for lockin in (0.0, 1.0):
        locked = State(**{**vars(snapshot), "lockin": np.full_like(snapshot.lockin, lockin)})
        new = respond(locked, anchors, actions, intent, threat, ALL, inputs, params, turn, drivers)
        np.testing.assert_allclose(new.economic_alignment, expected, rtol=0, atol=1e-14, err_msg=f"lockin {lockin}")
    # the target moved (GDP growth, de-risking): the test exercises a real step, and the poles hold
    assert np.abs(target - snapshot.economic_alignment)[0, ~inputs.is_pole].max() > 1e-4
    np.testing.assert_array_equal(target[0, inputs.is_pole], snapshot.alignment[0, inputs.is_pole])
