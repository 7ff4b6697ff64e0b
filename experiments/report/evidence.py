"""The evidence sections: calibration's predictive checks and validation, q3's robustness, the record's patterns."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from experiments.report.html import esc, num, table


def coverage_html(checks: Any) -> str:
    """The calibration's predictive checks: coverage in sample and left out, and what chance allows.

    One sentence per family whose in-sample coverage misses the target (50% band 0.40-0.60, 90%
    band at least 0.80): its count, the chance of a count as extreme under a calibrated band, and
    the leave-one-out coverage (``checks.json``, experiments/calibrate.py).
    """
    if checks is None:
        return ""
    inside, left_out = checks["coverage"], checks.get("coverage_loo", {})
    rows, sentences = [], []
    for family, entry in inside.items():
        loo = left_out.get(family, {})
        chance = entry.get("binomial_p", {})
        rows.append(
            [
                family,
                entry["n"],
                f"{num(entry['band50'], 2)} / {num(entry['band90'], 2)}",
                f"{num(chance.get('band50'), 2)} / {num(chance.get('band90'), 2)}",
                f"{num(loo.get('band50'), 2)} / {num(loo.get('band90'), 2)}",
                num(loo.get("truncated_share"), 2),
            ]
        )
        n = int(entry["n"])
        failing = [
            (band, level)
            for band, level, ok in (
                ("band50", "50%", 0.4 <= entry["band50"] <= 0.6),
                ("band90", "90%", entry["band90"] >= 0.8),
            )
            if not ok
        ]
        for band, level in failing:
            sentences.append(
                f"<li>{esc(family)}: {round(entry[band] * n)} of {n} observations inside the {level} band "
                f"({num(entry[band], 2)}); under a calibrated band a count at least as extreme has probability "
                f"{num(chance.get(band), 2)}; left out one at a time, {num(loo.get(band), 2)}.</li>"
            )
    verdict = f"<ul>{''.join(sentences)}</ul>" if sentences else "<p>Every family meets the targets in sample.</p>"
    return (
        '<h2 id="checks">Posterior predictive checks (the calibration)</h2>'
        "<p>Share of the observations to the calibration's last year inside the posterior predictive "
        "50% and 90% bands, in sample (the bands of the posterior fitted to them) and left out one at a "
        "time (importance-reweighted draws, Vehtari, Gelman and Gabry 2017, weights truncated as in "
        "Ionides 2008); the binomial probability of the in-sample counts under calibrated bands "
        "(two-sided for the 50% band, at least as many misses for the 90% band). Targets: 0.40-0.60 "
        "and at least 0.80.</p>"
        + table(["family", "n", "in sample 50% / 90%", "binomial p", "left out 50% / 90%", "weights truncated"], rows)
        + verdict
    )


def validation_html(validation: Any) -> str:
    """The calibration's out-of-sample validation scores, when the calibration has written them."""
    if validation is None:
        return (
            '<h2 id="evidence">Out-of-sample validation</h2><p class="note">No validation scores yet '
            "(results/experiments/calibrate/validation.json, written by <code>make calibrate</code>).</p>"
        )
    return (
        '<h2 id="evidence">Out-of-sample validation (the calibration)</h2>'
        f"<pre>{esc(json.dumps(validation, indent=2, sort_keys=True, default=str))}</pre>"
    )


def robustness_html(q3: Mapping[str, Any]) -> str:
    """q3: in how much of the prior space and of the posterior C0 holds, and which parameters decide it."""
    robust, sobol = q3["robustness.json"], q3["sobol.csv"]

    def share(block: Mapping[str, Any] | None) -> str:
        if not block:
            return "not computed (no posterior sample)"
        low, high = block["wilson_95"]
        return (
            f"{num(block['fraction'], 2)} ({esc(block['c0_holds'])} of {esc(block['points'])} points; Wilson 95% "
            f"[{num(low, 2)}, {num(high, 2)}])"
        )

    rows = [
        [
            esc(r.key).removeprefix("params."),
            f"{num(r.ST, 2)} &plusmn; {num(r.ST_conf, 2)}",
            f"{num(r.S1, 2)} &plusmn; {num(r.S1_conf, 2)}",
        ]
        for r in sobol[sobol["output"] == "china_share"].sort_values("ST", ascending=False).itertuples()
    ]
    return f"""
<h2 id="robustness">How robust is the verdict? (q3)</h2>
<p>One point per parameter set, at its own point estimate. Over the uncertain parameters' prior ranges
(<code>configs/priors/default.yaml</code>) C0 holds in a fraction {share(robust.get("prior_space"))} of the
parameter space, and {share(robust.get("posterior"))} of the calibrated posterior. China's median Shapley share
over the prior space is {num(robust.get("china_share_median"), 2)}. Sobol indices of China's share (total, first
order; the parameters that decide the verdict):</p>
{table(["parameter", "total index ST", "first order S1"], rows)}
<p>From <code>python -m experiments.q3_sensitivity</code>; its figures are in {esc(q3["folder"])}.</p>
"""


def patterns_html(patterns: Mapping[str, Any]) -> str:
    """The record's patterns: does the model that gives the verdict reproduce what is known to 2021?"""
    frame = patterns["patterns.csv"]
    rows = [
        [
            esc(r.pattern),
            esc(r.description),
            f"{'>' if r.holds_if == 'above' else '<'} {num(r.threshold, 2)}",
            num(r.value, 3),
            f"{num(r.median, 3)} [{num(r.low, 3)}, {num(r.high, 3)}]",
            num(r.share_of_draws_holding, 2),
            "holds" if r.holds else "fails",
        ]
        for r in frame.itertuples()
    ]
    held = int(frame["holds"].sum())
    return f"""
<h2 id="patterns">Does the model reproduce the record? ({held} of {len(frame)} patterns)</h2>
<p>Thirteen patterns of the record to 2021 (<code>docs/reference/PATTERNS.md</code>), each a statistic
with a tolerance stated before the model was run (<code>configs/experiment/patterns.yaml</code>), at the
calibrated point and over the posterior draws (median, 90% interval, share of draws that hold). A verdict
from a model that fails many of them deserves less weight.</p>
{
        table(
            [
                "pattern",
                "what the record shows",
                "tolerance",
                "calibrated point",
                "posterior median [90%]",
                "share of draws",
                "result",
            ],
            rows,
        )
    }
<p>From <code>python -m experiments.patterns</code>; statistics defined in <code>experiments/patterns.py</code>.</p>
"""
