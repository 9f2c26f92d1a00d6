"""Split protocols: the registry, the built-in ``paper`` and ``random`` protocols, and the test-cell rules.

A protocol is called as ``protocol(task, size, seed, config)`` and yields ``Split``s. Register one
with ``@register_protocol("name")``, as an entry point of the ``nasearch.protocols`` group (the NB201
latency protocols are), or name a ``"package.module:function"`` in the config. Validation cells are
never test cells: ``check_split`` refuses a split that scores one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Iterable, Iterator

import numpy as np

from nasearch.api import Hardware
from nasearch.api.errors import ConfigError, RegistryError
from nasearch.compare.schema import CompareConfig
from nasearch.compare.task import Task
from nasearch.config.registry import Registry


@dataclasses.dataclass
class Split:
    """One train/test split: cell indices into ``task.graphs``, targets, optional hardware."""

    train: np.ndarray
    test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    hardware_train: Hardware = None
    hardware_test: Hardware = None
    info: dict[str, object] = dataclasses.field(default_factory=dict)
    #: cells for checkpoint selection (``eval_set``) and their train-metric targets, if any
    validation: np.ndarray | None = None
    y_validation: np.ndarray | None = None
    #: splits of one (size, seed) with equal ``fit_key`` train on identical rows: ``run_compare``
    #: fits once and scores the same model on each one's test cells (e.g. the settings of one chip)
    fit_key: Hashable = None


Protocol = Callable[[Task, int, int, CompareConfig], Iterable[Split]]

#: split protocols by name: the built-ins below, ``@register_protocol`` in-process, and entry points of the
#: ``nasearch.protocols`` group (the NB201 latency protocols, declared in setup.cfg)
PROTOCOLS: Registry[Iterable[Split]] = Registry("split protocol", "nasearch.protocols", {})


def register_protocol(name: str) -> Callable[[Protocol], Protocol]:
    """Decorator: make a split protocol available to ``nasearch compare`` under ``name``."""
    return PROTOCOLS.register(name)


def get_protocol(name: str) -> Protocol:
    """A registered protocol, or a ``package.module:function`` path."""
    try:
        protocol: Protocol = PROTOCOLS.get(name)
    except RegistryError as exc:
        raise ConfigError(str(exc)) from None
    return protocol


def _finite(task: Task, idx: np.ndarray, *metrics: str) -> np.ndarray:
    """``idx`` without cells where any of ``metrics`` is NaN (unrecorded)."""
    keep = np.ones(idx.size, dtype=bool)
    for m in metrics:
        keep &= np.isfinite(task.column(m)[idx])
    return idx[keep]


def test_cells(task: Task, candidates: np.ndarray, seed: int, config: CompareConfig) -> np.ndarray:
    """The scored cells among ``candidates``: those with a finite target, subsampled (seeded) to
    ``config.test_subsample``. A protocol passes only cells outside training and validation
    (the paper protocol: outside validation; its test set contains the training cells)."""
    test = _finite(task, candidates, config.target_metric)
    if config.test_subsample is not None and test.size > config.test_subsample:
        rng = np.random.default_rng(10_000 + seed)
        test = np.sort(rng.choice(test, size=config.test_subsample, replace=False))
    return test


test_cells.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, whatever imports it


@register_protocol("paper")
def paper_protocol(task: Task, size: int, seed: int, config: CompareConfig) -> Iterator[Split]:
    """Train on the first ``size`` cells in official index order; test on all cells.

    The NN-Former / NAR-Former protocol. With ``validation_size`` (theirs is 1024) the next cells
    are the validation set that picks the checkpoint, and they leave the test set (the papers
    keep them in it: selecting on cells that are scored would leak). The training cells stay in
    the test set as the papers have it; the ``kendall_tau_unseen`` column scores the cells outside
    both. ``seed`` varies only the fit.
    """
    n = len(task)
    if size + config.validation_size >= n:
        raise ConfigError(f"training size {size} + validation_size is not smaller than the space ({n} cells)")
    train = _finite(task, np.arange(size), config.train_metric)
    validation = _finite(task, np.arange(size, size + config.validation_size), config.train_metric)
    test = test_cells(task, np.setdiff1d(np.arange(n), validation), seed, config)
    yield _split(task, config, train, test, validation)


def _split(
    task: Task, config: CompareConfig, train: np.ndarray, test: np.ndarray, validation: np.ndarray
) -> Split:
    """A Split with targets gathered from the task's columns (no validation set when it is empty)."""
    y_train = task.column(config.train_metric)
    return Split(
        train,
        test,
        y_train[train],
        task.column(config.target_metric)[test],
        validation=validation if validation.size else None,
        y_validation=y_train[validation] if validation.size else None,
    )


@register_protocol("random")
def random_protocol(task: Task, size: int, seed: int, config: CompareConfig) -> Iterator[Split]:
    """Train on ``size`` cells drawn at random with ``seed``; with ``validation_size``, N other random
    cells pick the checkpoint; test on every cell outside both."""
    n = len(task)
    if size >= n:
        raise ConfigError(f"training size {size} is not smaller than the space ({n} cells)")
    candidates = _finite(task, np.arange(n), config.train_metric)
    if size + config.validation_size >= candidates.size:
        raise ConfigError(f"training size {size} + validation_size is not smaller than the space ({n} cells)")
    rng = np.random.default_rng(seed)
    train = np.sort(rng.choice(candidates, size=size, replace=False))
    unused = np.setdiff1d(candidates, train, assume_unique=True)
    validation = np.sort(rng.choice(unused, size=config.validation_size, replace=False))
    rest = np.setdiff1d(np.arange(n), np.concatenate([train, validation]))
    test = test_cells(task, rest, seed, config)
    yield _split(task, config, train, test, validation)


def check_split(split: Split, protocol: str = "") -> None:
    """Refuse a split whose validation cells are also scored (checkpoints picked on test cells)."""
    if split.validation is None:
        return
    shared = np.intersect1d(split.validation, split.test)
    if shared.size:
        raise ConfigError(
            f"split protocol {protocol!r} scores {shared.size} of its validation cells (e.g. cell {int(shared[0])}): "
            "validation and test cells must be disjoint"
        )


def unseen_mask(split: Split) -> np.ndarray:
    """Which test cells are outside training and validation (all of them, except under the paper
    protocol, whose test set keeps the training cells)."""
    seen = split.train if split.validation is None else np.concatenate([split.train, split.validation])
    return ~np.isin(split.test, seen)
