"""Sequential Monte Carlo ABC with pyabc: exact inference under an observation model.

The method (docs/ODD.md, B.7): pyabc's ABC-SMC (Klinger et al. 2018) with a stochastic acceptor
(Wilkinson 2013; Schälte and Hasenauer 2020) under a tempered likelihood. The observation model:

    observed_i = simulated_i + e_i,   e_i ~ Normal(0, lam_s (sd_i**2 + (delta_f * unit_i)**2))

with one factor ``lam_s ~ InvGamma(SERIES_DF / 2, SERIES_DF / 2)`` per target series s, integrated
out (each series' residuals are multivariate Student t: the series of a family fit unequally well).

``sd_i`` is the measurement error of observation i (``experiments/targets.py``: survey sampling
error, SIPRI's uncertainty), ``delta_f`` the model discrepancy of its family f (a parameter with a
uniform prior, inferred with the model's parameters), ``unit_i`` the family's unit (the series'
mean for spending shares, one for shares of respondents). ``simulated_i`` is the mean over
``seeds`` runs of the particle (the model's expected path; the discrepancy carries the rest).

Generation t targets the posterior with its likelihood raised to ``1/T_t``. A proposed particle
with log-density ``l`` is accepted with probability ``min(1, exp((l - c_t) / T_t))`` and, when
``l > c_t``, weighted by ``exp((l - c_t) / T_t)`` (pyabc's importance weighting: rejection
control, exact whatever ``c_t``). Both are chosen from the last stored generation
(:func:`next_temperature`, :func:`acceptance_norm`): the next inverse temperature keeps a
conditional effective sample size of ``ess_target`` (Zhou, Johansen and Aston 2016), and ``c_t``
is lowered below the highest density found when the acceptance rate would otherwise fall under
``acceptance_target``. The temperature reaches 1 (the exact posterior) as soon as the data allow
it; the calibration stops at T = 1 once the last generation's effective sample size reaches
``min_ess``, or when the next generation would exceed the budget.

Batched and reproducible: the sampler draws a round's proposals, runs all of them in one engine
call per worker (:func:`run_points`), then accepts or rejects each; particle k of round r of
generation t takes its random numbers from the seed ``(seed, t, r, k)``, whatever the number of
workers, and every generation is computed from the SQLite history alone (pyabc's ``load``), so a
calibration killed and restarted gives the same posterior as one left alone.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import logging
import math
import multiprocessing
import random
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import pandas as pd
import pyabc
import sqlalchemy
from pyabc.epsilon.temperature import TemperatureScheme
from pyabc.inference_util.inference_util import (
    _simulate_one,
    _simulate_one_from_prior,
    evaluate_proposal,
    generate_valid_proposal,
)
from pyabc.parameters import Parameter
from pyabc.population import Particle, Sample
from pyabc.sampler import Sampler
from pyabc.transition import Transition
from scipy import optimize, stats
from tqdm import tqdm

from experiments.sampling import Prior, point_params
from experiments.targets import Target
from sim import progress
from sim.ensemble import simulate_points
from sim.params import Params
from sim.records import tables as build_tables

log = logging.getLogger("experiments")
DISCREPANCY_PREFIX = "discrepancy."
# Upper bounds of the uniform discrepancy priors, in the family's unit (fractions of the series'
# mean for spending shares; shares of respondents otherwise): wide enough not to bind.
DISCREPANCY_MAX = {
    "japan_spending": 0.5,
    "sea_spending": 0.5,
    "japan_opinion": 0.3,
    "iseas_forced_choice": 0.3,
    "iseas_trust": 0.3,
}
SPENDING_FAMILIES = ("japan_spending", "sea_spending")
# Degrees of freedom of the series' error scales: each target series' error variance is its
# family's times a factor drawn from InvGamma(SERIES_DF / 2, SERIES_DF / 2) (docs/ODD.md, B.7),
# integrated out (a Student t per series). Four, fixed a priori: the smallest whole number whose
# factor has a finite mean, heavy-tailed enough that one series' error may be several times
# another's within a family.
SERIES_DF = 4.0


@dataclass(frozen=True)
class SmcSettings:
    """How one calibration runs: population, budget, seeds per point, workers, tempering."""

    population: int  # particles of every generation at temperature 1 (the posterior's)
    generations: int  # at most
    max_points: int  # parameter points simulated at most (each run with ``seeds`` seeds)
    seeds: int
    workers: int
    seed: int
    ess_target: float = 0.5  # conditional ESS kept from one temperature to the next
    acceptance_target: float = 0.3  # the acceptance rate below which c is lowered
    min_ess: float = 0.0  # effective sample size of the last generation at T = 1 to stop
    min_acceptance_rate: float = 0.02  # a generation stops (is not stored) past population / this
    early_population: int = 0  # particles of the tempered generations (0: ``population``)
    moves: int = 0  # Metropolis-Hastings moves of every particle after the last generation (mcmc_moves.py)


def family_unit(target: Target) -> float:
    """The unit of a target's discrepancy: the series' mean for spending shares, 1 for shares."""
    return float(np.mean(target.observed)) if target.family in SPENDING_FAMILIES else 1.0


def discrepancy_priors(targets: Sequence[Target]) -> list[Prior]:
    """One uniform discrepancy prior per target family present."""
    families = dict.fromkeys(t.family for t in targets)
    return [Prior(DISCREPANCY_PREFIX + f, 0.0, DISCREPANCY_MAX[f]) for f in families]


# --- simulation of parameter points ------------------------------------------------------------


def run_points(params_list: Sequence[Params], seeds: Sequence[Sequence[int]]) -> list[dict[str, pd.DataFrame]]:
    """States and outcomes of every point (``params_list[k]`` run with ``seeds[k]``), the points run side by side."""
    trajectories = simulate_points(params_list, [list(s) for s in seeds])
    return [
        build_tables(traj, params.params.outcome.action_log_threshold, ("states", "outcomes"))
        for params, traj in zip(params_list, trajectories, strict=True)
    ]


def summaries(points: Sequence[dict[str, pd.DataFrame]], targets: Sequence[Target]) -> list[dict[str, np.ndarray]]:
    """Each point's model value of each target in its observed years: the mean over the point's runs.

    ``points`` holds each point's tables. A run's annual value is the mean of its quarters; every
    run has the same quarters, so the mean over all rows of a year is the mean over runs of their
    annual values. All points are grouped at once (one group-by per table, not one per point).
    """
    state_columns = sorted({t.column for t in targets if t.actor})
    outcome_columns = sorted({t.column for t in targets if not t.actor})
    states = pd.concat([p["states"][["actor", "year", *state_columns]].assign(point=k) for k, p in enumerate(points)])
    outcomes = pd.concat([p["outcomes"][["year", *outcome_columns]].assign(point=k) for k, p in enumerate(points)])
    state_means = states.groupby(["actor", "point", "year"])[state_columns].mean()
    outcome_means = outcomes.groupby(["point", "year"])[outcome_columns].mean()
    out: list[dict[str, np.ndarray]] = [{} for _ in points]
    for target in targets:
        frame = state_means.xs(target.actor, level="actor") if target.actor else outcome_means
        column: pd.Series = frame[target.column]
        grid = column.unstack("year").reindex(index=range(len(points)), columns=target.years).to_numpy(dtype=float)
        values = (1.0 + grid) / 2.0 if target.transform == "alignment_to_share" else grid
        for k in range(len(points)):
            out[k][target.name] = values[k]
    return out


class SimulatorModel(pyabc.Model):
    """pyabc's model: a particle's parameters -> the mean of its ``seeds`` runs at the targets.

    The sampler runs a round's points together (:meth:`simulate`) and hands each result to
    :meth:`sample` through :meth:`preload`, so that pyabc's acceptance step sees the same values
    as if it had run the point itself.
    """

    def __init__(self, base: Params, priors: Sequence[Prior], targets: Sequence[Target], seeds: int) -> None:
        super().__init__(base.params.alignment_rule)
        self.base, self.priors, self.targets, self.seeds = base, tuple(priors), tuple(targets), seeds
        self._preloaded: dict[str, np.ndarray] | None = None

    def draw_seeds(self) -> list[int]:
        """A point's run seeds, from numpy's global generator (seeded per particle by the sampler)."""
        return [int(s) for s in np.random.randint(0, 2**31 - 1, size=self.seeds)]  # noqa: NPY002

    def simulate(self, pars: Sequence[dict[str, float]], seeds: Sequence[Sequence[int]]) -> list[dict[str, np.ndarray]]:
        """Every point's summaries, the points run together."""
        params_list = [point_params(self.base, self.priors, [p[q.key] for q in self.priors]) for p in pars]
        return summaries(run_points(params_list, seeds), self.targets)

    def preload(self, result: dict[str, np.ndarray]) -> None:
        """The result that the next :meth:`sample` returns."""
        self._preloaded = result

    def sample(self, pars: dict[str, float]) -> dict[str, np.ndarray]:
        if self._preloaded is not None:
            result, self._preloaded = self._preloaded, None
            return result
        return self.simulate([pars], [self.draw_seeds()])[0]


