"""The Optimizer contract (Optuna-style ask/tell) and its optional capabilities."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from nasearch.api.evaluator import Result
from nasearch.api.pool import Fitter


class Optimizer(ABC):
    """Proposes architectures of one space and learns from their results."""

    @abstractmethod
    def ask(self, n: int = 1) -> list[Hashable]:
        """Up to ``n`` new architectures to evaluate."""

    @abstractmethod
    def tell(self, arch: Hashable, result: Result | None) -> None:
        """Report ``arch``'s result (None when its evaluation failed)."""


@runtime_checkable
class StatefulOptimizer(Protocol):
    """An optimizer that resumes exactly: the runner stores ``state_dict()`` (JSON) with every trial,
    taken just before its tell, and restores it after replaying the stored results."""

    def state_dict(self) -> dict[str, object]:
        """What replaying the told results cannot rebuild (RNG streams, queued proposals, phase)."""
        ...

    def load_state_dict(self, state: dict[str, object]) -> None:
        """Restore ``state_dict()``'s output."""
        ...


@runtime_checkable
class UsesFitter(Protocol):
    """A surrogate-guided optimizer that can hand its predictor fits to another worker (a GPU)."""

    def use_fitter(self, fitter: Fitter) -> None:
        """Fit surrogates through ``fitter`` from now on."""
        ...


@runtime_checkable
class UsesKnownMetrics(Protocol):
    """An optimizer that looks up the metrics the evaluator knows for free (``nasearch.api.KnownMetrics``)."""

    def use_known_metrics(self, lookup: Callable[[Sequence[Hashable]], Mapping[str, Any]]) -> None:
        """Look metrics up with ``lookup`` (architectures -> ``{metric: one value each}``) from now on."""
        ...
