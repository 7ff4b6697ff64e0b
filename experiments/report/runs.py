"""The illustrative run's section and the provenance of every result shown."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from experiments.report.html import Raw, Rendered, esc, figure_html, table
from experiments.report.reading import Inputs
from sim import store


def run_html(inputs: Inputs, figures: Mapping[str, Rendered], years: Sequence[int]) -> str:
    """The run's figures (alignment, Japan's dimensions, threat heatmap, network), its overrides, other runs."""
    meta = inputs.run_meta
    if inputs.run_overrides:
        label = "a run with overrides: " + ", ".join(f"<code>{esc(o)}</code>" for o in inputs.run_overrides)
        title = "An illustrative run (with overrides)"
    else:
        label = "the default configuration (its resolved config equals that of a bare <code>python -m sim</code>)"
        title = "An illustrative run: the default configuration"
    others = "".join(
        f"<li><code>{esc(folder.name)}</code>: "
        + (", ".join(f"<code>{esc(o)}</code>" for o in overrides) if overrides else "the default configuration")
        + "</li>"
        for folder, overrides in inputs.other_runs
    )
    others_html = (
        f"<p>Other runs in the same folder, not shown (each labelled with its overrides):</p><ul>{others}</ul>"
        if others
        else ""
    )
    return f"""
<h2 id="run">{title}</h2>
<p>The figures below are one run at one parameter point (the default configuration runs the shipped calibrated point,
<code>configs/params/calibrated.yaml</code>: the particle of the calibration that reproduces the most of the record's
patterns): an illustration of the mechanisms, not evidence for or against the claim (the verdict above carries the
model's uncertainty). Run folder <code>{esc(inputs.run_folder)}</code>:
{label}; scenario {esc(meta.get("scenario"))}, parameters <code>params={esc(meta.get("params") or "?")}</code>,
seed {esc(meta.get("seed"))}, {esc(meta.get("replicates"))} run(s),
{esc(meta.get("engine"))} engine. The threat heatmap and the alignment network show the years
{esc(", ".join(str(y) for y in years))}.</p>
{others_html}
{figure_html(figures["alignment"])}
{figure_html(figures["japan_dimensions"])}
{figure_html(figures["threat_heatmap"])}
{figure_html(figures["alignment_network"])}
"""


def provenance_html(inputs: Inputs, report_config: Mapping[str, Any], replicates_note: str) -> str:
    """Versions, revisions and the exact configuration of every result shown."""
    current = store.provenance()
    rows = []
    details = []
    for name, content in inputs.experiments.items():
        meta = content["meta"]
        folder = str(content["folder"])
        rows.append(
            [
                name,
                Raw(f"<code>{esc(folder)}</code>"),
                meta.get("model_version"),
                meta.get("git_revision"),
                meta.get("seed"),
                meta.get("replicates"),
                f"{meta.get('seconds')} s",
                "this report (missing before)" if folder in inputs.made_now else "earlier",
            ]
        )
        details.append(
            f"<details><summary>{esc(name)}: meta.json (configuration included)</summary>"
            f"<pre>{esc(json.dumps(meta, indent=2, sort_keys=True, default=str))}</pre></details>"
        )
    run_meta = inputs.run_meta
    rows.append(
        [
            "default run",
            Raw(f"<code>{esc(inputs.run_folder)}</code>"),
            run_meta.get("model_version"),
            run_meta.get("git_revision"),
            run_meta.get("seed"),
            run_meta.get("replicates"),
            f"{run_meta.get('seconds_total')} s",
            "this report (missing before)" if str(inputs.run_folder) in inputs.made_now else "earlier",
        ]
    )
    details.append(
        f"<details><summary>default run: config.yaml</summary><pre>{esc(inputs.run_config)}</pre></details>"
        f"<details><summary>default run: meta.json</summary>"
        f"<pre>{esc(json.dumps(run_meta, indent=2, sort_keys=True, default=str))}</pre></details>"
        f"<details><summary>this report: its configuration</summary>"
        f"<pre>{esc(json.dumps(report_config, indent=2, sort_keys=True, default=str))}</pre></details>"
    )
    made = "".join(f"<li><code>{esc(c)}</code></li>" for c in inputs.made_now.values())
    made_html = f"<p>Made by this report because they were missing:</p><ul>{made}</ul>" if made else ""
    return f"""
<h2 id="provenance">Configuration and versions</h2>
<p>This report: package version <b>{esc(current["package_version"])}</b>, model version
<b>{esc(current["model_version"])}</b> (package version + digest of the model's source and data), git revision
<code>{esc(current["git_revision"])}</code>, Python {esc(current["python"])}. Every result below was checked to be of
this model version.</p>
{table(["results", "folder", "model version", "git revision", "seed", "replicates", "time", "made by"], rows)}
{made_html}{f'<p class="note">{esc(replicates_note)}</p>' if replicates_note else ""}
{"".join(details)}
"""
