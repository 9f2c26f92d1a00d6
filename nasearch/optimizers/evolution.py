"""Regularized evolution (Real et al., 2019): tournament selection, mutation, age out the oldest."""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Sequence

from nasearch.api import AnySpace
from nasearch.api.errors import ConfigError
from nasearch.optimizers.base import ObjectivesArg, SpaceOptimizer


class RegularizedEvolution(SpaceOptimizer):
    """Aging evolution: the population is a queue of the last ``population_size`` successes.

    Until the population is full, random cells are proposed. Then each child is a mutation of
    the best of ``sample_size`` random members; a mutation that lands on a cell already seen is
    retried (``max_mutation_tries``) before falling back to a random cell.
    """

    def __init__(
        self,
        space: AnySpace,
        objectives: ObjectivesArg = "objective",
        seed: int = 0,
        population_size: int = 30,
        sample_size: int = 10,
        max_mutation_tries: int = 50,
    ) -> None:
        super().__init__(space, objectives, seed)
        if population_size < 2:
            raise ConfigError(f"evolution: population_size must be >= 2, got {population_size}")
        if not 1 <= sample_size <= population_size:
            raise ConfigError(
                f"evolution: sample_size must be in 1..population_size ({population_size}), got {sample_size}"
            )
        self.population_size = population_size
        self.sample_size = sample_size
        self.max_mutation_tries = max_mutation_tries
        self.population: deque[tuple[Hashable, float]] = deque(maxlen=population_size)

    def _observe(self, arch: Hashable, scores: tuple[float, ...] | None) -> None:
        if scores is not None:
            self.population.append((arch, scores[0]))  # maxlen: the oldest ages out

    def _propose(self, n: int) -> Sequence[Hashable]:
        out: list[Hashable] = []
        for _ in range(n):
            warming_up = len(self.population) + len(self.pending) + len(out) < self.population_size
            child = None
            if not warming_up and len(self.population) >= self.sample_size:
                child = self._child(out)
            if child is None:
                fresh = self.sample_fresh(1)
                if not fresh:
                    break
                child = fresh[0]
            out.append(child)
        return out

    def _child(self, taken: list[Hashable]) -> Hashable | None:
        members = list(self.population)
        idx = self.rng.choice(len(members), size=self.sample_size, replace=False)
        parent = max((members[i] for i in idx), key=lambda m: m[1])[0]
        taken_keys = {self.space.key(a) for a in taken}
        for _ in range(self.max_mutation_tries):
            child: Hashable = self.space.mutate(parent, self.rng)
            key = self.space.key(child)
            if key not in self.seen and key not in taken_keys:
                return child
        return None
