"""Make the manual's figures by running the tools (by hand, not in CI; minutes on 2 CPU cores):

    python docs/figures.py              # docs/img/search_curves.png and docs/img/predictor_curves.png

    python docs/figures.py --only search # one of them

The search figure is ``nasearch run`` + ``nasearch plot`` on the NAS-Bench-201 CIFAR-10 table:
random search, regularized evolution and the quickstart's optimizer (NN-Former-ordered local
search, ``runs/quickstart.yaml``'s settings), 5 seeds x 100 queries;
the predictor figure is ``nasearch compare`` on the same table (random protocol, CPU-sized
budgets). Each run's folder stays under runs/out/docs_* for inspection.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMG = ROOT / "docs" / "img"
OUT = ROOT / "runs" / "out"

SEARCH = """\
name: docs_search
seeds: 5
search_space: {name: nasbench201}
evaluator: {name: benchmark, metric: cifar10-valid/valid_accuracy, test_metric: cifar10/test_accuracy}
optimizer:
  - {name: random}
  - {name: evolution}
  - name: predictor_local_search
    surrogate:
      {name: nnformer, dim: 16, layers: 2, epochs: 30, batch_size: 32, lr: 0.001, threads: 1,
       pretrain: {space: nasbench201, proxies: [synflow], steps: 500}}
    k: 2
budget: {queries: 100}
parallel: {backend: serial}
"""

COMPARE = """\
name: docs_predictors
space: nasbench201
space_options: {prune_graph: true}
train_metric: cifar10-valid/valid_accuracy
test_metric: cifar10/test_accuracy
protocol: random
sizes: [50, 100, 200, 400]
seeds: [0, 1]
test_subsample: 3000
threads: 1
predictors:
  random_forest: {}
  mlp: {max_steps: 2000}
  gin: {max_steps: 2000}
  nnformer: {max_steps: 2000}
"""


def search_figure() -> None:
    """``nasearch run`` + its curves -> docs/img/search_curves.png."""
    from nasearch.cli.main import main as nasearch

    config = OUT / "docs_search.yaml"
    config.write_text(SEARCH)
    run_dir = OUT / "docs_search"
    if nasearch(["run", str(config), "--out", str(run_dir), "--no-progress"]) != 0:
        raise SystemExit("the search failed")
    shutil.copy(run_dir / "search_curves.png", IMG / "search_curves.png")


def predictor_figure() -> None:
    """``nasearch compare`` -> docs/img/predictor_curves.png."""
    from nasearch.cli.main import main as nasearch

    config = OUT / "docs_predictors.yaml"
    config.write_text(COMPARE)
    out = OUT / "docs_predictors"
    if nasearch(["compare", str(config), "--out", str(out)]) != 0:
        raise SystemExit("the comparison failed")
    shutil.copy(out / "curves.png", IMG / "predictor_curves.png")


FIGURES = {"search": search_figure, "predictors": predictor_figure}


def main() -> int:
    """Make the figures named by ``--only`` (default: all) into docs/img."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(FIGURES), help="make just this figure")
    args = parser.parse_args()
    IMG.mkdir(parents=True, exist_ok=True)
    OUT.mkdir(parents=True, exist_ok=True)
    for name, make in FIGURES.items():
        if args.only in (None, name):
            make()
            print(f"wrote the {name} figure into {IMG}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
