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
from typing import NamedTuple, Protocol, TypeGuard, TypeVar, runtime_checkable

import numpy as np

from nasearch.api.graph import ArchGraph

#: per-sample hardware descriptions (a device name, or a dict of its attributes), or None
Hardware = Sequence[object] | None
#: training targets, one per graph
Targets = Sequence[float] | np.ndarray
#: a validation set for checkpoint selection: ``(graphs, y)`` or ``(graphs, y, hardware)``
EvalSet = tuple[Sequence[ArchGraph], Targets] | tuple[Sequence[ArchGraph], Targets, Hardware]


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

    def fit(self, graphs: Sequence[ArchGraph], y: Targets, hardware: Hardware = None) -> object:
        """Train on ``graphs`` with targets ``y`` (returning ``self``, by convention)."""
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


#: a predictor being fitted (``fit_predictor`` returns it)
P = TypeVar("P", bound=FitsAndPredicts)


class FitsWithEvalSet(Protocol):
    """A predictor whose ``fit`` takes a validation set for checkpoint selection."""

    def fit(
        self,
        graphs: Sequence[ArchGraph],
        y: Targets,
        hardware: Hardware = None,
        eval_set: EvalSet | None = None,
    ) -> object:
        """Train on ``graphs`` with targets ``y``, selecting the checkpoint on ``eval_set``."""
        ...


def accepts_eval_set(predictor: FitsAndPredicts) -> TypeGuard[FitsWithEvalSet]:
    """Whether ``predictor.fit`` takes an ``eval_set`` (a validation set for checkpoint selection)."""
    return "eval_set" in inspect.signature(predictor.fit).parameters


def fit_predictor(
    predictor: P,
    graphs: Sequence[ArchGraph],
    y: Targets,
    hardware: Hardware = None,
    eval_set: EvalSet | None = None,
) -> P:
    """``predictor.fit``, with ``eval_set`` passed when given and the predictor takes one; ``predictor``."""
    if eval_set is not None and accepts_eval_set(predictor):
        predictor.fit(graphs, y, hardware=hardware, eval_set=eval_set)
    else:
        predictor.fit(graphs, y, hardware=hardware)
    return predictor
