"""Pool independent calibrations into one posterior: ``python -m experiments.pool_posteriors``.

One ABC-SMC calibration's moved posterior descends from a handful of particles of its last
generation (docs/ODD.md, B.7: 3 to 4 effective ancestors), so a verdict drawn from it carries a
Monte Carlo error that no number of draws removes. Independent calibrations of the same model,
priors and data with different seeds (``python -m experiments.calibrate seed=S
experiment.origins=[]``) each approximate the same posterior; their particles pooled with equal
weight per calibration (each calibration's weights normalised, then divided by their number)
approximate it with the ancestors of all of them, as independent chains are pooled in MCMC. The
parts must agree on everything that defines the posterior (rule, parameter and observation keys,
priors, targets, data, model version, last year) and have distinct seeds; otherwise the pool is
refused with the part and the field named. The pooled file keeps each particle's part (``part``)
and, when every part records them, its ancestor numbered across parts (``ancestors``), so the
verdict's Monte Carlo error can be bootstrapped over the ancestors of every part
(``tools/posterior_ancestry.py``).

    python -m experiments.pool_posteriors                  # make calibrate-replicates (its last step)
    python -m experiments.pool_posteriors 'experiment.parts=[a.json,b.json]' experiment.pooled=p.json
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from experiments.common import Experiment, ExperimentError, entry_point
from sim import store
from sim.posterior import load_posterior, posterior_path

NAME = "pool_posteriors"
# Provenance fields that define the posterior: every part must carry the same values.
DEFINING = ("model_version", "data_files_sha256", "targets", "priors", "discrepancy_priors", "last_year", "method")


def pooled_payload(names: Sequence[str], payloads: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The posterior file of ``payloads`` (read from ``names``) pooled with equal weight per part.

    Raises
    ------
    ExperimentError
        Fewer than two parts, a part that differs from the first in what defines the posterior,
        or two parts with the same seed.
    """
    if len(payloads) < 2:
        raise ExperimentError(f"experiment.parts={list(names)}; allowed: two or more posterior files")
    first = payloads[0]
    seeds = [p["provenance"].get("seed") for p in payloads]
    for k, (name, payload) in enumerate(zip(names, payloads, strict=True)):
        fields = {
            "alignment_rule": (payload["alignment_rule"], first["alignment_rule"]),
            "keys": (payload["keys"], first["keys"]),
            "observation.keys": (payload["observation"]["keys"], first["observation"]["keys"]),
            **{f"provenance.{f}": (payload["provenance"].get(f), first["provenance"].get(f)) for f in DEFINING},
        }
        for field, (value, wanted) in fields.items():
            if value != wanted:
                raise ExperimentError(
                    f"experiment.parts[{k}]={name!r}: {field}={_short(value)} differs from {names[0]!r} "
                    f"({_short(wanted)}); allowed: calibrations of the same model, priors and data"
                )
        if seeds.index(seeds[k]) != k:
            raise ExperimentError(
                f"experiment.parts[{k}]={name!r}: seed={seeds[k]} is the seed of experiment.parts"
                f"[{seeds.index(seeds[k])}]; allowed: "
                "independent calibrations (distinct seeds)"
            )
    weights, ancestors, parts = [], [], []
    offset = 0
    for k, payload in enumerate(payloads):
        n = len(payload["samples"])
        w = np.asarray(payload.get("weights") or np.full(n, 1.0 / n), dtype=float)
        weights.append(w / w.sum() / len(payloads))
        # each part's ancestors index its own last generation: numbered after the previous parts'
        ancestors.append(np.asarray(payload.get("ancestors", []), dtype=int) + offset)
        offset += int(payload["provenance"]["particles"])
        parts.append(np.full(n, k))
    provenance = {f: first["provenance"].get(f) for f in DEFINING} | {
        "pooled": (
            f"{len(payloads)} independent calibrations (seeds {', '.join(str(s) for s in seeds)}) pooled with "
            "equal weight per calibration (experiments/pool_posteriors.py)"
        ),
        "date": dt.date.today().isoformat(),
        "git_revision": store.git_revision(),
        "seed": seeds,
        "n_samples": sum(int(p["provenance"]["n_samples"]) for p in payloads),
        "simulations": sum(int(p["provenance"]["simulations"]) for p in payloads),
        "particles": offset,
        "final_temperature": max(float(p["provenance"]["final_temperature"]) for p in payloads),
        "parts": [_part_summary(name, payload) for name, payload in zip(names, payloads, strict=True)],
        "between_calibration_rhat": between_calibration_rhat(first["keys"], payloads),
    }
    return {
        "alignment_rule": first["alignment_rule"],
        "keys": first["keys"],
        "samples": [row for p in payloads for row in p["samples"]],
        "weights": np.concatenate(weights).tolist(),
        "losses": [loss for p in payloads for loss in p["losses"]],
        "observation": {
            "keys": first["observation"]["keys"],
            "samples": [row for p in payloads for row in p["observation"]["samples"]],
        },
        "provenance": provenance,
        "part": np.concatenate(parts).tolist(),
    } | ({"ancestors": np.concatenate(ancestors).tolist()} if all("ancestors" in p for p in payloads) else {})


