"""The exact front, its hypervolume and the one-per-class ceiling, recomputed by hand on small tables."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nasearch.metrics.front import (
    hypervolume,
    mean_interval,
    one_per_class_ceiling,
    pareto_front,
    rank_agreement,
)

# six cells: accuracy (max), latency (min); cell 3 is dominated by cell 1 (as accurate, slower)
ACC = [90.0, 85.0, 80.0, 85.0, 70.0, 92.0]
LAT = [10.0, 5.0, 3.0, 6.0, 2.0, 20.0]
REF = (60.0, 25.0)


def test_the_exact_front_of_a_hand_made_table() -> None:
    assert pareto_front(ACC, LAT).tolist() == [0, 1, 2, 4, 5]


def test_its_hypervolume_by_hand() -> None:
    # staircase from the most accurate cell down, each step (acc - next acc) x (ref lat - lat):
    # 92: 2 x 5 = 10; 90: 5 x 15 = 75; 85: 5 x 20 = 100; 80: 10 x 22 = 220; 70: 10 x 23 = 230
    assert hypervolume(ACC, LAT, *REF) == pytest.approx(635.0)
    # a cell outside the reference box adds nothing; a reference point above every cell gives 0
    assert hypervolume([*ACC, 50.0], [*LAT, 1.0], *REF) == pytest.approx(635.0)
    assert hypervolume(ACC, LAT, 95.0, 25.0) == 0.0


def test_ties_and_missing_values() -> None:
    # equal points are both kept; a same-accuracy slower cell is not; NaN is never on the front
    assert pareto_front([1.0, 1.0, 1.0, np.nan], [2.0, 2.0, 3.0, 0.0]).tolist() == [0, 1]
    assert pareto_front([1.0, 2.0], [1.0, np.nan]).tolist() == [0]
    with pytest.raises(ValueError, match="one length"):
        pareto_front([1.0, 2.0], [1.0])


def test_one_per_class_ceiling_by_hand() -> None:
    # cells 1 and 3 are one class, 0 and 2 another: keep one of each. By hand (staircase sums):
    # {0,1}: 10+75+300+230 = 615; {1,2}: 35+100+220+230 = 585; {0,3}: 10+75+285+230 = 600; {2,3}: 580
    classes = ["y", "x", "y", "x", "a", "b"]
    ceiling = one_per_class_ceiling(ACC, LAT, classes, *REF)
    assert ceiling.exact
    assert ceiling.hypervolume == pytest.approx(615.0)
    assert ceiling.cells.tolist() == [0, 1, 4, 5]
    # with every cell its own class, the ceiling is the exact front
    assert one_per_class_ceiling(ACC, LAT, list("abcdef"), *REF).hypervolume == pytest.approx(635.0)


@pytest.mark.parametrize("seed", range(20))
def test_front_hypervolume_and_ceiling_agree_with_brute_force(seed: int) -> None:
    from nasearch.optimizers.pareto import hypervolume as generic_hypervolume
    from nasearch.optimizers.pareto import pareto_mask

    rng = np.random.default_rng(seed)
    n = 11
    acc = rng.integers(0, 8, size=n).astype(float)  # few distinct values: ties on purpose
    lat = rng.integers(0, 8, size=n).astype(float)
    classes = rng.integers(0, 4, size=n)
    ref = (-1.0, 9.0)
    points = np.column_stack([acc, -lat])
    assert pareto_front(acc, lat).tolist() == np.flatnonzero(pareto_mask(points)).tolist()
    assert hypervolume(acc, lat, *ref) == pytest.approx(generic_hypervolume(points, [ref[0], -ref[1]]))
    best = 0.0
    groups = [np.flatnonzero(classes == c) for c in np.unique(classes)]
    for pick in itertools.product(*groups):  # every selection of one cell per class
        chosen = np.asarray(pick)
        best = max(best, hypervolume(acc[chosen], lat[chosen], *ref))
    ceiling = one_per_class_ceiling(acc, lat, classes, *ref)
    assert ceiling.exact and ceiling.hypervolume == pytest.approx(best)
    chosen_classes = classes[ceiling.cells]
    assert len(set(chosen_classes.tolist())) == len(chosen_classes)  # a feasible selection
    assert hypervolume(acc[ceiling.cells], lat[ceiling.cells], *ref) == pytest.approx(best)


def test_rank_agreement_counts_pairs() -> None:
    # one discordant pair of 6 (cells 2 and 3 swapped): tau = (5 - 1) / 6; rho = 1 - 6*2/(4*15) = 0.8
    agreement = rank_agreement([1.0, 2.0, 4.0, 3.0], [1.0, 2.0, 3.0, 4.0])
    assert agreement.kendall_tau == pytest.approx(4 / 6)
    assert agreement.spearman_rho == pytest.approx(0.8)
    assert rank_agreement([1.0, np.nan, 2.0, 3.0], [1.0, 5.0, 2.0, 3.0]).cells == 3


def test_mean_interval_covers_the_mean_and_narrows_with_agreement() -> None:
    wide = mean_interval([0.5, 0.9, 0.7, 0.6, 0.8])
    assert wide.mean == pytest.approx(0.7)
    assert wide.low < wide.mean < wide.high
    assert wide.low >= 0.5 and wide.high <= 0.9
    narrow = mean_interval([0.70, 0.71, 0.69, 0.70, 0.70])
    assert narrow.high - narrow.low < wide.high - wide.low
    assert str(mean_interval([0.25])) == "0.250 [0.250, 0.250]"
    with pytest.raises(ValueError, match="finite"):
        mean_interval([0.1, float("nan")])
