"""The sections of q1 (beside q2's shares), q4 (the critical juncture) and q5 (ASEAN alignment)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from experiments.report.html import Raw, Rendered, esc, figure_html, interval, num, table
from sim import plots

QUESTIONS = {
    "q1_counterfactuals": "Q1: where would Japan and Southeast Asia be without each driver?",
    "q2_driver_shares": "Q2 and claim C0: what share of Japan's shift does each driver explain?",
    "q4_hysteresis": "Q4: if Beijing stopped coercion in a given year, would Japan come back?",
    "q5_asean_alignment": "Q5: which Southeast Asian states balance, hedge or bandwagon?",
}


def interactions_sentence(effects: pd.DataFrame, verdict: Mapping[str, Any]) -> tuple[str, int] | None:
    """One sentence on why q1's single removals and q2's Shapley shares differ, and the year compared."""
    year = int(verdict.get("window", [0, 0])[1])
    gap = effects[(effects["outcome"] == "china_wants_gap") & (effects["year"] == year)]
    if gap.empty or verdict.get("total_change") is None:
        return None
    alone = -float(gap["effect"].sum())
    total = float(verdict["total_change"])
    return (
        f"Removed one at a time (q1), the drivers' effects on Japan's gap in {year} add up to {alone:+.3f}; together "
        f"they change it by {total:+.3f} from {verdict['window'][0]} (q2). The difference is their interaction: a "
        "driver's effect depends on which others act, so removing it alone (given all the others) and its Shapley "
        "value (its effect averaged over every order of removal) differ, most for drivers that work through the same "
        "perceptions.",
        year,
    )


def q1_html(q1: Mapping[str, Any], figures: Mapping[str, Rendered], note: str, interactions: str = "") -> str:
    """q1: the effects on the gap by year, on W1..W5 in the last year, the figures."""
    effects = q1["effects.csv"]
    gap = effects[effects["outcome"] == "china_wants_gap"]
    years = sorted(gap["year"].unique())
    rows = []
    for scenario in dict.fromkeys(gap["scenario"]):
        sub = gap[gap["scenario"] == scenario].set_index("year")
        rows.append(
            [plots.scenario_label(scenario)]
            + [interval(sub.loc[y, "effect"], sub.loc[y, "ci_low"], sub.loc[y, "ci_high"], 3, True) for y in years]
        )
    last = max(years)
    dims = effects[effects["year"] == last]
    outcomes = [*plots.W_LABELS]
    dim_rows = []
    for scenario in dict.fromkeys(dims["scenario"]):
        sub = dims[dims["scenario"] == scenario].set_index("outcome")
        dim_rows.append(
            [plots.scenario_label(scenario)]
            + [num(sub.loc[o, "effect"], 3, True) if o in sub.index else "-" for o in outcomes]
        )
    n = int(effects["n"].iloc[0]) if "n" in effects.columns and len(effects) else "?"
    parts = [
        '<h2 id="q1">Counterfactuals (q1)</h2>',
        f"<p>{esc(QUESTIONS['q1_counterfactuals'])} Each counterfactual removes one driver for the whole run; its "
        f"effect is the counterfactual minus the baseline, paired by parameters and seed ({esc(n)} draws), annual "
        "means: the mean over draws with its 90% interval over draws. Negative: without the driver Japan is "
        "closer to the Japan Beijing wants.</p>",
        "<h3>Effect on Japan's China-wants gap (mean [90% interval over draws])</h3>",
        table(["counterfactual", *[str(y) for y in years]], rows),
        f"<h3>Effect on each dimension in {esc(last)} (mean)</h3>",
        table(["counterfactual", *[plots.W_LABELS[o] for o in outcomes]], dim_rows),
        figure_html(figures["effects"]),
        figure_html(figures["effects_dimensions"]),
    ]
    if interactions:
        parts.append(f'<p class="note">{esc(interactions)}</p>')
    if "removal_vs_shapley" in figures:
        parts.append(figure_html(figures["removal_vs_shapley"]))
    if "alignment_comparison" in figures:
        parts.append(figure_html(figures["alignment_comparison"]))
    elif note:
        parts.append(f'<p class="note">{esc(note)}</p>')
    return "\n".join(parts)


def q4_html(q4: Mapping[str, Any], figures: Mapping[str, Rendered]) -> str:
    """q4: the critical juncture against the never-coerced path, and whether the stricter criterion is reachable."""
    s = q4["juncture.json"]
    spread = s.get("juncture_interval_90")
    strict = s.get("vs_reference_level", {})
    first = int(q4["hysteresis.csv"]["restraint_year"].min())
    censored = s.get("juncture_median") is not None and float(s["juncture_median"]) <= first
    strict_text = (
        f"{num(strict.get('juncture_median'), 0)} ({strict.get('runs_with_juncture')} runs with a juncture)"
        if strict.get("reachable")
        else f"unreachable: no run gets back to its {s.get('reference_year')} level by {s.get('check_year')} even "
        "never coerced (other drivers move Japan too), so this criterion has no meaningful juncture"
    )
    rows = [
        [
            "critical juncture (median over runs)",
            num(s.get("juncture_median"), 0)
            + (f" (the first restraint year tried: the juncture is at {first} or earlier)" if censored else ""),
        ],
        ["90% of runs' junctures within", f"{num(spread[0], 0)}-{num(spread[1], 0)}" if spread else "-"],
        ["runs with a juncture in the window", f"{s.get('runs_with_juncture')} of {s.get('runs')}"],
        ["runs that never come back, whenever restraint starts", f"{s.get('runs_never_returning')} of {s.get('runs')}"],
        [f"gap in {s.get('check_year')}: no restraint (median)", num(s.get("gap_check_baseline_median"))],
        [f"gap in {s.get('check_year')}: never coerced (median)", num(s.get("gap_check_never_coerced_median"))],
        ["tolerance for 'back'", num(s.get("tolerance"))],
        [
            f"stricter criterion: back to the {s.get('reference_year')} level "
            f"(median {num(s.get('gap_reference_median'))})",
            strict_text,
        ],
    ]
    return f"""
