"""The README's main job: runs/quickstart.yaml searches the embedded NB201 CIFAR-10 table, no data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasearch.cli.main import main

QUICKSTART = Path(__file__).resolve().parent.parent / "runs" / "quickstart.yaml"
OPTIMUM = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


def test_quickstart_searches_the_real_table_and_prints_the_published_optimum(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NASEARCH_DATA", raising=False)
    assert (
        main(
            [
                "run",
                str(QUICKSTART),
                "--out",
                str(tmp_path / "run"),
                "--no-progress",
                "--set",
                "budget.queries=30",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert f"benchmark's optimum: {OPTIMUM}  value 91.61, its test value 94.373" in out
    best = next(
        line for line in out.splitlines() if line.startswith("best cell (predictor_local_search, seed 0): |")
    )
    value = float(best.split("value ")[1].split(",")[0])
    assert 85.0 < value <= 91.61  # a real cell's validation accuracy, at most the optimum
    assert (tmp_path / "run" / "study.db").is_file()
