"""The Evaluator contract, its typed Result, and the optional things an evaluator can tell the loop."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Result:
    """What one evaluation returns: named metrics and what it cost.

    ``cost_seconds`` is the wall time the evaluation took here; ``simulated_seconds`` is the
    training time the benchmark recorded for this cell (0 for real evaluations, which pay it
    in ``cost_seconds``; a real evaluator's ``MultiFidelity.evaluate_at`` repeats its measured
    step time here, the time the scheduled loop's clock counts).
    """

    metrics: dict[str, float]
    cost_seconds: float = 0.0
    simulated_seconds: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)


class Evaluator(ABC):
    """Measures one architecture; must be picklable so Ray can ship it to workers."""

    #: the metric the optimizer maximises (or minimises when ``maximize`` is False)
    objective: str = ""
    maximize: bool = True
    #: a metric recorded beside the objective and reported for the incumbent (e.g. test accuracy)
    test_metric: str | None = None
    #: constructor options that change how an evaluation runs but not what its numbers mean
    #: (e.g. a device or thread count): a run folder may be resumed with them changed
    operational_options: tuple[str, ...] = ()

    @abstractmethod
    def evaluate(self, arch: Hashable) -> Result:
        """Measure ``arch``."""


@runtime_checkable
class MultiObjective(Protocol):
    """An evaluator that optimises several metrics: ``[(metric, maximize), ...]``."""

    objectives: Sequence[tuple[str, bool]]


@runtime_checkable
class KnowsOptimum(Protocol):
    """An evaluator that can name the best value of a metric over the whole space and a cell holding it
    (a lookup benchmark over an enumerable space)."""

    def optimum(self, metric: str | None = None) -> tuple[float, Hashable | None] | None:
        """``(best value, a cell that has it or None)`` of ``metric`` (the objective by default)."""
        ...


@runtime_checkable
class ReferenceScoring(Protocol):
    """An evaluator whose fronts are re-scored by a ground truth and compared with reference runs."""

    def reference_variants(self) -> dict[str, dict[str, object]]:
        """``{label: evaluator options}`` of the reference searches; empty for none."""
        ...

    def true_reference(self) -> list[float]:
        """The hypervolume reference point, in maximise-space, under the ground truth."""
        ...

    def true_hypervolume(self, front: list[dict[str, object]], reference: list[float]) -> float:
        """Hypervolume of ``front`` (its cells' records) re-scored by the ground truth."""
        ...


@runtime_checkable
class KnownMetrics(Protocol):
    """An evaluator that knows some metrics of any cell without evaluating it (a latency model's
    prediction, a parameter count): a surrogate-guided optimizer may look them up for every candidate
    (``nasearch.api.UsesKnownMetrics``) instead of learning them."""

    def known_values(self, archs: Sequence[Hashable]) -> dict[str, Any]:
        """``{metric: one value per arch}`` for the metrics known without an evaluation."""
        ...
