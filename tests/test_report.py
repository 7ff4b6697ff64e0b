"""experiments/report/: one self-contained HTML page from small pre-computed results; bad input refused.

The experiments run here with two replicates (as subprocesses, like tests/test_experiments.py),
once per module; each test then reads that page or builds the report again from copies.
"""

from __future__ import annotations

import base64
import html
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from helpers import REPO_ROOT

from experiments.common import ExperimentError
from experiments.report import baseline_run, experiment_state, gather, run_overrides, run_state

pytestmark = pytest.mark.slow

EXPERIMENT_OVERRIDES = {
    "q1_counterfactuals": (
        "experiment.draws=2",
        "experiment.years=[2016,2024]",
        "experiment.scenarios=[no_china_coercion,no_nk_provocation]",
    ),
    "q2_driver_shares": ("experiment.draws=2",),
    "q4_hysteresis": ("experiment.draws=2", "experiment.restraint_years=[2014,2022,2030]"),
    "q5_asean_alignment": ("experiment.draws=2",),
    "scenario_discovery": ("experiment.points=16", "experiment.min_points=16"),
    "patterns": ("experiment.draws=2",),
}
FIGURES = {
    "share_distributions",
    "removal_vs_shapley",
    "effects",
    "effects_dimensions",
    "alignment_comparison",
    "hysteresis",
    "classification",
    "alignment",
    "japan_dimensions",
    "threat_heatmap",
    "alignment_network",
}


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900, env=dict(os.environ))


def report(out: Path, experiments: Path, runs: Path, *overrides: str) -> subprocess.CompletedProcess[str]:
    return run(
        python(
            "-m",
            "experiments.report",
            f"experiment.out={out}",
            f"experiment.experiments_dir={experiments}",
            f"experiment.runs_dir={runs}",
            *overrides,
        )
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A default run, the four experiments (two replicates each) and the report built from them."""
    root = tmp_path_factory.mktemp("report")
    experiments, runs = root / "experiments", root / "runs" / "baseline"
    jobs = [
        subprocess.Popen(
            python("-m", f"experiments.{name}", f"experiment.out={experiments / name}", *overrides),
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, overrides in EXPERIMENT_OVERRIDES.items()
    ]
    sim = run(python("-m", "sim", f"hydra.run.dir={runs / 'r1'}"))
    assert sim.returncode == 0, sim.stderr
    for job in jobs:
        _, err = job.communicate(timeout=900)
        assert job.returncode == 0, err
    result = report(root / "report", experiments, runs, "experiment.run_missing=false")
    assert result.returncode == 0, result.stderr
    return {"root": root, "experiments": experiments, "runs": runs, "report": root / "report"}


class Links(HTMLParser):
    """Every tag and every src/href value of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.sources: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href"):
                self.sources.append((tag, name, value or ""))


def test_the_page_is_one_self_contained_file(built: dict[str, Path]) -> None:
    page = (built["report"] / "index.html").read_text(encoding="utf-8")
    parser = Links()
    parser.feed(page)
    assert "http://" not in page and "https://" not in page
    assert not {"script", "link", "iframe", "object", "embed"} & set(parser.tags)
    assert "url(" not in page and "@import" not in page
    images = [value for tag, name, value in parser.sources if tag == "img"]
    figures = {p.stem for p in (built["report"] / "figures").glob("*.png")}
    # PRIM's trade-off when some points hold and some do not; C0 under each theory when q2 found the rivals' posteriors
    assert FIGURES <= figures <= FIGURES | {"tradeoff", "theory_shares"}
    assert len(images) == len(figures)
    for value in images:
        assert value.startswith("data:image/png;base64,")
        assert base64.b64decode(value.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert all(value.startswith("#") for tag, _, value in parser.sources if tag == "a"), "only links inside the page"


def test_the_page_shows_the_verdict_and_the_numbers_of_the_results(built: dict[str, Path]) -> None:
    page = (built["report"] / "index.html").read_text(encoding="utf-8")
    q2 = built["experiments"] / "q2_driver_shares"
    verdict = json.loads((q2 / "verdict.json").read_text())
    assert page.index('id="verdict"') < page.index('id="where"') < page.index('id="q1"') < page.index('id="run"')
    assert page.index('id="verdict"') < page.index('id="patterns"') < page.index('id="q1"'), "patterns by the verdict"
    discovery = json.loads((built["experiments"] / "scenario_discovery" / "summary.json").read_text())
    assert html.escape(discovery["sentence"]) in page
    narrow = verdict["definitions"]["narrow"]
    assert f"Claim C0 (narrow definition): {narrow['grade']}</span>" in page
    assert f"above 0.5: <b>{narrow['p_china_share_above_half']:.2f}</b>" in page
    assert f"the largest: <b>{narrow['p_china_largest']:.2f}</b>" in page
    assert html.escape(verdict["rule"]) in page and "calibrated posterior" in page
    assert f"{verdict['total_change']:+.3f}" in page
    shares = pd.read_csv(q2 / "driver_shares.csv")
    for row in shares[shares["dimension"] == "china_wants_gap"].itertuples():
        assert f"{row.share:.3f} [{row.ci_low:.3f}, {row.ci_high:.3f}]" in page
    for name, definition in verdict["definitions"].items():  # narrow and broad, China's share and probabilities
        assert f"Claim C0 ({name} definition): {definition['grade']}</span>" in page
        assert f"<b>{definition['china_share']['median']:.2f}</b>" in page
    effects = pd.read_csv(built["experiments"] / "q1_counterfactuals" / "effects.csv")
    gap = effects[(effects["outcome"] == "china_wants_gap") & (effects["scenario"] == "no_china_coercion")]
    for row in gap.itertuples():
        assert f"{row.effect:+.3f} [{row.ci_low:+.3f}, {row.ci_high:+.3f}]" in page
    juncture = json.loads((built["experiments"] / "q4_hysteresis" / "juncture.json").read_text())
    if juncture["juncture_median"] is not None:
        assert f"<td>{juncture['juncture_median']:.0f}" in page
    classes = pd.read_csv(built["experiments"] / "q5_asean_alignment" / "classification.csv")
    for _, row in classes.iterrows():
        label = row["class"]
        assert f'<span class="{label}">{label}</span> ({row[f"share_{label}"]:.2f} of runs)' in page
    meta = json.loads((built["report"] / "meta.json").read_text())
    assert meta["summary"]["supported"] == verdict["supported"]
    assert meta["model_version"] in page
    for name in EXPERIMENT_OVERRIDES:  # each experiment's configuration is on the page
        assert f"{name}: meta.json (configuration included)" in page


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of ``folder`` but the log Hydra appends to."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file() and p.suffix != ".log"}


def _drop_q4(experiments: Path) -> str:
    shutil.rmtree(experiments / "q4_hysteresis")
    return f"missing results: ['{experiments / 'q4_hysteresis'}']"


def _other_version(experiments: Path) -> str:
    meta_path = experiments / "q5_asean_alignment" / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "model_version": "0.0.1+000000000000"}))
    return "model version '0.0.1+000000000000'"


