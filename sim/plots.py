"""Figures from result tables only (never from a model object).

Every function takes tables as written to ``results/`` (``states``, ``dyads``, ``outcomes``, or an
experiment's CSV and JSON outputs) and returns a matplotlib Figure; with several runs
(replicates) a time series is drawn as the median across runs and a 90% band (5th to 95th
percentile). :func:`save_figure` writes PNG (and SVG or PDF on request) atomically.

=================================  ==================================================================
function                           figure
=================================  ==================================================================
:func:`plot_alignment`             every actor's alignment over time, the poles marked
:func:`plot_alignment_comparison`  the same for a baseline and a counterfactual, side by side
:func:`plot_japan_dimensions`      Japan's W1..W5 and the China-wants gap, dated events marked
:func:`threat_heatmap`             threat of each target to each observer, one panel per year
:func:`alignment_network`          actors linked by alignment closeness, one panel per year
:func:`effects_figure`             q1: counterfactual effects on one outcome, by scenario and year
:func:`effects_dimensions_figure`  q1: counterfactual effects on W1..W5 and the gap in one year
:func:`hysteresis_figure`          q4: Japan's gap against the year Beijing stops coercing
:func:`classification_strip`       q5: balancing / hedging / bandwagoning by state and year
=================================  ==================================================================
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import Normalize, to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim import drivers as registry
from sim.outcomes import W_COLUMNS
from sim.store import atomic_write

W_LABELS = {
    "w1_criticism": "W1 criticism of China",
    "w2_standing": "W2 regional standing (SEA trust in the focal state)",
    "w3_claims_resistance": "W3 resistance to China's claims",
    "w4_military_alignment": "W4 military strength and US alignment",
    "w5_tech_denial": "W5 technology denial (de-risking)",
    "china_wants_gap": "China-wants gap (mean of W1..W5)",
}
BAND = (0.05, 0.95)
ALIGNMENT_LABEL = "overall alignment (-1 = with China, +1 = with the US; index)"
# China's pole red, the US pole blue, as the q5 classes (bandwagoning red, balancing blue).
ALIGNMENT_CMAP = "RdBu"
# Readable defaults for every figure of this module (applied while a figure is built).
STYLE: dict[str, Any] = {
    "font.size": 11,
    "axes.titlesize": 13,
    "axes.labelsize": 11.5,
    "xtick.labelsize": 10.5,
    "ytick.labelsize": 10.5,
    "legend.fontsize": 9.5,
    "legend.title_fontsize": 10,
    "figure.titlesize": 14,
}


def styled_with[**P](scale: float) -> Callable[[Callable[P, Figure]], Callable[P, Figure]]:
    """Build the figure under :data:`STYLE` with every font size times ``scale``.

    Wide figures (two panels side by side) are shown shrunk to a page's width: larger fonts keep
    them legible. Fonts are fixed when an artist is created, so the context covers the whole build.
    """

    def decorate(func: Callable[P, Figure]) -> Callable[P, Figure]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> Figure:
            rc: Any = {k: v * scale if k.endswith(("size", "fontsize")) else v for k, v in STYLE.items()}
            with plt.rc_context(rc):  # matplotlib types rc keys as literals, hence Any
                return func(*args, **kwargs)

        return wrapper

    return decorate


styled = styled_with(1.0)


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


def interval_bars(
    ax: Axes, centre: Any, position: Any, low: Any, high: Any, *, horizontal: bool = True, **style: Any
) -> None:
    """Error bars from ``low`` to ``high`` around ``centre`` at ``position`` (no marker; ``style`` for matplotlib).

    Horizontal bars (``horizontal=True``) run along x at y = ``position``; vertical ones along y.
    """
    centre, low, high = (np.asarray(v, dtype=float) for v in (centre, low, high))
    # a centre outside its interval (a ratio of means beside quantiles of per-draw ratios, few draws)
    # draws no bar on that side: matplotlib refuses negative lengths
    error = [np.maximum(centre - low, 0.0), np.maximum(high - centre, 0.0)]
    if horizontal:
        ax.errorbar(centre, position, xerr=error, fmt="none", **style)
    else:
        ax.errorbar(position, centre, yerr=error, fmt="none", **style)


def _check_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing}; allowed: a table with {list(columns)}")
    if frame.empty:
        raise ValueError(f"{what} is empty; allowed: a table with at least one row")


def _non_pole_actors(states: pd.DataFrame, poles: Sequence[str]) -> list[str]:
    return [a for a in dict.fromkeys(states["actor"]) if a not in poles]


def _draw_alignment(
    ax: Axes,
    states: pd.DataFrame,
    names: Mapping[str, str],
    poles: tuple[str, str],
    colours: Mapping[str, tuple[str, str]],
    banded: Sequence[str] | None = None,
) -> bool:
    """Median (and 90% band) of every non-pole actor's alignment, labelled at the right; the poles.

    Lines carry the actor code as ``gid``, bands ``"<code> band"``, labels ``"<code> label"``.
    Labels are stacked at least one text line apart within the axis (see :func:`spread_labels`),
    so that none overlaps another however many actors there are. ``banded`` names the actors
    whose band is drawn (all if None): many overlapping bands hide each other. Returns True if
    bands were drawn.
    """
    many = states["run_id"].nunique() > 1
    ends = []
    start, end = float(time_axis(states).min()), float(time_axis(states).max())
    actors = _non_pole_actors(states, poles)
    for actor in actors:
        b = band(states[states["actor"] == actor], "alignment")
        color, dashes = colours[actor]
        ax.plot(b["time"], b["median"], color=color, ls=dashes, lw=1.8, gid=actor)
        if many and (banded is None or actor in banded):
            ax.fill_between(b["time"], b["low"], b["high"], color=color, alpha=0.2, lw=0, gid=f"{actor} band")
        ends.append((float(b["median"].iloc[-1]), float(b["time"].iloc[-1]), names.get(actor, actor), color, actor))
    ax.set_ylim(-1.1, 1.1)
    # One line of "small" text in alignment units, from the axis' height in points.
    fig = ax.get_figure(root=True)
    assert fig is not None
    height_pt = ax.get_position().height * fig.get_figheight() * 72.0
    line = 1.4 * 0.833 * float(plt.rcParams["font.size"]) / height_pt * 2.2
    heights = spread_labels([e[0] for e in ends], line, low=-1.1 + line / 2, high=1.1 - line / 2)
    for y, (value, x, label, color, actor) in zip(heights, ends, strict=True):
        ax.annotate(
            label,
            (x, value),
            xytext=(x + 0.5, y),
            textcoords="data",
            va="center",
            fontsize="small",
            color=color,
            gid=f"{actor} label",
            annotation_clip=False,
            arrowprops={"arrowstyle": "-", "color": color, "lw": 0.6},
        )
    # Pole lines stop at the last turn, so they never run through the labels on the right.
    for value, code in ((-1.0, poles[0]), (1.0, poles[1])):
        ax.hlines(value, start, end, color="0.3", lw=1.2, ls="--")
        ax.text(
            start,
            value + (0.02 if value < 0 else -0.02),
            f"{names.get(code, code)} pole ({value:+.0f})",
            va="bottom" if value < 0 else "top",
            fontsize="small",
            color="0.25",
        )
    ax.axhline(0.0, color="0.75", lw=0.8)
    ax.set_xlim(start - 0.5, end + 0.33 * float(plt.rcParams["font.size"]))
    step = 5 if end - start > 8 else 1  # no year ticks under the labels on the right
    ax.set_xticks(np.arange(np.ceil(start / step) * step, end + 1e-9, step))
    ax.set_xlabel("year")
    return many


def _alignment_legend(fig: Figure, many: bool, banded_names: Sequence[str] | None = None) -> None:
    handles: list[Any] = [
        Line2D([], [], color="0.2", lw=1.8, label="an actor: median across runs" if many else "an actor (one run)")
    ]
    if many:
        which = f" ({', '.join(banded_names)} only)" if banded_names is not None else ""
        handles.append(Patch(color="0.2", alpha=0.2, label=f"90% band across runs{which}"))
    handles.append(Line2D([], [], color="0.3", lw=1.2, ls="--", label="poles (China -1, US +1)"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)


# 24 line colours for actors, legible as text on white (CIELAB lightness <= 68) and at least
# 29 CIELAB units (Delta E 1976) from each other: tab10 without its grey, olive and cyan, then the
# matplotlib XKCD colours chosen one at a time as the farthest from those already taken.
# Beyond 24 actors colours repeat and lines switch to dashes (see _actor_styles).
ACTOR_PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
    "#0804f9", "#ff08e8", "#05472a", "#937c00", "#0165fc", "#ff0789", "#750851", "#719f91",
    "#a00498", "#c74767", "#b66325", "#10a674", "#c760ff", "#887191", "#667c3e", "#3a18b1", "#ad0afd",
)  # fmt: skip


def cielab(colour: Any) -> np.ndarray:
    """CIELAB coordinates (D65) of a matplotlib colour: distances there approximate perceived differences."""
    rgb = np.asarray(to_rgb(colour))
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def actor_styles(actors: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Each actor's line colour and style: solid for the first 24, dashed for the next round of colours."""
    n = len(ACTOR_PALETTE)
    return {actor: (ACTOR_PALETTE[k % n], "-" if k < n else "--") for k, actor in enumerate(actors)}


