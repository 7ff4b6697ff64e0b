"""One turn of the model, phase by phase, for any block of actors in any number of runs.

Every phase takes the full snapshot of last turn (all actors, shape ``(R, N, ...)``) and a
block of ``rows`` (the actors whose decisions, perceptions or responses are computed) and
returns the new values for those rows only. The Mesa agents of ``sim/agents.py`` call each
phase for their own row (``rows = slice(i, i + 1)``, one run); the many-run engine calls it
for all rows of R runs at once (``rows = slice(None)``). One piece of code therefore serves
both engines, and the equations it calls live in ``sim/dynamics.py``.

The phases follow ODD section 3: drivers (``sim/drivers/levels.py``), :func:`decide`,
:func:`perceive`, :func:`respond`. Shapes: actor arrays ``(R, n)``, dyad arrays
``(R, n, N)`` for a block of ``n`` rows; the observer (or actor) comes first.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from sim import dynamics, rules
from sim.drivers.levels import TurnDrivers, driver_levels
from sim.inputs import RunInputs
from sim.params import ModelParams

# Columns of the per-turn noise array (R, N, N_NOISE): one standard normal per actor and use.
NOISE_COERCION, NOISE_CRITICISM, NOISE_ENGAGEMENT, NOISE_DERISKING, NOISE_PROVOCATION, NOISE_PERCEPTION = range(6)
N_NOISE = 6

Rows = slice | np.ndarray
ALL: slice = slice(None)


@dataclass(frozen=True)
class State:
    """The state variables of R runs for a block of actors (ODD section 2)."""

    alignment: np.ndarray  # (R, n) security alignment in [-1, 1] (eq. 19)
    economic_alignment: np.ndarray  # (R, n) economic alignment in [-1, 1] (eq. 19e)
    spending: np.ndarray  # (R, n) % GDP
    expenditure: np.ndarray  # (R, n) USD bn, constant 2023
    capability: np.ndarray  # (R, n) USD bn, constant 2023
    lockin: np.ndarray  # (R, n) in [0, 1]
    ceiling: np.ndarray  # (R, n) % GDP (inf: none)
    review_clock: np.ndarray  # (R, n) quarters in a row of demand above the ceiling (eq. 22a)
    growth: np.ndarray  # (R, n) smoothed growth of the defence share of GDP, 1/year
    trend: np.ndarray  # (R, n) domestic normalisation index
    intent: np.ndarray  # (R, n, N)
    threat: np.ndarray  # (R, n, N)
    criticism: np.ndarray  # (R, n, N)
    resistance: np.ndarray  # (R, n, N)
    denial: np.ndarray  # (R, n, N)
    trust: np.ndarray  # (R, n, N)


@dataclass(frozen=True)
class Anchors:
    """Per-run constants fixed at initialisation so that the start state is an equilibrium."""

    baseline_logit: np.ndarray  # (R, n) mu_i of eq. 19
    grievance: np.ndarray  # (R, n) g_i of eq. 20b (% GDP)
    basing_start: np.ndarray  # (R, n) b_0 of eq. 24
    lockin_start: np.ndarray  # (R, n) L_0 of eq. 24


@dataclass(frozen=True)
class Actions:
    """Every action of one turn by a block of actors (ODD section 3)."""

    coercion: np.ndarray  # (R, n, N) intensity by actor and target
    criticism: np.ndarray  # (R, n, N)
    engagement: np.ndarray  # (R, n, N)
    derisking: np.ndarray  # (R, n, N)
    basing: np.ndarray  # (R, n): US basing accepted by each host
    buildup: np.ndarray  # (R, n)
    provocation: np.ndarray  # (R, n)
    war: np.ndarray  # (R, n)


@dataclass(frozen=True)
class Relations:
    """Alignment relations of every pair in last turn's snapshot, shared by the phases of a turn."""

    distance: np.ndarray  # (R, N, N) alignment distance |x_i - x_j| / 2
    affinity: np.ndarray  # (R, N, N) affinity (1 - distance) ** k_a (eq. 2)

    @classmethod
    def of(cls, alignment: np.ndarray, params: ModelParams) -> Relations:
        """The relations of the alignments ``alignment`` (R, N)."""
        distance = dynamics.alignment_distance(alignment[:, :, None], alignment[:, None, :])
        return cls(distance, dynamics.affinity_of_distance(distance, params.perception.affinity_power))


