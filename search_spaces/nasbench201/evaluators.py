"""Hardware-aware search on NAS-Bench-201 for a device that was never measured.

``HardwareAwareEvaluator`` (registered as the evaluator ``hardware_aware``) scores a cell by its
accuracy from the benchmark table and its latency on a *target device* that nasearch knows only
by description: a name from the device table, or a mapping of attributes (vendor, kind,
precision, peak TFLOPS, memory bandwidth, architecture, power, batch size). The latency comes
from a LeDG-Former trained on the HELP latency of the *other* chips (leave-one-chip-out: no batch
size or precision of the target's chip is in training), which then predicts the target's
latency of every cell of the space once. The predictions are cached under the cache folder,
keyed by the model's options, its training devices and the target description, so seeds, resumes
and reruns reuse them.

Honest scoring: the option ``latency`` chooses what the search minimises: ``zero_shot`` (the
prediction), ``true`` (the target's measured HELP latency: the oracle) or ``params`` (a
parameter-count proxy). A ``zero_shot`` run also runs the oracle and the proxy with the same
optimizers, seeds and budget, re-scores every front with the target's true latency, and reports
the three hypervolumes and their ratios (:meth:`HardwareAwareEvaluator.rescore_run`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nasearch.api import Result
from nasearch.api.errors import ConfigError, DeviceError, suggest
from nasearch.data import cache_check
from nasearch.data.sources import cache_dir
from nasearch.evaluation.benchmark import BenchmarkEvaluator

if TYPE_CHECKING:
    from nasearch.search_spaces.nasbench201.space import NasBench201Space

#: how the search's latency objective is computed
LATENCY_SOURCES = ("zero_shot", "true", "params")
PREDICTED = "latency/zero_shot"
#: the default latency model: the LeDG-Former zero-shot settings of benchmarks/bench_ledgformer.py
DEFAULT_MODEL: dict[str, Any] = {
    "train_cells": 100,
    "seed": 0,
    "predictor": {"log_target": True, "epochs": 30, "batch_size": 128, "lr": 1e-3, "threads": 1},
}
MODEL_KEYS = tuple(DEFAULT_MODEL)


def target_spec(device: str | Mapping[str, Any]) -> Any:
    """The target device as a DeviceSpec (a table name or a mapping of attributes)."""
    from nasearch.data.devices import resolve_device

    try:
        return resolve_device(dict(device) if isinstance(device, Mapping) else device)
    except DeviceError as exc:  # resolve_device names the bad field; say which option holds it
        raise DeviceError(f"evaluator hardware_aware: device: {exc}") from None


def training_devices(target: Any, exclude_chips: tuple[str, ...] = ()) -> list[str]:
    """The HELP settings the latency model learns from: every one whose chip is not the target's."""
    from nasearch.data.devices import load_devices
    from nasearch.search_spaces.nasbench201.benchmark import HELP_DEVICES

    table = load_devices()
    held_out = {c for c in (target.chip, *exclude_chips) if c}
    return [d for d in HELP_DEVICES if table[d].chip not in held_out]


def _describe(spec: Any) -> dict[str, Any]:
    return {k: v for k, v in dataclasses.asdict(spec).items() if k not in ("name", "source", "notes")}