@dataclass(frozen=True)
class ObservationVariance:
    """Variance of every observation (kernel order): measurement error plus family discrepancy."""

    measurement: np.ndarray
    units: np.ndarray
    families: tuple[str, ...]  # of every observation

    @classmethod
    def of(cls, targets: Sequence[Target]) -> ObservationVariance:
        measurement = np.concatenate([t.sd**2 for t in targets])
        units = np.concatenate([np.full(len(t.years), family_unit(t)) for t in targets])
        families = tuple(t.family for t in targets for _ in t.years)
        return cls(measurement, units, families)

    def __call__(self, par: dict[str, float]) -> np.ndarray:
        delta = np.array([par[DISCREPANCY_PREFIX + f] for f in self.families])
        return self.measurement + (delta * self.units) ** 2


def series_log_density(residual: np.ndarray, variance: np.ndarray, df: float = SERIES_DF) -> float:
    """Log density of one series' residuals: a multivariate Student t, Normal(0, lam diag(variance)) with
    lam ~ InvGamma(df / 2, df / 2) integrated out."""
    n = residual.size
    quadratic = float(np.sum(residual**2 / variance))
    return float(
        math.lgamma((df + n) / 2.0)
        - math.lgamma(df / 2.0)
        - 0.5 * n * math.log(df * math.pi)
        - 0.5 * float(np.sum(np.log(variance)))
        - 0.5 * (df + n) * math.log1p(quadratic / df)
    )


