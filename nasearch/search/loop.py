"""``nasearch run``: the search loop. For each optimizer and seed: replay what the study already
holds, then ask -> evaluate in parallel -> record -> tell until the budget is spent.

At most ``parallel.workers`` evaluations are in flight (a model-based optimizer handed many
pending trials degrades to random search). A proposal whose key was already evaluated is never
submitted. Every finished evaluation is committed to the Optuna study (with the optimizer's
state, ``nasearch.search.resume``) before the optimizer hears of it, so killing the run loses nothing
that finished; rerunning the same command resumes exactly where it was.

The run folder is locked while a run uses it (``nasearch.search.lock``) and remembers what its
evaluations mean (``nasearch.search.fingerprint``). A set-up failure stops the run with one line and
marks no cell; a cell's failure is recorded, and cells that failed through no fault of their
own (timeouts, lost workers) are evaluated again on resume (``nasearch.search.failures``).
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from nasearch.api import (
    KnownMetrics,
    Optimizer,
    ReferenceScoring,
    StartHook,
    UsesFitter,
    UsesKnownMetrics,
    WorkerPool,
)
from nasearch.api.errors import ConfigError, Terminated
from nasearch.api.objective import Objective
from nasearch.config.blocks import Block
from nasearch.config.run_schema import RunConfig, load_run_config, to_dict
from nasearch.curves import load_run, plot
from nasearch.data.safeio import make_dir, write_text
from nasearch.evaluation import pool as evaluation_pool
from nasearch.schedulers import curves as fidelity_curves
from nasearch.schedulers.loop import run_scheduled, summary_lines
from nasearch.search import inflight, interrupts, resume, run_record
from nasearch.search.code_version import code_versions
from nasearch.search.failures import SETUP, format_failures, summarise
from nasearch.search.failures import setup_failure as setup_failure_error
from nasearch.search.fingerprint import check, fingerprint
from nasearch.search.lock import RunLock
from nasearch.search.ownership import RunIdentity, check_database_file
from nasearch.search.ownership import identity as run_identity
from nasearch.search.parts import (
    build_evaluator,
    build_optimizer,
    build_space,
    evaluator_objectives,
    evaluator_test_metric,
    optimum_info,
    reference_point,
)
from nasearch.search.references import score_against_references
from nasearch.search.report import (
    AT_OPTIMUM,
    SeedReport,
    accumulate_sessions,
    fill_report,
    format_reports,
    previous_summary,
    progress_postfix,
    summary_after_interrupt,
    write_summary,
)
from nasearch.search.run_record import RunRecord, StudyEntry
from nasearch.search.studies import open_studies
from nasearch.search.tracking import StudyTracker, storage_url, study_name
from nasearch.search.trajectory import Incumbent, KnownOptimum, OptimumTarget, check_stop_at_optimum


def cli_run(args: argparse.Namespace) -> int:
    """Entry point of ``nasearch run CONFIG [--set k=v ...] [--out DIR] [--no-progress]
    [--allow-config-change] [--retry-failed]``."""
    cfg = load_run_config(args.config, args.overrides)
    run_dir = Path(args.out or cfg.output or Path("runs") / "out" / cfg.name)
    previous = signal.signal(signal.SIGTERM, _terminated) if _main_thread() else None
    restore_sigint = interrupts.install() if _main_thread() else None  # a second Ctrl-C: exit 130 at once
    try:
        reports = run(
            cfg,
            run_dir,
            progress=not args.no_progress,
            allow_config_change=getattr(args, "allow_config_change", False),
            retry_failed=getattr(args, "retry_failed", False),
        )
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if restore_sigint is not None:
            restore_sigint()
    print(format_reports(reports, cfg))
    for r in reports:
        if r.best_arch is not None and r.best_value is not None:
            test = f", its test value {r.incumbent_test:.3f}" if r.incumbent_test is not None else ""
            print(f"best cell ({r.label}, seed {r.seed}): {r.best_arch}  value {r.best_value:.4g}{test}")
    optimum_line = _published_optimum(run_dir)
    if optimum_line:
        print(optimum_line)
    if cfg.scheduled:  # multi-fidelity: simulated times
        studies = [entry.to_json() for entry in run_record.read(run_dir).studies]
        for line in summary_lines(storage_url(cfg.storage, run_dir), studies):
            print(line)
        print(fidelity_curves.plot_or_say(run_dir))  # incumbent vs wall time and vs epochs trained
    failures = format_failures(reports)
    if failures:
        print(failures)
    try:
        png, _ = plot(load_run(run_dir), run_dir)
        print(f"search curves: {png}")
    except ConfigError as exc:  # nothing evaluated (e.g. every trial failed)
        print(f"no search curves: {exc}")
    print(f"run folder: {run_dir}   (Optuna study: optuna-dashboard {storage_url(cfg.storage, run_dir)})")
    dead = [r for r in reports if r.queries and r.failures == r.queries]
    if dead:
        r = dead[0]
        first = r.errors[0] if r.errors else {"error": "?", "cell": "?"}
        print(
            f"nasearch run: error: every evaluation of {r.study} failed ({r.failures} of {r.queries}); "
            f"first error: {first['error']} (cell {first['cell']})",
            file=sys.stderr,
        )
        return 1
    return 0


def _published_optimum(run_dir: Path) -> str:
    """The benchmark's best cell, as recorded in run.json, to print beside the cell the search found."""
    optimum = run_record.read(run_dir).optimum
    if optimum.value is None:  # multi-objective, or an evaluator with no table column
        return ""
    test = f", its test value {optimum.test_value:.3f}" if optimum.test_value is not None else ""
    return f"benchmark's optimum: {optimum.arch or '?'}  value {optimum.value:.4g}{test}"


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _terminated(signum: int, _frame: object) -> None:
    """SIGTERM: unwind like Ctrl-C, so the pool, the local Ray and the run lock are released."""
    print("nasearch run: terminated (SIGTERM); completed evaluations are saved", file=sys.stderr, flush=True)
    raise Terminated(128 + signum)


