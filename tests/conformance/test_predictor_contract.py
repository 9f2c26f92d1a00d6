"""Every registered predictor against the Predictor contract, on 40 real NB201 cells.

Parametrized over ``PREDICTORS.names()``: a newly registered predictor is tested at once (and
fails until it has a recipe below). Every fit and predict is given ``hardware`` (one device per
cell): hardware-conditioned predictors (LeDG-Former) use it, the contract says others ignore it.
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest

from conformance.recipes import recipe, stale_recipes
from nasearch.api import PredictsStd, accepts_eval_set, fit_predictor
from nasearch.config.registry import PREDICTORS
from nasearch.optimizers.surrogate import make_predictor

#: predictor name -> constructor options for a fit of a second or less on 40 cells
RECIPES: dict[str, dict[str, Any]] = {
    "nnformer": {"dim": 8, "layers": 1, "heads": 4, "epochs": 3, "batch_size": 16, "threads": 1},
    "ledgformer": {"dim": 8, "layers": 1, "heads": 2, "epochs": 3, "batch_size": 16, "threads": 1},
    "mlp": {"hidden": [16], "epochs": 3, "batch_size": 16, "threads": 1},
    "gin": {"dim": 8, "layers": 1, "epochs": 3, "batch_size": 16, "threads": 1},
    "random_forest": {"n_estimators": 8},
    "params_linear": {},
    "ensemble": {"base": "mlp", "k": 2, "hidden": [8], "epochs": 2, "batch_size": 16, "threads": 1},
}
pytestmark = pytest.mark.filterwarnings("ignore::nasearch.api.experimental.ExperimentalWarning")

#: two devices of nasearch/data/devices.csv, alternating over the cells
DEVICES = ("1080ti_1", "pixel3")


def _make(name: str, seed: int = 0) -> Any:
    """A fresh predictor from its recipe, seeded when it takes a seed (as the optimizers make them)."""
    options = recipe(RECIPES, "predictor", name, "RECIPES in tests/conformance/test_predictor_contract.py")
    return make_predictor({"name": name, **options}, seed=seed)


def _hardware(n: int) -> list[str]:
    return [DEVICES[i % 2] for i in range(n)]


def _fitted(name: str, cells: dict[str, Any], seed: int = 0) -> Any:
    graphs, y = cells["fit"]
    model = _make(name, seed)
    assert model.fit(graphs, y, hardware=_hardware(len(graphs))) is model, "fit must return self"
    return model


def _predict(model: Any, cells: dict[str, Any]) -> np.ndarray:
    graphs, _ = cells["test"]
    return model.predict(graphs, hardware=_hardware(len(graphs)))


def test_every_recipe_is_a_registered_predictor() -> None:
    assert not stale_recipes(RECIPES, PREDICTORS.names())


@pytest.mark.parametrize("name", PREDICTORS.names())
def test_fit_returns_self_and_predicts_one_finite_float_per_cell(name: str, nb201_cells) -> None:
    pred = _predict(_fitted(name, nb201_cells), nb201_cells)
    assert isinstance(pred, np.ndarray) and pred.shape == (10,) and pred.dtype.kind == "f"
    assert np.isfinite(pred).all()
    assert np.ptp(pred) > 0, "the same prediction for every cell"


@pytest.mark.parametrize("name", PREDICTORS.names())
def test_same_seed_same_predictions(name: str, nb201_cells) -> None:
    first = _predict(_fitted(name, nb201_cells, seed=7), nb201_cells)
    again = _predict(_fitted(name, nb201_cells, seed=7), nb201_cells)
    np.testing.assert_allclose(again, first, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", PREDICTORS.names())
def test_pickled_predictor_predicts_the_same(name: str, nb201_cells) -> None:
    """What Ray does to a fitted surrogate: the unpickled copy predicts what the original does."""
    model = _fitted(name, nb201_cells)
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(
        _predict(clone, nb201_cells), _predict(model, nb201_cells), rtol=1e-6, atol=1e-9
    )


@pytest.mark.parametrize("name", PREDICTORS.names())
def test_eval_set_is_taken_where_declared(name: str, nb201_cells) -> None:
    """A predictor whose ``fit`` declares ``eval_set`` trains with one (graphs, y, hardware);
    ``fit_predictor`` drops it for the others. Either way the fit still predicts."""
    graphs, y = nb201_cells["fit"]
    val_graphs, val_y = nb201_cells["valid"]
    model = _make(name)
    eval_set = (val_graphs, val_y, _hardware(len(val_graphs)))
    if accepts_eval_set(model):
        fitted = model.fit(graphs, y, hardware=_hardware(len(graphs)), eval_set=eval_set)
    else:
        fitted = fit_predictor(model, graphs, y, hardware=_hardware(len(graphs)), eval_set=eval_set)
    assert fitted is model
    pred = _predict(model, nb201_cells)
    assert pred.shape == (10,) and np.isfinite(pred).all()


@pytest.mark.parametrize("name", PREDICTORS.names())
def test_predict_std_is_non_negative_per_cell(name: str, nb201_cells) -> None:
    model = _fitted(name, nb201_cells)
    if not isinstance(model, PredictsStd):
        pytest.skip(f"{name} gives no uncertainty (no predict_std)")
    graphs, _ = nb201_cells["test"]
    std = np.asarray(model.predict_std(graphs, hardware=_hardware(len(graphs))))
    assert std.shape == (10,) and np.isfinite(std).all()
    assert (std >= 0).all() and std.max() > 0
