"""sim/plots.py: figures drawn from result tables only, with the recorded data on them."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from helpers import W_COLUMNS
from matplotlib.text import Text

from sim import plots
from sim.ensemble import simulate_ensemble
from sim.params import Params


def test_time_axis_is_decimal_year() -> None:
    frame = pd.DataFrame({"year": [2010, 2010, 2012], "quarter": [1, 4, 3]})
    np.testing.assert_allclose(plots.time_axis(frame), [2010.0, 2010.75, 2012.5])


def test_band_median_and_quantiles_across_runs() -> None:
    runs = pd.DataFrame(
        {
            "run_id": [f"r{k}" for k in range(5)] * 2,
            "t": [0] * 5 + [1] * 5,
            "year": [2010] * 10,
            "quarter": [1] * 5 + [2] * 5,
            "gap": [0.1, 0.2, 0.3, 0.4, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    b = plots.band(runs, "gap")
    assert list(b.columns) == ["t", "time", "median", "low", "high"]
    np.testing.assert_allclose(b["median"], [0.3, 3.0])
    np.testing.assert_allclose(b["low"], [0.1 + 0.05 * 4 * 0.1, 1.0 + 0.05 * 4 * 1.0])  # linear interpolation
    np.testing.assert_allclose(b["high"], [0.5 - 0.05 * 4 * 0.1, 5.0 - 0.05 * 4 * 1.0])
    np.testing.assert_allclose(b["time"], [2010.0, 2010.25])


def test_spread_labels_keeps_order_and_gap() -> None:
    values = [0.50, 0.51, 0.52, -0.3, 0.9]
    placed = plots.spread_labels(values, 0.05)
    order = np.argsort(values, kind="stable")
    assert np.all(np.diff(np.asarray(placed)[order]) >= 0.05 - 1e-12)
    assert placed[3] == pytest.approx(-0.3, abs=0.05)  # a lone label stays near its value
    assert plots.spread_labels([0.1, 0.7], 0.05) == [0.1, 0.7]


def test_spread_labels_stays_inside_its_bounds() -> None:
    placed = np.asarray(plots.spread_labels([0.99] * 10 + [-0.99] * 10, 0.06, low=-1.0, high=1.0))
    assert placed.max() <= 1.0 + 1e-12 and placed.min() >= -1.0 - 1e-12
    assert np.all(np.diff(np.sort(placed)) >= 0.06 - 1e-12)
    crowded = np.asarray(plots.spread_labels([0.0] * 50, 0.06, low=-1.0, high=1.0))  # more than fit: evenly spread
    np.testing.assert_allclose(np.sort(crowded), np.linspace(-1.0, 1.0, 50))


def test_the_actor_palette_is_distinct_and_legible() -> None:
    labs = np.array([plots.cielab(c) for c in plots.ACTOR_PALETTE])
    assert len(plots.ACTOR_PALETTE) >= 24
    distances = np.linalg.norm(labs[:, None, :] - labs[None, :, :], axis=2) + np.eye(len(labs)) * 1e9
    assert distances.min() >= 25.0  # Delta E 1976: clearly different hues or lightness
    assert labs[:, 0].max() <= 68.0  # dark enough for text on white
    np.testing.assert_allclose(plots.cielab("white"), [100.0, 0.0, 0.0], atol=0.05)
    np.testing.assert_allclose(plots.cielab("black"), [0.0, 0.0, 0.0], atol=0.05)


def _crowded_states(n_actors: int, runs: int = 3) -> pd.DataFrame:
    """Alignment paths of ``n_actors`` actors that end in two tight clusters near the poles (worst case)."""
    rng = np.random.default_rng(0)
    turns = np.arange(8)
    rows = []
    for k in range(n_actors):
        end = (0.97 if k % 2 else -0.97) + 0.002 * k
        for run in range(runs):
            path = np.linspace(0.0, end, len(turns)) + rng.normal(0, 0.01, len(turns))
            rows += [
                {
                    "run_id": f"r{run}",
                    "t": t,
                    "year": 2010 + t // 4,
                    "quarter": t % 4 + 1,
                    "actor": f"A{k:02d}",
                    "alignment": a,
                }
                for t, a in zip(turns, path, strict=True)
            ]
    poles = [
        {"run_id": f"r{r}", "t": t, "year": 2010 + t // 4, "quarter": t % 4 + 1, "actor": code, "alignment": v}
        for r in range(runs)
        for t in turns
        for code, v in (("CHN", -1.0), ("USA", 1.0))
    ]
    return pd.DataFrame(rows + poles)


def test_bands_only_for_the_chosen_actors() -> None:
    states = _crowded_states(8)
    fig = plots.plot_alignment(states, {"A03": "Actor three"}, banded=["A03"])
    try:
        bands = [c.get_gid() for c in fig.axes[0].collections if str(c.get_gid()).endswith(" band")]
        assert bands == ["A03 band"]
        assert any("(Actor three only)" in t.get_text() for t in fig.legends[0].get_texts())
    finally:
        plt.close(fig)


@pytest.mark.parametrize("n_actors", [19, 30])
def test_actor_labels_do_not_overlap_and_line_styles_are_distinct(n_actors: int) -> None:
    states = _crowded_states(n_actors)
    fig = plots.plot_alignment(states, {f"A{k:02d}": f"Actor number {k}" for k in range(n_actors)})
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        ax = fig.axes[0]
        labels = [t for t in ax.texts if str(t.get_gid()).endswith(" label")]
        assert len(labels) == n_actors
        boxes = [Text.get_window_extent(t, renderer) for t in labels]  # the text, not its leader line
        overlapping = [
            (a.get_text(), b.get_text())
            for (a, x), (b, y) in itertools.combinations(zip(labels, boxes, strict=True), 2)
            if x.overlaps(y)
        ]
        assert not overlapping
        inside = fig.bbox
        assert all(inside.x0 <= b.x0 and b.x1 <= inside.x1 and inside.y0 <= b.y0 and b.y1 <= inside.y1 for b in boxes)
        lines = {line.get_gid(): line for line in ax.get_lines() if str(line.get_gid()).startswith("A")}
        styles = {(plots.matplotlib.colors.to_hex(line.get_color()), line.get_linestyle()) for line in lines.values()}
        assert len(styles) == n_actors  # no two actors drawn alike
        for text in labels:  # each label in its actor's colour
            line = lines[str(text.get_gid()).removesuffix(" label")]
            assert plots.matplotlib.colors.to_hex(text.get_color()) == plots.matplotlib.colors.to_hex(line.get_color())
    finally:
        plt.close(fig)


def test_event_marks_inside_the_run_only() -> None:
    milestones = pd.DataFrame(
        {"date": ["2012-09", "2016-07", "2009-01", "2031-05", "2022"], "label": ["a", "b", "c", "d", "e"]}
    )
    marks = plots.event_marks(milestones, 2010, 2030)
    assert [label for _, label in marks] == ["a", "b", "e"]
    assert marks[0][0] == pytest.approx(2012 + 8 / 12)
    assert marks[2][0] == 2022.0


def _lines_with_data(fig: plt.Figure) -> int:
    return sum(
        1 for ax in fig.axes for line in ax.get_lines() if np.isfinite(np.asarray(line.get_ydata(), float)).sum() > 2
    )


def test_alignment_figure_draws_every_non_pole_actor(baseline_run: dict[str, pd.DataFrame]) -> None:
    states = baseline_run["states"]
    fig = plots.plot_alignment(states, {"JPN": "Japan"})
    try:
        assert plots.figure_has_data(fig)
        assert _lines_with_data(fig) == states["actor"].nunique() - 2
        ax = fig.axes[0]
        japan = states[states["actor"] == "JPN"].sort_values("t")["alignment"].to_numpy()
        drawn = [np.asarray(line.get_ydata(), float) for line in ax.get_lines()]
        assert any(d.shape == japan.shape and np.allclose(d, japan) for d in drawn)
        assert "Japan" in [t.get_text() for t in ax.texts]
    finally:
        plt.close(fig)


def test_japan_figure_draws_w1_to_w5_and_gap_with_bands_for_several_runs(
    baseline_run: dict[str, pd.DataFrame], no_coercion_run: dict[str, pd.DataFrame]
) -> None:
    one = baseline_run["outcomes"]
    fig = plots.plot_japan_dimensions(one, [(2016.5, "PCA ruling")])
    try:
        assert _lines_with_data(fig) == len(W_COLUMNS) + 1
        assert not fig.axes[0].collections  # one run: no bands
        gap = one.sort_values("t")["china_wants_gap"].to_numpy()
        assert any(np.allclose(np.asarray(line.get_ydata(), float), gap) for line in fig.axes[0].get_lines())
    finally:
        plt.close(fig)
    two = pd.concat([one, no_coercion_run["outcomes"]], ignore_index=True)
    fig = plots.plot_japan_dimensions(two)
    try:
        assert len(fig.axes[0].collections) == len(W_COLUMNS) + 1  # a band per line
        assert "90% band" in fig.axes[0].get_title()
    finally:
        plt.close(fig)


def test_figure_has_data_is_false_for_an_empty_figure() -> None:
    fig, ax = plt.subplots()
    try:
        assert not plots.figure_has_data(fig)
        ax.plot([0, 1, 2], [np.nan, np.nan, np.nan])
        assert not plots.figure_has_data(fig)
        ax.plot([0, 1, 2], [0.1, 0.2, 0.3])
        assert plots.figure_has_data(fig)
    finally:
        plt.close(fig)


def test_save_figure_writes_each_format_and_closes(tmp_path: Path) -> None:
    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [0, 1, 0])
    written = plots.save_figure(fig, tmp_path / "figure", ["png", "svg"])
    assert written == [tmp_path / "figure.png", tmp_path / "figure.svg"]
    assert (tmp_path / "figure.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (tmp_path / "figure.svg").read_bytes()[:500]
    assert not plt.fignum_exists(fig.number)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figure.png", "figure.svg"]


# --- every figure of the issue, from small result sets -------------------------------------------------

SEEDS = [11, 12, 13]
NAMES = {"JPN": "Japan", "PHL": "Philippines", "CHN": "China", "USA": "United States"}


@pytest.fixture(scope="module")
def ensemble(baseline_params: Params, no_coercion_params: Params) -> dict[str, dict[str, pd.DataFrame]]:
    """Three runs of the baseline (states, dyads, outcomes) and of the no-coercion counterfactual (states)."""
    return {
        "baseline": simulate_ensemble(baseline_params, SEEDS, names=("states", "dyads", "outcomes")),
        "no_china_coercion": simulate_ensemble(no_coercion_params, SEEDS, names=("states",)),
    }


@pytest.fixture(scope="module")
def experiment_tables() -> dict[str, Any]:
    """Hand-made tables shaped like the experiments' outputs (q1, q2, q4, q5)."""
    scenarios = ["no_china_coercion", "no_nk_provocation", "no_russia_war"]
    outcomes = [*W_COLUMNS, "china_wants_gap"]
    rng = np.random.default_rng(3)
    rows = []
    for scenario in scenarios:
        for outcome in outcomes:
            for year in (2016, 2024):
                effect = float(rng.uniform(-0.2, 0.0))
                rows.append(
                    {
                        "scenario": scenario,
                        "outcome": outcome,
                        "year": year,
                        "effect": effect,
                        "ci_low": effect - 0.01,
                        "ci_high": effect + 0.02,
                    }
                )
    curve = pd.DataFrame(
        {
            "restraint_year": [2014, 2018, 2022],
            "gap_check_median": [0.70, 0.74, 0.78],
            "gap_check_low": [0.68, 0.72, 0.77],
            "gap_check_high": [0.72, 0.76, 0.80],
        }
    )
    summary = {
        "reference_year": 2011,
        "check_year": 2030,
        "tolerance": 0.02,
        "gap_reference_median": 0.46,
        "gap_check_baseline_median": 0.79,
        "gap_check_never_coerced_median": 0.69,
        "juncture_median": 2018.0,
    }
    classes = ["bandwagoning", "hedging", "balancing"]
    by_year = pd.DataFrame(
        [
            {
                "scenario": s,
                "actor": a,
                "year": y,
                "modal_class": classes[(k + y) % 3],
                "modal_direction": ["toward China", "steady", "toward the US"][(k * y) % 3],
            }
            for s in ("baseline", "no_china_coercion")
            for k, a in enumerate(["KHM", "PHL", "VNM"])
            for y in range(2010, 2016)
        ]
    )
    return {
        "effects": pd.DataFrame(rows),
        "curve": curve,
        "summary": summary,
        "by_year": by_year,
    }


