"""Multi-fidelity runs end to end on the real NB201 tables: one Optuna trial per cell with its
12-epoch result as an intermediate value, PRUNED for stopped cells, the ``fidelity`` attribute,
cost accounting, the config block's errors, and resume (a grown budget, and kill -9) that loses
and repeats nothing, promotions included."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest

from nasearch.api.errors import ConfigError
from nasearch.config.loader import Source
from nasearch.config.run_schema import parse_run_config
from nasearch.schedulers.store import FIDELITIES_ATTR, SUMMARY_ATTR
from nasearch.search.loop import run
from nasearch.search.tracking import load_study, storage_url

TESTS = Path(__file__).resolve().parent
METRIC = "cifar10-valid/valid_accuracy"


def _cfg(
    scheduler: Any,
    budget: dict[str, Any],
    name: str = "mf",
    workers: int = 4,
    evaluator: str = "benchmark",
    optimizer: Any = None,
) -> Any:
    data = {
        "name": name,
        "seeds": [0],
        "search_space": {"name": "nasbench201"},
        "evaluator": {"name": evaluator, "metric": METRIC, "test_metric": "cifar10/test_accuracy"},
        "optimizer": optimizer or {"name": "evolution", "population_size": 10, "sample_size": 3},
        "scheduler": scheduler,
        "budget": budget,
        "parallel": {"backend": "serial", "workers": workers},
    }
    return parse_run_config(data, Source("<test>"))


def _trials(run_dir: Path, study: str) -> list[Any]:
    return sorted(
        load_study(storage_url(None, run_dir), study).get_trials(deepcopy=False), key=lambda t: t.number
    )


def _events(trials: list[Any]) -> list[tuple[str, str, float, float]]:
    """Every stored evaluation: (cell, fidelity, value, simulated finish time), in finish order (a cell
    pruned when a session ended and promoted by a later one has a second trial repeating its results)."""
    out = {
        (t.user_attrs["key"], f): (t.user_attrs["key"], f, e["value"], e["end"])
        for t in trials
        for f, e in t.user_attrs[FIDELITIES_ATTR].items()
    }
    return sorted(out.values(), key=lambda e: (e[3], e[0]))


def test_asha_run_records_one_trial_per_cell_with_intermediate_values(tmp_path, nb201_benchmark):
    out = tmp_path / "run"
    (report,) = run(
        _cfg({"name": "asha", "eta": 3}, {"queries": 60}), out, progress=False, log=lambda m: None
    )
    trials = _trials(out, "mf/seed-0")
    assert len({t.user_attrs["key"] for t in trials}) == len(trials) == report.queries
    states = {t.state for t in trials}
    assert states == {optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED}
    for t in trials:
        arch = nb201_benchmark.arch(nb201_benchmark.index(t.user_attrs["arch"]))
        row = nb201_benchmark.query(arch)
        # every cell started at 12 epochs: its intermediate value there is the 12-epoch table's
        assert t.intermediate_values[12] == pytest.approx(row[METRIC + "@12ep"])
        events = t.user_attrs[FIDELITIES_ATTR]
        assert events["12"]["sim"] == pytest.approx(12 * row["cifar10-valid/train_time_per_epoch"])
        if t.state == optuna.trial.TrialState.COMPLETE:
            assert t.user_attrs["fidelity"] == 200.0 and t.values[0] == pytest.approx(row[METRIC])
            assert t.intermediate_values[200] == pytest.approx(row[METRIC])
            # a promotion reruns the 200-epoch table's training in full: the cell paid both runs
            assert events["200"]["sim"] == pytest.approx(row["cifar10-valid/train_time"])
            assert t.user_attrs["cost"]["simulated_seconds"] == pytest.approx(
                events["12"]["sim"] + events["200"]["sim"]
            )
            assert events["200"]["start"] >= events["12"]["end"]  # promoted only after its 12-epoch result
        else:
            assert t.user_attrs["fidelity"] == 12.0 and t.values[0] == pytest.approx(row[METRIC + "@12ep"])
    summary = load_study(storage_url(None, out), "mf/seed-0").user_attrs[SUMMARY_ATTR]
    assert summary["evaluations"]["12"] + summary["evaluations"].get("200", 0) == 60
    # the simulated wall time of 4 workers is at least a quarter of the work and at most all of it
    work = sum(e["sim"] for t in trials for e in t.user_attrs[FIDELITIES_ATTR].values())
    assert work / 4 <= summary["simulated_wall_seconds"] <= work


def test_full_scheduler_matches_the_plain_loop_on_one_worker(tmp_path):
    """scheduler: full with one simulated worker evaluates the cells the plain loop evaluates."""
    cfg = _cfg({"name": "full"}, {"queries": 25}, name="full", workers=1)
    run(cfg, tmp_path / "a", progress=False, log=lambda m: None)
    plain = _cfg({"name": "full"}, {"queries": 25}, name="full", workers=1)
    plain.scheduler = None
    run(plain, tmp_path / "b", progress=False, log=lambda m: None)
    a = [t.user_attrs["key"] for t in _trials(tmp_path / "a", "full/seed-0")]
    b = [t.user_attrs["key"] for t in _trials(tmp_path / "b", "full/seed-0")]
    assert a == b and len(a) == 25


def test_grown_budget_resumes_exactly(tmp_path):
    """Stopping at a budget and resuming with a larger one gives the uninterrupted run's trials,
    promotions included, and evaluates nothing twice."""
    sched = {"name": "successive_halving", "eta": 3, "n_initial": 9}
    run(_cfg(sched, {"simulated_seconds": 40_000}), tmp_path / "whole", progress=False, log=lambda m: None)
    run(_cfg(sched, {"simulated_seconds": 15_000}), tmp_path / "part", progress=False, log=lambda m: None)
    first = _events(_trials(tmp_path / "part", "mf/seed-0"))
    (report,) = run(
        _cfg(sched, {"simulated_seconds": 40_000}), tmp_path / "part", progress=False, log=lambda m: None
    )
    assert report.replayed == len(first)
    whole = _events(_trials(tmp_path / "whole", "mf/seed-0"))
    resumed_trials = _trials(tmp_path / "part", "mf/seed-0")
    resumed = _events(resumed_trials)
    assert [e[:3] for e in resumed] == [e[:3] for e in whole]
    assert any(e[1] == "200" for e in first)  # promotions happened before the stop
    # evaluations made by both sessions together (summary.json adds them up): each (cell, fidelity) once
    assert (report.evaluated, report.sessions) == (len(whole), 2)


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
            return con.execute("select count(*) from trial_intermediate_values").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_kill_9_then_resume_loses_and_repeats_nothing(tmp_path):
    text = f"""\
