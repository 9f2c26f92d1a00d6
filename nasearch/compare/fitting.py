"""Fitting and scoring: every predictor x size x seed x split, one traced ``results.csv`` row each."""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
import pickle
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nasearch.api import FitsAndPredicts, accepts_eval_set, fit_predictor
from nasearch.compare.protocols import Split, check_split, get_protocol, unseen_mask
from nasearch.compare.schema import CompareConfig
from nasearch.compare.task import Task, build_task
from nasearch.config.options import accepted_options, call_with_options
from nasearch.config.registry import PREDICTORS
from nasearch.data.provenance import provenance, resolved_options
from nasearch.data.safeio import write_text
from nasearch.metrics.ranking import evaluate, kendall_tau

CSV_COLUMNS = [
    "predictor",
    "protocol",
    "train_size",
    "seed",
    "kendall_tau",
    "spearman",
    "mape",
    "acc10",
    "fit_seconds",
    "predict_seconds",
    "n_test",
    "n_validation",
    "train_metric",
    "test_metric",
    "kendall_tau_unseen",
    "n_unseen",
]


#: the last columns of every row: where it came from (``nasearch.data.provenance``)
TRACE_COLUMNS = ["options", "options_hash", "version", "commit"]


def score(y_true: np.ndarray, y_pred: np.ndarray, relative: bool) -> dict[str, float]:
    """The metrics of one fit (MAPE and Acc(10%) only for relative targets)."""
    return evaluate(y_true, y_pred, relative=relative)


