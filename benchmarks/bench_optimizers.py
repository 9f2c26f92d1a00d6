"""Optimizer comparison on a lookup benchmark: queries until the global optimum, incumbent test
accuracy at 50/100/150 queries, loop overhead per query and surrogate fit time per round.

    python -m benchmarks.bench_optimizers                       # runs/compare_optimizers_nb201.yaml
    python -m benchmarks.bench_optimizers --seeds 5 --long-queries 0
    python -m benchmarks.bench_optimizers --config runs/nb201_cifar100.yaml --seeds 5
    python -m benchmarks.bench_optimizers --seeds 40 --first-seed 100 --chunk 5 --tag fresh --frozen
                                                                # fresh seeds 100-139, resumable by chunk

Pass 1 runs the config as ``nasearch run`` would (all its optimizers in one run, SQLite
tracking). Pass 2 (``--long-queries``) reruns the model-free optimizers with a long budget and
in-memory tracking, so that their queries-to-optimum are measured rather than censored.

With ``--chunk N`` the seeds run N at a time, each chunk in its own folder: a stopped run keeps
the chunks it finished, a rerun skips them, and ``--render`` builds the tables from whatever
finished. ``--frozen`` refuses a config with uncommitted changes (fresh seeds must test the
configuration as it was committed, not one tuned on them). Every chunk's options hash must
agree, or the tables are refused.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from benchmarks.report import machine_line, markdown_table, write_section
from benchmarks.stats import bootstrap_ratio, censor
from benchmarks.stats import mean_sd as _mean_sd
from nasearch.curves import load_run, queries_to_optimum, trajectory
from nasearch.provenance import git_commit
from nasearch.runconfig import load_run_config
from nasearch.runner import run

CHEAP = ("random", "evolution", "local_search")


def _hits(hits: list[int | None], budget: int) -> tuple[str, str, float]:
    found = [h for h in hits if h is not None]
    censored = float(np.mean([h if h is not None else budget for h in hits]))
    mean_found = f"{np.mean(found):.0f}" if found else "-"
    return f"{len(found)}/{len(hits)}", mean_found, censored


def ratio_rows(hits: dict[str, dict[int, int | None]], evolution: dict[int, int | None], budget: int,
               long_budget: int, n_boot: int = 10_000) -> list[list[object]]:
    """Per optimizer: how often it found the optimum, its mean and median queries to it (unfound =
    ``budget``, then a lower bound), and both as a ratio to regularized evolution's long pass on the
    same seeds with a paired bootstrap 95 % interval. Empty when evolution's pass is incomplete."""
    seeds = sorted(evolution)
    if len(seeds) < 2 or any(evolution[s] is None for s in seeds):
        return []
    ref = censor([evolution[s] for s in seeds], long_budget)
    rows: list[list[object]] = []
    for label, per_seed in hits.items():
        if sorted(per_seed) != seeds:
            raise ValueError(f"{label} ran seeds {sorted(per_seed)}, evolution's long pass {seeds}: not paired")
        values = [per_seed[s] for s in seeds]
        x = censor(values, budget)
        cut = any(v is None for v in values)
        mean = bootstrap_ratio(x, ref, np.mean, n_boot=n_boot, lower_bound=cut)
        median = bootstrap_ratio(x, ref, np.median, n_boot=n_boot, lower_bound=cut)
        sign = "≥ " if cut else ""
        rows.append([label, f"{sum(v is not None for v in values)}/{len(values)}", f"{sign}{np.mean(x):.1f}",
                     f"{sign}{np.median(x):.0f}", str(mean), str(median)])
    return rows


def _ratio_to_evolution(hits: dict[str, dict[int, int | None]], evolution: dict[int, int | None], budget: int,
                        long_budget: int) -> list[str]:
    """The ratio table in markdown, with its legend."""
    rows = ratio_rows(hits, evolution, budget, long_budget)
    if not rows:
        return []
    ref = censor(list(evolution.values()), long_budget)
    return [f"Queries to the optimum relative to regularized evolution's mean {np.mean(ref):.1f} / median "
            f"{np.median(ref):.0f} (its {long_budget}-query pass, same seeds). Brackets: paired bootstrap 95 % "
            "interval over seeds (10,000 resamples). ≥ where some seeds never found the optimum within the "
            f"{budget}-query budget (counted as {budget}: the figure and its interval are lower bounds).", "",
            markdown_table(["optimizer", "found optimum", "mean queries", "median queries",
                            "mean ÷ evolution [95 % CI]", "median ÷ evolution [95 % CI]"], rows), ""]


def _chunks(seeds: list[int], size: int) -> list[list[int]]:
    if size <= 0:
        return [seeds]
    return [seeds[i:i + size] for i in range(0, len(seeds), size)]


