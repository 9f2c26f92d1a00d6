"""The run YAML schema (``nasearch run``): typed sections, registry blocks checked against the
constructor they feed, and every error pointing at the file, the dotted key and its line.

A registry block is ``{name: NAME, options: {...}}`` with options also allowed inline
(``{name: evolution, population_size: 30}``); ``optimizer`` may be a list of such blocks
(each with a ``label``) to compare optimizers under one run name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from nasearch.api.errors import ConfigError
from nasearch.config.blocks import Block, parse_block
from nasearch.config.loader import Source, apply_overrides, build_dataclass, load_yaml
from nasearch.schedulers.config import scheduler_block


@dataclass
class Budget:
    """When a seed stops: after ``queries`` evaluations and/or ``simulated_seconds`` of recorded
    training time (whichever comes first), or, with ``stop_at_optimum``, once the benchmark's optimum
    (its cell or an isomorph) is evaluated: the incumbent, chosen on the searched column, cannot change
    after that, so a search's figures stay what the full budget gives (``nasearch.search.trajectory``
    extends its trajectory to ``queries``) at a fraction of the cost."""

    queries: int | None = None
    simulated_seconds: float | None = None
    stop_at_optimum: bool = False

    def __post_init__(self) -> None:
        if self.queries is None and self.simulated_seconds is None:
            raise ValueError("give budget.queries and/or budget.simulated_seconds")
        if self.queries is not None and self.queries < 1:
            raise ValueError(f"budget.queries must be >= 1, got {self.queries}")
        if self.simulated_seconds is not None and self.simulated_seconds <= 0:
            raise ValueError(f"budget.simulated_seconds must be > 0, got {self.simulated_seconds}")
        if not isinstance(self.stop_at_optimum, bool):
            raise ValueError(f"budget.stop_at_optimum: expected true or false, got {self.stop_at_optimum!r}")

    def as_dict(self) -> dict[str, object]:
        """As plain data; ``stop_at_optimum`` only when set (the options hash of every run without it stays)."""
        out: dict[str, object] = {"queries": self.queries, "simulated_seconds": self.simulated_seconds}
        if self.stop_at_optimum:
            out["stop_at_optimum"] = True
        return out


@dataclass
class Resources:
    """What one evaluation asks Ray for."""

    num_cpus: float = 1.0
    num_gpus: float = 0.0


@dataclass
class Parallel:
    """Where evaluations run: ``ray`` (local with ``workers``, or a cluster at ``address``) or
    ``serial`` (in the driver, for debugging). ``max_retries``: retries of a lost worker's task.
    ``surrogate_resources``: run surrogate refits as Ray tasks with these resources.
    ``timeout_s``: an evaluation still running this many seconds after it was submitted is
    cancelled (its Ray worker killed) and recorded as a timed-out failure. ``cell_tries``: how
    often, at most, a cell that timed out or lost its worker is evaluated (the retry budget)."""

    backend: Literal["ray", "serial"] = "ray"
    workers: int = 2
    address: str | None = None
    resources: Resources = field(default_factory=Resources)
    max_retries: int = 3
    #: where surrogate refits run: None = in the driver; else a Ray task with these resources
    #: (e.g. ``{num_gpus: 1}``: a GPU worker, when one is free), ensemble members in parallel
    surrogate_resources: Resources | None = None
    timeout_s: float | None = None
    #: the retry budget of a cell that timed out or lost its worker: at most this many evaluations
    #: of it, over every session (resumes retry it until then); ``--retry-failed`` forces one more
    cell_tries: int = 2
    #: serial backend: evaluate each cell in a forked child process, so an evaluator that exits or
    #: crashes (``os._exit``, a segfault) fails that cell only (Ray workers are processes already)
    isolate: bool = False

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"parallel.workers must be >= 1, got {self.workers}")
        if self.timeout_s is not None and self.timeout_s <= 0:
            raise ValueError(
                f"parallel.timeout_s must be > 0 seconds (or null for none), got {self.timeout_s}"
            )
        if self.isolate and self.backend != "serial":
            raise ValueError(
                "parallel.isolate is for backend: serial (Ray evaluates in worker processes already)"
            )
        if self.cell_tries < 1:
            raise ValueError(f"parallel.cell_tries must be >= 1, got {self.cell_tries}")
        if self.max_retries < 0:
            raise ValueError(f"parallel.max_retries must be >= 0, got {self.max_retries}")
        if self.surrogate_resources is not None and self.backend != "ray":
            raise ValueError("parallel.surrogate_resources needs backend: ray (serial fits in the driver)")


@dataclass
class RunConfig:
    """A validated run: what to search, how to evaluate, with which optimizer(s), how long."""

    name: str
    search_space: Block
    evaluator: Block
    optimizers: list[Block]
    budget: Budget
    seeds: list[int] = field(default_factory=lambda: [0])
    parallel: Parallel = field(default_factory=Parallel)
    storage: str | None = None
    output: str | None = None
    data_dir: str | None = None
    reference_point: list[float] | None = None
    source: Source = field(default_factory=lambda: Source("<config>"))
    #: which cell runs at which fidelity (None: every cell at full fidelity, the plain loop)
    scheduler: Block | None = None

    @property
    def scheduled(self) -> bool:
        """Whether any optimizer runs under a scheduler (the run's or its own block's): a multi-fidelity run."""
        return any(self.scheduler_for(b) is not None for b in self.optimizers)

    def scheduler_for(self, block: Block) -> Block | None:
        """The scheduler block that applies to an optimizer block: its own, else the run's (None: none)."""
        return block.scheduler or self.scheduler


