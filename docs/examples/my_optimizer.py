"""A complete optimizer plug-in: a (1 + k) hill climber. ``ask`` proposes mutations of the best
architecture so far (random ones until a first result arrives); ``tell`` learns each result.

The runner builds it as ``MutateBest(space=..., objectives=[(metric, maximize)], seed=..., **options)``
and never submits a cell whose key was already evaluated, so ``ask`` may repeat itself safely.
Use it as ``optimizer: {name: "my_optimizer:MutateBest", restarts_after: 10}``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from nasearch.api import Result


class MutateBest:
    """Mutate the incumbent; after ``restarts_after`` results without progress, start afresh."""

    def __init__(
        self, space: Any, objectives: Sequence[tuple[str, bool]], seed: int = 0, restarts_after: int = 10
    ) -> None:
        (self.metric, self.maximize), *_ = objectives  # one objective: the first
        self.space = space
        self.rng = np.random.default_rng(seed)
        self.restarts_after = int(restarts_after)
        self.best: tuple[float, Hashable] | None = None
        self.stale = 0

    def ask(self, n: int = 1) -> list[Hashable]:
        """``n`` candidates: mutations of the incumbent (samples before the first result)."""
        if self.best is None:
            return [self.space.sample(self.rng) for _ in range(n)]
        return [self.space.mutate(self.best[1], self.rng) for _ in range(n)]

    def tell(self, arch: Hashable, result: Result | None) -> None:
        """Learn one result; ``None`` means its evaluation failed (it is skipped)."""
        if result is None or self.metric not in result.metrics:
            return
        value = result.metrics[self.metric] * (1 if self.maximize else -1)
        if self.best is None or value > self.best[0]:
            self.best, self.stale = (value, arch), 0
        else:
            self.stale += 1
            if self.stale >= self.restarts_after:
                self.best, self.stale = None, 0
