"""A run folder read back for Python: every evaluation as a DataFrame, the incumbents, the Optuna studies, the plot.

What ``nasearch.run`` returns and ``nasearch.load`` reads. A thin layer over what the CLI reads
(``nasearch.curves.load_run``, ``nasearch.search.tracking``, ``nasearch.search.trajectory``): the run folder is the
truth, so a result loaded tomorrow says what one returned today.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

from nasearch.api.errors import ConfigError
from nasearch.api.objective import Objective
from nasearch.curves import figure, load_run, optimum_target, write_outputs
from nasearch.search import run_record
from nasearch.search.run_record import RunRecord
from nasearch.search.tracking import load_study
from nasearch.search.trajectory import Incumbent, replay

if TYPE_CHECKING:
    import optuna
    import pandas as pd
    from matplotlib.figure import Figure

    from nasearch.curves import StudyRun
    from nasearch.search.report import SeedReport


class RunResults:
    """The evaluations of one run folder (``nasearch.run`` / ``nasearch.load``).

    ``trials``: one row per evaluation; ``incumbents``: the best cell of each (optimizer, seed) and
    when the optimum was found; ``queries_to_optimum``; ``study(optimizer, seed)``: the Optuna
    study itself; ``plot()``: the search curves. ``reports`` holds the session's ``SeedReport``s
    when the run was made in this process (None when loaded).
    """

    def __init__(self, run_dir: str | Path, reports: list[SeedReport] | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.record: RunRecord = run_record.read(self.run_dir)
        self.reports = reports
        self._studies: list[StudyRun] | None = None

    # --- what the folder holds -----------------------------------------------------------------
    @property
    def name(self) -> str:
        """The run's name (its config's ``name``)."""
        return self.record.name

    @property
    def objectives(self) -> list[Objective]:
        """``(metric, maximize)`` of each objective; the first picks the incumbent."""
        return list(self.record.objectives)

    @property
    def storage(self) -> str:
        """The Optuna storage URL (``optuna-dashboard <storage>`` shows it)."""
        return self.record.storage

    @property
    def runs(self) -> list[StudyRun]:
        """Every study of the folder with its records, as the curves read them (read once)."""
        if self._studies is None:
            self._studies = load_run(self.run_dir)
        return self._studies

    def refresh(self) -> RunResults:
        """Read the studies again (after a resume in another process)."""
        self._studies = None
        return self

    # --- frames ----------------------------------------------------------------------------------
    @property
    def trials(self) -> pd.DataFrame:
        """One row per evaluation, in the order each study recorded them: ``optimizer`` (label),
        ``seed``, ``query`` (1-based within its study), ``trial`` (the Optuna trial number), ``arch``
        (the cell string), ``key``, ``state`` (COMPLETE or FAIL), one column per recorded metric,
        ``fidelity`` (the trial's ``fidelity`` attribute, else the evaluator's configured one, else
        NaN), ``cost_seconds``, ``simulated_seconds``, ``error``, ``failure``."""
        import pandas as pd

        default_fidelity = self._config_fidelity()
        metrics = sorted({m for s in self.runs for r in s.records for m in r.metrics})
        rows = []
        for s in self.runs:
            for query, rec in enumerate(s.records, start=1):
                fidelity = rec.attrs.get("fidelity", default_fidelity)
                row: dict[str, object] = {
                    "optimizer": s.label,
                    "seed": s.seed,
                    "query": query,
                    "trial": rec.number,
                    "arch": rec.arch,
                    "key": rec.key,
                    "state": rec.state,
                    **{m: rec.metrics.get(m, math.nan) for m in metrics},
                    "fidelity": math.nan if fidelity is None else float(fidelity),
                    "cost_seconds": rec.cost_seconds,
                    "simulated_seconds": rec.simulated_seconds,
                    "error": rec.error,
                    "failure": rec.attrs.get("failure"),
                }
                rows.append(row)
        columns = [
            "optimizer",
            "seed",
            "query",
            "trial",
            "arch",
            "key",
            "state",
            *metrics,
            "fidelity",
            "cost_seconds",
            "simulated_seconds",
            "error",
            "failure",
        ]
        return pd.DataFrame(rows, columns=columns)

    @property
    def incumbents(self) -> pd.DataFrame:
        """One row per (optimizer, seed): its best cell on the first objective after all queries
        (``arch``, ``value``, ``test_value``), ``queries``, ``failures`` and ``queries_to_optimum``
        (the query at which the benchmark's optimum cell was first evaluated; missing: not found or
        not known), the same definition as the printed summary and ``nasearch plot``."""
        import pandas as pd

        rows = []
        for s in self.runs:
            inc = Incumbent([(s.objective, s.maximize)], optimum_target(s), s.test_metric)
            for _ in replay(s.records, inc):
                pass
            rows.append(
                {
                    "optimizer": s.label,
                    "seed": s.seed,
                    "arch": inc.best.arch if inc.best else None,
                    "value": inc.best_value,
                    "test_value": math.nan if inc.best_test is None else inc.best_test,
                    "queries": inc.count,
                    "failures": inc.failures,
                    "queries_to_optimum": inc.found_at,
                    "optimum_known": inc.target.known,
                }
            )
        frame = pd.DataFrame(rows)
        if not frame.empty:
            frame["queries_to_optimum"] = frame["queries_to_optimum"].astype("Int64")
        return frame

    @property
    def queries_to_optimum(self) -> pd.Series:
        """Queries until the optimum's cell was first evaluated, by (optimizer, seed); <NA>: not found."""
        return self.incumbents.set_index(["optimizer", "seed"])["queries_to_optimum"]

    @property
    def summary(self) -> list[dict[str, object]]:
        """The run's summary.json (one entry per optimizer and seed, with the session timings)."""
        path = self.run_dir / "summary.json"
        try:
            data = json.loads(path.read_text())
        except OSError:
            return []
        except ValueError as exc:
            raise ConfigError(f"{path}: damaged summary.json ({exc})") from None
        return list(data)

    # --- Optuna and plots ------------------------------------------------------------------------
    def study(self, optimizer: str | None = None, seed: int | None = None) -> optuna.Study:
        """The Optuna study of one (optimizer label, seed); either may be left out when the run has one."""
        entries = self.record.studies
        match = [
            e
            for e in entries
            if (optimizer is None or e.label == optimizer) and (seed is None or e.seed == seed)
        ]
        if len(match) != 1:
            have = ", ".join(f"({e.label}, seed {e.seed})" for e in entries)
            what = "no study" if not match else f"{len(match)} studies"
            raise ConfigError(
                f"{what} of run {self.name!r} match optimizer={optimizer!r}, seed={seed!r}; it has: {have}"
            )
        study: optuna.Study = load_study(self.storage, match[0].study)
        return study

    @property
    def studies(self) -> dict[tuple[str, int], optuna.Study]:
        """Every Optuna study of the run, by (optimizer label, seed)."""
        return {(e.label, e.seed): load_study(self.storage, e.study) for e in self.record.studies}

    def plot(self, *others: str | Path | RunResults, out: str | Path | None = None) -> Figure:
        """The search curves of this run (and of ``others`` overlaid, each identified by its folder);
        with ``out``, also write the PNG and CSVs there, as ``nasearch plot`` does."""
        return plot(self, *others, out=out)

    def _config_fidelity(self) -> float | None:
        """The evaluator's one fidelity where its config names it (``fidelity``, else ``epochs``)."""
        import yaml

        try:
            data = yaml.safe_load((self.run_dir / "config.yaml").read_text()) or {}
        except (OSError, yaml.YAMLError):
            return None
        block = data.get("evaluator") or {}
        block = {**block, **(block.get("options") or {})} if isinstance(block, dict) else {}
        for key in ("fidelity", "epochs"):
            value = block.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
        return None

    def __repr__(self) -> str:
        labels = list(dict.fromkeys(e.label for e in self.record.studies))
        seeds = sorted({e.seed for e in self.record.studies})
        return f"RunResults({str(self.run_dir)!r}: {', '.join(labels)} x seeds {seeds})"


def plot(*runs: str | os.PathLike[str] | RunResults, out: str | os.PathLike[str] | None = None) -> Figure:
    """The search curves of one or more run folders (``nasearch plot RUN_DIR...``), each run
    identified by its folder; with ``out``, the PNG and CSVs are written there too."""
    import matplotlib.pyplot as plt

    if not runs:
        raise ConfigError("plot needs at least one run folder")
    studies = []
    for item in runs:
        studies += item.runs if isinstance(item, RunResults) else load_run(Path(item))
    fig: Figure
    fig, frame = figure(studies)
    if out is not None:
        write_outputs(fig, frame, Path(out))
    plt.close(fig)  # returned, not also drawn by pyplot at the end of a notebook cell
    return fig


__all__ = ["RunResults", "plot"]