name: killmf
seeds: [0]
search_space: {{name: nasbench201}}
evaluator: {{name: "mf_helpers:SlowMultiFidelity", metric: {METRIC}, delay: 0.03}}
optimizer: {{name: evolution, population_size: 10, sample_size: 3}}
scheduler: {{name: asha, eta: 3}}
budget: {{queries: 120}}
parallel: {{backend: serial, workers: 4}}
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
    deadline = time.time() + 180
    while time.time() < deadline and proc.poll() is None and _count(out / "study.db") < 40:
        time.sleep(0.05)
    assert proc.poll() is None, (
        f"the run ended before it could be killed: {proc.stderr.read().decode()[-2000:]}"
    )
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    killed = _events(_trials(out, "killmf/seed-0"))
    assert 40 <= len(killed) < 120
    assert any(e[1] == "200" for e in killed)  # a promotion was stored before the kill

    sys.path.insert(0, str(TESTS))
    try:
        from nasearch.cli.main import main

        assert main(["run", str(cfg), "--out", str(out), "--no-progress", "--set", "evaluator.delay=0"]) == 0
        whole = tmp_path / "whole"
        assert (
            main(["run", str(cfg), "--out", str(whole), "--no-progress", "--set", "evaluator.delay=0"]) == 0
        )
    finally:
        sys.path.remove(str(TESTS))
    resumed = _events(_trials(out, "killmf/seed-0"))
    assert len(resumed) == 120
    assert len({(e[0], e[1]) for e in resumed}) == 120  # no (cell, fidelity) evaluated twice
    assert set(killed) <= set(resumed)  # nothing stored before the kill was lost
    # and the resumed search is the uninterrupted one
    assert [e[:3] for e in resumed] == [e[:3] for e in _events(_trials(whole, "killmf/seed-0"))]


@pytest.mark.parametrize(
    "block, message",
    [
        ({"name": "ashaa"}, "unknown scheduler 'ashaa'"),
        ({"name": "asha", "etta": 3}, "has no option 'etta'"),
        ({"name": "asha", "fidelities": [200, 12]}, "strictly ascending"),
        ({"name": "asha", "fidelities": "12"}, "list of positive epoch counts"),
        ({"name": "asha", "stop_at_optimum": "yes"}, "true or false"),
        ({"name": "asha", "seed": 3}, "set by the runner"),
    ],
)
def test_scheduler_block_errors_name_the_key(block, message):
    with pytest.raises(ConfigError, match=message) as info:
        _cfg(block, {"queries": 5})
    assert "scheduler" in str(info.value)


