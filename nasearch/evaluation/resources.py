"""Which device and how many CPU threads one evaluation may use (its Ray allotment, else local).

Ray hides the GPUs a task was not given (``CUDA_VISIBLE_DEVICES``), so ``"auto"`` picks CUDA
exactly when the worker was given a GPU. Torch's thread count is process-wide: ``threads``
pins it for the duration of one evaluation and restores it afterwards.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

import torch

from nasearch.api.errors import ConfigError

DEVICES = ("auto", "cpu", "cuda")


def check_device(device: str) -> str:
    """Validate a device option without touching the hardware (the driver may have no GPU)."""
    name = str(device)
    if name.split(":")[0] not in DEVICES or (name.startswith("cuda:") and not name[5:].isdigit()):
        raise ConfigError(f"device must be one of {', '.join(DEVICES)} (or 'cuda:N'), got {device!r}")
    return name


def resolve_device(device: str) -> torch.device:
    """``"auto"`` -> CUDA when one is visible (a GPU was allotted), else the CPU."""
    name = check_device(device)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(
            f"device {device!r} was asked for but no CUDA GPU is visible here; use 'auto' or 'cpu', "
            "or give each Ray trial a GPU (num_gpus)"
        )
    return torch.device(name)


def allotted_cpus() -> int | None:
    """CPUs Ray allotted to the current task/actor, or None outside a Ray worker."""
    ray = sys.modules.get("ray")
    if ray is None or not ray.is_initialized():
        return None
    try:
        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU")
    except Exception:  # noqa: BLE001 - the driver process has no assignment
        return None
    return max(1, int(round(cpus))) if cpus else None


def check_threads(value: int | None, what: str = "num_threads") -> int | None:
    """Validate a thread-count option (None = the Ray allotment, else torch's current count)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{what} must be a positive integer or null, got {value!r}")
    return value


@contextlib.contextmanager
def threads(count: int | None) -> Iterator[int]:
    """Run the block with ``count`` torch threads (None: the Ray allotment, else unchanged)."""
    previous = torch.get_num_threads()
    wanted = count if count is not None else (allotted_cpus() or previous)
    if wanted != previous:
        torch.set_num_threads(wanted)
    try:
        yield wanted
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)
