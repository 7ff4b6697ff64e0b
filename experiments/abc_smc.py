"""Sequential Monte Carlo ABC with pyabc: exact inference under a Gaussian observation model.

The method (docs/ODD.md, "Calibration"): pyabc's ABC-SMC (Klinger et al. 2018) with a stochastic
acceptor and an adaptive temperature (Wilkinson 2013; Schälte and Hasenauer 2020). A particle is
accepted with probability ``(likelihood of the data given its simulation / its maximum) ** (1/T)``;
the temperature ``T`` falls from generation to generation and the last generation, at ``T = 1``,
is a sample of the exact posterior of the model plus the observation model:

    observed_i = simulated_i + e_i,   e_i ~ Normal(0, sd_i**2 + (delta_f * unit_i)**2)

``sd_i`` is the measurement error of observation i (``experiments/targets.py``: survey sampling
error, SIPRI's uncertainty), ``delta_f`` the model-discrepancy of its family f (a parameter with a
uniform prior, inferred with the model's parameters), ``unit_i`` the family's unit (the series'
mean for spending shares, one for shares of respondents). ``simulated_i`` is the mean over
``seeds`` runs of the particle (the ensemble engine runs them in one batch).

Resumable and reproducible: every generation is computed from the SQLite history alone (pyabc's
``load``) and particle k of round r of generation t draws its random numbers from the seed
``(seed, t, r, k)``, whatever the number of workers, so a calibration killed and restarted gives
the same posterior as one left alone.
"""

from __future__ import annotations

import contextlib
import functools
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
from pyabc.population import Particle, Sample
from pyabc.sampler import Sampler
from tqdm import tqdm

from experiments.sampling import Prior, point_params
from experiments.targets import Target, model_values
from sim import progress
from sim.ensemble import simulate_chunk
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


@dataclass(frozen=True)
class SmcSettings:
    """How one calibration runs: population, generations, budget, seeds per point, workers."""

    population: int
    generations: int
    max_points: int  # parameter points simulated at most (each run with ``seeds`` seeds)
    seeds: int
    workers: int
    seed: int
    min_acceptance_rate: float = 0.02  # a generation stops (is not stored) past population / this


def family_unit(target: Target) -> float:
    """The unit of a target's discrepancy: the series' mean for spending shares, 1 for shares."""
    return float(np.mean(target.observed)) if target.family in SPENDING_FAMILIES else 1.0


def discrepancy_priors(targets: Sequence[Target]) -> list[Prior]:
    """One uniform discrepancy prior per target family present."""
    families = dict.fromkeys(t.family for t in targets)
    return [Prior(DISCREPANCY_PREFIX + f, 0.0, DISCREPANCY_MAX[f]) for f in families]


def summaries(tables: dict[str, pd.DataFrame], targets: Sequence[Target]) -> dict[str, np.ndarray]:
    """Each target's model values in its observed years, averaged over the runs in ``tables``."""
    out = {}
    for target in targets:
        values = model_values(tables, target).groupby("year")["model"].mean()
        out[target.name] = values.reindex(target.years).to_numpy(dtype=float)
    return out


@dataclass(frozen=True)
class SimulatorModel:
    """pyabc's model: a particle's parameters -> the mean of its ``seeds`` runs at the targets."""

    base: Params
    priors: tuple[Prior, ...]
    targets: tuple[Target, ...]
    seeds: int

    def __call__(self, par: dict[str, float]) -> dict[str, np.ndarray]:
        params = point_params(self.base, self.priors, [par[p.key] for p in self.priors])
        # pyabc draws from numpy's global generator, seeded per particle by the sampler: so do we
        seeds = [int(s) for s in np.random.randint(0, 2**31 - 1, size=self.seeds)]  # noqa: NPY002
        traj = simulate_chunk(params, seeds, keep_dyads=False, keep_actions=False)
        tables = build_tables(traj, params.params.outcome.action_log_threshold, ("states", "outcomes"))
        return summaries(tables, self.targets)


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


def task_seed(seed: int, t: int, round_: int, k: int) -> int:
    """The seed of particle ``k`` of round ``round_`` of generation ``t`` (t = -1: calibration)."""
    return int(np.random.SeedSequence([seed, t + 1, round_, k]).generate_state(1)[0])


def _run_tasks(payload: bytes, seeds: Sequence[int]) -> list[Particle]:
    """Evaluate pyabc's ``simulate_one`` once per seed, the global generators seeded each time."""
    simulate_one = cloudpickle.loads(payload)
    out = []
    for s in seeds:
        np.random.seed(s)  # noqa: NPY002 (pyabc samples with numpy's global generator)
        random.seed(s)
        out.append(simulate_one())
    return out


class OrderedBatchSampler(Sampler):
    """A pyabc sampler whose result depends on the seed only, not on the workers or their timing.

    Each round evaluates a batch of particles (sized from the acceptance rate so far) on the
    worker processes and keeps them in their index order up to the n-th accepted one, as pyabc's
    own samplers do to avoid favouring fast simulations.
    """

    def __init__(self, workers: int, seed: int, bar: tqdm | None = None, chunk: int = 4) -> None:
        super().__init__()
        self.workers, self.seed, self.bar, self.chunk = workers, seed, bar, chunk
        self.simulated = 0  # particles simulated, those discarded after the n-th acceptance included
        self._pool: ProcessPoolExecutor | None = None

    def _evaluate(self, payload: bytes, seeds: list[int]) -> list[Particle]:
        blocks = [seeds[i : i + self.chunk] for i in range(0, len(seeds), self.chunk)]
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