def series_scale_draws(
    residual_squares: np.ndarray, n: np.ndarray, rng: np.random.Generator, df: float = SERIES_DF
) -> np.ndarray:
    """Draws of series' variance factors lam given their residuals: InvGamma((df + n) / 2, (df + q) / 2).

    ``residual_squares`` is each series' sum of squared standardised residuals q (0 where ``n`` is 0:
    a series without observations draws from the prior InvGamma(df / 2, df / 2)).
    """
    return (df + residual_squares) / rng.chisquare(df + n)


class SeriesStudentKernel(pyabc.IndependentNormalKernel):
    """pyabc's stochastic kernel: each target series' residuals multivariate Student t (:func:`series_log_density`).

    The variances are those of :class:`ObservationVariance`; the series are the targets (``keys``).
    """

    def __call__(self, x: dict, x_0: dict, t: int | None = None, par: dict | None = None) -> float:
        variance = np.asarray(self.var(par) if callable(self.var) else self.var, dtype=float)
        total, start = 0.0, 0
        for key in self.keys:
            residual = np.atleast_1d(np.asarray(x[key], dtype=float) - np.asarray(x_0[key], dtype=float))
            total += series_log_density(residual, variance[start : start + residual.size])
            start += residual.size
        return total


# --- tempering: the next temperature and the acceptance normalisation --------------------------


def _normalised(weights: np.ndarray) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return w / w.sum()


def conditional_ess(weights: np.ndarray, log_density: np.ndarray, step: float) -> float:
    """Conditional ESS (0..1) of reweighting a population by ``exp(step * log_density)`` (Zhou et al. 2016)."""
    w = _normalised(weights)
    u = np.exp(step * (log_density - np.max(log_density)))
    return float(np.sum(w * u) ** 2 / np.sum(w * u**2))


def next_temperature(weights: np.ndarray, log_density: np.ndarray, previous: float, ess_target: float) -> float:
    """The lowest temperature (at least 1) whose reweighting keeps a conditional ESS of ``ess_target``.

    ``weights`` and ``log_density`` are the last generation's (at temperature ``previous``, ``inf``
    for a sample of the prior).
    """
    beta0 = 0.0 if not math.isfinite(previous) else 1.0 / previous
    if beta0 >= 1.0 or conditional_ess(weights, log_density, 1.0 - beta0) >= ess_target:
        return 1.0

    def gap(log_step: float) -> float:
        return conditional_ess(weights, log_density, math.exp(log_step)) - ess_target

    low = math.log(1e-12)
    if gap(low) <= 0.0:  # even a vanishing step loses too much (a degenerate population): smallest step
        return 1.0 / (beta0 + 1e-12)
    step = math.exp(optimize.brentq(gap, low, math.log(1.0 - beta0), xtol=1e-6))
    return 1.0 / (beta0 + step)


def acceptance_norm(
    weights: np.ndarray, log_density: np.ndarray, temperature: float, acceptance_target: float
) -> float:
    """The normalisation c of the acceptance step at ``temperature``.

    The highest density of the last generation, lowered until the expected acceptance rate of
    particles like the last generation's, ``sum w min(1, exp((l - c) / T))``, reaches
    ``acceptance_target``. Particles above c are weighted (exact whatever c).
    """
    w = _normalised(weights)
    top = float(np.max(log_density))

    def rate(c: float) -> float:
        return float(np.sum(w * np.minimum(1.0, np.exp((log_density - c) / temperature))))

    if rate(top) >= acceptance_target:
        return top
    return float(optimize.brentq(lambda c: rate(c) - acceptance_target, float(np.min(log_density)) - 1.0, top))


