"""A search's trajectory: the incumbent after each query and when the optimum was found.

This is the one definition. The runner's report, the search curves (``nasearch plot``) and the
benchmark scripts all replay a study's records, in order, through ``Incumbent``, so "queries to
the optimum" is the same number wherever it is printed.

The optimum counts as found at the first completed query whose cell has the benchmark's optimum
*key* (the cell itself or an isomorph); where the run recorded only the optimum's *value*, at the
first completed query whose objective reaches it. Failed and non-finite results never become the
incumbent.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nasearch.api.errors import ConfigError
from nasearch.config.blocks import Block
from nasearch.config.run_schema import Budget, RunConfig
from nasearch.search.tracking import COMPLETE, Record


@dataclass(frozen=True)
class OptimumTarget:
    """What "the optimum was found" means for one study: the optimum's key and/or its value."""

    value: float | None = None
    key: str | None = None
    maximize: bool = True

    @property
    def known(self) -> bool:
        """Whether this study can say when (or whether) its search found the optimum."""
        return self.key is not None or self.value is not None

    def reached_by(self, key: str, value: float) -> bool:
        """Whether a completed cell with ``key`` and objective ``value`` is the optimum."""
        if self.key is not None:
            return key == self.key
        if self.value is not None and math.isfinite(value):
            return value >= self.value if self.maximize else value <= self.value
        return False


@dataclass(frozen=True)
class KnownOptimum:
    """The benchmark's optimum as a run records it (``run.json`` and each study's attributes): the best
    objective value, the key and string of the cell that has it, and the best test value."""

    value: float | None = None
    key: str | None = None
    arch: str | None = None
    test_value: float | None = None

    def attrs(self) -> dict[str, float | str]:
        """The recorded keys (``optimum``, ``optimum_key``, ``optimum_arch``, ``test_optimum``), those known."""
        named = {
            "optimum": self.value,
            "optimum_key": self.key,
            "optimum_arch": self.arch,
            "test_optimum": self.test_value,
        }
        return {k: v for k, v in named.items() if v is not None}

    @classmethod
    def from_attrs(cls, attrs: Mapping[str, Any]) -> KnownOptimum:
        """Read back what :meth:`attrs` recorded (missing keys: unknown)."""

        def number(name: str) -> float | None:
            value = attrs.get(name)
            return None if value is None else float(value)

        def text(name: str) -> str | None:
            value = attrs.get(name)
            return None if value is None else str(value)

        return cls(number("optimum"), text("optimum_key"), text("optimum_arch"), number("test_optimum"))

    def target(self, maximize: bool) -> OptimumTarget:
        """What "found the optimum" means with this optimum (its key, else its value)."""
        return OptimumTarget(self.value, self.key, maximize)


@dataclass
class Incumbent:
    """The best-so-far cell over a study's records, told one at a time, and when the optimum was found.

    ``objectives`` are ``(metric, maximize)`` pairs; the first is the one the incumbent is chosen by.
    ``points`` collects every completed record's objective values (multi-objective runs: the front)."""

    objectives: Sequence[tuple[str, bool]]
    target: OptimumTarget = field(default_factory=OptimumTarget)
    test_metric: str | None = None
    best: Record | None = None
    count: int = 0
    failures: int = 0
    #: the 1-based query at which the optimum was first evaluated (None: not yet)
    found_at: int | None = None
    points: list[tuple[list[float], Record]] = field(default_factory=list)

    def update(self, rec: Record) -> None:
        """Account for the next record of the study."""
        self.count += 1
        if rec.state != COMPLETE:
            self.failures += 1
            return
        metric, maximize = self.objectives[0]
        value = float(rec.metrics.get(metric, math.nan))
        if self.found_at is None and self.target.reached_by(rec.key, value):
            self.found_at = self.count
        if len(self.objectives) > 1:
            self.points.append(([rec.metrics[m] for m, _ in self.objectives], rec))
        if not math.isfinite(value):
            return
        if self.best is None or (value > self.best_value if maximize else value < self.best_value):
            self.best = rec

    @property
    def best_value(self) -> float:
        """The incumbent's objective value (NaN before any completed query)."""
        return float(self.best.metrics[self.objectives[0][0]]) if self.best is not None else math.nan

    @property
    def best_test(self) -> float | None:
        """The incumbent's test metric, when the study records one."""
        if self.best is None or not self.test_metric:
            return None
        value = self.best.metrics.get(self.test_metric)
        return None if value is None else float(value)


#: the study attribute that says a search stopped at the optimum is read as if it ran this many queries
EXTEND_ATTR = "stop_at_optimum_budget"


def stop_attrs(cfg: RunConfig) -> dict[str, int]:
    """The study attributes of ``budget.stop_at_optimum``: the query budget a stopped search's trajectory
    is extended to (none without the option, without a query budget, or under a scheduler, whose
    queries count evaluations at every fidelity)."""
    budget = cfg.budget
    if budget.stop_at_optimum and budget.queries is not None and not cfg.scheduled:
        return {EXTEND_ATTR: budget.queries}
    return {}


def stops_at_optimum(budget: Budget, scheduler: Block | None = None) -> bool:
    """Whether a search ends once it has evaluated the benchmark's optimum: ``budget.stop_at_optimum``,
    or, for a scheduled optimizer block, ``stop_at_optimum`` in its scheduler block (the same switch,
    set for that block only). The one place this is decided."""
    return budget.stop_at_optimum or bool(scheduler is not None and scheduler.options.get("stop_at_optimum"))


def check_stop_at_optimum(
    budget: Budget,
    objectives: Sequence[object],
    optimum: KnownOptimum,
    schedulers: Sequence[Block | None] = (),
) -> None:
    """Refuse ``stop_at_optimum`` (the budget's, or a scheduler block's in ``schedulers``) where "found
    the optimum" means nothing: several objectives (a front has no single optimum) or an evaluator
    that knows no optimum (the search would never stop)."""
    if not any(stops_at_optimum(budget, s) for s in (None, *schedulers)):
        return
    where = "budget.stop_at_optimum" if budget.stop_at_optimum else "scheduler stop_at_optimum"
    if len(objectives) > 1:
        raise ConfigError(f"{where}: a multi-objective run has no single optimum to stop at")
    if not optimum.target(True).known:
        raise ConfigError(f"{where}: the evaluator knows no optimum (only a lookup table does): remove it")


def replay(records: Iterable[Record], incumbent: Incumbent) -> Iterable[Incumbent]:
    """Tell ``incumbent`` each record in turn, yielding it after each (the per-query states)."""
    for rec in records:
        incumbent.update(rec)
        yield incumbent


def queries_to_optimum(
    records: Iterable[Record], objectives: Sequence[tuple[str, bool]], target: OptimumTarget
) -> int | None:
    """The query at which the optimum was first evaluated (None: not found or not known)."""
    incumbent = Incumbent(objectives, target)
    for _ in replay(records, incumbent):
        pass
    return incumbent.found_at


__all__ = [
    "EXTEND_ATTR",
    "Incumbent",
    "KnownOptimum",
    "OptimumTarget",
    "check_stop_at_optimum",
    "stops_at_optimum",
    "queries_to_optimum",
    "replay",
    "stop_attrs",
]
