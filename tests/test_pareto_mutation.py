"""Pareto mutation (GSEMO) on the NB201 table: every child is one mutation of a current front member."""

from __future__ import annotations

import numpy as np
import pytest

from nasearch.api import Result
from nasearch.api.errors import ConfigError
from nasearch.config.registry import OPTIMIZERS
from nasearch.optimizers.pareto import pareto_mask

OBJ = [("cifar10-valid/valid_accuracy", True), ("latency/titan_rtx_32", False)]


def _result(bench, arch) -> Result:
    i = bench.index(arch)
    return Result({m: float(bench.column(m)[i]) for m, _ in OBJ})


def test_each_child_mutates_a_member_of_the_front_of_everything_told(nb201_space) -> None:
    bench = nb201_space.benchmark()
    opt = OPTIMIZERS.create("pareto_mutation", space=nb201_space, objectives=OBJ, seed=3, num_init=8)
    told: list[tuple[str, ...]] = []
    for step in range(60):
        (arch,) = opt.ask(1)
        if step >= 8:
            points = np.asarray(
                [[_result(bench, a).metrics[OBJ[0][0]], -_result(bench, a).metrics[OBJ[1][0]]] for a in told]
            )
            front = [told[i] for i in np.flatnonzero(pareto_mask(points))]
            assert set(opt.front()) == set(front)
            # NB201's mutate changes one edge: the child is one edge away from some front member
            assert any(sum(x != y for x, y in zip(arch, parent)) == 1 for parent in front)
        opt.tell(arch, _result(bench, arch))
        told.append(arch)
    assert len({nb201_space.key(a) for a in told}) == 60  # never the same class twice


def test_it_finds_more_of_the_front_than_random_in_100_queries(nb201_space) -> None:
    from nasearch.metrics.front import hypervolume

    bench = nb201_space.benchmark()
    acc, lat = (np.asarray(bench.column(m), dtype=float) for m, _ in OBJ)
    ref = (float(np.median(acc)), float(np.median(lat)))

    def share(name: str, seed: int) -> float:
        opt = OPTIMIZERS.create(name, space=nb201_space, objectives=OBJ, seed=seed)
        cells = []
        for _ in range(100):
            (arch,) = opt.ask(1)
            opt.tell(arch, _result(bench, arch))
            cells.append(bench.index(arch))
        return hypervolume(acc[cells], lat[cells], *ref) / hypervolume(acc, lat, *ref)

    assert np.mean([share("pareto_mutation", s) for s in range(3)]) > np.mean(
        [share("random", s) for s in range(3)]
    )


def test_bad_num_init_is_one_config_error(nb201_space) -> None:
    with pytest.raises(ConfigError, match="num_init must be >= 1"):
        OPTIMIZERS.create("pareto_mutation", space=nb201_space, objectives=OBJ, num_init=0)
