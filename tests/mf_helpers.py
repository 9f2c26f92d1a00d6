"""Slow multi-fidelity lookups for the scheduled Ray, kill and retry tests (``mf_helpers:NAME`` in a config)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Hashable
from pathlib import Path
from typing import Any

from nasearch.api import Result
from nasearch.evaluation.benchmark import BenchmarkEvaluator


class SlowMultiFidelity(BenchmarkEvaluator):
    """The benchmark evaluator, sleeping ``delay`` seconds per evaluation at any fidelity."""

    operational_options = ("delay",)

    def __init__(self, space: Any, delay: float = 0.02, **options: Any) -> None:
        super().__init__(space, **options)
        self.delay = delay

    def evaluate_at(self, arch: Hashable, fidelity: float) -> Result:
        time.sleep(self.delay)
        return super().evaluate_at(arch, fidelity)


class RealTimeLookup(SlowMultiFidelity):
    """The slow lookup as if it trained for real: its costs are not recorded ones
    (``recorded_costs = False``), so a scheduled search on Ray sends its jobs to the workers in real
    time. Each evaluation sleeps ``delay`` plus ``scale`` seconds per recorded training second, so
    jobs finish in another order than they started."""

    recorded_costs = False
    operational_options = ("delay", "scale", "trace")

    def __init__(
        self, space: Any, delay: float = 0.02, scale: float = 0.0, trace: str | None = None, **options: Any
    ) -> None:
        super().__init__(space, delay=delay, **options)
        self.scale = scale
        self.trace = trace

    def evaluate_at(self, arch: Hashable, fidelity: float) -> Result:
        """``trace``: a folder where each evaluation started leaves a file (to count them)."""
        if self.trace:
            Path(self.trace, f"{self.space.key(arch)}@{fidelity:g}.{uuid.uuid4().hex}").touch()
        result = BenchmarkEvaluator.evaluate_at(self, arch, fidelity)
        time.sleep(self.delay + self.scale * result.simulated_seconds)
        return result


class HangsOnce(RealTimeLookup):
    """The real-time lookup whose ``hang_at``-th evaluation to start (counted over every worker and
    session in the ``starts`` folder, one file per start, named by its number and holding its job)
    sleeps ``hang_s`` first: one job that runs past a timeout on its first try, and only then."""

    operational_options = ("delay", "scale", "trace", "starts", "hang_at", "hang_s")

    def __init__(
        self, space: Any, starts: str = "", hang_at: int = 0, hang_s: float = 60.0, **options: Any
    ) -> None:
        super().__init__(space, **options)
        self.starts, self.hang_at, self.hang_s = starts, hang_at, hang_s

    def evaluate_at(self, arch: Hashable, fidelity: float) -> Result:
        job = f"{self.space.key(arch)}@{fidelity:g}"
        number = 1
        while True:  # the next free number: exclusive creation orders the starts across processes
            try:
                with open(Path(self.starts, str(number)), "x") as f:
                    f.write(job)
                break
            except FileExistsError:
                number += 1
        if number == self.hang_at:
            time.sleep(self.hang_s)
        return super().evaluate_at(arch, fidelity)
