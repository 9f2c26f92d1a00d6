"""Every registered predictor against the Predictor contract, on 40 real NB201 cells, through the kit
a plug-in author runs on theirs (``nasearch.testing``: ``PREDICTOR_CHECKS``).

Parametrized over ``PREDICTORS.names()`` × the checks: a newly registered predictor of ours is tested
at once (and fails until it has a recipe below); one installed beside nasearch without a recipe is
skipped. Every fit and predict is given ``hardware`` (one device per cell): hardware-conditioned
predictors (LeDG-Former) use it, the contract says others ignore it.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.recipes import recipe, stale_recipes
from nasearch.config.registry import PREDICTORS
from nasearch.optimizers.surrogate import make_predictor
from nasearch.testing import PREDICTOR_CHECKS, Cells, Check, PredictorCase
from nasearch.testing.pytest_checks import skipping

#: predictor name -> constructor options for a fit of a second or less on 40 cells
RECIPES: dict[str, dict[str, Any]] = {
    "nnformer": {"dim": 8, "layers": 1, "heads": 4, "epochs": 3, "batch_size": 16, "threads": 1},
    "ledgformer": {"dim": 8, "layers": 1, "heads": 2, "epochs": 3, "batch_size": 16, "threads": 1},
    "mlp": {"hidden": [16], "epochs": 3, "batch_size": 16, "threads": 1},
    "gin": {"dim": 8, "layers": 1, "epochs": 3, "batch_size": 16, "threads": 1},
    "random_forest": {"n_estimators": 8},
    "params_linear": {},
    "ensemble": {"base": "mlp", "k": 2, "hidden": [8], "epochs": 2, "batch_size": 16, "threads": 1},
    "proxy_ridge": {"space": "nasbench201"},
}
pytestmark = pytest.mark.filterwarnings("ignore::nasearch.api.experimental.ExperimentalWarning")

#: two devices of nasearch/data/devices.csv, alternating over the cells
DEVICES = ("1080ti_1", "pixel3")


def _case(name: str, nb201_cells: dict[str, Any]) -> PredictorCase:
    """The predictor ``name`` from its recipe, made as optimizers make it (seeded where it takes a seed)."""
    options = recipe(RECIPES, PREDICTORS, name, "RECIPES in tests/conformance/test_predictor_contract.py")
    cells = Cells(nb201_cells["fit"], nb201_cells["valid"], nb201_cells["test"])
    spec = {"name": name, **options}
    return PredictorCase(lambda seed: make_predictor(spec, seed=seed), cells, DEVICES, name)


def test_every_recipe_is_a_registered_predictor() -> None:
    assert not stale_recipes(RECIPES, PREDICTORS.names())


@pytest.mark.parametrize("check", PREDICTOR_CHECKS, ids=lambda one: one.name)
@pytest.mark.parametrize("name", PREDICTORS.names())
def test_predictor_contract(name: str, check: Check[PredictorCase], nb201_cells: dict[str, Any]) -> None:
    skipping(check)(_case(name, nb201_cells))
