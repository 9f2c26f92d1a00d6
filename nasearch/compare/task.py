"""A search space with its benchmark, as the split protocols see it: every cell as an ArchGraph, and columns."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from functools import cached_property
from typing import Any

import numpy as np

from nasearch.api import Enumerable, HasBenchmark
from nasearch.api.errors import ConfigError, suggest
from nasearch.api.graph import ArchGraph
from nasearch.api.space_calls import to_graph
from nasearch.compare.schema import CompareConfig
from nasearch.config.options import call_with_options
from nasearch.config.registry import SEARCH_SPACES


class Task:
    """A search space with its benchmark: all cells as ArchGraphs and benchmark columns."""

    def __init__(self, space: Any, benchmark: Any) -> None:
        self.space = space
        self.benchmark = benchmark
        self._columns: dict[str, np.ndarray] = {}

    @cached_property
    def archs(self) -> list[Hashable]:
        """Every architecture in the space's enumeration order (the benchmark's column order)."""
        if not isinstance(self.space, Enumerable):
            raise ConfigError(
                f"nasearch compare needs an enumerable search space; {type(self.space).__name__} is not "
                "(nasearch compare --from-run RUN_DIR compares on the cells a search of it evaluated)"
            )
        return list(self.space.enumerate())

    @cached_property
    def graphs(self) -> list[ArchGraph]:
        """Every cell as an ArchGraph, in enumeration order (``graphs_at`` builds only some)."""
        return self.graphs_at(np.arange(len(self)))

    def graphs_at(self, indices: Iterable[int]) -> list[ArchGraph]:
        """The cells at ``indices`` as ArchGraphs, built on first use and cached."""
        cache = self.__dict__.setdefault("_graph_cache", {})
        out = []
        for i in indices:
            i = int(i)
            g = cache.get(i)
            if g is None:
                g = cache[i] = to_graph(self.space, self.archs[i])  # errors name space and cell
            out.append(g)
        return out

    def __len__(self) -> int:
        return len(self.archs)

    def column(self, metric: str) -> np.ndarray:
        """``metric`` for every cell (cached); a ConfigError if the benchmark lacks it."""
        if metric not in self._columns:
            known = self.benchmark.metrics()
            if metric not in known:
                raise ConfigError(f"the benchmark has no metric {metric!r}{suggest(metric, known, n=3)}")
            values = np.asarray(self.benchmark.column(metric), dtype=np.float64)
            if values.size != len(self):
                raise ConfigError(f"metric {metric!r} has {values.size} values for {len(self)} cells")
            self._columns[metric] = values
        return self._columns[metric]


def build_space(config: CompareConfig) -> Any:
    """The space named by the config, with its ``space_options`` (and ``data_dir``)."""
    options = dict(config.space_options)
    if config.data_dir is not None:
        options.setdefault("data_dir", config.data_dir)
    return call_with_options(SEARCH_SPACES.get(config.space), options, f"search space {config.space!r}")


def build_task(config: CompareConfig, space: Any = None) -> Task:
    """The space named by the config (or ``space``, built from it already), with its benchmark."""
    space = build_space(config) if space is None else space
    if not isinstance(space, HasBenchmark):
        raise ConfigError(
            f"search space {config.space!r} has no benchmark tables to compare predictors on; "
            "nasearch compare --from-run RUN_DIR compares them on the cells a search of it evaluated"
        )
    return Task(space, space.benchmark())
