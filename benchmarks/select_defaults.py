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
``--score-test`` then scores the chosen setting, frozen, on the test cells: at ``--test-sizes`` x
``--test-seeds`` (default: the selection's) under each of ``--test-protocols`` (``paper``, ``random``).
``--frozen`` reads the choice from ``--out`` instead of selecting again, so the test grid can grow
without a new selection; a row already measured with the same options hash, size and seed (in the
JSON or in its results.csv) is reused, never refitted.

    python -m benchmarks.select_defaults --frozen --score-test --test-sizes 156,469,781,1563 \
        --test-seeds 0,1,2 --test-protocols paper,random --out runs/out/select_defaults/nnformer_nb201_pruned.json

``--rebuild-json`` writes ``--out`` back from its BENCHMARKS.md section (taus rounded as printed) when
the JSON itself is lost.
"""

from __future__ import annotations

import argparse
import ast
import itertools
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nasearch.api.errors import ConfigError
from nasearch.compare import (
    CompareConfig,
    Split,
    Task,
    build_task,
    register_protocol,
    row_options,
    run_compare,
)
from nasearch.data.provenance import git_commit, options_hash, package_version

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


def candidates(max_steps: Sequence[int], rank_weights: Sequence[float],
               pruned: Sequence[bool | None]) -> list[dict[str, Any]]:
    """The grid: every combination, as ``{"max_steps", "rank_weight", "prune_graph"}`` (``prune_graph``
    None: a space without that option, e.g. NB101)."""
    return [{"max_steps": int(s), "rank_weight": float(r), "prune_graph": None if p is None else bool(p)}
            for p, s, r in itertools.product(pruned, max_steps, rank_weights)]


def _label(c: dict[str, Any]) -> str:
    cells = {True: " pruned", False: " 8-node", None: ""}[c.get("prune_graph")]
    return f"steps={c['max_steps']} rank={c['rank_weight']:g}{cells}"


def _space_options(prune: bool | None) -> dict[str, Any]:
    return {} if prune is None else {"prune_graph": prune}


def measure(config: CompareConfig, label: str, spec: tuple[str, dict[str, Any]], cell_dir: Path, task: Task,
            log: Any = print) -> list[dict[str, Any]]:
    """The rows of one predictor at ``config``'s one size and seed (one per split, e.g. per CV fold), in
    ``cell_dir/results.csv``: read back when that file holds rows of the same options hash, else fitted."""
    want = options_hash(row_options(config, spec[0], spec[1]))
    old = [r for r in _csv_rows(cell_dir / "results.csv") if r.get("options_hash") == want and r["predictor"] == label]
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
            tasks[prune] = build_task(CompareConfig(name="select", sizes=[2], predictors={"x": {}}, space=space,
                                                    space_options=_space_options(prune)))
        task = VisibleTask(tasks[prune], visible)
        folder = out_dir / f"{procedure}_{ {True: 'pruned', False: 'full', None: 'cells'}[prune]}"
        for c in (c for c in grid if c["prune_graph"] == prune):
            spec = (predictor, {**(base_options or {}), "max_steps": c["max_steps"], "rank_weight": c["rank_weight"]})
            rows = []
            for size, seed in itertools.product(sizes, seeds):
                config = CompareConfig(name=f"select_{predictor}", sizes=[size], seeds=[seed],
                                       predictors={_label(c): spec[1]}, protocol=protocol, space=space,
                                       train_metric=train_metric, threads=1, space_options=_space_options(prune),
                                       protocol_options={"block": block} if procedure == "validation" else {"folds": folds})
                digest = options_hash(row_options(config, predictor, spec[1]))
                rows += measure(config, _label(c), spec, folder / f"n{size}_seed{seed}_{digest}", task, log)
            by_size = {int(n): float(np.mean([float(r["kendall_tau"]) for r in rows if int(r["train_size"]) == n]))
                       for n in sizes}
            scores.append({**c, "mean_tau": float(np.mean([float(r["kendall_tau"]) for r in rows])),
                           "tau_by_size": by_size, "options_hash": rows[0]["options_hash"]})
    best = max(scores, key=lambda s: (round(s["mean_tau"], 4), -s["max_steps"]))
    chosen = {k: best[k] for k in ("max_steps", "rank_weight", "prune_graph")}
    return {
        "predictor": predictor, "chosen": chosen, "procedure": procedure,
        "validation": (f"the {block} cells after the training block" if procedure == "validation"
                       else f"{folds}-fold cross-validation on the training cells"),
        "space": space, "metric": train_metric, "sizes": list(sizes), "seeds": list(seeds),
        "base_options": base_options or {}, "scores": scores,
        "grid_hash": options_hash({"grid": grid, "sizes": list(sizes), "seeds": list(seeds), "procedure": procedure,
                                   **({"space": space} if space != "nasbench201" else {})}),
        "version": package_version(), "commit": git_commit(),
    }  # fmt: skip


#: the columns a frozen-choice test row keeps (in the JSON, under ``frozen[protocol]``)
FROZEN_KEYS = ("protocol", "train_size", "seed", "kendall_tau", "kendall_tau_unseen", "n_test", "n_unseen",
               "fit_seconds", "options_hash", "commit")


def frozen_config(result: dict[str, Any], protocol: str, size: int, seed: int,
                  block: int = PAPER_BLOCK) -> tuple[CompareConfig, dict[str, Any]]:
    """The compare config and predictor options that score ``result``'s frozen choice at one size and
    seed on ``protocol``'s test cells (``block`` validation cells, disjoint from them, pick the checkpoint)."""
    chosen = result["chosen"]
    options = {**result["base_options"], "max_steps": chosen["max_steps"], "rank_weight": chosen["rank_weight"]}
    config = CompareConfig(name="selected_test", sizes=[size], seeds=[seed], predictors={"selected": options},
                           protocol=protocol, space=result.get("space", "nasbench201"),
                           train_metric=result.get("metric", TRAIN_METRIC),
                           test_metric=result.get("test_metric", TEST_METRIC), threads=1, validation_size=block,
                           space_options=_space_options(chosen["prune_graph"]),
                           test_subsample=result.get("test_subsample"))
    return config, options


def _known_row(rows: list[dict[str, Any]], want: str, size: int, seed: int) -> dict[str, Any] | None:
    """The row of ``rows`` measured with options hash ``want`` at ``size`` and ``seed``, if any."""
    for r in rows:
        if str(r.get("options_hash")) == want and int(r["train_size"]) == size and int(r["seed"]) == seed:
            return r
    return None


def _csv_rows(path: Path) -> list[dict[str, Any]]:
    import csv

    if not path.exists():
        return []
    with path.open() as fh:
        return list(csv.DictReader(fh))


def _frozen_row(row: dict[str, Any], protocol: str, commit: str = "") -> dict[str, Any]:
    """``row`` (a run_compare row, a results.csv row or a legacy ``test_once`` row) as FROZEN_KEYS, typed."""
    def num(key: str, cast: Any) -> Any:
        value = row.get(key, "")
        return cast(value) if value not in ("", None) else None

    return {"protocol": protocol, "train_size": num("train_size", int), "seed": num("seed", int),
            "kendall_tau": num("kendall_tau", float), "kendall_tau_unseen": num("kendall_tau_unseen", float),
            "n_test": num("n_test", int), "n_unseen": num("n_unseen", int),
            "fit_seconds": num("fit_seconds", float), "options_hash": str(row["options_hash"]),
            "commit": str(row.get("commit") or commit)}


def score_frozen(
    result: dict[str, Any],
    protocol: str,
    sizes: Sequence[int],
    seeds: Sequence[int],
    out_dir: Path,
    block: int = PAPER_BLOCK,
    task: Task | None = None,
    log: Any = print,
    on_row: Any = None,
) -> list[dict[str, Any]]:
    """Score ``result``'s frozen choice on ``protocol``'s test cells at every size and seed (seed-major,
    so a stopped run has every size at its first seeds); one fit per (size, seed) into
    ``out_dir/frozen_<protocol>/n<size>_seed<seed>/results.csv``. A row already measured with the same
    options hash, size and seed (``result['frozen']``, the legacy ``test_once`` rows, that results.csv)
    is reused, not refitted. ``on_row(row)`` is called as each row lands."""
    known = list(result.get("frozen", {}).get(protocol, []))
    if protocol == "paper":  # the first --score-test scored the paper protocol, under this key
        known += [_frozen_row(r, protocol, result.get("commit") or "") for r in result.get("test_once", [])]
    rows = []
    for seed in seeds:
        for size in sizes:
            config, options = frozen_config(result, protocol, size, seed, block)
            want = options_hash(row_options(config, result["predictor"], options))
            cell_dir = out_dir / f"frozen_{protocol}" / f"n{size}_seed{seed}"
            row = _known_row(known, want, size, seed)
            if row is None:
                found = _known_row(_csv_rows(cell_dir / "results.csv"), want, size, seed)
                row = None if found is None else _frozen_row(found, protocol)
            if row is not None:
                log(f"{protocol} n={size} seed={seed}: reusing the row measured at commit {row['commit']} ({want})")
            else:
                if task is None:
                    task = build_task(config)
                (fitted,) = run_compare(config, {"selected": (result["predictor"], options)}, cell_dir, task, log=log)
                row = _frozen_row(fitted, protocol)
            rows.append(row)
            if on_row is not None:
                on_row(row)
    return rows


def save_frozen_row(path: Path, row: dict[str, Any], command: str) -> None:
    """Add ``row`` to the JSON at ``path`` under ``frozen[protocol]`` (replacing one of the same hash, size
    and seed), re-reading the file first so that runs of other protocols writing it keep their rows."""
    result = json.loads(path.read_text())
    protocol = row["protocol"]
    rows = [r for r in result.setdefault("frozen", {}).get(protocol, [])
            if (r["options_hash"], r["train_size"], r["seed"]) != (row["options_hash"], row["train_size"], row["seed"])]
    result["frozen"][protocol] = sorted(rows + [row], key=lambda r: (r["train_size"], r["seed"]))
    result.setdefault("frozen_commands", {})[protocol] = command
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=2))
    tmp.replace(path)


