"""Two kinds of failure: the set-up's (the run stops, no cell is marked) and a cell's (recorded).

An evaluation that raises is classified by its exception:

- ``setup``: the evaluation could not run for a reason that would fail every cell alike: a
  missing or damaged data file or benchmark table (``DataError``, ``OSError``), a bad option or
  hardware description (``ConfigError``: ``OptionError``, ``DeviceError``), an import that fails
  (``ImportError``), or an evaluator that says so
  (``SetupError``). The run stops at once with one line naming the cause; nothing is recorded.
- ``cell``: anything else the evaluator raised for this cell, a result that is not a ``Result``,
  or a missing or non-finite objective (NaN). Recorded as a FAIL trial and never retried.
- ``timeout``: the evaluation ran past ``parallel.timeout_s`` and was cancelled.
- ``lost``: the Ray worker or node running it died (after Ray's own retries).
- ``crash``: the evaluator ended the process evaluating it (``SystemExit``, ``os._exit``, a
  segfault): reported by an isolated serial evaluation (``parallel.isolate``), or found on resume
  when the driver itself died while evaluating the cell (``nasearch.search.inflight``).

``timeout``, ``lost`` and ``crash`` failures may not be the cell's fault: a resumed run evaluates those cells
again (``RETRIED_ON_RESUME``), each up to ``parallel.cell_tries`` evaluations in all (its retry
budget, 2 by default); ``--retry-failed`` retries every failed cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from nasearch.api.errors import ArchError, ConfigError, DataError, RegistryError, SetupError

if TYPE_CHECKING:
    from nasearch.search.report import SeedReport

SETUP = "setup"
CELL = "cell"
TIMEOUT = "timeout"
LOST = "lost"
CRASH = "crash"

#: failure kinds whose cells a resumed run evaluates again by default (within their retry budget)
RETRIED_ON_RESUME = frozenset({TIMEOUT, LOST, CRASH})


def retried_on_resume(kind: str | None, tries: int, max_tries: int | None, retry_all: bool = False) -> bool:
    """Whether a resumed run evaluates a stored failure again: every failure with ``retry_all``
    (``--retry-failed``), else one of a kind in ``RETRIED_ON_RESUME`` tried fewer than ``max_tries``
    times (``parallel.cell_tries``; None: no limit). The one place this is decided, for unscheduled
    and scheduled searches alike."""
    if retry_all:
        return True
    return kind in RETRIED_ON_RESUME and (max_tries is None or tries < max_tries)


def classify(exc: BaseException) -> str:
    """``setup`` or ``cell`` for an exception an evaluator raised (see the module docstring)."""
    if isinstance(exc, ArchError):
        return CELL
    if isinstance(exc, (SetupError, DataError, ConfigError, RegistryError, ImportError, OSError)):
        return SETUP
    return CELL


@dataclass
class FailureSummary:
    """Failed trials of one study: the count by kind and the first distinct errors, each with
    how many trials had it and the first cell that did."""

    count: int
    kinds: dict[str, int]
    errors: list[dict[str, Any]]


class StoredTrial(Protocol):
    """What ``summarise`` reads of a stored trial (``nasearch.search.tracking.Record``)."""

    state: str
    error: str | None
    arch: str


def setup_failure(text: str) -> SetupError:
    """The one error a set-up failure stops a run with: one line, saying that no cell was marked failed."""
    return SetupError(
        f"set-up failure, the run stops (no cell was recorded as failed): {' '.join(text.split())}"
    )


def summarise(records: Sequence[StoredTrial], limit: int = 3) -> FailureSummary:
    """Summarise the FAIL records (anything with ``state``, ``error``, ``arch`` and ``attrs``)."""
    kinds: dict[str, int] = {}
    first: dict[str, dict[str, Any]] = {}
    count = 0
    for rec in records:
        if rec.state == "COMPLETE":
            continue
        count += 1
        kind = failure_kind(rec)
        kinds[kind] = kinds.get(kind, 0) + 1
        text = rec.error or "(no error text)"
        entry = first.setdefault(text, {"error": text, "kind": kind, "trials": 0, "cell": rec.arch})
        entry["trials"] += 1
    errors = sorted(first.values(), key=lambda e: -e["trials"])[:limit]
    return FailureSummary(count, kinds, errors)


def failure_kind(rec: object) -> str:
    """The stored kind of a FAIL record (trials written before kinds existed count as ``cell``)."""
    return str((getattr(rec, "attrs", None) or {}).get("failure") or CELL)


#: how a failure kind reads in a report
KIND_WORDS = {
    "cell": "failed in the cell",
    "timeout": "timed out",
    "lost": "lost their worker",
    "crash": "crashed their process",
}


def format_failures(reports: Sequence[SeedReport]) -> str:
    """The failed trials of a run's reports (``SeedReport``s): how many, of which kind, and the
    first distinct errors with a cell that had each (empty when nothing failed)."""
    failed = [r for r in reports if r.failures]
    if not failed:
        return ""
    total = sum(r.failures for r in failed)
    queries = sum(r.queries for r in reports)
    kinds: dict[str, int] = {}
    errors: dict[str, dict[str, Any]] = {}
    for r in failed:
        for kind, n in r.failure_kinds.items():
            kinds[kind] = kinds.get(kind, 0) + n
        for e in r.errors:
            entry = errors.setdefault(e["error"], {**e, "trials": 0})
            entry["trials"] += e["trials"]
    what = ", ".join(f"{n} {KIND_WORDS.get(k, k)}" for k, n in sorted(kinds.items()))
    lines = [f"failed trials: {total} of {queries} ({what}); the first distinct errors:"]
    for e in sorted(errors.values(), key=lambda e: -e["trials"])[:3]:
        lines.append(f"  {e['trials']} x {e['error']}   (e.g. cell {e['cell']})")
    if RETRIED_ON_RESUME & kinds.keys():
        tries = max((getattr(r, "cell_tries", None) or 0 for r in reports), default=0)
        budget = f", up to {tries} tries per cell (parallel.cell_tries)" if tries else ""
        lines.append(
            f"  cells that timed out, lost their worker or crashed are evaluated again when the run is "
            f"resumed{budget}"
        )
        spent = sum(int(getattr(r, "retries_spent", 0) or 0) for r in reports)
        if spent:
            lines.append(
                f"  {spent} such cell(s) spent their {tries} tries and are not retried again "
                "(--retry-failed forces another try)"
            )
    return "\n".join(lines)


__all__ = [
    "SETUP",
    "CELL",
    "TIMEOUT",
    "LOST",
    "CRASH",
    "RETRIED_ON_RESUME",
    "retried_on_resume",
    "classify",
    "summarise",
    "failure_kind",
    "FailureSummary",
    "KIND_WORDS",
    "format_failures",
]
