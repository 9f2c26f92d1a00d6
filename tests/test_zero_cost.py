"""Zero-cost proxies: synflow's maths, and the shipped NB201 table against a recomputation and NASLib's."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr
from torch import nn

from nasearch.api import ZeroCostProxies, describe_capabilities
from nasearch.evaluation.profiling import count_flops, count_params
from nasearch.evaluation.zero_cost import synflow
from nasearch.search_spaces.nasbench201.network import build_network
from nasearch.search_spaces.nasbench201.space import EDGES, NasBench201Space, arch_to_str, str_to_arch
from nasearch.search_spaces.nasbench201.zero_cost import (
    INPUT_SHAPE,
    PROXIES,
    cell_costs,
    cell_synflow,
    load_table,
    representatives,
)

torch.set_num_threads(1)


def test_synflow_of_a_two_layer_linear_net_is_twice_its_output_on_abs_weights():
    net = nn.Sequential(nn.Linear(3, 4, bias=False), nn.ReLU(), nn.Linear(4, 2, bias=False))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, -2, 0.5], [-1, 1, 1], [0.25, 0, -3], [2, 2, -2]]))
        net[2].weight.copy_(torch.tensor([[-1.0, 0.5, 2, -0.25], [3, -1, 1, 1]]))
    before = [p.clone() for p in net.parameters()]
    w1, w2 = net[0].weight.detach().abs().double(), net[2].weight.detach().abs().double()
    output = float((w2 @ w1 @ torch.ones(3, dtype=torch.float64)).sum())
    # R = 1'|W2||W1|1 is linear in each layer, so sum(w * dR/dw) over one layer is R: two layers, 2R
    assert synflow(net, (3,)) == pytest.approx(2 * output, rel=1e-12)
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))  # the module is left as it was


def test_synflow_removes_batchnorm_and_keeps_the_module():
    torch.manual_seed(1)
    with_bn = nn.Sequential(
        nn.Conv2d(2, 3, 3, padding=1, bias=False), nn.BatchNorm2d(3), nn.Flatten(), nn.Linear(48, 2)
    )
    plain = nn.Sequential(with_bn[0], nn.Identity(), nn.Flatten(), with_bn[3])
    with torch.no_grad():
        with_bn[1].running_var.fill_(9.0)  # would scale the output by 1/3 if BatchNorm stayed
    assert synflow(with_bn, (2, 4, 4)) == pytest.approx(synflow(plain, (2, 4, 4)), rel=1e-12)
    assert isinstance(with_bn[1], nn.BatchNorm2d) and with_bn[0].weight.dtype == torch.float32


@pytest.fixture(scope="module")
def table(nb201_benchmark):
    return load_table()


def test_the_shipped_table_holds_every_cell(table, nb201_benchmark):
    assert len(table.by_arch) == 15625
    arch = nb201_benchmark.arch(6111)
    scores = table.proxies(arch)
    assert list(scores) == list(PROXIES) and all(np.isfinite(list(scores.values())))


def test_the_table_is_what_nasearch_computes_now(table, nb201_benchmark):
    archs = nb201_benchmark.archs
    first = representatives(archs)
    space = NasBench201Space()
    for index in (0, 6111, 4321):
        rep = archs[first[space.key(archs[index])]]
        assert table.proxies(rep)["synflow"] == pytest.approx(cell_synflow(rep), rel=1e-9), index


def test_cells_of_one_function_class_share_synflow_and_dead_cells_score_zero(table, nb201_benchmark):
    space = NasBench201Space()
    a = str_to_arch("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")
    b = str_to_arch("|nor_conv_1x1~0|+|avg_pool_3x3~0|none~1|+|skip_connect~0|none~1|none~2|")
    assert space.key(a) == space.key(b) and table.proxies(a)["synflow"] == table.proxies(b)["synflow"]
    assert table.proxies(a)["flops"] != table.proxies(b)["flops"]  # the costs are the cell's own
    cut = str_to_arch(
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|none~2|"
    )  # no path to the output
    assert table.proxies(cut)["synflow"] == 0.0
    assert table.proxies(nb201_benchmark.arch(6111))["synflow"] > 1e30


def test_costs_are_the_networks_counts_and_the_benchmarks_params(table, nb201_benchmark):
    params = nb201_benchmark.column("cifar10/params")
    ours = np.array([table.by_arch[arch_to_str(a)]["params"] for a in nb201_benchmark.archs])
    assert np.abs(ours - params).max() < 5e-7
    rng = np.random.default_rng(11)
    for index in rng.choice(15625, 4, replace=False):
        arch = nb201_benchmark.arch(int(index))
        net = build_network(arch)
        costs = cell_costs(arch)
        assert costs["flops"] == pytest.approx(count_flops(net, INPUT_SHAPE), rel=1e-12)
        assert costs["params"] == pytest.approx(count_params(net), rel=1e-12)


def test_synflow_ranks_cells_as_naslibs_synflow_does(table):
    """NAS-Bench-Suite-Zero's synflow (another implementation and initialisation) on its 724 scored cells."""
    from nasearch.data.sources import load_json_table

    raw = load_json_table("nasbench201/naslib/zc_nasbench201.json", "automl/NASLib")["cifar10"]
    naslib_ops = ["skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3"]
    naslib_edges = [(1, 2), (1, 3), (1, 4), (2, 3), (2, 4), (3, 4)]
    ours, theirs = [], []
    for key, value in raw.items():
        if "synflow" not in value:  # one of the 725 cells has no synflow score there
            continue
        codes = [int(c) for c in key.strip("()").split(",")]
        by_edge = {(s - 1, d - 1): naslib_ops[c] for (s, d), c in zip(naslib_edges, codes)}
        ours.append(table.by_arch[arch_to_str(tuple(by_edge[e] for e in EDGES))]["synflow"])
        theirs.append(value["synflow"]["score"])
    assert len(ours) == 724
    assert spearmanr(ours, theirs).statistic > 0.99


def test_the_nb201_space_offers_the_proxies_capability(nb201_space):
    assert isinstance(nb201_space, ZeroCostProxies) and describe_capabilities(nb201_space)["proxies"]
    arch = nb201_space.from_index(6111)
    assert list(nb201_space.proxies(arch)) == list(nb201_space.proxy_names()) == list(PROXIES)