@styled
def plot_alignment(
    states: pd.DataFrame,
    names: Mapping[str, str] | None = None,
    title: str = "Alignment of every actor",
    poles: tuple[str, str] = ("CHN", "USA"),
    banded: Sequence[str] | None = None,
) -> Figure:
    """Every actor's alignment over time (median and 90% band across runs), the poles marked.

    Parameters
    ----------
    states : pandas.DataFrame
        The states table (``run_id, t, year, quarter, actor, alignment``), one or many runs.
    names : mapping, optional
        Actor code -> name for the labels (the code where missing).
    title : str
        Figure title; ``(median, 90% band)`` is appended for several runs.
    poles : (str, str)
        The China and US pole codes: drawn as dashed lines at -1 and +1, not as actors.
    banded : sequence of str, optional
        The actors whose 90% band is drawn (every actor's if None; with many actors and wide
        bands, such as runs drawn from a posterior, a chosen few keep the figure readable).
    """
    _check_columns(states, ("run_id", "t", "year", "quarter", "actor", "alignment"), "states")
    names = dict(names or {})
    fig, ax = plt.subplots(figsize=(11.5, 6.8), constrained_layout=True)
    actors = _non_pole_actors(states, poles)
    many = _draw_alignment(ax, states, names, poles, actor_styles(actors), banded)
    ax.set_ylabel(ALIGNMENT_LABEL)
    ax.set_title(title + (" (median, 90% band)" if many else ""))
    _alignment_legend(fig, many, None if banded is None else [names.get(a, a) for a in banded if a in actors])
    return fig


