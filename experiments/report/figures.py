"""Every figure of the page, drawn from the results read (one function: the figures by name)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from experiments.figures import removal_vs_shapley_figure, share_distributions_figure, tradeoff_figure
from experiments.report.html import Rendered, render
from experiments.report.questions import interactions_sentence
from experiments.report.reading import Inputs, read_input
from experiments.report.verdict import gap_rows
from experiments.theory_verdicts import theory_shares_figure
from sim import plots


def draw(inputs: Inputs, opts: Mapping[str, Any], formats: Sequence[str]) -> dict[str, Rendered]:
    """Every figure of the report, drawn in memory."""
    figures: dict[str, Rendered] = {}

    def add(name: str, caption: str, fig: Figure) -> None:
        figures[name] = render(fig, name, caption, formats)

    ex = inputs.experiments
    years = opts["years"]
    if "q2_driver_shares" in ex:
        q2 = ex["q2_driver_shares"]
        drivers = list(gap_rows(q2["driver_shares.csv"])["driver"])
        add(
            "share_distributions",
            "Each driver's Shapley share of the change in Japan's China-wants gap in every draw (violins, medians "
            "marked); the verdict of each definition in the title (q2).",
            share_distributions_figure(q2["draws.csv"][drivers].to_numpy(), drivers, q2["verdict.json"]),
        )
    if "scenario_discovery" in ex and (ex["scenario_discovery"]["folder"] / "trajectory.csv").is_file():
        trajectory = read_input(ex["scenario_discovery"]["folder"] / "trajectory.csv", pd.read_csv)
        add(
            "tradeoff",
            "PRIM's peeling trade-off: each box's coverage against its density, coloured by the number of parameters "
            "it restricts; the box reported circled (scenario discovery).",
            tradeoff_figure(trajectory, str(ex["scenario_discovery"]["summary.json"].get("box_rule_text", ""))),
        )
    by_theory = ex["q2_driver_shares"]["folder"] / "china_shares_by_theory.csv" if "q2_driver_shares" in ex else None
    if by_theory is not None and by_theory.is_file():
        doc = ex["q2_driver_shares"]["verdict.json"]
        add(
            "theory_shares",
            "China's coercion: its share of the change in Japan's China-wants gap under each theory of alignment "
            "(each rule's posterior draws) and averaged over them by model probability (q2's by_theory).",
            theory_shares_figure(
                read_input(by_theory, pd.read_csv),
                doc.get("model_probabilities") or {},
                doc["thresholds"]["majority_share"],
                int(ex["q2_driver_shares"]["meta"]["seed"]),
            ),
        )
    if "q1_counterfactuals" in ex:
        effects = ex["q1_counterfactuals"]["effects.csv"]
        add(
            "effects",
            "Effect of removing each driver on Japan's China-wants gap, by year (mean over draws, 90% interval "
            "over draws; q1).",
            plots.effects_figure(effects, "china_wants_gap"),
        )
        last = int(effects["year"].max())
        add(
            "effects_dimensions",
            f"Effect of removing each driver on each of Japan's five dimensions and the gap in {last} (q1).",
            plots.effects_dimensions_figure(effects, last),
        )
        compared = (
            interactions_sentence(effects, ex["q2_driver_shares"]["verdict.json"]) if "q2_driver_shares" in ex else None
        )
        if compared is not None:
            add(
                "removal_vs_shapley",
                f"Each driver removed alone (q1, effect on the gap in {compared[1]}) beside its Shapley contribution "
                "(q2, averaged over every order of removal), both with 90% intervals over draws.",
                removal_vs_shapley_figure(
                    effects[(effects["outcome"] == "china_wants_gap") & (effects["year"] == compared[1])],
                    gap_rows(ex["q2_driver_shares"]["driver_shares.csv"]),
                    compared[1],
                ),
            )
        if inputs.comparison is not None:
            label = plots.scenario_label(opts["compare"])
            add(
                "alignment_comparison",
                f"Every actor's alignment in the baseline and with {label}: median and 90% band across q1's runs.",
                plots.plot_alignment_comparison(
                    *inputs.comparison,
                    inputs.names,
                    ("baseline", label),
                    title=f"Alignment of every actor: baseline and {label}",
                    poles=inputs.poles,
                ),
            )
    if "q4_hysteresis" in ex:
        q4 = ex["q4_hysteresis"]
        add(
            "hysteresis",
            "Japan's gap in the check year against the year from which Beijing stops coercing; the critical "
            "juncture (q4).",
            plots.hysteresis_figure(q4["hysteresis.csv"], q4["juncture.json"]),
        )
    if "q5_asean_alignment" in ex:
        q5 = ex["q5_asean_alignment"]
        by_year = q5["classification_by_year.csv"]
        add(
            "classification",
            "Each Southeast Asian state's modal class by year, in each scenario (q5).",
            plots.classification_strip(by_year, list(dict.fromkeys(by_year["scenario"]))),
        )
    tables = inputs.run_tables
    scenario = inputs.run_meta.get("scenario", "")
    add(
        "alignment",
        f"Every actor's alignment over time in the default run ({scenario}); the poles dashed.",
        plots.plot_alignment(tables["states"], inputs.names, f"Alignment of every actor ({scenario})", inputs.poles),
    )
    add(
        "japan_dimensions",
        "Japan's five dimensions W1..W5 and the China-wants gap in the default run, dated events marked.",
        plots.plot_japan_dimensions(
            tables["outcomes"], inputs.events, f"What Beijing wants from Japan, and what it gets ({scenario})"
        ),
    )
    add(
        "threat_heatmap",
        "Threat of each target (columns) to each observer (rows) in the default run, annual means.",
        plots.threat_heatmap(tables["dyads"], years),
    )
    add(
        "alignment_network",
        f"Actors linked when their alignments are close (closeness at least {opts['threshold']:g}); colour: "
        "alignment, China red to US blue.",
        plots.alignment_network(tables["states"], years, threshold=opts["threshold"], poles=inputs.poles),
    )
    return figures
