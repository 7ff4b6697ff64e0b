"""Figures from result tables only (never from a model object).

Every function takes tables as written to ``results/`` and returns a matplotlib Figure; with
several runs (replicates) it draws the median and a 90% band. :func:`save_figure` writes PNG
(and SVG on request).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.outcomes import W_COLUMNS
from sim.store import atomic_write

W_LABELS = {
    "w1_criticism": "W1 criticism of China",
    "w2_standing": "W2 regional standing (SEA trust in Japan)",
    "w3_claims_resistance": "W3 resistance to China's claims",
    "w4_military_alignment": "W4 military strength and US alignment",
    "w5_tech_denial": "W5 technology denial (de-risking)",
    "china_wants_gap": "China-wants gap (mean of W1..W5)",
}
BAND = (0.05, 0.95)


def time_axis(frame: pd.DataFrame) -> pd.Series:
    """Decimal year of each row (2010Q1 = 2010.0, 2010Q2 = 2010.25, ...)."""
    return frame["year"] + (frame["quarter"] - 1) / 4.0


def band(frame: pd.DataFrame, column: str, by: Sequence[str] = ("t",)) -> pd.DataFrame:
    """Median and 90% band of ``column`` across runs, per turn: columns ``time, median, low, high``."""
    grouped = frame.assign(time=time_axis(frame)).groupby([*by, "time"], sort=True)[column]
    out = grouped.quantile(0.5).rename("median").to_frame()
    out["low"] = grouped.quantile(BAND[0])
    out["high"] = grouped.quantile(BAND[1])
    return out.reset_index()


def plot_alignment(
    states: pd.DataFrame,
    names: Mapping[str, str] | None = None,
    title: str = "Alignment of every actor",
    poles: tuple[str, str] = ("CHN", "USA"),
) -> Figure:
    """Every actor's alignment over time (median and 90% band across runs), the poles marked."""
    names = dict(names or {})
    fig, ax = plt.subplots(figsize=(11, 6.5), constrained_layout=True)
    actors = [a for a in dict.fromkeys(states["actor"]) if a not in poles]
    cmap = plt.get_cmap("tab20")
    ends = []
    for k, actor in enumerate(actors):
        b = band(states[states["actor"] == actor], "alignment")
        color = cmap(k % 20)
        ax.plot(b["time"], b["median"], color=color, lw=1.8)
        if states["run_id"].nunique() > 1:
            ax.fill_between(b["time"], b["low"], b["high"], color=color, alpha=0.15, lw=0)
        ends.append((float(b["median"].iloc[-1]), float(b["time"].iloc[-1]), names.get(actor, actor), color))
    for y, (value, x, label, color) in zip(spread_labels([e[0] for e in ends], 0.05), ends, strict=True):
        ax.annotate(
            label,
            (x, value),
            xytext=(x + 0.4, y),
            textcoords="data",
            va="center",
            fontsize=8.5,
            color=color,
            arrowprops={"arrowstyle": "-", "color": color, "lw": 0.5},
        )
    for value, code in ((-1.0, poles[0]), (1.0, poles[1])):
        ax.axhline(value, color="0.3", lw=1.2, ls="--")
        ax.text(
            ax.get_xlim()[0], value, f" {names.get(code, code)} pole", va="bottom" if value < 0 else "top", fontsize=9
        )
    ax.axhline(0.0, color="0.7", lw=0.8)
    ax.set_ylim(-1.08, 1.08)
    ax.set_xlabel("year")
    ax.set_ylabel("alignment (-1 = with China, +1 = with the US)")
    ax.set_title(title + (" (median, 90% band)" if states["run_id"].nunique() > 1 else ""))
    ax.margins(x=0.12)
    return fig


def spread_labels(values: Sequence[float], gap: float) -> list[float]:
    """Label heights near ``values`` but at least ``gap`` apart (order preserved)."""
    order = np.argsort(values)
    placed = np.asarray(values, dtype=float)[order].copy()
    for k in range(1, len(placed)):
        placed[k] = max(placed[k], placed[k - 1] + gap)
    overshoot = placed[-1] - max(values) if len(placed) else 0.0
    if overshoot > 0:  # shift the stack down half the overshoot to stay centred
        placed -= overshoot / 2
    out = np.empty_like(placed)
    out[order] = placed
    return out.tolist()


