"""Scheduled searches on Ray workers in real time: jobs at a fidelity sent to the run's pool, results
handled in the order the workers finish them (ASHA without a barrier, successive halving waiting at
its rungs), real training continuing from checkpoints that another worker wrote in the run folder,
and a kill -9 during a Ray search resumed with nothing lost or repeated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import mf_helpers
import numpy as np
import optuna
import pytest

from nasearch.config.loader import Source
from nasearch.config.run_schema import load_run_config, parse_run_config
from nasearch.schedulers.dispatch import runs_on_pool
from nasearch.schedulers.loop import summary_lines
from nasearch.schedulers.store import FIDELITIES_ATTR, SUMMARY_ATTR
from nasearch.search.loop import run
from nasearch.search.tracking import load_study, storage_url

pytestmark = pytest.mark.ray
TESTS = Path(__file__).resolve().parent
METRIC = "cifar10-valid/valid_accuracy"
MF = TESTS.parent / "runs" / "digits_multifidelity.yaml"


@pytest.fixture(scope="module")
def ray_session(ray_local: Any) -> Any:
    """The session's local Ray (2 CPUs); the test evaluators travel to its workers by value."""
    ray_local.cloudpickle.register_pickle_by_value(mf_helpers)
    return ray_local


def _cfg(scheduler: dict[str, Any], queries: int, name: str, scale: float = 0.0, delay: float = 0.02) -> Any:
    data = {
        "name": name,
        "seeds": [0],
        "search_space": {"name": "nasbench201"},
        "evaluator": {"name": "mf_helpers:RealTimeLookup", "metric": METRIC, "delay": delay, "scale": scale},
        "optimizer": {"name": "random"},
        "scheduler": scheduler,
        "budget": {"queries": queries},
        "parallel": {"backend": "ray", "workers": 2, "resources": {"num_cpus": 1}},
    }
    return parse_run_config(data, Source("<test>"))


def _events(run_dir: Path, study: str) -> list[dict[str, Any]]:
    """Every stored step: key, fidelity, value, real start and finish, the order it was handled in."""
    trials = load_study(storage_url(None, run_dir), study).get_trials(deepcopy=False)
    out = {
        (t.user_attrs["key"], f): {"key": t.user_attrs["key"], "fidelity": float(f), **e}
        for t in trials
        for f, e in t.user_attrs[FIDELITIES_ATTR].items()
    }
    return sorted(out.values(), key=lambda e: e["order"])


def test_only_evaluators_that_train_go_to_the_pool(nb201_space: Any) -> None:
    from nasearch.evaluation.benchmark import BenchmarkEvaluator

    table = BenchmarkEvaluator(nb201_space, metric=METRIC)
    real = mf_helpers.RealTimeLookup(nb201_space, metric=METRIC)
    assert not runs_on_pool(table, "ray")  # recorded costs: the simulated clock on every backend
    assert runs_on_pool(real, "ray") and not runs_on_pool(real, "serial")


def test_a_table_on_the_ray_backend_stays_on_the_simulated_clock(ray_session: Any, tmp_path: Path) -> None:
    """Recorded costs are replayed, not run: the same trials, times and summary as with backend serial."""
    runs = {}
    for backend in ("ray", "serial"):
        data = {
            "name": "tableclock",
            "seeds": [0],
            "search_space": {"name": "nasbench201"},
            "evaluator": {"name": "benchmark", "metric": METRIC},
            "optimizer": {"name": "random"},
            "scheduler": {"name": "asha", "eta": 3},
            "budget": {"queries": 30},
            "parallel": {"backend": backend, "workers": 2},
        }
        cfg = parse_run_config(data, Source("<test>"))
        run(cfg, tmp_path / backend, progress=False, log=lambda m: None)
        trials = load_study(storage_url(None, tmp_path / backend), "tableclock/seed-0").get_trials()
        steps = sorted(
            (t.user_attrs["key"], f, e["value"], e["start"], e["end"])
            for t in trials
            for f, e in t.user_attrs[FIDELITIES_ATTR].items()
        )
        summary = load_study(storage_url(None, tmp_path / backend), "tableclock/seed-0").user_attrs[
            SUMMARY_ATTR
        ]
        runs[backend] = (steps, summary)
    assert runs["ray"] == runs["serial"] and len(runs["ray"][0]) == 30
    assert "clock" not in runs["ray"][1]  # simulated


