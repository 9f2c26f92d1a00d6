"""What optuna-dashboard shows of a tracked study (issue 16): metric names, real trial durations
(a Timeline with the workers side by side) and the training evaluator's learning curves."""

from __future__ import annotations

import numpy as np
import pytest

from nasearch.api import Result
from nasearch.search.tracking import StudyTracker, load_study, storage_url
from nasearch.search_spaces.examples.chain import ChainSpace


def _tracker(tmp_path, objectives=(("valid_accuracy", True),)):  # type: ignore[no-untyped-def]
    url = storage_url(None, tmp_path)
    return url, StudyTracker(url, "d/seed-0", list(objectives), space=ChainSpace(depth=2))


def test_study_names_its_objective_metrics(tmp_path) -> None:
    url, _ = _tracker(tmp_path, (("valid_accuracy", True), ("latency_ms", False)))
    assert load_study(url, "d/seed-0").metric_names == ["valid_accuracy", "latency_ms"]


def test_trial_spans_the_time_the_worker_measured(tmp_path) -> None:
    url, tracker = _tracker(tmp_path)
    space = ChainSpace(depth=2)
    arch = space.sample(np.random.default_rng(0))
    tracker.record(arch, Result({"valid_accuracy": 50.0}, cost_seconds=2.5), wall_seconds=2.5)
    trial = load_study(url, "d/seed-0").trials[0]
    assert trial.duration is not None and trial.duration.total_seconds() == pytest.approx(2.5, abs=0.01)


def test_trial_spans_the_times_stamped_where_it_ran(tmp_path) -> None:
    """A result stamped by the pool (worker clock) keeps those times, however late it is recorded."""
    import datetime

    from nasearch.search.dashboard import with_times

    url, tracker = _tracker(tmp_path)
    space = ChainSpace(depth=2)
    stamped = with_times(Result({"valid_accuracy": 50.0}, 2.0), 1_700_000_000.0, 1_700_000_002.0)
    tracker.record(space.sample(np.random.default_rng(0)), stamped, wall_seconds=2.0)
    trial = load_study(url, "d/seed-0").trials[0]
    assert trial.datetime_start == datetime.datetime.fromtimestamp(1_700_000_000.0)
    assert trial.datetime_complete == datetime.datetime.fromtimestamp(1_700_000_002.0)


def test_serial_pool_stamps_each_evaluation(tmp_path) -> None:
    import time

    from nasearch.evaluation.pool import SerialPool

    class Sleepy:
        objective = "x"

        def evaluate(self, arch):  # type: ignore[no-untyped-def]
            time.sleep(0.2)
            return Result({"x": 1.0})

    pool = SerialPool(Sleepy())
    pool.submit("a")
    (outcome,) = pool.wait()
    info = outcome.result.info
    assert 0.2 <= info["finished_at"] - info["started_at"] < 1.0


def test_training_evaluator_learning_curve_becomes_intermediate_values(tmp_path) -> None:
    from nasearch.evaluation.training import TrainingEvaluator

    space = ChainSpace(depth=2, widths=(16,))
    ev = TrainingEvaluator(space, epochs=3, dataset="digits", num_threads=1)
    arch = (("conv", 3, 16), ("conv", 3, 16))
    result = ev.evaluate(arch)
    curve = result.info["intermediate_values"]
    assert sorted(curve) == [1, 2, 3]
    assert curve[3] == result.metrics["valid_accuracy"]
    assert all(0.0 <= v <= 100.0 for v in curve.values()) and len(set(curve.values())) > 1  # it learns
    url, tracker = _tracker(tmp_path)
    tracker.record(arch, result, wall_seconds=result.cost_seconds)
    trial = load_study(url, "d/seed-0").trials[0]
    assert trial.intermediate_values == pytest.approx(curve)
    # the curve costs evaluation passes only: the final numbers equal a run without it
    plain = TrainingEvaluator(
        space, epochs=3, dataset="digits", num_threads=1, learning_curve=False
    ).evaluate(arch)
    assert plain.metrics["valid_accuracy"] == result.metrics["valid_accuracy"]
    assert "intermediate_values" not in plain.info


RAY_RUN = """\
name: timeline
seeds: [0]
search_space: {name: nasbench201}
evaluator: {name: "search_helpers:SlowBenchmark", delay: 1.0, metric: cifar10-valid/valid_accuracy}
optimizer: {name: random}
budget: {queries: 4}
parallel: {backend: ray, workers: 2, resources: {num_cpus: 1}}
"""


@pytest.mark.ray
def test_ray_workers_overlap_on_the_timeline(tmp_path, ray_local) -> None:
    """Two Ray workers, four 1-second evaluations: the stored trials overlap in time."""
    from nasearch.cli.main import main

    config = tmp_path / "timeline.yaml"
    config.write_text(RAY_RUN)
    assert main(["run", str(config), "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    trials = load_study(storage_url(None, tmp_path / "out"), "timeline/seed-0").trials
    spans = sorted((t.datetime_start, t.datetime_complete) for t in trials)
    assert len(spans) == 4 and all((end - start).total_seconds() >= 1.0 for start, end in spans)
    overlaps = sum(1 for (s1, e1), (s2, e2) in zip(spans, spans[1:]) if s2 < e1)
    assert overlaps >= 1
