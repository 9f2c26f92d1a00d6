"""Latency estimators for a target device on NAS-Bench-201, and their registry (``latency_model.name``).

An estimator predicts the target's latency (ms) of every NB201 cell from what a hardware-aware
search may use: the target's *description* (``nasearch/data/devices.csv`` fields), the measured HELP
latency of the *training* devices (every setting whose die is not the target's), the cells' own
structure (parameter count, op counts) and, in few-shot mode, k cells measured on the target.
Nothing else of the target is read. Estimators are plug-ins of the registry ``LATENCY_MODELS``
(entry-point group ``nasearch.latency_models``), each ``Class(**options)`` with one method
``estimate(task) -> array``:

- ``geomean``: the geometric mean of the training devices' tables (``family: same`` restricts it
  to the devices of the target's family, GPU, CPU, phone ...; ``all`` uses every one);
- ``nearest_device``: the table of the training device whose description is nearest the target's;
- ``params_flops``: log latency linear in the parameter count and the FLOPs (from op counts),
  fitted on the training devices (one intercept each);
- ``blend``: a blend of the training devices' standardised log tables (weights from a kernel over the
  description distance) and the params/FLOPs fit, whose recipe (bandwidth, params/FLOPs weight, batch
  weight) is chosen per target by leave-one-die-out over the training devices, each pseudo-target
  weighted by how near its description is to the target's, and the rule of that choice by nested
  leave-one-die-out (``latency_blend_rules``);
- ``ledgformer``: the LeDG-Former trained on the training devices (``ZeroShotLatencyModel``);
- ``combination`` (few-shot): a non-negative combination of the training devices' log tables plus
  an intercept and a per-op-count correction, fitted on the target's k measured cells.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from nasearch.api.errors import ConfigError, RegistryError, suggest
from nasearch.config.registry import Registry
from nasearch.data.devices import DeviceSpec, load_devices

#: the estimator a ``hardware_aware`` run uses when ``latency_model`` names none: ``blend`` (was ``geomean``;
#: on the 27 held-out dies of ``bench_latency_models --parts zero_shot`` it has more τ wins over the best
#: model-free baseline and a higher mean predicted-front share than ``geomean``, the issue's rule for a switch)
DEFAULT_ESTIMATOR = "blend"


class LatencyModel(Protocol):
    """What a latency estimator offers: the target's latency (ms) of every cell of ``task``."""

    def estimate(self, task: LatencyTask) -> np.ndarray:
        """Latency (ms) on the target of every NB201 cell, in the space's enumeration order."""
        ...


LATENCY_MODELS: Registry[LatencyModel] = Registry(
    "latency model",
    "nasearch.latency_models",
    {
        "geomean": "nasearch.search_spaces.nasbench201.latency_models:GeometricMean",
        "nearest_device": "nasearch.search_spaces.nasbench201.latency_models:NearestDevice",
        "params_flops": "nasearch.search_spaces.nasbench201.latency_models:ParamsFlops",
        "blend": "nasearch.search_spaces.nasbench201.latency_blend:DescribedBlend",
        "ledgformer": "nasearch.search_spaces.nasbench201.latency_models:LeDGFormerLatency",
        "combination": "nasearch.search_spaces.nasbench201.latency_models:FewShotCombination",
    },
    required=("estimate",),
)


@dataclass
class LatencyTask:
    """What an estimator may read: the target's description, the training devices' measured tables,
    the cells, and (few-shot) the target's measured cells ``shots`` with their latency ``shot_ms``."""

    target: DeviceSpec
    devices: list[str]
    measured: np.ndarray  # (len(devices), cells), ms
    space: Any  # the NB201 space: its benchmark gives the cells in official index order
    shots: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    shot_ms: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def cells(self) -> int:
        return int(self.measured.shape[1])


def build_task(
    space: Any, target: DeviceSpec, devices: Sequence[str], shots: Mapping[int, float] | None = None
) -> LatencyTask:
    """The task for ``target`` with ``devices`` as training devices (their HELP columns)."""
    bench = space.benchmark()
    measured = np.stack([np.asarray(bench.column(f"latency/{d}"), dtype=float) for d in devices])
    idx = np.asarray(sorted(shots or {}), dtype=int)
    ms = np.asarray([float((shots or {})[int(i)]) for i in idx], dtype=float)
    return LatencyTask(target, list(devices), measured, space, idx, ms)


