"""Command line: ``python -m sim [overrides]`` runs one scenario (``-m``: a sweep); see :mod:`sim.job`.

``--help`` is answered here from ``sim/params.py`` and ``configs/`` without loading the model;
an unknown key, group or option stops with close matches, the allowed keys and exit code 2
before Hydra composes anything; Ctrl-C stops with one line saying what was kept.
"""

from __future__ import annotations

import os
import sys

from sim import cli

EXIT_BAD_INPUT = 2


def entry() -> None:
    """Answer ``--help``, check the overrides, then hand over to Hydra (:func:`sim.job.main`)."""
    args = sys.argv[1:]
    if cli.wants_help(args):
        try:
            print(cli.help_text(), flush=True)
        except BrokenPipeError:
            # A reader that stops early (``--help | head``) is no error: silence the flush at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    try:
        cli.check_overrides(args)
    except cli.UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    from sim import job, progress

    job.stop_on_terminate()
    with progress.stop_cleanly(job.kept_on_interrupt, rerun_advice(args, progress.resume_command())):
        job.main()


def rerun_advice(args: list[str], command: str) -> str:
    """What running ``command`` again does: a sweep resumes (its complete jobs are kept and skipped),
    a single run starts over in a new run folder."""
    if any(arg in ("-m", "--multirun") for arg in args):
        return f"run the same command again to resume: {command}"
    return f"a single run does not resume; run the same command again to start it over: {command}"


if __name__ == "__main__":
    entry()
