"""``nasearch run``: the search loop. For each optimizer and seed: replay what the study already
holds, then ask -> evaluate in parallel -> record -> tell until the budget is spent.

At most ``parallel.workers`` evaluations are in flight (a model-based optimizer handed many
pending trials degrades to random search). A proposal whose key was already evaluated is never
submitted. Every finished evaluation is committed to the Optuna study (with the optimizer's
state, ``nasearch.resume``) before the optimizer hears of it, so killing the run loses nothing
that finished; rerunning the same command resumes exactly where it was.

The run folder is locked while a run uses it (``nasearch.runlock``) and remembers what its
evaluations mean (``nasearch.fingerprint``). A set-up failure stops the run with one line and
marks no cell; a cell's failure is recorded, and cells that failed through no fault of their
own (timeouts, lost workers) are evaluated again on resume (``nasearch.failures``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nasearch.errors import ConfigError, SetupError
from nasearch.failures import KIND_WORDS, SETUP, format_failures, summarise
from nasearch.runconfig import Block, RunConfig, load_run_config, to_dict
from nasearch.tracking import COMPLETE, StudyTracker, storage_url, study_name


@dataclass
class SeedReport:
    """What one (optimizer, seed) search did; the run's summary.json holds a list of these."""

    study: str
    label: str
    optimizer: str
    seed: int
    queries: int = 0
    failures: int = 0
    replayed: int = 0
    best_value: float | None = None
    best_arch: str | None = None
    incumbent_test: float | None = None
    queries_to_optimum: int | None = None
    optimum_known: bool = False
    simulated_seconds: float = 0.0
    wall_seconds: float = 0.0
    eval_wait_seconds: float = 0.0
    tracking_seconds: float = 0.0
    surrogate_fit_seconds: float = 0.0
    surrogate_predict_seconds: float = 0.0
    surrogate_fits: int = 0
    loop_overhead_per_query: float | None = None
    repeats_skipped: int = 0
    stopped: str = "budget"
    pareto_front: list[dict[str, Any]] = field(default_factory=list)
    hypervolume: float | None = None
    #: hypervolumes under the evaluator's ground truth beside reference runs (see nasearch.reference_runs)
    reference_scores: dict[str, Any] = field(default_factory=dict)
    #: cells evaluated again this session because they had failed outside the cell, by kind
    retried: dict[str, int] = field(default_factory=dict)
    #: failed cells by kind (``cell``, ``timeout``, ``lost``) and the first distinct errors
    failure_kinds: dict[str, int] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    #: evaluations made by all sessions of this study (replays excluded), and how many sessions
    evaluated: int = 0
    sessions: int = 1


#: timings a resumed session adds to those of the sessions before it (summary.json)
_CUMULATIVE = ("wall_seconds", "eval_wait_seconds", "tracking_seconds", "surrogate_fit_seconds",
               "surrogate_predict_seconds", "surrogate_fits", "evaluated", "sessions")


def cli_run(args: argparse.Namespace) -> int:
    """Entry point of ``nasearch run CONFIG [--set k=v ...] [--out DIR] [--no-progress]
    [--allow-config-change] [--retry-failed]``."""
    cfg = load_run_config(args.config, args.overrides)
    run_dir = Path(args.out or cfg.output or Path("runs") / "out" / cfg.name)
    previous = signal.signal(signal.SIGTERM, _terminated) if _main_thread() else None
    try:
        reports = run(cfg, run_dir, progress=not args.no_progress,
                      allow_config_change=getattr(args, "allow_config_change", False),
                      retry_failed=getattr(args, "retry_failed", False))
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    print(format_reports(reports, cfg))
    for r in reports:
        if r.best_arch is not None and r.best_value is not None:
            test = f", its test value {r.incumbent_test:.3f}" if r.incumbent_test is not None else ""
            print(f"best cell ({r.label}, seed {r.seed}): {r.best_arch}  value {r.best_value:.4g}{test}")
    optimum_line = _published_optimum(run_dir)
    if optimum_line:
        print(optimum_line)
    failures = format_failures(reports)
    if failures:
        print(failures)
    from nasearch.curves import load_run, plot

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
        print(f"nasearch run: error: every evaluation of {r.study} failed ({r.failures} of {r.queries}); "
              f"first error: {first['error']} (cell {first['cell']})", file=sys.stderr)
        return 1
    return 0


