"""Online surrogates for the predictor-guided optimizers, and the round machinery they share.

A surrogate is any registered predictor (``nnformer``, ``mlp``, ... or a ``pkg.mod:Class`` path),
named in the run YAML as ``surrogate: NAME`` or ``surrogate: {name: NAME, options: {...}}``. It is
refit on every scored architecture at the start of each round; fit and predict times go to the
optimizer's ``stats`` so runs can report surrogate overhead per query.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from nasearch.api import AnySpace, ArchGraph, FitsAndPredicts, Fitter, MeanStd, PredictsStd
from nasearch.api.ensemble import combine, derived_seed
from nasearch.api.errors import ConfigError
from nasearch.api.space_calls import to_graph
from nasearch.config.surrogate import resolve_predictor
from nasearch.optimizers.base import ObjectivesArg, SpaceOptimizer
from nasearch.optimizers.pareto import crowding_distance, nondominated_ranks


def fit_here(members: list[FitsAndPredicts], graphs: list[ArchGraph], y: np.ndarray) -> list[FitsAndPredicts]:
    """The default fitter: fit each member in turn in this process."""
    for member in members:
        member.fit(graphs, y)
    return members


def make_predictor(spec: object, seed: int | None = None) -> FitsAndPredicts:
    """A fresh predictor from a spec; ``seed`` is passed when the predictor takes one."""
    return resolve_predictor(spec)(seed)


def has_uncertainty(spec: object) -> bool:
    """Whether the predictor a spec names implements ``predict_std``."""
    return resolve_predictor(spec).has_uncertainty


class Surrogate:
    """A predictor (or an ensemble of ``ensemble_size`` differently-seeded copies) over scores.

    Targets are standardised before fitting, so predictions come back on the standardised
    scale: fine for ranking and for acquisition functions, which compare candidates only.
    ``fitter`` decides where the members train (default: here, in turn; the runner passes a Ray
    fitter when ``parallel.surrogate_resources`` is set, e.g. a GPU worker).
    """

    def __init__(self, spec: object, seed: int = 0, ensemble_size: int = 1) -> None:
        if ensemble_size < 1:
            raise ConfigError(f"ensemble_size must be >= 1, got {ensemble_size}")
        self.factory = resolve_predictor(spec)
        self.spec = spec
        self.seed = seed
        self.ensemble_size = ensemble_size
        self.members: list[FitsAndPredicts] = []
        self.fit_seconds = 0.0
        self.predict_seconds = 0.0
        self.fits = 0
        self.fitter: Fitter = fit_here

    def fit(self, graphs: Sequence[ArchGraph], y: Sequence[float]) -> None:
        """Refit from scratch on ``graphs`` and higher-is-better scores ``y``."""
        start = time.perf_counter()
        target = np.asarray(y, dtype=float)
        sd = float(target.std()) or 1.0
        z = (target - target.mean()) / sd
        self.members = [
            self.factory(derived_seed(self.seed, self.fits, i)) for i in range(self.ensemble_size)
        ]
        self.members = list(self.fitter(self.members, list(graphs), z))
        self.fit_seconds += time.perf_counter() - start
        self.fits += 1

    def predict(self, graphs: Sequence[ArchGraph]) -> MeanStd:
        """Mean and (ensemble or model) standard deviation; std is None when unavailable."""
        start = time.perf_counter()
        graphs = list(graphs)
        preds = [np.asarray(m.predict(graphs), dtype=float).reshape(-1) for m in self.members]
        if len(self.members) > 1:
            out = combine(preds)
        else:
            member = self.members[0]
            std = (
                np.asarray(member.predict_std(graphs), dtype=float).reshape(-1)
                if isinstance(member, PredictsStd)
                else None
            )
            out = MeanStd(preds[0], std)
        self.predict_seconds += time.perf_counter() - start
        return out


class SurrogateOptimizer(SpaceOptimizer):
    """Rounds of: refit the surrogate(s) on everything scored, grow a candidate pool by mutating
    the best cells (plus random cells), and queue the ``k`` candidates ``_select`` prefers.

    The first ``num_init`` proposals are random. Proposals are served from the queue, so with
    N workers up to N are in flight while a round's remaining candidates wait their turn.

    The options after ``seed`` are keyword-only and declared here once: a subclass declares only
    its own options (and any default it changes) and forwards the rest as ``**options``, which
    config validation follows (``nasearch.config.options.accepted_options``).
    """

    multi_objective = True

    def __init__(
        self,
        space: AnySpace,
        objectives: ObjectivesArg = "objective",
        seed: int = 0,
        *,
        surrogate: object = None,
        num_init: int = 10,
        k: int = 10,
        num_parents: int = 10,
        pool_size: int = 200,
        random_candidates: int = 0,
        max_edits: int = 2,
        ensemble_size: int = 1,
    ) -> None:
        super().__init__(space, objectives, seed)
        for name, value, low in (
            ("num_init", num_init, 2),
            ("k", k, 1),
            ("num_parents", num_parents, 1),
            ("pool_size", pool_size, 1),
            ("max_edits", max_edits, 1),
        ):
            if value < low:
                raise ConfigError(f"{type(self).__name__}: {name} must be >= {low}, got {value}")
        if random_candidates < 0:
            raise ConfigError(
                f"{type(self).__name__}: random_candidates must be >= 0, got {random_candidates}"
            )
        self.surrogates = [
            Surrogate(surrogate, seed=seed * 7 + i, ensemble_size=ensemble_size)
            for i in range(len(self.objectives))
        ]
        self.num_init = num_init
        self.k = k
        self.num_parents = num_parents
        self.pool_size = pool_size
        self.random_candidates = random_candidates
        self.max_edits = max_edits
        self.queue: list[Hashable] = []
        self._graphs: dict[str, ArchGraph] = {}

    def _state(self) -> dict[str, object]:
        return {
            "queue": [self.space.to_str(a) for a in self.queue],
            "fits": [s.fits for s in self.surrogates],
        }

    def _load_state(self, state: dict[str, Any]) -> None:
        self.queue = [self.space.from_str(a) for a in state.get("queue", [])]
        for surrogate, fits in zip(self.surrogates, state.get("fits", [])):
            surrogate.fits = int(fits)  # the next refit's member seeds continue the run's sequence

    def use_fitter(self, fitter: Fitter) -> None:
        """Train the surrogates with ``fitter`` from now on (e.g. as Ray tasks on a GPU worker)."""
        for surrogate in self.surrogates:
            surrogate.fitter = fitter

    def _graph(self, arch: Hashable) -> ArchGraph:
        # by the exact cell, not its isomorphism key: an isomorph seen earlier (a candidate never
        # evaluated) must not lend its graph, or what the surrogate sees depends on past candidates
        key = self.space.to_str(arch)
        graph = self._graphs.get(key)
        if graph is None:
            graph = self._graphs[key] = to_graph(self.space, arch)
        return graph

    def _propose(self, n: int) -> Sequence[Hashable]:
        out: list[Hashable] = []
        started = len(self.history) + len(self.pending)
        if started < self.num_init:  # the random initial design
            return self.sample_fresh(min(n, self.num_init - started))
        if len(self.scored()) < 2:  # too few successes to fit on (failures, or still in flight)
            return self.sample_fresh(n)
        while len(out) < n:
            if not self.queue:
                self.queue = self._round()
                if not self.queue:
                    break
            arch = self.queue.pop(0)
            if self.is_fresh(arch):
                out.append(arch)
        return out

    def _round(self) -> list[Hashable]:
        scored = self.scored()
        graphs = [self._graph(a) for a, _ in scored]
        for j, surrogate in enumerate(self.surrogates):
            surrogate.fit(graphs, [s[j] for _, s in scored])
        pool = self._candidates()
        if not pool:
            return []
        preds = [s.predict([self._graph(a) for a in pool]) for s in self.surrogates]
        self._sync_stats()
        chosen = self._select(pool, preds, min(self.k, len(pool)))
        return [pool[i] for i in chosen]

    def _sync_stats(self) -> None:
        self.stats["fit_seconds"] = sum(s.fit_seconds for s in self.surrogates)
        self.stats["predict_seconds"] = sum(s.predict_seconds for s in self.surrogates)
        self.stats["fits"] = max(s.fits for s in self.surrogates)

    def _candidates(self) -> list[Hashable]:
        """Unseen, distinct mutations (1..max_edits edits) of the best cells plus random cells."""
        parents = self._parents()
        keys: set[str] = set()
        pool: list[Hashable] = []
        per_parent = max(1, self.pool_size // max(1, len(parents)))
        for parent in parents:
            made = 0
            for _ in range(per_parent * 3):
                if made >= per_parent:
                    break
                child = parent
                for _ in range(int(self.rng.integers(1, self.max_edits + 1))):
                    child = self.space.mutate(child, self.rng)
                key = self.space.key(child)
                if key in self.seen or key in keys:
                    continue
                keys.add(key)
                pool.append(child)
                made += 1
        for arch in self.sample_fresh(self.random_candidates):
            key = self.space.key(arch)
            if key not in keys:
                keys.add(key)
                pool.append(arch)
        if not pool:
            pool = self.sample_fresh(self.k)
        return pool

    def _parents(self) -> list[Hashable]:
        if len(self.objectives) == 1:
            return self.best(self.num_parents)
        scored = self.scored()
        points = np.array([s for _, s in scored])
        ranks = nondominated_ranks(points)
        order = np.lexsort((self.rng.random(len(ranks)), ranks))
        return [scored[i][0] for i in order[: self.num_parents]]

    def _select(self, pool: list[Hashable], preds: list[MeanStd], k: int) -> list[int]:
        raise NotImplementedError


def select_pareto(values: np.ndarray, k: int, rng: np.random.Generator) -> list[int]:
    """``k`` indices by non-dominated rank, then crowding distance (NSGA-II survival)."""
    ranks = nondominated_ranks(values)
    chosen: list[int] = []
    for front in range(int(ranks.max()) + 1):
        members = np.flatnonzero(ranks == front)
        if len(chosen) + len(members) <= k:
            chosen += members.tolist()
        else:
            crowd = crowding_distance(values[members])
            order = np.lexsort((rng.random(len(members)), -crowd))
            chosen += members[order[: k - len(chosen)]].tolist()
        if len(chosen) >= k:
            break
    return chosen
