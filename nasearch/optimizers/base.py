"""The bookkeeping the built-in optimizers share (the contract itself is ``nasearch.api.Optimizer``)."""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np

from nasearch.api import AnySpace, Optimizer, Result, has_capability
from nasearch.api.errors import ConfigError


@dataclass(frozen=True)
class Objective:
    """One metric the search optimises, and its direction."""

    metric: str
    maximize: bool = True

    def score(self, result: Result | None) -> float | None:
        """The metric as a value to maximise (negated when minimised); None when missing or NaN."""
        if result is None:
            return None
        value = result.metrics.get(self.metric)
        if value is None or not math.isfinite(float(value)):
            return None
        return float(value) if self.maximize else -float(value)


#: what an optimizer takes as ``objectives``: a metric name (maximised), an ``Objective``, a
#: ``(metric, maximize)`` pair, or a sequence of those
ObjectivesArg: TypeAlias = (
    "str | Objective | tuple[str, bool] | Sequence[str | Objective | Sequence[object]] | None"
)


def as_objectives(objectives: ObjectivesArg) -> list[Objective]:
    """Accept ``Objective``s, ``(metric, maximize)`` pairs or metric names (maximised)."""
    if objectives is None:
        raise ConfigError("an optimizer needs at least one objective metric")
    if isinstance(objectives, (str, Objective)) or (
        isinstance(objectives, tuple) and len(objectives) == 2 and isinstance(objectives[1], bool)
    ):
        objectives = [objectives]
    out = []
    for obj in objectives:
        if isinstance(obj, Objective):
            out.append(obj)
        elif isinstance(obj, str):
            out.append(Objective(obj))
        else:
            metric, maximize = obj
            out.append(Objective(str(metric), bool(maximize)))
    if not out:
        raise ConfigError("an optimizer needs at least one objective metric")
    return out


