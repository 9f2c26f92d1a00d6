"""Scheduled jobs on the run's worker pool, in real time: why a search that really trains (on Ray
workers) hands its results to the scheduler in the order the workers finish them.

A job (a cell at a fidelity) goes to the pool as the pair ``(arch, fidelity)``; ``AtFidelity`` is the
pool's evaluator, calling the multi-fidelity evaluator's ``evaluate_at`` on the worker (a promotion
there continues from the cell's checkpoint in the run folder). ``PoolDispatch`` keeps the jobs in
flight and returns them one at a time, in completion order, with their real start and finish times
(seconds since the search began, continuing over sessions). On resume a job whose result is
already stored is not sent anywhere: it comes back at once, and stored results come back before any
new one, in the order the earlier session handled them, so the scheduler and the optimizer are
re-driven through the same states; jobs that were running when the earlier session died come back
from the workers (they are run again).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, cast

from nasearch.api.evaluator import Evaluator, Result
from nasearch.api.fidelity import Job, MultiFidelity, RecordedCosts
from nasearch.api.pool import WorkerPool
from nasearch.schedulers.store import stored_result

#: the event key holding the position of a result in the order the loop handled it (real clock only)
ORDER = "order"


def runs_on_pool(evaluator: object, backend: str) -> bool:
    """Whether a scheduled search dispatches its jobs to the pool in real time: on a backend other
    than ``serial``, unless the evaluator's costs are recorded ones (a table: the simulated clock)."""
    recorded = isinstance(evaluator, RecordedCosts) and bool(evaluator.recorded_costs)
    return backend != "serial" and not recorded


class AtFidelity(Evaluator):
    """The pool's evaluator for scheduled jobs: ``evaluate((arch, fidelity))`` is the wrapped
    evaluator's ``evaluate_at(arch, fidelity)`` (pickled to the workers with its checkpoint folder)."""

    def __init__(self, evaluator: MultiFidelity) -> None:
        self.evaluator = evaluator

    def evaluate(self, arch: Hashable) -> Result:
        cell, fidelity = cast("tuple[Hashable, float]", arch)  # the pool's "architecture": the job's pair
        return self.evaluator.evaluate_at(cell, float(fidelity))


@dataclass
class Finished:
    """A job back from a worker (or from the store): its result or error, and its real times."""

    job: Job
    result: Result | None
    error: str | None
    #: the failure kind (``nasearch.search.failures``) of a failed job
    kind: str | None
    begin: float
    end: float
    #: it was stored already (a resumed search re-driving its start)
    reused: bool
    #: its place in the order results were handled
    order: int


class PoolDispatch:
    """Jobs in flight on ``pool`` (at most its capacity), returned one at a time in completion order.

    ``offset``: the seconds the search ran in earlier sessions (its clock continues from there).
    """

    def __init__(self, pool: WorkerPool, offset: float = 0.0) -> None:
        self.pool = pool
        self.capacity = int(pool.capacity)
        self.offset = float(offset)
        self._t0 = time.perf_counter()
        #: ticket -> (job, real start)
        self._tickets: dict[int, tuple[Job, float]] = {}
        #: stored results of jobs handed out again: (stored order, job, event)
        self._memos: list[tuple[float, float, Job, dict[str, Any]]] = []
        self._ready: deque[Finished] = deque()
        self.handled = 0

    def now(self) -> float:
        """Seconds since the search began (this session's real time plus the earlier sessions')."""
        return self.offset + time.perf_counter() - self._t0

    @property
    def running(self) -> int:
        """Jobs handed out and not yet returned (stored ones included)."""
        return len(self._tickets) + len(self._memos) + len(self._ready)

    def free(self) -> int:
        """Workers without a job."""
        return self.capacity - self.running

    def submit(self, job: Job, memo: dict[str, Any] | None) -> None:
        """Start ``job`` on a worker, or, when its result is stored (``memo``), return that instead."""
        if memo is not None:
            order = memo.get(ORDER)
            key = float(order) if isinstance(order, (int, float)) else math.inf
            self._memos.append((key, float(memo.get("end", 0.0)), job, memo))
            return
        ticket = self.pool.submit((job.arch, job.fidelity))
        self._tickets[ticket] = (job, self.now())

    def pop(self) -> Finished:
        """The next result: a stored one first (in its stored order), else the next job a worker
        finishes (waiting for it)."""
        if self._memos:
            self._memos.sort(key=lambda m: (m[0], m[1], m[2].key))
            _, _, job, memo = self._memos.pop(0)
            out = Finished(
                job,
                stored_result(memo),
                memo.get("error"),
                memo.get("failure"),
                float(memo.get("start", 0.0)),
                float(memo.get("end", 0.0)),
                True,
                self.handled,
            )
        else:
            while not self._ready:
                if not self._tickets:
                    raise RuntimeError("no job is running")
                for outcome in self.pool.wait():
                    job, begin = self._tickets.pop(outcome.ticket)
                    self._ready.append(
                        Finished(job, outcome.result, outcome.error, outcome.kind, begin, 0.0, False, -1)
                    )
            out = self._ready.popleft()
            out.end, out.order = self.now(), self.handled
        self.handled += 1
        return out

    def close(self) -> None:
        """Cancel the jobs still running (a stopped search does not wait for them)."""
        self._tickets.clear()
        self.pool.close()