class SpreadTransition(pyabc.MultivariateNormalTransition):
    """pyabc's multivariate normal perturbation, defined when one particle holds all the weight.

    With every weight on one of several particles (effective sample size 1) the weighted
    covariance is 0/0 and pyabc stops with "array must not contain infs or NaNs"; the proposal
    is then fitted with equal weights (any proposal is valid: pyabc's importance weights use its
    density). Otherwise it is pyabc's transition unchanged.
    """

    def fit(self, X: pd.DataFrame, w: np.ndarray) -> None:
        weights = np.asarray(w, dtype=float)
        if len(X) > 1 and float(np.sum(weights**2)) >= 1.0 - 1e-12:
            weights = np.full(len(X), 1.0 / len(X))
        super().fit(X, weights)


def prior_distribution(priors: Sequence[Prior]) -> pyabc.Distribution:
    """pyabc's uniform prior over ``priors``."""
    return pyabc.Distribution(**{p.key: pyabc.RV("uniform", p.low, p.high - p.low) for p in priors})


def _build(
    models: Sequence[SimulatorModel],
    observation: ObservationVariance,
    priors: Sequence[Sequence[Prior]],
    settings: SmcSettings,
    sampler: OrderedBatchSampler,
) -> pyabc.ABCSMC:
    keys = [t.name for t in models[0].targets]
    minimum = observation({DISCREPANCY_PREFIX + f: 0.0 for f in set(observation.families)})
    kernel = pyabc.IndependentNormalKernel(
        var=observation, keys=keys, pdf_max=float(-0.5 * np.sum(np.log(2 * np.pi * minimum)))
    )
    return pyabc.ABCSMC(
        list(models),  # several: ABC model choice, a uniform prior over them (pyabc's default)
        [prior_distribution(p) for p in priors],
        kernel,
        population_size=settings.population,
        transitions=[SpreadTransition() for _ in models],
        eps=pyabc.Temperature(),
        acceptor=pyabc.StochasticAcceptor(),
        sampler=sampler,
    )


def finished(history: pyabc.History, settings: SmcSettings) -> str:
    """Why a stored calibration is complete ("" if it is not), from its history alone.

    A further generation is not started when, at the last generation's acceptance rate, it
    would take the calibration past its budget.
    """
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0]
    if pops.empty:
        return ""
    last = pops.iloc[-1]
    if float(last["epsilon"]) <= 1.0:
        return "reached temperature 1 (the exact posterior)"
    if int(last["t"]) + 1 >= settings.generations:
        return f"reached {settings.generations} generations"
    used = int(pops["samples"].sum())
    expected = settings.population * float(last["samples"]) / max(float(last["particles"]), 1.0)
    if used + expected > settings.max_points:
        return f"the next generation (about {expected:.0f} points) would exceed the budget of {settings.max_points}"
    return ""


def stored_generations(db: Path) -> int:
    """Generations completely stored in ``db`` (0 for a missing, new or unreadable database)."""
    try:
        with contextlib.closing(sqlite3.connect(db)) as connection:
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
    models = [SimulatorModel(b, tuple(p), tuple(targets), settings.seeds) for b, p in [(base, priors), *rivals]]
    observation = ObservationVariance.of(targets)
    all_priors = [[*p, *discrepancy_priors(targets)] for _, p in [(base, priors), *rivals]]
    x_0 = {t.name: t.observed for t in targets}
    reason = ""
    simulated = 0
    started = time.perf_counter()
    with progress.bar(total=settings.max_points, desc=label, unit="point") as bar:
        while True:
            sampler = OrderedBatchSampler(settings.workers, settings.seed, bar)
            abc = _build(models, observation, all_priors, settings, sampler)
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
            finally:
                simulated += sampler.simulated
                sampler.stop()
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0]
    return history, {
        "ended": reason,
        "generations": len(pops),
        "final_temperature": float(pops["epsilon"].iloc[-1]) if len(pops) else math.nan,
        "points_counted": int(history.total_nr_simulations),
        "points_simulated_this_session": simulated,
        "seeds_per_point": settings.seeds,
        "wall_seconds_this_session": round(time.perf_counter() - started, 1),
    }



def last_population(history: pyabc.History, m: int = 0, t: int | None = None) -> pd.DataFrame:
    """Generation ``t`` (default: the last) of model ``m``: one row per particle, its parameters,
    ``weight`` (sum 1 within the model), ``log_likelihood``."""
    particles = [p for p in history.get_population(t=history.max_t if t is None else t).particles if p.m == m]
    frame = pd.DataFrame([dict(p.parameter) for p in particles])
    weights = np.array([p.weight for p in particles], dtype=float)
    # the stochastic kernel's value is the log density of the data given the particle's simulation
    return frame.assign(weight=weights / weights.sum(), log_likelihood=[float(p.distance) for p in particles])


def resample(population: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` equally weighted draws from a weighted population (systematic resampling), shuffled.

    Shuffled so that any first k draws are a fair sample too (readers may take a prefix).
    """
    rng = np.random.default_rng(seed)
    positions = (rng.random() + np.arange(n)) / n
    index = np.searchsorted(np.cumsum(population["weight"].to_numpy()), positions)
    index = rng.permutation(np.minimum(index, len(population) - 1))
    return population.iloc[index].reset_index(drop=True)
