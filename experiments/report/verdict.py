"""The question and the verdict section: q2's grades, probabilities and shares (truth first)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from experiments.report.html import Rendered, esc, figure_html, interval, num, table
from sim import drivers as registry


def gap_rows(shares: pd.DataFrame) -> pd.DataFrame:
    """The rows of q2's ``driver_shares.csv`` for the China-wants gap (one per driver)."""
    if "dimension" not in shares.columns:
        return shares
    return shares[shares["dimension"] == "china_wants_gap"].reset_index(drop=True)


def dimensions_html(shares: pd.DataFrame) -> str:
    """Each driver's share of the change in each of Japan's dimensions W1..W5 and the gap."""
    if "dimension" not in shares.columns:
        return ""
    wide = shares.pivot(index="driver", columns="dimension", values="share")
    order = [d for d in shares["dimension"].drop_duplicates()]
    rows = [
        [registry.labels().get(str(d), str(d)), *(num(wide.loc[d, c], 2) for c in order)]
        for d in shares["driver"].drop_duplicates()
    ]
    return f"""<h3>Shares by dimension</h3>
<p>Shapley share of each driver in the change of each dimension (shares of a dimension that hardly moves are
large and unstable).</p>
{table(["driver", *order], rows)}"""


GRADE_CLASS = {"supported": "supported", "contradicted": "not-supported", "undetermined": "undecided"}


def question_html(states: int, start: int, end: int) -> str:
    """The question, paraphrased from CLAIMS.md (Roy 2024), and how the model puts it to a test."""
    return f"""
<h2 id="question">The question</h2>
<p>Denny Roy (2024), in a short PacNet commentary, argues that Japan has been moving away from the Japan that
Beijing would like to have on five counts: it criticises China more openly (W1), its standing in the region has
grown (W2), it resists China's territorial claims (W3), it is arming and binding itself more tightly to the United
States (W4), and it restricts the flow of advanced technology to China (W5). His causal claim is that Beijing's own
coercive behaviour is the main cause, with North Korea's provocations and Russia's war contributing less.</p>
<p>The simulation turns this into <b>claim C0</b>: in an agent-based model of {states} states that perceive threats
and adjust their alignment every quarter from {start} to {end}, China's coercion explains the largest share of the
change in Japan's "China-wants gap" (the mean of W1..W5, 0 = the Japan Beijing wants, 1 = its opposite), more than
one half, while North Korea's and Russia's contributions are positive and smaller. The claim can fail: the model
also carries rival drivers (US pressure for burden-sharing and a domestic trend in Japan), each with its own
switch, and the shares come from switching every combination of drivers on and off (Shapley values).</p>
"""


def pattern_consistent_html(verdict: Mapping[str, Any]) -> str:
    """C0 over the draws that reproduce the record's patterns (q2's ``pattern_consistent``), if computed."""
    block = verdict.get("pattern_consistent")
    if not block:
        return ""
    held = ", ".join(f"{esc(k)}: {esc(n)}" for k, n in block.get("patterns_held_per_draw", {}).items())
    lines = []
    for name in ("narrow", "broad"):
        d = block.get(name, {})
        if "china_share" in d:
            china = d["china_share"]
            lines.append(
                f"<li>{esc(name)}: <b>{esc(d['grade'])}</b>, China's median share {num(china['median'], 2)} (90% "
                f"interval {num(china['interval_90'][0], 2)}-{num(china['interval_90'][1], 2)}), P(share above "
                f"one half) {num(d['p_china_share_above_half'], 2)}, P(largest) {num(d['p_china_largest'], 2)}, "
                f"{esc(d['n_draws'])} draws</li>"
            )
        else:
            lines.append(f"<li>{esc(name)}: <b>{esc(d.get('grade'))}</b> ({esc(d.get('reason', ''))})</li>")
    return f"""<h3>Among the draws that reproduce the record's patterns</h3>
<p>The calibration's data leave some parameters open that the record's qualitative patterns
constrain (section <a href="#patterns">patterns</a>); pattern-oriented modelling uses them as filters (Grimm et
al. 2005). Kept: {esc(block.get("rule", ""))};
{esc(block.get("n_draws"))} of the draws ({num(block.get("share_of_draws"), 2)}). Patterns reproduced per draw
(number: draws): {held}. The rule was fixed in q2's configuration before the run.</p>
<ul>{"".join(lines)}</ul>"""


