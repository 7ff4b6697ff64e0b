"""The report of the claim test: ``python -m experiments.report`` (``make report``).

Builds ONE self-contained HTML page, ``<experiment.out>/index.html`` (``results/report/`` by
default), truth first: the question (claim C0 of Roy 2024), q2's verdict over the posterior
draws (each definition's probabilities and grade, the rule fixed before the run), where in
parameter space the claim holds (scenario discovery: PRIM's box in a sentence), the record's
patterns and the calibration's validation scores when those tools have written them, then q1's
counterfactual effects beside q2's Shapley contributions, q4's critical juncture, q5's
classification, one illustrative run, every figure (embedded as PNG data URIs; also written to
``<out>/figures/``), and the configuration, model version and git revision of every result it
shows. The page has no external link, script or font: it opens offline.

What it reads, and only that:

- ``<experiment.experiments_dir>/<name>/`` of each experiment in ``experiment.experiments``:
  its CSV and JSON outputs and ``meta.json`` (q1's cached ``runs/*.states.parquet`` of the
  baseline and ``experiment.compare_scenario`` for the side-by-side alignment figure);
- ``<experiments_dir>/patterns/patterns.csv`` and ``<experiments_dir>/calibrate/validation.json``
  when present (never made here);
- one run folder of ``python -m sim``: ``experiment.run``, or else the run under
  ``experiment.runs_dir`` (``results/runs/baseline``) whose resolved config equals the default's
  (same config hash; never the newest by time): its ``states``, ``dyads`` and ``outcomes``
  tables, ``config.yaml`` and ``meta.json``. Other runs there are listed with their overrides.

Missing results (a folder without ``meta.json``: never run, or interrupted) are made first when
``experiment.run_missing`` is true (the default): each experiment by its own entry point,
``python -m experiments.<name> experiment.out=<folder>``, in a subprocess, at its default
size (``experiment.replicates_when_missing=N`` runs fewer draws or points, and the report says so;
an interrupted experiment resumes from its run cache), and the run by ``python -m sim``. With
``experiment.run_missing=false`` a missing folder stops the report with an error naming it.

Bad input stops the report with exit code 2 and a message naming the folder or key, before
anything is written: a results folder of another model version, an incomplete or unreadable one,
an unknown experiment, a year outside the run. Every file is written atomically and only after
every input has been read and every figure drawn, so a failed report leaves the previous one
whole.
"""

from __future__ import annotations

import base64
import datetime
import functools
import hashlib
import html
import io
import json
import logging
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hydra
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from omegaconf import OmegaConf

from experiments.common import Experiment, ExperimentError, check_years, entry_point
from experiments.draws import nested_seeds
from experiments.figures import removal_vs_shapley_figure, share_distributions_figure, tradeoff_figure
from experiments.theory_verdicts import theory_shares_figure
from sim import drivers as registry
from sim import plots, store
from sim.config import NOT_IN_HASH, config_hash, job_options, params_from_config
from sim.inputs import build_inputs
from sim.runs import replicate_seeds

NAME = "report"
log = logging.getLogger("experiments")
EXPERIMENTS = ("q1_counterfactuals", "q2_driver_shares", "q4_hysteresis", "q5_asean_alignment", "scenario_discovery")
# The outputs of each experiment the report reads (besides meta.json).
OUTPUTS = {
    "q1_counterfactuals": ("effects.csv", "sea_states.csv"),
    "q2_driver_shares": ("driver_shares.csv", "verdict.json", "draws.csv"),
    "q4_hysteresis": ("hysteresis.csv", "juncture.json"),
    "q5_asean_alignment": ("classification.csv", "classification_by_year.csv"),
    "q3_sensitivity": ("robustness.json", "sobol.csv"),
    "theories": ("theories.json", "scores.csv"),
    "patterns": ("patterns.csv",),
    "scenario_discovery": ("boxes.csv", "summary.json"),
}
# Written by another tool (the calibration's out-of-sample validation): shown when present, never
# made by the report. experiments_dir/<folder>/<file>.
EVIDENCE = {"validation": ("calibrate", "validation.json")}
# Shown when present, never made by the report (each takes minutes to tens of minutes).
OPTIONAL = ("q3_sensitivity", "theories", "patterns")
RUN_TABLES = ("states", "dyads", "outcomes")
FIGURES_FOLDER = "figures"
HTML_FILE = "index.html"
QUESTIONS = {
    "q1_counterfactuals": "Q1: where would Japan and Southeast Asia be without each driver?",
    "q2_driver_shares": "Q2 and claim C0: what share of Japan's shift does each driver explain?",
    "q4_hysteresis": "Q4: if Beijing stopped coercion in a given year, would Japan come back?",
    "q5_asean_alignment": "Q5: which Southeast Asian states balance, hedge or bandwagon?",
}


