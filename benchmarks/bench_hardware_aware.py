"""Hardware-aware search for an unmeasured chip: true-latency hypervolume against the oracle and a proxy.

Run ``python -m benchmarks.bench_hardware_aware``. For each held-out HELP chip (every GPU chip,
two server CPUs and two phones; one setting of each as the target) it runs
``runs/nb201_zero_shot_pareto.yaml`` with that target: the LeDG-Former latency model is trained on
the other chips only, the search minimises its predicted latency, and the same optimizers, seeds
and budget also search the measured latency (the oracle) and the parameter count (the proxy).
Every front is re-scored with the target's measured latency. Reported per chip and optimizer:
the mean true hypervolume of each search over the seeds, and the ratios of those means to the
oracle's. Writes the ``hardware_aware`` section of BENCHMARKS.md; run folders go to
``runs/out/bench_hardware_aware/``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.report import machine_line, markdown_table, write_section

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "runs" / "nb201_zero_shot_pareto.yaml"
OUT = REPO / "runs" / "out" / "bench_hardware_aware"
#: one target setting per held-out chip: every GPU chip, two server CPUs, two phones
TARGETS = [
    "titan_rtx_32",
    "2080ti_32",
    "1080ti_32",
    "titanx_32",
    "titanxp_32",
    "gold_6226",
    "silver_4210r",
    "pixel3",
    "samsung_a50",
]
#: the fast multi-objective optimizers (the YAML's surrogate-guided one costs ~45 s a seed)
OPTIMIZERS = (
    "[{name: optuna, label: nsga2, sampler: nsga2, sampler_options: {population_size: 20}}, {name: random}]"
)


def run_target(target: str, seeds: int, queries: int) -> list[dict[str, Any]]:
    """One chip: the zero-shot search and its references; the summary's rows."""
    from nasearch.config.run_schema import load_run_config
    from nasearch.search.loop import run

    overrides = [
        f"evaluator.device={target}",
        f"optimizer={OPTIMIZERS}",
        f"seeds={seeds}",
        f"budget.queries={queries}",
        f"name=hw_{target}",
    ]
    cfg = load_run_config(str(CONFIG), overrides)
    reports = run(cfg, OUT / target, progress=False)
    return [{"label": r.label, "seed": r.seed, **r.reference_scores} for r in reports]


def model_quality(target: str) -> dict[str, float]:
    """Kendall tau and MAPE of the cached zero-shot predictions against the target's measurements."""
    from scipy.stats import kendalltau

    from nasearch.config.registry import EVALUATORS
    from nasearch.search_spaces.nasbench201.space import NasBench201Space

    space = NasBench201Space()
    evaluator = EVALUATORS.create("hardware_aware", space=space, device=target)  # the cached model
    true = np.asarray(space.benchmark().column(f"latency/{target}"), dtype=float)
    keep = np.isfinite(true) & (true > 0)
    pred = evaluator.predicted[keep]
    return {
        "tau": float(kendalltau(pred, true[keep]).statistic),
        "mape": float(np.mean(np.abs(pred - true[keep]) / true[keep]) * 100),
    }


def summarise(target: str, rows: list[dict[str, Any]]) -> list[list[Any]]:
    """Per optimizer: mean true HVs over the seeds, the ratios of the means to the oracle's, and
    their paired bootstrap 95 % intervals over seeds."""
    from benchmarks.stats import bootstrap_ratio
    from nasearch.data.devices import load_devices

    spec = load_devices()[target]
    out = []
    for label in dict.fromkeys(r["label"] for r in rows):
        rs = [r for r in rows if r["label"] == label]
        zs, oracle, proxy = (
            [float(r[k]) for r in rs]
            for k in ("true_hypervolume", "latency_true_hypervolume", "latency_params_hypervolume")
        )
        zs_ci, proxy_ci = bootstrap_ratio(zs, oracle), bootstrap_ratio(proxy, oracle)
        out.append(
            [
                spec.chip,
                target,
                spec.family,
                label,
                len(rs),
                float(np.mean(zs)),
                float(np.mean(oracle)),
                float(np.mean(proxy)),
                zs_ci.point,
                f"[{zs_ci.low:.2f}, {zs_ci.high:.2f}]",
                proxy_ci.point,
                f"[{proxy_ci.low:.2f}, {proxy_ci.high:.2f}]",
                "yes" if np.mean(zs) > np.mean(proxy) else "no",
            ]
        )
    return out


def git_commit() -> str:
    proc = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False
    )
    return proc.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_hardware_aware", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--section", default="hardware_aware", help="the BENCHMARKS.md section to write")
    args = parser.parse_args(argv)
    commit = git_commit()  # the code that runs, whatever is committed while it does
    start = time.perf_counter()
    table, quality = [], []
    for target in args.targets.split(","):
        rows = run_target(target, args.seeds, args.queries)
        (OUT / target / "scores.json").write_text(json.dumps(rows, indent=1))
        q = model_quality(target)
        quality.append([target, q["tau"], q["mape"]])
        table += summarise(target, rows)
        print(
            f"{target}: latency model tau {q['tau']:.3f}; "
            + "; ".join(f"{r[3]} ratio {r[8]:.3f} {r[9]} proxy {r[10]:.3f}" for r in table if r[1] == target),
            flush=True,
        )
    minutes = (time.perf_counter() - start) / 60
    gpu = [r for r in table if r[2] == "GPU"]
    md = [
        f"## Hardware-aware search on an unmeasured chip, {args.seeds} seeds (`python -m "
        "benchmarks.bench_hardware_aware`)",
        "",
        machine_line(),
        f"Commit `{commit}`; `--targets {args.targets} --seeds {args.seeds} --queries {args.queries}`, "
        f"{minutes:.0f} min. Config "
        "`runs/nb201_zero_shot_pareto.yaml` with `evaluator.device` set to each target and the optimizers "
        f"`{OPTIMIZERS}`; latency model: the YAML's `latency_model` (LeDG-Former, 100 cells x every HELP setting "
        "of the other chips, 30 epochs, log target; the settings of the LeDG-Former zero-shot bench, not tuned here).",
        "",
        "Each row: the mean over seeds of the hypervolume, under the target's **measured** latency, of the front "
        "found by searching the zero-shot prediction; of the front found by searching the measured latency "
        "(oracle, same optimizer, seeds and budget); of the front found by searching the parameter count "
        "(proxy). Ratios are of those means; the CI columns: paired bootstrap 95 % intervals over seeds (10,000 "
        "resamples, `benchmarks/stats.py`). Reference point: the median cell's accuracy and measured latency.",
        "",
        markdown_table(
            [
                "chip held out",
                "target",
                "family",
                "optimizer",
                "seeds",
                "zero-shot HV",
                "oracle HV",
                "params HV",
                "zero-shot / oracle",
                "zero-shot 95 % CI",
                "params / oracle",
                "params 95 % CI",
                "zero-shot > params",
            ],
            table,
        ),
        "",
        f"Held-out GPU chips: zero-shot / oracle ≥ 0.95 in {sum(r[8] >= 0.95 for r in gpu)} of {len(gpu)} rows; "
        f"zero-shot above the params proxy in {sum(r[12] == 'yes' for r in table)} of {len(table)} rows overall.",
        "",
        "Latency model on each target (all cells with a positive measurement):",
        "",
        markdown_table(["target", "Kendall τ", "MAPE %"], quality),
    ]
    write_section(args.section, md)


if __name__ == "__main__":
    main()
