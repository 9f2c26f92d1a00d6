"""Predictor-guided evolution (NPENAS-style): mutate the best cells into a large pool, evaluate
the top-k by the surrogate's predicted value."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np

from nasearch.optimizers.surrogate import SurrogateOptimizer, select_pareto


class PredictorEvolution(SurrogateOptimizer):
    """Each round: refit the surrogate on every scored cell, mutate the ``num_parents`` best cells
    into ``pool_size`` unseen candidates (plus ``random_candidates`` random ones), queue the ``k``
    with the highest predicted value. With several objectives there is one surrogate per
    objective and the ``k`` come from the predicted Pareto fronts (rank, then crowding).
    """

    def __init__(
        self,
        space: Any,
        objectives: Any = "objective",
        seed: int = 0,
        surrogate: Any = None,
        num_init: int = 10,
        k: int = 10,
        num_parents: int = 10,
        pool_size: int = 200,
        random_candidates: int = 0,
        max_edits: int = 2,
    ) -> None:
        super().__init__(space, objectives, seed, surrogate, num_init, k, num_parents, pool_size,
                         random_candidates, max_edits, ensemble_size=1)

    def _select(self, pool: list[Hashable], preds: list[tuple[np.ndarray, np.ndarray | None]], k: int) -> list[int]:
        if len(preds) == 1:
            mean = preds[0][0]
            return np.argsort(-mean, kind="stable")[:k].tolist()
        return select_pareto(np.stack([m for m, _ in preds], axis=1), k, self.rng)
