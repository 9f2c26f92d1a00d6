"""The Evaluator contract and its typed Result."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Result:
    """What one evaluation returns: named metrics and what it cost.

    ``cost_seconds`` is the wall time the evaluation took here; ``simulated_seconds`` is the
    training time the benchmark recorded for this cell (0 for real evaluations, which pay it
    in ``cost_seconds``).
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
    #: constructor options that change how an evaluation runs but not what its numbers mean
    #: (e.g. a device or thread count): a run folder may be resumed with them changed
    operational_options: tuple[str, ...] = ()

    @abstractmethod
    def evaluate(self, arch: Hashable) -> Result:
        """Measure ``arch``."""
