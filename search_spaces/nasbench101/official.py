"""Turn an official NB101 tfrecord into metric columns in row (sorted-hash) order, cached as arrays.

Each cell was trained 3 times per budget; a column holds the mean over the repeats of the final
evaluation (as most NAS papers report, and deterministic, unlike the official API's random
repeat). Accuracies become percent. Cells the file lacks are NaN.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from nasearch.api.errors import DataError
from nasearch.data import cache_check
from nasearch.search_spaces.nasbench101.index import CellIndex
from nasearch.search_spaces.nasbench101.tfrecord import final_metrics, iter_records

_SPLITS = ("train_accuracy", "valid_accuracy", "test_accuracy", "train_time")


def _cache_path(path: Path, cache: Path) -> Path:
    st = os.stat(path)
    return cache / f"nasbench101_official_{path.stem}_{st.st_size}_{st.st_mtime_ns}.npz"


def decode_official(path: Path, index: CellIndex) -> dict[str, np.ndarray]:
    """Read every record of ``path`` and average the repeats per (cell, budget)."""
    hashes: list[str] = []
    epochs: list[int] = []
    values: list[tuple[float, float, float, float]] = []
    params: list[int] = []
    for number, data in enumerate(iter_records(path)):
        try:
            module_hash, e, train, valid, test, seconds, p = final_metrics(data)
        except (ValueError, TypeError, IndexError, UnicodeDecodeError) as exc:
            raise DataError(f"tfrecord {str(path)!r}: record {number} is not an NB101 row: {exc}") from None
        hashes.append(module_hash)
        epochs.append(e)
        values.append((train, valid, test, seconds))
        params.append(p)
    if not hashes:
        raise DataError(f"tfrecord {str(path)!r} holds no records")
    rows = index.rows(np.array(hashes, dtype="S32"))
    if (rows < 0).any():
        bad = hashes[int(np.flatnonzero(rows < 0)[0])]
        raise DataError(f"tfrecord {str(path)!r}: {bad!r} is not the module hash of any NB101 cell")
    ep = np.array(epochs)
    vals = np.array(values, dtype=float)
    n = len(index)
    columns: dict[str, np.ndarray] = {}
    for e in sorted(set(epochs)):
        sel = ep == e
        count = np.bincount(rows[sel], minlength=n).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            for k, split in enumerate(_SPLITS):
                total = np.bincount(rows[sel], weights=vals[sel, k], minlength=n)
                scale = 1.0 if split == "train_time" else 100.0
                columns[f"cifar10/{split}@{e}ep"] = np.where(count > 0, total / count, np.nan) * scale
    params_column = np.full(n, np.nan)
    params_column[rows] = np.array(params, dtype=float) / 1e6
    columns["cifar10/params"] = params_column
    if "cifar10/test_accuracy@108ep" in columns:
        columns["cifar10/test_accuracy"] = columns["cifar10/test_accuracy@108ep"]
    return columns


def load_official(path: Path, index: CellIndex, cache: Path) -> dict[str, np.ndarray]:
    """The columns of ``path``: from the array cache when it matches the file, else decoded and cached."""
    target = _cache_path(path, cache)
    if target.is_file():
        why = cache_check.problem(target)  # its sha256 recorded when written: a damaged cache is never used
        if why is None:
            try:
                with np.load(target, allow_pickle=False) as data:
                    names = [str(s) for s in data["names"]]
                    return {name: data[f"c{i}"] for i, name in enumerate(names)}
            except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
                why = f"unreadable: {exc}"
        cache_check.discard(
            target, f"the cached NB101 tables {str(target)!r} are damaged ({why}); decoding again"
        )
    columns = decode_official(path, index)
    fd, tmp = tempfile.mkstemp(prefix=target.name, suffix=".tmp.npz", dir=cache)
    os.close(fd)
    try:
        arrays: dict[str, Any] = {f"c{i}": v for i, v in enumerate(columns.values())}  # savez's keywords
        np.savez(tmp, names=np.array(list(columns)), **arrays)
        os.replace(tmp, target)
        cache_check.record(target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return columns
