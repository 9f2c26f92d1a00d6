"""``nasearch compare``: the command line, and the sample-efficiency plot."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nasearch.compare.fitting import run_compare
from nasearch.compare.schema import load_config, predictor_specs
from nasearch.errors import ConfigError


def plot_curves(rows: list[dict[str, Any]], path: Path, title: str = "") -> Path:
    """Metric vs training size (log x), mean +- std over seeds, one line per predictor."""
    import matplotlib

    matplotlib.use("Agg")
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
            stats = group.groupby("train_size")[metric].agg(["mean", "std"]).fillna(0.0)
            x = stats.index.to_numpy(dtype=float)
            ax.plot(x, stats["mean"], marker="o", label=str(label))
            ax.fill_between(x, stats["mean"] - stats["std"], stats["mean"] + stats["std"], alpha=0.2)
        ax.set_xscale("log")
        ax.set_xlabel("training cells")
        ax.set_ylabel({"kendall_tau": "Kendall tau-b", "mape": "MAPE (%)", "acc10": "Acc(10%) (%)"}[metric])
        ax.grid(True, alpha=0.3)
    axes[0][0].legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def csv_list(text: str | None, cast: Callable[[str], Any], what: str) -> list[Any] | None:
    """``--what a,b,c`` as a list of ``cast`` values (None when the flag is absent)."""
    if text is None:
        return None
    try:
        return [cast(t.strip()) for t in text.split(",") if t.strip()]
    except ValueError:
        raise ConfigError(f"--{what} {text!r}: expected a comma-separated list") from None


def cli_compare(args: argparse.Namespace) -> int:
    """``nasearch compare CONFIG.yaml [--predictors a,b] [--sizes ..] [--seeds ..] [--protocol ..] [--out DIR]``."""
    if getattr(args, "from_run", None):  # the cells of a finished run instead of a table
        from nasearch.compare.from_run import cli_compare_from_run

        return cli_compare_from_run(args)
    if not args.config:
        raise ConfigError("nasearch compare needs a CONFIG.yaml or --from-run RUN_DIR")
    config, source = load_config(args.config, list(getattr(args, "overrides", []) or []))
    sizes = csv_list(args.sizes, int, "sizes")
    seeds = csv_list(args.seeds, int, "seeds")
    names = csv_list(args.predictors, str, "predictors")
    if sizes:
        config.sizes = sizes
    if seeds:
        config.seeds = seeds
    if args.protocol:
        config.protocol = args.protocol
    specs = predictor_specs(config, source)
    if names:
        unknown = [n for n in names if n not in specs]
        from nasearch.registry import PREDICTORS

        for n in unknown:  # a registry name not in the config: run it with default options
            PREDICTORS.get(n)
            specs[n] = (n, {})
        specs = {n: specs[n] for n in names}
    out_dir = Path(args.out) if args.out else Path("runs") / "out" / config.name
    rows = run_compare(config, specs, out_dir)
    plot_curves(rows, out_dir / "curves.png", f"{config.name} ({config.protocol} protocol, {config.target_metric})")
    print(f"wrote {out_dir / 'results.csv'} and {out_dir / 'curves.png'} ({len(rows)} fits)")
    return 0