def _corrupt_verdict(experiments: Path) -> str:
    (experiments / "q2_driver_shares" / "verdict.json").write_text("{not json")
    return "verdict.json cannot be read"


def _nothing(experiments: Path) -> str:
    return ""


@pytest.mark.parametrize(
    ("damage", "overrides", "message"),
    [
        (_drop_q4, ("experiment.run_missing=false",), ""),
        (_other_version, (), ""),
        (_corrupt_verdict, (), ""),
        (_nothing, ("experiment.years=[1990]",), "outside the run"),
    ],
)
def test_bad_input_exits_2_naming_it_and_destroys_nothing(
    built: dict[str, Path],
    tmp_path: Path,
    damage: Callable[[Path], str],
    overrides: tuple[str, ...],
    message: str,
) -> None:
    experiments, out = tmp_path / "experiments", tmp_path / "report"
    shutil.copytree(built["experiments"], experiments)
    shutil.copytree(built["report"], out)
    message = message or damage(experiments)
    results_before, report_before = _snapshot(experiments), _snapshot(out)
    result = report(out, experiments, built["runs"], *overrides)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert _snapshot(experiments) == results_before
    assert _snapshot(out) == report_before


def test_unusable_folders_are_refused_with_their_name(built: dict[str, Path], tmp_path: Path) -> None:
    """In process: the checks behind the exit code 2 (an ExperimentError is a ValueError)."""
    q5 = tmp_path / "q5"
    shutil.copytree(built["experiments"] / "q5_asean_alignment", q5)
    assert experiment_state(q5, "q5_asean_alignment") == "complete"
    assert experiment_state(tmp_path / "never_run", "q5_asean_alignment") == "missing"
    with pytest.raises(ExperimentError, match="holds results of experiment 'q5_asean_alignment', not 'q4_hysteresis'"):
        experiment_state(q5, "q4_hysteresis")
    (q5 / "classification_by_year.csv").unlink()
    with pytest.raises(ExperimentError, match=r"is incomplete: \['classification_by_year.csv'\] missing"):
        experiment_state(q5, "q5_asean_alignment")
    (run,) = built["runs"].iterdir()
    baseline_hash = json.loads((run / "meta.json").read_text())["config_hash"]
    assert run_state(run) == "complete" and baseline_run(built["runs"], baseline_hash) == run
    copy = tmp_path / "runs" / "old"
    shutil.copytree(run, copy)
    meta = json.loads((copy / "meta.json").read_text())
    (copy / "meta.json").write_text(json.dumps({**meta, "model_version": "0.0.1+000000000000"}))
    with pytest.raises(ExperimentError, match=r"holds a run of model version '0\.0\.1"):
        run_state(copy)
    assert baseline_run(tmp_path / "runs", baseline_hash) is None, "a run of another version is never picked"
    opts = {
        "default_config": {},
        "experiments": ["q2_driver_shares"],
        "experiments_dir": built["experiments"],
        "run": tmp_path / "nonexistent",
        "runs_dir": built["runs"],
        "run_missing": True,
        "replicates": None,
        "compare": "no_china_coercion",
    }
    with pytest.raises(ExperimentError, match="nonexistent' is not a folder"):
        gather(opts)


