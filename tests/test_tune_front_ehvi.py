"""benchmarks/tune_front_ehvi: every declared setting is a valid front_ehvi on NB201, and the choice rule."""

from __future__ import annotations

import pytest

from benchmarks.tune_front_ehvi import GRID, GRID2, GRID3, GRID4, GRID5, select
from nasearch.config.registry import OPTIMIZERS

OBJ = [("cifar10-valid/valid_accuracy", True), ("latency/gold_6226", False)]


@pytest.mark.parametrize("name", [*GRID, *GRID2, *GRID3, *GRID4, *GRID5])
def test_every_declared_setting_builds_on_nb201(nb201_space, name: str) -> None:
    options = {**GRID, **GRID2, **GRID3, **GRID4, **GRID5}[name]
    opt = OPTIMIZERS.create("front_ehvi", space=nb201_space, objectives=OBJ, seed=1, **options)
    if "surrogate" in options:  # a named predictor replaces the feature forest
        assert opt.features is None and opt.surrogates[0].spec == options["surrogate"]
    else:
        assert opt.features == tuple(options.get("features", ("graph",)))


def test_select_takes_the_highest_mean_and_the_first_listed_on_a_tie() -> None:
    assert select({"a": [0.8, 0.9], "b": [0.9, 0.9], "c": [0.7, 1.0]}) == "b"
    assert select({"a": [0.5], "b": [0.25, 0.75], "c": [0.5]}) == "a"


def test_the_stage_5_choice_is_front_ehvi_s_default_the_yaml_s_and_the_benchmark_s_shipped_arm() -> None:
    """Stage 5's choice (``spread_k2``, dev seeds 1-4 on the GPU targets) is the class default, the block
    runs/nb201_zero_shot_pareto.yaml ships (no options) and the arm ``front_search`` labels shipped; the
    previously shipped setting (stage 5's ``shipped``, spelt out) is its baseline arm."""
    import inspect

    from benchmarks.bench_latency_models import FRONT_EHVI, FRONT_EHVI_PREVIOUS, REPO
    from nasearch.config.run_schema import load_run_config
    from nasearch.optimizers.front_ehvi import FrontEHVI

    defaults = {
        k: p.default
        for k, p in inspect.signature(FrontEHVI.__init__).parameters.items()
        if k in GRID5["spread_k2"]
    }
    assert defaults == GRID5["spread_k2"]
    assert FRONT_EHVI == {"name": "front_ehvi"}
    assert {k: v for k, v in FRONT_EHVI_PREVIOUS.items() if k != "name"} == {"k": 5, "init": "random"}
    cfg = load_run_config(str(REPO / "runs" / "nb201_zero_shot_pareto.yaml"), [])
    (block,) = [b for b in cfg.optimizers if b.name == "front_ehvi"]
    assert block.options == {}