def _assert_readable_png(fig: plt.Figure, tmp_path: Path, name: str) -> None:
    """The figure has a title, labelled axes and a legend, and saves as a non-blank PNG."""
    titles = [fig.get_suptitle(), *(ax.get_title() for ax in fig.axes)]
    assert any(titles), f"{name}: no title"
    assert any(ax.get_xlabel() for ax in fig.axes), f"{name}: no axis label"
    assert fig.legends or any(ax.get_legend() is not None for ax in fig.axes), f"{name}: no legend"
    assert plots.figure_has_data(fig), f"{name}: no data drawn"
    (path,) = plots.save_figure(fig, tmp_path / name)
    image = plt.imread(path)
    assert image.shape[0] > 300 and image.shape[1] > 300
    assert image[..., :3].std() > 0.05, f"{name}: blank image"


@pytest.mark.slow
def test_every_figure_is_titled_labelled_with_a_legend_and_not_blank(
    ensemble: dict[str, dict[str, pd.DataFrame]], experiment_tables: dict[str, Any], tmp_path: Path
) -> None:
    base, other = ensemble["baseline"], ensemble["no_china_coercion"]
    t = experiment_tables
    figures = {
        "alignment": lambda: plots.plot_alignment(base["states"], NAMES),
        "comparison": lambda: plots.plot_alignment_comparison(base["states"], other["states"], NAMES),
        "japan": lambda: plots.plot_japan_dimensions(base["outcomes"], [(2012.7, "Senkaku purchase")]),
        "heatmap": lambda: plots.threat_heatmap(base["dyads"], [2012, 2024]),
        "network": lambda: plots.alignment_network(base["states"], [2012, 2024]),
        "effects": lambda: plots.effects_figure(t["effects"]),
        "effects_dimensions": lambda: plots.effects_dimensions_figure(t["effects"], 2024),
        "hysteresis": lambda: plots.hysteresis_figure(t["curve"], t["summary"]),
        "classification": lambda: plots.classification_strip(t["by_year"], ["baseline", "no_china_coercion"]),
    }
    for name, build in figures.items():
        _assert_readable_png(build(), tmp_path, name)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{n}.png" for n in figures)


