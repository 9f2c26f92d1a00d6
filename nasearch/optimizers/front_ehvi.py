"""Surrogate-guided multi-objective search by hypervolume improvement, with the latency looked up, not learnt.

Each round fits an accuracy model (by default a 100-tree random forest of its own on the cell's graph,
its op counts and its depth: ``cell_features``) on every scored cell,
draws candidate cells, and queues the ``k`` that, one after the other, add the most (expected)
hypervolume to the current front (a greedy batch: each chosen cell joins the front at its predicted
mean). An objective the evaluator knows for free (``nasearch.api.KnownMetrics``: a latency model's
prediction) is looked up for every candidate instead of learnt, which makes the 2-objective expected
improvement exact in closed form (``expected_hvi``); without such a lookup every objective gets a
surrogate and candidates are ranked by the improvement of their optimistic point (mean + ``beta``
std). With one objective it is expected improvement.

Candidates (``candidates``): ``children`` (default: ``pool_size`` mutations of uniformly drawn members
of the told front, i.e. ``pareto_mutation``'s proposals, screened by the surrogate), ``neighbours``
(every cell one edit from the best-ranked told cells) or ``all`` (one cell per isomorphism class of an
enumerable space). The defaults (``children``, ``pool_size`` 20, ``std_scale`` 0: the improvement of
the predicted mean, ``features`` graph, ``k`` 2, ``init`` spread: the start cells drawn along the known
latency) were chosen with development seeds by ``benchmarks/tune_front_ehvi.py``: the forest, pool and
features on three CPU targets of HELP (stages 1-4: wider candidate sets and the forest's spread led the
search to cells the surrogate overrates; the zero-cost proxies and the looked-up latency as features, though
they rank accuracy better over the whole space, ranked a front member's children worse), the spread start
and batches of 2 on the five GPU targets the benchmark reports (stage 5: 0.914 of the one-per-class ceiling
at 100 queries against 0.872 for the random start with batches of 5, which missed the fast end of the
front). predictor_local_search's NN-Former pre-trained on every cell's synflow proxy, screening ``pool_size``
100 children, ranked first on the CPU targets but did worse than the forest on the GPU targets' fresh seeds;
it stays an option (``surrogate``), not a default. ``benchmarks/bench_latency_models.py --parts
front_search`` measures the defaults on the GPU targets.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from nasearch.api import AnySpace, ArchGraph, Enumerable, PredictsStd
from nasearch.api.errors import ConfigError
from nasearch.api.space_calls import to_graph
from nasearch.optimizers.base import ObjectivesArg, SpaceOptimizer
from nasearch.optimizers.cell_features import CellFeatures, FeatureForest, check_features
from nasearch.optimizers.pareto import nondominated_ranks
from nasearch.optimizers.surrogate import Surrogate, has_uncertainty

#: the spec ``surrogate`` stands for when a config names neither it nor ``features`` (the previous default)
DEFAULT_SURROGATE: dict[str, Any] = {"name": "random_forest", "options": {"n_estimators": 100}}
#: what the accuracy forest reads when the config names neither ``surrogate`` nor ``features``: the graph
#: with its op counts and depth (chosen on three CPU targets and development seeds, ``tune_front_ehvi``)
DEFAULT_FEATURES = ("graph",)
REFERENCES = ("median", "nadir")
#: where a round's candidates come from -> the space capability it needs
CANDIDATES: dict[str, str | None] = {"all": "enumerate", "neighbours": "neighbours", "children": None}
TRANSFORMS = ("rank", "none")
#: how the first ``num_init`` cells are drawn: uniformly, or one from each quantile bin of a known
#: objective over the space's cells that beat its reference (the start spread along the front)
INITS = ("random", "spread")

#: what ``use_known_metrics`` takes: architectures -> {metric: value of each}
KnownLookup = Callable[[Sequence[Hashable]], Mapping[str, Sequence[float] | np.ndarray]]


def _psi(mean: np.ndarray, std: np.ndarray, edge: np.ndarray) -> np.ndarray:
    """E[(X - edge)+] for X ~ N(mean, std), broadcast elementwise (std 0 gives max(mean - edge, 0))."""
    mean, std, edge = np.broadcast_arrays(
        np.asarray(mean, dtype=float), np.asarray(std, dtype=float), np.asarray(edge, dtype=float)
    )
    diff = mean - edge
    out = np.maximum(diff, 0.0)
    has = std > 0
    if np.any(has):
        s = std[has]
        z = diff[has] / s
        cdf = 0.5 * (1.0 + _erf(z / math.sqrt(2.0)))
        pdf = np.exp(-0.5 * z**2) / math.sqrt(2.0 * math.pi)
        out[has] = diff[has] * cdf + s * pdf
    return np.asarray(out, dtype=float)


def _erf(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return np.asarray(erf(x), dtype=float)


def _predict(surrogate: Surrogate, graphs: list[ArchGraph]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and spread of a fitted surrogate on ``graphs`` (standardised scale): one pass per member where
    it offers ``predict_mean_std``; an ensemble's spread combines its members' means and spreads."""
    start = time.perf_counter()
    means, stds = [], []
    for member in surrogate.members:
        both = getattr(member, "predict_mean_std", None)
        if callable(both):
            mean, std = both(graphs)
        else:
            mean = member.predict(graphs)
            std = member.predict_std(graphs) if isinstance(member, PredictsStd) else np.zeros(len(graphs))
        means.append(np.asarray(mean, dtype=float).reshape(-1))
        stds.append(np.asarray(std, dtype=float).reshape(-1))
    m = np.mean(means, axis=0)
    # the mixture's variance: the members' own variance plus the spread of their means
    v = np.mean(np.square(stds), axis=0) + (np.var(means, axis=0) if len(means) > 1 else 0.0)
    surrogate.predict_seconds += time.perf_counter() - start
    return m, np.sqrt(v)


