"""Tracking of multi-fidelity search: one Optuna trial per cell, whatever its fidelities.

A cell's first result creates its trial (RUNNING, one committed write with the architecture, its
``params`` and the result); each further fidelity adds to the trial's ``fidelities`` user
attribute (the durable truth: ``{epochs: {metrics, cost, start, end, value}}``, one write) and
then its intermediate value at that epoch (what optuna-dashboard plots as a learning curve; where
the evaluator measured the objective after every epoch of the step, as real training does, those
epochs too).
A cell that reaches the full fidelity ends COMPLETE; one the scheduler stops, or that is left
unpromoted when the search ends, ends PRUNED with its last value; a failed evaluation ends FAIL.
Each finished trial carries ``metrics`` and ``cost`` (totals over its fidelities), like a
single-fidelity trial, and ``fidelity``: the epochs of its final value.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from nasearch.api import AnySpace, CategoricalEncoding, Result
from nasearch.data.safeio import storage_errors
from nasearch.search.tracking import COMPLETE, Record, StudyTracker

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution

#: the trial user attribute holding a cell's results per fidelity
FIDELITIES_ATTR = "fidelities"
#: the trial user attribute naming the fidelity (epochs) of the trial's final value
FIDELITY_ATTR = "fidelity"
#: the study user attribute holding the multi-fidelity summary of the search
SUMMARY_ATTR = "multifidelity"


def _curve(event: dict[str, Any]) -> dict[int, float]:
    """The objective after each epoch of a step, where the evaluator measured it (real training)."""
    return {int(k): float(v) for k, v in (event.get("curve") or {}).items()}


def fkey(fidelity: float) -> str:
    """A fidelity as a JSON key: ``"12"``, ``"200"``, ``"0.5"``."""
    return f"{fidelity:g}"


@dataclass
class Cell:
    """One cell's trial as stored: its results per fidelity, and whether the trial is finished."""

    key: str
    arch: str
    trial_id: int
    number: int
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    state: str = "RUNNING"

    @property
    def finished(self) -> bool:
        return self.state != "RUNNING"


def stored_result(event: dict[str, Any]) -> Result | None:
    """The Result a stored event holds (None for a failed evaluation)."""
    if event.get("error"):
        return None
    metrics = {k: (math.nan if v is None else float(v)) for k, v in (event.get("metrics") or {}).items()}
    return Result(metrics, float(event.get("cost_seconds", 0.0)), float(event.get("sim", 0.0)))