def _band_vertices_contain(collection: Any, times: np.ndarray, values: np.ndarray) -> bool:
    vertices = collection.get_paths()[0].vertices
    points = {(round(float(x), 9), round(float(y), 9)) for x, y in vertices}
    return all((round(float(x), 9), round(float(y), 9)) in points for x, y in zip(times, values, strict=True))


def test_comparison_draws_each_scenarios_median_inside_its_90_percent_band(
    ensemble: dict[str, dict[str, pd.DataFrame]],
) -> None:
    frames = (ensemble["baseline"]["states"], ensemble["no_china_coercion"]["states"])
    fig = plots.plot_alignment_comparison(*frames, NAMES, ("baseline", "no Chinese coercion"))
    try:
        assert [ax.get_title() for ax in fig.axes[:2]] == ["baseline (3 runs)", "no Chinese coercion (3 runs)"]
        for ax, frame in zip(fig.axes[:2], frames, strict=True):
            actors = [a for a in dict.fromkeys(frame["actor"]) if a not in ("CHN", "USA")]
            assert sorted(line.get_gid() for line in ax.get_lines() if line.get_gid()) == sorted(actors)
            for actor in actors:
                b = plots.band(frame[frame["actor"] == actor], "alignment")
                assert (b["low"] <= b["median"] + 1e-12).all() and (b["median"] <= b["high"] + 1e-12).all()
                (line,) = [ln for ln in ax.get_lines() if ln.get_gid() == actor]
                np.testing.assert_allclose(np.asarray(line.get_ydata(), float), b["median"])
                (area,) = [c for c in ax.collections if c.get_gid() == f"{actor} band"]
                assert _band_vertices_contain(area, b["time"].to_numpy(), b["low"].to_numpy())
                assert _band_vertices_contain(area, b["time"].to_numpy(), b["high"].to_numpy())
            assert "Japan" in [t.get_text() for t in ax.texts]
        # The panels show the two scenarios, not the same data twice.
        left = next(ln for ln in fig.axes[0].get_lines() if ln.get_gid() == "PHL").get_ydata()
        right = next(ln for ln in fig.axes[1].get_lines() if ln.get_gid() == "PHL").get_ydata()
        assert not np.allclose(np.asarray(left, float), np.asarray(right, float))
    finally:
        plt.close(fig)


