"""Test-local parts for the search tests: a tiny ridge surrogate and evaluators that misbehave."""

from __future__ import annotations

import os
import time
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nasearch.api import Evaluator, Result
from nasearch.api.graph import ArchGraph


class RidgeSurrogate:
    """Ridge regression on one-hot ops per node position + adjacency: fast, and good enough to
    rank NB201 cells far better than chance (what the guided optimizers need)."""

    def __init__(self, alpha: float = 1.0, seed: int = 0) -> None:
        self.alpha = alpha
        self.seed = seed
        self.vocab: dict[str, int] = {}
        self.n = 0
        self.w: np.ndarray | None = None

    def _x(self, graphs: Sequence[ArchGraph]) -> np.ndarray:
        rows = []
        for g in graphs:
            onehot = np.zeros((self.n, len(self.vocab)))
            for i, op in enumerate(g.ops[: self.n]):
                if op in self.vocab:
                    onehot[i, self.vocab[op]] = 1
            adj = np.zeros((self.n, self.n))
            m = min(self.n, g.n_nodes)
            adj[:m, :m] = g.adjacency[:m, :m]
            rows.append(np.concatenate([onehot.ravel(), adj[np.triu_indices(self.n, 1)], [1.0]]))
        return np.array(rows)

    def fit(self, graphs: Sequence[ArchGraph], y: Sequence[float], hardware: Any = None) -> RidgeSurrogate:
        self.vocab = {op: i for i, op in enumerate(sorted({op for g in graphs for op in g.ops}))}
        self.n = max(g.n_nodes for g in graphs)
        x = self._x(graphs)
        y = np.asarray(y, dtype=float)
        self.w = np.linalg.solve(x.T @ x + self.alpha * np.eye(x.shape[1]), x.T @ y)
        return self

    def predict(self, graphs: Sequence[ArchGraph], hardware: Any = None) -> np.ndarray:
        assert self.w is not None
        return self._x(graphs) @ self.w


class RidgeEnsembleSurrogate(RidgeSurrogate):
    """The ridge surrogate with a ``predict_std``, for Bayesian optimisation: the spread of ridge
    fits on ``members`` bootstrap resamples of the training cells. It differs from cell to cell,
    so a test of UCB or EI notices an acquisition that ignores (or misuses) the spread."""

    def __init__(self, alpha: float = 1.0, seed: int = 0, members: int = 8) -> None:
        super().__init__(alpha, seed)
        self.members = members
        self.ws: list[np.ndarray] = []

    def fit(
        self, graphs: Sequence[ArchGraph], y: Sequence[float], hardware: Any = None
    ) -> RidgeEnsembleSurrogate:
        super().fit(graphs, y)
        x, target = self._x(graphs), np.asarray(y, dtype=float)
        rng = np.random.default_rng(self.seed)
        self.ws = []
        for _ in range(self.members):
            i = rng.integers(0, len(target), len(target))
            self.ws.append(
                np.linalg.solve(x[i].T @ x[i] + self.alpha * np.eye(x.shape[1]), x[i].T @ target[i])
            )
        return self

    def predict_std(self, graphs: Sequence[ArchGraph], hardware: Any = None) -> np.ndarray:
        x = self._x(graphs)
        return np.stack([x @ w for w in self.ws]).std(axis=0)


class FlakyEvaluator(Evaluator):
    """Wraps a benchmark evaluator; raises for cells whose string contains ``fail_op`` on edge 0."""

    def __init__(self, inner: Any, fail_op: str = "avg_pool_3x3") -> None:
        self.inner = inner
        self.fail_op = fail_op
        self.objective, self.maximize = inner.objective, inner.maximize
        self.objectives = inner.objectives
        self.test_metric = inner.test_metric

    def evaluate(self, arch: Hashable) -> Result:
        if arch[0] == self.fail_op:  # type: ignore[index]
            raise RuntimeError(f"simulated training crash on {arch[0]}")
        return self.inner.evaluate(arch)


class DyingEvaluator(Evaluator):
    """Kills its own worker process (``os._exit``) the first time it sees each cell, marking it in
    ``marker_dir``; the retry then succeeds. Only meaningful on Ray workers."""

    objective = "cifar10-valid/valid_accuracy"

    def __init__(self, inner: Any, marker_dir: str, die_times: int = 1) -> None:
        self.inner = inner
        self.marker_dir = marker_dir
        self.die_times = die_times

    def evaluate(self, arch: Hashable) -> Result:
        marker = Path(self.marker_dir) / ("-".join(arch) + ".died")  # type: ignore[arg-type]
        count = int(marker.read_text()) if marker.exists() else 0
        if count < self.die_times:
            marker.write_text(str(count + 1))
            os._exit(1)
        return self.inner.evaluate(arch)


