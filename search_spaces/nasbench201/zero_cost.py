"""Zero-cost proxies of every NB201 cell, computed by nasearch: synflow, FLOPs and parameters.

``synflow`` is the score of :func:`nasearch.evaluation.zero_cost.synflow` on the cell's CIFAR-10
network (``C=16, N=5``, 10 classes, one all-ones 3x32x32 input, BatchNorm removed, |weights|, float64),
initialised by torch's default initialisation after ``torch.manual_seed(INIT_SEED)``; it needs no
data. ``flops`` (MFLOPs per 32x32 image, the convention of :mod:`nasearch.evaluation.profiling`)
and ``params`` (millions) are exact counts of the same network.

The table of all 15,625 cells ships with nasearch (``nasbench201/nasearch/zero_cost.csv``, see
``PROVENANCE.md`` beside it), so no machine recomputes it; ``python -m
nasearch.search_spaces.nasbench201.zero_cost build OUT.csv`` recomputes it (about 0.1-0.2 s a cell
on one CPU core; ``--start/--stop`` compute a slice, ``merge`` joins the slices).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from functools import cache, lru_cache
from pathlib import Path

import torch

from nasearch.api.errors import ArchError, DataError
from nasearch.data.sources import DataSources
from nasearch.evaluation.profiling import count_flops, count_params
from nasearch.evaluation.zero_cost import synflow
from nasearch.search_spaces.nasbench201.network import build_network
from nasearch.search_spaces.nasbench201.space import OPS, Arch, arch_to_str, str_to_arch

#: the shipped table (a data folder may override it, as any table)
TABLE = "nasbench201/nasearch/zero_cost.csv"
SOURCE = "computed by nasearch (nasearch/search_spaces/nasbench201/zero_cost.py)"
#: the proxies of the table, in column order
PROXIES: tuple[str, ...] = ("synflow", "flops", "params")
#: the settings every value of the table was computed with (recorded in its provenance)
SETTINGS: Mapping[str, object] = {
    "network": "NB201 CIFAR-10 skeleton, C=16, N=5, num_classes=10",
    "input": "one all-ones image, 3x32x32",
    "init": "torch default initialisation after torch.manual_seed(0), per cell",
    "synflow": "BatchNorm removed, |weights|, float64, sum |w * dR/dw| over Conv2d and Linear weights",
    "threads": 1,
}
INIT_SEED = 0
INPUT_SHAPE = (3, 32, 32)
COLUMNS = ("index", "arch", *PROXIES)


def cell_synflow(arch: Arch | str) -> float:
    """The synflow score of one cell's network, computed now (seeded: the same on every call)."""
    cell = str_to_arch(arch) if isinstance(arch, str) else arch
    torch.manual_seed(INIT_SEED)
    return synflow(build_network(cell), INPUT_SHAPE, inplace=True)


@cache
def _edge_costs() -> tuple[dict[str, float], tuple[dict[str, dict[str, float]], ...]]:
    """FLOPs and parameters of the all-``none`` network, and per edge what each op adds to them."""

    def counts(cell: Arch) -> dict[str, float]:
        net = build_network(cell)
        return {"flops": count_flops(net, INPUT_SHAPE), "params": count_params(net)}

    base = counts(("none",) * 6)
    added = []
    for edge in range(6):
        ops = {}
        for op in OPS:
            cell = tuple(op if e == edge else "none" for e in range(6))
            ops[op] = {k: v - base[k] for k, v in counts(cell).items()}
        added.append(ops)
    return base, tuple(added)


def cell_costs(arch: Arch) -> dict[str, float]:
    """MFLOPs per 32x32 image and parameters (millions) of the cell's network: the all-``none``
    network's plus what each edge's op adds. Every edge op is one module that runs once per cell
    whatever the other edges are, so the sums are exact (a test checks them against ``count_flops``,
    ``count_params`` and the benchmark's parameter column)."""
    base, added = _edge_costs()
    return {k: base[k] + sum(added[e][op][k] for e, op in enumerate(arch)) for k in ("flops", "params")}


def representatives(archs: Sequence[Arch]) -> dict[str, int]:
    """NB201 function class (``NasBench201Space.key``) -> the position of its first cell in ``archs``."""
    from nasearch.search_spaces.nasbench201.space import NasBench201Space

    space = NasBench201Space()
    first: dict[str, int] = {}
    for i, arch in enumerate(archs):
        first.setdefault(space.key(arch), i)
    return first


