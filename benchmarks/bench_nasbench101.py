"""NAS-Bench-101: index build and load, table load, the full parameter proof, lookup / sample / mutate rates.

Run ``python -m benchmarks.bench_nasbench101`` (reads the embedded tables, or ``NASEARCH_DATA``). The index is
built in a fresh temporary cache folder so the build time is a real one; the proof computes the trainable
parameters of every one of the 423,624 cells from its spec and compares them with the table.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.report import machine_line, markdown_table, write_section


def _cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children."""
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _rate(fn, items) -> float:
    start = time.perf_counter()
    for item in items:
        fn(item)
    return len(items) / (time.perf_counter() - start)


def _official_decode_rate(index) -> list[object]:
    """Decode rate of a synthetic file in the official record format (30,000 records)."""
    from nasearch.search_spaces.nasbench101.official import decode_official
    from nasearch.search_spaces.nasbench101.tfrecord import (
        EvaluationData,
        ModelMetrics,
        Row,
        format_row,
        write_records,
    )

    rng = np.random.default_rng(0)
    records = []
    for r in rng.choice(len(index), size=10_000, replace=False).tolist():
        cell = index.cell(r)
        for rep in range(3):
            ckpt = f"/tmp/nb/{index.hash(r)}/{rep}/model.ckpt"
            evals = [EvaluationData(e, 10.0 * e, 0.9, 0.9, 0.9, ckpt) for e in (0.0, 54.0, 108.0)]
            metrics = ModelMetrics(evals, trainable_parameters=1_000_000, total_time=2000.0)
            matrix = [list(x) for x in cell.matrix]
            records.append(format_row(Row(index.hash(r), 108, matrix, list(cell.ops), metrics)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "nasbench_only108.tfrecord"
        write_records(path, records)
        start = time.perf_counter()
        decode_official(path, index)
        rate = len(records) / (time.perf_counter() - start)
    print(f"official-format decode: {rate:,.0f} records/s")
    what = "official-format tfrecord decode (synthetic file, 30,000 records; CRC checked)"
    return [what, f"{rate:,.0f} records/s"]


def main() -> None:
    from nasearch.search_spaces.nasbench101.benchmark import NasBench101Benchmark
    from nasearch.search_spaces.nasbench101.index import CACHE_NAME, build_index, read_index, save_index
    from nasearch.search_spaces.nasbench101.network import count_params
    from nasearch.search_spaces.nasbench101.space import NasBench101Space
    from nasearch.search_spaces.nasbench101.spec import encode, make_cell, module_hash

    rows: list[list[object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        start, cpu0 = time.perf_counter(), _cpu_seconds()
        index = build_index()
        build_s, build_cpu = time.perf_counter() - start, _cpu_seconds() - cpu0
        path = Path(tmp) / CACHE_NAME
        save_index(index, path)
        start = time.perf_counter()
        read_index(path)
        load_s = time.perf_counter() - start
        size_mb = os.path.getsize(path) / 1e6
    print(f"index build (1,293,208 labelled graphs): {build_s:.1f} s; cached load {load_s * 1e3:.0f} ms")
    rows.append(["index build (enumerate + hash every cell), wall clock", f"{build_s:.1f} s"])
    rows.append(["index build, CPU time of all its processes", f"{build_cpu:.1f} s"])
    rows.append([f"index load from cache ({size_mb:.1f} MB .npz)", f"{load_s * 1e3:.0f} ms"])

    bench = NasBench101Benchmark(index=index)
    start = time.perf_counter()
    params = bench.column("cifar10/params")
    table_s = time.perf_counter() - start
    rows.append(["compact table load (CSV.gz, 423,624 rows)", f"{table_s:.2f} s"])
    print(f"table load: {table_s:.2f} s")

    start = time.perf_counter()
    recorded = np.rint(params * 1e6).astype(np.int64)
    computed = np.array([count_params(index.cell(r)) for r in range(len(index))], dtype=np.int64)
    proof_s = time.perf_counter() - start
    matches = int((computed == recorded).sum())
    rate = 100.0 * matches / len(index)
    print(f"parameter proof: {matches:,} / {len(index):,} rows match ({rate:.3f} %) in {proof_s:.1f} s")
    rows.append(
        [
            "parameter proof: rows whose computed params equal the table",
            f"**{matches:,} / {len(index):,} ({rate:.3f} %)**, {proof_s:.1f} s",
        ]
    )

    space = NasBench101Space()
    space._index = index
    space._benchmark = bench
    rng = np.random.default_rng(0)
    cells = [space.sample(rng) for _ in range(20_000)]
    fresh = [make_cell(c.matrix, c.ops) for c in cells]  # new objects, nothing cached for them
    encode.cache_clear()
    module_hash.cache_clear()
    metric = ["cifar10/test_accuracy"]
    cold = _rate(lambda c: bench.query(c, metric), fresh)
    warm = _rate(lambda c: bench.query(c, metric), fresh)
    hashing = _rate(module_hash, fresh[:5_000])
    by_row = _rate(lambda r: bench.query(r, metric), list(range(0, 423_624, 11)))
    look = bench.lookup("cifar10/test_accuracy")
    fast = _rate(look, list(range(0, 423_624, 3)))
    rows.append(["query(cell, [metric]), new cells (row by table lookup, no hashing)", f"{cold:,.0f} /s"])
    rows.append(["query(cell, [metric]) again (cell encoding cached)", f"{warm:,.0f} /s"])
    rows.append(["module_hash(cell) computed one by one (MD5, uncached)", f"{hashing:,.0f} /s"])
    rows.append(["query(row, [metric])", f"{by_row:,.0f} /s"])
    rows.append(["lookup(metric)(row)", f"{fast:,.0f} /s"])

    uniform = _rate(lambda _: space.sample(rng), range(20_000))
    paper = NasBench101Space(sampling="nasbench")
    rejection = _rate(lambda _: paper.sample(rng), range(5_000))
    mutate = _rate(lambda c: space.mutate(c, rng), cells[:5_000])
    nbrs = [len(space.neighbours(c)) for c in cells[:500]]
    nbr_rate = _rate(space.neighbours, cells[500:1_500])
    rows.append(["sample, uniform over unique cells", f"{uniform:,.0f} /s"])
    rows.append(["sample, NB101 paper's random spec (rejection)", f"{rejection:,.0f} /s"])
    rows.append(["mutate (paper's evolution mutation, valid and new)", f"{mutate:,.0f} /s"])
    rows.append([f"neighbours (mean {np.mean(nbrs):.1f} per cell)", f"{nbr_rate:,.0f} cells/s"])
    rows.append(_official_decode_rate(index))
    for name, value in rows:
        print(f"{name}: {value}")

    load = os.getloadavg()[0]
    md = [
        "## NAS-Bench-101",
        "",
        machine_line() + f" The machine was shared with other jobs (load average {load:.1f} on "
        f"{os.cpu_count()} cores at the end of the run), so timings are noisy; the CPU time of the build "
        "is the steadier figure.",
        "",
        markdown_table(["what", "measured"], rows),
        "",
        "Row *i* of the compact table is the cell with the *i*-th smallest official module hash; the "
        "parameter proof computes the trainable parameters of the NB101 CIFAR-10 network from each row's "
        "spec and compares them with the table's `params_millions`, on every row.",
    ]
    write_section("nasbench101", md)


if __name__ == "__main__":
    main()
