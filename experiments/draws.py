"""Parameter draws of an experiment: the calibrated posterior (the default) or one parameter point.

An experiment's uncertainty is parametric first: with ``experiment.parameter_source=posterior``
it runs ``experiment.draws`` parameter sets drawn from the calibrated posterior sample
(``posterior_file``, written by ``python -m experiments.calibrate``), each with
``experiment.replicates_per_draw`` noise replicates nested in it. Every counterfactual of a draw
uses that draw's parameters and seeds (paired), so a difference between counterfactuals is an
effect under one parameter set. Intervals are then taken over draws.

With ``experiment.parameter_source=defaults`` it runs the configured parameters alone (the
``params`` group: the shipped calibrated point unless overridden; an illustration, labelled as
such): ``replicates`` runs, each its own "draw" of one seed, with the seeds of
:func:`sim.runs.replicate_seeds` (so the results equal those of earlier versions).

If the posterior sample holds fewer vectors than ``draws``, vectors are drawn with replacement and
the plan says so (``with_replacement``, ``unique_samples``); the reports print it. A sample with
importance weights (an ABC-SMC population) is resampled systematically: each vector is drawn
about ``draws`` times its weight (the fewest repeats a weighted sample allows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from sim.params import Params, with_values
from sim.posterior import load_posterior
from sim.runs import replicate_seeds

SOURCES = ("posterior", "defaults")


@dataclass(frozen=True)
class Draw:
    """One parameter set of an experiment and its nested noise replicates."""

    index: int
    sample: int | None  # row of the posterior sample; None for the configured parameter point
    values: Mapping[str, float]  # dotted key -> value (empty for the defaults)
    seeds: tuple[int, ...]

    def apply(self, params_list: Sequence[Params]) -> list[Params]:
        """Each of ``params_list`` (counterfactuals) with this draw's parameter values.

        Values of the behavioural section (``params.*``) are validated once per distinct section,
        not once per counterfactual: counterfactuals differ in their drivers, not in it.
        """
        if not self.values:
            return list(params_list)
        if not all(key.startswith("params.") for key in self.values):
            return [with_values(p, self.values) for p in params_list]
        sections: dict[Any, Any] = {}
        out = []
        for p in params_list:
            if p.params not in sections:
                sections[p.params] = with_values(p, self.values).params
            out.append(replace(p, params=sections[p.params]))
        return out


@dataclass(frozen=True)
class DrawPlan:
    """Every draw of an experiment, where they come from, and how they were drawn."""

    source: str
    draws: tuple[Draw, ...]
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def seeds(self) -> list[int]:
        """Every run's seed, draw by draw (distinct across draws)."""
        return [s for d in self.draws for s in d.seeds]

    def draw_of_seed(self) -> dict[int, int]:
        """The draw index of every seed."""
        return {s: d.index for d in self.draws for s in d.seeds}

    def describe(self) -> dict[str, Any]:
        """The plan for ``meta.json`` and the reports."""
        return {"parameter_source": self.source, "n_draws": len(self.draws), **self.info}


def plan_draws(
    source: str, n_draws: int, replicates_per_draw: int, replicates: int, seed: int, posterior_file: str
) -> DrawPlan:
    """The draws of an experiment (see the module docstring).

    Raises
    ------
    ValueError
        An unknown source, a count below 1, or an unusable posterior file (named).
    """
    if source not in SOURCES:
        raise ValueError(f"experiment.parameter_source={source!r}; allowed: {list(SOURCES)}")
    if source == "defaults":
        draws = tuple(Draw(k, None, {}, (s,)) for k, s in enumerate(replicate_seeds(seed, replicates)))
        return DrawPlan(
            source,
            draws,
            {"replicates_per_draw": 1, "note": "one parameter point (the configured params): an illustration"},
        )
    if n_draws < 1:
        raise ValueError(f"experiment.draws={n_draws}; allowed: an integer >= 1")
    if replicates_per_draw < 1:
        raise ValueError(f"experiment.replicates_per_draw={replicates_per_draw}; allowed: an integer >= 1")
    posterior = load_posterior(posterior_file)
    size = len(posterior.samples)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    weights = getattr(posterior, "weights", None)
    p = None if weights is None else np.asarray(weights, dtype=float) / np.sum(weights)
    with_replacement = size < n_draws or p is not None
    if p is None:
        rows = rng.choice(size, n_draws, replace=with_replacement)
    else:  # systematic resampling (Kitagawa 1996): each row drawn about n_draws * weight times, shuffled
        positions = (rng.random() + np.arange(n_draws)) / n_draws
        rows = rng.permutation(np.minimum(np.searchsorted(np.cumsum(p), positions), size - 1))
    draws = tuple(
        Draw(k, int(row), dict(zip(posterior.keys, (float(v) for v in posterior.samples[row]), strict=True)), seeds)
        for k, (row, seeds) in enumerate(zip(rows, nested_seeds(seed, n_draws, replicates_per_draw), strict=True))
    )
    info = {
        "posterior_file": posterior_file,
        "posterior_size": size,
        "replicates_per_draw": replicates_per_draw,
        "with_replacement": bool(with_replacement),
        "unique_samples": len(set(int(r) for r in rows)),
        "posterior_provenance": {k: posterior.provenance.get(k) for k in ("method", "pooled", "date", "model_version")},
    }
    if size < n_draws:
        info["note"] = (
            f"the posterior sample holds {size} vectors, fewer than the {n_draws} draws: drawn with replacement"
        )
    return DrawPlan(source, draws, info)


def nested_seeds(seed: int, n_draws: int, replicates_per_draw: int) -> list[tuple[int, ...]]:
    """The seeds of each draw's runs: ``SeedSequence(seed).spawn(n_draws)[d].spawn(replicates_per_draw)``.

    They depend on the seed and the counts only, not on the posterior sample.
    """
    return [
        tuple(int(c.generate_state(1, dtype=np.uint32)[0]) for c in child.spawn(replicates_per_draw))
        for child in np.random.SeedSequence(seed).spawn(n_draws)
    ]


def draws_from_config(options: Mapping[str, Any], replicates: int, seed: int, posterior_file: str) -> DrawPlan:
    """The plan of an experiment's options (``parameter_source``, ``draws``, ``replicates_per_draw``)."""
    return plan_draws(
        str(options.get("parameter_source", "defaults")),
        int(options.get("draws", 1)),
        int(options.get("replicates_per_draw", 1)),
        replicates,
        seed,
        posterior_file,
    )


def per_draw_mean(values: np.ndarray, seeds: Sequence[int], plan: DrawPlan) -> np.ndarray:
    """Mean of per-run ``values`` (in ``seeds`` order) within each draw: shape (D, ...)."""
    draw = plan.draw_of_seed()
    index = np.array([draw[int(s)] for s in seeds])
    array = np.asarray(values, dtype=float)
    return np.stack([array[index == d.index].mean(axis=0) for d in plan.draws])
