"""Figures of the calibration and the sensitivity analysis, from their result tables only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

FAMILY_TITLES = {
    "japan_spending": "Japan's defence spending (% of GDP, SIPRI)",
    "sea_spending": "Southeast Asian defence spending (% of GDP, SIPRI)",
    "japan_opinion": "Japanese opinion of China (Genron: unfavourable share) vs Japan's perceived threat",
    "iseas_forced_choice": "ISEAS forced choice: share who would align with the US vs (1 + alignment) / 2",
    "iseas_trust": "ISEAS trust in the major powers vs the region's mean trust",
}


def calibration_fit_figure(fit: pd.DataFrame, family: str, last_year: int) -> Figure:
    """Observed values and the posterior predictive bands (observation noise included) of each target."""
    targets = list(dict.fromkeys(fit["target"]))
    cols = min(3, len(targets))
    rows = -(-len(targets) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.3 * rows + 0.8), squeeze=False, constrained_layout=True)
    for ax, target in zip(axes.ravel(), targets, strict=False):
        sub = fit[fit["target"] == target].sort_values("year")
        ax.fill_between(
            sub["year"],
            sub["model_low"],
            sub["model_high"],
            color="#1f77b4",
            alpha=0.2,
            label="90% predictive band",
        )
        if "model_low50" in sub:
            ax.fill_between(
                sub["year"],
                sub["model_low50"],
                sub["model_high50"],
                color="#1f77b4",
                alpha=0.25,
                label="50% predictive band",
            )
        ax.plot(sub["year"], sub["model_median"], color="#1f77b4", lw=1.6, label="model, posterior median")
        observed = sub.dropna(subset=["observed"])
        ax.plot(observed["year"], observed["observed"], "o", color="black", ms=4, label="observed")
        ax.axvspan(sub["year"].min(), last_year, color="0.9", zorder=0, label="in-sample years")
        ax.set_title(target, fontsize=10)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("year")
        ax.set_ylabel("% GDP" if "spending" in family else "share (0-1)")
    for ax in axes.ravel()[len(targets) :]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=7.5, loc="best")
    fig.suptitle(f"Calibration fit: {FAMILY_TITLES.get(family, family)}")
    return fig


def coverage_figure(coverage: dict[str, dict[str, float]]) -> Figure:
    """In-sample coverage of the 50% and 90% predictive bands per target family, against the nominal levels."""
    families = list(coverage)
    y = np.arange(len(families))
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(families) + 1.8), constrained_layout=True)
    ax.barh(y - 0.18, [coverage[f]["band50"] for f in families], height=0.35, color="#9ecae1", label="50% band")
    ax.barh(y + 0.18, [coverage[f]["band90"] for f in families], height=0.35, color="#1f77b4", label="90% band")
    ax.axvline(0.5, color="#9ecae1", ls="--", lw=1)
    ax.axvline(0.9, color="#1f77b4", ls="--", lw=1)
    ax.set_yticks(y, [f"{f} (n={int(coverage[f]['n'])})" for f in families], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of observations inside the band (dashed: nominal level)")
    ax.set_title("Posterior predictive checks: in-sample coverage")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def identifiability_figure(ident: pd.DataFrame) -> Figure:
    """Posterior over prior standard deviation of each parameter (1: the data say nothing)."""
    frame = ident.sort_values("sd_ratio")
    y = np.arange(len(frame))
    fig, ax = plt.subplots(figsize=(7.5, 0.3 * len(frame) + 1.6), constrained_layout=True)
    ax.barh(y, frame["sd_ratio"], color=np.where(frame["sd_ratio"] > 0.8, "0.6", "#2ca02c"))
    ax.axvline(0.8, color="0.3", ls="--", lw=1)
    ax.set_yticks(y, [k.removeprefix("params.") for k in frame["key"]], fontsize=7.5)
    ax.set_xlabel("posterior sd / prior sd (grey above 0.8: not informed by the data)")
    ax.set_title("Identifiability: how much the data narrow each parameter")
    return fig


def validation_figure(validation: dict[str, Any]) -> Figure:
    """Rolling-origin forecasts: mean absolute error of the model, persistence and the trend, per family."""
    families = list(validation["by_family"])
    y = np.arange(len(families))
    fig, ax = plt.subplots(figsize=(7.5, 0.6 * len(families) + 1.8), constrained_layout=True)
    for offset, (name, key, colour) in zip(
        (-0.27, 0.0, 0.27),
        (
            ("model", "mae_model", "#1f77b4"),
            ("persistence", "mae_persistence", "0.5"),
            ("trend", "mae_trend", "#ff7f0e"),
        ),
        strict=True,
    ):
        values = [validation["by_family"][f][key] or np.nan for f in families]
        ax.barh(y + offset, values, height=0.26, color=colour, label=name)
    labels = [
        f"{f} (n={validation['by_family'][f]['n_points']}, beats persistence "
        f"{validation['by_family'][f]['beats_persistence_share']:.0%})"
        for f in families
    ]
    ax.set_yticks(y, labels, fontsize=7.5)
    ax.invert_yaxis()
    ax.set_xlabel("mean absolute error of the forecasts (observed units)")
    ax.set_title(f"Rolling-origin forecasts (origins {', '.join(map(str, validation['origins']))})")
    ax.legend(fontsize=8)
    return fig


def morris_figure(morris: pd.DataFrame, outputs: Sequence[str]) -> Figure:
    """Morris screening: mu* (mean absolute elementary effect) against sigma, one panel per output."""
    fig, axes = plt.subplots(1, len(outputs), figsize=(6.5 * len(outputs), 5.2), squeeze=False, constrained_layout=True)
    for ax, output in zip(axes[0], outputs, strict=True):
        sub = morris[morris["output"] == output]
        ax.scatter(sub["mu_star"], sub["sigma"], color="#d62728")
        for row in sub.itertuples():
            ax.annotate(
                str(row.key).removeprefix("params."),
                (row.mu_star, row.sigma),
                fontsize=7.5,
                xytext=(3, 2),
                textcoords="offset points",
            )
        ax.set_xlabel("mu* (mean |elementary effect|, output units)")
        ax.set_ylabel("sigma (spread of elementary effects)")
        ax.set_title(f"Morris screening: {output}")
    return fig


def sobol_figure(sobol: pd.DataFrame, outputs: Sequence[str]) -> Figure:
    """Sobol first-order and total indices with 95% intervals, one panel per output."""
    fig, axes = plt.subplots(1, len(outputs), figsize=(6.5 * len(outputs), 5.2), squeeze=False, constrained_layout=True)
    for ax, output in zip(axes[0], outputs, strict=True):
        sub = sobol[sobol["output"] == output].sort_values("ST", ascending=False)
        y = np.arange(len(sub))
        ax.barh(y - 0.18, sub["S1"], height=0.35, xerr=sub["S1_conf"], color="#1f77b4", label="first order S1")
        ax.barh(y + 0.18, sub["ST"], height=0.35, xerr=sub["ST_conf"], color="#ff7f0e", label="total ST")
        ax.set_yticks(y, [k.removeprefix("params.") for k in sub["key"]], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("share of the output's variance (0-1)")
        ax.set_title(f"Sobol indices: {output}")
        ax.legend(fontsize=8)
    return fig


def robustness_figure(points: pd.DataFrame, keys: Sequence[str], majority: float) -> Figure:
    """China's Shapley share against the parameters that decide the verdict, coloured by whether C0 holds."""
    cols = min(3, len(keys))
    rows = -(-len(keys) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.5 * rows + 0.6), squeeze=False, constrained_layout=True)
    holds = points["c0_holds"].astype(bool)
    for ax, key in zip(axes.ravel(), keys, strict=False):
        ax.scatter(points.loc[~holds, key], points.loc[~holds, "china_share"], s=10, color="0.6", label="C0 fails")
        ax.scatter(points.loc[holds, key], points.loc[holds, "china_share"], s=10, color="#d62728", label="C0 holds")
        ax.axhline(majority, color="0.3", ls="--", lw=1)
        ax.set_xlabel(key.removeprefix("params."))
        ax.set_ylabel("China's Shapley share")
    for ax in axes.ravel()[len(keys) :]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=8)
    fig.suptitle(f"Where the claim holds: {holds.mean():.0%} of {len(points)} points of the prior space")
    return fig