@dataclass
class SearchContext:
    """What every (optimizer, seed) search of one run shares: its config, parts and options."""

    cfg: RunConfig
    space: Any
    pool: WorkerPool
    objectives: list[Objective]
    #: the benchmark's optimum as recorded in run.json (value, key, cell, test value), if known
    optimum: KnownOptimum
    test_metric: str | None
    reference: list[float] | None
    progress: bool = True
    retry_failed: bool = False
    #: where the cell in flight is recorded (``nasearch.search.inflight``); None: not recorded
    run_dir: Path | None = None
    #: the report of the study being searched (summary.json keeps it when the run is interrupted)
    current: SeedReport | None = None
    #: the pool's options from the ``parallel`` block (a scheduled search on Ray makes its own pool)
    pool_options: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def target(self) -> OptimumTarget:
        """What "found the optimum" means in this run (:mod:`nasearch.search.trajectory`)."""
        return self.optimum.target(self.objectives[0].maximize)


# --- the loop ----------------------------------------------------------------------------------------
def run(
    cfg: RunConfig,
    run_dir: Path,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    allow_config_change: bool = False,
    retry_failed: bool = False,
) -> list[SeedReport]:
    """Run (or resume) every optimizer x seed of ``cfg`` into ``run_dir``; one report each.

    ``allow_config_change``: resume even though the space, evaluator or objectives differ from
    the folder's (``nasearch.search.fingerprint``). ``retry_failed``: evaluate every failed cell again,
    not only those that timed out or lost their worker."""
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    make_dir(run_dir)
    with RunLock(run_dir) as lock:
        if lock.took_over:
            log(
                f"nasearch: the run folder's lock was left by PID {lock.took_over.get('pid')} on "
                f"{lock.took_over.get('host')}, which is no longer running; taking it over"
            )
        return _run_locked(cfg, run_dir, progress, log, allow_config_change, retry_failed)


