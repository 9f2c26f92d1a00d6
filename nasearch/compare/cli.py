"""``nasearch compare``: the command line, and the sample-efficiency plot."""

from __future__ import annotations

import argparse
import copy
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from nasearch.api.errors import ConfigError
from nasearch.compare.defaults import resolve_specs, with_chosen_space_options
from nasearch.compare.fitting import run_compare
from nasearch.compare.from_run import prepare_from_run
from nasearch.compare.job import CompareJob
from nasearch.compare.schema import CompareConfig, load_config, predictor_specs
from nasearch.compare.task import build_task
from nasearch.config.loader import Source, apply_overrides, build_dataclass
from nasearch.config.registry import PREDICTORS
from nasearch.curves import headless

if TYPE_CHECKING:
    from matplotlib.figure import Figure

T = TypeVar("T")


def plot_curves(rows: list[dict[str, Any]], path: Path, title: str = "") -> Path:
    """Write ``curves_figure`` of ``rows`` to ``path``."""
    import matplotlib.pyplot as plt

    fig = curves_figure(rows, title)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


#: the range of each score (the bands are clipped to it)
_RANGES = {"kendall_tau": (-1.0, 1.0), "mape": (0.0, None), "acc10": (0.0, 100.0)}


def curves_figure(rows: list[dict[str, Any]], title: str = "") -> Figure:
    """Metric vs training size (log x), mean ± standard error over seeds, one line per predictor."""
    headless()
    import matplotlib.pyplot as plt
    import pandas as pd

    frame = pd.DataFrame(rows)
    metrics = ["kendall_tau"]
    if "mape" in frame and pd.to_numeric(frame["mape"], errors="coerce").notna().any():
        metrics += ["mape", "acc10"]
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.5 * len(metrics), 4), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        frame[metric] = pd.to_numeric(frame[metric], errors="coerce")
        for label, group in frame.groupby("predictor", sort=False):
            stats = group.groupby("train_size")[metric].agg(["mean", "sem", "count"])
            stats["sem"] = stats["sem"].fillna(0.0)
            x = stats.index.to_numpy(dtype=float)
            seeds = int(stats["count"].max())
            ax.plot(x, stats["mean"], marker="o", label=f"{label} ({seeds} seed{'' if seeds == 1 else 's'})")
            low, high = _RANGES[metric]  # the band stays inside what the score can be
            ax.fill_between(
                x,
                (stats["mean"] - stats["sem"]).clip(low, high),
                (stats["mean"] + stats["sem"]).clip(low, high),
                alpha=0.2,
            )
        ax.set_xscale("log")
        sizes = sorted(int(v) for v in pd.to_numeric(frame["train_size"]).unique())
        ax.set_xticks(sizes, [str(v) for v in sizes])
        ax.minorticks_off()
        ax.set_xlabel("training cells")
        ax.set_ylabel({"kendall_tau": "Kendall tau-b", "mape": "MAPE (%)", "acc10": "Acc(10%) (%)"}[metric])
        ax.grid(True, alpha=0.3)
    axes[0][0].legend(title="mean ± standard error", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def csv_list(text: str | None, cast: Callable[[str], T], what: str) -> list[T] | None:
    """``--what a,b,c`` as a list of ``cast`` values (None when the flag is absent)."""
    if text is None:
        return None
    try:
        return [cast(t.strip()) for t in text.split(",") if t.strip()]
    except ValueError:
        raise ConfigError(f"--{what} {text!r}: expected a comma-separated list") from None


def prepare_compare(
    config: str | Mapping[str, object] | None = None,
    *,
    predictors: Sequence[str] | None = None,
    sizes: Sequence[int] | None = None,
    seeds: Sequence[int] | None = None,
    protocol: str | None = None,
    overrides: Sequence[str] = (),
    out: str | Path | None = None,
) -> CompareJob:
    """A compare YAML (a path, or the same keys as a mapping) with the command line's overrides applied,
    and the space's predictor defaults where it names no option (``nasearch.compare.defaults``)."""
    if config is None:
        raise ConfigError("nasearch compare needs a CONFIG.yaml or --from-run RUN_DIR")
    if isinstance(config, Mapping):
        source = Source("<compare config>")
        data = apply_overrides(copy.deepcopy(dict(config)), list(overrides), source)
        cfg = build_dataclass(CompareConfig, data, source)
    else:
        cfg, source = load_config(str(config), list(overrides))
    if sizes:
        cfg.sizes = list(sizes)
    if seeds:
        cfg.seeds = list(seeds)
    if protocol:
        cfg.protocol = protocol
    specs = predictor_specs(cfg, source)
    if predictors:
        unknown = [n for n in predictors if n not in specs]
        for n in unknown:  # a registry name not in the config: run it with default options
            PREDICTORS.get(n)
            specs[n] = (n, {})
        specs = {n: specs[n] for n in predictors}
    # the space's choice where the config says nothing (nasearch.compare.defaults): rows record it
    cfg, space = with_chosen_space_options(cfg)
    specs = resolve_specs(specs, space, cfg.train_metric)
    out_dir = Path(out) if out else Path("runs") / "out" / cfg.name
    title = f"{cfg.name} ({cfg.protocol} protocol, {cfg.target_metric})"
    return CompareJob(cfg, specs, out_dir, title, build_task(cfg, space))


def execute(job: CompareJob, log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Fit and score every row of ``job`` (results.csv), then draw curves.png."""
    rows = run_compare(job.config, job.specs, job.out_dir, task=job.task, log=log)
    plot_curves(rows, job.out_dir / "curves.png", job.title)
    return rows


def cli_compare(args: argparse.Namespace) -> int:
    """``nasearch compare CONFIG.yaml [--predictors a,b] [--sizes ..] [--seeds ..] [--protocol ..] [--out DIR]``."""
    if getattr(args, "from_run", None):  # the cells of a finished run instead of a table
        return cli_compare_from_run(args)
    job = prepare_compare(
        args.config,
        predictors=csv_list(args.predictors, str, "predictors"),
        sizes=csv_list(args.sizes, int, "sizes"),
        seeds=csv_list(args.seeds, int, "seeds"),
        protocol=args.protocol,
        overrides=list(getattr(args, "overrides", []) or []),
        out=args.out,
    )
    rows = execute(job)
    print(f"wrote {job.out_dir / 'results.csv'} and {job.out_dir / 'curves.png'} ({len(rows)} fits)")
    return 0


def cli_compare_from_run(args: argparse.Namespace) -> int:
    """``nasearch compare --from-run RUN_DIR [--predictors a,b] [--sizes ..] [--seeds ..] [--set k=v]``."""
    if getattr(args, "protocol", None) not in (None, "random"):
        raise ConfigError("--from-run compares on random splits of the run's cells; drop --protocol")
    job = prepare_from_run(
        args.from_run,
        predictors=csv_list(args.predictors, str, "predictors"),
        sizes=csv_list(args.sizes, int, "sizes"),
        seeds=csv_list(args.seeds, int, "seeds"),
        overrides=list(getattr(args, "overrides", []) or []),
        out=args.out,
    )
    rows = execute(job)
    print(f"wrote {job.out_dir / 'results.csv'} and {job.out_dir / 'curves.png'} ({len(rows)} fits)")
    return 0
