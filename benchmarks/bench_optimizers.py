"""Optimizer comparison on a lookup benchmark: queries until the global optimum (found within the
budget, restricted mean, and the mean and median from each optimizer's longest pass), incumbent test
accuracy at 50/100/150 queries, loop overhead per query and surrogate fit time per round.

    python -m benchmarks.bench_optimizers                       # runs/compare_optimizers_nb201.yaml
    python -m benchmarks.bench_optimizers --peers               # ours and the peer libraries, one run
    python -m benchmarks.bench_optimizers --seeds 5 --long-queries 0
    python -m benchmarks.bench_optimizers --config runs/nb201_cifar100.yaml --seeds 5
    python -m benchmarks.bench_optimizers --seeds 20 --first-seed 300 --peers --chunk 5 --tag peers --freeze
    python -m benchmarks.bench_optimizers --seeds 20 --first-seed 300 --peers --chunk 5 --tag peers --frozen

Pass 1 runs the config as ``nasearch run`` would (all its optimizers in one run, SQLite
tracking); with ``--peers`` the peer libraries' searchers (``benchmarks.peers.PEERS``) join that
run as optimizers of their own, on the same table, seeds and budget. Pass 2 (``--long-queries``)
reruns the model-free optimizers with a long budget and in-memory tracking, so that their
queries-to-optimum (regularized evolution's is every ratio's denominator) are measured rather
than censored.

With ``--chunk N`` the seeds run N at a time, each chunk in its own folder: a stopped run keeps
the chunks it finished, a rerun skips them, and ``--render`` builds the tables from whatever
finished. ``--freeze`` writes the invocation (the resolved config with every ``--set`` and flag,
seeds and peers included) and its hash to ``runs/frozen/<section>.json`` and stops; commit it,
then ``--frozen`` refuses a dirty tree or any invocation that hashes otherwise
(``benchmarks.freeze``). Every chunk's options hash must agree, or the tables are refused; the
section records the runs' commits beside the one it is written at (``report.write_section``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from benchmarks.freeze import check_frozen, freeze_path, write_freeze
from benchmarks.report import machine_line, markdown_table, write_section
from benchmarks.stats import bootstrap_ratio, bounded_ratio, censor, median_queries, restricted_mean
from benchmarks.stats import mean_sd as _mean_sd
from nasearch.config.run_schema import load_run_config
from nasearch.curves import load_run, queries_to_optimum, trajectory
from nasearch.data.provenance import git_commit
from nasearch.search.loop import run

CHEAP = ("random", "evolution", "local_search")


#: the reference every ratio divides by
REFERENCE = "evolution"


def searched_on(metric: str) -> str:
    """What a search metric is, for the table's rows: a validation column, or the test column itself
    (then the best value found is an optimisation benchmark, not a held-out accuracy)."""
    leaf = metric.rsplit("/", 1)[-1].lower()
    if "test" in leaf:
        return f"test (`{metric}`): an optimisation benchmark, not a held-out accuracy"
    return f"validation (`{metric}`)"


def _passes(
    hits: dict[str, dict[int, int | None]],
    long_hits: dict[str, dict[int, int | None]],
    budget: int,
    long_budget: int,
) -> dict[str, tuple[list[int | None], int]]:
    """Per optimizer: its queries to the optimum per seed from its longest pass, and that pass's cap."""
    out: dict[str, tuple[list[int | None], int]] = {}
    seeds = sorted(hits[REFERENCE]) if REFERENCE in hits else []
    for label, per_seed in hits.items():
        longer = long_hits.get(label)
        source, cap = (longer, long_budget) if longer and long_budget > budget else (per_seed, budget)
        if sorted(source) != seeds:
            raise ValueError(f"{label} ran seeds {sorted(source)}, {REFERENCE} {seeds}: not paired")
        out[label] = ([source[s] for s in seeds], cap)
    return out


