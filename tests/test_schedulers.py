"""Schedulers, by hand: promotion order, barriers, stops, brackets, config errors; the benchmark
evaluator's fidelities and cost model on the real NB201 tables."""

from __future__ import annotations

import pytest

from nasearch.api.errors import ConfigError
from nasearch.api.fidelity import Job, MultiFidelity
from nasearch.schedulers.asha import ASHA
from nasearch.schedulers.full import FullFidelity
from nasearch.schedulers.halving import Hyperband, SuccessiveHalving, TopK

METRIC = "cifar10-valid/valid_accuracy"


class Proposals:
    """Cells c0, c1, ... in order (the arch is the key)."""

    def __init__(self, limit: int = 1000) -> None:
        self.n = 0
        self.limit = limit

    def __call__(self) -> tuple[str, str] | None:
        if self.n >= self.limit:
            return None
        key = f"c{self.n}"
        self.n += 1
        return key, key


def jobs(scheduler, propose, n):
    out = []
    for _ in range(n):
        job = scheduler.next_job(propose)
        if job is None:
            break
        out.append(job)
    return out


def test_full_fidelity_runs_every_cell_once_at_the_top():
    s = FullFidelity()
    s.bind([12, 200], True)
    got = jobs(s, Proposals(), 3)
    assert [(j.key, j.fidelity, j.rung) for j in got] == [
        ("c0", 200.0, 1),
        ("c1", 200.0, 1),
        ("c2", 200.0, 1),
    ]


def test_asha_promotes_the_top_third_as_soon_as_it_exists():
    s = ASHA(eta=3)
    s.bind([12, 200], True)
    p = Proposals()
    first = jobs(s, p, 3)
    assert [j.fidelity for j in first] == [12.0] * 3
    for job, value in zip(first, (50.0, 70.0, 60.0)):
        s.report(job, value)
    promo = s.next_job(p)
    assert (promo.key, promo.fidelity, promo.rung) == ("c1", 200.0, 1)  # the best of three
    nxt = s.next_job(p)  # quota of 3 // 3 = 1 is used: a new cell
    assert (nxt.key, nxt.fidelity) == ("c3", 12.0)
    # three more results: quota 2, the second best overall (c2, 60) is promoted next
    for job, value in zip([nxt, *jobs(s, p, 2)], (10.0, 20.0, 30.0)):
        s.report(job, value)
    assert (s.next_job(p).key, s.stopped()) == ("c2", [])


def test_asha_minimising_promotes_the_lowest_and_stops_failures():
    s = ASHA(eta=2)
    s.bind([1, 3, 9], False)
    p = Proposals()
    a, b = jobs(s, p, 2)
    s.report(a, 5.0)
    s.report(b, None)  # failed: stopped at once, never promoted
    assert s.stopped() == ["c1"]
    job = s.next_job(p)
    assert (job.key, job.fidelity) == ("c0", 3.0)


def test_successive_halving_waits_at_the_barrier_then_keeps_the_best():
    s = SuccessiveHalving(eta=2, n_initial=4)
    s.bind([1, 2, 4], True)
    p = Proposals()
    base = jobs(s, p, 4)
    assert [(j.key, j.rung) for j in base] == [(f"c{i}", 0) for i in range(4)]
    for job, value in zip(base[:3], (1.0, 4.0, 3.0)):
        s.report(job, value)
    # rung 0 is not finished: no promotion; a free worker starts the next bracket instead
    assert (s.next_job(p).key, s.brackets[-1] is not s.brackets[0]) == ("c4", True)
    s.report(base[3], 2.0)
    promos = [s.next_job(p) for _ in range(2)]
    assert [(j.key, j.rung) for j in promos] == [("c1", 1), ("c2", 1)]
    assert sorted(s.stopped()) == ["c0", "c3"]  # the bottom half of the finished rung
    s.report(promos[0], 5.0)
    s.report(promos[1], 6.0)
    top = s.next_job(p)
    assert (top.key, top.fidelity) == ("c2", 4.0)
    assert s.stopped() == ["c1"]


def test_hyperband_cycles_its_brackets():
    s = Hyperband(eta=3)
    s.bind([12, 200], True)
    p = Proposals()
    first = jobs(s, p, 4)
    # bracket s=1: 3 cells at 12 epochs (1 kept); then bracket s=0: 2 cells straight at 200
    assert [(j.key, j.fidelity) for j in first] == [("c0", 12.0), ("c1", 12.0), ("c2", 12.0), ("c3", 200.0)]
    assert [b.sizes for b in s.brackets] == [[3, 1], [2]]


