"""The ``blend`` zero-shot latency estimator: the model-free baselines' ingredients, mixed per target.

No model-free baseline wins everywhere on a die never seen (``bench_latency_models --parts zero_shot``):
the nearest device's table wins most GPUs, the params/FLOPs fit the batch-256 GPUs, the mean of every
table the Snapdragon phones. ``blend`` predicts the target's standardised log latency as

    z = (1 - alpha) * standardise(sum_d w_d z_d) + alpha * z_pf,

``z_d`` each training device's standardised log table, ``w_d ∝ exp(-distance(target, d) / h)`` (``h`` 0:
the nearest device only; ``inf``: every device alike) with the description distance's batch-size term
multiplied by ``batch_weight``, and ``z_pf`` the standardised params/FLOPs fit on the training devices;
the grid holds the baselines ``nearest_device`` (h 0, alpha 0, batch weight 1) and ``params_flops``
(alpha 1), and h inf (alpha 0) is the mean of every standardised table (``geomean_all`` without the
tables' spreads as weights). Its recipe (h, alpha, batch weight) is chosen for each target from what
the training devices show: every training device in turn is a pseudo-target with its own die held
out too (as the target's is), each recipe is scored by Kendall τ on it (on a fixed sample of cells),
and the recipe with the best mean τ wins, the pseudo-targets weighted by ``exp(-distance(target, u) /
selection_bandwidth)`` (so a batch-256 GPU target follows what worked on batch-256 GPUs). How the
pseudo-targets' τ become one recipe is the *selection rule* (vote bandwidth, batch weight in the vote
distance, inner hold-out ``die`` or ``self``): by default (``selection: nested``) it is itself chosen per
target among the candidates of ``latency_blend_rules.RULES`` by nested leave-one-die-out over the
training settings (``benchmarks/select_blend_rule.py`` found that no one rule is every die's choice, the
declared condition for this default); ``selection: fixed`` applies the options' rule. The choice (rule,
recipe, the recipes' means) is a function of what it reads, so it is kept on disk by content
(``latency_blend_cache``; ``cache: false`` computes it every time). The target's measurements are never
read. The latency in ms: ``exp(mean + std * z)``, mean and std of the log tables averaged with the
weights ``w``. The grid below was declared before it ran.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nasearch.api.errors import ConfigError
from nasearch.data.devices import DeviceSpec, load_devices
from nasearch.metrics.ranking import kendall_taus
from nasearch.search_spaces.nasbench201.latency_models import (
    LatencyTask,
    _log,
    description_distance,
    die_of,
    params_flops_features,
    params_flops_log,
)

if TYPE_CHECKING:
    from nasearch.search_spaces.nasbench201.latency_blend_rules import SelectionRule

#: kernel bandwidths over the description distance (0: the nearest device; inf: every device alike)
BANDWIDTHS: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 4.0, math.inf)
#: weights of the params/FLOPs fit in the blend (1: the fit alone)
PF_WEIGHTS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
#: multipliers of the batch-size term of the description distance
BATCH_WEIGHTS: tuple[float, ...] = (1.0, 4.0)
#: how fast a pseudo-target's vote fades with its description distance from the target (fixed a priori)
SELECTION_BANDWIDTH = 1.0
#: multiplier of the batch-size term in the distance that weights the pseudo-targets' votes
VOTE_BATCH_WEIGHT = 1.0
#: what leaves training with a pseudo-target when the target's die is not in training: its die, or itself
HOLDOUTS = ("die", "self")
HOLDOUT = "die"
#: how the selection rule is set: by the options above (``fixed``), or per target by nested
#: leave-one-die-out among ``latency_blend_rules.RULES`` (``nested``)
SELECTIONS = ("fixed", "nested")
SELECTION = "nested"
#: how many (setting, training tables) rows of recipe τ are kept before the cache starts again
_SHARED_TAUS = 200_000
_TAUS: dict[tuple[Any, ...], np.ndarray] = {}
#: cells (a fixed random sample, seed 0) on which the pseudo-targets' τ is computed
SELECTION_CELLS = 3000


@dataclass(frozen=True)
class Recipe:
    """One point of the grid: kernel bandwidth, params/FLOPs weight, batch-size weight."""

    bandwidth: float
    pf_weight: float
    batch_weight: float


@dataclass(frozen=True, eq=False)
class BlendChoice:
    """What ``blend`` chooses for one target: the selection rule, the recipe it picks, and every grid
    recipe's pseudo-target-weighted mean τ under that rule (NaN when no pseudo-target is left)."""

    rule: SelectionRule
    recipe: Recipe
    means: np.ndarray


