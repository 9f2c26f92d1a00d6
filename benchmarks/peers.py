"""Peer libraries' own searchers as nasearch optimizers, so that the benchmark runs them in the same
run as ours: same table, seeds, budget, metric and "found the optimum" (the optional ``peers``
extra: ``pip install -e ".[peers]"``; never a dependency of nasearch itself).

Each peer drives the space's categorical encoding (NB201: one categorical parameter per edge, 5 ops
each) with its documented defaults. The settings a categorical cell space needs, the same for every
peer: a proposal that repeats a cell already evaluated (the cell itself or an isomorph, by
``space.key``) is answered from what is known and is not a query, and the peer is asked again;
after ``max_repeats`` such answers in a row a random unseen cell is evaluated instead (told to the
peer like its own). SMAC's ``Scenario`` needs ``n_trials``; it is given the benchmark's budget.

    python -m benchmarks.bench_optimizers --peers      # PEERS below, beside the config's optimizers
"""

from __future__ import annotations

import datetime
import importlib.metadata
import logging
import tempfile
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from nasearch.api import Result
from nasearch.api.errors import ConfigError
from nasearch.optimizers.base import SpaceOptimizer

#: the peer blocks ``--peers`` appends to the run (module-path optimizers: no registry entry)
PEERS: list[dict[str, Any]] = [
    {"name": "benchmarks.peers:SyneTune", "label": "syne_tune_bore", "searcher": "bore"},
    {"name": "benchmarks.peers:SyneTune", "label": "syne_tune_rea", "searcher": "rea"},
    {"name": "benchmarks.peers:SyneTune", "label": "syne_tune_tpe", "searcher": "tpe"},
    # BOTorch's default acquisition optimiser (20 gradient restarts per proposal) cost ~2.2 s of CPU a query
    # at 20 observations on dev seed 0, too slow for the shared measuring machine: its documented cheaper
    # setting scores the acquisition on its 200 raw samples instead (the GP is the same)
    {
        "name": "benchmarks.peers:SyneTune",
        "label": "syne_tune_botorch",
        "searcher": "botorch",
        "searcher_kwargs": {"optimization_strategy": "random"},
    },
    {"name": "benchmarks.peers:Smac", "label": "smac_hpo", "n_trials": 150},
]

#: Syne Tune's single-fidelity, single-objective baselines (``syne_tune.optimizer.baselines``)
SYNE_TUNE_SEARCHERS = {
    "bore": "BORE",
    "rea": "REA",
    "tpe": "TPE",
    "botorch": "BOTorch",
    "random": "RandomSearch",
}


def peer_legend(labels: list[str]) -> str:
    """One paragraph for a BENCHMARKS section: which library and version each peer row (``labels``) is."""

    def version(dist: str) -> str:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    names = {
        "syne_tune_bore": "`BORE`",
        "syne_tune_rea": "`REA`",
        "syne_tune_tpe": "`TPE`",
        "syne_tune_botorch": f"`BOTorch` (GP-BO, botorch {version('botorch')}; "
        + ", ".join(f"`{k}={v!r}`" for k, v in _searcher_kwargs("syne_tune_botorch").items())
        + ": its documented cheaper acquisition optimiser, the acquisition scored on its 200 raw samples "
        "instead of 20 gradient restarts, which cost about 2.2 s of CPU a query on a dev seed)",
    }
    syne = [names[label] for label in labels if label in names]
    parts = []
    if syne:
        parts.append(f"`syne_tune_*`: Syne Tune {version('syne-tune')}'s baselines {', '.join(syne)}")
    if "smac_hpo" in labels:
        parts.append(
            f"`smac_hpo`: SMAC {version('smac')}'s `HyperparameterOptimizationFacade` (random forest; "
            f"ConfigSpace {version('ConfigSpace')}), `Scenario(n_trials=150, deterministic=True)`"
        )
    return (
        "**Peers**, run by their own libraries in this run (`benchmarks/peers.py`): "
        + "; ".join(parts)
        + ". Each with its documented defaults (but the settings named above) on one categorical parameter "
        "per NB201 edge (5 ops). Settings the categorical cell space needs: a repeat of an evaluated cell "
        "(or an isomorph) is answered from memory and is not a query; after 100 repeats in a row a random "
        "unseen cell is evaluated instead."
    )


