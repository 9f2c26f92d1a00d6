"""Random search: uniform samples of the space, never the same cell (or an isomorph) twice."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from nasearch.api import AnySpace
from nasearch.optimizers.base import ObjectivesArg, SpaceOptimizer


class RandomSearch(SpaceOptimizer):
    """The baseline every other optimizer must beat; handles any number of objectives."""

    multi_objective = True

    def __init__(self, space: AnySpace, objectives: ObjectivesArg = "objective", seed: int = 0) -> None:
        super().__init__(space, objectives, seed)

    def _propose(self, n: int) -> Sequence[Hashable]:
        return self.sample_fresh(n)
