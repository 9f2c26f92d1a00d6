"""The official NAS-Bench-201 benchmark file, read through the ``nas-bench-201`` package's own API.

Users who have ``NAS-Bench-201-v1_1-096897.pth`` (or v1_0) get the same metric names as the
compact tables (``cifar10-valid/valid_accuracy`` ...) plus what only the official file holds:
validation accuracy on cifar100 / ImageNet16-120 and FLOPs. The file is read here with
``torch.load(..., weights_only=True)`` (asked for explicitly, whatever torch's default: only
tensors and plain containers are built, never arbitrary objects) and the dict is handed to
``nas_201_api.NASBench201API``, once. A torch too old for weights-only loading is refused.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nasearch.api import Benchmark
from nasearch.api.errors import ArchError, DataError
from nasearch.search_spaces.nasbench201.space import Arch, arch_to_str, str_to_arch

OFFICIAL_FILES = ("NAS-Bench-201-v1_1-096897.pth", "NAS-Bench-201-v1_0-e61699.pth")

#: metric -> (dataset, hp, field of get_more_info, or 'cost:<key>' of get_cost_info)
OFFICIAL_METRICS: dict[str, tuple[str, str, str]] = {
    "cifar10-valid/valid_accuracy": ("cifar10-valid", "200", "valid-accuracy"),
    "cifar10-valid/test_accuracy": ("cifar10-valid", "200", "test-accuracy"),
    "cifar10-valid/train_accuracy": ("cifar10-valid", "200", "train-accuracy"),
    "cifar10-valid/valid_loss": ("cifar10-valid", "200", "valid-loss"),
    "cifar10-valid/train_time": ("cifar10-valid", "200", "train-all-time"),
    "cifar10-valid/train_time_per_epoch": ("cifar10-valid", "200", "train-per-time"),
    "cifar10/test_accuracy": ("cifar10", "200", "test-accuracy"),
    "cifar100/valid_accuracy": ("cifar100", "200", "valid-accuracy"),
    "cifar100/test_accuracy": ("cifar100", "200", "test-accuracy"),
    "ImageNet16-120/valid_accuracy": ("ImageNet16-120", "200", "valid-accuracy"),
    "ImageNet16-120/test_accuracy": ("ImageNet16-120", "200", "test-accuracy"),
    "cifar10-valid/valid_accuracy@12ep": ("cifar10-valid", "12", "valid-accuracy"),
    "cifar10/test_accuracy@12ep": ("cifar10", "12", "test-accuracy"),
    "cifar100/valid_accuracy@12ep": ("cifar100", "12", "valid-accuracy"),
    "cifar100/test_accuracy@12ep": ("cifar100", "12", "test-accuracy"),
    "ImageNet16-120/valid_accuracy@12ep": ("ImageNet16-120", "12", "valid-accuracy"),
    "ImageNet16-120/test_accuracy@12ep": ("ImageNet16-120", "12", "test-accuracy"),
    "cifar10/params": ("cifar10", "200", "cost:params"),
    "cifar100/params": ("cifar100", "200", "cost:params"),
    "ImageNet16-120/params": ("ImageNet16-120", "200", "cost:params"),
    "cifar10/flops": ("cifar10", "200", "cost:flops"),
    "cifar100/flops": ("cifar100", "200", "cost:flops"),
    "ImageNet16-120/flops": ("ImageNet16-120", "200", "cost:flops"),
}


def find_official_file(root: Path) -> Path | None:
    """The official benchmark file inside ``root`` (or its ``nasbench201/`` folder), if any."""
    for folder in (root, root / "nasbench201"):
        for name in OFFICIAL_FILES:
            if (folder / name).is_file():
                return folder / name
    return None


class _Shared(dict):  # type: ignore[type-arg]
    """The loaded file, handed to the API without the deep copy it makes of a dict (the
    official file is large; this object is dropped right after)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> _Shared:
        return self


