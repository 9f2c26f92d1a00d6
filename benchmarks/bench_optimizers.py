"""Optimizer comparison on a lookup benchmark: queries until the global optimum, incumbent test
accuracy at 50/100/150 queries, loop overhead per query and surrogate fit time per round.

    python -m benchmarks.bench_optimizers                       # runs/compare_optimizers_nb201.yaml
    python -m benchmarks.bench_optimizers --seeds 5 --long-queries 0
    python -m benchmarks.bench_optimizers --config runs/nb201_cifar100.yaml --seeds 5

Pass 1 runs the config as ``nasearch run`` would (all its optimizers in one run, SQLite
tracking). Pass 2 (``--long-queries``) reruns the model-free optimizers with a long budget and
in-memory tracking, so that their queries-to-optimum are measured rather than censored.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

import numpy as np

from benchmarks.report import machine_line, markdown_table, write_section
from nasearch.curves import load_run, queries_to_optimum, trajectory
from nasearch.runconfig import load_run_config
from nasearch.runner import run

CHEAP = ("random", "evolution", "local_search")


def _mean_sd(values: list[float]) -> str:
    vals = [v for v in values if v is not None and np.isfinite(v)]
    if not vals:
        return "-"
    return f"{np.mean(vals):.2f} ± {np.std(vals):.2f}"


def _hits(hits: list[int | None], budget: int) -> tuple[str, str, float]:
    found = [h for h in hits if h is not None]
    censored = float(np.mean([h if h is not None else budget for h in hits]))
    mean_found = f"{np.mean(found):.0f}" if found else "-"
    return f"{len(found)}/{len(hits)}", mean_found, censored


def _ratio_to_evolution(long_reports: list, censored_means: dict[str, tuple[str, float, bool]],
                        long_budget: int) -> list[str]:
    """Each optimizer's mean queries to the optimum as a fraction of regularized evolution's
    (the issue's target for guided search: at most 0.25), from the same seeds."""
    evo = [r.queries_to_optimum for r in long_reports if r.label == "evolution"]
    if not evo or any(h is None for h in evo):
        return []
    evo_mean = float(np.mean(evo))
    rows = []
    for label, (found, censored, complete) in censored_means.items():
        ratio = f"{censored / evo_mean:.2f}" if complete else f"≥ {censored / evo_mean:.2f}"
        rows.append([label, found, f"{censored:.1f}" if complete else f"≥ {censored:.1f}", ratio])
    return [f"Queries to the optimum relative to regularized evolution's {evo_mean:.1f} (its {long_budget}-query "
            "pass, same seeds; ≥ where some seeds never found it within the budget):", "",
            markdown_table(["optimizer", "found optimum", "mean queries", "÷ evolution"], rows), ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="runs/compare_optimizers_nb201.yaml")
    parser.add_argument("--seeds", type=int, help="number of seeds (default: the config's)")
    parser.add_argument("--queries", type=int, help="budget.queries (default: the config's)")
    parser.add_argument("--long-queries", type=int, default=1000,
                        help="budget of the model-free long pass (0: skip it)")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()

    overrides = list(args.overrides)
    if args.seeds:
        overrides.append(f"seeds={args.seeds}")
    if args.queries:
        overrides.append(f"budget.queries={args.queries}")
    cfg = load_run_config(args.config, overrides)
    budget = int(cfg.budget.queries or 0)
    out = Path("runs/out") / f"bench_{cfg.name}"
    shutil.rmtree(out, ignore_errors=True)
    load_at_start = os.getloadavg()[0]
    start = time.perf_counter()
    reports = run(cfg, out, progress=False)
    wall = time.perf_counter() - start
    studies = load_run(out)
    from nasearch.curves import plot

    plot(studies, out)

    checkpoints = [q for q in (50, 100, 150) if q <= budget] or [budget]
    rows: list[list[object]] = []
    censored_means: dict[str, tuple[str, float, bool]] = {}
    mo_rows: list[list[object]] = []
    labels = list(dict.fromkeys(r.label for r in reports))
    for label in labels:
        rs = [r for r in reports if r.label == label]
        ss = [s for s in studies if s.label == label]
        hits = [queries_to_optimum(s) for s in ss]
        found, mean_found, censored = _hits(hits, budget)
        complete = all(h is not None for h in hits)
        censored_means[label] = (found, censored, complete)
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
                     f"{np.mean([r.wall_seconds for r in rs]):.1f}"])
        print(rows[-1])
    s0 = studies[0]
    headers = ["optimizer", "found optimum", "mean queries (found seeds)", "mean queries (unfound = budget)",
               *[f"incumbent {s0.test_metric} @ {q}" for q in checkpoints],
               "loop overhead / query, ms (of it tracking)", "surrogate s / query", "surrogate fit s / round",
               "wall s / seed"]
    md = [f"## Optimizers: {cfg.name}", "", machine_line(),
          f"_Load average {load_at_start:.1f} on the 2 cores when it started (other jobs share them), so wall "
          f"times are noisy. Pass 1 took {wall / 60:.1f} min._", "",
          f"`python -m benchmarks.bench_optimizers --config {args.config}"
          + (f" --seeds {args.seeds}" if args.seeds else "") + (f" --queries {args.queries}" if args.queries else "")
          + "".join(f" --set '{o}'" for o in args.overrides)
          + f" --long-queries {args.long_queries}`: {len(cfg.seeds)} seeds × {budget} queries × "
          f"{len(labels)} optimizers in one run ({cfg.parallel.backend} backend, SQLite tracking). Search metric "
          f"`{s0.objective}`" + (f" (optimum {s0.optimum:.2f}); the optimum counts as found when its cell or an "
                                  "isomorph (same `space.key`) is evaluated." if s0.optimum is not None else "."),
          ""]
    if mo_rows:
        import json

        meta = json.loads((out / "run.json").read_text())
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

    if args.long_queries and budget:
        long_blocks = [b for b in cfg.optimizers if b.name in CHEAP]
        if long_blocks:
            long_cfg = load_run_config(args.config, [*overrides, f"budget.queries={args.long_queries}", "storage=memory"])
            long_cfg.optimizers = [b for b in long_cfg.optimizers if b.name in CHEAP]
            long_out = Path("runs/out") / f"bench_{cfg.name}_long"
            shutil.rmtree(long_out, ignore_errors=True)
            long_reports = run(long_cfg, long_out, progress=False)
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
            md += _ratio_to_evolution(long_reports, censored_means, args.long_queries)
    text = "\n".join(md)
    print(text)
    write_section(f"optimizers_{cfg.name}", text)


if __name__ == "__main__":
    main()
