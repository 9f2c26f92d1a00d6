"""Two kinds of failure. A broken set-up (a damaged table, a bad option, a missing or invalid
dataset) stops the run at once with one line and marks no cell; once it is fixed the cells are
evaluated. A cell's own failure is recorded, summarised after the run, and a seed whose every
query failed makes the run exit non-zero. Cells that failed outside the cell are retried on resume."""

from __future__ import annotations

import gzip
import json

import pytest

from nasearch.cli.main import main
from nasearch.search.tracking import COMPLETE, FAIL, StudyTracker, storage_url

METRIC = "cifar10-valid/valid_accuracy"


def _config(
    tmp_path,
    evaluator: str,
    name: str = "f",
    queries: int = 12,
    extra: str = "",
    space: str = "{name: nasbench201}",
    optimizer: str = "{name: evolution, population_size: 5, sample_size: 2}",
) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"""\
name: {name}
seeds: [0]
search_space: {space}
evaluator: {evaluator}
optimizer: {optimizer}
budget: {{queries: {queries}}}
parallel: {{backend: serial}}
{extra}""")
    return str(path)


def _records(out, study="f/seed-0", objectives=((METRIC, True),)):
    return StudyTracker(storage_url(None, out), study, list(objectives)).records()


def _run(cfg, out, *args):
    return main(["run", cfg, "--out", str(out), "--no-progress", *args])


@pytest.mark.parametrize(
    "error, names",
    [
        ("data", "benchmark table '/data/x.csv' is damaged"),
        ("config", "network option C must be positive"),
        ("missing_file", "No such file or directory"),
    ],
)
def test_a_setup_failure_stops_the_run_and_marks_no_cell(error, names, tmp_path, capsys):
    cfg = _config(tmp_path, f'{{name: "search_helpers:RaisingBenchmark", error: {error}, metric: {METRIC}}}')
    out = tmp_path / "out"
    assert _run(cfg, out) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "set-up failure" in err and names in err and "no cell was recorded" in err
    assert _records(out) == []  # nothing used up: the budget is whole once the cause is fixed
    assert _run(cfg, out, "--set", "evaluator.fixed=true") == 0
    recs = _records(out)
    assert len(recs) == 12 and all(r.state == COMPLETE for r in recs)


def test_a_damaged_table_stops_the_run(tmp_path, data_root, capsys):
    """A real damaged table (a truncated copy of the CSV) in a data folder that overrides the embedded one."""
    data = tmp_path / "data"
    table = data / "nasbench201" / "freerea" / "cifar10" / "accuracies.csv"
    table.parent.mkdir(parents=True)
    table.write_bytes(
        gzip.decompress((data_root / "nasbench201/freerea/cifar10/accuracies.csv.gz").read_bytes())[:5000]
    )
    cfg = _config(
        tmp_path,
        f"{{name: benchmark, metric: {METRIC}, test_metric: cifar10/test_accuracy}}",
        extra=f"data_dir: {data}\n",
    )
    out = tmp_path / "out"
    assert _run(cfg, out) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "set-up failure" in err and "accuracies.csv" in err
    assert _records(out) == []


def test_an_invalid_cifar_copy_stops_a_training_run(tmp_path, capsys):
    batches = tmp_path / "cifar" / "cifar-10-batches-py"
    batches.mkdir(parents=True)
    for name in (
        "data_batch_1",
        "data_batch_2",
        "data_batch_3",
        "data_batch_4",
        "data_batch_5",
        "test_batch",
    ):
        (batches / name).write_bytes(b"this is not a CIFAR-10 batch")
    cfg = _config(
        tmp_path,
        f"{{name: train, dataset: cifar10, data_path: {tmp_path / 'cifar'}, epochs: 1}}",
        optimizer="random",
        queries=4,
    )
    out = tmp_path / "out"
    assert _run(cfg, out) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "set-up failure" in err and "is not a valid python-layout batch" in err
    assert _records(out, objectives=(("valid_accuracy", True),)) == []