@styled_with(1.25)
def plot_alignment_comparison(
    baseline: pd.DataFrame,
    counterfactual: pd.DataFrame,
    names: Mapping[str, str] | None = None,
    labels: tuple[str, str] = ("baseline", "counterfactual"),
    title: str = "Alignment of every actor: baseline and counterfactual",
    poles: tuple[str, str] = ("CHN", "USA"),
) -> Figure:
    """Every actor's alignment in two scenarios side by side (median and 90% band across runs).

    Parameters
    ----------
    baseline, counterfactual : pandas.DataFrame
        States tables of the two scenarios (ideally the same seeds: common random numbers).
    names : mapping, optional
        Actor code -> name for the labels.
    labels : (str, str)
        Panel titles of the two scenarios.
    title : str
        Figure title.
    poles : (str, str)
        The China and US pole codes.
    """
    for frame, what in ((baseline, "baseline states"), (counterfactual, "counterfactual states")):
        _check_columns(frame, ("run_id", "t", "year", "quarter", "actor", "alignment"), what)
    names = dict(names or {})
    fig, axes = plt.subplots(1, 2, figsize=(16, 7.8), sharey=True, constrained_layout=True)
    actors = list(dict.fromkeys([*_non_pole_actors(baseline, poles), *_non_pole_actors(counterfactual, poles)]))
    colours = actor_styles(actors)
    many = False
    for ax, frame, label in zip(axes, (baseline, counterfactual), labels, strict=True):
        many = _draw_alignment(ax, frame, names, poles, colours) or many
        runs = frame["run_id"].nunique()
        ax.set_title(f"{label} ({runs} run{'s' if runs > 1 else ''})")
    axes[0].set_ylabel(ALIGNMENT_LABEL)
    _alignment_legend(fig, many)
    fig.suptitle(title + (" (median, 90% band across runs)" if many else ""))
    return fig


def spread_labels(values: Sequence[float], gap: float, low: float = -np.inf, high: float = np.inf) -> list[float]:
    """Label heights near ``values``, at least ``gap`` apart, within [``low``, ``high``] (order preserved).

    Labels are pushed up from the lowest, then down from ``high``; if even that leaves the stack
    below ``low`` (more labels than fit at ``gap``), they are spread evenly over the whole range.
    """
    order = np.argsort(values, kind="stable")
    placed = np.clip(np.asarray(values, dtype=float)[order], low, high)
    for k in range(1, len(placed)):
        placed[k] = max(placed[k], placed[k - 1] + gap)
    if len(placed) and placed[-1] > high:
        placed[-1] = high
        for k in range(len(placed) - 2, -1, -1):
            placed[k] = min(placed[k], placed[k + 1] - gap)
        if placed[0] < low:
            placed = np.linspace(low, high, len(placed))
    out = np.empty_like(placed)
    out[order] = placed
    return out.tolist()


@styled
def plot_japan_dimensions(
    outcomes: pd.DataFrame,
    events: Sequence[tuple[float, str]] = (),
    title: str = "What Beijing wants from Japan, and what it gets",
) -> Figure:
    """Japan's W1..W5 and the China-wants gap over time, dated events marked.

    Parameters
    ----------
    outcomes : pandas.DataFrame
        The outcomes table (one or many runs).
    events : sequence of (decimal year, label)
        Dated events drawn as dotted vertical lines (see :func:`event_marks`).
    title : str
        Figure title; ``(median, 90% band)`` is appended for several runs.
    """
    _check_columns(outcomes, ("run_id", "t", "year", "quarter", *W_COLUMNS, "china_wants_gap"), "outcomes")
    fig, ax = plt.subplots(figsize=(11.5, 6.8), constrained_layout=True)
    cmap = plt.get_cmap("tab10")
    many = outcomes["run_id"].nunique() > 1
    for k, column in enumerate([*W_COLUMNS, "china_wants_gap"]):
        b = band(outcomes, column)
        is_gap = column == "china_wants_gap"
        color = "black" if is_gap else cmap(k)
        ax.plot(b["time"], b["median"], color=color, lw=3.0 if is_gap else 1.6, label=W_LABELS[column], gid=column)
        if many:
            ax.fill_between(b["time"], b["low"], b["high"], color=color, alpha=0.15, lw=0)
    for when, label in events:
        ax.axvline(when, color="0.5", lw=0.8, ls=":")
        ax.text(when + 0.08, 0.015, label, rotation=90, va="bottom", ha="left", fontsize="small", color="0.3")
    ax.set_ylim(0, 1)
    ax.set_xlabel("year")
    ax.set_ylabel("score (0 = as Beijing wants, 1 = its opposite)")
    ax.set_title(title + (" (median, 90% band)" if many else ""))
    handles, texts = ax.get_legend_handles_labels()
    if events:
        handles.append(Line2D([], [], color="0.5", lw=0.8, ls=":"))
        texts.append("dated event")
    if many:
        handles.append(Patch(color="0.2", alpha=0.15))
        texts.append("90% band across runs")
    ax.legend(handles, texts, loc="lower right", framealpha=0.9)
    return fig


