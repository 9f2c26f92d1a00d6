"""The Optimizer contract: ask for candidates, tell results (Optuna-style ask/tell)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable

from nasearch.evaluation.base import Result


class Optimizer(ABC):
    """Proposes architectures of one space and learns from their results."""

    @abstractmethod
    def ask(self, n: int = 1) -> list[Hashable]:
        """Up to ``n`` new architectures to evaluate."""

    @abstractmethod
    def tell(self, arch: Hashable, result: Result | None) -> None:
        """Report ``arch``'s result (None when its evaluation failed)."""
