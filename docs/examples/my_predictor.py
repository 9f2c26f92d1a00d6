"""A complete predictor plug-in: ridge regression on the count of each op in a cell.

A predictor sees only ``ArchGraph``s (``ops``, ``adjacency``, optional per-node ``attrs``), so it
works on every space. ``fit`` returns ``self``; ``predict`` returns one float per graph; a model
that can give uncertainty adds ``predict_std``. Use it as a surrogate
(``surrogate: {name: "my_predictor:OpCountRidge", alpha: 1.0}``) or in ``nasearch compare``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nasearch.api.graph import ArchGraph


class OpCountRidge:
    """Counts of each op (the vocabulary is learned in ``fit``) plus the edge count -> ridge."""

    def __init__(self, alpha: float = 1.0, seed: int = 0) -> None:
        self.alpha = float(alpha)
        self.seed = seed  # deterministic model: the seed is accepted and unused
        self.vocab: list[str] = []
        self.coef: np.ndarray | None = None

    def _features(self, graphs: Sequence[ArchGraph]) -> np.ndarray:
        index = {op: i for i, op in enumerate(self.vocab)}
        x = np.zeros((len(graphs), len(self.vocab) + 2))
        for row, g in enumerate(graphs):
            for op in g.ops:
                if op in index:
                    x[row, index[op]] += 1
            x[row, -2] = g.adjacency.sum()
            x[row, -1] = 1.0  # intercept
        return x

    def fit(self, graphs: Sequence[ArchGraph], y: Sequence[float], hardware: Any = None) -> OpCountRidge:
        """Learn the op vocabulary and the ridge coefficients."""
        self.vocab = sorted({op for g in graphs for op in g.ops})
        x, target = self._features(graphs), np.asarray(y, dtype=float)
        self.coef = np.linalg.solve(x.T @ x + self.alpha * np.eye(x.shape[1]), x.T @ target)
        return self

    def predict(self, graphs: Sequence[ArchGraph], hardware: Any = None) -> np.ndarray:
        """One prediction per graph, in the units of ``y``."""
        if self.coef is None:
            raise RuntimeError("OpCountRidge.predict called before fit")
        return self._features(graphs) @ self.coef