def take(block: State | Anchors | Actions, rows: Rows) -> State | Anchors | Actions:
    """The sub-block of ``rows`` (actor axis 1) of any per-actor container."""
    return type(block)(**{f.name: getattr(block, f.name)[:, rows] for f in fields(block)})


def stack(blocks: list[State] | list[Actions]) -> State | Actions:
    """Join per-actor blocks along the actor axis (the inverse of :func:`take`)."""
    first = blocks[0]
    return type(first)(**{f.name: np.concatenate([getattr(b, f.name) for b in blocks], axis=1) for f in fields(first)})


def _indices(rows: Rows, n: int) -> np.ndarray:
    return np.arange(n)[rows]


def _noise(noise: np.ndarray | None, rows: Rows, col: int, shape: tuple[int, int], sd: float) -> np.ndarray:
    if noise is None:
        return np.ones(shape)
    return dynamics.lognormal_factor(noise[:, rows, col], sd)


def decide(
    snapshot: State,
    rows: Rows,
    inputs: RunInputs,
    params: ModelParams,
    turn: int,
    drivers: TurnDrivers,
    noise: np.ndarray | None,
) -> Actions:
    """The actions of the actors in ``rows`` from last turn's snapshot (ODD section 3, step 2)."""
    own = take(snapshot, rows)
    assert isinstance(own, State)
    r, n = own.alignment.shape
    ids = _indices(rows, inputs.n_actors)
    sd = params.noise.action_noise_sd
    offdiag = ~inputs.is_self[rows]

    is_coercer = (ids == inputs.china)[None, :, None]
    coercion = np.where(
        is_coercer,
        drivers.china_coercion[:, None, :]
        * inputs.dispute[rows]
        * _noise(noise, rows, NOISE_COERCION, (r, n), sd)[:, :, None],
        0.0,
    )
    if drivers.event_coercion is not None:
        coercion = coercion + drivers.event_coercion[:, rows]
    threshold = params.stance.action_threshold
    criticism = (
        dynamics.stance_action(own.criticism, threshold)
        * offdiag
        * _noise(noise, rows, NOISE_CRITICISM, (r, n), sd)[:, :, None]
    )
    derisking = (
        dynamics.stance_action(own.denial, threshold)
        * offdiag
        * _noise(noise, rows, NOISE_DERISKING, (r, n), sd)[:, :, None]
    )
    engagement = (
        dynamics.engagement_intensity(
            params.policy.engagement_level * inputs.is_engager[rows, None], inputs.trade_with_engager[rows], own.threat
        )
        * _noise(noise, rows, NOISE_ENGAGEMENT, (r, n), sd)[:, :, None]
    )

    china_bloc = dynamics.china_bloc_threat(own.threat, snapshot.alignment[:, None, :])
    offer = params.lockin.basing_offer * (1.0 + drivers.us_pressure)
    basing = (
        offer
        * dynamics.basing_acceptance(
            china_bloc, own.alignment, params.lockin.acceptance_threshold, params.lockin.acceptance_width
        )
        * ~inputs.is_pole[rows]
        # A government that turns away from the US takes no new US access while in office
        # (eq. 14b: Duterte ended joint patrols in 2016; the US cut military aid to Thailand's
        # junta in 2014); one that turns toward it takes more. The factor is the events' size.
        * dynamics.leadership_access(inputs.leadership[turn, rows])
    )
    buildup = dynamics.buildup_intensity(own.growth, params.spending.normal_growth_per_year)
    provocation = np.where(
        ids == inputs.provocateur, drivers.nk_provocation * _noise(noise, rows, NOISE_PROVOCATION, (r, n), sd), 0.0
    )
    war = np.where(ids == inputs.belligerent, drivers.russia_war, 0.0)
    return Actions(coercion, criticism, engagement, derisking, basing, buildup, provocation, war)


