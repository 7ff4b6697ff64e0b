"""Scores of predictive bands and forecasts: coverage, interval score, naive baselines.

- coverage: the share of observations inside a central predictive band (a calibrated 90% band
  holds about 90% of them).
- interval score of a central (1 - alpha) interval [l, u] for an observation y (Gneiting and
  Raftery 2007, eq. 43): ``(u - l) + 2/alpha (l - y) [y < l] + 2/alpha (y - u) [y > u]``; lower
  is better; it rewards narrow bands and penalises misses in proportion to their size.
- baselines for a series observed up to an origin year: persistence (the last observed value,
  its band from the spread of the year-to-year changes growing with the square root of the
  horizon, a random walk) and a linear trend (least squares over the observed years, its band the
  prediction interval of the regression).
"""

from __future__ import annotations

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
