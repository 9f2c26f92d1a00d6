"""Curves of a scheduled run: the full-fidelity incumbent against (simulated or real) wall time and
against the epochs trained, the two axes on which a multi-fidelity search saves (``search_curves``
counts queries and summed costs, which mix fidelities).

``fidelity_curves.csv`` (one row per evaluation of every scheduled study, in the order its results
came back: the clock, the epochs trained so far, the step's fidelity and value, the incumbent and its
regret where the benchmark optimum is known) and ``fidelity_curves.png`` are written into the run folder
by ``nasearch run``. The incumbent is the best value of a cell trained at the full fidelity; before the
first one there is none (no point drawn).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from nasearch.api.errors import ConfigError
from nasearch.curves import colours, headless, png_bytes
from nasearch.data.safeio import make_dir, write_bytes, write_text
from nasearch.schedulers.store import FIDELITIES_ATTR, SUMMARY_ATTR
from nasearch.search import run_record
from nasearch.search.tracking import load_study

STEM = "fidelity_curves"
COLUMNS = (
    "optimizer",
    "seed",
    "clock",
    "wall_seconds",
    "epochs_trained",
    "full_trainings",
    "fidelity",
    "value",
    "incumbent",
    "regret",
)


def rows(run_dir: str | Path) -> list[dict[str, Any]]:
    """One row per stored evaluation of each scheduled study of ``run_dir``, in the order results came
    back (see the module docstring); empty when the run has no scheduled study."""
    record = run_record.read(Path(run_dir))
    objective = record.objectives[0]
    sign = 1.0 if objective.maximize else -1.0
    optimum = record.optimum.value
    out: list[dict[str, Any]] = []
    for entry in record.studies:
        try:
            study = load_study(record.storage, entry.study)
        except Exception:  # noqa: BLE001 - a study never created (the run stopped before it): no curve
            continue
        summary = study.user_attrs.get(SUMMARY_ATTR)
        if not summary or not summary.get("fidelities"):
            continue
        top = float(summary["fidelities"][-1])
        clock = str(summary.get("clock", "simulated"))
        steps = [
            (float(e.get("end", 0.0)), float(e.get("order", math.inf)), float(f), e)
            for t in study.get_trials(deepcopy=False)
            for f, e in (t.user_attrs.get(FIDELITIES_ATTR) or {}).items()
        ]
        steps.sort(key=lambda s: (s[0], s[1]))
        epochs = 0.0
        best: float | None = None
        for end, _, fidelity, event in steps:
            epochs += float(event.get("epochs_trained", fidelity))
            value = event.get("value")
            if fidelity == top and value is not None and math.isfinite(value):
                best = value if best is None else (max(best, value) if sign > 0 else min(best, value))
            regret = sign * (optimum - best) if optimum is not None and best is not None else None
            out.append(
                {
                    "optimizer": entry.label,
                    "seed": entry.seed,
                    "clock": clock,
                    "wall_seconds": end,
                    "epochs_trained": epochs,
                    "full_trainings": epochs / top,
                    "fidelity": fidelity,
                    "value": value,
                    "incumbent": best,
                    "regret": regret,
                }
            )
    return out


def _csv(table: list[dict[str, Any]]) -> str:
    def cell(v: object) -> str:
        return "" if v is None else f"{v:.12g}" if isinstance(v, float) else str(v)

    lines = [",".join(COLUMNS)] + [",".join(cell(r[c]) for c in COLUMNS) for r in table]
    return "\n".join(lines) + "\n"


def plot(run_dir: str | Path, out_dir: str | Path | None = None) -> tuple[Path, Path] | None:
    """Write ``fidelity_curves.csv`` and ``.png`` (into ``out_dir``, default the run folder); None when
    the run has no scheduled study with a full-fidelity result."""
    table = rows(run_dir)
    drawn = [r for r in table if r["incumbent"] is not None]
    if not drawn:
        return None
    headless()
    import matplotlib.pyplot as plt

    record = run_record.read(Path(run_dir))
    objective = record.objectives[0].metric
    lead = "regret" if any(r["regret"] is not None for r in drawn) else "incumbent"
    real = all(r["clock"] == "real" for r in drawn)
    scale, unit = (60.0, "minutes") if real else (3600.0, "hours")
    labels = list(dict.fromkeys(r["optimizer"] for r in drawn))
    palette = colours(labels)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.25), squeeze=False)
    time_ax, epochs_ax = axes[0]
    for label in labels:
        for i, seed in enumerate(dict.fromkeys(r["seed"] for r in drawn if r["optimizer"] == label)):
            line = [r for r in drawn if r["optimizer"] == label and r["seed"] == seed]
            ys = [r[lead] for r in line]
            name = label if i == 0 else None
            time_ax.step(
                [r["wall_seconds"] / scale for r in line], ys, where="post", color=palette[label], label=name
            )
            epochs_ax.step(
                [r["full_trainings"] for r in line], ys, where="post", color=palette[label], label=name
            )
    time_ax.set_xlabel(f"{'real' if real else 'simulated'} wall time ({unit})")
    epochs_ax.set_xlabel("epochs trained, in full trainings")
    for ax in (time_ax, epochs_ax):
        ax.set_ylabel("regret of the incumbent" if lead == "regret" else "incumbent")
        ax.grid(alpha=0.3)
        if lead == "regret":  # regret spans decades; 0 (the optimum trained) stays on the axis
            positive = [r["regret"] for r in drawn if r["regret"] > 0]
            if positive:
                ax.set_yscale("symlog", linthresh=min(0.01, min(positive)))
                ax.set_ylim(bottom=0.0)
    time_ax.legend(fontsize=8, title="one line per seed", title_fontsize=8)
    fig.suptitle(f"{record.name}: {objective} of the best cell trained at full fidelity")
    fig.tight_layout()
    folder = Path(out_dir or run_dir)
    make_dir(folder)
    csv = folder / f"{STEM}.csv"
    png = folder / f"{STEM}.png"
    try:
        write_text(csv, _csv(table))
        write_bytes(png, png_bytes(fig))
    finally:
        plt.close(fig)
    return png, csv


def plot_or_say(run_dir: str | Path) -> str:
    """``nasearch run``'s line about the fidelity curves (never an error: the search is done)."""
    try:
        written = plot(run_dir)
    except ConfigError as exc:
        return f"no fidelity curves: {exc}"
    return (
        f"fidelity curves: {written[0]}"
        if written
        else "no fidelity curves: no cell reached the full fidelity"
    )