def compute_synflow(archs: Sequence[Arch], positions: Sequence[int], log: bool = False) -> dict[int, float]:
    """Synflow of the cells at ``positions`` of ``archs``, one thread."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    out: dict[int, float] = {}
    began = time.perf_counter()
    try:
        for k, i in enumerate(positions):
            out[int(i)] = cell_synflow(archs[i])
            if log and (k + 1) % 250 == 0:
                rate = (time.perf_counter() - began) / (k + 1)
                print(f"{k + 1} of {len(positions)} cells, {rate:.3f} s a cell", file=sys.stderr, flush=True)
    finally:
        torch.set_num_threads(old)
    return out


def table_rows(archs: Sequence[Arch], synflow_of: Mapping[int, float]) -> list[dict[str, object]]:
    """Every cell's row: synflow from its class's first cell (``synflow_of`` by position), costs exact."""
    from nasearch.search_spaces.nasbench201.space import NasBench201Space

    space = NasBench201Space()
    first = representatives(archs)
    return [
        {"index": i, "arch": arch_to_str(a), "synflow": synflow_of[first[space.key(a)]], **cell_costs(a)}
        for i, a in enumerate(archs)
    ]


def write_rows(rows: Iterable[Mapping[str, object]], path: Path) -> None:
    """Write table rows as CSV (floats with 17 significant digits: a float64 round-trips)."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        for r in rows:
            writer.writerow([r["index"], r["arch"], *(repr(float(str(r[p]))) for p in PROXIES)])
    tmp.replace(path)


def read_rows(path: Path) -> list[dict[str, object]]:
    """Rows of a table file as written by :func:`write_rows`; a DataError names a bad file."""
    try:
        with path.open(newline="") as fh:
            reader = csv.DictReader(fh)
            if tuple(reader.fieldnames or ()) != COLUMNS:
                raise DataError(
                    f"zero-cost table {str(path)!r} has columns {reader.fieldnames}, not {COLUMNS}"
                )
            return [
                {"index": int(r["index"]), "arch": r["arch"], **{p: float(r[p]) for p in PROXIES}}
                for r in reader
            ]
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"cannot read the zero-cost table {str(path)!r}: {exc}") from None


class ZeroCostTable:
    """The proxies of every cell, by arch string (loaded once per data folder)."""

    def __init__(self, rows: Sequence[Mapping[str, object]]) -> None:
        self.by_arch: dict[str, dict[str, float]] = {
            str(r["arch"]): {p: float(str(r[p])) for p in PROXIES} for r in rows
        }
        if len(self.by_arch) != len(OPS) ** 6:
            raise DataError(f"the zero-cost table holds {len(self.by_arch)} cells, not all {len(OPS) ** 6}")

    def proxies(self, arch: Arch) -> dict[str, float]:
        """The proxies of ``arch``."""
        try:
            return dict(self.by_arch[arch_to_str(arch)])
        except KeyError:
            raise ArchError(f"no zero-cost proxies for NB201 cell {arch_to_str(arch)!r}") from None


@lru_cache(maxsize=4)
def load_table(data_dir: str | None = None) -> ZeroCostTable:
    """The zero-cost table (a data folder's copy, else the shipped one, checked against its sha256)."""
    located = DataSources(data_dir).require(TABLE, SOURCE)
    return ZeroCostTable(read_rows(located.path))


def main(argv: list[str] | None = None) -> int:
    """``synflow PART.csv --part K --parts P``: synflow of every P-th function class from the K-th
    (their first cells in official index order); ``merge OUT PART.csv...``: the whole table."""
    parser = argparse.ArgumentParser(prog="python -m nasearch.search_spaces.nasbench201.zero_cost")
    parser.add_argument("command", choices=["synflow", "merge"])
    parser.add_argument("out", type=Path)
    parser.add_argument("inputs", nargs="*", type=Path)
    parser.add_argument("--part", type=int, default=0)
    parser.add_argument("--parts", type=int, default=1)
    args = parser.parse_args(argv)
    from nasearch.search_spaces.nasbench201.space import NasBench201Space

    archs = NasBench201Space().benchmark().archs
    if args.command == "merge":
        synflow_of: dict[int, float] = {}
        for path in args.inputs:
            with path.open() as fh:
                for line in fh.read().split()[1:]:
                    i, value = line.split(",")
                    synflow_of[int(i)] = float(value)
        missing = [i for i in representatives(archs).values() if i not in synflow_of]
        if missing:
            raise SystemExit(
                f"merge: {len(missing)} function classes have no synflow (e.g. cell {missing[0]})"
            )
        write_rows(table_rows(archs, synflow_of), args.out)
        return 0
    positions = sorted(representatives(archs).values())[args.part :: args.parts]
    scores = compute_synflow(archs, positions, log=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_text("index,synflow\n" + "".join(f"{i},{v!r}\n" for i, v in sorted(scores.items())))
    tmp.replace(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