def run_compare(
    config: CompareConfig,
    specs: Mapping[str, tuple[str, Mapping[str, object]]],
    out_dir: Path,
    task: Task | None = None,
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Fit and score every predictor x size x seed x split; write results.csv as rows come.

    Rows that results.csv already holds with the same predictor, size, seed, split and options
    hash are read back, not fitted again (a stopped comparison resumes). The fits left run on
    ``config.workers`` processes (default: the CPUs this process may use), each with
    ``config.threads`` torch threads (default 1): on a CPU, parallel one-thread fits beat
    multi-threaded ones, and threads fighting over shared cores are many times slower."""
    task = task or build_task(config)
    protocol = get_protocol(config.protocol)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / "results.csv"
    jobs: list[FitJob] = []
    info_columns: list[str] = []
    hashes = {
        label: provenance(row_options(config, name, options)) for label, (name, options) in specs.items()
    }
    for size in config.sizes:
        for seed in config.seeds:
            splits = list(protocol(task, size, seed, config))
            for split in splits:
                check_split(split, config.protocol)
                info_columns += [k for k in split.info if k not in info_columns]
            for order, (label, (name, options)) in enumerate(specs.items()):
                for group in _fit_groups(splits):
                    jobs.append(FitJob(label, name, dict(options), size, seed, group, order))
    columns = list(CSV_COLUMNS) + info_columns + TRACE_COLUMNS
    done = _finished_rows(csv_path, log)
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    todo: list[FitJob] = []
    for job in jobs:
        keys = [
            _row_key(job.label, job.size, job.seed, hashes[job.label]["options_hash"], s.info)
            for _, s in job.splits
        ]
        if all(k in done for k in keys):
            for (index, _), k in zip(job.splits, keys):
                rows[(job.size, job.seed, index, job.order)] = done[k]
        else:
            todo.append(job)
    if rows:
        log(f"{len(rows)} row(s) read back from {csv_path} (same options); {len(todo)} fit(s) to run")
    handle = csv_path.open("w", newline="")
    try:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows.values():
            writer.writerow(row)
        handle.flush()
        for job, fit_s, outputs, eval_n in _execute(todo, task, config, log):
            for (index, split), (pred, pred_s) in zip(job.splits, outputs):
                metrics = score(split.y_test, pred, config.relative)
                unseen = unseen_mask(split)
                row = {
                    "predictor": job.label,
                    "protocol": config.protocol,
                    "train_size": job.size,
                    "seed": job.seed,
                    "mape": "",
                    "acc10": "",
                    **metrics,
                    "fit_seconds": round(fit_s, 3),
                    "predict_seconds": round(pred_s, 3),
                    "n_test": int(split.test.size),
                    "n_validation": eval_n,
                    "train_metric": config.train_metric,
                    "test_metric": config.target_metric,
                    "kendall_tau_unseen": _tau(split.y_test[unseen], pred[unseen]),
                    "n_unseen": int(unseen.sum()),
                    **split.info,
                    **hashes[job.label],
                }
                writer.writerow(row)
                handle.flush()
                rows[(job.size, job.seed, index, job.order)] = row
                extra = "".join(f" {k}={v}" for k, v in split.info.items())
                rel = f" mape={metrics['mape']:.2f}% acc10={metrics['acc10']:.1f}%" if config.relative else ""
                log(
                    f"{job.label:>16} n={job.size:<6} seed={job.seed}{extra} tau={metrics['kendall_tau']:.4f} "
                    f"rho={metrics['spearman']:.4f}{rel} fit={fit_s:.1f}s"
                )
    finally:
        handle.close()
    ordered = [
        rows[k]
        for k in sorted(rows, key=lambda k: (config.sizes.index(k[0]), config.seeds.index(k[1]), k[2], k[3]))
    ]
    _rewrite(csv_path, columns, ordered)
    return ordered


@dataclass
class FitJob:
    """One fit of one predictor and the splits it is scored on (splits with one ``fit_key`` share it)."""

    label: str
    name: str
    options: dict[str, object]
    size: int
    seed: int
    #: (index of the split within its (size, seed), the split)
    splits: list[tuple[int, Split]]
    #: the predictor's position in the config (row order)
    order: int


def _fit_groups(splits: list[Split]) -> list[list[tuple[int, Split]]]:
    """Consecutive splits with one non-None ``fit_key`` train on identical rows: one fit each run."""
    groups: list[list[tuple[int, Split]]] = []
    for index, split in enumerate(splits):
        if groups and split.fit_key is not None and groups[-1][-1][1].fit_key == split.fit_key:
            groups[-1].append((index, split))
        else:
            groups.append([(index, split)])
    return groups


#: numeric results.csv columns, to read rows back with their types
_INT_COLUMNS = ("train_size", "seed", "n_test", "n_validation", "n_unseen")
_FLOAT_COLUMNS = (
    "kendall_tau",
    "spearman",
    "mape",
    "acc10",
    "fit_seconds",
    "predict_seconds",
    "kendall_tau_unseen",
)


def _row_key(
    label: str, size: object, seed: object, options_hash: str, info: Mapping[str, object]
) -> tuple[str, ...]:
    """What identifies a row across runs: predictor label, size, seed, the options hash and the split's info."""
    parts = sorted(f"{k}={v}" for k, v in info.items() if str(v) != "")
    return (str(label), str(size), str(seed), str(options_hash), *parts)


def _finished_rows(path: Path, log: Callable[[str], None]) -> dict[tuple[str, ...], dict[str, Any]]:
    """The complete rows an earlier run left in ``path``, by ``_row_key`` (an unreadable file: none, said)."""
    if not path.is_file():
        return {}
    try:
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            fields = list(reader.fieldnames or [])
            raw = list(reader)
    except (OSError, csv.Error, UnicodeDecodeError) as exc:
        log(f"{path}: unreadable ({exc}); fitting every row again")
        return {}
    if "options_hash" not in fields or any(c not in fields for c in CSV_COLUMNS):
        log(f"{path}: written by another version (columns differ); fitting every row again")
        return {}
    info_columns = [f for f in fields if f not in CSV_COLUMNS and f not in TRACE_COLUMNS]
    out: dict[tuple[str, ...], dict[str, Any]] = {}
    for row in raw:
        if any(row.get(c) is None for c in fields) or not row.get("options_hash"):
            continue  # a line cut short when the run was stopped
        try:
            typed = _typed(row)
        except ValueError:
            continue
        info = {k: row[k] for k in info_columns if row[k] != ""}
        key = _row_key(row["predictor"], row["train_size"], row["seed"], row["options_hash"], info)
        out[key] = typed
    return out


def _typed(row: dict[str, Any]) -> dict[str, Any]:
    """A results.csv row with its numbers as numbers (empty cells stay "")."""
    out = dict(row)
    for c in _INT_COLUMNS:
        out[c] = int(row[c])
    for c in _FLOAT_COLUMNS:
        out[c] = float(row[c]) if row.get(c) not in (None, "") else ""
    return out


def _rewrite(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """results.csv in the comparison's order (rows were appended as fits finished)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    write_text(path, buffer.getvalue())


def default_workers() -> int:
    """The CPUs this process may use (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _execute(
    jobs: list[FitJob], task: Task, config: CompareConfig, log: Callable[[str], None]
) -> Iterator[tuple[FitJob, float, list[tuple[np.ndarray, float]], int]]:
    """Run ``jobs``: in this process when one worker (or a predictor class that cannot be sent to
    another process) is all there is, else on a pool of ``workers`` processes; yields as fits finish."""
    workers = min(config.workers or default_workers(), len(jobs))
    factories = {job.name: PREDICTORS.get(job.name) for job in jobs}
    local = []
    for name, factory in factories.items():
        try:
            if getattr(factory, "__module__", "") == "__main__":
                raise pickle.PicklingError("defined in __main__")
            pickle.dumps(factory)
        except (pickle.PicklingError, AttributeError, TypeError):
            local.append(name)
    if workers > 1 and local:
        log(
            f"predictor(s) {', '.join(local)} cannot be sent to worker processes (defined in __main__ or inside "
            "a function): fitting in this process, one at a time"
        )
        workers = 1
    if workers <= 1:
        yield from _execute_here(jobs, task, config)
        return
    yield from _execute_pool(jobs, task, config, workers, factories)


def _payload(job: FitJob, task: Task, factory: Callable[..., object]) -> dict[str, Any]:
    """What a worker needs for one fit: the factory, options, graphs and targets (no task)."""
    split = job.splits[0][1]
    validation = None
    if split.validation is not None:
        validation = (task.graphs_at(split.validation), split.y_validation)
    return {
        "factory": factory,
        "name": job.name,
        "options": _with_seed(factory, job.options, job.seed),
        "train": task.graphs_at(split.train),
        "y_train": split.y_train,
        "hardware_train": split.hardware_train,
        "validation": validation,
        "tests": [(task.graphs_at(s.test), s.hardware_test) for _, s in job.splits],
    }


def fit_and_predict(payload: dict[str, Any]) -> tuple[float, list[tuple[np.ndarray, float]], int]:
    """One fit and its predictions on every test set: (fit seconds, [(predictions, seconds)], validation cells)."""
    model = call_with_options(payload["factory"], payload["options"], f"predictor {payload['name']!r}")
    start = time.perf_counter()
    eval_set = payload["validation"] if accepts_eval_set(model) else None
    fit_predictor(model, payload["train"], payload["y_train"], payload["hardware_train"], eval_set)
    fit_s = time.perf_counter() - start
    outputs = []
    for graphs, hardware in payload["tests"]:
        start = time.perf_counter()
        pred = np.asarray(model.predict(graphs, hardware=hardware), dtype=float)
        outputs.append((pred, time.perf_counter() - start))
    return fit_s, outputs, 0 if eval_set is None else len(eval_set[0])


def _execute_here(
    jobs: list[FitJob], task: Task, config: CompareConfig
) -> Iterator[tuple[FitJob, float, list[tuple[np.ndarray, float]], int]]:
    """Fit one job after the other in this process, with ``config.threads`` torch threads meanwhile."""
    threads = None
    if config.threads is not None:
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(config.threads)
    try:
        for job in jobs:
            yield (job, *fit_and_predict(_payload(job, task, PREDICTORS.get(job.name))))
    finally:
        if threads is not None:
            import torch

            torch.set_num_threads(threads)


def _init_worker(threads: int | None, path: list[str]) -> None:
    """A fit worker: the parent's import path (plug-ins found through a config's folder), its thread count."""
    sys.path[:] = path
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


def _execute_pool(
    jobs: list[FitJob],
    task: Task,
    config: CompareConfig,
    workers: int,
    factories: dict[str, Callable[..., FitsAndPredicts]],
) -> Iterator[tuple[FitJob, float, list[tuple[np.ndarray, float]], int]]:
    """Fit on ``workers`` fresh processes (spawned: a forked torch can hang); at most two jobs queued
    per worker, so a stop loses little and the driver's memory holds few payloads."""
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
        initargs=(config.threads, list(sys.path)),
    )
    pending: dict[Future[tuple[float, list[tuple[np.ndarray, float]], int]], FitJob] = {}
    queue = list(jobs)
    finished_all = False
    try:
        while queue or pending:
            while queue and len(pending) < 2 * workers:
                job = queue.pop(0)
                pending[pool.submit(fit_and_predict, _payload(job, task, factories[job.name]))] = job
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                job = pending.pop(future)
                yield (job, *future.result())
        finished_all = True
    finally:  # stopped (Ctrl-C, an error): queued fits are dropped, running ones not waited for
        pool.shutdown(wait=finished_all, cancel_futures=True)


def _tau(y_true: np.ndarray, y_pred: np.ndarray) -> float | str:
    """Kendall tau-b, or '' when fewer than 2 cells."""
    return kendall_tau(y_true, y_pred) if y_true.size >= 2 else ""


def row_options(config: CompareConfig, name: str, options: Mapping[str, object]) -> dict[str, object]:
    """What a results.csv row was measured with: the predictor's options over its constructor's
    defaults (the fit seed left out: it has its own column) and every config key that changes a
    score. Two rows with equal ``options_hash`` differ only in size, seed and held-out device."""
    predictor = {k: v for k, v in resolved_options(PREDICTORS.get(name), options).items() if k != "seed"}
    # ``holdout`` picks which device a row tests (its ``device`` column), as size and seed pick theirs
    protocol_options = {k: v for k, v in config.protocol_options.items() if k != "holdout"}
    return {
        "predictor": name,
        "predictor_options": predictor,
        "space": config.space,
        "space_options": dict(config.space_options),
        "protocol": config.protocol,
        "protocol_options": protocol_options,
        "train_metric": config.train_metric,
        "test_metric": config.target_metric,
        "validation_size": config.validation_size,
        "test_subsample": config.test_subsample,
    }


def _with_seed(factory: Callable[..., object], options: Mapping[str, object], seed: int) -> dict[str, object]:
    """``options`` plus ``seed=seed`` when the predictor takes a seed (the run's seed wins)."""
    named, var_kw = accepted_options(factory)
    return {**options, "seed": seed} if ("seed" in named or var_kw) else dict(options)