#: NN-Former paper, NB201 paper protocol (the sizes it reports)
PAPER_NB201 = {156: 0.804, 469: 0.860, 781: 0.879, 1563: 0.890}
#: NN-Former paper, NB101 paper protocol
PAPER_NB101 = {172: 0.765, 424: 0.809, 4236: 0.877}
#: space -> (the paper's numbers, cells it scores)
PAPER = {"nasbench201": (PAPER_NB201, "15,625"), "nasbench101": (PAPER_NB101, "423,624")}


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
        *(["", f"Space `{result['space']}`. Its table has one accuracy column (`{result['metric']}`): training, "
               "validation and test read the same column, on disjoint cells (the selection saw only the training "
               "cells and the validation block; the *unseen* column below scores cells outside both)."]
          if result.get("space", "nasbench201") != "nasbench201" and result.get("test_metric") == result["metric"]
          else []),
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
    for protocol, rows in sorted(result.get("frozen", {}).items(), key=lambda kv: kv[0] != "paper"):
        table = frozen_table(rows, protocol, result.get("frozen_commands", {}).get(protocol, ""),
                             result.get("space", "nasbench201"), result.get("test_metric", TEST_METRIC))
        if result.get("test_subsample"):
            table = table.replace(" τ: Kendall", f" The test cells are a seeded {result['test_subsample']:,}-cell "
                                  "subset of those. τ: Kendall", 1)
        text += ["", table]
    return "\n".join(text)


