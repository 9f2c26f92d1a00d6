"""Predictors on the real NAS-Bench-201 tables: small fits must beat chance clearly."""

from __future__ import annotations

import numpy as np
import pytest

from nasearch.config.registry import PREDICTORS
from nasearch.metrics.ranking import kendall_tau

N_TRAIN = 156  # the paper protocol's 1 %: the first 156 cells in official index order


@pytest.fixture(scope="module")
def nb201(nb201_space, nb201_benchmark):
    graphs = [nb201_space.to_graph(a) for a in nb201_benchmark.archs]
    y_train = nb201_benchmark.column("cifar10-valid/valid_accuracy")
    y_test = nb201_benchmark.column("cifar10/test_accuracy")
    test = np.random.default_rng(0).choice(np.arange(N_TRAIN, len(graphs)), size=2000, replace=False)
    return graphs, y_train, y_test, test


def _tau(model, nb201) -> float:
    graphs, y_train, y_test, test = nb201
    model.fit(graphs[:N_TRAIN], y_train[:N_TRAIN])
    return kendall_tau(y_test[test], model.predict([graphs[i] for i in test]))


def test_nnformer_small_fit_beats_chance(nb201):
    tau = _tau(
        PREDICTORS.create(
            "nnformer", dim=32, layers=2, epochs=40, batch_size=32, lr=1e-3, rdrop_weight=0.0, threads=1
        ),
        nb201,
    )
    assert tau > 0.5, tau


def test_nnformer_official_masks_also_learn(nb201):
    model = PREDICTORS.create(
        "nnformer",
        dim=32,
        layers=2,
        epochs=40,
        batch_size=32,
        lr=1e-3,
        rdrop_weight=0.0,
        threads=1,
        sibling_mode="official",
    )
    assert _tau(model, nb201) > 0.4


@pytest.mark.parametrize(
    ("name", "options", "floor"),
    [
        ("mlp", {"epochs": 60, "threads": 1}, 0.4),
        ("gin", {"dim": 32, "layers": 2, "epochs": 40, "threads": 1}, 0.4),
        ("random_forest", {"n_estimators": 50}, 0.3),
        ("params_linear", {}, 0.3),
    ],
)
def test_baselines_beat_chance(nb201, name, options, floor):
    assert _tau(PREDICTORS.create(name, **options), nb201) > floor


def test_params_linear_latency_uses_op_counts(nb201_space, nb201_benchmark):
    graphs = [nb201_space.to_graph(a) for a in nb201_benchmark.archs[:2000]]
    lat = nb201_benchmark.column("latency/1080ti_1")[:2000]
    model = PREDICTORS.create("params_linear").fit(graphs[:500], lat[:500])
    assert model.used_features == "op_counts"
    assert kendall_tau(lat[500:], model.predict(graphs[500:])) > 0.5


def test_ensemble_gives_mean_and_positive_std(nb201):
    graphs, y_train, y_test, test = nb201
    ens = PREDICTORS.create("ensemble", base="mlp", k=3, hidden=[64, 64], epochs=30, threads=1)
    ens.fit(graphs[:N_TRAIN], y_train[:N_TRAIN])
    sub = [graphs[i] for i in test[:500]]
    mean, std = ens.predict_mean_std(sub)
    assert np.all(std > 0)
    assert np.allclose(mean, ens.predict(sub))
    assert kendall_tau(y_test[test[:500]], mean) > 0.3
    boot = PREDICTORS.create("ensemble", base="params_linear", k=4, bootstrap=True)
    assert np.all(boot.fit(graphs[:N_TRAIN], y_train[:N_TRAIN]).predict_std(sub) > 0)


def test_ensemble_members_fit_in_parallel_processes(nb201):
    graphs, y_train, _, test = nb201
    ens = PREDICTORS.create("ensemble", base="random_forest", k=2, n_estimators=10, n_jobs=2)
    ens.fit(graphs[:N_TRAIN], y_train[:N_TRAIN])
    assert len(ens.members) == 2
    assert np.all(ens.predict_std([graphs[i] for i in test[:100]]) >= 0)
    assert ens.predict_std([graphs[i] for i in test[:100]]).max() > 0


def test_random_forest_std_is_tree_spread(nb201):
    graphs, y_train, _, test = nb201
    rf = PREDICTORS.create("random_forest", n_estimators=20).fit(graphs[:N_TRAIN], y_train[:N_TRAIN])
    std = rf.predict_std([graphs[i] for i in test[:200]])
    assert std.shape == (200,) and std.max() > 0
