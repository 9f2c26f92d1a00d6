"""Every registered split protocol of ``nasearch compare`` against the Split contract, on NB201.

Parametrized over ``PROTOCOLS.names()``: a newly registered protocol of ours is tested at once (and
fails until it has a recipe below); one installed beside nasearch without a recipe is skipped.
A split's cells index the task; its targets and hardware match its cells; validation cells are never
test cells; training cells are not test cells (except under ``paper``, which keeps them in its test
set as the papers do); and a seed fixes the splits.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from conformance.recipes import recipe, stale_recipes
from nasearch.compare import PROTOCOLS, CompareConfig, Split, Task
from nasearch.compare.protocols import check_split

#: two chips, three settings: small pools keep the latency protocols quick
LATENCY_OPTIONS = {"protocol_options": {"devices": ["1080ti_1", "1080ti_32", "pixel3"]}}
#: protocol -> CompareConfig options (besides name, sizes, predictors and a 500-cell test subsample)
RECIPES: dict[str, dict[str, Any]] = {
    "paper": {"validation_size": 50},
    "random": {"validation_size": 50},
    "per_device": LATENCY_OPTIONS,
    "leave_one_device_out": LATENCY_OPTIONS,
    "leave_one_setting_out": LATENCY_OPTIONS,
    "leave_one_chip_out": LATENCY_OPTIONS,
}
#: protocols whose test set keeps the training cells (documented: ``kendall_tau_unseen`` scores the rest)
TRAIN_CELLS_SCORED = {"paper"}
SIZE = 60


@pytest.fixture(scope="module")
def task(nb201_space, nb201_benchmark) -> Task:
    return Task(nb201_space, nb201_benchmark)


def _splits(name: str, task: Task, seed: int) -> list[Split]:
    options = recipe(RECIPES, PROTOCOLS, name, "RECIPES in tests/conformance/test_protocol_contract.py")
    config = CompareConfig(
        name="conformance",
        sizes=[SIZE],
        predictors={"params_linear": {}},
        protocol=name,
        test_subsample=500,
        **options,
    )
    return list(PROTOCOLS.get(name)(task, SIZE, seed, config))


def _assert_indices(cells: np.ndarray, n: int) -> None:
    assert cells.ndim == 1 and cells.dtype.kind in "iu" and cells.size
    assert cells.min() >= 0 and cells.max() < n


def test_every_recipe_is_a_registered_protocol() -> None:
    assert not stale_recipes(RECIPES, PROTOCOLS.names())


@pytest.mark.parametrize("name", PROTOCOLS.names())
def test_splits_are_consistent_and_never_score_held_back_cells(name: str, task: Task) -> None:
    splits = _splits(name, task, seed=0)
    assert splits, f"{name} yielded no split"
    for split in splits:
        _assert_indices(split.train, len(task))
        _assert_indices(split.test, len(task))
        assert len(split.y_train) == split.train.size and len(split.y_test) == split.test.size
        assert np.isfinite(split.y_train).all() and np.isfinite(split.y_test).all()
        assert np.unique(split.test).size == split.test.size, "a cell is scored twice"
        for cells, hardware in ((split.train, split.hardware_train), (split.test, split.hardware_test)):
            assert hardware is None or len(hardware) == cells.size
        if split.validation is not None:
            _assert_indices(split.validation, len(task))
            assert split.y_validation is not None and len(split.y_validation) == split.validation.size
            assert not np.intersect1d(split.validation, split.test).size, "validation cells are scored"
        check_split(split, name)
        if name not in TRAIN_CELLS_SCORED:
            assert not np.intersect1d(split.train, split.test).size, "training cells are scored"


@pytest.mark.parametrize("name", PROTOCOLS.names())
def test_a_seed_fixes_the_splits(name: str, task: Task) -> None:
    first, again = _splits(name, task, seed=1), _splits(name, task, seed=1)
    assert len(first) == len(again)
    for a, b in zip(first, again):
        for part in ("train", "test", "y_train", "y_test"):
            np.testing.assert_array_equal(getattr(a, part), getattr(b, part))