# --- dyads and networks ---------------------------------------------------------------------------


def threat_matrix(dyads: pd.DataFrame, year: int, value: str = "threat") -> pd.DataFrame:
    """Observer x target matrix of ``value`` in ``year``: its mean over the year's quarters and the runs.

    Rows and columns follow the order in which actors first appear as observers; the diagonal
    (an actor and itself, absent from the dyads table) is NaN.

    Raises
    ------
    ValueError
        If the table lacks the columns or holds no row of ``year``.
    """
    _check_columns(dyads, ("year", "observer", "target", value), "dyads")
    rows = dyads[dyads["year"] == year]
    if rows.empty:
        years = sorted(dyads["year"].unique())
        raise ValueError(f"year={year} is not in the dyads table; allowed: {years[0]}..{years[-1]}")
    order = list(dict.fromkeys([*dyads["observer"], *dyads["target"]]))
    matrix = rows.groupby(["observer", "target"])[value].mean().unstack("target")
    return matrix.reindex(index=order, columns=order)


@styled_with(1.2)
def threat_heatmap(
    dyads: pd.DataFrame,
    years: Sequence[int],
    title: str = "Who threatens whom: perceived threat of each target to each observer",
    annotate: bool = True,
) -> Figure:
    """Threat of each target (columns) to each observer (rows), one panel per year.

    A cell is the threat T_ij in [0, 1] (balance of threat, eq. 9 of the ODD) averaged over the
    year's four quarters and over the runs (:func:`threat_matrix`). The panels' images hold
    exactly those matrices.

    Parameters
    ----------
    dyads : pandas.DataFrame
        The dyads table (``year, observer, target, threat``).
    years : sequence of int
        One panel per year.
    title : str
        Figure title.
    annotate : bool
        Write each cell's value (two decimals) when at least 0.1.
    """
    years = [int(y) for y in years]
    if not years:
        raise ValueError("years is empty; allowed: one or more years of the dyads table")
    matrices = [threat_matrix(dyads, year) for year in years]
    n = len(matrices[0])
    size = max(5.5, 0.4 * n + 1.2)
    fig, axes = plt.subplots(
        1, len(years), figsize=(size * len(years) + 1.6, size + 1.0), constrained_layout=True, squeeze=False
    )
    cmap = plt.get_cmap("YlOrRd").with_extremes(bad="0.85")
    image = None
    for ax, year, matrix in zip(axes[0], years, matrices, strict=True):
        values = matrix.to_numpy(dtype=float)
        image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
        image.set_gid(f"threat {year}")
        ax.set_xticks(np.arange(n), list(matrix.columns), rotation=90)
        ax.set_yticks(np.arange(n), list(matrix.index))
        ax.set_xlabel("target: the actor perceived as a threat (ISO-3)")
        if ax is axes[0][0]:
            ax.set_ylabel("observer: the actor that feels threatened (ISO-3)")
        ax.set_title(f"{year} (annual mean)")
        if annotate:
            for i, j in zip(*np.nonzero(np.nan_to_num(values) >= 0.1), strict=True):
                v = values[i, j]
                ax.text(
                    j,
                    i,
                    f"{v:.2f}"[1:] if v < 1 else "1",
                    ha="center",
                    va="center",
                    fontsize="x-small",
                    color="white" if v > 0.6 else "black",
                )
    assert image is not None
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8, label="threat T_ij (0 = none, 1 = maximal; index)")
    fig.legend(
        handles=[Patch(color="0.85", label="observer = target (no entry)")]
        + ([Patch(color="white", label="cells below 0.1 not written")] if annotate else []),
        loc="outside lower center",
        ncols=2,
        frameon=False,
    )
    fig.suptitle(title)
    return fig


def alignment_by_actor(states: pd.DataFrame, year: int) -> pd.Series:
    """Each actor's alignment in ``year``: the median across runs of the run's annual mean.

    Actors in the order of the table; raises ValueError if ``year`` is not in it.
    """
    _check_columns(states, ("run_id", "year", "actor", "alignment"), "states")
    rows = states[states["year"] == year]
    if rows.empty:
        years = sorted(states["year"].unique())
        raise ValueError(f"year={year} is not in the states table; allowed: {years[0]}..{years[-1]}")
    per_run = rows.groupby(["actor", "run_id"])["alignment"].mean()
    return per_run.groupby("actor").median().reindex(list(dict.fromkeys(states["actor"])))