@dataclass
class _Schema:
    """The top-level keys as typed in YAML (blocks stay mappings until checked by registry)."""

    name: str
    search_space: object
    evaluator: object
    optimizer: object
    budget: Budget
    seeds: object = field(default_factory=lambda: [0])
    parallel: Parallel = field(default_factory=Parallel)
    storage: str | None = None
    output: str | None = None
    data_dir: str | None = None
    reference_point: list[float] | None = None
    scheduler: object = None


def load_run_config(path: str, overrides: Sequence[str] = ()) -> RunConfig:
    """Read, override (``--set``) and validate a run YAML."""
    data, source = load_yaml(path)
    data = apply_overrides(data, overrides, source)
    return parse_run_config(data, source)


def parse_run_config(data: Mapping[str, object], source: Source) -> RunConfig:
    """Validate a run mapping; every ConfigError names the file, key and line."""
    schema = build_dataclass(_Schema, data, source)
    if not schema.name or "/" in schema.name:
        raise ConfigError(
            f"{source.where('name')}: a run name must be non-empty and contain no '/', got {schema.name!r}"
        )
    seeds = _seeds(schema.seeds, source)
    space = parse_block(schema.search_space, "search_space", source, "search_spaces")
    evaluator = parse_block(schema.evaluator, "evaluator", source, "evaluators")
    raw_opts = schema.optimizer if isinstance(schema.optimizer, list) else [schema.optimizer]
    if not raw_opts:
        raise ConfigError(f"{source.where('optimizer')}: give at least one optimizer")
    optimizers = []
    for i, raw in enumerate(raw_opts):
        key = f"optimizer[{i}]" if isinstance(schema.optimizer, list) else "optimizer"
        block = parse_block(raw, key, source, "optimizers", allow_label=True, scheduler=scheduler_block)
        if isinstance(schema.optimizer, list) and not block.label:
            block.label = block.name
        optimizers.append(block)
    labels = [b.label for b in optimizers]
    dupes = sorted({lab for lab in labels if labels.count(lab) > 1})
    if dupes:
        raise ConfigError(
            f"{source.where('optimizer')}: optimizer labels must be unique, repeated: {', '.join(dupes)}"
        )
    scheduler = None
    if schema.scheduler is not None:
        scheduler = scheduler_block(schema.scheduler, "scheduler", source)
    return RunConfig(
        name=schema.name,
        search_space=space,
        evaluator=evaluator,
        optimizers=optimizers,
        budget=schema.budget,
        seeds=seeds,
        parallel=schema.parallel,
        storage=schema.storage,
        output=schema.output,
        data_dir=schema.data_dir,
        reference_point=schema.reference_point,
        source=source,
        scheduler=scheduler,
    )


def _seeds(value: object, source: Source) -> list[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise ConfigError(f"{source.where('seeds')}: a seed count must be >= 1, got {value}")
        return list(range(value))
    if (
        isinstance(value, list)
        and value
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        if len(set(value)) != len(value):
            raise ConfigError(f"{source.where('seeds')}: seeds must be distinct, got {value}")
        return list(value)
    raise ConfigError(
        f"{source.where('seeds')}: expected a list of integer seeds (or a count), got {value!r}"
    )


def to_dict(cfg: RunConfig) -> dict[str, object]:
    """The resolved config as plain data (written beside the run as ``config.yaml``)."""
    out: dict[str, Any] = {
        "name": cfg.name,
        "seeds": cfg.seeds,
        "search_space": {"name": cfg.search_space.name, **cfg.search_space.options},
        "evaluator": {"name": cfg.evaluator.name, **cfg.evaluator.options},
        "optimizer": [
            {
                "name": b.name,
                **({"label": b.label} if b.label else {}),
                **b.options,
                **({"scheduler": {"name": b.scheduler.name, **b.scheduler.options}} if b.scheduler else {}),
            }
            for b in cfg.optimizers
        ],
        "budget": cfg.budget.as_dict(),
        "parallel": dataclasses.asdict(cfg.parallel),
        "storage": cfg.storage,
        "output": cfg.output,
        "data_dir": cfg.data_dir,
        "reference_point": cfg.reference_point,
    }
    if cfg.scheduler is not None:
        out["scheduler"] = {"name": cfg.scheduler.name, **cfg.scheduler.options}
    if len(out["optimizer"]) == 1 and not cfg.optimizers[0].label:
        out["optimizer"] = out["optimizer"][0]
    return out