class SlowEvaluator(Evaluator):
    """A benchmark evaluator that sleeps ``delay`` seconds per cell (real-time runs to kill)."""

    operational_options = ("delay",)  # a resume may speed it up: the numbers mean the same

    def __init__(self, inner: Any, delay: float = 0.05) -> None:
        self.inner = inner
        self.delay = delay
        self.objective, self.maximize = inner.objective, inner.maximize

    def evaluate(self, arch: Hashable) -> Result:
        time.sleep(self.delay)
        return self.inner.evaluate(arch)


def _bench(space: Any, options: dict[str, Any]) -> Any:
    from nasearch.evaluation.benchmark import BenchmarkEvaluator

    return BenchmarkEvaluator(space, **options)


class FlakyBenchmark(FlakyEvaluator):
    """YAML-constructible: ``evaluator: {name: "search_helpers:FlakyBenchmark", metric: ...}``."""

    def __init__(self, space: Any, fail_op: str = "avg_pool_3x3", **options: Any) -> None:
        super().__init__(_bench(space, options), fail_op)


class DyingBenchmark(DyingEvaluator):
    """YAML-constructible worker killer (see DyingEvaluator)."""

    def __init__(self, space: Any, marker_dir: str = "", die_times: int = 1, **options: Any) -> None:
        inner = _bench(space, options)
        super().__init__(inner, marker_dir, die_times)
        self.objectives = inner.objectives
        self.test_metric = inner.test_metric


class SlowBenchmark(SlowEvaluator):
    """YAML-constructible slow lookup (see SlowEvaluator)."""

    def __init__(self, space: Any, delay: float = 0.05, **options: Any) -> None:
        inner = _bench(space, options)
        super().__init__(inner, delay)
        self.objectives = inner.objectives
        self.test_metric = inner.test_metric


class WhereFittedSurrogate(RidgeSurrogate):
    """The ridge surrogate, remembering the process it was fitted in (remote refit tests)."""

    fitted_in: int | None = None

    def fit(
        self, graphs: Sequence[ArchGraph], y: Sequence[float], hardware: Any = None
    ) -> WhereFittedSurrogate:
        super().fit(graphs, y, hardware)
        self.fitted_in = os.getpid()
        return self


class HangingBenchmark(Evaluator):
    """A benchmark lookup that hangs (sleeps ``hang_s``) on cells whose edge 0 is ``hang_op``,
    writing its worker's PID to ``pid_dir`` first (so a test can see the worker was killed)."""

    operational_options = ("hang_s", "pid_dir")  # how long it hangs does not change the numbers

    def __init__(
        self,
        space: Any,
        hang_op: str = "avg_pool_3x3",
        hang_s: float = 60.0,
        pid_dir: str = "",
        **options: Any,
    ) -> None:
        self.inner = _bench(space, options)
        self.objective, self.maximize = self.inner.objective, self.inner.maximize
        self.objectives, self.test_metric = self.inner.objectives, self.inner.test_metric
        self.hang_op, self.hang_s, self.pid_dir = hang_op, hang_s, pid_dir

    def evaluate(self, arch: Hashable) -> Result:
        if arch[0] == self.hang_op and self.hang_s > 0:  # type: ignore[index]
            if self.pid_dir:
                (Path(self.pid_dir) / f"{os.getpid()}.pid").write_text("-".join(arch))  # type: ignore[arg-type]
            time.sleep(self.hang_s)
        return self.inner.evaluate(arch)


class RaisingBenchmark(Evaluator):
    """Raises ``error`` ('data', 'config', 'missing_file' or 'runtime') for every cell, unless
    ``fixed`` (the cause repaired); otherwise a benchmark lookup."""

    def __init__(self, space: Any, error: str = "data", fixed: bool = False, **options: Any) -> None:
        self.inner = _bench(space, options)
        self.objective, self.maximize = self.inner.objective, self.inner.maximize
        self.objectives, self.test_metric = self.inner.objectives, self.inner.test_metric
        self.error, self.fixed = error, fixed

    operational_options = ("fixed",)

    def evaluate(self, arch: Hashable) -> Result:
        if not self.fixed:
            from nasearch.api.errors import ConfigError, DataError

            if self.error == "data":
                raise DataError("benchmark table '/data/x.csv' is damaged: simulated")
            if self.error == "config":
                raise ConfigError("network option C must be positive, got -4: simulated")
            if self.error == "missing_file":
                open("/nonexistent/nasearch/cifar-10-batches-py/test_batch", "rb")
            raise RuntimeError("simulated cell crash")
        return self.inner.evaluate(arch)


