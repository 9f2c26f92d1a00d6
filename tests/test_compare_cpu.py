"""``compare`` on a CPU (issue 26): one torch thread per fit, fits in parallel worker processes, and a
stopped comparison resumes (finished rows are read back from results.csv, not fitted again)."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nasearch.api import Predictor
from nasearch.api.errors import ConfigError
from nasearch.compare import fitting
from nasearch.compare.cli import execute, prepare_compare
from nasearch.config.registry import PREDICTORS

CONFIG: dict[str, Any] = {
    "name": "cpu",
    "sizes": [20, 40],
    "seeds": [0, 1],
    "predictors": {"random_forest": {"n_estimators": 20}},
    "protocol": "random",
    "test_subsample": 300,
    "space_options": {"prune_graph": True},
    "workers": 1,
}


class ThreadProbe(Predictor):
    """Records, in ``probe_dir``, the process and the torch thread count each fit ran with."""

    def __init__(self, probe_dir: str = "", seed: int = 0) -> None:
        self.probe_dir, self.seed, self.mean = probe_dir, seed, 0.0

    def fit(self, graphs: Any, y: Any, hardware: Any = None) -> ThreadProbe:
        import torch

        Path(self.probe_dir, f"{os.getpid()}-{self.seed}-{len(graphs)}").write_text(
            str(torch.get_num_threads())
        )
        self.mean = float(np.mean(y))
        return self

    def predict(self, graphs: Any, hardware: Any = None) -> np.ndarray:
        return np.array([self.mean + g.ops.count("nor_conv_3x3") for g in graphs], dtype=float)


PREDICTORS.register("thread_probe_test")(ThreadProbe)


def _run(tmp_path: Path, log: list[str] | None = None, **changes: Any) -> list[dict[str, Any]]:
    job = prepare_compare({**CONFIG, **changes}, out=tmp_path / "cmp")
    return execute(job, log=(log.append if log is not None else lambda _: None))


def test_a_stopped_comparison_resumes_without_refitting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _run(tmp_path)
    assert len(first) == 4
    path = tmp_path / "cmp" / "results.csv"
    lines = path.read_text().splitlines(keepends=True)
    # stopped after two rows, with a third cut short mid-line
    path.write_text("".join(lines[:3]) + lines[3][: len(lines[3]) // 2])
    fits: list[Any] = []
    original = fitting.fit_and_predict
    monkeypatch.setattr(fitting, "fit_and_predict", lambda p: fits.append(p) or original(p))
    log: list[str] = []
    second = _run(tmp_path, log)
    assert len(fits) == 2  # only the two missing rows were fitted
    assert any("2 row(s) read back" in line and "2 fit(s) to run" in line for line in log)
    assert [(r["train_size"], r["seed"]) for r in second] == [(20, 0), (20, 1), (40, 0), (40, 1)]
    for a, b in zip(first[:2], second[:2]):  # read back as written (same fit time: not refitted)
        assert b["fit_seconds"] == a["fit_seconds"] and b["kendall_tau"] == pytest.approx(a["kendall_tau"])
        assert b["options_hash"] == a["options_hash"]
    with path.open() as handle:
        assert len(list(csv.DictReader(handle))) == 4
    fits.clear()
    _run(tmp_path)
    assert not fits  # everything finished: nothing to fit


def test_changed_options_are_fitted_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _run(tmp_path)
    fits: list[Any] = []
    original = fitting.fit_and_predict
    monkeypatch.setattr(fitting, "fit_and_predict", lambda p: fits.append(p) or original(p))
    rows = _run(tmp_path, predictors={"random_forest": {"n_estimators": 30}})
    assert len(fits) == 4 and len(rows) == 4


def test_parallel_workers_give_the_rows_of_one_process(tmp_path: Path) -> None:
    serial = _run(tmp_path / "a")
    parallel = _run(tmp_path / "b", workers=2)
    assert [(r["train_size"], r["seed"]) for r in parallel] == [(r["train_size"], r["seed"]) for r in serial]
    assert [r["kendall_tau"] for r in parallel] == pytest.approx([r["kendall_tau"] for r in serial])


def test_each_worker_fits_with_one_torch_thread(tmp_path: Path) -> None:
    probe = tmp_path / "probe"
    probe.mkdir()
    rows = _run(tmp_path, predictors={"thread_probe_test": {"probe_dir": str(probe)}}, workers=2)
    assert len(rows) == 4
    records = {p.name: p.read_text() for p in probe.iterdir()}
    assert len(records) == 4 and set(records.values()) == {"1"}
    pids = {name.split("-")[0] for name in records}
    assert str(os.getpid()) not in pids and 1 <= len(pids) <= 2  # worker processes, not this one


def test_bad_worker_and_thread_counts_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="workers must be >= 1"):
        prepare_compare({**CONFIG, "workers": 0})
    with pytest.raises(ConfigError, match="threads must be >= 1"):
        prepare_compare({**CONFIG, "threads": 0})