def alignment_edges(alignment: pd.Series, threshold: float) -> pd.DataFrame:
    """Pairs of actors whose alignment closeness ``1 - |x_i - x_j| / 2`` is at least ``threshold``.

    Closeness is 1 for equal alignments and 0 for the two poles. Returns columns ``source,
    target, closeness``, one row per unordered pair (``source`` first in ``alignment``'s order).
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold={threshold}; allowed: 0 < threshold <= 1")
    codes = list(alignment.index)
    values = alignment.to_numpy(dtype=float)
    rows = []
    for i in range(len(codes)):
        for j in range(i + 1, len(codes)):
            closeness = 1.0 - abs(values[i] - values[j]) / 2.0
            if closeness >= threshold:
                rows.append({"source": codes[i], "target": codes[j], "closeness": closeness})
    return pd.DataFrame(rows, columns=["source", "target", "closeness"])


def arc_layout(alignment: pd.Series, gap: float = 0.12) -> dict[str, np.ndarray]:
    """Positions on an upper half circle of radius 1, from China's pole (left) to the US pole (right).

    An actor's angle is ``pi (1 - (x + 1) / 2)`` for its alignment ``x``, after nudging the
    alignments at least ``gap`` apart (:func:`spread_labels`, order kept) so that nodes do not
    overlap: position along the arc is alignment, and links between close actors are short chords.
    """
    values = alignment.to_numpy(dtype=float)
    spread = np.asarray(spread_labels(values.tolist(), gap)) if len(values) else values
    low, high = min(-1.0, float(spread.min(initial=-1.0))), max(1.0, float(spread.max(initial=1.0)))
    angles = np.pi * (1.0 - (spread - low) / (high - low))
    return {code: np.array([np.cos(a), np.sin(a)]) for code, a in zip(alignment.index, angles, strict=True)}


def inward_curve(start: np.ndarray, end: np.ndarray, points: int = 24) -> np.ndarray:
    """A link between two nodes on the arc, bowed toward the arc's centre so that it clears the nodes.

    A quadratic Bezier curve from ``start`` to ``end`` whose control point is the chord's midpoint
    pulled toward the origin by 0.3 plus half the chord's length: neighbours on the arc, whose
    straight chord would hide under their nodes, get a visible loop inside the half circle.
    """
    mid = (start + end) / 2.0
    norm = float(np.hypot(*mid)) or 1.0
    control = mid - (0.3 + 0.5 * float(np.hypot(*(end - start)))) * mid / norm
    t = np.linspace(0.0, 1.0, points)[:, None]
    return np.asarray((1 - t) ** 2 * start + 2 * (1 - t) * t * control + t**2 * end)


@styled_with(1.2)
def alignment_network(
    states: pd.DataFrame,
    years: Sequence[int],
    threshold: float = 0.85,
    poles: tuple[str, str] = ("CHN", "USA"),
    title: str = "Alignment network: who stands with whom",
) -> Figure:
    """Actors as nodes coloured by alignment, linked when their alignments are close; a panel per year.

    Node colour is the actor's alignment in the year (:func:`alignment_by_actor`) on a red (China,
    -1) to blue (US, +1) scale; an edge joins two actors whose closeness ``1 - |x_i - x_j| / 2``
    is at least ``threshold`` (:func:`alignment_edges`), wider the closer they are. Nodes sit on a
    half circle in the order of their alignment (:func:`arc_layout`): China's side on the left,
    the US side on the right, so blocs show as fans of short links.

    Parameters
    ----------
    states : pandas.DataFrame
        The states table (one or many runs).
    years : sequence of int
        One panel per year.
    threshold : float
        Closeness from which two actors are linked, in (0, 1].
    poles : (str, str)
        China and US pole codes (drawn as squares).
    title : str
        Figure title.
    """
    years = [int(y) for y in years]
    if not years:
        raise ValueError("years is empty; allowed: one or more years of the states table")
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold={threshold}; allowed: 0 < threshold <= 1")
    fig, axes = plt.subplots(
        1, len(years), figsize=(7.4 * len(years) + 1.4, 6.6), constrained_layout=True, squeeze=False
    )
    cmap = plt.get_cmap(ALIGNMENT_CMAP)
    norm = Normalize(vmin=-1.0, vmax=1.0)
    thin, wide = 0.8, 6.0
    node_size = 1100.0 * min(1.0, 15.0 / max(1, states["actor"].nunique()))  # nodes shrink as actors grow
    for ax, year in zip(axes[0], years, strict=True):
        alignment = alignment_by_actor(states, year)
        edges = alignment_edges(alignment, threshold)
        graph = nx.Graph()
        graph.add_nodes_from(alignment.index)
        graph.add_weighted_edges_from(edges.itertuples(index=False, name=None))
        pos = arc_layout(alignment)
        # The guide: the arc itself with the alignment it stands for at both ends and the middle.
        theta = np.linspace(0.0, np.pi, 200)
        ax.plot(np.cos(theta), np.sin(theta), color="0.6", lw=1.0, ls=":", zorder=0)
        for value, text in ((-1.0, "China -1"), (0.0, "0"), (1.0, "US +1")):
            angle = np.pi * (1.0 - (value + 1.0) / 2.0)
            ax.text(
                1.2 * np.cos(angle),
                1.2 * np.sin(angle) - (0.12 if value else -0.02),
                text,
                ha="center",
                fontsize="small",
                color="0.4",
            )
        span = max(1e-9, 1.0 - threshold)
        widths = [thin + (wide - thin) * (graph.edges[e]["weight"] - threshold) / span for e in graph.edges]
        links = LineCollection(
            [inward_curve(pos[u], pos[v]) for u, v in graph.edges],
            linewidths=widths,
            colors="0.3",
            alpha=0.5,
            zorder=1,
            gid="edges",
        )
        ax.add_collection(links)
        for shape, members in (
            ("s", [a for a in alignment.index if a in poles]),
            ("o", [a for a in alignment.index if a not in poles]),
        ):
            if not members:
                continue
            nodes = nx.draw_networkx_nodes(
                graph,
                pos,
                nodelist=members,
                ax=ax,
                node_shape=shape,
                node_size=node_size,
                node_color=[float(alignment[a]) for a in members],
                cmap=cmap,
                vmin=-1.0,
                vmax=1.0,
                edgecolors="black",
                linewidths=2.0 if shape == "s" else 0.8,
            )
            nodes.set_gid("poles" if shape == "s" else "nodes")
        for dark in (True, False):
            chosen = {a: a for a in alignment.index if (abs(float(alignment[a])) > 0.55) == dark}
            nx.draw_networkx_labels(
                graph,
                pos,
                labels=chosen,
                ax=ax,
                font_size=0.8 * plt.rcParams["font.size"],
                font_weight="bold",
                font_color="white" if dark else "black",
            )
        ax.set_title(f"{year}: {len(edges)} links (closeness >= {threshold:g})")
        ax.set_xlim(-1.3, 1.3)
        ax.set_ylim(-0.3, 1.3)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_xlabel("place on the arc: alignment, China -1 (left) to US +1 (right)")
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=axes[0].tolist(), shrink=0.8, label=ALIGNMENT_LABEL)
    handles: list[Any] = [
        Line2D([], [], color="0.5", lw=thin, label=f"link, closeness {threshold:g}"),
        Line2D([], [], color="0.5", lw=wide, label="link, closeness 1 (same alignment)"),
        Line2D([], [], color="0.6", lw=1.0, ls=":", label="alignment scale (no link)"),
        Line2D([], [], marker="s", ls="", color="0.7", markeredgecolor="black", markersize=12, label="pole"),
        Line2D([], [], marker="o", ls="", color="0.7", markeredgecolor="black", markersize=12, label="state"),
    ]
    fig.legend(
        handles=handles,
        title="closeness = 1 - |x_i - x_j| / 2 (x: alignment)",
        loc="outside lower center",
        ncols=5,
        frameon=False,
    )
    fig.suptitle(title + (" (median across runs)" if states["run_id"].nunique() > 1 else ""))
    return fig


# --- experiments -----------------------------------------------------------------------------------


def scenario_label(scenario: str) -> str:
    """A scenario's name in figures: ``no_<driver>`` reads "without <driver label>" (from the driver registry).

    "without China's coercion", not "no China's coercion": the labels are possessive phrases.
    """
    driver = scenario.removeprefix("no_")
    if scenario.startswith("no_") and driver in registry.names():
        return f"without {registry.spec(driver).label}"
    return scenario.replace("_", " ")


def scenario_colour(scenario: str, default: Any) -> Any:
    """A ``no_<driver>`` scenario takes its driver's colour; any other ``default``."""
    driver = scenario.removeprefix("no_")
    return registry.spec(driver).colour if driver in registry.names() else default


