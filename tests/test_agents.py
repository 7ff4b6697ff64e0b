"""sim/agents.py: one StateAgent class whose decide/perceive/respond compute the agent's own row
of the shared turn phases, from the model's snapshot of last turn (simultaneous moves)."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest
from helpers import compose_params

from sim.agents import StateAgent
from sim.model import AlignmentModel
from sim.turn import State, advance, stack


@pytest.fixture(scope="module")
def model() -> AlignmentModel:
    return AlignmentModel(compose_params(["run.start_year=2021", "run.end_year=2023"]), 21)


def test_one_agent_per_actor_in_config_order(model: AlignmentModel) -> None:
    assert [a.code for a in model.actors] == list(model.params.actors.codes)
    assert all(type(a) is StateAgent for a in model.actors)
    assert [a.index for a in model.actors] == list(range(model.inputs.n_actors))
    assert len(model.agents) == model.inputs.n_actors
    names = {a.code: a.name for a in model.actors}
    assert names["JPN"] == "Japan" and names["PRK"] == "North Korea"


def test_a_step_of_the_agents_is_one_advance_of_the_whole_state(model: AlignmentModel) -> None:
    for _ in range(3):
        snapshot = stack([a.state for a in model.actors])
        anchors = stack([a.anchors for a in model.actors])  # type: ignore[list-item]
        assert isinstance(snapshot, State)
        turn = model.turn + 1
        expected, actions, _ = advance(
            snapshot,
            anchors,  # type: ignore[arg-type]
            model.inputs,
            model.params.params,
            turn,
            model.noise[turn][None],
        )
        model.step()
        assert model.turn == turn
        for agent in model.actors:
            for f in fields(State):
                np.testing.assert_allclose(
                    getattr(agent.state, f.name)[0, 0],
                    getattr(expected, f.name)[0, agent.index],
                    rtol=1e-13,
                    atol=1e-15,
                    err_msg=f"{agent.code}.{f.name}",
                )
            assert agent.actions is not None
            np.testing.assert_allclose(agent.actions.coercion[0, 0], actions.coercion[0, agent.index])


def test_respond_before_perceive_is_refused(model: AlignmentModel) -> None:
    agent = model.actors[1]
    with pytest.raises(AssertionError, match="perceive"):
        agent.respond()
