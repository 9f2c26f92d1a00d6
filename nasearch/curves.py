"""``nasearch plot RUN_DIR...``: search curves from tracked runs.

For every study (one optimizer, one seed): the best-so-far objective and the test metric of
that incumbent after each query, and against cumulative simulated training time; regret
against the benchmark's optimum where the run recorded it. Curves are averaged over seeds
(mean ± std), one step line per optimizer, written as a tidy CSV beside a PNG; a panel appears
only where there is data, and runs with different objectives are refused, not overlaid.
"""

from __future__ import annotations

import argparse
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nasearch.errors import ConfigError
from nasearch.tracking import Record, load_study, read_records, study_names
from nasearch.trajectory import Incumbent, OptimumTarget, replay
from nasearch.trajectory import queries_to_optimum as trajectory_queries_to_optimum


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


def load_run(run_dir: str | Path) -> list[StudyRun]:
    """Every study of a run folder (read through its ``run.json``), in storage order."""
    path = Path(run_dir) / "run.json"
    if not path.is_file():
        raise ConfigError(f"{str(run_dir)!r} is not a run folder written by `nasearch run` (no run.json)")
    meta = json.loads(path.read_text())
    url, name = meta["storage"], meta["name"]
    out = []
    prefix, run_id = meta.get("study_prefix") or name, meta.get("run_id")
    for sname in study_names(url):
        if not sname.startswith(f"{prefix}/"):
            continue
        study = load_study(url, sname)
        attrs = study.user_attrs
        if run_id and attrs.get("run_id", run_id) != run_id:
            continue  # another run folder's study in a shared storage
        objectives = attrs.get("objectives") or meta["objectives"]
        out.append(
            StudyRun(
                run=name, label=str(attrs.get("label", "?")), seed=int(attrs.get("seed", 0)),
                objective=objectives[0][0], maximize=bool(objectives[0][1]),
                test_metric=attrs.get("test_metric"), optimum=attrs.get("optimum"),
                optimum_key=attrs.get("optimum_key"), test_optimum=attrs.get("test_optimum"),
                records=read_records(study),
            )
        )
    return out


def optimum_target(study: StudyRun) -> OptimumTarget:
    """What "found the optimum" means for ``study`` (see :mod:`nasearch.trajectory`)."""
    return OptimumTarget(study.optimum, study.optimum_key, study.maximize)


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
    sign = 1.0 if study.maximize else -1.0
    regret = sign * (study.optimum - best) if study.optimum is not None else np.full(n, np.nan)
    return {"query": np.arange(1, n + 1), "best": best, "incumbent_test": test, "simulated_seconds": sim,
            "evaluation_seconds": measured, "regret": regret, "found_optimum": found}


def queries_to_optimum(study: StudyRun) -> int | None:
    """The query at which the optimum's cell was first evaluated (None: not found)."""
    return trajectory_queries_to_optimum(study.records, [(study.objective, study.maximize)], optimum_target(study))


def tidy_rows(studies: list[StudyRun], labels: dict[tuple[str, str], str]) -> list[dict[str, Any]]:
    """One row per (study, query): the per-seed table behind every curve."""
    rows = []
    for s in studies:
        t = trajectory(s)
        for i in range(len(t["query"])):
            rows.append({
                "optimizer": labels[(s.run, s.label)], "seed": s.seed, "query": int(t["query"][i]),
                "simulated_hours": t["simulated_seconds"][i] / 3600.0,
                "evaluation_hours": t["evaluation_seconds"][i] / 3600.0, "best": t["best"][i],
                "incumbent_test": t["incumbent_test"][i], "regret": t["regret"][i],
                "found_optimum": bool(t["found_optimum"][i]),
            })
    return rows


