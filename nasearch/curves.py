"""``nasearch plot RUN_DIR...``: search curves from tracked runs.

For every study (one optimizer, one seed): the best-so-far objective and the test metric of
that incumbent after each query, and against cumulative simulated training time; regret
against the benchmark's optimum where the run recorded it (then it leads, on a log scale). Each
line is one optimizer of one run folder (two folders are never pooled, whatever their config
names), in one colour across every panel: the median over seeds with an interquartile band,
drawn as steps, and written as a tidy CSV beside a PNG; a panel appears only where there is
data, and runs with different objectives are refused, not overlaid.
"""

from __future__ import annotations

import argparse
import io
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from nasearch.api.errors import ConfigError
from nasearch.api.objective import stored_objectives
from nasearch.data.safeio import make_dir, write_bytes, write_text
from nasearch.search import run_record
from nasearch.search.tracking import Record, load_study, read_records, study_names
from nasearch.search.trajectory import EXTEND_ATTR, Incumbent, KnownOptimum, OptimumTarget, replay
from nasearch.search.trajectory import queries_to_optimum as trajectory_queries_to_optimum

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from numpy.typing import ArrayLike


@dataclass
class StudyRun:
    """One tracked study with what the curves need."""

    run: str
    label: str
    seed: int
    objective: str
    maximize: bool
    test_metric: str | None
    optimum: float | None
    optimum_key: str | None
    test_optimum: float | None
    records: list[Record]
    #: the run folder it was read from (two folders of one config name stay apart)
    folder: str = ""
    #: ``budget.stop_at_optimum``'s query budget: a search stopped at the optimum reads as if it ran this long
    extend_to: int | None = None


def load_run(run_dir: str | Path) -> list[StudyRun]:
    """Every study of a run folder (read through its ``run.json``), in storage order."""
    record = run_record.read(Path(run_dir))
    url, name, prefix, run_id = record.storage, record.name, record.prefix, record.run_id
    out = []
    for sname in study_names(url):
        if not sname.startswith(f"{prefix}/"):
            continue
        study = load_study(url, sname)
        attrs = study.user_attrs
        if run_id and attrs.get("run_id", run_id) != run_id:
            continue  # another run folder's study in a shared storage
        objective = (
            stored_objectives(attrs["objectives"])[0] if attrs.get("objectives") else record.objectives[0]
        )
        optimum = KnownOptimum.from_attrs(attrs)
        out.append(
            StudyRun(
                run=name,
                label=str(attrs.get("label", "?")),
                seed=int(attrs.get("seed", 0)),
                objective=objective.metric,
                maximize=objective.maximize,
                test_metric=attrs.get("test_metric"),
                optimum=optimum.value,
                optimum_key=optimum.key,
                test_optimum=optimum.test_value,
                records=read_records(study),
                folder=str(run_dir),
                extend_to=int(attrs[EXTEND_ATTR]) if attrs.get(EXTEND_ATTR) is not None else None,
            )
        )
    return out


def optimum_target(study: StudyRun) -> OptimumTarget:
    """What "found the optimum" means for ``study`` (see :mod:`nasearch.search.trajectory`)."""
    return KnownOptimum(study.optimum, study.optimum_key).target(study.maximize)


def trajectory(study: StudyRun) -> dict[str, np.ndarray]:
    """Per query: best-so-far objective, the incumbent's test value, cumulative simulated
    seconds, regret and whether the optimum's cell (or an isomorph) has been evaluated."""
    n = len(study.records)
    best = np.full(n, np.nan)
    test = np.full(n, np.nan)
    sim = np.cumsum([rec.simulated_seconds for rec in study.records]) if n else np.zeros(0)
    measured = np.cumsum([rec.cost_seconds for rec in study.records]) if n else np.zeros(0)
    found = np.zeros(n, dtype=bool)
    incumbent = Incumbent([(study.objective, study.maximize)], optimum_target(study), study.test_metric)
    for i, state in enumerate(replay(study.records, incumbent)):
        found[i] = state.found_at is not None
        best[i] = state.best_value
        test_value = state.best_test
        test[i] = np.nan if test_value is None else test_value
    if study.extend_to is not None and n and found[-1] and n < study.extend_to:
        # stopped at the optimum (budget.stop_at_optimum): the incumbent, chosen on the searched column,
        # cannot change after it, so the remaining queries repeat the last state and spend no time
        pad = study.extend_to - n
        best, test, sim, measured, found = (
            np.concatenate([a, np.repeat(a[-1:], pad)]) for a in (best, test, sim, measured, found)
        )
        n = study.extend_to
    sign = 1.0 if study.maximize else -1.0
    regret = sign * (study.optimum - best) if study.optimum is not None else np.full(n, np.nan)
    return {
        "query": np.arange(1, n + 1),
        "best": best,
        "incumbent_test": test,
        "simulated_seconds": sim,
        "evaluation_seconds": measured,
        "regret": regret,
        "found_optimum": found,
    }


