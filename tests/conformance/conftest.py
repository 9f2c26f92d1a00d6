"""Fixtures of the conformance suites: real NB201 cells and the benchmark lookup evaluator."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from conformance.recipes import METRIC, TEST_METRIC
from nasearch.api.graph import ArchGraph


@pytest.fixture(scope="session")
def nb201_lookup(nb201_space) -> Any:
    """The benchmark evaluator on the shared NB201 space (cheap table lookups)."""
    from nasearch.evaluation.benchmark import BenchmarkEvaluator

    return BenchmarkEvaluator(nb201_space, metric=METRIC, test_metric=TEST_METRIC)


@pytest.fixture(scope="session")
def nb201_cells(nb201_space, nb201_benchmark) -> dict[str, Any]:
    """60 real NB201 cells (a seeded draw from the table) as ArchGraphs with their valid accuracy:
    40 to fit on, 10 to validate on (``eval_set``), 10 to predict."""
    idx = np.random.default_rng(18).choice(15625, size=60, replace=False)
    graphs: list[ArchGraph] = [nb201_space.to_graph(nb201_benchmark.arch(int(i))) for i in idx]
    y = np.asarray(nb201_benchmark.column(METRIC), dtype=float)[idx]
    return {"fit": (graphs[:40], y[:40]), "valid": (graphs[40:50], y[40:50]), "test": (graphs[50:], y[50:])}
