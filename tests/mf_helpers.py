"""A slow multi-fidelity lookup for the kill test (importable as ``mf_helpers:SlowMultiFidelity``)."""

from __future__ import annotations

import time
from collections.abc import Hashable
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
