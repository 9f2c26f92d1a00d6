"""Optuna's own samplers (TPE, GP, NSGA-II, random) driving a space's categorical encoding."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import numpy as np

from nasearch.api import Result
from nasearch.errors import ConfigError
from nasearch.optimizers.base import SpaceOptimizer


def _rng_holders(sampler: Any, depth: int = 0) -> list[Any]:
    """The random states (optuna's ``LazyRandomState``) of a sampler and of the samplers it wraps."""
    out: list[Any] = []
    for value in vars(sampler).values():
        if hasattr(value, "rng") and type(value).__name__ == "LazyRandomState":
            out.append(value)
        elif depth < 2 and hasattr(value, "sample_independent") and hasattr(value, "__dict__"):
            out += _rng_holders(value, depth + 1)
    return out


def _tpe(seed: int, **options: Any) -> Any:
    import optuna

    options.setdefault("n_startup_trials", 10)
    options.setdefault("multivariate", True)
    return optuna.samplers.TPESampler(seed=seed, **options)


def _gp(seed: int, **options: Any) -> Any:
    import optuna

    return optuna.samplers.GPSampler(seed=seed, **options)


def _nsga2(seed: int, **options: Any) -> Any:
    import optuna

    options.setdefault("population_size", 20)
    return optuna.samplers.NSGAIISampler(seed=seed, **options)


def _random(seed: int, **options: Any) -> Any:
    import optuna

    return optuna.samplers.RandomSampler(seed=seed, **options)


#: sampler name -> factory(seed, **options)
SAMPLERS: dict[str, Callable[..., Any]] = {"tpe": _tpe, "gp": _gp, "nsga2": _nsga2, "random": _random}


class OptunaSampler(SpaceOptimizer):
    """An in-memory Optuna study whose trials are the space's categorical parameters (NB201: one
    parameter per edge, 5 ops each). A proposal that repeats a cell already seen is answered
    from what is known (never a query) and the sampler asked again; after ``max_repeats`` a
    fresh random cell is enqueued instead. Multi-objective with ``nsga2`` (or ``tpe``).
    """

    multi_objective = True
    requires = ("categorical_choices",)

    def __init__(
        self,
        space: Any,
        objectives: Any = "objective",
        seed: int = 0,
        sampler: str = "tpe",
        sampler_options: dict[str, Any] | None = None,
        max_repeats: int = 100,
    ) -> None:
        super().__init__(space, objectives, seed)
        import optuna

        if sampler not in SAMPLERS:
            raise ConfigError(f"optuna: unknown sampler {sampler!r} (choose from {', '.join(SAMPLERS)})")
        if sampler == "gp" and len(self.objectives) > 1:
            raise ConfigError("optuna: the gp sampler is single-objective here; use nsga2 or tpe")
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        try:
            self.sampler = SAMPLERS[sampler](self.seed, **dict(sampler_options or {}))
        except TypeError as exc:
            raise ConfigError(f"optuna: sampler {sampler!r} options {sampler_options!r}: {exc}") from None
        self.sampler_name = sampler
        self.max_repeats = max_repeats
        self.distributions: dict[str, optuna.distributions.BaseDistribution] = {
            name: optuna.distributions.CategoricalDistribution(list(choices))
            for name, choices in space.categorical_choices().items()
        }
        self.study = optuna.create_study(
            directions=["maximize" if o.maximize else "minimize" for o in self.objectives],
            sampler=self.sampler,
        )
        self._trials: dict[str, Any] = {}
        self._known: dict[str, list[float] | None] = {}

    def _load_state(self, state: dict[str, Any]) -> None:
        """Optuna keeps its samplers' random state to itself: on resume they are reseeded from
        (seed, trials told), a fresh stream that is the same on every resume of the same study,
        instead of restarting the seed's stream (which would propose the stored cells again).
        This optimizer's own RNG (random fallbacks) is restored exactly."""
        seeds = np.random.SeedSequence([self.seed, len(self.history)])
        for holder in _rng_holders(self.sampler):
            holder.rng.seed(int(seeds.spawn(1)[0].generate_state(1)[0]))

    def _values(self, result: Result | None) -> list[float] | None:
        scores = self.scores(result)
        if scores is None:
            return None
        return [s if o.maximize else -s for s, o in zip(scores, self.objectives)]

    def ask(self, n: int = 1) -> list[Hashable]:
        import optuna

        out: list[Hashable] = []
        while len(out) < n:
            arch = None
            for _ in range(self.max_repeats):
                trial = self.study.ask(self.distributions)
                candidate = self.space.from_categorical(trial.params)
                key = self.space.key(candidate)
                if key not in self.seen:
                    arch = candidate
                    break
                known = self._known.get(key)
                if known is not None:
                    self.study.tell(trial, known)
                else:  # in flight or failed: no value to learn from
                    self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
            if arch is None:
                fresh = self.sample_fresh(1)
                if not fresh:
                    break
                self.study.enqueue_trial(self.space.to_categorical(fresh[0]))
                trial = self.study.ask(self.distributions)
                arch = self.space.from_categorical(trial.params)
                key = self.space.key(arch)
            self.seen.add(key)
            self.pending[key] = arch
            self._trials[key] = trial
            out.append(arch)
        return out

    def tell(self, arch: Hashable, result: Result | None) -> None:
        import optuna

        key = self.space.key(arch)
        values = self._values(result)
        self._known[key] = values
        trial = self._trials.pop(key, None)
        state = optuna.trial.TrialState.COMPLETE if values is not None else optuna.trial.TrialState.FAIL
        if trial is not None:
            self.study.tell(trial, values, state=state)
        else:  # replayed from storage: add it as a finished trial
            self.study.add_trial(
                optuna.trial.create_trial(
                    params=self.space.to_categorical(arch),
                    distributions=self.distributions,
                    values=values,
                    state=state,
                )
            )
        super().tell(arch, result)