def _published_optimum(run_dir: Path) -> str:
    """The benchmark's best cell, as recorded in run.json, to print beside the cell the search found."""
    meta = json.loads((run_dir / "run.json").read_text())
    if meta.get("optimum") is None:  # multi-objective, or an evaluator with no table column
        return ""
    test = f", its test value {meta['test_optimum']:.3f}" if meta.get("test_optimum") is not None else ""
    return f"benchmark's optimum: {meta.get('optimum_arch') or '?'}  value {meta['optimum']:.4g}{test}"


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _terminated(signum: int, _frame: Any) -> None:
    """SIGTERM: unwind like Ctrl-C, so the pool, the local Ray and the run lock are released."""
    print("nasearch run: terminated (SIGTERM); completed evaluations are saved", file=sys.stderr, flush=True)
    raise SystemExit(128 + signum)


# --- building the parts ---------------------------------------------------------------------------
def build_space(cfg: RunConfig) -> Any:
    """The search space of the config (``data_dir`` passed where the space takes one)."""
    from nasearch.options import accepted_options
    from nasearch.registry import SEARCH_SPACES

    options = dict(cfg.search_space.options)
    named, _ = accepted_options(SEARCH_SPACES.get(cfg.search_space.name))
    if cfg.data_dir and "data_dir" in named:
        options["data_dir"] = cfg.data_dir
    return SEARCH_SPACES.create(cfg.search_space.name, **options)


def build_evaluator(block: Block, space: Any) -> Any:
    """The evaluator of the config; it gets the space when its constructor takes ``space``."""
    from nasearch.options import accepted_options
    from nasearch.registry import EVALUATORS

    options = dict(block.options)
    named, _ = accepted_options(EVALUATORS.get(block.name))
    if "space" in named:
        options["space"] = space
    return EVALUATORS.create(block.name, **options)


def evaluator_objectives(evaluator: Any) -> list[tuple[str, bool]]:
    """``(metric, maximize)`` pairs: ``evaluator.objectives`` or its ``objective``/``maximize``."""
    objectives = getattr(evaluator, "objectives", None)
    if objectives:
        return [(str(m), bool(mx)) for m, mx in objectives]
    metric = getattr(evaluator, "objective", "")
    if not metric:
        raise ConfigError(f"evaluator {type(evaluator).__name__} names no objective metric")
    return [(str(metric), bool(getattr(evaluator, "maximize", True)))]


def build_optimizer(block: Block, space: Any, objectives: list[tuple[str, bool]], seed: int) -> Any:
    """The optimizer of one block, seeded."""
    from nasearch.registry import OPTIMIZERS

    return OPTIMIZERS.create(block.name, space=space, objectives=objectives, seed=seed, **block.options)


def _optimum_info(evaluator: Any, space: Any, objectives: list[tuple[str, bool]]) -> dict[str, Any]:
    """The benchmark's best objective value, the key of the cell holding it, and the best test
    value, when the evaluator can say (lookup benchmarks over enumerable spaces)."""
    info: dict[str, Any] = {}
    optimum = getattr(evaluator, "optimum", None)
    if not callable(optimum) or len(objectives) != 1:
        return info
    try:
        found = optimum()
    except Exception:  # noqa: BLE001 - the optimum is a nicety for reports, never fatal
        found = None
    if found:
        info["optimum"] = found[0]
        if found[1] is not None:
            info["optimum_key"] = space.key(found[1])
            info["optimum_arch"] = space.to_str(found[1])
    test_metric = getattr(evaluator, "test_metric", None)
    if test_metric:
        try:
            test = optimum(test_metric)
            if test:
                info["test_optimum"] = test[0]
        except Exception:  # noqa: BLE001
            pass
    return info


