"""The cell the serial backend is evaluating in the driver, recorded before it starts.

An evaluator running in the driver's own process can end it (``os._exit``, a segfault) before
anything is stored. So the runner writes the cell (and the optimizer's state, as a trial would
carry it) to a small file in the run folder just before each in-process evaluation and removes it
once the outcome is recorded. A resume that finds the file says so in one line naming the cell and
counts a try against the cell's retry budget (``parallel.cell_tries``, kept in a second small
file): within it the cell is simply evaluated again (a ``kill -9`` of the run costs nothing); once
it is spent the cell is recorded as a ``crash`` failure and never evaluated again.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

from nasearch.search.failures import CRASH
from nasearch.search.resume import STATE_ATTR, TRIES_ATTR
from nasearch.search.tracking import StudyTracker

CRASH_TEXT = (
    "the run's process ended while evaluating this cell (the evaluator exited or crashed it, e.g. os._exit "
    "or a segfault, or the run was killed); set parallel.isolate: true to evaluate each cell in a child process"
)


class InFlight:
    """The in-flight record of one study in one run folder."""

    def __init__(self, run_dir: Path, study: str) -> None:
        self.study = study
        self.path = run_dir / f".in-flight-{hashlib.sha256(study.encode()).hexdigest()[:12]}.json"

    def start(self, arch: str, key: str, state: dict[str, object] | None) -> None:
        """Record that ``arch`` is being evaluated now."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(
            json.dumps(
                {
                    "study": self.study,
                    "arch": arch,
                    "key": key,
                    "pid": os.getpid(),
                    "started": time.time(),
                    "optimizer_state": state,
                }
            )
        )
        os.replace(tmp, self.path)

    def clear(self) -> None:
        """The evaluation's outcome was recorded (or the run unwound cleanly)."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def left_over(self) -> dict[str, Any] | None:
        """What a previous session was evaluating when its process ended, if anything."""
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}  # written half (cannot be: it is renamed into place) or unreadable: nothing to name
        return data if isinstance(data, dict) and data.get("study") == self.study else {}


def hook(
    marker: InFlight, space: Any, snapshot: Callable[[], dict[str, object] | None]
) -> Callable[[Hashable], None]:
    """The pool's ``on_start``: record the cell (and the optimizer's state) before it is evaluated."""

    def on_start(arch: Hashable) -> None:
        marker.start(space.to_str(arch), space.key(arch), snapshot())

    return on_start


def record_left_over(marker: InFlight, tracker: StudyTracker, space: Any, max_tries: int) -> str | None:
    """Count a try of the cell a previous session died evaluating; record it as a ``crash`` failure
    once its ``max_tries`` are spent. The one line saying so (None when there was no such cell)."""
    left = marker.left_over()
    if left is None:
        return None
    marker.clear()
    if not left.get("arch") or not left.get("key"):
        return None
    counts_path = marker.path.with_name(marker.path.name.replace(".in-flight-", ".crashes-"))
    try:
        loaded = json.loads(counts_path.read_text())
        counts: dict[str, int] = (
            {str(k): int(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
        )
    except (OSError, ValueError, TypeError):
        counts = {}
    key = str(left["key"])
    counts[key] = counts.get(key, 0) + 1
    counts_path.write_text(json.dumps(counts))
    head = f"nasearch: the previous session of {marker.study} ended while evaluating the cell {left['arch']}"
    if counts[key] < max_tries:
        line = f"{head}; try {counts[key]} of {max_tries} (parallel.cell_tries): it is evaluated again"
    else:
        try:
            arch = space.from_str(left["arch"])
        except Exception:  # noqa: BLE001 - a cell of another space version: nothing to record
            return None
        attrs: dict[str, object] = {"failure": CRASH, TRIES_ATTR: counts[key]}
        if left.get("optimizer_state") is not None:
            attrs[STATE_ATTR] = left["optimizer_state"]
        tracker.record(arch, None, CRASH_TEXT, user_attrs=attrs)
        line = (
            f"{head}; its {max_tries} tries (parallel.cell_tries) are spent: recorded as a crash failure, "
            "not evaluated again (--retry-failed forces it)"
        )
    print(line, file=sys.stderr, flush=True)
    return line


__all__ = ["InFlight", "hook", "record_left_over", "CRASH_TEXT"]