def plot_japan_dimensions(
    outcomes: pd.DataFrame,
    events: Sequence[tuple[float, str]] = (),
    title: str = "What Beijing wants from Japan, and what it gets",
) -> Figure:
    """Japan's W1..W5 and the China-wants gap over time, dated events marked."""
    fig, ax = plt.subplots(figsize=(11, 6.5), constrained_layout=True)
    cmap = plt.get_cmap("tab10")
    many = outcomes["run_id"].nunique() > 1
    for k, column in enumerate([*W_COLUMNS, "china_wants_gap"]):
        b = band(outcomes, column)
        is_gap = column == "china_wants_gap"
        color = "black" if is_gap else cmap(k)
        ax.plot(b["time"], b["median"], color=color, lw=3.0 if is_gap else 1.6, label=W_LABELS[column])
        if many:
            ax.fill_between(b["time"], b["low"], b["high"], color=color, alpha=0.15, lw=0)
    for when, label in events:
        ax.axvline(when, color="0.5", lw=0.8, ls=":")
        ax.text(when + 0.08, 0.02, label, rotation=90, va="bottom", ha="left", fontsize=8, color="0.35")
    ax.set_ylim(0, 1)
    ax.set_xlabel("year")
    ax.set_ylabel("0 = as Beijing wants, 1 = its opposite")
    ax.set_title(title + (" (median, 90% band)" if many else ""))
    ax.legend(loc="lower right", fontsize=9, framealpha=0.9)
    return fig


SCENARIO_LABELS = {
    "no_china_coercion": "no Chinese coercion",
    "no_nk_provocation": "no North Korean provocations",
    "no_russia_war": "no Russian war",
    "no_us_pressure": "no US pressure",
    "no_japan_domestic_trend": "no Japanese domestic trend",
    "baseline": "baseline",
}
DRIVER_LABELS = {
    "china_coercion": "China's coercion",
    "nk_provocation": "North Korea's provocations",
    "russia_war": "Russia's war",
    "us_pressure": "US pressure",
    "japan_domestic_trend": "Japan's domestic trend",
}
CLASS_COLOURS = {"bandwagoning": "#d62728", "hedging": "#bbbbbb", "balancing": "#1f77b4"}


def effects_figure(effects: pd.DataFrame, outcome: str = "china_wants_gap") -> Figure:
    """Counterfactual effects on ``outcome`` (q1): mean and 95% interval per scenario and year."""
    rows = effects[effects["outcome"] == outcome]
    scenarios = list(dict.fromkeys(rows["scenario"]))
    years = sorted(rows["year"].unique())
    fig, ax = plt.subplots(figsize=(10, 0.9 * len(scenarios) + 2.2), constrained_layout=True)
    cmap = plt.get_cmap("viridis")
    offsets = np.linspace(-0.3, 0.3, len(years)) if len(years) > 1 else np.zeros(1)
    for k, year in enumerate(years):
        sub = rows[rows["year"] == year].set_index("scenario").loc[scenarios]
        y = np.arange(len(scenarios)) + offsets[k]
        ax.errorbar(
            sub["effect"],
            y,
            xerr=[sub["effect"] - sub["ci_low"], sub["ci_high"] - sub["effect"]],
            fmt="o",
            color=cmap(k / max(1, len(years) - 1)),
            capsize=3,
            label=str(year),
        )
    ax.axvline(0.0, color="0.3", lw=1)
    ax.set_yticks(np.arange(len(scenarios)), [SCENARIO_LABELS.get(s, s) for s in scenarios])
    ax.invert_yaxis()
    ax.set_xlabel(f"effect on {W_LABELS.get(outcome, outcome)} (counterfactual - baseline, 0-1 scale)")
    ax.set_title("What each driver did to Japan: counterfactual effects (mean, 95% interval)")
    ax.legend(title="year", loc="best", fontsize=9)
    return fig


def driver_shares_figure(shares: pd.DataFrame, verdict: Mapping[str, Any]) -> Figure:
    """Shapley shares of the change in Japan's gap (q2), with 95% intervals and the verdict."""
    fig, ax = plt.subplots(figsize=(10, 5.5), constrained_layout=True)
    labels = [DRIVER_LABELS.get(d, d) for d in shares["driver"]]
    y = np.arange(len(shares))
    colours = ["#d62728" if d == "china_coercion" else "#7f7f7f" for d in shares["driver"]]
    ax.barh(y, shares["share"], color=colours, alpha=0.85)
    ax.errorbar(
        shares["share"],
        y,
        xerr=[shares["share"] - shares["ci_low"], shares["ci_high"] - shares["share"]],
        fmt="none",
        color="black",
        capsize=4,
    )
    ax.axvline(0.5, color="0.3", ls="--", lw=1)
    ax.text(0.5, len(shares) - 0.45, " one half", fontsize=9, color="0.3")
    ax.axvline(0.0, color="0.3", lw=1)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    window = verdict.get("window", ["", ""])
    ax.set_xlabel(f"share of the change in Japan's China-wants gap {window[0]}-{window[1]} (Shapley; 1 = all of it)")
    supported = verdict.get("supported")
    word = {True: "supported", False: "not supported", None: "undecided"}[supported]
    ax.set_title(
        f"Who drove Japan's shift? Claim C0 {word} (largest driver: "
        f"{DRIVER_LABELS.get(str(verdict.get('largest_driver')), verdict.get('largest_driver'))})"
    )
    return fig


