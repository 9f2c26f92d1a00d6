"""The Predictor contract: scikit-learn style fit/predict on ArchGraphs.

``fit(graphs, y, hardware=None)`` learns from evaluated cells; ``predict(graphs, hardware=None)``
returns the predicted mean as a float array; models that can give uncertainty also implement
``predict_std``. ``hardware`` is an optional per-sample description (a device name or a dict
of its attributes) for hardware-conditioned surrogates; others ignore it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

from nasearch.graph import ArchGraph

Hardware = Sequence[Any] | None


class Predictor(ABC):
    """Base class for surrogates; ``fit`` returns ``self`` like scikit-learn estimators."""

    @abstractmethod
    def fit(self, graphs: Sequence[ArchGraph], y: Sequence[float], hardware: Hardware = None) -> Predictor:
        """Train on ``graphs`` with targets ``y``."""

    @abstractmethod
    def predict(self, graphs: Sequence[ArchGraph], hardware: Hardware = None) -> np.ndarray:
        """Predicted target for each graph."""
