r"""The model's mathematics: pure, typed, batch-agnostic array functions.

No Mesa, no Hydra, no I/O. Every function works elementwise or over the last one or two axes,
so the same code serves one agent's row (shape ``(N,)``), one run (``(N, N)``) and an ensemble
of runs with a leading run axis (``(R, N, N)``). docs/ODD.md states each equation with its
reason and source; the equation numbers below are the ODD's.

Notation
--------
Actors are indexed ``i`` (the observer, or the actor that responds), ``j`` (the observed
actor) and ``m`` (the target of an action). ``C`` is the China pole (alignment -1), ``U`` the
US pole (alignment +1).

===============  ==========================================================================
symbol           meaning (unit)
===============  ==========================================================================
x_i              security alignment in [-1, 1]: -1 with China, +1 with the US
y_i              economic alignment in [-1, 1] (eq. 19e); a_i = (1 - omega) x_i + omega y_i overall
s_i              defence spending (% of GDP)
C_i              political spending ceiling (% of GDP; inf: none), q_i its review clock (quarters)
M_i              military expenditure (USD bn, constant 2023), M = s Y / 100
K_i              military capability stock (USD bn, constant 2023)
L_i              alliance lock-in with the US in [0, 1]
I_ij             hostile intent of j as perceived by i, in [0, 1]
T_ij             threat of j to i, in [0, 1]
E_ij             hostile evidence about j received by i in a quarter (evidence units)
G_ij             reassurance (engagement by j toward i) received by i (intensity)
c_ij, r_ij, d_ij i's criticism of, claims resistance toward, tech denial toward j, in [0, 1]
tau_ij           i's trust in j, in [0, 1]
n_i              domestic normalisation index (Japan; 0 elsewhere)
===============  ==========================================================================

Every probability-like state stays in [0, 1] by construction (convex combinations and
saturating maps), never by clipping inside the loop.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
ArrayLike = Array | float

EARTH_RADIUS_KM = 6371.0


# ----------------------------------------------------------------------------------------------
# Geometry and static structure (computed once per run)
# ----------------------------------------------------------------------------------------------


def great_circle_km(lat: Array, lon: Array) -> Array:
    """Pairwise great-circle distances (km) between points given in degrees (haversine).

    Parameters
    ----------
    lat, lon : array of shape (N,)
        Latitudes and longitudes in degrees.

    Returns
    -------
    array of shape (N, N)
        Symmetric distances in km with a zero diagonal.
    """
    phi = np.radians(lat)[:, None], np.radians(lat)[None, :]
    dphi = phi[1] - phi[0]
    dlmb = np.radians(lon)[None, :] - np.radians(lon)[:, None]
    h = np.sin(dphi / 2) ** 2 + np.cos(phi[0]) * np.cos(phi[1]) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def threat_proximity(distance_km: Array, reach_km: Array, scale_km: float) -> Array:
    """Proximity weight of j's power at i (eq. 1): ``exp(-max(0, d_ij - reach_i - reach_j) / d_0)``.

    Power projected within an actor's reach arrives undiminished; beyond it it decays with the
    loss-of-strength gradient (Boulding 1962). ``reach_km`` is the pair's combined reach: an
    observer with forces deployed far from home (the US in the western Pacific) meets a rival's
    power where its own forces are, not only at its reference point.
    """
    return np.exp(-np.maximum(0.0, distance_km - reach_km) / scale_km)


def spillover_proximity(distance_km: Array, scale_km: float) -> Array:
    """Neighbourhood weight ``exp(-d_im / d_s)`` of an action against m as evidence to i (eq. 3)."""
    return np.exp(-distance_km / scale_km)


# ----------------------------------------------------------------------------------------------
# Relations that depend on alignment
# ----------------------------------------------------------------------------------------------


def affinity(x_observer: ArrayLike, x_target: ArrayLike, power: float) -> Array:
    """Alignment affinity ``(1 - |x_i - x_j| / 2) ** k_a`` in [0, 1] (eq. 2).

    1 for identical alignments, 0 for the two poles; ``power`` sharpens it so that only close
    partners count.
    """
    return affinity_of_distance(alignment_distance(x_observer, x_target), power)


def affinity_of_distance(distance: Array, power: ArrayLike) -> Array:
    """Affinity (eq. 2) from the alignment distance ``D_ij``: ``(1 - D_ij) ** k_a``."""
    return np.asarray((1.0 - distance) ** power)


def exposure(
    neighbourhood: Array,
    partner_affinity: Array,
    threat_from_target: Array,
    is_self: Array,
    sigma_n: float,
    sigma_p: float,
) -> Array:
    """How much an action against m counts as an action against observer i (eq. 3).

    ``S_im = 1`` for m = i, else ``min(1, sigma_n exp(-d_im / d_s)(1 - T_im) + sigma_p aff_im)``:
    direct action counts fully; action against a neighbour counts partly unless that neighbour
    is itself a threat to i, action against an aligned partner partly (reputation spill-over).
    """
    indirect = np.minimum(1.0, sigma_n * neighbourhood * (1.0 - threat_from_target) + sigma_p * partner_affinity)
    return np.where(is_self, 1.0, indirect)


def alignment_distance(x_observer: ArrayLike, x_target: ArrayLike) -> Array:
    """Alignment distance ``D_ij = |x_i - x_j| / 2`` in [0, 1]."""
    return np.asarray(np.abs(np.subtract(x_observer, x_target)) / 2.0)


# ----------------------------------------------------------------------------------------------
# Actions (decisions from last turn's snapshot)
# ----------------------------------------------------------------------------------------------


def lognormal_factor(noise: ArrayLike, sd: float) -> Array:
    """Mean-one log-normal multiplier ``exp(sd * eps - sd**2 / 2)`` for standard normal ``eps``."""
    return np.asarray(np.exp(sd * np.asarray(noise) - 0.5 * sd * sd))


def coercion_policy_multiplier(x_target: ArrayLike, x_target_start: ArrayLike, gain: float) -> Array:
    """China's policy response to a target's drift toward the US (eq. 11): ``1 + gamma max(0, x_j - x_j0)``.

    The spiral of CLAIMS.md: the more a target has moved toward the US since the start, the
    harder it is pressed.
    """
    return 1.0 + gain * np.maximum(0.0, np.subtract(x_target, x_target_start))


def stance_action(stance: ArrayLike, threshold: float) -> Array:
    """Public acts (criticism, export controls) that a stance produces (eq. 12).

    ``max(0, stance - theta_a) / (1 - theta_a)``: a state acts on a stance only beyond the
    quiet level ``theta_a``; below it the stance stays private.
    """
    return np.asarray(np.maximum(0.0, np.asarray(stance) - threshold) / (1.0 - threshold))


def engagement_intensity(level: ArrayLike, trade_share: Array, threat_to_engager: Array) -> Array:
    """Engagement of i toward j (eq. 13): ``g_E w_ij (1 - T_ij)``.

    Engagers trade, aid and reassure in proportion to j's trade with them, less so toward those
    they feel threatened by.
    """
    return np.asarray(level * trade_share * (1.0 - threat_to_engager))


def basing_acceptance(china_bloc_threat: ArrayLike, alignment: ArrayLike, threshold: float, width: float) -> Array:
    """Share of a US basing offer a host accepts (eq. 14): ``logistic((Theta^C - theta_L) / w_L) * max(0, x)``."""
    return logistic((np.asarray(china_bloc_threat) - threshold) / width) * np.maximum(0.0, alignment)


def leadership_access(leadership: ArrayLike) -> Array:
    """Factor on the basing a government accepts (eq. 14b): ``max(0, 1 + l_i)``.

    ``l_i`` is the summed size of the leadership events in force (-1: a government that turns
    away from the US; eq. 19d). Such a government accepts no new US access or exercises while
    in office (Duterte ended joint patrols in Sep 2016 and gave notice to end the Visiting
    Forces Agreement in Feb 2020; after Thailand's 2014 coup the US suspended military aid and
    scaled down Cobra Gold), so lock-in stops building and relaxes (eq. 24).
    """
    return np.asarray(np.maximum(0.0, 1.0 + np.asarray(leadership)))


def smoothed_growth(growth: ArrayLike, share: ArrayLike, share_prev: ArrayLike) -> Array:
    """Exponentially smoothed annual growth of the defence share of GDP (eq. 15), a one-year time constant.

    ``g' = g + (4 ln(s_t / s_{t-1}) - g) / 4``: spending growth above the state's own GDP growth.
    """
    quarterly = np.log(np.divide(share, share_prev))
    return np.asarray(growth + (4.0 * quarterly - growth) / 4.0)


def buildup_intensity(growth: ArrayLike, normal_growth: float) -> Array:
    """Arms build-up (eq. 16): growth of the defence share above ``g_0``, ``max(0, g - g_0)`` per year.

    On shares, not on spending: a state whose economy grows fast spends more without arming
    faster than it grows, and that is not read as a build-up.
    """
    return np.maximum(0.0, np.subtract(growth, normal_growth))


# ----------------------------------------------------------------------------------------------
# Perception: evidence, intent, threat (balance of threat, Walt 1987)
# ----------------------------------------------------------------------------------------------


def hostile_reading(distance: ArrayLike, power: float, commitment: ArrayLike, trust: float) -> Array:
    """How much of j's conduct i reads as hostile (eq. 4a): ``h_ij = (1 - gamma c_ij) D_ij ** k_h``.

    ``D_ij = |x_i - x_j| / 2``; ``c_ij`` is 1 where a recorded commitment (a defence treaty, by
    default) joins i and j. Partners read each other's acts charitably, rivals at face value, and
    committed partners discount a share ``gamma`` more (Walt 1987: perceived intentions; Russia's
    2015 and China's 2019 strategies name the US, not each other; North Korea's 1961 treaty; allies
    still fear each other, Snyder 1984, so ``gamma`` < 1 is allowed).
    """
    return np.asarray((1.0 - trust * np.asarray(commitment)) * np.asarray(distance) ** power)


def dispute_stake(dispute: ArrayLike, bystander_weight: float) -> Array:
    """Weight of coercion of others as evidence to i (eq. 4b): ``eps + (1 - eps) disp_ij``.

    A coercer's pressure on a third state is a precedent for the states that have something the
    coercer wants (claimants in the same dispute) and a distant concern for bystanders.
    """
    return np.asarray(bystander_weight + (1.0 - bystander_weight) * np.asarray(dispute))


def targeted_evidence(exposure_matrix: Array, hostile_acts: Array) -> Array:
    """Evidence from targeted acts (eq. 4): ``E_ij = sum_m S_im H_jm``.

    ``hostile_acts[..., j, m]`` is the hostility-weighted intensity of j's acts against m.
    Works for one observer's row (``exposure_matrix`` of shape (N,)) and for whole matrices.
    """
    # A contiguous copy of the transpose: numpy's matmul of a transposed view is several times slower.
    return np.asarray(np.matmul(exposure_matrix, np.ascontiguousarray(np.swapaxes(hostile_acts, -1, -2))))


def bloc_attribution(force_evidence: Array, partner_affinity: Array, sigma_b: float) -> Array:
    """Evidence about j drawn from force used or threatened by j's committed partners (eq. 6).

    ``E^b_ij = sigma_b sum_k E^f_ik aff_kj c_kj`` (k != j), where ``E^f`` is the evidence from wars
    and missile tests: a demonstration effect (Russia's war raises the perceived intent of its
    partner China, CLAIMS.md; North Korea's tests reflect on its treaty ally). Only partners
    joined by a recorded commitment ``c_kj`` (a treaty or declared alignment) share the blame, in
    proportion to their affinity. ``force_evidence[..., i, k]`` is that evidence about actor k;
    ``partner_affinity[..., k, j]`` the commitment-weighted affinity ``aff_kj c_kj``, zero for k = j.
    """
    return np.asarray(sigma_b * np.matmul(force_evidence, partner_affinity))


def update_intent(
    intent: Array, evidence: Array, reassurance: Array, decay: float, gain: float, reassurance_gain: float
) -> Array:
    """Perceived hostile intent after one quarter (eq. 7).

    Forgetting and reassurance first, ``I~ = I (1 - delta_I)(1 - b)``, then hostile evidence,
    ``I' = I~ + (1 - I~) a`` with ``a = 1 - exp(-eta E)`` and ``b = 1 - exp(-eta_r G)``.
    Stays in [0, 1] for any non-negative evidence. Without evidence ``I_t = I_0 (1 - delta_I)^t``;
    under constant evidence it converges to ``a / (1 - (1 - delta_I)(1 - a))``.
    """
    relaxed = intent * (1.0 - decay) * np.exp(-reassurance_gain * reassurance)
    return np.asarray(relaxed + (1.0 - relaxed) * (1.0 - np.exp(-gain * evidence)))


def relative_power(capability_observer: ArrayLike, capability_target: ArrayLike, offence: ArrayLike) -> Array:
    """Offence-weighted power of j relative to i (eq. 8): ``P_ij = o_j K_j / (K_i + o_j K_j)``.

    ``o_j = 1 + omega nuclear_j``: nuclear arms multiply what a capability stock can threaten
    (Walt's offensive power), which is what makes a poor nuclear state a threat.
    """
    weighted = np.multiply(offence, capability_target)
    return np.asarray(weighted / np.add(capability_observer, weighted))


def threat(intent: Array, power: Array, proximity: Array, scale: float) -> Array:
    """Threat of j to i (eq. 9): ``T_ij = 1 - exp(-theta I_ij P_ij prox_ij)``.

    Walt's (1987) sources of threat combined multiplicatively: an actor without hostile intent,
    without power, or out of reach is no threat.
    """
    return np.asarray(1.0 - np.exp(-scale * intent * power * proximity))


def bloc_threats(threat_matrix: Array, alignment: Array) -> tuple[Array, Array]:
    """Threat from the China side and from the US side (eq. 10).

    ``Theta^C_i = sum_j T_ij (1 - x_j) / 2`` and ``Theta^U_i = sum_j T_ij (1 + x_j) / 2``;
    ``alignment`` broadcasts over the target axis (the diagonal of T is zero).
    """
    us_side = np.sum(threat_matrix * (1.0 + alignment) / 2.0, axis=-1)
    return china_bloc_threat(threat_matrix, alignment), np.asarray(us_side)


def china_bloc_threat(threat_matrix: Array, alignment: Array) -> Array:
    """Threat from the China side alone (eq. 10): ``Theta^C_i = sum_j T_ij (1 - x_j) / 2``."""
    return np.asarray(np.sum(threat_matrix * (1.0 - alignment) / 2.0, axis=-1))


# ----------------------------------------------------------------------------------------------
# Responses
# ----------------------------------------------------------------------------------------------


def logistic(z: ArrayLike) -> Array:
    """The logistic function ``1 / (1 + exp(-z))``."""
    out = np.negative(z, out=np.empty(np.shape(z)))  # one new array, then in place: the same values
    np.exp(out, out=out)
    out += 1.0
    return np.asarray(np.divide(1.0, out, out=out))


def vulnerability(
    proximity_to_china: ArrayLike,
    capability: ArrayLike,
    capability_china: ArrayLike,
    lockin: ArrayLike,
    capability_us: ArrayLike,
) -> Array:
    """Exposure of a state to the China pole (eq. 17): ``prox_iC K_C / (K_C + K_i + L_i K_U)``.

    Near, weak states without US protection are vulnerable.
    """
    return np.asarray(
        proximity_to_china
        * capability_china
        / (np.add(capability_china, capability) + np.multiply(lockin, capability_us))
    )


def bandwagon_weight(vulnerability_index: ArrayLike, threshold: float, width: float) -> Array:
    """Weight of bandwagoning against balancing (eq. 17): ``logistic((v - theta_bw) / w_bw)``."""
    return logistic((np.asarray(vulnerability_index) - threshold) / width)


def derisked_pull(pull_china: ArrayLike, denial_toward_china: ArrayLike, discount: float) -> Array:
    """China's economic pull on i after de-risking (eq. 18): ``C_i (1 - phi_d d_iC)``.

    ``C_i = w_iC Y_C(t) / Y_C(0)`` is i's trade share with China scaled by China's GDP relative to
    the start (a gravity model: trade grows with the partner's economy), so a fast-growing China
    pulls its trading partners harder over time: bandwagoning for profit (Schweller 1994). Tech
    denial toward China removes a share ``phi_d`` of the pull at most.
    """
    return np.asarray(np.multiply(pull_china, 1.0 - discount * np.asarray(denial_toward_china)))


def economic_alignment_target(pull_us: ArrayLike, pull_china: ArrayLike) -> Array:
    """The economic alignment a state moves toward (eq. 19e): ``y* = (U_i - C_i) / (U_i + C_i)``.

    ``U_i`` and ``C_i`` are the two poles' economic pulls (eq. 18, China's after de-risking): a
    state that trades only with China sits at -1, only with the US at +1, equally with both at
    0; 0 also where it trades with neither. Hedging (Kuik 2008) is a security alignment and an
    economic alignment that differ: the Philippines under Duterte, or Vietnam, lean on the US for
    security while China is their largest trading partner.
    """
    us, china = np.asarray(pull_us, dtype=float), np.asarray(pull_china, dtype=float)
    total = us + china
    return np.asarray(
        np.divide(us - china, total, out=np.zeros(np.broadcast_shapes(us.shape, china.shape)), where=total > 0)
    )


def overall_alignment(security: ArrayLike, economic: ArrayLike, weight: ArrayLike) -> Array:
    """The alignment reported and compared with surveys (eq. 19f): ``a = (1 - omega) x + omega y``.

    ``x`` is the security alignment (eq. 19), ``y`` the economic one (eq. 19e); ``omega`` the
    weight of economic ties in what a state's alignment is taken to be. In [-1, 1] for omega in
    [0, 1]; omega = 0 is the security alignment alone.
    """
    w = np.asarray(weight)
    return np.asarray((1.0 - w) * np.asarray(security) + w * np.asarray(economic))


def alignment_drive(
    strategic: ArrayLike,
    economic: ArrayLike,
    lockin: ArrayLike,
    trend: ArrayLike,
    economic_gain: float,
    lockin_gain: float,
    trend_gain: float,
) -> Array:
    """The non-constant part of the target security-alignment logit (eq. 19).

    ``S_i + beta_e e_i + beta_L L_i + beta_n n_i``: the strategic drive ``S_i`` of the chosen
    alignment rule (``sim/rules/``; balance of threat by default) plus the pulls that every
    rule shares: the economic pull ``e_i = U_i - C_i`` (eq. 18; bandwagoning for profit,
    Schweller 1994: trade with China pulls security alignment toward it), alliance lock-in and
    the domestic trend.
    """
    return np.asarray(
        np.asarray(strategic)
        + economic_gain * np.asarray(economic)
        + lockin_gain * np.asarray(lockin)
        + trend_gain * np.asarray(trend)
    )


def update_alignment(
    alignment: ArrayLike,
    baseline_logit: ArrayLike,
    drive: ArrayLike,
    lockin: ArrayLike,
    rate: float,
    stickiness: float,
) -> Array:
    """Partial adjustment toward the target alignment ``x* = tanh(mu_i + drive)`` (eq. 19).

    ``x' = x + rho_x (1 - phi_L L)(x* - x)``: lock-in slows every move (hysteresis).
    """
    target = np.tanh(np.add(baseline_logit, drive))
    return np.asarray(alignment + rate * (1.0 - stickiness * np.asarray(lockin)) * (target - alignment))


def us_pressure_term(
    pressure: ArrayLike, response: float, lockin: ArrayLike, spending: ArrayLike, target: float
) -> Array:
    """US burden-sharing pressure on desired spending (eq. 21): ``D_us k_pi L_i max(0, s_ref - s_i)``."""
    return np.asarray(pressure * response * np.asarray(lockin) * np.maximum(0.0, target - np.asarray(spending)))


def rival_weights(threat_matrix: Array, gdp_observer: Array, gdp_target: Array) -> Array:
    """Richardson's reaction weights in shares (eq. 20a): ``w_ij = T_ij Y_j / (Y_i + Y_j)``.

    i reacts to j's defence share in proportion to how threatening j is and to j's economic
    weight in the pair: a rival's effort counts by the share of the pair's joint income it
    spends on arms, so a poor state's high share does not alarm a rich neighbour as a rich
    state's would. ``gdp_observer`` (n,) and ``gdp_target`` (N,) broadcast over the observer
    and target axes of ``threat_matrix`` (..., n, N).
    """
    yi = np.asarray(gdp_observer)[:, None]
    yj = np.asarray(gdp_target)[None, :]
    return np.asarray(threat_matrix * yj / (yi + yj))


def spending_target(
    grievance: ArrayLike,
    rival_pressure: ArrayLike,
    pressure: ArrayLike,
    trend: ArrayLike,
    reaction: float,
    trend_response: float,
) -> Array:
    """Richardson's unbounded desired share (eq. 20b): ``s^u = g_i + k_s R_i + pi_i + k_n n_i``.

    ``R_i = sum_j w_ij s_j`` (eq. 20a): the threat-weighted rival shares. ``g_i`` is the
    grievance and domestic term (anchored so that the start is a rest point, section 5; the
    caller adds the drift of the base effort, eq. 20e, ``s_i0 ((Y_i(t)/Y_i(0))^(eta-1) - 1)``);
    relaxing toward the target at rate ``rho_s`` is Richardson's fatigue ``-a s``.
    """
    return np.asarray(
        np.asarray(grievance) + reaction * np.asarray(rival_pressure) + pressure + trend_response * np.asarray(trend)
    )


def base_effort(start_share: ArrayLike, gdp_ratio: ArrayLike, elasticity: float) -> Array:
    """The share of the start year's non-threat defence effort (eq. 20e): ``s_i0 (Y_i(t) / Y_i(0)) ** (eta - 1)``.

    Defence budgets are set as increments on last year's budget, not as a share of GDP
    (Davis, Dempster and Wildavsky 1966): the part of a state's effort that answers no rival
    grows with income at elasticity ``eta`` (Smith 1995, the demand for military expenditure),
    so where ``eta < 1`` its share of GDP falls as the economy grows (SIPRI: most Southeast
    Asian burdens fell 2010-2021 while their economies grew 3-6% a year). ``eta = 1`` keeps the
    share constant (the model before this term); at ``Y(t) = Y(0)`` it is the start share.
    """
    return np.asarray(np.asarray(start_share) * np.asarray(gdp_ratio) ** (elasticity - 1.0))


def bounded_target(unbounded: ArrayLike, ceiling: ArrayLike, floor: float, fiscal_bound: float) -> Array:
    """The share a state moves toward (eq. 20c): ``s* = min(max(f, s^u), C_i, B)``.

    Never below the floor ``f`` (a state keeps some armed forces), never above its political
    ceiling ``C_i`` or the fiscal bound ``B``: with ``0 < rho_s <= 1`` every share stays in
    ``[min(s_0, f), max(s_0, B)]`` whatever the parameters (no run can explode).
    """
    return np.asarray(np.minimum(np.minimum(np.maximum(floor, unbounded), ceiling), fiscal_bound))


def grievance_anchor(
    spending: ArrayLike,
    rival_pressure: ArrayLike,
    pressure: ArrayLike,
    trend: ArrayLike,
    reaction: float,
    trend_response: float,
) -> Array:
    """The grievance ``g_i`` that makes ``spending`` the unbounded target (inverse of eq. 20b).

    ``g_i = s_i - k_s R_i - pi_i - k_n n_i``; it may be negative (threat explains more than the
    start share), and then a state's share falls to the floor when its rivals disarm.
    """
    return np.asarray(
        np.asarray(spending) - reaction * np.asarray(rival_pressure) - pressure - trend_response * np.asarray(trend)
    )


def update_spending(spending: ArrayLike, target: ArrayLike, rate: float) -> Array:
    """Spending after one quarter (eq. 20d): ``s' = s + rho_s (s* - s)`` (a convex combination)."""
    return np.asarray(np.asarray(spending) + rate * (np.asarray(target) - np.asarray(spending)))


def review_clock(clock: ArrayLike, unbounded: ArrayLike, ceiling: ArrayLike, margin: float) -> Array:
    """Quarters in a row the desired share has exceeded the ceiling by the margin (eq. 22a).

    ``q' = (q + 1) [s^u > (1 + m) C]``: the clock restarts whenever the demand falls back.
    """
    over = np.asarray(unbounded) > (1.0 + margin) * np.asarray(ceiling)
    return np.asarray(np.where(over, np.asarray(clock) + 1.0, 0.0))


def review_ceiling(
    ceiling: ArrayLike, clock: ArrayLike, unbounded: ArrayLike, quarters: float, fiscal_bound: float
) -> tuple[Array, Array]:
    """A policy review (eq. 22b): once the clock reaches ``L`` quarters, the ceiling steps up.

    ``C' = min(s^u, B)`` and the clock restarts; otherwise nothing changes. A political limit
    (Japan's 1% norm) holds until a sustained demand forces a decision, which then moves it in
    one step, as Japan's 2022 documents did; the timing is the model's, never an input.
    """
    due = np.asarray(clock) >= quarters
    new_ceiling = np.where(due, np.minimum(np.maximum(ceiling, unbounded), fiscal_bound), ceiling)
    return np.asarray(new_ceiling), np.asarray(np.where(due, 0.0, clock))


def update_capability(capability: ArrayLike, expenditure: ArrayLike, depreciation_per_year: float) -> Array:
    """Perpetual-inventory capability stock (eq. 23): ``K' = K (1 - delta_K)^(1/4) + M / 4``."""
    return np.asarray(np.asarray(capability) * (1.0 - depreciation_per_year) ** 0.25 + np.asarray(expenditure) / 4.0)


def update_lockin(
    lockin: ArrayLike,
    basing: ArrayLike,
    basing_start: ArrayLike,
    lockin_start: ArrayLike,
    build: float,
    decay: float,
) -> Array:
    """Alliance lock-in after one quarter (eq. 24).

    ``L' = L + (1 - L)(1 - exp(-rho_L max(0, b - b_0))) - delta_L (L - L_0)``: basing accepted
    beyond its start level builds lock-in quickly (about ``rho_L`` per unit of excess when it is
    small, never past 1); without it lock-in relaxes slowly toward its start level (the
    asymmetry that makes a juncture hard to reverse). For ``delta_L`` in [0, 1] it keeps
    ``L_0 <= L <= 1``, where every run starts.
    """
    lockin = np.asarray(lockin)
    excess = np.maximum(0.0, np.subtract(basing, basing_start))
    return np.asarray(lockin + (1.0 - lockin) * -np.expm1(-build * excess) - decay * (lockin - lockin_start))


def camp_threat(threat_matrix: Array, partner_affinity: Array) -> Array:
    """Threat from j's camp as i sees it (eq. 25a): ``T^c_ij = 1 - prod_k (1 - T_ik aff_kj)``.

    What i holds against j is the threat from j and from j's close partners (affinity, eq. 2;
    ``aff_jj = 1``): Japan's criticism of, claims resistance to, and tech denial toward China
    answer North Korea's missiles and Russia's war in so far as they are China's partners, not
    the China dyad alone. In [0, 1]; equal to ``T_ij`` when j has no partners.
    ``threat_matrix`` (..., n, N) holds i's threats from every k; ``partner_affinity`` (..., N, M) the
    affinity of every k with the M targets j wanted (all N, or only the poles); the result is (..., n, M).
    """
    # One target at a time, the product over k along contiguous rows (faster than one strided
    # product over a 4-D array; a product is taken in order, so the values are the same).
    leading = np.broadcast_shapes(threat_matrix.shape[:-2], partner_affinity.shape[:-2])
    camp = np.empty((*leading, threat_matrix.shape[-2], partner_affinity.shape[-1]))
    for j in range(partner_affinity.shape[-1]):
        spared = threat_matrix * partner_affinity[..., None, :, j]
        np.subtract(1.0, spared, out=spared)
        camp[..., j] = np.prod(spared, axis=-1)
    return np.asarray(np.subtract(1.0, camp, out=camp))


def stance_targets(
    threat_matrix: Array,
    distance: Array,
    dispute: Array,
    ruling: ArrayLike,
    pressure: ArrayLike,
    trend: ArrayLike,
    engagement_received: Array,
    *,
    crit: tuple[float, float, float],
    resist: tuple[float, float, float, float],
    deny: tuple[float, float, float],
    trust: tuple[float, float, float, float],
    trend_gain: float,
    camp_threat: Array | None = None,
) -> tuple[Array, Array, Array, Array]:
    """Targets of the four stances of i toward j (eqs. 25-28).

    Criticism  ``c* = logistic(a_c + b_c T + c_c D + k_nw n)``;
    resistance ``r* = logistic(a_r + b_r T + c_r disp + k_r ruling + k_nw n)``;
    denial     ``d* = logistic(a_d + b_d T + c_d pi^d + k_nw n)``;
    trust      ``tau* = logistic(a_t - b_t T + c_t (1 - D) + e_t G)``.
    ``trend`` and ``pressure`` are per observer and broadcast over targets. Criticism,
    resistance and denial answer the threat from j's camp (``camp_threat``, eq. 25a; ``T`` where
    it is not given); trust answers the threat from j alone.
    """
    camp = threat_matrix if camp_threat is None else camp_threat
    trend_shift = trend_gain * np.asarray(trend)
    c_target = logistic(crit[0] + crit[1] * camp + crit[2] * distance + trend_shift)
    r_target = logistic(
        resist[0] + resist[1] * camp + resist[2] * dispute + resist[3] * np.asarray(ruling) + trend_shift
    )
    d_target = logistic(deny[0] + deny[1] * camp + deny[2] * np.asarray(pressure) + trend_shift)
    t_target = logistic(
        trust[0] - trust[1] * threat_matrix + trust[2] * (1.0 - distance) + trust[3] * engagement_received
    )
    return c_target, r_target, d_target, t_target


def partial_adjustment(value: ArrayLike, target: ArrayLike, rate: float) -> Array:
    """Move ``value`` a share ``rate`` of the way to ``target`` (stays in [0, 1] if both are)."""
    step = np.subtract(target, value)
    step *= rate
    step += value
    return np.asarray(step)
