"""The multi-fidelity loop: ask -> schedule -> evaluate -> record -> tell, on a simulated clock or on
the run's workers in real time.

``nasearch.search.loop.run_seed`` hands a study here when its optimizer block (or the run) has a
``scheduler:``. The evaluator must offer fidelities and say what each step costs: a benchmark
table's recorded training time, or a real evaluator's measured time (the ``train`` evaluator, which
keeps its checkpoints under ``<run dir>/checkpoints/``). Two ways to run the jobs:

- **The simulated clock** (``parallel.backend: serial``, and table evaluators on every backend): each
  job is evaluated at once, in this process, and put on a ``SimulatedClock`` of ``parallel.workers``
  workers; results come back in the order those workers would return them.
- **The pool, in real time** (``parallel.backend: ray`` with an evaluator that trains): each job goes
  to a Ray worker (``nasearch.schedulers.dispatch``), at most ``parallel.workers`` at once, and the
  scheduler hears each result when its worker finishes it: ASHA promotes and starts cells without
  waiting, synchronous successive halving and Hyperband wait at their rungs. A promotion continues
  from the cell's checkpoint in the run folder, whichever worker trained the lower rung.

The optimizer is told each cell once, at its first result; the scheduler hears every result. A
scheduler with ``tell_full`` (the surrogate scheduler) also has the optimizer told each promoted cell's
full-fidelity result in place of its first (``Retells``), so the proposals climb from the cells that
are best at full fidelity.

Resume re-drives the search from its start: every evaluation already stored (``TrialStore``) is
reused instead of evaluated or written again, so a killed search loses and repeats nothing,
promotions included. On the clock, since optimizers, schedulers and the clock are deterministic given
the seed, the resumed search goes on exactly as the uninterrupted one would; on the pool, stored
results are handed back in the order they were first handled, then the search goes on with the real
workers. Evaluations that were running when the process died were never stored: they are run again.

A job that failed outside its cell (timed out, its Ray worker lost, the process crashed) is evaluated
again on resume, up to ``parallel.cell_tries`` tries in all, as for unscheduled searches; with
``--retry-failed``, every failed job. Its new result goes in a new trial of the cell (a FAIL trial is
final), repeating the cell's other results.

Budgets: ``budget.simulated_seconds`` is the search's wall time (the clock's W simulated workers; on
the pool, real seconds over all sessions); ``budget.queries`` counts evaluations at any fidelity (on
the pool, no job beyond it is started). ``budget.stop_at_optimum``, or ``stop_at_optimum: true`` in
the scheduler block (the same switch for that block: ``trajectory.stops_at_optimum``), ends the
search once the benchmark's optimum is trained at full fidelity (benchmarks that measure the time to
it: the rest of the search could not change it).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from nasearch.api import AnySpace, Optimizer, Result
from nasearch.api.errors import ConfigError
from nasearch.api.fidelity import Continues, FidelityRange, Job, MultiFidelity, Retells, Scheduler
from nasearch.config.blocks import Block
from nasearch.config.run_schema import Budget, RunConfig
from nasearch.evaluation.pool import make_pool
from nasearch.evaluation.simclock import SimulatedClock
from nasearch.schedulers.config import build_scheduler
from nasearch.schedulers.dispatch import ORDER, AtFidelity, PoolDispatch, runs_on_pool
from nasearch.schedulers.store import SUMMARY_ATTR, TrialStore, fkey, stored_result
from nasearch.search.failures import RETRIED_ON_RESUME, SETUP, retried_on_resume, setup_failure, summarise
from nasearch.search.parts import build_evaluator
from nasearch.search.report import SeedReport, fill_report
from nasearch.search.resume import TRIES_ATTR
from nasearch.search.tracking import StudyTracker, load_study
from nasearch.search.trajectory import Incumbent, OptimumTarget, stops_at_optimum


class RunParts(Protocol):
    """What this loop reads of the run's shared parts (``nasearch.search.loop.SearchContext``)."""

    cfg: RunConfig
    space: AnySpace
    test_metric: str | None
    reference: list[float] | None
    #: the run folder (a continuing evaluator keeps its checkpoints under it); None: none
    run_dir: Path | None
    #: the ``parallel`` block as the pool's options (a scheduled search on Ray makes its own pool)
    pool_options: dict[str, Any]
    #: ``--retry-failed``: evaluate every failed job again on resume
    retry_failed: bool

    @property
    def target(self) -> OptimumTarget:
        """What "found the optimum" means in this run."""
        ...


@dataclass
class FailedJob:
    """A failed job as ``failures.summarise`` reads a stored trial: its error, cell and failure kind."""

    error: str | None
    arch: str
    attrs: dict[str, Any]
    state: str = "FAIL"


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