def aggregate(frame: Any) -> Any:
    """Mean and std over seeds per (optimizer, query)."""
    grouped = frame.groupby(["optimizer", "query"])
    out = grouped[["best", "incumbent_test", "regret", "simulated_hours", "evaluation_hours"]].agg(["mean", "std"])
    out.columns = [f"{a}_{b}" for a, b in out.columns]
    out["found_optimum_fraction"] = grouped["found_optimum"].mean()
    out["seeds"] = grouped["seed"].nunique()
    return out.reset_index()


def _time_axis(studies: list[StudyRun]) -> tuple[str, str]:
    """Simulated training time where the benchmark recorded it, else the measured evaluation time."""
    if any(t["simulated_seconds"][-1] > 0 for t in (trajectory(s) for s in studies if s.records)):
        return "simulated_seconds", "simulated training time (hours)"
    return "evaluation_seconds", "evaluation time, summed over workers (hours)"


def _time_curves(studies: list[StudyRun], labels: dict[tuple[str, str], str], column: str, points: int = 100) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Best-so-far vs ``column`` (seconds, shown in hours) on a common grid, mean and std over seeds."""
    per_label: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for s in studies:
        t = trajectory(s)
        if len(t["query"]) and t[column][-1] > 0:
            per_label.setdefault(labels[(s.run, s.label)], []).append((t[column] / 3600.0, t["best"]))
    out = {}
    for label, curves in per_label.items():
        end = min(c[0][-1] for c in curves)
        grid = np.linspace(0, end, points)
        vals = []
        for hours, best in curves:
            idx = np.searchsorted(hours, grid, side="right") - 1
            vals.append(np.where(idx >= 0, best[np.clip(idx, 0, None)], np.nan))
        arr = np.array(vals)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN grid points before the first result
            out[label] = (grid, np.nanmean(arr, axis=0), np.nanstd(arr, axis=0))
    return out


def seeds_label(label: str, seeds: int) -> str:
    """``"evolution (1 seed)"`` / ``"evolution (3 seeds)"``: a legend entry."""
    return f"{label} ({seeds} seed{'' if seeds == 1 else 's'})"


def check_same_objective(studies: list[StudyRun]) -> None:
    """Refuse to overlay runs that optimise different objectives (one y axis would mislead)."""
    seen: dict[tuple[str, bool], list[str]] = {}
    for s in studies:
        seen.setdefault((s.objective, s.maximize), []).append(s.run)
    if len(seen) > 1:
        parts = "; ".join(
            f"{', '.join(sorted(set(runs)))}: {'maximise' if mx else 'minimise'} {metric}"
            for (metric, mx), runs in seen.items()
        )
        raise ConfigError(
            f"the runs optimise different objectives ({parts}): one axis cannot show them; "
            "plot each objective's runs separately"
        )


def panels(studies: list[StudyRun], mean: Any) -> list[tuple[str, str]]:
    """``(column, y label)`` of each per-query panel that has data: best-so-far always, the
    incumbent's test metric when recorded, regret only when a benchmark optimum is known."""
    s0 = studies[0]
    out = [("best", f"best-so-far {s0.objective}")]
    if mean["incumbent_test_mean"].notna().any():
        out.append(("incumbent_test", f"incumbent's {s0.test_metric or 'test metric'}"))
    if mean["regret_mean"].notna().any():
        out.append(("regret", "regret vs the benchmark optimum"))
    return out