CLASS_COLOURS = {"bandwagoning": "#d62728", "hedging": "#bbbbbb", "balancing": "#1f77b4"}


def draw_intervals(ax: Axes, rows: pd.DataFrame, y: np.ndarray, colour: Any, label: str, gid: str) -> None:
    """Each row's 95% interval as a thick bar, its estimate as a thin tick across it, both as numbers.

    A marker over the estimate would hide an interval narrower than itself; a bar with a thin
    tick shows any interval wider than the tick (about 2 points), and the numbers beside it show
    the narrower ones. Bars carry the gid ``"interval <gid>"``, ticks ``"effect <gid>"``.
    """
    ax.hlines(y, rows["ci_low"], rows["ci_high"], colors=[colour], lw=8, alpha=0.45, label=label, gid=f"interval {gid}")
    ax.plot(rows["effect"], y, ls="", marker="|", ms=13, mew=2.0, color=colour, gid=f"effect {gid}", zorder=3)
    columns = [rows[c].to_numpy(dtype=float) for c in ("effect", "ci_low", "ci_high")]
    for row_y, (effect, low, high) in zip(y, zip(*columns, strict=True), strict=True):
        if np.isfinite(effect):
            ax.annotate(
                f"{effect:+.3f} [{low:+.3f}, {high:+.3f}]",
                (max(high, effect), row_y),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                fontsize="x-small",
                color="0.25",
            )
    low_x, high_x = ax.get_xlim()
    ax.set_xlim(low_x, max(high_x, float(np.nanmax(columns[2])) + 0.35 * (high_x - low_x)))  # room for the numbers


