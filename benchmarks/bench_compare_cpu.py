"""How long ``nasearch compare --from-run`` takes with its defaults on this machine's CPUs.

    python -m benchmarks.bench_compare_cpu            # section ``compare_from_run_cpu`` of BENCHMARKS.md

A 60-query quickstart search (``runs/quickstart.yaml``: NN-Former-ordered local search on the
NB201 CIFAR-10 table) gives the cells; then the default comparison on them (random_forest, mlp
and nnformer, 3 sizes x 3 seeds = 27 fits) runs twice, side by side: with the defaults (one torch
thread per fit, one worker process per CPU) and with every fit in one process (one thread). Only
wall time is the result here; the scores are printed for the record, not used to choose anything.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    """Run the search and both comparisons; write the section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--out", default=str(ROOT / "runs" / "out" / "bench_compare_cpu"))
    parser.add_argument("--no-write", action="store_true", help="print, do not write BENCHMARKS.md")
    args = parser.parse_args()

    import nasearch
    from benchmarks.report import machine_line, markdown_table, paragraphs, write_section
    from nasearch.compare.fitting import default_workers

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    start = time.perf_counter()
    run = nasearch.run(
        ROOT / "runs" / "quickstart.yaml",
        overrides=[f"budget.queries={args.queries}"],
        out=out / "run",
        progress=False,
    )
    search_s = time.perf_counter() - start
    cells = run.trials["key"].nunique()
    print(f"search: {cells} distinct cells in {search_s:.0f} s", flush=True)
    settings = [
        ("defaults: one thread per fit, parallel worker processes", {}),
        ("one process, one thread (workers=1)", {"workers": 1}),
    ]
    rows: list[list[object]] = []
    for label, options in settings:
        load = os.getloadavg()[0]
        start = time.perf_counter()
        result = nasearch.compare(
            from_run=run,
            overrides=[f"{k}={v}" for k, v in options.items()],
            out=out / f"compare_{options.get('workers', 'default')}",
            log=lambda _: None,
        )
        wall = time.perf_counter() - start
        frame = result.results
        workers = options.get("workers", default_workers())
        hashes = ", ".join(
            f"{p} `{h}`" for p, h in frame.groupby("predictor", sort=False)["options_hash"].first().items()
        )
        tau = ", ".join(
            f"{p} {t:.3f}" for p, t in frame.groupby("predictor", sort=False)["kendall_tau"].mean().items()
        )
        print(f"{label}: {len(frame)} fits in {wall:.0f} s (load {load:.1f}); mean tau {tau}", flush=True)
        rows.append(
            [
                label,
                workers,
                1,
                len(frame),
                round(wall),
                round(float(frame["fit_seconds"].sum())),
                f"{load:.1f}",
                hashes,
            ]
        )
    ratio = rows[1][4] / rows[0][4] if rows[0][4] else float("nan")  # type: ignore[operator]
    parts = [
        "## compare --from-run on a CPU (`python -m benchmarks.bench_compare_cpu`)",
        f"`nasearch compare --from-run` with its defaults (random_forest, mlp and nnformer with training capped at "
        f"{_cap()} steps; sizes a quarter, half and three quarters of the cells; seeds 0-2) on the {cells} "
        "distinct cells "
        f"of a {args.queries}-query quickstart search ({search_s:.0f} s). Both settings ran in this one process, one "
        "after the other; wall seconds, on a machine shared with other jobs (load average at each start in "
        "the table).",
        machine_line() + f" Commit `{commit}`{' (uncommitted changes)' if dirty else ''}.",
        markdown_table(
            [
                "setting",
                "workers",
                "threads per fit",
                "fits",
                "wall (s)",
                "sum of fit times (s)",
                "load at start",
                "options hash",
            ],
            rows,
        ),
        f"One process takes {ratio:.2f}x the wall time of the defaults. {_autogroup()}",
    ]
    print("\n\n".join(parts))
    if not args.no_write:
        write_section("compare_from_run_cpu", paragraphs(parts))
    return 0


def _cap() -> str:
    """The training cap of the neural defaults, as --from-run sets it."""
    from nasearch.compare.from_run import DEFAULT_OPTIONS

    return "/".join(sorted({str(o.get("max_steps")) for o in DEFAULT_OPTIONS.values()}))


def _autogroup() -> str:
    """Whether the kernel shares CPU time per session (then parallel workers of one session gain nothing)."""
    try:
        enabled = Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip() == "1"
    except OSError:
        return ""
    if not enabled:
        return ""
    return (
        "This kernel shares CPU time per session (`sched_autogroup_enabled` = 1), and other sessions kept both "
        "cores busy: the worker processes of one session then share that session's slice, so parallel fits "
        "cannot be faster here than one process (compare the sums of fit times); on cores of its own, two "
        "one-thread workers run two fits at once."
    )


if __name__ == "__main__":
    sys.exit(main())
