"""front_ehvi's cell features (graph, zero-cost proxies, looked-up latency) and its spread start, on the
real NB201 tables (latency of a development target of the benchmark, never a reported one)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kendalltau

from nasearch.api import ArchGraph, Result
from nasearch.api.errors import ConfigError
from nasearch.config.registry import OPTIMIZERS
from nasearch.optimizers.cell_features import CellFeatures, FeatureForest, depth

ACC, LAT = "cifar10-valid/valid_accuracy", "latency/gold_6226"
OBJ = [(ACC, True), (LAT, False)]
ALL = ["graph", "proxies", "known"]


def test_depth_is_the_longest_input_to_output_path() -> None:
    adj = np.zeros((5, 5), dtype=int)
    adj[0, 1] = adj[1, 2] = adj[2, 4] = adj[0, 4] = adj[0, 3] = adj[3, 4] = 1
    assert depth(ArchGraph(["in", "a", "b", "c", "out"], adj)) == 3
    cut = np.zeros((3, 3), dtype=int)
    cut[1, 2] = 1  # the input reaches nothing
    assert depth(ArchGraph(["in", "a", "out"], cut)) == 0


def test_rows_hold_the_proxies_on_a_log_scale_and_the_known_values(nb201_space) -> None:
    bench = nb201_space.benchmark()
    lat = np.asarray(bench.column(LAT), dtype=float)
    cells = [bench.arch(i) for i in (0, 7, 4321, 15624)]
    known = {1: -lat[[bench.index(a) for a in cells]]}
    feats = CellFeatures(
        nb201_space, ["proxies", "known"], lambda cs: {1: -lat[[bench.index(a) for a in cs]]}
    )
    rows = feats.rows(cells)
    names = list(nb201_space.proxy_names())
    assert rows.shape == (4, len(names) + 1)
    for row, arch in zip(rows, cells):
        raw = np.array([nb201_space.proxies(arch)[p] for p in names])
        np.testing.assert_allclose(np.expm1(row[: len(names)]), raw, rtol=1e-9)
    np.testing.assert_allclose(rows[:, -1], known[1])
    graph = CellFeatures(nb201_space, ["graph"], lambda cs: {}).rows(cells)
    ops = [nb201_space.to_graph(a).ops for a in cells]
    n_ops = len({op for o in ops for op in o})
    counts = graph[:, -2 - n_ops : -2]
    assert counts.sum(axis=1).tolist() == [len(o) for o in ops]  # every node's op counted once
    assert graph[:, -2].tolist() == [len(o) for o in ops]


def test_the_free_features_rank_accuracy_better_than_the_graph_alone_from_30_cells(nb201_space) -> None:
    bench = nb201_space.benchmark()
    acc = np.asarray(bench.column(ACC), dtype=float)
    lat = np.asarray(bench.column(LAT), dtype=float)
    rng = np.random.default_rng(11)
    idx = rng.choice(len(acc), size=2000, replace=False)
    cells = [bench.arch(int(i)) for i in idx]

    def lookup(cs):
        return {1: -lat[[bench.index(a) for a in cs]]}

    taus = {}
    for name, features in (("graph", ["graph"]), ("all", ALL)):
        x = CellFeatures(nb201_space, features, lookup).rows(cells)
        per = []
        for draw in range(4):
            train = np.random.default_rng(draw).choice(len(idx), size=30, replace=False)
            mean, _ = FeatureForest(draw).fit(x[train], acc[idx][train]).predict_mean_std(x)
            per.append(kendalltau(mean, acc[idx])[0])
        taus[name] = float(np.mean(per))
    assert taus["all"] > taus["graph"] + 0.03


def _search(nb201_space, queries: int, **options):
    bench = nb201_space.benchmark()
    lat = np.asarray(bench.column(LAT), dtype=float)
    opt = OPTIMIZERS.create("front_ehvi", space=nb201_space, objectives=OBJ, seed=3, **options)
    opt.use_known_metrics(lambda archs: {LAT: lat[[bench.index(a) for a in archs]]})
    told = []
    for _ in range(queries):
        (arch,) = opt.ask(1)
        i = bench.index(arch)
        opt.tell(arch, Result({ACC: float(bench.column(ACC)[i]), LAT: float(lat[i])}))
        told.append(i)
    return opt, told, lat


def test_the_spread_start_draws_one_cell_from_each_latency_bin_faster_than_the_median(nb201_space) -> None:
    opt, told, lat = _search(nb201_space, 8, features=ALL, init="spread", num_init=8)
    bench = nb201_space.benchmark()
    classes: dict[str, int] = {}
    for arch in nb201_space.enumerate():
        classes.setdefault(nb201_space.key(arch), bench.index(arch))
    keys = list(classes)
    values = lat[list(classes.values())]
    fast = np.flatnonzero(values < np.median(values))
    order = fast[np.argsort(-values[fast], kind="stable")]
    bin_of = {keys[int(i)]: b for b, part in enumerate(np.array_split(order, 8)) for i in part}
    got = [bin_of.get(nb201_space.key(bench.arch(i))) for i in told]
    assert sorted(got) == list(range(8))  # one cell in each bin, all faster than the median
    assert opt.stats["fits"] == 0


def test_the_feature_forest_guides_the_search_and_counts_its_fits(nb201_space) -> None:
    opt, told, _ = _search(nb201_space, 25, features=ALL, k=5)
    assert len(set(told)) == 25
    assert opt.stats["fits"] == 3  # 15 guided queries in batches of 5
    assert opt.state_dict()["forest_fits"] == [3, 0]


def test_bad_feature_options_are_one_config_error(nb201_space) -> None:
    with pytest.raises(ConfigError, match="features must be distinct names"):
        OPTIMIZERS.create("front_ehvi", space=nb201_space, objectives=OBJ, features=["graph", "flops"])
    with pytest.raises(ConfigError, match="either surrogate"):
        OPTIMIZERS.create(
            "front_ehvi", space=nb201_space, objectives=OBJ, features=["graph"], surrogate={"name": "mlp"}
        )
    with pytest.raises(ConfigError, match="init must be one of"):
        OPTIMIZERS.create("front_ehvi", space=nb201_space, objectives=OBJ, init="grid")