def test_fidelities_the_evaluator_does_not_offer_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="offers fidelities 12, 200; 50 requested"):
        run(
            _cfg({"name": "asha", "fidelities": [50, 200]}, {"queries": 5}),
            tmp_path,
            progress=False,
            log=lambda m: None,
        )


def test_an_evaluator_without_fidelities_is_refused(tmp_path):
    cfg = _cfg({"name": "asha"}, {"queries": 5})
    cfg.evaluator.options["fidelity"] = 12  # one fixed fidelity: no ladder to schedule
    with pytest.raises(ConfigError, match="offers none"):
        run(cfg, tmp_path, progress=False, log=lambda m: None)


def test_shipped_multifidelity_run_compares_a_scheduler_with_full_fidelity():
    from nasearch.config.run_schema import load_run_config, to_dict

    cfg = load_run_config(str(TESTS.parent / "runs" / "nb201_multifidelity.yaml"))
    assert [(b.label, b.scheduler.name) for b in cfg.optimizers] == [
        ("full_fidelity", "full"),
        ("surrogate_scheduler", "surrogate"),
    ]
    assert cfg.optimizers[1].scheduler.options["fidelities"] == [12.0, 200.0]
    assert to_dict(cfg)["optimizer"][1]["scheduler"]["name"] == "surrogate"  # recorded in config.yaml


def test_summary_lines_report_time_to_the_optimum(tmp_path, capsys):
    from nasearch.cli.main import main

    cfg = tmp_path / "mf.yaml"
    cfg.write_text(f"""\
name: lines
seeds: [0]
search_space: {{name: nasbench201}}
evaluator: {{name: benchmark, metric: {METRIC}}}
optimizer: {{name: local_search, num_init: 5}}
scheduler: {{name: full}}
budget: {{simulated_seconds: 60000}}
parallel: {{backend: serial, workers: 2}}
""")
    assert main(["run", str(cfg), "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    line = next(
        x for x in out.splitlines() if x.startswith("local_search (seed 0, scheduler full, 2 simulated")
    )
    assert "simulated time to the optimum" in line and "simulated wall time 16.67 h" in line


def test_fidelity_curves_follow_the_incumbent_over_time_and_epochs(tmp_path, nb201_benchmark):
    """fidelity_curves.csv/png: one row per evaluation in the order results came back, the epochs
    trained adding up to the summary's, the incumbent the best full-fidelity value so far."""
    from nasearch.schedulers import curves

    out = tmp_path / "run"
    run(_cfg({"name": "asha", "eta": 3}, {"queries": 45}), out, progress=False, log=lambda m: None)
    png, csv = curves.plot(out)
    assert png == out / "fidelity_curves.png" and png.stat().st_size > 10_000
    import pandas as pd

    frame = pd.read_csv(csv)
    trials = _trials(out, "mf/seed-0")
    events = _events(trials)
    assert len(frame) == len(events) == 45
    assert list(frame["wall_seconds"]) == pytest.approx([e[3] for e in events])  # finish order
    summary = load_study(storage_url(None, out), "mf/seed-0").user_attrs[SUMMARY_ATTR]
    assert frame["epochs_trained"].iloc[-1] == summary["epochs_trained"]
    assert (frame["epochs_trained"].diff().dropna() > 0).all()
    full = [e for e in events if e[1] == "200"]
    assert full, "ASHA trained no cell at full fidelity"
    first = events.index(full[0])
    assert frame["incumbent"].iloc[:first].isna().all()  # none before the first full training
    running = np.maximum.accumulate([e[2] if e[1] == "200" else -np.inf for e in events][first:])
    assert list(frame["incumbent"].iloc[first:]) == pytest.approx(list(running))
    optimum = nb201_benchmark.query(nb201_benchmark.arch(6111))[METRIC]
    assert frame["regret"].iloc[-1] == pytest.approx(optimum - running[-1], abs=1e-3)
    assert set(frame["clock"]) == {"simulated"}


def test_the_python_api_writes_the_fidelity_curves_too(tmp_path):
    import nasearch

    cfg = _cfg({"name": "asha", "eta": 3}, {"queries": 20})
    nasearch.run(cfg, out=tmp_path / "run", progress=False, log=lambda m: None)
    assert (tmp_path / "run" / "fidelity_curves.png").is_file()
    assert len((tmp_path / "run" / "fidelity_curves.csv").read_text().splitlines()) == 21
