"""Shared fixtures: the real benchmark tables (the ones embedded in the package) and the NB201 benchmark.

The tests need no data folder: they read the tables that ship inside nasearch, exactly as a user
on a fresh machine does. ``NASEARCH_DATA`` is cleared so a developer's own folder cannot change
what the tests see.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nasearch.data_manifest import EMBEDDED_DIR

REPO = Path(__file__).resolve().parent.parent

os.environ.pop("NASEARCH_DATA", None)


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The folder of the real tables as shipped (gzip-compressed CSV/JSON, see MANIFEST.json)."""
    return EMBEDDED_DIR


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
