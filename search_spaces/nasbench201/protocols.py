"""Latency split protocols over many devices: per device, and leave-one-device-out zero-shot.

Both are ``nasearch compare`` split protocols (``protocol(task, size, seed, config)`` yielding
``Split``s, see :mod:`nasearch.compare`) over the ``latency/<device>`` columns of the NB201
benchmark, and both hand every training and test cell its device name as ``hardware`` (a
hardware-conditioned predictor uses it, the others ignore it). Knobs go in the config's
``protocol_options``:

- ``devices``: the device pool (default: the 27 HELP settings);
- ``holdout``: the devices to hold out in turn (default: every device of the pool);
- ``shots``: for leave-one-device-out, k cells of the held-out device added to training (0 =
  zero-shot: the held-out device is known only by its description).

``per_device``: for each device, ``size`` random cells of it for training, test on the rest (the
accuracy protocol, once per device). ``leave_one_setting_out`` ("unseen setting", also named
``leave_one_device_out``): for each held-out HELP setting, the same ``size`` random cells measured
on each *other* setting of the pool for training (``size x (pool - 1)`` rows), then the held-out
setting's latency of cells never seen in training is predicted; the same chip at other batch sizes
stays in training. ``leave_one_chip_out`` ("device never seen"): the same, but every setting on the
held-out setting's chip (the device table's ``chip`` column) leaves training too. The
``train_size`` column is the number of cells per training device.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from nasearch.api.errors import ConfigError, suggest
from nasearch.compare import CompareConfig, Split, Task, test_cells
from nasearch.data.devices import load_devices
from nasearch.search_spaces.nasbench201.benchmark import HELP_DEVICES

OPTIONS = ("devices", "holdout", "shots")


def _options(config: CompareConfig) -> dict[str, Any]:
    options: Mapping[str, Any] = config.protocol_options or {}
    unknown = [k for k in options if k not in OPTIONS]
    if unknown:
        raise ConfigError(
            f"protocol_options has no key {unknown[0]!r}{suggest(unknown[0], OPTIONS)} "
            f"(keys: {', '.join(OPTIONS)})"
        )
    table = load_devices()
    devices = [str(d).removeprefix("latency/") for d in options.get("devices") or HELP_DEVICES]
    holdout = [str(d).removeprefix("latency/") for d in options.get("holdout") or devices]
    for what, names in (("devices", devices), ("holdout", holdout)):
        bad = [d for d in names if d not in table]
        if bad:
            raise ConfigError(
                f"protocol_options.{what}: unknown device {bad[0]!r} (known: {', '.join(table)})"
            )
    outside = [d for d in holdout if d not in devices]
    if outside:
        raise ConfigError(f"protocol_options.holdout: {outside[0]!r} is not in protocol_options.devices")
    shots = int(options.get("shots", 0) or 0)
    if shots < 0:
        raise ConfigError(f"protocol_options.shots must be >= 0, got {shots}")
    return {"devices": devices, "holdout": holdout, "shots": shots}


def _measured(task: Task, devices: Sequence[str]) -> np.ndarray:
    """Cells with a finite latency on every device of ``devices``."""
    keep = np.ones(len(task), dtype=bool)
    for d in devices:
        keep &= np.isfinite(task.column(f"latency/{d}"))
    return np.flatnonzero(keep)


def _info(device: str, **extra: Any) -> dict[str, Any]:
    spec = load_devices()[device]
    return {"device": device, "family": spec.family, **extra}


def per_device(task: Task, size: int, seed: int, config: CompareConfig) -> Iterator[Split]:
    """For each held-out device of the pool: ``size`` random cells train, every other cell tests."""
    opts = _options(config)
    for device in opts["holdout"]:
        metric = f"latency/{device}"
        cells = _measured(task, [device])
        if size >= cells.size:
            raise ConfigError(
                f"training size {size} is not smaller than the {cells.size} cells measured on {device}"
            )
        rng = np.random.default_rng([seed, HELP_DEVICES.index(device) if device in HELP_DEVICES else 99])
        train = np.sort(rng.choice(cells, size=size, replace=False))
        test = test_cells(task, np.setdiff1d(cells, train), seed, _with_metric(config, metric))
        y = task.column(metric)
        yield Split(
            train,
            test,
            y[train],
            y[test],
            [device] * train.size,
            [device] * test.size,
            _info(device, test_metric=metric, train_metric=metric),
        )


def leave_one_device_out(task: Task, size: int, seed: int, config: CompareConfig) -> Iterator[Split]:
    """ "Unseen setting": for each held-out HELP setting, train on ``size`` cells x every other setting
    of the pool and test on the held-out one. The same chip at another batch size or precision stays
    in training (``leave_one_chip_out`` removes it)."""
    yield from _held_out(task, size, seed, config, lambda device, pool: [device])


def leave_one_chip_out(task: Task, size: int, seed: int, config: CompareConfig) -> Iterator[Split]:
    """ "Device never seen": for each held-out setting, every setting of the pool on the same chip (the
    ``chip`` column of the device table: all its batch sizes and precisions) leaves training; train on
    ``size`` cells x the settings of the other chips and test on the held-out setting."""
    table = load_devices()
    yield from _held_out(
        task,
        size,
        seed,
        config,
        lambda device, pool: [d for d in pool if table[d].chip == table[device].chip],
        fit_key=lambda device: table[device].chip,
    )


def chip_groups(devices: Sequence[str]) -> dict[str, list[str]]:
    """chip -> the settings of ``devices`` on it (in ``devices``' order)."""
    table = load_devices()
    groups: dict[str, list[str]] = {}
    for d in devices:
        groups.setdefault(table[d].chip or d, []).append(d)
    return groups


def _held_out(
    task: Task,
    size: int,
    seed: int,
    config: CompareConfig,
    excluded: Callable[[str, list[str]], list[str]],
    fit_key: Callable[[str], Any] | None = None,
) -> Iterator[Split]:
    """One split per held-out device: ``size`` cells x each pool device not in ``excluded(device, pool)``
    train; the held-out device's latency of cells outside training is the test. Zero-shot splits
    with equal ``fit_key(device)`` train on the same rows (compare fits them once)."""
    opts = _options(config)
    pool, shots = opts["devices"], opts["shots"]
    cells = _measured(task, pool)
    if size + shots >= cells.size:
        raise ConfigError(f"training size {size} (+{shots} shots) leaves no test cells of {cells.size}")
    rng = np.random.default_rng(seed)
    train_cells = np.sort(rng.choice(cells, size=size, replace=False))
    rest = np.setdiff1d(cells, train_cells)
    table = load_devices()
    for device in opts["holdout"]:
        gone = set(excluded(device, pool)) | {device}
        others = [d for d in pool if d not in gone]
        if not others:
            raise ConfigError(f"holding out {device!r} leaves no training device in protocol_options.devices")
        train = np.concatenate([train_cells] * len(others))
        y_train = np.concatenate([task.column(f"latency/{d}")[train_cells] for d in others])
        hardware = [d for d in others for _ in range(train_cells.size)]
        metric = f"latency/{device}"
        test_pool = rest
        if shots:
            shot_rng = np.random.default_rng([seed, 7, pool.index(device)])
            shot_cells = np.sort(shot_rng.choice(rest, size=shots, replace=False))
            test_pool = np.setdiff1d(rest, shot_cells)
            train = np.concatenate([train, shot_cells])
            y_train = np.concatenate([y_train, task.column(metric)[shot_cells]])
            hardware += [device] * shots
        test = test_cells(task, test_pool, seed, _with_metric(config, metric))
        yield Split(
            train,
            test,
            y_train,
            task.column(metric)[test],
            hardware,
            [device] * test.size,
            _info(
                device,
                shots=shots,
                train_devices=len(others),
                test_metric=metric,
                train_metric="latency/<other devices>",
                chip=table[device].chip,
                held_out_settings=len(gone),
            ),
            fit_key=fit_key(device) if fit_key is not None and not shots else None,
        )


def _with_metric(config: CompareConfig, metric: str) -> CompareConfig:
    """A copy of ``config`` whose target is ``metric`` (``test_cells`` drops cells it lacks)."""
    import dataclasses

    return dataclasses.replace(config, train_metric=metric, test_metric=metric)
