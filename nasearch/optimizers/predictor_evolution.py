"""Predictor-guided evolution (NPENAS-style): mutate the best cells into a large pool, evaluate
the top-k by the surrogate's predicted value."""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np

from nasearch.api import MeanStd
from nasearch.optimizers.surrogate import SurrogateOptimizer, select_pareto


class PredictorEvolution(SurrogateOptimizer):
    """Each round: refit the surrogate on every scored cell, mutate the ``num_parents`` best cells
    into ``pool_size`` unseen candidates (plus ``random_candidates`` random ones), queue the ``k``
    with the highest predicted value (the mean of ``ensemble_size`` members, default 1). With
    several objectives there is one surrogate per objective and the ``k`` come from the predicted
    Pareto fronts (rank, then crowding). Options: those of ``SurrogateOptimizer``.
    """

    def _select(self, pool: list[Hashable], preds: list[MeanStd], k: int) -> list[int]:
        if len(preds) == 1:
            mean = preds[0].mean
            return [int(i) for i in np.argsort(-mean, kind="stable")[:k]]
        return select_pareto(np.stack([p.mean for p in preds], axis=1), k, self.rng)
