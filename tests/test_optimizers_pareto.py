"""Pareto ranks, hypervolume and crowding against hand-computed values."""

from __future__ import annotations

import numpy as np

from nasearch.optimizers.pareto import crowding_distance, hypervolume, nondominated_ranks, pareto_mask


def test_hypervolume_matches_hand_computed_values():
    assert hypervolume(np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]]), [0, 0]) == 6.0
    # a dominated point adds nothing; points below the reference are ignored
    assert hypervolume(np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [1.0, 1.0], [-1.0, 5.0]]), [0, 0]) == 6.0
    assert hypervolume(np.array([[2.0, 1.0, 1.0], [1.0, 2.0, 1.0]]), [0, 0, 0]) == 3.0
    assert hypervolume(np.zeros((0, 2)), [0, 0]) == 0.0


def test_hypervolume_agrees_with_monte_carlo():
    rng = np.random.default_rng(0)
    pts = rng.random((15, 3))
    samples = rng.random((200_000, 3))
    dominated = (samples[:, None, :] <= pts[None, :, :]).all(axis=2).any(axis=1)
    assert abs(hypervolume(pts, [0, 0, 0]) - dominated.mean()) < 0.01


def test_ranks_and_front():
    pts = np.array([[1, 3], [2, 2], [3, 1], [1, 1], [0, 0]])
    assert nondominated_ranks(pts).tolist() == [0, 0, 0, 1, 2]
    assert pareto_mask(pts).tolist() == [True, True, True, False, False]
    crowd = crowding_distance(pts[:3].astype(float))
    assert np.isinf(crowd[0]) and np.isinf(crowd[2]) and np.isfinite(crowd[1])
