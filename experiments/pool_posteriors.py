"""Pool independent calibrations into one posterior: ``python -m experiments.pool_posteriors``.

One ABC-SMC calibration's moved posterior descends from a handful of particles of its last
generation (docs/ODD.md, B.7: 2 to 5 effective ancestors), so a verdict drawn from it carries a
Monte Carlo error that no number of draws removes. Independent calibrations of the same model,
priors and data with different seeds (``python -m experiments.calibrate seed=S
experiment.origins=[]``) are independent approximations of the same posterior. The pool is their
equal mixture: each calibration's weights normalised, then divided by their number. It is not an
exact posterior either: each part is under-dispersed, and the parts disagree where the data are
weak (their between-calibration spread, recorded per parameter, says where); weighting the parts
by their evidence would need normalising constants that degenerate populations do not estimate
well. The parts must agree on everything that defines the posterior (rule, parameter and
observation keys, priors, targets, data, model version, last year), be single calibrations (not
pools) with distinct seeds, and not be the pooled file itself; otherwise the pool is refused with
the part and the field named. The pooled file keeps each particle's part (``part``) and, when every
part records them, its ancestor numbered across parts (``ancestors``), so the verdict's Monte
Carlo error can be bootstrapped over calibrations and their ancestors (``tools/posterior_ancestry.py``).

    python -m experiments.pool_posteriors                  # make calibrate-replicates (its last step)
    python -m experiments.pool_posteriors 'experiment.parts=[a.json,b.json]' experiment.pooled=p.json
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from experiments.abc_smc import effective_sample_size
from experiments.common import Experiment, ExperimentError, entry_point
from sim import store
from sim.posterior import posterior_from_payload, posterior_path, read_payload

NAME = "pool_posteriors"
# Provenance fields that define the posterior: every part must carry the same values.
DEFINING = ("model_version", "data_files_sha256", "targets", "priors", "discrepancy_priors", "last_year", "method")


def pooled_payload(names: Sequence[str], payloads: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The posterior file of ``payloads`` (read from ``names``) pooled with equal weight per part.

    Raises
    ------
    ExperimentError
        Fewer than two parts, a part that is itself a pool, lacks a field, is inconsistent within
        itself or differs from the first in what defines the posterior, or two parts with the same seed.
    """
    if len(payloads) < 2:
        raise ExperimentError(f"experiment.parts={list(names)}; allowed: two or more posterior files")
    for k, (name, payload) in enumerate(zip(names, payloads, strict=True)):
        check_part(k, name, payload, payloads[0], names[0])
    seeds = [p["provenance"]["seed"] for p in payloads]
    for k, seed in enumerate(seeds):
        if seeds.index(seed) != k:
            raise ExperimentError(
                f"experiment.parts[{k}]={names[k]!r}: seed={seed} is the seed of experiment.parts"
                f"[{seeds.index(seed)}]; allowed: independent calibrations (distinct seeds)"
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
    first = payloads[0]
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
        "parts": [part_summary(name, payload) for name, payload in zip(names, payloads, strict=True)],
        "between_calibration": between_calibration(first["keys"], payloads),
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


def check_part(k: int, name: str, payload: dict[str, Any], first: dict[str, Any], first_name: str) -> None:
    """Refuse part ``k`` if it is a pool, lacks a field, is inconsistent or is not ``first``'s posterior."""
    where = f"experiment.parts[{k}]={name!r}"
    if "part" in payload or "parts" in payload.get("provenance", {}):
        raise ExperimentError(
            f"{where} is itself a pool; allowed: single calibrations (python -m experiments.calibrate)"
        )
    for field in ("observation", "provenance"):
        if not isinstance(payload.get(field), dict):
            raise ExperimentError(f"{where} lacks {field}; allowed: a file written by python -m experiments.calibrate")
    for field in ("seed", "particles", "n_samples", "simulations", "final_temperature"):
        if field not in payload["provenance"]:
            raise ExperimentError(
                f"{where} lacks provenance.{field}; allowed: a file written by python -m experiments.calibrate"
            )
    n, particles = len(payload["samples"]), payload["provenance"]["particles"]
    observed = payload["observation"].get("samples", [])
    ancestors = np.asarray(payload.get("ancestors", []), dtype=float)
    if len(observed) != n or ("ancestors" in payload and len(ancestors) != n):
        raise ExperimentError(
            f"{where}: {len(observed)} observation samples and {len(ancestors)} ancestors for {n} samples; "
            "allowed: one of each per sample"
        )
    if not isinstance(particles, int) or particles < 1 or np.any((ancestors < 0) | (ancestors >= particles)):
        raise ExperimentError(
            f"{where}: provenance.particles={particles!r} with ancestors in "
            + (f"[{ancestors.min():g}, {ancestors.max():g}]" if ancestors.size else "[]")
            + "; allowed: ancestors in 0..particles-1"
        )
    fields = {
        "alignment_rule": (payload["alignment_rule"], first["alignment_rule"]),
        "keys": (payload["keys"], first["keys"]),
        "observation.keys": (payload["observation"].get("keys"), first["observation"].get("keys")),
        **{f"provenance.{f}": (payload["provenance"].get(f), first["provenance"].get(f)) for f in DEFINING},
    }
    for field, (value, wanted) in fields.items():
        if value != wanted:
            raise ExperimentError(
                f"{where}: {field}={_short(value)} differs from {first_name!r} ({_short(wanted)}); allowed: "
                "calibrations of the same model, priors and data"
            )


def between_calibration(keys: Sequence[str], payloads: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """How far the parts' means of each parameter lie apart: their sd over the within-part sd, and R-hat.

    ``spread`` = sd of the parts' weighted means / root mean within-part variance W (free of any
    sample size); ``rhat`` = Gelman and Rubin's potential scale reduction
    ``sqrt(((n - 1) / n W + B / n) / W)`` with B / n the variance of the means and n the parts'
    mean Kish size (Gelman and Rubin 1992), about ``sqrt(1 + spread^2)`` for large n (R-hat 1.1 is
    a spread of 0.46). The particles of a part are not independent (few ancestors), so W is itself
    uncertain and values near 1 are necessary, not sufficient, for agreement.
    """
    means, variances, sizes = [], [], []
    for payload in payloads:
        x = np.asarray(payload["samples"], dtype=float)
        n = len(x)
        w = np.asarray(payload.get("weights") or np.full(n, 1.0 / n), dtype=float)
        w = w / w.sum()
        size = effective_sample_size(w)
        mean = w @ x
        means.append(mean)
        sizes.append(size)
        variances.append((w @ (x - mean) ** 2) * size / max(size - 1.0, 1.0))
    n_eff = float(np.mean(sizes))
    within = np.mean(variances, axis=0)
    between_over_n = np.var(means, axis=0, ddof=1)
    ratio = np.divide(between_over_n, within, out=np.zeros_like(within), where=within > 0)
    rhat = np.sqrt((n_eff - 1.0) / n_eff + ratio)
    return {
        key: {"spread": round(float(np.sqrt(r)), 3), "rhat": round(float(h), 3)}
        for key, r, h in zip(keys, ratio, rhat, strict=True)
    }


def part_summary(name: str, payload: dict[str, Any]) -> dict[str, Any]:
    """What the pooled file records of one part: where it is, its seed, size, fit and ancestry."""
    provenance = payload["provenance"]
    counts = np.bincount(np.asarray(payload.get("ancestors", []), dtype=int))
    counts = counts[counts > 0]
    return {
        "file": name,
        "seed": provenance["seed"],
        "git_revision": provenance.get("git_revision"),
        "samples": len(payload["samples"]),
        "final_temperature": provenance["final_temperature"],
        "final_ess": provenance.get("final_ess"),
        "median_loss": round(float(np.median(payload["losses"])), 3),
        "ancestors": int(counts.size),
        "effective_ancestors": round(effective_sample_size(counts), 2) if counts.size else None,
    }


def _short(value: Any) -> str:
    """A field's value as an error message shows it (long lists and tables abbreviated)."""
    text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def checked_names(options: dict[str, Any]) -> tuple[list[str], Path]:
    """``experiment.parts`` (a list of file names) and ``experiment.pooled`` (a .json path that is not a part).

    Raises
    ------
    ExperimentError
        A parts value that is not a list of strings, or a pooled path that is not a .json file name or
        names one of the parts.
    """
    parts, pooled = options.get("parts"), options.get("pooled")
    if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
        raise ExperimentError(f"experiment.parts={parts!r}; allowed: a list of posterior file names")
    if not isinstance(pooled, str) or not pooled.endswith(".json") or posterior_path(pooled).is_dir():
        raise ExperimentError(f"experiment.pooled={pooled!r}; allowed: the name of a .json file")
    target = posterior_path(pooled).resolve()
    for k, name in enumerate(parts):
        if posterior_path(name).resolve() == target:
            raise ExperimentError(
                f"experiment.pooled={pooled!r} is experiment.parts[{k}]; allowed: a file that is not one of the parts"
            )
    return parts, target


def run(ex: Experiment) -> dict[str, Any]:
    """Read and check every part, write the pooled posterior file."""
    names, target = checked_names(ex.options)
    payloads = []
    for k, name in enumerate(names):
        try:
            payload = read_payload(name)
            posterior_from_payload(name, payload)
        except ValueError as err:
            raise ExperimentError(f"experiment.parts[{k}]: {err}") from err
        payloads.append(payload)
    pooled = pooled_payload(names, payloads)
    for summary in pooled["provenance"]["parts"]:
        summary["sha256"] = store.file_sha256(posterior_path(summary["file"]))
    store.write_text(target, json.dumps(pooled, indent=1) + "\n")
    return {
        "pooled": str(ex.options["pooled"]),
        "samples": len(pooled["samples"]),
        "parts": pooled["provenance"]["parts"],
    }


main = entry_point(NAME, run)

if __name__ == "__main__":
    main()
