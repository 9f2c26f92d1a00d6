"""Ensembles: k copies of any registered predictor with different seeds -> mean and std.

``Ensemble(base="nnformer", k=5, **options)`` builds member ``i`` as
``PREDICTORS.create(base, seed=seed + i, **options)``; ``predict`` is the members' mean and
``predict_std`` their standard deviation (what Bayesian optimisation and the predictor-guided
optimisers need). With ``bootstrap=True`` every member also trains on its own bootstrap resample,
which gives deterministic bases (``params_linear``) a spread too. ``n_jobs > 1`` fits members in
parallel worker processes (one torch thread each); ``n_jobs=1`` fits them in turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nasearch.api import FitsAndPredicts, Hardware, Predictor, Targets, fit_predictor
from nasearch.api.ensemble import combine
from nasearch.api.errors import ConfigError, suggest
from nasearch.api.graph import ArchGraph
from nasearch.api.predictor import EvalSet
from nasearch.predictors.training import PredictorError, check_fit_inputs


def _fit_member(
    base: str,
    options: dict[str, Any],
    graphs: list[ArchGraph],
    y: np.ndarray,
    hardware: Hardware,
    threads: int | None,
    eval_set: EvalSet | None = None,
) -> FitsAndPredicts:
    """Build and fit one member (runs in a worker process when n_jobs > 1)."""
    from nasearch.config.registry import PREDICTORS

    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    member = PREDICTORS.create(base, **options)
    return fit_predictor(member, graphs, y, hardware, eval_set)


class Ensemble(Predictor):
    """k members of one base predictor with seeds ``seed..seed+k-1``; mean and std."""

    def __init__(
        self,
        base: str = "nnformer",
        k: int = 5,
        seed: int = 0,
        bootstrap: bool = False,
        n_jobs: int = 1,
        **options: Any,
    ) -> None:
        from nasearch.config.options import check_options
        from nasearch.config.registry import PREDICTORS

        if k < 2:
            raise ConfigError(f"ensemble: k must be >= 2 to give a std, got {k}")
        if n_jobs < 1:
            raise ConfigError(f"ensemble: n_jobs must be >= 1, got {n_jobs}")
        if base == "ensemble":
            raise ConfigError("ensemble: base cannot be 'ensemble' itself")
        factory = PREDICTORS.get(base)
        check_options(factory, {**options, "seed": seed}, f"ensemble base predictor {base!r}")
        names = getattr(factory, "option_names", None)  # a base taking **options lists them here
        if callable(names):
            known = names()
            for key in options:
                if key not in known:
                    mine = ["base", "k", "seed", "bootstrap", "n_jobs"]
                    raise ConfigError(
                        f"ensemble (base {base!r}) has no option {key!r}{suggest(key, [*mine, *known])} "
                        f"(ensemble options: {', '.join(mine)}; {base} options: {', '.join(known)})"
                    )
        self.base, self.k, self.seed = base, int(k), int(seed)
        self.bootstrap, self.n_jobs = bool(bootstrap), int(n_jobs)
        self.options = dict(options)
        self.members: list[FitsAndPredicts] = []

    def _member_jobs(self, n: int) -> list[tuple[dict[str, Any], np.ndarray]]:
        rng = np.random.default_rng(self.seed)
        jobs = []
        for i in range(self.k):
            rows = rng.integers(0, n, size=n) if self.bootstrap else np.arange(n)
            jobs.append(({**self.options, "seed": self.seed + i}, rows))
        return jobs

    def fit(
        self,
        graphs: Sequence[ArchGraph],
        y: Targets,
        hardware: Hardware = None,
        eval_set: EvalSet | None = None,
    ) -> Ensemble:
        """Fit all k members (in parallel processes when ``n_jobs > 1``); ``eval_set`` goes to each."""
        target = check_fit_inputs(graphs, y, "ensemble")
        graphs = list(graphs)
        hw = None if hardware is None else list(hardware)
        jobs = self._member_jobs(len(graphs))

        def args(
            options: dict[str, Any], rows: np.ndarray
        ) -> tuple[str, dict[str, Any], list[ArchGraph], np.ndarray, Hardware]:
            sub_hw = None if hw is None else [hw[r] for r in rows]
            return (self.base, options, [graphs[r] for r in rows], target[rows], sub_hw)

        if self.n_jobs == 1:
            self.members = [_fit_member(*args(o, r), None, eval_set) for o, r in jobs]
        else:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=min(self.n_jobs, self.k), mp_context=ctx) as pool:
                futures = [pool.submit(_fit_member, *args(o, r), 1, eval_set) for o, r in jobs]
                self.members = [f.result() for f in futures]
        return self

    def member_predictions(self, graphs: Sequence[ArchGraph], hardware: Hardware = None) -> np.ndarray:
        """(k, M) predictions of every member."""
        if not self.members:
            raise PredictorError("ensemble: call fit before predict")
        return np.stack([m.predict(graphs, hardware=hardware) for m in self.members])

    def predict(self, graphs: Sequence[ArchGraph], hardware: Hardware = None) -> np.ndarray:
        """Mean of the members."""
        return self.predict_mean_std(graphs, hardware)[0]

    def predict_std(self, graphs: Sequence[ArchGraph], hardware: Hardware = None) -> np.ndarray:
        """Standard deviation over the members."""
        return self.predict_mean_std(graphs, hardware)[1]

    def predict_mean_std(
        self, graphs: Sequence[ArchGraph], hardware: Hardware = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mean and std with one pass over the members (``nasearch.api.ensemble.combine``)."""
        mean, std = combine(self.member_predictions(graphs, hardware))
        assert std is not None
        return mean, std