def distance(a: DeviceSpec, b: DeviceSpec, batch_weight: float = 1.0) -> float:
    """``description_distance`` with its batch-size term (|log ratio|) multiplied by ``batch_weight``."""
    return description_distance(a, b) + (batch_weight - 1.0) * abs(math.log(a.batch_size / b.batch_size))


def _standardise(x: np.ndarray) -> np.ndarray:
    """(x - mean) / std along the last axis (std 0 counts as 1)."""
    std = x.std(axis=-1, keepdims=True)
    return np.asarray((x - x.mean(axis=-1, keepdims=True)) / np.where(std > 0, std, 1.0), dtype=float)


def kernel_weights(target: DeviceSpec, devices: Sequence[DeviceSpec], recipe: Recipe) -> np.ndarray:
    """Weights (summing to 1) of ``devices`` for ``target``: exp(-distance / bandwidth); bandwidth 0 puts
    all weight on the nearest (the first by name of equals), inf spreads it evenly."""
    dist = np.asarray([distance(target, d, recipe.batch_weight) for d in devices])
    if recipe.bandwidth == 0:
        w = np.zeros(len(devices))
        w[min(range(len(devices)), key=lambda k: (dist[k], devices[k].name))] = 1.0
        return w
    if math.isinf(recipe.bandwidth):
        return np.full(len(devices), 1.0 / len(devices))
    w = np.exp(-(dist - dist.min()) / recipe.bandwidth)
    return np.asarray(w / w.sum(), dtype=float)


def blend_z(z: np.ndarray, z_pf: np.ndarray, weights: np.ndarray, recipe: Recipe) -> np.ndarray:
    """The blend's standardised log latency from the devices' ``z`` (devices, cells) and ``z_pf``."""
    mixed = _standardise(weights @ z) if recipe.pf_weight < 1 else np.zeros_like(z_pf)
    return mix(mixed, z_pf, recipe)


def mix(mixed: np.ndarray, z_pf: np.ndarray, recipe: Recipe) -> np.ndarray:
    """``(1 - alpha) * mixed + alpha * z_pf``: the tables' standardised mix blended with the fit."""
    return np.asarray((1 - recipe.pf_weight) * mixed + recipe.pf_weight * z_pf, dtype=float)


def held_out(u: int, dies: Sequence[str], holdout: str) -> frozenset[int]:
    """Which settings leave training when setting ``u`` is a pseudo-target: its whole die (``die``), itself
    (``self``) or none (``none``: the target's own table is in training)."""
    if holdout == "die":
        return frozenset(k for k, d in enumerate(dies) if d == dies[u])
    return frozenset({u}) if holdout == "self" else frozenset()


def vote_means(
    target: DeviceSpec,
    pseudo: Sequence[DeviceSpec],
    scores: np.ndarray,
    bandwidth: float,
    batch_weight: float,
) -> np.ndarray:
    """Each recipe's mean τ over the pseudo-targets (``scores``: (pseudo-targets, recipes)), weighted by
    exp(-distance(target, u, batch_weight) / bandwidth) (``inf``: every pseudo-target alike)."""
    if math.isinf(bandwidth):
        return np.asarray(scores.mean(axis=0), dtype=float)
    dist = np.asarray([distance(target, u, batch_weight) for u in pseudo])
    votes = np.exp(-(dist - dist.min()) / bandwidth)
    return np.asarray(votes @ scores / votes.sum(), dtype=float)


class RecipeTaus:
    """τ of every grid recipe's prediction of one setting from the settings outside a held-out set, on a
    cell sample: what blend's recipe choice reads, and what the nested choice of its selection rule
    (``latency_blend_rules``) reads again for many held-out sets. Cached by content (the settings' names
    and tables, the grid, the sample), so tasks that hold the same tables share it."""

    def __init__(
        self,
        specs: Sequence[DeviceSpec],
        measured: np.ndarray,
        features: np.ndarray,
        grid: Sequence[Recipe],
        sample: np.ndarray,
    ) -> None:
        self.specs = list(specs)
        self.measured = measured
        self.logs = _log(measured)
        self.z = _standardise(self.logs)
        self.features = features
        self.grid = list(grid)
        self.sample = sample
        digest = hashlib.sha1(
            repr((self.grid, sample.tolist())).encode() + np.ascontiguousarray(features).tobytes()
        ).hexdigest()
        self._ids = [
            (spec.name, hashlib.sha1(np.ascontiguousarray(row).tobytes()).hexdigest(), digest)
            for spec, row in zip(self.specs, measured)
        ]

    def taus(self, x: int, held: frozenset[int]) -> np.ndarray:
        """(recipes,): τ on the sample of each recipe predicting setting ``x`` from every setting not in
        ``held`` (the params/FLOPs fit on those too)."""
        rest = [k for k in range(len(self.specs)) if k not in held]
        key = (self._ids[x], frozenset(self._ids[k] for k in rest))
        if key not in _TAUS:
            if len(_TAUS) >= _SHARED_TAUS:
                _TAUS.clear()
            rest_specs = [self.specs[k] for k in rest]
            z_pf = _standardise(params_flops_log(self.features, self.measured[rest]))[self.sample]
            mixes: dict[tuple[float, float], np.ndarray] = {}  # the tables' mix per (h, b), on the sample
            preds = np.empty((len(self.grid), self.sample.size))
            for i, recipe in enumerate(self.grid):
                kernel = (recipe.bandwidth, recipe.batch_weight)
                if recipe.pf_weight < 1 and kernel not in mixes:
                    w = kernel_weights(self.specs[x], rest_specs, recipe)
                    mixes[kernel] = _standardise(w @ self.z[rest])[self.sample]
                preds[i] = mix(mixes.get(kernel, np.zeros_like(z_pf)), z_pf, recipe)
            _TAUS[key] = kendall_taus(self.logs[x, self.sample], preds)
        return _TAUS[key]