def by_calibration_html(verdict: Mapping[str, Any]) -> str:
    """C0 within each pooled calibration (q2's ``by_calibration``): how much one calibration's verdict varies."""
    block = verdict.get("by_calibration")
    if not block:
        return ""
    rows = [
        [
            esc(c.get("seed")),
            esc(c.get("narrow", {}).get("n_draws")),
            *(
                f"{esc(c[name]['grade'])}: {num(c[name]['china_share']['median'], 2)}, "
                f"{num(c[name]['p_china_share_above_half'], 2)}, {num(c[name]['p_china_largest'], 2)}"
                for name in ("narrow", "broad")
                if name in c
            ),
        ]
        for c in block.get("calibrations", [])
    ]
    return f"""<h3>Within each calibration</h3>
<p>The posterior pools independent calibrations of the same model and data that differ only in their seed
(each descends from a few particles of its last generation; docs/ODD.md, B.7). The same draws grouped by the
calibration they come from: grade, China's median share, P(share above one half), P(largest). Their spread is the
Monte Carlo error of a single calibration, which pooling shrinks.</p>
{table(["seed", "draws", "narrow", "broad"], rows)}"""


def verdict_html(q2: Mapping[str, Any], figures: Mapping[str, Rendered]) -> str:
    """q2: the verdict of each definition with its probabilities and the rule, each driver's shares, the figure."""
    verdict, all_shares = q2["verdict.json"], q2["driver_shares.csv"]
    shares = gap_rows(all_shares)
    source, n_draws = verdict.get("parameter_source"), verdict.get("n_draws")
    parameters = verdict.get("parameters") or {}
    window = verdict.get("window", ["?", "?"])
    majority = float(verdict.get("thresholds", {}).get("majority_share", 0.5))
    if source == "posterior":
        origin = (
            f"{esc(n_draws)} parameter sets drawn from the calibrated posterior "
            f"(<code>{esc(parameters.get('posterior_file'))}</code>, {esc(parameters.get('posterior_size'))} vectors"
            + (
                f", drawn with replacement: <b>{esc(parameters.get('unique_samples'))} distinct</b>"
                if parameters.get("with_replacement")
                else ""
            )
            + f"), {esc(parameters.get('replicates_per_draw'))} run(s) each"
        )
    else:
        origin = (
            f"<b>one parameter point</b> only (the configured <code>params</code>, the calibrated point unless "
            f"overridden; {esc(n_draws)} runs that differ in their random numbers alone): an illustration, not the "
            "model's uncertainty"
        )
    boxes = []
    for name, d in verdict.get("definitions", {}).items():
        china = d["china_share"]
        members = ", ".join(registry.labels().get(m, m) for m in d.get("china_drivers", []))
        boxes.append(
            f'<div class="verdict {GRADE_CLASS[d["grade"]]}"><span class="word">Claim C0 ({esc(name)} definition): '
            f"{esc(d['grade'])}</span><br>Beijing's own behaviour ({esc(members)}) explains a share of "
            f"<b>{num(china['median'], 2)}</b> of the change in Japan's China-wants gap {esc(window[0])}-"
            f"{esc(window[1])} (median; 50% interval {num(china['interval_50'][0], 2)}-"
            f"{num(china['interval_50'][1], 2)}, 90% interval {num(china['interval_90'][0], 2)}-"
            f"{num(china['interval_90'][1], 2)}). Probability that it is above {majority:g}: "
            f"<b>{num(d['p_china_share_above_half'], 2)}</b>; that it is the largest: "
            f"<b>{num(d['p_china_largest'], 2)}</b> ({esc(d['n_draws'])} draws"
            + (f", {esc(d['n_draws_dropped'])} left out: no change to share" if d.get("n_draws_dropped") else "")
            + ").</div>"
        )
    rows = [
        [
            registry.labels().get(str(r["driver"]), str(r["driver"])),
            interval(r["share"], r["ci_low"], r["ci_high"]),
            interval(r["contribution"], r["contribution_ci_low"], r["contribution_ci_high"], 4, True),
        ]
        for _, r in shares.iterrows()
    ]
    return f"""
<h2 id="verdict">The verdict (q2)</h2>
<p>From {origin}. In each draw every combination of the drivers is switched on and off (Shapley values, the same
random numbers for every combination); a driver's share is its Shapley value over the total change. The grading rule
was fixed in the experiment's configuration before any run: {esc(verdict.get("rule", ""))}.</p>
{"".join(boxes)}
{by_calibration_html(verdict)}
{pattern_consistent_html(verdict)}
<h3>Each driver's share of the change in Japan's gap, {esc(window[0])}-{esc(window[1])}</h3>
<p>The drivers together change Japan's gap by <b>{num(verdict.get("total_change"), 3, True)}</b> (mean over
draws; {num(verdict.get("change_all_drivers"), 3, True)} with every driver on, {
        num(verdict.get("change_no_driver"), 3, True)
    } with none).</p>
{table(["driver", "share [90% interval over draws]", "contribution to the gap [90% interval over draws]"], rows)}
{dimensions_html(all_shares)}
{figure_html(figures["share_distributions"])}
"""