def test_threat_heatmap_cells_are_the_dyads_annual_mean_threat(ensemble: dict[str, dict[str, pd.DataFrame]]) -> None:
    dyads = ensemble["baseline"]["dyads"]
    years = [2012, 2024]
    fig = plots.threat_heatmap(dyads, years)
    try:
        for ax, year in zip(fig.axes[: len(years)], years, strict=True):
            (image,) = ax.images
            assert image.get_gid() == f"threat {year}"
            drawn = np.ma.asarray(image.get_array())
            rows = [t.get_text() for t in ax.get_yticklabels()]
            cols = [t.get_text() for t in ax.get_xticklabels()]
            assert rows == cols == list(dict.fromkeys(dyads["observer"]))
            expected = dyads[dyads["year"] == year].groupby(["observer", "target"])["threat"].mean()
            for (observer, target), value in expected.items():
                assert drawn[rows.index(observer), cols.index(target)] == pytest.approx(value, abs=1e-12)
            assert drawn.mask[np.diag_indices(len(rows))].all(), "an actor does not threaten itself"
            assert drawn.count() == len(rows) * (len(rows) - 1)
        assert "threat" in fig.axes[-1].get_ylabel()  # the colour bar, with its unit
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match=r"year=1990 is not in the dyads table; allowed: 2010\.\.2030"):
        plots.threat_heatmap(dyads, [1990])


