"""Dev-seed selection of predictor_local_search's settings for the NB201 CIFAR-10 search benchmark
(``runs/compare_optimizers_nb201.yaml``): a grid declared here and committed before it ran, scored only
on development seeds (``DEV_SEEDS``, never a reported block), by queries to the optimum.

    python -m benchmarks.tune_pls                     # every GRID entry on DEV_SEEDS, prints, writes nothing
    python -m benchmarks.tune_pls --configs k2,k5 --out runs/out/tune_pls/part1.json
    python -m benchmarks.tune_pls --write runs/out/tune_pls/part1.json,runs/out/tune_pls/part2.json

Each (setting, seed) is the benchmark's own search (the config's block with the setting's options,
the same space, evaluator and seed), asked one cell at a time and stopped once the optimum (its cell or
an isomorph) is evaluated or ``CAP`` queries are spent: a search's queries to the optimum do not depend
on what it would have done after finding it, so stopping there changes no score and saves the rest.
Scores: found within ``CAP``, the restricted mean of min(queries, ``CAP``) (an unfound seed counts as
``CAP``) and the median. The winner: the lowest restricted mean (ties: the cheaper setting, listed first).
``--write`` stores the selection as its own BENCHMARKS section (``pls_selection``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.report import machine_line, markdown_table, write_section
from benchmarks.stats import median_queries, restricted_mean
from nasearch.config.run_schema import load_run_config
from nasearch.data.provenance import git_commit
from nasearch.search.parts import build_evaluator, build_optimizer, build_space, evaluator_objectives

CONFIG = "runs/compare_optimizers_nb201.yaml"

#: development seeds: seeds 0-39 were already used while developing predictor_local_search; never reported
DEV_SEEDS = list(range(0, 16))

#: the tuning cap (queries): a seed not at the optimum by then counts as CAP
CAP = 100

#: the grid, declared before it ran: options applied on top of the config's predictor_local_search block
#: (the shipped one: k 3, num_init 10, num_incumbents 1, the small NN-Former of benchmarks.search_settings)
GRID: dict[str, dict[str, Any]] = {
    "shipped": {},
    "k5": {"k": 5},
    "k2": {"k": 2},
    "init5": {"num_init": 5},
    "incumbents2": {"num_incumbents": 2},
}


def block_for(cfg: Any, options: dict[str, Any]) -> Any:
    """The config's predictor_local_search block with ``options`` on top."""
    import copy

    blocks = [b for b in cfg.optimizers if b.name == "predictor_local_search"]
    if not blocks:
        raise SystemExit(f"{CONFIG} has no predictor_local_search block")
    block = copy.deepcopy(blocks[0])
    block.options.update(options)
    return block


def queries_to_optimum(cfg: Any, options: dict[str, Any], seed: int, cap: int) -> int | None:
    """One search of the config's space and evaluator, asked one cell at a time until the optimum's
    key is evaluated (its query number) or ``cap`` queries are spent (None)."""
    space = build_space(cfg)
    evaluator = build_evaluator(cfg.evaluator, space)
    objectives = evaluator_objectives(evaluator)
    optimizer = build_optimizer(block_for(cfg, options), space, objectives, seed)
    _, arch = evaluator.optimum()  # type: ignore[attr-defined]
    target = space.key(arch)
    for query in range(1, cap + 1):
        asked = optimizer.ask(1)
        if not asked:
            return None
        cell = asked[0]
        optimizer.tell(cell, evaluator.evaluate(cell))
        if space.key(cell) == target:
            return query
    return None


def score(hits: list[int | None], cap: int) -> dict[str, Any]:
    median = median_queries(hits, cap)
    return {
        "found": sum(h is not None for h in hits),
        "restricted_mean": restricted_mean(hits, cap),
        "median": median,
        "hits": hits,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default=",".join(GRID), help="comma-separated GRID names")
    parser.add_argument("--out", help="a JSON of the scores (one file per process)")
    parser.add_argument("--write", help="comma-separated score JSONs: write the selection section")
    args = parser.parse_args()
    if args.write:
        write(args.write.split(","))
        return
    cfg = load_run_config(CONFIG, [])
    results: dict[str, Any] = {}
    for name in args.configs.split(","):
        start = time.perf_counter()
        hits = []
        for seed in DEV_SEEDS:
            hits.append(queries_to_optimum(cfg, GRID[name], seed, CAP))
            print(f"{name} seed {seed}: {hits[-1]}", flush=True)
        results[name] = {**score(hits, CAP), "seconds": time.perf_counter() - start, "commit": git_commit()}
        print(name, json.dumps(results[name]), flush=True)
        if args.out:
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out).write_text(json.dumps(results, indent=1))


def write(paths: list[str]) -> None:
    """The selection as its own BENCHMARKS section, from the score files of a finished grid."""
    results: dict[str, Any] = {}
    for p in paths:
        results.update(json.loads(Path(p).read_text()))
    missing = [n for n in GRID if n not in results]
    if missing:
        raise SystemExit(f"the grid is not finished: no scores for {', '.join(missing)}")
    order = list(GRID)
    winner = min(order, key=lambda n: (results[n]["restricted_mean"], order.index(n)))
    rows = [
        [
            name,
            f"`{json.dumps(GRID[name]) if GRID[name] else 'shipped'}`",
            f"{results[name]['found']}/{len(DEV_SEEDS)}",
            f"{results[name]['restricted_mean']:.1f}",
            f"> {CAP}" if results[name]["median"] is None else f"{results[name]['median']:g}",
            f"{float(np.mean([h for h in results[name]['hits'] if h is not None] or [np.nan])):.1f}",
            f"{results[name]['seconds'] / len(DEV_SEEDS):.0f}",
            "**chosen**" if name == winner else "",
        ]
        for name in order
    ]
    commits = sorted({results[n]["commit"] for n in order})
    md = [
        "## Optimizers: predictor_local_search selection (dev seeds)",
        "",
        machine_line(),
        "",
        f"`python -m benchmarks.tune_pls`: the grid `benchmarks.tune_pls.GRID`, declared and committed before it "
        f"ran, each setting on top of `{CONFIG}`'s predictor_local_search block, on development seeds "
        f"{DEV_SEEDS[0]}–{DEV_SEEDS[-1]} (seeds 0–39 were used while developing it; none is a reported seed). "
        f"Searched on `cifar10-valid/valid_accuracy`; each search stops at the optimum (its cell or an "
        f"isomorph) or at {CAP} queries. Restricted mean: the mean of min(queries to the optimum, {CAP}), an "
        "unfound seed counting as the cap. Chosen: the lowest restricted mean (ties: the setting listed first). "
        "No test cell and no reported seed was read.",
        "",
        markdown_table(
            [
                "setting",
                "options",
                f"found @ {CAP}",
                f"restricted mean @ {CAP}",
                "median",
                "mean of the found",
                "s / seed",
                "",
            ],
            rows,
        ),
        "",
    ]
    print("\n".join(md))
    write_section("pls_selection", md, measured=[c for c in commits if c])


if __name__ == "__main__":
    main()