def normal_scores(values: np.ndarray) -> np.ndarray:
    """Each value's rank among ``values`` as a standard normal quantile (ties share their mean rank)."""
    from scipy.stats import norm, rankdata

    ranks = rankdata(values)
    return np.asarray(norm.ppf((ranks - 0.5) / len(values)), dtype=float)


def front_2d(points: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """The non-dominated points strictly above ``reference`` (maximising both), sorted by the first
    objective ascending (so the second descends)."""
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    pts = pts[(pts[:, 0] > reference[0]) & (pts[:, 1] > reference[1])]
    if not len(pts):
        return np.asarray(pts, dtype=float)
    order = np.lexsort((-pts[:, 1], -pts[:, 0]))  # first objective descending, ties: best second first
    keep, best = [], -np.inf
    for i in order:
        if pts[i, 1] > best:
            keep.append(i)
            best = pts[i, 1]
    return np.asarray(pts[keep][::-1], dtype=float)


def expected_hvi(
    front: np.ndarray,
    reference: np.ndarray,
    mean: np.ndarray,
    std: np.ndarray,
    known: np.ndarray,
    uncertain: int,
) -> np.ndarray:
    """Expected hypervolume improvement of each candidate over ``front`` (2 objectives, maximised),
    where objective ``uncertain`` is normal (``mean``, ``std``) and the other is ``known``.

    The improvement of a point with known value y and uncertain value x is the integral over
    t in [ref, x] of max(0, y - h(t)), h(t) the best known-objective value of the front's points
    at least t in the uncertain one: piecewise linear in x, so its expectation is a sum of
    E[(X - edge)+] terms (``_psi``) over the front's breakpoints."""
    other = 1 - uncertain
    pts = front_2d(front, reference)
    # sort by the uncertain objective ascending: breakpoints e_0 = ref < e_1 < ... < e_m, then +inf
    pts = pts[np.argsort(pts[:, uncertain], kind="stable")]
    edges = np.concatenate([[reference[uncertain]], pts[:, uncertain]])
    heights = np.concatenate([pts[:, other], [reference[other]]])  # h on (e_j, e_{j+1}]
    # points with uncertain value above a breakpoint all count: h(t) on (e_j, e_{j+1}] is the best of
    # the points from j on, i.e. pts[j]'s (the known objective descends as the uncertain one ascends)
    width = np.maximum(known[:, None] - heights[None, :], 0.0)
    psi = np.concatenate(
        [_psi(mean[:, None], std[:, None], edges[None, :]), np.zeros((len(mean), 1))], axis=1
    )
    return np.asarray(np.sum(width * (psi[:, :-1] - psi[:, 1:]), axis=1), dtype=float)


class FrontEHVI(SpaceOptimizer):
    """(Expected) hypervolume improvement: ``num_init`` start cells (``init``), then rounds of a surrogate
    fit and a greedy batch of ``k`` cells (see the module doc).

    ``candidates``: ``children`` (default: ``pool_size`` mutations of uniformly drawn members of the
    told front, ``pareto_mutation``'s proposals, of which the acquisition keeps the best ``k``),
    ``neighbours`` (the unseen cells one edit from the ``num_parents`` best-ranked told cells: needs
    ``neighbours``) or ``all`` (one cell per isomorphism class of the whole space: needs ``enumerate``).
    ``surrogate``: a predictor spec on the graph, used instead of ``features`` when given; ``ensemble_size``: copies
    differently seeded (needed when ``std_scale`` > 0 and the predictor has no ``predict_std``).
    ``reference``: the hypervolume reference the acquisition uses, ``median`` (a known objective's
    median over every cell of an enumerable space, or else over the candidates, as a run's reference
    point is the median cell; a learnt one's median over the ``num_init`` random cells, an estimate of
    the same) or ``nadir`` (the worst scored value). ``std_scale``: what the surrogate's spread is
    multiplied by (default 0: the improvement of the predicted mean, no exploration bonus).
    ``transform``: ``rank`` learns a learnt objective's normal scores (its told values' ranks as
    normal quantiles) and measures its hypervolume on them, robust to a skewed metric (NB201 accuracy
    has a long tail of failed cells); ``none`` learns the values themselves. ``beta``: the optimistic
    bound's width when no objective is known. ``features``: learn each learnt objective with a forest of
    its own on the cell's free features (``cell_features.FEATURES``: ``graph``, the space's zero-cost
    ``proxies``, the ``known`` objectives' values; default ``DEFAULT_FEATURES``, the graph, unless a
    ``surrogate`` is named). ``init``: ``spread`` (default): one start cell from each of ``num_init``
    equal-count bins of the known objective over the cells that beat its median (an enumerable space with a
    known objective; random cells otherwise), or ``random`` start cells.
    """

    multi_objective = True

    def __init__(
        self,
        space: AnySpace,
        objectives: ObjectivesArg = "objective",
        seed: int = 0,
        *,
        surrogate: object = None,
        ensemble_size: int = 1,
        num_init: int = 10,
        k: int = 2,
        candidates: str = "children",
        num_parents: int = 10,
        pool_size: int = 20,
        reference: str = "median",
        beta: float = 1.0,
        std_scale: float = 0.0,
        transform: str = "rank",
        features: Sequence[str] | None = None,
        init: str = "spread",
    ) -> None:
        if candidates not in CANDIDATES:
            raise ConfigError(
                f"front_ehvi: candidates must be one of {', '.join(CANDIDATES)}, got {candidates!r}"
            )
        needs = CANDIDATES[candidates]
        self.requires = (needs,) if needs else ()
        super().__init__(space, objectives, seed)
        if len(self.objectives) > 2:
            raise ConfigError(
                f"front_ehvi: optimises one or two objectives, got {len(self.objectives)} "
                f"({', '.join(o.metric for o in self.objectives)})"
            )
        for name, value, low in (
            ("num_init", num_init, 2),
            ("k", k, 1),
            ("ensemble_size", ensemble_size, 1),
            ("num_parents", num_parents, 1),
            ("pool_size", pool_size, 1),
        ):
            if value < low:
                raise ConfigError(f"front_ehvi: {name} must be >= {low}, got {value}")
        if reference not in REFERENCES:
            raise ConfigError(
                f"front_ehvi: reference must be one of {', '.join(REFERENCES)}, got {reference!r}"
            )
        if init not in INITS:
            raise ConfigError(f"front_ehvi: init must be one of {', '.join(INITS)}, got {init!r}")
        self.init = init
        if features is None and surrogate is None:
            features = DEFAULT_FEATURES
        self.features = None if features is None else check_features(features, space)
        if self.features is not None and surrogate is not None:
            raise ConfigError(
                "front_ehvi: give either surrogate (a predictor on the graph) or features (its own forest "
                "on the cell's features), not both"
            )
        spec = DEFAULT_SURROGATE if surrogate is None else surrogate
        if std_scale > 0 and ensemble_size < 2 and not has_uncertainty(spec):
            raise ConfigError(
                "front_ehvi: the surrogate gives no uncertainty (no predict_std); set ensemble_size >= 2 "
                "or use a predictor with predict_std (random_forest, ensemble)"
            )
        self.surrogates = [
            Surrogate(spec, seed=seed * 7 + i, ensemble_size=ensemble_size)
            for i in range(len(self.objectives))
        ]
        self.num_init, self.k, self.num_parents = int(num_init), int(k), int(num_parents)
        self.pool_size = int(pool_size)
        if not std_scale >= 0:
            raise ConfigError(f"front_ehvi: std_scale must be >= 0, got {std_scale!r}")
        self.candidates, self.reference, self.beta = candidates, reference, float(beta)
        self.std_scale = float(std_scale)
        if transform not in TRANSFORMS:
            raise ConfigError(
                f"front_ehvi: transform must be one of {', '.join(TRANSFORMS)}, got {transform!r}"
            )
        self.transform = transform
        self.queue: list[Hashable] = []
        self.known: KnownLookup | None = None
        self._pool_cells: list[Hashable] | None = None
        self._pool_keys: list[str] = []
        self._pool_graphs: list[ArchGraph] = []
        self._pool_known: dict[int, np.ndarray] | None = None
        self._cell_features = (
            None if self.features is None else CellFeatures(space, self.features, self._lookup)
        )
        self.forests = [FeatureForest(seed * 7 + i) for i in range(len(self.objectives))]
        self._init_plan: list[Hashable] | None = None

    # --- capabilities -----------------------------------------------------------------------------
    def use_known_metrics(self, lookup: KnownLookup) -> None:
        """Look objectives up with ``lookup`` (the evaluator's ``known_values``) instead of learning them."""
        self.known = lookup
        self._pool_known = None

    def _state(self) -> dict[str, object]:
        state: dict[str, object] = {
            "queue": [self.space.to_str(a) for a in self.queue],
            "fits": [s.fits for s in self.surrogates],
        }
        if self.features is not None:
            state["forest_fits"] = [f.fits for f in self.forests]
        if self._cell_features is not None and self._cell_features.ops:
            state["feature_vocabulary"] = self._cell_features.vocabulary()
        if self._init_plan is not None:
            state["init_plan"] = [self.space.to_str(a) for a in self._init_plan]
        return state

    def _load_state(self, state: dict[str, Any]) -> None:
        self.queue = [self.space.from_str(a) for a in state.get("queue", [])]
        for surrogate, fits in zip(self.surrogates, state.get("fits", [])):
            surrogate.fits = int(fits)
        for forest, fits in zip(self.forests, state.get("forest_fits", [])):
            forest.fits = int(fits)
        if self._cell_features is not None and "feature_vocabulary" in state:
            self._cell_features.set_vocabulary(state["feature_vocabulary"])
        if "init_plan" in state:
            self._init_plan = [self.space.from_str(a) for a in state["init_plan"]]

    # --- candidates ---------------------------------------------------------------------------------
    def _pool(self) -> list[Hashable]:
        """One cell per isomorphism class of the whole space (listed once)."""
        if self._pool_cells is None:
            assert isinstance(self.space, Enumerable)  # checked by ``requires`` or the caller
            keys: set[str] = set()
            cells: list[Hashable] = []
            for arch in self.space.enumerate():
                key = self.space.key(arch)
                if key not in keys:
                    keys.add(key)
                    cells.append(arch)
                    self._pool_keys.append(key)
            self._pool_cells = cells
        return self._pool_cells

    def _pool_graph_list(self) -> list[ArchGraph]:
        """The pool's graphs (built once, for ``candidates: all``)."""
        if not self._pool_graphs:
            self._pool_graphs = [to_graph(self.space, a) for a in self._pool()]
        return self._pool_graphs

    def _lookup(self, cells: Sequence[Hashable]) -> dict[int, np.ndarray]:
        """Objective index -> its value (higher is better) for ``cells``, for the known objectives."""
        if self.known is None or not cells:
            return {}
        values = self.known(cells)
        out = {}
        for j, obj in enumerate(self.objectives):
            if obj.metric in values:
                v = np.asarray(values[obj.metric], dtype=float).reshape(-1)
                out[j] = v if obj.maximize else -v
        return out

    def _pool_known_values(self) -> dict[int, np.ndarray]:
        if self._pool_known is None:
            self._pool_known = self._lookup(self._pool())
        return self._pool_known

    def _children(self) -> list[Hashable]:
        """``pool_size`` unseen distinct mutations, each of a member of the told front drawn uniformly
        (``pareto_mutation``'s proposals, screened here by the acquisition)."""
        scored = self.scored()
        ranks = nondominated_ranks(np.asarray([s for _, s in scored], dtype=float))
        front = [scored[int(i)][0] for i in np.flatnonzero(ranks == 0)]
        keys: set[str] = set()
        out: list[Hashable] = []
        for _ in range(50 * self.pool_size):
            if len(out) >= self.pool_size:
                break
            child = self.space.mutate(front[int(self.rng.integers(len(front)))], self.rng)
            key = self.space.key(child)
            if key not in self.seen and key not in keys:
                keys.add(key)
                out.append(child)
        return out or self.sample_fresh(self.pool_size)

    def _local(self) -> list[Hashable]:
        """The unseen cells one edit from the ``num_parents`` told cells of best Pareto rank."""
        scored = self.scored()
        ranks = nondominated_ranks(np.asarray([s for _, s in scored], dtype=float))
        order = np.lexsort((self.rng.random(len(ranks)), ranks))[: self.num_parents]
        keys: set[str] = set()
        out: list[Hashable] = []
        for i in order:
            for cell in self.space.neighbours(scored[int(i)][0]):  # type: ignore[attr-defined]
                key = self.space.key(cell)
                if key not in self.seen and key not in keys:
                    keys.add(key)
                    out.append(cell)
        return out

    def _spread_plan(self) -> list[Hashable]:
        """``num_init`` cells, one drawn uniformly from each of ``num_init`` equal-count bins of the first
        known objective over the space's cells that beat its median (random cells where nothing is
        known or the space cannot enumerate)."""
        every = self._pool_known_values() if isinstance(self.space, Enumerable) else {}
        if not every:
            return self.sample_fresh(self.num_init)
        values = every[min(every)]
        pool = self._pool()
        ok = np.isfinite(values)
        better = np.flatnonzero(ok & (values > np.median(values[ok])))
        order = better[np.argsort(values[better], kind="stable")]
        return [pool[int(self.rng.choice(b))] for b in np.array_split(order, self.num_init) if len(b)]

    # --- ask ----------------------------------------------------------------------------------------
    def _propose(self, n: int) -> Sequence[Hashable]:
        started = len(self.history) + len(self.pending)
        if started < self.num_init:
            if self.init == "spread":
                if self._init_plan is None:
                    self._init_plan = self._spread_plan()
                plan = [a for a in self._init_plan if self.is_fresh(a)]
                if plan:
                    return plan[: min(n, self.num_init - started)]
            return self.sample_fresh(min(n, self.num_init - started))
        if len(self.scored()) < 2:
            return self.sample_fresh(n)
        out: list[Hashable] = []
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
        told = np.asarray([s for _, s in scored], dtype=float)
        if self.candidates == "all":
            pool = self._pool()
            every = self._pool_known_values()
            fresh = np.asarray([key not in self.seen for key in self._pool_keys], dtype=bool)
            cells_known = every
            graphs_of = self._pool_graph_list()
        else:
            pool = self._local() if self.candidates == "neighbours" else self._children()
            every = self._pool_known_values() if isinstance(self.space, Enumerable) else {}
            cells_known = self._lookup(pool)
            fresh = np.ones(len(pool), dtype=bool)
            graphs_of = []
        for values in cells_known.values():
            fresh &= np.isfinite(values)
        reference = np.full(len(self.objectives), np.nan)
        for j, values in cells_known.items():
            space_values = every.get(j, values)
            reference[j] = self._reference(told[:, j], space_values[np.isfinite(space_values)])
            if len(self.objectives) == 2 and np.any(fresh & (values > reference[j])):
                fresh &= values > reference[j]  # a cell at or below the reference adds no hypervolume
        idx = np.flatnonzero(fresh)
        if not len(idx):
            return []
        told_cells = [a for a, _ in scored]
        cand_cells = [pool[int(i)] for i in idx]
        if self._cell_features is not None:
            # the pool's rows first (for ``all``: the whole space), so the graph vocabulary sees them all
            self._cell_features.rows(pool if self.candidates == "all" else cand_cells + told_cells)
            x_told = self._cell_features.rows(told_cells)
            x_cand = self._cell_features.rows(cand_cells)
            graphs: list[ArchGraph] = []
            cand_graphs: list[ArchGraph] = []
        else:
            graphs = [to_graph(self.space, a) for a in told_cells]
            cand_graphs = (
                [graphs_of[i] for i in idx] if graphs_of else [to_graph(self.space, a) for a in cand_cells]
            )
        means, stds = [], []
        for j, surrogate in enumerate(self.surrogates):
            if j in cells_known:
                means.append(cells_known[j][idx])
                stds.append(np.zeros(len(idx)))
                continue
            y = told[:, j]
            if self.transform == "rank":  # learn and compare on normal scores: robust to a skewed metric
                y = normal_scores(y)
                told[:, j] = y
            centre, scale = float(y.mean()), float(y.std()) or 1.0
            if self._cell_features is not None:
                start = time.perf_counter()
                forest = self.forests[j].fit(x_told, (y - centre) / scale)
                mean, std = forest.predict_mean_std(x_cand)
                surrogate.fit_seconds += time.perf_counter() - start
                surrogate.fits = forest.fits
            else:
                surrogate.fit(graphs, ((y - centre) / scale).tolist())
                mean, std = _predict(surrogate, cand_graphs)
            means.append(mean * scale + centre)
            stds.append(std * scale * self.std_scale)
            # the random initial cells' scores: an estimate of the space's median
            reference[j] = self._reference(y, y[: self.num_init])
        self._sync_stats()
        chosen = self._select(
            told, np.stack(means, axis=1), np.stack(stds, axis=1), reference, min(self.k, len(idx))
        )
        return [pool[int(idx[i])] for i in chosen]

    def _reference(self, told: np.ndarray, candidates: np.ndarray) -> float:
        """One objective's hypervolume reference: the median of ``candidates`` (a known objective's values
        over the space, or a learnt one's scores of the random initial cells) or the worst told value."""
        if self.reference == "median" and len(candidates):
            return float(np.median(candidates))
        return float(told.min())

    def _sync_stats(self) -> None:
        self.stats["fit_seconds"] = sum(s.fit_seconds for s in self.surrogates)
        self.stats["predict_seconds"] = sum(s.predict_seconds for s in self.surrogates)
        self.stats["fits"] = max(s.fits for s in self.surrogates)

    def _select(
        self, told: np.ndarray, mean: np.ndarray, std: np.ndarray, reference: np.ndarray, k: int
    ) -> list[int]:
        """A greedy batch: the best acquisition value, which then joins the front at its mean."""
        chosen: list[int] = []
        if mean.shape[1] == 1:  # expected improvement over the best told score; the batch by the mean
            best = float(told[:, 0].max())
            for _ in range(k):
                value = _psi(mean[:, 0], std[:, 0], np.full(len(mean), best))
                value[chosen] = -np.inf
                i = int(np.argmax(value))
                chosen.append(i)
                best = max(best, float(mean[i, 0]))
            return chosen
        uncertain = [j for j in range(2) if np.any(std[:, j] > 0)]
        front = told
        for _ in range(k):
            if len(uncertain) == 1:
                u = uncertain[0]
                value = expected_hvi(front, reference, mean[:, u], std[:, u], mean[:, 1 - u], u)
            else:  # both learnt (or both known): the improvement of the optimistic point
                value = expected_hvi(
                    front,
                    reference,
                    mean[:, 0] + self.beta * std[:, 0],
                    np.zeros(len(mean)),
                    mean[:, 1] + self.beta * std[:, 1],
                    0,
                )
            value[chosen] = -np.inf
            if not np.any(value > 0):  # nothing improves: the best predicted first objective
                rest = np.argsort(-mean[:, 0], kind="stable")
                i = int(next(r for r in rest if int(r) not in chosen))
            else:
                i = int(np.argmax(value))
            chosen.append(i)
            front = np.vstack([front, mean[i]])
        return chosen