def test_a_bad_network_option_is_a_config_error_before_the_search(tmp_path, capsys):
    cfg = _config(
        tmp_path, "{name: train, dataset: digits, epochs: 1, network: {C: -4, N: 1}}", optimizer="random"
    )
    assert _run(cfg, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "network" in err and "C must be a positive integer" in err
    assert not (tmp_path / "out" / "study.db").exists()


def test_cell_failures_are_recorded_and_summarised(tmp_path, capsys):
    cfg = _config(tmp_path, f'{{name: "search_helpers:FlakyBenchmark", metric: {METRIC}}}', queries=30)
    out = tmp_path / "out"
    assert _run(cfg, out) == 0
    text = capsys.readouterr().out
    recs = _records(out)
    failed = [r for r in recs if r.state == FAIL]
    assert failed and all(r.attrs["failure"] == "cell" for r in failed)
    assert f"failed trials: {len(failed)} of 30 ({len(failed)} failed in the cell)" in text
    assert "RuntimeError: simulated training crash on avg_pool_3x3" in text and failed[0].arch in text
    summary = json.loads((out / "summary.json").read_text())[0]
    assert summary["failure_kinds"] == {"cell": len(failed)} and summary["errors"][0]["trials"] == len(failed)


def test_a_nan_metric_is_a_failure_that_says_so(tmp_path, capsys):
    cfg = _config(tmp_path, f'{{name: "search_helpers:NaNBenchmark", metric: {METRIC}}}', queries=30)
    out = tmp_path / "out"
    assert _run(cfg, out) == 0
    nan = [r for r in _records(out) if r.arch.startswith("|none~0|")]
    assert nan and all(r.state == FAIL for r in nan)
    assert all(
        r.error == f"objective metric {METRIC!r} is NaN: the evaluation produced no usable value" for r in nan
    )
    assert "is NaN" in capsys.readouterr().out


def test_every_query_failed_exits_non_zero_with_the_first_error(tmp_path, capsys):
    cfg = _config(
        tmp_path,
        '{name: "search_helpers:TypoEvaluator"}',
        space="{name: chain}",
        optimizer="random",
        queries=6,
    )
    assert _run(cfg, tmp_path / "out") == 1
    captured = capsys.readouterr()
    assert "failed trials: 6 of 6" in captured.out
    last = captured.err.strip().splitlines()[-1]
    assert last.startswith(
        "nasearch run: error: every evaluation of f/seed-0 failed (6 of 6); first error: "
        "AttributeError: 'TypoEvaluator' object has no attribute 'spce'"
    )


def test_retry_failed_evaluates_failed_cells_again(tmp_path, capsys):
    """Failures recorded as the cell's own (e.g. by an older version for a set-up fault) are kept
    on resume, unless --retry-failed asks for them to be evaluated again."""
    cfg = _config(tmp_path, f'{{name: "search_helpers:FlakyBenchmark", metric: {METRIC}}}', queries=30)
    out = tmp_path / "out"
    assert _run(cfg, out) == 0
    failed = {r.key for r in _records(out) if r.state == FAIL}
    assert _run(cfg, out) == 0  # a plain resume keeps them
    assert {r.key for r in _records(out) if r.state == FAIL} == failed
    capsys.readouterr()
    # the cause fixed (an op that never appears on edge 0), every failed cell retried
    assert (
        _run(cfg, out, "--retry-failed", "--allow-config-change", "--set", "evaluator.fail_op=nothing") == 0
    )
    text = capsys.readouterr().out
    assert (
        f"seed 0: retried {len(failed)} cell(s) that had failed before ({len(failed)} failed in the cell)"
        in text
    )
    recs = _records(out)
    latest = {r.key: r for r in recs}
    assert len(latest) == 30 and all(r.state == COMPLETE for r in latest.values())
    assert json.loads((out / "summary.json").read_text())[0]["retried"] == {"cell": len(failed)}


def test_the_summary_keeps_the_first_runs_timings(tmp_path):
    cfg = _config(
        tmp_path, f'{{name: "search_helpers:SlowBenchmark", metric: {METRIC}, delay: 0.02}}', queries=10
    )
    out = tmp_path / "out"
    assert _run(cfg, out) == 0
    first = json.loads((out / "summary.json").read_text())[0]
    assert first["wall_seconds"] > 0.2 and first["evaluated"] == 10 and first["sessions"] == 1
    assert _run(cfg, out) == 0  # a finished run resumed: nothing evaluated
    again = json.loads((out / "summary.json").read_text())[0]
    assert again["replayed"] == 10 and again["evaluated"] == 10 and again["sessions"] == 2
    assert (
        again["wall_seconds"] >= first["wall_seconds"]
        and again["eval_wait_seconds"] >= first["eval_wait_seconds"]
    )
    assert _run(cfg, out, "--set", "budget.queries=14") == 0
    third = json.loads((out / "summary.json").read_text())[0]
    assert (
        third["evaluated"] == 14 and third["sessions"] == 3 and third["wall_seconds"] > again["wall_seconds"]
    )


def test_a_stored_cell_that_no_longer_parses_names_the_trial(tmp_path, capsys):
    cfg = _config(
        tmp_path,
        '{name: "search_helpers:ChainScore"}',
        space="{name: chain, depth: 3}",
        optimizer="random",
        queries=5,
    )
    out = tmp_path / "out"
    assert _run(cfg, out) == 0
    capsys.readouterr()
    assert _run(cfg, out, "--set", "search_space.depth=4", "--allow-config-change") == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "stored trial #0" in err and "does not parse in the current search space" in err
    assert "use a new --out" in err


def test_failure_classification():
    from nasearch.api.errors import ArchError, ConfigError, DataError, SetupError
    from nasearch.search.failures import CELL, SETUP, classify

    assert [
        classify(e)
        for e in (
            DataError("x"),
            ConfigError("x"),
            SetupError("x"),
            FileNotFoundError(2, "x"),
            ModuleNotFoundError("x"),
        )
    ] == [SETUP] * 5
    assert [classify(e) for e in (ArchError("x"), RuntimeError("x"), ZeroDivisionError(), MemoryError())] == [
        CELL
    ] * 4


def test_which_stored_failures_a_resume_retries():
    """The one predicate both loops (plain and scheduled) ask: kinds not the cell's fault are retried
    within the retry budget; a cell's own failure only with --retry-failed."""
    from nasearch.search.failures import CELL, CRASH, LOST, TIMEOUT, retried_on_resume

    assert [retried_on_resume(k, 1, 2) for k in (TIMEOUT, LOST, CRASH, CELL, None)] == [True] * 3 + [
        False
    ] * 2
    assert not retried_on_resume(TIMEOUT, 2, 2) and retried_on_resume(TIMEOUT, 9, None)
    assert retried_on_resume(CELL, 5, 2, retry_all=True)
