"""The hash -> row index of NAS-Bench-101: row ``i`` is the cell with the ``i``-th smallest module hash.

Built once by :func:`search_spaces.nasbench101.enumerate.enumerate_cells` and cached as a plain
``.npz`` (no pickle) under :func:`nasearch.data.cache_dir`; later loads take milliseconds. Each row
stores the first cell (in the official generator's order) that has the row's hash.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from nasearch.data import cache_dir
from nasearch.errors import DataError
from search_spaces.nasbench101.spec import NUM_CELLS, Cell, decode

CACHE_NAME = "nasbench101_index_v1.npz"
_lock = threading.Lock()
_loaded: dict[Path, CellIndex] = {}


class CellIndex:
    """Sorted module hashes plus each row's cell (vertex count, edge bits, op code)."""

    def __init__(self, hashes: np.ndarray, n_vertices: np.ndarray, bits: np.ndarray, op_codes: np.ndarray) -> None:
        self.hashes = hashes
        self.n_vertices = n_vertices
        self.bits = bits
        self.op_codes = op_codes
        self._n = n_vertices.tolist()
        self._bits = bits.tolist()
        self._codes = op_codes.tolist()
        #: seconds the last build took (None when loaded from the cache)
        self.build_seconds: float | None = None

    def __len__(self) -> int:
        return len(self.hashes)

    def row(self, module_hash: str) -> int:
        """The row of ``module_hash``, or -1 when no NB101 cell has it."""
        key = module_hash.encode("ascii", "replace") if isinstance(module_hash, str) else module_hash
        i = int(np.searchsorted(self.hashes, key))
        return i if i < len(self.hashes) and self.hashes[i] == key else -1

    def rows(self, module_hashes: np.ndarray) -> np.ndarray:
        """Rows of many hashes at once (``S32`` or str array); -1 where absent."""
        keys = np.asarray(module_hashes).astype("S32")
        i = np.searchsorted(self.hashes, keys).clip(0, len(self.hashes) - 1)
        return np.where(self.hashes[i] == keys, i, -1)

    def hash(self, row: int) -> str:
        """The module hash of ``row``."""
        return self.hashes[row].decode("ascii")

    def cell(self, row: int) -> Cell:
        """The cell stored for ``row``."""
        return decode(self._n[row], self._bits[row], self._codes[row])


def _validate(index: CellIndex, where: str) -> CellIndex:
    ok = (
        len(index) == NUM_CELLS
        and len(index.n_vertices) == len(index.bits) == len(index.op_codes) == NUM_CELLS
        and bool((index.hashes[1:] > index.hashes[:-1]).all())
    )
    if not ok:
        raise DataError(f"the NB101 index {where} is malformed (expected {NUM_CELLS} sorted unique hashes)")
    return index


def build_index() -> CellIndex:
    """Enumerate the space (seconds to a minute) and return the index, not cached."""
    from search_spaces.nasbench101.enumerate import enumerate_cells

    start = time.perf_counter()
    e = enumerate_cells()
    index = _validate(CellIndex(e.hashes, e.n_vertices, e.bits, e.op_codes), "just built")
    index.build_seconds = time.perf_counter() - start
    return index


def save_index(index: CellIndex, path: Path) -> None:
    """Write atomically (a temporary file renamed into place), so parallel builders never clash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp.npz", dir=path.parent)
    os.close(fd)
    try:
        np.savez(tmp, hashes=index.hashes, n_vertices=index.n_vertices, bits=index.bits, op_codes=index.op_codes)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def read_index(path: Path) -> CellIndex:
    """Read a cached index (plain arrays, ``allow_pickle=False``)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            index = CellIndex(data["hashes"], data["n_vertices"], data["bits"], data["op_codes"])
    except (OSError, KeyError, ValueError) as exc:
        raise DataError(f"cannot read the NB101 index cache {str(path)!r}: {exc}") from None
    return _validate(index, f"cache {str(path)!r}")


def load_index(path: Path | None = None) -> CellIndex:
    """The index: from memory, else the cache file, else built (and cached) now."""
    path = Path(path) if path is not None else cache_dir() / CACHE_NAME
    with _lock:
        if path in _loaded:
            return _loaded[path]
        index = None
        if path.is_file():
            try:
                index = read_index(path)
            except DataError:
                index = None  # a stale or truncated cache: rebuild it
        if index is None:
            index = build_index()
            save_index(index, path)
        _loaded[path] = index
        return index
