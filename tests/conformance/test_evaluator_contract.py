"""Every registered evaluator against the Evaluator contract: picklable (Ray ships it), a typed
Result, metric names that say their split, and objectives that name metrics it returns.

Parametrized over ``EVALUATORS.names()``: a newly registered evaluator is tested at once (and
fails until it has a recipe below). ``train`` and ``latency`` run on a tiny ``chain`` space (the
embedded digits, one epoch); ``hardware_aware`` trains a one-epoch LeDG-Former once.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from conformance.recipes import METRIC, TEST_METRIC, recipe, stale_recipes
from nasearch.api import KnowsOptimum, Result
from nasearch.config.registry import EVALUATORS, SEARCH_SPACES

#: the data splits a metric computed on data names (``valid_accuracy``, ``cifar10/test_accuracy``)
SPLITS = ("train", "valid", "test")
#: words of metrics computed on a data split (an accuracy, a loss, an error rate)
ON_DATA = ("accuracy", "loss", "error")

pytestmark = pytest.mark.filterwarnings("ignore::nasearch.api.experimental.ExperimentalWarning")


@dataclass(frozen=True)
class Case:
    """An evaluator under test, a cell to evaluate, and the metrics that vary between two runs
    (wall-clock timings)."""

    evaluator: Any
    arch: Hashable
    noisy: frozenset[str] = frozenset()


def _tiny_chain() -> tuple[Any, Hashable]:
    space = SEARCH_SPACES.create("chain", depth=2, kernels=[1, 3], widths=[4, 8])
    return space, space.sample(np.random.default_rng(0))


def _benchmark(request: pytest.FixtureRequest) -> Case:
    space = request.getfixturevalue("nb201_space")
    ev = EVALUATORS.create("benchmark", space=space, metric=METRIC, test_metric=TEST_METRIC)
    return Case(ev, space.sample(np.random.default_rng(0)))


def _train(request: pytest.FixtureRequest) -> Case:
    space, arch = _tiny_chain()
    ev = EVALUATORS.create("train", space=space, epochs=1, dataset="digits", dataset_options={"max_train": 64},
                           batch_size=32, device="cpu", num_threads=1, seed=0)  # fmt: skip
    return Case(ev, arch, frozenset({"train_seconds"}))


def _latency(request: pytest.FixtureRequest) -> Case:
    space, arch = _tiny_chain()
    ev = EVALUATORS.create("latency", space=space, input_shape=[3, 8, 8], warmup=1, repeats=3, num_threads=1)
    return Case(ev, arch, frozenset({"latency_ms", "latency_iqr_ms"}))


def _hardware_aware(request: pytest.FixtureRequest) -> Case:
    """The zero-shot latency of titan_rtx_32 from a one-epoch LeDG-Former on 10 cells per device
    (trained once; its predictions cached in a temporary $NASEARCH_CACHE)."""
    space = request.getfixturevalue("nb201_space")
    cache = request.getfixturevalue("tmp_path_factory").mktemp("conformance-cache")
    tiny = {
        "name": "ledgformer",
        "train_cells": 10,
        "seed": 0,
        "predictor": {"epochs": 1, "batch_size": 128, "log_target": True, "threads": 1},
    }
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NASEARCH_CACHE", str(cache))
        ev = EVALUATORS.create("hardware_aware", space=space, device="titan_rtx_32", test_metric=TEST_METRIC,
                               latency_model=tiny)  # fmt: skip
    return Case(ev, space.sample(np.random.default_rng(0)))


RECIPES: dict[str, Callable[[pytest.FixtureRequest], Case]] = {
    "benchmark": _benchmark,
    "train": _train,
    "latency": _latency,
    "hardware_aware": _hardware_aware,
}

_CASES: dict[str, tuple[Case, Result]] = {}


def _case(name: str, request: pytest.FixtureRequest) -> tuple[Case, Result]:
    """The evaluator ``name`` from its recipe and its result on the case's cell (once per session)."""
    if name not in _CASES:
        make = recipe(RECIPES, "evaluator", name, "RECIPES in tests/conformance/test_evaluator_contract.py")
        case = make(request)
        _CASES[name] = case, case.evaluator.evaluate(case.arch)
    return _CASES[name]


