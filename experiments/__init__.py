"""The experiments (q1..q5, calibration, sensitivity, scenario discovery, report): python -m experiments.<name>."""

import warnings

from sim import answer_early_ctrl_c_in_one_line

# ema_workbench warns at import that its optional ipyparallel evaluator is unavailable. Nothing
# here uses that evaluator, and the warning, repeated by every process (the report, each
# experiment it runs, each pool worker), buried the progress lines of `make run`.
warnings.filterwarnings("ignore", message="ipyparallel not installed", category=UserWarning)
answer_early_ctrl_c_in_one_line("experiments")
