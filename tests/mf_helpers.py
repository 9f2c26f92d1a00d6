"""A slow multi-fidelity lookup for the kill test (importable as ``mf_helpers:SlowMultiFidelity``)."""

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
