"""Every registered evaluator against the Evaluator contract, through the kit a plug-in author runs
on theirs (``nasearch.testing``: ``EVALUATOR_CHECKS``): picklable (Ray ships it), a typed Result,
metric names that say their split, and objectives that name metrics it returns.

Parametrized over ``EVALUATORS.names()`` × the checks: a newly registered evaluator of ours is tested
at once (and fails until it has a recipe below); one installed beside nasearch without a recipe is
skipped. ``train`` and ``latency`` run on a tiny ``chain`` space (the embedded digits, 1 and 2 epochs);
``hardware_aware`` trains a one-epoch LeDG-Former once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import pytest

from conformance.recipes import METRIC, TEST_METRIC, recipe, stale_recipes
from nasearch.config.registry import EVALUATORS, SEARCH_SPACES
from nasearch.testing import EVALUATOR_CHECKS, Check, EvaluatorCase
from nasearch.testing.pytest_checks import skipping

pytestmark = pytest.mark.filterwarnings("ignore::nasearch.api.experimental.ExperimentalWarning")


def _tiny_chain() -> tuple[Any, Hashable]:
    space = SEARCH_SPACES.create("chain", depth=2, kernels=[1, 3], widths=[4, 8])
    return space, space.sample(np.random.default_rng(0))


def _benchmark(request: pytest.FixtureRequest) -> EvaluatorCase:
    space = request.getfixturevalue("nb201_space")
    ev = EVALUATORS.create("benchmark", space=space, metric=METRIC, test_metric=TEST_METRIC)
    return EvaluatorCase(ev, space.sample(np.random.default_rng(0)))


def _train(request: pytest.FixtureRequest) -> EvaluatorCase:
    space, arch = _tiny_chain()
    ev = EVALUATORS.create(
        "train",
        space=space,
        epochs=2,
        fidelities=[1, 2],  # the fidelity check: a promotion continues from a checkpoint
        dataset="digits",
        dataset_options={"max_train": 64},
        batch_size=32,
        device="cpu",
        num_threads=1,
        seed=0,
    )
    return EvaluatorCase(ev, arch, frozenset({"train_seconds"}))


def _latency(request: pytest.FixtureRequest) -> EvaluatorCase:
    space, arch = _tiny_chain()
    ev = EVALUATORS.create("latency", space=space, input_shape=[3, 8, 8], warmup=1, repeats=3, num_threads=1)
    return EvaluatorCase(ev, arch, frozenset({"latency_ms", "latency_iqr_ms"}))


def _hardware_aware(request: pytest.FixtureRequest) -> EvaluatorCase:
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
        ev = EVALUATORS.create(
            "hardware_aware", space=space, device="titan_rtx_32", test_metric=TEST_METRIC, latency_model=tiny
        )
    return EvaluatorCase(ev, space.sample(np.random.default_rng(0)))


RECIPES: dict[str, Callable[[pytest.FixtureRequest], EvaluatorCase]] = {
    "benchmark": _benchmark,
    "train": _train,
    "latency": _latency,
    "hardware_aware": _hardware_aware,
}

_CASES: dict[str, EvaluatorCase] = {}


def _case(name: str, request: pytest.FixtureRequest) -> EvaluatorCase:
    """The evaluator ``name`` from its recipe; the case keeps its first result (one per session)."""
    if name not in _CASES:
        make = recipe(RECIPES, EVALUATORS, name, "RECIPES in tests/conformance/test_evaluator_contract.py")
        case = make(request)
        case.name = name
        _CASES[name] = case
    return _CASES[name]


def test_every_recipe_is_a_registered_evaluator() -> None:
    assert not stale_recipes(RECIPES, EVALUATORS.names())


@pytest.mark.parametrize("check", EVALUATOR_CHECKS, ids=lambda one: one.name)
@pytest.mark.parametrize("name", EVALUATORS.names())
def test_evaluator_contract(name: str, check: Check[EvaluatorCase], request: pytest.FixtureRequest) -> None:
    skipping(check)(_case(name, request))