def test_asha_on_two_ray_workers_handles_results_as_they_finish(
    ray_session: Any, tmp_path: Path, nb201_benchmark: Any
) -> None:
    # each job sleeps 1/5000 of its recorded training time: ~0.04 s at 12 epochs, ~0.4-1 s at 200
    (report,) = run(
        _cfg({"name": "asha", "eta": 3}, 24, "rayasha", scale=2e-4),
        tmp_path,
        progress=False,
        log=lambda m: None,
    )
    events = _events(tmp_path, "rayasha/seed-0")
    assert len(events) == 24 and report.evaluated == 24 and report.failures == 0
    assert [e["order"] for e in events] == list(range(24))
    for e in events:  # the workers looked the cells up at the fidelity asked
        row = nb201_benchmark.query(nb201_benchmark.arch(nb201_benchmark.index(_arch(tmp_path, e["key"]))))
        column = METRIC if e["fidelity"] == 200 else METRIC + "@12ep"
        assert e["value"] == pytest.approx(row[column])
    # handled in completion order: each result when its worker finished it, never before it started
    ends = [e["end"] for e in events]
    assert ends == sorted(ends) and all(e["start"] < e["end"] for e in events)
    # two workers: jobs overlap, never more than two at once
    most = max(sum(1 for o in events if o["start"] <= e["start"] < o["end"]) for e in events)
    assert most == 2
    # asynchronous: a short job started after a long one is handled first (no waiting in start order)
    assert any(a["start"] < b["start"] and a["order"] > b["order"] for a in events for b in events)
    # ... and ASHA promotes while other cells are still training at 12 epochs (no rung barrier)
    low = [e for e in events if e["fidelity"] == 12]
    assert any(p["fidelity"] == 200 and any(q["start"] < p["start"] < q["end"] for q in low) for p in events)
    summary = load_study(storage_url(None, tmp_path), "rayasha/seed-0").user_attrs[SUMMARY_ATTR]
    assert (summary["clock"], summary["workers"]) == ("real", 2)
    assert summary["simulated_wall_seconds"] >= max(ends)
    (line,) = summary_lines(
        storage_url(None, tmp_path), [{"study": "rayasha/seed-0", "label": "random", "seed": 0}]
    )
    assert line.startswith("random (seed 0, scheduler asha, 2 ray worker(s)): time to the optimum")
    assert "simulated" not in line and " min; " in line


def _arch(run_dir: Path, key: str) -> str:
    trials = load_study(storage_url(None, run_dir), "rayasha/seed-0").get_trials(deepcopy=False)
    return next(t.user_attrs["arch"] for t in trials if t.user_attrs["key"] == key)


def test_successive_halving_on_ray_waits_for_its_rung(ray_session: Any, tmp_path: Path) -> None:
    sched = {"name": "successive_halving", "eta": 3, "n_initial": 3}
    run(_cfg(sched, 16, "raysh", scale=2e-4), tmp_path, progress=False, log=lambda m: None)
    events = _events(tmp_path, "raysh/seed-0")
    low = sorted((e for e in events if e["fidelity"] == 12), key=lambda e: e["start"])
    high = {e["key"]: e for e in events if e["fidelity"] == 200}
    assert high
    # brackets take 3 new cells each, in the order they started; a bracket's promotion starts only
    # after all 3 of its cells finished 12 epochs, and it is the best of them
    brackets = [low[i : i + 3] for i in range(0, len(low) - len(low) % 3, 3)]
    promoted = 0
    for bracket in brackets:
        up = [high[e["key"]] for e in bracket if e["key"] in high]
        assert len(up) <= 1
        if up:
            promoted += 1
            assert up[0]["start"] >= max(e["end"] for e in bracket)
            assert up[0]["key"] == max(bracket, key=lambda e: (e["value"], e["key"]))["key"] or (
                sorted(e["value"] for e in bracket)[-1] == sorted(e["value"] for e in bracket)[-2]
            )
    assert promoted == len(high)