def _run_locked(
    cfg: RunConfig,
    run_dir: Path,
    progress: bool,
    log: Callable[[str], None],
    allow_config_change: bool,
    retry_failed: bool,
) -> list[SeedReport]:
    space = build_space(cfg)
    evaluator = build_evaluator(cfg.evaluator, space)
    objectives = evaluator_objectives(evaluator)
    for block in cfg.optimizers:  # fail on a bad option before any evaluation starts
        build_optimizer(block, space, objectives, cfg.seeds[0])
    url = storage_url(cfg.storage, run_dir)
    who = run_identity(run_dir, cfg.name, cfg.storage)
    check_database_file(run_dir, url)
    store_fingerprint = _check_fingerprint(
        cfg, run_dir, evaluator, objectives, allow_config_change, log, space
    )
    optimum = optimum_info(evaluator, space, objectives, log)
    check_stop_at_optimum(cfg.budget, objectives, optimum, [cfg.scheduler_for(b) for b in cfg.optimizers])
    test_metric = evaluator_test_metric(evaluator)
    reference = reference_point(cfg, evaluator, objectives, log)
    trackers = open_studies(cfg, run_dir, url, who, objectives, space, test_metric, optimum)
    store_fingerprint()  # every check that can refuse the run has passed: now the folder's state is written
    _write_run_meta(cfg, run_dir, url, objectives, test_metric, optimum, reference, who)
    previous = previous_summary(run_dir)
    pool_options = _pool_options(cfg, log)
    pool = evaluation_pool.make_pool(evaluator, cfg.parallel.backend, **pool_options)
    ctx = SearchContext(
        cfg,
        space,
        pool,
        objectives,
        optimum,
        test_metric,
        reference,
        progress,
        retry_failed,
        run_dir=run_dir,
        pool_options=pool_options,
    )
    reports: list[SeedReport] = []
    try:
        for block in cfg.optimizers:
            for seed in cfg.seeds:
                tracker = trackers[study_name(who.study_prefix, seed, block.label or None)]
                optimizer = build_optimizer(block, space, objectives, seed)
                fitter = pool.fitter()
                if fitter is not None and isinstance(optimizer, UsesFitter):
                    optimizer.use_fitter(fitter)
                if isinstance(evaluator, KnownMetrics) and isinstance(optimizer, UsesKnownMetrics):
                    optimizer.use_known_metrics(evaluator.known_values)
                report = run_seed(ctx, block, seed, optimizer, tracker)
                accumulate_sessions(report, previous.get(report.study))
                reports.append(report)
                write_summary(run_dir, reports)
    except (KeyboardInterrupt, Terminated):  # the summary still holds every study, the interrupted one too
        summary_after_interrupt(run_dir, reports, ctx.current, previous, list(trackers))
        raise
    finally:
        pool.close()
    if isinstance(evaluator, ReferenceScoring):
        score_against_references(cfg, run_dir, evaluator, reports, run, progress)
        write_summary(run_dir, reports)
    return reports


def _write_run_meta(
    cfg: RunConfig,
    run_dir: Path,
    url: str,
    objectives: list[Objective],
    test_metric: str | None,
    optimum: KnownOptimum,
    reference: list[float] | None,
    who: RunIdentity,
) -> None:
    """config.yaml and run.json: what the run folder is (read by curves, compare --from-run, resume)."""
    write_text(run_dir / "config.yaml", yaml.safe_dump(to_dict(cfg), sort_keys=False))
    studies = [
        StudyEntry(
            study_name(who.study_prefix, seed, block.label or None),
            block.label or block.name,
            block.name,
            seed,
        )
        for block in cfg.optimizers
        for seed in cfg.seeds
    ]
    RunRecord(
        name=cfg.name,
        storage=url,
        objectives=objectives,
        run_id=who.run_id,
        study_prefix=who.study_prefix,
        test_metric=test_metric,
        search_space=cfg.search_space.name,
        optimum=optimum,
        reference_point=reference,
        studies=studies,
    ).write(run_dir)


def _pool_options(cfg: RunConfig, log: Callable[[str], None]) -> dict[str, object]:
    """The evaluation pool's options from the config's ``parallel`` block."""
    options: dict[str, object] = {"timeout_s": cfg.parallel.timeout_s}
    if cfg.parallel.isolate:
        options["isolate"] = True
    if cfg.parallel.backend == "ray":
        surrogate = cfg.parallel.surrogate_resources
        options.update(
            {
                "workers": cfg.parallel.workers,
                "address": cfg.parallel.address,
                "num_cpus": cfg.parallel.resources.num_cpus,
                "num_gpus": cfg.parallel.resources.num_gpus,
                "max_retries": cfg.parallel.max_retries,
                "log": log,
                "surrogate_resources": dataclasses.asdict(surrogate) if surrogate else None,
            }
        )
    return options


