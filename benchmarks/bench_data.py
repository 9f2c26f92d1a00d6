"""The embedded tables: wheel size, load time from the package versus a plain CSV, checksum time.

Run ``python -m benchmarks.bench_data``. Each table is loaded the way the benchmarks load it
(lookup, then pandas / json) in three ways, alternately, ``--repeats`` times each: from a data
folder of plain copies (what a data folder held before the tables were embedded); from the
package on first use (checksum, decompress into an empty cache folder, parse); and from the
package later (the cached plain copy). Medians and ratios come from one run. Writes the
``data`` section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.report import machine_line, markdown_table, write_section
from nasearch.data.manifest import EMBEDDED_DIR, load_manifest, read_table_bytes, verify
from nasearch.data.sources import DataSources, read_csv, read_json

REPO = Path(__file__).resolve().parent.parent
WHEEL_BUDGET_MB = 15.0
SLOWDOWN_BUDGET = 1.5
NOISE_FLOOR_S = 0.005


def load_seconds(sources: DataSources, name: str) -> float:
    """Seconds to find and parse one table."""
    start = time.perf_counter()
    path = sources.require(name, "bench").path
    if name.endswith(".json"):
        read_json(path)
    else:
        read_csv(path, [])
    return time.perf_counter() - start


def plain_copies(folder: Path) -> Path:
    """A data folder holding every embedded table decompressed (what the data folder held before)."""
    for name, entry in load_manifest().items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(read_table_bytes(EMBEDDED_DIR / entry.stored))
    return folder


def wheel_megabytes(out: Path) -> float:
    """Build the wheel (no dependencies) and return its size in MB."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(REPO)], check=True
    )
    (wheel,) = out.glob("nasearch-*.whl")
    return wheel.stat().st_size / 1e6


def git_commit() -> str:
    proc = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False
    )
    return proc.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_data", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    commit = git_commit()  # the code that runs, whatever is committed while it does
    with tempfile.TemporaryDirectory() as tmp:
        wheel_mb = wheel_megabytes(Path(tmp) / "wheel")
        plain = DataSources(plain_copies(Path(tmp) / "plain"))
        cache = Path(tmp) / "cache"
        os.environ["NASEARCH_CACHE"] = str(cache)
        embedded = DataSources()
        rows = []
        for name, entry in load_manifest().items():
            first, later, csv = [], [], []
            for _ in range(args.repeats):  # alternate, so a noisy neighbour hits all three alike
                shutil.rmtree(cache, ignore_errors=True)
                first.append(load_seconds(embedded, name))
                later.append(load_seconds(embedded, name))
                csv.append(load_seconds(plain, name))
            f, late, c = (min(t) for t in (first, later, csv))  # the least-disturbed run of each
            rows.append([name, entry.rows, entry.bytes / 1e6, c, f, late, f / c, late / c])
            print(
                f"{name:<60} plain {c:.3f}s  first use {f:.3f}s  later {late:.3f}s  ratios {f / c:.2f} {late / c:.2f}",
                flush=True,
            )
    start = time.perf_counter()
    problems = verify()
    verify_s = time.perf_counter() - start
    start = time.perf_counter()
    cli = subprocess.run(
        [sys.executable, "-m", "nasearch", "data", "--verify"], capture_output=True, text=True, check=False
    )
    cli_s = time.perf_counter() - start
    timed = [r for r in rows if r[3] >= NOISE_FLOOR_S]  # below it a ratio is timer noise
    worst = max(r[-1] for r in timed)
    worst_first = max(r[-2] for r in timed)
    print(
        f"wheel {wheel_mb:.2f} MB; verify {verify_s:.2f}s (CLI {cli_s:.2f}s, exit {cli.returncode}); worst "
        f"ratio {worst:.2f}"
    )
    md = [
        "## Embedded benchmark tables (`python -m benchmarks.bench_data`)",
        "",
        machine_line(),
        f"Commit `{commit}`, `--repeats {args.repeats}` (the fastest of the repeats; the three ways "
        "alternate in one run).",
        "",
        f"- Wheel (`pip wheel --no-deps .`): **{wheel_mb:.2f} MB** (budget {WHEEL_BUDGET_MB:.0f} MB).",
        f"- `verify()` of all {len(rows)} tables (stored and decompressed sha256): {verify_s:.2f} s, "
        f"{len(problems)} problem(s); `nasearch data --verify` end to end: {cli_s:.2f} s (exit {cli.returncode}).",
        f"- Slowest load from the package relative to a plain CSV, over the {len(timed)} tables that take "
        f"{NOISE_FLOOR_S * 1000:.0f} ms or more: {worst:.2f}x once its plain copy is cached "
        f"(budget {SLOWDOWN_BUDGET}x); {worst_first:.2f}x on the very first use, which checks, decompresses "
        "and caches it.",
        "",
        f"Load = look the table up and parse it with pandas (CSV) or json. Below {NOISE_FLOOR_S * 1000:.0f} "
        "ms a ratio is timer noise.",
        "",
        markdown_table(
            [
                "table",
                "rows",
                "stored MB",
                "plain CSV s",
                "first use s",
                "later s",
                "first / plain",
                "later / plain",
            ],
            rows,
        ),
    ]
    write_section("data", md)


if __name__ == "__main__":
    main()
