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
from dataclasses import dataclass

import mesa
import numpy as np
import pandas as pd

from sim.agents import StateAgent
from sim.drivers import TurnDrivers, driver_levels
from sim.initial import initial_conditions
from sim.inputs import build_inputs
from sim.outcomes import outcomes_table
from sim.params import Params, params_digest
from sim.records import Trajectory, actions_table, dyads_table, states_table
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

    def trajectory(self, run_id: str) -> Trajectory:
        """The recorded run as arrays (from the DataCollector's agent records)."""
        records = self.datacollector.get_agent_vars_dataframe()
        order = {agent.unique_id: agent.index for agent in self.actors}
        states: list[State] = []
        actions: list[Actions | None] = []
        for _, frame in records.groupby(level="Step", sort=True):
            rows = sorted(frame.itertuples(), key=lambda row: order[row.Index[1]])
            states.append(stack([row.state for row in rows]))  # type: ignore[arg-type]
            acts = [row.actions for row in rows]
            actions.append(None if acts[0] is None else stack(acts))  # type: ignore[arg-type]
        return Trajectory.from_steps(
            states,
            actions,
            run_ids=(run_id,),
            seeds=(self.seed,),
            codes=self.inputs.codes,
            us_pole=self.params.actors.us_pole,
            year=self.inputs.year,
            quarter=self.inputs.quarter,
        )


@dataclass(frozen=True)
class RunResult:
    """The result tables of one run (or of several runs stacked by ``run_id``)."""

    states: pd.DataFrame
    dyads: pd.DataFrame
    actions: pd.DataFrame
    outcomes: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by name, as written to the run folder."""
        return {"states": self.states, "dyads": self.dyads, "actions": self.actions, "outcomes": self.outcomes}


def run_id_for(params: Params, seed: int) -> str:
    """A readable, unique id of a run: scenario, seed and a digest of the parameters."""
    return f"{params.scenario.name}-s{seed}-{params_digest(params)[:10]}"


def tables_from_trajectory(traj: Trajectory, params: Params) -> RunResult:
    """The result tables of a recorded trajectory (shared by both engines)."""
    states = states_table(traj)
    dyads = dyads_table(traj)
    return RunResult(
        states=states,
        dyads=dyads,
        actions=actions_table(traj, params.params.outcome.action_log_threshold),
        outcomes=outcomes_table(states, dyads, params),
    )


def simulate(params: Params, seed: int) -> RunResult:
    """Run the Mesa model once with ``params`` and ``seed``; return its result tables."""
    model = AlignmentModel(params, seed)
    while model.running:
        model.step()
    return tables_from_trajectory(model.trajectory(run_id_for(params, seed)), params)