def _searcher_kwargs(label: str) -> dict[str, Any]:
    """The searcher settings ``PEERS`` gives the row ``label`` (none: its defaults)."""
    return dict(next((p.get("searcher_kwargs") or {} for p in PEERS if p["label"] == label), {}))


class _CategoricalPeer(SpaceOptimizer):
    """The shared loop: ask the peer for a parameter dict, skip repeats (answered from memory), tell
    the peer every result as it would have seen it (maximised score; a failure as the worst score
    seen so far, as peers without failure handling need a number). Some peers draw from numpy's
    global RNG (Syne Tune's domains sample with it): every call into the peer runs with a global
    state of the peer's own, seeded from ``seed`` and put back afterwards, so a peer's run is
    reproducible from its seed and leaves the other optimizers' draws alone."""

    requires = ("categorical_choices",)

    def __init__(
        self, space: Any, objectives: Any = "objective", seed: int = 0, max_repeats: int = 100
    ) -> None:
        super().__init__(space, objectives, seed)
        self.max_repeats = int(max_repeats)
        self.choices: dict[str, list[str]] = {k: list(v) for k, v in space.categorical_choices().items()}
        self._known: dict[str, float] = {}
        self._handles: dict[str, Any] = {}
        self._np_state = np.random.RandomState(self.seed).get_state()

    @contextmanager
    def _own_rng(self) -> Iterator[None]:
        """Run a call into the peer with the peer's own numpy global RNG state."""
        outer = np.random.get_state()
        np.random.set_state(self._np_state)
        try:
            yield
        finally:
            self._np_state = np.random.get_state()
            np.random.set_state(outer)

    # --- what each library implements ------------------------------------------------------------
    def _peer_ask(self) -> tuple[dict[str, Any], Any]:
        raise NotImplementedError

    def _peer_tell(self, handle: Any, params: dict[str, Any], score: float) -> None:
        raise NotImplementedError

    def _peer_foreign(self, params: dict[str, Any]) -> Any:
        """A handle for a cell the peer did not propose (a random fallback or a replayed result)."""
        raise NotImplementedError

    # --- the loop ----------------------------------------------------------------------------------
    def _worst(self) -> float:
        return min(self._known.values()) if self._known else 0.0

    def ask(self, n: int = 1) -> list[Hashable]:
        out: list[Hashable] = []
        while len(out) < n:
            arch = None
            for _ in range(self.max_repeats):
                with self._own_rng():
                    params, handle = self._peer_ask()
                candidate = self.space.from_categorical({k: str(v) for k, v in params.items()})
                key = self.space.key(candidate)
                if key not in self.seen:
                    arch = candidate
                    break
                with self._own_rng():
                    self._peer_tell(handle, params, self._known.get(key, self._worst()))
            if arch is None:
                fresh = self.sample_fresh(1)
                if not fresh:
                    break
                arch = fresh[0]
                key = self.space.key(arch)
                handle = self._peer_foreign(self.space.to_categorical(arch))
            self.seen.add(key)
            self.pending[key] = arch
            self._handles[key] = handle
            out.append(arch)
        return out

    def tell(self, arch: Hashable, result: Result | None) -> None:
        key = self.space.key(arch)
        handle = self._handles.pop(key, None)
        super().tell(arch, result)
        scores = self.history[-1][1]
        score = scores[0] if scores is not None else self._worst()
        self._known[key] = score
        params = self.space.to_categorical(arch)
        with self._own_rng():
            self._peer_tell(handle if handle is not None else self._peer_foreign(params), params, score)