<h2 id="q4">Hysteresis and the critical juncture (q4)</h2>
<p>{esc(QUESTIONS["q4_hysteresis"])} Beijing stops coercion from a restraint year on; a run comes back if Japan's gap
in {esc(s.get("check_year"))} is at most the gap of the same run never coerced (same parameters and random numbers),
plus the tolerance: restraint has then undone coercion's effect. A run's critical juncture is the first restraint year
from which on it never comes back.</p>
{table(["quantity", "value"], rows)}
<p class="note">{esc(s.get("note", ""))}</p>
{figure_html(figures["hysteresis"])}
"""


def q5_html(q5: Mapping[str, Any], figures: Mapping[str, Rendered]) -> str:
    """q5: the classification of each Southeast Asian state in each scenario."""
    table_frame = q5["classification.csv"]
    split = q5["meta"].get("config", {}).get("experiment", {}).get("split")
    scenarios = list(dict.fromkeys(table_frame["scenario"]))
    rows = []
    for actor in dict.fromkeys(table_frame["actor"]):
        row: list[Any] = [actor]
        for scenario in scenarios:
            hit = table_frame[(table_frame["actor"] == actor) & (table_frame["scenario"] == scenario)]
            if hit.empty:
                row.append("-")
                continue
            r = hit.iloc[0]
            share = r.get(f"share_{r['class']}")
            row.append(
                Raw(
                    f'<span class="{esc(r["class"])}">{esc(r["class"])}</span> ({num(share, 2)} of runs); change '
                    f"{interval(r['change'], r['ci_low'], r['ci_high'], 3, True)}; security "
                    f"{num(r.get('security_end'), 2)}, economic {num(r.get('economic_end'), 2)}, split hedge in "
                    f"{num(r.get('share_split'), 2)} of runs"
                )
            )
        rows.append(row)
    return f"""
<h2 id="q5">Southeast Asia: balancing, hedging, bandwagoning (q5)</h2>
<p>{esc(QUESTIONS["q5_asean_alignment"])} By where it stands, a state balances (with the US) if its alignment is
in the upper third of the scale, bandwagons (with China) if in the lower third, and hedges in between; the figure's
arrows say where it is heading (its change since the start year). The class is the most frequent across runs at the
end year; the change is the mean alignment change with its 90% interval over parameter draws. The class reads the
overall alignment, a weighted mix of the security and economic alignments (ODD eqs. 19e-19f); their end-year means
follow, with the share of runs that are a split hedge in Kuik's (2008) sense: the two on opposite sides of 0 and
more than {num(split, 2)} apart (security with one power, the economy with the other).</p>
{table(["state", *[plots.scenario_label(s) for s in scenarios]], rows)}
{figure_html(figures["classification"])}
"""