@styled
def effects_figure(effects: pd.DataFrame, outcome: str = "china_wants_gap") -> Figure:
    """Counterfactual effects on ``outcome`` (q1): mean and 95% interval per scenario and year.

    Parameters
    ----------
    effects : pandas.DataFrame
        q1's ``effects.csv`` (``scenario, outcome, year, effect, ci_low, ci_high``).
    outcome : str
        The outcome column whose effects are drawn.
    """
    _check_columns(effects, ("scenario", "outcome", "year", "effect", "ci_low", "ci_high"), "effects")
    rows = effects[effects["outcome"] == outcome]
    if rows.empty:
        raise ValueError(
            f"outcome={outcome!r} is not in the effects table; allowed: {sorted(effects['outcome'].unique())}"
        )
    scenarios = list(dict.fromkeys(rows["scenario"]))
    years = sorted(rows["year"].unique())
    fig, ax = plt.subplots(figsize=(11, 0.95 * len(scenarios) + 2.6), constrained_layout=True)
    cmap = plt.get_cmap("viridis")
    offsets = np.linspace(-0.3, 0.3, len(years)) if len(years) > 1 else np.zeros(1)
    for k, year in enumerate(years):
        sub = rows[rows["year"] == year].set_index("scenario").loc[scenarios]
        y = np.arange(len(scenarios)) + offsets[k]
        draw_intervals(ax, sub, y, cmap(0.9 * k / max(1, len(years) - 1)), str(year), f"{year}")
    ax.axvline(0.0, color="0.3", lw=1)
    ax.set_yticks(np.arange(len(scenarios)), [scenario_label(s) for s in scenarios])
    ax.invert_yaxis()
    ax.set_ylabel("counterfactual (driver removed)")
    ax.set_xlabel(
        f"effect on {W_LABELS.get(outcome, outcome)} (counterfactual minus baseline; score, 0-1 scale)\n"
        "negative: without the driver Japan is closer to what Beijing wants"
    )
    ax.set_title(
        "What each driver did to Japan: counterfactual effects\n"
        "(tick: mean over paired runs; bar and brackets: 95% bootstrap interval)"
    )
    ax.legend(title="year", loc="best", framealpha=0.9)
    return fig


@styled
def effects_dimensions_figure(effects: pd.DataFrame, year: int) -> Figure:
    """Counterfactual effects (q1) on each of W1..W5 and the gap in ``year``: one marker per scenario.

    Parameters
    ----------
    effects : pandas.DataFrame
        q1's ``effects.csv``.
    year : int
        One of the table's years.
    """
    _check_columns(effects, ("scenario", "outcome", "year", "effect", "ci_low", "ci_high"), "effects")
    outcomes = [*W_COLUMNS, "china_wants_gap"]
    rows = effects[(effects["year"] == year) & effects["outcome"].isin(outcomes)]
    if rows.empty:
        raise ValueError(f"year={year} is not in the effects table; allowed: {sorted(effects['year'].unique())}")
    scenarios = list(dict.fromkeys(rows["scenario"]))
    fig, ax = plt.subplots(figsize=(11, 6.8), constrained_layout=True)
    cmap = plt.get_cmap("tab10")
    offsets = np.linspace(-0.3, 0.3, len(scenarios)) if len(scenarios) > 1 else np.zeros(1)
    for k, scenario in enumerate(scenarios):
        sub = rows[rows["scenario"] == scenario].set_index("outcome").reindex(outcomes)
        y = np.arange(len(outcomes)) + offsets[k]
        colour = scenario_colour(scenario, cmap(k % 10))
        draw_intervals(ax, sub, y, colour, scenario_label(scenario), scenario)
    ax.axvline(0.0, color="0.3", lw=1)
    for k in range(1, len(outcomes)):
        ax.axhline(k - 0.5, color="0.9", lw=0.8)
    ax.set_yticks(np.arange(len(outcomes)), [W_LABELS[o] for o in outcomes])
    ax.invert_yaxis()
    ax.set_xlabel("effect in score units (counterfactual minus baseline, 0-1 scale; annual mean)")
    ax.set_ylabel("Japan's dimension")
    ax.set_title(f"Where Japan would be in {year} without each driver\n(tick: mean; bar and brackets: 95% interval)")
    fig.legend(title="counterfactual (driver removed)", loc="outside lower center", ncols=3, frameon=False)
    return fig


@styled
def hysteresis_figure(curve: pd.DataFrame, summary: Mapping[str, Any]) -> Figure:
    """Japan's gap in the check year against the year Beijing stops coercing (q4).

    Parameters
    ----------
    curve : pandas.DataFrame
        q4's ``hysteresis.csv`` (``restraint_year, gap_check_median, gap_check_low, gap_check_high``).
    summary : mapping
        q4's ``juncture.json``.
    """
    _check_columns(curve, ("restraint_year", "gap_check_median", "gap_check_low", "gap_check_high"), "hysteresis")
    fig, ax = plt.subplots(figsize=(11, 6.2), constrained_layout=True)
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
    ax.set_ylabel(
        f"Japan's China-wants gap in {summary['check_year']}\n(score, 0 = as Beijing wants, 1 = its opposite)"
    )
    ax.set_title("Would Japan come back if Beijing stopped coercing? (hysteresis)")
    ax.legend(loc="center right", framealpha=0.9)
    return fig