def _float_list(name: str, values: Any, low: float) -> tuple[float, ...]:
    """``values`` as a non-empty tuple of floats >= ``low`` (``inf`` allowed), or one config error."""
    items = list(values) if isinstance(values, (list, tuple)) else [values]
    try:
        out = tuple(float(v) for v in items)
    except (TypeError, ValueError):
        out = ()
    if not out or any(not v >= low for v in out):
        raise ConfigError(
            f"latency model blend: {name} must be a non-empty list of numbers >= {low}, got {values!r}"
        )
    return out


class DescribedBlend:
    """Registry entry ``blend``: see the module docstring; the grid's lists can be given as options."""

    def __init__(
        self,
        bandwidths: Sequence[float] = BANDWIDTHS,
        pf_weights: Sequence[float] = PF_WEIGHTS,
        batch_weights: Sequence[float] = BATCH_WEIGHTS,
        selection_bandwidth: float = SELECTION_BANDWIDTH,
        selection_cells: int = SELECTION_CELLS,
        vote_batch_weight: float = VOTE_BATCH_WEIGHT,
        holdout: str = HOLDOUT,
        selection: str = SELECTION,
        cache: bool = True,
    ) -> None:
        pf = _float_list("pf_weights", pf_weights, 0.0)
        if any(v > 1 for v in pf):
            raise ConfigError(f"latency model blend: pf_weights must lie in [0, 1], got {pf_weights!r}")
        self.grid = [
            Recipe(h, a, b)
            for b in _float_list("batch_weights", batch_weights, 0.0)
            for h in _float_list("bandwidths", bandwidths, 0.0)
            for a in pf
        ]
        if not (isinstance(selection_bandwidth, (int, float)) and selection_bandwidth > 0):
            raise ConfigError(
                f"latency model blend: selection_bandwidth must be > 0, got {selection_bandwidth!r}"
            )
        if not (isinstance(vote_batch_weight, (int, float)) and vote_batch_weight >= 0):
            raise ConfigError(
                f"latency model blend: vote_batch_weight must be >= 0, got {vote_batch_weight!r}"
            )
        if holdout not in HOLDOUTS:
            raise ConfigError(f"latency model blend: holdout must be one of {HOLDOUTS}, got {holdout!r}")
        if selection not in SELECTIONS:
            raise ConfigError(
                f"latency model blend: selection must be one of {SELECTIONS}, got {selection!r}"
            )
        if not (isinstance(selection_cells, int) and selection_cells >= 10):
            raise ConfigError(
                f"latency model blend: selection_cells must be an integer >= 10, got {selection_cells!r}"
            )
        self.selection_bandwidth = float(selection_bandwidth)
        self.selection_cells = selection_cells
        self.vote_batch_weight = float(vote_batch_weight)
        if not isinstance(cache, bool):
            raise ConfigError(f"latency model blend: cache must be true or false, got {cache!r}")
        self.holdout = holdout
        self.selection = selection
        self.cache = cache

    def recipe_scores(
        self, task: LatencyTask, rule: SelectionRule | None = None, taus: RecipeTaus | None = None
    ) -> tuple[list[str], np.ndarray]:
        """(pseudo-targets, τ (pseudo-targets, recipes)): each training device with its die held out (as
        the target's is; only itself when the target's die is in training or the rule's ``holdout`` is
        ``self``, nothing when the target's own table is), predicted by every recipe from the rest, τ on
        the fixed cell sample; a device with nothing left to train on is left out. ``rule``: the
        selection rule (default ``self.rule(task)``); ``taus``: the task's ``RecipeTaus`` when the caller
        holds them already."""
        taus = taus or self.taus(task)
        rule = rule or self.rule(task, taus)
        dies = [die_of(d) for d in task.devices]
        # the inner hold-out mirrors the outer one: a whole die when the target's die is not in training
        # (zero-shot on a die never seen; ``holdout: self`` holds out the pseudo-target setting alone),
        # the pseudo-target setting alone when another setting of the target's die is, nothing when the
        # target's own table is
        holdout = (
            rule.holdout
            if die_of(task.target) not in dies
            else "self"
            if task.target.name not in task.devices
            else "none"
        )
        pseudo, rows = [], []
        for u in range(len(dies)):
            held = held_out(u, dies, holdout)
            if len(held) == len(dies):
                continue
            pseudo.append(task.devices[u])
            rows.append(taus.taus(u, held))
        return pseudo, np.asarray(rows, dtype=float).reshape(len(pseudo), len(self.grid))

    def taus(self, task: LatencyTask) -> RecipeTaus:
        """The recipes' τ over the task's training tables (shared by content across tasks)."""
        table = load_devices()
        return RecipeTaus(
            [table[d] for d in task.devices],
            task.measured,
            params_flops_features(task.space),
            self.grid,
            self.sample(task),
        )

    def rule(self, task: LatencyTask, taus: RecipeTaus | None = None) -> SelectionRule:
        """The selection rule: the options' (``selection: fixed``), or the candidate of
        ``latency_blend_rules.RULES`` with the best nested leave-one-die-out score over the task's
        training settings (``selection: nested``; the target's measurements are never read; ``taus``: the
        task's ``RecipeTaus`` when the caller holds them already)."""
        from nasearch.search_spaces.nasbench201.latency_blend_rules import (
            SelectionRule,
            choose_rule,
            nested_scores,
        )

        if self.selection == "fixed":
            return SelectionRule(self.selection_bandwidth, self.vote_batch_weight, self.holdout)
        dies = [die_of(d) for d in task.devices]
        return choose_rule(nested_scores(taus or self.taus(task), dies, range(len(dies))))

    def sample(self, task: LatencyTask) -> np.ndarray:
        """The fixed random sample (seed 0) of ``selection_cells`` cells the pseudo-targets' τ is taken on."""
        rng = np.random.default_rng(0)
        return np.sort(rng.choice(task.cells, size=min(self.selection_cells, task.cells), replace=False))

    def choose(self, task: LatencyTask, rule: SelectionRule | None = None) -> tuple[Recipe, np.ndarray]:
        """(the recipe with the best pseudo-target-weighted mean τ under the selection rule, the first of
        equals; those means). ``rule``: the selection rule when the caller chose it already (computed
        then, not cached); else the options' choice, ``choice(task)``."""
        chosen = self.choice(task) if rule is None else self._compute(task, rule)
        return chosen.recipe, chosen.means

    def choice(self, task: LatencyTask) -> BlendChoice:
        """The selection rule, recipe and means the options choose for ``task``: read from the cache
        folder when an entry for exactly these inputs is there (``latency_blend_cache``), else computed
        (and stored, unless ``cache: false``)."""
        if not self.cache:
            return self._compute(task)
        from nasearch.search_spaces.nasbench201.latency_blend_cache import cached_choice

        return cached_choice(self, task, lambda: self._compute(task))

    def _compute(self, task: LatencyTask, rule: SelectionRule | None = None) -> BlendChoice:
        """The choice computed from the task's training tables (hashed and read once for the rule and
        the recipe scores); ``rule``: the selection rule when given, else ``self.rule(task)``."""
        taus = self.taus(task)
        rule = rule or self.rule(task, taus)
        pseudo, scores = self.recipe_scores(task, rule, taus)
        if not pseudo:
            return BlendChoice(rule, self.grid[0], np.full(len(self.grid), float("nan")))
        table = load_devices()
        means = vote_means(
            task.target, [table[u] for u in pseudo], scores, rule.selection_bandwidth, rule.vote_batch_weight
        )
        return BlendChoice(rule, self.grid[int(np.argmax(means))], means)

    def predict(self, task: LatencyTask, recipe: Recipe) -> np.ndarray:
        """Latency (ms) of every cell on the target under ``recipe``."""
        table = load_devices()
        weights = kernel_weights(task.target, [table[d] for d in task.devices], recipe)
        logs = _log(task.measured)
        z = blend_z(
            _standardise(logs),
            _standardise(params_flops_log(params_flops_features(task.space), task.measured)),
            weights,
            recipe,
        )
        mean = float(weights @ logs.mean(axis=1))
        std = float(weights @ logs.std(axis=1))
        return np.exp(mean + std * _standardise(z))

    def estimate(self, task: LatencyTask) -> np.ndarray:
        return self.predict(task, self.choose(task)[0])