class _Search:
    """One scheduled study's state, shared by both drivers: the store, what the optimizer was told,
    and the handling of each finished evaluation (record, tell, schedule, finish, the incumbent)."""

    def __init__(
        self,
        ctx: RunParts,
        block: Block,
        seed: int,
        optimizer: Optimizer,
        tracker: StudyTracker,
        scheduler: Scheduler,
        sched_block: Block,
    ) -> None:
        self.ctx, self.optimizer, self.scheduler, self.sched_block = ctx, optimizer, scheduler, sched_block
        self.space = ctx.space
        self.metric = tracker.objectives[0][0]
        self.store = TrialStore(tracker, ctx.space)
        self.stored = self.store.load()
        self.report = SeedReport(tracker.name, block.label or block.name, block.name, seed)
        self.report.replayed = sum(len(c.events) for c in self.stored.values())
        self.state = Incumbent(tracker.objectives, ctx.target, ctx.test_metric)
        self.seen: set[str] = set()
        self.told: set[str] = set()
        self.counts: dict[str, int] = {}
        self.events = 0
        self.new = 0
        self.found_at: float | None = None
        self.incumbent_curve: list[list[float]] = []
        self.stopped = "budget"
        #: the jobs that failed (stored or new), summarised into the report when the search ends
        self.failed: list[FailedJob] = []
        self.max_tries = int(ctx.cfg.parallel.cell_tries)
        self.retry_all = bool(getattr(ctx, "retry_failed", False))
        #: (key, fidelity) of stored failures evaluated again this session -> the tries they stood for
        self.retrying: dict[tuple[str, str], int] = {}
        self.report.cell_tries = self.max_tries

    def propose(self) -> tuple[str, Hashable] | None:
        """The optimizer's next proposal not seen before, as ``(key, arch)``; None when it has none."""
        for _ in range(3):
            for arch in self.optimizer.ask(1):
                key = self.space.key(arch)
                if key in self.seen:
                    self.report.repeats_skipped += 1
                    continue
                self.seen.add(key)
                return key, arch
        return None

    def memo(self, job: Job) -> dict[str, Any] | None:
        """The stored result of ``job`` (a resumed search), or None: none stored, or a stored failure
        that is evaluated again. A job that failed outside the cell (timed out, its worker lost, the
        process crashed: ``RETRIED_ON_RESUME``) is retried until it was tried ``parallel.cell_tries``
        times in all (its ``tries`` are kept in the event); with ``--retry-failed``, every failed job."""
        cell = self.stored.get(job.key)
        found: dict[str, Any] | None = cell.events.get(fkey(job.fidelity)) if cell is not None else None
        if found is None or not found.get("error"):
            return found
        kind = found.get("failure")
        tries = int(found.get(TRIES_ATTR) or 1)
        if retried_on_resume(kind, tries, self.max_tries, self.retry_all):
            self.retrying[(job.key, fkey(job.fidelity))] = tries
            what = str(kind or "cell")
            self.report.retried[what] = self.report.retried.get(what, 0) + 1
            return None
        if kind in RETRIED_ON_RESUME:
            self.report.retries_spent += 1
        return found

    def handle(
        self,
        job: Job,
        result: Result | None,
        error: str | None,
        reused: bool,
        begin: float,
        end: float,
        extra: dict[str, Any] | None = None,
    ) -> bool:
        """A finished evaluation: store it (unless reused), tell, report, finish; True: stop the search."""
        event = _event(result, error, self.metric, begin, end)
        if extra:
            event.update(extra)
        before = None if reused else self.retrying.pop((job.key, fkey(job.fidelity)), None)
        if before is not None:  # a stored failure tried again: the tries so far count
            event[TRIES_ATTR] = before + 1
        if not reused:
            t0 = time.perf_counter()
            self.store.add(job.key, job.arch, job.fidelity, event)
            self.report.tracking_seconds += time.perf_counter() - t0
            self.new += 1
        self.events += 1
        self.counts[fkey(job.fidelity)] = self.counts.get(fkey(job.fidelity), 0) + 1
        value = event["value"]
        top = job.rung == len(self.scheduler.fidelities) - 1
        first = job.key not in self.told
        if first:
            self.told.add(job.key)
            self.optimizer.tell(job.arch, result if value is not None else None)
        self.scheduler.report(job, value)
        if not first and top and self.scheduler.tell_full and isinstance(self.optimizer, Retells):
            if value is None or result is None:
                self.optimizer.retell(job.arch, None)
            else:  # after the scheduler heard it: what it re-tells may depend on this result
                for arch, told in self.scheduler.told_full(job, value).values():
                    self.optimizer.retell(arch, Result({**result.metrics, self.metric: told}))
        if value is None or top:
            rec = self.store.finish(job.key, "COMPLETE" if value is not None else "FAIL")
            if rec is not None:
                self.state.update(rec)
                if self.state.best is not None:
                    self.incumbent_curve.append([end, self.state.best.metrics.get(self.metric, math.nan)])
                target = self.ctx.target
                if self.found_at is None and target.key is not None and job.key == target.key:
                    self.found_at = end
                    if stops_at_optimum(self.ctx.cfg.budget, self.sched_block):
                        self.stopped = "the optimum is trained at full fidelity"
                        return True
            elif value is None:
                kind = event.get("failure")
                if reused:  # a stored failure replayed: its kind as stored
                    kind = self.stored[job.key].events[fkey(job.fidelity)].get("failure")
                arch = self.space.to_str(job.arch)
                self.failed.append(FailedJob(event.get("error"), arch, {"failure": kind}))
        for key in self.scheduler.stopped():
            self.store.finish(key, "PRUNED")
        return False