def die_of(device: str | DeviceSpec) -> str:
    """The silicon a device setting runs on, for "never seen" hold-outs: the GPU die named in the chip
    column (``TU102`` for the 2080 Ti and the Titan RTX, ``GP102`` for the 1080 Ti, Titan X and Xp),
    otherwise the chip itself (both Snapdragon 835 phones share one)."""
    import re

    spec = load_devices()[device] if isinstance(device, str) else device
    match = re.search(r"\(([A-Z]{2}\d{3})\)", spec.chip)
    return match.group(1) if match else (spec.chip or spec.name)


def _log(values: np.ndarray) -> np.ndarray:
    """log of latency, floored at 1 µs (cells that compute a constant measure ~0 on some devices)."""
    return np.log(np.maximum(values, 1e-3))


class GeometricMean:
    """The geometric mean of the training devices' measured tables (of the target's family by default)."""

    def __init__(self, family: str = "same") -> None:
        if family not in ("same", "all"):
            raise ConfigError(f"latency model geomean: family must be 'same' or 'all', got {family!r}")
        self.family = family

    def chosen(self, task: LatencyTask) -> list[int]:
        """Rows of ``task.measured`` it averages (all devices when none shares the family)."""
        if self.family == "all":
            return list(range(len(task.devices)))
        table = load_devices()
        same = [k for k, d in enumerate(task.devices) if table[d].family == task.target.family]
        return same or list(range(len(task.devices)))

    def estimate(self, task: LatencyTask) -> np.ndarray:
        rows = self.chosen(task)
        return np.exp(np.mean(_log(task.measured[rows]), axis=0))


def description_distance(a: DeviceSpec, b: DeviceSpec) -> float:
    """How far two device descriptions are: |log ratio| of peak TFLOPS, bandwidth, power and batch
    size, plus 1 per differing kind, vendor, precision and architecture (kind counts 4)."""
    numbers = sum(
        abs(math.log(getattr(a, f) / getattr(b, f)))
        for f in ("peak_tflops", "memory_bandwidth_gbs", "power_w", "batch_size")
    )
    words = 4.0 * (a.kind != b.kind) + sum(
        float(getattr(a, f) != getattr(b, f)) for f in ("vendor", "precision", "architecture")
    )
    return float(numbers + words)


class NearestDevice:
    """The measured table of the training device whose description is nearest the target's."""

    def nearest(self, task: LatencyTask) -> str:
        table = load_devices()
        return min(task.devices, key=lambda d: (description_distance(task.target, table[d]), d))

    def estimate(self, task: LatencyTask) -> np.ndarray:
        return np.asarray(task.measured[task.devices.index(self.nearest(task))], dtype=float)


def op_counts(space: Any) -> np.ndarray:
    """(cells, 5) how many edges of each cell carry each NB201 op (none, skip, 1x1, 3x3, pool)."""
    from nasearch.search_spaces.nasbench201.space import OPS

    archs = space.benchmark().archs
    return np.asarray([[arch.count(op) for op in OPS] for arch in archs], dtype=float)


def nb201_flops(space: Any) -> np.ndarray:
    """MFLOPs of the cells' convolutions and pools (multiply-adds x 2) over the 15 cells of the
    CIFAR network (5 per stage at 16/32/64 channels on 32/16/8 pixels); every edge runs, as on a
    device. The stem, reductions and head are the same for every cell and left out."""
    counts = op_counts(space)
    per_stage = [(16, 32), (32, 16), (64, 8)]
    conv3 = sum(5 * 2 * 9 * c * c * h * h for c, h in per_stage)
    conv1 = sum(5 * 2 * c * c * h * h for c, h in per_stage)
    pool = sum(5 * 9 * c * h * h for c, h in per_stage)
    return np.asarray((counts[:, 3] * conv3 + counts[:, 2] * conv1 + counts[:, 4] * pool) / 1e6, dtype=float)


def params_flops_features(space: Any) -> np.ndarray:
    """(cells, 2): every cell's parameter count and FLOPs, the inputs of ``params_flops_log``."""
    params = np.asarray(space.benchmark().column("cifar10/params"), dtype=float)
    return np.column_stack([params, nb201_flops(space)])


def params_flops_log(x: np.ndarray, measured: np.ndarray) -> np.ndarray:
    """log latency of every cell = intercept + a * params + b * FLOPs (``x``: ``params_flops_features``),
    the slopes shared by the devices of ``measured`` (devices, cells) and fitted by least squares on
    their log tables."""
    y = _log(measured)
    keep = np.isfinite(y).all(axis=0) & np.isfinite(x).all(axis=1)
    xc = x[keep] - x[keep].mean(axis=0)
    yc = (y[:, keep] - y[:, keep].mean(axis=1, keepdims=True)).mean(axis=0)  # shared slopes
    coef, *_ = np.linalg.lstsq(xc, yc, rcond=None)
    intercept = float(np.mean(y[:, keep])) - float(x[keep].mean(axis=0) @ coef)
    return np.asarray(intercept + x @ coef, dtype=float)


