"""An evaluator that ends its process fails its cell, naming it, in every backend (issue #27):
``SystemExit`` in the serial backend is a recorded crash; with ``parallel.isolate`` a forked child
takes ``os._exit`` and segfaults; in the driver's own process the cell is recorded before it starts,
so a resume names it and skips it once its retry budget is spent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nasearch.cli.main import main
from nasearch.search.tracking import COMPLETE, FAIL, StudyTracker, storage_url

TESTS = Path(__file__).resolve().parent
METRIC = "cifar10-valid/valid_accuracy"


def _config(tmp_path: Path, evaluator: str, queries: int = 12, parallel: str = "{backend: serial}") -> Path:
    path = tmp_path / "crash.yaml"
    path.write_text(f"""\
name: crash
seeds: [0]
search_space: {{name: nasbench201}}
evaluator: {evaluator}
optimizer: random
budget: {{queries: {queries}}}
parallel: {parallel}
""")
    return path


def _records(out: Path):
    return StudyTracker(storage_url(None, out), "crash/seed-0", [(METRIC, True)]).records()


def test_system_exit_in_an_evaluator_fails_its_cell(tmp_path, capsys):
    cfg = _config(
        tmp_path, f'{{name: "search_helpers:CrashingBenchmark", how: exit, crash_op: none, metric: {METRIC}}}'
    )
    out = tmp_path / "out"
    assert main(["run", str(cfg), "--out", str(out), "--no-progress"]) == 0
    recs = _records(out)
    crashed = [r for r in recs if r.state == FAIL]
    assert len(recs) == 12 and crashed and all(r.arch.startswith("|none~0|") for r in crashed)
    assert all(r.attrs["failure"] == "crash" and "SystemExit: 3" in r.error for r in crashed)
    text = capsys.readouterr().out
    assert f"({len(crashed)} crashed their process)" in text and "(e.g. cell |none~0|" in text


@pytest.mark.parametrize("how, words", [("os_exit", "exited with code 3"), ("segfault", "killed by SIGSEGV")])
def test_an_isolated_serial_evaluation_survives_a_crash(how, words, tmp_path, capsys):
    cfg = _config(
        tmp_path,
        f'{{name: "search_helpers:CrashingBenchmark", how: {how}, crash_op: none, metric: {METRIC}}}',
        parallel="{backend: serial, isolate: true}",
    )
    out = tmp_path / "out"
    assert main(["run", str(cfg), "--out", str(out), "--no-progress"]) == 0
    recs = _records(out)
    crashed = [r for r in recs if r.state == FAIL]
    assert len(recs) == 12 and crashed and all(r.arch.startswith("|none~0|") for r in crashed)
    assert all(r.attrs["failure"] == "crash" and words in r.error for r in crashed), [
        r.error for r in crashed
    ]
    assert all(r.state == COMPLETE for r in recs if not r.arch.startswith("|none~0|"))


def test_isolate_is_for_the_serial_backend(tmp_path, capsys):
    cfg = _config(
        tmp_path, f"{{name: benchmark, metric: {METRIC}}}", parallel="{backend: ray, isolate: true}"
    )
    assert main(["run", str(cfg), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    assert "parallel.isolate is for backend: serial" in capsys.readouterr().err


def test_a_cell_that_kills_the_driver_is_named_and_skipped_after_its_tries(tmp_path, capsys):
    out0 = tmp_path / "plain"
    assert (
        main(
            [
                "run",
                str(_config(tmp_path, f"{{name: benchmark, metric: {METRIC}}}", queries=4)),
                "--out",
                str(out0),
                "--no-progress",
            ]
        )
        == 0
    )
    victim = _records(out0)[2].arch  # the third cell this seed proposes
    cfg = _config(
        tmp_path,
        f'{{name: "search_helpers:CrashingBenchmark", how: os_exit, crash_arch: "{victim}", '
        f"metric: {METRIC}}}",
        queries=8,
    )
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}

    def session() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "nasearch", "run", str(cfg), "--out", str(out), "--no-progress"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    first = session()
    assert first.returncode == 3 and len(_records(out)) == 2  # died on the third cell
    second = session()  # resumed: told which cell, evaluated again (try 2 of 2), dies again
    assert second.returncode == 3
    assert f"ended while evaluating the cell {victim}; try 1 of 2 (parallel.cell_tries)" in second.stderr
    third = session()  # its tries spent: recorded as a crash, never evaluated again
    assert third.returncode == 0, third.stderr[-2000:]
    line = next(line for line in third.stderr.splitlines() if victim in line)
    assert "its 2 tries (parallel.cell_tries) are spent: recorded as a crash failure" in line
    recs = _records(out)
    assert len(recs) == 8 and len({r.key for r in recs}) == 8
    crashed = [r for r in recs if r.state == FAIL]
    assert [r.arch for r in crashed] == [victim] and crashed[0].attrs["failure"] == "crash"
