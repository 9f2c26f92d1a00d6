"""No reported test set may hold a cell a selection read: the check, on today's splits and the new one."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.bench_extra_info import HELD_OUT, REPORT_SEEDS, SELECT_SIZE, TEST_METRIC
from benchmarks.defaults.protocols import PAPER_BLOCK, TRAIN_METRIC, overlap, paper_held_out, selection_cells
from benchmarks.report import store_for
from nasearch.api.errors import ConfigError
from nasearch.compare import CompareConfig, Task, build_task, paper_protocol, random_protocol


@pytest.fixture(scope="module")
def task() -> Task:
    return build_task(CompareConfig(name="nb201", sizes=[2], predictors={"x": {}}))


def _config(protocol: str, **extra: object) -> CompareConfig:
    return CompareConfig(
        name="t",
        sizes=[2],
        predictors={"x": {}},
        protocol=protocol,
        train_metric=TRAIN_METRIC,
        test_metric=TEST_METRIC,
        **extra,  # type: ignore[arg-type]
    )


def test_the_extra_information_test_set_leaves_out_every_cell_its_selection_read(task):
    read = selection_cells("validation_block", SELECT_SIZE, len(task))
    assert read.size == HELD_OUT == SELECT_SIZE + PAPER_BLOCK
    config = _config("paper_held_out", protocol_options={"held_out": HELD_OUT})
    for size in (156, 469):
        for seed in REPORT_SEEDS:
            split = next(iter(paper_held_out(task, size, seed, config)))
            assert overlap(split.test, read).size == 0
            assert np.isin(split.train, read).all() and split.train.size == size
            assert split.test.size == len(task) - HELD_OUT


def test_the_check_finds_todays_leaks_of_the_default_selection(task):
    """The stored NB201 selection of the defaults read cells 0..1492 (156 and 469 training cells, each
    with the next 1024): the paper protocol's reported test set holds all of them and the random
    protocol's about 1,300, which is the issue's first leak."""
    result = (store_for().load("select_defaults:nnformer_nb201_8node").data or {})["result"]
    assert result["procedure"] == "validation"
    read = selection_cells("validation_block", max(result["sizes"]), len(task))
    assert read.size == 1493
    paper = next(iter(paper_protocol(task, 156, 0, _config("paper"))))
    assert overlap(paper.test, read).size == read.size
    leaked = overlap(next(iter(random_protocol(task, 156, 0, _config("random")))).test, read).size
    assert 1200 < leaked < read.size


def test_held_out_must_hold_the_training_cells(task):
    with pytest.raises(ConfigError, match="held_out must be >= the training size"):
        next(
            iter(paper_held_out(task, 469, 0, _config("paper_held_out", protocol_options={"held_out": 200})))
        )
