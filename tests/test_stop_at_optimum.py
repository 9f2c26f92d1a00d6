"""``budget.stop_at_optimum`` on the real NB201 table: a search ends once it has evaluated the
optimum (its cell or an isomorph), and every figure the benchmark tables print is what the full budget
gives (the incumbent, chosen on the searched column, cannot change after the optimum)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks.bench_optimizers import search_figures, search_rows
from nasearch.api.errors import ConfigError
from nasearch.cli.main import main
from nasearch.config.blocks import Block
from nasearch.config.run_schema import Budget, load_run_config, to_dict
from nasearch.curves import load_run, trajectory
from nasearch.search.report import AT_OPTIMUM
from nasearch.search.trajectory import KnownOptimum, check_stop_at_optimum, stops_at_optimum

CONFIG = """\
name: stop
seeds: [0, 1, 2, 3]
search_space: {name: nasbench201}
evaluator:
  name: benchmark
  metric: cifar10-valid/valid_accuracy
  test_metric: cifar10/test_accuracy
optimizer:
  - {name: evolution, population_size: 10, sample_size: 3}
  - {name: local_search, num_init: 5}
budget: {queries: 90}
parallel: {backend: serial}
"""

BUDGET = 90


def run_cli(cfg, out, *sets):
    args = ["run", str(cfg), "--out", str(out), "--no-progress"]
    for s in sets:
        args += ["--set", s]
    return main(args)


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """The same run twice: to the budget, and stopped at the optimum."""
    tmp = tmp_path_factory.mktemp("stop")
    cfg = tmp / "stop.yaml"
    cfg.write_text(CONFIG)
    assert run_cli(cfg, tmp / "full") == 0
    assert run_cli(cfg, tmp / "stopped", "budget.stop_at_optimum=true") == 0
    return cfg, tmp / "full", tmp / "stopped"


def by_label(run_dir):
    out: dict[str, list] = {}
    for s in load_run(run_dir):
        out.setdefault(s.label, []).append(s)
    return out


def test_the_tables_are_the_same_with_and_without_the_stop(both):
    _, full, stopped = both
    a, b = by_label(full), by_label(stopped)
    assert list(a) == list(b) == ["evolution", "local_search"]
    checkpoints = [30, 60, 90]
    hits_a, hits_b = {}, {}
    for label in a:
        hits_a[label], tests_a = search_figures(a[label], checkpoints)
        hits_b[label], tests_b = search_figures(b[label], checkpoints)
        assert hits_a[label] == hits_b[label]
        assert tests_a == tests_b
        for sa, sb in zip(a[label], b[label]):
            ta, tb = trajectory(sa), trajectory(sb)
            for key in ("query", "best", "incumbent_test", "regret", "found_optimum"):
                np.testing.assert_array_equal(ta[key], tb[key], err_msg=f"{label} seed {sa.seed} {key}")
    assert search_rows(hits_a, {}, BUDGET, BUDGET, n_boot=500) == search_rows(
        hits_b, {}, BUDGET, BUDGET, n_boot=500
    )
    found = [(label, s) for label in b for s, h in hits_b[label].items() if h is not None]
    assert any(h < BUDGET for label in b for h in hits_b[label].values() if h is not None)
    assert any(h is None for label in b for h in hits_b[label].values())  # an unfound seed ran to the budget
    # the stopped searches end at the optimum and spend nothing after it
    stored = {(s.label, s.seed): len(s.records) for s in load_run(stopped)}
    for label, seed in found:
        assert stored[(label, seed)] == hits_b[label][seed]
    assert sum(stored.values()) < sum(len(s.records) for s in load_run(full))
    summary = json.loads((stopped / "summary.json").read_text())
    for entry in summary:
        expected = AT_OPTIMUM if entry["queries_to_optimum"] is not None else "budget"
        assert entry["stopped"] == expected
        assert entry["queries"] == (entry["queries_to_optimum"] or BUDGET)


def test_a_stopped_run_resumed_evaluates_nothing_more(both, tmp_path):
    cfg, _, stopped = both
    before = {(s.label, s.seed): len(s.records) for s in load_run(stopped)}
    assert run_cli(cfg, stopped, "budget.stop_at_optimum=true") == 0
    assert {(s.label, s.seed): len(s.records) for s in load_run(stopped)} == before


def test_a_bad_value_is_one_line_naming_the_key(tmp_path, capsys):
    cfg = tmp_path / "stop.yaml"
    cfg.write_text(CONFIG.replace("{queries: 90}", "{queries: 90, stop_at_optimum: maybe}"))
    assert run_cli(cfg, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "budget.stop_at_optimum" in err


def test_without_the_option_the_resolved_config_and_its_hash_are_unchanged():
    """The peers run frozen before the option existed still resolves to what was frozen."""
    frozen = json.load(open("runs/frozen/compare_optimizers_nb201_peers.json"))["invocation"]["config"]
    cfg = load_run_config("runs/compare_optimizers_nb201.yaml")
    assert to_dict(cfg)["budget"] == frozen["budget"] == {"queries": 150, "simulated_seconds": None}
    on = load_run_config("runs/compare_optimizers_nb201.yaml", ["budget.stop_at_optimum=true"])
    assert to_dict(on)["budget"] == {"queries": 150, "simulated_seconds": None, "stop_at_optimum": True}


def test_refused_where_there_is_no_single_known_optimum():
    on = Budget(queries=10, stop_at_optimum=True)
    with pytest.raises(ConfigError, match="multi-objective"):
        check_stop_at_optimum(on, ["a", "b"], KnownOptimum(91.0, "k"))
    with pytest.raises(ConfigError, match="knows no optimum"):
        check_stop_at_optimum(on, ["a"], KnownOptimum())
    check_stop_at_optimum(on, ["a"], KnownOptimum(91.0, "k"))
    check_stop_at_optimum(Budget(queries=10), ["a", "b"], KnownOptimum())


def test_a_scheduler_blocks_switch_is_the_same_switch_and_refused_alike():
    """``stop_at_optimum`` in a scheduler block stops that block's search as the budget's does, and is
    refused where the budget's would be (it once was read by the scheduled loop only, unchecked)."""
    off, on = Budget(queries=10), Budget(queries=10, stop_at_optimum=True)
    sched = Block("surrogate", {"stop_at_optimum": True})
    plain = Block("surrogate", {})
    assert stops_at_optimum(off, sched) and stops_at_optimum(on, plain) and stops_at_optimum(on)
    assert not stops_at_optimum(off, plain) and not stops_at_optimum(off)
    with pytest.raises(ConfigError, match="scheduler stop_at_optimum: the evaluator knows no optimum"):
        check_stop_at_optimum(off, ["a"], KnownOptimum(), [plain, sched])
    check_stop_at_optimum(off, ["a"], KnownOptimum(), [plain, None])
