"""nasearch from Python: ``run``, ``load``, ``plot`` and ``compare``, each the CLI command of the same name.

A thin layer over the runner, the curves and compare: the same validation, the same one-line
errors (a ``ConfigError``), the same run folder. Every CLI job is a line or three::

    import nasearch
    r = nasearch.run("runs/quickstart.yaml", overrides=["budget.queries=50"])
    r.trials.head(); r.incumbents; r.plot()

Progress bars come from ``tqdm.auto``: widgets in Jupyter, text in a terminal.
"""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasearch.api.errors import ConfigError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from nasearch.compare.cli import CompareJob
    from nasearch.config.run_schema import RunConfig
    from nasearch.search.results import CompareResults, RunResults

def run_config(config: str | os.PathLike[str] | Mapping[str, Any] | RunConfig,
               overrides: Sequence[str] = ()) -> RunConfig:
    """A validated RunConfig from a YAML path, a mapping of the same keys or a RunConfig, with
    ``--set``-style ``overrides`` (``"budget.queries=50"``) applied."""
    from nasearch.config.loader import Source, apply_overrides
    from nasearch.config.run_schema import RunConfig, load_run_config, parse_run_config, to_dict

    if isinstance(overrides, str):
        overrides = [overrides]
    if isinstance(config, RunConfig):
        if not overrides:
            return config
        data = {**to_dict(config), "description": config.description}
        return parse_run_config(apply_overrides(data, list(overrides), config.source), config.source)
    if isinstance(config, Mapping):
        source = Source("<config mapping>")
        return parse_run_config(apply_overrides(copy.deepcopy(dict(config)), list(overrides), source), source)
    if isinstance(config, (str, os.PathLike)):
        return load_run_config(os.fspath(config), list(overrides))
    raise ConfigError(f"config must be a YAML path, a mapping or a RunConfig, got {type(config).__name__}")


def run(config: str | os.PathLike[str] | Mapping[str, Any] | RunConfig, *, overrides: Sequence[str] = (),
        out: str | os.PathLike[str] | None = None, progress: bool = True, allow_config_change: bool = False,
        retry_failed: bool = False, log: Callable[[str], None] | None = None) -> RunResults:
    """Run (or resume) a search, as ``nasearch run CONFIG [--set k=v ...] [--out DIR]`` does, and
    return its results. The run folder is ``out``, else the config's ``output``, else
    ``runs/out/<name>``; it gets the same files as from the command line (``search_curves.png``
    included). ``progress``: a ``tqdm.auto`` bar per optimizer and seed."""
    from nasearch.search.loop import run as run_loop
    from nasearch.search.results import RunResults

    cfg = run_config(config, overrides)
    run_dir = Path(out or cfg.output or Path("runs") / "out" / cfg.name)
    reports = run_loop(cfg, run_dir, progress=progress, log=log, allow_config_change=allow_config_change,
                       retry_failed=retry_failed)
    results = RunResults(run_dir, reports)
    from nasearch.curves import plot as write_plot

    try:
        write_plot(results.runs, run_dir)
    except ConfigError as exc:  # nothing evaluated (every trial failed): no curves, as on the command line
        (log or (lambda msg: print(msg, file=sys.stderr)))(f"no search curves: {exc}")
    return results


def load(run_dir: str | os.PathLike[str]) -> RunResults:
    """The results of a run folder written by ``nasearch run`` (finished or not)."""
    from nasearch.search.results import RunResults

    return RunResults(Path(run_dir))


def plot(*runs: str | os.PathLike[str] | RunResults, out: str | os.PathLike[str] | None = None) -> Figure:
    """The search curves of one or more run folders (``nasearch plot RUN_DIR...``), each run
    identified by its folder; with ``out``, the PNG and CSVs are written there too."""
    import matplotlib.pyplot as plt

    from nasearch.curves import figure, load_run, write_outputs
    from nasearch.search.results import RunResults

    if not runs:
        raise ConfigError("plot needs at least one run folder")
    studies = []
    for item in runs:
        studies += item.runs if isinstance(item, RunResults) else load_run(Path(item))
    fig: Figure
    fig, frame = figure(studies)
    if out is not None:
        write_outputs(fig, frame, Path(out))
    plt.close(fig)  # returned, not also drawn by pyplot at the end of a notebook cell
    return fig


def compare(config: str | os.PathLike[str] | Mapping[str, Any] | None = None, *,
            from_run: str | os.PathLike[str] | RunResults | None = None, predictors: Sequence[str] | None = None,
            sizes: Sequence[int] | None = None, seeds: Sequence[int] | None = None, protocol: str | None = None,
            overrides: Sequence[str] = (), out: str | os.PathLike[str] | None = None,
            log: Callable[[str], None] = print) -> CompareResults:
    """Predictor sample-efficiency curves, as ``nasearch compare CONFIG`` (a compare YAML or the
    same keys as a mapping) or ``nasearch compare --from-run RUN_DIR`` does; returns the rows
    (``results``), the curves (``curves``) and ``plot()``. Rows already in the output folder's
    results.csv with the same options are read back, not fitted again."""
    from nasearch.compare.cli import execute, prepare_compare
    from nasearch.compare.from_run import prepare_from_run
    from nasearch.search.results import CompareResults, RunResults

    if isinstance(overrides, str):
        overrides = [overrides]
    job: CompareJob
    if from_run is not None:
        if config is not None:
            raise ConfigError("give a compare config or from_run, not both")
        if protocol not in (None, "random"):
            raise ConfigError("from_run compares on random splits of the run's cells; drop protocol")
        run_dir = from_run.run_dir if isinstance(from_run, RunResults) else Path(from_run)
        job = prepare_from_run(run_dir, predictors=predictors, sizes=sizes, seeds=seeds, overrides=overrides,
                               out=None if out is None else Path(out), log=log)
    else:
        path = os.fspath(config) if isinstance(config, os.PathLike) else config
        job = prepare_compare(path, predictors=predictors, sizes=sizes, seeds=seeds, protocol=protocol,
                              overrides=overrides, out=None if out is None else Path(out))
    rows = execute(job, log=log)
    return CompareResults(rows, job.out_dir, job.title)


__all__ = ["compare", "load", "plot", "run", "run_config"]
