"""Multi-fidelity search with real training: ASHA on two Ray workers against full-fidelity search,
real wall time, side by side in one run (issue #22's digits goal: the same final validation accuracy
in at least 3x less wall time).

    python -m benchmarks.bench_multifidelity_training                   # the reported run (seeds below)
    python -m benchmarks.bench_multifidelity_training --seeds 0 --no-write   # development seed
    python -m benchmarks.bench_multifidelity_training --render          # the section from the saved results

Protocol (fixed before the reported run):

- Evaluator: the digits ``train`` evaluator with ``runs/digits_multifidelity.yaml``'s settings (network
  C 8, N 1; batch 64; learning rate 0.05; evaluator seed 0; one thread), trained for 9 epochs with the
  fidelities 1, 3 and 9 epochs (three rungs for the reduction factor 3). Both searches use the same
  optimizer (random search, the shipped run's) with the same search seed, and the same pool:
  ``parallel: {backend: ray, workers: 2}`` (a local Ray, one CPU per task).
- Full fidelity: scheduler ``full`` (every cell trained 9 epochs), 16 cells. Its wall time ``T_full``
  is the loop's clock when its last result came back; its final accuracy ``A_full`` is the best
  validation accuracy of its 16 cells.
- ASHA: scheduler ``asha`` (eta 3; a promotion continues from the cell's checkpoint in the run folder),
  given the same wall time ``T_full`` (``budget.simulated_seconds``, real seconds on the pool).
  ``t_ASHA`` is the loop's clock when a cell trained to 9 epochs first reached ``A_full`` or more.
- Figures: ``T_full / t_ASHA`` per seed (the goal: >= 3); not reached within ``T_full``: the ratio is
  below 1 (shown as "< 1"). Also the full search's own time to its best cell, and ASHA's best at
  ``T_full``. Each search's clock starts when its loop starts (Ray already up, its workers not yet
  warm: both pay the first tasks' start).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.report import DirtyTree, machine_line, markdown_table, write_section
from nasearch.config.run_schema import RunConfig, load_run_config
from nasearch.data.provenance import git_commit, options_hash
from nasearch.schedulers.store import FIDELITIES_ATTR, SUMMARY_ATTR
from nasearch.search.loop import run
from nasearch.search.tracking import load_study, storage_url

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "runs" / "digits_multifidelity.yaml"
RESULTS = ROOT / "runs" / "out" / "bench_multifidelity_training" / "results.json"
#: seeds of the reported run, fixed before it ran (development used seed 0 only)
REPORT_SEEDS = [810, 811, 812]
EPOCHS = 9
FIDELITIES = [1, 3, 9]
ETA = 3
FULL_CELLS = 16
WORKERS = 2
METRIC = "valid_accuracy"


def config(seed: int, scheduler: dict[str, Any], budget: dict[str, Any]) -> RunConfig:
    """The shipped digits run with this benchmark's epochs, scheduler, budget and two Ray workers."""
    sets = [
        f"name=bench_mf_training_{scheduler['name']}",
        f"seeds=[{seed}]",
        f"evaluator.epochs={EPOCHS}",
        f"evaluator.fidelities={FIDELITIES}",
        f"scheduler={json.dumps(scheduler)}",
        f"budget={json.dumps(budget)}",
        f"parallel={json.dumps({'backend': 'ray', 'workers': WORKERS, 'resources': {'num_cpus': 1}})}",
    ]
    return load_run_config(str(CONFIG), sets)


