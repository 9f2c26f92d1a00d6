"""The worker-pool contract: what the search loop asks of an evaluation backend (the serial one, the Ray
pool), and the ``Outcome`` of one evaluation it hands back."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from nasearch.api.evaluator import Result
from nasearch.api.graph import ArchGraph
from nasearch.api.predictor import FitsAndPredicts

#: fits fresh predictors on the same graphs and targets and returns them fitted, in the same order
#: (here, in turn, or as Ray tasks on workers with a GPU)
Fitter = Callable[[list[FitsAndPredicts], list[ArchGraph], np.ndarray], list[FitsAndPredicts]]


@dataclass
class Outcome:
    """One finished evaluation: the result, or the error text and kind when it failed."""

    ticket: int
    arch: Hashable
    result: Result | None
    error: str | None
    wall_seconds: float
    #: failure kind (``nasearch.search.failures``) when it failed
    kind: str | None = None
    #: the Ray node that ran it (None for the serial backend)
    node: str | None = None


class WorkerPool(Protocol):
    """Runs evaluations of one evaluator, at most ``capacity`` at a time.

    ``submit`` queues an architecture and returns its ticket; ``wait`` returns the evaluations that
    finished (an empty list when none is in flight), each an ``Outcome`` carrying its ticket. A
    failed evaluation is an ``Outcome`` with ``error`` and ``kind``, never an exception.
    """

    #: the backend's name (``parallel.backend``)
    backend: str
    #: how many evaluations may be in flight at once
    capacity: int
    #: seconds spent evaluating or waiting for evaluations (the run's report)
    eval_seconds: float

    @property
    def in_flight(self) -> int:
        """Evaluations submitted and not yet returned by ``wait``."""
        ...

    def submit(self, arch: Hashable) -> int:
        """Queue ``arch``; its ticket."""
        ...

    def wait(self, timeout: float | None = None) -> list[Outcome]:
        """The evaluations that finished (at least one unless ``timeout`` passes or none is in flight)."""
        ...

    def fitter(self) -> Fitter | None:
        """Where surrogates should fit (a fitter for the pool's workers), or None: in the driver."""
        ...

    def close(self) -> None:
        """Cancel what is in flight and release the backend's resources."""
        ...


@runtime_checkable
class StartHook(Protocol):
    """A pool that evaluates in the driver and calls ``on_start(arch)`` just before each evaluation
    (the loop records the cell in flight there, ``nasearch.search.inflight``)."""

    on_start: Callable[[Hashable], None] | None
