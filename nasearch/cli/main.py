"""The ``nasearch`` command line: run | compare | plot | spaces | query | data.

Each sub-command's work lives in its own module and is imported only when that command runs, so
``nasearch spaces`` never pays for torch or Ray. Errors of bad input print as one line.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from nasearch.api.errors import NasearchError, one_line
from nasearch.data.safeio import cause

#: sub-command -> "module:function" taking the parsed argparse namespace, returning an exit code
COMMANDS: dict[str, str] = {
    "run": "nasearch.search.loop:cli_run",
    "compare": "nasearch.compare:cli_compare",
    "plot": "nasearch.curves:cli_plot",
    "spaces": "nasearch.cli.commands:cli_spaces",
    "query": "nasearch.cli.commands:cli_query",
    "data": "nasearch.cli.commands:cli_data",
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    parser = argparse.ArgumentParser(prog="nasearch", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run (or resume) a search from a YAML config")
    run.add_argument("config", help="YAML run config, e.g. runs/nb201_cifar10.yaml")
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set budget.queries=50 --set seeds=[0]",
    )
    run.add_argument("--out", help="run folder (default: runs/out/<name>)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument(
        "--allow-config-change",
        action="store_true",
        help="resume even though the search space, evaluator or objectives differ from those the "
        "run folder was evaluated with (refused by default: the study would mix meanings)",
    )
    run.add_argument(
        "--retry-failed",
        action="store_true",
        help="on resume, evaluate every failed cell again (by default only cells that timed out or "
        "lost their worker are)",
    )

    compare = sub.add_parser("compare", help="predictor sample-efficiency curves from a YAML config")
    compare.add_argument("config", nargs="?", help="YAML compare config, e.g. runs/predictors_nb201.yaml")
    compare.add_argument(
        "--from-run",
        metavar="RUN_DIR",
        help="instead of a config: compare on the cells a finished `nasearch run` evaluated "
        "(defaults: random_forest, mlp and nnformer capped at 300 training steps, 3 sizes x 3 "
        "seeds; a few minutes for a 60-cell run on 2 CPU cores). Fits run one torch thread each, "
        "in parallel processes (--set workers=N, --set threads=N); rerunning reads finished rows "
        "back from results.csv",
    )
    compare.add_argument("--predictors", help="comma-separated predictor names (default: the config's)")
    compare.add_argument("--sizes", help="comma-separated training-set sizes, e.g. 156,781")
    compare.add_argument("--seeds", help="comma-separated seeds, e.g. 0,1,2")
    compare.add_argument(
        "--protocol",
        help="split protocol: paper, random, per_device, leave_one_setting_out "
        "(alias leave_one_device_out), leave_one_chip_out, "
        "or a registered / 'package.module:function' one (default: the config's)",
    )
    compare.add_argument("--out", help="output folder (default: runs/out/<name>)")
    compare.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")

    plot = sub.add_parser("plot", help="search curves (best-so-far vs queries) of run folders")
    plot.add_argument("run_dirs", nargs="+", help="run folders written by `nasearch run`")
    plot.add_argument("--out", help="where to write the PNG and CSV (default: the first run folder)")

    spaces = sub.add_parser(
        "spaces", help="list registered search spaces, predictors, optimizers, evaluators"
    )
    spaces.add_argument(
        "--kind", choices=["search_spaces", "predictors", "optimizers", "evaluators", "schedulers"]
    )

    query = sub.add_parser("query", help="print a cell's benchmark record as JSON")
    query.add_argument("space", help="search space name, e.g. nasbench201")
    query.add_argument("arch", help='an arch string, index, module hash or {"matrix":..., "ops":...} JSON')
    query.add_argument(
        "--data-dir", help="data folder that adds or overrides tables (default: $NASEARCH_DATA)"
    )

    data = sub.add_parser(
        "data", help="where each benchmark table comes from; --verify checksums; fetch NAME"
    )
    data.add_argument("action", nargs="?", choices=["fetch"], help="fetch: download an official file")
    data.add_argument("name", nargs="?", help="the official file to fetch, e.g. nasbench101_108")
    data.add_argument(
        "--data-dir", help="data folder that adds or overrides tables (default: $NASEARCH_DATA)"
    )
    data.add_argument(
        "--verify", action="store_true", help="check every table's checksum; exit 1 on a mismatch"
    )
    data.add_argument("--url", help="fetch from this URL (a mirror) instead of the official one")
    data.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nasearch`` console script."""
    args = build_parser().parse_args(argv)
    module_name, _, func_name = COMMANDS[args.command].partition(":")
    try:
        func = getattr(importlib.import_module(module_name), func_name)
        return int(func(args) or 0)
    except NasearchError as exc:
        print(f"nasearch {args.command}: error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file-system failure nasearch did not name itself: still one line
        print(f"nasearch {args.command}: error: {cause(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"nasearch {args.command}: interrupted; completed evaluations are saved", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
