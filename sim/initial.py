"""The initial state: start-year data, a noise-free spin-up, and the equilibrium anchors.

ODD section 5. Alignment, spending, lock-in and the spending ceilings start at the attribute
file's 2010 values; capability starts at the stock that 2010 spending sustains. Perceptions
and stances have no data: they are brought to their equilibrium under the start quarter's
actions by noise-free quarters in which the slow variables stay fixed, until no perception or
stance moves by more than ``spinup_tolerance`` in a quarter (at most ``spinup_quarters``).
The anchors (baseline alignment logits, baseline spending, basing at the start) are then set
so that the start state is a rest point of the response equations: what moves after the start
is caused by changes in the drivers, events and noise, and by unequal economic growth (GDP
paths shift relative power and spending), not by the initial conditions.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from sim import dynamics
from sim.drivers.levels import driver_levels
from sim.inputs import DataFileError, RunInputs, build_inputs
from sim.params import DriverParams, Params
from sim.turn import ALL, Anchors, State, alignment_pull, decide, perception_only, rival_pressure, us_pressure

PERCEPTIONS = ("intent", "threat", "criticism", "resistance", "denial", "trust")
ALIGNMENT_LIMIT = 0.999  # target alignments are tanh(.): a start value of +-1 has no finite logit


def start_state(inputs: RunInputs, params: Params) -> State:
    """The state before the spin-up, for one run (leading axis of length 1)."""
    n = inputs.n_actors
    depreciation = params.params.spending.capability_depreciation_per_year
    spending = inputs.spending_start.copy()
    over = spending > inputs.ceiling_start
    if over.any():
        codes = [inputs.codes[k] for k in np.flatnonzero(over)]
        raise DataFileError(f"actor attributes: milex_share_gdp_2010 exceeds spending_ceiling_share_gdp for {codes}")
    check_spending_bounds(inputs, params)
    expenditure = spending / 100.0 * inputs.gdp[0]
    capability = expenditure / 4.0 / (1.0 - (1.0 - depreciation) ** 0.25)
    zeros = np.zeros((1, n, n))
    return State(
        alignment=inputs.alignment_start[None, :].copy(),
        spending=spending[None, :],
        expenditure=expenditure[None, :],
        capability=capability[None, :],
        lockin=inputs.lockin_start[None, :].copy(),
        ceiling=inputs.ceiling_start[None, :].copy(),
        review_clock=np.zeros((1, n)),
        growth=np.zeros((1, n)),
        trend=np.zeros((1, n)),
        intent=zeros,
        threat=zeros,
        criticism=zeros,
        resistance=zeros,
        denial=zeros,
        trust=zeros,
    )


def check_spending_bounds(inputs: RunInputs, params: Params) -> None:
    """Refuse a floor above, or a fiscal bound below, some actor's start share (eq. 20c could not start at rest).

    Raises
    ------
    ValueError
        Naming the parameter, its value, the actor and what is allowed.
    """
    sp = params.params.spending
    spending = inputs.spending_start
    low, high = int(np.argmin(spending)), int(np.argmax(spending))
    if sp.floor_share_gdp > spending[low]:
        raise ValueError(
            f"params.spending.floor_share_gdp={sp.floor_share_gdp} is above {inputs.codes[low]}'s start share "
            f"({spending[low]}% of GDP); allowed: at most {spending[low]}"
        )
    if sp.fiscal_bound_share_gdp < spending[high]:
        raise ValueError(
            f"params.spending.fiscal_bound_share_gdp={sp.fiscal_bound_share_gdp} is below {inputs.codes[high]}'s "
            f"start share ({spending[high]}% of GDP); allowed: at least {spending[high]}"
        )


def factual(params: Params) -> Params:
    """``params`` with every driver knob at 1: the world as it was at the start."""
    return replace(params, drivers=DriverParams())


def initial_conditions(params: Params) -> tuple[State, Anchors]:
    """Spun-up start state and its anchors for one run (leading axis of length 1).

    The start is the factual start-year equilibrium whatever the scenario: counterfactual knobs
    act from the first step on, so every scenario departs from the same state and the same
    anchors (a counterfactual must not re-tune the actors' baselines). Deterministic: it uses
    no random numbers, so every engine and every replicate shares it.
    """
    params = factual(params)
    inputs = build_inputs(params)
    state = start_state(inputs, params)
    model = params.params
    for _ in range(params.run.spinup_quarters):
        previous = state
        state = perception_only(state, inputs, model, 0)
        moves = [np.max(np.abs(getattr(state, f) - getattr(previous, f)), initial=0.0) for f in PERCEPTIONS]
        if max(moves) <= params.run.spinup_tolerance:
            break
    drivers = driver_levels(inputs, model.policy, 0, state.alignment)
    drive, _, _ = alignment_pull(state, state, state.threat, ALL, inputs, model, state.trend, 0)
    x0 = np.clip(state.alignment, -ALIGNMENT_LIMIT, ALIGNMENT_LIMIT)
    baseline_logit = np.where(inputs.is_pole, 0.0, np.arctanh(x0) - drive)
    grievance = dynamics.grievance_anchor(
        state.spending,
        rival_pressure(state.threat, state, ALL, inputs, 0),
        us_pressure(state, model, drivers),
        state.trend,
        model.spending.threat_response,
        model.spending.domestic_trend_response,
    )
    actions = decide(state, ALL, inputs, model, 0, drivers, None)
    anchors = Anchors(
        baseline_logit=baseline_logit,
        grievance=grievance,
        basing_start=actions.basing.copy(),
        lockin_start=state.lockin.copy(),
    )
    return state, anchors


def repeat_runs(state: State, anchors: Anchors, runs: int) -> tuple[State, Anchors]:
    """The same initial conditions for ``runs`` runs (the leading axis repeated)."""

    def rep(a: np.ndarray) -> np.ndarray:
        return np.repeat(a, runs, axis=0)

    fields_state = {k: rep(v) for k, v in vars(state).items()}
    fields_anchor = {k: rep(v) for k, v in vars(anchors).items()}
    return State(**fields_state), Anchors(**fields_anchor)