def test_alignment_network_links_exactly_the_pairs_above_the_closeness_threshold(
    ensemble: dict[str, dict[str, pd.DataFrame]],
) -> None:
    states = ensemble["baseline"]["states"]
    threshold, year = 0.85, 2024
    # By hand: annual mean per run, median across runs, closeness 1 - |x_i - x_j| / 2.
    rows = states[states["year"] == year]
    values = rows.groupby(["actor", "run_id"])["alignment"].mean().groupby("actor").median()
    expected = {
        frozenset((a, b))
        for a in values.index
        for b in values.index
        if a < b and 1.0 - abs(values[a] - values[b]) / 2.0 >= threshold
    }
    assert 0 < len(expected) < len(values) * (len(values) - 1) / 2, "the test needs some pairs in and some out"
    edges = plots.alignment_edges(plots.alignment_by_actor(states, year), threshold)
    assert {frozenset((s, t)) for s, t in zip(edges["source"], edges["target"], strict=True)} == expected
    assert (edges["closeness"] >= threshold).all()

    fig = plots.alignment_network(states, [2012, year], threshold=threshold)
    try:
        ax = fig.axes[1]
        labels = {t.get_text(): np.asarray(t.get_position(), float) for t in ax.texts if len(t.get_text()) == 3}
        assert set(labels) == set(values.index)

        def code_at(point: np.ndarray) -> str:
            return min(labels, key=lambda c: float(np.hypot(*(labels[c] - point))))

        (lines,) = [c for c in ax.collections if c.get_gid() == "edges"]
        drawn = {frozenset((code_at(seg[0]), code_at(seg[-1]))) for seg in lines.get_segments()}
        assert len(lines.get_segments()) == len(expected)
        assert drawn == expected
        # each link bows away from its two nodes (radius about 0.1 here), so none hides under them
        for seg in lines.get_segments():
            middle = seg[len(seg) // 2]
            assert min(np.hypot(*(middle - seg[0])), np.hypot(*(middle - seg[-1]))) > 0.15
        (nodes,) = [c for c in ax.collections if c.get_gid() == "nodes"]
        members = [a for a in values.index.intersection(list(labels)) if a not in ("CHN", "USA")]
        np.testing.assert_allclose(
            sorted(np.asarray(nodes.get_array(), float)), sorted(values[members].to_numpy()), atol=1e-12
        )
        assert f"{len(expected)} links" in ax.get_title()
    finally:
        plt.close(fig)


def test_arc_layout_places_actors_in_the_order_of_their_alignment() -> None:
    alignment = pd.Series({"CHN": -1.0, "PRK": -0.98, "KHM": -0.5, "IDN": 0.1, "JPN": 0.9, "USA": 1.0})
    pos = plots.arc_layout(alignment)
    angles = [float(np.arctan2(pos[c][1], pos[c][0])) for c in alignment.index]
    assert np.all(np.diff(angles) < 0), "from China's pole on the left to the US pole on the right"
    assert pos["CHN"][0] == pytest.approx(-1.0) and pos["USA"][0] == pytest.approx(1.0)
    gaps = [np.hypot(*(pos[a] - pos[b])) for a, b in itertools.pairwise(alignment.index)]
    assert min(gaps) > 0.15, "nodes nudged apart"
    with pytest.raises(ValueError, match=r"threshold=0\.0; allowed: 0 < threshold <= 1"):
        plots.alignment_edges(alignment, 0.0)


def test_effects_figures_draw_each_effect_and_interval(experiment_tables: dict[str, Any]) -> None:
    effects: pd.DataFrame = experiment_tables["effects"]
    fig = plots.effects_figure(effects, "china_wants_gap")
    try:
        gap = effects[effects["outcome"] == "china_wants_gap"]
        drawn = sorted(
            float(x) for line in fig.axes[0].get_lines() for x in line.get_xdata() if line.get_marker() == "|"
        )
        np.testing.assert_allclose(drawn, sorted(gap["effect"]))
        bars = [c for c in fig.axes[0].collections if str(c.get_gid()).startswith("interval ")]
        ends = sorted((float(s[0][0]), float(s[1][0])) for c in bars for s in c.get_segments())
        np.testing.assert_allclose(ends, sorted(zip(gap["ci_low"], gap["ci_high"], strict=True)))
        # each estimate's tick is thinner than its bar is long, so the interval shows beside it
        fig.canvas.draw()
        to_px = fig.axes[0].transData.transform
        ticks_px = 1.5 * fig.dpi / 72.0
        for low, high in ends:
            if high - low > 0.0:
                assert to_px((high, 0))[0] - to_px((low, 0))[0] > ticks_px
    finally:
        plt.close(fig)
    fig = plots.effects_dimensions_figure(effects, 2024)
    try:
        rows = effects[effects["year"] == 2024]
        drawn = sorted(
            float(x) for line in fig.axes[0].get_lines() for x in line.get_xdata() if line.get_marker() == "|"
        )
        np.testing.assert_allclose(drawn, sorted(rows["effect"]))
        assert fig.axes[0].get_yticklabels()[0].get_text() == plots.W_LABELS["w1_criticism"]
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match="year=1999 is not in the effects table"):
        plots.effects_dimensions_figure(effects, 1999)
    with pytest.raises(ValueError, match="outcome='nope' is not in the effects table"):
        plots.effects_figure(effects, "nope")


