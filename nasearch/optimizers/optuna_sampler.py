"""Optuna's own samplers (TPE, GP, NSGA-II, random) driving a space's categorical encoding."""

from __future__ import annotations

import base64
from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, cast

import numpy as np

from nasearch.api import AnySpace, CategoricalEncoding, Result
from nasearch.api.errors import ConfigError
from nasearch.optimizers.base import ObjectivesArg, SpaceOptimizer

if TYPE_CHECKING:
    from optuna.samplers import BaseSampler
    from optuna.trial import Trial


class _HoldsRandomState(Protocol):
    """Optuna's ``LazyRandomState``: a numpy RandomState behind ``rng``."""

    rng: np.random.RandomState


def _rng_holders(sampler: object, depth: int = 0) -> list[_HoldsRandomState]:
    """The random states (optuna's ``LazyRandomState``) of a sampler and of the samplers it wraps."""
    out: list[_HoldsRandomState] = []
    for value in vars(sampler).values():
        if hasattr(value, "rng") and type(value).__name__ == "LazyRandomState":
            out.append(value)
        elif depth < 2 and hasattr(value, "sample_independent") and hasattr(value, "__dict__"):
            out += _rng_holders(value, depth + 1)
    return out


class _RandomStateJSON(TypedDict):
    """A numpy RandomState's legacy state as JSON (the MT19937 key as base64)."""

    bit_generator: str
    keys: str
    pos: int
    has_gauss: int
    cached_gaussian: float


def _random_state_json(rng: np.random.RandomState) -> _RandomStateJSON:
    """A numpy RandomState (Optuna's samplers use them) as JSON: the MT19937 key as base64."""
    name, keys, pos, has_gauss, cached = rng.get_state(legacy=True)
    return {
        "bit_generator": str(name),
        "keys": base64.b64encode(np.asarray(keys, dtype="<u4").tobytes()).decode(),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "cached_gaussian": float(cached),
    }


def _random_state_from_json(value: _RandomStateJSON) -> tuple[str, np.ndarray, int, int, float]:
    keys = np.frombuffer(base64.b64decode(value["keys"]), dtype="<u4").astype(np.uint32)
    return (
        value["bit_generator"],
        keys,
        int(value["pos"]),
        int(value["has_gauss"]),
        float(value["cached_gaussian"]),
    )


def _tpe(seed: int, **options: Any) -> BaseSampler:
    import optuna

    options.setdefault("n_startup_trials", 10)
    options.setdefault("multivariate", True)
    return optuna.samplers.TPESampler(seed=seed, **options)


def _gp(seed: int, **options: Any) -> BaseSampler:
    import optuna

    return optuna.samplers.GPSampler(seed=seed, **options)


def _nsga2(seed: int, **options: Any) -> BaseSampler:
    import optuna

    options.setdefault("population_size", 20)
    return optuna.samplers.NSGAIISampler(seed=seed, **options)


def _random(seed: int, **options: Any) -> BaseSampler:
    import optuna

    return optuna.samplers.RandomSampler(seed=seed, **options)


#: sampler name -> factory(seed, **options)
SAMPLERS: dict[str, Callable[..., BaseSampler]] = {"tpe": _tpe, "gp": _gp, "nsga2": _nsga2, "random": _random}


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
        space: AnySpace,
        objectives: ObjectivesArg = "objective",
        seed: int = 0,
        sampler: str = "tpe",
        sampler_options: Mapping[str, object] | None = None,
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
            for name, choices in self._encoding.categorical_choices().items()
        }
        self.study = optuna.create_study(
            directions=["maximize" if o.maximize else "minimize" for o in self.objectives],
            sampler=self.sampler,
        )
        self._trials: dict[str, Trial] = {}
        self._known: dict[str, list[float] | None] = {}

    @property
    def _encoding(self) -> CategoricalEncoding[Hashable]:
        return cast("CategoricalEncoding[Hashable]", self.space)  # ``requires`` checked it

    def _state(self) -> dict[str, object]:
        """The random states of the sampler (and of the samplers it wraps, e.g. TPE's start-up
        random sampler): with the told trials replayed, what makes a resume propose exactly what
        the uninterrupted run would (one evaluation in flight)."""
        return {"sampler_rngs": [_random_state_json(h.rng) for h in _rng_holders(self.sampler)]}

    def _load_state(self, state: dict[str, Any]) -> None:
        """Restore the samplers' random states. A state stored before they were recorded reseeds
        them from (seed, trials told) instead: a fresh stream, the same on every such resume."""
        holders = _rng_holders(self.sampler)
        stored = state.get("sampler_rngs")
        if isinstance(stored, list) and len(stored) == len(holders):
            for holder, value in zip(holders, stored):
                holder.rng.set_state(_random_state_from_json(value))
            return
        seeds = np.random.SeedSequence([self.seed, len(self.history)])
        for holder in holders:
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
                candidate = self._encoding.from_categorical(trial.params)
                key = self.space.key(candidate)
                if key not in self.seen:
                    arch = candidate
                    break
                # a repeat teaches nothing new (its value, if any, is in the study already); told as
                # FAIL, which the samplers skip, so a resumed study (without repeats) matches this one
                self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
            if arch is None:
                fresh = self.sample_fresh(1)
                if not fresh:
                    break
                self.study.enqueue_trial(dict(self._encoding.to_categorical(fresh[0])))
                trial = self.study.ask(self.distributions)
                arch = self._encoding.from_categorical(trial.params)
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
                    params=dict(self._encoding.to_categorical(arch)),
                    distributions=self.distributions,
                    values=values,
                    state=state,
                )
            )
        super().tell(arch, result)
