"""The Predictor contract as checks: ``fit`` returns self and ``predict`` one finite float per cell,
the same seed gives the same predictions, a pickled predictor predicts the same, ``eval_set`` is
taken where declared, and ``predict_std`` is a non-negative spread per cell.

Every fit and predict is given ``hardware`` (one device name per cell): hardware-conditioned
predictors use it, the contract says others ignore it.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from nasearch.api import ArchGraph, FitsAndPredicts, PredictsStd, accepts_eval_set, fit_predictor
from nasearch.testing.checks import Check, CheckSkipped, check, label, run_checks

#: two devices of nasearch/data/devices.csv, alternating over the cells
DEVICES: tuple[str, ...] = ("1080ti_1", "pixel3")
#: the ops of ``example_cells``
EXAMPLE_OPS: tuple[str, ...] = ("conv3x3", "conv1x1", "avgpool", "skip")


class Cells(NamedTuple):
    """Cells to fit on, to validate on (``eval_set``) and to predict, with their targets."""

    fit: tuple[Sequence[ArchGraph], np.ndarray]
    valid: tuple[Sequence[ArchGraph], np.ndarray]
    test: tuple[Sequence[ArchGraph], np.ndarray]


def example_cells(seed: int = 0, sizes: tuple[int, int, int] = (40, 10, 10)) -> Cells:
    """Random 6-node cells (``EXAMPLE_OPS`` between an input and an output, random forward edges)
    with a target that their ops and edges determine, plus noise: data to check a predictor's
    contract on when you have no table of your own. Not a benchmark: say nothing about accuracy."""
    rng = np.random.default_rng(seed)
    weight = {"conv3x3": 2.0, "conv1x1": 1.0, "avgpool": 0.5, "skip": 0.0}
    graphs: list[ArchGraph] = []
    y: list[float] = []
    for _ in range(sum(sizes)):
        inner = [EXAMPLE_OPS[int(i)] for i in rng.integers(len(EXAMPLE_OPS), size=4)]
        n = len(inner) + 2
        adjacency = np.triu(rng.integers(0, 2, size=(n, n)), k=1)
        adjacency[np.arange(n - 1), np.arange(1, n)] = 1  # a chain keeps every node on a path
        graphs.append(ArchGraph(("input", *inner, "output"), adjacency))
        y.append(sum(weight[op] for op in inner) + 0.1 * float(adjacency.sum()) + float(rng.normal(0, 0.1)))
    target = np.asarray(y)
    a, b = sizes[0], sizes[0] + sizes[1]
    return Cells((graphs[:a], target[:a]), (graphs[a:b], target[a:b]), (graphs[b:], target[b:]))


@dataclass
class PredictorCase:
    """A predictor under test: ``make(seed=...)`` returns a fresh, unfitted predictor (the class, a
    ``functools.partial`` of it with your options, or a function that drops the seed if it takes
    none); ``cells`` what it is fitted on (``example_cells()`` by default); ``devices`` the hardware
    passed alongside, alternating over the cells (None: no hardware)."""

    make: Callable[..., FitsAndPredicts]
    cells: Cells | None = None
    devices: tuple[str, ...] | None = DEVICES
    name: str = ""
    _cells: Cells | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.name:
            self.name = label(self.make)

    @property
    def data(self) -> Cells:
        """The cells the checks use."""
        if self._cells is None:
            self._cells = example_cells() if self.cells is None else self.cells
        return self._cells

    def hardware(self, n: int) -> list[str] | None:
        """One device per cell, alternating over ``devices``."""
        return None if not self.devices else [self.devices[i % len(self.devices)] for i in range(n)]

    def fitted(self, seed: int = 0) -> FitsAndPredicts:
        """A fresh predictor fitted on the fit cells; its fit must return the predictor itself."""
        graphs, y = self.data.fit
        model = self.make(seed=seed)
        assert model.fit(graphs, y, hardware=self.hardware(len(graphs))) is model, "fit must return self"
        return model

    def predict(self, model: FitsAndPredicts) -> np.ndarray:
        """``model``'s predictions for the test cells."""
        graphs, _ = self.data.test
        return np.asarray(model.predict(graphs, hardware=self.hardware(len(graphs))))