def search_rows(
    hits: dict[str, dict[int, int | None]],
    long_hits: dict[str, dict[int, int | None]],
    budget: int,
    long_budget: int,
    n_boot: int = 10_000,
) -> list[list[object]]:
    """One row per optimizer that a reader can recompute every ratio from (``REFERENCE``'s row holds
    each denominator, and its ratios are exactly 1.00):

    - found within the budget, the restricted mean of min(queries to the optimum, budget) (exact for
      every optimizer, a seed that did not find it counting as the budget) and its ratio to the
      reference's, from the budget pass (``hits``);
    - the longest pass the optimizer had (``long_hits`` where it has one, of ``long_budget``
      queries), found within it, its mean queries to the optimum (exact when every seed found it,
      else "≥", the restricted mean at that pass's cap), its median ("> cap" when beyond it) and
      the ratio of means to the reference's: "≥" when only this row is censored, "≤" when only the
      reference is, "—" when both are.

    Brackets are paired bootstrap 95 % intervals over seeds. Empty without a reference row."""
    if REFERENCE not in hits:
        return []
    seeds = sorted(hits[REFERENCE])
    passes = _passes(hits, long_hits, budget, long_budget)
    ref_budget = censor([hits[REFERENCE][s] for s in seeds], budget)
    ref_hits, ref_cap = passes[REFERENCE]
    ref_cut = any(h is None for h in ref_hits)
    ref_long = censor(ref_hits, ref_cap)
    rows: list[list[object]] = []
    for label, per_seed in hits.items():
        at_budget = [per_seed[s] for s in seeds]
        values, cap = passes[label]
        cut = any(h is None for h in values)
        restricted = censor(at_budget, budget)
        ratio_budget = bootstrap_ratio(restricted, ref_budget, n_boot=n_boot)
        longest = censor(values, cap)
        ratio_mean = bounded_ratio(longest, ref_long, cut, ref_cut, n_boot=n_boot)
        median = median_queries(values, cap)
        rows.append(
            [
                label,
                f"{sum(h is not None for h in at_budget)}/{len(seeds)}",
                f"{restricted_mean(at_budget, budget):.1f}",
                str(ratio_budget),
                str(cap),
                f"{sum(h is not None for h in values)}/{len(seeds)}",
                f"{'≥ ' if cut else ''}{restricted_mean(values, cap):.1f}",
                f"> {cap}" if median is None else f"{median:g}",
                ratio_mean,
            ]
        )
    return rows


def search_figures(studies: list[Any], checkpoints: list[int]) -> tuple[dict[int, int | None], list[str]]:
    """One optimizer's studies: its queries to the optimum per seed and the incumbent's test value
    (mean ± sd over seeds) at each checkpoint. A search stopped at the optimum (``budget.stop_at_optimum``)
    reads as run to its budget: its incumbent cannot change after it (``nasearch.curves.trajectory``)."""
    hits = {s.seed: queries_to_optimum(s) for s in studies}
    paths = [trajectory(s) for s in studies]
    tests = [
        _mean_sd([t["incumbent_test"][q - 1] for t in paths if len(t["query"]) >= q]) for q in checkpoints
    ]
    return hits, tests


#: rows of ours that run a peer library's own algorithm (nasearch's ``optuna`` optimizer wraps Optuna's sampler)
LIBRARY_ROWS = ("optuna_tpe",)


def best_peer_rows(
    hits: dict[str, dict[int, int | None]],
    peers: list[str],
    budget: int,
    ours: str = "predictor_local_search",
    n_boot: int = 10_000,
) -> tuple[str, list[list[object]]]:
    """``ours`` against the best peer of the same run (the peer row with the lowest restricted mean @
    ``budget``; ties: the first listed), from the ``budget`` pass only, so both sides had the same
    queries: one row per statistic with ours, the peer's and ours ÷ the peer's [paired bootstrap 95 %
    CI]. The restricted mean is exact on both sides; the mean of ours is exact when every seed found
    it, the peer's is ≥ its restricted mean when one did not (the ratio is then ≤). The best peer's
    label and the rows; ("", []) when ``ours`` or every peer is missing."""
    present = [p for p in peers if p in hits]
    if ours not in hits or not present:
        return "", []
    seeds = sorted(hits[ours])
    for p in present:
        if sorted(hits[p]) != seeds:
            raise ValueError(f"{p} ran seeds {sorted(hits[p])}, {ours} {seeds}: not paired")
    mine = [hits[ours][s] for s in seeds]
    best = min(
        present, key=lambda p: (restricted_mean([hits[p][s] for s in seeds], budget), present.index(p))
    )
    theirs = [hits[best][s] for s in seeds]
    a, b = censor(mine, budget), censor(theirs, budget)
    mine_cut, theirs_cut = None in mine, None in theirs
    restricted = bootstrap_ratio(a, b, n_boot=n_boot)
    mean_ratio = bounded_ratio(a, b, mine_cut, theirs_cut, n_boot=n_boot)
    med_a, med_b = median_queries(mine, budget), median_queries(theirs, budget)
    return best, [
        [f"restricted mean @ {budget}", f"{a.mean():.1f}", f"{b.mean():.1f}", str(restricted)],
        [
            "mean",
            f"{'≥ ' if mine_cut else ''}{a.mean():.1f}",
            f"{'≥ ' if theirs_cut else ''}{b.mean():.1f}",
            mean_ratio,
        ],
        [
            "median",
            f"> {budget}" if med_a is None else f"{med_a:g}",
            f"> {budget}" if med_b is None else f"{med_b:g}",
            "",
        ],
        ["found", f"{a.size - mine.count(None)}/{a.size}", f"{b.size - theirs.count(None)}/{b.size}", ""],
    ]


