"""Resample-move: Metropolis-Hastings moves that rejuvenate the last ABC-SMC population (ODD B.7).

pyabc's ABC-SMC has no MCMC kernel: each generation is importance sampled from a proposal fitted to
the previous one, and in 25 and more dimensions the importance weights degenerate (an effective
sample size of a few particles at the last generation). After the last generation (at temperature
T, above 1 when the budget stopped it) the weighted particles are reweighted by
``p(y | theta)^(1 - 1/T)`` to the posterior at T = 1, resampled to equal weights (systematic
resampling) and each is moved ``moves`` times by a random-walk Metropolis-Hastings step that leaves
``prior(theta) p(y | theta)`` invariant (resample-move: Gilks and Berzuini 2001; one reweight,
resample and move step of the SMC sampler of Del Moral, Doucet and Jasra 2006). The likelihood of a
point is that of its simulation (the mean of its ``seeds`` runs under the observation model), so
the move is pseudo-marginal: a
particle carries the log-likelihood of its own simulation, and a proposal is run with fresh seeds
(Andrieu and Roberts 2009); its stationary distribution is the posterior that the stochastic
acceptor targets at T = 1.

The walk runs in logit coordinates of each prior box, ``z = logit((x - low) / (high - low))``
(never outside the prior; the uniform prior's density in z is ``sigma(z)(1 - sigma(z))``), with
increments ``scale * L e``, ``L`` the Cholesky factor of the covariance of the last generation's
particles (unweighted: their spread, not the few that carry the weight) and ``scale`` starting
at ``2.38 / sqrt(d)`` (Roberts and Rosenthal 2001), multiplied by 0.6 after a move that accepted
fewer than 15% and by 1.5 after one that accepted more than 45%. All proposals, seeds and
acceptance draws come from one generator seeded by ``seed``; the simulations of a move run side
by side in ``workers`` blocks, whose results do not depend on the split: the moved population
depends on the seed only.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from experiments.abc_smc import (
    ObservationVariance,
    SeriesStudentKernel,
    SimulatorModel,
    SmcSettings,
    discrepancy_priors,
    resample,
)
from experiments.sampling import Prior
from experiments.targets import Target
from sim import progress
from sim.params import Params

LOW_ACCEPTANCE, HIGH_ACCEPTANCE = 0.15, 0.45  # a move's acceptance rate outside these rescales the next step
SHRINK, GROW = 0.6, 1.5


def to_logit(x: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Logit coordinates of points ``x`` (rows) in the box [low, high]."""
    u = np.clip((x - low) / (high - low), 1e-12, 1.0 - 1e-12)
    return np.asarray(np.log(u) - np.log1p(-u))


