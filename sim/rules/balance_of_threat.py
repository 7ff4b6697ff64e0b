"""Balance of threat (Walt 1987): the model's original alignment rule (ODD eqs. 10, 17, 19).

A state balances against the side whose threat is larger; a state vulnerable to the China pole
(near, weak, without US protection) bandwagons with it instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim import dynamics
from sim.params import ModelParams

if TYPE_CHECKING:
    from sim.rules import Situation


def drive(
    china_side: dynamics.ArrayLike, us_side: dynamics.ArrayLike, bandwagon: dynamics.ArrayLike, gain: float
) -> dynamics.Array:
    """Balancing or bandwagoning drive (eq. 19): ``beta_b ((1 - 2 bw_i) Theta^C_i - Theta^U_i)``.

    Positive toward the US pole. With ``bw = 0`` a state moves away from the more threatening
    side; with ``bw = 1`` China-side threat pulls it toward China.
    """
    return np.asarray(gain * ((1.0 - 2.0 * np.asarray(bandwagon)) * np.asarray(china_side) - np.asarray(us_side)))


def strategic_drive(situation: Situation, params: ModelParams) -> np.ndarray:
    """The rule applied to the model's state: bloc threats and the bandwagoning weight (eq. 17)."""
    al, inputs, own, snapshot = params.alignment, situation.inputs, situation.own, situation.snapshot
    vuln = dynamics.vulnerability(
        inputs.threat_proximity[situation.rows, inputs.china],
        own.capability,
        snapshot.capability[:, inputs.china, None],
        own.lockin,
        snapshot.capability[:, inputs.us, None],
    )
    bandwagon = dynamics.bandwagon_weight(vuln, al.bandwagon_threshold, al.bandwagon_width)
    return drive(situation.china_bloc, situation.us_bloc, bandwagon, al.balancing_gain)