def _best_peer_table(
    hits: dict[str, dict[int, int | None]],
    peers: list[str],
    budget: int,
    ours: str = "predictor_local_search",
) -> list[str]:
    """The best-peer comparison in markdown, with its legend (empty without peers)."""
    best, rows = best_peer_rows(hits, peers, budget, ours)
    if not rows:
        return []
    return [
        f"**Against the best peer** (`{best}`: of the peer rows {', '.join(f'`{p}`' for p in peers if p in hits)}, "
        f"the lowest restricted mean @ {budget}), from the {budget}-query run both had, so each ratio is this "
        f"table's two numbers beside it divided (paired bootstrap 95 % interval over seeds, 10,000 resamples; ≤ "
        "when only the peer's mean is censored, a seed that did not find the optimum counting as "
        f"{budget}).",
        "",
        markdown_table(["statistic", f"`{ours}`", f"`{best}`", "ours ÷ the peer's [95 % CI]"], rows),
        "",
    ]


SEARCH_HEADERS = [
    "optimizer",
    "found @ {budget}",
    "restricted mean queries @ {budget}",
    "÷ evolution's [95 % CI]",
    "longest pass (queries)",
    "found in it",
    "mean queries to optimum",
    "median queries",
    "mean ÷ evolution's [95 % CI]",
]


def _search_table(
    hits: dict[str, dict[int, int | None]],
    long_hits: dict[str, dict[int, int | None]],
    budget: int,
    long_budget: int,
    extra: dict[str, list[str]],
    extra_headers: list[str],
) -> list[str]:
    """The queries-to-optimum table in markdown, with its legend."""
    rows = search_rows(hits, long_hits, budget, long_budget)
    if not rows:
        return []
    return [
        f"**Queries to the optimum** (recomputable: each ratio is this row's number ÷ `{REFERENCE}`'s in the "
        "same column, whose own ratios are 1.00). *Restricted mean @ "
        f"{budget}*: the mean over seeds of min(queries to the optimum, {budget}), a seed that did not find it "
        f"counting as {budget}: exact for every row, the area under the Kaplan–Meier curve up to {budget}. "
        "*Mean queries to optimum*: from the row's longest pass (the model-free optimizers had a "
        f"{long_budget}-query pass; every other row its {budget}-query run); exact where every seed found the "
        "optimum, else ≥ (the restricted mean at that cap, a lower bound). Its ratio: ≥ when only this row "
        "is censored, ≤ when only the reference is, — when both are. *Median*: exact where the middle seeds "
        "found it. Brackets: paired bootstrap 95 % interval over seeds (10,000 resamples).",
        "",
        markdown_table(
            [h.format(budget=budget) for h in SEARCH_HEADERS] + extra_headers,
            [row + extra.get(str(row[0]), []) for row in rows],
        ),
        "",
    ]


def _chunks(seeds: list[int], size: int) -> list[list[int]]:
    if size <= 0:
        return [seeds]
    return [seeds[i : i + size] for i in range(0, len(seeds), size)]


def _reports(path: Path) -> list[Any]:
    return [SimpleNamespace(**d) for d in json.loads(path.read_text())]