def perceive(
    snapshot: State,
    actions: Actions,
    rows: Rows,
    inputs: RunInputs,
    params: ModelParams,
    turn: int,
    noise: np.ndarray | None,
    relations: Relations | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """New intent and threat rows of the observers in ``rows`` (ODD section 3, step 4).

    ``actions`` are everyone's actions this turn (all N actors); ``relations`` those of the
    snapshot, when the caller has them already.
    """
    own = take(snapshot, rows)
    assert isinstance(own, State)
    r, n = own.alignment.shape
    ids = _indices(rows, inputs.n_actors)
    perc, host = params.perception, params.hostility
    offdiag = ~inputs.is_self[rows]
    relations = relations or Relations.of(snapshot.alignment, params)
    affinity = relations.affinity
    own_affinity = affinity[:, rows]
    exposure = dynamics.exposure(
        inputs.neighbourhood[rows],
        own_affinity,
        own.threat,
        inputs.is_self[rows],
        perc.neighbour_spillover,
        perc.partner_spillover,
    )
    coercion = host.coercion * actions.coercion
    hostile = coercion + host.criticism * actions.criticism + host.derisking * actions.derisking
    evidence = dynamics.targeted_evidence(exposure, hostile)
    # Coercion of others is a precedent only for those with a stake in the same dispute (eq. 4b):
    # the indirect part of the coercion evidence is weighted by the observer's own dispute.
    direct = np.swapaxes(coercion, -1, -2)[:, rows]
    indirect = dynamics.targeted_evidence(exposure, coercion) - direct
    stake = dynamics.dispute_stake(inputs.dispute[rows], perc.bystander_weight)
    evidence = evidence - (1.0 - stake) * indirect
    power = dynamics.relative_power(own.capability[:, :, None], snapshot.capability[:, None, :], inputs.offence)
    # Untargeted acts are seen by all in range (eq. 5); a build-up alarms in proportion to the
    # armer's power relative to the observer.
    seen = inputs.threat_proximity[rows] * offdiag
    force = seen * (host.war * actions.war + host.provocation * actions.provocation)[:, None, :]
    evidence = evidence + force + seen * host.buildup * actions.buildup[:, None, :] * power
    # US basing is read as hostile (eq. 5): the basing power (the US) by the powers on China's
    # side, in proportion to how far they stand on it (encirclement as the powers whose forces it
    # faces see it; states without forces beyond their borders read it as others' business);
    # each host by the China pole, which treats hosts as parties to containment.
    basing_seen = host.basing * actions.basing
    wary = np.maximum(0.0, -own.alignment) * inputs.projects_power[rows]
    is_china = (ids == inputs.china)[None, :, None]
    basing_row = np.where(is_china, basing_seen[:, None, :], 0.0)
    basing_row[:, :, inputs.us] += wary * basing_seen.sum(axis=-1)[:, None]
    evidence = evidence + basing_row
    # Force used or threatened (war, missile tests) is also read as a sign of what the actor's
    # committed partners may do (eq. 6: a treaty or declared alignment in force, weighted by
    # affinity); only the columns of actors that used force are non-zero.
    forceful = np.flatnonzero(np.any((actions.war != 0.0) | (actions.provocation != 0.0), axis=0))
    partners = affinity[:, forceful, :] * inputs.commitment[turn, forceful, :]
    evidence = evidence * offdiag + dynamics.bloc_attribution(force[:, :, forceful], partners, perc.bloc_spillover)
    # Partners read each other's conduct charitably, rivals at face value (eq. 4a).
    reading = dynamics.hostile_reading(
        relations.distance[:, rows], perc.hostile_reading_power, inputs.commitment[turn, rows], perc.commitment_trust
    )
    evidence = evidence * reading
    evidence = evidence * _noise(noise, rows, NOISE_PERCEPTION, (r, n), perc.perception_noise_sd)[:, :, None] * offdiag
    reassurance = np.ascontiguousarray(np.swapaxes(actions.engagement, -1, -2)[:, rows])  # dense: faster below
    intent = dynamics.update_intent(
        own.intent, evidence, reassurance, perc.intent_decay_per_quarter, perc.intent_gain, perc.reassurance_gain
    )
    threat = dynamics.threat(intent, power, inputs.threat_proximity[rows], perc.threat_scale) * offdiag
    return intent, threat


def export_control_pressure(own: State, snapshot: State, drivers: TurnDrivers) -> np.ndarray:
    """US export-control pressure on i's tech denial toward j (eq. 27): ``D_tech L_i (1 - x_j) / 2``.

    Pressure grows with i's lock-in with the US and aims at China-aligned targets only.
    """
    return np.asarray(
        drivers.tech_controls[:, :, None] * own.lockin[:, :, None] * (1.0 - snapshot.alignment[:, None, :]) / 2.0
    )


def threat_toward_camps(threat: np.ndarray, affinity: np.ndarray, is_pole: np.ndarray) -> np.ndarray:
    """Threat as the stances read it (eq. 25a): a pole's camp threat toward the poles, ``T`` elsewhere.

    Only the pole columns need the product over partners, so it is taken over those columns
    alone: O(n N P) work and memory instead of O(n N^2) (P = 2 poles).
    """
    poles = np.flatnonzero(is_pole)
    camp = np.array(threat, dtype=float, copy=True)
    camp[..., poles] = dynamics.camp_threat(threat, affinity[..., :, poles])
    return camp


def stance_update(
    own: State,
    snapshot: State,
    threat: np.ndarray,
    reassurance: np.ndarray,
    rows: Rows,
    inputs: RunInputs,
    params: ModelParams,
    turn: int,
    drivers: TurnDrivers,
    trend: np.ndarray,
    relations: Relations | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """New criticism, resistance, denial and trust rows (eqs. 25-28); ``relations`` as in :func:`perceive`."""
    st = params.stance
    relations = relations or Relations.of(snapshot.alignment, params)
    distance = relations.distance[:, rows]
    targets = dynamics.stance_targets(
        threat,
        distance,
        inputs.dispute[rows],
        inputs.ruling[turn][None, None, :],
        export_control_pressure(own, snapshot, drivers),
        trend[:, :, None],
        reassurance,
        crit=(st.criticism_intercept, st.criticism_threat, st.criticism_distance),
        resist=(st.resistance_intercept, st.resistance_threat, st.resistance_dispute, st.resistance_ruling),
        deny=(st.denial_intercept, st.denial_threat, st.denial_pressure),
        trust=(st.trust_intercept, st.trust_threat, st.trust_closeness, st.trust_engagement),
        trend_gain=st.domestic_trend_gain,
        # A camp's conduct is laid at its leader's door: toward a pole the camp's threat counts,
        # toward any other actor its own (eq. 25a).
        camp_threat=threat_toward_camps(threat, relations.affinity, inputs.is_pole),
    )
    current = (own.criticism, own.resistance, own.denial, own.trust)
    c, r_, d, t = (
        dynamics.partial_adjustment(v, g, st.adjustment_per_quarter) for v, g in zip(current, targets, strict=True)
    )
    return c, r_, d, t


def trade_pulls(
    own: State, rows: Rows, inputs: RunInputs, params: ModelParams, turn: int
) -> tuple[np.ndarray, np.ndarray]:
    """The US and (de-risked) China economic pulls ``U_i``, ``C_i`` on the actors in ``rows`` (eq. 18).

    Each pole's pull is the actor's trade share with it scaled by the pole's GDP relative to the
    start (gravity: trade grows with the partner's economy); China's is reduced by de-risking.
    """
    growth_us, growth_china = (inputs.gdp[turn, k] / inputs.gdp[0, k] for k in (inputs.us, inputs.china))
    pull_china = dynamics.derisked_pull(
        inputs.trade_china[rows] * growth_china,
        own.denial[:, :, inputs.china],
        params.alignment.derisking_trade_discount,
    )
    return np.asarray(inputs.trade_us[rows] * growth_us), pull_china


def alignment_pull(
    own: State,
    snapshot: State,
    threat: np.ndarray,
    rows: Rows,
    inputs: RunInputs,
    params: ModelParams,
    trend: np.ndarray,
    turn: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The variable part of the security-alignment logit (eq. 19) and the two bloc threats (eq. 10).

    The strategic drive comes from the chosen alignment rule (``sim/rules/``); the economic pull
    (eq. 18), lock-in and the domestic trend are added under every rule.
    """
    al = params.alignment
    china_bloc, us_bloc = dynamics.bloc_threats(threat, snapshot.alignment[:, None, :])
    situation = rules.Situation(
        _indices(rows, inputs.n_actors), own, snapshot, threat, china_bloc, us_bloc, inputs, turn
    )
    pull_us, pull_china = trade_pulls(own, rows, inputs, params, turn)
    drive = dynamics.alignment_drive(
        rules.strategic_drive(situation, params),
        pull_us - pull_china,
        own.lockin,
        trend,
        al.economic_gain,
        al.lockin_gain,
        al.domestic_trend_gain,
    )
    return drive, china_bloc, us_bloc


def economic_alignment_target(own: State, rows: Rows, inputs: RunInputs, params: ModelParams, turn: int) -> np.ndarray:
    """The economic alignment the actors in ``rows`` move toward (eq. 19e); the poles hold their own."""
    target = dynamics.economic_alignment_target(*trade_pulls(own, rows, inputs, params, turn))
    return np.asarray(np.where(inputs.is_pole[rows], own.alignment, target))


def us_pressure(own: State, params: ModelParams, drivers: TurnDrivers) -> np.ndarray:
    """US burden-sharing pressure on each state's desired spending (eq. 21)."""
    sp = params.spending
    return dynamics.us_pressure_term(
        drivers.us_pressure, sp.us_pressure_response, own.lockin, own.spending, sp.us_target_share_gdp
    )


def rival_pressure(threat: np.ndarray, snapshot: State, rows: Rows, inputs: RunInputs, turn: int) -> np.ndarray:
    """Threat-weighted rival shares ``R_i = sum_j w_ij s_j`` (eq. 20a) of the observers in ``rows``."""
    weights = dynamics.rival_weights(threat, inputs.gdp[turn, rows], inputs.gdp[turn])
    return np.asarray(np.sum(weights * snapshot.spending[:, None, :], axis=-1))


def spending_demand(
    own: State,
    snapshot: State,
    anchors: Anchors,
    threat: np.ndarray,
    rows: Rows,
    inputs: RunInputs,
    params: ModelParams,
    turn: int,
    drivers: TurnDrivers,
    trend: np.ndarray,
) -> np.ndarray:
    """Richardson's unbounded desired share ``s^u`` of the actors in ``rows`` (eq. 20b)."""
    sp = params.spending
    # The base effort dilutes (eta < 1) or grows (eta > 1) with the economy (eq. 20e); the
    # anchor g_i holds it at its start share.
    start = inputs.spending_start[rows]
    base = dynamics.base_effort(start, inputs.gdp[turn, rows] / inputs.gdp[0, rows], sp.income_elasticity)
    return dynamics.spending_target(
        anchors.grievance + base - start,
        rival_pressure(threat, snapshot, rows, inputs, turn),
        us_pressure(own, params, drivers),
        trend,
        sp.threat_response,
        sp.domestic_trend_response,
    )


def respond(
    snapshot: State,
    anchors: Anchors,
    actions: Actions,
    intent: np.ndarray,
    threat: np.ndarray,
    rows: Rows,
    inputs: RunInputs,
    params: ModelParams,
    turn: int,
    drivers: TurnDrivers,
    relations: Relations | None = None,
) -> State:
    """New state rows of the actors in ``rows`` (ODD section 3, step 5).

    ``anchors`` are those of ``rows``; ``intent`` and ``threat`` their new perceptions;
    ``actions`` everyone's actions this turn; ``relations`` as in :func:`perceive`.
    """
    own = take(snapshot, rows)
    assert isinstance(own, State)
    ids = _indices(rows, inputs.n_actors)
    al, sp, lk = params.alignment, params.spending, params.lockin
    is_pole = inputs.is_pole[rows]
    trend = own.trend + np.where(ids == inputs.focal, drivers.japan_domestic_trend, 0.0)
    drive, _, _ = alignment_pull(own, snapshot, threat, rows, inputs, params, trend, turn)
    # A change of government shifts the state's own orientation (eq. 19d), a dated input.
    baseline = anchors.baseline_logit + al.leadership_gain * inputs.leadership[turn, rows]
    alignment = dynamics.update_alignment(
        own.alignment, baseline, drive, own.lockin, al.adjustment_per_quarter, al.lockin_stickiness
    )
    alignment = np.where(is_pole, own.alignment, alignment)
    # Economic alignment follows trade at the same rate, without lock-in (eq. 19e): commerce is
    # not held by alliance institutions.
    economic_alignment = dynamics.partial_adjustment(
        own.economic_alignment,
        economic_alignment_target(own, rows, inputs, params, turn),
        al.adjustment_per_quarter,
    )

    unbounded = spending_demand(own, snapshot, anchors, threat, rows, inputs, params, turn, drivers, trend)
    target = dynamics.bounded_target(unbounded, own.ceiling, sp.floor_share_gdp, sp.fiscal_bound_share_gdp)
    spending = dynamics.update_spending(own.spending, target, sp.adjustment_per_quarter)
    if not np.isnan(drivers.china_spending):
        spending = np.where(ids == inputs.china, drivers.china_spending, spending)
    # China's build-up (driver china_buildup): its knob blends China's spending with the share that
    # keeps its real expenditure at the freeze year's level (exactly the spending at knob 1).
    knob, reference = drivers.decided["china_buildup"]
    spending = np.where(ids == inputs.china, knob * spending + (1.0 - knob) * reference, spending)
    clock = dynamics.review_clock(own.review_clock, unbounded, own.ceiling, sp.review_margin)
    ceiling, clock = dynamics.review_ceiling(
        own.ceiling, clock, unbounded, sp.review_quarters, sp.fiscal_bound_share_gdp
    )
    expenditure = spending / 100.0 * inputs.gdp[turn, rows]
    growth = dynamics.smoothed_growth(own.growth, spending, own.spending)
    capability = dynamics.update_capability(own.capability, expenditure, sp.capability_depreciation_per_year)
    lockin = dynamics.update_lockin(
        own.lockin,
        actions.basing[:, rows],
        anchors.basing_start,
        anchors.lockin_start,
        lk.build_per_quarter,
        lk.decay_per_quarter,
    )
    lockin = np.where(is_pole, own.lockin, lockin)

    reassurance = np.ascontiguousarray(np.swapaxes(actions.engagement, -1, -2)[:, rows])  # dense: faster below
    criticism, resistance, denial, trust = stance_update(
        own, snapshot, threat, reassurance, rows, inputs, params, turn, drivers, trend, relations
    )
    return State(
        alignment,
        economic_alignment,
        spending,
        expenditure,
        capability,
        lockin,
        ceiling,
        clock,
        growth,
        trend,
        intent,
        threat,
        criticism,
        resistance,
        denial,
        trust,
    )


def advance(
    state: State, anchors: Anchors, inputs: RunInputs, params: ModelParams, turn: int, noise: np.ndarray | None
) -> tuple[State, Actions, TurnDrivers]:
    """One full turn for all actors of R runs at once: drivers, decisions, perception, responses.

    Parameters
    ----------
    noise : array (R, N, N_NOISE) or None
        This turn's standard normal draws; None for the noise-free spin-up.
    """
    drivers = driver_levels(inputs, params.policy, turn, state.alignment)
    actions = decide(state, ALL, inputs, params, turn, drivers, noise)
    relations = Relations.of(state.alignment, params)  # once per turn, not once per phase
    intent, threat = perceive(state, actions, ALL, inputs, params, turn, noise, relations)
    new = respond(state, anchors, actions, intent, threat, ALL, inputs, params, turn, drivers, relations)
    return new, actions, drivers


def perception_only(state: State, inputs: RunInputs, params: ModelParams, turn: int) -> State:
    """A noise-free turn that updates perceptions and stances only (the spin-up, ODD section 5)."""
    drivers = driver_levels(inputs, params.policy, turn, state.alignment)
    actions = decide(state, ALL, inputs, params, turn, drivers, None)
    relations = Relations.of(state.alignment, params)
    intent, threat = perceive(state, actions, ALL, inputs, params, turn, None, relations)
    reassurance = np.swapaxes(actions.engagement, -1, -2)
    criticism, resistance, denial, trust = stance_update(
        state, state, threat, reassurance, ALL, inputs, params, turn, drivers, state.trend, relations
    )
    return replace(
        state, intent=intent, threat=threat, criticism=criticism, resistance=resistance, denial=denial, trust=trust
    )
