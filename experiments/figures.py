"""The experiments' own figures (the verdict's share distributions, shares by dimension, q1 beside q2, PRIM).

Figures read result tables only; the library's general figures stay in ``sim/plots.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from ema_workbench.analysis.scenario_discovery_util import plot_tradeoff
from matplotlib.figure import Figure

from sim import drivers as registry
from sim.plots import W_LABELS, interval_bars, styled

INTERVAL_LABEL = "black lines: 90% interval over the draws"


def _label(driver: str) -> str:
    return registry.labels().get(driver, driver.replace("_", " "))


@styled
def share_distributions_figure(shares: np.ndarray, drivers: Sequence[str], verdict: Mapping[str, Any]) -> Figure:
    """Every driver's share of Japan's shift across draws (violins), with the verdict of each definition.

    Parameters
    ----------
    shares
        Shape (D, K): each draw's shares (rows with a non-finite value are left out).
    drivers
        The K drivers, in column order.
    verdict
        q2's ``verdict.json`` (``parameter_source``, ``n_draws``, ``definitions``, ``thresholds``).
    """
    values = np.asarray(shares, dtype=float)
    values = values[np.all(np.isfinite(values), axis=1)]
    fig, ax = plt.subplots(figsize=(11, 6.4), constrained_layout=True)
    y = np.arange(len(drivers))
    if len(values) > 1:
        parts = ax.violinplot(
            [values[:, k] for k in range(len(drivers))], positions=y, orientation="horizontal", showmedians=True
        )
        bodies: Any = parts["bodies"]
        for body, driver in zip(bodies, drivers, strict=True):
            body.set_facecolor("#d62728" if driver.startswith("china") else "#8c8c8c")
            body.set_alpha(0.6)
    ax.scatter(np.median(values, axis=0), y, color="black", zorder=3, s=18, label="median over draws")
    majority = float(verdict.get("thresholds", {}).get("majority_share", 0.5))
    ax.axvline(majority, color="0.3", ls="--", lw=1.2, label=f"{majority:g} (threshold of C0)")
    ax.axvline(0.0, color="0.3", lw=1)
    ax.set_yticks(y, [_label(d) for d in drivers])
    ax.invert_yaxis()
    ax.set_xlabel(
        "share of the change in Japan's China-wants gap (Shapley value over the total), per draw\n"
        "(violin: the draws' distribution; its bar: the smallest to the largest draw)"
    )
    lines = [
        f"{name}: {d['grade']} (P(share > {majority:g}) = {d['p_china_share_above_half']:.2f}, "
        f"P(largest) = {d['p_china_largest']:.2f})"
        for name, d in verdict.get("definitions", {}).items()
    ]
    source = verdict.get("parameter_source", "?")
    drawn = f"{verdict.get('n_draws')} draws" + (
        " (posterior parameters)" if source == "posterior" else " (runs at one parameter point: an illustration)"
    )
    ax.set_title(
        f"Who drove Japan's shift? {drawn}\n" + "\n".join(lines),
        fontsize="medium",
    )
    ax.legend(loc="lower right", framealpha=0.9)
    return fig


@styled
def dimension_shares_figure(dimensions: pd.DataFrame) -> Figure:
    """Every driver's share of the change of each of Japan's dimensions W1..W5 (mean over draws, 90% interval)."""
    fig, ax = plt.subplots(figsize=(11.5, 6.8), constrained_layout=True)
    dims = list(dict.fromkeys(dimensions["dimension"]))
    drivers = list(dict.fromkeys(dimensions["driver"]))
    width = 0.8 / len(drivers)
    colours = plt.get_cmap("tab10")
    for k, driver in enumerate(drivers):
        sub = dimensions[dimensions["driver"] == driver].set_index("dimension").loc[dims]
        x = np.arange(len(dims)) + (k - (len(drivers) - 1) / 2) * width
        ax.bar(x, sub["share"], width, color=colours(k), label=_label(driver))
        interval_bars(
            ax,
            sub["share"],
            x,
            sub["ci_low"],
            sub["ci_high"],
            horizontal=False,
            color="black",
            lw=0.8,
            label=INTERVAL_LABEL if k == 0 else None,
        )
    ax.axhline(0.5, color="0.3", ls="--", lw=1)
    ax.axhline(0.0, color="0.3", lw=1)
    ax.set_xticks(np.arange(len(dims)), [W_LABELS.get(d, d) for d in dims], rotation=10)
    ax.set_ylabel("share of the dimension's change (mean over draws, 90% interval)")
    ax.set_title("Each driver's share of the change of each of Japan's dimensions W1..W5")
    ax.legend(fontsize="small", ncols=2)
    return fig


@styled
def removal_vs_shapley_figure(removal: pd.DataFrame, shapley: pd.DataFrame, year: int) -> Figure:
    """q1's single-removal effects beside q2's Shapley contributions, on the same scale.

    ``removal``: q1's effects of the gap in ``year`` (``scenario``, ``effect``, ``ci_low``, ``ci_high``),
    its sign turned so that a driver raising the gap counts positive. ``shapley``: q2's
    ``driver_shares.csv`` (``driver``, ``contribution`` and its interval).
    """
    fig, ax = plt.subplots(figsize=(11, 6.2), constrained_layout=True)
    drivers = list(shapley["driver"])
    y = np.arange(len(drivers))
    by_driver = removal.assign(driver=removal["scenario"].str.removeprefix("no_")).set_index("driver")
    s = shapley.set_index("driver").loc[drivers]
    ax.barh(y - 0.2, s["contribution"], 0.4, color="#d62728", alpha=0.8, label="q2: Shapley contribution (all orders)")
    interval_bars(
        ax,
        s["contribution"],
        y - 0.2,
        s["contribution_ci_low"],
        s["contribution_ci_high"],
        color="black",
        lw=0.8,
        label=INTERVAL_LABEL,
    )
    present = [d for d in drivers if d in by_driver.index]
    r = by_driver.loc[present]
    ry = np.array([drivers.index(d) for d in present]) + 0.2
    ax.barh(ry, -r["effect"], 0.4, color="#1f77b4", alpha=0.8, label=f"q1: removing it alone (gap in {year})")
    # The sign turned (a driver raising the gap counts positive): the interval's ends swap.
    interval_bars(ax, -r["effect"], ry, -r["ci_high"], -r["ci_low"], color="black", lw=0.8)
    ax.axvline(0.0, color="0.3", lw=1)
    ax.set_yticks(y, [_label(d) for d in drivers])
    ax.invert_yaxis()
    ax.set_xlabel("how much the driver raises Japan's China-wants gap")
    ax.set_title("One driver removed alone (q1) against its average contribution over all orders (q2)")
    fig.legend(loc="outside lower center", ncols=3, frameon=False, fontsize="small")
    return fig


def tradeoff_figure(trajectory: pd.DataFrame, rule_text: str) -> Figure:
    """PRIM's peeling trade-off (coverage against density, coloured by restricted parameters), the chosen box marked.

    ``trajectory`` holds the peeling boxes (``step == "peel"``) and the boxes made by dropping
    restrictions (``"drop"``, drawn as the path from the box started from to the one reported),
    with a boolean ``chosen`` column; ``rule_text`` (how the box was chosen) is the caption.
    """
    steps = trajectory["step"] if "step" in trajectory else pd.Series("peel", index=trajectory.index)
    figure = plot_tradeoff(trajectory[steps == "peel"].reset_index(drop=True))
    figure.set_size_inches(7.5, 6.4)
    figure.subplots_adjust(bottom=0.2)
    ax = figure.axes[0]
    drops = trajectory[steps == "drop"]
    if not drops.empty:
        ax.plot(
            drops["coverage"],
            drops["density"],
            color="0.45",
            marker="x",
            ms=4,
            lw=0.8,
            label="restrictions dropped one by one (least significant first)",
        )
    chosen = trajectory[trajectory["chosen"].astype(bool)] if "chosen" in trajectory else trajectory.iloc[0:0]
    if not chosen.empty:
        row = chosen.iloc[0]
        ax.scatter(
            [row["coverage"]],
            [row["density"]],
            s=180,
            facecolors="none",
            edgecolors="crimson",
            linewidths=2,
            label=(
                f"box reported: {int(row['res_dim'])} conditions, coverage {row['coverage']:.2f}, "
                f"density {row['density']:.2f}"
            ),
        )
    if not (drops.empty and chosen.empty):
        ax.legend(loc="upper left", fontsize=7, frameon=False)
    ax.set_title("Where C0 holds: PRIM's peeling trade-off (scenario discovery)", fontsize=10)
    figure.text(0.03, 0.02, f"Box reported: {rule_text}.", fontsize=7, wrap=True)
    return figure
