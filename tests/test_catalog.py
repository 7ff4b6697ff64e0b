"""The results catalogue after two sweeps over different keys, a run and an experiment folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO_ROOT

from sim.catalog import DATABASE_FILE, entries, main

pytestmark = pytest.mark.slow
TIMEOUT_S = 600


def launch(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sim", *args, "tables=[outcomes]", "run.end_year=2016", "hydra/launcher=basic"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("catalog") / "results"
    launch("-m", f"results_root={root}", "drivers.nk_provocation.scale=0,2")
    launch("-m", f"results_root={root}", "seed=1,2", "params.alignment.balancing_gain=1.5")
    launch(f"results_root={root}", "seed=3")
    broken = root / "experiments" / "q9"
    broken.mkdir(parents=True)
    (broken / "effects.csv").write_text("year,effect\n2016,0.1\n")
    return root


def test_the_listing_names_every_run_sweep_and_experiment(results: Path) -> None:
    listing = entries(results)
    assert sorted(e.kind for e in listing) == ["experiment", "run", "sweep", "sweep"]
    sweeps = [e for e in listing if e.kind == "sweep"]
    assert all(e.status == "complete" and e.model_version for e in sweeps)
    assert any("drivers.nk_provocation.scale=0,2" in e.overrides for e in sweeps)
    assert any("params.alignment.balancing_gain=1.5" in e.overrides for e in sweeps)
    run = next(e for e in listing if e.kind == "run")
    assert run.status == "complete" and "seed=3" in run.overrides
    assert next(e for e in listing if e.kind == "experiment").status == "incomplete"


def test_the_readme_query_works_over_sweeps_of_different_keys(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import duckdb

    assert main(["--root", str(results)]) == 0
    printed = capsys.readouterr().out
    assert "sweep_outcomes" in printed and "run_outcomes" in printed
    with duckdb.connect(str(results / DATABASE_FILE), read_only=True) as db:
        rows = db.sql(
            'select sweep, "drivers.nk_provocation.scale" as nk, "params.alignment.balancing_gain" as gain, '
            "count(distinct job) as jobs from sweep_outcomes where year = 2012 group by all order by all"
        ).fetchall()
        # each sweep's rows have NULL for the key the other sweep varied
        assert {(nk, gain, jobs) for _, nk, gain, jobs in rows} == {(0.0, None, 1), (2.0, None, 1), (None, 1.5, 2)}
        assert db.sql("select count(*) from catalog").fetchall() == [(4,)]
        assert db.sql("select count(distinct run) from run_outcomes").fetchall() == [(1,)]
        assert db.sql("select effect from q9_effects").fetchall() == [(0.1,)]
    # The README's own query, run against these results.
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    quotes = "'" * 3
    query = readme.split(f"duckdb.sql({quotes}", 1)[1].split(quotes, 1)[0].replace('\\"', '"')
    rows = duckdb.sql(query.replace("'results/", f"'{results}/")).fetchall()
    assert sorted({nk for nk, _, _ in rows}) == [0.0, 2.0]


def test_a_missing_results_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--root", str(tmp_path / "nowhere")]) == 2
    assert "nowhere" in capsys.readouterr().err


def test_overrides_as_typed_jobs_not_started_and_draws_are_named(results: Path, tmp_path: Path) -> None:
    import json
    import shutil

    copy = tmp_path / "results"
    shutil.copytree(results, copy)
    sweep = next(p for p in (copy / "sweeps").iterdir() if "nk_provocation" in p.name)
    shutil.rmtree(sweep / "1")  # as if Ctrl-C had stopped the sweep before its second job
    (sweep / "summary.parquet").unlink()
    experiment = copy / "experiments" / "q8"
    experiment.mkdir()
    meta = {"replicates": 5, "parameters": {"n_draws": 5}, "runs_simulated": 35, "seed": 1, "seconds": 2.0}
    (experiment / "meta.json").write_text(json.dumps(meta))
    listing = {e.name: e for e in entries(copy)}
    run = next(e for e in listing.values() if e.kind == "run")
    assert "tables=[outcomes]" in run.overrides.split()  # as typed, not tables=['outcomes']
    cut = listing[str(sweep.relative_to(copy))]
    assert cut.status == "partial" and cut.detail == "1 of 2 job(s) started: 1 complete, 0 failed"
    assert listing["experiments/q8"].detail == "5 parameter draw(s), 35 runs simulated, seed 1, 2.0 s"
