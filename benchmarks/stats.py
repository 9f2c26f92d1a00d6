"""The arithmetic behind the headline numbers of BENCHMARKS.md: censored and restricted means,
medians that know their cap, ratios to a reference optimizer and paired bootstrap intervals (kept
apart from the bench scripts so that tests can check them by hand).

"± sd" means one thing in every table of BENCHMARKS.md: the sample standard deviation (n − 1)
over seeds (``mean_sd``; the predictor tables use the same).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


def censor(hits: Sequence[int | None], budget: int) -> np.ndarray:
    """Queries to the optimum per seed, a seed that never found it counted as ``budget`` (a lower bound)."""
    if budget < 1:
        raise ValueError(f"budget must be >= 1, got {budget}")
    return np.array([budget if h is None else int(h) for h in hits], dtype=float)


def restricted_mean(hits: Sequence[int | None], cap: int) -> float:
    """The mean of ``min(queries to the optimum, cap)`` over seeds, a seed that did not find it within
    ``cap`` counted as ``cap``: the restricted mean, an exact estimate of E[min(T, cap)] (with every
    seed followed to the same cap the Kaplan–Meier curve is the fraction of seeds still searching,
    and this is the area under it up to ``cap``). Below the true mean when a seed was cut off;
    equal to it when none was. A hit beyond ``cap`` (from a longer pass) counts as ``cap``."""
    return float(np.mean(np.minimum(censor(hits, cap), cap)))


def median_queries(hits: Sequence[float | None], cap: float) -> float | None:
    """The median of the queries (or time) to the optimum, exact where the seeds in the middle found it
    within ``cap`` (the unfound seeds are the slowest, so their exact values do not matter); None
    when the median lies beyond ``cap``: it is censored. The one place a table decides whether a
    median is observed (``bench_optimizers``, ``bench_multifidelity``)."""
    values = np.array([np.inf if h is None or h > cap else float(h) for h in hits])
    med = float(np.median(values)) if values.size else np.inf
    return med if np.isfinite(med) else None


def mean_sd(values: Sequence[float | None]) -> str:
    """``mean ± sd`` of the finite values (sd: the sample sd, n − 1, the one definition used across
    BENCHMARKS.md; 0 for a single value), '-' when there are none."""
    vals = [float(v) for v in values if v is not None and np.isfinite(v)]
    if not vals:
        return "-"
    sd = float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0
    return f"{np.mean(vals):.2f} ± {sd:.2f}"


@dataclass(frozen=True)
class RatioCI:
    """A ratio of a statistic (``stat(x) / stat(ref)``) with its bootstrap interval."""

    point: float
    low: float
    high: float
    #: whether ``x`` held censored values (then the ratio and interval are lower bounds)
    lower_bound: bool = False
    #: whether ``ref`` held censored values and ``x`` did not (then they are upper bounds)
    upper_bound: bool = False

    def __str__(self) -> str:
        sign = ratio_mark(self.lower_bound, self.upper_bound) or ""
        return f"{sign}{self.point:.2f} [{self.low:.2f}, {self.high:.2f}]"


def ratio_mark(x_censored: bool, ref_censored: bool) -> str | None:
    """The mark a ratio ``stat(x) / stat(ref)`` carries by which side's statistic is censored (a lower
    bound: an unfound seed counted at the cap): "≥ " when only ``x``'s is, "≤ " when only ``ref``'s is,
    "" when neither is, None when both are (a lower bound over a lower bound bounds nothing: the ratio
    is unknown). The one place the tables decide a ratio's mark."""
    if x_censored and ref_censored:
        return None
    return "≥ " if x_censored else "≤ " if ref_censored else ""


def bootstrap_ratio(
    x: Sequence[float],
    ref: Sequence[float],
    stat: Callable[[np.ndarray], float] = np.mean,
    n_boot: int = 10_000,
    level: float = 0.95,
    seed: int = 0,
    lower_bound: bool = False,
    upper_bound: bool = False,
) -> RatioCI:
    """``stat(x) / stat(ref)`` with a paired percentile bootstrap interval.

    ``x[i]`` and ``ref[i]`` come from the same seed, so seeds are resampled jointly: the
    interval reflects the seed-to-seed spread of the comparison, not of each side alone.
    """
    a, b = np.asarray(x, dtype=float), np.asarray(ref, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or a.size < 2:
        raise ValueError(f"x and ref must be paired 1-D samples of >= 2 seeds, got {a.shape} and {b.shape}")
    if lower_bound and upper_bound:
        raise ValueError("a ratio of two censored samples bounds nothing: compare restricted means instead")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if stat(b) == 0:
        raise ValueError("the reference statistic is 0: the ratio is undefined")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, a.size, size=(n_boot, a.size))
    num = np.apply_along_axis(stat, 1, a[idx])
    den = np.apply_along_axis(stat, 1, b[idx])
    ratios = num[den != 0] / den[den != 0]
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(ratios, [tail, 100 - tail])
    return RatioCI(float(stat(a) / stat(b)), float(low), float(high), lower_bound, upper_bound)


#: what a ratio prints when both of its sides are censored: it bounds nothing, so it is unknown
UNKNOWN_RATIO = "—"


def bounded_ratio(
    x: Sequence[float],
    ref: Sequence[float],
    x_censored: bool,
    ref_censored: bool,
    stat: Callable[[np.ndarray], float] = np.mean,
    n_boot: int = 10_000,
) -> str:
    """``stat(x) / stat(ref)`` [paired bootstrap 95 % CI] as a table prints it, marked by which side's
    statistic is censored (a lower bound, an unfound seed counted at the cap): "≥" when only ``x``'s
    is, "≤" when only ``ref``'s is, ``UNKNOWN_RATIO`` when both are (a lower bound over a lower bound
    bounds nothing; ``ratio_mark``)."""
    if ratio_mark(x_censored, ref_censored) is None:
        return UNKNOWN_RATIO
    return str(bootstrap_ratio(x, ref, stat, n_boot=n_boot, lower_bound=x_censored, upper_bound=ref_censored))


#: the bound marks a printed figure may start with (≥ a lower bound, ≤ an upper one, > beyond a cap)
BOUND_MARKS = ("≥ ", "≤ ", "> ")


def unmarked(cell: object) -> str:
    """A printed figure without its bound mark (``≥ 112.2`` -> ``112.2``)."""
    text = str(cell)
    for mark in BOUND_MARKS:
        text = text.removeprefix(mark)
    return text


__all__ = [
    "BOUND_MARKS",
    "UNKNOWN_RATIO",
    "RatioCI",
    "bootstrap_ratio",
    "bounded_ratio",
    "censor",
    "mean_sd",
    "median_queries",
    "ratio_mark",
    "restricted_mean",
    "unmarked",
]
