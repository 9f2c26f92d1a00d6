"""The NB201 extra-information track: its selection reads no cell past 1179, its test set holds no cell any
selection read, and its grid starts from the frozen pruned NB201 default."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.bench_extra_info_nb201 import (
    BASE,
    GRID,
    HELD_OUT,
    REPORT_SEEDS,
    SELECT_SEED,
    SELECT_SIZE,
    SPACE_OPTIONS,
    build_nb201,
    measure_config,
    options_of,
    select_config,
)
from benchmarks.defaults.leaks import selection_reads, stored_sections
from benchmarks.defaults.protocols import PAPER_BLOCK, overlap, selection_cells
from benchmarks.select_defaults import stored_result
from nasearch.compare import Task, get_protocol
from nasearch.predictors.nnformer import NNFormer


@pytest.fixture(scope="module")
def task() -> Task:
    return build_nb201()


def test_the_selection_reads_only_its_training_and_validation_cells(task):
    """The selection's split: training 0..155, validation 156..1179, nothing from 1180 on."""
    config = select_config(list(GRID), 1)
    (split,) = get_protocol(config.protocol)(task, SELECT_SIZE, SELECT_SEED, config)
    assert split.train.tolist() == list(range(SELECT_SIZE))
    assert np.asarray(split.test).tolist() == list(range(SELECT_SIZE, SELECT_SIZE + PAPER_BLOCK))


def test_the_track_scores_no_cell_a_selection_read(task):
    """Every cell the track's choice read and every cell the stored NB201 selections read lie before the
    test set, which is every cell from ``HELD_OUT`` (1493) on; the checkpoint cells are the choice's own."""
    own = selection_cells("validation_block", SELECT_SIZE, len(task))
    stored = selection_reads(stored_sections(), "nasbench201", len(task))
    assert stored.max() + 1 == HELD_OUT == 1493
    config = measure_config(list(GRID))
    for seed in REPORT_SEEDS:
        (split,) = get_protocol(config.protocol)(task, SELECT_SIZE, seed, config)
        assert split.test.min() == HELD_OUT and split.test.size == len(task) - HELD_OUT
        assert overlap(split.test, np.concatenate([own, stored])).size == 0
        assert split.validation is not None and np.isin(split.validation, own).all()
    assert SELECT_SEED not in REPORT_SEEDS and not {71, 72, 73, 74, 75, 76} & set(REPORT_SEEDS)


def test_the_grid_starts_from_the_frozen_pruned_choice_and_reads_pruned_cells(task):
    """``BASE`` and ``SPACE_OPTIONS`` are the stored choice; every pre-training and proxy input reads the
    same pruned cells (a pruned cell is found in their tables), and every candidate builds."""
    chosen = stored_result("select_defaults:nnformer_nb201_pruned")["chosen"]
    assert BASE == {"max_steps": chosen["max_steps"], "rank_weight": chosen["rank_weight"]}
    assert SPACE_OPTIONS == {"prune_graph": chosen["prune_graph"]} and options_of("none") == BASE
    offered = set(task.space.proxy_names())  # type: ignore[attr-defined]
    for label in GRID:
        options = options_of(label)
        for key in ("pretrain", "proxy_input"):
            if key in options:
                assert (
                    options[key]["space_options"] == SPACE_OPTIONS and set(options[key]["proxies"]) <= offered
                )
        NNFormer(**options)
