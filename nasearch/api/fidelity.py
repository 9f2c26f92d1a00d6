"""Fidelity in the contracts: an evaluator that can measure a cell at fewer epochs, and a scheduler
that decides at which fidelity each cell runs and which cells are promoted or stopped.

Fidelities are numbers of training epochs. An evaluator offering several (``MultiFidelity``)
returns, at each, its metrics under the full fidelity's names (so the objective reads the same
at every rung) and the cost of *that step* in ``Result.simulated_seconds`` (a real evaluator: the
step's measured seconds, also its ``cost_seconds``): a promotion that
continues a lower-fidelity run pays only the missing epochs, one that cannot (NAS-Bench-201's
12- and 200-epoch tables are separate runs) pays the whole run. ``promotion_cost`` states that
cost model so schedulers and reports can reason about it without evaluating.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from nasearch.api.evaluator import Result


@runtime_checkable
class MultiFidelity(Protocol):
    """An evaluator that measures a cell at one of several fidelities (epochs)."""

    def fidelities(self) -> tuple[float, ...]:
        """The fidelities offered, ascending; the last is the full one."""
        ...

    def evaluate_at(self, arch: Hashable, fidelity: float) -> Result:
        """Measure ``arch`` at ``fidelity``: its metrics (full-fidelity names) and this step's cost."""
        ...

    def promotion_cost(self, arch: Hashable, low: float, high: float) -> float:
        """Seconds it costs to take ``arch`` from fidelity ``low`` (already paid) to ``high``."""
        ...


@runtime_checkable
class Continues(Protocol):
    """A multi-fidelity evaluator that continues a cell from its checkpoint at a lower fidelity."""

    def checkpoint_in(self, folder: str | Path) -> None:
        """Keep the cells' checkpoints in ``folder`` (the run folder's, given by the loop)."""
        ...


@runtime_checkable
class FidelityRange(Protocol):
    """A multi-fidelity evaluator offering every whole epoch of a range: a scheduler derives its rungs
    from the range with its reduction factor (``nasearch.schedulers.config.rungs``) instead of taking
    every epoch offered as a rung."""

    def fidelity_range(self) -> tuple[float, float] | None:
        """``(lowest, full)`` epochs when a range was configured; None when the fidelities are a list."""
        ...


@runtime_checkable
class RecordedCosts(Protocol):
    """A multi-fidelity evaluator whose step costs are recorded training times (a benchmark table), not
    time spent here: the scheduled loop replays them on its simulated clock whatever ``parallel.backend``
    says (a lookup gains nothing from a worker, and real completion order would say nothing)."""

    #: True: ``Result.simulated_seconds`` is a recorded cost to replay
    recorded_costs: bool


@dataclass(frozen=True)
class Job:
    """One evaluation a scheduler asks for: a cell (its key and architecture) at one fidelity."""

    key: str
    arch: Hashable
    fidelity: float
    #: the index of ``fidelity`` in the scheduler's ladder (0 = lowest)
    rung: int


@runtime_checkable
class Retells(Protocol):
    """An optimizer that takes a cell's full-fidelity result in place of the lower-fidelity one it was
    told first (a scheduled search tells each cell once, at its first result; a scheduler whose
    ``tell_full`` is true has the loop hand the optimizer every promoted cell's full result too)."""

    def retell(self, arch: Hashable, result: Result | None) -> None:
        """Replace what was told about ``arch`` with ``result`` (None: the evaluation failed)."""
        ...


#: the loop's way for a scheduler to get a new cell: ``(key, arch)`` of the optimizer's next unseen
#: proposal, or None when it has nothing new
Propose = Callable[[], "tuple[str, Hashable] | None"]


class Scheduler(ABC):
    """Decides which cell runs at which fidelity; works with any optimizer through ask/tell.

    The loop calls ``next_job`` whenever a worker is free (None: nothing to run until a result
    comes back) and ``report`` with each result. A cell whose last result is at the top rung is
    complete; ``stopped()`` names cells the scheduler will never promote (PRUNED trials).
    ``report`` must accept results of cells it did not hand out itself: resume replays them.
    """

    #: the fidelity ladder, ascending (set by ``bind``)
    fidelities: tuple[float, ...] = ()
    maximize: bool = True
    #: True: the loop also tells an optimizer that ``Retells`` each cell's full-fidelity result, so
    #: its proposals follow the full-fidelity incumbent rather than the first rung's
    tell_full: bool = False

    def bind(self, fidelities: Sequence[float], maximize: bool) -> None:
        """Fix the ladder (the evaluator's fidelities, or the config's subset) and the direction."""
        self.fidelities = tuple(float(f) for f in fidelities)
        self.maximize = bool(maximize)

    @property
    def top(self) -> float:
        """The full fidelity."""
        return self.fidelities[-1]

    @abstractmethod
    def next_job(self, propose: Propose) -> Job | None:
        """The next evaluation to start, or None to wait for a result."""

    @abstractmethod
    def report(self, job: Job, value: float | None) -> None:
        """A finished evaluation: ``value`` is the objective (None: the evaluation failed)."""

    def stopped(self) -> list[str]:
        """Keys of cells the scheduler has stopped for good since the last call."""
        return []

    def told_full(self, job: Job, value: float) -> dict[str, tuple[Hashable, float]]:
        """With ``tell_full``, after ``job`` (a promoted cell) finished at the full fidelity with
        ``value``: what the optimizer should now hold for each cell whose told result changes,
        ``{key: (arch, objective value)}``; by default that cell's full-fidelity value."""
        return {job.key: (job.arch, value)}

    def state(self) -> dict[str, object]:
        """Diagnostics for the run's report (counts per rung ...)."""
        return {}
