"""Ranking and regression metrics for predictors: Kendall tau-b, Spearman, MAPE, Acc(10%).

Stable API (other modules import these): every function takes ``(y_true, y_pred)`` as array-likes
of equal length and returns a float. ``mape`` and ``acc10`` are in **percent** (as the latency
papers report them); the correlations are in [-1, 1]. NaN inputs are an error, not silently dropped.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from nasearch.api.errors import NasearchError


class MetricError(NasearchError, ValueError):
    """Predictions and targets that cannot be compared (length mismatch, NaN, too short)."""


def _pair(y_true: ArrayLike, y_pred: ArrayLike, what: str) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(y_true, dtype=float).ravel()
    p = np.asarray(y_pred, dtype=float).ravel()
    if t.shape != p.shape:
        raise MetricError(f"{what}: y_true has {t.size} values but y_pred has {p.size}")
    if t.size < 2:
        raise MetricError(f"{what}: needs at least 2 values, got {t.size}")
    if np.isnan(t).any() or np.isnan(p).any():
        raise MetricError(f"{what}: y_true or y_pred contains NaN")
    return t, p


def kendall_tau(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Kendall rank correlation, tau-b (ties in either ranking handled), as in the NAS papers."""
    t, p = _pair(y_true, y_pred, "kendall_tau")
    if np.ptp(p) == 0 or np.ptp(t) == 0:
        return 0.0  # a constant ranking carries no order information
    return float(stats.kendalltau(t, p, variant="b").statistic)


def kendall_taus(y_true: ArrayLike, preds: ArrayLike) -> np.ndarray:
    """Kendall tau-b of each row of ``preds`` (rows, n) against one ``y_true`` (n,), as
    ``scipy.stats.kendalltau`` computes it, the truth's ranks found once: what ``blend`` needs when it
    scores every recipe of its grid on a pseudo-target (NaN where either ranking is constant)."""
    t = np.asarray(y_true, dtype=float).ravel()
    rows = np.asarray(preds, dtype=float).reshape(-1, t.size)
    try:
        from scipy.stats._stats import _kendall_dis  # scipy's own discordant-pair count (private)
    except ImportError:  # a scipy that moved it: the same values, one full kendalltau a row
        return np.array([stats.kendalltau(row, t).statistic for row in rows], dtype=float)
    order = np.argsort(t)
    t_rank = np.r_[True, t[order][1:] != t[order][:-1]].cumsum(dtype=np.intp)
    total = t.size * (t.size - 1) // 2

    def ties(ranks: np.ndarray) -> int:
        cnt = np.bincount(ranks).astype("int64", copy=False)
        return int((cnt * (cnt - 1) // 2).sum())

    t_ties = ties(t_rank)
    out = np.full(rows.shape[0], np.nan)
    for i, row in enumerate(rows):
        x = row[order]
        perm = np.argsort(x, kind="mergesort")
        x, y = x[perm], t_rank[perm]
        x = np.r_[True, x[1:] != x[:-1]].cumsum(dtype=np.intp)
        dis = _kendall_dis(x, y)
        obs = np.r_[True, (x[1:] != x[:-1]) | (y[1:] != y[:-1]), True]
        cnt = np.diff(np.nonzero(obs)[0]).astype("int64", copy=False)
        joint = int((cnt * (cnt - 1) // 2).sum())
        x_ties = ties(x)
        if x_ties == total or t_ties == total:
            continue
        tau = (total - x_ties - t_ties + joint - 2 * dis) / np.sqrt(total - x_ties) / np.sqrt(total - t_ties)
        out[i] = min(1.0, max(-1.0, float(tau)))
    return out


def spearman(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Spearman rank correlation rho (Pearson on average ranks)."""
    t, p = _pair(y_true, y_pred, "spearman")
    if np.ptp(p) == 0 or np.ptp(t) == 0:
        return 0.0
    return float(stats.spearmanr(t, p).statistic)


def mape(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute percentage error, in percent: ``100 * mean(|pred - true| / |true|)``."""
    t, p = _pair(y_true, y_pred, "mape")
    if (t == 0).any():
        raise MetricError("mape: y_true contains 0, the relative error is undefined")
    return float(100.0 * np.mean(np.abs(p - t) / np.abs(t)))


def acc_within(y_true: ArrayLike, y_pred: ArrayLike, tolerance: float = 0.10) -> float:
    """Percent of predictions whose relative error ``|pred - true| / |true|`` is at most ``tolerance``."""
    t, p = _pair(y_true, y_pred, "acc_within")
    if (t == 0).any():
        raise MetricError("acc_within: y_true contains 0, the relative error is undefined")
    return float(100.0 * np.mean(np.abs(p - t) / np.abs(t) <= tolerance))


def acc10(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Acc(10%): percent of predictions within 10 % relative error of the truth (latency papers)."""
    return acc_within(y_true, y_pred, 0.10)


#: name -> metric; ``ranking`` metrics apply to every target, ``relative`` ones to latency-like targets
RANKING_METRICS: dict[str, Callable[[ArrayLike, ArrayLike], float]] = {
    "kendall_tau": kendall_tau,
    "spearman": spearman,
}
RELATIVE_METRICS: dict[str, Callable[[ArrayLike, ArrayLike], float]] = {
    "mape": mape,
    "acc10": acc10,
}


def evaluate(y_true: ArrayLike, y_pred: ArrayLike, relative: bool = False) -> dict[str, float]:
    """All ranking metrics, plus MAPE and Acc(10%) when ``relative`` (latency-like targets)."""
    out = {name: fn(y_true, y_pred) for name, fn in RANKING_METRICS.items()}
    if relative:
        out.update({name: fn(y_true, y_pred) for name, fn in RELATIVE_METRICS.items()})
    return out