def from_logit(z: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """The points of the box whose logit coordinates are ``z``."""
    return np.asarray(low + (high - low) / (1.0 + np.exp(-z)))


def log_prior_in_logit(z: np.ndarray) -> np.ndarray:
    """Log density of a uniform prior in logit coordinates, up to a constant: ``sum log sigma(z)(1 - sigma(z))``."""
    return np.asarray(-np.sum(np.logaddexp(0.0, -z) + np.logaddexp(0.0, z), axis=-1))


def _simulate_all(
    model: SimulatorModel,
    pars: list[dict[str, float]],
    seeds: list[list[int]],
    pool: ProcessPoolExecutor | None,
    workers: int,
) -> list[dict[str, Any]]:
    """Summaries of every point, in ``workers`` blocks run side by side (the same values whatever the split)."""
    if pool is None:
        return model.simulate(pars, seeds)
    size = -(-len(pars) // workers)
    futures = [pool.submit(model.simulate, pars[i : i + size], seeds[i : i + size]) for i in range(0, len(pars), size)]
    return [s for f in futures for s in f.result()]


def rejuvenate(
    population: pd.DataFrame,
    model: SimulatorModel,
    observation: ObservationVariance,
    priors: Sequence[Prior],
    temperature: float,
    moves: int,
    seed: int,
    workers: int = 1,
    bar: tqdm | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Bring ``population`` (a generation at ``temperature``) to T = 1: reweight, resample, move (see the module).

    A generation stopped above T = 1 by the budget is first reweighted by ``p(y | theta)^(1 - 1/T)``
    (the last step of the tempering, taken at once: an SMC sampler's reweighting), then resampled to
    equal weights, and each particle moved ``moves`` times by Metropolis-Hastings steps invariant for
    the posterior at T = 1.

    Parameters
    ----------
    population : DataFrame
        The last generation (:func:`experiments.abc_smc.last_population`): a column per prior key
        (parameters and discrepancies), ``weight`` and ``log_likelihood``.
    model, observation
        The calibration's simulator and observation model; ``priors`` every prior box, discrepancies
        included, in the order of ``population``'s columns.

    Returns
    -------
    frame, info
        The moved particles (equal weights, their log-likelihoods, ``particle`` numbered anew,
        ``ancestor``: the particle of ``population`` each descends from) and each move's acceptance
        rate and step scale, the ancestors (and their effective number), the distinct particles
        after, the points simulated.
    """
    keys = [p.key for p in priors]
    low, high = np.array([p.low for p in priors]), np.array([p.high for p in priors])
    step = 1.0 - 1.0 / temperature  # from the generation's target to T = 1
    log_likelihood = population["log_likelihood"].to_numpy(dtype=float)
    weight = population["weight"].to_numpy(dtype=float) * np.exp(step * (log_likelihood - log_likelihood.max()))
    weight /= weight.sum()
    reweighted = float(1.0 / np.sum(weight**2))
    moved = resample(population.assign(weight=weight), len(population), seed)
    ancestor = moved["particle"].to_numpy()  # moves never change a particle's ancestor
    copies = np.bincount(ancestor)
    copies = copies[copies > 0]
    z = to_logit(moved[keys].to_numpy(dtype=float), low, high).copy()
    log_likelihood = moved["log_likelihood"].to_numpy(dtype=float).copy()
    # the particles' spread in z; fewer particles than dimensions (a rule nearly dead in model
    # choice) cannot define one: a unit spread then (a uniform prior's sd in z is 1.81)
    particles = to_logit(population[keys].to_numpy(dtype=float), low, high)
    spread = np.cov(particles, rowvar=False) if len(particles) > len(keys) else np.eye(len(keys))
    root = np.linalg.cholesky(spread + 1e-9 * np.eye(len(keys)))
    kernel = SeriesStudentKernel(var=observation, keys=[t.name for t in model.targets])
    observed = {t.name: t.observed for t in model.targets}
    rng = np.random.default_rng([seed, 0x6D6F7665])  # "move": a stream of its own
    scale = 2.38 / np.sqrt(len(keys))
    rates, scales = [], []
    pool = None
    if workers > 1:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver"))
    try:
        for _ in range(moves):
            proposal = z + scale * rng.standard_normal(z.shape) @ root.T
            seeds = rng.integers(0, 2**31 - 1, size=(len(z), model.seeds)).tolist()
            pars = [dict(zip(keys, row, strict=True)) for row in from_logit(proposal, low, high).tolist()]
            summaries = _simulate_all(model, pars, seeds, pool, workers)
            proposed = np.array([kernel(s, observed, par=p) for s, p in zip(summaries, pars, strict=True)])
            log_ratio = log_prior_in_logit(proposal) - log_prior_in_logit(z) + (proposed - log_likelihood)
            accept = np.log(rng.random(len(z))) < log_ratio
            z[accept], log_likelihood[accept] = proposal[accept], proposed[accept]
            rates.append(round(float(accept.mean()), 4))
            scales.append(round(float(scale), 4))
            scale *= SHRINK if rates[-1] < LOW_ACCEPTANCE else GROW if rates[-1] > HIGH_ACCEPTANCE else 1.0
            if bar is not None:
                bar.update(len(z))
    finally:
        if pool is not None:
            pool.shutdown()
    values = from_logit(z, low, high)
    frame = pd.DataFrame(values, columns=keys).assign(
        weight=1.0 / len(values), log_likelihood=log_likelihood, particle=np.arange(len(values)), ancestor=ancestor
    )
    info = {
        "moves": moves,
        "from_temperature": temperature,
        "effective_sample_size_reweighted_to_1": round(reweighted, 1),
        "acceptance_rates": rates,
        "step_scales": scales,
        "ancestors": len(copies),
        # Kish's size of the ancestors' copy counts: how many independent draws the moved sample is
        # worth at most, since 8 moves do not make copies of one ancestor independent
        "effective_ancestors": round(float(copies.sum() ** 2 / np.sum(copies**2)), 1),
        "distinct_after": len(np.unique(values, axis=0)),
        "points_simulated": moves * len(values),
    }
    return frame, info


def move_population(
    population: pd.DataFrame,
    base: Params,
    priors: Sequence[Prior],
    targets: Sequence[Target],
    settings: SmcSettings,
    temperature: float,
    label: str,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """:func:`rejuvenate` the last generation of the calibration of ``base`` (its priors, targets, settings)."""
    model = SimulatorModel(base, priors, targets, settings.seeds)
    boxes = [*priors, *discrepancy_priors(targets)]
    with progress.bar(total=settings.moves * len(population), desc=f"{label}: moves", unit="point") as bar:
        return rejuvenate(
            population,
            model,
            ObservationVariance.of(targets),
            boxes,
            temperature,
            settings.moves,
            settings.seed,
            settings.workers,
            bar,
        )
