"""experiments/mcmc_moves.py: the resample-move step leaves its target invariant and is reproducible."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
from scipy import integrate, stats

from experiments.abc_smc import DISCREPANCY_PREFIX, ObservationVariance
from experiments.mcmc_moves import from_logit, log_prior_in_logit, rejuvenate, to_logit
from experiments.sampling import Prior

PRIORS = [Prior("mu", -3.0, 3.0), Prior(DISCREPANCY_PREFIX + "toy", 0.0, 1e-9)]


class ToyModel:
    """A simulator whose one summary is its parameter: the likelihood is the kernel's Student t at mu."""

    targets = (SimpleNamespace(name="y", observed=np.array([0.0])),)
    seeds = 1

    def simulate(self, pars: list[dict[str, float]], seeds: list[list[int]]) -> list[dict[str, Any]]:
        return [{"y": np.array([p["mu"]])} for p in pars]


def _start(n: int) -> pd.DataFrame:
    """What the SMC's collapse leaves: particles spread over the prior, all the weight on one (mu = 2.5)."""
    mu = np.linspace(-2.9, 2.9, n)
    mu[0] = 2.5
    weight = np.zeros(n)
    weight[0] = 1.0
    return pd.DataFrame(
        {
            "mu": mu,
            PRIORS[1].key: 0.5e-9,
            "weight": weight,
            "log_likelihood": stats.t(4).logpdf(mu),
            "particle": np.arange(n),
        }
    )


def test_logit_coordinates_are_inverse_and_the_uniform_prior_maps_to_a_logistic() -> None:
    low, high = np.array([-3.0, 0.0]), np.array([3.0, 0.5])
    x = np.array([[-2.9, 0.01], [0.0, 0.25], [2.5, 0.49]])
    np.testing.assert_allclose(from_logit(to_logit(x, low, high), low, high), x)
    total, _ = integrate.quad(lambda z: np.exp(log_prior_in_logit(np.array([z]))), -50, 50)
    assert abs(total - 1.0) < 1e-9  # sigma(z)(1 - sigma(z)) is the density of logit(U)


def test_moves_from_a_collapsed_population_reach_the_target_and_keep_it() -> None:
    """Target at T = 1: uniform prior on [-3, 3] times a Student t (4 df, scale 1) likelihood of y = 0 at mu."""
    observation = ObservationVariance(np.array([1.0]), np.array([1.0]), ("toy",))
    # a generation stopped at T = 2: reweighted to T = 1, resampled, moved
    moved, info = rejuvenate(_start(400), ToyModel(), observation, PRIORS, 2.0, 40, seed=3)  # type: ignore[arg-type]
    truncated = stats.t(4).pdf(np.linspace(-3, 3, 6001))
    grid = np.linspace(-3, 3, 6001)
    mean = float(np.sum(grid * truncated) / np.sum(truncated))
    sd = float(np.sqrt(np.sum((grid - mean) ** 2 * truncated) / np.sum(truncated)))
    assert abs(moved["mu"].mean() - mean) < 0.15 and abs(moved["mu"].std() - sd) < 0.15, (moved["mu"].describe(), sd)
    # one ancestor (all the weight on it): the moves spread its copies, which stay its descendants
    assert info["ancestors"] == 1 and info["effective_ancestors"] == 1.0 and (moved["ancestor"] == 0).all()
    assert info["distinct_after"] > 350
    assert all(0.05 < r < 0.9 for r in info["acceptance_rates"])
    np.testing.assert_allclose(moved["weight"], 1.0 / 400)
    # the log-likelihoods carried are those of the particles' own values
    expected = stats.t(4).logpdf(moved["mu"].to_numpy())
    np.testing.assert_allclose(moved["log_likelihood"], expected, atol=1e-12)


def test_the_moved_population_depends_on_the_seed_only() -> None:
    observation = ObservationVariance(np.array([1.0]), np.array([1.0]), ("toy",))
    one, _ = rejuvenate(_start(50), ToyModel(), observation, PRIORS, 1.0, 5, seed=11)  # type: ignore[arg-type]
    again, _ = rejuvenate(_start(50), ToyModel(), observation, PRIORS, 1.0, 5, seed=11)  # type: ignore[arg-type]
    other, _ = rejuvenate(_start(50), ToyModel(), observation, PRIORS, 1.0, 5, seed=12)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(one, again)
    assert not one["mu"].equals(other["mu"])


def test_reweighting_to_temperature_one_follows_the_likelihood_power() -> None:
    """Without moves, a population at T = 2 with equal weights is resampled by p(y | mu)^(1/2)."""
    observation = ObservationVariance(np.array([1.0]), np.array([1.0]), ("toy",))
    start = _start(2000).assign(weight=1.0 / 2000)
    moved, info = rejuvenate(start, ToyModel(), observation, PRIORS, 2.0, 0, seed=5)  # type: ignore[arg-type]
    power = np.exp(0.5 * start["log_likelihood"].to_numpy())
    expected = float(np.sum(start["mu"] ** 2 * power) / np.sum(power))
    assert abs(float(np.mean(moved["mu"] ** 2)) - expected) < 0.05
    assert info["effective_sample_size_reweighted_to_1"] < 2000
