"""Progress of long work, and a clean stop on Ctrl-C.

:func:`bar` is a tqdm progress bar (count, rate, elapsed time and ETA) when standard error is a
terminal, and a log line at most every :data:`LOG_EVERY` seconds (plus one at the start and one at
the end) when it is not, so that a log file or a CI console shows progress without carriage-return
noise. :func:`stop_cleanly` turns Ctrl-C at an entry point into one line saying what was kept and
how to resume, and exit code 130 (the shell's code for an interrupt), instead of a traceback.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import NoReturn

from tqdm import tqdm

log = logging.getLogger("progress")
LOG_EVERY = 10.0  # seconds between two log lines when standard error is not a terminal
EXIT_INTERRUPTED = 130
UNSIZED_TERMINAL = (100, 24)  # columns and rows assumed where a terminal reports none
_SILENT = {"on": False}
# tqdm's default lock includes a multiprocessing semaphore, for bars drawn by several processes at
# once. Here worker processes draw none that would need it (a sweep's jobs are silent, pool
# workers are started by forkserver and share no lock anyway), and a worker killed on Ctrl-C
# leaves its semaphore to Python's resource tracker, which then prints a "leaked semaphore"
# warning after the line saying what was kept. A thread lock leaves nothing behind.
tqdm.set_lock(threading.RLock())


class _Discard:
    """A text stream that drops what tqdm writes (its log-mode lines go through logging instead)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        """Nothing to flush."""


class LogBar(tqdm):
    """A tqdm bar that reports through ``logging`` instead of redrawing a terminal line."""

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        """Log the bar's state (count, rate, ETA) as one line, unless the count is unchanged since the last."""
        if getattr(self, "_logged", None) == self.n:
            return True
        self._logged = self.n
        log.info(msg or self.format_meter(**{**self.format_dict, "ncols": 0}))
        return True


def silence() -> None:
    """Make every later bar of this process silent (a sweep's job: the sweep shows the jobs done)."""
    _SILENT["on"] = True


def on_terminal() -> bool:
    """Whether standard error is an interactive terminal (progress bars) or not (log lines)."""
    if os.environ.get("SIM_PROGRESS") == "log":
        return False
    return sys.stderr.isatty()


def bar[T](
    iterable: Iterable[T] | None = None,
    *,
    total: int | None = None,
    desc: str,
    unit: str = "run",
    disable: bool = False,
) -> tqdm:
    """A progress bar over ``iterable`` (or ``total`` units advanced with ``.update(n)``).

    On a terminal: tqdm's bar with count, rate and ETA on standard error. Otherwise: the same
    figures as a log line every :data:`LOG_EVERY` seconds, at the start and at the end.
    Use it as a context manager (or call ``close()``) so that the last line is written;
    ``disable`` keeps it silent (work too short to report).
    """
    disable = disable or _SILENT["on"]
    if on_terminal():
        # A terminal that reports no size (a pseudo-terminal never sized, as `script` or some
        # containers give) would get an empty bar from tqdm (0 rows): it gets a fixed size instead.
        sized = _terminal_columns() > 0
        return tqdm(
            iterable,
            total=total,
            desc=desc,
            unit=unit,
            dynamic_ncols=sized,
            ncols=None if sized else UNSIZED_TERMINAL[0],
            nrows=None if sized else UNSIZED_TERMINAL[1],
            file=sys.stderr,
            disable=disable,
        )
    return LogBar(
        iterable, total=total, desc=desc, unit=unit, file=_Discard(), mininterval=LOG_EVERY, miniters=1, disable=disable
    )


def _terminal_columns() -> int:
    """The width standard error's terminal reports (0 if none)."""
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError):
        return 0


def track[T](iterable: Iterable[T], *, total: int | None = None, desc: str, unit: str = "run") -> Iterator[T]:
    """Iterate over ``iterable`` with a :func:`bar` that closes itself at the end."""
    with bar(iterable, total=total, desc=desc, unit=unit) as progress:
        yield from progress


def interrupted(kept: str, resume: str) -> NoReturn:
    """Print one line saying what an interrupted job kept and how to resume it; exit 130."""
    print(f"\ninterrupted: {kept}; {resume}", file=sys.stderr)
    sys.exit(EXIT_INTERRUPTED)


@contextmanager
def stop_cleanly(kept: Callable[[], str], resume: str) -> Iterator[None]:
    """Turn Ctrl-C inside the block into :func:`interrupted` with ``kept()`` and ``resume``."""
    try:
        yield
    except KeyboardInterrupt:
        interrupted(kept(), resume)


def resume_command() -> str:
    """The command line that started this process, to be run again to resume."""
    module = sys.modules["__main__"].__spec__
    program = f"python -m {module.name.removesuffix('.__main__')}" if module else "python " + sys.argv[0]
    return " ".join([program, *(_quoted(a) for a in sys.argv[1:])])


def _quoted(arg: str) -> str:
    return f"'{arg}'" if any(c in arg for c in " []()*,$") else arg