class ParamsFlops:
    """log latency = device intercept + a * params + b * FLOPs, least squares on the training devices."""

    def estimate(self, task: LatencyTask) -> np.ndarray:
        return np.exp(params_flops_log(params_flops_features(task.space), task.measured))


def measured_shots(space: Any, cells: Mapping[Any, Any] | None) -> dict[int, float]:
    """``{arch string or official index: ms}`` -> ``{index: ms}``; a bad cell or value is one error."""
    out: dict[int, float] = {}
    bench = space.benchmark()
    for cell, value in (cells or {}).items():
        try:
            index = bench.index(space.parse(str(cell)))
        except Exception as exc:  # noqa: BLE001 - any parse failure is the same config error
            raise ConfigError(
                f"evaluator hardware_aware: measured_cells: {cell!r} is not an NB201 cell ({exc})"
            ) from None
        try:
            ms = float(value)
        except (TypeError, ValueError):
            ms = float("nan")
        if not math.isfinite(ms) or ms <= 0:
            raise ConfigError(
                f"evaluator hardware_aware: measured_cells: {cell!r} must map to a positive latency in ms, "
                f"got {value!r}"
            )
        out[int(index)] = ms
    return out


def estimator_for(
    space: Any,
    target: DeviceSpec,
    devices: Sequence[str],
    options: Mapping[str, Any] | None,
    shots: Mapping[int, float] | None = None,
) -> tuple[Any, LatencyTask]:
    """The estimator ``options['name']`` (default ``DEFAULT_ESTIMATOR``) built from the other options,
    and the task it estimates."""
    opts = dict(options or {})
    name = str(opts.pop("name", DEFAULT_ESTIMATOR))
    try:
        estimator = LATENCY_MODELS.create(name, **opts)
    except ConfigError as exc:
        text = str(exc)
        raise ConfigError(
            text if text.startswith("evaluator") else f"evaluator hardware_aware: latency_model: {text}"
        ) from None
    except RegistryError as exc:
        raise ConfigError(f"evaluator hardware_aware: latency_model: {exc}") from None
    return estimator, build_task(space, target, devices, shots)


class LeDGFormerLatency:
    """The LeDG-Former zero-shot model (``ZeroShotLatencyModel``) with its options (``train_cells``,
    ``seed``, ``predictor``); trained once per target and training set, then cached."""

    def __init__(self, **options: Any) -> None:
        from nasearch.search_spaces.nasbench201.evaluators import MODEL_KEYS

        unknown = [k for k in options if k not in MODEL_KEYS]
        if unknown:
            raise ConfigError(
                f"evaluator hardware_aware: latency_model has no option {unknown[0]!r}"
                f"{suggest(unknown[0], MODEL_KEYS)} (options: name, {', '.join(MODEL_KEYS)})"
            )
        self.options = dict(options)

    def model(self, task: LatencyTask) -> Any:
        from nasearch.search_spaces.nasbench201.evaluators import ZeroShotLatencyModel

        model = ZeroShotLatencyModel(task.target, self.options)
        model.devices = list(task.devices)  # the task's training devices (its cache key includes them)
        return model

    def estimate(self, task: LatencyTask) -> np.ndarray:
        return np.asarray(self.model(task).predictions(task.space), dtype=float)


