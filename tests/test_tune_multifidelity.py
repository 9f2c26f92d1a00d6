"""The dev-seed choice of the surrogate scheduler's settings (benchmarks/tune_multifidelity.py): the
lowest median of per-seed ratios to predictor_local_search at full fidelity wins (ties: the lower mean,
then the name); the grid holds the former default, runs on development seeds only, and the chosen
setting is the one the benchmark and the shipped run use."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.bench_multifidelity import METHODS, TASKS
from benchmarks.tune_multifidelity import DEV_SEEDS, GRID, REFERENCE, main, select


def test_the_lowest_median_ratio_to_the_reference_wins() -> None:
    hours = {REFERENCE: [10.0, 4.0, 8.0], "a": [5.0, 2.0, 8.0], "b": [4.0, 3.0, 2.0], "c": [9.0, 1.0, 1.0]}
    # ratios: a 0.5 0.5 1.0 (median 0.5), b 0.4 0.75 0.25 (median 0.4), c 0.9 0.25 0.125 (median 0.25)
    assert select(hours) == "c"
    tie = {REFERENCE: [1.0, 1.0, 1.0], "x": [0.5, 0.5, 0.9], "y": [0.5, 0.5, 0.6]}
    assert select(tie) == "y"  # the same median: the lower mean


def test_the_grid_runs_on_development_seeds_only_and_its_choice_is_shipped() -> None:
    assert GRID["shipped"] == {"name": "surrogate", "eta": 9}  # the former default, beside the changes
    assert not set(DEV_SEEDS) & {s for task in TASKS.values() for s in task.seeds}
    with pytest.raises(SystemExit, match="development seeds only"):
        main(["--seeds", str(TASKS["cifar10"].seeds[0])])
    assert METHODS["surrogate_pls"][1] == {"name": "surrogate", "eta": 9, "target": "gain"}
    from nasearch.config.run_schema import load_run_config

    cfg = load_run_config(str(Path(__file__).resolve().parent.parent / "runs" / "nb201_multifidelity.yaml"))
    assert cfg.optimizers[1].scheduler.options["target"] == "gain"


def test_the_reference_is_predictor_local_search_as_it_ships() -> None:
    """The benchmark's full-fidelity reference and stage 4's are the shipped runs' predictor_local_search
    block (k 2, the NN-Former pre-trained on synflow), one source for all: a change to the shipped YAML
    without the settings (or back) fails here."""
    from benchmarks.search_settings import SHIPPED_PLS
    from benchmarks.tune_multifidelity import GRID4, table
    from nasearch.config.run_schema import load_run_config

    runs = Path(__file__).resolve().parent.parent / "runs"
    assert METHODS[REFERENCE][0] is SHIPPED_PLS and table(4)[REFERENCE] == METHODS[REFERENCE]
    assert SHIPPED_PLS["k"] == 2 and SHIPPED_PLS["surrogate"]["pretrain"]["proxies"] == ["synflow"]
    for name in ("quickstart", "compare_optimizers_nb201", "nb201_multifidelity"):
        block = next(
            b for b in load_run_config(str(runs / f"{name}.yaml")).optimizers if b.name == SHIPPED_PLS["name"]
        )
        assert {k: block.options[k] for k in ("surrogate", "k")} == {
            k: v for k, v in SHIPPED_PLS.items() if k != "name"
        }, name
    assert set(GRID4) == {"plain_proposer", "pretrained_proposer"}
    assert "pretrain" in GRID4["pretrained_proposer"][0]["surrogate"]
    assert "pretrain" not in GRID4["plain_proposer"][0]["surrogate"]


def test_stage_4s_choice_is_the_proposer_the_benchmark_and_the_shipped_run_use() -> None:
    """Stage 4 chose the pre-trained proposer (dev seeds 0-8): both multi-fidelity rows and the shipped
    run's scheduler arm propose with it, k 9."""
    from benchmarks.tune_multifidelity import GRID4
    from nasearch.config.run_schema import load_run_config

    chosen = GRID4["pretrained_proposer"][0]
    assert METHODS["surrogate_pls"][0] == METHODS["asha_pls"][0] == chosen
    cfg = load_run_config(str(Path(__file__).resolve().parent.parent / "runs" / "nb201_multifidelity.yaml"))
    arm = cfg.optimizers[1]
    assert arm.label == "surrogate_scheduler"
    assert {k: arm.options[k] for k in ("surrogate", "k")} == {"surrogate": chosen["surrogate"], "k": 9}