DIRECTION_MARKS = {"toward the US": "\u25b2", "toward China": "\u25bc", "steady": ""}


@styled
def classification_strip(
    by_year: pd.DataFrame,
    scenarios: Sequence[str],
    names: Mapping[str, str] | None = None,
    level: float | None = None,
    threshold: float | None = None,
) -> Figure:
    """Modal class (by level) and direction (by change) of each state by year, per scenario (q5).

    Parameters
    ----------
    by_year : pandas.DataFrame
        q5's ``classification_by_year.csv`` (``scenario, actor, year, modal_class`` and, if
        present, ``modal_direction``).
    scenarios : sequence of str
        One panel per scenario, in this order.
    names : mapping, optional
        Actor code -> name for the rows (the code where missing).
    level, threshold : float, optional
        The class and direction thresholds, stated in the legend.
    """
    _check_columns(by_year, ("scenario", "actor", "year", "modal_class"), "classification by year")
    names = dict(names or {})
    fig, axes = plt.subplots(
        1, len(scenarios), figsize=(6.8 * len(scenarios), 6.4), sharey=True, constrained_layout=True, squeeze=False
    )
    codes = {c: k for k, c in enumerate(CLASS_COLOURS)}
    cmap = matplotlib.colors.ListedColormap(list(CLASS_COLOURS.values()))
    for ax, scenario in zip(axes[0], scenarios, strict=True):
        sub = by_year[by_year["scenario"] == scenario]
        if sub.empty:
            raise ValueError(
                f"scenario={scenario!r} is not in the classification table; "
                f"allowed: {sorted(by_year['scenario'].unique())}"
            )
        grid = sub.pivot_table(index="actor", columns="year", values="modal_class", aggfunc="first")
        values = grid.map(lambda c: codes[c]).to_numpy(dtype=float)
        image = ax.imshow(values, aspect="auto", cmap=cmap, vmin=-0.5, vmax=len(codes) - 0.5, interpolation="nearest")
        image.set_gid(f"classes {scenario}")
        if "modal_direction" in sub.columns:
            moves = sub.pivot_table(index="actor", columns="year", values="modal_direction", aggfunc="first")
            moves = moves.reindex(index=grid.index, columns=grid.columns)
            for (i, j), move in np.ndenumerate(moves.to_numpy(dtype=object)):
                mark = DIRECTION_MARKS.get(str(move), "")
                if mark:
                    dark = grid.iloc[i, j] != "hedging"
                    ax.text(j, i, mark, ha="center", va="center", fontsize=7, color="white" if dark else "black",
                            gid=f"{scenario} {grid.index[i]} {grid.columns[j]} {move}")  # fmt: skip
        ax.set_yticks(np.arange(len(grid.index)), [names.get(a, a) for a in grid.index])
        ticks = np.arange(0, len(grid.columns), 5)
        ax.set_xticks(ticks, [str(grid.columns[int(t)]) for t in ticks])
        ax.set_xlabel("year")
        ax.set_title(scenario_label(scenario))
    axes[0][0].set_ylabel("Southeast Asian state")
    below = f" (alignment below -{level:g})" if level is not None else ""
    above = f" (alignment above +{level:g})" if level is not None else ""
    moving = f" (change since the start beyond \u00b1{threshold:g})" if threshold is not None else ""
    handles: list[Any] = [
        Patch(color=CLASS_COLOURS["bandwagoning"], label=f"bandwagoning with China{below}"),
        Patch(color=CLASS_COLOURS["hedging"], label="hedging (in between)"),
        Patch(color=CLASS_COLOURS["balancing"], label=f"balancing with the US{above}"),
    ]
    if "modal_direction" in by_year.columns:
        handles += [
            Line2D([], [], ls="", marker="^", color="0.2", label=f"moving toward the US{moving}"),
            Line2D([], [], ls="", marker="v", color="0.2", label="moving toward China"),
        ]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, title="modal class and direction across runs")
    fig.suptitle("Southeast Asia: where each state stands (colour) and where it is heading (arrows)")
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
        atomic_write(target, functools.partial(_savefig, fig, fmt))
        written.append(target)
    plt.close(fig)
    return written


def figure_has_data(fig: Figure) -> bool:
    """True if some axes of ``fig`` draw finite data.

    Data means a line of more than two finite points, an image with a finite value, a scatter
    (node) collection with a finite point, or a bar of finite, non-zero length.
    """
    for ax in fig.axes:
        for line in ax.get_lines():
            y = np.asarray(line.get_ydata(), dtype=float)
            if y.size > 2 and np.isfinite(y).any():
                return True
        for image in ax.images:
            values = np.ma.filled(np.ma.asarray(image.get_array(), dtype=float), np.nan)
            if np.isfinite(values).any():
                return True
        for collection in ax.collections:
            if isinstance(collection, PathCollection):
                offsets = np.asarray(collection.get_offsets(), dtype=float)
                if offsets.size and np.isfinite(offsets).all():
                    return True
        for patch in ax.patches:
            width = getattr(patch, "get_width", lambda: 0.0)()
            if np.isfinite(width) and width != 0.0:
                return True
    return False
