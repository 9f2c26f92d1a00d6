"""BANANAS-style Bayesian optimisation: an ensemble surrogate's mean and spread drive an
acquisition function over mutations of the best cells plus random cells."""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np

from nasearch.api import AnySpace, MeanStd
from nasearch.api.errors import ConfigError
from nasearch.optimizers.base import ObjectivesArg
from nasearch.optimizers.surrogate import SurrogateOptimizer, has_uncertainty, select_pareto


def _its(mean: np.ndarray, std: np.ndarray, best: float, beta: float, rng: np.random.Generator) -> np.ndarray:
    """Independent Thompson sampling: one draw per candidate from its predictive normal."""
    return mean + std * rng.standard_normal(len(mean))


def _ucb(mean: np.ndarray, std: np.ndarray, best: float, beta: float, rng: np.random.Generator) -> np.ndarray:
    """Upper confidence bound ``mean + beta * std``."""
    return mean + beta * std


def _ei(mean: np.ndarray, std: np.ndarray, best: float, beta: float, rng: np.random.Generator) -> np.ndarray:
    """Expected improvement over the best (standardised) score told so far."""
    s = np.maximum(std, 1e-9)
    z = (mean - best) / s
    cdf = 0.5 * (1.0 + np.vectorize(math.erf)(z / math.sqrt(2.0)))
    pdf = np.exp(-0.5 * z**2) / math.sqrt(2.0 * math.pi)
    improvement: np.ndarray = (mean - best) * cdf + s * pdf
    return improvement


ACQUISITIONS: dict[str, Callable[..., np.ndarray]] = {"its": _its, "ucb": _ucb, "ei": _ei}


class BayesianOptimization(SurrogateOptimizer):
    """BANANAS (White et al., 2021): each round refits an ensemble of ``ensemble_size`` surrogates
    (or one predictor that has ``predict_std``), scores ``pool_size`` mutations of the best cells
    plus ``random_candidates`` random cells with ``acquisition`` ('its' independent Thompson
    sampling, 'ucb', 'ei') and queues the best ``k``. With several objectives, each objective's
    acquisition values are combined by Pareto rank and crowding.
    """

    def __init__(
        self,
        space: AnySpace,
        objectives: ObjectivesArg = "objective",
        seed: int = 0,
        *,
        ensemble_size: int = 3,
        acquisition: str = "its",
        beta: float = 0.5,
        random_candidates: int = 20,
        **options: Any,
    ) -> None:
        """``options``: those of ``SurrogateOptimizer`` (``surrogate``, ``num_init``, ``k``, ...);
        ``ensemble_size`` and ``random_candidates`` get BANANAS' defaults here."""
        if acquisition not in ACQUISITIONS:
            raise ConfigError(
                f"bayesian: unknown acquisition {acquisition!r} (choose from {', '.join(ACQUISITIONS)})"
            )
        if ensemble_size < 2 and not has_uncertainty(options.get("surrogate")):
            raise ConfigError(
                "bayesian: the surrogate gives no uncertainty (no predict_std); set "
                "ensemble_size >= 2 (BANANAS uses 5) or use a predictor with predict_std"
            )
        super().__init__(
            space,
            objectives,
            seed,
            ensemble_size=ensemble_size,
            random_candidates=random_candidates,
            **options,
        )
        self.acquisition = acquisition
        self.beta = float(beta)
        self._best_z: list[float] = []

    def _round(self) -> list[Hashable]:
        scored = self.scored()
        self._best_z = []
        for j in range(len(self.objectives)):
            y = np.array([s[j] for _, s in scored], dtype=float)
            self._best_z.append(float((y.max() - y.mean()) / (y.std() or 1.0)))
        return super()._round()

    def _select(self, pool: list[Hashable], preds: list[MeanStd], k: int) -> list[int]:
        acq = ACQUISITIONS[self.acquisition]
        values = []
        for j, (mean, std) in enumerate(preds):
            if std is None:
                raise ConfigError(
                    "bayesian: the surrogate gives no uncertainty; set ensemble_size >= 2 or use a "
                    "predictor with predict_std"
                )
            values.append(acq(mean, std, self._best_z[j], self.beta, self.rng))
        if len(values) == 1:
            return [int(i) for i in np.argsort(-values[0], kind="stable")[:k]]
        return select_pareto(np.stack(values, axis=1), k, self.rng)