@dataclass
class Inputs:
    """Everything the report shows, read from result files."""

    experiments: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> file -> content
    run_folder: Path | None = None
    run_meta: dict[str, Any] = field(default_factory=dict)
    run_config: str = ""
    run_tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    poles: tuple[str, str] = ("CHN", "USA")
    events: list[tuple[float, str]] = field(default_factory=list)
    comparison: tuple[pd.DataFrame, pd.DataFrame] | None = None
    comparison_note: str = ""
    made_now: dict[str, str] = field(default_factory=dict)  # folder -> the command that made it
    evidence: dict[str, Any] = field(default_factory=dict)  # validation.json when present
    run_overrides: list[str] = field(default_factory=list)  # the shown run's differences from the default config
    other_runs: list[tuple[Path, list[str]]] = field(default_factory=list)  # runs with overrides, not shown


@dataclass
class Rendered:
    """A figure drawn in memory: its file bytes by format, a caption, its name."""

    name: str
    caption: str
    files: dict[str, bytes]


# --- reading --------------------------------------------------------------------------------------


def _read(path: Path, reader: Callable[[Path], Any]) -> Any:
    """``reader(path)``, or an ExperimentError naming the file and what to do."""
    try:
        return reader(path)
    except Exception as err:  # any parse error: the message says which file, and what to do
        raise ExperimentError(
            f"{path} cannot be read ({type(err).__name__}: {err}); allowed: a complete, unmodified results "
            f"file; delete {path.parent} to recompute it"
        ) from err


def _write_bytes(data: bytes, path: Path) -> None:
    path.write_bytes(data)


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _read_yaml(path: Path) -> dict[str, Any]:
    container = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
    assert isinstance(container, dict)
    return {str(k): v for k, v in container.items()}


def experiment_state(folder: Path, name: str) -> str:
    """``complete``, or ``missing`` (no meta.json: never run or interrupted); raise if unusable.

    Raises
    ------
    ExperimentError
        If the folder holds results of another model version, a corrupt ``meta.json``, results
        of another experiment, or a ``meta.json`` without the outputs the report reads.
    """
    if folder.exists() and not folder.is_dir():
        raise ExperimentError(f"{folder} is a file; allowed: the results folder of {name}")
    meta_path = folder / store.META_FILE
    if not meta_path.is_file():
        return "missing"
    meta = _read(meta_path, _read_json)
    found, current = meta.get("model_version") if isinstance(meta, dict) else None, store.model_version()
    if found != current:
        raise ExperimentError(
            f"{folder} holds results of {name} of model version {found!r}, not {current!r}; allowed: results of this "
            f"version: delete {folder} and run the report again (it remakes missing results), or point "
            "experiment.experiments_dir elsewhere"
        )
    if meta.get("experiment") != name:
        raise ExperimentError(
            f"{folder} holds results of experiment {meta.get('experiment')!r}, not {name!r}; allowed: the "
            f"folder python -m experiments.{name} writes"
        )
    absent = [f for f in OUTPUTS[name] if not (folder / f).is_file()]
    if absent:
        raise ExperimentError(
            f"{folder} is incomplete: {absent} missing beside its meta.json; allowed: a complete results folder; "
            f"delete {folder} to recompute it"
        )
    return "complete"


def read_experiment(folder: Path, name: str) -> dict[str, Any]:
    """The outputs of a complete experiment folder (``meta``, then each file by name)."""
    out: dict[str, Any] = {"meta": _read(folder / store.META_FILE, _read_json), "folder": folder}
    for file in OUTPUTS[name]:
        out[file] = _read(folder / file, pd.read_csv if file.endswith(".csv") else _read_json)
    return out


