"""Shared fixtures: the real benchmark tables (the ones embedded in the package) and the NB201 benchmark.

The tests need no data folder: they read the tables that ship inside nasearch, exactly as a user
on a fresh machine does. ``NASEARCH_DATA`` is cleared so a developer's own folder cannot change
what the tests see.

Ray: ``ray_local`` is one local Ray shared by the in-process Ray tests, and a test that starts
Ray (counted by an audit hook on ``subprocess.Popen``) without the ``ray`` marker fails, so that
``pytest -m ray`` / ``-m "not ray"`` select what they say.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from nasearch.data.manifest import EMBEDDED_DIR

REPO = Path(__file__).resolve().parent.parent

os.environ.pop("NASEARCH_DATA", None)


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The folder of the real tables as shipped (gzip-compressed CSV/JSON, see MANIFEST.json)."""
    return EMBEDDED_DIR


@pytest.fixture(scope="session")
def nb201_benchmark(data_root: Path):
    """One NAS-Bench-201 benchmark shared by the whole session (tables load once)."""
    from nasearch.search_spaces.nasbench201.benchmark import NasBench201Benchmark

    return NasBench201Benchmark(data_root)


@pytest.fixture(scope="session")
def nb201_space(nb201_benchmark):
    """The NB201 space bound to the shared benchmark."""
    from nasearch.search_spaces.nasbench201.space import NasBench201Space

    space = NasBench201Space()
    space._benchmark = nb201_benchmark
    return space


@pytest.fixture(scope="session")
def ray_local():
    """One local Ray (2 CPUs) shared by the in-process Ray tests, started once: a fresh Ray and
    its workers (which import torch) cost seconds each, which kept ``-m ray`` over a minute.
    search_helpers is shipped to the workers by value (they cannot import the tests folder)."""
    ray = pytest.importorskip("ray")
    import search_helpers

    ray.cloudpickle.register_pickle_by_value(search_helpers)
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield ray
    if started:
        ray.shutdown()


#: Ray processes this test process has spawned so far (counted by the audit hook below)
_RAY_SPAWNS = [0]
_RAY_PROGRAMS = {"gcs_server", "raylet", "ray"}  # a local Ray's core processes; the ``ray start`` CLI


def _count_ray_spawns(event: str, args: tuple) -> None:
    """Audit hook: count subprocesses that are Ray (``ray.init`` starting a local Ray, ``ray start``)."""
    program = args[1] if event == "subprocess.Popen" else None
    if isinstance(program, (list, tuple)) and program and os.path.basename(str(program[0])) in _RAY_PROGRAMS:
        _RAY_SPAWNS[0] += 1


sys.addaudithook(_count_ray_spawns)


@pytest.fixture(autouse=True)
def _ray_tests_are_marked(request: pytest.FixtureRequest):
    """A test that starts Ray must carry the ``ray`` marker, so that ``pytest -m ray`` and
    ``-m "not ray"`` select what they say."""
    before = _RAY_SPAWNS[0]
    yield
    if _RAY_SPAWNS[0] > before and request.node.get_closest_marker("ray") is None:
        pytest.fail(f"{request.node.nodeid} starts Ray: mark it @pytest.mark.ray", pytrace=False)
