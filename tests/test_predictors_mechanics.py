"""Predictor mechanics without data: metrics, encoding, the training loop, NN-Former masks and invariances."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from nasearch.api.errors import ConfigError
from nasearch.api.graph import ArchGraph
from nasearch.metrics import ranking as metrics
from nasearch.predictors.encoding import EncodedGraphs, OpVocab, flat_encoding, op_counts
from nasearch.predictors.nnformer import MASK_NAMES, NNFormer, NNFormerModule, node_masks, sequence_masks
from nasearch.predictors.training import (
    EMA,
    PredictorError,
    TargetScaler,
    TrainConfig,
    pairwise_difference_loss,
    warmup_cosine,
)

# 0 -> 1, 0 -> 2, 1 -> 3, 2 -> 3, 3 -> 4, 0 -> 4 ("diamond" with a skip to the output)
DIAMOND = ArchGraph(
    ["input", "conv3x3", "conv1x1", "pool", "output"],
    [[0, 1, 1, 0, 1], [0, 0, 0, 1, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]],
)


def permute(graph: ArchGraph, order: list[int]) -> ArchGraph:
    """The same cell with node ``order[k]`` moved to position k (must stay topological)."""
    adj = graph.adjacency[np.ix_(order, order)]
    return ArchGraph([graph.ops[i] for i in order], adj)


def random_dag(rng: np.random.Generator, n: int, ops: list[str]) -> ArchGraph:
    adj = np.triu(rng.integers(0, 2, size=(n, n)), k=1)
    adj[np.arange(n - 1), np.arange(1, n)] = 1  # a chain keeps it connected
    labels = ["input"] + [ops[i] for i in rng.integers(0, len(ops), size=n - 2)] + ["output"]
    return ArchGraph(labels, adj)


# --- metrics --------------------------------------------------------------------------------------


def test_kendall_tau_b_hand_value_and_ties():
    assert metrics.kendall_tau([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(4 / 6)
    t, p = [1, 1, 2, 3, 3, 4], [2, 1, 1, 3, 4, 4]
    # tau-b with ties in both rankings: (C - D) / sqrt((n0 - n1)(n0 - n2))
    n0, n1, n2 = 15, 2, 2
    c = d = 0
    for i in range(6):
        for j in range(i + 1, 6):
            s = np.sign(t[i] - t[j]) * np.sign(p[i] - p[j])
            c += s > 0
            d += s < 0
    assert metrics.kendall_tau(t, p) == pytest.approx((c - d) / np.sqrt((n0 - n1) * (n0 - n2)))
    assert metrics.spearman([1, 2, 3], [30, 20, 10]) == pytest.approx(-1.0)


def test_mape_and_acc10_are_percent():
    assert metrics.mape([10, 20], [11, 20]) == pytest.approx(5.0)
    assert metrics.acc10([10, 20, 30, 40], [10.5, 23, 30, 44.1]) == pytest.approx(50.0)
    out = metrics.evaluate([1, 2, 3], [1, 2, 4], relative=True)
    assert set(out) == {"kendall_tau", "spearman", "mape", "acc10"}


def test_metric_errors_name_the_problem():
    with pytest.raises(metrics.MetricError, match="3 values but y_pred has 2"):
        metrics.kendall_tau([1, 2, 3], [1, 2])
    with pytest.raises(metrics.MetricError, match="NaN"):
        metrics.spearman([1, 2, np.nan], [1, 2, 3])
    with pytest.raises(metrics.MetricError, match="contains 0"):
        metrics.mape([0, 1], [1, 1])


# --- encoding -------------------------------------------------------------------------------------


def test_vocab_batches_and_flat_encoding():
    small = ArchGraph(["input", "conv3x3", "output"], [[0, 1, 1], [0, 0, 1], [0, 0, 0]])
    vocab = OpVocab.from_graphs([DIAMOND, small])
    assert vocab.ids(["conv3x3", "never_seen"])[1] == 0 and vocab.ids(["conv3x3"])[0] > 0
    enc = EncodedGraphs([DIAMOND, small, DIAMOND], vocab, group_by_size=True)
    sizes = [sorted(batch.n_nodes.tolist()) for batch, _ in enc.batches(np.arange(3), 8, None)]
    assert sorted(sizes) == [[3], [5, 5]]  # grouped by node count: no padding inside a batch
    padded = EncodedGraphs([DIAMOND, small], vocab, group_by_size=False)
    ((batch, pos),) = list(padded.batches(np.arange(2), 8, None))
    assert batch.mask.tolist() == [[True] * 5, [True] * 3 + [False] * 2]
    assert batch.onehot[1, 3:].abs().sum() == 0
    flat = flat_encoding([DIAMOND, small], vocab, max_nodes=5)
    assert flat.shape == (2, 10 + 5 * len(vocab))
    # the small cell's output sits in the last slot: its input->output edge is adjacency[0, 4]
    tri = list(zip(*np.triu_indices(5, k=1)))
    assert flat[1, tri.index((0, 4))] == 1 and flat[1, tri.index((0, 2))] == 0
    assert op_counts([DIAMOND], vocab)[0, vocab.ids(["conv3x3"])[0]] == 1


# --- training loop pieces -------------------------------------------------------------------------


def test_schedule_warms_up_then_decays_to_min_ratio():
    lrs = [warmup_cosine(s, 100, 0.1, 0.1) for s in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(a <= b for a, b in zip(lrs[:10], lrs[1:10]))
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:]))
    assert warmup_cosine(100, 100, 0.1, 0.1) == pytest.approx(0.1)


def test_pairwise_loss_ignores_a_constant_shift_only():
    t = torch.tensor([1.0, 2.0, 4.0])
    assert pairwise_difference_loss(t + 5.0, t).item() == pytest.approx(0.0)
    assert pairwise_difference_loss(torch.tensor([4.0, 2.0, 1.0]), t).item() > 1.0


def test_ema_tracks_weights_and_scaler_round_trips():
    lin = torch.nn.Linear(2, 1)
    ema = EMA(lin, decay=0.5)
    with torch.no_grad():
        lin.weight.fill_(1.0)
    for _ in range(30):
        ema.update(lin)
    assert torch.allclose(ema.shadow.weight, torch.ones_like(lin.weight), atol=1e-6)
    y = np.array([1.0, 10.0, 100.0])
    for log in (False, True):
        s = TargetScaler(log=log).fit(y)
        assert np.allclose(s.inverse(s.transform(y)), y)
    with pytest.raises(PredictorError, match="positive"):
        TargetScaler(log=True).fit(np.array([0.0, 1.0]))


def test_neural_predictors_keep_their_training_defaults():
    """The shared options are declared once (PredictOptions, TrainConfig) and each predictor's own
    defaults once (option_defaults): what every predictor trains with by default is unchanged."""
    import warnings

    from nasearch.config.registry import PREDICTORS

    recipe = dict(epochs=1000, batch_size=32, lr=1e-3, max_steps=16000, rank_weight=1.0)
    expected = {
        "nnformer": TrainConfig(**recipe),
        "gin": TrainConfig(**recipe),
        "mlp": TrainConfig(**recipe),
        "ledgformer": TrainConfig(**{**recipe, "max_steps": 16000, "rank_weight": 0.2}),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LeDG-Former is experimental
        for name, config in expected.items():
            predictor = PREDICTORS.create(name)
            assert predictor.train_config == config, name
            assert (predictor.log_target, predictor.predict_batch_size) == (False, 1024), name
            tuned = PREDICTORS.create(name, log_target=True, predict_batch_size=7, weight_decay=0.5, epochs=3)
            assert tuned.train_config == TrainConfig(**{**vars(config), "weight_decay": 0.5, "epochs": 3}), (
                name
            )
            assert (tuned.log_target, tuned.predict_batch_size) == (True, 7), name


def test_a_misspelt_shared_option_lists_every_option_in_order():
    with pytest.raises(ConfigError) as info:
        NNFormer(weight_decy=0.1)
    message = str(info.value)
    assert message.startswith("NN-Former has no option 'weight_decy'; did you mean 'weight_decay'?")
    listed = message.split("(options: ")[1].rstrip(")").split(", ")
    assert listed[:9] == [
        "dim",
        "layers",
        "heads",
        "ffn_ratio",
        "dropout",
        "attn_dropout",
        "sibling_mode",
        "group_by_size",
        "log_target",
    ]
    assert {"epochs", "predict_batch_size", "validate_every", "seed"} <= set(listed) and len(listed) == len(
        set(listed)
    )


def test_bad_options_are_named():
    with pytest.raises(ConfigError, match="did you mean 'epochs'"):
        NNFormer(epoch=3)
    with pytest.raises(ConfigError, match="sibling_mode"):
        NNFormer(sibling_mode="global")
    with pytest.raises(ConfigError, match="warmup"):
        TrainConfig(warmup=1.5)
    with pytest.raises(PredictorError, match="call fit before predict"):
        NNFormer().predict([DIAMOND])
    with pytest.raises(PredictorError, match="2 graphs but 3 targets"):
        NNFormer(epochs=1).fit([DIAMOND, DIAMOND], [1.0, 2.0, 3.0])


# --- NN-Former masks ------------------------------------------------------------------------------


def test_four_masks_on_a_known_cell():
    enc = EncodedGraphs([DIAMOND], OpVocab.from_graphs([DIAMOND]))
    batch = enc.batch(np.array([0]))
    m = node_masks(batch.adjacency, batch.mask)[0]
    expect = {
        "successors": {0: {0, 1, 2, 4}, 1: {1, 3}, 3: {3, 4}, 4: {4}},
        "predecessors": {0: {0}, 3: {1, 2, 3}, 4: {0, 3, 4}},
        # 1, 2 and 4 share parent 0; 3's parents (1, 2) have no other child
        "share_parent": {1: {1, 2, 4}, 2: {1, 2, 4}, 4: {1, 2, 4}, 3: {3}, 0: {0}},
        # 1 and 2 share child 3; 0 and 3 share child 4
        "share_child": {1: {1, 2}, 0: {0, 3}, 3: {0, 3}, 4: {4}},
    }
    for h, name in enumerate(MASK_NAMES):
        for node, allowed in expect[name].items():
            assert set(np.flatnonzero(m[h, node].numpy()).tolist()) == allowed, (name, node)


def test_paper_masks_keep_siblings_local_official_makes_them_global():
    batch = EncodedGraphs([DIAMOND], OpVocab.from_graphs([DIAMOND])).batch(np.array([0]))
    paper = sequence_masks(batch, "paper")[0]
    official = sequence_masks(batch, "official")[0]
    assert paper.shape == (4, 7, 7)
    assert paper[:, 0].all() and paper[:, -1].all() and paper[:, :, 0].all()  # CLS/depth global
    assert not paper[2].all() and not paper[3].all()
    assert torch.equal(paper[2, 1:-1, 1:-1], node_masks(batch.adjacency, batch.mask)[0, 2])
    assert official[2].all() and official[3].all()  # the released code's sibling heads are global
    assert not official[0].all()


def test_padding_never_leaks_into_real_tokens():
    small = ArchGraph(["input", "conv3x3", "output"], [[0, 1, 1], [0, 0, 1], [0, 0, 0]])
    enc = EncodedGraphs([DIAMOND, small], OpVocab.from_graphs([DIAMOND, small]), group_by_size=False)
    masks = sequence_masks(enc.batch(np.array([0, 1])), "paper")[1]
    # the small cell has tokens CLS, 3 nodes, 2 pads, DEPTH: no real token attends to a pad
    real = [0, 1, 2, 3, 6]
    assert not masks[:, real][:, :, [4, 5]].any()


# --- NN-Former invariances ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted_small_nnformer():
    rng = np.random.default_rng(0)
    ops = ["conv3x3", "conv1x1", "pool"]
    graphs = [random_dag(rng, int(n), ops) for n in rng.integers(4, 8, size=48)]
    y = np.array([g.n_edges + 2 * g.ops.count("conv3x3") for g in graphs], dtype=float)
    model = NNFormer(dim=16, layers=2, epochs=3, batch_size=16, threads=1)
    return model.fit(graphs, y), graphs


def test_prediction_is_invariant_to_a_topological_relabelling(fitted_small_nnformer):
    model, _ = fitted_small_nnformer
    swapped = permute(DIAMOND, [0, 2, 1, 3, 4])  # 1 and 2 are independent: still topological
    assert not np.array_equal(swapped.adjacency, DIAMOND.adjacency) or swapped.ops != DIAMOND.ops
    assert np.allclose(model.predict([DIAMOND]), model.predict([swapped]), atol=1e-5)
    changed = ArchGraph(DIAMOND.ops, np.triu(np.ones((5, 5), dtype=int), 1))
    assert not np.allclose(model.predict([DIAMOND]), model.predict([changed]), atol=1e-5)


def test_grouped_and_padded_batches_agree(fitted_small_nnformer):
    model, graphs = fitted_small_nnformer
    grouped = model.predict(graphs)
    model.group_by_size = False
    try:
        padded = model.predict(graphs)
    finally:
        model.group_by_size = True
    assert np.allclose(grouped, padded, atol=1e-4)


def test_fit_is_seeded_and_pickles(fitted_small_nnformer):
    model, graphs = fitted_small_nnformer
    again = NNFormer(dim=16, layers=2, epochs=3, batch_size=16, threads=1)
    y = np.array([g.n_edges + 2 * g.ops.count("conv3x3") for g in graphs], dtype=float)
    assert np.allclose(again.fit(graphs, y).predict(graphs), model.predict(graphs), atol=1e-5)
    clone = pickle.loads(pickle.dumps(model))
    assert np.allclose(clone.predict(graphs[:5]), model.predict(graphs[:5]))


def test_paper_size_has_the_papers_parameter_count():
    module = NNFormerModule(vocab_size=7, dim=160, layers=12)
    n = sum(p.numel() for p in module.parameters())
    assert 4.7e6 < n < 5.1e6  # the paper reports 4.9 M


def _tau_b_by_pairs(t, p) -> float:
    """Kendall tau-b counted pair by pair (no library): (C - D) / sqrt((n0 - T) (n0 - P)), where T
    and P count the pairs tied in the truth and in the prediction."""
    c = d = tied_t = tied_p = 0
    n = len(t)
    for i in range(n):
        for j in range(i + 1, n):
            dt, dp = t[i] - t[j], p[i] - p[j]
            tied_t += dt == 0
            tied_p += dp == 0
            if dt * dp > 0:
                c += 1
            elif dt * dp < 0:
                d += 1
    n0 = n * (n - 1) // 2
    return (c - d) / np.sqrt((n0 - tied_t) * (n0 - tied_p))


def test_kendall_tau_b_hand_values_with_ties():
    # worked by hand: 6 pairs, 4 concordant, 0 discordant, (1, 2) tied in the truth, (2, 3) in the
    # prediction -> 4 / sqrt((6 - 1) (6 - 1)) = 0.8 (tau-a would say 4 / 6)
    assert metrics.kendall_tau([1, 2, 2, 3], [1, 2, 3, 3]) == pytest.approx(0.8)
    assert _tau_b_by_pairs([1, 2, 2, 3], [1, 2, 3, 3]) == pytest.approx(0.8)  # the counter agrees by hand
    # reversed order with one tie: C 0, D 5, tied in the prediction 1 -> -5 / sqrt(6 * 5)
    assert metrics.kendall_tau([1, 2, 3, 4], [3, 3, 2, 1]) == pytest.approx(-5 / np.sqrt(6 * 5))
    # tau-a would give (C - D) / n0 = -5 / 6: the tie correction must be there
    assert metrics.kendall_tau([1, 2, 3, 4], [3, 3, 2, 1]) != pytest.approx(-5 / 6)
    rng = np.random.default_rng(1)
    for _ in range(5):
        a, b = rng.integers(0, 5, 40), rng.integers(0, 4, 40)  # many ties on both sides
        assert metrics.kendall_tau(a, b) == pytest.approx(_tau_b_by_pairs(a, b))
    assert metrics.kendall_tau([1, 2, 3], [5, 5, 5]) == 0.0  # a constant prediction ranks nothing


def test_max_steps_caps_the_epochs_and_a_linear_target_is_learnt():
    from nasearch.predictors.encoding import ArraySource
    from nasearch.predictors.training import train_regressor

    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 3)).astype(np.float32)
    y = x @ np.array([1.0, -2.0, 0.5])
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0))
    cfg = TrainConfig(epochs=100, batch_size=4, max_steps=7, lr=1e-2, ema_decay=None)
    assert train_regressor(model, ArraySource(x), y, cfg).steps == 10  # 5 steps/epoch, 2 epochs
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0))
    cfg = TrainConfig(epochs=300, batch_size=4, lr=5e-2, warmup=0.0, weight_decay=0.0)
    result = train_regressor(model, ArraySource(x), y, cfg)
    assert result.losses[-1] < 0.01 * result.losses[0]


def test_neural_baselines_share_nnformers_default_budget_and_loss():
    """The issue's "same training budget rules": GIN and MLP train as long, and on the same loss."""
    from nasearch.predictors.baselines import GINPredictor, MLPPredictor

    def budget(predictor):
        cfg = predictor.train_config
        return cfg.epochs, cfg.max_steps, cfg.rank_weight, cfg.batch_size, cfg.lr

    reference = budget(NNFormer())
    assert reference[:2] == (1000, 16000)
    assert budget(GINPredictor()) == reference
    assert budget(MLPPredictor()) == reference


