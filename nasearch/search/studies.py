"""Open every study of a run before the session writes anything: the checks that can refuse a run.

Each study is opened (objectives checked, ``nasearch.search.tracking``), its owner checked
(``nasearch.search.ownership``), its stored trials parsed in the current search space (``nasearch.search.resume``)
and its trial count compared with ``summary.json``. Only when all of that passes does the runner
write the folder's fingerprint, ``config.yaml`` and ``run.json``: a refused session (e.g. a refused
``--allow-config-change``) leaves the folder as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nasearch.api.objective import Objective
from nasearch.config.run_schema import RunConfig
from nasearch.data.safeio import storage_errors
from nasearch.search import resume
from nasearch.search.ownership import RunIdentity, check_owner, check_study_state, claim
from nasearch.search.tracking import StudyTracker, study_name
from nasearch.search.trajectory import KnownOptimum, stop_attrs


def open_studies(
    cfg: RunConfig,
    run_dir: Path,
    url: str,
    who: RunIdentity,
    objectives: Sequence[Objective],
    space: Any,
    test_metric: str | None,
    optimum: KnownOptimum,
) -> dict[str, StudyTracker]:
    """Every (optimizer, seed) study of ``cfg``, by name, checked (see the module docstring)."""
    db_path = Path(url[len("sqlite:///") :]) if url.startswith("sqlite:///") else None
    out: dict[str, StudyTracker] = {}
    pending: list[dict[str, object]] = []
    for block in cfg.optimizers:
        for seed in cfg.seeds:
            name = study_name(who.study_prefix, seed, block.label or None)
            attrs: dict[str, object] = {
                "optimizer": block.name,
                "label": block.label or block.name,
                "seed": seed,
                "search_space": cfg.search_space.name,
                "test_metric": test_metric,
                **optimum.attrs(),
                **stop_attrs(cfg),
            }
            tracker = StudyTracker(url, name, objectives, space=space)
            check_owner(tracker.study, name, url, who)
            records = tracker.records()
            for rec in records:
                resume.parse_stored(space, name, rec)
            stored = len(records) or len(tracker.study.get_trials(deepcopy=False))  # PRUNED cells count too
            check_study_state(run_dir, name, stored, db_path)
            out[name] = tracker
            pending.append(attrs)
    for tracker, attrs in zip(out.values(), pending):
        with storage_errors(f"storage {url}", f"write study {tracker.name!r} in"):
            claim(tracker.study, who)
            tracker.set_attrs(attrs)
    return out


__all__ = ["open_studies"]