def run_state(folder: Path) -> str:
    """``complete`` if ``folder`` is a complete run of this model version with the tables the report needs."""
    meta = store.read_meta(folder)
    found, current = meta.get("model_version"), store.model_version()
    if found != current:
        raise ExperimentError(
            f"{folder} holds a run of model version {found!r}, not {current!r}; allowed: a run folder of this "
            "version (python -m sim)"
        )
    absent = [f"{t}.parquet" for t in RUN_TABLES if not (folder / f"{t}.parquet").is_file()]
    if absent or not (folder / "config.yaml").is_file():
        raise ExperimentError(
            f"{folder} lacks {absent or ['config.yaml']}; allowed: a run folder written with "
            f"tables={list(RUN_TABLES)} or more (the default of python -m sim)"
        )
    return "complete"


def default_config() -> dict[str, Any]:
    """The resolved config of a bare ``python -m sim`` (no override), as a plain dict."""
    container = OmegaConf.to_container(hydra.compose(config_name="config"), resolve=True)
    assert isinstance(container, dict)
    return {str(k): v for k, v in container.items()}


def flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted keys of a nested config (lists kept whole)."""
    if not isinstance(node, Mapping):
        return {prefix: node}
    out: dict[str, Any] = {}
    for key, value in node.items():
        out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def run_overrides(run_config: Mapping[str, Any], default: Mapping[str, Any]) -> list[str]:
    """``key=value`` for every key where a run's resolved config differs from the default (what changes tables)."""
    ignored = (*NOT_IN_HASH, "hydra")
    run_flat = {k: v for k, v in flatten(run_config).items() if k.split(".")[0] not in ignored}
    default_flat = {k: v for k, v in flatten(default).items() if k.split(".")[0] not in ignored}
    keys = sorted(set(run_flat) | set(default_flat))
    return [f"{k}={run_flat.get(k, '<absent>')}" for k in keys if run_flat.get(k) != default_flat.get(k)]


def complete_runs(runs_dir: Path) -> list[Path]:
    """Complete run folders of this model version under ``runs_dir``, by name."""
    if not runs_dir.is_dir():
        return []
    found = []
    for meta_path in sorted(runs_dir.glob(f"*/{store.META_FILE}")):
        try:
            run_state(meta_path.parent)
        except ValueError:  # another version, incomplete, unreadable: not a candidate
            continue
        found.append(meta_path.parent)
    return found


def baseline_run(runs_dir: Path, baseline_hash: str) -> Path | None:
    """The run whose resolved config is the default's (same config hash), never picked by recency.

    Runs of the same config give the same tables; among several the first by name is taken.
    """
    for folder in complete_runs(runs_dir):
        if store.read_meta(folder).get("config_hash") == baseline_hash:
            return folder
    return None


def read_run(folder: Path, inputs: Inputs) -> None:
    """Read a run folder's tables, config, names of its actors and its dated events into ``inputs``."""
    run_state(folder)
    inputs.run_folder = folder
    inputs.run_meta = store.read_meta(folder)
    inputs.run_config = _read(folder / "config.yaml", lambda p: p.read_text(encoding="utf-8"))
    inputs.run_tables = {t: _read(folder / f"{t}.parquet", pd.read_parquet) for t in RUN_TABLES}
    cfg = _read(folder / "config.yaml", OmegaConf.load)
    params = params_from_config(cfg)
    inputs.names = dict(zip(params.actors.codes, build_inputs(params).names, strict=True))
    inputs.poles = (params.actors.china_pole, params.actors.us_pole)
    marks = pd.DataFrame(job_options(cfg).event_marks, columns=["date", "label"])
    inputs.events = plots.event_marks(marks, params.run.start_year, params.run.end_year)


def q1_states(folder: Path, meta: Mapping[str, Any], scenario: str) -> pd.DataFrame | None:
    """q1's cached states table of ``scenario`` for the runs of its meta.json, or None.

    Over posterior draws the cache holds one file per draw (every scenario of the draw): the
    scenario's rows of the draws of q1's seeds are gathered from them.
    """
    parameters = meta.get("parameters") or {}
    if parameters.get("parameter_source") == "posterior":
        seeds = {
            s
            for group in nested_seeds(
                int(meta["seed"]), int(parameters["n_draws"]), int(parameters["replicates_per_draw"])
            )
            for s in group
        }
        frames = []
        for path in sorted((folder / "runs").glob("draw-*.states.parquet")):
            frame = _read(path, pd.read_parquet)
            frames.append(frame[frame["run_id"].str.startswith(f"{scenario}-s") & frame["seed"].isin(seeds)])
        found = pd.concat(frames, ignore_index=True) if frames else None
        return found if found is not None and found["seed"].nunique() == len(seeds) else None
    seeds_list = replicate_seeds(int(meta["seed"]), int(meta["replicates"]))
    digest = hashlib.sha256(json.dumps(seeds_list).encode()).hexdigest()[:12]
    paths = sorted((folder / "runs").glob(f"{scenario}-*-{digest}.states.parquet"), key=lambda p: p.stat().st_mtime)
    return _read(paths[-1], pd.read_parquet) if paths else None


