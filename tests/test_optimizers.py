"""Conformance and behaviour of every built-in optimizer on the real NAS-Bench-201 tables."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from search_helpers import RidgeEnsembleSurrogate, RidgeSurrogate

from nasearch.api import Result
from nasearch.api.errors import ConfigError
from nasearch.config.registry import OPTIMIZERS
from nasearch.evaluation.benchmark import BenchmarkEvaluator

METRIC = "cifar10-valid/valid_accuracy"
OBJ = [(METRIC, True)]

ALL = {
    "random": {},
    "evolution": {"population_size": 10, "sample_size": 3},
    "local_search": {"num_init": 5},
    "predictor_evolution": {"surrogate": RidgeSurrogate(), "num_init": 10, "k": 5, "pool_size": 60},
    "predictor_local_search": {"surrogate": RidgeSurrogate(), "num_init": 10, "k": 3},
    "bayesian": {"surrogate": RidgeSurrogate(), "ensemble_size": 2, "num_init": 10, "k": 5, "pool_size": 60},
    "optuna": {"sampler": "tpe"},
    "pareto_mutation": {"num_init": 5},
    "front_ehvi": {"surrogate": RidgeEnsembleSurrogate(), "num_init": 10, "k": 5},
}


@pytest.fixture(scope="module")
def evaluator(nb201_space):
    return BenchmarkEvaluator(nb201_space, metric=METRIC, test_metric="cifar10/test_accuracy")


def drive(opt, evaluator, queries: int, batch: int = 1, fail=lambda arch: False) -> list:
    """Ask/tell loop with ``batch`` evaluations in flight; returns the evaluated archs in order."""
    done, in_flight = [], []
    while len(done) < queries:
        in_flight += opt.ask(min(batch - len(in_flight), queries - len(done) - len(in_flight)))
        assert in_flight, "optimizer proposed nothing with nothing in flight"
        arch = in_flight.pop(0)
        opt.tell(arch, None if fail(arch) else evaluator.evaluate(arch))
        done.append(arch)
    return done


@pytest.mark.parametrize("name", sorted(ALL))
def test_never_repeats_a_cell_and_respects_n(name, nb201_space, evaluator):
    opt = OPTIMIZERS.create(name, space=nb201_space, objectives=OBJ, seed=0, **ALL[name])
    assert opt.ask(0) == []
    assert len(opt.ask(3)) <= 3
    opt2 = OPTIMIZERS.create(name, space=nb201_space, objectives=OBJ, seed=1, **ALL[name])
    archs = drive(opt2, evaluator, 60, batch=3)
    keys = [nb201_space.key(a) for a in archs]
    assert len(set(keys)) == len(keys) == 60


@pytest.mark.parametrize("name", sorted(ALL))
def test_same_seed_same_search(name, nb201_space, evaluator):
    runs = []
    for _ in range(2):
        opt = OPTIMIZERS.create(name, space=nb201_space, objectives=OBJ, seed=3, **ALL[name])
        runs.append([nb201_space.to_str(a) for a in drive(opt, evaluator, 25)])
    assert runs[0] == runs[1]


@pytest.mark.parametrize("name", sorted(ALL))
def test_failures_and_replayed_results_are_learned_from(name, nb201_space, evaluator):
    """Failed evaluations (None) are told without breaking the search; a told cell that was
    never asked (resume replay) is never proposed again."""
    opt = OPTIMIZERS.create(name, space=nb201_space, objectives=OBJ, seed=0, **ALL[name])
    rng = np.random.default_rng(7)
    replayed = [nb201_space.sample(rng) for _ in range(12)]
    for arch in replayed:
        opt.tell(arch, evaluator.evaluate(arch))
    archs = drive(opt, evaluator, 30, fail=lambda a: a[0] == "none")
    assert not {nb201_space.key(a) for a in replayed} & {nb201_space.key(a) for a in archs}


def _best_after(name, nb201_space, evaluator, seeds, queries):
    bests = []
    for seed in seeds:
        opt = OPTIMIZERS.create(name, space=nb201_space, objectives=OBJ, seed=seed, **ALL[name])
        archs = drive(opt, evaluator, queries)
        bests.append(max(evaluator.evaluate(a).metrics[METRIC] for a in archs))
    return float(np.mean(bests))


def test_guided_search_beats_random_search(nb201_space, evaluator):
    """Over the same seeds and 60 queries, predictor-guided evolution ends on better cells."""
    seeds = range(4)
    random_best = _best_after("random", nb201_space, evaluator, seeds, 60)
    guided_best = _best_after("predictor_evolution", nb201_space, evaluator, seeds, 60)
    assert guided_best > random_best


def test_predictor_evolution_queues_the_predicted_best(nb201_space, evaluator):
    """A round's proposals are the candidates the surrogate ranks highest: their true mean
    accuracy beats the mean of the whole candidate pool."""
    opt = OPTIMIZERS.create(
        "predictor_evolution",
        space=nb201_space,
        objectives=OBJ,
        seed=0,
        surrogate=RidgeSurrogate(),
        num_init=40,
        k=10,
        pool_size=200,
    )
    drive(opt, evaluator, 40)
    pool = opt._candidates()
    chosen = opt.ask(10)
    value = lambda archs: np.mean([evaluator.evaluate(a).metrics[METRIC] for a in archs])  # noqa: E731
    assert len(chosen) == 10
    assert value(chosen) > value(pool) + 1.0
    assert opt.stats["fits"] == 1 and opt.stats["fit_seconds"] > 0


def test_predictor_local_search_ranks_the_incumbents_neighbours(nb201_space, evaluator):
    """A round proposes unseen neighbours of the best cell, the ones the surrogate ranks highest;
    once that neighbourhood is spent it falls back to the mutation pool instead of stalling."""
    opt = OPTIMIZERS.create(
        "predictor_local_search",
        space=nb201_space,
        objectives=OBJ,
        seed=0,
        surrogate=RidgeSurrogate(),
        num_init=40,
        k=3,
    )
    drive(opt, evaluator, 40)
    incumbent = opt.best(1)[0]
    neighbour_keys = {nb201_space.key(a) for a in nb201_space.neighbours(incumbent)}
    pool = opt._candidates()
    assert {nb201_space.key(a) for a in pool} <= neighbour_keys - opt.seen
    chosen = opt.ask(3)
    graphs = [opt._graph(a) for a in pool]
    predicted = dict(zip((nb201_space.key(a) for a in pool), opt.surrogates[0].predict(graphs)[0]))
    assert sorted(predicted[nb201_space.key(a)] for a in chosen) == sorted(predicted.values())[-3:]

    for arch in nb201_space.neighbours(incumbent):  # spend the neighbourhood: fallback pool
        if opt.is_fresh(arch):
            opt.tell(arch, Result({METRIC: 0.0}))
    opt.queue = []
    assert len(opt.ask(3)) == 3


@pytest.mark.parametrize("acquisition", ["its", "ucb", "ei"])
def test_bayesian_acquisitions_run(acquisition, nb201_space, evaluator):
    opt = OPTIMIZERS.create(
        "bayesian",
        space=nb201_space,
        objectives=OBJ,
        seed=0,
        surrogate=RidgeEnsembleSurrogate(),
        ensemble_size=1,
        acquisition=acquisition,
        num_init=10,
        k=5,
        pool_size=40,
    )
    archs = drive(opt, evaluator, 25)
    assert len({nb201_space.key(a) for a in archs}) == 25
    assert opt.stats["fits"] >= 2


@pytest.mark.parametrize("acquisition", ["ucb", "ei"])
def test_bayesian_ranks_candidates_by_mean_and_spread(acquisition, nb201_space, evaluator):
    """A round queues the candidates with the highest acquisition value, computed here by hand
    from the surrogate's mean and (cell-dependent) std; the spread changes the choice, so an
    acquisition that ignored it would fail."""
    from scipy.stats import norm

    opt = OPTIMIZERS.create(
        "bayesian",
        space=nb201_space,
        objectives=OBJ,
        seed=0,
        surrogate=RidgeEnsembleSurrogate(),
        ensemble_size=1,
        acquisition=acquisition,
        beta=3.0,
        num_init=30,
        k=5,
        pool_size=60,
    )
    drive(opt, evaluator, 30)
    pool = opt._candidates()
    opt._candidates = lambda: pool
    chosen = opt._round()
    mean, std = opt.surrogates[0].predict([opt._graph(a) for a in pool])
    assert np.ptp(std) > 0.1 * std.mean()  # the fixture's spread varies from cell to cell
    if acquisition == "ucb":
        value = mean + 3.0 * std
    else:
        best = opt._best_z[0]
        z = (mean - best) / std
        value = (mean - best) * norm.cdf(z) + std * norm.pdf(z)
    keys = lambda archs: [nb201_space.key(a) for a in archs]  # noqa: E731
    expected = [pool[i] for i in np.argsort(-value, kind="stable")[:5]]
    assert keys(chosen) == keys(expected)
    by_mean = [pool[i] for i in np.argsort(-mean, kind="stable")[:5]]
    assert set(keys(chosen)) != set(keys(by_mean))


def test_bayesian_refuses_a_surrogate_without_uncertainty(nb201_space):
    with pytest.raises(ConfigError, match="no uncertainty"):
        OPTIMIZERS.create(
            "bayesian", space=nb201_space, objectives=OBJ, surrogate=RidgeSurrogate(), ensemble_size=1
        )
    with pytest.raises(ConfigError, match="acquisition"):
        OPTIMIZERS.create(
            "bayesian", space=nb201_space, objectives=OBJ, surrogate=RidgeSurrogate(), acquisition="pi"
        )


def test_guided_optimizers_need_a_surrogate(nb201_space):
    with pytest.raises(ConfigError, match="needs a surrogate"):
        OPTIMIZERS.create("predictor_evolution", space=nb201_space, objectives=OBJ)


def test_registered_predictor_as_surrogate(nb201_space, evaluator):
    """A surrogate named by registry (with options) is built, seeded and refit each round."""
    opt = OPTIMIZERS.create(
        "predictor_evolution",
        space=nb201_space,
        objectives=OBJ,
        seed=0,
        surrogate={"name": "random_forest", "n_estimators": 20},
        num_init=10,
        k=10,
        pool_size=50,
    )
    drive(opt, evaluator, 30)
    assert opt.stats["fits"] == 2


def test_local_search_climbs_and_restarts(nb201_space, evaluator):
    opt = OPTIMIZERS.create("local_search", space=nb201_space, objectives=OBJ, seed=0, num_init=5)
    visited = []
    for _ in range(150):
        batch = opt.ask(1)
        opt.tell(batch[0], evaluator.evaluate(batch[0]))
        if opt.current is not None and (not visited or visited[-1][:2] != opt.current):
            visited.append((*opt.current, opt.restarts))
    # between restarts the current cell only ever improves: each climb's scores strictly increase
    climbs = [[s for _, s, _ in group] for _, group in itertools.groupby(visited, key=lambda v: v[2])]
    assert len(climbs) >= 2 and opt.restarts >= 1
    assert all(b > a for climb in climbs for a, b in zip(climb, climb[1:]))
    assert any(len(climb) > 1 for climb in climbs)  # and it did climb, not only restart


@pytest.mark.parametrize(
    "name, options", [("local_search", {}), ("predictor_local_search", {"surrogate": RidgeSurrogate()})]
)
def test_local_searches_need_neighbours(name, options, nb201_space):
    class NoNeighbours:
        def __getattr__(self, name):
            if name == "neighbours":
                raise AttributeError(name)
            return getattr(nb201_space, name)

    with pytest.raises(ConfigError, match="neighbours"):
        OPTIMIZERS.create(name, space=NoNeighbours(), objectives=OBJ, **options)


def test_evolution_ages_out_the_oldest(nb201_space, evaluator):
    opt = OPTIMIZERS.create(
        "evolution", space=nb201_space, objectives=OBJ, seed=0, population_size=10, sample_size=3
    )
    archs, parents = [], []
    for _ in range(30):
        population = [a for a, _ in opt.population]
        (arch,) = opt.ask(1)
        opt.tell(arch, evaluator.evaluate(arch))
        archs.append(arch)
        parents.append(population)
    assert [a for a, _ in opt.population] == archs[-10:]
    # after warm-up, children are one mutation (one edge's op changed) from a population member
    one_edit = lambda a, b: sum(x != y for x, y in zip(a, b)) == 1  # noqa: E731
    for child, population in zip(archs[10:], parents[10:]):
        assert len(population) == 10 and any(one_edit(child, p) for p in population)
    with pytest.raises(ConfigError, match="sample_size"):
        OPTIMIZERS.create("evolution", space=nb201_space, objectives=OBJ, population_size=5, sample_size=6)


def test_single_objective_optimizers_reject_two_objectives(nb201_space):
    two = [(METRIC, True), ("latency/pixel3", False)]
    with pytest.raises(ConfigError, match="Pareto front"):
        OPTIMIZERS.create("evolution", space=nb201_space, objectives=two)


@pytest.mark.parametrize("sampler", ["gp", "random"])
def test_optuna_other_samplers(sampler, nb201_space, evaluator):
    opt = OPTIMIZERS.create("optuna", space=nb201_space, objectives=OBJ, seed=0, sampler=sampler)
    archs = drive(opt, evaluator, 12)
    assert len({nb201_space.key(a) for a in archs}) == 12
    assert len(opt.study.trials) >= 12


def test_optuna_answers_repeats_without_a_query(nb201_space, evaluator):
    """TPE proposes repeats of cells it has seen (NB201 has 6,466 distinct functions among 15,625
    cells); those are told from memory, so the study holds more trials than evaluations."""
    opt = OPTIMIZERS.create("optuna", space=nb201_space, objectives=OBJ, seed=0, sampler="tpe")
    archs = drive(opt, evaluator, 80)
    assert len({nb201_space.key(a) for a in archs}) == 80
    assert len(opt.study.trials) >= 80


def test_unknown_optuna_sampler(nb201_space):
    with pytest.raises(ConfigError, match="unknown sampler 'cma'"):
        OPTIMIZERS.create("optuna", space=nb201_space, objectives=OBJ, sampler="cma")


TWO = [{"metric": METRIC}, {"metric": "latency/pixel3", "direction": "minimize"}]


def _mo_hypervolume(name, options, nb201_space, seeds=range(16), queries=60):
    """Mean hypervolume of (valid accuracy, -Pixel 3 latency) over seeds; the reference point is
    the median cell of the space in both objectives (what the runner uses by default). Sixteen
    seeds: a seed's hypervolume spreads widely, and four could not tell guided from random."""
    from nasearch.optimizers.pareto import hypervolume

    ev = BenchmarkEvaluator(nb201_space, objectives=TWO)
    bench = nb201_space.benchmark()
    ref = [float(np.nanmedian(bench.column(METRIC))), -float(np.nanmedian(bench.column("latency/pixel3")))]
    hvs = []
    for seed in seeds:
        opt = OPTIMIZERS.create(name, space=nb201_space, objectives=ev.objectives, seed=seed, **options)
        archs = drive(opt, ev, queries)
        pts = np.array([[r.metrics[METRIC], -r.metrics["latency/pixel3"]] for r in map(ev.evaluate, archs)])
        hvs.append(hypervolume(pts, ref))
    return float(np.mean(hvs)), opt