def test_top_k_trains_the_best_k_of_many_fully():
    s = TopK(n_low=5, k=2)
    s.bind([4, 12, 200], True)  # only the lowest and the full fidelity are used
    p = Proposals()
    low = jobs(s, p, 5)
    assert {j.fidelity for j in low} == {4.0}
    for job, value in zip(low, (3.0, 9.0, 1.0, 7.0, 5.0)):
        s.report(job, value)
    full = [s.next_job(p) for _ in range(2)]
    assert [(j.key, j.fidelity) for j in full] == [("c1", 200.0), ("c3", 200.0)]
    assert sorted(s.stopped()) == ["c0", "c2", "c4"]


def test_replayed_results_of_unknown_cells_are_accepted():
    s = ASHA(eta=3)
    s.bind([12, 200], True)
    for i, v in enumerate((1.0, 2.0, 3.0)):
        s.report(Job(f"r{i}", f"r{i}", 12.0, 0), v)
    assert s.next_job(Proposals()).key == "r2"


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: ASHA(eta=1), "eta"),
        (lambda: SuccessiveHalving(n_initial=0), "n_initial"),
        (lambda: TopK(n_low=3, k=5), "cannot exceed"),
        (lambda: Hyperband(eta="x"), "eta"),
    ],
)
def test_bad_options_give_one_clear_error(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_nb201_benchmark_offers_12_and_200_epochs_from_the_tables(nb201_space):
    from nasearch.evaluation.benchmark import BenchmarkEvaluator

    ev = BenchmarkEvaluator(nb201_space, metric=METRIC, test_metric="cifar10/test_accuracy")
    assert isinstance(ev, MultiFidelity)
    assert ev.fidelities() == (12.0, 200.0)
    bench = nb201_space.benchmark()
    arch = bench.arch(6111)  # the 200-epoch validation optimum
    low, full = ev.evaluate_at(arch, 12), ev.evaluate_at(arch, 200)
    row = bench.query(arch)
    assert low.metrics[METRIC] == row[METRIC + "@12ep"]
    assert low.metrics["cifar10/test_accuracy"] == row["cifar10/test_accuracy@12ep"]
    assert full == ev.evaluate(arch).__class__(full.metrics, full.cost_seconds, full.simulated_seconds)
    assert full.metrics[METRIC] == pytest.approx(91.61, abs=0.01)
    # costs: 12 epochs at the recorded per-epoch time; the 200-epoch table is a separate run, so a
    # promotion from 12 pays the whole 200 epochs
    assert low.simulated_seconds == pytest.approx(12 * row["cifar10-valid/train_time_per_epoch"])
    assert full.simulated_seconds == pytest.approx(row["cifar10-valid/train_time"])
    assert ev.promotion_cost(arch, 12, 200) == pytest.approx(row["cifar10-valid/train_time"])
    with pytest.raises(ConfigError, match="not offered"):
        ev.evaluate_at(arch, 50)
    # a fixed single fidelity (the old `fidelity: 12` option) offers no ladder
    assert BenchmarkEvaluator(nb201_space, metric=METRIC, fidelity=12).fidelities() == ()


def test_cifar100_searches_its_12_epoch_validation_column_beside_the_200_epoch_test_one(nb201_space):
    """``low_fidelity_metric``: NB201's 200-epoch CIFAR-100 table has no validation column for every
    cell, so the objective is the 200-epoch test column and its 12-epoch value is read from the
    12-epoch validation column (not the 12-epoch test column)."""
    from nasearch.evaluation.benchmark import BenchmarkEvaluator

    test, valid = "cifar100/test_accuracy", "cifar100/valid_accuracy"
    ev = BenchmarkEvaluator(nb201_space, metric=test, low_fidelity_metric=valid)
    assert ev.fidelities() == (12.0, 200.0)
    bench = nb201_space.benchmark()
    arch = bench.arch(6111)
    row = bench.query(arch)
    assert row[valid + "@12ep"] != row[test + "@12ep"]
    assert ev.evaluate_at(arch, 12).metrics == {test: row[valid + "@12ep"]}
    assert ev.evaluate_at(arch, 200).metrics[test] == row[test]
    assert (
        BenchmarkEvaluator(nb201_space, metric=test).evaluate_at(arch, 12).metrics[test]
        == row[test + "@12ep"]
    )
    with pytest.raises(ConfigError, match="no low-fidelity column of 'cifar100/train_accuracy'"):
        BenchmarkEvaluator(nb201_space, metric=test, low_fidelity_metric="cifar100/train_accuracy")


def test_nasearch_spaces_lists_the_schedulers(capsys):
    from nasearch.cli.main import main

    assert main(["spaces", "--kind", "schedulers"]) == 0
    out = capsys.readouterr().out
    for name in ("full", "successive_halving", "hyperband", "top_k", "asha", "surrogate"):
        assert f"  {name} " in out