def queries_to_optimum(study: StudyRun) -> int | None:
    """The query at which the optimum's cell was first evaluated (None: not found)."""
    return trajectory_queries_to_optimum(
        study.records, [(study.objective, study.maximize)], optimum_target(study)
    )


def identity(study: StudyRun) -> tuple[str, str]:
    """What makes a line: the run's folder (the run name for a study not read from one) and the optimizer label."""
    return (study.folder or study.run, study.label)


def line_labels(studies: list[StudyRun]) -> dict[tuple[str, str], str]:
    """The legend name of each (folder, label): the optimizer label, prefixed by its folder where
    two folders hold the same label (two runs are never pooled into one line)."""
    folders: dict[str, set[str]] = {}
    for s in studies:
        folders.setdefault(s.label, set()).add(identity(s)[0])
    names = list(dict.fromkeys(identity(s)[0] for s in studies))
    short = {f: Path(f).name or f for f in names}
    if len(set(short.values())) < len(names):  # two folders with one base name: the paths as given
        short = {f: f for f in names}
    return {
        identity(s): s.label if len(folders[s.label]) == 1 else f"{short[identity(s)[0]]}: {s.label}"
        for s in studies
    }


def tidy_rows(studies: list[StudyRun], labels: dict[tuple[str, str], str]) -> list[dict[str, object]]:
    """One row per (study, query): the per-seed table behind every curve."""
    rows = []
    for s in studies:
        t = trajectory(s)
        for i in range(len(t["query"])):
            rows.append(
                {
                    "optimizer": labels[identity(s)],
                    "folder": identity(s)[0],
                    "seed": s.seed,
                    "query": int(t["query"][i]),
                    "simulated_hours": t["simulated_seconds"][i] / 3600.0,
                    "evaluation_hours": t["evaluation_seconds"][i] / 3600.0,
                    "best": t["best"][i],
                    "incumbent_test": t["incumbent_test"][i],
                    "regret": t["regret"][i],
                    "found_optimum": bool(t["found_optimum"][i]),
                }
            )
    return rows


def _q25(x: pd.Series) -> float:
    return float(x.quantile(0.25))


def _q75(x: pd.Series) -> float:
    return float(x.quantile(0.75))


