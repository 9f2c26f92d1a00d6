"""``nasearch compare``: predictor sample-efficiency curves on a benchmark's real tables.

For each predictor x training size x seed, a *split protocol* draws training and test cells,
the predictor is fitted on the training cells and scored on the test cells (Kendall tau-b,
Spearman rho; MAPE and Acc(10%) for latency-like targets). Rows go to ``results.csv`` (written
as they come, so a stopped run keeps what it measured) and a plot to ``curves.png``.

Split protocols live in the ``PROTOCOLS`` registry (:mod:`nasearch.compare.protocols`); a module
adds one with ``@register_protocol("name")``, a package with an entry point of the
``nasearch.protocols`` group, and a config can name a ``"package.module:function"``. A protocol is
called as ``protocol(task, size, seed, config)`` and yields ``Split``s:

- ``task`` is a ``Task``: ``task.graphs`` (every cell of the space as an ArchGraph, in the
  space's enumeration order; ``task.graphs_at(indices)`` builds only those), ``task.column(metric)``
  (a benchmark column in the same order),
  ``task.space`` and ``task.benchmark``;
- ``config`` is the whole ``CompareConfig``; ``config.protocol_options`` is a free mapping for the
  protocol's own knobs (e.g. the devices of a leave-one-device-out protocol);
- a ``Split`` holds train/test cell indices, their targets, optional per-cell ``hardware`` lists
  (passed to ``fit``/``predict`` as ``hardware=``: hardware-conditioned predictors), and
  ``info``: extra CSV columns (e.g. ``{"device": "pixel3"}``). A protocol may yield several
  splits per (size, seed), e.g. one per held-out device; splits with equal ``fit_key`` share one fit.

Validation cells (``Split.validation``, for checkpoint selection) are never test cells: the built-in
protocols keep them apart, and ``run_compare`` refuses a split that scores one. Every row ends with
``options`` (the resolved predictor options and the config keys that change a score, as JSON),
``options_hash``, ``version`` and ``commit`` (``nasearch.data.provenance``), so a table can refuse rows
made under other settings.

A space's own predictor defaults (``nasearch.api.PredictorDefaults``) fill in what a config leaves
out: explicit options > the space's > the predictor's own (:mod:`~nasearch.compare.defaults`), and the
rows record the resolved options.

The package: :mod:`~nasearch.compare.schema` (the YAML schema), :mod:`~nasearch.compare.task` (the
cells and columns), :mod:`~nasearch.compare.defaults` (the space's choice where a config says nothing),
:mod:`~nasearch.compare.protocols` (splits), :mod:`~nasearch.compare.fitting` (fits and rows) and
:mod:`~nasearch.compare.cli` (the command and its plot).
"""

from __future__ import annotations

import sys
import types
from typing import Any

from nasearch.compare.api import compare
from nasearch.compare.cli import cli_compare, plot_curves
from nasearch.compare.fitting import CSV_COLUMNS, TRACE_COLUMNS, row_options, run_compare, score
from nasearch.compare.protocols import (
    PROTOCOLS,
    Protocol,
    Split,
    check_split,
    get_protocol,
    paper_protocol,
    random_protocol,
    register_protocol,
    test_cells,
    unseen_mask,
)
from nasearch.compare.schema import CompareConfig, load_config, predictor_specs
from nasearch.compare.task import Task, build_task

__all__ = [
    "CSV_COLUMNS",
    "PROTOCOLS",
    "TRACE_COLUMNS",
    "CompareConfig",
    "Protocol",
    "Split",
    "Task",
    "build_task",
    "check_split",
    "cli_compare",
    "get_protocol",
    "load_config",
    "paper_protocol",
    "plot_curves",
    "predictor_specs",
    "random_protocol",
    "register_protocol",
    "row_options",
    "run_compare",
    "score",
    "test_cells",
    "unseen_mask",
]


class _CallablePackage(types.ModuleType):
    """``nasearch.compare(...)`` is the Python API's ``compare`` (:func:`nasearch.compare.api.compare`)
    although ``nasearch.compare`` is also this package: once imported, a package is its parent's attribute."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return compare(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