def figure(studies: list[StudyRun], title: str = "") -> tuple[Any, Any]:
    """The search-curves figure and its tidy per-seed frame: best-so-far drawn as steps (it only
    changes when a query improves on it), one panel per quantity that has data, plus best-so-far
    against (simulated or measured) time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    if not studies or not any(s.records for s in studies):
        raise ConfigError("no evaluated trials found in the given run folder(s)")
    check_same_objective(studies)
    label_count: dict[str, set[str]] = {}
    for s in studies:
        label_count.setdefault(s.label, set()).add(s.run)
    labels = {(s.run, s.label): s.label if len(label_count[s.label]) == 1 else f"{s.run}:{s.label}" for s in studies}
    frame = pd.DataFrame(tidy_rows(studies, labels))
    mean = aggregate(frame)
    s0 = studies[0]
    per_query = panels(studies, mean)
    time_column, time_label = _time_axis(studies)
    time_curves = _time_curves(studies, labels, time_column)
    count = len(per_query) + (1 if time_curves else 0)
    cols = 2 if count > 1 else 1
    rows = (count + 1) // 2
    fig, grid = plt.subplots(rows, cols, figsize=(6 * cols, 4.25 * rows), squeeze=False)
    axes = list(grid.ravel())
    for ax in axes[count:]:
        ax.remove()
    for ax, (column, ylabel) in zip(axes, per_query):
        for label, group in mean.groupby("optimizer", sort=False):
            m, sd = group[f"{column}_mean"].to_numpy(), group[f"{column}_std"].fillna(0).to_numpy()
            q = group["query"].to_numpy()
            ax.step(q, m, where="post", label=seeds_label(str(label), int(group["seeds"].max())))
            low = np.maximum(m - sd, 0.0) if column == "regret" else m - sd  # regret is never negative
            ax.fill_between(q, low, m + sd, alpha=0.15, step="post")
        ax.set_xlabel("queries")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if column == "regret" and (mean["regret_mean"] > 0).any():
            ax.set_yscale("symlog", linthresh=0.01)  # regret 0 (optimum found) stays visible
    if time_curves:
        ax = axes[len(per_query)]
        for label, (grid_h, m, sd) in time_curves.items():
            ax.step(grid_h, m, where="post", label=label)
            ax.fill_between(grid_h, m - sd, m + sd, alpha=0.15, step="post")
        ax.set_xlabel(time_label)
        ax.set_ylabel(f"best-so-far {s0.objective}")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(title or ", ".join(sorted({s.run for s in studies})) + " — mean ± std over seeds")
    fig.tight_layout()
    return fig, frame


def plot(studies: list[StudyRun], out_dir: Path, title: str = "") -> tuple[Path, Path]:
    """Write ``search_curves.csv`` (tidy, per seed), ``search_curves_mean.csv`` and the PNG."""
    import matplotlib.pyplot as plt

    from nasearch.safeio import make_dir, write_bytes, write_text

    fig, frame = figure(studies, title)
    try:
        make_dir(out_dir)
        csv = out_dir / "search_curves.csv"
        write_text(csv, frame.to_csv(index=False))  # whole or not at all (temp file + rename), one line on failure
        write_text(out_dir / "search_curves_mean.csv", aggregate(frame).to_csv(index=False))
        png = out_dir / "search_curves.png"
        write_bytes(png, png_bytes(fig))
    finally:
        plt.close(fig)
    return png, csv


def png_bytes(fig: Any, dpi: int = 110) -> bytes:
    """The figure as PNG bytes, rendered in memory (a full disk then fails the write, not the encoder)."""
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def cli_plot(args: argparse.Namespace) -> int:
    """Entry point of ``nasearch plot RUN_DIR... [--out DIR]``."""
    studies: list[StudyRun] = []
    for run_dir in args.run_dirs:
        studies += load_run(run_dir)
    out_dir = Path(args.out or args.run_dirs[0])
    png, csv = plot(studies, out_dir)
    print(f"wrote {png} and {csv}")
    frame_hits: dict[str, list[int | None]] = {}
    for s in studies:
        if s.optimum is not None or s.optimum_key is not None:  # real evaluations have no known optimum
            frame_hits.setdefault(s.label, []).append(queries_to_optimum(s))
    for label, hits in frame_hits.items():
        found = [h for h in hits if h is not None]
        text = f" (after {np.mean(found):.0f} queries on average)" if found else ""
        print(f"  {label}: optimum found in {len(found)}/{len(hits)} seeds{text}")
    return 0
