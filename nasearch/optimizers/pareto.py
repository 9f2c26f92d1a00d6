"""Pareto fronts and hypervolume for multi-objective search (all objectives maximised)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def nondominated_ranks(points: np.ndarray) -> np.ndarray:
    """Front index of every point (0 = Pareto front), by repeated peeling (fine for ~1e3 points)."""
    pts = np.asarray(points, dtype=float)
    n = len(pts)
    ranks = np.full(n, -1, dtype=int)
    remaining = np.arange(n)
    front = 0
    while remaining.size:
        sub = pts[remaining]
        # i is dominated if some j >= everywhere and > somewhere
        ge = (sub[None, :, :] >= sub[:, None, :]).all(axis=2)
        gt = np.any(sub[None, :, :] > sub[:, None, :], axis=2)
        dominated = (ge & gt).any(axis=1)
        ranks[remaining[~dominated]] = front
        remaining = remaining[dominated]
        front += 1
    return ranks


def pareto_mask(points: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated points."""
    if len(points) == 0:
        return np.zeros(0, dtype=bool)
    return np.asarray(nondominated_ranks(points) == 0, dtype=bool)


def hypervolume(points: np.ndarray, reference: Sequence[float] | np.ndarray) -> float:
    """Volume dominated by ``points`` and bounded below by ``reference`` (maximising).

    Exact by recursive slicing over the first objective; fast for the two or three objectives
    and few-hundred-point fronts a search produces.
    """
    pts = np.asarray(points, dtype=float)
    ref = np.asarray(reference, dtype=float)
    if pts.size == 0:
        return 0.0
    pts = pts[(pts > ref).all(axis=1)]
    if len(pts) == 0:
        return 0.0
    pts = pts[pareto_mask(pts)]
    if pts.shape[1] == 1:
        return float(pts[:, 0].max() - ref[0])
    order = np.argsort(-pts[:, 0])
    pts = pts[order]
    volume = 0.0
    for i in range(len(pts)):
        upper = pts[i, 0]
        lower = pts[i + 1, 0] if i + 1 < len(pts) else ref[0]
        if upper > lower:
            volume += (upper - lower) * hypervolume(pts[: i + 1, 1:], ref[1:])
    return float(volume)


def crowding_distance(points: np.ndarray) -> np.ndarray:
    """NSGA-II crowding distance of each point within its set (boundary points get inf)."""
    pts = np.asarray(points, dtype=float)
    n, m = pts.shape
    dist = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for j in range(m):
        order = np.argsort(pts[:, j])
        span = pts[order[-1], j] - pts[order[0], j]
        dist[order[0]] = dist[order[-1]] = np.inf
        if span > 0:
            dist[order[1:-1]] += (pts[order[2:], j] - pts[order[:-2], j]) / span
    return dist
