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

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from sim import dynamics
from sim.batch import batch_model_params, take_runs
from sim.drivers.levels import driver_levels
from sim.inputs import DataFileError, RunInputs, build_inputs, spin_up_inputs
from sim.params import DriverParams, ModelParams, Params, RunParams
from sim.turn import (
    ALL,
    Anchors,
    State,
    alignment_pull,
    decide,
    economic_alignment_target,
    perception_only,
    rival_pressure,
    us_pressure,
)

PERCEPTIONS = ("intent", "threat", "criticism", "resistance", "denial", "trust")
ALIGNMENT_LIMIT = 0.999  # target alignments are tanh(.): a start value of +-1 has no finite logit


def start_state(inputs: RunInputs, params: Params, model: ModelParams | None = None, runs: int = 1) -> State:
    """The state before the spin-up, for ``runs`` runs (leading axis), one run by default.

    ``model`` holds the runs' behavioural parameters, batched when they differ between runs
    (``sim/batch.py``; default ``params.params``): capability starts at the stock each run's
    depreciation sustains.
    """
    n = inputs.n_actors
    depreciation = (model or params.params).spending.capability_depreciation_per_year
    spending = inputs.spending_start.copy()
    over = spending > inputs.ceiling_start
    if over.any():
        codes = [inputs.codes[k] for k in np.flatnonzero(over)]
        raise DataFileError(f"actor attributes: milex_share_gdp_2010 exceeds spending_ceiling_share_gdp for {codes}")
    check_spending_bounds(inputs, params)
    expenditure = spending / 100.0 * inputs.gdp[0]
    capability = expenditure / 4.0 / (1.0 - (1.0 - depreciation) ** 0.25)

    def per_run(values: np.ndarray) -> np.ndarray:
        return np.array(np.broadcast_to(values, (runs, n)))

    zeros = np.zeros((runs, n, n))
    return State(
        alignment=per_run(inputs.alignment_start),
        economic_alignment=per_run(inputs.alignment_start),  # replaced by its target after the spin-up
        spending=per_run(spending),
        expenditure=per_run(expenditure),
        capability=per_run(capability),
        lockin=per_run(inputs.lockin_start),
        ceiling=per_run(inputs.ceiling_start),
        review_clock=np.zeros((runs, n)),
        growth=np.zeros((runs, n)),
        trend=np.zeros((runs, n)),
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
    return initial_points([params])


def initial_points(points: Sequence[Params], inputs: RunInputs | None = None) -> tuple[State, Anchors]:
    """The start of every parameter point in ``points`` side by side (leading axis: one per point).

    The points share what :func:`sim.batch.batch_key` names (actors, data, run settings, events)
    and may differ in their behavioural parameters. The spin-up runs them together and freezes
    each point at the quarter it converges, so each gets exactly the start it gets alone
    (:func:`initial_conditions` is this function for one point). ``inputs``, if given, are those
    of the points' factual parameters (every knob at 1), already built.
    """
    params = factual(points[0])
    inputs = inputs or build_inputs(params)
    model = batch_model_params([p.params for p in points])
    for point in points[1:]:
        check_spending_bounds(inputs, point)
    state = spin_up(start_state(inputs, params, model, len(points)), inputs, model, params.run)
    # Economic alignment starts where trade and the spun-up de-risking put it (eq. 19e).
    state = replace(state, economic_alignment=economic_alignment_target(state, ALL, inputs, model, 0))
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


def spin_up(state: State, inputs: RunInputs, model: ModelParams, run: RunParams) -> State:
    """Noise-free quarters of perceptions and stances until each run moves by at most the tolerance.

    A run stops (its perceptions are kept) after the first quarter in which none of them moves
    by more than ``run.spinup_tolerance``, or after ``run.spinup_quarters``; the others go on
    without it (only the runs still moving are computed). Runs never interact, so a run's start
    does not depend on the runs beside it. Drivers hold their spin-up levels
    (:func:`sim.inputs.spin_up_inputs`: the years before the start where the data reach back).
    """
    inputs = spin_up_inputs(inputs)
    spun = {f: getattr(state, f).copy() for f in PERCEPTIONS}
    moving = np.arange(state.alignment.shape[0])  # the runs still moving, by index into ``state``
    current = state
    for _ in range(run.spinup_quarters):
        moved = perception_only(current, inputs, model, 0)
        moves = np.max(
            [np.max(np.abs(getattr(moved, f) - getattr(current, f)), axis=(1, 2), initial=0.0) for f in PERCEPTIONS],
            axis=0,
        )
        current = moved
        settled = moves <= run.spinup_tolerance
        if settled.any():
            for f in PERCEPTIONS:
                spun[f][moving[settled]] = getattr(moved, f)[settled]
            keep = np.flatnonzero(~settled)
            moving = moving[keep]
            if not moving.size:
                break
            current, model = pick_runs(moved, keep), take_runs(model, keep)
    if moving.size:  # the runs still moving after the last quarter allowed
        for f in PERCEPTIONS:
            spun[f][moving] = getattr(current, f)
    return replace(state, **spun)


def pick_runs[B: (State, Anchors)](block: B, runs: np.ndarray) -> B:
    """The runs ``runs`` (indices along the leading axis, repeats allowed) of a state or its anchors."""
    return type(block)(**{k: np.take(v, runs, axis=0) for k, v in vars(block).items()})


def join_runs[B: (State, Anchors)](first: B, second: B) -> B:
    """The runs of ``first`` then those of ``second`` (states or anchors), along the leading axis."""
    return type(first)(**{k: np.concatenate([v, getattr(second, k)]) for k, v in vars(first).items()})
