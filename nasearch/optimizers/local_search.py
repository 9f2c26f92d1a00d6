"""Local search (White et al., 2021): best-improvement hill climbing over the space's neighbours."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, cast

from nasearch.api import AnySpace, Neighbours
from nasearch.api.errors import ConfigError
from nasearch.optimizers.base import ObjectivesArg, SpaceOptimizer


class LocalSearch(SpaceOptimizer):
    """Start from the best of ``num_init`` random cells; evaluate every unseen neighbour of the
    current cell, move to the best neighbour if it beats the current one, else restart from
    ``num_init`` fresh random cells. Needs ``space.neighbours``.
    """

    requires = ("neighbours",)

    def __init__(
        self, space: AnySpace, objectives: ObjectivesArg = "objective", seed: int = 0, num_init: int = 10
    ) -> None:
        super().__init__(space, objectives, seed)
        if num_init < 1:
            raise ConfigError(f"local_search: num_init must be >= 1, got {num_init}")
        self.num_init = num_init
        self.known: dict[str, float | None] = {}
        self.current: tuple[Hashable, float] | None = None
        self.restarts = 0
        self._phase = "init"
        self._init_left = num_init
        self._init_keys: list[str] = []
        self._queue: list[Hashable] = []
        self._phase_pending: set[str] = set()
        self._archs: dict[str, Hashable] = {}

    def _observe(self, arch: Hashable, scores: tuple[float, ...] | None) -> None:
        key = self.space.key(arch)
        self.known[key] = None if scores is None else scores[0]
        self._archs[key] = arch
        self._phase_pending.discard(key)

    def _propose(self, n: int) -> Sequence[Hashable]:
        out: list[Hashable] = []
        for _ in range(20):  # each round without proposals changes phase; a few rounds suffice
            self._advance()
            if self._phase == "init":
                want = min(n - len(out), self._init_left)
                batch = self.sample_fresh(want) if want > 0 else []
                self._init_left -= len(batch)
                keys = [self.space.key(a) for a in batch]
                self._init_keys += keys
                self._phase_pending.update(keys)
                out += batch
            else:
                while self._queue and len(out) < n:
                    arch = self._queue.pop()
                    key = self.space.key(arch)
                    if key in self.seen:
                        continue
                    self._phase_pending.add(key)
                    out.append(arch)
            if len(out) >= n or self._phase_pending:
                break
        return out

    @property
    def _neighbours(self) -> Neighbours[Hashable]:
        return cast("Neighbours[Hashable]", self.space)  # ``requires`` checked it

    def _state(self) -> dict[str, object]:
        to_str = self.space.to_str
        return {
            "phase": self._phase,
            "current": None if self.current is None else [to_str(self.current[0]), self.current[1]],
            "restarts": self.restarts,
            "init_left": self._init_left,
            "init_keys": list(self._init_keys),
            "queue": [to_str(a) for a in self._queue],
            "phase_pending": sorted(self._phase_pending),
        }

    def _load_state(self, state: dict[str, Any]) -> None:
        from_str = self.space.from_str
        self._phase = state["phase"]
        self.current = (
            None if state["current"] is None else (from_str(state["current"][0]), float(state["current"][1]))
        )
        self.restarts = int(state["restarts"])
        self._init_left = int(state["init_left"])
        self._init_keys = list(state["init_keys"])
        self._queue = [from_str(a) for a in state["queue"]]
        self._phase_pending = set(state["phase_pending"])

    def _advance(self) -> None:
        """Finish a phase once all its evaluations are told: pick a start, move or restart."""
        # wait only for proposals still pending: one lost with a killed run is never told
        self._phase_pending &= self.pending.keys()
        if self._phase_pending:
            return
        if self._phase == "init":
            if self._init_left > 0:
                return
            started = [(k, self.known.get(k)) for k in self._init_keys]
            scored = [(k, s) for k, s in started if s is not None]
            if not scored:  # everything failed or the space ran dry: sample again
                self._init_left = self.num_init
                self._init_keys = []
                return
            key, score = max(scored, key=lambda item: item[1])
            self._climb_from(self._archs[key], score)
            return
        if self._queue:
            return
        assert self.current is not None
        neighbours = [(self.space.key(a), a) for a in self._neighbours.neighbours(self.current[0])]
        around: list[tuple[float, Hashable]] = [
            (s, a) for k, a in neighbours if (s := self.known.get(k)) is not None
        ]
        if around:
            score, arch = max(around, key=lambda item: item[0])
            if score > self.current[1]:
                self._climb_from(arch, score)
                return
        self.restarts += 1  # a local optimum: restart
        self.current = None
        self._phase = "init"
        self._init_left = self.num_init
        self._init_keys = []

    def _climb_from(self, arch: Hashable, score: float) -> None:
        self.current = (arch, score)
        self._phase = "climb"
        neighbours = list(self._neighbours.neighbours(arch))
        order = self.rng.permutation(len(neighbours))
        self._queue = [neighbours[i] for i in order]