def load_weights_only(path: Path) -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU; a DataError for a torch that cannot
    load weights-only (it would unpickle arbitrary objects) or a file it refuses."""
    import inspect

    import torch

    if "weights_only" not in inspect.signature(torch.load).parameters:
        raise DataError(
            f"reading {path.name} needs a torch that can load weights-only (torch >= 2.1); "
            f"this torch {torch.__version__} would unpickle arbitrary objects, so nasearch refuses"
        )
    try:
        return torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - unpickling refused, truncated or not a torch file
        raise DataError(
            f"cannot read official NAS-Bench-201 file {str(path)!r} (weights-only): {type(exc).__name__}: "
            f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        ) from None


class OfficialNasBench201Benchmark(Benchmark):
    """NB201 lookups answered by the official API over an official ``.pth`` file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise DataError(
                f"official NAS-Bench-201 file {str(self.path)!r} does not exist; get "
                f"{OFFICIAL_FILES[0]} from github.com/D-X-Y/NAS-Bench-201"
            )
        try:
            from nas_201_api import NASBench201API
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise DataError(f"reading {self.path.name} needs the nas-bench-201 package: {exc}") from exc
        contents = _Shared(load_weights_only(self.path))
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                self.api = NASBench201API(contents, verbose=False)
                self.api.filename = self.path.name
        except Exception as exc:  # noqa: BLE001 - any load failure means a bad file
            raise DataError(
                f"cannot read official NAS-Bench-201 file {str(self.path)!r}: {type(exc).__name__}: {exc}"
            ) from None
        self.archs: list[Arch] = [str_to_arch(s) for s in self.api.meta_archs]
        self._index = {a: i for i, a in enumerate(self.archs)}
        self._cache: dict[tuple[int, str, str], dict[str, Any]] = {}

    def index(self, arch: Hashable) -> int:
        """The official index of ``arch`` (tuple, arch string or index)."""
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
            idx = int(arch)
            if not 0 <= idx < len(self.archs):
                raise ArchError(f"NB201 index {idx} is out of range 0..{len(self.archs) - 1}")
            return idx
        ops = str_to_arch(arch) if isinstance(arch, str) else tuple(arch)  # type: ignore[arg-type]
        try:
            return self._index[ops]
        except KeyError:
            raise ArchError(f"{arch_to_str(ops)} is not in {self.path.name}") from None

    def arch(self, index: int) -> Arch:
        """The arch at official ``index``."""
        return self.archs[self.index(index)]

    def metrics(self) -> list[str]:
        return list(OFFICIAL_METRICS)

    def _info(self, idx: int, dataset: str, hp: str, kind: str) -> dict[str, Any]:
        key = (idx, dataset, f"{kind}{hp}")
        if key not in self._cache:
            with contextlib.redirect_stdout(io.StringIO()):
                if kind == "cost":
                    self._cache[key] = dict(self.api.get_cost_info(idx, dataset, hp=hp))
                else:
                    self._cache[key] = dict(self.api.get_more_info(idx, dataset, hp=hp, is_random=False))
        return self._cache[key]

    def query(self, arch: Hashable, metrics: Sequence[str] | None = None) -> dict[str, float]:
        idx = self.index(arch)
        out: dict[str, float] = {}
        for metric in metrics if metrics is not None else list(OFFICIAL_METRICS):
            if metric not in OFFICIAL_METRICS:
                raise ArchError(f"unknown NB201 metric {metric!r} for the official file")
            dataset, hp, field = OFFICIAL_METRICS[metric]
            kind, _, name = field.rpartition(":")
            try:
                value = self._info(idx, dataset, hp, kind or "more").get(name)
            except (KeyError, ValueError, AssertionError):
                value = None  # this dataset / budget is not in the file
            out[metric] = float("nan") if value is None else float(value)
        return out

    def record(self, arch: Hashable) -> dict[str, Any]:
        idx = self.index(arch)
        values = self.query(idx)
        return {
            "index": idx,
            "arch_str": arch_to_str(self.archs[idx]),
            "source": self.path.name,
            **{k: (None if np.isnan(v) else v) for k, v in values.items()},
        }

    def column(self, metric: str) -> np.ndarray:
        return np.array([self.query(i, [metric])[metric] for i in range(len(self.archs))])