def _reference_point(cfg: RunConfig, evaluator: Any, objectives: list[tuple[str, bool]]) -> list[float] | None:
    """Hypervolume reference in maximise-space: the config's, else the benchmark's median cell in
    every objective (so the volume measures the front where it beats a typical cell; the worst
    cell of NB201 has 10% accuracy and ~0 ms latency, which makes every front look alike)."""
    if len(objectives) < 2:
        return None
    if cfg.reference_point is not None:
        if len(cfg.reference_point) != len(objectives):
            raise ConfigError(
                f"{cfg.source.where('reference_point')}: needs {len(objectives)} values, one per objective"
            )
        return [v if mx else -v for v, (_, mx) in zip(cfg.reference_point, objectives)]
    import numpy as np

    bench = getattr(getattr(evaluator, "space", None), "benchmark", None)
    if not callable(bench):
        return None
    try:
        ref = []
        for metric, mx in objectives:
            col = np.asarray(bench().column(metric), dtype=float)
            ref.append(float(np.nanmedian(col)) if mx else -float(np.nanmedian(col)))
        return ref
    except Exception:  # noqa: BLE001 - no whole column: the summary falls back to observed worst
        return None


# --- the loop ----------------------------------------------------------------------------------------
def run(cfg: RunConfig, run_dir: Path, progress: bool = True, log: Callable[[str], None] | None = None,
        allow_config_change: bool = False, retry_failed: bool = False) -> list[SeedReport]:
    """Run (or resume) every optimizer x seed of ``cfg`` into ``run_dir``; one report each.

    ``allow_config_change``: resume even though the space, evaluator or objectives differ from
    the folder's (``nasearch.fingerprint``). ``retry_failed``: evaluate every failed cell again,
    not only those that timed out or lost their worker."""
    from nasearch.runlock import RunLock
    from nasearch.safeio import make_dir

    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    make_dir(run_dir)
    with RunLock(run_dir) as lock:
        if lock.took_over:
            log(f"nasearch: the run folder's lock was left by PID {lock.took_over.get('pid')} on "
                f"{lock.took_over.get('host')}, which is no longer running; taking it over")
        return _run_locked(cfg, run_dir, progress, log, allow_config_change, retry_failed)


def _run_locked(cfg: RunConfig, run_dir: Path, progress: bool, log: Callable[[str], None],
                allow_config_change: bool, retry_failed: bool) -> list[SeedReport]:
    from nasearch.evaluation.pool import make_pool
    from nasearch.safeio import write_text

    space = build_space(cfg)
    evaluator = build_evaluator(cfg.evaluator, space)
    objectives = evaluator_objectives(evaluator)
    for block in cfg.optimizers:  # fail on a bad option before any evaluation starts
        build_optimizer(block, space, objectives, cfg.seeds[0])
    url = storage_url(cfg.storage, run_dir)
    _check_fingerprint(cfg, run_dir, evaluator, objectives, allow_config_change, log)
    optimum = _optimum_info(evaluator, space, objectives)
    reference = _reference_point(cfg, evaluator, objectives)
    test_metric = getattr(evaluator, "test_metric", None)
    write_text(run_dir / "config.yaml", yaml.safe_dump(to_dict(cfg), sort_keys=False))
    meta = {
        "name": cfg.name, "storage": url, "objectives": [[m, mx] for m, mx in objectives],
        "test_metric": test_metric, "search_space": cfg.search_space.name, **optimum,
        "reference_point": reference,
        "studies": [
            {"study": study_name(cfg.name, seed, block.label or None), "label": block.label or block.name,
             "optimizer": block.name, "seed": seed}
            for block in cfg.optimizers for seed in cfg.seeds
        ],
    }
    write_text(run_dir / "run.json", json.dumps(meta, indent=2))
    previous = _previous_summary(run_dir)
    pool_options: dict[str, Any] = {"timeout_s": cfg.parallel.timeout_s}
    if cfg.parallel.backend == "ray":
        pool_options.update({"workers": cfg.parallel.workers, "address": cfg.parallel.address,
                             "num_cpus": cfg.parallel.resources.num_cpus, "num_gpus": cfg.parallel.resources.num_gpus,
                             "max_retries": cfg.parallel.max_retries, "log": log,
                             "surrogate_resources": dataclasses.asdict(cfg.parallel.surrogate_resources)
                             if cfg.parallel.surrogate_resources else None})
    pool = make_pool(evaluator, cfg.parallel.backend, **pool_options)
    reports: list[SeedReport] = []
    try:
        for block in cfg.optimizers:
            for seed in cfg.seeds:
                name = study_name(cfg.name, seed, block.label or None)
                attrs = {"optimizer": block.name, "label": block.label or block.name, "seed": seed,
                         "search_space": cfg.search_space.name, "test_metric": test_metric, **optimum}
                tracker = StudyTracker(url, name, objectives, attrs, space=space)
                optimizer = build_optimizer(block, space, objectives, seed)
                fitter = pool.fitter()
                if fitter is not None and callable(getattr(optimizer, "use_fitter", None)):
                    optimizer.use_fitter(fitter)
                report = run_seed(cfg, space, optimizer, tracker, pool, block, seed, optimum, test_metric,
                                  reference, progress, retry_failed)
                _accumulate_sessions(report, previous.get(report.study))
                reports.append(report)
                _write_summary(run_dir, reports)
    finally:
        pool.close()
    from nasearch.reference_runs import ReferenceScoring, score_against_references

    if isinstance(evaluator, ReferenceScoring):
        score_against_references(cfg, run_dir, evaluator, reports, run, progress)
        _write_summary(run_dir, reports)
    return reports


