"""Choose a predictor's defaults (step budget, rank_weight, pruned cells) without reading a test cell.

    python -m benchmarks.select_defaults --sizes 156,469 --max-steps 4000,16000 --rank-weights 0.2,1 \
        --pruned true,false --out runs/out/select_defaults/nb201.json
    python -m benchmarks.select_defaults --procedure cv --folds 3 ...   # k-fold CV on the training cells

Procedures (each a ``nasearch compare`` split protocol, so every fit is a traced results.csv row):

- ``validation`` (default): the paper protocol's own validation block. Train on the first N cells
  in official index order, score Kendall tau on the next ``--block`` cells (the paper's 1024).
- ``cv``: k-fold cross-validation on the first N cells only (NASLib's predictor evaluator does
  this): train on k-1 folds, score on the held-out fold.

Both score on the *training* metric (CIFAR-10-valid validation accuracy), never on the test metric,
and the fits see a task whose every column is NaN outside the training and validation cells: a
procedure that touched a test cell would fail (a NaN target is an error), not quietly leak. The
candidate with the best mean tau over all sizes and seeds wins (ties: the smaller step budget).
The output is a JSON of the chosen defaults with every candidate's score and the provenance.
``--score-test`` then scores the chosen setting once on the paper protocol's test cells.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nasearch.compare import CompareConfig, Split, Task, build_task, register_protocol, run_compare
from nasearch.errors import ConfigError
from nasearch.provenance import git_commit, options_hash, package_version

TRAIN_METRIC = "cifar10-valid/valid_accuracy"
TEST_METRIC = "cifar10/test_accuracy"
#: the paper's validation block (cells after the training block)
PAPER_BLOCK = 1024


class VisibleTask(Task):
    """A task whose columns are NaN outside ``visible`` cells: what a selection procedure may read."""

    def __init__(self, task: Task, visible: np.ndarray) -> None:
        super().__init__(task.space, task.benchmark)
        self.__dict__["archs"] = task.archs
        if "_graph_cache" in task.__dict__:
            self.__dict__["_graph_cache"] = task.__dict__["_graph_cache"]
        self.visible = np.zeros(len(task), dtype=bool)
        self.visible[np.asarray(visible, dtype=int)] = True
        self._inner = task

    def column(self, metric: str) -> np.ndarray:
        values = self._inner.column(metric).copy()
        values[~self.visible] = np.nan
        return values


def _block(config: CompareConfig) -> int:
    return int(config.protocol_options.get("block", PAPER_BLOCK))


@register_protocol("validation_block")
def validation_block(task: Task, size: int, seed: int, config: CompareConfig) -> Iterator[Split]:
    """Train on the first ``size`` cells; score on the next ``block`` cells (on the train metric)."""
    if config.target_metric != config.train_metric:
        raise ConfigError("validation_block scores the training metric: leave test_metric unset")
    block = _block(config)
    if size + block > len(task):
        raise ConfigError(f"{size} training + {block} validation cells exceed the space ({len(task)})")
    y = task.column(config.train_metric)
    train, val = np.arange(size), np.arange(size, size + block)
    train, val = train[np.isfinite(y[train])], val[np.isfinite(y[val])]
    yield Split(train, val, y[train], y[val], info={"fold": "block"})


@register_protocol("train_cv")
def train_cv(task: Task, size: int, seed: int, config: CompareConfig) -> Iterator[Split]:
    """k-fold cross-validation on the first ``size`` cells (``protocol_options.folds``, default 3)."""
    if config.target_metric != config.train_metric:
        raise ConfigError("train_cv scores the training metric: leave test_metric unset")
    folds = int(config.protocol_options.get("folds", 3))
    if not 2 <= folds <= size // 2:
        raise ConfigError(f"folds must be between 2 and size / 2, got {folds} for {size} cells")
    y = task.column(config.train_metric)
    cells = np.arange(size)
    cells = cells[np.isfinite(y[cells])]
    order = np.random.default_rng(seed).permutation(cells)
    for f, held in enumerate(np.array_split(order, folds)):
        train = np.sort(np.setdiff1d(cells, held))
        held = np.sort(held)
        yield Split(train, held, y[train], y[held], info={"fold": f})


def candidates(max_steps: Sequence[int], rank_weights: Sequence[float], pruned: Sequence[bool]) -> list[dict[str, Any]]:
    """The grid: every combination, as ``{"max_steps", "rank_weight", "prune_graph"}``."""
    return [{"max_steps": int(s), "rank_weight": float(r), "prune_graph": bool(p)}
            for p, s, r in itertools.product(pruned, max_steps, rank_weights)]


def _label(c: dict[str, Any]) -> str:
    return f"steps={c['max_steps']} rank={c['rank_weight']:g} {'pruned' if c['prune_graph'] else '8-node'}"


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
    tasks: dict[bool, Task] | None = None,
    log: Any = print,
) -> dict[str, Any]:
    """Fit every candidate at every size and seed under ``procedure``; return the chosen defaults,
    every candidate's mean tau and the provenance. No test cell is visible to the fits."""
    if procedure not in ("validation", "cv"):
        raise ConfigError(f"procedure must be 'validation' or 'cv', got {procedure!r}")
    protocol = "validation_block" if procedure == "validation" else "train_cv"
    visible = np.arange(max(sizes) + (block if procedure == "validation" else 0))
    tasks = dict(tasks or {})
    scores: list[dict[str, Any]] = []
    for prune in sorted({c["prune_graph"] for c in grid}):
        if prune not in tasks:
            tasks[prune] = build_task(CompareConfig(name="select", sizes=[2], predictors={"x": {}},
                                                    space_options={"prune_graph": prune}))
        task = VisibleTask(tasks[prune], visible)
        specs = {_label(c): (predictor, {**(base_options or {}), "max_steps": c["max_steps"],
                                          "rank_weight": c["rank_weight"]})
                 for c in grid if c["prune_graph"] == prune}
        config = CompareConfig(name=f"select_{predictor}", sizes=list(sizes), seeds=list(seeds),
                               predictors={k: v[1] for k, v in specs.items()}, protocol=protocol,
                               train_metric=TRAIN_METRIC, threads=1, space_options={"prune_graph": prune},
                               protocol_options={"block": block} if procedure == "validation" else {"folds": folds})
        rows = run_compare(config, specs, out_dir / f"{procedure}_{'pruned' if prune else 'full'}", task, log=log)
        for c in grid:
            if c["prune_graph"] != prune:
                continue
            taus = [float(r["kendall_tau"]) for r in rows if r["predictor"] == _label(c)]
            by_size = {int(s): float(np.mean([float(r["kendall_tau"]) for r in rows
                                              if r["predictor"] == _label(c) and r["train_size"] == s]))
                       for s in sizes}
            scores.append({**c, "mean_tau": float(np.mean(taus)), "tau_by_size": by_size,
                           "options_hash": rows[[r["predictor"] for r in rows].index(_label(c))]["options_hash"]})
    best = max(scores, key=lambda s: (round(s["mean_tau"], 4), -s["max_steps"]))
    chosen = {k: best[k] for k in ("max_steps", "rank_weight", "prune_graph")}
    return {
        "predictor": predictor, "chosen": chosen, "procedure": procedure,
        "validation": (f"the {block} cells after the training block" if procedure == "validation"
                       else f"{folds}-fold cross-validation on the training cells"),
        "metric": TRAIN_METRIC, "sizes": list(sizes), "seeds": list(seeds),
        "base_options": base_options or {}, "scores": scores,
        "grid_hash": options_hash({"grid": grid, "sizes": list(sizes), "seeds": list(seeds), "procedure": procedure}),
        "version": package_version(), "commit": git_commit(),
    }  # fmt: skip


