"""Pareto mutation (GSEMO): each query mutates a random member of the current Pareto front.

A steady-state multi-objective search: after ``num_init`` random cells, every proposal is one
mutation of a cell drawn uniformly from the non-dominated set of everything scored so far. It
adapts after every query where NSGA-II waits for a generation, which is what a 100-query budget
needs (``benchmarks/bench_latency_models.py --parts pareto_mutation``). With one objective the
front is the incumbent(s), and it is a (1+1) hill climber.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from nasearch.api import AnySpace
from nasearch.api.errors import ConfigError
from nasearch.optimizers.base import ObjectivesArg, SpaceOptimizer


class ParetoMutation(SpaceOptimizer):
    """GSEMO over the space's ``mutate``: ``num_init`` random cells, then each child is a mutation of
    a uniformly drawn member of the current Pareto front (retried ``max_mutation_tries`` times when it
    lands on a cell already seen, then a random cell)."""

    multi_objective = True

    def __init__(
        self,
        space: AnySpace,
        objectives: ObjectivesArg = "objective",
        seed: int = 0,
        num_init: int = 10,
        max_mutation_tries: int = 50,
    ) -> None:
        super().__init__(space, objectives, seed)
        if num_init < 1:
            raise ConfigError(f"pareto_mutation: num_init must be >= 1, got {num_init}")
        self.num_init = int(num_init)
        self.max_mutation_tries = int(max_mutation_tries)

    def front(self) -> list[Hashable]:
        """The non-dominated cells of everything scored so far (all objectives maximised)."""
        scored = self.scored()
        if not scored:
            return []
        pts = np.asarray([s for _, s in scored], dtype=float)
        # the first front only (pareto_mask peels every front: quadratic per front)
        ge = np.all(pts[None, :, :] >= pts[:, None, :], axis=2)
        gt = np.any(pts[None, :, :] > pts[:, None, :], axis=2)
        dominated = np.any(ge & gt, axis=1)
        return [scored[i][0] for i in np.flatnonzero(~dominated)]

    def _propose(self, n: int) -> Sequence[Hashable]:
        out: list[Hashable] = []
        front = self.front() if len(self.scored()) >= self.num_init else []
        for _ in range(n):
            child = self._child(front, out) if front else None
            if child is None:
                fresh = self.sample_fresh(1)
                if not fresh:
                    break
                child = fresh[0]
            out.append(child)
        return out

    def _child(self, front: list[Hashable], taken: list[Hashable]) -> Hashable | None:
        parent = front[int(self.rng.integers(len(front)))]
        taken_keys = {self.space.key(a) for a in taken}
        for _ in range(self.max_mutation_tries):
            child: Hashable = self.space.mutate(parent, self.rng)
            key = self.space.key(child)
            if key not in self.seen and key not in taken_keys:
                return child
        return None
