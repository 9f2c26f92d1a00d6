"""Every registered scheduler, driven on the simulated clock over real NB201 lookups: jobs only at
offered fidelities, a cell climbs the ladder one result at a time, stopped cells never run again,
the full fidelity is reached, and the same seed gives the same schedule. A scheduler installed beside
nasearch (not one of ours) is skipped: its own package tests it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from conformance.recipes import skip_unless_ours
from nasearch.api.fidelity import Scheduler
from nasearch.config.registry import SCHEDULERS
from nasearch.config.run_schema import Block
from nasearch.evaluation.simclock import SimulatedClock
from nasearch.schedulers.config import build_scheduler

METRIC = "cifar10-valid/valid_accuracy"


def drive(
    name: str, space: Any, evaluator: Any, events: int = 80, workers: int = 3
) -> list[tuple[str, float, float]]:
    scheduler = build_scheduler(Block(name), space, 0, list(evaluator.fidelities()), True, "test")
    assert isinstance(scheduler, Scheduler)
    rng = np.random.default_rng(7)
    seen: set[str] = set()

    def propose() -> tuple[str, Any] | None:  # as the loop does: an unseen cell each time
        while True:
            arch = space.sample(rng)
            if space.key(arch) not in seen:
                seen.add(space.key(arch))
                return space.key(arch), arch

    clock: SimulatedClock[Any] = SimulatedClock(workers)
    log: list[tuple[str, float, float]] = []
    reached: dict[str, int] = {}
    finished: dict[str, set[int]] = {}
    stopped: set[str] = set()
    for _ in range(events):
        while clock.free():
            job = scheduler.next_job(propose)
            if job is None:
                break
            assert job.fidelity in scheduler.fidelities and scheduler.fidelities[job.rung] == job.fidelity
            assert job.key not in stopped, f"{name} ran stopped cell {job.key}"
            previous = reached.get(job.key)
            if previous is not None:  # a promotion: above where it was, and only after that result
                assert job.rung > previous and previous in finished.get(job.key, set())
            reached[job.key] = job.rung
            clock.submit(job, evaluator.evaluate_at(job.arch, job.fidelity).simulated_seconds)
        assert clock.running, f"{name} left every worker idle"
        t, _, job = clock.pop()
        value = evaluator.evaluate_at(job.arch, job.fidelity).metrics[METRIC]
        scheduler.report(job, value)
        finished.setdefault(job.key, set()).add(job.rung)
        stopped.update(scheduler.stopped())
        log.append((job.key, job.fidelity, t))
    assert any(f == scheduler.top for _, f, _ in log), f"{name} never reached the full fidelity"
    return log


@pytest.mark.parametrize("name", SCHEDULERS.names())
def test_scheduler_contract(name, nb201_space, nb201_lookup):
    skip_unless_ours(SCHEDULERS, name)
    first = drive(name, nb201_space, nb201_lookup)
    assert first == drive(name, nb201_space, nb201_lookup)  # deterministic given the proposals
