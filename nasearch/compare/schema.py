"""The YAML schema of ``nasearch compare``: ``CompareConfig``, loading it, and the predictor blocks."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from nasearch.api.errors import ConfigError, NasearchError
from nasearch.config.loader import Source, apply_overrides, build_dataclass, load_yaml
from nasearch.config.options import check_options
from nasearch.config.registry import PREDICTORS


@dataclasses.dataclass
class CompareConfig:
    """The YAML schema of ``nasearch compare`` (every key is documented in the README, section "Predictors")."""

    name: str
    sizes: list[int]
    predictors: dict[str, Any]
    space: str = "nasbench201"
    space_options: dict[str, object] = dataclasses.field(default_factory=dict)
    data_dir: str | None = None
    #: the target the predictors train on
    train_metric: str = "cifar10-valid/valid_accuracy"
    #: the target they are scored against (default: train_metric)
    test_metric: str | None = None
    protocol: str = "paper"
    protocol_options: dict[str, object] = dataclasses.field(default_factory=dict)
    seeds: list[int] = dataclasses.field(default_factory=lambda: [0])
    #: score MAPE and Acc(10%) too; None = yes for ``latency/...`` test metrics
    relative_metrics: bool | None = None
    #: score on a seeded random subset of this many test cells (None: all of them)
    test_subsample: int | None = None
    #: torch CPU threads per fit (None: torch's default, which on shared cores is many times slower)
    threads: int | None = 1
    #: fits run in parallel, each in its own process (None: the CPUs this process may use; 1: in this process)
    workers: int | None = None
    #: cells (on the train metric) given to predictors that take an ``eval_set``, to pick their
    #: best checkpoint: the next N cells after the training ones (paper protocol; the paper's N
    #: is 1024) or N random non-training cells (random protocol). 0: none.
    validation_size: int = 0

    def __post_init__(self) -> None:
        if not self.sizes or any(s < 2 for s in self.sizes):
            raise ValueError(f"sizes must be a non-empty list of integers >= 2, got {self.sizes}")
        if not self.seeds:
            raise ValueError("seeds must list at least one seed")
        if not self.predictors:
            raise ValueError("predictors must name at least one predictor")
        if self.test_subsample is not None and self.test_subsample < 2:
            raise ValueError("test_subsample must be >= 2 or null")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"workers must be >= 1 or null (the CPUs available), got {self.workers}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be >= 1 or null (torch's default), got {self.threads}")
        if self.validation_size != 0 and self.validation_size < 2:
            raise ValueError(f"validation_size must be 0 (none) or >= 2, got {self.validation_size}")

    @property
    def target_metric(self) -> str:
        """The metric the test cells are scored on."""
        return self.test_metric or self.train_metric

    @property
    def relative(self) -> bool:
        """Whether MAPE and Acc(10%) apply."""
        if self.relative_metrics is not None:
            return self.relative_metrics
        return self.target_metric.startswith("latency/")


def predictor_specs(config: CompareConfig, source: Source) -> dict[str, tuple[str, dict[str, object]]]:
    """label -> (registry name, options); a block may set ``name:`` to reuse a predictor under another label."""
    specs: dict[str, tuple[str, dict[str, object]]] = {}
    for label, block in config.predictors.items():
        where = source.where(f"predictors.{label}")
        if block is None:
            block = {}
        if not isinstance(block, Mapping):
            raise ConfigError(f"{where}: a predictor block must be a mapping of options, got {block!r}")
        options = dict(block)
        name = str(options.pop("name", label))
        try:
            factory = PREDICTORS.get(name)
            check_options(factory, options, f"predictor {name!r}")
            PREDICTORS.create(name, **options)  # constructors validate their values: fail before any fit
        except NasearchError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        specs[str(label)] = (name, options)
    return specs


def load_config(path: str, overrides: list[str] | None = None) -> tuple[CompareConfig, Source]:
    """Read, override and validate a compare YAML."""
    data, source = load_yaml(path)
    data = apply_overrides(data, overrides or [], source)
    return build_dataclass(CompareConfig, data, source), source
