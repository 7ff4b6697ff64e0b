"""The report of the claim test: ``python -m experiments.report`` (``make report``).

Builds ONE self-contained HTML page, ``<experiment.out>/index.html`` (``results/report/`` by
default), truth first: the question (claim C0 of Roy 2024), q2's verdict over the posterior
draws (each definition's probabilities and grade, the rule fixed before the run), where in
parameter space the claim holds (scenario discovery: PRIM's box in a sentence), the record's
patterns (an experiment like the others), the calibration's predictive checks and validation
scores when the calibration has written them, then q1's
counterfactual effects beside q2's Shapley contributions, q4's critical juncture, q5's
classification, one illustrative run, every figure (embedded as PNG data URIs; also written to
``<out>/figures/``), and the configuration, model version and git revision of every result it
shows. The page has no external link, script or font: it opens offline.

What it reads, and only that:

- ``<experiment.experiments_dir>/<name>/`` of each experiment in ``experiment.experiments``:
  its CSV and JSON outputs and ``meta.json`` (q1's cached ``runs/*.states.parquet`` of the
  baseline and ``experiment.compare_scenario`` for the side-by-side alignment figure);
- ``<experiments_dir>/calibrate/validation.json`` and ``checks.json`` when present (never made
  here: the calibration takes many minutes);
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

The package: :mod:`~experiments.report.reading` (inputs, making what is missing),
:mod:`~experiments.report.html` (page building blocks), one module per section
(:mod:`~experiments.report.verdict`, :mod:`~experiments.report.where`,
:mod:`~experiments.report.evidence`, :mod:`~experiments.report.theories`,
:mod:`~experiments.report.questions`, :mod:`~experiments.report.runs`),
:mod:`~experiments.report.figures` (every figure) and :mod:`~experiments.report.build` (the body).
"""

from experiments.report.build import gather, main, run
from experiments.report.evidence import coverage_html, patterns_html, robustness_html, validation_html
from experiments.report.reading import baseline_run, experiment_state, read_experiment, run_overrides, run_state
from experiments.report.theories import theories_html
from experiments.report.verdict import verdict_html
from experiments.report.where import where_html

__all__ = [
    "baseline_run",
    "coverage_html",
    "experiment_state",
    "gather",
    "main",
    "patterns_html",
    "read_experiment",
    "robustness_html",
    "run",
    "run_overrides",
    "run_state",
    "theories_html",
    "validation_html",
    "verdict_html",
    "where_html",
]
