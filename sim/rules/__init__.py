"""Alignment rules: rival theories of how a state's security environment moves its alignment.

Each rule is a pure, typed, batch-agnostic function of arrays (its own module) returning the
*strategic drive*: the part of the target-alignment logit (ODD eq. 19) that the theories dispute.
The terms they do not dispute (economic hedging, alliance lock-in, Japan's domestic trend) are
added by ``sim/turn.py`` for every rule, and the start is made a rest point of the whole drive
(``sim/initial.py``), so a rule moves alignments only through changes in what it reads.

``params.alignment_rule`` (the ``alignment_rule`` config group) chooses the rule:

``balance_of_threat``
    Walt (1987): balance against the side that threatens most; weak, exposed states bandwagon.
``landscape``
    Axelrod and Bennett (1993): move toward the side that lowers the state's frustration.
``balance_of_power``
    Waltz (1979): lean against the side with more aggregate capability, whatever its intent.

:func:`strategic_drive` gathers from the model's state what each rule reads (a
:class:`Situation`) and calls it; it serves both engines and the initial rest point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.params import ALIGNMENT_RULES, ModelParams
from sim.rules import balance_of_power, balance_of_threat, landscape

if TYPE_CHECKING:
    from sim.inputs import RunInputs
    from sim.turn import State


@dataclass(frozen=True)
class Situation:
    """What the actors in ``rows`` face when they respond (shapes as in ``sim/turn.py``).

    ``own`` and ``snapshot`` are last turn's state (of ``rows``, of everyone); ``threat`` is the
    responders' threat perception of this turn, ``china_bloc`` and ``us_bloc`` its bloc sums
    (eq. 10); ``turn`` indexes the exogenous series (GDP).
    """

    rows: np.ndarray  # (n,) actor indices of the responders
    own: State
    snapshot: State
    threat: np.ndarray  # (R, n, N)
    china_bloc: np.ndarray  # (R, n)
    us_bloc: np.ndarray  # (R, n)
    inputs: RunInputs
    turn: int


Rule = Callable[[Situation, ModelParams], np.ndarray]

RULES: dict[str, Rule] = {
    "balance_of_threat": balance_of_threat.strategic_drive,
    "landscape": landscape.strategic_drive,
    "balance_of_power": balance_of_power.strategic_drive,
}
assert tuple(RULES) == ALIGNMENT_RULES, "every rule named in sim/params.py has a function here"


def strategic_drive(situation: Situation, params: ModelParams) -> np.ndarray:
    """The strategic drive (R, n) of the responders under ``params.alignment_rule``."""
    return RULES[params.alignment_rule](situation, params)
