"""Finite by construction: a run that produces a non-finite state value stops, naming it.

Parameters are validated at the config boundary, but some in-range combinations can still make
the dynamics overflow (a fast spending adjustment with a strong threat response, say). Rather
than write NaN into the tables and exit 0, both engines check every state variable as each turn
is recorded (:class:`sim.records.Recorder`) and raise :class:`NonFiniteError`, naming the actor,
the quarter and the variable; the command line turns it into exit code 2 with nothing marked
complete.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np

from sim.turn import State

# Variables that may be +inf by design: a spending ceiling of +inf means no ceiling.
MAY_BE_INFINITE = frozenset({"ceiling"})


class NonFiniteError(ValueError):
    """A run produced NaN or an infinity: its parameters are outside what the model can run."""


def check_finite(state: State, codes: tuple[str, ...], year: int, quarter: int) -> None:
    """Raise :class:`NonFiniteError` if any state variable of any run is NaN or infinite.

    Parameters
    ----------
    state : State
        The state of R runs after a turn: (R, N) actor variables, (R, N, N) pair variables.
    codes : tuple of str
        Actor codes, in state order.
    year, quarter : int
        The turn's date, for the message.
    """
    for item in fields(state):
        values = np.asarray(getattr(state, item.name))
        bad = np.isnan(values) if item.name in MAY_BE_INFINITE else ~np.isfinite(values)
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            run, actors = where[0], [codes[i] for i in where[1:]]
            who = actors[0] if len(actors) == 1 else f"{actors[0]} toward {actors[1]}"
            raise NonFiniteError(
                f"the run produced {item.name}={values[where]} for {who} in {year}Q{quarter} (run {run} of the batch, "
                f"{int(bad.sum())} value(s) non-finite); allowed: finite values. The parameters are in their ranges "
                "but this combination makes the dynamics diverge: lower the fastest rates (e.g. "
                "params.spending.adjustment_per_quarter, params.spending.threat_response)"
            )
