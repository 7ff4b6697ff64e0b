"""The calibrated posterior sample: loading it and drawing a run's parameters from it.

``python -m experiments.calibrate`` writes ``configs/params/posterior.json``: the dotted keys of
the calibrated parameters, the accepted parameter vectors (the last generation's particles), their
importance ``weights`` (files without them: equal weights), their losses, and the provenance of
the calibration (data files' hashes, method, sample size, date, model version), and the alignment
rule it was calibrated under (``alignment_rule``; ``balance_of_threat`` in files that predate
the field): a run under another rule is refused. With ``posterior=true``, run k of a job takes
the k-th of a fixed, weight-proportional order of the samples (systematic resampling), so
replicates spread over the posterior as its weights say instead of repeating one parameter set.
The default ``posterior_file`` pools several calibrations (``experiments/pool_posteriors.py``,
same format plus each particle's part); a pool one of whose parts was rewritten since is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.params import ALIGNMENT_RULES, Params, with_values
from sim.store import file_sha256

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Posterior:
    """Accepted parameter vectors of a calibration and where they come from."""

    keys: tuple[str, ...]
    samples: np.ndarray  # (n, len(keys))
    losses: np.ndarray  # (n,)
    provenance: dict[str, Any]
    alignment_rule: str = "balance_of_threat"  # the rule it was calibrated under
    weights: np.ndarray | None = None  # (n,), summing to 1; None: equally weighted
    parts: np.ndarray | None = None  # (n,), the calibration each sample comes from (a pooled file); None: one

    def check_rule(self, rule: str, name: str) -> None:
        """Refuse drawing parameters calibrated under one alignment rule for a run under ``rule``."""
        if rule != self.alignment_rule:
            raise ValueError(
                f"posterior_file={name!r} was calibrated under alignment_rule={self.alignment_rule}, but the run "
                f"uses alignment_rule={rule}; allowed: alignment_rule={self.alignment_rule} with this posterior"
            )

    def order(self) -> np.ndarray:
        """Sample rows in a fixed order whose counts follow the weights (systematic resampling, shuffled)."""
        n = len(self.samples)
        if self.weights is None:
            return np.arange(n)
        rng = np.random.default_rng(0)
        positions = (rng.random() + np.arange(n)) / n
        return rng.permutation(np.minimum(np.searchsorted(np.cumsum(self.weights), positions), n - 1))

    def params(self, base: Params, k: int) -> Params:
        """``base`` with the values of the ``k``-th sample of :meth:`order` (modulo the sample size)."""
        row = self.samples[self.order()[k % len(self.samples)]]
        return with_values(base, dict(zip(self.keys, (float(v) for v in row), strict=True)))


def posterior_path(name: str) -> Path:
    """A posterior file path: absolute as given, else relative to the repository root."""
    path = Path(name)
    return path if path.is_absolute() else REPO_ROOT / path


def load_posterior(name: str) -> Posterior:
    """Read and check a posterior file.

    Raises
    ------
    ValueError
        If the file is missing, is not valid JSON, or its samples do not match its keys.
    """
    return posterior_from_payload(name, read_payload(name))


def read_payload(name: str) -> dict[str, Any]:
    """The parsed JSON of posterior file ``name``, unchecked (:func:`posterior_from_payload` checks it).

    Raises
    ------
    ValueError
        If the file is missing or is not a valid JSON object.
    """
    path = posterior_path(name)
    if not path.is_file():
        raise ValueError(
            f"posterior_file={name!r}: no such file; allowed: a file written by python -m experiments.calibrate"
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"posterior_file={name!r} is not valid JSON: {err}") from err
    if not isinstance(raw, dict):
        raise ValueError(f"posterior_file={name!r} holds a {type(raw).__name__}; allowed: a JSON object")
    return raw


def posterior_from_payload(name: str, raw: dict[str, Any]) -> Posterior:
    """The checked :class:`Posterior` of a posterior file's parsed JSON (``name`` for the messages).

    Raises
    ------
    ValueError
        If its samples do not match its keys, or its weights, rule or parts are malformed.
    """
    try:
        keys = tuple(str(k) for k in raw["keys"])
        samples = np.asarray(raw["samples"], dtype=float)
        losses = np.asarray(raw["losses"], dtype=float)
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"posterior_file={name!r} lacks keys/samples/losses: {err}") from err
    if samples.ndim != 2 or samples.shape[1] != len(keys) or len(samples) == 0 or len(losses) != len(samples):
        raise ValueError(f"posterior_file={name!r}: samples of shape {samples.shape} do not match {len(keys)} keys")
    weights = raw.get("weights")
    if weights is not None:
        weights = np.asarray(weights, dtype=float)
        if weights.shape != (len(samples),) or not np.all(weights >= 0) or not weights.sum() > 0:
            raise ValueError(
                f"posterior_file={name!r}: weights of shape {weights.shape}; allowed: {len(samples)} non-negative "
                "values, not all zero"
            )
        weights = weights / weights.sum()
    rule = raw.get("alignment_rule", "balance_of_threat")
    if rule not in ALIGNMENT_RULES:
        raise ValueError(f"posterior_file={name!r}: alignment_rule={rule!r}; allowed: {list(ALIGNMENT_RULES)}")
    check_parts_unchanged(name, raw.get("provenance", {}))
    parts = raw.get("part")
    if parts is not None:
        parts = np.asarray(parts)
        if parts.shape != (len(samples),) or not np.issubdtype(parts.dtype, np.integer):
            raise ValueError(
                f"posterior_file={name!r}: part of shape {parts.shape}; allowed: {len(samples)} integers (the "
                "calibration of each sample, written by python -m experiments.pool_posteriors)"
            )
    return Posterior(keys, samples, losses, dict(raw.get("provenance", {})), rule, weights, parts)


def check_parts_unchanged(name: str, provenance: dict[str, Any]) -> None:
    """Refuse a pooled posterior (``experiments/pool_posteriors.py``) one of whose parts was rewritten since.

    A recalibration rewrites its part (``make calibrate``: ``posterior.json``); drawing from the pool
    made before would silently mix the old calibration into new results. A part that is not on this
    machine (the pooled file copied alone) is not checked: the pooled file holds every particle.
    """
    for part in provenance.get("parts", []):
        path = posterior_path(str(part["file"]))
        if path.is_file() and file_sha256(path) != part.get("sha256"):
            raise ValueError(
                f"posterior_file={name!r} pools {part['file']!r} as it was before it was rewritten (sha256 "
                f"{str(part.get('sha256'))[:12]}..., now {file_sha256(path)[:12]}...); allowed: a pool of the current "
                "calibrations: make calibrate-replicates (python -m experiments.pool_posteriors alone if the model "
                "version did not change)"
            )
