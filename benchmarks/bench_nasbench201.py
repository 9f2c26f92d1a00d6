"""NAS-Bench-201 tables: cold and warm load time of each table, and lookups per second.

Cold = a fresh ``NasBench201Benchmark`` reading the CSV (the OS file cache is warm after the first
repeat; we report the median of repeats). Warm = asking again for a column already loaded.
Lookups: ``query(arch, [metric])`` by arch tuple (what the optimizers call), by arch string, and
the ``lookup(metric)`` fast path. Run: ``python -m benchmarks.bench_nasbench201``.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from benchmarks.report import machine_line, markdown_table, paragraphs, write_section
from nasearch.search_spaces.nasbench201.benchmark import METRICS, TABLES, NasBench201Benchmark
from nasearch.search_spaces.nasbench201.space import arch_to_str

REPEATS = 3


def _time(fn, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    order = NasBench201Benchmark().archs
    t_order = _time(lambda: NasBench201Benchmark().archs)
    rows = [["index order (arch strings of the 12-epoch table, parsed)", f"{t_order * 1000:.0f}", ""]]
    for table_name, table in TABLES.items():
        metric = next(m for m, spec in METRICS.items() if spec.table == table_name)

        def cold(metric: str = metric) -> None:
            fresh = NasBench201Benchmark()
            fresh._archs = order  # time the table alone; the index order is timed on its own row
            fresh.column(metric)

        bench = NasBench201Benchmark()
        bench.column(metric)
        rows.append(
            [
                table.path,
                f"{_time(cold) * 1000:.0f}",
                f"{_time(lambda bench=bench, metric=metric: bench.column(metric), 20) * 1e6:.1f}",
            ]
        )
        print(rows[-1])

    bench = NasBench201Benchmark()
    metric = "cifar10-valid/valid_accuracy"
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 15625, size=20000)
    archs = [bench.arch(int(i)) for i in idx]
    strings = [arch_to_str(a) for a in archs[:5000]]
    bench.query(archs[0], [metric])
    t_tuple = _time(lambda: [bench.query(a, [metric]) for a in archs], 1)
    t_str = _time(lambda: [bench.query(s, [metric]) for s in strings], 1)
    lookup = bench.lookup(metric)
    t_fast = _time(lambda: [lookup(int(i)) for i in idx], 1)
    lookups = [
        ["query(arch tuple, [metric])", f"{len(archs) / t_tuple:,.0f}"],
        ["query(arch string, [metric])", f"{len(strings) / t_str:,.0f}"],
        ["lookup(metric)(index)", f"{len(idx) / t_fast:,.0f}"],
    ]
    print(lookups)
    write_section(
        "nasbench201",
        paragraphs(
            [
                "## NAS-Bench-201 tables (`python -m benchmarks.bench_nasbench201`)",
                machine_line(),
                "Cold load = a new benchmark object reading one CSV, parsing and checking its arch strings "
                f"where it has them (median of {REPEATS}, OS file cache warm); the index order is read "
                "once per benchmark object, on its own row. Warm = the same column asked again.",
                markdown_table(["table", "cold load (ms)", "warm (µs)"], rows),
                markdown_table(["lookup", "per second"], lookups),
            ]
        ),
    )


if __name__ == "__main__":
    main()