def between_calibration_rhat(keys: Sequence[str], payloads: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Gelman and Rubin's potential scale reduction of each parameter over the parts (each a "chain").

    ``sqrt(((n - 1) / n W + B / n) / W)`` with W the mean of the parts' weighted variances, B / n
    the variance of their weighted means and n their mean Kish size (Gelman and Rubin 1992): near 1
    when the calibrations agree, above 1.1 (the usual threshold) when one calibration alone would
    misstate the posterior. The particles of a part are not independent (few ancestors), so a
    value near 1 is necessary, not sufficient, for agreement.
    """
    means, variances, sizes = [], [], []
    for payload in payloads:
        x = np.asarray(payload["samples"], dtype=float)
        n = len(x)
        w = np.asarray(payload.get("weights") or np.full(n, 1.0 / n), dtype=float)
        w = w / w.sum()
        mean = w @ x
        sizes.append(1.0 / np.sum(w**2))
        means.append(mean)
        variances.append((w @ (x - mean) ** 2) * sizes[-1] / max(sizes[-1] - 1.0, 1.0))
    n_eff = float(np.mean(sizes))
    within = np.mean(variances, axis=0)
    between_over_n = np.var(means, axis=0, ddof=1)
    pooled = (n_eff - 1.0) / n_eff * within + between_over_n
    rhat = np.sqrt(np.divide(pooled, within, out=np.ones_like(within), where=within > 0))
    return {key: round(float(r), 3) for key, r in zip(keys, rhat, strict=True)}


def _part_summary(name: str, payload: dict[str, Any]) -> dict[str, Any]:
    """What the pooled file records of one part: where it is, its seed, size and how it ended."""
    provenance = payload["provenance"]
    ancestors = np.asarray(payload.get("ancestors", []), dtype=int)
    counts = np.bincount(ancestors) if len(ancestors) else np.zeros(0)
    return {
        "file": name,
        "seed": provenance.get("seed"),
        "git_revision": provenance.get("git_revision"),
        "samples": len(payload["samples"]),
        "final_temperature": provenance.get("final_temperature"),
        "final_ess": provenance.get("final_ess"),
        "ancestors": int(np.count_nonzero(counts)),
        "effective_ancestors": round(float(counts.sum() ** 2 / (counts**2).sum()), 2) if counts.size else None,
    }


def _short(value: Any) -> str:
    """A field's value as an error message shows it (long lists and tables abbreviated)."""
    text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def run(ex: Experiment) -> dict[str, Any]:
    """Read and check every part, write the pooled posterior file."""
    names = [str(n) for n in ex.options["parts"]]
    for name in names:
        load_posterior(name)  # a missing or malformed file is refused with its name
    payloads = [json.loads(posterior_path(n).read_text()) for n in names]
    pooled = pooled_payload(names, payloads)
    for summary in pooled["provenance"]["parts"]:
        summary["sha256"] = store.file_sha256(posterior_path(summary["file"]))
    target = posterior_path(str(ex.options["pooled"]))
    store.write_text(target, json.dumps(pooled, indent=1) + "\n")
    return {
        "pooled": str(ex.options["pooled"]),
        "samples": len(pooled["samples"]),
        "parts": pooled["provenance"]["parts"],
    }


main = entry_point(NAME, run)

if __name__ == "__main__":
    main()
