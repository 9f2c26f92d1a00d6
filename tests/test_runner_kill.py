"""Kill a real ``nasearch run`` with SIGKILL mid-search, then resume it: nothing completed is lost,
nothing is evaluated twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from nasearch.cli.main import main
from nasearch.search.tracking import COMPLETE, StudyTracker, storage_url

TESTS = Path(__file__).resolve().parent
METRIC = "cifar10-valid/valid_accuracy"


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
            return con.execute("select count(*) from trials where state = 'COMPLETE'").fetchone()[0]
    except sqlite3.OperationalError:  # tables not created yet
        return 0


def test_kill_9_then_resume(tmp_path):
    cfg = tmp_path / "kill.yaml"
    cfg.write_text(f"""\
name: killme
seeds: [0]
search_space: {{name: nasbench201}}
evaluator: {{name: "search_helpers:SlowBenchmark", metric: {METRIC}, delay: 0.1}}
optimizer: {{name: evolution, population_size: 10, sample_size: 3}}
budget: {{queries: 80}}
parallel: {{backend: serial}}
""")
    out = tmp_path / "out"
    db = out / "study.db"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "nasearch", "run", str(cfg), "--out", str(out), "--no-progress"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 120
    before = 0
    while time.time() < deadline and proc.poll() is None:
        before = _count(db)
        if before >= 15:
            break
        time.sleep(0.05)
    assert proc.poll() is None, (
        f"the run ended before it could be killed: {proc.stderr.read().decode()[-2000:]}"
    )
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    url = storage_url(None, out)
    killed = StudyTracker(url, "killme/seed-0", [(METRIC, True)]).records()
    assert before <= len(killed) < 80  # every evaluation committed before the kill is there
    assert all(r.state == COMPLETE for r in killed)

    # resume (fast now): the stored trials are replayed, the rest evaluated, none twice
    assert main(["run", str(cfg), "--out", str(out), "--no-progress", "--set", "evaluator.delay=0"]) == 0
    resumed = StudyTracker(url, "killme/seed-0", [(METRIC, True)]).records()
    assert len(resumed) == 80
    assert len({r.key for r in resumed}) == 80
    assert [(r.arch, r.metrics) for r in resumed[: len(killed)]] == [(r.arch, r.metrics) for r in killed]


def test_the_summary_counts_what_a_killed_session_evaluated(tmp_path):
    """summary.json after a session killed before it could write it: its evaluations are counted
    from the study, so the summary agrees with the study (issue #27)."""
    import json

    cfg = tmp_path / "kill.yaml"
    cfg.write_text(f"""\
name: killsum
seeds: [0]
search_space: {{name: nasbench201}}
evaluator: {{name: "search_helpers:SlowBenchmark", metric: {METRIC}, delay: 0.1}}
optimizer: random
budget: {{queries: 10}}
parallel: {{backend: serial}}
""")
    out = tmp_path / "out"
    run = ["run", str(cfg), "--out", str(out), "--no-progress"]
    assert main([*run, "--set", "evaluator.delay=0"]) == 0  # session 1: 10 evaluations, summary written
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "nasearch", *run, "--set", "budget.queries=60"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and _count(out / "study.db") < 15:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # session 2 dies before writing summary.json
    proc.wait(timeout=30)
    assert main([*run, "--set", "budget.queries=30", "--set", "evaluator.delay=0"]) == 0  # session 3
    trials = StudyTracker(storage_url(None, out), "killsum/seed-0", [(METRIC, True)]).records()
    summary = json.loads((out / "summary.json").read_text())[0]
    assert summary["queries"] == len(trials) == 30
    assert summary["evaluated"] == len(trials)  # not 10 + what session 3 added


def test_an_interrupted_session_keeps_every_study_in_the_summary(tmp_path, monkeypatch):
    """Ctrl-C in the second of two seeds: summary.json holds both, the interrupted one with its
    study's count (before, it held the first seed only) (issue #27)."""
    import json

    import nasearch.evaluation.pool as pool_module
    from nasearch.evaluation.pool import SerialPool

    class InterruptingPool(SerialPool):
        def __init__(self, evaluator, after):
            super().__init__(evaluator)
            self.after, self.returned = after, 0

        def wait(self, timeout=None):
            if self.after is not None and self.returned >= self.after:
                raise KeyboardInterrupt
            out = super().wait()
            self.returned += len(out)
            return out

    cfg = tmp_path / "two.yaml"
    cfg.write_text(f"""\
name: two
seeds: [0, 1]
search_space: {{name: nasbench201}}
evaluator: {{name: benchmark, metric: {METRIC}}}
optimizer: random
budget: {{queries: 10}}
parallel: {{backend: serial}}
""")
    out = tmp_path / "out"
    run = ["run", str(cfg), "--out", str(out), "--no-progress"]
    assert main(run) == 0
    monkeypatch.setattr(
        pool_module, "make_pool", lambda evaluator, backend, **_: InterruptingPool(evaluator, 13)
    )
    assert main([*run, "--set", "budget.queries=20"]) == 130  # seed 0: 10 more, seed 1: 3 more, then Ctrl-C
    summary = {s["study"]: s for s in json.loads((out / "summary.json").read_text())}
    assert set(summary) == {"two/seed-0", "two/seed-1"}
    for name, queries in (("two/seed-0", 20), ("two/seed-1", 13)):
        trials = StudyTracker(storage_url(None, out), name, [(METRIC, True)]).records()
        assert summary[name]["queries"] == len(trials) == queries
    assert summary["two/seed-1"]["stopped"] == "interrupted"