def _check_frozen(config: str) -> None:
    """Refuse a config with uncommitted changes: the run must test what a commit froze."""
    try:
        dirty = subprocess.run(["git", "status", "--porcelain", "--", config], capture_output=True, text=True,
                               check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        raise SystemExit(f"--frozen: cannot ask git whether {config} is committed ({exc})") from None
    if dirty:
        raise SystemExit(f"--frozen: {config} has uncommitted changes; commit the configuration before the run")


def _reports(path: Path) -> list[Any]:
    return [SimpleNamespace(**d) for d in json.loads(path.read_text())]


def _trace(reports: list[Any], root: Path) -> dict[str, str]:
    """The options hash, commit(s) and version the runs recorded in summary.json; refuses runs made
    with different options, or that recorded none, in one table."""
    hashes = {getattr(r, "options_hash", "") for r in reports}
    if "" in hashes:
        raise SystemExit(f"runs under {root} recorded no options (legacy summary.json): rerun them")
    if len(hashes) > 1:
        raise SystemExit(f"the runs under {root} were made with different options (hashes {sorted(hashes)}): "
                         "refusing to put them in one table; rerun the stale chunks")
    commits = sorted({r.commit or "none" for r in reports})
    return {"options_hash": hashes.pop(), "commit": ", ".join(commits), "version": reports[0].version}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="runs/compare_optimizers_nb201.yaml")
    parser.add_argument("--seeds", type=int, help="number of seeds (default: the config's)")
    parser.add_argument("--first-seed", type=int, help="seeds FIRST .. FIRST + seeds - 1 (default: the config's)")
    parser.add_argument("--queries", type=int, help="budget.queries (default: the config's)")
    parser.add_argument("--long-queries", type=int, default=1000,
                        help="budget of the model-free long pass (0: skip it)")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--chunk", type=int, default=0, help="run the seeds this many at a time (0: all in one run)")
    parser.add_argument("--tag", default="", help="a suffix for the output folder and the BENCHMARKS.md section")
    parser.add_argument("--frozen", action="store_true", help="refuse a config with uncommitted changes")
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
    if args.frozen and not args.render:
        _check_frozen(args.config)
    cfg = load_run_config(args.config, overrides)
    budget = int(cfg.budget.queries or 0)
    section = f"{cfg.name}_{args.tag}" if args.tag else cfg.name
    root = Path("runs/out") / f"bench_{section}"
    chunks = _chunks(list(cfg.seeds), args.chunk)
    long_blocks = [b for b in cfg.optimizers if b.name in CHEAP] if args.long_queries and budget else []
    load_at_start = os.getloadavg()[0]
    start = time.perf_counter()
    dirs: list[Path] = []
    for seeds in chunks:
        out = root if len(chunks) == 1 else root / f"seeds_{seeds[0]}-{seeds[-1]}"
        done = out / "DONE"
        if args.render or done.exists():
            if done.exists():
                dirs.append(out)
            continue
        shutil.rmtree(out, ignore_errors=True)
        chunk_cfg = load_run_config(args.config, [*overrides, f"seeds=[{','.join(map(str, seeds))}]"])
        run(chunk_cfg, out, progress=False)
        if long_blocks:
            long_cfg = load_run_config(args.config, [*overrides, f"seeds=[{','.join(map(str, seeds))}]",
                                                     f"budget.queries={args.long_queries}", "storage=memory"])
            long_cfg.optimizers = [b for b in long_cfg.optimizers if b.name in CHEAP]
            run(long_cfg, out / "long", progress=False)
        done.write_text(json.dumps({"seeds": seeds}))
        dirs.append(out)
        print(f"finished seeds {seeds[0]}-{seeds[-1]} ({(time.perf_counter() - start) / 60:.1f} min so far)", flush=True)
    if not dirs:
        raise SystemExit(f"no finished chunk under {root}: run without --render first")
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
    for label in labels:
        rs = [r for r in reports if r.label == label]
        ss = [s for s in studies if s.label == label]
        hits = [queries_to_optimum(s) for s in ss]
        per_seed_hits[label] = {s.seed: h for s, h in zip(ss, hits)}
        found, mean_found, censored = _hits(hits, budget)
        complete = all(h is not None for h in hits)
        tests = []
        for q in checkpoints:
            tests.append(_mean_sd([trajectory(s)["incumbent_test"][q - 1] for s in ss if len(s.records) >= q]))
        fits = sum(r.surrogate_fits for r in rs)
        fit_round = sum(r.surrogate_fit_seconds for r in rs) / fits if fits else None
        overhead = float(np.mean([r.loop_overhead_per_query for r in rs if r.loop_overhead_per_query is not None]))
        tracking = sum(r.tracking_seconds for r in rs) / max(1, sum(r.queries - r.replayed for r in rs))
        surrogate_q = sum(r.surrogate_fit_seconds + r.surrogate_predict_seconds for r in rs) / max(
            1, sum(r.queries - r.replayed for r in rs))
        if any(r.hypervolume is not None for r in rs):
            hv = [r.hypervolume for r in rs if r.hypervolume is not None]
            mo_rows.append([label, f"{np.mean(hv):.2f} ± {np.std(hv):.2f}",
                            f"{np.mean([len(r.pareto_front) for r in rs]):.1f}",
                            f"{np.mean([r.wall_seconds for r in rs]):.1f}"])
        rows.append([label, found, mean_found, f"{censored:.0f}" if complete else f"≥ {censored:.0f}",
                     *tests, f"{overhead * 1000:.1f} ({tracking * 1000:.1f})",
                     f"{surrogate_q:.3f}" if fits else "-", f"{fit_round:.2f}" if fit_round else "-",
                     f"{np.mean([r.wall_seconds for r in rs]):.1f}", trace["options_hash"]])
        print(rows[-1])
    s0 = studies[0]
    headers = ["optimizer", "found optimum", "mean queries (found seeds)", "mean queries (unfound = budget)",
               *[f"incumbent {s0.test_metric} @ {q}" for q in checkpoints],
               "loop overhead / query, ms (of it tracking)", "surrogate s / query", "surrogate fit s / round",
               "wall s / seed", "options hash"]
    command = (f"`python -m benchmarks.bench_optimizers --config {args.config}"
               + (f" --seeds {args.seeds}" if args.seeds else "")
               + (f" --first-seed {args.first_seed}" if args.first_seed is not None else "")
               + (f" --queries {args.queries}" if args.queries else "")
               + "".join(f" --set '{o}'" for o in args.overrides)
               + (f" --chunk {args.chunk}" if args.chunk else "") + (f" --tag {args.tag}" if args.tag else "")
               + (" --frozen" if args.frozen else "") + f" --long-queries {args.long_queries}`")
    seed_text = (f"seeds {ran_seeds[0]}–{ran_seeds[-1]}" if ran_seeds == list(range(ran_seeds[0], ran_seeds[-1] + 1))
                 else f"seeds {ran_seeds}")
    md = [f"## Optimizers: {section}", "", machine_line(),
          ("_Tables rebuilt with `--render` from the finished chunks; the runs shared the 2 cores with other jobs, "
           "so wall times are noisy._" if args.render else
           f"_Load average {load_at_start:.1f} on the 2 cores when it started (other jobs share them), so wall "
           f"times are noisy. This invocation took {wall / 60:.1f} min._"), "",
          f"{command}: {len(ran_seeds)} seeds ({seed_text}"
          + (f"; {len(cfg.seeds) - len(ran_seeds)} of the {len(cfg.seeds)} asked did not finish" if len(ran_seeds) < len(cfg.seeds) else "")
          + f") × {budget} queries × {len(labels)} optimizers ({cfg.parallel.backend} backend, SQLite tracking). "
          f"Options hash `{trace['options_hash']}` (the resolved config, seeds aside), commit(s) of the runs `{trace['commit']}`, "
          f"nasearch {trace['version']}. Search metric "
          f"`{s0.objective}`" + (f" (optimum {s0.optimum:.2f}); the optimum counts as found when its cell or an "
                                  "isomorph (same `space.key`) is evaluated." if s0.optimum is not None else "."),
          ""]
    if mo_rows:
        meta = json.loads((dirs[0] / "run.json").read_text())
        names = ", ".join(f"`{m}` ({'max' if mx else 'min'})" for m, mx in meta["objectives"])
        md += [f"Objectives {names}; "
               f"hypervolume reference point {meta['reference_point']} (maximise-space: the median cell of the space).",
               "", markdown_table(["optimizer", "hypervolume", "Pareto front size", "wall s / seed"], mo_rows), "",
               "Single-objective view (first objective):", ""]
    md += [markdown_table(headers, rows), ""]
    surrogate_blocks = [b for b in cfg.optimizers if "surrogate" in b.options]
    if surrogate_blocks:
        md.append(f"Surrogate: `{surrogate_blocks[0].options['surrogate']}`; loop overhead excludes surrogate fit and "
                  "predict time and evaluation time; it includes asking, de-duplication and the committed SQLite write.")
        md.append("")

    if long_blocks:
        long_reports = [r for d in dirs for r in _reports(d / "long" / "summary.json")]
        long_rows = []
        for label in dict.fromkeys(r.label for r in long_reports):
            rs = [r for r in long_reports if r.label == label]
            hits = [r.queries_to_optimum for r in rs]
            found, mean_found, censored = _hits(hits, args.long_queries)
            med = np.median([h if h is not None else args.long_queries for h in hits])
            long_rows.append([label, found, mean_found, f"{med:.0f}"])
            print(long_rows[-1])
        md += [f"Model-free optimizers again with {args.long_queries} queries per seed (in-memory tracking), "
               "so their queries-to-optimum are measured, not cut off at the budget:", "",
               markdown_table(["optimizer", "found optimum", "mean queries (found seeds)",
                               "median queries (unfound = budget)"], long_rows), ""]
        evolution = {r.seed: r.queries_to_optimum for r in long_reports if r.label == "evolution"}
        md += _ratio_to_evolution(per_seed_hits, evolution, budget, args.long_queries)
    text = "\n".join(md)
    print(text)
    write_section(f"optimizers_{section}", text)


if __name__ == "__main__":
    main()
