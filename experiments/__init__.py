"""The experiments (q1..q5, calibration, sensitivity, scenario discovery, report): python -m experiments.<name>."""

import sys
import warnings
from types import TracebackType

# ema_workbench warns at import that its optional ipyparallel evaluator is unavailable. Nothing
# here uses that evaluator, and the warning, repeated by every process (the report, each
# experiment it runs, each pool worker), buried the progress lines of `make run`.
warnings.filterwarnings("ignore", message="ipyparallel not installed", category=UserWarning)


def _one_line_on_ctrl_c(kind: type[BaseException], value: BaseException, trace: TracebackType | None) -> None:
    """Ctrl-C that no entry point caught (while the modules still load): one line, not a traceback."""
    if issubclass(kind, KeyboardInterrupt):
        command = " ".join(["python", *sys.orig_argv[1:]])
        print(f"\ninterrupted while starting; run the same command again: {command}", file=sys.stderr)
    else:
        sys.__excepthook__(kind, value, trace)


# Only for `python -m experiments.<name>`: the entry points turn Ctrl-C into one line once their
# work begins (sim.progress.stop_cleanly), but loading their modules takes seconds.
if sys.orig_argv[1:2] == ["-m"] and sys.orig_argv[2:3] and sys.orig_argv[2].startswith("experiments."):
    sys.excepthook = _one_line_on_ctrl_c
