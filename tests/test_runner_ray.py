"""Evaluation on a local Ray cluster: parallel tasks, failures as results, lost workers retried."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from search_helpers import DyingEvaluator, FlakyEvaluator

from nasearch.evaluation.benchmark import BenchmarkEvaluator
from nasearch.evaluation.pool import RayPool, SerialPool, make_pool

METRIC = "cifar10-valid/valid_accuracy"


@pytest.fixture(scope="module")
def ray_session(ray_local):
    """The session's local Ray (tests/conftest.py): the pools here find it running and use it."""
    return ray_local


@pytest.fixture(scope="module")
def bench(nb201_space):
    return BenchmarkEvaluator(nb201_space, metric=METRIC)


def _archs(space, n, seed=0):
    rng = np.random.default_rng(seed)
    return [space.sample(rng) for _ in range(n)]


@pytest.mark.ray
def test_ray_pool_runs_in_parallel_and_returns_failures(ray_session, nb201_space, bench):
    pool = RayPool(FlakyEvaluator(bench, fail_op="none"), workers=2, num_cpus=1)
    archs = _archs(nb201_space, 12)
    tickets = {pool.submit(a): a for a in archs}
    assert pool.in_flight == 12
    outcomes = []
    while pool.in_flight:
        outcomes += pool.wait()
    assert sorted(o.ticket for o in outcomes) == sorted(tickets)
    for o in outcomes:
        assert o.arch == tickets[o.ticket]
        if o.arch[0] == "none":
            assert o.result is None and o.error.startswith("RuntimeError: simulated training crash on none")
        else:
            assert o.error is None and o.result.metrics == bench.evaluate(o.arch).metrics
    assert any(o.result is None for o in outcomes) and any(o.result is not None for o in outcomes)
    pool.close()


@pytest.mark.ray
def test_a_lost_worker_task_is_retried(ray_session, nb201_space, bench, tmp_path):
    pool = RayPool(DyingEvaluator(bench, str(tmp_path), die_times=1), workers=2, max_retries=2)
    arch = _archs(nb201_space, 1, seed=5)[0]
    pool.submit(arch)
    (outcome,) = pool.wait()
    assert outcome.error is None and outcome.result.metrics[METRIC] == bench.evaluate(arch).metrics[METRIC]
    assert (tmp_path / ("-".join(arch) + ".died")).read_text() == "1"  # it died once, then succeeded

    # without retries the lost worker becomes a failed evaluation, not a crash of the search
    pool = RayPool(DyingEvaluator(bench, str(tmp_path / "b"), die_times=1), workers=2, max_retries=0)
    (tmp_path / "b").mkdir()
    pool.submit(arch)
    (outcome,) = pool.wait()
    assert outcome.result is None and "Worker" in outcome.error


@pytest.mark.ray
def test_run_with_ray_backend_records_failures(ray_session, tmp_path):
    from nasearch.cli.main import main
    from nasearch.search.tracking import FAIL, StudyTracker, storage_url

    cfg = tmp_path / "ray.yaml"
    cfg.write_text(f"""\
name: rayrun
seeds: [0]
search_space: {{name: nasbench201}}
evaluator: {{name: "search_helpers:FlakyBenchmark", metric: {METRIC}}}
optimizer: {{name: evolution, population_size: 10, sample_size: 3}}
budget: {{queries: 30}}
parallel: {{backend: ray, workers: 2, resources: {{num_cpus: 1}}}}
""")
    out = tmp_path / "out"
    assert main(["run", str(cfg), "--out", str(out), "--no-progress"]) == 0
    recs = StudyTracker(storage_url(None, out), "rayrun/seed-0", [(METRIC, True)]).records()
    assert len(recs) == 30 and len({r.key for r in recs}) == 30
    assert all(r.state == FAIL for r in recs if r.arch.startswith("|avg_pool_3x3~0|"))
    assert json.loads(Path(out / "summary.json").read_text())[0]["failures"] > 0


def test_serial_pool_and_backend_names(bench, nb201_space):
    pool = make_pool(FlakyEvaluator(bench, fail_op="none"), "serial")
    assert isinstance(pool, SerialPool) and pool.capacity == 1
    arch = ("none",) * 6
    pool.submit(arch)
    (o,) = pool.wait()
    assert o.result is None and "simulated training crash" in o.error
    from nasearch.api.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown backend 'dask'"):
        make_pool(bench, "dask")


@pytest.mark.ray
def test_surrogate_refits_run_as_ray_tasks(ray_session, nb201_space, bench):
    """With surrogate_resources, every ensemble member is fitted in a Ray worker process and
    comes back predicting exactly what a fit in the driver predicts."""
    import os

    from search_helpers import WhereFittedSurrogate

    from nasearch.optimizers.surrogate import Surrogate

    pool = RayPool(bench, workers=1, num_cpus=1, surrogate_resources={"num_cpus": 1})
    archs = _archs(nb201_space, 40, seed=3)
    graphs = [nb201_space.to_graph(a) for a in archs]
    y = [bench.evaluate(a).metrics[METRIC] for a in archs]
    remote, local = (Surrogate(WhereFittedSurrogate(), seed=1, ensemble_size=2) for _ in range(2))
    remote.fitter = pool.fitter()
    remote.fit(graphs, y)
    local.fit(graphs, y)
    assert all(m.fitted_in not in (None, os.getpid()) for m in remote.members)
    assert all(m.fitted_in == os.getpid() for m in local.members)
    np.testing.assert_allclose(remote.predict(graphs)[0], local.predict(graphs)[0])
    assert SerialPool(bench).fitter() is None and RayPool(bench, workers=1).fitter() is None