def hysteresis_figure(curve: pd.DataFrame, summary: Mapping[str, Any]) -> Figure:
    """Japan's gap in the check year against the year Beijing stops coercing (q4)."""
    fig, ax = plt.subplots(figsize=(10, 5.5), constrained_layout=True)
    x = curve["restraint_year"]
    ax.plot(x, curve["gap_check_median"], "o-", color="#d62728", label="restraint from this year (median)")
    ax.fill_between(x, curve["gap_check_low"], curve["gap_check_high"], color="#d62728", alpha=0.15, label="90% band")
    reference = float(summary["gap_reference_median"])
    tol = float(summary["tolerance"])
    ax.axhline(reference, color="#1f77b4", lw=1.5, label=f"{summary['reference_year']} level (median)")
    ax.axhspan(reference, reference + tol, color="#1f77b4", alpha=0.12, label=f"counts as back (+{tol})")
    ax.axhline(
        float(summary["gap_check_never_coerced_median"]),
        color="0.4",
        ls="--",
        lw=1.2,
        label="never coerced (median)",
    )
    ax.axhline(
        float(summary["gap_check_baseline_median"]),
        color="black",
        ls=":",
        lw=1.2,
        label="no restraint (median)",
    )
    if summary.get("juncture_median") is not None:
        ax.axvline(
            float(summary["juncture_median"]),
            color="0.2",
            lw=1,
            ls="-.",
            label=f"critical juncture (median {summary['juncture_median']:.0f})",
        )
    ax.set_xlabel("year from which Beijing stops coercion")
    ax.set_ylabel(f"Japan's China-wants gap in {summary['check_year']} (0-1)")
    ax.set_title("Would Japan come back if Beijing stopped coercing? (hysteresis)")
    ax.legend(fontsize=8.5, loc="best")
    return fig


def classification_strip(by_year: pd.DataFrame, scenarios: Sequence[str]) -> Figure:
    """Modal class (bandwagoning / hedging / balancing) of each state by year, per scenario (q5)."""
    fig, axes = plt.subplots(
        1, len(scenarios), figsize=(6.5 * len(scenarios), 5.5), sharey=True, constrained_layout=True, squeeze=False
    )
    codes = {c: k for k, c in enumerate(CLASS_COLOURS)}
    cmap = matplotlib.colors.ListedColormap(list(CLASS_COLOURS.values()))
    for ax, scenario in zip(axes[0], scenarios, strict=True):
        sub = by_year[by_year["scenario"] == scenario]
        grid = sub.pivot_table(index="actor", columns="year", values="modal_class", aggfunc="first")
        values = grid.map(lambda c: codes[c]).to_numpy(dtype=float)
        ax.imshow(values, aspect="auto", cmap=cmap, vmin=-0.5, vmax=len(codes) - 0.5, interpolation="nearest")
        ax.set_yticks(np.arange(len(grid.index)), list(grid.index))
        ticks = np.arange(0, len(grid.columns), 5)
        ax.set_xticks(ticks, [str(grid.columns[int(t)]) for t in ticks])
        ax.set_xlabel("year")
        ax.set_title(SCENARIO_LABELS.get(scenario, scenario))
    handles = [matplotlib.patches.Patch(color=c, label=k) for k, c in CLASS_COLOURS.items()]
    fig.legend(handles=handles, loc="outside lower center", ncols=3)
    fig.suptitle(
        "Southeast Asia: balancing toward the US, hedging, or bandwagoning with China (modal class across runs)"
    )
    return fig


def event_marks(milestones: pd.DataFrame, start_year: int, end_year: int) -> list[tuple[float, str]]:
    """(decimal year, short label) of dated milestones inside the run, from a milestones table."""
    marks = []
    for _, row in milestones.iterrows():
        date = str(row["date"])
        year = int(date[:4])
        month = int(date[5:7]) if len(date) >= 7 and date[5:7].isdigit() else 1
        if start_year <= year <= end_year:
            marks.append((year + (month - 1) / 12.0, str(row["label"])))
    return marks


def _savefig(fig: Figure, fmt: str, path: Path) -> None:
    fig.savefig(path, format=fmt, dpi=130)


def save_figure(fig: Figure, path: Path, formats: Sequence[str] = ("png",)) -> list[Path]:
    """Save ``fig`` as ``path`` with each suffix in ``formats`` (atomically); close it."""
    written = []
    for fmt in formats:
        target = Path(path).with_suffix(f".{fmt}")
        atomic_write(target, partial(_savefig, fig, fmt))
        written.append(target)
    plt.close(fig)
    return written


def figure_has_data(fig: Figure) -> bool:
    """True if some axes of ``fig`` draw at least one line with finite data."""
    for ax in fig.axes:
        for line in ax.get_lines():
            y = np.asarray(line.get_ydata(), dtype=float)
            if y.size > 2 and np.isfinite(y).any():
                return True
    return False