# --- checkpoint selection on a validation set -----------------------------------------------------


def _linear_fit(validation, **options):
    from nasearch.predictors.encoding import ArraySource
    from nasearch.predictors.training import train_regressor

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    y = x @ np.array([1.0, -2.0, 0.5])
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0))
    cfg = TrainConfig(epochs=40, batch_size=8, lr=5e-2, warmup=0.0, weight_decay=0.0, **options)
    return train_regressor(model, ArraySource(x), y, cfg, validation=validation)


def test_a_validation_set_keeps_the_weights_that_rank_it_best():
    from nasearch.predictors.encoding import ArraySource
    from nasearch.predictors.training import predict_regressor

    rng = np.random.default_rng(1)
    xv = rng.normal(size=(30, 3)).astype(np.float32)
    reversed_targets = -(xv @ np.array([1.0, -2.0, 0.5]))  # training makes the ranking worse here
    val = (ArraySource(xv), reversed_targets)

    last = _linear_fit(None, ema_decay=None)
    picked = _linear_fit(val, ema_decay=None, validate_every=5)
    assert last.best_step is None and picked.steps == last.steps == 200
    assert picked.best_step is not None and picked.best_step < picked.steps
    tau_last = metrics.kendall_tau(reversed_targets, predict_regressor(last.model, ArraySource(xv)))
    tau_picked = metrics.kendall_tau(reversed_targets, predict_regressor(picked.model, ArraySource(xv)))
    assert tau_last < -0.9 < tau_picked
    assert tau_picked == pytest.approx(picked.best_score)

    honest = (ArraySource(xv), -reversed_targets)  # same ranking as training: late weights win
    result = _linear_fit(honest, ema_decay=0.9, validate_every=7)
    assert result.best_score > 0.95 and result.best_step > 100


def test_eval_set_reaches_nnformer_and_ensemble_members_and_bad_ones_are_named(fitted_small_nnformer):
    from nasearch.predictors.ensemble import Ensemble

    _, graphs = fitted_small_nnformer
    y = np.array([g.n_edges + 2 * g.ops.count("conv3x3") for g in graphs], dtype=float)
    options = dict(dim=16, layers=2, epochs=3, batch_size=16, threads=1, validate_every=2)
    model = NNFormer(**options).fit(graphs[:32], y[:32], eval_set=(graphs[32:], y[32:]))
    assert model.best_step is not None and model.best_step >= 1
    ensemble = Ensemble(base="nnformer", k=2, **options).fit(
        graphs[:32], y[:32], eval_set=(graphs[32:], y[32:])
    )
    assert all(m.best_step is not None for m in ensemble.members)
    with pytest.raises(PredictorError, match="eval_set"):
        NNFormer(**options).fit(graphs[:32], y[:32], eval_set=(graphs[32:], y[33:]))
    with pytest.raises(PredictorError, match="eval_set must be"):
        NNFormer(**options).fit(graphs[:32], y[:32], eval_set=graphs[32:])
