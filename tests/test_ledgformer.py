"""LeDG-Former: the DGSA masks and weights on known cells, and the Predictor contract on real tables."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from nasearch.api.errors import ConfigError
from nasearch.api.graph import ArchGraph
from nasearch.config.registry import PREDICTORS
from nasearch.metrics.ranking import kendall_tau, mape
from nasearch.predictors.ledgformer import (
    BRANCHES,
    DGSA,
    LeDGFormer,
    LeDGFormerModule,
    dgsa_masks,
    fathers_mean_operator,
)
from nasearch.predictors.training import PredictorError
from nasearch.search_spaces.nasbench201.space import NasBench201Space

# The NB201 cell as ops on nodes: 0 input, 1..6 the edges (0,1) (0,2) (1,2) (0,3) (1,3) (2,3), 7 output.
# Fathers (predecessors) of each node, read off the cell: an edge op feeds every edge op that starts
# where it ends; edges into cell node 3 feed the output.
NB201_FATHERS = {0: set(), 1: {0}, 2: {0}, 3: {1}, 4: {0}, 5: {1}, 6: {2, 3}, 7: {4, 5, 6}}


def _sets(mask_row: torch.Tensor) -> set[int]:
    return set(torch.nonzero(mask_row).flatten().tolist())


def test_the_three_masks_on_the_nb201_cell():
    graph = NasBench201Space().to_graph(("nor_conv_3x3",) * 6)
    masks = dgsa_masks(torch.tensor(graph.adjacency, dtype=torch.float32).unsqueeze(0))[0]
    assert masks.shape == (3, 8, 8) and masks.dtype == torch.bool
    grandfathers = {
        v: set().union(*(NB201_FATHERS[f] for f in fs)) if fs else set() for v, fs in NB201_FATHERS.items()
    }
    sons = {v: {w for w, fs in NB201_FATHERS.items() if v in fs} for v in NB201_FATHERS}
    assert grandfathers[7] == {0, 1, 2, 3} and grandfathers[6] == {0, 1} and sons[1] == {3, 5}
    for v in range(8):
        assert _sets(masks[BRANCHES.index("fathers"), v]) == NB201_FATHERS[v] | {v}
        assert _sets(masks[BRANCHES.index("grandfathers"), v]) == grandfathers[v] | {v}
        assert _sets(masks[BRANCHES.index("sons"), v]) == sons[v] | {v}


def test_masks_are_binarised_and_padding_only_sees_itself():
    # a diamond 0 -> {1, 2} -> 3: node 3 reaches node 0 by two 2-hop paths, still one True
    diamond = torch.tensor([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], dtype=torch.float32)
    padded = torch.zeros(1, 6, 6)
    padded[0, :4, :4] = diamond
    node_mask = torch.tensor([[True] * 4 + [False] * 2])
    masks = dgsa_masks(padded, node_mask)[0]
    assert _sets(masks[0, 3]) == {0, 3}
    assert (diamond.T @ diamond.T)[3, 0] == 2  # the count the binarisation removes
    for k in range(3):
        for pad in (4, 5):
            assert _sets(masks[k, pad]) == {pad}
            assert not masks[k, :4, pad].any()


def test_fathers_mean_operator_averages_predecessors():
    graph = NasBench201Space().to_graph(("nor_conv_3x3",) * 6)
    p = fathers_mean_operator(torch.tensor(graph.adjacency, dtype=torch.float32))
    np.testing.assert_allclose(p[6].numpy(), [0, 0, 0.5, 0.5, 0, 0, 0, 0])
    np.testing.assert_allclose(p[7, [4, 5, 6]].numpy(), [1 / 3] * 3, rtol=1e-6)
    assert p[0].sum() == 0  # the input has no fathers


def test_dynamic_weights_sum_to_one_per_node_and_vary():
    torch.manual_seed(0)
    cell = ("nor_conv_3x3", "skip_connect", "avg_pool_3x3", "none", "nor_conv_1x1", "nor_conv_3x3")
    graph = NasBench201Space().to_graph(cell)
    adj = torch.tensor(graph.adjacency, dtype=torch.float32).unsqueeze(0)
    x = torch.randn(1, 8, 16)
    layer = DGSA(16, heads=4, dynamic=True)
    out = layer(x, dgsa_masks(adj), fathers_mean_operator(adj))
    w = layer.last_weights
    assert out.shape == (1, 8, 16) and w.shape == (1, 8, 3)
    torch.testing.assert_close(w.sum(-1), torch.ones(1, 8))
    assert (w > 0).all() and w.std(dim=1).max() > 1e-3  # node-dependent, not one fixed mixture
    uniform = DGSA(16, heads=4, dynamic=False)
    uniform(x, dgsa_masks(adj), fathers_mean_operator(adj))
    torch.testing.assert_close(uniform.last_weights, torch.full((1, 8, 3), 1 / 3))


def test_dgsa_output_of_a_node_ignores_nodes_outside_its_three_neighbourhoods():
    torch.manual_seed(0)
    n = 6
    adj = torch.diag(torch.ones(n - 1), 1).unsqueeze(0)  # a chain 0 -> 1 -> ... -> 5
    layer = DGSA(8, heads=2).eval()
    x = torch.randn(1, n, 8)
    base = layer(x, dgsa_masks(adj), fathers_mean_operator(adj))
    x2 = x.clone()
    x2[0, 5] += 10.0  # node 5 is neither grandfather, father nor son of node 1 or 2
    moved = layer(x2, dgsa_masks(adj), fathers_mean_operator(adj))
    torch.testing.assert_close(moved[0, :3], base[0, :3])
    assert not torch.allclose(moved[0, 4], base[0, 4])  # node 4 is node 5's father: it sees it


@pytest.fixture(scope="module")
def nb201_cells(nb201_benchmark):
    space = NasBench201Space()
    rng = np.random.default_rng(0)
    idx = rng.permutation(15625)[:700]
    return idx, [space.to_graph(nb201_benchmark.arch(int(i))) for i in idx]


def test_fits_and_ranks_nb201_accuracy_without_hardware(nb201_benchmark, nb201_cells):
    idx, graphs = nb201_cells
    y = nb201_benchmark.column("cifar10-valid/valid_accuracy")[idx]
    model = LeDGFormer(dim=32, layers=2, epochs=60, seed=0, threads=1)
    model.fit(graphs[:300], y[:300])
    pred = model.predict(graphs[300:])
    assert pred.shape == (400,) and np.isfinite(pred).all()
    assert kendall_tau(y[300:], pred) > 0.45
    # pickles with its text vectors: predictions survive the round trip without the encoder
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(clone.predict(graphs[300:310]), pred[:10], rtol=1e-5)
    weights = model.branch_weights(graphs[:5])
    assert len(weights) == 2 and weights[0].shape == (5, 8, 3)
    np.testing.assert_allclose(weights[0].sum(-1), 1.0, rtol=1e-5)


def test_one_model_over_several_devices_with_hardware(nb201_benchmark, nb201_cells):
    idx, graphs = nb201_cells
    devices = ["1080ti_1", "1080ti_256", "pixel3"]
    train_g, train_y, train_hw = [], [], []
    for d in devices:
        lat = nb201_benchmark.column(f"latency/{d}")[idx]
        train_g += graphs[:200]
        train_y += list(lat[:200])
        train_hw += [d] * 200
    model = LeDGFormer(dim=32, layers=2, epochs=25, log_target=True, seed=0, threads=1)
    model.fit(train_g, train_y, hardware=train_hw)
    test = graphs[300:]
    preds = {d: model.predict(test, hardware=d) for d in devices}  # one device for every graph
    for d in devices:
        truth = nb201_benchmark.column(f"latency/{d}")[idx][300:]
        connected = truth > 1.0  # pixel3's disconnected cells sit near 0 ms
        constant = np.full(connected.sum(), np.median(truth[connected]))
        assert mape(truth[connected], preds[d][connected]) < 0.7 * mape(truth[connected], constant), d
        assert kendall_tau(truth, preds[d]) > 0.4, d
    # the device changes the prediction: batch 256 is slower than batch 1 on the same GPU
    assert np.median(preds["1080ti_256"] / preds["1080ti_1"]) > 1.5
    # an unseen device described by its attributes gets a finite prediction
    new = {
        "vendor": "Nvidia",
        "kind": "GPU",
        "precision": "FP32",
        "peak_tflops": 8.1,
        "memory_bandwidth_gbs": 320,
        "architecture": "Turing",
        "power_w": 70,
        "batch_size": 32,
    }
    assert np.isfinite(model.predict(test[:20], hardware=[new] * 20)).all()
    with pytest.raises(PredictorError, match="hardware"):
        model.predict(test[:5])
    with pytest.raises(PredictorError, match="one per graph"):
        model.predict(test[:5], hardware=devices)


def test_graphs_of_other_spaces_with_attrs_and_sizes():
    from nasearch.search_spaces.examples.chain import ChainSpace

    rng = np.random.default_rng(1)
    space = ChainSpace()
    graphs = [space.to_graph(space.sample(rng)) for _ in range(40)]
    # a target that depends on the attrs: total width of the conv blocks
    y = np.array(
        [sum(a.get("width", 0) for op, a in zip(g.ops, g.attrs) if "conv" in op) for g in graphs], float
    )
    chain3 = [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    small = ArchGraph(["input", "conv", "output"], chain3, [{}, {"kernel": 3, "width": 8}, {}])
    model = LeDGFormer(dim=16, layers=1, epochs=30, seed=0, threads=1).fit(graphs + [small], list(y) + [8.0])
    pred = model.predict(graphs + [small])
    assert pred.shape == (41,) and kendall_tau(list(y) + [8.0], pred) > 0.3


ABLATIONS = [{"dynamic": False}, {"node_encoding": "onehot"}, {"pretrained_text": False}]


@pytest.mark.parametrize("options", ABLATIONS)
def test_ablation_switches_train(nb201_benchmark, nb201_cells, options):
    idx, graphs = nb201_cells
    y = nb201_benchmark.column("cifar10-valid/valid_accuracy")[idx]
    model = LeDGFormer(dim=16, layers=1, epochs=5, seed=0, threads=1, **options).fit(graphs[:100], y[:100])
    assert np.isfinite(model.predict(graphs[100:150])).all()
    module = model.module
    assert isinstance(module, LeDGFormerModule)
    assert module.blocks[0].attn.dynamic == options.get("dynamic", True)
    if options.get("node_encoding") == "onehot":
        assert module.node_proj.in_features == len(model.vocab) and not model.text_vectors


def test_one_hot_nodes_still_take_hardware_in_words(nb201_benchmark, nb201_cells):
    idx, graphs = nb201_cells
    rows = graphs[:60] * 2
    y = np.concatenate([nb201_benchmark.column(f"latency/{d}")[idx[:60]] for d in ("2080ti_1", "pixel3")])
    hw = ["2080ti_1"] * 60 + ["pixel3"] * 60
    model = LeDGFormer(dim=16, layers=1, epochs=3, node_encoding="onehot", log_target=True, threads=1)
    model.fit(rows, y, hardware=hw)
    assert np.isfinite(model.predict(graphs[100:120], hardware="fpga")).all()
    assert set(model.text_vectors) == {
        "Nv GPU FP32 13.4 Turing 250W batch 1",
        "Qcom Phone CPU FP32 0.236 ARM Kryo 385 5W batch 1",
        "Xilinx FPGA INT16 0.36 Xilinx 7-series 10W batch 1",
    }


def test_registered_and_options_are_checked():
    assert PREDICTORS.get("ledgformer") is LeDGFormer
    model = PREDICTORS.create("ledgformer", dim=32, heads=4, epochs=3)
    assert isinstance(model, LeDGFormer)
    with pytest.raises(ConfigError, match="did you mean 'heads'"):
        PREDICTORS.create("ledgformer", head=4)
    with pytest.raises(ConfigError, match="node_encoding"):
        LeDGFormer(node_encoding="words")
    with pytest.raises(ConfigError, match="heads must divide dim"):
        LeDGFormer(dim=30, heads=4)
    with pytest.raises(PredictorError, match="fit before predict"):
        LeDGFormer().predict([NasBench201Space().to_graph(("none",) * 6)])
