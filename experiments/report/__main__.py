"""``python -m experiments.report``: build the report."""

from experiments.report.build import main

main()