def test_missing_results_are_made_first_and_the_page_says_so(built: dict[str, Path], tmp_path: Path) -> None:
    experiments = tmp_path / "experiments"
    result = report(
        tmp_path / "report",
        experiments,
        built["runs"],
        "experiment.experiments=[q2_driver_shares]",
        "experiment.replicates_when_missing=2",
    )
    assert result.returncode == 0, result.stderr
    assert (experiments / "q2_driver_shares" / "verdict.json").is_file()
    page = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert "Made by this report because they were missing" in page
    assert "python -m experiments.q2_driver_shares" in page and "replicates=2" in page
    assert "not their default replicate counts" in page
    assert json.loads((experiments / "q2_driver_shares" / "meta.json").read_text())["replicates"] == 2


def test_robustness_section_states_the_fractions_and_the_deciding_parameters() -> None:
    from experiments.report import robustness_html

    q3 = {
        "robustness.json": {
            "prior_space": {"points": 150, "c0_holds": 30, "fraction": 0.2, "wilson_95": [0.1438, 0.2711]},
            "posterior": {"points": 40, "c0_holds": 6, "fraction": 0.15, "wilson_95": [0.0706, 0.2907]},
            "china_share_median": 0.381,
        },
        "sobol.csv": pd.DataFrame(
            {
                "output": ["china_share", "china_share", "gap_change"],
                "key": ["params.perception.intent_gain", "params.perception.bloc_spillover", "params.x"],
                "S1": [0.455, 0.248, 0.5],
                "S1_conf": [0.36, 0.27, 0.1],
                "ST": [0.558, 0.426, 0.6],
                "ST_conf": [0.25, 0.19, 0.1],
            }
        ),
        "folder": "results/experiments/q3_sensitivity",
    }
    html = robustness_html(q3)
    assert "0.20 (30 of 150 points; Wilson 95% [0.14, 0.27])" in html
    assert "0.15 (6 of 40 points" in html
    assert html.index("perception.intent_gain") < html.index("perception.bloc_spillover")
    assert "params.x" not in html and "x</td>" not in html  # only China's share is listed


def test_predictive_checks_say_per_failing_family_what_chance_and_leaving_out_give() -> None:
    from experiments.report import coverage_html

    checks = {
        "coverage": {
            "japan_spending": {
                "band50": 0.5833,
                "band90": 0.9167,
                "n": 12,
                "binomial_p": {"band50": 0.77, "band90": 0.72},
            },
            "japan_opinion": {"band50": 0.7778, "band90": 1.0, "n": 9, "binomial_p": {"band50": 0.1797, "band90": 1.0}},
        },
        "coverage_loo": {
            "japan_spending": {"band50": 0.6667, "band90": 0.9167, "n": 12, "truncated_share": 0.0},
            "japan_opinion": {"band50": 0.6667, "band90": 0.8889, "n": 9, "truncated_share": 0.2222},
        },
    }
    html = coverage_html(checks)
    assert "japan_opinion: 7 of 9 observations inside the 50% band (0.78)" in html
    assert "probability 0.18; left out one at a time, 0.67." in html
    assert "japan_spending:" not in html  # meets the targets: in the table only
    assert coverage_html(None) == ""