def score_test(result: dict[str, Any], sizes: Sequence[int], seeds: Sequence[int], out_dir: Path,
               block: int = PAPER_BLOCK, log: Any = print) -> list[dict[str, Any]]:
    """The chosen setting, frozen, scored once on the paper protocol (validation block held out of
    the test set): tau on all other cells and on the cells outside training and validation."""
    chosen = result["chosen"]
    options = {**result["base_options"], "max_steps": chosen["max_steps"], "rank_weight": chosen["rank_weight"]}
    specs = {"selected": (result["predictor"], options)}
    config = CompareConfig(name="selected_test", sizes=list(sizes), seeds=list(seeds), predictors={"selected": options},
                           protocol="paper", train_metric=TRAIN_METRIC, test_metric=TEST_METRIC, threads=1,
                           validation_size=block, space_options={"prune_graph": chosen["prune_graph"]})
    return run_compare(config, specs, out_dir / "test_once", log=log)


#: NN-Former paper, NB201 paper protocol (the sizes it reports)
PAPER_NB201 = {156: 0.804, 469: 0.860, 781: 0.879, 1563: 0.890}


def report(result: dict[str, Any], command: str) -> str:
    """The BENCHMARKS.md section of one selection: every candidate's validation tau, the choice,
    and (if scored) the frozen choice's test tau beside the paper's."""
    from benchmarks.report import markdown_table

    sizes = result["sizes"]
    rows = []
    for sc in sorted(result["scores"], key=lambda x: -x["mean_tau"]):
        chosen = all(sc[k] == v for k, v in result["chosen"].items())
        rows.append([_label(sc) + (" **(chosen)**" if chosen else ""),
                     *(float({str(k): v for k, v in sc["tau_by_size"].items()}[str(n)]) for n in sizes),
                     float(sc["mean_tau"]), sc["options_hash"]])
    text = [
        f"### {result['predictor']}: defaults selected on {result['validation']}",
        "",
        f"`{command}`. Kendall τ-b on the training metric (`{result['metric']}`) of the validation cells; the "
        f"fits saw a task whose every column is NaN outside the training and validation cells, so no test cell "
        f"was read. Fit seeds {result['seeds']}; the candidate with the best mean τ over the sizes wins (ties: "
        f"the smaller step budget). Options of every other kind: the predictor's defaults"
        + (f" with {result['base_options']}" if result["base_options"] else "")
        + f". Commit `{result['commit'] or 'none'}`, nasearch {result['version']}, grid hash `{result['grid_hash']}`.",
        "",
        markdown_table(["candidate", *(f"validation τ @ {n}" for n in sizes), "mean", "options hash"], rows),
    ]
    if result.get("test_once"):
        test_rows = [[r["train_size"], r["seed"], PAPER_NB201.get(int(r["train_size"]), ""), float(r["kendall_tau"]),
                      float(r["kendall_tau_unseen"]), f"{r['n_test']:,} / {r['n_unseen']:,}", r["options_hash"]]
                     for r in result["test_once"]]
        text += ["", "The chosen setting, frozen, scored once on the test cells (paper protocol: train on the first N "
                 "cells, the next 1024 are the validation block and leave the test set; test metric "
                 "`cifar10/test_accuracy`). *all cells*: every cell but the validation block (the paper's "
                 "protocol, training cells included, but 1024 fewer cells than the paper's 15,625); *unseen*: "
                 "cells outside training and validation. Its options hash differs from the chosen candidate's only "
                 "in protocol, test metric and validation size.", "",
                 markdown_table(["train cells", "fit seed", "NN-Former paper τ", "τ, all cells", "τ, unseen cells",
                                 "cells (all / unseen)", "options hash"], test_rows)]
    return "\n".join(text)