class SyneTune(_CategoricalPeer):
    """A Syne Tune baseline scheduler (``searcher``: bore, rea, tpe, botorch or random) with its
    defaults, driven through its ``suggest`` / ``on_trial_complete`` interface. ``searcher_kwargs``:
    passed to the baseline's searcher where the baseline takes them (``BOTorch``: e.g. its documented
    ``optimization_strategy``); a row that sets any says so in its legend."""

    def __init__(
        self,
        space: Any,
        objectives: Any = "objective",
        seed: int = 0,
        searcher: str = "bore",
        max_repeats: int = 100,
        searcher_kwargs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(space, objectives, seed, max_repeats)
        if searcher not in SYNE_TUNE_SEARCHERS:
            raise ConfigError(
                f"syne tune: unknown searcher {searcher!r} (choose from {', '.join(SYNE_TUNE_SEARCHERS)})"
            )
        try:
            from syne_tune.config_space import choice
            from syne_tune.optimizer import baselines
        except ImportError:
            raise ConfigError('syne tune is not installed: pip install -e ".[peers]"') from None
        logging.getLogger("syne_tune").setLevel(logging.WARNING)
        config_space = {name: choice(values) for name, values in self.choices.items()}
        cls = getattr(baselines, SYNE_TUNE_SEARCHERS[searcher])
        with self._own_rng():
            if searcher == "random":
                self.scheduler = cls(
                    config_space, metrics=["score"], do_minimize=False, random_seed=self.seed
                )
            else:
                extra = {"searcher_kwargs": dict(searcher_kwargs)} if searcher_kwargs else {}
                self.scheduler = cls(
                    config_space, metric="score", do_minimize=False, random_seed=self.seed, **extra
                )
        self._trials = 0

    def _trial(self, params: dict[str, Any]) -> Any:
        from syne_tune.backend.trial_status import Trial

        trial = Trial(trial_id=self._trials, config=dict(params), creation_time=datetime.datetime.now())
        self._trials += 1
        return trial

    def _peer_ask(self) -> tuple[dict[str, Any], Any]:
        suggestion = self.scheduler.suggest()
        if suggestion is None:
            raise ConfigError("syne tune: the searcher has no configuration left to suggest")
        return dict(suggestion.config), self._trial(suggestion.config)

    def _peer_foreign(self, params: dict[str, Any]) -> Any:
        return self._trial(params)

    def _peer_tell(self, handle: Any, params: dict[str, Any], score: float) -> None:
        self.scheduler.on_trial_complete(handle, {"score": float(score)})


class Smac(_CategoricalPeer):
    """SMAC's ``HyperparameterOptimizationFacade`` (random forest, log EI, its default initial design)
    through its ask / tell interface; costs are the negated score."""

    def __init__(
        self,
        space: Any,
        objectives: Any = "objective",
        seed: int = 0,
        n_trials: int = 150,
        max_repeats: int = 100,
    ) -> None:
        super().__init__(space, objectives, seed, max_repeats)
        try:
            from ConfigSpace import Categorical, ConfigurationSpace
            from smac import HyperparameterOptimizationFacade, Scenario
        except ImportError:
            raise ConfigError('smac is not installed: pip install -e ".[peers]"') from None
        cs = ConfigurationSpace(seed=self.seed)
        cs.add([Categorical(name, values) for name, values in self.choices.items()])
        self._tmp = tempfile.TemporaryDirectory(prefix="nasearch-smac-")
        scenario = Scenario(
            cs, deterministic=True, n_trials=int(n_trials), seed=self.seed, output_directory=self._tmp.name
        )
        self.smac = HyperparameterOptimizationFacade(
            scenario, target_function=_never_called, overwrite=True, logging_level=40
        )
        self._cs = cs

    def _peer_ask(self) -> tuple[dict[str, Any], Any]:
        info = self.smac.ask()
        return dict(info.config), info

    def _peer_foreign(self, params: dict[str, Any]) -> Any:
        from ConfigSpace import Configuration
        from smac.runhistory import TrialInfo

        return TrialInfo(config=Configuration(self._cs, values=params), seed=self.seed)

    def _peer_tell(self, handle: Any, params: dict[str, Any], score: float) -> None:
        from smac.runhistory import TrialValue

        self.smac.tell(handle, TrialValue(cost=-float(score)), save=False)


def _never_called(config: Any, seed: int = 0) -> float:
    """SMAC's facade wants a target function; the benchmark's loop evaluates instead."""
    raise RuntimeError("smac's target function is not used: nasearch evaluates the cells")


__all__ = ["PEERS", "SYNE_TUNE_SEARCHERS", "Smac", "SyneTune", "peer_legend"]
