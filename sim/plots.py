"""Figures from result tables only (never from a model object).

Every function takes tables as written to ``results/`` and returns a matplotlib Figure; with
several runs (replicates) it draws the median and a 90% band. :func:`save_figure` writes PNG
(and SVG on request).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path

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