def _objectives(evaluator: Any) -> list[tuple[str, bool]]:
    """``[(metric, maximize)]``: the evaluator's objectives, or its single objective."""
    return [
        tuple(o)
        for o in (getattr(evaluator, "objectives", None) or [(evaluator.objective, evaluator.maximize)])
    ]


def test_every_recipe_is_a_registered_evaluator() -> None:
    assert not stale_recipes(RECIPES, EVALUATORS.names())


@pytest.mark.parametrize("name", EVALUATORS.names())
def test_evaluate_returns_a_result(name: str, request: pytest.FixtureRequest) -> None:
    _, result = _case(name, request)
    assert isinstance(result, Result)
    assert result.metrics and all(
        isinstance(k, str) and isinstance(v, (int, float)) for k, v in result.metrics.items()
    )
    assert result.cost_seconds >= 0 and result.simulated_seconds >= 0


@pytest.mark.parametrize("name", EVALUATORS.names())
def test_pickled_evaluator_gives_the_same_metrics(name: str, request: pytest.FixtureRequest) -> None:
    """What Ray does: the unpickled copy evaluates the cell to the same numbers (timings aside)."""
    case, result = _case(name, request)
    again = pickle.loads(pickle.dumps(case.evaluator)).evaluate(case.arch)
    assert set(again.metrics) == set(result.metrics)
    steady = sorted(set(result.metrics) - case.noisy)
    assert steady, "no metric is reproducible"
    np.testing.assert_allclose(
        [again.metrics[m] for m in steady], [result.metrics[m] for m in steady], rtol=1e-9
    )


@pytest.mark.parametrize("name", EVALUATORS.names())
def test_metric_names_say_their_split(name: str, request: pytest.FixtureRequest) -> None:
    """Every metric computed on data (an accuracy, a loss) names its split (train / valid /
    test); the search never optimises a test metric; the test metric recorded beside the
    objective is one, and is returned."""
    case, result = _case(name, request)
    for metric in (m for m in result.metrics if any(w in m.lower() for w in ON_DATA)):
        assert any(w in metric.lower() for w in SPLITS), f"{metric!r} does not say its split"
    assert not [m for m, _ in _objectives(case.evaluator) if "test" in m.lower()], (
        "a test metric is an objective"
    )
    test_metric = getattr(case.evaluator, "test_metric", None)
    if test_metric is not None:
        assert "test" in test_metric.lower() and test_metric in result.metrics


@pytest.mark.parametrize("name", EVALUATORS.names())
def test_objectives_are_resolved_to_returned_metrics(name: str, request: pytest.FixtureRequest) -> None:
    case, result = _case(name, request)
    objectives = _objectives(case.evaluator)
    assert objectives[0] == (case.evaluator.objective, case.evaluator.maximize)
    assert len({m for m, _ in objectives}) == len(objectives)
    for metric, maximize in objectives:
        assert isinstance(maximize, bool)
        assert metric in result.metrics, (
            f"objective {metric!r} is not among the metrics {sorted(result.metrics)}"
        )
        assert math.isfinite(result.metrics[metric])


@pytest.mark.parametrize("name", EVALUATORS.names())
def test_a_known_optimum_is_what_its_cell_evaluates_to(name: str, request: pytest.FixtureRequest) -> None:
    case, _ = _case(name, request)
    if not isinstance(case.evaluator, KnowsOptimum):
        pytest.skip(f"{name} cannot name the optimum of the space")
    best = case.evaluator.optimum()
    assert best is not None
    value, arch = best
    assert math.isfinite(value)
    if arch is not None:
        assert case.evaluator.evaluate(arch).metrics[case.evaluator.objective] == pytest.approx(value)
