"""``nasearch compare --from-run``: predictors compared on the cells a real run of a plugged-in
space (the ``chain`` example: no enumeration, no table) evaluated (issue 16)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from nasearch.cli.main import main

RUN = """\
name: chainrun
seeds: [0]
search_space: {name: chain, depth: 3}
evaluator: {name: train, dataset: digits, epochs: 1, batch_size: 64, seed: 0, num_threads: 1}
optimizer: {name: random}
budget: {queries: 20}
parallel: {backend: serial}
"""


@pytest.fixture(scope="module")
def chain_run(tmp_path_factory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("chainrun")
    (folder / "run.yaml").write_text(RUN)
    out = folder / "out"
    assert main(["run", str(folder / "run.yaml"), "--out", str(out), "--no-progress"]) == 0
    return out


def test_compare_from_run_scores_predictors_on_the_runs_cells(chain_run, tmp_path, capsys) -> None:
    from nasearch.curves import load_run

    cells = {r.key for s in load_run(chain_run) for r in s.records if r.state == "COMPLETE"}
    out = tmp_path / "cmp"
    code = main(
        [
            "compare",
            "--from-run",
            str(chain_run),
            "--predictors",
            "random_forest,params_linear",
            "--sizes",
            "5,10",
            "--seeds",
            "0,1",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert f"{len(cells)} distinct cells" in capsys.readouterr().out
    frame = pd.read_csv(out / "results.csv")
    assert len(frame) == 2 * 2 * 2
    assert set(frame["protocol"]) == {"random"} and set(frame["train_metric"]) == {"valid_accuracy"}
    # random splits of the run's own cells: every evaluated cell is in training or test
    assert ((frame["train_size"] + frame["n_test"]) == len(cells)).all()
    assert frame["kendall_tau"].map(lambda t: math.isfinite(t) and -1 <= t <= 1).all()
    assert (out / "curves.png").stat().st_size > 10_000


def test_compare_from_run_refuses_sizes_the_run_cannot_fill(chain_run, tmp_path, capsys) -> None:
    code = main(
        [
            "compare",
            "--from-run",
            str(chain_run),
            "--predictors",
            "random_forest",
            "--sizes",
            "500",
            "--out",
            str(tmp_path / "x"),
        ]
    )
    assert code == 2
    assert "not smaller than the run's" in capsys.readouterr().err


def test_compare_without_config_or_run_says_so(capsys) -> None:
    assert main(["compare"]) == 2
    assert "CONFIG.yaml or --from-run" in capsys.readouterr().err


def test_compare_on_a_space_without_a_table_points_to_from_run(tmp_path, capsys) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("name: c\nspace: chain\nsizes: [4]\npredictors: {random_forest: {}}\n")
    assert main(["compare", str(config), "--out", str(tmp_path / "o")]) == 2
    assert "--from-run RUN_DIR" in capsys.readouterr().err


def test_compare_from_run_on_another_recorded_metric(chain_run, tmp_path) -> None:
    out = tmp_path / "params"
    code = main(
        [
            "compare",
            "--from-run",
            str(chain_run),
            "--predictors",
            "params_linear",
            "--sizes",
            "10",
            "--seeds",
            "0",
            "--set",
            "train_metric=params",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    frame = pd.read_csv(out / "results.csv")
    assert set(frame["train_metric"]) == {"params"} and set(frame["test_metric"]) == {"params"}
    assert -1 <= frame["kendall_tau"].iloc[0] <= 1
