"""Dev-seed selection of predictor_local_search's settings for the NB201 CIFAR-10 search benchmark
(``runs/compare_optimizers_nb201.yaml``): a grid declared here and committed before it ran, scored only
on development seeds (``DEV_SEEDS``, never a reported block), by queries to the optimum.

    python -m benchmarks.tune_pls                     # the latest grid on DEV_SEEDS, prints, writes nothing
    python -m benchmarks.tune_pls --configs k2,k5 --grid pls_selection --out runs/out/tune_pls/part1.json
    python -m benchmarks.tune_pls --write runs/out/tune_pls/part1.json,runs/out/tune_pls/part2.json

Each round of the selection is its own grid (``GRIDS``, by the BENCHMARKS section it writes), declared
and committed before it ran: ``pls_selection`` (``GRID``) chose k 2 over the optimizer's default k 3;
``pls_selection_2`` (``GRID_2``) puts k 1 and a surrogate pre-trained on the space's synflow proxy
(``nasearch.predictors.pretraining``, the extra-information track's choice: 500 steps) against it.

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

from benchmarks.report import machine_line, markdown_table, past, write_section
from benchmarks.stats import median_queries, restricted_mean
from nasearch.config.blocks import check_surrogate
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

#: the second round, declared before it ran, on top of the config's block as it ships after the first
#: round (k 2): k 1 (a refit after every query) and the NN-Former pre-trained on NB201's synflow proxy
#: (every cell, no label; ``surrogate`` options merge into the config's surrogate block)
GRID_2: dict[str, dict[str, Any]] = {
    "shipped": {},
    "k1": {"k": 1},
    "pretrain": {"surrogate": {"pretrain": {"space": "nasbench201", "proxies": ["synflow"], "steps": 500}}},
}

#: every round's grid, by the section its selection writes
GRIDS: dict[str, dict[str, dict[str, Any]]] = {"pls_selection": GRID, "pls_selection_2": GRID_2}


def block_for(cfg: Any, options: dict[str, Any]) -> Any:
    """The config's predictor_local_search block with ``options`` on top (a ``surrogate`` mapping
    merges into the block's surrogate options)."""
    import copy

    blocks = [b for b in cfg.optimizers if b.name == "predictor_local_search"]
    if not blocks:
        raise SystemExit(f"{CONFIG} has no predictor_local_search block")
    block = copy.deepcopy(blocks[0])
    for key, value in options.items():
        current = block.options.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            block.options[key] = {**current, **copy.deepcopy(value)}
        else:
            block.options[key] = copy.deepcopy(value)
    if "surrogate" in options:  # the optimizer is built from the block's resolved surrogate: resolve it again
        block.surrogate = check_surrogate(block.options["surrogate"], "surrogate", cfg.source)
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
    parser.add_argument(
        "--grid", default="pls_selection_2", choices=list(GRIDS), help="which round's grid (its section)"
    )
    parser.add_argument("--configs", help="comma-separated names of the grid's settings (default: all)")
    parser.add_argument("--seeds", help="comma-separated dev seeds (default: DEV_SEEDS); must be dev seeds")
    parser.add_argument("--until", help="stop starting seeds after this UTC time (HH:MM)")
    parser.add_argument("--out", help="a JSON of the scores (one file per process)")
    parser.add_argument("--write", help="comma-separated score JSONs: write the selection section")
    parser.add_argument("--note", default="", help="with --write: a sentence on how the runs went")
    parser.add_argument(
        "--started-at",
        help="with --write: the clean commit the runs started from, where their files recorded a later "
        "-dirty one (read by an older version of this script at its first write, not at start)",
    )
    args = parser.parse_args()
    grid = GRIDS[args.grid]
    if args.write:
        write(args.write.split(","), args.started_at, args.grid, args.note)
        return
    commit = git_commit()  # read now: edits to the tree while the grid runs do not relabel it
    if commit is None or commit.endswith("-dirty"):
        raise SystemExit(f"the grid runs from a clean commit (the tree is at {commit}): commit first")
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else DEV_SEEDS
    if not set(seeds) <= set(DEV_SEEDS):
        raise SystemExit(f"--seeds: only development seeds ({DEV_SEEDS[0]}-{DEV_SEEDS[-1]})")
    cfg = load_run_config(CONFIG, [])
    names = args.configs.split(",") if args.configs else list(grid)
    unknown = [n for n in names if n not in grid]
    if unknown:
        raise SystemExit(f"--configs: {args.grid} has no setting {unknown[0]!r} (it has {', '.join(grid)})")
    hits: dict[str, dict[int, int | None]] = {n: {} for n in names}
    seconds = dict.fromkeys(names, 0.0)
    # every setting on a seed before the next seed: a run cut by --until scores them on the same seeds
    for seed in seeds:
        if past(args.until):
            print(f"stopped at {args.until} UTC before seed {seed}", flush=True)
            break
        for name in names:
            start = time.perf_counter()
            hits[name][seed] = queries_to_optimum(cfg, grid[name], seed, CAP)
            seconds[name] += time.perf_counter() - start
            print(f"{name} seed {seed}: {hits[name][seed]}", flush=True)
        if args.out:
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out).write_text(
                json.dumps(
                    {
                        n: {"hits": hits[n], "seconds": seconds[n], "commit": commit, "grid": args.grid}
                        for n in names
                    },
                    indent=1,
                )
            )