def _check_fingerprint(cfg: RunConfig, run_dir: Path, evaluator: Any, objectives: list[tuple[str, bool]],
                       allow: bool, log: Callable[[str], None]) -> None:
    """Refuse to resume a folder whose evaluations meant something else (or log the accepted change)."""
    from nasearch.fingerprint import check_and_store, fingerprint
    from nasearch.safeio import write_text

    operational = tuple(getattr(evaluator, "operational_options", ()) or ())
    values = fingerprint(to_dict(cfg), objectives, operational)
    old_config: dict[str, Any] | None = None
    old_objectives: list[tuple[str, bool]] | None = None
    config_path = run_dir / "config.yaml"
    if config_path.is_file():  # a folder written before fingerprints: compare with what it recorded
        try:
            loaded = yaml.safe_load(config_path.read_text())
            meta = json.loads((run_dir / "run.json").read_text())
            old_config = loaded if isinstance(loaded, dict) else None
            old_objectives = [(str(m), bool(mx)) for m, mx in meta["objectives"]]
        except (OSError, ValueError, KeyError, TypeError, yaml.YAMLError):
            old_config = old_objectives = None
    diffs = check_and_store(run_dir, values, allow, old_config, old_objectives, operational)
    if diffs:
        if config_path.is_file():
            stamp = time.strftime("%Y%m%d-%H%M%S")
            write_text(run_dir / f"config.before-{stamp}.yaml", config_path.read_text())
        log(f"nasearch: resuming with a changed configuration (--allow-config-change): {'; '.join(diffs)}")


def _previous_summary(run_dir: Path) -> dict[str, dict[str, Any]]:
    """The reports of earlier sessions, by study (a missing or unreadable file: none)."""
    try:
        data = json.loads((run_dir / "summary.json").read_text())
        return {str(r["study"]): r for r in data if isinstance(r, dict) and "study" in r}
    except (OSError, ValueError, TypeError):
        return {}


