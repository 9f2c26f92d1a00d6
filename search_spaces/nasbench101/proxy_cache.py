"""NB101's zero-cost proxies (FLOPs, parameters) of all 423,624 cells, counted once and cached on disk.

Counting both for every cell takes 30 s to 2 minutes on one core (``network.count_flops``,
``count_params``); every process that pre-trains on, or feeds, the proxies of all cells would pay it
again. So the first use counts them in row order and writes a plain ``.npz`` (no pickle) under
:func:`nasearch.data.sources.cache_dir`, with its sha256 checked on read (``nasearch.data.cache_check``:
a damaged file is counted again with one log line), and with the seconds the count took.
"""

from __future__ import annotations

import sys
import threading
import time
import zipfile
from pathlib import Path

import numpy as np

from nasearch.api.errors import DataError
from nasearch.data import cache_check
from nasearch.data.sources import cache_dir
from nasearch.search_spaces.nasbench101.spec import NUM_CELLS

CACHE_NAME = "nasbench101_proxies_v1.npz"
#: the columns of the table, in ``NasBench101Space.proxy_names`` order
COLUMNS: tuple[str, ...] = ("flops", "params")
_lock = threading.Lock()
_loaded: dict[Path, ProxyCounts] = {}


class ProxyCounts:
    """(423,624, 2) proxies in row order (MFLOPs per image, millions of parameters) and the count's seconds."""

    def __init__(self, values: np.ndarray, seconds: float) -> None:
        self.values = values
        self.seconds = seconds

    def of_row(self, row: int) -> dict[str, float]:
        """The proxies of cell ``row``, by name."""
        return {name: float(v) for name, v in zip(COLUMNS, self.values[row])}


def count_all() -> ProxyCounts:
    """Count FLOPs and parameters of every cell in row order (under 2 minutes on one core), not cached."""
    from nasearch.search_spaces.nasbench101.index import load_index
    from nasearch.search_spaces.nasbench101.network import count_flops, count_params

    index = load_index()
    start = time.perf_counter()
    values = np.empty((len(index), len(COLUMNS)), dtype=np.float64)
    for row in range(len(index)):
        cell = index.cell(row)
        values[row] = (count_flops(cell), count_params(cell) / 1e6)
    return ProxyCounts(values, time.perf_counter() - start)


def read_proxies(path: Path) -> ProxyCounts:
    """A cached table, after its content check; DataError when it is damaged or malformed."""
    why = cache_check.problem(path)
    if why is not None:
        raise DataError(f"cannot read the NB101 proxy cache {str(path)!r}: {why}")
    try:
        with np.load(path, allow_pickle=False) as data:
            counts = ProxyCounts(np.asarray(data["values"]), float(data["seconds"]))
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"cannot read the NB101 proxy cache {str(path)!r}: {exc}") from None
    if counts.values.shape != (NUM_CELLS, len(COLUMNS)) or not np.isfinite(counts.values).all():
        raise DataError(
            f"the NB101 proxy cache {str(path)!r} is malformed (expected {NUM_CELLS} finite rows)"
        )
    return counts


def save_proxies(counts: ProxyCounts, path: Path) -> None:
    """Write atomically (a temporary file renamed into place), so parallel writers never clash."""
    cache_check.write_npz(path, {"values": counts.values, "seconds": np.float64(counts.seconds)})


def load_proxies(path: Path | None = None) -> ProxyCounts:
    """The proxies of every cell: from memory, else the cache file, else counted (and cached) now."""
    path = Path(path) if path is not None else cache_dir() / CACHE_NAME
    with _lock:
        if path in _loaded:
            return _loaded[path]
        counts = None
        if path.is_file():
            try:
                counts = read_proxies(path)
            except DataError as exc:
                cache_check.discard(path, f"{exc}; counting them again (under 2 minutes on one core)")
        if counts is None:
            print(
                "nasearch: first use of NAS-Bench-101's proxies: counting FLOPs and parameters of every cell "
                f"(under 2 minutes on one core, once), cached at {path}",
                file=sys.stderr,
                flush=True,
            )
            counts = count_all()
            save_proxies(counts, path)
        _loaded[path] = counts
        return counts


__all__ = [
    "CACHE_NAME",
    "COLUMNS",
    "ProxyCounts",
    "count_all",
    "load_proxies",
    "read_proxies",
    "save_proxies",
]
