"""Benchmark lookup evaluator: any space with ``benchmark()`` answers from its tables, and the
simulated cost is the training time the table recorded."""

from __future__ import annotations

import re
import time
from collections.abc import Hashable, Sequence
from typing import ClassVar

from nasearch.api import AnySpace, Evaluator, HasBenchmark, Indexable, Result
from nasearch.api.errors import ConfigError, suggest
from nasearch.api.objective import objective_list


class BenchmarkEvaluator(Evaluator):
    """Look a cell up in its space's benchmark tables.

    ``metric`` is a full benchmark metric name (``cifar10-valid/valid_accuracy``), or a short
    one (``valid_accuracy``) joined to ``dataset``; ``fidelity`` (epochs, e.g. 12) picks the
    ``@<fidelity>ep`` column where the table has one. ``objectives`` (a list of
    ``{metric, direction}``) replaces ``metric``/``maximize`` for multi-objective search.
    ``test_metric`` is recorded beside the objective (curves report the incumbent's test value;
    default: the ``test_accuracy`` of the same dataset when the table has it). ``cost_metric``
    gives the simulated training seconds (default: the dataset's ``train_time``, else the
    table's only ``*/train_time`` as a proxy, else none); ``extra_metrics`` are recorded too.
    ``low_fidelity_metric``: the column a multi-fidelity search reads the objective from at a low
    fidelity (its ``@<n>ep`` columns), where the full objective has no low-fidelity twin, or another is
    wanted: e.g. ``cifar100/valid_accuracy`` (12 epochs) beside the 200-epoch ``cifar100/test_accuracy``
    (NAS-Bench-201's 200-epoch CIFAR-100 and ImageNet16-120 tables have no validation column for every
    cell).

    A subclass that computes a metric itself (not a table column) names it in ``computed_metrics``:
    it may be an objective, and ``evaluate`` never looks it up (the subclass adds its value).
    """

    #: metrics the evaluator computes itself: accepted as objectives, never read from the table
    computed_metrics: ClassVar[tuple[str, ...]] = ()
    #: its costs are the table's recorded training times (``nasearch.api.fidelity.RecordedCosts``): a
    #: scheduled search replays them on the simulated clock, on any backend
    recorded_costs: bool = True

    def __init__(
        self,
        space: AnySpace,
        metric: str = "cifar10-valid/valid_accuracy",
        dataset: str | None = None,
        fidelity: int | None = None,
        maximize: bool = True,
        objectives: Sequence[object] | None = None,
        test_metric: str | None = "auto",
        cost_metric: str | None = "auto",
        extra_metrics: Sequence[str] = (),
        low_fidelity_metric: str | None = None,
    ) -> None:
        if not isinstance(space, HasBenchmark):
            raise ConfigError(
                f"evaluator 'benchmark' needs a search space with benchmark tables; "
                f"{type(space).__name__} has none (use the real-training evaluator 'train')"
            )
        self.space: HasBenchmark = space
        known = list(space.benchmark().metrics())
        self._known = known
        if objectives:
            self.objectives = [
                (self._resolve(m, dataset, fidelity), mx) for m, mx in objective_list(objectives)
            ]
        else:
            self.objectives = [(self._resolve(metric, dataset, fidelity), bool(maximize))]
        self.objective, self.maximize = self.objectives[0]
        main_dataset = self.objective.split("/", 1)[0] if "/" in self.objective else (dataset or "")
        self.test_metric = self._auto(test_metric, [f"{main_dataset}/test_accuracy"], "test_metric")
        suffix = f"@{fidelity}ep" if fidelity else ""
        self.cost_metric = self._auto(
            cost_metric,
            [
                f"{main_dataset}/train_time{suffix}",
                f"{main_dataset}/train_time",
                *sorted(m for m in known if m.endswith("/train_time")),
            ],
            "cost_metric",
        )
        self.cost_scale = 1.0
        if fidelity and self.cost_metric and not self.cost_metric.endswith(suffix):
            per_epoch = self.cost_metric + "_per_epoch"
            if per_epoch in known:  # a low-fidelity run costs its epochs, not the full schedule
                self.cost_metric, self.cost_scale = per_epoch, float(fidelity)
        self.extra_metrics = [self._check(m, "extra_metrics") for m in extra_metrics]
        names = [m for m, _ in self.objectives] + [self.test_metric, self.cost_metric, *self.extra_metrics]
        self.metrics = list(dict.fromkeys(m for m in names if m and m not in self.computed_metrics))
        self.low_fidelity_metric = None
        if low_fidelity_metric is not None:
            name = (
                low_fidelity_metric
                if "/" in low_fidelity_metric or not dataset
                else f"{dataset}/{low_fidelity_metric}"
            )
            if not any(m.startswith(name + "@") for m in known):
                raise ConfigError(
                    f"evaluator low_fidelity_metric: the benchmark has no low-fidelity column of {name!r} "
                    f"(low-fidelity metrics: {', '.join(m for m in known if '@' in m) or 'none'})"
                )
            self.low_fidelity_metric = name

    def _check(self, metric: str, what: str) -> str:
        if metric not in self._known:
            raise ConfigError(
                f"evaluator {what}: {type(self.space).__name__}'s benchmark has no metric "
                f"{metric!r}{suggest(metric, self._known, n=3)}"
            )
        return metric

    def _resolve(self, metric: str, dataset: str | None, fidelity: int | None) -> str:
        if metric in self.computed_metrics:
            return metric
        name = metric if "/" in metric or not dataset else f"{dataset}/{metric}"
        if fidelity:
            low = f"{name}@{fidelity}ep"
            if low not in self._known:
                raise ConfigError(
                    f"evaluator fidelity {fidelity}: the benchmark has no {low!r} "
                    f"(low-fidelity metrics: {', '.join(m for m in self._known if '@' in m) or 'none'})"
                )
            name = low
        return self._check(name, "metric")

    def _auto(self, value: str | None, candidates: list[str], what: str) -> str | None:
        if value is None:
            return None
        if value != "auto":
            return self._check(value, what)
        return next((c for c in candidates if c in self._known), None)

    def evaluate(self, arch: Hashable) -> Result:
        start = time.perf_counter()
        values = self.space.benchmark().query(arch, self.metrics)
        simulated = float(values.get(self.cost_metric, 0.0)) * self.cost_scale if self.cost_metric else 0.0
        return Result(
            metrics=dict(values),
            cost_seconds=time.perf_counter() - start,
            simulated_seconds=simulated if simulated == simulated else 0.0,
        )

    # --- fidelities (nasearch.api.fidelity.MultiFidelity) -----------------------------------------
    def fidelities(self) -> tuple[float, ...]:
        """The epochs this evaluator can measure the objective at: every ``<objective>@<n>ep`` column
        below the table's full epochs (``Benchmark.full_epochs``), then the full fidelity; empty when
        the table does not say how many epochs its full columns are, or ``fidelity`` fixed one."""
        full = getattr(self.space.benchmark(), "full_epochs", None)
        if not full or "@" in self.objective:
            return ()
        pattern = re.compile(re.escape(self.low_fidelity_metric or self.objective) + r"@(\d+)ep$")
        low = sorted(int(m.group(1)) for m in map(pattern.match, self._known) if m and int(m.group(1)) < full)
        return (*(float(f) for f in low), float(full))

    def evaluate_at(self, arch: Hashable, fidelity: float) -> Result:
        """``evaluate`` at ``fidelity`` epochs: at a low fidelity each metric comes from its ``@<n>ep``
        column (metrics without one are left out) under its full name, and the cost is the table's
        per-epoch time x epochs. The full fidelity is exactly ``evaluate``."""
        offered = self.fidelities()
        if fidelity not in offered:
            raise ConfigError(
                f"evaluator: fidelity {fidelity:g} is not offered (offered: "
                f"{', '.join(f'{f:g}' for f in offered) or 'none'})"
            )
        if fidelity == offered[-1]:
            return self.evaluate(arch)
        start = time.perf_counter()
        tag = f"@{int(fidelity)}ep"
        names = {m + tag: m for m in self.metrics if m + tag in self._known}
        if self.low_fidelity_metric:  # the objective at this fidelity comes from its own column
            names = {k: m for k, m in names.items() if m != self.objective}
            names[self.low_fidelity_metric + tag] = self.objective
        values = self.space.benchmark().query(arch, list(names))
        metrics = {names[k]: float(v) for k, v in values.items()}
        return Result(
            metrics=metrics,
            cost_seconds=time.perf_counter() - start,
            simulated_seconds=self._low_cost(arch, fidelity),
            info={"fidelity": fidelity},
        )

    def _low_cost(self, arch: Hashable, fidelity: float) -> float:
        if not self.cost_metric:
            return 0.0
        tagged = f"{self.cost_metric}@{int(fidelity)}ep"
        if tagged in self._known:
            value = float(self.space.benchmark().query(arch, [tagged])[tagged])
        elif self.cost_metric + "_per_epoch" in self._known:
            per_epoch = self.cost_metric + "_per_epoch"
            value = float(self.space.benchmark().query(arch, [per_epoch])[per_epoch]) * fidelity
        else:
            return 0.0
        return value if value == value else 0.0

    def promotion_cost(self, arch: Hashable, low: float, high: float) -> float:
        """A table's fidelities are separate training runs: a promotion pays the whole ``high`` run."""
        if high == self.fidelities()[-1]:
            return self.evaluate(arch).simulated_seconds
        return self._low_cost(arch, high)

    def optimum(self, metric: str | None = None) -> tuple[float, Hashable | None] | None:
        """Best recorded value of ``metric`` (the objective by default) and the cell that has it
        (None when the space cannot fetch a cell by index), when the benchmark can list the
        whole column; None otherwise. The value is the table's own (``Benchmark.optimum``)."""
        metric = metric or self.objective
        best = self.space.benchmark().optimum(metric, dict(self.objectives).get(metric, True))
        if best is None:
            return None
        arch = self.space.from_index(best.row) if isinstance(self.space, Indexable) else None
        return best.value, arch