def _accumulate_sessions(report: SeedReport, previous: dict[str, Any] | None) -> None:
    """Add the earlier sessions' timings to this session's, so summary.json keeps them all."""
    if previous:
        earlier = dict(previous)
        earlier.setdefault("evaluated", max(0, int(earlier.get("queries", 0)) - int(earlier.get("replayed", 0))))
        earlier.setdefault("sessions", 1)
        for name in _CUMULATIVE:
            value = earlier.get(name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                setattr(report, name, type(getattr(report, name))(getattr(report, name) + value))
    if report.evaluated:
        report.loop_overhead_per_query = (
            report.wall_seconds - report.eval_wait_seconds - report.surrogate_fit_seconds
            - report.surrogate_predict_seconds
        ) / report.evaluated


def run_seed(
    cfg: RunConfig,
    space: Any,
    optimizer: Any,
    tracker: StudyTracker,
    pool: Any,
    block: Block,
    seed: int,
    optimum: dict[str, Any],
    test_metric: str | None,
    reference: list[float] | None,
    progress: bool = True,
    retry_failed: bool = False,
) -> SeedReport:
    """One study: replay stored trials (retrying the cells that failed outside the cell), then
    the ask/evaluate/record/tell loop."""
    from nasearch import resume

    report = SeedReport(tracker.name, block.label or block.name, block.name, seed)
    budget = cfg.budget
    records = tracker.records()
    plan = resume.plan(records, retry_all_failed=retry_failed)
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
    state = _Incumbent(tracker.objectives, test_metric, optimum.get("optimum_key"))
    for rec in kept:
        state.update(rec)
    in_flight: dict[int, str] = {}
    fits0 = int((getattr(optimizer, "stats", {}) or {}).get("fits", 0))

    def spent() -> bool:
        return bool((budget.queries is not None and done >= budget.queries)
                    or (budget.simulated_seconds is not None and simulated >= budget.simulated_seconds))

    bar = _progress(progress, budget.queries, done, f"{report.label} seed {seed}")
    start = time.perf_counter()
    eval_wait0 = pool.eval_seconds
    new = 0
    empty_asks = 0
    setup_failure = None
    try:
        while not spent():
            free = pool.capacity - pool.in_flight
            if budget.queries is not None:
                free = min(free, budget.queries - done - pool.in_flight)
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
                user_attrs: dict[str, Any] = {}
                if outcome.result is None:
                    user_attrs["failure"] = outcome.kind or "cell"
                if outcome.node:
                    user_attrs["node"] = outcome.node
                optimizer_state = resume.snapshot(optimizer)  # taken just before this tell
                if optimizer_state is not None:
                    user_attrs[resume.STATE_ATTR] = optimizer_state
                t0 = time.perf_counter()
                rec = tracker.record(outcome.arch, outcome.result, outcome.error, user_attrs=user_attrs,
                                     wall_seconds=outcome.wall_seconds)
                report.tracking_seconds += time.perf_counter() - t0
                kept.append(rec)
                evaluated.add(key)
                optimizer.tell(outcome.arch, rec.result())
                done += 1
                new += 1
                simulated += rec.simulated_seconds
                state.update(rec)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix_str(state.postfix(simulated), refresh=False)
            if setup_failure is not None:
                text = " ".join(str(setup_failure.error).split())
                raise SetupError(
                    f"set-up failure, the run stops (no cell was recorded as failed): {text} "
                    f"[while evaluating {space.to_str(setup_failure.arch)}]"
                )
    except KeyboardInterrupt:
        report.stopped = "interrupted"
        raise
    finally:
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
        state.fill(report, reference)
        failed = summarise(kept)
        report.failure_kinds, report.errors = failed.kinds, failed.errors
    return report


class _Incumbent:
    """Best-so-far bookkeeping for the progress bar and the report."""

    def __init__(self, objectives: list[tuple[str, bool]], test_metric: str | None, optimum_key: str | None) -> None:
        self.objectives = objectives
        self.test_metric = test_metric
        self.optimum_key = optimum_key
        self.best: Any = None
        self.count = 0
        self.failures = 0
        self.hit: int | None = None
        self.points: list[tuple[list[float], Any]] = []

    def update(self, rec: Any) -> None:
        self.count += 1
        if rec.state != COMPLETE:
            self.failures += 1
            return
        if self.optimum_key and rec.key == self.optimum_key and self.hit is None:
            self.hit = self.count
        metric, maximize = self.objectives[0]
        value = rec.metrics[metric]
        if len(self.objectives) > 1:
            self.points.append(([rec.metrics[m] for m, _ in self.objectives], rec))
        if self.best is None or (value > self.best.metrics[metric] if maximize else value < self.best.metrics[metric]):
            self.best = rec

    def postfix(self, simulated: float) -> str:
        if self.best is None:
            return f"failures={self.failures}"
        metric = self.objectives[0][0]
        text = f"best {metric}={self.best.metrics[metric]:.4g}"
        if self.failures:
            text += f" failures={self.failures}"
        if simulated:
            text += f" sim={simulated / 3600:.1f}h"
        return text

    def fill(self, report: SeedReport, reference: list[float] | None) -> None:
        report.failures = self.failures
        report.queries_to_optimum = self.hit
        report.optimum_known = self.optimum_key is not None
        if self.best is not None:
            report.best_value = self.best.metrics[self.objectives[0][0]]
            report.best_arch = self.best.arch
            if self.test_metric:
                report.incumbent_test = self.best.metrics.get(self.test_metric)
        if len(self.objectives) > 1 and self.points:
            import numpy as np

            from nasearch.optimizers.pareto import hypervolume, pareto_mask

            signs = np.array([1.0 if mx else -1.0 for _, mx in self.objectives])
            pts = np.array([p for p, _ in self.points]) * signs
            mask = pareto_mask(pts)
            front = sorted((self.points[i] for i in np.flatnonzero(mask)), key=lambda item: -item[0][0])
            report.pareto_front = [{"arch": r.arch, **{m: v for (m, _), v in zip(self.objectives, p)}} for p, r in front]
            ref = reference if reference is not None else list(pts.min(axis=0))
            report.hypervolume = hypervolume(pts, ref)


def _progress(enabled: bool, total: int | None, initial: int, desc: str) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit="query", dynamic_ncols=True, file=sys.stderr)


