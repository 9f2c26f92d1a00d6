"""The typed seams: mypy sees the plug-in folders under their installed names, the pools follow the
WorkerPool contract, SearchSpace is generic without losing its runtime capability checks, and the
registries hand back their contract's types."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import numpy as np

from nasearch.api import (
    AnySpace,
    ArchGraph,
    CategoricalEncoding,
    Enumerable,
    Evaluator,
    Neighbours,
    Optimizer,
    Outcome,
    Result,
    SearchSpace,
    StartHook,
    has_capability,
)
from nasearch.config.registry import EVALUATORS, OPTIMIZERS, SEARCH_SPACES

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_checks_the_plugin_folders_under_their_installed_names() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    config = text[text.index("[tool.mypy]") :]
    files = re.search(r"^files = \[(.*)\]$", config, re.M)
    assert files is not None
    for folder in ("search_spaces", "predictors"):
        link = ROOT / ".ci" / "mypy" / "nasearch" / folder
        assert f'".ci/mypy/nasearch/{folder}"' in files.group(1)
        assert link.resolve() == (ROOT / folder).resolve(), f"{link} must point at {folder}/"
    assert '"nasearch"' in files.group(1)
    for line in ('mypy_path = [".ci/mypy"]', "explicit_package_bases = true", "strict = true"):
        assert line in config.splitlines()


class _Echo(Evaluator):
    objective = "x"

    def evaluate(self, arch: object) -> Result:
        if arch == "bad":
            raise ValueError("a bad cell")
        return Result({"x": float(len(str(arch)))})


def test_the_serial_pool_follows_the_worker_pool_contract() -> None:
    from nasearch.evaluation.pool import SerialPool, make_pool

    pool = make_pool(_Echo(), "serial")
    assert isinstance(pool, SerialPool) and isinstance(pool, StartHook)
    assert pool.backend == "serial" and pool.capacity == 1 and pool.fitter() is None
    started: list[object] = []
    pool.on_start = started.append
    tickets = [pool.submit("abc"), pool.submit("bad")]
    assert pool.in_flight == 2
    outcomes = pool.wait() + pool.wait()
    assert [type(o) for o in outcomes] == [Outcome, Outcome] and pool.wait() == []
    assert [o.ticket for o in outcomes] == tickets and started == ["abc", "bad"]
    ok, failed = outcomes
    assert ok.result is not None and ok.result.metrics == {"x": 3.0} and ok.error is None
    assert failed.result is None and failed.error is not None and "a bad cell" in failed.error
    pool.close()


def test_the_ray_pool_is_no_start_hook() -> None:
    from nasearch.evaluation.pool import BACKENDS, RayPool

    assert BACKENDS["ray"] is RayPool and not hasattr(RayPool, "on_start")


def test_a_generic_space_keeps_its_runtime_capabilities() -> None:
    nb201 = SEARCH_SPACES.create("nasbench201")
    assert isinstance(nb201, SearchSpace)
    for protocol in (Neighbours, Enumerable, CategoricalEncoding):
        assert isinstance(nb201, protocol)
    arch = nb201.sample(np.random.default_rng(0))
    assert nb201.from_str(nb201.to_str(arch)) == arch
    assert typing.get_origin(AnySpace) is SearchSpace

    class Bare(SearchSpace[int]):
        def sample(self, rng: np.random.Generator) -> int:
            return int(rng.integers(10))

        def mutate(self, arch: int, rng: np.random.Generator) -> int:
            return (arch + 1) % 10

        def to_graph(self, arch: int) -> ArchGraph:
            raise NotImplementedError

        def to_str(self, arch: int) -> str:
            return str(arch)

        def from_str(self, text: str) -> int:
            return int(text)

    bare = Bare()
    assert not isinstance(bare, Neighbours) and not has_capability(bare, "enumerate")


def test_registries_create_their_contract_types() -> None:
    space = SEARCH_SPACES.create("nasbench201")
    optimizer = OPTIMIZERS.create("random", space=space, objectives="x", seed=0)
    assert isinstance(optimizer, Optimizer)
    evaluator = EVALUATORS.create("benchmark", space=space)
    assert isinstance(evaluator, Evaluator)
