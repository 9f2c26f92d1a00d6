"""The surrogate and predictor_local_search settings the shipped search configs use (``runs/*.yaml``), for
benchmarks that build their configs in code: one place, so two scripts cannot drift apart (a test checks
the shipped YAML blocks against it)."""

from typing import Any

SEARCH_SURROGATE: dict[str, Any] = {
    "name": "nnformer",
    "dim": 16,
    "layers": 2,
    "epochs": 30,
    "batch_size": 32,
    "lr": 0.001,
    "threads": 1,
}
#: predictor_local_search's shipped surrogate (runs/quickstart.yaml, runs/compare_optimizers_nb201.yaml): the
#: NN-Former above pre-trained once (cached) on every cell's synflow proxy, no labels, fine-tuned on the told
#: cells each round (BENCHMARKS.md: pls_selection_2)
PRETRAINED_SURROGATE: dict[str, Any] = {
    **SEARCH_SURROGATE,
    "pretrain": {"space": "nasbench201", "proxies": ["synflow"], "steps": 500},
}
#: predictor_local_search as it ships: the pre-trained surrogate, 2 cells per surrogate round (BENCHMARKS.md:
#: pls_selection chose k 2 over the optimizer's default 3)
SHIPPED_PLS: dict[str, Any] = {"name": "predictor_local_search", "surrogate": PRETRAINED_SURROGATE, "k": 2}