def test_hysteresis_and_classification_draw_their_tables(experiment_tables: dict[str, Any]) -> None:
    curve: pd.DataFrame = experiment_tables["curve"]
    fig = plots.hysteresis_figure(curve, experiment_tables["summary"])
    try:
        line = fig.axes[0].get_lines()[0]
        np.testing.assert_allclose(np.asarray(line.get_ydata(), float), curve["gap_check_median"])
        assert any("critical juncture (median 2018)" in t.get_text() for t in fig.axes[0].get_legend().get_texts())
    finally:
        plt.close(fig)
    by_year: pd.DataFrame = experiment_tables["by_year"]
    fig = plots.classification_strip(by_year, ["baseline", "no_china_coercion"], {"KHM": "Cambodia"})
    try:
        codes = {c: k for k, c in enumerate(plots.CLASS_COLOURS)}
        for ax, scenario in zip(fig.axes, ["baseline", "no_china_coercion"], strict=True):
            expected = (
                by_year[by_year["scenario"] == scenario]
                .pivot_table(index="actor", columns="year", values="modal_class", aggfunc="first")
                .map(codes.get)
            )
            np.testing.assert_array_equal(np.asarray(ax.images[0].get_array()), expected.to_numpy(float))
        assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["Cambodia", "PHL", "VNM"]
        moving = by_year[(by_year["scenario"] == "baseline") & (by_year["modal_direction"] != "steady")]
        marks = {t.get_gid() for t in fig.axes[0].texts}
        assert marks == {f"baseline {r.actor} {r.year} {r.modal_direction}" for r in moving.itertuples()}
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match="scenario='other' is not in the classification table"):
        plots.classification_strip(by_year, ["other"])


def test_figure_has_data_sees_images_nodes_and_bars() -> None:
    for draw in (
        lambda ax: ax.imshow(np.ones((2, 2))),
        lambda ax: ax.scatter([0.0], [1.0]),
        lambda ax: ax.barh([0], [0.4]),
    ):
        fig, ax = plt.subplots()
        try:
            assert not plots.figure_has_data(fig)
            draw(ax)
            assert plots.figure_has_data(fig)
        finally:
            plt.close(fig)
