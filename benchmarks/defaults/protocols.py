"""The split protocols a selection may use (registered with ``nasearch compare``): they read no test cell."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np

from nasearch.api.errors import ConfigError
from nasearch.compare import CompareConfig, Split, Task, random_protocol, register_protocol

TRAIN_METRIC = "cifar10-valid/valid_accuracy"
TEST_METRIC = "cifar10/test_accuracy"
#: the paper's validation block (cells after the training block)
PAPER_BLOCK = 1024


class VisibleTask(Task):
    """A task whose columns are NaN outside ``visible`` cells: what a selection procedure may read."""

    def __init__(self, task: Task, visible: np.ndarray) -> None:
        super().__init__(task.space, task.benchmark)
        self.__dict__["archs"] = task.archs
        if "_graph_cache" in task.__dict__:
            self.__dict__["_graph_cache"] = task.__dict__["_graph_cache"]
        self.visible = np.zeros(len(task), dtype=bool)
        self.visible[np.asarray(visible, dtype=int)] = True
        self._inner = task

    def column(self, metric: str) -> np.ndarray:
        values = self._inner.column(metric).copy()
        values[~self.visible] = np.nan
        return values


def _block(config: CompareConfig) -> int:
    return int(config.protocol_options.get("block", PAPER_BLOCK))


@register_protocol("validation_block")
def validation_block(task: Task, size: int, seed: int, config: CompareConfig) -> Iterator[Split]:
    """Train on the first ``size`` cells; score on the next ``block`` cells (on the train metric)."""
    if config.target_metric != config.train_metric:
        raise ConfigError("validation_block scores the training metric: leave test_metric unset")
    block = _block(config)
    if size + block > len(task):
        raise ConfigError(f"{size} training + {block} validation cells exceed the space ({len(task)})")
    y = task.column(config.train_metric)
    train, val = np.arange(size), np.arange(size, size + block)
    train, val = train[np.isfinite(y[train])], val[np.isfinite(y[val])]
    yield Split(train, val, y[train], y[val], info={"fold": "block"})


@register_protocol("train_cv")
def train_cv(task: Task, size: int, seed: int, config: CompareConfig) -> Iterator[Split]:
    """k-fold cross-validation on the first ``size`` cells (``protocol_options.folds``, default 3)."""
    if config.target_metric != config.train_metric:
        raise ConfigError("train_cv scores the training metric: leave test_metric unset")
    folds = int(config.protocol_options.get("folds", 3))
    if not 2 <= folds <= size // 2:
        raise ConfigError(f"folds must be between 2 and size / 2, got {folds} for {size} cells")
    y = task.column(config.train_metric)
    cells = np.arange(size)
    cells = cells[np.isfinite(y[cells])]
    order = np.random.default_rng(seed).permutation(cells)
    for f, held in enumerate(np.array_split(order, folds)):
        train = np.sort(np.setdiff1d(cells, held))
        held = np.sort(held)
        yield Split(train, held, y[train], y[held], info={"fold": f})


@register_protocol("paper_held_out")
def paper_held_out(task: Task, size: int, seed: int, config: CompareConfig) -> Iterator[Split]:
    """The paper protocol with every cell a selection read left out of the test set: train on the
    first ``size`` cells; test on the cells from ``protocol_options.held_out`` on (the first
    ``held_out`` cells are those a ``validation_block`` selection at up to ``held_out - block``
    training cells reads: its training and validation cells). With ``validation_size`` the cells after
    the training block pick the checkpoint, as ``paper``'s do. ``seed`` varies only the fit."""
    held_out = int(config.protocol_options.get("held_out", 0))
    if held_out < size + config.validation_size or held_out >= len(task):
        raise ConfigError(
            f"paper_held_out: protocol_options.held_out must be >= the training size ({size}) plus "
            f"validation_size ({config.validation_size}) and smaller than the space ({len(task)}), got {held_out}"
        )
    y_train = task.column(config.train_metric)
    train = np.arange(size)
    train = train[np.isfinite(y_train[train])]
    validation = np.arange(size, size + config.validation_size)
    validation = validation[np.isfinite(y_train[validation])]
    test = np.arange(held_out, len(task))
    test = test[np.isfinite(task.column(config.target_metric)[test])]
    yield Split(
        train,
        test,
        y_train[train],
        task.column(config.target_metric)[test],
        validation=validation if validation.size else None,
        y_validation=y_train[validation] if validation.size else None,
        info={"test_cells": f"{held_out}..{len(task) - 1}"},
    )


@register_protocol("random_held_out")
def random_held_out(task: Task, size: int, seed: int, config: CompareConfig) -> Iterator[Split]:
    """The random protocol with every cell a selection read left out of the test set: training and
    validation cells drawn with ``seed`` exactly as ``random`` draws them (from all cells: training on a
    cell a selection read leaks nothing); the test set is ``random``'s less the cells before
    ``protocol_options.held_out`` (the cells a ``validation_block`` selection reads, ``selection_cells``)."""
    held_out = int(config.protocol_options.get("held_out", 0))
    if not 0 < held_out < len(task):
        raise ConfigError(
            f"random_held_out: protocol_options.held_out must be between 1 and the space's {len(task)} cells "
            f"(the first cell no selection read), got {held_out}"
        )
    for split in random_protocol(task, size, seed, config):
        if split.hardware_test is not None:
            raise ConfigError("random_held_out: accuracy targets only (no hardware-conditioned tasks)")
        keep = split.test >= held_out
        yield dataclasses.replace(
            split,
            test=split.test[keep],
            y_test=split.y_test[keep],
            info={**split.info, "test_cells": f"random's from {held_out} on"},
        )


#: the held-out protocols (test set from ``protocol_options.held_out`` on) -> the protocol each mirrors
#: with the cells a selection read left in its test set
HELD_OUT_PROTOCOLS = {"paper_held_out": "paper", "random_held_out": "random"}


def held_out_options(protocol: str, held_out: int) -> dict[str, object]:
    """The ``protocol_options`` that score ``protocol`` past the first ``held_out`` cells (none for a
    protocol that is not held out)."""
    return {"held_out": held_out} if protocol in HELD_OUT_PROTOCOLS else {}


def first_test_cell(protocol: str, size: int, unread: int, block: int = PAPER_BLOCK) -> int:
    """The first test cell of held-out ``protocol`` at ``size`` training cells: ``unread`` (one past
    every cell a stored selection read) and, for ``paper_held_out``, past the figure's own training and
    ``block`` validation cells, which precede its test cells (0 for a protocol that is not held out)."""
    if protocol not in HELD_OUT_PROTOCOLS:
        return 0
    if unread < 1:
        raise ConfigError(
            f"{protocol}: held_out (one past every cell a selection read) must be >= 1, got {unread}"
        )
    return max(unread, size + block) if HELD_OUT_PROTOCOLS[protocol] == "paper" else unread


def selection_cells(protocol: str, size: int, n_cells: int, block: int = PAPER_BLOCK) -> np.ndarray:
    """The cells a selection under ``protocol`` (``validation_block`` or ``train_cv``) at ``size``
    training cells reads: what every reported test set must leave out."""
    if protocol == "validation_block":
        return np.arange(min(size + block, n_cells))
    if protocol == "train_cv":
        return np.arange(min(size, n_cells))
    raise ConfigError(f"no selection protocol {protocol!r} (validation_block, train_cv)")


def overlap(test: np.ndarray, read: np.ndarray) -> np.ndarray:
    """The test cells a selection read (empty: the test set is clean)."""
    return np.intersect1d(np.asarray(test, dtype=int), np.asarray(read, dtype=int))