class TrialStore:
    """Reads and writes the multi-fidelity trials of one study (through a ``StudyTracker``)."""

    def __init__(self, tracker: StudyTracker, space: AnySpace) -> None:
        self.tracker = tracker
        self.study = tracker.study
        self.storage = self.study._storage
        self.study_id = self.study._study_id
        self.space = space
        self.cells: dict[str, Cell] = {}
        self._distributions: dict[str, BaseDistribution] | None = None
        if isinstance(space, CategoricalEncoding):
            from optuna.distributions import CategoricalDistribution

            self._distributions = {
                n: CategoricalDistribution(list(o)) for n, o in space.categorical_choices().items()
            }

    def load(self) -> dict[str, Cell]:
        """Every stored multi-fidelity cell by key (the latest trial of a key wins)."""
        with storage_errors(f"storage {self.tracker.url}", f"read study {self.tracker.name!r} from"):
            trials = sorted(self.study.get_trials(deepcopy=False), key=lambda t: t.number)
        for t in trials:
            ua = t.user_attrs
            if FIDELITIES_ATTR not in ua or "key" not in ua:
                continue
            self.cells[ua["key"]] = Cell(
                ua["key"], ua["arch"], t._trial_id, t.number, dict(ua[FIDELITIES_ATTR]), t.state.name
            )
        return self.cells

    def add(self, key: str, arch: Hashable, fidelity: float, event: dict[str, Any]) -> Cell:
        """Store one finished evaluation of ``key`` at ``fidelity`` (``event``: metrics, cost, times,
        value or error). A cell whose trial was finished (pruned when an earlier session ended) gets
        a new trial that repeats its earlier results."""
        import optuna

        cell = self.cells.get(key)
        value = event.get("value")
        with storage_errors(f"storage {self.tracker.url}", "record a trial in"):
            if cell is not None and not cell.finished:
                cell.events[fkey(fidelity)] = event
                self.storage.set_trial_user_attr(cell.trial_id, FIDELITIES_ATTR, cell.events)
                for epoch, between in _curve(event).items():
                    self.storage.set_trial_intermediate_value(cell.trial_id, epoch, between)
                if value is not None and math.isfinite(value):
                    self.storage.set_trial_intermediate_value(
                        cell.trial_id, int(round(fidelity)), float(value)
                    )
                return cell
            events = dict(cell.events) if cell is not None else {}
            events[fkey(fidelity)] = event
            steps = {epoch: v for e in events.values() for epoch, v in _curve(e).items()}
            steps.update(
                {
                    int(round(float(f))): float(e["value"])
                    for f, e in events.items()
                    if e.get("value") is not None and math.isfinite(e["value"])
                }
            )
            encoding = cast("CategoricalEncoding[Hashable]", self.space)  # when it has distributions
            params = dict(encoding.to_categorical(arch)) if self._distributions else None
            trial = optuna.trial.create_trial(
                state=optuna.trial.TrialState.RUNNING,
                params=params,
                distributions=self._distributions,
                user_attrs={"arch": self.space.to_str(arch), "key": key, FIDELITIES_ATTR: events},
                intermediate_values=steps,
            )
            trial_id = self.storage.create_new_trial(self.study_id, template_trial=trial)
            number = self.storage.get_trial_number_from_id(trial_id)
        cell = Cell(key, self.space.to_str(arch), trial_id, number, events)
        self.cells[key] = cell
        return cell

    def finish(self, key: str, state: str) -> Record | None:
        """End ``key``'s trial COMPLETE, PRUNED or FAIL at its highest stored fidelity (a no-op when
        it is finished already); the Record of a COMPLETE trial, for the report."""
        import optuna

        cell = self.cells.get(key)
        if cell is None:
            return None
        if cell.finished:
            return self.record(cell) if cell.state == COMPLETE else None
        top = max(cell.events, key=float)
        last = cell.events[top]
        total_sim = sum(float(e.get("sim", 0.0)) for e in cell.events.values())
        total_cost = sum(float(e.get("cost_seconds", 0.0)) for e in cell.events.values())
        value = last.get("value")
        states = optuna.trial.TrialState
        target = {"COMPLETE": states.COMPLETE, "PRUNED": states.PRUNED, "FAIL": states.FAIL}[state]
        if target != states.FAIL and (value is None or not math.isfinite(value)):
            target, state = states.FAIL, "FAIL"
        with storage_errors(f"storage {self.tracker.url}", "record a trial in"):
            self.storage.set_trial_user_attr(cell.trial_id, "metrics", last.get("metrics") or {})
            self.storage.set_trial_user_attr(
                cell.trial_id, "cost", {"simulated_seconds": total_sim, "cost_seconds": total_cost}
            )
            self.storage.set_trial_user_attr(cell.trial_id, FIDELITY_ATTR, float(top))
            if last.get("error"):
                self.storage.set_trial_user_attr(cell.trial_id, "error", str(last["error"])[:2000])
            values = None if target == states.FAIL or value is None else [float(value)]
            self.storage.set_trial_state_values(cell.trial_id, target, values)
        cell.state = state
        return self.record(cell) if state == COMPLETE else None

    @staticmethod
    def record(cell: Cell) -> Record:
        """A finished cell as the Record a single-fidelity trial would give (final metrics, total costs)."""
        top = max(cell.events, key=float)
        last = cell.events[top]
        metrics = {k: (math.nan if v is None else float(v)) for k, v in (last.get("metrics") or {}).items()}
        return Record(
            cell.number,
            cell.arch,
            cell.key,
            cell.state,
            metrics,
            sum(float(e.get("sim", 0.0)) for e in cell.events.values()),
            sum(float(e.get("cost_seconds", 0.0)) for e in cell.events.values()),
            None,
            {FIDELITY_ATTR: float(top)},
        )

    def set_summary(self, summary: dict[str, object]) -> None:
        """The search's multi-fidelity summary as a study user attribute (read by ``nasearch run``)."""
        with storage_errors(f"storage {self.tracker.url}", "record a summary in"):
            self.study.set_user_attr(SUMMARY_ATTR, summary)