@dataclass
class Tempering:
    """The next temperature and acceptance normalisation, from the last generation and its temperature."""

    previous: float  # the last stored generation's temperature (inf before the first)
    ess_target: float
    acceptance_target: float

    def choose(self, frame: pd.DataFrame) -> tuple[float, float]:
        """(temperature, c) from pyabc's weighted distances (log-densities) of the last generation."""
        weights, density = frame["w"].to_numpy(dtype=float), frame["distance"].to_numpy(dtype=float)
        temperature = next_temperature(weights, density, self.previous, self.ess_target)
        return temperature, acceptance_norm(weights, density, temperature, self.acceptance_target)


@dataclass
class TemperingNorm:
    """pyabc's ``pdf_norm_method`` from a :class:`Tempering`."""

    tempering: Tempering

    def __call__(self, get_weighted_distances: Callable[[], pd.DataFrame], **_: Any) -> float:
        return self.tempering.choose(get_weighted_distances())[1]


class TemperingScheme(TemperatureScheme):
    """pyabc's temperature scheme from a :class:`Tempering`."""

    def __init__(self, tempering: Tempering) -> None:
        self.tempering = tempering

    def __call__(self, get_weighted_distances: Callable[[], pd.DataFrame], **_: Any) -> float:
        return self.tempering.choose(get_weighted_distances())[0]

    def requires_distances(self) -> bool:
        return True


# --- the proposal ----------------------------------------------------------------------------------


