"""The dev-seed selection of predictor_local_search's settings (benchmarks/tune_pls.py): scored on the
seeds every setting finished, the lowest restricted mean wins, ties to the setting listed first."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from benchmarks.tune_pls import DEV_SEEDS, GRID, select


def _file(path: Path, parts: dict[str, dict[int, int | None]]) -> str:
    path.write_text(
        json.dumps({n: {"hits": h, "seconds": 10.0 * len(h), "commit": "abc"} for n, h in parts.items()})
    )
    return str(path)


def test_settings_are_scored_on_the_seeds_every_setting_finished(tmp_path: Path) -> None:
    grid = {"a": {}, "b": {"k": 2}, "c": {"k": 5}}
    even = _file(tmp_path / "even.json", {"a": {0: 10, 2: 30}, "b": {0: 20, 2: 20}, "c": {0: 5}})
    odd = _file(tmp_path / "odd.json", {"a": {1: None}, "b": {1: 60}, "c": {1: 5, 3: 5}})
    seeds, results, winner, commits = select([even, odd], grid, cap=100)
    assert seeds == [0, 1]  # seed 2 lacks c, seed 3 lacks a and b: a cut run compares like with like
    assert results["a"]["restricted_mean"] == pytest.approx((10 + 100) / 2)  # unfound: the cap
    assert results["a"]["found"] == 1 and results["a"]["median"] is None  # the median lies beyond the cap
    assert results["b"]["restricted_mean"] == pytest.approx(40.0)
    assert winner == "c" and commits == ["abc"]
    tie = _file(tmp_path / "tie.json", {"a": {0: 5, 1: 5}, "b": {0: 5, 1: 5}, "c": {0: 9, 1: 9}})
    assert select([tie], grid, cap=100)[2] == "a"  # a tie goes to the setting listed first
    with pytest.raises(SystemExit, match="fewer than 2 seeds"):
        select([_file(tmp_path / "one.json", {"a": {0: 1}, "b": {0: 1}, "c": {0: 1}})], grid, cap=100)


def test_the_grid_holds_the_shipped_setting_and_tunes_on_development_seeds_only() -> None:
    assert GRID["shipped"] == {}
    assert set(DEV_SEEDS) <= set(range(40))  # the block development used, never a reported one (100+)


def test_a_later_round_merges_surrogate_options_into_the_shipped_block() -> None:
    """A setting's ``surrogate`` options merge into the config's NN-Former (dim, epochs, … stay) and reach
    the predictor the optimizer builds (it is built from the block's resolved surrogate)."""
    from benchmarks.tune_pls import CONFIG, GRID_2, GRIDS, block_for
    from nasearch.config.run_schema import load_run_config
    from nasearch.search.parts import build_evaluator, build_optimizer, build_space, evaluator_objectives

    cfg = load_run_config(CONFIG)
    before = copy.deepcopy([b.options for b in cfg.optimizers])
    plain = block_for(cfg, {"surrogate": {"pretrain": None}})
    pretrained = block_for(cfg, GRID_2["pretrain"])
    assert plain.options["surrogate"] == {**pretrained.options["surrogate"], "pretrain": None}
    assert pretrained.options["surrogate"]["pretrain"] == {
        "space": "nasbench201",
        "proxies": ["synflow"],
        "steps": 500,
    }
    assert [b.options for b in cfg.optimizers] == before  # the merge copied, it did not alias
    space = build_space(cfg)
    objectives = evaluator_objectives(build_evaluator(cfg.evaluator, space))

    def predictor(block):  # the NN-Former the optimizer would fit
        return build_optimizer(block, space, objectives, 0).surrogates[0].factory(0)

    assert predictor(plain).pretrain is None
    assert predictor(pretrained).pretrain is not None and predictor(pretrained).pretrain.steps == 500
    assert block_for(cfg, GRID_2["k1"]).options["k"] == 1 and plain.options["k"] == 2
    assert GRIDS["pls_selection"] is GRID and GRID_2["shipped"] == {}
