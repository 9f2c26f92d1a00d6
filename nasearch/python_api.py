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

from nasearch.api.errors import ConfigError
from nasearch.compare.api import compare
from nasearch.config.loader import Source, apply_overrides
from nasearch.config.run_schema import RunConfig, load_run_config, parse_run_config, to_dict
from nasearch.curves import plot as write_plot
from nasearch.schedulers import curves as fidelity_curves
from nasearch.search.loop import run as run_loop
from nasearch.search.results import RunResults, plot


def run_config(
    config: str | os.PathLike[str] | Mapping[str, object] | RunConfig, overrides: Sequence[str] = ()
) -> RunConfig:
    """A validated RunConfig from a YAML path, a mapping of the same keys or a RunConfig, with
    ``--set``-style ``overrides`` (``"budget.queries=50"``) applied."""
    if isinstance(overrides, str):
        overrides = [overrides]
    if isinstance(config, RunConfig):
        if not overrides:
            return config
        return parse_run_config(
            apply_overrides(to_dict(config), list(overrides), config.source), config.source
        )
    if isinstance(config, Mapping):
        source = Source("<config mapping>")
        return parse_run_config(apply_overrides(copy.deepcopy(dict(config)), list(overrides), source), source)
    if isinstance(config, (str, os.PathLike)):
        return load_run_config(os.fspath(config), list(overrides))
    raise ConfigError(f"config must be a YAML path, a mapping or a RunConfig, got {type(config).__name__}")


def run(
    config: str | os.PathLike[str] | Mapping[str, object] | RunConfig,
    *,
    overrides: Sequence[str] = (),
    out: str | os.PathLike[str] | None = None,
    progress: bool = True,
    allow_config_change: bool = False,
    retry_failed: bool = False,
    log: Callable[[str], None] | None = None,
) -> RunResults:
    """Run (or resume) a search, as ``nasearch run CONFIG [--set k=v ...] [--out DIR]`` does, and
    return its results. The run folder is ``out``, else the config's ``output``, else
    ``runs/out/<name>``; it gets the same files as from the command line (``search_curves.png``
    included). ``progress``: a ``tqdm.auto`` bar per optimizer and seed."""
    cfg = run_config(config, overrides)
    run_dir = Path(out or cfg.output or Path("runs") / "out" / cfg.name)
    reports = run_loop(
        cfg,
        run_dir,
        progress=progress,
        log=log,
        allow_config_change=allow_config_change,
        retry_failed=retry_failed,
    )
    results = RunResults(run_dir, reports)
    try:
        write_plot(results.runs, run_dir)
    except ConfigError as exc:  # nothing evaluated (every trial failed): no curves, as on the command line
        (log or (lambda msg: print(msg, file=sys.stderr)))(f"no search curves: {exc}")
    if cfg.scheduled:
        fidelity_curves.plot(run_dir)  # fidelity_curves.png and .csv, as on the command line
    return results


def load(run_dir: str | os.PathLike[str]) -> RunResults:
    """The results of a run folder written by ``nasearch run`` (finished or not)."""
    return RunResults(Path(run_dir))


__all__ = ["compare", "load", "plot", "run", "run_config"]