def _trace(reports: list[Any], root: Path) -> dict[str, str]:
    """The options hash, commit(s) and version the runs recorded in summary.json; refuses runs made
    with different options, or that recorded none, in one table."""
    hashes = {getattr(r, "options_hash", "") for r in reports}
    if "" in hashes:
        raise SystemExit(f"runs under {root} recorded no options (legacy summary.json): rerun them")
    if len(hashes) > 1:
        raise SystemExit(
            f"the runs under {root} were made with different options (hashes {sorted(hashes)}): "
            "refusing to put them in one table; rerun the stale chunks"
        )
    commits = sorted({r.commit or "none" for r in reports})
    return {"options_hash": hashes.pop(), "commit": ", ".join(commits), "version": reports[0].version}


def _with_peers(cfg: Any, names: str) -> Any:
    """``cfg`` with the peer libraries' searchers appended as optimizers: every block of
    ``benchmarks.peers.PEERS`` (``names`` "all"), or those whose label ends with one of the
    comma-separated ``names`` (``bore,rea,tpe,botorch,smac_hpo``)."""
    from benchmarks.peers import PEERS
    from nasearch.config.run_schema import parse_run_config, to_dict

    wanted = [n.strip() for n in names.split(",") if n.strip()]
    peers = [p for p in PEERS if names == "all" or any(str(p["label"]).endswith(n) for n in wanted)]
    unknown = [n for n in wanted if names != "all" and not any(str(p["label"]).endswith(n) for p in PEERS)]
    if unknown or not peers:
        raise SystemExit(
            f"--peers: no peer {', '.join(unknown) or names!r} "
            f"(choose from all, {', '.join(str(p['label']) for p in PEERS)})"
        )
    data = to_dict(cfg)
    blocks = data["optimizer"] if isinstance(data["optimizer"], list) else [data["optimizer"]]
    data["optimizer"] = [*blocks, *peers]
    return parse_run_config(data, cfg.source)


def _invocation(cfg: Any, long_queries: int) -> dict[str, Any]:
    """What ``--freeze`` / ``--frozen`` hash: the resolved config (every ``--set`` and flag applied,
    seeds and peers included) and the long pass's budget."""
    from nasearch.config.run_schema import to_dict

    return {"config": to_dict(cfg), "long_queries": long_queries}