def _drive_clock(search: _Search, evaluator: MultiFidelity, budget: Budget, workers: int) -> float:
    """Evaluate each job at once, in this process, and replay its cost on a simulated clock of
    ``workers`` workers; the simulated wall time at the end."""
    scheduler = search.scheduler
    clock: SimulatedClock[tuple[Job, Result | None, str | None, bool]] = SimulatedClock(workers)

    def spent() -> bool:
        return bool(
            (budget.queries is not None and search.events >= budget.queries)
            or (budget.simulated_seconds is not None and clock.now >= budget.simulated_seconds)
        )

    while not spent():
        while clock.free() > 0:
            job = scheduler.next_job(search.propose)
            if job is None:
                break
            memo = search.memo(job)
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
            search.stopped = "optimizer proposed nothing new (space exhausted?)"
            break
        end, begin, (job, result, error, reused) = clock.pop()
        if budget.simulated_seconds is not None and end > budget.simulated_seconds:
            clock.now = float(budget.simulated_seconds)
            break
        if search.handle(job, result, error, reused, begin, end):
            break
    return clock.now


def _drive_pool(search: _Search, dispatch: PoolDispatch, budget: Budget) -> float:
    """Send the jobs to the pool's workers and handle each result when it is finished (stored results
    of a resumed search first, in their stored order); the search's real wall time at the end."""
    scheduler = search.scheduler
    last = 0.0

    def spent() -> bool:
        return bool(
            (budget.queries is not None and search.events >= budget.queries)
            or (budget.simulated_seconds is not None and dispatch.now() >= budget.simulated_seconds)
        )

    def may_start() -> bool:  # no job beyond the query budget: real training is not thrown away
        return budget.queries is None or search.events + dispatch.running < budget.queries

    while not spent():
        while dispatch.free() > 0 and may_start():
            job = scheduler.next_job(search.propose)
            if job is None:
                break
            dispatch.submit(job, search.memo(job))
        if dispatch.running == 0:
            search.stopped = "optimizer proposed nothing new (space exhausted?)"
            break
        done = dispatch.pop()
        if done.kind == SETUP and not done.reused:  # the set-up is broken, not this cell: record nothing
            raise setup_failure(f"{done.error} [while evaluating {search.space.to_str(done.job.arch)}]")
        extra: dict[str, Any] = {ORDER: done.order}
        if done.result is None and done.kind:
            extra["failure"] = done.kind
        last = max(last, done.end)
        if search.handle(done.job, done.result, done.error, done.reused, done.begin, done.end, extra):
            break
    return max(last, dispatch.now())


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
        # an absolute path: Ray workers on this machine read and write the same files whatever their
        # working directory (a cluster of several machines needs the run folder on a shared file system)
        evaluator.checkpoint_in(
            Path(ctx.run_dir).resolve() / "checkpoints" / re.sub(r"[^A-Za-z0-9_.-]+", "_", tracker.name)
        )
    if len(tracker.objectives) != 1:
        raise ConfigError(
            f"{where}: schedulers rank cells by one objective; this run has {len(tracker.objectives)}"
        )
    metric, maximize = tracker.objectives[0]
    sched_block = ctx.cfg.scheduler_for(block)
    assert sched_block is not None  # the search loop hands only scheduled studies here
    span = evaluator.fidelity_range() if isinstance(evaluator, FidelityRange) else None
    offered = list(evaluator.fidelities())
    scheduler = build_scheduler(sched_block, space, seed, offered, maximize, where, span)
    workers = int(cfg.parallel.workers)
    search = _Search(ctx, block, seed, optimizer, tracker, scheduler, sched_block)
    report = search.report
    real = runs_on_pool(evaluator, cfg.parallel.backend)
    fits0 = int((getattr(optimizer, "stats", {}) or {}).get("fits", 0))
    start_wall = time.perf_counter()
    dispatch: PoolDispatch | None = None
    try:
        if real:
            pool = make_pool(AtFidelity(evaluator), cfg.parallel.backend, **ctx.pool_options)
            offset = max(
                (float(e.get("end", 0.0)) for c in search.stored.values() for e in c.events.values()),
                default=0.0,
            )
            dispatch = PoolDispatch(pool, offset)
            workers = dispatch.capacity
            wall_now = _drive_pool(search, dispatch, cfg.budget)
            report.eval_wait_seconds = pool.eval_seconds
        else:
            wall_now = _drive_clock(search, evaluator, cfg.budget, workers)
    except KeyboardInterrupt:
        report.stopped = "interrupted"
        raise
    finally:
        report.wall_seconds = time.perf_counter() - start_wall
        if dispatch is not None:
            dispatch.close()
    store = search.store
    for key, cell in store.cells.items():  # the search is over: unpromoted cells end PRUNED
        if not cell.finished:
            store.finish(key, "PRUNED")
    stats = getattr(optimizer, "stats", {}) or {}
    report.surrogate_fit_seconds = float(stats.get("fit_seconds", 0.0))
    report.surrogate_predict_seconds = float(stats.get("predict_seconds", 0.0))
    report.surrogate_fits = int(stats.get("fits", 0)) - fits0
    report.stopped = search.stopped
    report.queries = len(store.cells)
    report.evaluated = search.new
    report.simulated_seconds = sum(
        float(e.get("sim", 0.0)) for c in store.cells.values() for e in c.events.values()
    )
    fill_report(report, search.state, ctx.reference)
    failed = summarise(search.failed)  # a failed job ends its cell FAIL with no Record for the incumbent
    report.failures, report.failure_kinds, report.errors = failed.count, failed.kinds, failed.errors
    # epochs trained: a table's fidelities are separate runs (each pays all its epochs); a continuing
    # evaluator says how many epochs each step trained
    epochs = sum(float(e.get("epochs_trained", f)) for c in store.cells.values() for f, e in c.events.items())
    summary: dict[str, object] = {
        "scheduler": sched_block.name,
        "workers": workers,
        "fidelities": list(scheduler.fidelities),
        "simulated_wall_seconds": wall_now,
        "simulated_worker_seconds": report.simulated_seconds,
        "time_to_optimum": search.found_at,
        "optimum_known": ctx.target.key is not None,
        "evaluations": search.counts,
        "epochs_trained": epochs,
        "incumbent_curve": search.incumbent_curve,
        "scheduler_state": scheduler.state(),
    }
    if real:  # the times are real seconds on the pool's workers, not a simulated clock's
        summary["clock"] = "real"
        summary["backend"] = cfg.parallel.backend
    store.set_summary(summary)
    return report


