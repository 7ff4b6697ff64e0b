"""Prior ranges, space-filling designs, and evaluating many parameter points on all cores.

Shared by the calibration and the sensitivity analysis. The priors are uniform ranges over dotted
parameter keys (``configs/priors/default.yaml``); a point is a vector in the order of the priors.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import qmc

from sim import progress
from sim.params import Params, with_values


@dataclass(frozen=True)
class Prior:
    """A uniform prior range of one parameter."""

    key: str
    low: float
    high: float


def load_priors(ranges: Sequence[Any], base: Params) -> list[Prior]:
    """Validated priors from the config's ``priors.ranges``: known keys, low < high, both allowed values."""
    priors = []
    for entry in ranges:
        item = dict(entry)
        if set(item) != {"key", "low", "high"}:
            raise ValueError(f"priors.ranges entry {item}; allowed keys: key, low, high")
        prior = Prior(str(item["key"]), float(item["low"]), float(item["high"]))
        if not prior.low < prior.high:
            raise ValueError(f"priors.ranges {prior.key}: low={prior.low} >= high={prior.high}; allowed: low < high")
        with_values(base, {prior.key: prior.low})  # raises KeyError/ValueError naming the key and range
        with_values(base, {prior.key: prior.high})
        priors.append(prior)
    if len({p.key for p in priors}) != len(priors):
        raise ValueError("priors.ranges names a parameter twice; allowed: each key once")
    return priors


def latin_hypercube(priors: Sequence[Prior], n: int, seed: int) -> np.ndarray:
    """``n`` points of a Latin hypercube over the priors (McKay et al. 1979), shape (n, d)."""
    unit = qmc.LatinHypercube(d=len(priors), seed=np.random.default_rng(seed)).random(n)
    return qmc.scale(unit, [p.low for p in priors], [p.high for p in priors])


def point_params(base: Params, priors: Sequence[Prior], point: Sequence[float]) -> Params:
    """``base`` with the priors' parameters set to ``point``."""
    return with_values(base, {p.key: float(v) for p, v in zip(priors, point, strict=True)})


def evaluate[A, T](
    function: Callable[[A], T], params_list: Sequence[A], workers: int, desc: str = "parameter sets", unit: str = "set"
) -> list[T]:
    """``function`` of each parameter set (or picklable job) on ``workers`` processes, in order, with a progress bar."""
    total = len(params_list)
    if workers <= 1 or total <= 1:
        return [function(p) for p in progress.track(params_list, total=total, desc=desc, unit=unit)]
    # forkserver, not fork: forking a process that already runs threads (BLAS, pyarrow) can deadlock.
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_leave_ctrl_c_to_the_parent) as pool:
        results = pool.map(function, params_list, chunksize=max(1, total // (8 * workers)))
        try:
            return list(progress.track(results, total=total, desc=desc, unit=unit))
        except BaseException:  # Ctrl-C, or a job's error: the queued jobs are not run first
            stop_workers(pool)
            raise


def _leave_ctrl_c_to_the_parent() -> None:
    """In a pool worker: ignore Ctrl-C, which the parent handles by stopping the pool.

    A terminal's Ctrl-C reaches every process of the group; a worker interrupted inside the
    pool's queues could leave the pool, and the parent waiting for it at exit, hung for good.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Drop a pool's queued work and end its workers now (leaving the ``with`` block would wait for all of it)."""
    for worker in list(getattr(pool, "_processes", {}).values()):  # Python >= 3.14: pool.terminate_workers()
        worker.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
