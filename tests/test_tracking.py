"""Optuna tracking: one trial per evaluation, failures with their error, resume checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nasearch.api import Result
from nasearch.api.errors import ConfigError
from nasearch.evaluation.benchmark import BenchmarkEvaluator
from nasearch.search.tracking import (
    COMPLETE,
    FAIL,
    StudyTracker,
    load_study,
    storage_url,
    study_name,
    study_names,
)

METRIC = "cifar10-valid/valid_accuracy"


def test_storage_url_forms(tmp_path):
    assert storage_url(None, tmp_path / "run") == f"sqlite:///{(tmp_path / 'run').resolve()}/study.db"
    with pytest.raises(ConfigError, match="is not a URL; write one, e.g. sqlite:///"):
        storage_url(str(tmp_path / "x.db"), tmp_path)  # a plain path would silently become a SQLite file
    assert storage_url("postgresql://u@h/db", tmp_path) == "postgresql://u@h/db"
    assert storage_url("memory", tmp_path) == "memory"
    assert study_name("nb201", 3) == "nb201/seed-3"
    assert study_name("cmp", 0, "bayesian") == "cmp/bayesian/seed-0"


def test_records_round_trip_through_sqlite(tmp_path, nb201_space):
    ev = BenchmarkEvaluator(nb201_space, metric=METRIC, test_metric="cifar10/test_accuracy")
    url = storage_url(None, tmp_path)
    tracker = StudyTracker(
        url, "t/seed-0", ev.objectives, {"optimizer": "random", "seed": 0}, space=nb201_space
    )
    rng = np.random.default_rng(0)
    archs = [nb201_space.sample(rng) for _ in range(5)]
    results = [ev.evaluate(a) for a in archs]
    for a, r in zip(archs, results):
        tracker.record(a, r, wall_seconds=0.01)
    tracker.record(archs[0], None, "RuntimeError: out of memory")
    tracker.record(archs[1], Result({METRIC: float("nan")}))

    # read back through a fresh Optuna handle, as optuna-dashboard or a resumed run would
    study = load_study(url, "t/seed-0")
    assert "t/seed-0" in study_names(url)
    assert study.user_attrs["objectives"] == [[METRIC, True]]
    assert study.user_attrs["optimizer"] == "random"
    recs = StudyTracker(url, "t/seed-0", ev.objectives, space=nb201_space).records()
    assert [r.state for r in recs] == [COMPLETE] * 5 + [FAIL, FAIL]
    assert [r.arch for r in recs[:5]] == [nb201_space.to_str(a) for a in archs]
    assert [r.key for r in recs[:5]] == [nb201_space.key(a) for a in archs]
    assert recs[0].metrics == pytest.approx(results[0].metrics)
    assert recs[0].simulated_seconds == pytest.approx(results[0].simulated_seconds)
    assert recs[0].simulated_seconds > 0
    assert recs[5].error == "RuntimeError: out of memory" and recs[5].result() is None
    assert "is NaN" in recs[6].error
    assert recs[0].result().metrics[METRIC] == study.trials[0].values[0]
    # the space's categorical encoding becomes the trial params (dashboard slice/importance plots)
    assert study.trials[2].params == nb201_space.to_categorical(archs[2])
    assert nb201_space.from_categorical(study.trials[2].params) == archs[2]
    assert math.isclose(study.best_value, max(r.metrics[METRIC] for r in results))


def test_resume_with_another_objective_is_refused(tmp_path, nb201_space):
    url = storage_url(None, tmp_path)
    StudyTracker(url, "t/seed-0", [(METRIC, True)], space=nb201_space)
    with pytest.raises(ConfigError, match="was run with objectives"):
        StudyTracker(url, "t/seed-0", [("cifar10/test_accuracy", True)], space=nb201_space)


def test_two_objectives_become_study_directions(tmp_path, nb201_space):
    ev = BenchmarkEvaluator(
        nb201_space, objectives=[{"metric": METRIC}, {"metric": "latency/pixel3", "direction": "minimize"}]
    )
    tracker = StudyTracker("memory", "mo/seed-0", ev.objectives, space=nb201_space)
    arch = nb201_space.sample(np.random.default_rng(1))
    tracker.record(arch, ev.evaluate(arch))
    assert [d.name for d in tracker.study.directions] == ["MAXIMIZE", "MINIMIZE"]
    assert tracker.study.trials[0].values == [
        ev.evaluate(arch).metrics[METRIC],
        ev.evaluate(arch).metrics["latency/pixel3"],
    ]