def _write_summary(run_dir: Path, reports: list[SeedReport]) -> None:
    from nasearch.safeio import write_text

    from nasearch.provenance import run_provenance  # each entry: options JSON, hash, version, commit

    trace = run_provenance(run_dir)
    write_text(run_dir / "summary.json", json.dumps([{**dataclasses.asdict(r), **trace} for r in reports], indent=2))


def format_reports(reports: list[SeedReport], cfg: RunConfig) -> str:
    """A plain-text table: one line per optimizer (means over seeds)."""
    import numpy as np

    lines = [f"{'optimizer':<22}{'seeds':>6}{'queries':>9}{'fails':>7}{'best':>10}{'inc.test':>10}"
             f"{'found opt.':>11}{'q->opt':>8}{'overhead/q':>12}{'fit/round':>11}"]
    for label in dict.fromkeys(r.label for r in reports):
        rs = [r for r in reports if r.label == label]
        best = [r.best_value for r in rs if r.best_value is not None]
        test = [r.incumbent_test for r in rs if r.incumbent_test is not None]
        hits = [r.queries_to_optimum for r in rs if r.queries_to_optimum is not None]
        over = [r.loop_overhead_per_query for r in rs if r.loop_overhead_per_query is not None]
        fits = sum(r.surrogate_fits for r in rs)
        fit_round = sum(r.surrogate_fit_seconds for r in rs) / fits if fits else None
        found = f"{len(hits)}/{len(rs)}" if any(r.optimum_known for r in rs) else "-"  # real runs: no optimum

        def fmt(values: list[float], spec: str) -> str:
            return format(float(np.mean(values)), spec) if values else "-"

        lines.append(
            f"{label:<22}{len(rs):>6}{fmt([r.queries for r in rs], '.0f'):>9}{sum(r.failures for r in rs):>7}"
            f"{fmt(best, '.3f'):>10}{fmt(test, '.3f'):>10}{found:>11}{fmt(hits, '.0f'):>8}"
            f"{(fmt(over, '.4f') + 's') if over else '-':>12}{(f'{fit_round:.3f}s' if fit_round else '-'):>11}"
        )
        for r in rs:
            if r.retried:
                what = ", ".join(f"{n} {KIND_WORDS.get(k, k)}" for k, n in sorted(r.retried.items()))
                lines.append(f"  seed {r.seed}: retried {sum(r.retried.values())} cell(s) that had failed before ({what})")
            if r.hypervolume is not None:
                lines.append(f"  seed {r.seed}: Pareto front of {len(r.pareto_front)} cells, hypervolume {r.hypervolume:.4g}")
            if r.stopped != "budget":
                lines.append(f"  seed {r.seed}: stopped: {r.stopped}")
    from nasearch.reference_runs import format_scores

    scores = format_scores(reports)
    if scores:
        lines += ["hypervolumes under the true latency (reference runs: same optimizers, seeds and budget):", *scores]
    return "\n".join(lines)


__all__ = ["cli_run", "run", "run_seed", "SeedReport", "build_space", "build_evaluator", "build_optimizer"]
