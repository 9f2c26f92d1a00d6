"""The NB101 extra-information track: its test set holds no cell any selection read, its grid starts from
the frozen NB101 default, and NB101 offers the proxies the grid names."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.bench_extra_info_nb101 import (
    BASE,
    GRID,
    HELD_OUT,
    REPORT_SEEDS,
    SELECT_SEED,
    SELECT_SIZE,
    measure_config,
    options_of,
)
from benchmarks.defaults.leaks import selection_reads, stored_sections
from benchmarks.defaults.protocols import PAPER_BLOCK, overlap, selection_cells
from benchmarks.select_defaults import stored_result
from nasearch.compare import CompareConfig, Task, build_task, get_protocol


@pytest.fixture(scope="module")
def task() -> Task:
    return build_task(
        CompareConfig(
            name="nb101",
            space="nasbench101",
            sizes=[2],
            predictors={"x": {}},
            train_metric="cifar10/test_accuracy",
        )
    )


def test_the_track_scores_no_cell_a_selection_read(task):
    """Every cell the track's own choice read (172 training + 1024 validation cells) and every cell the
    stored NB101 selections read lie before the test set, which is every cell from ``HELD_OUT`` on."""
    own = selection_cells("validation_block", SELECT_SIZE, len(task))
    stored = selection_reads(stored_sections(), "nasbench101", len(task))
    assert own.size == SELECT_SIZE + PAPER_BLOCK and stored.size >= own.size and stored.max() < HELD_OUT
    config = measure_config(list(GRID))
    for seed in REPORT_SEEDS:
        (split,) = get_protocol(config.protocol)(task, SELECT_SIZE, seed, config)
        assert split.test.min() == HELD_OUT and split.test.size == len(task) - HELD_OUT
        assert overlap(split.test, np.concatenate([own, stored])).size == 0
        assert split.train.tolist() == list(range(SELECT_SIZE)) and split.validation is not None
        assert np.isin(split.validation, own).all()
    assert SELECT_SEED not in REPORT_SEEDS


def test_the_grid_starts_from_the_frozen_nb101_choice_and_names_proxies_nb101_offers(task):
    chosen = stored_result("select_defaults:nnformer_nb101")["chosen"]
    assert BASE == {"max_steps": chosen["max_steps"], "rank_weight": chosen["rank_weight"]}
    assert options_of("none") == BASE
    offered = set(task.space.proxy_names())  # type: ignore[attr-defined]
    for options in GRID.values():
        for key in ("pretrain", "proxy_input"):
            if key in options:
                assert options[key]["space"] == "nasbench101" and set(options[key]["proxies"]) <= offered
