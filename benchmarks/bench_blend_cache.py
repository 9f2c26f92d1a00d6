"""How long a ``hardware_aware`` evaluator takes to build with ``blend``'s choice computed, and read back.

    python -m benchmarks.bench_blend_cache      # section ``latency_blend_cache`` of BENCHMARKS.md

One process, one target, the default options (latency model ``blend``, its rule chosen by nested
leave-one-die-out). The NB201 tables are loaded first (not timed), into an empty temporary cache folder
(``$NASEARCH_CACHE``); then the evaluator is built twice, blend's in-memory τ cleared in between: the first
build computes the choice and stores it (cold), the second reads it (warm). Both must predict the same
latency of every cell, or nothing is written. Wall seconds, on a machine shared with other jobs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

#: the target whose evaluator is built (a GPU whose die, TU102, has another card in HELP)
TARGET = "titan_rtx_32"


def build(target: str, space: Any, latency_model: dict[str, Any] | None) -> tuple[float, Any]:
    """(wall seconds, the evaluator) of one ``hardware_aware`` build for ``target`` (``latency_model``:
    None, the default estimator with its defaults)."""
    from nasearch.search_spaces.nasbench201.evaluators import HardwareAwareEvaluator

    start = time.perf_counter()
    evaluator = HardwareAwareEvaluator(space, device=target, latency_model=latency_model)
    return time.perf_counter() - start, evaluator


def main(argv: list[str] | None = None) -> int:
    """Build the evaluator cold and warm; write the section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default=TARGET)
    parser.add_argument(
        "--latency-model", type=json.loads, default=None, help="JSON options (default: the defaults)"
    )
    parser.add_argument("--no-write", action="store_true", help="print, do not write BENCHMARKS.md")
    args = parser.parse_args(argv)

    import numpy as np

    from benchmarks.bench_latency_models import git_state
    from benchmarks.report import machine_line, markdown_table, paragraphs, write_section

    commit, dirty = git_state()
    if (dirty or args.latency_model is not None) and not args.no_write:
        raise SystemExit(
            "bench_blend_cache: the section measures the defaults from a clean tree: commit first, and give "
            "no --latency-model (or --no-write)"
        )
    with tempfile.TemporaryDirectory() as folder:
        os.environ["NASEARCH_CACHE"] = folder
        from nasearch.data.provenance import options_hash
        from nasearch.search_spaces.nasbench201 import latency_blend
        from nasearch.search_spaces.nasbench201.latency_models import DEFAULT_ESTIMATOR
        from nasearch.search_spaces.nasbench201.space import NasBench201Space

        space = NasBench201Space()
        space.benchmark()  # the tables, loaded (and decompressed into the empty cache folder) before timing
        rows, predicted, training = [], [], []
        for label in ("cold: empty cache, the choice computed and stored", "warm: the stored choice read"):
            latency_blend._TAUS.clear()  # only the file on disk carries over
            load = os.getloadavg()[0]
            seconds, evaluator = build(args.target, space, args.latency_model)
            predicted.append(evaluator.predicted)
            task = evaluator_task(evaluator, space)
            training = task.devices
            chosen = evaluator.model.choice(task)
            print(f"{label}: {seconds:.1f} s (load {load:.1f}); rule {chosen.rule.label()}", flush=True)
            rows.append(
                [
                    label,
                    f"{seconds:.1f}",
                    f"{load:.1f}",
                    chosen.rule.label(),
                    _recipe(chosen.recipe),
                    f"`{options_hash(args.latency_model or {'name': DEFAULT_ESTIMATOR})}`",
                    f"`{commit}`",
                ]
            )
        entries = sorted(p.name for p in (Path(folder) / "blend_choice").glob("*.npz"))
    if not np.array_equal(predicted[0], predicted[1]):
        raise SystemExit("bench_blend_cache: the warm build predicts other latencies than the cold one")
    cold, warm = float(rows[0][1]), float(rows[1][1])
    settings = (
        f"the default options (latency model `{DEFAULT_ESTIMATOR}`, its selection rule chosen by nested "
        "leave-one-die-out)"
        if args.latency_model is None
        else f"latency_model `{json.dumps(args.latency_model)}`"
    )
    parts = [
        "## Blend's choice cached: cold and warm evaluator build (`python -m benchmarks.bench_blend_cache`)",
        f"A `hardware_aware` evaluator for `{args.target}` ({len(training)} HELP settings of other chips in "
        f"training) with {settings}, built twice in one process "
        "after the NB201 tables were loaded (not timed), blend's in-memory τ cleared in between: cold with an "
        f"empty cache folder (the choice computed and stored: {len(entries)} file), warm reading it back. Both "
        "builds predict the same latency of every cell. Wall seconds, one process under `nice`, on a machine "
        "whose two cores other jobs kept busy (load average at each start in the table).",
        f"{machine_line()} Commit of the measurement: `{commit}`.",
        markdown_table(
            [
                "build",
                "wall (s)",
                "load at start",
                "rule (s / b / holdout)",
                "recipe (h, alpha, b)",
                "options hash",
                "commit",
            ],
            rows,
        ),
        f"The warm build takes {warm:.1f} s against {cold:.1f} s cold ({cold / warm:.0f}x less).",
    ]
    print("\n\n".join(str(p) for p in parts))
    if not args.no_write:
        write_section("latency_blend_cache", paragraphs(parts), measured=[commit])
    return 0


def evaluator_task(evaluator: Any, space: Any) -> Any:
    """The latency task the evaluator's model estimated (its target and training settings)."""
    from nasearch.search_spaces.nasbench201.evaluators import training_devices
    from nasearch.search_spaces.nasbench201.latency_models import build_task

    return build_task(space, evaluator.target, training_devices(evaluator.target))


def _recipe(recipe: Any) -> str:
    return f"{recipe.bandwidth:g}, {recipe.pf_weight:g}, {recipe.batch_weight:g}"


if __name__ == "__main__":
    sys.exit(main())