def test_the_baseline_run_is_the_default_config_never_the_newest(built: dict[str, Path], tmp_path: Path) -> None:
    """A newer run with an override (as after python -m sim seed=7) is listed with it, never shown as the baseline."""
    runs = tmp_path / "runs"
    shutil.copytree(built["runs"], runs)
    (run,) = runs.iterdir()
    newer = runs / "z-newer"
    shutil.copytree(run, newer)
    config = (newer / "config.yaml").read_text().replace("seed: 2024", "seed: 7")
    (newer / "config.yaml").write_text(config)
    meta = json.loads((newer / "meta.json").read_text())
    (newer / "meta.json").write_text(json.dumps({**meta, "config_hash": "0" * 64, "seed": 7}))
    assert baseline_run(runs, json.loads((run / "meta.json").read_text())["config_hash"]) == run
    result = report(tmp_path / "report", built["experiments"], runs, "experiment.run_missing=false")
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert f"<code>{run}</code>" in page and "the default configuration" in page
    assert "<code>z-newer</code>: <code>seed=7</code>" in page


def test_run_overrides_name_every_difference_and_nothing_else() -> None:
    default = {"seed": 2024, "actors": {"codes": ["CHN", "JPN"]}, "results_root": "results", "params": {"a": 1.0}}
    run = {"seed": 2024, "actors": {"codes": ["CHN", "JPN", "KOR"]}, "results_root": "/elsewhere", "params": {"a": 2.0}}
    assert run_overrides(run, default) == ["actors.codes=['CHN', 'JPN', 'KOR']", "params.a=2.0"]
    assert run_overrides(default, default) == []


def test_the_pattern_consistent_verdict_states_its_rule_counts_and_grades() -> None:
    from experiments.report.verdict import pattern_consistent_html

    share = {"median": 0.42, "interval_50": [0.4, 0.45], "interval_90": [0.31, 0.52]}
    block = {
        "rule": "draws whose run reproduces at least 11 of the 13 patterns (seed 2024)",
        "n_draws": 37,
        "share_of_draws": 0.185,
        "patterns_held_per_draw": {"9": 50, "10": 113, "11": 30, "12": 7},
        "narrow": {
            "grade": "contradicted",
            "china_share": share,
            "p_china_share_above_half": 0.08,
            "p_china_largest": 0.3,
            "n_draws": 37,
        },
        "broad": {"grade": "undetermined", "reason": "12 draws reproduce at least 11 patterns; allowed: at least 20"},
    }
    text = html.unescape(pattern_consistent_html({"pattern_consistent": block}))
    for needle in ("at least 11 of the 13", "37 of the draws (0.18", "11: 30", "contradicted", "0.42", "0.31-0.52"):
        assert needle in text, needle
    assert "undetermined" in text and "allowed: at least 20" in text
    assert pattern_consistent_html({}) == ""


def test_the_verdict_within_each_calibration_is_a_row_per_seed() -> None:
    from experiments.report.verdict import by_calibration_html

    def graded(median: float, above: float) -> dict[str, object]:
        share = {"median": median, "interval_50": [0.3, 0.4], "interval_90": [0.2, 0.5]}
        return {
            "grade": "contradicted",
            "china_share": share,
            "p_china_share_above_half": above,
            "p_china_largest": 0.8,
            "n_draws": 50,
        }

    block = {
        "calibrations": [
            {"part": 0, "seed": 2024, "narrow": graded(0.383, 0.08), "broad": graded(0.41, 0.1)},
            {"part": 1, "seed": 2025, "narrow": graded(0.401, 0.0), "broad": graded(0.42, 0.0)},
        ]
    }
    text = html.unescape(by_calibration_html({"by_calibration": block}))
    for needle in ("2024", "2025", "contradicted: 0.38, 0.08, 0.80", "contradicted: 0.40, 0.00, 0.80", "Monte Carlo"):
        assert needle in text, needle
    assert by_calibration_html({}) == ""
