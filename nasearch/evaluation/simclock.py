"""A simulated clock for table evaluators: W workers replay recorded training costs and results
come back in the order real workers would return them (an event queue by finish time, as in
Watanabe et al.'s multi-fidelity simulator), so a search over hours of GPU time runs in seconds
and reports simulated wall time. Ties finish in submission order."""

from __future__ import annotations

import heapq
from typing import Generic, TypeVar

T = TypeVar("T")


class SimulatedClock(Generic[T]):
    """``workers`` simulated workers. ``submit`` starts a job now on a free worker; ``pop``
    advances the clock to the earliest finish and returns that job."""

    def __init__(self, workers: int, now: float = 0.0) -> None:
        if workers < 1:
            raise ValueError(f"a simulated clock needs >= 1 worker, got {workers}")
        self.workers = int(workers)
        self.now = float(now)
        self._queue: list[tuple[float, int, float, T]] = []
        self._seq = 0
        #: simulated worker-seconds spent (all jobs started, including those still running)
        self.busy_seconds = 0.0

    @property
    def running(self) -> int:
        """Jobs started and not yet returned."""
        return len(self._queue)

    def free(self) -> int:
        """Workers idle at ``now``."""
        return self.workers - len(self._queue)

    def submit(self, job: T, cost: float) -> float:
        """Start ``job`` now on a free worker; it finishes ``cost`` seconds later (returned)."""
        if self.free() < 1:
            raise RuntimeError("no free simulated worker: pop a finished job first")
        if not cost >= 0:
            raise ValueError(f"a job's cost must be a number >= 0 seconds, got {cost!r}")
        finish = self.now + float(cost)
        heapq.heappush(self._queue, (finish, self._seq, self.now, job))
        self._seq += 1
        self.busy_seconds += float(cost)
        return finish

    def pop(self) -> tuple[float, float, T]:
        """The earliest-finishing job: ``(finish time, start time, job)``; the clock moves there."""
        if not self._queue:
            raise RuntimeError("no job is running")
        finish, _, start, job = heapq.heappop(self._queue)
        self.now = max(self.now, finish)
        return finish, start, job

    def drain(self) -> list[tuple[float, float, T]]:
        """Every running job in return order (the clock ends at the last finish)."""
        return [self.pop() for _ in range(len(self._queue))]
