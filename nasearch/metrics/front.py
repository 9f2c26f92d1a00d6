"""Exact two-objective front metrics that can fail: a found front's share of the best possible one.

A hardware-aware search maximises accuracy and minimises latency. Where the whole space is in a
table, the best answer is computable: the exact Pareto front of every cell, its hypervolume, and
the *ceiling* of a search that evaluates at most one cell per isomorphism class (what a
de-duplicating optimizer can reach). A search's hypervolume is reported as a share of those, not
as a ratio to another noisy search. Also: rank agreement of a predicted latency with the measured
one, and a bootstrap interval of a mean over seeds. Everything here is plain numpy/scipy on
arrays, so any space with a table can use it; ``tests/test_front_metrics.py`` recomputes a small
hand-made table's front and hypervolume by hand.

Conventions: ``acc`` is maximised, ``lat`` minimised; the reference point is ``(ref_acc, ref_lat)``
and only cells strictly better than it in both objectives add volume.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def _as_pair(
    acc: Sequence[float] | np.ndarray, lat: Sequence[float] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(acc, dtype=float), np.asarray(lat, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"acc and lat must be 1-D arrays of one length, got shapes {a.shape} and {b.shape}")
    return a, b


def pareto_front(acc: Sequence[float] | np.ndarray, lat: Sequence[float] | np.ndarray) -> np.ndarray:
    """Indices (ascending) of the cells no other cell dominates (accuracy up, latency down).

    A cell is dominated by one at least as accurate and at least as fast, and strictly better in
    one of the two; cells with a NaN in either objective are never on the front. Equal points are
    all kept. O(n log n): a sweep from the most accurate cell down.
    """
    a, b = _as_pair(acc, lat)
    idx = np.flatnonzero(np.isfinite(a) & np.isfinite(b))
    if idx.size == 0:
        return idx
    order = idx[np.lexsort((b[idx], -a[idx]))]  # accuracy descending, then latency ascending
    keep: list[int] = []
    best = np.inf  # the lowest latency among strictly more accurate cells
    start = 0
    while start < order.size:
        stop = start
        while stop < order.size and a[order[stop]] == a[order[start]]:
            stop += 1
        group = order[start:stop]
        fastest = b[group[0]]
        if fastest < best:
            keep += [int(i) for i in group if b[i] == fastest]
            best = fastest
        start = stop
    return np.sort(np.asarray(keep, dtype=int))


def hypervolume(
    acc: Sequence[float] | np.ndarray, lat: Sequence[float] | np.ndarray, ref_acc: float, ref_lat: float
) -> float:
    """Area dominated by the cells and bounded by the reference point (a staircase sum)."""
    a, b = _as_pair(acc, lat)
    inside = np.isfinite(a) & np.isfinite(b) & (a > ref_acc) & (b < ref_lat)
    a, b = a[inside], b[inside]
    if a.size == 0:
        return 0.0
    front = pareto_front(a, b)
    pa, pb = a[front], b[front]
    order = np.argsort(-pa, kind="stable")
    pa, pb = pa[order], pb[order]
    lower = np.append(pa[1:], ref_acc)
    return float(np.sum((pa - lower) * (ref_lat - pb)))


@dataclass(frozen=True)
class Ceiling:
    """The most hypervolume a selection of at most one cell per class reaches, and that selection."""

    hypervolume: float
    cells: np.ndarray
    #: False when the branch-and-bound stopped at its node limit (``hypervolume`` is then a lower bound)
    exact: bool
    nodes: int


def one_per_class_ceiling(
    acc: Sequence[float] | np.ndarray,
    lat: Sequence[float] | np.ndarray,
    classes: Sequence[object] | np.ndarray,
    ref_acc: float,
    ref_lat: float,
    max_nodes: int = 20_000,
) -> Ceiling:
    """The largest hypervolume of a set holding at most one cell of each class (``classes[i]`` is
    cell i's isomorphism class): what a search that never evaluates two cells of a class can reach.

    Exact branch and bound: the front of a pool of cells bounds every selection from it; when two
    cells of one class sit on the front, branch on which member of that class stays (the others
    leave the pool); a conflict-free front is a feasible selection. Best-first on the bound.
    """
    a, b = _as_pair(acc, lat)
    labels = np.asarray(classes, dtype=object)
    if labels.shape != a.shape:
        raise ValueError(f"classes must give one label per cell, got {labels.shape} for {a.shape}")
    pool0 = np.flatnonzero(np.isfinite(a) & np.isfinite(b) & (a > ref_acc) & (b < ref_lat))
    _, codes = np.unique(labels[pool0].astype(str), return_inverse=True)
    pool0, codes = _prune_dominated(pool0, np.asarray(codes, dtype=int), a, b)
    code_of = dict(zip(pool0.tolist(), codes.tolist()))

    def front_of(removed: frozenset[int]) -> tuple[float, np.ndarray]:
        pool = pool0 if not removed else pool0[~np.isin(pool0, np.fromiter(removed, dtype=int))]
        if pool.size == 0:
            return 0.0, pool
        front = pool[pareto_front(a[pool], b[pool])]
        return hypervolume(a[front], b[front], ref_acc, ref_lat), front

    best_hv, best_cells = 0.0, np.zeros(0, dtype=int)
    bound, front = front_of(frozenset())
    heap: list[tuple[float, int, frozenset[int], np.ndarray]] = [(-bound, 0, frozenset(), front)]
    seen: set[frozenset[int]] = {frozenset()}
    nodes, counter = 0, 1
    while heap:
        neg_bound, _, removed, front = heapq.heappop(heap)
        if -neg_bound <= best_hv:
            break
        nodes += 1
        if nodes > max_nodes:
            return Ceiling(best_hv, best_cells, False, nodes)
        members: dict[int, list[int]] = {}
        for i in front.tolist():
            members.setdefault(code_of[i], []).append(i)
        conflict = next((c for c, cells in members.items() if len(cells) > 1), None)
        if conflict is None:  # feasible: the bound is attained
            best_hv, best_cells = -neg_bound, np.sort(front)
            continue
        same = [i for i in pool0.tolist() if code_of[i] == conflict and i not in removed]
        for keep in same:
            child = removed | frozenset(i for i in same if i != keep)
            if child in seen:
                continue
            seen.add(child)
            child_bound, child_front = front_of(child)
            if child_bound > best_hv:
                heapq.heappush(heap, (-child_bound, counter, child, child_front))
                counter += 1
    return Ceiling(best_hv, best_cells, True, nodes)


def _prune_dominated(
    pool: np.ndarray, codes: np.ndarray, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Drop cells no best one-per-class selection needs: a cell weakly dominated by *every* member of
    another class (that class's worst corner: lowest accuracy, highest latency). Whatever member of
    that class a selection holds already covers the cell, and a selection holding none of the class
    can swap the cell for one of its members. Repeated until nothing changes (corners move)."""
    while pool.size:
        n_classes = int(codes.max()) + 1
        worst_acc = np.full(n_classes, np.inf)
        worst_lat = np.full(n_classes, -np.inf)
        np.minimum.at(worst_acc, codes, a[pool])
        np.maximum.at(worst_lat, codes, b[pool])
        present = np.flatnonzero(np.isfinite(worst_acc))
        order = present[np.argsort(-worst_acc[present], kind="stable")]
        # prefix (over corners, most accurate first) of the two lowest latencies, with their classes
        best1 = np.empty(order.size)
        class1 = np.empty(order.size, dtype=int)
        best2 = np.empty(order.size)
        m1, c1, m2 = np.inf, -1, np.inf
        for j, c in enumerate(order.tolist()):
            v = worst_lat[c]
            if v < m1:
                m1, c1, m2 = v, c, m1
            elif v < m2:
                m2 = v
            best1[j], class1[j], best2[j] = m1, c1, m2
        # strictly better somewhere, so two equal cells never remove each other: corners at least as
        # accurate and strictly faster, or strictly more accurate and at least as fast
        keys, cell_acc, cell_lat = -worst_acc[order], a[pool], b[pool]
        prefix = (best1, class1, best2)
        covered = _beaten(
            np.searchsorted(keys, -cell_acc, side="right"), prefix, codes, cell_lat, True
        ) | _beaten(np.searchsorted(keys, -cell_acc, side="left"), prefix, codes, cell_lat, False)
        if not covered.any():
            break
        pool, codes = pool[~covered], codes[~covered]
    return pool, codes


def _beaten(
    count: np.ndarray,
    prefix: tuple[np.ndarray, np.ndarray, np.ndarray],
    codes: np.ndarray,
    lat: np.ndarray,
    strict: bool,
) -> np.ndarray:
    """Whether a corner of another class among the first ``count`` is (strictly) faster than each cell."""
    best1, class1, best2 = prefix
    j = np.maximum(count - 1, 0)
    other = np.where(class1[j] != codes, best1[j], best2[j])
    return np.asarray((count > 0) & ((other < lat) if strict else (other <= lat)), dtype=bool)


@dataclass(frozen=True)
class RankAgreement:
    """How well a predicted latency orders the cells as the measured one does."""

    kendall_tau: float
    spearman_rho: float
    cells: int


def rank_agreement(
    predicted: Sequence[float] | np.ndarray, measured: Sequence[float] | np.ndarray
) -> RankAgreement:
    """Kendall τ-b and Spearman ρ over the cells where both values are finite."""
    from scipy.stats import kendalltau, spearmanr

    p, m = _as_pair(predicted, measured)
    keep = np.isfinite(p) & np.isfinite(m)
    if keep.sum() < 3:
        raise ValueError(f"rank agreement needs >= 3 cells with both values, got {int(keep.sum())}")
    tau = float(kendalltau(p[keep], m[keep]).statistic)
    rho = float(spearmanr(p[keep], m[keep]).statistic)
    return RankAgreement(tau, rho, int(keep.sum()))


@dataclass(frozen=True)
class Interval:
    """A mean over seeds with its percentile bootstrap interval."""

    mean: float
    low: float
    high: float
    n: int

    def __str__(self) -> str:
        return f"{self.mean:.3f} [{self.low:.3f}, {self.high:.3f}]"


def mean_interval(
    values: Sequence[float] | np.ndarray, n_boot: int = 10_000, level: float = 0.95, seed: int = 0
) -> Interval:
    """The mean of ``values`` (one per seed) and its percentile bootstrap interval over seeds; a
    single value gets the interval [value, value]."""
    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or v.size == 0 or not np.isfinite(v).all():
        raise ValueError(f"values must be a non-empty 1-D array of finite numbers, got {v!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if v.size == 1:
        return Interval(float(v[0]), float(v[0]), float(v[0]), 1)
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, v.size, size=(n_boot, v.size))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return Interval(float(v.mean()), float(low), float(high), int(v.size))


__all__ = [
    "Ceiling",
    "Interval",
    "RankAgreement",
    "hypervolume",
    "mean_interval",
    "one_per_class_ceiling",
    "pareto_front",
    "rank_agreement",
]
