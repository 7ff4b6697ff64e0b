"""The Mesa model: clock, seed, dated events, simultaneous turns, data collection.

:func:`simulate` is the plain entry point that the CLI, the tests and the experiments call:
validated :class:`~sim.params.Params` and a seed in, result tables out.

A turn (ODD section 3): (1) the drivers and scheduled events of the quarter are set; (2) every
agent decides from the same snapshot of last turn (simultaneous moves, no order artefacts);
(3) the actions are gathered; (4) every agent updates its perceptions; (5) every agent
responds; (6) the DataCollector records.
"""

from __future__ import annotations

import logging

import mesa
import numpy as np
import pandas as pd

from sim import drivers as registry
from sim.agents import StateAgent
from sim.drivers.levels import TurnDrivers, driver_levels
from sim.initial import initial_conditions
from sim.inputs import build_inputs
from sim.params import Params
from sim.records import Recorder, Trajectory, run_id_for, tables
from sim.turn import N_NOISE, Actions, State, stack, take

# Mesa logs a line per step at INFO; a run of 84 quarters does not need them.
logging.getLogger("MESA").setLevel(logging.WARNING)


class AlignmentModel(mesa.Model):
    """Regional strategic alignment in East Asia, one quarter per step.

    Parameters
    ----------
    params : Params
        Validated parameters (actors, drivers, scenario, behaviour).
    seed : int
        Seed of the model's random generator; it drives every random draw of the run.
    """

    def __init__(self, params: Params, seed: int) -> None:
        super().__init__(rng=seed)
        self.params = params
        self.seed = seed
        self.inputs = build_inputs(params)
        # All of the run's randomness in one draw: the same seed gives the same numbers in
        # every engine (sim/ensemble.py draws identically).
        self.noise = self.rng.standard_normal((self.inputs.n_turns, self.inputs.n_actors, N_NOISE))
        if registry.noisy():  # each noisy driver's own stream, appended (sim/drivers/spec.py)
            own = registry.driver_noise(seed, self.inputs.n_turns, self.inputs.n_actors)
            self.noise = np.concatenate([self.noise, own], axis=-1)
        state, anchors = initial_conditions(params)
        self.actors: list[StateAgent] = []
        for index, (code, name) in enumerate(zip(self.inputs.codes, self.inputs.names, strict=True)):
            rows = slice(index, index + 1)
            block, anchor = take(state, rows), take(anchors, rows)
            assert isinstance(block, State) and isinstance(anchor, type(anchors))
            self.actors.append(StateAgent(self, index, code, name, block, anchor))
        self.turn = 0
        self.snapshot: State = state
        self.drivers: TurnDrivers = driver_levels(self.inputs, params.params.policy, 0, state.alignment)
        self.actions: Actions | None = None
        self.turn_noise: np.ndarray = self.noise[:1]
        self.datacollector = mesa.DataCollector(
            model_reporters={"turn": "turn"},
            agent_reporters={
                "alignment": "alignment",
                "security_alignment": "security_alignment",
                "economic_alignment": "economic_alignment",
                "spending_share_gdp": "spending_share_gdp",
                "capability": "capability",
                "lockin": "lockin",
                "state": "state",
                "actions": "actions",
            },
        )
        self.datacollector.collect(self)

    @property
    def n_turns(self) -> int:
        """Number of quarters in the run, the initial one included."""
        return self.inputs.n_turns

    def step(self) -> None:
        """Advance one quarter."""
        if self.turn >= self.n_turns - 1:
            self.running = False
            return
        self.turn += 1
        snapshot = stack([agent.state for agent in self.actors])
        assert isinstance(snapshot, State)
        self.snapshot = snapshot
        self.drivers = driver_levels(self.inputs, self.params.params.policy, self.turn, self.snapshot.alignment)
        self.turn_noise = self.noise[self.turn][None]
        self.agents.do("decide")
        gathered = stack([agent.actions for agent in self.actors if agent.actions is not None])
        assert isinstance(gathered, Actions)
        self.actions = gathered
        self.agents.do("perceive")
        self.agents.do("respond")
        self.datacollector.collect(self)
        if self.turn >= self.n_turns - 1:
            self.running = False

    def trajectory(self, run_id: str, *, keep_dyads: bool = True, keep_actions: bool = True) -> Trajectory:
        """The recorded run as arrays, from the DataCollector's agent records."""
        records = self.datacollector.get_agent_vars_dataframe()
        order = {agent.unique_id: agent.index for agent in self.actors}
        recorder = Recorder(self.inputs, self.params.params, keep_dyads=keep_dyads, keep_actions=keep_actions)
        for _, frame in records.groupby(level="Step", sort=True):
            rows = sorted(frame.itertuples(), key=lambda row: order[row.Index[1]])
            state = stack([row.state for row in rows])
            acts = [row.actions for row in rows]
            actions = None if acts[0] is None else stack(acts)
            assert isinstance(state, State) and (actions is None or isinstance(actions, Actions))
            recorder.record(state, actions)
        return recorder.trajectory((run_id,), (self.seed,), self.params.actors.us_pole)


def simulate(params: Params, seed: int) -> dict[str, pd.DataFrame]:
    """Run the Mesa model once with ``params`` and ``seed``; return its result tables by name.

    The tables are ``states``, ``dyads``, ``actions`` and ``outcomes`` (the result contract).
    """
    model = AlignmentModel(params, seed)
    while model.running:
        model.step()
    return tables(model.trajectory(run_id_for(params, seed)), params.params.outcome.action_log_threshold)
