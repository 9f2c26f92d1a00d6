"""The multi-fidelity loop: ask -> schedule -> evaluate on the simulated clock -> record -> tell.

``nasearch.search.loop.run_seed`` hands a study here when its optimizer block (or the run) has a
``scheduler:``. The evaluator must offer fidelities and say what each step costs: a benchmark
table's recorded training time, or a real evaluator's measured time (the ``train`` evaluator,
which trains here, in this process, and keeps its checkpoints under ``<run dir>/checkpoints/``).
Each job is evaluated at once and put on a ``SimulatedClock`` of ``parallel.workers`` workers,
and results come back in the order those workers would return them. The jobs run in this
process whatever ``parallel.backend`` says: the loop does not dispatch them to Ray workers. The optimizer is
told each cell once, at its first result; the scheduler hears every result.

Resume re-drives the search from its start: every evaluation already stored (``TrialStore``) is
reused instead of evaluated or written again, so a killed search loses and repeats nothing,
promotions included, and, since optimizers, schedulers and the clock are deterministic given
the seed, the resumed search goes on exactly as the uninterrupted one would. Evaluations that
were running on a simulated worker when the process died were never stored: they are run again.

Budgets: ``budget.simulated_seconds`` is simulated wall time (the clock, W workers);
``budget.queries`` counts evaluations at any fidelity. ``stop_at_optimum: true`` in the scheduler
block ends the search once the benchmark's optimum is trained at full fidelity (benchmarks that
measure the time to it: the rest of the search could not change it).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Hashable
from pathlib import Path
from typing import Any, Protocol

from nasearch.api import AnySpace, Optimizer, Result
from nasearch.api.errors import ConfigError
from nasearch.api.fidelity import Continues, Job, MultiFidelity
from nasearch.config.blocks import Block
from nasearch.config.run_schema import RunConfig
from nasearch.evaluation.simclock import SimulatedClock
from nasearch.schedulers.config import build_scheduler
from nasearch.schedulers.store import SUMMARY_ATTR, TrialStore, fkey, stored_result
from nasearch.search.parts import build_evaluator
from nasearch.search.report import SeedReport, fill_report
from nasearch.search.tracking import StudyTracker, load_study
from nasearch.search.trajectory import Incumbent, OptimumTarget


class RunParts(Protocol):
    """What this loop reads of the run's shared parts (``nasearch.search.loop.SearchContext``)."""

    cfg: RunConfig
    space: AnySpace
    test_metric: str | None
    reference: list[float] | None
    #: the run folder (a continuing evaluator keeps its checkpoints under it); None: none
    run_dir: Path | None

    @property
    def target(self) -> OptimumTarget:
        """What "found the optimum" means in this run."""
        ...


def scheduler_of(ctx: RunParts, block: Block) -> Block | None:
    """The scheduler block that applies to an optimizer block (its own, else the run's), or None."""
    found: Block | None = getattr(block, "scheduler", None) or getattr(ctx.cfg, "scheduler", None)
    return found


def _event(result: Result | None, error: str | None, metric: str, start: float, end: float) -> dict[str, Any]:
    if result is None:
        return {"error": error or "evaluation failed", "sim": 0.0, "start": start, "end": end, "value": None}
    value = result.metrics.get(metric)
    ok = value is not None and math.isfinite(value)
    out: dict[str, Any] = {
        "metrics": {k: (float(v) if math.isfinite(v) else None) for k, v in result.metrics.items()},
        "sim": float(result.simulated_seconds),
        "cost_seconds": float(result.cost_seconds),
        "start": start,
        "end": end,
        "value": float(value) if ok and value is not None else None,
    }
    curve = result.info.get("intermediate_values")
    if (
        curve and result.info.get("intermediate_metric") == metric
    ):  # the objective after every epoch of the step
        out["curve"] = {str(int(k)): float(v) for k, v in curve.items() if math.isfinite(v)}
    if "epochs_trained" in result.info:  # a continuing evaluator: the epochs this step trained
        out["epochs_trained"] = float(result.info["epochs_trained"])
    if not ok:
        out["error"] = f"metric {metric!r} is missing or not finite"
    return out


