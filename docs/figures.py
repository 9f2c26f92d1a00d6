"""Make the manual's figures by running the tools (by hand, not in CI; minutes on 2 CPU cores):

    python docs/figures.py              # docs/img/search_curves.png and docs/img/predictor_curves.png

The search figure is ``nasearch run`` + ``nasearch plot`` on the NAS-Bench-201 CIFAR-10 table
(random search, regularized evolution and NN-Former-guided evolution, 5 seeds x 100 queries);
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
  - name: predictor_evolution
    surrogate: {name: nnformer, dim: 16, layers: 2, epochs: 30, batch_size: 32, lr: 0.001, threads: 1}
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


def main() -> int:
    """Run both tools and copy their PNGs into docs/img."""
    from nasearch.cli import main as nasearch

    IMG.mkdir(parents=True, exist_ok=True)
    OUT.mkdir(parents=True, exist_ok=True)
    search_cfg = OUT / "docs_search.yaml"
    search_cfg.write_text(SEARCH)
    run_dir = OUT / "docs_search"
    if nasearch(["run", str(search_cfg), "--out", str(run_dir), "--no-progress"]) != 0:
        return 1
    shutil.copy(run_dir / "search_curves.png", IMG / "search_curves.png")
    compare_cfg = OUT / "docs_predictors.yaml"
    compare_cfg.write_text(COMPARE)
    cmp_dir = OUT / "docs_predictors"
    if nasearch(["compare", str(compare_cfg), "--out", str(cmp_dir)]) != 0:
        return 1
    shutil.copy(cmp_dir / "curves.png", IMG / "predictor_curves.png")
    print(f"wrote {IMG / 'search_curves.png'} and {IMG / 'predictor_curves.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
