"""Shared fixtures: the real data folder (``$NASEARCH_DATA``, else ``../shared/data``) and the NB201 tables."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

if not os.environ.get("NASEARCH_DATA"):
    default = REPO.parent / "shared" / "data"
    if default.is_dir():
        os.environ["NASEARCH_DATA"] = str(default)


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real benchmark data folder; the real-data tests need it and say so when it is missing."""
    raw = os.environ.get("NASEARCH_DATA")
    if not raw or not Path(raw).is_dir():
        pytest.fail("the real-data tests need NASEARCH_DATA pointing at the benchmark data folder (../shared/data)")
    return Path(raw)


@pytest.fixture(scope="session")
def nb201_benchmark(data_root: Path):
    """One NAS-Bench-201 benchmark shared by the whole session (tables load once)."""
    from search_spaces.nasbench201.benchmark import NasBench201Benchmark

    return NasBench201Benchmark(data_root)


@pytest.fixture(scope="session")
def nb201_space(nb201_benchmark):
    """The NB201 space bound to the shared benchmark."""
    from search_spaces.nasbench201.space import NasBench201Space

    space = NasBench201Space()
    space._benchmark = nb201_benchmark
    return space
