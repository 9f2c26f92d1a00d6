"""``nasearch compare --from-run RUN_DIR``: predictor sample-efficiency curves on the cells a
finished search evaluated, so any plugged-in space gets them without an enumeration or a table.

The cells are the distinct (by key) completed trials of every study in the run folder, with the
run's objective as the target; the protocol is ``random`` (train on ``size`` cells drawn with the
seed, test on every other evaluated cell). Sizes default to a quarter, a half and three quarters
of the cells; predictors to ``DEFAULT_PREDICTORS``. ``--set`` overrides any compare key
(``--set predictors.nnformer.max_steps=2000``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from nasearch.api.errors import ConfigError
from nasearch.compare.defaults import resolve_specs
from nasearch.compare.job import CompareJob
from nasearch.compare.schema import CompareConfig, predictor_specs
from nasearch.compare.task import Task
from nasearch.config.loader import Source, apply_overrides, build_dataclass
from nasearch.config.module_paths import add_config_folder
from nasearch.config.options import accepted_options
from nasearch.config.registry import SEARCH_SPACES
from nasearch.curves import load_run
from nasearch.search.tracking import COMPLETE

#: predictors compared when ``--predictors`` is not given: two quick baselines and NN-Former
DEFAULT_PREDICTORS = ("random_forest", "mlp", "nnformer")
#: their options unless ``--set predictors.NAME.KEY=...`` says otherwise: training capped at a few
#: hundred optimizer steps, so that the default comparison (3 predictors x 3 sizes x 3 seeds) of a
#: 60-cell run finishes in under 5 minutes on 2 CPU cores (264 s measured on a shared machine: BENCHMARKS.md,
#: section ``compare_from_run_cpu``);
#: the package defaults train for up to 16,000 steps, minutes per fit
DEFAULT_OPTIONS: dict[str, dict[str, Any]] = {"mlp": {"max_steps": 300}, "nnformer": {"max_steps": 300}}
#: fewer distinct evaluated cells than this leaves no meaningful split
MIN_CELLS = 10


class RunTable:
    """The metrics a run recorded, one row per distinct evaluated cell: the ``benchmark``
    (``metrics()``, ``column(metric)``) a compare Task reads."""

    def __init__(self, columns: dict[str, np.ndarray]) -> None:
        self._columns = columns

    def metrics(self) -> list[str]:
        """The recorded metric names."""
        return sorted(self._columns)

    def column(self, metric: str) -> np.ndarray:
        """``metric`` of every cell (NaN where a cell did not record it)."""
        return self._columns[metric]


class RunTask(Task):
    """A compare Task over the cells of a run (in the order they were first evaluated)."""

    def __init__(self, space: Any, archs: list[Hashable], table: RunTable) -> None:
        super().__init__(space, table)
        self._archs = archs

    @cached_property
    def archs(self) -> list[Hashable]:
        """The evaluated architectures."""
        return self._archs


def run_space(run_dir: Path) -> Any:
    """The search space a run used, rebuilt from the ``config.yaml`` the run wrote."""
    path = run_dir / "config.yaml"
    if not path.is_file():
        raise ConfigError(f"{str(run_dir)!r} has no config.yaml: not a run folder written by `nasearch run`")
    data = yaml.safe_load(path.read_text()) or {}
    block = dict(data.get("search_space") or {})
    name = block.pop("name", None)
    if not name:
        raise ConfigError(f"{path}: names no search space")
    block.update(block.pop("options", None) or {})
    add_config_folder(path)
    factory = SEARCH_SPACES.get(str(name))
    named, _ = accepted_options(factory)
    if data.get("data_dir") and "data_dir" in named:
        block["data_dir"] = data["data_dir"]
    return SEARCH_SPACES.create(str(name), **block)


def run_task(run_dir: Path) -> tuple[RunTask, str, str]:
    """The run's evaluated cells as a Task, the objective metric and the run's name."""
    studies = load_run(run_dir)
    if not studies:
        raise ConfigError(f"run folder {str(run_dir)!r} holds no studies")
    objective = studies[0].objective
    space = run_space(run_dir)
    seen: dict[str, int] = {}
    archs: list[Hashable] = []
    rows: list[dict[str, float]] = []
    for study in studies:
        for rec in study.records:
            value = rec.metrics.get(objective, math.nan)
            if rec.state != COMPLETE or not math.isfinite(value) or rec.key in seen:
                continue
            seen[rec.key] = len(archs)
            archs.append(space.from_str(rec.arch))
            rows.append(rec.metrics)
    if len(archs) < MIN_CELLS:
        raise ConfigError(
            f"run {studies[0].run!r} evaluated {len(archs)} distinct cells with a finite {objective}; "
            f"comparing predictors needs at least {MIN_CELLS}"
        )
    names = sorted({m for row in rows for m in row})
    columns = {m: np.array([row.get(m, math.nan) for row in rows], dtype=float) for m in names}
    return RunTask(space, archs, RunTable(columns)), objective, studies[0].run


def default_sizes(cells: int) -> list[int]:
    """A quarter, a half and three quarters of the cells (at least 4 training cells)."""
    return sorted({max(4, cells // 4), max(4, cells // 2), max(4, (3 * cells) // 4)})


def prepare_from_run(
    run_dir: str | Path,
    *,
    predictors: Sequence[str] | None = None,
    sizes: Sequence[int] | None = None,
    seeds: Sequence[int] | None = None,
    overrides: Sequence[str] = (),
    out: str | Path | None = None,
    log: Callable[[str], None] = print,
) -> CompareJob:
    """The comparison on a finished run's cells, with the defaults of ``--from-run``."""
    run_dir = Path(run_dir)
    task, objective, run_name = run_task(run_dir)
    names = list(predictors or DEFAULT_PREDICTORS)
    data: dict[str, Any] = {
        "name": f"{run_name}-predictors",
        "sizes": list(sizes or default_sizes(len(task))),
        "seeds": list(seeds or [0, 1, 2]),
        "predictors": {n: dict(DEFAULT_OPTIONS.get(n, {})) for n in names},
        "space": "(from run)",
        "train_metric": objective,
        "protocol": "random",
    }
    source = Source(f"--from-run {run_dir}")
    data = apply_overrides(data, list(overrides), source)
    config = build_dataclass(CompareConfig, data, source)
    too_big = [s for s in config.sizes if s >= len(task)]
    if too_big:
        raise ConfigError(
            f"training size(s) {too_big} not smaller than the run's {len(task)} evaluated cells"
        )
    # the run's space's predictor defaults under the options given (its cells stay the run's)
    specs = resolve_specs(predictor_specs(config, source), task.space, config.train_metric)
    out_dir = Path(out) if out else run_dir / "predictors"
    log(f"{len(task)} distinct cells evaluated by run {run_name!r}, target {objective}")
    title = f"{run_name}: predictors on its {len(task)} evaluated cells (random splits, {objective})"
    return CompareJob(config, specs, out_dir, title, task)
