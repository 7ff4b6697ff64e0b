"""Where the claim holds: scenario discovery's box in a sentence, its limits and the trade-off figure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from experiments.report.html import Rendered, esc, figure_html, num, table


def where_html(discovery: Mapping[str, Any] | None, figures: Mapping[str, Rendered]) -> str:
    """Scenario discovery: where in the prior space C0's core holds (PRIM's box in a sentence, its limits)."""
    if discovery is None:
        return (
            '<h2 id="where">Where does the claim hold?</h2><p class="note">Scenario discovery was not run '
            "(<code>python -m experiments.scenario_discovery</code>); add it to experiment.experiments.</p>"
        )
    summary, boxes = discovery["summary.json"], discovery["boxes.csv"]
    rows = [
        [
            str(r["key"]).removeprefix("params."),
            f"{num(r['low'], 3)} to {num(r['high'], 3)}",
            f"{num(r['prior_low'], 3)} to {num(r['prior_high'], 3)}",
            "dimensionless" if str(r.get("unit", "1")) in ("1", "", "nan") else str(r["unit"]),
        ]
        for r in boxes.to_dict("records")
    ]
    box = summary.get("box") or {}
    figure = figure_html(figures["tradeoff"]) if "tradeoff" in figures else ""
    return f"""
<h2 id="where">Where does the claim hold? (scenario discovery)</h2>
<div class="note"><b>{esc(summary.get("sentence", ""))}</b></div>
<p>PRIM (the EMA Workbench's implementation) over a Latin hypercube of {esc(summary.get("points"))} parameter sets from
the priors, one run of every driver combination each; a set counts where {esc(summary.get("outcome", ""))}. The box is
chosen by a rule fixed in the configuration before the run: {esc(summary.get("box_rule_text", ""))} (coverage
{num(box.get("coverage"), 2)}, density {num(box.get("density"), 2)}, mass {num(box.get("mass"), 2)}).</p>
{table(["parameter", "box", "prior range", "unit"], rows) if rows else ""}
{figure}
"""
