"""Ctrl-C during a run: the first unwinds cleanly (completed evaluations are saved, the pool and the
lock released); a second one, while that clean-up runs (Ray shutting down, exit handlers), exits at
once with status 130 and one line, never a traceback from inside the clean-up."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable

_state = {"interrupted": False}


def _second(_signum: int, _frame: object) -> None:
    print(
        "nasearch: interrupted again; exiting now (completed evaluations are saved)",
        file=sys.stderr,
        flush=True,
    )
    os._exit(130)


def _first(_signum: int, _frame: object) -> None:
    _state["interrupted"] = True
    signal.signal(signal.SIGINT, _second)  # stays until the process exits: clean-up may be slow
    raise KeyboardInterrupt


def install() -> Callable[[], None]:
    """Handle SIGINT as above (main thread only); returns what puts the previous handler back
    unless the run was interrupted."""
    previous = signal.signal(signal.SIGINT, _first)
    _state["interrupted"] = False

    def restore() -> None:
        if not _state["interrupted"]:
            signal.signal(signal.SIGINT, previous)

    return restore


__all__ = ["install"]