def aggregate(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (optimizer, query) over seeds: median and interquartile range (what the figure draws),
    mean and std."""
    grouped = frame.groupby(["optimizer", "query"], sort=False)
    columns = ["best", "incumbent_test", "regret", "simulated_hours", "evaluation_hours"]
    out = grouped[columns].agg(["median", _q25, _q75, "mean", "std"])
    out.columns = [f"{a}_{b.lstrip('_')}" for a, b in out.columns]
    out["found_optimum_fraction"] = grouped["found_optimum"].mean()
    out["seeds"] = grouped["seed"].nunique()
    return out.reset_index()


def _time_axis(studies: list[StudyRun]) -> tuple[str, str]:
    """Simulated training time where the benchmark recorded it, else the measured evaluation time."""
    if any(t["simulated_seconds"][-1] > 0 for t in (trajectory(s) for s in studies if s.records)):
        return "simulated_seconds", "simulated training time (hours)"
    return "evaluation_seconds", "evaluation time, summed over workers (hours)"


def _time_curves(
    studies: list[StudyRun],
    labels: dict[tuple[str, str], str],
    column: str,
    value: str = "best",
    points: int = 100,
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """``value`` (best-so-far or regret) vs ``column`` (seconds, shown in hours) on a common grid up to
    the time every seed reached: median, 25th and 75th percentile over seeds."""
    per_label: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for s in studies:
        t = trajectory(s)
        if len(t["query"]) and t[column][-1] > 0:
            per_label.setdefault(labels[identity(s)], []).append((t[column] / 3600.0, t[value]))
    out = {}
    for label, curves in per_label.items():
        end = min(c[0][-1] for c in curves)
        grid = np.linspace(0, end, points)
        vals = []
        for hours, series in curves:
            idx = np.searchsorted(hours, grid, side="right") - 1
            vals.append(np.where(idx >= 0, series[np.clip(idx, 0, None)], np.nan))
        arr = np.array(vals)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN grid points before the first result
            q25, median, q75 = np.nanpercentile(arr, [25, 50, 75], axis=0)
        out[label] = (grid, median, q25, q75)
    return out


def seeds_label(label: str, seeds: int) -> str:
    """``"evolution (1 seed)"`` / ``"evolution (3 seeds)"``: a legend entry."""
    return f"{label} ({seeds} seed{'' if seeds == 1 else 's'})"


def check_same_objective(studies: list[StudyRun]) -> None:
    """Refuse to overlay runs that optimise different objectives (one y axis would mislead)."""
    seen: dict[tuple[str, bool], list[str]] = {}
    for s in studies:
        seen.setdefault((s.objective, s.maximize), []).append(identity(s)[0])
    if len(seen) > 1:
        parts = "; ".join(
            f"{', '.join(sorted(set(runs)))}: {'maximise' if mx else 'minimise'} {metric}"
            for (metric, mx), runs in seen.items()
        )
        raise ConfigError(
            f"the runs optimise different objectives ({parts}): one axis cannot show them; "
            "plot each objective's runs separately"
        )


def panels(studies: list[StudyRun], stats: pd.DataFrame) -> list[tuple[str, str]]:
    """``(column, y label)`` of each per-query panel that has data. Where the benchmark's optimum is
    known, regret leads (on a log scale: best-so-far accuracies squash into a flat line near the
    top) and stands for best-so-far; else best-so-far. Then the incumbent's test metric, if recorded."""
    s0 = studies[0]
    if stats["regret_median"].notna().any():
        out = [("regret", f"regret of best-so-far {s0.objective}\n(vs the benchmark optimum; 0 = found it)")]
    else:
        out = [("best", f"best-so-far {s0.objective}")]
    if stats["incumbent_test_median"].notna().any():
        out.append(("incumbent_test", f"incumbent's {s0.test_metric or 'test metric'}"))
    return out


#: how the lines and bands summarise seeds (the legend's title says it on every figure)
BAND = "median over seeds; band: interquartile range"


def colours(labels: list[str]) -> dict[str, tuple[float, float, float, float]]:
    """One colour per line, the same in every panel (first-appearance order)."""
    import matplotlib

    cmap = matplotlib.colormaps["tab10" if len(labels) <= 10 else "tab20"]
    return {label: cmap(i % cmap.N) for i, label in enumerate(labels)}


def headless() -> None:
    """Draw off-screen (Agg) from the command line; leave a notebook's inline backend alone."""
    import matplotlib

    if "ipykernel" not in sys.modules:
        matplotlib.use("Agg")


def _log_regret(ax: Axes, values: ArrayLike) -> None:
    """A symmetric log axis: regret spans decades, and 0 (optimum found) stays on the axis."""
    positive = np.asarray(values, dtype=float)
    positive = positive[np.isfinite(positive) & (positive > 0)]
    if positive.size:
        ax.set_yscale("symlog", linthresh=min(0.01, float(positive.min())))
        ax.set_ylim(bottom=0.0)


def figure(studies: list[StudyRun], title: str = "") -> tuple[Figure, pd.DataFrame]:
    """The search-curves figure and its tidy per-seed frame: one line per (run folder, optimizer),
    with one colour in every panel; median over seeds with an interquartile band (stays inside
    the values the seeds reached); steps, since best-so-far only changes when a query improves it.
    Regret leads where the benchmark optimum is known; a last panel plots it (or best-so-far)
    against (simulated or measured) time."""
    headless()
    import matplotlib.pyplot as plt
    import pandas as pd

    if not studies or not any(s.records for s in studies):
        raise ConfigError("no evaluated trials found in the given run folder(s)")
    check_same_objective(studies)
    labels = line_labels(studies)
    palette = colours(list(dict.fromkeys(labels[identity(s)] for s in studies)))
    frame = pd.DataFrame(tidy_rows(studies, labels))
    stats = aggregate(frame)
    s0 = studies[0]
    per_query = panels(studies, stats)
    time_column, time_label = _time_axis(studies)
    lead = per_query[0][0]
    time_curves = _time_curves(studies, labels, time_column, value=lead)
    count = len(per_query) + (1 if time_curves else 0)
    cols = 2 if count > 1 else 1
    rows = (count + 1) // 2
    fig, grid = plt.subplots(rows, cols, figsize=(6 * cols, 4.25 * rows), squeeze=False)
    axes = list(grid.ravel())
    for ax in axes[count:]:
        ax.remove()
    for ax, (column, ylabel) in zip(axes, per_query):
        for label, group in stats.groupby("optimizer", sort=False):
            colour = palette[str(label)]
            q = group["query"].to_numpy()
            ax.step(
                q,
                group[f"{column}_median"].to_numpy(),
                where="post",
                color=colour,
                label=seeds_label(str(label), int(group["seeds"].max())),
            )
            ax.fill_between(
                q,
                group[f"{column}_q25"].to_numpy(),
                group[f"{column}_q75"].to_numpy(),
                color=colour,
                alpha=0.15,
                step="post",
                linewidth=0,
            )
        ax.set_xlabel("queries")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if column == "regret":
            _log_regret(ax, frame["regret"])
    if time_curves:
        ax = axes[len(per_query)]
        for label, (grid_h, median, q25, q75) in time_curves.items():
            ax.step(grid_h, median, where="post", color=palette[label], label=label)
            ax.fill_between(grid_h, q25, q75, color=palette[label], alpha=0.15, step="post", linewidth=0)
        ax.set_xlabel(time_label)
        ax.set_ylabel(per_query[0][1] if lead == "regret" else f"best-so-far {s0.objective}")
        ax.grid(alpha=0.3)
        if lead == "regret":
            _log_regret(ax, frame["regret"])
    axes[0].legend(fontsize=8, title=BAND, title_fontsize=8)
    names = dict.fromkeys(Path(identity(s)[0]).name or identity(s)[0] for s in studies)
    fig.suptitle(title or ", ".join(names))
    fig.tight_layout()
    return fig, frame


def write_outputs(
    fig: Figure, frame: pd.DataFrame, out_dir: Path, stem: str = "search_curves"
) -> tuple[Path, Path]:
    """Write ``<stem>.csv`` (tidy, per seed), ``<stem>_mean.csv`` (the per-query statistics) and ``<stem>.png``,
    each whole or not at all (temp file + rename; a full disk is one line, never a truncated file)."""
    make_dir(out_dir)
    csv = out_dir / f"{stem}.csv"
    write_text(csv, frame.to_csv(index=False))
    write_text(out_dir / f"{stem}_mean.csv", aggregate(frame).to_csv(index=False))
    png = out_dir / f"{stem}.png"
    write_bytes(png, png_bytes(fig))
    return png, csv


def plot(
    studies: list[StudyRun], out_dir: Path, title: str = "", stem: str = "search_curves"
) -> tuple[Path, Path]:
    """Write ``search_curves.csv`` (tidy, per seed), ``search_curves_mean.csv`` and the PNG."""
    import matplotlib.pyplot as plt

    fig, frame = figure(studies, title)
    try:
        return write_outputs(fig, frame, out_dir, stem)
    finally:
        plt.close(fig)


def overlay_stem(run_dirs: list[str]) -> str:
    """The file stem for several folders plotted together: ``search_curves+<other>+...``, so an
    overlay written into the first folder never replaces that folder's own plot files."""
    if len(run_dirs) == 1:
        return "search_curves"
    return "search_curves+" + "+".join(Path(d).resolve().name for d in run_dirs[1:])


def png_bytes(fig: Figure, dpi: int = 110) -> bytes:
    """The figure as PNG bytes, rendered in memory (a full disk then fails the write, not the encoder)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def cli_plot(args: argparse.Namespace) -> int:
    """Entry point of ``nasearch plot RUN_DIR... [--out DIR]``."""
    studies: list[StudyRun] = []
    for run_dir in args.run_dirs:
        studies += load_run(run_dir)
    out_dir = Path(args.out or args.run_dirs[0])
    png, csv = plot(studies, out_dir, stem="search_curves" if args.out else overlay_stem(list(args.run_dirs)))
    print(f"wrote {png} and {csv}")
    labels = line_labels(studies)
    frame_hits: dict[str, list[int | None]] = {}
    for s in studies:
        if s.optimum is not None or s.optimum_key is not None:  # real evaluations have no known optimum
            frame_hits.setdefault(labels[identity(s)], []).append(queries_to_optimum(s))
    for label, hits in frame_hits.items():
        found = [h for h in hits if h is not None]
        text = f" (after {np.mean(found):.0f} queries on average)" if found else ""
        print(f"  {label}: optimum found in {len(found)}/{len(hits)} seeds{text}")
    return 0
