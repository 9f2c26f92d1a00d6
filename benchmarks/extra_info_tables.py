"""The tables an extra-information track prints, shared by every space's track (``bench_extra_info_nb201``,
``bench_extra_info_nb101``): the choice on validation cells and the measure on test cells.

One place decides how a track picks its candidate (the highest validation tau to 4 decimals; a tie keeps
the plain default) and how its goal line reads, so the two spaces' sections cannot drift apart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.report import markdown_table

#: the measure table's columns (the size goes into the tau column's name)
MEASURE_COLUMNS = (
    "predictor",
    "extra information",
    "tau @ {size} (mean ± sd)",
    "per fit seed",
    "fit seeds",
    "fit s",
    "test cells",
    "options hash",
)


def _options_cell(options: dict[str, Any], plain: str) -> str:
    return f"`{options}`" if options else plain


def choose(tau: dict[str, float]) -> str:
    """The candidate with the highest validation tau (4 decimals); a tie keeps the plain default ``none``."""
    return max(tau, key=lambda k: (round(tau[k], 4), k == "none"))


def select_table(folder: Path, grid: dict[str, dict[str, Any]], size: int) -> tuple[str, str]:
    """The choice among ``grid`` (label -> options beside the base) from the select run's CSVs in
    ``folder`` (``results.csv``; ``pretrain.csv`` when a candidate pre-trained), and its table."""
    frame = pd.read_csv(folder / "results.csv")
    record = folder / "pretrain.csv"
    pretrain_s = (
        {str(r.label): float(r.seconds) for r in pd.read_csv(record).itertuples()} if record.is_file() else {}
    )
    tau = {label: float(frame.loc[frame.predictor == label, "kendall_tau"].iloc[0]) for label in grid}
    table = markdown_table(
        [
            "candidate",
            "NN-Former options beside the default",
            f"validation tau @ {size}",
            "pre-train s",
            "fit s",
            "options hash",
        ],
        [
            [
                label,
                _options_cell(grid[label], "(none: the plain default)"),
                tau[label],
                f"{pretrain_s[label]:.0f}" if label in pretrain_s else "",
                f"{float(frame.loc[frame.predictor == label, 'fit_seconds'].iloc[0]):.0f}",
                str(frame.loc[frame.predictor == label, "options_hash"].iloc[0]),
            ]
            for label in grid
        ],
    )
    return choose(tau), table


def measure_rows(
    frame: pd.DataFrame, labels: list[str], grid: dict[str, dict[str, Any]]
) -> tuple[list[list[str]], dict[str, np.ndarray]]:
    """One row per fitted label of the measure run (``frame``: its ``results.csv``) and each label's tau
    per fit seed, in seed order."""
    rows, taus = [], {}
    for label in labels:
        g = frame[frame.predictor == label].sort_values("seed")
        taus[label] = g.kendall_tau.to_numpy(dtype=float)
        rows.append(
            [
                "nnformer (plain default)" if label == "none" else f"nnformer + {label} (chosen)",
                _options_cell(grid[label], "none"),
                f"{taus[label].mean():.3f} ± {taus[label].std(ddof=1):.3f}",
                " / ".join(f"{t:.3f}" for t in taus[label]),
                "/".join(map(str, g.seed)),
                f"{g.fit_seconds.mean():.0f}",
                f"{int(g.n_test.iloc[0]):,}",
                str(g.options_hash.iloc[0]),
            ]
        )
    return rows, taus


def goal_line(taus: np.ndarray, goal: float) -> str:
    """Whether the track's mean tau meets ``goal``, and by how much (3 decimals, as the table prints)."""
    mean = float(taus.mean())
    diff = round(round(mean, 3) - goal, 3)
    return f"**{'met' if diff >= 0 else 'missed'}**: {mean:.3f}, {diff:+.3f} from the goal"


def paired_differences(taus: dict[str, np.ndarray], chosen: str) -> str:
    """The choice minus the plain default, by fit seed (the same seeds fit both)."""
    return " / ".join(f"{d:+.3f}" for d in taus[chosen] - taus["none"])


def measure_table(rows: list[list[str]], size: int) -> str:
    """The measure section's table."""
    return markdown_table([c.format(size=size) for c in MEASURE_COLUMNS], rows)
