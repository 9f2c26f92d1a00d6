"""benchmarks/select_defaults.py: defaults chosen on validation cells only, on the real NB201 tables."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from benchmarks.select_defaults import (
    VisibleTask,
    candidates,
    command_of,
    main,
    report,
    select,
    train_cv,
    validation_block,
)
from nasearch.compare import CompareConfig, Task
from nasearch.metrics import MetricError


@pytest.fixture(scope="module")
def task(nb201_space, nb201_benchmark) -> Task:
    return Task(nb201_space, nb201_benchmark)


def _config(**kw) -> CompareConfig:
    return CompareConfig(name="s", sizes=[40], predictors={"x": {}}, **kw)


def test_the_procedures_never_touch_cells_past_training_and_validation(task):
    metric = "cifar10-valid/valid_accuracy"
    (block,) = validation_block(task, 40, 0, _config(protocol_options={"block": 100}))
    assert block.train.tolist() == list(range(40)) and block.test.tolist() == list(range(40, 140))
    folds = list(train_cv(task, 40, 0, _config(protocol_options={"folds": 4})))
    assert len(folds) == 4 and sorted(np.concatenate([f.test for f in folds]).tolist()) == list(range(40))
    assert all(np.intersect1d(f.train, f.test).size == 0 and f.train.max() < 40 for f in folds)
    # the task the fits see: NaN beyond the visible cells, so a leak cannot pass silently
    visible = VisibleTask(task, np.arange(140))
    assert np.isfinite(visible.column(metric)[:140]).all() and np.isnan(visible.column(metric)[140:]).all()
    from nasearch.metrics import kendall_tau

    with pytest.raises(MetricError, match="NaN"):
        kendall_tau(visible.column("cifar10/test_accuracy")[100:200], np.arange(100))
    with pytest.raises(Exception, match="test_metric"):
        list(validation_block(task, 40, 0, _config(test_metric="cifar10/test_accuracy")))


def test_select_picks_the_best_validation_score_on_a_tiny_grid(task, tmp_path, monkeypatch):
    """Two MLP settings on 60 cells: the one with a sane budget beats 2 optimizer steps on the
    validation block, and the JSON names it with every candidate's score."""
    grid = candidates([2, 300], [1.0], [False])
    result = select("mlp", grid, sizes=[60], seeds=[0], block=200, base_options={"epochs": 50},
                    out_dir=tmp_path, tasks={False: task}, log=lambda s: None)
    assert result["chosen"] == {"max_steps": 300, "rank_weight": 1.0, "prune_graph": False}
    by = {s["max_steps"]: s["mean_tau"] for s in result["scores"]}
    assert by[300] > by[2] + 0.1 and result["procedure"] == "validation" and result["commit"] is not None
    with (tmp_path / "validation_full" / "results.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["n_test"]) for r in rows] == [200, 200]  # the validation block scored, nothing else
    assert all(r["test_metric"] == "cifar10-valid/valid_accuracy" and r["options_hash"] for r in rows)
    command = command_of(result, tmp_path / "r.json")
    assert "--predictor mlp --procedure validation --sizes 60 --seeds 0 --max-steps 2,300" in command
    assert "--pruned false" in command and "--score-test" not in command
    table = report(json.loads(json.dumps(result)), "cmd")  # as read back from the JSON
    assert "steps=300 rank=1 8-node **(chosen)**" in table and result["scores"][1]["options_hash"] in table
    cv = select("mlp", grid, sizes=[60], seeds=[0], procedure="cv", folds=3, base_options={"epochs": 50},
                out_dir=tmp_path, tasks={False: task}, log=lambda s: None)
    assert cv["chosen"]["max_steps"] == 300 and "cross-validation" in cv["validation"]


def test_cli_writes_the_chosen_defaults_as_json(tmp_path, monkeypatch):
    from benchmarks import select_defaults

    out = tmp_path / "chosen.json"
    from benchmarks import report as report_module

    sections = {}
    monkeypatch.setattr(select_defaults, "select", lambda *a, **k: {"chosen": {"max_steps": 7}, "a": list(a)})
    monkeypatch.setattr(select_defaults, "report", lambda result, command: f"chosen {result['chosen']} by {command}")
    monkeypatch.setattr(report_module, "write_section", lambda name, text: sections.update({name: text}))
    assert main(["--predictor", "mlp", "--sizes", "30", "--max-steps", "7", "--pruned", "false",
                 "--out", str(out)]) == 0
    written = json.loads(out.read_text())
    assert written["chosen"] == {"max_steps": 7} and written["a"][0] == "mlp"
    assert sections == {"select_defaults:chosen": f"chosen {{'max_steps': 7}} by {written['command']}"}
    assert "--max-steps 7" in written["command"]