@pytest.mark.parametrize("name", ["predictor_evolution", "predictor_local_search"])
def test_multi_objective_guided_search_beats_random(name, nb201_space):
    """One surrogate per objective, candidates by predicted Pareto rank and crowding (local search:
    the neighbours of a first-front cell)."""
    guided, opt = _mo_hypervolume(
        name, {"surrogate": RidgeSurrogate(), "num_init": 10, "k": 5, "pool_size": 60}, nb201_space
    )
    rand, _ = _mo_hypervolume("random", {}, nb201_space)
    assert len(opt.surrogates) == 2
    assert guided > rand


def test_nsga2_drives_two_objectives_and_beats_random(nb201_space):
    nsga, opt = _mo_hypervolume(
        "optuna", {"sampler": "nsga2", "sampler_options": {"population_size": 10}}, nb201_space
    )
    rand, _ = _mo_hypervolume("random", {}, nb201_space)
    assert [d.name for d in opt.study.directions] == ["MAXIMIZE", "MINIMIZE"]
    assert nsga > rand


def test_objective_direction_and_nan_are_handled(nb201_space):
    from nasearch.optimizers.base import Objective

    assert Objective("m", maximize=False).score(Result({"m": 2.0})) == -2.0
    assert Objective("m").score(Result({"m": float("nan")})) is None
    assert Objective("m").score(None) is None


