"""A study belongs to one run folder; state is written only after every check passed; an emptied
study.db is an error, never a silent restart (issue #27)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from nasearch.cli.main import main
from nasearch.curves import load_run
from nasearch.search import tracking
from nasearch.search.tracking import study_names

METRIC = "cifar10-valid/valid_accuracy"


def _config(
    tmp_path: Path,
    optimizer: str = "random",
    storage: str | None = None,
    queries: int = 12,
    metric: str = METRIC,
) -> str:
    path = tmp_path / f"own-{optimizer}-{queries}-{metric.split('/')[-1]}.yaml"
    path.write_text(
        f"""\
name: own
seeds: [0]
search_space: {{name: nasbench201}}
evaluator: {{name: benchmark, metric: {metric}}}
optimizer: {{name: {optimizer}}}
budget: {{queries: {queries}}}
parallel: {{backend: serial}}
"""
        + (f"storage: {storage}\n" if storage else "")
    )
    return str(path)


def _run(cfg: str, out: Path, *args: str) -> int:
    return main(["run", cfg, "--out", str(out), "--no-progress", *args])


def _one_error_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.startswith("nasearch run: error")]
    assert len(lines) == 1, err
    return lines[0]


def test_a_shared_storage_holds_two_runs_side_by_side(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    assert _run(_config(tmp_path, "random", url), tmp_path / "a") == 0
    assert _run(_config(tmp_path, "evolution", url, queries=15), tmp_path / "b") == 0
    assert len(study_names(url)) == 2  # not one study with 27 trials
    a, b = load_run(tmp_path / "a"), load_run(tmp_path / "b")
    assert [len(s.records) for s in a] == [12] and [len(s.records) for s in b] == [15]
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert summary[0]["queries"] == 15 and summary[0]["optimizer"] == "evolution"
    # each resumes its own study
    assert _run(_config(tmp_path, "random", url, queries=14), tmp_path / "a") == 0
    assert [len(s.records) for s in load_run(tmp_path / "a")] == [14]
    assert [len(s.records) for s in load_run(tmp_path / "b")] == [15]


def test_a_study_of_another_folder_is_refused_not_adopted(tmp_path, capsys):
    cfg = _config(tmp_path)
    assert _run(cfg, tmp_path / "a") == 0
    (tmp_path / "b").mkdir()
    for name in ("study.db", "study.db-wal"):  # a copy of the database as it is (its log included)
        if (tmp_path / "a" / name).exists():
            shutil.copy(tmp_path / "a" / name, tmp_path / "b" / name)
    capsys.readouterr()
    assert _run(_config(tmp_path, "evolution"), tmp_path / "b") == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "belongs to another run folder" in line and str((tmp_path / "a").resolve()) in line
    assert not (tmp_path / "b" / "run.json").exists() and not (tmp_path / "b" / "fingerprint.json").exists()


def test_a_plain_storage_path_is_refused_with_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _run(_config(tmp_path, storage="mydb"), tmp_path / "out") == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "storage: 'mydb' is not a URL" in line and "sqlite:///" in line
    assert not (tmp_path / "mydb").exists()


def test_a_refused_config_change_leaves_the_folder_untouched(tmp_path, capsys):
    cfg = _config(tmp_path)
    out = tmp_path / "out"
    assert _run(cfg, out) == 0
    before = {name: (out / name).read_bytes() for name in ("fingerprint.json", "config.yaml", "run.json")}
    other = _config(tmp_path, metric="cifar10-valid/test_accuracy")  # another objective: the study refuses it
    capsys.readouterr()
    assert _run(other, out, "--allow-config-change") == 2
    assert "objectives" in _one_error_line(capsys.readouterr().err)
    assert {name: (out / name).read_bytes() for name in before} == before
    assert not list(out.glob("config.before-*.yaml"))
    assert _run(cfg, out) == 0  # the original command still resumes


def test_a_zero_byte_study_db_is_an_error_naming_it(tmp_path, capsys):
    cfg = _config(tmp_path)
    out = tmp_path / "out"
    assert _run(cfg, out) == 0
    (out / "study.db").write_bytes(b"")
    for extra in ("study.db-wal", "study.db-shm"):
        (out / extra).unlink(missing_ok=True)
    capsys.readouterr()
    assert _run(cfg, out) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert str(out / "study.db") in line and "zero bytes" in line and "12 queries" in line
    assert (out / "study.db").stat().st_size == 0  # not silently turned into a fresh database


def test_a_replaced_empty_study_db_is_an_error_too(tmp_path, capsys, monkeypatch):
    cfg = _config(tmp_path)
    out = tmp_path / "out"
    assert _run(cfg, out) == 0
    monkeypatch.setattr(tracking, "_STORAGES", {})  # a later process: no connection to the old file
    for name in ("study.db", "study.db-wal", "study.db-shm"):
        (out / name).unlink(missing_ok=True)
    capsys.readouterr()
    assert _run(cfg, out) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "holds no trials of study 'own/seed-0'" in line and "recorded 12 queries" in line
