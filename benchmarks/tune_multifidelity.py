"""Development-seed choice of our surrogate-guided scheduler's settings on NB201 CIFAR-10 (4 simulated
workers): the grid below was committed before it ran; every setting runs on dev seeds only (0-8, never
a reported seed), beside predictor_local_search at full fidelity, and the setting with the lowest
median ratio of simulated time to the 200-epoch validation optimum (ties: the lower mean) is chosen.

    python -m benchmarks.tune_multifidelity --out stage1.json          # the grid on dev seeds 0-8
    python -m benchmarks.tune_multifidelity --stage 2 --out stage2.json  # then its second stage
    python -m benchmarks.tune_multifidelity --stage 2 --with stage1.json --seeds ... # both, scored together
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.bench_multifidelity import CAP_W4, METHODS, NNFORMER, nasearch_runs

DEV_SEEDS = list(range(9))
PLS_MF = {"name": "predictor_local_search", "surrogate": NNFORMER, "k": 9}

#: the grid, declared before it ran: the shipped setting (eta 9, the forest predicts the full-fidelity
#: value, the optimizer hears only 12-epoch results) and three changes to it
GRID: dict[str, dict[str, Any]] = {
    "shipped": {"name": "surrogate", "eta": 9},
    "tell_full": {"name": "surrogate", "eta": 9, "tell_full": True},
    "tell_full_gain": {"name": "surrogate", "eta": 9, "tell_full": True, "target": "gain"},
    "tell_full_gain_eta5": {"name": "surrogate", "eta": 5, "tell_full": True, "target": "gain"},
}
#: the second stage, declared after the first stage's seeds 0-1 showed the optimizer re-told raw 200-epoch
#: results doing worse than the shipped setting, before the rest of either stage had run: the forest's
#: gain target alone, and the re-told results shifted to the 12-epoch scale (``shift_full``); scored
#: against the first stage's ``pls_full`` and ``shipped`` rows on the same seeds (deterministic given the seed)
GRID2: dict[str, dict[str, Any]] = {
    "gain": {"name": "surrogate", "eta": 9, "target": "gain"},
    "tell_full_shifted_gain": {
        "name": "surrogate",
        "eta": 9,
        "tell_full": True,
        "shift_full": True,
        "target": "gain",
    },
}
#: the third stage, declared when stage 1 had seeds 0-1 and stage 2 seed 0 (the re-told variants were
#: behind, ``gain`` ahead of ``shipped`` on seed 0): the gain target with the forest used from 4 cells with
#: a full result (instead of 8), and with eta 6 (more promotions)
GRID3: dict[str, dict[str, Any]] = {
    "gain_min4": {"name": "surrogate", "eta": 9, "target": "gain", "min_points": 4},
    "gain_eta6": {"name": "surrogate", "eta": 6, "target": "gain"},
}
REFERENCE = "pls_full"


def table(stage: int = 1) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """The methods of a stage of the grid by label (the first stage with the reference)."""
    if stage > 1:
        return {label: (PLS_MF, sched) for label, sched in (GRID2 if stage == 2 else GRID3).items()}
    out = {REFERENCE: METHODS[REFERENCE]}
    out.update({label: (PLS_MF, sched) for label, sched in GRID.items()})
    return out


def select(hours: dict[str, list[float]]) -> str:
    """The grid label with the lowest median of per-seed ratios to the reference (ties: lower mean)."""
    ref = np.array(hours[REFERENCE])
    scores = {
        k: (float(np.median(np.array(v) / ref)), float(np.mean(np.array(v) / ref))) for k, v in hours.items()
    }
    return min((k for k in hours if k != REFERENCE), key=lambda k: (scores[k], k))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default=",".join(map(str, DEV_SEEDS)))
    parser.add_argument("--out", default="")
    parser.add_argument("--stage", type=int, default=1, choices=(1, 2, 3))
    parser.add_argument("--with", dest="first", default="", help="stage 2, 3: the first stage's --out file")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    if any(s not in DEV_SEEDS for s in seeds):
        raise SystemExit(f"tune_multifidelity: development seeds only ({DEV_SEEDS[0]}-{DEV_SEEDS[-1]})")
    methods = table(args.stage)
    hours: dict[str, list[float]] = {k: [] for k in methods}
    t0 = time.time()
    for seed in seeds:  # every setting on a seed before the next seed starts
        res = nasearch_runs(list(methods), [seed], 4, CAP_W4, lambda m: None, methods)
        for label in methods:
            hit = res[label][seed]["time_to_optimum"]
            hours[label].append((hit if hit is not None else CAP_W4) / 3600)
        print(
            f"seed {seed} ({time.time() - t0:.0f} s): "
            + ", ".join(f"{k} {v[-1]:.2f}" for k, v in hours.items()),
            flush=True,
        )
    if args.first:  # stage 2: beside the first stage's rows on the same seeds
        first = json.loads(Path(args.first).read_text())
        n = len(hours[next(iter(methods))])
        hours = {**{k: v[:n] for k, v in first["hours"].items()}, **hours}
    if args.out:
        Path(args.out).write_text(json.dumps({"seeds": seeds, "hours": hours}, indent=1))
    if REFERENCE not in hours:
        return
    ref = np.array(hours[REFERENCE])
    for label, v in hours.items():
        r = np.array(v) / ref
        print(
            f"{label:24s} median h {np.median(v):.2f}  median ratio {np.median(r):.2f}  mean ratio {np.mean(r):.2f}"
        )
    print("chosen:", select(hours))


if __name__ == "__main__":
    main()
