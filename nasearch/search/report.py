"""A run's report: one ``SeedReport`` per (optimizer, seed), its summary.json, and the printed table.

``fill_report`` turns the trajectory's ``Incumbent`` (:mod:`nasearch.search.trajectory`) into the report's
incumbent, queries to the optimum and, for several objectives, the Pareto front and its hypervolume.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nasearch.config.run_schema import RunConfig
from nasearch.data.provenance import run_provenance  # each entry: options JSON, hash, version, commit
from nasearch.data.safeio import write_text
from nasearch.optimizers.pareto import hypervolume, pareto_mask
from nasearch.search.failures import KIND_WORDS
from nasearch.search.references import format_scores
from nasearch.search.trajectory import Incumbent

#: ``SeedReport.stopped`` of a search that ended at the optimum (``budget.stop_at_optimum``)
AT_OPTIMUM = "at the optimum (budget.stop_at_optimum)"


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
    #: why the search ended: "budget", ``AT_OPTIMUM``, or what cut it short
    stopped: str = "budget"
    pareto_front: list[dict[str, object]] = field(default_factory=list)
    hypervolume: float | None = None
    #: hypervolumes under the evaluator's ground truth beside reference runs (see nasearch.search.references)
    reference_scores: dict[str, object] = field(default_factory=dict)
    #: cells evaluated again this session because they had failed outside the cell, by kind
    retried: dict[str, int] = field(default_factory=dict)
    #: the retry budget (``parallel.cell_tries``) and the failed cells that spent it (not retried again)
    cell_tries: int | None = None
    retries_spent: int = 0
    #: failed cells by kind (``cell``, ``timeout``, ``lost``) and the first distinct errors
    failure_kinds: dict[str, int] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    #: evaluations made by all sessions of this study (its trials, replays excluded), and how many sessions
    evaluated: int = 0
    sessions: int = 1


#: timings a resumed session adds to those of the sessions before it (summary.json)
_CUMULATIVE = (
    "wall_seconds",
    "eval_wait_seconds",
    "tracking_seconds",
    "surrogate_fit_seconds",
    "surrogate_predict_seconds",
    "surrogate_fits",
    "sessions",
)


def previous_summary(run_dir: Path) -> dict[str, dict[str, Any]]:
    """The reports of earlier sessions, by study (a missing or unreadable file: none)."""
    try:
        data = json.loads((run_dir / "summary.json").read_text())
        return {str(r["study"]): r for r in data if isinstance(r, dict) and "study" in r}
    except (OSError, ValueError, TypeError):
        return {}


def accumulate_sessions(report: SeedReport, previous: Mapping[str, object] | None) -> None:
    """Add the earlier sessions' timings to this session's, so summary.json keeps them all."""
    # every trial in the study was evaluated by some session: counted from the study, so a session
    # killed before it wrote summary.json is still counted (its timings, never written, are not)
    report.evaluated += report.replayed
    if previous:
        earlier = dict(previous)
        earlier.setdefault("sessions", 1)
        for name in _CUMULATIVE:
            value = earlier.get(name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                setattr(report, name, type(getattr(report, name))(getattr(report, name) + value))
    if report.evaluated:
        report.loop_overhead_per_query = (
            report.wall_seconds
            - report.eval_wait_seconds
            - report.surrogate_fit_seconds
            - report.surrogate_predict_seconds
        ) / report.evaluated


def write_summary(
    run_dir: Path, reports: list[SeedReport], kept: Sequence[Mapping[str, object]] = ()
) -> None:
    """summary.json: this session's reports, then ``kept`` (earlier sessions' entries, as they were)."""
    trace = run_provenance(run_dir)
    entries = [{**dataclasses.asdict(r), **trace} for r in reports] + list(kept)
    write_text(run_dir / "summary.json", json.dumps(entries, indent=2))


def summary_after_interrupt(
    run_dir: Path,
    reports: list[SeedReport],
    current: SeedReport | None,
    previous: dict[str, dict[str, object]],
    studies: Sequence[str],
) -> None:
    """summary.json of an interrupted session: the finished studies, the interrupted one (its
    counts are its study's, written just before it unwound) and the earlier sessions' entries of
    the run's studies not reached yet, so no study drops out of it."""
    done = list(reports)
    if current is not None and all(r is not current for r in done):
        accumulate_sessions(current, previous.get(current.study))
        done.append(current)
    reached = {r.study for r in done}
    write_summary(run_dir, done, [previous[s] for s in studies if s not in reached and s in previous])


def format_reports(reports: list[SeedReport], cfg: RunConfig) -> str:
    """A plain-text table: one line per optimizer (means over seeds)."""
    import numpy as np

    lines = [
        f"{'optimizer':<22}{'seeds':>6}{'queries':>9}{'fails':>7}{'best':>10}{'inc.test':>10}"
        f"{'found opt.':>11}{'q->opt':>8}{'overhead/q':>12}{'fit/round':>11}"
    ]
    for label in dict.fromkeys(r.label for r in reports):
        rs = [r for r in reports if r.label == label]
        best = [r.best_value for r in rs if r.best_value is not None]
        test = [r.incumbent_test for r in rs if r.incumbent_test is not None]
        hits = [r.queries_to_optimum for r in rs if r.queries_to_optimum is not None]
        over = [r.loop_overhead_per_query for r in rs if r.loop_overhead_per_query is not None]
        fits = sum(r.surrogate_fits for r in rs)
        fit_round = sum(r.surrogate_fit_seconds for r in rs) / fits if fits else None
        found = f"{len(hits)}/{len(rs)}" if any(r.optimum_known for r in rs) else "-"  # real runs: no optimum

        def fmt(values: Sequence[float], spec: str) -> str:
            return format(float(np.mean(values)), spec) if values else "-"

        lines.append(
            f"{label:<22}{len(rs):>6}{fmt([r.queries for r in rs], '.0f'):>9}{sum(r.failures for r in rs):>7}"
            f"{fmt(best, '.3f'):>10}{fmt(test, '.3f'):>10}{found:>11}{fmt(hits, '.0f'):>8}"
            f"{(fmt(over, '.4f') + 's') if over else '-':>12}{(f'{fit_round:.3f}s' if fit_round else '-'):>11}"
        )
        for r in rs:
            if r.retried:
                what = ", ".join(f"{n} {KIND_WORDS.get(k, k)}" for k, n in sorted(r.retried.items()))
                lines.append(
                    f"  seed {r.seed}: retried {sum(r.retried.values())} cell(s) that had failed before ({what})"
                )
            if r.hypervolume is not None:
                lines.append(
                    f"  seed {r.seed}: Pareto front of {len(r.pareto_front)} cells, hypervolume {r.hypervolume:.4g}"
                )
            if r.stopped not in ("budget", AT_OPTIMUM):  # both are the plan; anything else is news
                lines.append(f"  seed {r.seed}: stopped: {r.stopped}")
    scores = format_scores(reports)
    if scores:
        lines += [
            "hypervolumes under the true latency (reference runs: same optimizers, seeds and budget):",
            *scores,
        ]
    return "\n".join(lines)


def fill_report(report: SeedReport, incumbent: Incumbent, reference: list[float] | None) -> None:
    """The report's incumbent, failures, queries to the optimum and (several objectives) Pareto front."""
    report.failures = incumbent.failures
    report.queries_to_optimum = incumbent.found_at
    report.optimum_known = incumbent.target.known
    if incumbent.best is not None:
        report.best_value = incumbent.best_value
        report.best_arch = incumbent.best.arch
        report.incumbent_test = incumbent.best_test
    if len(incumbent.objectives) > 1 and incumbent.points:
        import numpy as np

        objectives = incumbent.objectives
        signs = np.array([1.0 if mx else -1.0 for _, mx in objectives])
        pts = np.array([p for p, _ in incumbent.points]) * signs
        mask = pareto_mask(pts)
        front = sorted((incumbent.points[i] for i in np.flatnonzero(mask)), key=lambda item: -item[0][0])
        report.pareto_front = [
            {"arch": r.arch, **{m: v for (m, _), v in zip(objectives, p)}} for p, r in front
        ]
        ref = reference if reference is not None else list(pts.min(axis=0))
        report.hypervolume = hypervolume(pts, ref)


def progress_postfix(incumbent: Incumbent, simulated: float) -> str:
    """The progress bar's tail: the incumbent's value, failures and simulated time so far."""
    if incumbent.best is None:
        return f"failures={incumbent.failures}"
    text = f"best {incumbent.objectives[0][0]}={incumbent.best_value:.4g}"
    if incumbent.failures:
        text += f" failures={incumbent.failures}"
    if simulated:
        text += f" sim={simulated / 3600:.1f}h"
    return text
