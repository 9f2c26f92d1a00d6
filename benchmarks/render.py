"""Render BENCHMARKS.md from the results store (``benchmarks/results/``); the page is never parsed.

python -m benchmarks.render            # rewrite BENCHMARKS.md from the stored sections
python -m benchmarks.render --check    # exit 1 when BENCHMARKS.md differs from what the store renders
"""

from __future__ import annotations

import argparse
import sys

from benchmarks.report import BENCHMARKS_MD
from benchmarks.results import RESULTS_DIR, Store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if BENCHMARKS.md is not what the store renders"
    )
    args = parser.parse_args(argv)
    text = Store(RESULTS_DIR).render()
    if args.check:
        if BENCHMARKS_MD.read_text() != text:
            print(
                f"{BENCHMARKS_MD.name} differs from what {RESULTS_DIR} renders: "
                "run python -m benchmarks.render"
            )
            return 1
        return 0
    BENCHMARKS_MD.write_text(text)
    print(f"{BENCHMARKS_MD.name} rendered from {RESULTS_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
