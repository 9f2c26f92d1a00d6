"""What makes a tracked study read well in optuna-dashboard: the objectives' metric names (not
"Objective 0"), each trial's real start and completion time (so the Timeline shows the workers
running side by side), and an evaluator's per-epoch values as the trial's intermediate values
(the learning curves)."""

from __future__ import annotations

import dataclasses
import datetime
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar

from nasearch.api import Result

if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial

T = TypeVar("T")


def set_metric_names(study: optuna.Study, objectives: Sequence[tuple[str, bool]]) -> None:
    """Name the study's objectives after their metrics (idempotent)."""
    names = [str(metric) for metric, _ in objectives]
    if study.metric_names == names:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna marks set_metric_names experimental
        study.set_metric_names(names)


def intermediate_values(info: Mapping[str, object] | None) -> dict[int, float]:
    """``info["intermediate_values"]`` of a Result (step -> value, e.g. epoch -> validation
    accuracy) as Optuna wants them: integer steps, finite floats only."""
    raw = (info or {}).get("intermediate_values") or {}
    if not isinstance(raw, Mapping):
        return {}
    out = {}
    for step, value in raw.items():
        try:
            step_i, value_f = int(step), float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(value_f):
            out[step_i] = value_f
    return out


def with_times(result: T, started: float, finished: float) -> T:
    """``result`` with the epoch seconds its evaluation started and finished, stamped where it ran
    (``info["started_at"]``, ``info["finished_at"]``), for :func:`stamp_times`."""
    if not isinstance(result, Result):
        return result
    return dataclasses.replace(result, info={**result.info, "started_at": started, "finished_at": finished})


def stamp_times(
    trial: FrozenTrial,
    wall_seconds: float | None,
    info: Mapping[str, object] | None = None,
    finished: datetime.datetime | None = None,
) -> FrozenTrial:
    """Give a created trial its real span: the times stamped where the evaluation ran when the
    result carries them; else it completed ``finished`` (default now, when the driver records it)
    and started ``wall_seconds`` (what the worker measured) before that."""
    started_at, finished_at = (info or {}).get("started_at"), (info or {}).get("finished_at")
    if (
        isinstance(started_at, (int, float))
        and isinstance(finished_at, (int, float))
        and finished_at >= started_at
    ):
        trial.datetime_start = datetime.datetime.fromtimestamp(started_at)
        trial.datetime_complete = datetime.datetime.fromtimestamp(finished_at)
        return trial
    end = finished or datetime.datetime.now()
    if wall_seconds is not None and math.isfinite(wall_seconds) and wall_seconds > 0:
        trial.datetime_start = end - datetime.timedelta(seconds=float(wall_seconds))
    else:
        trial.datetime_start = end
    trial.datetime_complete = end
    return trial