def _config(args: argparse.Namespace, overrides: list[str]) -> Any:
    cfg = load_run_config(args.config, overrides)
    return _with_peers(cfg, args.peers) if args.peers else cfg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="runs/compare_optimizers_nb201.yaml")
    parser.add_argument("--seeds", type=int, help="number of seeds (default: the config's)")
    parser.add_argument(
        "--first-seed", type=int, help="seeds FIRST .. FIRST + seeds - 1 (default: the config's)"
    )
    parser.add_argument("--queries", type=int, help="budget.queries (default: the config's)")
    parser.add_argument(
        "--long-queries", type=int, default=1000, help="budget of the model-free long pass (0: skip it)"
    )
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument(
        "--peers",
        nargs="?",
        const="all",
        default="",
        help="add the peer libraries' searchers to the run: all of benchmarks.peers.PEERS, "
        "or those named (comma-separated label endings, e.g. bore,rea,tpe,smac_hpo)",
    )
    parser.add_argument(
        "--worker",
        default="0/1",
        help="K/N: run only every N-th chunk from the K-th (N processes share the chunks; "
        "the last to finish, or --render, writes the section)",
    )
    parser.add_argument(
        "--chunk", type=int, default=0, help="run the seeds this many at a time (0: all in one run)"
    )
    parser.add_argument(
        "--tag", default="", help="a suffix for the output folder and the BENCHMARKS.md section"
    )
    parser.add_argument(
        "--freeze",
        action="store_true",
        help="write runs/frozen/<section>.json (the hashed invocation) and stop: commit it",
    )
    parser.add_argument(
        "--frozen",
        action="store_true",
        help="refuse a dirty tree or an invocation that differs from runs/frozen/<section>.json",
    )
    parser.add_argument("--render", action="store_true", help="no runs: tables from the chunks that finished")
    args = parser.parse_args()
    git_commit()  # read (and cached) now: edits to the tree during a long run do not relabel it

    overrides = list(args.overrides)
    if args.first_seed is not None:
        overrides.append(f"seeds=[{','.join(str(args.first_seed + i) for i in range(args.seeds or 1))}]")
    elif args.seeds:
        overrides.append(f"seeds={args.seeds}")
    if args.queries:
        overrides.append(f"budget.queries={args.queries}")
    cfg = _config(args, overrides)
    budget = int(cfg.budget.queries or 0)
    section = f"{cfg.name}_{args.tag}" if args.tag else cfg.name
    frozen_file = freeze_path(section)
    if args.freeze:
        digest = write_freeze(frozen_file, _invocation(cfg, args.long_queries))
        print(f"froze {section} as {digest} in {frozen_file}: commit it, then run with --frozen")
        return
    if args.frozen and not args.render:
        check_frozen(frozen_file, _invocation(cfg, args.long_queries))
    if args.peers:
        import benchmarks.peers  # noqa: F401  (imported now: edits during a long run do not change it)
    root = Path("runs/out") / f"bench_{section}"
    chunks = _chunks(list(cfg.seeds), args.chunk)
    worker, workers = (int(x) for x in args.worker.split("/"))
    long_blocks = [b for b in cfg.optimizers if b.name in CHEAP] if args.long_queries and budget else []
    load_at_start = os.getloadavg()[0]
    start = time.perf_counter()
    dirs: list[Path] = []
    for index, seeds in enumerate(chunks):
        out = root if len(chunks) == 1 else root / f"seeds_{seeds[0]}-{seeds[-1]}"
        done = out / "DONE"
        if args.render or done.exists() or index % workers != worker:
            if done.exists():
                dirs.append(out)
            continue
        shutil.rmtree(out, ignore_errors=True)
        chunk_cfg = _config(args, [*overrides, f"seeds=[{','.join(map(str, seeds))}]"])
        run(chunk_cfg, out, progress=False)
        if long_blocks:
            long_cfg = load_run_config(
                args.config,
                [
                    *overrides,
                    f"seeds=[{','.join(map(str, seeds))}]",
                    f"budget.queries={args.long_queries}",
                    "storage=memory",
                ],
            )
            long_cfg.optimizers = [b for b in long_cfg.optimizers if b.name in CHEAP]
            run(long_cfg, out / "long", progress=False)
        done.write_text(json.dumps({"seeds": seeds}))
        dirs.append(out)
        print(
            f"finished seeds {seeds[0]}-{seeds[-1]} ({(time.perf_counter() - start) / 60:.1f} min so far)",
            flush=True,
        )
    if workers > 1:  # the other workers' chunks may have finished while this one ran its own
        dirs = [d for d in (root / f"seeds_{c[0]}-{c[-1]}" for c in chunks) if (d / "DONE").exists()]
    if not dirs:
        raise SystemExit(f"no finished chunk under {root}: run without --render first")
    if workers > 1 and not args.render and len(dirs) < len(chunks):
        print(
            f"{len(dirs)} of {len(chunks)} chunks finished; the other workers' remain: --render when they end"
        )
        return
    wall = time.perf_counter() - start
    reports = [r for d in dirs for r in _reports(d / "summary.json")]
    trace = _trace(reports, root)
    studies = [s for d in dirs for s in load_run(d)]
    ran_seeds = sorted({r.seed for r in reports})
    from nasearch.curves import plot

    for s in studies:  # the chunks are one run whose seeds were split across folders: one line per optimizer
        s.folder = str(root)
    plot(studies, root)

    checkpoints = [q for q in (50, 100, 150) if q <= budget] or [budget]
    rows: list[list[object]] = []
    per_seed_hits: dict[str, dict[int, int | None]] = {}
    mo_rows: list[list[object]] = []
    labels = list(dict.fromkeys(r.label for r in reports))
    commits: dict[str, str] = {}
    for label in labels:
        rs = [r for r in reports if r.label == label]
        ss = [s for s in studies if s.label == label]
        per_seed_hits[label], tests = search_figures(ss, checkpoints)
        hits = list(per_seed_hits[label].values())
        commits[label] = ", ".join(f"`{c}`" for c in sorted({r.commit or "none" for r in rs}))
        fits = sum(r.surrogate_fits for r in rs)
        fit_round = sum(r.surrogate_fit_seconds for r in rs) / fits if fits else None
        overhead = float(
            np.mean([r.loop_overhead_per_query for r in rs if r.loop_overhead_per_query is not None])
        )
        tracking = sum(r.tracking_seconds for r in rs) / max(1, sum(r.queries - r.replayed for r in rs))
        surrogate_q = sum(r.surrogate_fit_seconds + r.surrogate_predict_seconds for r in rs) / max(
            1, sum(r.queries - r.replayed for r in rs)
        )
        if any(r.hypervolume is not None for r in rs):
            hv = [r.hypervolume for r in rs if r.hypervolume is not None]
            mo_rows.append(
                [
                    label,
                    _mean_sd(hv),
                    f"{np.mean([len(r.pareto_front) for r in rs]):.1f}",
                    f"{np.mean([r.wall_seconds for r in rs]):.1f}",
                ]
            )
        rows.append(
            [
                label,
                f"{sum(h is not None for h in hits)}/{len(hits)}",
                *tests,
                f"{overhead * 1000:.1f} ({tracking * 1000:.1f})",
                f"{surrogate_q:.3f}" if fits else "-",
                f"{fit_round:.2f}" if fit_round else "-",
                f"{np.mean([r.wall_seconds for r in rs]):.1f}",
                trace["options_hash"],
                commits[label],
            ]
        )
        print(rows[-1])
    s0 = studies[0]
    searched = searched_on(s0.objective)
    headers = [
        "optimizer",
        "found optimum",
        *[f"incumbent {s0.test_metric} @ {q}" for q in checkpoints],
        "loop overhead / query, ms (of it tracking)",
        "surrogate s / query",
        "surrogate fit s / round",
        "wall s / seed",
        "options hash",
        "commit",
    ]
    command = (
        f"`python -m benchmarks.bench_optimizers --config {args.config}"
        + (f" --seeds {args.seeds}" if args.seeds else "")
        + (f" --first-seed {args.first_seed}" if args.first_seed is not None else "")
        + (f" --queries {args.queries}" if args.queries else "")
        + "".join(f" --set '{o}'" for o in args.overrides)
        + (
            f" --peers {args.peers}"
            if args.peers and args.peers != "all"
            else " --peers"
            if args.peers
            else ""
        )
        + (f" --chunk {args.chunk}" if args.chunk else "")
        + (f" --tag {args.tag}" if args.tag else "")
        + (" --frozen" if args.frozen else "")
        + f" --long-queries {args.long_queries}`"
    )
    seed_text = (
        f"seeds {ran_seeds[0]}–{ran_seeds[-1]}"
        if ran_seeds == list(range(ran_seeds[0], ran_seeds[-1] + 1))
        else f"seeds {ran_seeds}"
    )
    frozen_text = ""
    if args.frozen and frozen_file.exists():
        frozen_text = (
            f" Frozen before the run as `{json.loads(frozen_file.read_text())['hash']}` "
            f"(`{frozen_file}`, the invocation with every override)."
        )
    md = [
        f"## Optimizers: {section}",
        "",
        machine_line(),
        (
            "_Tables rebuilt with `--render` from the finished chunks; the runs shared the 2 cores with other jobs, "
            "so wall times are noisy._"
            if args.render
            else f"_Load average {load_at_start:.1f} on the 2 cores when it started (other jobs share them), so wall "
            f"times are noisy. This invocation took {wall / 60:.1f} min._"
        ),
        "",
        f"{command}: {len(ran_seeds)} seeds ({seed_text}"
        + (
            f"; {len(cfg.seeds) - len(ran_seeds)} of the {len(cfg.seeds)} asked did not finish"
            if len(ran_seeds) < len(cfg.seeds)
            else ""
        )
        + f") × {budget} queries × {len(labels)} optimizers ({cfg.parallel.backend} backend, SQLite tracking). "
        f"Options hash `{trace['options_hash']}` (the resolved config, seeds aside), commit(s) of the runs "
        f"`{trace['commit']}`, "
        f"nasearch {trace['version']}.{frozen_text} **Searched on {searched}**"
        + (
            f" (optimum {s0.optimum:.2f}); the optimum counts as found when its cell or an "
            "isomorph (same `space.key`) is evaluated."
            if s0.optimum is not None
            else "."
        ),
        "± sd: the sample standard deviation (n − 1) over seeds.",
        "",
    ]
    if cfg.budget.stop_at_optimum:
        md += [
            "Every search (ours, the peers' and the long pass) stopped once it had evaluated the optimum "
            "(`budget.stop_at_optimum`): the tables read it as run to its budget, its incumbent being unable to "
            "change after the optimum (`tests/test_stop_at_optimum.py`), so every figure but the wall, overhead "
            "and surrogate times is what the full budget gives; those times cover the queries up to the optimum.",
            "",
        ]
    if searched.startswith("test"):
        md += [
            "This table has no validation column at the fidelity searched, so the search reads the test column "
            "itself: the incumbent's test accuracy is the best value found, **an optimisation benchmark, not a "
            "held-out accuracy**. For a held-out figure search a validation column instead (NB201's 12-epoch "
            "tables have one for every dataset: `--set evaluator.metric=<dataset>/valid_accuracy --set "
            "evaluator.fidelity=12`).",
            "",
        ]
    if args.peers:
        from benchmarks.peers import peer_legend

        md += [peer_legend(labels), ""]
    if mo_rows:
        meta = json.loads((dirs[0] / "run.json").read_text())
        names = ", ".join(f"`{m}` ({'max' if mx else 'min'})" for m, mx in meta["objectives"])
        md += [
            f"Objectives {names}; "
            f"hypervolume reference point {meta['reference_point']} (maximise-space: the median cell of the space).",
            "",
            markdown_table(["optimizer", "hypervolume", "Pareto front size", "wall s / seed"], mo_rows),
            "",
            "Single-objective view (first objective):",
            "",
        ]
    md += [markdown_table(headers, rows), ""]
    surrogate_blocks = [b for b in cfg.optimizers if "surrogate" in b.options]
    if surrogate_blocks:
        kinds = {json.dumps(b.options["surrogate"], sort_keys=True) for b in surrogate_blocks}
        named = (
            f"`{surrogate_blocks[0].options['surrogate']}`"
            if len(kinds) == 1
            else "; ".join(f"`{b.label or b.name}`: `{b.options['surrogate']}`" for b in surrogate_blocks)
        )
        md.append(
            f"Surrogate: {named}; loop overhead excludes surrogate fit and "
            "predict time and evaluation time; it includes asking, de-duplication and the committed SQLite write."
        )
        md.append("")

    long_hits: dict[str, dict[int, int | None]] = {}
    run_commits = [c.strip() for c in trace["commit"].split(",")]
    if long_blocks:
        long_reports = [r for d in dirs for r in _reports(d / "long" / "summary.json")]
        run_commits += [r.commit for r in long_reports if r.commit and r.commit not in run_commits]
        for r in long_reports:
            long_hits.setdefault(r.label, {})[r.seed] = r.queries_to_optimum
        for label in long_hits:
            short_pass = commits[label].split(", ")  # the 150-query pass's commits, each listed once
            long_pass = (f"`{r.commit or 'none'}`" for r in long_reports if r.label == label)
            commits[label] = ", ".join(sorted({*short_pass, *long_pass}))
    short = searched.split(" (")[0] + (searched.split(")")[-1] if searched.startswith("test") else "")
    extra = {label: [short, trace["options_hash"], commits[label]] for label in labels}
    md += _search_table(
        per_seed_hits,
        long_hits,
        budget,
        args.long_queries if long_blocks else budget,
        extra,
        ["searched on", "options hash", "commit"],
    )
    if args.peers:
        from benchmarks.peers import PEERS

        peer_labels = [*LIBRARY_ROWS, *(str(p["label"]) for p in PEERS)]
        md += _best_peer_table(per_seed_hits, [p for p in peer_labels if p in labels], budget)
    print("\n".join(md))
    write_section(
        f"optimizers_{section}",
        md,
        measured=[c for c in run_commits if c and c != "none"],
        data={"searched_on": searched.split(" ")[0], "first_seed": args.first_seed, "seeds": ran_seeds},
    )


if __name__ == "__main__":
    main()