def steps(run_dir: Path, study: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every stored step (fidelity, value, real start and end) in the order it was handled, and the summary."""
    loaded = load_study(storage_url(None, run_dir), study)
    out = [
        {"key": t.user_attrs["key"], "fidelity": float(f), **e}
        for t in loaded.get_trials(deepcopy=False)
        for f, e in t.user_attrs[FIDELITIES_ATTR].items()
    ]
    return sorted(out, key=lambda e: e["end"]), dict(loaded.user_attrs[SUMMARY_ATTR])


def first_at_least(events: list[dict[str, Any]], target: float) -> float | None:
    """The clock when a full-fidelity result first reached ``target`` (None: never)."""
    for e in events:
        if e["fidelity"] == EPOCHS and e.get("value") is not None and e["value"] >= target:
            return float(e["end"])
    return None


def one_seed(seed: int, log: Any) -> dict[str, Any]:
    """Both searches of one seed, full fidelity first (ASHA gets its wall time)."""
    out: dict[str, Any] = {"seed": seed}
    with tempfile.TemporaryDirectory(prefix="bench-mf-training-") as tmp:
        full_cfg = config(seed, {"name": "full"}, {"queries": FULL_CELLS})
        (report,) = run(full_cfg, Path(tmp) / "full", progress=False, log=log)
        events, summary = steps(Path(tmp) / "full", report.study)
        t_full = max(e["end"] for e in events)
        a_full = max(e["value"] for e in events if e.get("value") is not None)
        out["full"] = {
            "wall_s": t_full,
            "best": a_full,
            "time_to_best_s": first_at_least(events, a_full),
            "cells": len(events),
            "epochs": summary["epochs_trained"],
            "options_hash": options_hash({"evaluator": full_cfg.evaluator.options, "scheduler": "full"}),
        }
        log(f"seed {seed}: full fidelity {len(events)} cells in {t_full:.1f} s, best {a_full:.2f}")
        asha_cfg = config(seed, {"name": "asha", "eta": ETA}, {"simulated_seconds": t_full})
        (report,) = run(asha_cfg, Path(tmp) / "asha", progress=False, log=log)
        events, summary = steps(Path(tmp) / "asha", report.study)
        full_steps = [e for e in events if e["fidelity"] == EPOCHS and e.get("value") is not None]
        out["asha"] = {
            "time_to_target_s": first_at_least(events, a_full),
            "best": max((e["value"] for e in full_steps), default=None),
            "cells": len({e["key"] for e in events}),
            "full_trainings": len(full_steps),
            "epochs": summary["epochs_trained"],
            "wall_s": max((e["end"] for e in events), default=0.0),
            "options_hash": options_hash(
                {"evaluator": asha_cfg.evaluator.options, "scheduler": "asha", "eta": ETA}
            ),
        }
        log(f"seed {seed}: ASHA {out['asha']}")
    hit = out["asha"]["time_to_target_s"]
    out["ratio"] = t_full / hit if hit else None
    return out


def markdown(res: dict[str, Any]) -> list[Any]:
    """The section: the protocol, one row per seed, and the verdict."""
    rows = []
    ratios = []
    for r in res["seeds"]:
        f, a = r["full"], r["asha"]
        ratio = f"{r['ratio']:.2f}" if r["ratio"] else "< 1 (not reached)"
        if r["ratio"]:
            ratios.append(r["ratio"])
        rows.append(
            [
                str(r["seed"]),
                f"{f['best']:.2f}",
                f"{f['wall_s']:.1f}",
                f"{f['time_to_best_s']:.1f}",
                f"{a['time_to_target_s']:.1f}" if a["time_to_target_s"] else "not reached",
                ratio,
                f"{a['best']:.2f}" if a["best"] is not None else "-",
                f"{f['cells']} / {a['cells']}",
                f"{a['full_trainings']}",
                f"{f['epochs']:.0f} / {a['epochs']:.0f}",
                f"{f['options_hash']} / {a['options_hash']}",
                res["commit"],
            ]
        )
    met = sum(1 for r in res["seeds"] if r["ratio"] and r["ratio"] >= 3)
    n = len(res["seeds"])
    all_ratios = [r["ratio"] or 0.0 for r in res["seeds"]]
    median = statistics.median(all_ratios)
    verdict = (
        f"Goal (the full search's final validation accuracy in at least 3x less wall time): met on {met} of "
        f"{n} seeds; median ratio {median:.2f}"
        + (
            " (a seed that never reached it counts as 0)"
            if None in [r["ratio"] for r in res["seeds"]]
            else ""
        )
        + (
            ". **Met.**"
            if median >= 3
            else f". **Missed** (the median is {median:.2f}x, {3 - median:.2f} short of 3x)."
        )
    )
    headers = [
        "seed",
        f"full: best {METRIC} (9 ep)",
        "full: wall s (T_full)",
        "full: s to its best",
        "ASHA: s to reach it (t_ASHA)",
        "T_full ÷ t_ASHA",
        "ASHA: best at T_full",
        "cells full / ASHA",
        "ASHA: cells trained 9 ep",
        "epochs trained full / ASHA",
        "options hash full / ASHA",
        "commit",
    ]
    seeds = ",".join(str(r["seed"]) for r in res["seeds"])
    return [
        "## Multi-fidelity search with real training: ASHA on 2 Ray workers vs full fidelity (digits)",
        "",
        machine_line()
        + f" The run took {res['minutes']:.1f} min, niced, on 2 CPU cores **shared with four other agents'"
        " work** (wall times are real and include that contention; both searches of a seed ran back to back).",
        "",
        f"`python -m benchmarks.bench_multifidelity_training --seeds {seeds}`: "
        "seeds chosen before the run (development used seed 0 only). The digits `train` evaluator with "
        f"`runs/digits_multifidelity.yaml`'s settings, trained {EPOCHS} epochs, fidelities {FIDELITIES}; "
        f"random search with the same seed in both; `parallel: {{backend: ray, workers: {WORKERS}}}`. Full "
        f"fidelity: {FULL_CELLS} cells trained {EPOCHS} epochs; `T_full` is its wall time, its best validation "
        f"accuracy the target. ASHA (eta {ETA}, promotions continue from the checkpoint in the run folder) is "
        "given the same wall time; `t_ASHA` is when a cell trained to 9 epochs first reached the target. Wall "
        "times are the loop's real clock from its start (Ray up, workers cold in both).",
        "",
        markdown_table(headers, rows),
        "",
        verdict + " Digits accuracy saturates (359 validation images, so one image is 0.28 points; many "
        "cells reach 99-100 %): the target is one of a few values, and whether and when ASHA's 1-in-9 "
        "promotions meet a cell that reaches it decides the ratio. Within the same wall time ASHA started "
        f"{min(r['asha']['cells'] for r in res['seeds'])}-{max(r['asha']['cells'] for r in res['seeds'])} "
        "cells against the full search's 16, and the full search's 16 trainings of 9 epochs took "
        f"{min(r['full']['wall_s'] for r in res['seeds']):.0f}-{max(r['full']['wall_s'] for r in res['seeds']):.0f}"
        " s across seeds: the shared cores' load varied during the run.",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default=",".join(map(str, REPORT_SEEDS)))
    parser.add_argument("--no-write", action="store_true", help="print, leave BENCHMARKS.md alone")
    parser.add_argument("--render", action="store_true", help=f"only write the section from {RESULTS}")
    args = parser.parse_args(argv)
    if args.render:
        res = json.loads(RESULTS.read_text())
        write_section("multifidelity_training", markdown(res), measured=[res["commit"]])
        return
    started = time.time()
    commit = git_commit()

    def log(msg: str) -> None:
        print(msg, flush=True)

    seeds = [one_seed(int(s), log) for s in args.seeds.split(",")]
    res = {"seeds": seeds, "commit": commit, "minutes": (time.time() - started) / 60}
    print(json.dumps(res, indent=1))
    if args.no_write:
        return
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(res, indent=1))
    try:
        write_section("multifidelity_training", markdown(res), measured=[commit])
    except DirtyTree as exc:
        print(f"{exc}\nthe results are in {RESULTS}: commit, then --render")


if __name__ == "__main__":
    main()
