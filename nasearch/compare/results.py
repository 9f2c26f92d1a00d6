"""What ``nasearch.compare`` returns: the rows of a comparison, its curves and its plot."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasearch.compare.cli import curves_figure

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure


class CompareResults:
    """What ``nasearch.compare`` returns: one row per fit (``results``, as in results.csv), the
    curves (``curves``: per predictor and training size, the mean, standard error and seed count
    of each score) and ``plot()``."""

    def __init__(self, rows: list[dict[str, Any]], out_dir: str | Path, title: str = "") -> None:
        self.rows = rows
        self.out_dir = Path(out_dir)
        self.title = title

    @property
    def results(self) -> pd.DataFrame:
        """One row per fit: predictor, train_size, seed, the scores, timings and provenance."""
        import pandas as pd

        return pd.DataFrame(self.rows)

    @property
    def curves(self) -> pd.DataFrame:
        """Per (predictor, train_size): mean, standard error and count over seeds of each score."""
        import pandas as pd

        frame = self.results
        scores = [c for c in ("kendall_tau", "spearman", "kendall_tau_unseen", "mape", "acc10") if c in frame]
        for c in scores:
            frame[c] = pd.to_numeric(frame[c], errors="coerce")
        scores = [c for c in scores if frame[c].notna().any()]
        out = frame.groupby(["predictor", "train_size"], sort=False)[scores].agg(["mean", "sem", "count"])
        out.columns = [f"{a}_{b}" for a, b in out.columns]
        return out.reset_index()

    def plot(self) -> Figure:
        """The sample-efficiency figure (the one written as curves.png)."""
        import matplotlib.pyplot as plt

        fig: Figure = curves_figure(self.rows, self.title)
        plt.close(fig)
        return fig

    def __repr__(self) -> str:
        return f"CompareResults({len(self.rows)} fits in {str(self.out_dir)!r})"


__all__ = ["CompareResults"]
