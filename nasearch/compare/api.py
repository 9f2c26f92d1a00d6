"""``nasearch.compare(...)``: a comparison from Python, as ``nasearch compare`` runs it from the shell.

Defined in the compare package (``nasearch.python_api`` re-exports it), so that the package, the
Python API and the run results import one another in one direction only.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from nasearch.api.errors import ConfigError
from nasearch.compare.cli import execute, prepare_compare
from nasearch.compare.from_run import prepare_from_run
from nasearch.compare.job import CompareJob
from nasearch.compare.results import CompareResults
from nasearch.search.results import RunResults


def compare(
    config: str | os.PathLike[str] | Mapping[str, object] | None = None,
    *,
    from_run: str | os.PathLike[str] | RunResults | None = None,
    predictors: Sequence[str] | None = None,
    sizes: Sequence[int] | None = None,
    seeds: Sequence[int] | None = None,
    protocol: str | None = None,
    overrides: Sequence[str] = (),
    out: str | os.PathLike[str] | None = None,
    log: Callable[[str], None] = print,
) -> CompareResults:
    """Predictor sample-efficiency curves, as ``nasearch compare CONFIG`` (a compare YAML or the
    same keys as a mapping) or ``nasearch compare --from-run RUN_DIR`` does; returns the rows
    (``results``), the curves (``curves``) and ``plot()``. Rows already in the output folder's
    results.csv with the same options are read back, not fitted again."""
    if isinstance(overrides, str):
        overrides = [overrides]
    job: CompareJob
    if from_run is not None:
        if config is not None:
            raise ConfigError("give a compare config or from_run, not both")
        if protocol not in (None, "random"):
            raise ConfigError("from_run compares on random splits of the run's cells; drop protocol")
        run_dir = from_run.run_dir if isinstance(from_run, RunResults) else Path(from_run)
        job = prepare_from_run(
            run_dir,
            predictors=predictors,
            sizes=sizes,
            seeds=seeds,
            overrides=overrides,
            out=None if out is None else Path(out),
            log=log,
        )
    else:
        path = os.fspath(config) if isinstance(config, os.PathLike) else config
        job = prepare_compare(
            path,
            predictors=predictors,
            sizes=sizes,
            seeds=seeds,
            protocol=protocol,
            overrides=overrides,
            out=None if out is None else Path(out),
        )
    rows = execute(job, log=log)
    return CompareResults(rows, job.out_dir, job.title)


__all__ = ["compare"]
