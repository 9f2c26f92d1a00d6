"""The Benchmark contract: tabular lookup of recorded metrics, and the one definition of a table's optimum."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Sequence
from typing import NamedTuple

import numpy as np


class Optimum(NamedTuple):
    """The best recorded value of a metric and the row (the space's enumeration order) of a cell that has it."""

    value: float
    row: int


class Benchmark(ABC):
    """Tabular lookup of recorded metrics for the architectures of one space."""

    @abstractmethod
    def metrics(self) -> list[str]:
        """Names of the metrics ``query`` can return."""

    @abstractmethod
    def query(self, arch: Hashable, metrics: Sequence[str] | None = None) -> dict[str, float]:
        """Recorded values of ``metrics`` (all when None) for ``arch``."""

    def record(self, arch: Hashable) -> dict[str, object]:
        """Everything known of ``arch`` as a JSON-ready dict (what ``nasearch query`` prints)."""
        return dict(self.query(arch))

    def column(self, metric: str) -> np.ndarray:
        """``metric`` for every architecture in the space's enumeration order (enumerable spaces)."""
        raise NotImplementedError(f"{type(self).__name__} cannot list a whole column")

    def optimum(self, metric: str, maximize: bool = True) -> Optimum | None:
        """The best recorded value of ``metric`` over the space and where it is; None when the
        table cannot list a whole column or holds no finite value of it."""
        try:
            values = np.asarray(self.column(metric), dtype=float)
        except NotImplementedError:
            return None
        if not np.isfinite(values).any():
            return None
        row = int(np.nanargmax(values) if maximize else np.nanargmin(values))
        return Optimum(float(values[row]), row)