def select(
    paths: list[str], grid: dict[str, dict[str, Any]] = GRID, cap: int = CAP
) -> tuple[list[int], dict[str, dict[str, Any]], str, list[str]]:
    """From the score files of the grid (several processes, each on its own seeds): the seeds every
    setting finished, each setting's scores on exactly those seeds, the winner (the lowest restricted
    mean; ties: the setting listed first) and the commits the files recorded."""
    found: dict[str, dict[int, int | None]] = {n: {} for n in grid}
    seconds = dict.fromkeys(grid, 0.0)
    commits: set[str] = set()
    for p in paths:
        for name, part in json.loads(Path(p).read_text()).items():
            found[name].update({int(k): v for k, v in part["hits"].items()})
            seconds[name] += part["seconds"]
            commits.add(part["commit"])
    seeds = sorted(set.intersection(*(set(h) for h in found.values())))
    if len(seeds) < 2:
        raise SystemExit("the grid is not finished: fewer than 2 seeds ran every setting")
    results = {
        n: {**score([found[n][s] for s in seeds], cap), "seconds": seconds[n] / len(found[n])} for n in grid
    }
    order = list(grid)
    winner = min(order, key=lambda n: (results[n]["restricted_mean"], order.index(n)))
    return seeds, results, winner, sorted(commits)


def write(
    paths: list[str], started_at: str | None = None, section: str = "pls_selection", note: str = ""
) -> None:
    """The selection as its own BENCHMARKS section (``section``: the grid's round)."""
    grid = GRIDS[section]
    for p in paths:
        rounds = {part.get("grid", "pls_selection") for part in json.loads(Path(p).read_text()).values()}
        if rounds != {section}:
            raise SystemExit(f"{p}: scores of grid {', '.join(sorted(rounds))}, not {section}")
    seeds, results, winner, recorded = select(paths, grid)
    commits = {started_at} if started_at else set(recorded)
    order = list(grid)
    rows = [
        [
            name,
            f"`{json.dumps(grid[name]) if grid[name] else 'shipped'}`",
            f"{results[name]['found']}/{len(seeds)}",
            f"{results[name]['restricted_mean']:.1f}",
            f"> {CAP}" if results[name]["median"] is None else f"{results[name]['median']:g}",
            f"{float(np.mean([h for h in results[name]['hits'] if h is not None] or [np.nan])):.1f}",
            f"{results[name]['seconds']:.0f}",
            "**chosen**" if name == winner else "",
        ]
        for name in order
    ]
    md = [
        "## Optimizers: predictor_local_search selection (dev seeds)"
        + ("" if section == "pls_selection" else f", round {section.rsplit('_', 1)[-1]}"),
        "",
        machine_line(),
        "",
        f"`python -m benchmarks.tune_pls --grid {section}`: the grid `benchmarks.tune_pls.GRIDS[{section!r}]`, "
        f"declared and committed before it ran, each setting on top of `{CONFIG}`'s predictor_local_search "
        "block, on development seeds "
        f"{', '.join(map(str, seeds))} (of the declared {DEV_SEEDS[0]}–{DEV_SEEDS[-1]}: the seeds every setting "
        "finished before the time set for the selection; seeds 0–39 were used while developing it; none is a "
        "reported seed). "
        f"Searched on `cifar10-valid/valid_accuracy`; each search stops at the optimum (its cell or an "
        f"isomorph) or at {CAP} queries. Restricted mean: the mean of min(queries to the optimum, {CAP}), an "
        "unfound seed counting as the cap. Chosen: the lowest restricted mean (ties: the setting listed first). "
        "No test cell and no reported seed was read."
        + (
            f" The runs started from the clean commit `{started_at}`; their score files recorded "
            f"{', '.join(f'`{c}`' for c in recorded)}, the tree as it was when the script (then) first read the "
            "commit, at its first write, while files it does not import were being edited (it reads the commit "
            "at start now, and refuses a dirty one)."
            if started_at and recorded != [started_at]
            else ""
        )
        + (f" {note}" if note else ""),
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
    write_section(section, md, measured=sorted(c for c in commits if c))


if __name__ == "__main__":
    main()