#: what each protocol's frozen-choice table says about its cells
PROTOCOL_TEXT = {
    "paper": ("paper protocol: train on the first N cells in official index order; the next 1024 cells pick the "
              "checkpoint and leave the test set; the seed varies only the fit. *all cells*: every cell but the "
              "validation block (the paper's protocol keeps the training cells in the test set); *unseen*: cells "
              "outside training and validation"),
    "random": ("random protocol: N training cells and 1024 validation cells (the checkpoint) drawn at random with the "
               "seed, which varies both the cells and the fit; the test set is every other cell, so *all cells* and "
               "*unseen* are the same cells"),
}


def _mean_sd(values: list[float]) -> str:
    """``mean ± sd`` to 3 decimals (sample sd, n-1; just the value for one seed)."""
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{np.mean(values):.3f} ± {np.std(values, ddof=1):.3f}"


def frozen_table(rows: list[dict[str, Any]], protocol: str, command: str = "", space: str = "nasbench201",
                 test_metric: str = TEST_METRIC) -> str:
    """One protocol's test τ of the frozen choice: per options hash and size, mean ± sd over the seeds
    measured, beside the NN-Former paper's number (its paper protocol), with the rows' commits."""
    from benchmarks.report import markdown_table

    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in sorted(rows, key=lambda r: (r["options_hash"], r["train_size"], r["seed"])):
        groups.setdefault((r["options_hash"], int(r["train_size"])), []).append(r)
    table = []
    for (digest, size), group in groups.items():
        unseen = [float(r["kendall_tau_unseen"]) for r in group if r["kendall_tau_unseen"] is not None]
        fit = [float(r["fit_seconds"]) for r in group if r.get("fit_seconds") is not None]
        table.append([size, PAPER.get(space, ({}, ""))[0].get(size, ""), _mean_sd([float(r["kendall_tau"]) for r in group]),
                      _mean_sd(unseen) if unseen else "-",
                      ",".join(f"{r['seed']}{'' if r.get('fit_seconds') is not None else '*'}" for r in group),
                      f"{np.mean(fit):.0f}" if fit else "-", f"{group[0]['n_test']:,} / {group[0]['n_unseen']:,}",
                      digest, ", ".join(dict.fromkeys(f"`{r['commit']}`" for r in group))])
    cells = PAPER.get(space, ({}, "the space's"))[1]
    head = (f"**Frozen choice, {protocol} protocol** ({PROTOCOL_TEXT.get(protocol, protocol)}; test metric "
            f"`{test_metric}`). τ: Kendall τ-b, mean ± sample sd over the fit seeds listed. The NN-Former paper's "
            f"numbers are for its paper protocol, on all {cells} cells." + (f" `{command}`." if command else ""))
    if any(r.get("fit_seconds") is None for r in rows):
        head += (" *: a row of the first `--score-test` (the selection's run and commit), reused: its τ as that "
                 "section printed it (3 decimals), no fit time recorded; fit s is the mean of the other seeds.")
    return head + "\n\n" + markdown_table(
        ["train cells", "NN-Former paper τ", "τ, all cells", "τ, unseen cells", "fit seeds", "fit s (mean)",
         "cells (all / unseen)", "options hash", "commit"], table)