# --- making what is missing --------------------------------------------------------------------------


def make(command: list[str], what: str) -> None:
    """Run ``command`` (its output goes to the console); raise an ExperimentError if it fails."""
    log.info("report: %s is missing; running %s", what, " ".join(command[1:]))
    result = subprocess.run(command, check=False)
    if result.returncode != 0:
        raise ExperimentError(
            f"{' '.join(command[1:])} (to make {what}) failed with exit code {result.returncode}; its message is "
            "above. Fix it, or run that command yourself, then the report again"
        )


def experiment_command(name: str, folder: Path, size: int | None) -> list[str]:
    """The command that makes ``folder``: the experiment's own entry point (``size``: fewer runs than its default).

    ``size`` sets the replicates and parameter draws of q1..q5, the points of scenario discovery.
    """
    command = [sys.executable, "-m", f"experiments.{name}", f"experiment.out={folder}"]
    if size is None:
        return command
    if name == "scenario_discovery":
        return [*command, f"experiment.points={size}", f"experiment.min_points={size}"]
    return [*command, f"replicates={size}", f"experiment.draws={size}"]


# --- the page ------------------------------------------------------------------------------------------


def render(fig: Figure, name: str, caption: str, formats: Sequence[str]) -> Rendered:
    """Draw ``fig`` into memory as PNG (always) and every format in ``formats``; close it."""
    files = {}
    for fmt in dict.fromkeys(["png", *formats]):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, dpi=110)
        files[fmt] = buffer.getvalue()
    plt.close(fig)
    return Rendered(name, caption, files)


def esc(value: Any) -> str:
    """HTML-escaped text of ``value``."""
    return html.escape(str(value))


def num(value: Any, digits: int = 3, sign: bool = False) -> str:
    """A number with ``digits`` decimals (``-`` for a missing value)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    return f"{float(value):+.{digits}f}" if sign else f"{float(value):.{digits}f}"


def interval(point: Any, low: Any, high: Any, digits: int = 3, sign: bool = False) -> str:
    """``point [low, high]``."""
    return f"{num(point, digits, sign)} [{num(low, digits, sign)}, {num(high, digits, sign)}]"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], cls: str = "") -> str:
    """An HTML table; cells are escaped unless wrapped in :class:`Raw`."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{c.html if isinstance(c, Raw) else esc(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


@dataclass(frozen=True)
class Raw:
    """HTML that :func:`table` inserts as it is."""

    html: str


def figure_html(figure: Rendered) -> str:
    """An embedded figure (PNG data URI) with its caption."""
    data = base64.b64encode(figure.files["png"]).decode("ascii")
    return (
        f'<figure id="fig-{esc(figure.name)}"><img alt="{esc(figure.caption)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{esc(figure.caption)} <span class='file'>({FIGURES_FOLDER}/{esc(figure.name)}.png)</span>"
        "</figcaption></figure>"
    )


CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 1320px; margin: 2em auto;
       padding: 0 1.2em; color: #1d1d1f; line-height: 1.5; }
