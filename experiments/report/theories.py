"""The rival theories section: C0 under each alignment rule and model-averaged (q2's by_theory)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from experiments.report.html import Rendered, esc, figure_html, num, table


def theories_html(q2: Mapping[str, Any], theories: Mapping[str, Any] | None, figures: Mapping[str, Rendered]) -> str:
    """Does the verdict depend on the theory of alignment? q2's ``by_theory`` and the rules' comparison.

    The grades come from q2's ``verdict.json`` (each rule over its shipped posterior); the model
    probabilities' provenance and the out-of-sample scores from ``python -m experiments.theories``.
    """
    document = q2["verdict.json"]
    by_theory = document.get("by_theory") or {}
    if not by_theory:
        return ""
    scores = theories["scores.csv"].set_index("rule") if theories else None
    rows, grades = [], {}
    for rule, block in by_theory.items():
        narrow = block.get("definitions", {}).get("narrow")
        if narrow is None:
            rows.append([esc(rule), num(block.get("model_probability"), 2), "-", "-", "-", "-", esc(block.get("note"))])
            continue
        grades[rule] = narrow["grade"]
        stale = " (stale posterior)" if block.get("posterior", {}).get("stale") else ""
        scored = scores.loc[rule] if scores is not None and rule in scores.index else None
        rows.append(
            [
                esc(rule),
                num(block.get("model_probability"), 2),
                num(narrow["china_share"]["median"], 2),
                num(narrow["p_china_share_above_half"], 2),
                esc(narrow["grade"]) + esc(stale),
                num(scored["beats_persistence_share"], 2) if scored is not None else "-",
                num(scored["mae_model"], 3) if scored is not None else "-",
            ]
        )
    if len(set(grades.values())) == 1:
        only = esc(next(iter(grades.values())))
        answer = f"No, not on these targets: under every calibrated rule C0 is graded <b>{only}</b>."
    else:
        answer = (
            "Yes: the grade changes with the theory ("
            + ", ".join(f"{esc(r)}: {esc(g)}" for r, g in grades.items())
            + ")."
        )
    averaged = document.get("model_averaged", {})
    pooled = averaged.get("definitions", {}).get("narrow")
    averaged_text = (
        f"Averaged over the rules by model probability: China's share {num(pooled['china_share']['median'], 2)}, "
        f"P(share &gt; 1/2) = {num(pooled['p_china_share_above_half'], 2)}, grade <b>{esc(pooled['grade'])}</b>"
        + (f" ({esc(pooled['grade_reason'])})" if pooled.get("too_few_draws") else "")
        + "."
        if pooled
        else esc(averaged.get("note", "No model-averaged verdict."))
    )
    provenance = document.get("model_probabilities_provenance") or {}
    method = (
        f"Model probabilities: {esc(provenance.get('method'))}, final temperature "
        f"{num(provenance.get('final_temperature'), 3)} ({esc(provenance.get('simulations'))} simulations, "
        f"{esc(provenance.get('date'))}{'; STALE: made by another model version' if provenance.get('stale') else ''}). "
        "At a temperature above 1 they are those of a tempered posterior: less decisive than the exact ones."
        if provenance
        else "No model probabilities are shipped."
    )
    origin = (
        " Out of sample: each rule's rolling-origin validation (origins "
        + esc(", ".join(theories["theories.json"]["origins"]))
        + "):"
        " the share of forecast points where its median beats persistence, and its mean absolute error."
        if theories
        else " Out-of-sample scores: run <code>python -m experiments.theories</code>."
    )
    return f"""
<h2 id="theories">Does the verdict depend on the theory?</h2>
<p>{answer}</p>
<p>The same model under three theories of how states align (<code>alignment_rule</code>: Walt's balance of
threat, Axelrod and Bennett's landscape, Waltz's balance of power), each calibrated on the same targets by the
calibration's method, C0 graded over each rule's own posterior draws (q2). {method}{origin}</p>
{
        table(
            [
                "rule",
                "P(rule | data)",
                "China's share (median)",
                "P(share > 1/2)",
                "grade",
                "beats persistence",
                "forecast MAE",
            ],
            rows,
        )
    }
<p>{averaged_text}</p>
{figure_html(figures["theory_shares"]) if "theory_shares" in figures else ""}
<p>From <code>python -m experiments.q2_driver_shares</code> (<code>by_theory</code> in its verdict.json){
        " and <code>python -m experiments.theories</code> (" + esc(theories["folder"]) + ")" if theories else ""
    }.</p>
"""
