"""NAS-Bench-101 lookup: the compact all-cells table (embedded), or the official tfrecord when the user has it.

Rows are in sorted-module-hash order (row ``i`` is the cell with the ``i``-th smallest hash; see
``index.py``). Metric names say the dataset and the split, as for NAS-Bench-201:

- ``cifar10/test_accuracy``: mean test accuracy of the 3 runs trained 108 epochs, **in percent**
  (the source stores fractions; we multiply by 100 as NB201's tables are in percent);
- ``cifar10/params``: trainable parameters of the CIFAR-10 network, in millions;
- with the official file (``nasbench_only108.tfrecord`` or ``nasbench_full.tfrecord`` in
  ``<data>/nasbench101/``, or ``official_file=``), per budget ``E`` in {4, 12, 36, 108} that the
  file holds: ``cifar10/{train,valid,test}_accuracy@Eep`` (percent, mean over the repeats) and
  ``cifar10/train_time@Eep`` (seconds of training, mean over the repeats). The official file
  then also supplies ``cifar10/test_accuracy`` and ``cifar10/params``.

The official file is decoded once and cached as plain arrays under the cache directory. The
decode ran at 21,000-31,000 records/s on a shared machine, on a synthetic file of the official
format; the 108-epoch file holds 3 records per cell, about 1.27 million.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nasearch.api import Benchmark
from nasearch.api.errors import ArchError, DataError, suggest
from nasearch.api.graph import ArchGraph
from nasearch.data.fetch import OfficialFile
from nasearch.data.sources import DataSources, cache_dir, read_csv
from nasearch.search_spaces.nasbench101.index import CellIndex, load_index
from nasearch.search_spaces.nasbench101.spec import NUM_CELLS, Cell, cell_from_json, cell_to_json, make_cell

_OFFICIAL_URL = "https://storage.googleapis.com/nasbench/{name}"


@dataclass(frozen=True)
class Table:
    """One table and where it comes from (``nasearch data`` lists these)."""

    path: str
    source: str


TABLES: dict[str, Table] = {
    "compact": Table(
        "nasbench101/freerea/nb101_test_acc_params.csv",
        "NAS-Bench-101 mean 108-epoch test accuracy and params of all 423,624 cells, via "
        "NiccoloCavagnero/FreeREA (cached_metrics/nasbench101), joined as CSV",
    ),
}

#: the official files, read when a data folder holds them (sha256 as published in the nasbench README)
OFFICIAL_FILES: dict[str, OfficialFile] = {
    "nasbench101_full": OfficialFile(
        "nasbench101_full",
        "nasbench101/nasbench_full.tfrecord",
        "google-research/nasbench: all 4 epoch budgets, 3 repeats (~1.95 GB)",
        "Apache-2.0",
        url=_OFFICIAL_URL.format(name="nasbench_full.tfrecord"),
        sha256="3d64db8180fb1b0207212f9032205064312b6907a3bbc81eabea10db2f5c7e9c",
    ),
    "nasbench101_108": OfficialFile(
        "nasbench101_108",
        "nasbench101/nasbench_only108.tfrecord",
        "google-research/nasbench: the 108-epoch budget, 3 repeats (~499 MB)",
        "Apache-2.0",
        url=_OFFICIAL_URL.format(name="nasbench_only108.tfrecord"),
        sha256="4c39c3936e36a85269881d659e44e61a245babcb72cb374eacacf75d0e5f4fd1",
    ),
}

TEST_ACCURACY = "cifar10/test_accuracy"
PARAMS = "cifar10/params"


class NasBench101Benchmark(Benchmark):
    """Lookup of NB101 metrics by Cell, module hash or row."""

    def __init__(
        self,
        root: str | Path | None = None,
        official_file: str | Path | None = None,
        index: CellIndex | None = None,
    ) -> None:
        self.sources = DataSources(root)
        self._index = index
        self._columns: dict[str, np.ndarray] | None = None
        self.official_file = self._find_official(official_file)
        #: seconds the tables took to load (for the benchmark script)
        self.load_seconds: float | None = None

    def _find_official(self, explicit: str | Path | None) -> Path | None:
        if explicit is not None:
            path = Path(explicit).expanduser()
            if not path.is_file():
                raise DataError(f"official NB101 file {str(path)!r} (official_file) does not exist")
            return path
        for name in ("nasbench101_full", "nasbench101_108"):
            found = self.sources.find_official(OFFICIAL_FILES[name].path)
            if found is not None:
                return found
        return None

    # --- index ----------------------------------------------------------------------------------------
    @property
    def index(self) -> CellIndex:
        """The hash -> row index (built and cached on first use)."""
        if self._index is None:
            self._index = load_index()
        return self._index

    def row(self, arch: Any) -> int:
        """The row of a Cell, JSON spec, ArchGraph, module hash or row; an ArchError when not in NB101."""
        if isinstance(arch, Cell):
            i = self.index.row_of_cell(arch)
            if i < 0:
                raise ArchError(f"{cell_to_json(arch)} is not an NB101 cell")
            return i
        if isinstance(arch, str) and arch.lstrip().startswith("{"):
            return self.row(cell_from_json(arch))
        if isinstance(arch, str):
            key = arch.strip().lower()
        elif isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
            if not 0 <= int(arch) < NUM_CELLS:
                raise ArchError(f"NB101 row {int(arch)} is out of range 0..{NUM_CELLS - 1}")
            return int(arch)
        elif isinstance(arch, ArchGraph):
            return self.row(make_cell(arch.adjacency.tolist(), list(arch.ops)))
        else:
            raise ArchError(f"cannot read {arch!r} as an NB101 cell (Cell, ArchGraph, module hash or row)")
        i = self.index.row(key)
        if i < 0:
            raise ArchError(f"no NB101 cell has the module hash {key!r}")
        return i

    # --- tables ---------------------------------------------------------------------------------------
    @property
    def columns(self) -> dict[str, np.ndarray]:
        """Every metric as a float array in row order (loaded on first use)."""
        if self._columns is None:
            start = time.perf_counter()
            if self.official_file is not None:
                self._columns = self._load_official(self.official_file)
            else:
                self._columns = self._load_compact()
            self.load_seconds = time.perf_counter() - start
        return self._columns

    def _load_compact(self) -> dict[str, np.ndarray]:
        table = TABLES["compact"]
        path = self.sources.require(table.path, table.source).path
        frame = read_csv(path, ["index", "test_accuracy_mean_108ep", "params_millions"])
        idx = frame["index"].to_numpy()
        if len(idx) != NUM_CELLS or not np.array_equal(idx, np.arange(NUM_CELLS)):
            raise DataError(
                f"benchmark table {str(path)!r} must have the rows 0..{NUM_CELLS - 1} in order "
                f"(has {len(idx)} rows): truncated or reordered file?"
            )
        return {
            TEST_ACCURACY: frame["test_accuracy_mean_108ep"].to_numpy(dtype=float) * 100.0,
            PARAMS: frame["params_millions"].to_numpy(dtype=float),
        }

    def _load_official(self, path: Path) -> dict[str, np.ndarray]:
        from nasearch.search_spaces.nasbench101.official import load_official

        return load_official(path, self.index, cache_dir())

    # --- Benchmark contract -----------------------------------------------------------------------------
    def metrics(self) -> list[str]:
        return list(self.columns)

    def column(self, metric: str) -> np.ndarray:
        """``metric`` for all 423,624 cells in row (sorted-hash) order."""
        try:
            return self.columns[metric]
        except KeyError:
            extra = (
                ""
                if self.official_file
                else (" (validation accuracy, training time and other budgets need the official tfrecord)")
            )
            hint = suggest(metric, self.columns, n=3)
            raise ArchError(f"unknown NB101 metric {metric!r}{hint}{extra}") from None

    def query(self, arch: Hashable, metrics: Sequence[str] | None = None) -> dict[str, float]:
        i = self.row(arch)
        names = list(self.columns) if metrics is None else metrics
        return {m: float(self.column(m)[i]) for m in names}

    def record(self, arch: Hashable) -> dict[str, Any]:
        i = self.row(arch)
        values = self.query(i)
        return {
            "hash": self.index.hash(i),
            "row": i,
            "spec": cell_to_json(self.index.cell(i)),  # compact: pastes back as a query argument
            **{k: (None if np.isnan(v) else v) for k, v in values.items()},
            "source": str(self.official_file) if self.official_file else TABLES["compact"].path,
        }

    def lookup(self, metric: str) -> Callable[[int], float]:
        """A fast ``row -> value`` function for one metric (hot loops)."""
        values = self.column(metric)
        return lambda i: float(values[i])