@check("fit_returns_self_and_predicts_one_finite_float_per_cell")
def _fit_predict(case: PredictorCase) -> None:
    """``fit`` returns self; ``predict`` a float array, one finite value per cell, not all equal."""
    model = case.fitted()
    graphs, _ = case.data.test
    pred = model.predict(graphs, hardware=case.hardware(len(graphs)))
    assert isinstance(pred, np.ndarray), f"predict gave a {type(pred).__name__}, not a numpy array"
    assert pred.shape == (len(graphs),), f"predict gave shape {pred.shape} for {len(graphs)} cells"
    assert pred.dtype.kind == "f", f"predict gave dtype {pred.dtype}, not float"
    assert np.isfinite(pred).all(), "predict gave a value that is not finite"
    assert np.ptp(pred) > 0, "the same prediction for every cell"


@check("same_seed_same_predictions")
def _same_seed(case: PredictorCase) -> None:
    """Two predictors made and fitted with seed 7 predict the same."""
    first = case.predict(case.fitted(seed=7))
    again = case.predict(case.fitted(seed=7))
    np.testing.assert_allclose(again, first, rtol=1e-6, atol=1e-9, err_msg="seed 7 twice, two predictions")


@check("pickled_predictor_predicts_the_same")
def _pickled(case: PredictorCase) -> None:
    """What Ray does to a fitted surrogate: the unpickled copy predicts what the original does."""
    model = case.fitted()
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(
        case.predict(clone), case.predict(model), rtol=1e-6, atol=1e-9, err_msg="the unpickled copy differs"
    )


@check("eval_set_is_taken_where_declared")
def _eval_set(case: PredictorCase) -> None:
    """A predictor whose ``fit`` declares ``eval_set`` trains with one (graphs, y, hardware);
    ``fit_predictor`` drops it for the others. Either way the fit still predicts."""
    graphs, y = case.data.fit
    val_graphs, val_y = case.data.valid
    model = case.make(seed=0)
    eval_set = (val_graphs, val_y, case.hardware(len(val_graphs)))
    if accepts_eval_set(model):
        fitted = model.fit(graphs, y, hardware=case.hardware(len(graphs)), eval_set=eval_set)
    else:
        fitted = fit_predictor(model, graphs, y, hardware=case.hardware(len(graphs)), eval_set=eval_set)
    assert fitted is model, "fit must return self"
    pred = case.predict(model)
    n = len(case.data.test[0])
    assert pred.shape == (n,) and np.isfinite(pred).all(), "no finite prediction per cell"


@check("predict_std_is_non_negative_per_cell")
def _predict_std(case: PredictorCase) -> None:
    """Where the predictor has ``predict_std``: one finite, non-negative spread per cell, not all 0."""
    model = case.fitted()
    if not isinstance(model, PredictsStd):
        raise CheckSkipped(f"{case.name} gives no uncertainty (no predict_std)")
    graphs, _ = case.data.test
    std = np.asarray(model.predict_std(graphs, hardware=case.hardware(len(graphs))))
    assert std.shape == (len(graphs),), f"predict_std gave shape {std.shape} for {len(graphs)} cells"
    assert np.isfinite(std).all(), "predict_std gave a value that is not finite"
    assert (std >= 0).all() and std.max() > 0, "predict_std is negative somewhere, or 0 everywhere"


#: every check of a predictor, in the order ``check_predictor`` runs them
PREDICTOR_CHECKS: tuple[Check[PredictorCase], ...] = (
    _fit_predict,
    _same_seed,
    _pickled,
    _eval_set,
    _predict_std,
)


def check_predictor(
    make: Callable[..., FitsAndPredicts],
    *,
    cells: Cells | None = None,
    devices: tuple[str, ...] | None = DEVICES,
) -> dict[str, str]:
    """Run every predictor check on the predictors ``make(seed=...)`` returns (fresh and unfitted each
    call), fitted on ``cells`` (default ``example_cells()``). Returns ``{check: "passed" | "skipped:
    why"}``; raises ``AssertionError`` at the first failure."""
    case = PredictorCase(make, cells, devices)
    return run_checks(f"predictor {case.name!r}", case, PREDICTOR_CHECKS)