def command_of(result: dict[str, Any], out: Path) -> str:
    """The invocation that produced ``result``, rebuilt from what it recorded."""
    def values(key: str) -> str:
        return ",".join(dict.fromkeys(str(sc[key]).lower() for sc in result["scores"]))

    parts = [f"--predictor {result['predictor']}", f"--procedure {result['procedure']}",
             f"--sizes {','.join(map(str, result['sizes']))}", f"--seeds {','.join(map(str, result['seeds']))}",
             f"--max-steps {values('max_steps')}", f"--rank-weights {values('rank_weight')}",
             f"--pruned {values('prune_graph')}"]
    if result.get("test_once"):
        parts.append("--score-test")
    return "python -m benchmarks.select_defaults " + " ".join(parts) + f" --out {out}"


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--predictor", default="nnformer")
    parser.add_argument("--procedure", choices=("validation", "cv"), default="validation")
    parser.add_argument("--sizes", default="156,469")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--max-steps", default="4000,16000")
    parser.add_argument("--rank-weights", default="0.2,1")
    parser.add_argument("--pruned", default="true,false")
    parser.add_argument("--block", type=int, default=PAPER_BLOCK, help="validation cells after the training block")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--score-test", action="store_true", help="then score the chosen setting once on test cells")
    parser.add_argument("--out", default="runs/out/select_defaults/nnformer_nb201.json")
    parser.add_argument("--render", action="store_true", help="no fits: write the BENCHMARKS.md section of --out")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.render:
        from benchmarks.report import write_section

        result = json.loads(out.read_text())
        write_section(f"select_defaults:{out.stem}", report(result, result.get("command") or command_of(result, out)))
        return 0
    import torch

    torch.set_num_threads(1)
    git_commit()  # read now: later edits to the tree do not relabel this run
    sizes = [int(x) for x in _floats(args.sizes)]
    seeds = [int(x) for x in _floats(args.seeds)]
    pruned = [p.strip().lower() in ("1", "true", "yes") for p in args.pruned.split(",") if p.strip()]
    grid = candidates([int(x) for x in _floats(args.max_steps)], _floats(args.rank_weights), pruned)
    result = select(args.predictor, grid, sizes, seeds, args.procedure, args.block, args.folds,
                    out_dir=out.parent / out.stem)
    import sys

    result["command"] = "python -m benchmarks.select_defaults " + " ".join(argv if argv is not None else sys.argv[1:])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result["chosen"]), f"-> {out}")
    if args.score_test:
        rows = score_test(result, sizes, seeds, out.parent / out.stem, args.block)
        result["test_once"] = [{k: r[k] for k in ("train_size", "seed", "kendall_tau", "kendall_tau_unseen",
                                                  "n_test", "n_unseen", "options_hash")} for r in rows]
        out.write_text(json.dumps(result, indent=2))
    from benchmarks.report import write_section

    write_section(f"select_defaults:{out.stem}", report(result, result["command"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
