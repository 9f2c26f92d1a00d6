"""The hash -> row index of NAS-Bench-101: row ``i`` is the cell with the ``i``-th smallest module hash.

Built once by :func:`nasearch.search_spaces.nasbench101.enumerate.enumerate_cells` and cached as a plain
``.npz`` (no pickle) under :func:`nasearch.data.sources.cache_dir`; later loads take milliseconds. Each row
stores the first cell (in the official generator's order) that has the row's hash.
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
from nasearch.search_spaces.nasbench101.spec import NUM_CELLS, Cell, decode, encode

CACHE_NAME = "nasbench101_index_v2.npz"
_ARRAYS = ("hashes", "n_vertices", "bits", "op_codes", "matrix_n", "matrix_bits", "graph_rows")
NUM_LABELLED = 1_293_208
_lock = threading.Lock()
_loaded: dict[Path, CellIndex] = {}


class CellIndex:
    """Sorted module hashes, each row's cell (vertex count, edge bits, op code), and the row of
    every labelled graph of the enumeration, so a cell finds its row without computing its hash."""

    def __init__(
        self,
        hashes: np.ndarray,
        n_vertices: np.ndarray,
        bits: np.ndarray,
        op_codes: np.ndarray,
        matrix_n: np.ndarray,
        matrix_bits: np.ndarray,
        graph_rows: np.ndarray,
    ) -> None:
        self.hashes = hashes
        self.n_vertices = n_vertices
        self.bits = bits
        self.op_codes = op_codes
        self.matrix_n = matrix_n
        self.matrix_bits = matrix_bits
        self.graph_rows = graph_rows
        self._n = n_vertices.tolist()
        self._bits = bits.tolist()
        self._codes = op_codes.tolist()
        # (n, edge bits) -> where that matrix's 3**(n-2) labellings start in graph_rows
        self._matrix_start: dict[tuple[int, int], int] = {}
        start = 0
        for n, b in zip(matrix_n.tolist(), matrix_bits.tolist()):
            self._matrix_start[(n, b)] = start
            start += 3 ** (n - 2)
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

    def row_of_cell(self, cell: Cell) -> int:
        """The row of a valid, pruned cell (no hashing: a table lookup); -1 when it is not one."""
        n, bits, code = encode(cell)
        start = self._matrix_start.get((n, bits))
        return -1 if start is None else int(self.graph_rows[start + code])

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
        and len(index.graph_rows) == sum(3 ** (n - 2) for n in index.matrix_n.tolist()) == NUM_LABELLED
        and int(index.graph_rows.min()) >= 0
        and int(index.graph_rows.max()) < NUM_CELLS
    )
    if not ok:
        raise DataError(
            f"the NB101 index {where} is malformed (expected {NUM_CELLS} sorted unique hashes and "
            f"the rows of {NUM_LABELLED} labelled graphs)"
        )
    return index


def build_index(progress: bool = False) -> CellIndex:
    """Enumerate the space (about 100 s on 2 cores) and return the index, not cached.

    ``progress``: a progress bar on stderr over the 1,293,208 labelled graphs.
    """
    from tqdm import tqdm

    from nasearch.search_spaces.nasbench101.enumerate import enumerate_cells

    start = time.perf_counter()
    bar = tqdm(total=NUM_LABELLED, unit="graphs", unit_scale=True, desc="NB101 index", disable=not progress)
    try:
        e = enumerate_cells(on_progress=bar.update)
    finally:
        bar.close()
    arrays = (e.hashes, e.n_vertices, e.bits, e.op_codes, e.matrix_n, e.matrix_bits, e.graph_rows)
    index = _validate(CellIndex(*arrays), "just built")
    index.build_seconds = time.perf_counter() - start
    return index


def save_index(index: CellIndex, path: Path) -> None:
    """Write atomically (a temporary file renamed into place), so parallel builders never clash."""
    cache_check.write_npz(path, {name: getattr(index, name) for name in _ARRAYS})


def read_index(path: Path) -> CellIndex:
    """Read a cached index (plain arrays, ``allow_pickle=False``), after checking its content
    against the sha256 recorded when it was written (``nasearch.data.cache_check``)."""
    why = cache_check.problem(path)
    if why is not None:
        raise DataError(f"cannot read the NB101 index cache {str(path)!r}: {why}")
    try:
        with np.load(path, allow_pickle=False) as data:
            index = CellIndex(*(data[name] for name in _ARRAYS))
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"cannot read the NB101 index cache {str(path)!r}: {exc}") from None
    return _validate(index, f"cache {str(path)!r}")


def load_index(path: Path | None = None) -> CellIndex:
    """The index: from memory, else the cache file, else built (and cached) now."""
    index = _load(path, build=True)
    assert index is not None
    return index


def cached_index(path: Path | None = None) -> CellIndex | None:
    """The index if it is in memory or in the cache file; None rather than building it."""
    return _load(path, build=False)


def _load(path: Path | None, build: bool) -> CellIndex | None:
    path = Path(path) if path is not None else cache_dir() / CACHE_NAME
    with _lock:
        if path in _loaded:
            return _loaded[path]
        index = None
        damaged = False
        if path.is_file():
            try:
                index = read_index(path)
            except DataError as exc:  # a damaged, stale or truncated cache: never used, rebuilt
                damaged = True
                rebuilt = (
                    "; rebuilding it (about 100 s on 2 cores)" if build else "; it is rebuilt on first use"
                )
                cache_check.discard(path, f"{exc}{rebuilt}")
        if index is None:
            if not build:
                return None
            if not damaged:
                print(
                    f"nasearch: first use of NAS-Bench-101: building its hash index (about 100 s on 2 cores, "
                    f"once), cached at {path}",
                    file=sys.stderr,
                    flush=True,
                )
            index = build_index(progress=True)
            save_index(index, path)
        _loaded[path] = index
        return index
