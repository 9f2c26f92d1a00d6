"""The selection: fit every candidate of the grid on training cells, score it on validation cells, pick one."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.defaults.protocols import PAPER_BLOCK, TRAIN_METRIC, VisibleTask
from nasearch.api.errors import ConfigError
from nasearch.compare import CompareConfig, Task, build_task, row_options, run_compare
from nasearch.data.provenance import git_commit, options_hash, package_version


def candidates(
    max_steps: Sequence[int], rank_weights: Sequence[float], pruned: Sequence[bool | None]
) -> list[dict[str, Any]]:
    """The grid: every combination, as ``{"max_steps", "rank_weight", "prune_graph"}`` (``prune_graph``
    None: a space without that option, e.g. NB101)."""
    return [
        {"max_steps": int(s), "rank_weight": float(r), "prune_graph": None if p is None else bool(p)}
        for p, s, r in itertools.product(pruned, max_steps, rank_weights)
    ]


def _label(c: dict[str, Any]) -> str:
    cells = {True: " pruned", False: " 8-node", None: ""}[c.get("prune_graph")]
    return f"steps={c['max_steps']} rank={c['rank_weight']:g}{cells}"


def _space_options(prune: bool | None) -> dict[str, Any]:
    return {} if prune is None else {"prune_graph": prune}


def measure(
    config: CompareConfig,
    label: str,
    spec: tuple[str, dict[str, Any]],
    cell_dir: Path,
    task: Task,
    log: Any = print,
) -> list[dict[str, Any]]:
    """The rows of one predictor at ``config``'s one size and seed (one per split, e.g. per CV fold), in
    ``cell_dir/results.csv``: read back when that file holds rows of the same options hash, else fitted."""
    want = options_hash(row_options(config, spec[0], spec[1]))
    old = [
        r
        for r in _csv_rows(cell_dir / "results.csv")
        if r.get("options_hash") == want and r["predictor"] == label
    ]
    if old:
        log(f"{label} n={config.sizes[0]} seed={config.seeds[0]}: reusing {len(old)} row(s) of {cell_dir}")
        return [{**r, "train_size": int(r["train_size"]), "seed": int(r["seed"])} for r in old]
    return run_compare(config, {label: spec}, cell_dir, task, log=log)


def select(
    predictor: str,
    grid: list[dict[str, Any]],
    sizes: Sequence[int],
    seeds: Sequence[int],
    procedure: str = "validation",
    block: int = PAPER_BLOCK,
    folds: int = 3,
    base_options: dict[str, Any] | None = None,
    out_dir: Path = Path("runs/out/select_defaults"),
    tasks: dict[bool | None, Task] | None = None,
    log: Any = print,
    space: str = "nasbench201",
    train_metric: str = TRAIN_METRIC,
) -> dict[str, Any]:
    """Fit every candidate at every size and seed under ``procedure``; return the chosen defaults,
    every candidate's mean tau and the provenance. No test cell is visible to the fits. One
    results.csv per candidate, size and seed (``out_dir/<procedure>_<cells>/n<size>_seed<seed>_<hash>``),
    reused when it holds that candidate's rows: runs of other sizes can share the work."""
    if procedure not in ("validation", "cv"):
        raise ConfigError(f"procedure must be 'validation' or 'cv', got {procedure!r}")
    protocol = "validation_block" if procedure == "validation" else "train_cv"
    visible = np.arange(max(sizes) + (block if procedure == "validation" else 0))
    tasks = dict(tasks or {})
    scores: list[dict[str, Any]] = []
    for prune in dict.fromkeys(c["prune_graph"] for c in grid):
        if prune not in tasks:
            tasks[prune] = build_task(
                CompareConfig(
                    name="select",
                    sizes=[2],
                    predictors={"x": {}},
                    space=space,
                    space_options=_space_options(prune),
                )
            )
        task = VisibleTask(tasks[prune], visible)
        folder = out_dir / f"{procedure}_{ {True: 'pruned', False: 'full', None: 'cells'}[prune] }"
        for c in (c for c in grid if c["prune_graph"] == prune):
            spec = (
                predictor,
                {**(base_options or {}), "max_steps": c["max_steps"], "rank_weight": c["rank_weight"]},
            )
            rows = []
            for size, seed in itertools.product(sizes, seeds):
                config = CompareConfig(
                    name=f"select_{predictor}",
                    sizes=[size],
                    seeds=[seed],
                    predictors={_label(c): spec[1]},
                    protocol=protocol,
                    space=space,
                    train_metric=train_metric,
                    threads=1,
                    space_options=_space_options(prune),
                    protocol_options={"block": block} if procedure == "validation" else {"folds": folds},
                )
                digest = options_hash(row_options(config, predictor, spec[1]))
                rows += measure(config, _label(c), spec, folder / f"n{size}_seed{seed}_{digest}", task, log)
            by_size = {
                int(n): float(np.mean([float(r["kendall_tau"]) for r in rows if int(r["train_size"]) == n]))
                for n in sizes
            }
            scores.append(
                {
                    **c,
                    "mean_tau": float(np.mean([float(r["kendall_tau"]) for r in rows])),
                    "tau_by_size": by_size,
                    "options_hash": rows[0]["options_hash"],
                }
            )
    best = max(scores, key=lambda s: (round(s["mean_tau"], 4), -s["max_steps"]))
    chosen = {k: best[k] for k in ("max_steps", "rank_weight", "prune_graph")}
    return {
        "predictor": predictor,
        "chosen": chosen,
        "procedure": procedure,
        "validation": (
            f"the {block} cells after the training block"
            if procedure == "validation"
            else f"{folds}-fold cross-validation on the training cells"
        ),
        "space": space,
        "metric": train_metric,
        "sizes": list(sizes),
        "seeds": list(seeds),
        "base_options": base_options or {},
        "scores": scores,
        "grid_hash": options_hash(
            {
                "grid": grid,
                "sizes": list(sizes),
                "seeds": list(seeds),
                "procedure": procedure,
                **({"space": space} if space != "nasbench201" else {}),
            }
        ),
        "version": package_version(),
        "commit": git_commit(),
    }


def _csv_rows(path: Path) -> list[dict[str, Any]]:
    import csv

    if not path.exists():
        return []
    with path.open() as fh:
        return list(csv.DictReader(fh))