def _check_fingerprint(
    cfg: RunConfig,
    run_dir: Path,
    evaluator: object,
    objectives: Sequence[Objective],
    allow: bool,
    log: Callable[[str], None],
    space: object = None,
) -> Callable[[], None]:
    """Refuse to resume a folder whose evaluations meant something else; return what stores the
    fingerprint (and logs an accepted change), called once no other check can refuse the run."""
    operational = tuple(getattr(evaluator, "operational_options", ()) or ())
    values = fingerprint(to_dict(cfg), objectives, operational)
    old_config: dict[str, object] | None = None
    old_objectives: list[Objective] | None = None
    config_path = run_dir / "config.yaml"
    if config_path.is_file():  # a folder written before fingerprints: compare with what it recorded
        try:
            loaded = yaml.safe_load(config_path.read_text())
            old_config = loaded if isinstance(loaded, dict) else None
            old_objectives = run_record.read(run_dir).objectives
        except (OSError, ValueError, KeyError, TypeError, yaml.YAMLError):
            old_config = old_objectives = None
    code = code_versions(search_space=space, evaluator=evaluator)
    pending = check(run_dir, values, allow, old_config, old_objectives, operational, code=code)

    def store() -> None:
        pending.store()
        if pending.code_changes:
            log(
                f"nasearch: warning: the code computing this folder's evaluations changed since its trials were "
                f"recorded ({'; '.join(pending.code_changes)}); old and new values may mix in the study"
            )
        if pending.diffs:
            if config_path.is_file():
                stamp = time.strftime("%Y%m%d-%H%M%S")
                write_text(run_dir / f"config.before-{stamp}.yaml", config_path.read_text())
            log(
                f"nasearch: resuming with a changed configuration (--allow-config-change): {'; '.join(pending.diffs)}"
            )

    return store


