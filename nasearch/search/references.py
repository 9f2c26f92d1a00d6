"""Scoring a search against reference searches: the same optimizers, seeds and budget, another objective.

An evaluator that offers :class:`ReferenceScoring` (e.g. the hardware-aware evaluator, whose
latency is a zero-shot prediction) names variants of itself (``{label: evaluator options}``),
e.g. the oracle that searches the target's measured latency and a FLOPs/params proxy. After the
main search, each variant runs as its own search in ``<run folder>/<label>/`` (resumable like
any run), every front is re-scored by the evaluator's ground truth, and each seed's report gets
the hypervolumes and their ratios to the first variant (the oracle).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from nasearch.api import ReferenceScoring

if TYPE_CHECKING:
    from nasearch.config.run_schema import RunConfig
    from nasearch.search.report import SeedReport


def score_against_references(
    cfg: RunConfig,
    run_dir: Path,
    evaluator: ReferenceScoring,
    reports: list[SeedReport],
    run: Callable[..., list[SeedReport]],
    progress: bool = True,
) -> None:
    """Run each reference variant, then fill every report's ``reference_scores``."""
    variants = evaluator.reference_variants()
    if not variants:
        return
    reference = evaluator.true_reference()
    by_variant: dict[str, dict[tuple[str, int], SeedReport]] = {}
    for label, options in variants.items():
        block = dataclasses.replace(cfg.evaluator, options={**cfg.evaluator.options, **options})
        variant_cfg = dataclasses.replace(cfg, name=f"{cfg.name}-{label}", evaluator=block, output=None)
        variant_reports = run(variant_cfg, run_dir / label, progress=progress)
        by_variant[label] = {(r.label, r.seed): r for r in variant_reports}
    oracle = next(iter(variants))
    for report in reports:
        scores = {"true_hypervolume": evaluator.true_hypervolume(report.pareto_front, reference)}
        for label in variants:
            other = by_variant[label].get((report.label, report.seed))
            if other is not None:
                scores[f"{label}_hypervolume"] = evaluator.true_hypervolume(other.pareto_front, reference)
        base = scores.get(f"{oracle}_hypervolume")
        if base:
            scores["ratio_to_oracle"] = scores["true_hypervolume"] / base
            for label in list(variants)[1:]:
                if f"{label}_hypervolume" in scores:
                    scores[f"{label}_ratio_to_oracle"] = scores[f"{label}_hypervolume"] / base
        report.reference_scores = {"reference_point": reference, **scores}


def format_scores(reports: list[SeedReport]) -> list[str]:
    """One line per seed: the found front's true hypervolume beside the references'."""
    lines = []
    for r in reports:
        s = r.reference_scores
        if "true_hypervolume" not in s:
            continue
        parts = [f"true HV {s['true_hypervolume']:.4g}"]
        parts += [
            f"{k.removesuffix('_hypervolume')} HV {v:.4g}"
            for k, v in s.items()
            if k.endswith("_hypervolume") and k != "true_hypervolume"
        ]
        parts += [f"{k} {v:.3f}" for k, v in s.items() if k.endswith("ratio_to_oracle")]
        lines.append(f"  {r.label} seed {r.seed}: " + ", ".join(parts))
    return lines
