"""Ensembles of one predictor: how each member's seed is derived and how the members' predictions
combine. One rule for the ``ensemble`` predictor and for a search surrogate's ``ensemble_size``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nasearch.api.predictor import MeanStd


def derived_seed(seed: int, *keys: int) -> int:
    """A seed for the stream named by ``keys`` under ``seed`` (``numpy.random.SeedSequence`` with
    ``keys`` as its spawn key): distinct (seed, keys) give independent streams, where arithmetic such
    as ``seed * 1000 + refit * 10 + member`` collides once a count outgrows its stride."""
    return int(np.random.SeedSequence(int(seed), spawn_key=tuple(int(k) for k in keys)).generate_state(1)[0])


def combine(predictions: Sequence[np.ndarray] | np.ndarray) -> MeanStd:
    """The members' mean and standard deviation per cell (``predictions``: one row per member)."""
    stacked = np.stack([np.asarray(p).reshape(-1) for p in predictions])
    return MeanStd(stacked.mean(axis=0), stacked.std(axis=0))


__all__ = ["combine", "derived_seed"]