class FewShotCombination:
    """Few-shot: log latency of the target ≈ intercept + Σ w_d · log latency of training device d
    (+ Σ g_o · count of op o in the cell, when ``op_ridge`` is set), w ≥ 0 (non-negative least squares
    on the k measured cells; ``ridge`` shrinks the weights towards the equal weights of the geometric
    mean, which is what it predicts with no shots; ``op_ridge`` shrinks the per-op corrections g
    towards 0, and ``None`` leaves them out; ``ridge`` 0.01 and ``op_ridge`` 10 were chosen on HELP's
    meta-validation devices by ``benchmarks/bench_latency_models.py --parts few_shot``). The op counts
    let a target whose cost per op differs from every training device's (an accelerator) be corrected
    with the few cells it has. A list for
    ``op_ridge`` chooses among its values (``None`` included) per target, by the leave-one-out error
    of the log latency on the k cells."""

    def __init__(self, ridge: float = 0.01, op_ridge: float | None | Sequence[float | None] = 10.0) -> None:
        if not ridge >= 0:
            raise ConfigError(f"latency model combination: ridge must be >= 0, got {ridge!r}")
        choices: list[object] = list(op_ridge) if isinstance(op_ridge, (list, tuple)) else [op_ridge]
        self.op_ridges: list[float | None] = []
        for c in choices:
            if c is not None and not (isinstance(c, (int, float)) and not isinstance(c, bool) and c > 0):
                raise ConfigError(
                    f"latency model combination: op_ridge must be > 0, null, or a list of those; got {op_ridge!r}"
                )
            self.op_ridges.append(None if c is None else float(c))
        if not self.op_ridges:
            raise ConfigError("latency model combination: op_ridge is an empty list")
        self.ridge = float(ridge)

    def _features(self, task: LatencyTask, op_ridge: float | None) -> np.ndarray:
        """(features, cells): the training devices' log tables, then (with ``op_ridge``) the cells' counts
        of skip, 1x1, 3x3 and pool edges (``none`` is the rest of the 6), each as +count and -count so
        that the non-negative fit can give them either sign."""
        x_all = _log(task.measured)
        if op_ridge is None:
            return x_all
        counts = op_counts(task.space)[:, 1:].T
        return np.vstack([x_all, counts, -counts])

    def _fit(self, x: np.ndarray, y: np.ndarray, d: int, op_ridge: float | None) -> tuple[np.ndarray, float]:
        """(weights, intercept) on shots ``x`` (k, features) with log latency ``y``."""
        from scipy.optimize import nnls

        extra = x.shape[1] - d
        prior = np.concatenate([np.full(d, 1.0 / d), np.zeros(extra)])
        xm, ym = x.mean(axis=0), y.mean()
        xc, yc = x - xm, y - ym
        # ridge towards the prior: stack sqrt(lam) * I rows asking w ≈ prior (op corrections ≈ 0)
        lam = np.concatenate([np.full(d, math.sqrt(self.ridge)), np.full(extra, math.sqrt(op_ridge or 0.0))])
        w, _ = nnls(np.vstack([xc, np.diag(lam)]), np.concatenate([yc, lam * prior]))
        return w, float(ym - xm @ w)

    def choose_op_ridge(self, task: LatencyTask) -> float | None:
        """The ``op_ridge`` choice with the least leave-one-out squared error on the shots (the first of
        equals); the only one when a single value was given."""
        if len(self.op_ridges) == 1 or task.shots.size < 3:
            return self.op_ridges[0]
        y = _log(task.shot_ms)
        d = len(task.devices)
        errors = []
        for op_ridge in self.op_ridges:
            x = self._features(task, op_ridge)[:, task.shots].T
            sq = 0.0
            for i in range(len(y)):
                rest = np.arange(len(y)) != i
                w, b = self._fit(x[rest], y[rest], d, op_ridge)
                sq += float((b + x[i] @ w - y[i]) ** 2)
            errors.append(sq)
        return self.op_ridges[int(np.argmin(errors))]

    def fitted(self, task: LatencyTask) -> tuple[np.ndarray, float, float | None]:
        """(weights per feature of ``_features``: training devices first, then the op counts, if
        chosen; intercept; the ``op_ridge`` chosen) fitted on the task's shots."""
        op_ridge = self.choose_op_ridge(task)
        x_all = self._features(task, op_ridge)
        d = len(task.devices)
        if task.shots.size < 2:
            prior = np.concatenate([np.full(d, 1.0 / d), np.zeros(x_all.shape[0] - d)])
            shift = (
                np.mean(_log(task.shot_ms)) - np.mean(x_all[:, task.shots].T @ prior)
                if task.shots.size
                else 0
            )
            return prior, float(shift), op_ridge
        w, b = self._fit(x_all[:, task.shots].T, _log(task.shot_ms), d, op_ridge)
        return w, b, op_ridge

    def weights(self, task: LatencyTask) -> tuple[np.ndarray, float]:
        """(weights per feature of ``_features``, intercept) fitted on the task's shots."""
        w, b, _ = self.fitted(task)
        return w, b

    def estimate(self, task: LatencyTask) -> np.ndarray:
        if task.shots.size == 0:
            raise ConfigError(
                "latency model combination needs measured cells of the target (shots); none given"
            )
        w, intercept, op_ridge = self.fitted(task)
        return np.exp(intercept + w @ self._features(task, op_ridge))
