"""The calibrated point of a calibration: which particle ``params=calibrated`` takes.

Two rules, named by ``experiment.point`` in ``configs/experiment/calibrate.yaml``:

``patterns_then_likelihood`` (the default)
    Pattern-oriented modelling's filter, then the fit (Grimm et al. 2005, Science 310:987;
    Railsback and Grimm 2019, ch. 18-20): of the calibrated particles, those that reproduce the
    most of the record's patterns (``configs/experiment/patterns.yaml``, measured as
    ``python -m experiments.patterns`` measures them, with the calibration's seed), and of those the
    particle of highest likelihood. The likelihood sees only the observed series; the patterns
    (who fears whom, who leans where) have no series, so a particle of the highest likelihood may
    contradict the record where no data speak. The count is of patterns, unweighted: no pattern
    and no parameter is singled out.
``likelihood``
    The particle of highest likelihood alone (the rule before issue 11's patterns).

The posterior itself is not filtered: every experiment that reports a verdict draws from the
whole posterior; the point serves single runs (``params=calibrated``) and the patterns table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from experiments.common import ExperimentError
from experiments.patterns import DESCRIPTIONS, patterns_held, shipped_specs
from sim.params import Params, with_values

RULES = ("patterns_then_likelihood", "likelihood")


@dataclass(frozen=True)
class Point:
    """The chosen particle, why, and every particle's patterns (empty under the likelihood rule)."""

    index: int  # row of the population
    rule: str
    patterns: pd.DataFrame  # a bool column per pattern, ``count`` and ``log_likelihood``, a row per particle

    def note(self, log_likelihood: np.ndarray) -> str:
        """One sentence for the calibrated.yaml header: the rule and what it cost in likelihood."""
        if self.rule == "likelihood":
            return "the particle of highest likelihood"
        counts = self.patterns["count"].to_numpy()
        best = int(np.argmax(log_likelihood))
        chosen = int(counts[self.index])
        return (
            f"the particle that reproduces the most of the record's {len(DESCRIPTIONS)} patterns ({chosen} of them; "
            f"{int((counts == chosen).sum())} of {len(counts)} particles do), of highest likelihood among those "
            f"(log-likelihood {log_likelihood[self.index]:.2f}; the most likely particle: {log_likelihood[best]:.2f}, "
            f"with {int(counts[best])} patterns),"
        )


def check_rule(rule: str) -> str:
    """``rule`` if it is one of :data:`RULES`, else an error naming the key and what is allowed."""
    if rule not in RULES:
        raise ExperimentError(f"experiment.point={rule!r}; allowed: {', '.join(RULES)}")
    return rule


def choose(counts: np.ndarray, log_likelihood: np.ndarray) -> int:
    """Index of the particle with the most patterns, of highest likelihood among those (first on ties)."""
    most = counts == np.max(counts)
    return int(np.flatnonzero(most)[np.argmax(log_likelihood[most])])


def particle_patterns(params_list: Sequence[Params], seed: int, workers: int) -> pd.DataFrame:
    """Which pattern holds (bool column each) in the run of each particle, and ``count``, the number held."""
    specs, last_year = shipped_specs(params_list[0])
    held = patterns_held([with_values(p, {"run.end_year": last_year}) for p in params_list], specs, seed, workers)
    return held.assign(count=held.sum(axis=1))


def calibrated_point(
    rule: str, params_list: Sequence[Params], log_likelihood: np.ndarray, seed: int, workers: int
) -> Point:
    """The particle ``params=calibrated`` takes under ``rule`` (``params_list[k]`` is particle k)."""
    if check_rule(rule) == "likelihood":
        return Point(int(np.argmax(log_likelihood)), rule, pd.DataFrame())
    held = particle_patterns(params_list, seed, workers)
    index = choose(held["count"].to_numpy(), log_likelihood)
    return Point(index, rule, held.assign(log_likelihood=log_likelihood))
