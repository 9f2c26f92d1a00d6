"""``parallel.timeout_s``: an evaluation past it is stopped and recorded as a timed-out failure,
the search goes on, and a resumed run evaluates those cells again."""

from __future__ import annotations

import json

from nasearch.cli.main import main
from nasearch.search.tracking import COMPLETE, FAIL, StudyTracker, storage_url

METRIC = "cifar10-valid/valid_accuracy"


def test_serial_timeouts_are_recorded_and_retried_on_resume(tmp_path, capsys):
    cfg = tmp_path / "hang.yaml"
    cfg.write_text(f"""\
name: hang
seeds: [0]
search_space: {{name: nasbench201}}
evaluator: {{name: "search_helpers:HangingBenchmark", metric: {METRIC}, hang_s: 30}}
optimizer: random
budget: {{queries: 15}}
parallel: {{backend: serial, timeout_s: 2}}
""")
    out = tmp_path / "out"
    assert main(["run", str(cfg), "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    recs = StudyTracker(storage_url(None, out), "hang/seed-0", [(METRIC, True)]).records()
    hung = [r for r in recs if r.arch.startswith("|avg_pool_3x3~0|")]
    assert len(recs) == 15 and hung  # the search went on past every hung cell
    assert all(r.state == FAIL and r.attrs["failure"] == "timeout" for r in hung)
    assert all(r.error.startswith("timed out after 2 s (parallel.timeout_s)") for r in hung)
    assert all(r.state == COMPLETE for r in recs if r not in hung), [
        (r.arch, r.error) for r in recs if r not in hung
    ]
    assert f"({len(hung)} timed out)" in text and "evaluated again when the run is resumed" in text

    # resumed (the evaluator no longer hangs): the timed-out cells are evaluated again, by default
    assert main(["run", str(cfg), "--out", str(out), "--no-progress", "--set", "evaluator.hang_s=0"]) == 0
    text = capsys.readouterr().out
    assert f"seed 0: retried {len(hung)} cell(s) that had failed before ({len(hung)} timed out)" in text
    latest = {
        r.key: r for r in StudyTracker(storage_url(None, out), "hang/seed-0", [(METRIC, True)]).records()
    }
    assert len(latest) == 15 and all(r.state == COMPLETE for r in latest.values())
    summary = json.loads((out / "summary.json").read_text())[0]
    assert summary["retried"] == {"timeout": len(hung)} and summary["failures"] == 0


def test_a_timed_out_cell_has_a_retry_budget(tmp_path, capsys):
    """A cell that keeps timing out is tried ``parallel.cell_tries`` times in all (2 by default),
    not again on every rerun; the report says so; ``--retry-failed`` still forces a try."""
    cfg = tmp_path / "budget.yaml"
    cfg.write_text(f"""\
name: budget
seeds: [0]
search_space: {{name: nasbench201}}
evaluator: {{name: "search_helpers:HangingBenchmark", metric: {METRIC}, hang_s: 30}}
optimizer: random
budget: {{queries: 10}}
parallel: {{backend: serial, timeout_s: 1}}
""")
    out = tmp_path / "out"

    def fails() -> int:
        recs = StudyTracker(storage_url(None, out), "budget/seed-0", [(METRIC, True)]).records()
        return sum(r.state == FAIL for r in recs)

    run = ["run", str(cfg), "--out", str(out), "--no-progress"]
    assert main(run) == 0
    first = fails()
    assert first > 0
    assert main(run) == 0  # the second try of each: still hanging
    assert fails() == 2 * first
    capsys.readouterr()
    assert main(run) == 0  # the budget is spent: nothing is tried again
    assert fails() == 2 * first
    text = capsys.readouterr().out
    assert "up to 2 tries per cell (parallel.cell_tries)" in text
    assert f"{first} such cell(s) spent their 2 tries and are not retried again" in text
    summary = json.loads((out / "summary.json").read_text())[0]
    assert summary["cell_tries"] == 2 and summary["retries_spent"] == first and summary["retried"] == {}
    # --retry-failed forces another try (the cause fixed: they complete)
    assert main([*run, "--retry-failed", "--set", "evaluator.hang_s=0"]) == 0
    latest = {
        r.key: r for r in StudyTracker(storage_url(None, out), "budget/seed-0", [(METRIC, True)]).records()
    }
    assert len(latest) == 10 and all(r.state == COMPLETE for r in latest.values())