class LogitStudentTransition(Transition):
    """A smooth proposal: the prior for uninformed parameters, a Student t in logit coordinates for the rest.

    pyabc's default proposal, a kernel density estimate, is a mixture of narrow Gaussians: in 20
    and more dimensions its density swings by orders of magnitude between the particles, and so
    do the importance weights (prior over proposal density). Here parameters whose weighted
    spread is still at least ``informed_ratio`` of their prior's are proposed from their uniform
    prior (their weight factor is exactly 1); the others from one multivariate Student t with
    ``tail_df`` degrees of freedom fitted to the weighted particles after mapping each
    parameter's box (low, high) to the real line, ``z = logit((x - low) / (high - low))``
    (smooth; never outside the prior). Its covariance is the weighted sample covariance shrunk
    towards its diagonal by ``d / (5 ESS + d)`` (only as much as few particles in many dimensions
    need: shrinking breaks the posterior's ridges) and inflated by ``inflation``. A uniform prior
    maps to a logistic in z, whose exponential tails are heavier than a normal's: with a normal,
    prior over proposal would grow without bound near the box's edges; the t's polynomial tails
    keep it bounded. With all the weight on one particle it is fitted with equal weights.
    """

    def __init__(
        self,
        bounds: dict[str, tuple[float, float]],
        inflation: float = 1.0,
        tail_df: float = 5.0,
        informed_ratio: float = 0.85,
    ) -> None:
        self.bounds, self.inflation, self.tail_df, self.informed_ratio = bounds, inflation, tail_df, informed_ratio

    def _z(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Logit coordinates of the informed columns of ``x`` (rows in ``self.X``'s order) and log |dz/dx|."""
        low, high = self._box
        u = np.clip((x[:, self._informed] - low) / (high - low), 1e-12, 1.0 - 1e-12)
        return np.log(u) - np.log1p(-u), -np.log(u * (1.0 - u) * (high - low))

    def fit(self, X: pd.DataFrame, w: np.ndarray) -> None:
        keys = list(X.columns)
        low, high = (np.array([self.bounds[k][i] for k in keys]) for i in (0, 1))
        x, weights = X.to_numpy(dtype=float), _normalised(w)
        if len(x) > 1 and float(np.sum(weights**2)) >= 1.0 - 1e-12:
            # all the weight on one particle: its covariance is 0/0; fit with equal weights
            # (any proposal is valid, the importance weights use its density)
            weights = np.full(len(x), 1.0 / len(x))
        spread = np.sqrt(weights @ (x - weights @ x) ** 2)
        self._informed = spread < self.informed_ratio * (high - low) / np.sqrt(12.0)
        self._low, self._high = low, high
        self._box = (low[self._informed], high[self._informed])
        self._prior = float(np.prod(1.0 / (high - low)))
        dim = int(self._informed.sum())
        if dim == 0:
            return
        z, _ = self._z(x)
        self._mean = weights @ z
        centred = z - self._mean
        cov = (centred * weights[:, None]).T @ centred / max(1.0 - float(np.sum(weights**2)), 1e-12)
        shrink = dim / (5.0 * effective_sample_size(weights) + dim)
        cov = (1.0 - shrink) * cov + shrink * np.diag(np.diag(cov))
        shape = self.inflation * (cov + 1e-12 * np.eye(dim)) * (self.tail_df - 2.0) / self.tail_df  # t's covariance
        self._t = stats.multivariate_t(loc=self._mean, shape=shape, df=self.tail_df)  # its density
        self._root = np.linalg.cholesky(shape)

    def rvs_single(self) -> Parameter:
        # pyabc draws from numpy's global generator (seeded per particle by the sampler)
        x = self._low + (self._high - self._low) * np.random.random(len(self._low))  # noqa: NPY002
        if self._informed.any():
            # from the global generator itself: a frozen scipy distribution keeps its own copy of
            # the generator, which pickling to a worker duplicates (every particle the same draw)
            normal = self._root @ np.random.standard_normal(len(self._mean))  # noqa: NPY002
            z = self._mean + normal / np.sqrt(np.random.chisquare(self.tail_df) / self.tail_df)  # noqa: NPY002
            low, high = self._box
            x[self._informed] = low + (high - low) / (1.0 + np.exp(-z))
        return Parameter(dict(zip(self.X.columns, (float(v) for v in x), strict=True)))

    def pdf(self, x: Parameter | pd.Series | pd.DataFrame) -> float | np.ndarray:
        keys = list(self.X.columns)
        single = not isinstance(x, pd.DataFrame)
        rows = np.atleast_2d(np.array([x[k] for k in keys], dtype=float) if single else x[keys].to_numpy(dtype=float))
        density = np.full(len(rows), self._prior)
        if self._informed.any():
            z, log_jacobian = self._z(rows)
            low, high = self._box
            informed = np.exp(np.reshape(self._t.logpdf(z), -1) + log_jacobian.sum(axis=1))
            density = informed * self._prior * np.prod(high - low)  # the uninformed columns' prior density
        return float(density[0]) if single else density


# --- the sampler ---------------------------------------------------------------------------------


def task_seed(seed: int, t: int, round_: int, k: int) -> int:
    """The seed of particle ``k`` of round ``round_`` of generation ``t`` (t = -1: calibration)."""
    return int(np.random.SeedSequence([seed, t + 1, round_, k]).generate_state(1)[0])


def _seed_globals(seed: int) -> None:
    np.random.seed(seed)  # noqa: NPY002 (pyabc samples with numpy's global generator)
    random.seed(seed)


def simulate_proposals(
    models: Sequence[SimulatorModel], proposals: Sequence[tuple[tuple[int, Any], list[int]]]
) -> list[dict[str, np.ndarray]]:
    """The summaries of every proposal ``((m, parameters), run seeds)``, each model's points run together."""
    results: list[dict[str, np.ndarray]] = [{} for _ in proposals]
    for m, model in enumerate(models):
        rows = [k for k, ((mk, _), _) in enumerate(proposals) if mk == m]
        if rows:
            done = model.simulate([dict(proposals[k][0][1]) for k in rows], [proposals[k][1] for k in rows])
            for k, result in zip(rows, done, strict=True):
                results[k] = result
    return results


def _run_tasks(payload: bytes, seeds: Sequence[int]) -> list[Particle]:
    """pyabc's ``simulate_one`` once per seed, the points of a :class:`SimulatorModel` run together.

    Each particle draws its proposal and its run seeds, the points run in one batch, then each
    particle's acceptance step continues from its own generator state: the same particles as
    evaluating ``simulate_one`` seed by seed.
    """
    simulate_one = cloudpickle.loads(payload)
    kw = getattr(simulate_one, "keywords", {})
    models = kw.get("models", [])
    batched = all(isinstance(m, SimulatorModel) for m in models) and simulate_one.func in (
        _simulate_one,
        _simulate_one_from_prior,
    )
    if not batched or (simulate_one.func is _simulate_one and not kw["evaluate"]):
        out = []
        for s in seeds:
            _seed_globals(s)
            out.append(simulate_one())
        return out
    from_prior = simulate_one.func is _simulate_one_from_prior
    proposals, states = [], []
    for s in seeds:
        _seed_globals(s)
        if from_prior:
            m = int(kw["model_prior"].rvs())
            proposal = (m, kw["parameter_priors"][m].rvs())
        else:
            names = ("t", "m", "p", "model_prior", "parameter_priors", "model_perturbation_kernel", "transitions")
            proposal = generate_valid_proposal(**{k: kw[k] for k in names})
        run_seeds = models[proposal[0]].draw_seeds()
        proposals.append((proposal, run_seeds))
        states.append((np.random.get_state(), random.getstate()))  # noqa: NPY002
    results = simulate_proposals(models, proposals)
    out = []
    for ((m, theta), _), (np_state, py_state), result in zip(proposals, states, results, strict=True):
        np.random.set_state(np_state)  # noqa: NPY002
        random.setstate(py_state)
        if from_prior:  # as pyabc's _simulate_one_from_prior
            out.append(Particle(m=m, parameter=theta, weight=1.0, sum_stat=result, distance=np.inf, accepted=True))
            continue
        models[m].preload(result)
        names = ("t", "models", "summary_statistics", "distance_function", "eps", "acceptor", "x_0")
        out.append(
            evaluate_proposal(
                m,
                theta,
                **{k: kw[k] for k in names},
                weight_function=kw["weight_function"],
                proposal_id=kw["proposal_id"],
            )
        )
    return out


class OrderedBatchSampler(Sampler):
    """A pyabc sampler whose result depends on the seed only, not on the workers or their timing.

    Each round evaluates a batch of particles (sized from the acceptance rate so far), split in
    one block per worker (each block run in one engine batch), and keeps them in their index
    order up to the n-th accepted one, as pyabc's own samplers do to avoid favouring fast
    simulations.
    """

    def __init__(self, workers: int, seed: int, bar: tqdm | None = None, max_block: int = 64) -> None:
        super().__init__()
        self.workers, self.seed, self.bar, self.max_block = workers, seed, bar, max_block
        self.simulated = 0  # particles simulated, those discarded after the n-th acceptance included
        self._pool: ProcessPoolExecutor | None = None

    def _blocks(self, seeds: list[int]) -> list[list[int]]:
        size = min(self.max_block, max(1, math.ceil(len(seeds) / max(self.workers, 1))))
        return [seeds[i : i + size] for i in range(0, len(seeds), size)]

    def _evaluate(self, payload: bytes, seeds: list[int]) -> list[Particle]:
        blocks = self._blocks(seeds)
        if self.workers <= 1:
            results = []
            for block in blocks:
                results.append(_run_tasks(payload, block))
                self._advance(len(block))
        else:
            if self._pool is None:
                context = multiprocessing.get_context("forkserver")  # fork from a threaded process can deadlock
                self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
            futures: list[Future[list[Particle]]] = [self._pool.submit(_run_tasks, payload, b) for b in blocks]
            for future, block in zip(futures, blocks, strict=True):
                future.add_done_callback(functools.partial(self._done, len(block)))
            results = [f.result() for f in futures]
        self.simulated += len(seeds)
        return [p for block in results for p in block]

    def _done(self, n: int, _future: Future[list[Particle]]) -> None:
        self._advance(n)

    def _advance(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def sample_until_n_accepted(
        self,
        n: int,
        simulate_one: Callable[[], Particle],
        t: int,
        *,
        max_eval: float = np.inf,
        all_accepted: bool = False,
        ana_vars: Any = None,
    ) -> Sample:
        payload = cloudpickle.dumps(simulate_one)
        sample = self._create_empty_sample()
        accepted = evaluated = round_ = 0
        while accepted < n and evaluated < max_eval:
            rate = 1.0 if all_accepted or evaluated == 0 else max(accepted / evaluated, 0.01)
            size = math.ceil((n - accepted) / rate * (1.0 if all_accepted else 1.2))
            size = int(min(max(size, 2 * self.workers), 4 * n, max_eval - evaluated))
            for particle in self._evaluate(payload, [task_seed(self.seed, t, round_, k) for k in range(size)]):
                sample.append(particle)
                evaluated += 1
                accepted += bool(particle.accepted)
                if accepted == n:
                    break
            round_ += 1
        self.nr_evaluations_ = evaluated
        if accepted < n:
            sample.ok = False
        return sample

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


# --- the calibration ---------------------------------------------------------------------------


def prior_distribution(priors: Sequence[Prior]) -> pyabc.Distribution:
    """pyabc's uniform prior over ``priors``."""
    return pyabc.Distribution(**{p.key: pyabc.RV("uniform", p.low, p.high - p.low) for p in priors})


def _build(
    models: Sequence[SimulatorModel],
    observation: ObservationVariance,
    priors: Sequence[Sequence[Prior]],
    settings: SmcSettings,
    sampler: OrderedBatchSampler,
    previous_temperature: float,
    population: int,
) -> pyabc.ABCSMC:
    keys = [t.name for t in models[0].targets]
    minimum = observation({DISCREPANCY_PREFIX + f: 0.0 for f in set(observation.families)})
    sizes = np.cumsum([0, *(len(t.years) for t in models[0].targets)])
    highest = sum(series_log_density(np.zeros(b - a), minimum[a:b]) for a, b in itertools.pairwise(sizes))
    kernel = SeriesStudentKernel(var=observation, keys=keys, pdf_max=float(highest))
    tempering = Tempering(previous_temperature, settings.ess_target, settings.acceptance_target)
    scheme = TemperingScheme(tempering)
    return pyabc.ABCSMC(
        list(models),  # several: ABC model choice, a uniform prior over them (pyabc's default)
        [prior_distribution(p) for p in priors],
        kernel,
        transitions=[LogitStudentTransition({q.key: (q.low, q.high) for q in p}) for p in priors],
        population_size=population,
        eps=pyabc.Temperature(schemes=[scheme], initial_temperature=scheme, enforce_exact_final_temperature=False),
        acceptor=pyabc.StochasticAcceptor(pdf_norm_method=TemperingNorm(tempering)),
        sampler=sampler,
    )


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size of weighted particles."""
    w = _normalised(weights)
    return float(1.0 / np.sum(w**2))


def generations_table(history: pyabc.History) -> pd.DataFrame:
    """One row per stored generation: t, temperature, points simulated, acceptance rate, ESS."""
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0]
    ess = [effective_sample_size(history.get_weighted_distances(t=int(t))["w"].to_numpy()) for t in pops["t"]]
    return pd.DataFrame(
        {
            "t": pops["t"].astype(int).to_numpy(),
            "temperature": pops["epsilon"].astype(float).to_numpy(),
            "points": pops["samples"].astype(int).to_numpy(),
            "acceptance_rate": (pops["particles"] / pops["samples"]).astype(float).round(4).to_numpy(),
            "ess": np.round(ess, 1),
        }
    )


def previous_temperature(history: pyabc.History) -> float:
    """The temperature of the last stored generation (inf before the first)."""
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0]
    return float(pops["epsilon"].iloc[-1]) if len(pops) else math.inf


def next_generation(history: pyabc.History, settings: SmcSettings) -> tuple[float, int]:
    """The last stored generation's temperature (inf before the first) and the next one's population.

    The next generation has ``population`` particles if it will be at temperature 1 (the choice
    :class:`Tempering` makes from the same stored generation), ``early_population`` otherwise.
    """
    previous = previous_temperature(history)
    early = settings.early_population or settings.population
    if not math.isfinite(previous):
        return previous, early
    tempering = Tempering(previous, settings.ess_target, settings.acceptance_target)
    exact = tempering.choose(history.get_weighted_distances(t=history.max_t))[0] <= 1.0
    return previous, settings.population if exact else early


def finished(history: pyabc.History, settings: SmcSettings) -> str:
    """Why a stored calibration is complete ("" if it is not), from its history alone.

    Complete at temperature 1 with an effective sample size of at least ``min_ess``, after
    ``generations`` generations, or when the next generation, at the last one's acceptance rate,
    would take the calibration past its budget.
    """
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0]
    if pops.empty:
        return ""
    last = pops.iloc[-1]
    ess = effective_sample_size(history.get_weighted_distances(t=int(last["t"]))["w"].to_numpy())
    if float(last["epsilon"]) <= 1.0 and ess >= settings.min_ess:
        return f"reached temperature 1 (the exact posterior) with an effective sample size of {ess:.0f}"
    if int(last["t"]) + 1 >= settings.generations:
        return f"reached {settings.generations} generations"
    used = int(history.total_nr_simulations)
    expected = next_generation(history, settings)[1] * float(last["samples"]) / max(float(last["particles"]), 1.0)
    if used + expected > settings.max_points:
        return f"the next generation (about {expected:.0f} points) would exceed the budget of {settings.max_points}"
    return ""


def stored_generations(db: Path) -> int:
    """Generations completely stored in ``db`` (0 for a missing, new or unreadable database)."""
    if not db.is_file():
        return 0
    try:  # read-only: never creates the file
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as connection:
            return int(connection.execute("SELECT count(*) FROM populations WHERE t >= 0").fetchone()[0])
    except sqlite3.Error:
        return 0


def _open(abc: pyabc.ABCSMC, db: Path, x_0: dict[str, np.ndarray], label: str) -> pyabc.History:
    """Continue the run stored in ``db``, or start one; a database killed while being created restarts."""
    url = f"sqlite:///{db}"
    if db.exists():
        try:
            return abc.load(url, 1)
        except (AssertionError, sqlalchemy.exc.SQLAlchemyError) as err:  # killed before its first commit
            log.warning("%s: %s is incomplete (%s); starting again", label, db, err)
            db.unlink()
    return abc.new(url, x_0)


def _stored_next(db: Path, settings: SmcSettings) -> tuple[float, int]:
    if not stored_generations(db):
        return math.inf, settings.early_population or settings.population
    return next_generation(pyabc.History(f"sqlite:///{db}"), settings)


def run_smc(
    base: Params,
    priors: Sequence[Prior],
    targets: Sequence[Target],
    settings: SmcSettings,
    db: Path,
    fingerprint: dict[str, Any],
    label: str = "calibration",
    rivals: Sequence[tuple[Params, Sequence[Prior]]] = (),
) -> tuple[pyabc.History, dict[str, Any]]:
    """Run (or resume) a calibration stored in ``db``; return its history and how it ended.

    ``fingerprint`` identifies the problem (model version, data, priors, settings): a database
    written for another problem is set aside (renamed ``*.stale``), never mixed with this one.
    With ``rivals`` (other models' base parameters and priors), the models ``(base, priors)``,
    ``*rivals`` (indices 0, 1, ...) are calibrated together with ABC model choice (pyabc's model
    index ``m``; ``history.get_model_probabilities()``).
    """
    stamp = db.with_suffix(".json")
    if db.exists() and (not stamp.is_file() or json.loads(stamp.read_text()) != fingerprint):
        log.warning("%s: %s was made for another problem; set aside as %s.stale", label, db, db.name)
        db.replace(db.with_name(db.name + ".stale"))
    db.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps(fingerprint, sort_keys=True))
    models = [SimulatorModel(b, p, targets, settings.seeds) for b, p in [(base, priors), *rivals]]
    observation = ObservationVariance.of(targets)
    all_priors = [[*p, *discrepancy_priors(targets)] for _, p in [(base, priors), *rivals]]
    x_0 = {t.name: t.observed for t in targets}
    reason = ""
    simulated = 0
    started = time.perf_counter()
    with progress.bar(total=settings.max_points, desc=label, unit="point") as bar:
        while True:
            sampler = OrderedBatchSampler(settings.workers, settings.seed, bar)
            abc = _build(models, observation, all_priors, settings, sampler, *_stored_next(db, settings))
            try:
                history = _open(abc, db, x_0, label)
                bar.n = max(bar.n, int(history.total_nr_simulations))
                reason = finished(history, settings)
                if reason:
                    break
                t0 = abc.initialize_components_before_run(
                    minimum_epsilon=1.0,
                    max_nr_populations=settings.generations,
                    min_acceptance_rate=settings.min_acceptance_rate,
                    max_total_nr_simulations=settings.max_points,
                    max_walltime=None,
                    min_eps_diff=0.0,
                )
                result = abc.run_generation(t0)
                if not result["successful"]:
                    reason = f"generation {t0} stopped below acceptance rate {settings.min_acceptance_rate}"
                    break
                rate = result["acceptance_rate"]
                bar.set_postfix(generation=t0, temperature=f"{abc.eps(t0):.3g}", accepted=f"{rate:.2f}")
                log.info("%s: generation %d at temperature %.4g, acceptance rate %.3f", label, t0, abc.eps(t0), rate)
            finally:
                simulated += sampler.simulated
                sampler.stop()
    table = generations_table(history)
    return history, {
        "ended": reason,
        "generations": len(table),
        "final_temperature": float(table["temperature"].iloc[-1]) if len(table) else math.nan,
        "final_ess": float(table["ess"].iloc[-1]) if len(table) else math.nan,
        "schedule": table.to_dict(orient="records"),
        "points_counted": int(history.total_nr_simulations),
        "points_simulated_this_session": simulated,
        "seeds_per_point": settings.seeds,
        "wall_seconds_this_session": round(time.perf_counter() - started, 1),
    }


def last_population(history: pyabc.History, m: int = 0, t: int | None = None) -> pd.DataFrame:
    """Generation ``t`` (default: the last) of model ``m``: one row per particle, its parameters,
    ``weight`` (sum 1 within the model), ``log_likelihood``, ``particle`` (its index)."""
    particles = [p for p in history.get_population(t=history.max_t if t is None else t).particles if p.m == m]
    frame = pd.DataFrame([dict(p.parameter) for p in particles])
    weights = np.array([p.weight for p in particles], dtype=float)
    # the stochastic kernel's value is the log density of the data given the particle's simulation
    return frame.assign(
        weight=weights / weights.sum(),
        log_likelihood=[float(p.distance) for p in particles],
        particle=np.arange(len(particles)),
    )


def resample(population: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` equally weighted draws from a weighted population (systematic resampling), shuffled.

    Shuffled so that any first k draws are a fair sample too (readers may take a prefix).
    """
    rng = np.random.default_rng(seed)
    positions = (rng.random() + np.arange(n)) / n
    index = np.searchsorted(np.cumsum(population["weight"].to_numpy()), positions)
    index = rng.permutation(np.minimum(index, len(population) - 1))
    return population.iloc[index].reset_index(drop=True)
