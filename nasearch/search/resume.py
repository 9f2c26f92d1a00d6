"""Exact resume: replaying a study puts a fresh optimizer in the state the killed one had.

Every recorded trial carries the optimizer's ``state_dict()`` taken just before that trial was
told (its RNG stream, queued proposals, the phase of a local search: what a replay of the told
results cannot rebuild). Resume tells the stored trials in order, loads the last trial's
state, then tells that last trial, so a run killed at any point (or a finished one whose budget
grows) carries on where it was; with one evaluation in flight it proposes exactly what an
uninterrupted run would have. Proposals that were in flight when the run died are simply
forgotten (they were never stored) and may be proposed again.

Cells whose failure was not their fault (timeouts, lost workers) are not replayed: the runner
evaluates them again, and they count against the budget once; each such cell has a retry budget
(``parallel.cell_tries`` evaluations in all), after which its failure is replayed like any other.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nasearch.api import Optimizer, StatefulOptimizer
from nasearch.api.errors import ConfigError, NasearchError
from nasearch.optimizers.base import rng_state, set_rng_state
from nasearch.search.failures import RETRIED_ON_RESUME, failure_kind, retried_on_resume
from nasearch.search.tracking import Record

#: the trial user attribute holding the optimizer's state
STATE_ATTR = "optimizer_state"
#: a failed trial's user attribute: how many tries it stands for (a crash found on resume, ``nasearch.search.inflight``)
TRIES_ATTR = "tries"


def snapshot(optimizer: object) -> dict[str, object] | None:
    """The optimizer's resumable state: ``state_dict()`` when it has one, else the state of a
    numpy ``rng`` attribute (plug-ins), else None."""
    if isinstance(optimizer, StatefulOptimizer):
        return optimizer.state_dict()
    rng = getattr(optimizer, "rng", None)
    if isinstance(rng, np.random.Generator):
        return {"rng": rng_state(rng)}
    return None


def restore(optimizer: object, state: dict[str, object]) -> None:
    """Load a ``snapshot`` into ``optimizer``."""
    if isinstance(optimizer, StatefulOptimizer):
        optimizer.load_state_dict(state)
        return
    rng = getattr(optimizer, "rng", None)
    if isinstance(rng, np.random.Generator) and "rng" in state:
        set_rng_state(rng, state["rng"])


@dataclass
class ReplayPlan:
    """What resume does with a study's stored trials."""

    #: trials to tell the optimizer, in order
    tell: list[Record] = field(default_factory=list)
    #: failed trials whose cells are evaluated again (the latest trial of each such cell)
    retry: list[Record] = field(default_factory=list)
    #: failed trials (in ``tell``) whose kind is retried but whose cell spent its retry budget
    exhausted: list[Record] = field(default_factory=list)
    #: the optimizer state stored with the study's last trial (None: nothing stored)
    state: dict[str, object] | None = None
    #: the state was taken just before ``tell[-1]`` was told: load it before telling that trial
    #: (False when the last trial is being retried: load it after every replayed trial)
    state_before_last: bool = False

    @property
    def counted(self) -> int:
        """Distinct cells that count against the budget (retried cells count when re-done)."""
        return len({r.key for r in self.tell})


def plan(
    records: Sequence[Record],
    retry_all_failed: bool = False,
    max_tries: int | None = None,
) -> ReplayPlan:
    """Split stored records into those replayed and those retried.

    A cell recorded more than once (a failure retried by an earlier resume) is represented by its
    latest trial. A failed trial is retried instead of replayed where ``failures.retried_on_resume``
    says so (its kind, the cell's tries against ``max_tries``, ``retry_all_failed``)."""
    latest: dict[str, int] = {}
    tries: dict[str, int] = {}
    for i, rec in enumerate(records):
        latest[rec.key] = i
        tries[rec.key] = tries.get(rec.key, 0) + int(rec.attrs.get(TRIES_ATTR) or 1)
    out = ReplayPlan()
    for i, rec in enumerate(records):
        if latest[rec.key] != i:
            continue  # superseded by a later trial of the same cell
        failed = rec.state != "COMPLETE"
        kind = failure_kind(rec) if failed else None
        if failed and retried_on_resume(kind, tries[rec.key], max_tries, retry_all_failed):
            out.retry.append(rec)
        else:
            out.tell.append(rec)
            if failed and kind in RETRIED_ON_RESUME:
                out.exhausted.append(rec)
    if records:
        out.state = records[-1].attrs.get(STATE_ATTR)
        out.state_before_last = bool(out.tell) and out.tell[-1] is records[-1]
    return out


def replay(optimizer: Optimizer, space: Any, study: str, replay_plan: ReplayPlan) -> None:
    """Tell the plan's trials and load the stored state (see the module docstring). A stored
    architecture that no longer parses names the trial and suggests a new run folder."""
    told = replay_plan.tell
    state = replay_plan.state
    restore_at = len(told) - 1 if replay_plan.state_before_last else len(told)
    for i, rec in enumerate(told):
        if i == restore_at and state is not None:
            restore(optimizer, state)
        optimizer.tell(parse_stored(space, study, rec), rec.result())
    if restore_at == len(told) and state is not None:
        restore(optimizer, state)


def parse_stored(space: Any, study: str, rec: Record) -> Hashable:
    """``space.from_str`` of a stored trial, or a ConfigError naming the trial."""
    try:
        arch: Hashable = space.from_str(rec.arch)
        return arch
    except (NasearchError, ValueError, TypeError, KeyError) as exc:
        raise ConfigError(
            f"resuming study {study!r}: stored trial #{rec.number} (arch {rec.arch!r}) does not parse in "
            f"the current search space: {exc}. The space's options changed since it was recorded; "
            "use a new --out to start a new run with them"
        ) from None


__all__ = ["STATE_ATTR", "TRIES_ATTR", "snapshot", "restore", "ReplayPlan", "plan", "replay", "parse_stored"]