h1 { font-size: 1.9em; margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2em;
margin-top: 2.2em; } h3 { margin-top: 1.6em; }
.meta, .file, figcaption { color: #555; font-size: 0.92em; }
.verdict { border-radius: 8px; padding: 1em 1.4em; margin: 1.2em 0; font-size: 1.08em; }
.verdict.supported { background: #e8f3e8; border-left: 8px solid #2e7d32; }
.verdict.not-supported { background: #fbe9e7; border-left: 8px solid #c62828; }
.verdict.undecided { background: #fff8e1; border-left: 8px solid #f9a825; }
.verdict .word { font-size: 1.5em; font-weight: 700; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.93em; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f4f4f6; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1.4em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
details { margin: 0.6em 0; } summary { cursor: pointer; font-weight: 600; }
pre { background: #f6f8fa; padding: 0.8em; overflow-x: auto; font-size: 0.85em; max-height: 32em; }
.note { background: #f4f4f6; padding: 0.6em 1em; border-radius: 6px; }
.bandwagoning { color: #c62828; font-weight: 600; } .balancing { color: #1565c0; font-weight: 600; }
.hedging { color: #555; font-weight: 600; }
"""


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
            + (", drawn with replacement" if parameters.get("with_replacement") else "")
            + f"), {esc(parameters.get('replicates_per_draw'))} run(s) each"
        )
    else:
        origin = (
            f"the <b>default parameters</b> only ({esc(n_draws)} runs that differ in their random numbers alone): an "
            "illustration, not the model's uncertainty"
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
<h3>Each driver's share of the change in Japan's gap, {esc(window[0])}-{esc(window[1])}</h3>
<p>The drivers together change Japan's gap by <b>{num(verdict.get("total_change"), 3, True)}</b> (mean over
draws; {num(verdict.get("change_all_drivers"), 3, True)} with every driver on, {
        num(verdict.get("change_no_driver"), 3, True)
    } with none).</p>
{table(["driver", "share [90% interval over draws]", "contribution to the gap [90% interval over draws]"], rows)}
{dimensions_html(all_shares)}
{figure_html(figures["share_distributions"])}
"""


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
                    f"{interval(r['change'], r['ci_low'], r['ci_high'], 3, True)}"
                )
            )
        rows.append(row)
    return f"""
<h2 id="q5">Southeast Asia: balancing, hedging, bandwagoning (q5)</h2>
<p>{esc(QUESTIONS["q5_asean_alignment"])} By where it stands, a state balances (with the US) if its alignment is
in the upper third of the scale, bandwagons (with China) if in the lower third, and hedges in between; the figure's
arrows say where it is heading (its change since the start year). The class is the most frequent across runs at the
end year; the change is the mean alignment change with its 90% interval over parameter draws.</p>
{table(["state", *[plots.scenario_label(s) for s in scenarios]], rows)}
{figure_html(figures["classification"])}
"""


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
<p>The figures below are one run of the default parameters: an illustration of the mechanisms, not evidence for or
against the claim (the verdict above carries the model's uncertainty). Run folder <code>{esc(inputs.run_folder)}</code>:
{label}; scenario {esc(meta.get("scenario"))}, seed {esc(meta.get("seed"))}, {esc(meta.get("replicates"))} run(s),
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


def page(body: str, generated: str) -> str:
    """The whole page."""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Is Beijing pushing Japan away? Report of the claim test</title>
<style>{CSS}</style></head>
<body>
<h1>Is Beijing pushing Japan away? Report of the claim test</h1>
<p class="meta">Generated {esc(generated)} by <code>python -m experiments.report</code> from the result files named
under <a href="#provenance">Configuration and versions</a>. Sections: <a href="#question">question</a>,
<a href="#verdict">verdict</a>, <a href="#where">where the claim holds</a>, <a href="#evidence">validation</a>,
<a href="#q1">counterfactuals</a>, <a href="#q4">hysteresis</a>, <a href="#q5">Southeast Asia</a>,
<a href="#run">an illustrative run</a>.</p>
{body}
<h2 id="source">Source</h2>
<p>Roy, Denny (2024). "China isn't getting the Japan it wants." PacNet commentary, Pacific Forum; East-West Center.
The claim is paraphrased; the model, its equations and their sources are described in <code>docs/ODD.md</code>. Each
experiment's parameters (drawn from the calibrated posterior, or the defaults as an illustration) are stated in its
section and configuration: the numbers are what this model says under them, not measurements.</p>
</body></html>
"""


# --- the experiment body ---------------------------------------------------------------------------------


def options_from(ex: Experiment) -> dict[str, Any]:
    """The report's validated options."""
    o = ex.options
    names = [str(n) for n in o["experiments"]]
    unknown = [n for n in names if n not in EXPERIMENTS]
    if unknown or not names:
        raise ExperimentError(
            f"experiment.experiments={names} has unknown name(s) {unknown}; allowed: {list(EXPERIMENTS)}"
        )
    if "q2_driver_shares" not in names:
        raise ExperimentError(
            f"experiment.experiments={names} lacks q2_driver_shares; allowed: a list that includes it (the verdict)"
        )
    years = check_years(list(o["years"]), ex.params, "experiment.years")
    if not years:
        raise ExperimentError("experiment.years=[]; allowed: one or more years for the heatmap and network")
    threshold = float(o["network_threshold"])
    if not 0.0 < threshold <= 1.0:
        raise ExperimentError(f"experiment.network_threshold={threshold}; allowed: 0 < threshold <= 1")
    replicates = o.get("replicates_when_missing")
    if replicates is not None and (isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 2):
        raise ExperimentError(
            f"experiment.replicates_when_missing={replicates!r}; allowed: null (each experiment's default) or an "
            "integer >= 2"
        )
    run_missing = o["run_missing"]
    if not isinstance(run_missing, bool):
        raise ExperimentError(f"experiment.run_missing={run_missing!r}; allowed: true or false")
    return {
        "experiments": names,
        "experiments_dir": Path(str(o["experiments_dir"])).resolve(),
        "run": Path(str(o["run"])).resolve() if o.get("run") else None,
        "runs_dir": Path(str(o["runs_dir"])).resolve(),
        "run_missing": run_missing,
        "replicates": replicates,
        "years": years,
        "threshold": threshold,
        "compare": str(o["compare_scenario"]),
        "default_config": default_config(),
    }


def gather(opts: Mapping[str, Any]) -> Inputs:
    """Check every input, make what is missing (if allowed), read everything."""
    inputs = Inputs()
    folders = {name: opts["experiments_dir"] / name for name in opts["experiments"]}
    missing = [name for name, folder in folders.items() if experiment_state(folder, name) == "missing"]
    for name in OPTIONAL:
        optional = opts["experiments_dir"] / name
        try:
            if experiment_state(optional, name) == "complete":
                inputs.experiments[name] = read_experiment(optional, name)
        except ExperimentError as err:  # an optional section is left out, not fatal
            log.warning("report: %s left out: %s", name, err)
    run_folder = opts["run"]
    if run_folder is not None:
        if not run_folder.is_dir():
            raise ExperimentError(
                f"experiment.run={str(run_folder)!r} is not a folder; allowed: a run folder of python -m sim"
            )
        run_state(run_folder)
    else:
        run_folder = baseline_run(opts["runs_dir"], config_hash(OmegaConf.create(opts["default_config"])))
    if (missing or run_folder is None) and not opts["run_missing"]:
        absent = [str(folders[n]) for n in missing] + (
            [] if run_folder else [f"a complete run of the default config in {opts['runs_dir']}"]
        )
        raise ExperimentError(
            f"missing results: {absent}; allowed: results of this model version there (make experiments, make run), "
            "or experiment.run_missing=true to make them first"
        )
    if run_folder is None:
        command = [
            sys.executable,
            "-m",
            "sim",
            f"hydra.run.dir={opts['runs_dir']}/${{now:%Y%m%d-%H%M%S}}-seed${{seed}}",
        ]
        make(command, f"a run of the default config in {opts['runs_dir']}")
        run_folder = baseline_run(opts["runs_dir"], config_hash(OmegaConf.create(opts["default_config"])))
        if run_folder is None:
            raise ExperimentError(f"{' '.join(command[1:])} finished but left no complete run in {opts['runs_dir']}")
        inputs.made_now[str(run_folder)] = f"python -m sim hydra.run.dir={run_folder}"
    for name in missing:
        command = experiment_command(name, folders[name], opts["replicates"])
        make(command, str(folders[name]))
        inputs.made_now[str(folders[name])] = " ".join(["python", *command[1:]])
        if experiment_state(folders[name], name) != "complete":
            raise ExperimentError(f"{' '.join(command[1:])} finished but {folders[name]} is still incomplete")
    for name, folder in folders.items():
        inputs.experiments[name] = read_experiment(folder, name)
    for key, (folder_name, file) in EVIDENCE.items():
        path = opts["experiments_dir"] / folder_name / file
        if path.is_file():
            inputs.evidence[key] = _read(path, pd.read_csv if file.endswith(".csv") else _read_json)
    read_run(run_folder, inputs)
    inputs.run_overrides = run_overrides(_read(run_folder / "config.yaml", _read_yaml), opts["default_config"])
    inputs.other_runs = [
        (folder, run_overrides(_read(folder / "config.yaml", _read_yaml), opts["default_config"]))
        for folder in complete_runs(opts["runs_dir"])
        if folder != run_folder
    ]
    if "q1_counterfactuals" in inputs.experiments:
        q1 = inputs.experiments["q1_counterfactuals"]
        scenarios = list(dict.fromkeys(q1["effects.csv"]["scenario"]))  # those q1 ran (its config may say null: all)
        if opts["compare"] not in scenarios:
            raise ExperimentError(
                f"experiment.compare_scenario={opts['compare']!r} is not among q1's scenarios; allowed: {scenarios}"
            )
        base = q1_states(q1["folder"], q1["meta"], "baseline")
        other = q1_states(q1["folder"], q1["meta"], opts["compare"])
        if base is not None and other is not None:
            inputs.comparison = (base, other)
        else:
            inputs.comparison_note = (
                f"The side-by-side alignment figure needs q1's cached states tables of the baseline and "
                f"{opts['compare']} (in {q1['folder'] / 'runs'}); they are not there, so it is left out."
            )
    return inputs


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
        trajectory = _read(ex["scenario_discovery"]["folder"] / "trajectory.csv", pd.read_csv)
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
                _read(by_theory, pd.read_csv),
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


def run(ex: Experiment) -> dict[str, Any]:
    """Read (or make) every result, draw every figure, then write the figures and index.html."""
    opts = options_from(ex)
    formats = job_options(ex.cfg).figure_formats
    inputs = gather(opts)
    figures = draw(inputs, opts, formats)
    replicates_note = ""
    if opts["replicates"] is not None and any(k != str(inputs.run_folder) for k in inputs.made_now):
        replicates_note = (
            f"Experiments made by this report ran with replicates={opts['replicates']} "
            "(experiment.replicates_when_missing), not their default replicate counts: their intervals are wider."
        )
    years = inputs.run_tables["outcomes"]["year"]
    sections = [question_html(len(inputs.names), int(years.min()), int(years.max()))]
    experiments = inputs.experiments
    sections.append(verdict_html(experiments["q2_driver_shares"], figures))
    sections.append(where_html(experiments.get("scenario_discovery"), figures))
    if "patterns" in experiments:
        sections.append(patterns_html(experiments["patterns"]))
    sections.append(validation_html(inputs.evidence.get("validation")))
    if "q3_sensitivity" in experiments:
        sections.append(robustness_html(experiments["q3_sensitivity"]))
    sections.append(theories_html(experiments["q2_driver_shares"], experiments.get("theories"), figures))
    if "q1_counterfactuals" in experiments:
        q1 = experiments["q1_counterfactuals"]
        compared = interactions_sentence(q1["effects.csv"], experiments["q2_driver_shares"]["verdict.json"])
        sections.append(q1_html(q1, figures, inputs.comparison_note, compared[0] if compared else ""))
    if "q4_hysteresis" in experiments:
        sections.append(q4_html(experiments["q4_hysteresis"], figures))
    if "q5_asean_alignment" in experiments:
        sections.append(q5_html(experiments["q5_asean_alignment"], figures))
    sections.append(run_html(inputs, figures, opts["years"]))
    container = OmegaConf.to_container(ex.cfg, resolve=True)
    assert isinstance(container, dict)
    report_config = {str(k): v for k, v in container.items()}
    sections.append(provenance_html(inputs, report_config, replicates_note))
    generated = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    text = page("\n".join(sections), generated)
    for figure in figures.values():
        for fmt, data in figure.files.items():
            store.atomic_write(
                ex.folder / FIGURES_FOLDER / f"{figure.name}.{fmt}", functools.partial(_write_bytes, data)
            )
    store.write_text(ex.folder / HTML_FILE, text)
    verdict = experiments["q2_driver_shares"]["verdict.json"]
    grades = {k: d["grade"] for k, d in verdict.get("definitions", {}).items()}
    log.info("report: %s (claim C0: %s)", ex.folder / HTML_FILE, grades)
    return {
        "html": str(ex.folder / HTML_FILE),
        "supported": verdict.get("supported"),
        "grades": grades,
        "largest_driver": verdict.get("largest_driver"),
        "figures": sorted(figures),
        "made_by_report": list(inputs.made_now.values()),
        "inputs": {name: str(content["folder"]) for name, content in experiments.items()}
        | {"run": str(inputs.run_folder)},
    }


main = entry_point(NAME, run)

if __name__ == "__main__":
    main()
