"""Fitting and scoring: every predictor x size x seed x split, one traced ``results.csv`` row each."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from nasearch.compare.protocols import check_split, get_protocol, unseen_mask
from nasearch.compare.schema import CompareConfig
from nasearch.compare.task import Task, build_task
from nasearch.provenance import provenance

CSV_COLUMNS = [
    "predictor", "protocol", "train_size", "seed", "kendall_tau", "spearman", "mape", "acc10",
    "fit_seconds", "predict_seconds", "n_test", "n_validation", "train_metric", "test_metric",
    "kendall_tau_unseen", "n_unseen",
]  # fmt: skip


#: the last columns of every row: where it came from (``nasearch.provenance``)
TRACE_COLUMNS = ["options", "options_hash", "version", "commit"]


def score(y_true: np.ndarray, y_pred: np.ndarray, relative: bool) -> dict[str, float]:
    """The metrics of one fit (MAPE and Acc(10%) only for relative targets)."""
    from nasearch.metrics import evaluate

    return evaluate(y_true, y_pred, relative=relative)


def run_compare(
    config: CompareConfig,
    specs: Mapping[str, tuple[str, Mapping[str, Any]]],
    out_dir: Path,
    task: Task | None = None,
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Fit and score every predictor x size x seed x split; write results.csv as rows come."""
    from nasearch.api import accepts_eval_set, fit_predictor
    from nasearch.registry import PREDICTORS

    if config.threads is not None:
        import torch

        torch.set_num_threads(config.threads)
    task = task or build_task(config)
    protocol = get_protocol(config.protocol)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / "results.csv"
    rows: list[dict[str, Any]] = []
    columns = list(CSV_COLUMNS)
    handle = csv_path.open("w", newline="")
    try:
        writer: csv.DictWriter[str] | None = None
        fitted: dict[str, tuple[Any, Any, float, Any]] = {}
        for size in config.sizes:
            for seed in config.seeds:
                for split in protocol(task, size, seed, config):
                    check_split(split, config.protocol)
                    for label, (name, options) in specs.items():
                        reuse_key = None if split.fit_key is None else (size, seed, split.fit_key)
                        if reuse_key is not None and fitted.get(label, (None,))[0] == reuse_key:
                            _, model, fit_s, eval_set = fitted[label]
                        else:
                            model = PREDICTORS.create(name, **_with_seed(PREDICTORS.get(name), options, seed))
                            start = time.perf_counter()
                            eval_set = None
                            if split.validation is not None and accepts_eval_set(model):
                                eval_set = (task.graphs_at(split.validation), split.y_validation)
                            fit_predictor(
                                model, task.graphs_at(split.train), split.y_train, split.hardware_train, eval_set
                            )
                            fit_s = time.perf_counter() - start
                            fitted[label] = (reuse_key, model, fit_s, eval_set)  # only the latest fit is kept
                        start = time.perf_counter()
                        pred = model.predict(task.graphs_at(split.test), hardware=split.hardware_test)
                        pred_s = time.perf_counter() - start
                        metrics = score(split.y_test, pred, config.relative)
                        unseen = unseen_mask(split)
                        row = {
                            "predictor": label, "protocol": config.protocol, "train_size": size,
                            "seed": seed, "mape": "", "acc10": "", **metrics,
                            "fit_seconds": round(fit_s, 3), "predict_seconds": round(pred_s, 3),
                            "n_test": int(split.test.size),
                            "n_validation": 0 if eval_set is None else len(eval_set[0]),
                            "train_metric": config.train_metric,
                            "test_metric": config.target_metric,
                            "kendall_tau_unseen": _tau(split.y_test[unseen], pred[unseen]),
                            "n_unseen": int(unseen.sum()), **split.info,
                            **provenance(row_options(config, name, options)),
                        }  # fmt: skip
                        if writer is None:
                            columns += [k for k in split.info if k not in columns] + TRACE_COLUMNS
                            writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
                            writer.writeheader()
                        writer.writerow(row)
                        handle.flush()
                        rows.append(row)
                        extra = "".join(f" {k}={v}" for k, v in split.info.items())
                        rel = f" mape={metrics['mape']:.2f}% acc10={metrics['acc10']:.1f}%" if config.relative else ""
                        log(
                            f"{label:>16} n={size:<6} seed={seed}{extra} tau={metrics['kendall_tau']:.4f} "
                            f"rho={metrics['spearman']:.4f}{rel} fit={fit_s:.1f}s"
                        )
    finally:
        handle.close()
    return rows


def _tau(y_true: np.ndarray, y_pred: np.ndarray) -> float | str:
    """Kendall tau-b, or '' when fewer than 2 cells."""
    from nasearch.metrics import kendall_tau

    return kendall_tau(y_true, y_pred) if y_true.size >= 2 else ""


def row_options(config: CompareConfig, name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """What a results.csv row was measured with: the predictor's options over its constructor's
    defaults (the fit seed left out: it has its own column) and every config key that changes a
    score. Two rows with equal ``options_hash`` differ only in size, seed and held-out device."""
    from nasearch.provenance import resolved_options
    from nasearch.registry import PREDICTORS

    predictor = {k: v for k, v in resolved_options(PREDICTORS.get(name), options).items() if k != "seed"}
    # ``holdout`` picks which device a row tests (its ``device`` column), as size and seed pick theirs
    protocol_options = {k: v for k, v in config.protocol_options.items() if k != "holdout"}
    return {
        "predictor": name, "predictor_options": predictor, "space": config.space,
        "space_options": dict(config.space_options), "protocol": config.protocol,
        "protocol_options": protocol_options, "train_metric": config.train_metric,
        "test_metric": config.target_metric, "validation_size": config.validation_size,
        "test_subsample": config.test_subsample,
    }  # fmt: skip


def _with_seed(factory: Any, options: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """``options`` plus ``seed=seed`` when the predictor takes a seed (the run's seed wins)."""
    from nasearch.options import accepted_options

    named, var_kw = accepted_options(factory)
    return {**options, "seed": seed} if ("seed" in named or var_kw) else dict(options)