def command_of(result: dict[str, Any], out: Path) -> str:
    """The invocation that produced ``result``, rebuilt from what it recorded."""
    def values(key: str) -> str:
        return ",".join(dict.fromkeys(str(sc[key]).lower() for sc in result["scores"]))

    parts = [f"--predictor {result['predictor']}", f"--procedure {result['procedure']}",
             *([f"--space {result['space']}"] if result.get("space", "nasbench201") != "nasbench201" else []),
             f"--sizes {','.join(map(str, result['sizes']))}", f"--seeds {','.join(map(str, result['seeds']))}",
             f"--max-steps {values('max_steps')}", f"--rank-weights {values('rank_weight')}",
             f"--pruned {values('prune_graph')}"]
    if result.get("test_once"):
        parts.append("--score-test")
    return "python -m benchmarks.select_defaults " + " ".join(parts) + f" --out {out}"


def _table(lines: list[str], first: str) -> list[list[str]]:
    """The body cells of the markdown table whose header row starts with ``| first |``."""
    for i, line in enumerate(lines):
        if line.startswith(f"| {first} |"):
            body = itertools.takewhile(lambda x: x.startswith("|"), lines[i + 2:])
            return [[c.strip() for c in row.strip().strip("|").split("|")] for row in body]
    return []


def result_from_section(text: str) -> dict[str, Any]:
    """A selection result read back from its BENCHMARKS.md section (what ``report`` wrote; taus as
    printed, to 3 decimals): for when the JSON is lost. The choice is the row marked chosen."""
    lines = text.strip().splitlines()
    heading = re.match(r"### (\S+): defaults selected on (.+)$", lines[0])
    meta = re.search(r"^`(python -m benchmarks\.select_defaults [^`]*)`\..*Fit seeds (\[[^]]*\]).*predictor's "
                     r"defaults( with (\{.*\}))?\. Commit `([^`]*)`, nasearch (\S+), grid hash `([^`]*)`", text, re.M)
    if heading is None or meta is None:
        raise ConfigError("not a select_defaults section: its heading or provenance line is missing")
    header = next(line for line in lines if line.startswith("| candidate |"))
    sizes = [int(x) for x in re.findall(r"validation τ @ (\d+)", header)]
    scores, chosen = [], None
    for cells in _table(lines, "candidate"):
        m = re.match(r"steps=(\d+) rank=(\S+?)( pruned| 8-node)?( \*\*\(chosen\)\*\*)?$", cells[0])
        if m is None:
            raise ConfigError(f"unreadable candidate {cells[0]!r}")
        c = {"max_steps": int(m[1]), "rank_weight": float(m[2]), "prune_graph": m[3] and m[3] == " pruned"}
        chosen = dict(c) if m[4] else chosen
        scores.append({**c, "mean_tau": float(cells[-2]), "options_hash": cells[-1],
                       "tau_by_size": {str(n): float(v) for n, v in zip(sizes, cells[1:-2])}})
    if chosen is None:
        raise ConfigError("no candidate is marked chosen")
    validation = heading[2]
    block = re.match(r"the (\d+) cells after", validation)
    folds = re.match(r"(\d+)-fold", validation)
    result = {
        "predictor": heading[1], "chosen": chosen, "procedure": "validation" if block else "cv",
        "validation": validation, "metric": TRAIN_METRIC, "sizes": sizes, "seeds": ast.literal_eval(meta[2]),
        "base_options": ast.literal_eval(meta[4]) if meta[4] else {}, "scores": scores, "grid_hash": meta[7],
        "version": meta[6], "commit": meta[5], "command": meta[1],
        "rebuilt_from": "its BENCHMARKS.md section (taus to 3 decimals)",
    }  # fmt: skip
    if folds:
        result["folds"] = int(folds[1])
    test_rows = _table(lines, "train cells | fit seed")
    if test_rows:
        result["test_once"] = [
            {"train_size": int(r[0]), "seed": int(r[1]), "kendall_tau": float(r[3]), "kendall_tau_unseen": float(r[4]),
             "n_test": int(r[5].split("/")[0].replace(",", "")), "n_unseen": int(r[5].split("/")[1].replace(",", "")),
             "options_hash": r[6]} for r in test_rows]
    return result


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--predictor", default="nnformer")
    parser.add_argument("--space", default="nasbench201", help="an enumerable space with tables (nasbench101)")
    parser.add_argument("--train-metric", default=TRAIN_METRIC, help="what the fits train and validate on")
    parser.add_argument("--test-metric", default=TEST_METRIC, help="what --score-test scores (kept in the JSON)")
    parser.add_argument("--test-subsample", type=int, help="score on a seeded subset of this many test cells")
    parser.add_argument("--procedure", choices=("validation", "cv"), default="validation")
    parser.add_argument("--sizes", default="156,469")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--max-steps", default="4000,16000")
    parser.add_argument("--rank-weights", default="0.2,1")
    parser.add_argument("--pruned", default="true,false", help="'none' for a space without the option (NB101)")
    parser.add_argument("--block", type=int, default=PAPER_BLOCK, help="validation cells after the training block")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--score-test", action="store_true", help="then score the chosen setting, frozen, on test cells")
    parser.add_argument("--frozen", action="store_true", help="read the choice from --out instead of selecting")
    parser.add_argument("--test-sizes", help="training sizes of --score-test (default: --sizes)")
    parser.add_argument("--test-seeds", help="fit seeds of --score-test (default: --seeds)")
    parser.add_argument("--test-protocols", default="paper", help="comma-separated: paper, random")
    parser.add_argument("--out", default="runs/out/select_defaults/nnformer_nb201.json")
    parser.add_argument("--render", action="store_true", help="no fits: write the BENCHMARKS.md section of --out")
    parser.add_argument("--rebuild-json", action="store_true",
                        help="no fits: write --out back from its BENCHMARKS.md section (when the JSON is lost)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    section = f"select_defaults:{out.stem}"
    from benchmarks.report import BENCHMARKS_MD, write_section

    if args.rebuild_json:
        text = BENCHMARKS_MD.read_text()
        match = re.search(rf"<!-- begin {re.escape(section)} -->\n(.*?)<!-- end {re.escape(section)} -->", text, re.S)
        if match is None:
            raise ConfigError(f"no section {section!r} in {BENCHMARKS_MD}")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result_from_section(match[1]), indent=2))
        print(f"{section} -> {out}")
        return 0
    if args.render:
        result = json.loads(out.read_text())
        write_section(section, report(result, result.get("command") or command_of(result, out)))
        return 0
    import sys

    import torch

    torch.set_num_threads(1)
    git_commit()  # read now: later edits to the tree do not relabel this run
    command = "python -m benchmarks.select_defaults " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.frozen:
        if not out.exists():
            raise ConfigError(f"--frozen reads the choice from {out}, which does not exist (select first)")
        result = json.loads(out.read_text())
    else:
        sizes = [int(x) for x in _floats(args.sizes)]
        seeds = [int(x) for x in _floats(args.seeds)]
        pruned = [None if p.strip().lower() == "none" else p.strip().lower() in ("1", "true", "yes")
                  for p in args.pruned.split(",") if p.strip()]
        grid = candidates([int(x) for x in _floats(args.max_steps)], _floats(args.rank_weights), pruned)
        result = select(args.predictor, grid, sizes, seeds, args.procedure, args.block, args.folds,
                        out_dir=out.parent / out.stem, space=args.space, train_metric=args.train_metric)
        # how the frozen choice will be scored is fixed with it
        result.update(command=command, test_metric=args.test_metric, test_subsample=args.test_subsample)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2))
        print(json.dumps(result["chosen"]), f"-> {out}")
    if args.score_test:
        test_sizes = [int(x) for x in _floats(args.test_sizes or ",".join(map(str, result["sizes"])))]
        test_seeds = [int(x) for x in _floats(args.test_seeds or ",".join(map(str, result["seeds"])))]
        for protocol in [p.strip() for p in args.test_protocols.split(",") if p.strip()]:
            score_frozen(result, protocol, test_sizes, test_seeds, out.parent / out.stem, args.block,
                         on_row=lambda row: save_frozen_row(out, row, command))
    result = json.loads(out.read_text())  # with the rows of runs of other protocols writing it too
    write_section(section, report(result, result.get("command") or command_of(result, out)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