class SpaceOptimizer(Optimizer):
    """Bookkeeping every built-in optimizer shares: the space, a seeded RNG, de-duplication by
    ``space.key`` over everything asked or told, and the history of scored results.

    Subclasses implement ``_propose(n)`` and may override ``_observe(arch, scores)``. Scores are
    always "higher is better" (minimised metrics are negated). ``stats`` collects surrogate
    timings (``fit_seconds``, ``predict_seconds``, ``fits``) for the run's overhead report.
    """

    #: whether the optimizer handles more than one objective
    multi_objective: bool = False
    #: the space capabilities the optimizer needs besides the required ones (keys of ``nasearch.api.CAPABILITIES``)
    requires: tuple[str, ...] = ()

    def __init__(self, space: AnySpace, objectives: ObjectivesArg = "objective", seed: int = 0) -> None:
        self.space = space
        self.objectives = as_objectives(objectives)
        if len(self.objectives) > 1 and not self.multi_objective:
            raise ConfigError(
                f"optimizer {type(self).__name__} optimises one objective, got "
                f"{len(self.objectives)} ({', '.join(o.metric for o in self.objectives)}); "
                "use 'optuna' (sampler nsga2 or tpe) or 'predictor_evolution' for a Pareto front"
            )
        missing = [cap for cap in self.requires if not has_capability(space, cap)]
        if missing:
            raise ConfigError(
                f"optimizer {type(self).__name__} needs the search space to offer "
                f"{', '.join(missing)}; {type(space).__name__} does not"
            )
        self.seed = int(seed)
        self.rng = np.random.default_rng(self.seed)
        self.seen: set[str] = set()
        self.pending: dict[str, Hashable] = {}
        #: (arch, scores or None for a failure), in the order told
        self.history: list[tuple[Hashable, tuple[float, ...] | None]] = []
        self.stats: dict[str, float] = {"fit_seconds": 0.0, "predict_seconds": 0.0, "fits": 0}

    # --- ask/tell -------------------------------------------------------------------------------
    def ask(self, n: int = 1) -> list[Hashable]:
        """Up to ``n`` architectures never asked or told before."""
        if n <= 0:
            return []
        out = []
        for arch in self._propose(n):
            key = self.space.key(arch)
            if key in self.seen:
                continue
            self.seen.add(key)
            self.pending[key] = arch
            out.append(arch)
            if len(out) == n:
                break
        return out

    def tell(self, arch: Hashable, result: Result | None) -> None:
        key = self.space.key(arch)
        self.seen.add(key)
        self.pending.pop(key, None)
        scores = self.scores(result)
        self.history.append((arch, scores))
        self._observe(arch, scores)

    def retell(self, arch: Hashable, result: Result | None) -> None:
        """Replace the scores told for ``arch`` (its first, lower-fidelity result) with ``result``'s, in
        place in ``history`` (``nasearch.api.fidelity.Retells``): what reads the history (the best cells,
        the surrogate's training set) sees the full-fidelity result from now on. ``_observe`` is not
        called again. A cell never told is told now."""
        key = self.space.key(arch)
        scores = self.scores(result)
        for i, (told, _) in enumerate(self.history):
            if self.space.key(told) == key:
                self.history[i] = (told, scores)
                return
        self.tell(arch, result)

    # --- exact resume ---------------------------------------------------------------------------
    def state_dict(self) -> dict[str, object]:
        """What a replay of the told results cannot rebuild, as JSON: the RNG stream, plus what
        subclasses add (``_state``). Resume tells the stored results, then loads this."""
        return {"rng": rng_state(self.rng), **self._state()}

    def load_state_dict(self, state: dict[str, object]) -> None:
        """Restore ``state_dict()``'s output (after the told results were replayed)."""
        if "rng" in state:
            set_rng_state(self.rng, state["rng"])
        self._load_state(state)

    def _state(self) -> dict[str, object]:
        """Hook: subclasses' ask-side state (JSON; architectures as ``space.to_str``)."""
        return {}

    def _load_state(self, state: dict[str, object]) -> None:
        """Hook: restore ``_state``'s output."""

    def _propose(self, n: int) -> Sequence[Hashable]:
        raise NotImplementedError

    def _observe(self, arch: Hashable, scores: tuple[float, ...] | None) -> None:
        """Hook: react to a told result (``scores`` None for a failure)."""

    # --- helpers --------------------------------------------------------------------------------
    def scores(self, result: Result | None) -> tuple[float, ...] | None:
        """Higher-is-better value of each objective, or None if any is missing."""
        values = [obj.score(result) for obj in self.objectives]
        if any(v is None for v in values):
            return None
        return tuple(values)  # type: ignore[arg-type]

    def is_fresh(self, arch: Hashable) -> bool:
        """True when ``arch`` (or an isomorph) was never asked or told."""
        return self.space.key(arch) not in self.seen

    def sample_fresh(self, n: int, max_tries: int = 200) -> list[Hashable]:
        """Up to ``n`` distinct random architectures never seen (fewer if the space runs dry)."""
        out: list[Hashable] = []
        keys: set[str] = set()
        tries = 0
        while len(out) < n and tries < max_tries * max(n, 1):
            tries += 1
            arch = self.space.sample(self.rng)
            key = self.space.key(arch)
            if key in self.seen or key in keys:
                continue
            keys.add(key)
            out.append(arch)
        return out

    def scored(self) -> list[tuple[Hashable, tuple[float, ...]]]:
        """Told architectures whose evaluation succeeded."""
        return [(a, s) for a, s in self.history if s is not None]

    def best(self, k: int = 1) -> list[Hashable]:
        """The ``k`` best told architectures on the first objective."""
        items = sorted(self.scored(), key=lambda item: item[1][0], reverse=True)
        return [a for a, _ in items[:k]]


def rng_state(rng: np.random.Generator) -> dict[str, object]:
    """A numpy Generator's bit-generator state as JSON (PCG64's 128-bit words as strings, which
    any JSON reader keeps exact)."""
    state = _ints_to_str(rng.bit_generator.state)
    assert isinstance(state, dict)  # the bit generator's state is a dict
    return state


def set_rng_state(rng: np.random.Generator, state: object) -> None:
    """Put ``rng`` back into a state from ``rng_state``."""
    restored = _str_to_ints(state)
    assert isinstance(restored, dict)  # a dict in, a dict out
    rng.bit_generator.state = restored


def _ints_to_str(value: object) -> object:
    if isinstance(value, dict):
        return {k: _ints_to_str(v) for k, v in value.items()}
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and abs(int(value)) >= 2**53:
        return {"int": str(int(value))}
    if isinstance(value, np.ndarray):
        return {"array": value.tolist(), "dtype": str(value.dtype)}
    return value


def _str_to_ints(value: object) -> object:
    if isinstance(value, dict):
        if set(value) == {"int"}:
            return int(value["int"])
        if set(value) == {"array", "dtype"}:
            return np.asarray(value["array"], dtype=value["dtype"])
        return {k: _str_to_ints(v) for k, v in value.items()}
    return value