def test_real_training_on_two_ray_workers_continues_from_checkpoints_in_the_run_folder(
    ray_session: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nasearch.evaluation.training import TrainingEvaluator
    from nasearch.search_spaces.nasbench201.space import NasBench201Space

    sets = [
        "evaluator.network={C: 4, N: 1}",
        "evaluator.epochs=2",
        "evaluator.fidelities=[1, 2]",
        "scheduler={name: asha, eta: 2}",
        "budget.queries=6",
        "parallel={backend: ray, workers: 2, resources: {num_cpus: 1}}",
    ]
    cfg = load_run_config(str(MF), sets)
    monkeypatch.chdir(tmp_path)  # a relative run folder: the workers still find its checkpoints
    (report,) = run(cfg, Path("run"), progress=False, log=lambda m: None)
    run_dir = tmp_path / "run"
    assert report.failures == 0
    study = load_study(storage_url(None, run_dir), report.study)
    summary = study.user_attrs[SUMMARY_ATTR]
    assert summary["clock"] == "real"
    trials = study.get_trials(deepcopy=False)
    steps = [(t, f, e) for t in trials for f, e in t.user_attrs[FIDELITIES_ATTR].items()]
    assert len(steps) == 6
    promoted = [(t, e) for t, f, e in steps if f == "2"]
    assert promoted, "ASHA promoted no cell"
    # a promotion trained only the missing epoch, from the checkpoint of its first epoch
    assert all(e["epochs_trained"] == 1.0 for _, e in promoted)
    assert summary["epochs_trained"] == len(steps)  # 1 epoch per step: nothing trained from scratch
    # ... and gives exactly a straight 2-epoch training in this process (same seed, CPU, one thread)
    space = NasBench201Space()
    ev = TrainingEvaluator(space, epochs=2, fidelities=[1, 2], network={"C": 4, "N": 1}, num_threads=1)
    ev.checkpoint_in(tmp_path / "straight")
    trial, event = promoted[0]
    straight = ev.evaluate_at(space.from_str(trial.user_attrs["arch"]), 2)
    assert event["metrics"]["valid_accuracy"] == straight.metrics["valid_accuracy"]
    assert event["metrics"]["train_loss"] == straight.metrics["train_loss"]
    # the checkpoints are the run folder's (an absolute path every local worker reaches); a cell at
    # full fidelity needs none, the stopped ones keep theirs
    folder = run_dir / "checkpoints"
    stopped = [t for t in trials if t.state == optuna.trial.TrialState.PRUNED]
    assert len(list(folder.rglob("*.pt"))) == len(stopped) > 0


def _stored(db: Path) -> dict[tuple[str, str], tuple[float, int]]:
    """(cell, fidelity) -> (value, handled order), read-only while the killed run writes."""
    import json
    import sqlite3

    if not db.exists():
        return {}
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
            rows = con.execute(
                "select t.trial_id, a.key, a.value_json from trials t join trial_user_attributes a "
                "on a.trial_id = t.trial_id where a.key in ('key', 'fidelities')"
            ).fetchall()
    except sqlite3.OperationalError:
        return {}
    keys = {tid: json.loads(v) for tid, k, v in rows if k == "key"}
    return {
        (keys[tid], f): (e["value"], e["order"])
        for tid, k, v in rows
        if k == "fidelities" and tid in keys
        for f, e in json.loads(v).items()
    }


def test_kill_9_during_a_ray_search_then_resume_loses_and_repeats_nothing(
    ray_session: Any, tmp_path: Path
) -> None:
    text = f"""\
name: killray
seeds: [0]
search_space: {{name: nasbench201}}
evaluator: {{name: "mf_helpers:RealTimeLookup", metric: {METRIC}, delay: 0.15}}
optimizer: {{name: evolution, population_size: 8, sample_size: 3}}
scheduler: {{name: asha, eta: 3}}
budget: {{queries: 40}}
parallel: {{backend: ray, workers: 2, resources: {{num_cpus: 1}}}}
"""
    cfg = tmp_path / "kill.yaml"
    cfg.write_text(text)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "nasearch", "run", str(cfg), "--out", str(out), "--no-progress"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None and len(_stored(out / "study.db")) < 12:
        time.sleep(0.05)
    assert proc.poll() is None, (
        f"the run ended before it could be killed: {proc.stderr.read().decode()[-2000:]}"
    )
    proc.send_signal(signal.SIGKILL)  # two jobs are on the workers: never stored
    proc.wait(timeout=30)
    killed = _stored(out / "study.db")
    assert 12 <= len(killed) < 40
    assert any(f == "200" for _, f in killed)  # a promotion was stored before the kill

    sys.path.insert(0, str(TESTS))
    try:
        from nasearch.cli.main import main

        trace = tmp_path / "trace"
        trace.mkdir()
        sets = ["--set", "evaluator.delay=0.01", "--set", f"evaluator.trace={trace}"]
        assert main(["run", str(cfg), "--out", str(out), "--no-progress", *sets]) == 0
    finally:
        sys.path.remove(str(TESTS))
    resumed = _stored(out / "study.db")
    assert len(resumed) == 40  # the budget, each (cell, fidelity) once: nothing repeated
    assert killed.items() <= resumed.items()  # nothing stored before the kill was lost or changed
    # the resumed session evaluated only what was missing: the jobs in flight at the kill and the rest
    assert len(list(trace.iterdir())) == 40 - len(killed)
    # the resumed search re-drove the stored results in the order they were first handled, then went on
    assert sorted(order for _, order in resumed.values()) == list(range(40))


def test_the_pool_starts_no_job_beyond_the_query_budget(ray_session: Any, tmp_path: Path) -> None:
    """On the pool no job beyond ``budget.queries`` starts (real training is never thrown away):
    exactly the budget is evaluated on the workers and stored."""
    trace = tmp_path / "trace"
    trace.mkdir()
    cfg = _cfg({"name": "asha", "eta": 3}, 7, "raybudget")
    cfg.evaluator.options["trace"] = str(trace)
    (report,) = run(cfg, tmp_path / "run", progress=False, log=lambda m: None)
    events = _events(tmp_path / "run", "raybudget/seed-0")
    assert len(events) == report.evaluated == 7 == len(list(trace.iterdir()))
    assert len({e["key"] for e in events}) == report.queries
    assert np.isfinite([e["value"] for e in events]).all()