class NaNBenchmark(Evaluator):
    """A benchmark lookup whose objective is NaN on cells whose edge 0 is ``nan_op``."""

    def __init__(self, space: Any, nan_op: str = "none", **options: Any) -> None:
        self.inner = _bench(space, options)
        self.objective, self.maximize = self.inner.objective, self.inner.maximize
        self.objectives, self.test_metric = self.inner.objectives, self.inner.test_metric
        self.nan_op = nan_op

    def evaluate(self, arch: Hashable) -> Result:
        result = self.inner.evaluate(arch)
        if arch[0] == self.nan_op:  # type: ignore[index]
            return Result({**result.metrics, self.objective: float("nan")}, result.cost_seconds)
        return result


class TypoEvaluator(Evaluator):
    """An evaluator with a typo in ``evaluate``: every cell fails (a user's first plug-in)."""

    objective = "score"

    def __init__(self, space: Any) -> None:
        self.space = space

    def evaluate(self, arch: Hashable) -> Result:
        return Result({"score": float(len(self.spce.to_str(arch)))})  # type: ignore[attr-defined]


class ChainScore(Evaluator):
    """A deterministic score of a chain-space cell (no tables): the sum of its widths and kernels."""

    objective = "score"

    def __init__(self, space: Any) -> None:
        self.space = space

    def evaluate(self, arch: Hashable) -> Result:
        return Result({"score": float(sum(w + k for _, k, w in arch))})  # type: ignore[misc]


class CrashingBenchmark(Evaluator):
    """A benchmark lookup that ends its process on some cells: ``how`` is ``exit`` (raises
    SystemExit(3)), ``os_exit`` (``os._exit(3)``) or ``segfault``; the cells are those whose edge 0
    is ``crash_op``, or the one cell ``crash_arch`` (its string)."""

    def __init__(
        self, space: Any, how: str = "os_exit", crash_op: str = "", crash_arch: str = "", **options: Any
    ) -> None:
        self.space = space
        self.inner = _bench(space, options)
        self.objective, self.maximize = self.inner.objective, self.inner.maximize
        self.objectives, self.test_metric = self.inner.objectives, self.inner.test_metric
        self.how, self.crash_op, self.crash_arch = how, crash_op, crash_arch

    def evaluate(self, arch: Hashable) -> Result:
        if (self.crash_op and arch[0] == self.crash_op) or self.space.to_str(arch) == self.crash_arch:  # type: ignore[index]
            if self.how == "exit":
                raise SystemExit(3)
            if self.how == "segfault":
                import ctypes

                ctypes.string_at(0)
            os._exit(3)
        return self.inner.evaluate(arch)


class SlowExitBenchmark(Evaluator):
    """A benchmark lookup taking ``delay`` seconds a cell, whose process spends ``exit_s`` seconds in
    an exit handler (as a Ray shutdown can): where a second Ctrl-C lands after the first."""

    def __init__(self, space: Any, delay: float = 0.2, exit_s: float = 5.0, **options: Any) -> None:
        import atexit

        self.inner = _bench(space, options)
        self.objective, self.maximize = self.inner.objective, self.inner.maximize
        self.objectives, self.test_metric = self.inner.objectives, self.inner.test_metric
        self.delay = delay
        atexit.register(time.sleep, exit_s)

    def evaluate(self, arch: Hashable) -> Result:
        time.sleep(self.delay)
        return self.inner.evaluate(arch)


class OptionsOnlySurrogate(RidgeSurrogate):
    """A surrogate whose constructor takes only ``**options`` and refuses a ``seed``: whether it
    takes one is found once, when its spec is resolved (``nasearch.config.surrogate``)."""

    built: list[dict[str, Any]] = []

    def __init__(self, **options: Any) -> None:
        if "seed" in options:
            from nasearch.api.errors import ConfigError

            raise ConfigError("OptionsOnlySurrogate takes no seed")
        OptionsOnlySurrogate.built.append(dict(options))
        super().__init__(alpha=float(options.get("alpha", 1.0)))