def test_multi_objective_bayesian_runs_one_surrogate_per_objective(nb201_space):
    ev = BenchmarkEvaluator(nb201_space, objectives=TWO)
    opt = OPTIMIZERS.create(
        "bayesian",
        space=nb201_space,
        objectives=ev.objectives,
        seed=0,
        surrogate=RidgeEnsembleSurrogate(),
        ensemble_size=1,
        num_init=10,
        k=5,
        pool_size=40,
    )
    archs = drive(opt, ev, 25)
    assert len({nb201_space.key(a) for a in archs}) == 25
    assert len(opt.surrogates) == 2 and all(s.fits >= 2 for s in opt.surrogates)


def test_an_optimizer_refuses_a_space_without_the_capabilities_it_requires():
    """``requires`` names capabilities of ``nasearch.api.CAPABILITIES`` (checked by their Protocol)
    or, for a plug-in's own needs, plain method names."""
    from nasearch.config.registry import SEARCH_SPACES
    from nasearch.optimizers.random_search import RandomSearch

    chain = SEARCH_SPACES.create("chain")  # neighbours and a categorical encoding, but no enumeration

    class NeedsEnumeration(RandomSearch):
        requires = ("enumerate",)

    class NeedsOwnMethod(RandomSearch):
        requires = ("to_categorical",)

    with pytest.raises(ConfigError, match="needs the search space to offer enumerate"):
        NeedsEnumeration(chain, "objective")
    assert NeedsOwnMethod(chain, "objective").space is chain
    with pytest.raises(ConfigError, match="offer neighbours"):
        OPTIMIZERS.create("local_search", space=_NoNeighbours(chain), objectives="objective")


class _NoNeighbours:
    """A space that hides ``neighbours`` (everything else delegates to the wrapped space)."""

    def __init__(self, inner):
        self._inner = inner

    def __getattr__(self, name):
        if name == "neighbours":
            raise AttributeError(name)
        return getattr(self._inner, name)