def summary_lines(url: str, studies: list[dict[str, Any]]) -> list[str]:
    """``nasearch run``'s lines on scheduled studies: (simulated or real) wall time and time to the optimum."""
    lines = []
    for entry in studies:
        try:
            info = load_study(url, entry["study"]).user_attrs.get(SUMMARY_ATTR)
        except Exception:  # noqa: BLE001 - a study that was never created: nothing to say
            continue
        if not info:
            continue
        hit = info.get("time_to_optimum")
        full = float(info["fidelities"][-1]) if info.get("fidelities") else 1.0
        epochs = f"{info['epochs_trained'] / full:.1f} full-training equivalents of epochs"
        if info.get("clock") == "real":  # on the pool's workers: real seconds, not a simulated clock's
            found = f"{hit / 60:.1f} min" if hit is not None else "not reached"
            to_optimum = f"time to the optimum {found}; " if info.get("optimum_known", True) else ""
            lines.append(
                f"{entry['label']} (seed {entry['seed']}, scheduler {info['scheduler']}, {info['workers']} "
                f"{info.get('backend', 'ray')} worker(s)): {to_optimum}wall time "
                f"{info['simulated_wall_seconds'] / 60:.1f} min; {epochs}"
            )
            continue
        found = f"{hit / 3600:.2f} h" if hit is not None else "not reached"
        # no benchmark optimum (real training): there is no time to it to report
        to_optimum = f"simulated time to the optimum {found}; " if info.get("optimum_known", True) else ""
        lines.append(
            f"{entry['label']} (seed {entry['seed']}, scheduler {info['scheduler']}, {info['workers']} simulated "
            f"worker(s)): {to_optimum}simulated wall time "
            f"{info['simulated_wall_seconds'] / 3600:.2f} h; {epochs}"
        )
    return lines
