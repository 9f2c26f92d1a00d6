"""LeDG-Former benchmark: NB201 accuracy ranking, zero-shot latency on held-out HELP devices,
the paper's ablations, and the text encoder's cost; each part writes its section of BENCHMARKS.md.

    python -m benchmarks.bench_ledgformer                 # every part, the full settings
    python -m benchmarks.bench_ledgformer --quick         # small settings; writes "... (quick)" sections
    python -m benchmarks.bench_ledgformer --parts encoder,zero_shot

Parts: ``encoder`` (load + embedding time of every unique node/device string, cold and cached),
``accuracy`` (paper protocol: train on the first N cells in official order, Kendall tau on all
15,625, LeDG-Former beside NN-Former), ``zero_shot`` (leave-one-device-out on the HELP table:
LeDG-Former with hardware vs NN-Former without hardware vs the FLOPs/params linear model, plus
few-shot), ``unseen_chip`` (every setting held out as an unseen setting and as an unseen chip, LeDG-Former
and the linear model), ``ablation`` (uniform vs dynamic branch weights, random vs pretrained encoder, one-hot
vs language input; on accuracy and on GPU zero-shot). Raw rows go to runs/out/bench_ledgformer/.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.report import (
    LEGACY_LABEL,
    OptionsMismatch,
    check_rows,
    expected_options,
    machine_line,
    markdown_table,
    write_section,
)

OUT = Path(__file__).resolve().parent.parent / "runs" / "out" / "bench_ledgformer"

PAPER_TAU = {469: 0.864, 781: 0.881, 1563: 0.892}
GPU_HOLDOUTS = ["titan_rtx_32", "2080ti_1", "1080ti_256"]
HARD_HOLDOUTS = ["gold_6240", "pixel3", "raspi4", "fpga"]


def _all_help_settings() -> list[str]:
    """Every HELP setting, the chosen GPU and hard hold-outs first (the order of the table)."""
    from nasearch.search_spaces.nasbench201.benchmark import HELP_DEVICES

    first = GPU_HOLDOUTS + HARD_HOLDOUTS
    return first + [d for d in HELP_DEVICES if d not in first]


def _settings(quick: bool) -> dict[str, Any]:
    if quick:
        return {
            "sizes": [469],
            "acc_epochs": {469: 40},
            "abl_epochs": 40,
            "nnformer": {"epochs": 60},
            "zs_cells": 50,
            "zs_epochs": 15,
            "holdouts": ["titan_rtx_32", "pixel3", "fpga"],
            "shots": 20,
            "shot_holdouts": ["pixel3"],
            "test_subsample": 1500,
            "abl_holdouts": ["titan_rtx_32"],
        }
    return {
        "sizes": [469, 781, 1563],
        "acc_epochs": {469: 1000, 781: 1000, 1563: 1000},
        "acc_max_steps": 8000,
        "abl_epochs": 100,
        "nnformer": {"max_steps": 8000},
        "zs_cells": 100,
        "zs_epochs": 30,
        "holdouts": _all_help_settings(),
        "shots": 20,
        "shot_holdouts": ["pixel3", "fpga"],
        "test_subsample": 3000,
        "abl_holdouts": ["titan_rtx_32"],
    }


def _task() -> Any:
    from nasearch.compare import Task
    from nasearch.search_spaces.nasbench201.space import NasBench201Space

    space = NasBench201Space()
    return Task(space, space.benchmark())


Specs = dict[str, tuple[str, dict[str, Any]]]
Rows = list[dict[str, Any]]


RESUME = False
#: result columns that --resume reads back as numbers
NUMERIC_COLUMNS = ("kendall_tau", "spearman", "mape", "acc10", "fit_seconds", "predict_seconds")
#: set by ``--holdouts``: run the zero-shot part on these held-out settings only
ONLY_HOLDOUTS: list[str] = []


def _run(name: str, task: Any, specs: Specs, **config: Any) -> Rows:
    from nasearch.compare import CompareConfig, run_compare

    cfg = CompareConfig(name=name, predictors={k: {} for k in specs}, **config)
    done = OUT / name / "results.csv"
    if RESUME and done.is_file():  # --resume: keep a finished sub-run's rows
        import csv

        rows = list(csv.DictReader(done.open()))
        try:
            legacy = check_rows(rows, expected_options(cfg, specs), str(done))
        except OptionsMismatch as exc:
            print(f"  not reusing: {exc}", flush=True)
            legacy, rows = set(), []
        if legacy:
            print(f"  not reusing {done}: {LEGACY_LABEL} ({', '.join(sorted(legacy))})", flush=True)
            rows = []
        if rows and {r["predictor"] for r in rows} == set(specs):
            for r in rows:  # the CSV gives strings: back to the types run_compare returns
                r["train_size"] = int(r["train_size"])
                for key in NUMERIC_COLUMNS:
                    if r.get(key) not in (None, ""):
                        r[key] = float(r[key])
            print(f"  reusing {done} ({len(rows)} rows)", flush=True)
            return rows
    return run_compare(cfg, specs, OUT / name, task=task, log=lambda line: print("  " + line, flush=True))


ACCURACY = {
    "protocol": "paper",
    "train_metric": "cifar10-valid/valid_accuracy",
    "test_metric": "cifar10/test_accuracy",
    "threads": 1,
}


def _triple(row: dict[str, Any]) -> str:
    """``MAPE / Acc(10%) / tau`` of one result row."""
    return f"{float(row['mape']):.1f} / {float(row['acc10']):.1f} / {float(row['kendall_tau']):.3f}"


def _mean(rows: Rows, key: str) -> float:
    return float(np.mean([float(r[key]) for r in rows]))


# --- parts --------------------------------------------------------------------------------------


def part_encoder(quick: bool) -> str:
    """Cold load + embedding of every unique string, then the cached cost of templating all cells."""
    from nasearch.data.devices import device_names
    from nasearch.predictors.text import TextEncoder, hardware_template, node_template
    from nasearch.search_spaces.examples.chain import ChainSpace
    from nasearch.search_spaces.nasbench101.spec import OPS as NB101_OPS
    from nasearch.search_spaces.nasbench201.space import OPS as NB201_OPS
    from nasearch.search_spaces.nasbench201.space import NasBench201Space

    chain = ChainSpace()
    nodes = {node_template(op) for op in ("input", "output", *NB201_OPS, *NB101_OPS)}
    nodes |= {
        node_template(op, {"kernel": k, "width": w})
        for op in chain.ops
        for k in chain.kernels
        for w in chain.widths
    }
    devices = {hardware_template(d) for d in device_names()}
    enc = TextEncoder()
    start = time.perf_counter()
    enc.encode(sorted(nodes))
    first = time.perf_counter() - start
    start = time.perf_counter()
    enc.encode(sorted(devices))
    dev_s = time.perf_counter() - start
    space = NasBench201Space()
    graphs = [space.to_graph(a) for a in space.enumerate_product()]
    start = time.perf_counter()
    strings = [node_template(op) for g in graphs for op in g.ops]
    vecs = enc.encode(strings)
    cached = time.perf_counter() - start
    rows = [
        ["model load (from the installed wheel, hub disabled)", f"{enc.load_seconds:.2f} s"],
        [
            f"embed {len(nodes)} unique node strings (NB201 + NB101 + chain)",
            f"{first - enc.load_seconds:.3f} s",
        ],
        [f"embed {len(devices)} unique device strings", f"{dev_s:.3f} s"],
        [
            f"all {len(graphs):,} NB201 cells ({vecs.shape[0]:,} nodes): templates + cached lookups",
            f"{cached:.2f} s",
        ],
    ]
    print("\n".join(f"  {a}: {b}" for a, b in rows))
    return (
        "### Text encoder cost\n\n"
        + markdown_table(["step", "time"], rows)
        + (
            "\n\nall-MiniLM-L6-v2 (6-layer BERT, 384-d, mean-pooled), CPU, 1 thread. Each unique string is "
            "embedded once per process and cached; a fitted predictor also keeps its strings' vectors, "
            "so predicting needs no encoder for strings it has seen."
        )
    )


def part_accuracy(quick: bool) -> str:
    """Paper protocol on NB201: Kendall tau at 469 / 781 / 1563 training cells."""
    s = _settings(quick)
    task = _task()
    rows: list[dict[str, Any]] = []
    for size in s["sizes"]:
        epochs = s["acc_epochs"][size]
        ledg = {"epochs": epochs, "batch_size": 32, "rank_weight": 1.0}
        if s.get("acc_max_steps"):
            ledg["max_steps"] = s["acc_max_steps"]
        specs = {
            "LeDG-Former": ("ledgformer", ledg),
            "NN-Former": ("nnformer", {**s["nnformer"], "epochs": s["nnformer"].get("epochs", epochs)}),
        }
        rows += _run(f"accuracy_{size}", task, specs, sizes=[size], **ACCURACY)
    table = []
    for size in s["sizes"]:
        got = {r["predictor"]: r for r in rows if r["train_size"] == size}
        ledg, nn = got["LeDG-Former"], got["NN-Former"]
        seconds = f"{ledg['fit_seconds']:.0f} / {nn['fit_seconds']:.0f}"
        table.append([size, PAPER_TAU[size], float(ledg["kendall_tau"]), float(nn["kendall_tau"]), seconds])
    epochs = " / ".join(str(s["acc_epochs"][n]) for n in s["sizes"])
    if s.get("acc_max_steps"):
        epochs += f" epochs capped at {s['acc_max_steps']} steps"
    else:
        epochs += " epochs"
    nn_opts = (
        f"{s['nnformer']}, {epochs}"
        if quick
        else "its defaults (dim 64, 4 layers, batch 32, lr 1e-3, rank_weight 1.0) at LeDG-Former's budget of "
        "1000 epochs capped at 8000 steps"
    )
    return (
        "### NB201 accuracy ranking (paper protocol)\n\n"
        + markdown_table(
            [
                "train cells",
                "LeDG-Former paper τ",
                "LeDG-Former τ (ours)",
                "NN-Former τ (ours)",
                "fit s (LeDG / NN)",
            ],
            table,
        )
        + f"\n\nTrain on the first N cells in official index order (CIFAR-10-valid validation accuracy), "
        f"Kendall τ-b on the CIFAR-10 test accuracy of all 15,625 cells, seed 0, one run. "
        f"LeDG-Former: dim 64, "
        f"3 DGSA layers, {epochs}, batch 32, lr 1e-3, rank_weight 1.0 (NN-Former's loss balance); "
        f"NN-Former: {nn_opts}. The paper trains far "
        f"longer on a GPU; these are CPU budgets."
    )


def _zs_specs(s: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    common = {"log_target": True, "epochs": s["zs_epochs"], "batch_size": 128, "lr": 1e-3}
    return {
        "LeDG-Former": ("ledgformer", dict(common)),
        # the training loop's default loss, as LeDG-Former's (NN-Former's own default is rank_weight 1.0)
        "NN-Former (no hw)": ("nnformer", {**common, "rdrop_weight": 0.0, "rank_weight": 0.2}),
        "FLOPs/params linear": ("params_linear", {"log_target": True}),
    }


def part_zero_shot(quick: bool) -> str:
    """Leave-one-device-out on the 27 HELP settings, plus few-shot for the hard hold-outs."""
    s = _settings(quick)
    task = _task()
    base = dict(
        sizes=[s["zs_cells"]],
        protocol="leave_one_device_out",
        train_metric="latency/*",
        relative_metrics=True,
        test_subsample=s["test_subsample"],
        threads=1,
    )
    if ONLY_HOLDOUTS:
        unknown = [d for d in ONLY_HOLDOUTS if d not in s["holdouts"]]
        if unknown:
            raise SystemExit(
                f"--holdouts: {unknown[0]!r} is not a hold-out of these settings ({', '.join(s['holdouts'])})"
            )
        s["holdouts"] = [d for d in s["holdouts"] if d in ONLY_HOLDOUTS]
    rows: Rows = []
    for device in s["holdouts"]:  # one sub-run per hold-out, so --resume keeps the finished ones
        rows += _run(
            f"zero_shot/{device}", task, _zs_specs(s), protocol_options={"holdout": [device]}, **base
        )
    few = _run(
        "few_shot",
        task,
        {"LeDG-Former": _zs_specs(s)["LeDG-Former"]},
        protocol_options={"holdout": s["shot_holdouts"], "shots": s["shots"]},
        **base,
    )
    few_by = {r["device"]: r for r in few}
    table = []
    for device in s["holdouts"]:
        got = {r["predictor"]: r for r in rows if r["device"] == device}
        line: list[Any] = [device, got["LeDG-Former"]["family"]]
        for label in ("LeDG-Former", "NN-Former (no hw)", "FLOPs/params linear"):
            line.append(_triple(got[label]))
        f = few_by.get(device)
        line.append(_triple(f) if f else "")
        table.append(line)
    gpu = [r for r in rows if r["predictor"] == "LeDG-Former" and r["family"] == "GPU"]
    summary = ""
    if gpu:
        summary = (
            f"\n\nGPU→GPU mean over {len(gpu)} held-out GPU settings, LeDG-Former: MAPE "
            f"{_mean(gpu, 'mape'):.1f} %, Acc(10%) {_mean(gpu, 'acc10'):.1f} % "
            f"(paper, GPU→GPU zero-shot: MAPE 18–19 %, Acc(10%) 35–39 %)."
        )
    return (
        "### Zero-shot latency on held-out HELP devices (leave-one-device-out)\n\n"
        "Cells: MAPE % / Acc(10%) % / Kendall τ.\n\n"
        + markdown_table(
            [
                "held-out device",
                "family",
                "LeDG-Former (zero-shot)",
                "NN-Former without hardware",
                "FLOPs/params linear",
                f"LeDG-Former {s['shots']}-shot",
            ],
            table,
        )
        + summary
        + f"\n\nTraining: the same {s['zs_cells']} random cells measured on each of the 26 other HELP "
        f"settings ({s['zs_cells'] * 26:,} rows, log-latency targets); test: {s['test_subsample']:,} random "
        f"cells never used in "
        f"training, on the held-out device, seed 0. LeDG-Former sees each row's device description "
        f"(nasearch/data/devices.csv); NN-Former (same epochs and lr) and the linear model (ridge on op counts, "
        f"log target) see none, so they predict a cross-device average. Few-shot adds {s['shots']} cells "
        f"of the held-out device to training. MAPE on pixel3 / raspi4 is dominated by the 341 cells whose "
        f"output is cut off from the input (all paths through `none`): they measure ~0.003–0.14 ms there, so "
        f"a model that does not predict ~0 for them gets relative errors of 100×; Kendall τ is the fairer "
        f"figure on those."
    )


def _hashes(rows: Rows, label: str) -> str:
    return "/".join(sorted({str(r.get("options_hash", "")) for r in rows if r["predictor"] == label})) or "-"


def part_unseen_chip(quick: bool) -> str:
    """Every HELP setting held out two ways: its setting only ("unseen setting": the chip's other
    batch sizes stay in training) and its whole chip ("device never seen")."""
    from nasearch.data.devices import load_devices
    from nasearch.search_spaces.nasbench201.protocols import chip_groups

    s = _settings(quick)
    task = _task()
    table_devices = load_devices()
    base = dict(
        sizes=[s["zs_cells"]],
        train_metric="latency/*",
        relative_metrics=True,
        test_subsample=s["test_subsample"],
        threads=1,
    )
    holdouts = [d for d in s["holdouts"] if not ONLY_HOLDOUTS or d in ONLY_HOLDOUTS]
    specs = {k: v for k, v in _zs_specs(s).items() if k != "NN-Former (no hw)"}
    chip_rows: Rows = []
    setting_rows: Rows = []
    from nasearch.search_spaces.nasbench201.benchmark import HELP_DEVICES

    pool_chips = chip_groups(list(HELP_DEVICES))
    shared: list[str] = []
    for chip, devices in chip_groups(holdouts).items():  # one sub-run per chip: one fit serves its settings
        setting = _run(
            f"unseen_setting/{devices[0]}",
            task,
            specs,
            protocol="leave_one_setting_out",
            protocol_options={"holdout": devices},
            **base,
        )
        setting_rows += setting
        if len(pool_chips[chip]) == 1:  # the only setting of its chip: both protocols train on the same rows
            chip_rows += [{**r, "held_out_settings": 1} for r in setting]
            shared += devices
            continue
        chip_rows += _run(
            f"unseen_chip/{devices[0]}",
            task,
            specs,
            protocol="leave_one_chip_out",
            protocol_options={"holdout": devices},
            **base,
        )
    table = []
    for device in holdouts:
        chip = {r["predictor"]: r for r in chip_rows if r["device"] == device}
        setting = {r["predictor"]: r for r in setting_rows if r["device"] == device}
        spec = table_devices[device]
        table.append(
            [
                device,
                spec.chip,
                spec.family,
                int(chip["LeDG-Former"]["held_out_settings"]),
                _triple(setting["LeDG-Former"]),
                _triple(chip["LeDG-Former"]),
                _triple(setting["FLOPs/params linear"]),
                _triple(chip["FLOPs/params linear"]),
                f"{setting['LeDG-Former'].get('options_hash', '-')} / {chip['LeDG-Former'].get('options_hash', '-')}",
            ]
        )
    gpu = [d for d in holdouts if table_devices[d].family == "GPU"]
    summary = ""
    if gpu:

        def mean(rows: Rows, key: str) -> float:
            return _mean([r for r in rows if r["predictor"] == "LeDG-Former" and r["device"] in gpu], key)

        summary = (
            f"\n\nLeDG-Former over the {len(gpu)} GPU settings: unseen setting MAPE "
            f"{mean(setting_rows, 'mape'):.1f} %, "
            f"Acc(10%) {mean(setting_rows, 'acc10'):.1f} %, τ {mean(setting_rows, 'kendall_tau'):.3f}; unseen chip "
            f"MAPE {mean(chip_rows, 'mape'):.1f} %, Acc(10%) {mean(chip_rows, 'acc10'):.1f} %, "
            f"τ {mean(chip_rows, 'kendall_tau'):.3f}."
        )
    commits = sorted({str(r.get("commit", "")) for r in chip_rows + setting_rows})
    return (
        "### Unseen chip against unseen setting (zero-shot latency, every HELP setting)\n\n"
        "Cells: MAPE % / Acc(10%) % / Kendall τ. *Unseen setting* (`leave_one_setting_out`, formerly "
        "`leave_one_device_out`) holds out one HELP setting; the same chip at its other batch sizes stays in "
        "training. *Unseen chip* (`leave_one_chip_out`) holds out every setting on the chip (the `chip` column "
        "of nasearch/data/devices.csv; pixel2 and essential_ph_1 share a Snapdragon 835): the headline "
        '"device never seen". Note that 2080ti/titan_rtx (TU102) and 1080ti/titanx/titanxp (GP102) are '
        "different chips in the table but the same die.\n\n"
        + markdown_table(
            [
                "held-out setting",
                "chip",
                "family",
                "settings left out (chip)",
                "LeDG-Former, unseen setting",
                "LeDG-Former, unseen chip",
                "FLOPs/params linear, unseen setting",
                "FLOPs/params linear, unseen chip",
                "options hash LeDG (setting / chip)",
            ],
            table,
        )
        + summary
        + f"\n\nTraining: the same {s['zs_cells']} random cells measured on each training setting "
        f"(log-latency targets; LeDG-Former {s['zs_epochs']} epochs, batch 128, lr 1e-3); test: "
        f"{s['test_subsample']:,} random cells never used in training, on the held-out setting, seed 0. "
        + (
            f"Settings alone on their chip ({', '.join(shared)}) train on the same rows under both protocols; "
            "they were fitted once (the unseen-setting run, whose hash both columns show). "
            if shared
            else ""
        )
        + f"Linear model options hashes: {_hashes(setting_rows, 'FLOPs/params linear')} (setting) / "
        f"{_hashes(chip_rows, 'FLOPs/params linear')} (chip). Commit(s) of the rows: {', '.join(commits) or '-'}."
    )


def part_ablation(quick: bool) -> str:
    """The paper's three ablations, on NB201 accuracy (469 cells) and on GPU zero-shot."""
    s = _settings(quick)
    variants: dict[str, dict[str, Any]] = {
        "LeDG-Former (dynamic, pretrained text)": {},
        "fixed uniform branch weights": {"dynamic": False},
        "random-initialised text encoder": {"pretrained_text": False},
        "NN-Former input encoding (one-hot ops)": {"node_encoding": "onehot"},
    }
    task = _task()
    acc_options = {"epochs": s["abl_epochs"], "batch_size": 32}
    acc_specs = {k: ("ledgformer", {**acc_options, **v}) for k, v in variants.items()}
    acc = _run("ablation_accuracy", task, acc_specs, sizes=[469], **ACCURACY)
    zs_base = _zs_specs(s)["LeDG-Former"][1]
    zs_specs = {k: ("ledgformer", {**zs_base, **v}) for k, v in variants.items()}
    zs = _run(
        "ablation_zero_shot",
        task,
        zs_specs,
        sizes=[s["zs_cells"]],
        protocol="leave_one_device_out",
        train_metric="latency/*",
        relative_metrics=True,
        test_subsample=s["test_subsample"],
        threads=1,
        protocol_options={"holdout": s["abl_holdouts"]},
    )
    table = []
    for label in variants:
        a = next(r for r in acc if r["predictor"] == label)
        z = [r for r in zs if r["predictor"] == label]
        table.append(
            [label, float(a["kendall_tau"]), *(_mean(z, k) for k in ("mape", "acc10", "kendall_tau"))]
        )
    return (
        "### Ablations\n\n"
        + markdown_table(
            [
                "variant",
                "NB201 τ @469 (paper protocol)",
                "zero-shot GPU MAPE %",
                "zero-shot GPU Acc(10%) %",
                "zero-shot GPU τ",
            ],
            table,
        )
        + f"\n\nAccuracy: {s['abl_epochs']} epochs, batch 32. One seed each; zero-shot columns average the "
        f"held-out settings {', '.join(s['abl_holdouts'])} (same protocol as above). Differences of a few "
        f"hundredths in τ are within seed noise at this budget."
    )