def run_scheduled(
    ctx: RunParts, block: Block, seed: int, optimizer: Optimizer, tracker: StudyTracker
) -> SeedReport:
    """One study under a scheduler (see the module docstring)."""
    cfg, space = ctx.cfg, ctx.space
    where = f"{cfg.source.path}: optimizer {block.label or block.name!r}"
    evaluator = build_evaluator(cfg.evaluator, space)
    if not isinstance(evaluator, MultiFidelity) or not evaluator.fidelities():
        raise ConfigError(
            f"{where}: a scheduler needs an evaluator that offers fidelities "
            f"(e.g. the benchmark evaluator on NAS-Bench-201: 12 and 200 epochs); "
            f"{type(evaluator).__name__} offers none"
        )
    if isinstance(evaluator, Continues) and ctx.run_dir is not None:  # promotions continue from here
        evaluator.checkpoint_in(
            Path(ctx.run_dir) / "checkpoints" / re.sub(r"[^A-Za-z0-9_.-]+", "_", tracker.name)
        )
    if len(tracker.objectives) != 1:
        raise ConfigError(
            f"{where}: schedulers rank cells by one objective; this run has {len(tracker.objectives)}"
        )
    metric, maximize = tracker.objectives[0]
    sched_block = scheduler_of(ctx, block)
    assert sched_block is not None  # the search loop hands only scheduled studies here
    scheduler = build_scheduler(sched_block, space, seed, list(evaluator.fidelities()), maximize, where)
    workers = int(cfg.parallel.workers)
    store = TrialStore(tracker, space)
    stored = store.load()
    report = SeedReport(tracker.name, block.label or block.name, block.name, seed)
    report.replayed = sum(len(c.events) for c in stored.values())
    clock: SimulatedClock[tuple[Job, Result | None, str | None, bool]] = SimulatedClock(workers)
    state = Incumbent(tracker.objectives, ctx.target, ctx.test_metric)
    budget = cfg.budget
    seen: set[str] = set()
    told: set[str] = set()
    counts: dict[str, int] = {}
    events = 0
    new = 0
    found_at: float | None = None
    incumbent_curve: list[list[float]] = []
    fits0 = int((getattr(optimizer, "stats", {}) or {}).get("fits", 0))

    def propose() -> tuple[str, Hashable] | None:
        for _ in range(3):
            for arch in optimizer.ask(1):
                key = space.key(arch)
                if key in seen:
                    report.repeats_skipped += 1
                    continue
                seen.add(key)
                return key, arch
        return None

    def spent() -> bool:
        return bool(
            (budget.queries is not None and events >= budget.queries)
            or (budget.simulated_seconds is not None and clock.now >= budget.simulated_seconds)
        )

    start_wall = time.perf_counter()
    stopped = "budget"
    try:
        while not spent():
            while clock.free() > 0:
                job = scheduler.next_job(propose)
                if job is None:
                    break
                cell = stored.get(job.key)
                memo = cell.events.get(fkey(job.fidelity)) if cell is not None else None
                if memo is not None:
                    result, error, reused = stored_result(memo), memo.get("error"), True
                    cost = float(memo.get("sim", 0.0))
                else:
                    try:
                        result, error = evaluator.evaluate_at(job.arch, job.fidelity), None
                    except ConfigError:
                        raise
                    except Exception as exc:  # noqa: BLE001 - a cell's failure is a FAIL trial
                        result, error = None, f"{type(exc).__name__}: {exc}"
                    cost, reused = (result.simulated_seconds if result else 0.0), False
                clock.submit((job, result, error, reused), cost)
            if clock.running == 0:
                stopped = "optimizer proposed nothing new (space exhausted?)"
                break
            end, begin, (job, result, error, reused) = clock.pop()
            if budget.simulated_seconds is not None and end > budget.simulated_seconds:
                clock.now = float(budget.simulated_seconds)
                break
            event = _event(result, error, metric, begin, end)
            if not reused:
                t0 = time.perf_counter()
                store.add(job.key, job.arch, job.fidelity, event)
                report.tracking_seconds += time.perf_counter() - t0
                new += 1
            events += 1
            counts[fkey(job.fidelity)] = counts.get(fkey(job.fidelity), 0) + 1
            value = event["value"]
            if job.key not in told:
                told.add(job.key)
                optimizer.tell(job.arch, result if value is not None else None)
            scheduler.report(job, value)
            if value is None or job.rung == scheduler.top_rung:
                rec = store.finish(job.key, "COMPLETE" if value is not None else "FAIL")
                if rec is not None:
                    state.update(rec)
                    if state.best is not None:
                        incumbent_curve.append([end, state.best.metrics.get(metric, math.nan)])
                    if found_at is None and ctx.target.key is not None and job.key == ctx.target.key:
                        found_at = end
                        if sched_block.options.get("stop_at_optimum"):
                            stopped = "the optimum is trained at full fidelity"
                            break
                elif value is None:
                    report.failures += 1
            for key in scheduler.stopped():
                store.finish(key, "PRUNED")
    except KeyboardInterrupt:
        report.stopped = "interrupted"
        raise
    finally:
        report.wall_seconds = time.perf_counter() - start_wall
    for key, cell in store.cells.items():  # the search is over: unpromoted cells end PRUNED
        if not cell.finished:
            store.finish(key, "PRUNED")
    stats = getattr(optimizer, "stats", {}) or {}
    report.surrogate_fit_seconds = float(stats.get("fit_seconds", 0.0))
    report.surrogate_predict_seconds = float(stats.get("predict_seconds", 0.0))
    report.surrogate_fits = int(stats.get("fits", 0)) - fits0
    report.stopped = stopped
    report.queries = len(store.cells)
    report.evaluated = new
    report.simulated_seconds = sum(
        float(e.get("sim", 0.0)) for c in store.cells.values() for e in c.events.values()
    )
    fill_report(report, state, ctx.reference)
    # epochs trained: a table's fidelities are separate runs (each pays all its epochs); a continuing
    # evaluator says how many epochs each step trained
    epochs = sum(float(e.get("epochs_trained", f)) for c in store.cells.values() for f, e in c.events.items())
    summary = {
        "scheduler": sched_block.name,
        "workers": workers,
        "fidelities": list(scheduler.fidelities),
        "simulated_wall_seconds": clock.now,
        "simulated_worker_seconds": report.simulated_seconds,
        "time_to_optimum": found_at,
        "optimum_known": ctx.target.key is not None,
        "evaluations": counts,
        "epochs_trained": epochs,
        "incumbent_curve": incumbent_curve,
        "scheduler_state": scheduler.state(),
    }
    store.set_summary(summary)
    return report


def summary_lines(url: str, studies: list[dict[str, Any]]) -> list[str]:
    """``nasearch run``'s lines on scheduled studies: simulated wall time and time to the optimum."""
    lines = []
    for entry in studies:
        try:
            info = load_study(url, entry["study"]).user_attrs.get(SUMMARY_ATTR)
        except Exception:  # noqa: BLE001 - a study that was never created: nothing to say
            continue
        if not info:
            continue
        hit = info.get("time_to_optimum")
        found = f"{hit / 3600:.2f} h" if hit is not None else "not reached"
        # no benchmark optimum (real training): there is no time to it to report
        to_optimum = f"simulated time to the optimum {found}; " if info.get("optimum_known", True) else ""
        full = float(info["fidelities"][-1]) if info.get("fidelities") else 1.0
        lines.append(
            f"{entry['label']} (seed {entry['seed']}, scheduler {info['scheduler']}, {info['workers']} simulated "
            f"worker(s)): {to_optimum}simulated wall time "
            f"{info['simulated_wall_seconds'] / 3600:.2f} h; {info['epochs_trained'] / full:.1f} full-training "
            f"equivalents of epochs"
        )
    return lines
