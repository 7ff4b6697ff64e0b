"""Scores of predictive bands and forecasts: coverage, interval score, naive baselines.

- coverage: the share of observations inside a central predictive band (a calibrated 90% band
  holds about 90% of them); the chance of a count at least as far from the nominal one under a
  calibrated band (binomial: each observation inside with the band's level).
- leave-one-out predictive bands from posterior predictive draws (Gelfand 1992; Vehtari, Gelman
  and Gabry 2017): each draw weighted by 1 / p(y_i | draw), the raw weights truncated at their
  mean times sqrt(S) (truncated importance sampling, Ionides 2008), the band the weighted
  quantiles of the draws (the weighted form of the linear-interpolation quantile).
- interval score of a central (1 - alpha) interval [l, u] for an observation y (Gneiting and
  Raftery 2007, eq. 43): ``(u - l) + 2/alpha (l - y) [y < l] + 2/alpha (y - u) [y > u]``; lower
  is better; it rewards narrow bands and penalises misses in proportion to their size.
- baselines for a series observed up to an origin year: persistence (the last observed value,
  its band from the spread of the year-to-year changes growing with the square root of the
  horizon, a random walk) and a linear trend (least squares over the observed years, its band the
  prediction interval of the regression).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


def interval_score(low: np.ndarray, high: np.ndarray, observed: np.ndarray, alpha: float) -> np.ndarray:
    """Interval score of central ``1 - alpha`` intervals ``[low, high]`` for ``observed``."""
    low, high, y = (np.asarray(a, dtype=float) for a in (low, high, observed))
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha={alpha}; allowed: 0 < alpha < 1")
    return (high - low) + 2.0 / alpha * np.maximum(low - y, 0.0) + 2.0 / alpha * np.maximum(y - high, 0.0)


def inside(low: np.ndarray, high: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Whether each observation lies in its band (bounds included)."""
    return (np.asarray(low) <= np.asarray(observed)) & (np.asarray(observed) <= np.asarray(high))


@dataclass(frozen=True)
class Forecast:
    """A point forecast with a central interval of level ``1 - alpha``."""

    point: float
    low: float
    high: float


def persistence(years: np.ndarray, values: np.ndarray, year: int, alpha: float) -> Forecast | None:
    """The last observed value carried to ``year``; None without any observation."""
    if len(values) == 0:
        return None
    last = float(values[-1])
    steps = np.diff(values) / np.maximum(np.diff(years), 1)
    horizon = year - int(years[-1])
    sd = float(np.std(steps, ddof=1)) * np.sqrt(horizon) if len(steps) >= 2 else np.nan
    z = stats.norm.ppf(1.0 - alpha / 2.0)
    return Forecast(last, last - z * sd, last + z * sd)


def linear_trend(years: np.ndarray, values: np.ndarray, year: int, alpha: float) -> Forecast | None:
    """Least-squares line through the observations, evaluated at ``year``; None under two points."""
    n = len(values)
    if n < 2:
        return None
    x, y = np.asarray(years, dtype=float), np.asarray(values, dtype=float)
    slope, intercept = np.polyfit(x, y, 1)
    point = float(intercept + slope * year)
    if n < 3:
        return Forecast(point, np.nan, np.nan)
    residual_sd = float(np.sqrt(np.sum((y - (intercept + slope * x)) ** 2) / (n - 2)))
    sxx = float(np.sum((x - x.mean()) ** 2))
    sd = residual_sd * np.sqrt(1.0 + 1.0 / n + (year - x.mean()) ** 2 / sxx)
    t = stats.t.ppf(1.0 - alpha / 2.0, n - 2)
    return Forecast(point, point - t * sd, point + t * sd)


def band_chance(inside_count: int, n: int, level: float) -> float:
    """The chance, under a calibrated band of ``level``, of a count of observations inside it as extreme as seen.

    The 50% band: two-sided, a count at least as far from n/2 (symmetric: twice the smaller tail).
    Other levels: one-sided, at least as many misses as seen, each a miss with probability
    ``1 - level`` (a band too narrow is the failure in question).
    """
    if not 0 <= inside_count <= n or n < 1:
        raise ValueError(f"inside_count={inside_count}, n={n}; allowed: 0 <= inside_count <= n, n >= 1")
    if level == 0.5:
        return float(stats.binomtest(inside_count, n, 0.5).pvalue)
    return float(stats.binomtest(n - inside_count, n, 1.0 - level, alternative="greater").pvalue)


def loo_weights(log_density: np.ndarray) -> tuple[np.ndarray, bool]:
    """Normalised importance weights of leaving one observation out, and whether truncation bit.

    ``log_density`` is log p(y_i | draw s) for each of S posterior draws. The raw weights
    1 / p(y_i | draw) are truncated at their mean times sqrt(S) (Ionides 2008) so that no draw
    dominates (the variance stays finite).
    """
    log_density = np.asarray(log_density, dtype=float)
    raw = np.exp(np.min(log_density) - log_density)  # proportional to 1 / p, the largest 1
    cap = float(np.mean(raw)) * np.sqrt(raw.size)
    weights = np.minimum(raw, cap)
    return weights / weights.sum(), bool(np.max(raw) > cap)


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, probabilities: Sequence[float]) -> np.ndarray:
    """Quantiles of weighted draws: linear interpolation between the sorted draws.

    The k-th smallest draw sits at the plotting position (S_k - w_k) / (1 - w_k), S_k the
    cumulative normalised weight up to it (the weighted percentile with C = 1 of Hyndman and Fan's
    linear interpolation, type 7): with equal weights (k - 1) / (n - 1), numpy's and pandas'
    default quantile. Draws of zero weight are left out.
    """
    values, weights = np.asarray(values, dtype=float), np.asarray(weights, dtype=float)
    keep = weights > 0.0
    order = np.argsort(values[keep], kind="stable")
    x, w = values[keep][order], weights[keep][order] / weights[keep].sum()
    if x.size == 1:
        return np.full(len(probabilities), x[0])
    cumulative = np.cumsum(w)
    position = (cumulative - w) / np.maximum(1.0 - w, np.finfo(float).tiny)
    return np.interp(np.asarray(probabilities, dtype=float), position, x)