PARTS: dict[str, Callable[[bool], str]] = {
    "encoder": part_encoder,
    "accuracy": part_accuracy,
    "zero_shot": part_zero_shot,
    "ablation": part_ablation,
    "unseen_chip": part_unseen_chip,
}


def main(argv: list[str] | None = None) -> int:
    """Run the chosen parts and write each one's section of BENCHMARKS.md."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_ledgformer", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="small settings (minutes on 2 cores)")
    parser.add_argument(
        "--parts", default=",".join(PARTS), help=f"comma-separated subset of {', '.join(PARTS)}"
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="reuse sub-runs whose results.csv under runs/out/bench_ledgformer is complete",
    )
    parser.add_argument(
        "--holdouts",
        default="",
        help="zero_shot: only these held-out settings (comma-separated), e.g. to split the "
        "27 across processes; a final --resume run renders the whole table",
    )
    args = parser.parse_args(argv)
    from nasearch.data.provenance import git_commit

    git_commit()  # read now: rows name the commit the run started from, whatever is edited meanwhile
    global RESUME, OUT, ONLY_HOLDOUTS
    RESUME = args.resume
    ONLY_HOLDOUTS = [d.strip() for d in args.holdouts.split(",") if d.strip()]
    if args.quick:
        OUT = OUT / "quick"  # never mixed with (or resumed into) the full settings' rows
    import torch

    torch.set_num_threads(1)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown part {unknown[0]!r} (parts: {', '.join(PARTS)})")
    for part in parts:
        print(f"== {part}{' (quick)' if args.quick else ''}", flush=True)
        start = time.perf_counter()
        body = PARTS[part](args.quick)
        minutes = (time.perf_counter() - start) / 60
        mode = "quick settings (`--quick`)" if args.quick else "full settings"
        section = (
            f"## LeDG-Former: {part.replace('_', ' ')}{' (quick)' * args.quick}\n\n{machine_line()} "
            f"`python -m benchmarks.bench_ledgformer --parts {part}{' --quick' * args.quick}"
            f"{' --resume' * args.resume}`, {mode}, {minutes:.1f} min"
            f"{' (sub-runs finished by an earlier run of the same settings were reused)' * args.resume}; "
            f"the 2 CPU cores were shared with other jobs, so times are noisy.\n\n{body}"
        )
        # quick figures get their own sections, so a quick run never overwrites the full ones
        write_section(f"ledgformer-{part}{'-quick' * (args.quick and part != 'encoder')}", section)
        print(body, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
