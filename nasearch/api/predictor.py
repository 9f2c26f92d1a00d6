"""The Predictor contract: scikit-learn style fit/predict on ArchGraphs, and the named mean/std result.

``fit(graphs, y, hardware=None)`` learns from evaluated cells; ``predict(graphs, hardware=None)``
returns the predicted mean as a float array; models that can give uncertainty also implement
``predict_std`` (the ``PredictsStd`` capability). ``hardware`` is an optional per-sample
description (a device name or a dict of its attributes) for hardware-conditioned surrogates;
others ignore it. Predictors that can select a checkpoint on a validation set also take
``fit(..., eval_set=(graphs, y[, hardware]))``; ``fit_predictor`` passes one only to those.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

from nasearch.api.graph import ArchGraph

Hardware = Sequence[Any] | None
#: training targets, one per graph
Targets = Sequence[float] | np.ndarray


class MeanStd(NamedTuple):
    """A surrogate's prediction: the mean per cell, and its standard deviation where the model has one."""

    mean: np.ndarray
    std: np.ndarray | None = None


class Predictor(ABC):
    """Base class for surrogates; ``fit`` returns ``self`` like scikit-learn estimators."""

    @abstractmethod
    def fit(self, graphs: Sequence[ArchGraph], y: Targets, hardware: Hardware = None) -> Predictor:
        """Train on ``graphs`` with targets ``y``."""

    @abstractmethod
    def predict(self, graphs: Sequence[ArchGraph], hardware: Hardware = None) -> np.ndarray:
        """Predicted target for each graph."""


@runtime_checkable
class FitsAndPredicts(Protocol):
    """Any object with the predictor methods (a plug-in need not subclass ``Predictor``)."""

    def fit(self, graphs: Sequence[ArchGraph], y: Targets, hardware: Hardware = None) -> Any:
        """Train on ``graphs`` with targets ``y``."""
        ...

    def predict(self, graphs: Sequence[ArchGraph], hardware: Hardware = None) -> np.ndarray:
        """Predicted target for each graph."""
        ...


@runtime_checkable
class PredictsStd(Protocol):
    """A predictor that also gives its uncertainty (an ensemble's spread, a GP's deviation)."""

    def predict_std(self, graphs: Sequence[ArchGraph], hardware: Hardware = None) -> np.ndarray:
        """Standard deviation of the prediction for each graph."""
        ...


def accepts_eval_set(predictor: Any) -> bool:
    """Whether ``predictor.fit`` takes an ``eval_set`` (a validation set for checkpoint selection)."""
    return "eval_set" in inspect.signature(predictor.fit).parameters


def fit_predictor(
    predictor: Predictor, graphs: Sequence[ArchGraph], y: Targets, hardware: Hardware = None,
    eval_set: Any = None,
) -> Predictor:  # fmt: skip
    """``predictor.fit``, with ``eval_set`` passed when given and the predictor takes one."""
    if eval_set is not None and accepts_eval_set(predictor):
        return predictor.fit(graphs, y, hardware=hardware, eval_set=eval_set)  # type: ignore[call-arg]
    return predictor.fit(graphs, y, hardware=hardware)