@pytest.mark.ray
def test_surrogate_resources_the_cluster_lacks_are_refused(ray_session, bench):
    from nasearch.api.errors import ConfigError

    if ray_session.cluster_resources().get("GPU", 0) >= 64:
        pytest.skip("a cluster with 64 GPUs")
    with pytest.raises(ConfigError, match=r"surrogate_resources.num_gpus asks for 64 GPU"):
        RayPool(bench, workers=1, surrogate_resources={"num_gpus": 64})


@pytest.mark.ray
def test_run_with_surrogate_refits_on_ray(ray_session, tmp_path):
    from nasearch.cli.main import main

    cfg = tmp_path / "remote_fit.yaml"
    cfg.write_text(f"""\
name: remotefit
seeds: [0]
search_space: {{name: nasbench201}}
evaluator: {{name: benchmark, metric: {METRIC}}}
optimizer: {{name: predictor_local_search, surrogate: {{name: random_forest, n_estimators: 20}}, num_init: 5, k: 3}}
budget: {{queries: 20}}
parallel: {{backend: ray, workers: 1, surrogate_resources: {{num_cpus: 1}}}}
""")
    out = tmp_path / "out"
    assert main(["run", str(cfg), "--out", str(out), "--no-progress"]) == 0
    summary = json.loads(Path(out / "summary.json").read_text())[0]
    assert summary["queries"] == 20 and summary["failures"] == 0

    bad = tmp_path / "serial_fit.yaml"
    bad.write_text(cfg.read_text().replace("backend: ray", "backend: serial"))
    assert main(["run", str(bad), "--out", str(tmp_path / "bad"), "--no-progress"]) != 0


@pytest.mark.ray
def test_a_task_past_the_timeout_is_cancelled_on_its_worker(ray_session, tmp_path):
    """A hung evaluation is cancelled (its Ray worker killed) and recorded as timed out; the
    search goes on to its budget. The timeout leaves a lookup on a freshly started worker (which
    imports nasearch and loads the table) room on a loaded 2-core machine: at 3 s it flaked."""
    import os
    import time

    from nasearch.cli.main import main
    from nasearch.search.tracking import COMPLETE, FAIL, StudyTracker, storage_url

    pids = tmp_path / "pids"
    pids.mkdir()
    cfg = tmp_path / "hang.yaml"
    cfg.write_text(f"""\
name: hangray
seeds: [0]
search_space: {{name: nasbench201}}
evaluator: {{name: "search_helpers:HangingBenchmark", metric: {METRIC}, hang_s: 600, pid_dir: {pids}}}
optimizer: random
budget: {{queries: 12}}
parallel: {{backend: ray, workers: 2, timeout_s: 10}}
""")
    out = tmp_path / "out"
    assert main(["run", str(cfg), "--out", str(out), "--no-progress"]) == 0
    recs = StudyTracker(storage_url(None, out), "hangray/seed-0", [(METRIC, True)]).records()
    hung = [r for r in recs if r.arch.startswith("|avg_pool_3x3~0|")]
    assert len(recs) == 12 and hung
    assert all(
        r.state == FAIL and r.attrs["failure"] == "timeout" and "cancelled on its Ray worker" in r.error
        for r in hung
    )
    assert all(r.state == COMPLETE for r in recs if r not in hung)
    assert all(r.attrs.get("node") for r in recs if r not in hung)  # the Ray node of each trial
    hung_pids = [int(p.stem) for p in pids.glob("*.pid")]
    assert hung_pids
    time.sleep(1)
    for pid in hung_pids:  # the workers that hung were killed, not left sleeping
        try:
            os.kill(pid, 0)
            alive = True
        except ProcessLookupError:
            alive = False
        assert not alive, f"the hung worker {pid} is still running"


@pytest.mark.ray
def test_system_exit_in_a_ray_evaluator_is_its_cells_crash(ray_session, nb201_space):
    """An evaluator's SystemExit fails its cell once (``crash``), naming it, instead of killing the
    worker for Ray to retry in vain (issue #27)."""
    from search_helpers import CrashingBenchmark

    pool = RayPool(CrashingBenchmark(nb201_space, how="exit", crash_op="none", metric=METRIC), workers=2)
    archs = _archs(nb201_space, 8)
    for a in archs:
        pool.submit(a)
    outcomes = []
    while pool.in_flight:
        outcomes += pool.wait()
    pool.close()
    crashed = [o for o in outcomes if o.arch[0] == "none"]
    assert crashed and all(o.kind == "crash" and "SystemExit: 3" in o.error for o in crashed)
    assert all(o.result is not None for o in outcomes if o.arch[0] != "none")
