"""The SearchSpace contract and the Benchmark (tabular lookup) contract.

Required of every space: ``sample``, ``mutate``, ``to_graph``, ``key``, ``to_str``, ``from_str``.
Optional capabilities, each checked with ``hasattr`` by whoever needs it: ``neighbours``,
``enumerate``, ``categorical_choices`` / ``from_categorical`` / ``to_categorical`` (what Optuna's
samplers drive), ``network`` (a torch module for real training) and ``benchmark`` (tabular lookup).
Architecture objects are the space's own (hashable) values; optimizers only pass them back.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from nasearch.graph import ArchGraph


class SearchSpace(ABC):
    """Base class with the required methods; subclasses add the optional capabilities they have."""

    #: registry name of the space, used in tracking and configs
    name: str = ""

    @abstractmethod
    def sample(self, rng: np.random.Generator) -> Hashable:
        """A uniformly random valid architecture."""

    @abstractmethod
    def mutate(self, arch: Hashable, rng: np.random.Generator) -> Hashable:
        """A random valid architecture one mutation away (never ``arch`` itself)."""

    @abstractmethod
    def to_graph(self, arch: Hashable) -> ArchGraph:
        """The cell as an ArchGraph (what predictors see)."""

    def key(self, arch: Hashable) -> str:
        """Equal for isomorphic cells: the de-duplication key."""
        from nasearch.space_calls import to_graph  # a bad graph names this space and the cell

        return to_graph(self, arch).key

    @abstractmethod
    def to_str(self, arch: Hashable) -> str:
        """A string that ``from_str`` parses back: what tracking stores."""

    @abstractmethod
    def from_str(self, text: str) -> Hashable:
        """Parse ``to_str``'s output; an ArchError names what is wrong."""

    def parse(self, text: str) -> Hashable:
        """Parse any user-facing form (CLI argument); by default the same as ``from_str``."""
        return self.from_str(text)


class Benchmark(ABC):
    """Tabular lookup of recorded metrics for the architectures of one space."""

    @abstractmethod
    def metrics(self) -> list[str]:
        """Names of the metrics ``query`` can return."""

    @abstractmethod
    def query(self, arch: Hashable, metrics: Sequence[str] | None = None) -> dict[str, float]:
        """Recorded values of ``metrics`` (all when None) for ``arch``."""

    def record(self, arch: Hashable) -> dict[str, Any]:
        """Everything known of ``arch`` as a JSON-ready dict (what ``nasearch query`` prints)."""
        return dict(self.query(arch))

    def column(self, metric: str) -> np.ndarray:
        """``metric`` for every architecture in the space's enumeration order (enumerable spaces)."""
        raise NotImplementedError(f"{type(self).__name__} cannot list a whole column")

    def optimum(self, metric: str, maximize: bool = True) -> float:
        """The best recorded value of ``metric`` over the space."""
        values = self.column(metric)
        return float(np.nanmax(values) if maximize else np.nanmin(values))


def describe_capabilities(space: object) -> Mapping[str, bool]:
    """Which optional capabilities a space offers (for ``nasearch spaces``)."""
    return {
        cap: callable(getattr(space, cap, None))
        for cap in ("neighbours", "enumerate", "categorical_choices", "network", "benchmark")
    }

