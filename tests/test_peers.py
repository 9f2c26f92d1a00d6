"""The peer libraries' searchers (benchmarks/peers.py, the optional ``peers`` extra) run inside the
benchmark's loop on the real NB201 table: every query a fresh cell, repeats answered from memory,
seeded, and appended to a run by ``--peers``."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasearch.api import Result

ROOT = Path(__file__).resolve().parent.parent


def _drive(optimizer, benchmark, queries: int) -> list[str]:
    """Ask/tell ``queries`` cells against the real table; the keys in the order evaluated."""
    keys = []
    for _ in range(queries):
        (arch,) = optimizer.ask(1)
        row = benchmark.query(arch, ["cifar10-valid/valid_accuracy"])
        optimizer.tell(arch, Result({"acc": row["cifar10-valid/valid_accuracy"]}))
        keys.append(optimizer.space.key(arch))
    return keys


@pytest.mark.parametrize("searcher", ["rea", "tpe", "bore"])
def test_syne_tune_searchers_propose_fresh_cells_and_are_seeded(searcher, nb201_space, nb201_benchmark):
    pytest.importorskip("syne_tune")
    from benchmarks.peers import SyneTune

    first = _drive(SyneTune(nb201_space, "acc", seed=3, searcher=searcher), nb201_benchmark, 12)
    assert len(set(first)) == 12  # a repeat is never a query
    again = _drive(SyneTune(nb201_space, "acc", seed=3, searcher=searcher), nb201_benchmark, 12)
    assert again == first


def test_a_repeated_proposal_is_answered_from_memory(nb201_space, nb201_benchmark):
    pytest.importorskip("syne_tune")
    from benchmarks.peers import SyneTune

    opt = SyneTune(nb201_space, "acc", seed=0, searcher="rea")
    keys = _drive(opt, nb201_benchmark, 8)
    first_arch, (first_score,) = opt.history[0]
    told: list[tuple[str, float]] = []
    real_ask, real_tell = opt._peer_ask, opt._peer_tell
    proposals = iter(
        [(nb201_space.to_categorical(first_arch), opt._trial(nb201_space.to_categorical(first_arch)))]
    )

    def tell(handle, params, score):
        told.append((nb201_space.key(nb201_space.from_categorical(params)), score))
        real_tell(handle, params, score)

    opt._peer_ask = lambda: next(proposals, None) or real_ask()
    opt._peer_tell = tell
    (arch,) = opt.ask(1)
    assert nb201_space.key(arch) not in keys  # the repeat was not evaluated again ...
    assert told == [(keys[0], first_score)]  # ... but answered with what the table gave


def test_botorch_gets_the_searcher_settings_peers_gives_it_and_the_legend_names_them(
    nb201_space, nb201_benchmark
):
    pytest.importorskip("botorch")
    from benchmarks.peers import PEERS, SyneTune, peer_legend

    block = next(p for p in PEERS if p["label"] == "syne_tune_botorch")
    opt = SyneTune(nb201_space, "acc", seed=2, searcher="botorch", searcher_kwargs=block["searcher_kwargs"])
    assert opt.scheduler.searcher.optimization_strategy == "random"
    assert SyneTune(nb201_space, "acc", searcher="botorch").scheduler.searcher.optimization_strategy == (
        "gradient"  # the library's default where none is given
    )
    keys = _drive(opt, nb201_benchmark, 6)  # past its 3 random initial cells: the GP proposes
    assert len(set(keys)) == 6
    assert "`optimization_strategy='random'`" in peer_legend(["syne_tune_botorch"])
    assert "optimization_strategy" not in peer_legend(["syne_tune_bore", "syne_tune_rea"])


def test_smac_runs_its_facade_in_the_loop(nb201_space, nb201_benchmark):
    pytest.importorskip("smac")
    from benchmarks.peers import Smac

    keys = _drive(Smac(nb201_space, "acc", seed=1, n_trials=20), nb201_benchmark, 10)
    assert len(set(keys)) == 10
    assert keys == _drive(Smac(nb201_space, "acc", seed=1, n_trials=20), nb201_benchmark, 10)


def test_unknown_searcher_is_one_clear_error(nb201_space):
    pytest.importorskip("syne_tune")
    from benchmarks.peers import SyneTune
    from nasearch.api.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown searcher 'gp'.*bore, rea, tpe, botorch"):
        SyneTune(nb201_space, "acc", searcher="gp")


def test_peers_join_the_config_s_own_optimizers():
    from benchmarks.bench_optimizers import _with_peers
    from benchmarks.peers import PEERS
    from nasearch.config.run_schema import load_run_config

    cfg = load_run_config(str(ROOT / "runs" / "compare_optimizers_nb201.yaml"))
    every = _with_peers(cfg, "all")
    assert [b.label for b in every.optimizers] == [
        *(b.label for b in cfg.optimizers),
        *(p["label"] for p in PEERS),
    ]
    some = _with_peers(cfg, "bore,smac_hpo")
    assert [b.label for b in some.optimizers][-2:] == ["syne_tune_bore", "smac_hpo"]
    with pytest.raises(SystemExit, match="no peer 'hebo'"):
        _with_peers(cfg, "hebo")
