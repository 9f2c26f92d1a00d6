"""The search-curves figure as a user reads it (issue 16): step lines, panels only where there is
data, "1 seed" not "1 seeds", and no shared axis for runs with different objectives."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasearch.curves import StudyRun, plot
from nasearch.errors import ConfigError
from nasearch.tracking import COMPLETE, FAIL, Record


def _study(run: str, objective: str = "valid_accuracy", maximize: bool = True, seed: int = 0) -> StudyRun:
    """A real-evaluator study: no benchmark optimum, no test metric, measured costs only."""
    values = [50.0, 61.0, 58.0, None, 70.0, 69.0]
    records = [
        Record(i, f"cell-{i}", f"k{i}", COMPLETE if v is not None else FAIL,
               {objective: v} if v is not None else {}, 0.0, 30.0 + i)
        for i, v in enumerate(values)
    ]
    return StudyRun(run, "evolution", seed, objective, maximize, None, None, None, None, records)


@pytest.fixture()
def captured(monkeypatch: pytest.MonkeyPatch) -> list:
    """The figures ``plot`` saves (read back before they are closed)."""
    import matplotlib.figure

    figures: list = []
    original = matplotlib.figure.Figure.savefig

    def savefig(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        figures.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", savefig)
    return figures


def _used_axes(fig) -> list:  # type: ignore[no-untyped-def]
    return [ax for ax in fig.axes if ax.get_visible() and ax.has_data()]


def test_real_evaluator_run_has_no_empty_panels(tmp_path: Path, captured: list) -> None:
    plot([_study("train")], tmp_path)
    fig = captured[0]
    labels = [ax.get_ylabel() for ax in fig.axes]
    assert not any("regret" in lab for lab in labels)
    assert not any("incumbent" in lab for lab in labels)
    assert len(fig.axes) == len(_used_axes(fig)) == 2  # best vs queries, best vs measured time


def test_best_so_far_is_drawn_as_steps(tmp_path: Path, captured: list) -> None:
    plot([_study("train")], tmp_path)
    for ax in _used_axes(captured[0]):
        assert ax.get_lines() and all(line.get_drawstyle().startswith("steps") for line in ax.get_lines())


def test_legend_says_one_seed(tmp_path: Path, captured: list) -> None:
    plot([_study("train")], tmp_path)
    texts = [t.get_text() for ax in captured[0].axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    assert texts == ["evolution (1 seed)"]
    captured.clear()
    plot([_study("train", seed=0), _study("train", seed=1)], tmp_path)
    texts = [t.get_text() for ax in captured[0].axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    assert texts == ["evolution (2 seeds)"]


def test_runs_with_different_objectives_are_refused(tmp_path: Path) -> None:
    studies = [_study("acc"), _study("lat", objective="latency_ms", maximize=False)]
    with pytest.raises(ConfigError, match=r"different objectives.*acc: maximise valid_accuracy.*lat: minimise latency_ms"):
        plot(studies, tmp_path)