def run_seed(
    ctx: SearchContext, block: Block, seed: int, optimizer: Optimizer, tracker: StudyTracker
) -> SeedReport:
    """One study: replay stored trials (retrying the cells that failed outside the cell), then
    the ask/evaluate/record/tell loop."""
    if (
        ctx.cfg.scheduler_for(block) is not None
    ):  # multi-fidelity: the scheduler's loop (simulated clock or pool)
        return run_scheduled(ctx, block, seed, optimizer, tracker)
    space, pool = ctx.space, ctx.pool

    report = SeedReport(tracker.name, block.label or block.name, block.name, seed)
    ctx.current = report
    budget = ctx.cfg.budget
    marker = in_flight_marker(ctx, tracker, optimizer)
    records = tracker.records()
    plan = resume.plan(records, retry_all_failed=ctx.retry_failed, max_tries=ctx.cfg.parallel.cell_tries)
    report.cell_tries, report.retries_spent = ctx.cfg.parallel.cell_tries, len(plan.exhausted)
    resume.replay(optimizer, space, tracker.name, plan)
    retry = [(resume.parse_stored(space, tracker.name, r), r) for r in plan.retry]
    for _, rec in retry:
        kind = str(rec.attrs.get("failure") or "cell")
        report.retried[kind] = report.retried.get(kind, 0) + 1
    kept = list(plan.tell)  # the study's trials that count, one per cell: the summary's records
    evaluated: set[str] = {r.key for r in kept}
    report.replayed = len(records)
    done = plan.counted
    simulated = sum(r.simulated_seconds for r in kept)
    state = Incumbent(tracker.objectives, ctx.target, ctx.test_metric)
    for rec in kept:
        state.update(rec)
    in_flight: dict[int, str] = {}
    fits0 = int((getattr(optimizer, "stats", {}) or {}).get("fits", 0))

    def spent() -> bool:
        return bool(
            (budget.queries is not None and done >= budget.queries)
            or (budget.simulated_seconds is not None and simulated >= budget.simulated_seconds)
        )

    def at_optimum() -> bool:  # budget.stop_at_optimum: no new cell once the optimum is evaluated
        return budget.stop_at_optimum and state.found_at is not None

    bar = _progress(ctx.progress, budget.queries, done, f"{report.label} seed {seed}")
    start = time.perf_counter()
    eval_wait0 = pool.eval_seconds
    new = 0
    empty_asks = 0
    setup_failure = None
    try:
        while not spent() and not (at_optimum() and pool.in_flight == 0):
            free = pool.capacity - pool.in_flight
            if budget.queries is not None:
                free = min(free, budget.queries - done - pool.in_flight)
            if at_optimum():  # the cells already in flight are recorded, none is started
                free = 0
            while free > 0 and retry:  # cells that failed outside the cell go first
                arch, _ = retry.pop(0)
                key = space.key(arch)
                if key not in in_flight.values():
                    in_flight[pool.submit(arch)] = key
                    free -= 1
            if free > 0:
                for arch in optimizer.ask(free):
                    key = space.key(arch)
                    if key in evaluated or key in in_flight.values():
                        report.repeats_skipped += 1
                        continue
                    in_flight[pool.submit(arch)] = key
            if pool.in_flight == 0:
                empty_asks += 1
                if empty_asks >= 3:
                    report.stopped = "optimizer proposed nothing new (space exhausted?)"
                    break
                continue
            empty_asks = 0
            for outcome in pool.wait():
                key = in_flight.pop(outcome.ticket)
                if outcome.kind == SETUP:  # the set-up is broken, not this cell: record nothing
                    setup_failure = setup_failure or outcome
                    continue
                user_attrs: dict[str, object] = {}
                if outcome.result is None:
                    user_attrs["failure"] = outcome.kind or "cell"
                if outcome.node:
                    user_attrs["node"] = outcome.node
                optimizer_state = resume.snapshot(optimizer)  # taken just before this tell
                if optimizer_state is not None:
                    user_attrs[resume.STATE_ATTR] = optimizer_state
                t0 = time.perf_counter()
                rec = tracker.record(
                    outcome.arch,
                    outcome.result,
                    outcome.error,
                    user_attrs=user_attrs,
                    wall_seconds=outcome.wall_seconds,
                )
                report.tracking_seconds += time.perf_counter() - t0
                if marker is not None:
                    marker.clear()
                kept.append(rec)
                evaluated.add(key)
                optimizer.tell(outcome.arch, rec.result())
                done += 1
                new += 1
                simulated += rec.simulated_seconds
                state.update(rec)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix_str(progress_postfix(state, simulated), refresh=False)
            if setup_failure is not None:
                raise setup_failure_error(
                    f"{setup_failure.error} [while evaluating {space.to_str(setup_failure.arch)}]"
                )
        if at_optimum():
            report.stopped = AT_OPTIMUM
    except KeyboardInterrupt:
        report.stopped = "interrupted"
        raise
    finally:
        if marker is not None and isinstance(
            pool, StartHook
        ):  # unwound (Ctrl-C, an error): not the cell's doing
            marker.clear()
            pool.on_start = None
        if bar is not None:
            bar.close()
        stats = getattr(optimizer, "stats", {}) or {}
        report.wall_seconds = time.perf_counter() - start
        report.eval_wait_seconds = pool.eval_seconds - eval_wait0
        report.surrogate_fit_seconds = float(stats.get("fit_seconds", 0.0))
        report.surrogate_predict_seconds = float(stats.get("predict_seconds", 0.0))
        report.surrogate_fits = int(stats.get("fits", 0)) - fits0
        report.evaluated = new
        report.queries = done
        report.simulated_seconds = simulated
        fill_report(report, state, ctx.reference)
        failed = summarise(kept)
        report.failure_kinds, report.errors = failed.kinds, failed.errors
    return report


def in_flight_marker(
    ctx: SearchContext, tracker: StudyTracker, optimizer: object
) -> inflight.InFlight | None:
    """For a pool that evaluates in the driver (``on_start``): count a try of the cell a previous
    session died evaluating, and record each cell before it starts (``nasearch.search.inflight``)."""
    if ctx.run_dir is None or not isinstance(ctx.pool, StartHook):
        return None
    marker = inflight.InFlight(ctx.run_dir, tracker.name)
    inflight.record_left_over(marker, tracker, ctx.space, ctx.cfg.parallel.cell_tries)
    ctx.pool.on_start = inflight.hook(marker, ctx.space, lambda: resume.snapshot(optimizer))
    return marker


def _progress(enabled: bool, total: int | None, initial: int, desc: str) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm  # a widget in Jupyter, text in a terminal

    return tqdm(total=total, initial=initial, desc=desc, unit="query", dynamic_ncols=True, file=sys.stderr)


__all__ = [
    "cli_run",
    "run",
    "run_seed",
    "SearchContext",
    "SeedReport",
    "build_space",
    "build_evaluator",
    "build_optimizer",
]
