"""The Mesa agents: one :class:`StateAgent` per state, its role given by the config.

An agent owns its state variables (security and economic alignment, spending, capability, lock-in, and its rows of
perceived intent, threat and stances toward every other actor). Each turn it decides, perceives
and responds from the model's snapshot of last turn, through the shared phase functions of
``sim/turn.py`` applied to its own row; the maths they call is in ``sim/dynamics.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim import dynamics, turn
from sim.turn import Actions, Anchors, State

if TYPE_CHECKING:
    from sim.model import AlignmentModel


class StateAgent(mesa.Agent):
    """A state in the regional system (ISO-3 ``code``), at position ``index`` of the actor list.

    Roles (China pole, US pole, focal state, provocateur, belligerent, engager) come from the
    ``actors`` config; behaviour differs only through them and the actor's attributes.
    """

    model: AlignmentModel

    def __init__(self, model: AlignmentModel, index: int, code: str, name: str, state: State, anchors: Anchors) -> None:
        super().__init__(model)
        self.index = index
        self.code = code
        self.name = name
        self.rows = slice(index, index + 1)
        self.state = state
        self.anchors = anchors
        self.actions: Actions | None = None
        self._perception: tuple[np.ndarray, np.ndarray] | None = None

    # Reported variables (scalars of this actor; rows toward every target).
    @property
    def alignment(self) -> float:
        """Overall alignment in [-1, 1] (-1 with China, +1 with the US): security and economic, weighted (eq. 19f)."""
        weight = self.model.params.params.alignment.economic_weight
        return float(dynamics.overall_alignment(self.security_alignment, self.economic_alignment, weight))

    @property
    def security_alignment(self) -> float:
        """Security alignment in [-1, 1] (eq. 19)."""
        return float(self.state.alignment[0, 0])

    @property
    def economic_alignment(self) -> float:
        """Economic alignment in [-1, 1] (eq. 19e)."""
        return float(self.state.economic_alignment[0, 0])

    @property
    def spending_share_gdp(self) -> float:
        """Defence spending, % of GDP."""
        return float(self.state.spending[0, 0])

    @property
    def capability(self) -> float:
        """Military capability stock, USD bn (constant 2023)."""
        return float(self.state.capability[0, 0])

    @property
    def lockin(self) -> float:
        """Alliance lock-in with the US in [0, 1]."""
        return float(self.state.lockin[0, 0])

    def decide(self) -> None:
        """Choose this turn's actions from the model's snapshot of last turn."""
        m = self.model
        self.actions = turn.decide(m.snapshot, self.rows, m.inputs, m.params.params, m.turn, m.drivers, m.turn_noise)

    def perceive(self) -> None:
        """Update perceived intent and threat from everyone's actions this turn."""
        m = self.model
        assert m.actions is not None, "the model gathers actions before agents perceive"
        self._perception = turn.perceive(
            m.snapshot, m.actions, self.rows, m.inputs, m.params.params, m.turn, m.turn_noise
        )

    def respond(self) -> None:
        """Update alignment, spending, capability, lock-in and stances."""
        m = self.model
        assert self._perception is not None, "perceive() must run before respond()"
        assert m.actions is not None
        intent, threat = self._perception
        self.state = turn.respond(
            m.snapshot, self.anchors, m.actions, intent, threat, self.rows, m.inputs, m.params.params, m.turn, m.drivers
        )
        self._perception = None
