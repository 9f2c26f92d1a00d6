"""Building a run's parts from its config: the space, the evaluator, its objectives, each optimizer,
and what the evaluator can say about the benchmark (its optimum, a hypervolume reference point).

Optional facts never stop a run, but none is dropped in silence: each fallback logs one line
saying what is switched off and why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from nasearch.api import Evaluator, HasBenchmark, KnowsOptimum, MultiObjective, Optimizer
from nasearch.api.errors import ConfigError, DataError, NasearchError
from nasearch.api.objective import Objective, stored_objectives
from nasearch.config.blocks import Block
from nasearch.config.options import accepted_options
from nasearch.config.registry import EVALUATORS, OPTIMIZERS, SEARCH_SPACES
from nasearch.config.run_schema import RunConfig
from nasearch.search.failures import setup_failure
from nasearch.search.trajectory import KnownOptimum

Log = Callable[[str], None]


def build_space(cfg: RunConfig) -> Any:
    """The search space of the config (``data_dir`` passed where the space takes one)."""
    options = dict(cfg.search_space.options)
    named, _ = accepted_options(SEARCH_SPACES.get(cfg.search_space.name))
    if cfg.data_dir and "data_dir" in named:
        options["data_dir"] = cfg.data_dir
    return SEARCH_SPACES.create(cfg.search_space.name, **options)


def build_evaluator(block: Block, space: object) -> Evaluator:
    """The evaluator of the config; it gets the space when its constructor takes ``space``."""
    options = dict(block.options)
    named, _ = accepted_options(EVALUATORS.get(block.name))
    if "space" in named:
        options["space"] = space
    return EVALUATORS.create(block.name, **options)


def evaluator_objectives(evaluator: object) -> list[Objective]:
    """A ``MultiObjective`` evaluator's ``objectives``, else its ``objective``/``maximize``."""
    if isinstance(evaluator, MultiObjective) and evaluator.objectives:
        return stored_objectives(evaluator.objectives)
    metric = getattr(evaluator, "objective", "")
    if not metric:
        raise ConfigError(f"evaluator {type(evaluator).__name__} names no objective metric")
    return [Objective(str(metric), bool(getattr(evaluator, "maximize", True)))]


def evaluator_test_metric(evaluator: object) -> str | None:
    """The metric recorded beside the objective for the incumbent (``Evaluator.test_metric``), if any."""
    value = getattr(evaluator, "test_metric", None)  # an attribute with a default, not a capability
    return str(value) if value else None


def build_optimizer(block: Block, space: object, objectives: Sequence[Objective], seed: int) -> Optimizer:
    """The optimizer of one block, seeded."""
    options = dict(block.options)
    if block.surrogate is not None:  # the surrogate as the config resolved it (nasearch.config.surrogate)
        options["surrogate"] = block.surrogate
    optimizer: Optimizer = OPTIMIZERS.create(
        block.name, space=space, objectives=objectives, seed=seed, **options
    )
    return optimizer


def optimum_info(evaluator: object, space: Any, objectives: Sequence[Objective], log: Log) -> KnownOptimum:
    """The benchmark's best objective value, the key and string of the cell holding it, and the best
    test value, when the evaluator can say (a ``KnowsOptimum`` evaluator, one objective)."""
    info: dict[str, object] = {}
    if not isinstance(evaluator, KnowsOptimum) or len(objectives) != 1:
        return KnownOptimum()
    try:
        found = evaluator.optimum()
    except DataError as exc:  # a damaged table: the run could not evaluate a cell either
        raise setup_failure(str(exc)) from exc
    except (NasearchError, ValueError, KeyError, NotImplementedError) as exc:
        log(
            f"nasearch: the benchmark's optimum is unavailable ({type(exc).__name__}: {exc}); "
            "queries to the optimum are not reported"
        )
        return KnownOptimum()
    if found:
        info["optimum"] = found[0]
        if found[1] is not None:
            info["optimum_key"] = space.key(found[1])
            info["optimum_arch"] = space.to_str(found[1])
    test_metric = evaluator_test_metric(evaluator)
    if test_metric:
        try:
            test = evaluator.optimum(test_metric)
        except DataError as exc:
            raise setup_failure(str(exc)) from exc
        except (NasearchError, ValueError, KeyError, NotImplementedError) as exc:
            log(
                f"nasearch: the benchmark's best {test_metric} is unavailable ({type(exc).__name__}: {exc}); "
                "it is not reported beside the optimum"
            )
            test = None
        if test:
            info["test_optimum"] = test[0]
    return KnownOptimum.from_attrs(info)


def reference_point(
    cfg: RunConfig, evaluator: object, objectives: Sequence[Objective], log: Log
) -> list[float] | None:
    """Hypervolume reference in maximise-space: the config's, else the benchmark's median cell in
    every objective (so the volume measures the front where it beats a typical cell; the worst
    cell of NB201 has 10% accuracy and ~0 ms latency, which makes every front look alike)."""
    if len(objectives) < 2:
        return None
    if cfg.reference_point is not None:
        if len(cfg.reference_point) != len(objectives):
            raise ConfigError(
                f"{cfg.source.where('reference_point')}: needs {len(objectives)} values, one per objective"
            )
        return [v if mx else -v for v, (_, mx) in zip(cfg.reference_point, objectives)]
    import numpy as np

    space = getattr(evaluator, "space", None)
    if not isinstance(space, HasBenchmark):
        log(
            "nasearch: no reference_point and no benchmark table to take the median cell from; "
            "hypervolumes use each seed's worst observed values"
        )
        return None
    try:
        ref = []
        for metric, mx in objectives:
            col = np.asarray(space.benchmark().column(metric), dtype=float)
            ref.append(float(np.nanmedian(col)) if mx else -float(np.nanmedian(col)))
        return ref
    except (NasearchError, NotImplementedError, KeyError, ValueError) as exc:
        log(
            f"nasearch: the benchmark cannot list a whole column for the reference point ({exc}); "
            "hypervolumes use each seed's worst observed values"
        )
        return None
