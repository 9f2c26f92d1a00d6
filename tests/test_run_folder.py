"""The run folder: one run at a time (a lock naming its holder), and a fingerprint of what its
evaluations mean that a resume must match (budget, seeds and parallelism may change)."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import yaml

from nasearch.cli.main import main
from nasearch.search.lock import RunLock
from nasearch.search.tracking import StudyTracker, storage_url

TESTS = Path(__file__).resolve().parent
METRIC = "cifar10-valid/valid_accuracy"


def _config(tmp_path, evaluator: str = f"{{name: benchmark, metric: {METRIC}}}", queries: int = 20) -> str:
    path = tmp_path / "lock.yaml"
    path.write_text(f"""\
name: lock
seeds: [0]
search_space: {{name: nasbench201}}
evaluator: {evaluator}
optimizer: {{name: evolution, population_size: 5, sample_size: 2}}
budget: {{queries: {queries}}}
parallel: {{backend: serial}}
""")
    return str(path)


def _run(cfg, out, *args):
    return main(["run", cfg, "--out", str(out), "--no-progress", *args])


def _count(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
            return con.execute("select count(*) from trials").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_a_second_run_on_the_folder_is_refused_then_a_dead_ones_lock_is_taken_over(tmp_path, capsys):
    cfg = _config(
        tmp_path, f'{{name: "search_helpers:SlowBenchmark", metric: {METRIC}, delay: 0.2}}', queries=200
    )
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "nasearch", "run", cfg, "--out", str(out), "--no-progress"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None and _count(out / "study.db") < 2:
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        assert _run(cfg, out) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert f"is in use by another run (PID {proc.pid} on host {socket.gethostname()}" in err
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    held = json.loads((out / "run.lock").read_text())
    assert held["pid"] == proc.pid  # left behind by the killed run
    assert _run(cfg, out, "--set", "budget.queries=5", "--set", "evaluator.delay=0") == 0
    err = capsys.readouterr().err
    assert f"lock was left by PID {proc.pid} on {socket.gethostname()}, which is no longer running" in err
    assert (out / "run.lock").read_text() == ""  # released at the end


def test_the_lock_in_one_process(tmp_path):
    first = RunLock(tmp_path).acquire()
    try:
        import pytest

        from nasearch.api.errors import RunLockedError

        with pytest.raises(RunLockedError, match=f"PID {os.getpid()} on host"):
            RunLock(tmp_path).acquire()
    finally:
        first.release()
    with RunLock(tmp_path) as again:
        assert again.took_over is None


def test_resume_with_a_changed_evaluator_is_refused_naming_the_keys(tmp_path, capsys):
    cfg, out = _config(tmp_path), tmp_path / "out"
    assert _run(cfg, out) == 0
    config_before = (out / "config.yaml").read_text()
    capsys.readouterr()
    assert _run(cfg, out, "--set", "evaluator.metric=cifar10-valid/valid_accuracy@12ep") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "resume refused" in err
    assert (
        'evaluator.metric: "cifar10-valid/valid_accuracy" -> "cifar10-valid/valid_accuracy@12ep"' in err
        and "objectives: " in err
        and "--allow-config-change" in err
    )
    assert (out / "config.yaml").read_text() == config_before  # nothing overwritten


def test_budget_seeds_parallel_and_optimizer_may_change(tmp_path):
    cfg, out = _config(tmp_path), tmp_path / "out"
    assert _run(cfg, out) == 0
    assert (
        _run(
            cfg,
            out,
            "--set",
            "budget.queries=25",
            "--set",
            "seeds=[0, 1]",
            "--set",
            "parallel.workers=3",
            "--set",
            "optimizer.population_size=6",
        )
        == 0
    )


def test_allow_config_change_resumes_and_logs_the_change(tmp_path, capsys):
    cfg, out = _config(tmp_path), tmp_path / "out"
    assert _run(cfg, out) == 0
    capsys.readouterr()
    assert (
        _run(cfg, out, "--set", "evaluator.test_metric=cifar10/test_accuracy", "--allow-config-change") == 0
    )
    err = capsys.readouterr().err
    assert "resuming with a changed configuration (--allow-config-change): evaluator.test_metric" in err
    stored = json.loads((out / "fingerprint.json").read_text())
    assert stored["values"]["evaluator.test_metric"] == "cifar10/test_accuracy"
    assert "evaluator.test_metric" in stored["history"][0]["changes"][0]
    assert len(list(out.glob("config.before-*.yaml"))) == 1
    assert _run(cfg, out, "--set", "evaluator.test_metric=cifar10/test_accuracy") == 0  # the new one is kept


def test_a_folder_from_before_fingerprints_is_checked_against_its_config(tmp_path, capsys):
    cfg, out = _config(tmp_path), tmp_path / "out"
    assert _run(cfg, out) == 0
    (out / "fingerprint.json").unlink()
    old = yaml.safe_load((out / "config.yaml").read_text())
    old["evaluator"]["metric"] = "cifar10-valid/valid_accuracy@12ep"  # what an older run used
    (out / "config.yaml").write_text(yaml.safe_dump(old))
    capsys.readouterr()
    assert _run(cfg, out) == 2
    assert "resume refused" in capsys.readouterr().err
    recs = StudyTracker(storage_url(None, out), "lock/seed-0", [(METRIC, True)]).records()
    assert len(recs) == 20


def test_a_double_ctrl_c_exits_130_cleanly(tmp_path):
    """The first Ctrl-C unwinds; a second one during the clean-up (here a slow exit handler) exits
    with 130 and one line, not a traceback and status 1 (issue #27)."""
    cfg = _config(
        tmp_path, f'{{name: "search_helpers:SlowExitBenchmark", metric: {METRIC}, delay: 0.2}}', queries=200
    )
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "nasearch", "run", cfg, "--out", str(out), "--no-progress"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None and _count(out / "study.db") < 2:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        time.sleep(2.0)  # now in the slow exit handler
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err, err
    assert "interrupted; completed evaluations are saved" in err and "interrupted again; exiting now" in err


def test_a_plugin_whose_code_changed_is_warned_about(tmp_path, capsys):
    """The fingerprint records the plug-in's code (its module's hash here: it is no distribution); a
    resume under changed code says so in one line (issue #27)."""
    module = tmp_path / "myeval_27.py"
    module.write_text(
        "from nasearch.evaluation.benchmark import BenchmarkEvaluator\n\n\n"
        "class MyEval(BenchmarkEvaluator):\n    pass\n"
    )
    cfg = _config(tmp_path, f'{{name: "myeval_27:MyEval", metric: {METRIC}}}', queries=5)
    out = tmp_path / "out"
    assert _run(cfg, out) == 0
    code = json.loads((out / "fingerprint.json").read_text())["code"]
    assert code["evaluator"].startswith("myeval_27:MyEval (myeval_27.py sha256 ")
    assert code["search_space"].startswith(
        "nasearch.search_spaces.nasbench201.space:NasBench201Space (nasearch "
    )
    capsys.readouterr()
    assert _run(cfg, out) == 0
    assert "code computing" not in capsys.readouterr().err  # the same code: no warning
    module.write_text(module.read_text() + "    # a fix that changes the numbers\n")
    assert _run(cfg, out) == 0
    warned = [line for line in capsys.readouterr().err.splitlines() if "code computing" in line]
    assert len(warned) == 1 and "code of the evaluator: myeval_27:MyEval" in warned[0]
    assert json.loads((out / "fingerprint.json").read_text())["code"]["evaluator"] != code["evaluator"]
