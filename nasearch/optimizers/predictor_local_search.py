"""Surrogate-ordered local search: evaluate the incumbent's neighbours in the order the surrogate
ranks them, and fall back to predictor-guided evolution once the neighbourhood is spent."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, cast

from nasearch.api import AnySpace, Neighbours
from nasearch.api.errors import ConfigError
from nasearch.optimizers.base import ObjectivesArg
from nasearch.optimizers.predictor_evolution import PredictorEvolution


class PredictorLocalSearch(PredictorEvolution):
    """Each round: refit the surrogate on every scored cell, pool the unseen neighbours of the
    ``num_incumbents`` best cells, and queue the ``k`` the surrogate predicts best. When fewer than
    ``k`` such neighbours remain (the incumbents are local optima, fully explored) the pool is
    topped up as in ``predictor_evolution``: mutations of the ``num_parents`` best cells plus
    ``random_candidates`` random ones.

    Why: near the top of a benchmark the cells differ by less than the surrogate's error, so its
    ranking alone cannot single out the optimum; local search can, and the surrogate makes it
    cheap by trying the promising neighbours first. With a small ``k`` (2-3) the surrogate is
    refit often and the climb follows each improvement at once. Needs ``space.neighbours``.
    Options: those of ``SurrogateOptimizer`` (but ``k`` defaults to 3) plus ``num_incumbents``.
    """

    requires = ("neighbours",)

    def __init__(
        self,
        space: AnySpace,
        objectives: ObjectivesArg = "objective",
        seed: int = 0,
        *,
        k: int = 3,
        num_incumbents: int = 1,
        **options: Any,
    ) -> None:
        """``options``: those of ``SurrogateOptimizer`` (``surrogate``, ``num_init``, ...)."""
        if num_incumbents < 1:
            raise ConfigError(f"predictor_local_search: num_incumbents must be >= 1, got {num_incumbents}")
        super().__init__(space, objectives, seed, k=k, **options)
        self.num_incumbents = int(num_incumbents)

    def _candidates(self) -> list[Hashable]:
        pool: list[Hashable] = []
        keys: set[str] = set()
        for incumbent in self._parents()[: self.num_incumbents]:
            for arch in cast("Neighbours[Hashable]", self.space).neighbours(
                incumbent
            ):  # ``requires`` checked it
                key = self.space.key(arch)
                if key in self.seen or key in keys:
                    continue
                keys.add(key)
                pool.append(arch)
        if len(pool) >= self.k:
            return pool
        return pool + [a for a in super()._candidates() if self.space.key(a) not in keys]
