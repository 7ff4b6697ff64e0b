"""Agent-based simulation of regional strategic alignment in East Asia.

Does Beijing's own coercion drive Japan (and Southeast Asia) away from what Beijing wants?
The package turns that causal claim into a Mesa model with counterfactual switches for each
driver. Start with :func:`sim.model.simulate` or the command line ``python -m sim``.
"""

import sys
from types import TracebackType

__version__ = "0.1.0"


def _one_line_on_ctrl_c(kind: type[BaseException], value: BaseException, trace: TracebackType | None) -> None:
    """Ctrl-C that no entry point caught (while the modules still load): one line, not a traceback."""
    if issubclass(kind, KeyboardInterrupt):
        command = " ".join(["python", *sys.orig_argv[1:]])
        print(f"\ninterrupted while starting; run the same command again: {command}", file=sys.stderr)
    else:
        sys.__excepthook__(kind, value, trace)


def answer_early_ctrl_c_in_one_line(package: str) -> None:
    """For ``python -m <package>[.<module>]`` only: Ctrl-C before the entry point's clean stop is one line.

    The entry points turn Ctrl-C into one line once their work begins
    (:func:`sim.progress.stop_cleanly`), but loading their modules takes seconds under load. The
    exit status is unchanged (Python still ends on SIGINT).
    """
    argv = sys.orig_argv
    if argv[1:2] == ["-m"] and len(argv) > 2 and argv[2].split(".")[0] == package:
        sys.excepthook = _one_line_on_ctrl_c


answer_early_ctrl_c_in_one_line("sim")