class ZeroShotLatencyModel:
    """A LeDG-Former trained on other chips' latency, and its predictions for one target device."""

    def __init__(
        self, target: Any, options: Mapping[str, Any] | None = None, exclude_chips: tuple[str, ...] = ()
    ) -> None:
        unknown = [k for k in (options or {}) if k not in MODEL_KEYS]
        if unknown:
            raise ConfigError(
                f"evaluator hardware_aware: latency_model has no option {unknown[0]!r}"
                f"{suggest(unknown[0], MODEL_KEYS)} (options: {', '.join(MODEL_KEYS)})"
            )
        self.target = target
        self.options = {**DEFAULT_MODEL, **dict(options or {})}
        self.options["predictor"] = {**DEFAULT_MODEL["predictor"], **dict(self.options["predictor"])}
        self.devices = training_devices(target, exclude_chips)
        if not self.devices:
            raise ConfigError("evaluator hardware_aware: every HELP chip is excluded; nothing to train on")

    @property
    def key(self) -> str:
        """What the cached predictions depend on: the options, the training devices, the target."""
        blob = json.dumps(
            {
                "options": self.options,
                "devices": self.devices,
                "target": _describe(self.target),
                "version": 1,
            },
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def predictions(self, space: Any, log: Callable[[str], None] | None = None) -> np.ndarray:
        """Predicted latency (ms) of every cell, in official index order; trained on first use."""
        path = cache_dir() / "zero_shot_latency" / f"{self.key}.npy"
        if path.is_file():
            why = cache_check.problem(path)  # its sha256 recorded when written: a damaged cache is never used
            if why is None:
                values = np.load(path, allow_pickle=False)
                if values.shape == (len(space.benchmark().archs),):
                    return values
                why = f"{values.shape[0]} values for {len(space.benchmark().archs)} cells"
            cache_check.discard(
                path,
                f"the cached latency predictions {str(path)!r} are damaged ({why}); training the model again",
            )
        log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        start = time.perf_counter()
        log(
            f"nasearch: training the zero-shot latency model for {self.target.name!r} on "
            f"{len(self.devices)} HELP settings of other chips (once; cached at {path.parent})"
        )
        values = self._fit_and_predict(space)
        log(f"nasearch: latency model ready in {time.perf_counter() - start:.0f} s")
        _save_atomically(path, values)
        return values

    def _fit_and_predict(self, space: Any) -> np.ndarray:
        from nasearch.config.registry import PREDICTORS
        from nasearch.search_spaces.nasbench201.space import NasBench201Space

        bench = space.benchmark()
        graphs_of = NasBench201Space(prune_graph=False)  # latency: ops off the input-output paths still run
        columns = np.stack([np.asarray(bench.column(f"latency/{d}"), dtype=float) for d in self.devices])
        measured = np.flatnonzero(np.isfinite(columns).all(axis=0))
        rng = np.random.default_rng(self.options["seed"])
        cells = np.sort(rng.choice(measured, size=int(self.options["train_cells"]), replace=False))
        cell_graphs = [graphs_of.to_graph(bench.arch(int(i))) for i in cells]
        graphs = cell_graphs * len(self.devices)
        y = np.concatenate([columns[k, cells] for k in range(len(self.devices))])
        hardware = [d for d in self.devices for _ in cells]
        model = PREDICTORS.create("ledgformer", seed=int(self.options["seed"]), **self.options["predictor"])
        model.fit(graphs, y, hardware=hardware)
        every = [graphs_of.to_graph(a) for a in bench.archs]
        return np.asarray(model.predict(every, hardware=self.target), dtype=float)


def _save_atomically(path: Path, values: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npy")
    with os.fdopen(fd, "wb") as handle:
        np.save(handle, values, allow_pickle=False)
    os.replace(tmp, path)
    cache_check.record(path)


class HardwareAwareEvaluator(BenchmarkEvaluator):
    """Accuracy from the NB201 table, latency on a target device predicted zero-shot (or a reference).

    ``device``: a device-table name (its whole chip leaves the latency model's training) or a
    mapping of attributes (nothing is held out unless ``exclude_chips`` names chips).
    ``accuracy``: the table metric to maximise. ``latency``: ``zero_shot`` | ``true`` | ``params``.
    ``latency_model``: ``name`` (a latency estimator of ``latency_models.LATENCY_MODELS``; default
    ``latency_models.DEFAULT_ESTIMATOR``) and that estimator's options (``ledgformer``: ``train_cells``,
    ``seed``, ``predictor``). ``measured_cells``: few-shot, ``{arch string or index: ms}`` measured on
    the target (the ``combination`` estimator fits on them).
    ``references``: with ``latency: zero_shot``, also run these (oracle ``true``, proxy ``params``)
    and report their hypervolumes under the true latency.
    """

    #: an NB201 space: its benchmark maps a cell to its table row (``index``)
    space: NasBench201Space
    #: the predicted latency is this evaluator's own (the table has no such column)
    computed_metrics = (PREDICTED,)

    def __init__(
        self,
        space: Any,
        device: str | Mapping[str, Any],
        accuracy: str = "cifar10-valid/valid_accuracy",
        latency: str = "zero_shot",
        latency_model: Mapping[str, Any] | None = None,
        exclude_chips: tuple[str, ...] | list[str] = (),
        references: tuple[str, ...] | list[str] = ("true", "params"),
        test_metric: str | None = "auto",
        measured_cells: Mapping[str, float] | None = None,
    ) -> None:
        if latency not in LATENCY_SOURCES:
            raise ConfigError(
                f"evaluator hardware_aware: latency must be one of {', '.join(LATENCY_SOURCES)}, got {latency!r}"
            )
        bad = [r for r in references if r not in LATENCY_SOURCES or r == "zero_shot"]
        if bad:
            raise ConfigError(
                f"evaluator hardware_aware: references may be 'true' and 'params', got {bad[0]!r}"
            )
        self.target = target_spec(device)
        self.latency_source = latency
        self.references = tuple(references)
        self.true_metric = f"latency/{self.target.name}" if isinstance(device, str) else None
        if latency == "true" and self.true_metric is None:
            raise ConfigError(
                "evaluator hardware_aware: latency: true needs a device from the table (it has measurements)"
            )
        params = f"{accuracy.split('/', 1)[0].replace('-valid', '')}/params"
        latency_metric = {"zero_shot": PREDICTED, "true": self.true_metric, "params": params}[latency]
        from nasearch.search_spaces.nasbench201.latency_models import estimator_for, measured_shots

        devices = training_devices(self.target, tuple(exclude_chips))
        if not devices:
            raise ConfigError("evaluator hardware_aware: every HELP chip is excluded; nothing to train on")
        shots = measured_shots(space, measured_cells)
        self.model, task = estimator_for(space, self.target, devices, latency_model, shots)
        self.predicted = np.asarray(self.model.estimate(task), dtype=float)
        self.predicted.setflags(write=False)
        objectives = [
            {"metric": accuracy, "direction": "maximize"},
            {"metric": latency_metric, "direction": "minimize"},
        ]
        extra = [m for m in (self.true_metric, params) if m and m != latency_metric]
        super().__init__(
            space, objectives=objectives, test_metric=test_metric, cost_metric=None, extra_metrics=extra
        )

    def evaluate(self, arch: Hashable) -> Result:
        result = super().evaluate(arch)
        index = self.space.benchmark().index(arch)
        result.metrics[PREDICTED] = float(self.predicted[index])
        return result

    def known_values(self, archs: Sequence[Hashable]) -> dict[str, np.ndarray]:
        """The latency objective of any cells without an evaluation (``nasearch.api.KnownMetrics``): the
        latency model's prediction (or, for the references, the table's latency or parameter count)."""
        bench = self.space.benchmark()
        metric = self.objectives[1][0]
        rows = np.asarray([bench.index(a) for a in archs], dtype=int)
        column = self.predicted if metric == PREDICTED else np.asarray(bench.column(metric), dtype=float)
        return {metric: np.asarray(column[rows], dtype=float)}

    # --- honest scoring ---------------------------------------------------------------------------
    def reference_variants(self) -> dict[str, dict[str, Any]]:
        """Evaluator options of the runs to compare against: ``{label: options}``."""
        if self.latency_source != "zero_shot" or self.true_metric is None:
            return {}
        return {f"latency_{ref}": {"latency": ref} for ref in self.references}

    def true_hypervolume(self, front: list[dict[str, Any]], reference: list[float]) -> float:
        """Hypervolume of a found front re-scored with the target's measured latency."""
        from nasearch.optimizers.pareto import hypervolume

        assert self.true_metric is not None
        bench = self.space.benchmark()
        acc, true = self.objectives[0][0], bench.column(self.true_metric)
        points = np.array([[cell[acc], -float(true[bench.index(cell["arch"])])] for cell in front]).reshape(
            -1, 2
        )
        return hypervolume(points, reference) if len(points) else 0.0

    def true_reference(self) -> list[float]:
        """The hypervolume reference in maximise-space: the median cell's accuracy and true latency."""
        assert self.true_metric is not None
        bench = self.space.benchmark()
        acc = np.asarray(bench.column(self.objectives[0][0]), dtype=float)
        lat = np.asarray(bench.column(self.true_metric), dtype=float)
        return [float(np.nanmedian(acc)), -float(np.nanmedian(lat))]
