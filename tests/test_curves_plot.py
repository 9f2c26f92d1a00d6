"""The search-curves figure as a user reads it (issue 16): step lines, panels only where there is
data, "1 seed" not "1 seeds", and no shared axis for runs with different objectives."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasearch.api.errors import ConfigError
from nasearch.curves import StudyRun, plot
from nasearch.search.tracking import COMPLETE, FAIL, Record


def _study(run: str, objective: str = "valid_accuracy", maximize: bool = True, seed: int = 0) -> StudyRun:
    """A real-evaluator study: no benchmark optimum, no test metric, measured costs only."""
    values = [50.0, 61.0, 58.0, None, 70.0, 69.0]
    records = [
        Record(
            i,
            f"cell-{i}",
            f"k{i}",
            COMPLETE if v is not None else FAIL,
            {objective: v} if v is not None else {},
            0.0,
            30.0 + i,
        )
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
    with pytest.raises(
        ConfigError, match=r"different objectives.*acc: maximise valid_accuracy.*lat: minimise latency_ms"
    ):
        plot(studies, tmp_path)


# --- issue 26: plots that cannot lie ---------------------------------------------------------------
def _valued(label: str, values: list[float], seed: int = 0, optimum: float | None = None) -> StudyRun:
    """A benchmark-like study (simulated costs recorded) whose best-so-far follows ``values``."""
    records = [
        Record(i, f"{label}-{seed}-{i}", f"{label}{seed}k{i}", COMPLETE, {"acc": v}, 3600.0, 1.0)
        for i, v in enumerate(values)
    ]
    return StudyRun("run", label, seed, "acc", True, None, optimum, None, None, records)


def _line_colours(fig) -> list[dict[str, tuple]]:  # type: ignore[no-untyped-def]
    """Per axis: optimizer name (the legend text up to " (") -> the colour of its line."""
    return [
        {
            line.get_label().split(" (")[0]: tuple(line.get_color())
            for line in ax.get_lines()
            if not line.get_label().startswith("_")
        }
        for ax in _used_axes(fig)
    ]


def test_one_colour_per_optimizer_in_every_panel(tmp_path: Path, captured: list) -> None:
    """The query panels and the time panel give each optimizer the same colour (it was run order in
    one and alphabetical order in the other, so the time panel's colours matched the wrong legend)."""
    studies = [_valued("zeta", [60.0, 80.0, 90.0]), _valued("alpha", [50.0, 65.0, 70.0])]
    plot(studies, tmp_path)
    per_axis = _line_colours(captured[0])
    assert len(per_axis) == 2 and all(set(m) == {"zeta", "alpha"} for m in per_axis)
    assert per_axis[0] == per_axis[1]
    assert per_axis[0]["zeta"] != per_axis[0]["alpha"]


def test_bands_stay_inside_the_values_the_seeds_reached(tmp_path: Path, captured: list) -> None:
    """Near the top of a bounded metric a mean ± std band ran past 100 %; the interquartile band cannot."""
    studies = [
        _valued("evolution", [100.0, 100.0, 100.0], seed=0),
        _valued("evolution", [90.0, 95.0, 99.0], seed=1),
        _valued("evolution", [99.0, 100.0, 100.0], seed=2),
    ]
    plot(studies, tmp_path)
    fig = captured[0]
    for ax in _used_axes(fig):
        for band in ax.collections:
            ys = [y for path in band.get_paths() for _, y in path.vertices]
            assert max(ys) <= 100.0 + 1e-9 and min(ys) >= 90.0 - 1e-9
    legend = fig.axes[0].get_legend()
    assert "median" in legend.get_title().get_text() and "interquartile" in legend.get_title().get_text()


def test_regret_leads_on_a_log_axis_when_the_optimum_is_known(tmp_path: Path, captured: list) -> None:
    studies = [_valued("evolution", [80.0, 90.0, 95.0], seed=s, optimum=95.0) for s in (0, 1)]
    plot(studies, tmp_path)
    lead = captured[0].axes[0]
    assert "regret" in lead.get_ylabel() and lead.get_yscale() == "symlog"
    time_panel = _used_axes(captured[0])[-1]
    assert "time" in time_panel.get_xlabel() and "regret" in time_panel.get_ylabel()


RUN = """\
name: same_name
seeds: [0]
search_space: {name: nasbench201}
evaluator: {name: benchmark, metric: cifar10-valid/valid_accuracy, test_metric: cifar10/test_accuracy}
optimizer: {name: random}
budget: {queries: 6}
parallel: {backend: serial}
"""


def test_two_folders_with_one_config_name_are_two_lines(tmp_path: Path, captured: list, capsys) -> None:  # type: ignore[no-untyped-def]
    """``nasearch plot A B`` of two runs named alike: two labelled lines (it pooled them into one
    "random (2 seeds)"), and A's own plot files are left as they were (they were overwritten)."""
    from nasearch.cli.main import main

    config = tmp_path / "run.yaml"
    config.write_text(RUN)
    first, second = tmp_path / "try", tmp_path / "full"
    assert main(["run", str(config), "--out", str(first), "--no-progress"]) == 0
    assert main(["run", str(config), "--out", str(second), "--no-progress", "--set", "seeds=[0,1]"]) == 0
    own = (first / "search_curves.png").read_bytes(), (first / "search_curves.csv").read_bytes()
    captured.clear()
    capsys.readouterr()
    assert main(["plot", str(first), str(second)]) == 0
    texts = [t.get_text() for ax in captured[0].axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    assert sorted(texts) == ["full: random (2 seeds)", "try: random (1 seed)"]
    assert ((first / "search_curves.png").read_bytes(), (first / "search_curves.csv").read_bytes()) == own
    assert (first / "search_curves+full.png").is_file()
    printed = capsys.readouterr().out
    assert "try: random: optimum found in" in printed and "/1 seeds" in printed and "/2 seeds" in printed
