"""Bookkeeping every rung-based scheduler shares: the cells, their results per rung, promotions."""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence

from nasearch.api.errors import ConfigError
from nasearch.api.fidelity import Job, Propose, Scheduler


def check_eta(name: str, eta: float) -> float:
    """A reduction factor must be a number > 1."""
    if isinstance(eta, bool) or not isinstance(eta, (int, float)) or not eta > 1:
        raise ConfigError(f"scheduler {name!r}: eta (the reduction factor) must be a number > 1, got {eta!r}")
    return float(eta)


class RungScheduler(Scheduler):
    """Cells, their finished results per rung (as higher-is-better scores), and promotions."""

    name = "rungs"

    def __init__(self) -> None:
        self.archs: dict[str, Hashable] = {}
        #: rung -> {key: score}; a failed evaluation scores -inf
        self.done: dict[int, dict[str, float]] = {}
        #: rung -> keys promoted out of it (or handed out at the next rung)
        self.promoted: dict[int, set[str]] = {}
        self._stopped: list[str] = []

    def bind(self, fidelities: Sequence[float], maximize: bool) -> None:
        super().bind(fidelities, maximize)
        if not self.fidelities:
            raise ConfigError(f"scheduler {self.name!r}: the evaluator offers no fidelity")
        self.done = {r: {} for r in range(len(self.fidelities))}
        self.promoted = {r: set() for r in range(len(self.fidelities))}

    @property
    def top_rung(self) -> int:
        """The index of the full fidelity."""
        return len(self.fidelities) - 1

    def score(self, value: float | None) -> float:
        """Higher is better; a failure or non-finite value is -inf."""
        if value is None or not math.isfinite(value):
            return -math.inf
        return float(value) if self.maximize else -float(value)

    def job(self, key: str, arch: Hashable, rung: int) -> Job:
        """A job for ``key`` at ``rung``, remembered as promoted out of the rung below."""
        self.archs[key] = arch
        if rung > 0:
            self.promoted[rung - 1].add(key)
        return Job(key, arch, self.fidelities[rung], rung)

    def new_cell(self, propose: Propose, rung: int = 0) -> Job | None:
        """A fresh cell from the optimizer at ``rung``, or None when it proposes nothing new."""
        found = propose()
        if found is None:
            return None
        key, arch = found
        return self.job(key, arch, rung)

    def report(self, job: Job, value: float | None) -> None:
        self.archs.setdefault(job.key, job.arch)
        rung = self.fidelities.index(job.fidelity) if job.fidelity in self.fidelities else job.rung
        for lower in range(rung):
            if job.key in self.done[lower]:
                self.promoted[lower].add(job.key)
        self.done[rung][job.key] = self.score(value)
        self.on_result(job.key, rung)

    def on_result(self, key: str, rung: int) -> None:
        """Hook after each result (a failed cell below the top is stopped at once)."""
        if rung < self.top_rung and self.done[rung][key] == -math.inf:
            self._stopped.append(key)

    def stop(self, keys: Sequence[str]) -> None:
        """Mark cells as stopped for good (reported once by ``stopped``)."""
        self._stopped.extend(keys)

    def stopped(self) -> list[str]:
        out, self._stopped = self._stopped, []
        return out

    def state(self) -> dict[str, object]:
        return {f"{f:g}": len(self.done[r]) for r, f in enumerate(self.fidelities)}
