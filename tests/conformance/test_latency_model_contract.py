"""Every registered latency estimator (``latency_models.LATENCY_MODELS``) against its contract, on NB201.

Parametrized over ``LATENCY_MODELS.names()``: a newly registered estimator of ours is tested at once
(and fails until it has a recipe below); one installed beside nasearch without a recipe is skipped.
``estimate(task)`` gives one finite, positive latency per cell, the same twice, and the estimator
pickles (a run ships its evaluator to Ray workers).
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest

from conformance.recipes import recipe, stale_recipes
from nasearch.data.devices import load_devices
from nasearch.search_spaces.nasbench201.latency_models import LATENCY_MODELS, build_task

#: estimator -> (constructor options, whether it needs measured cells of the target)
RECIPES: dict[str, tuple[dict[str, Any], bool]] = {
    "geomean": ({}, False),
    "nearest_device": ({}, False),
    "params_flops": ({}, False),
    "blend": ({}, False),
    "combination": ({}, True),
    "ledgformer": (
        {
            "train_cells": 10,
            "seed": 0,
            "predictor": {"epochs": 1, "batch_size": 128, "log_target": True, "threads": 1},
        },
        False,
    ),
}
#: two training settings on other dies keep the LeDG-Former recipe quick
DEVICES = ["1080ti_32", "gold_6240"]


@pytest.mark.parametrize("name", LATENCY_MODELS.names())
def test_estimate_gives_one_positive_latency_per_cell(name: str, nb201_space, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("NASEARCH_CACHE", str(tmp_path))
    where = "RECIPES in tests/conformance/test_latency_model_contract.py"
    options, needs_shots = recipe(RECIPES, LATENCY_MODELS, name, where)
    true = np.asarray(nb201_space.benchmark().column("latency/titan_rtx_32"), dtype=float)
    shots = {i: float(true[i]) for i in range(0, 15625, 1000)} if needs_shots else None
    task = build_task(nb201_space, load_devices()["titan_rtx_32"], DEVICES, shots)
    estimator = LATENCY_MODELS.create(name, **options)
    first = np.asarray(estimator.estimate(task), dtype=float)
    assert first.shape == (task.cells,) == (15625,)
    assert np.isfinite(first).all() and (first > 0).all()
    np.testing.assert_allclose(pickle.loads(pickle.dumps(estimator)).estimate(task), first)


def test_no_recipe_is_stale() -> None:
    assert not stale_recipes(RECIPES, LATENCY_MODELS.names())
