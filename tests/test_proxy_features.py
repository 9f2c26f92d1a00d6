"""Zero-cost proxies as predictor inputs (``proxy_ridge``, ``proxy_blend``), on the shipped NB201 table."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasearch.api.errors import ConfigError
from nasearch.metrics.ranking import kendall_tau
from nasearch.predictors.nnformer import NNFormer
from nasearch.predictors.proxies import (
    DEFAULT_BLEND,
    DEFAULT_INPUT_PROXIES,
    DEFAULT_RIDGE,
    ProxyRidgePredictor,
    ProxySpec,
    log_standardised,
    proxy_table,
)
from nasearch.search_spaces.nasbench201.space import NasBench201Space

torch.set_num_threads(1)

TINY = {"dim": 8, "layers": 1, "heads": 4, "epochs": 5, "batch_size": 16, "threads": 1}
METRIC = "cifar10-valid/valid_accuracy"


@pytest.fixture(scope="module")
def cells(nb201_benchmark, nb201_space):
    """The first 200 NB201 cells (graphs of the default space) and their validation accuracy."""
    graphs = [nb201_space.to_graph(nb201_benchmark.arch(i)) for i in range(200)]
    return graphs, np.asarray(nb201_benchmark.column(METRIC), dtype=float)[:200]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"weight": 0.3}, "needs space"),
        ({"space": "nasbench201", "weigth": 0.3}, "no key 'weigth'.*weight"),
        ({"space": "nasbench201", "weight": 0}, r"weight must be in \(0, 1\]"),
        ({"space": "nasbench201", "weight": 1.5}, r"weight must be in \(0, 1\]"),
        ({"space": "nasbench201", "alpha": 0}, "alpha must be > 0"),
        ({"space": "nasbench201", "alpha": "big"}, "must be numbers"),
        ({"space": "nasbench201", "encoding": "yes"}, "encoding must be true or false"),
        ({"space": "nasbench201", "proxies": "synflow"}, "list of proxy names"),
        ("nasbench201", "must be a mapping"),
    ],
)
def test_a_bad_proxy_blend_option_is_one_clear_error(value, message):
    with pytest.raises(ConfigError, match=message):
        NNFormer(proxy_blend=value)


def test_the_defaults_are_the_validation_choice_stored_in_benchmarks():
    """proxy_blend's defaults are the best blend (weight < 1) of the stored selection, proxy_ridge's the best
    ridge alone (weight 1); ties go to the smaller weight, as the selection broke them."""
    from benchmarks.report import store_for
    from benchmarks.results import Table

    section = store_for().load("predictors:extra_info_proxies_select")
    table = next(b for b in section.blocks if isinstance(b, Table))
    rows = []
    for weight, alpha, encoding, tau in table.rows:
        w = float(str(weight).split()[0])
        if w > 0:
            rows.append((round(float(str(tau)), 4), -w, w, float(str(alpha)), str(encoding) == "yes"))
    blend = max(r for r in rows if r[2] < 1)
    ridge = max(r for r in rows if r[2] == 1)
    assert dict(DEFAULT_BLEND) == {"weight": blend[2], "alpha": blend[3], "encoding": blend[4]}
    assert dict(DEFAULT_RIDGE) == {"alpha": ridge[3], "encoding": ridge[4]}
    spec = ProxySpec.parse({"space": "nasbench201"}, "nnformer")
    assert (spec.weight, spec.alpha, spec.encoding, spec.proxies) == (blend[2], blend[3], blend[4], ())
    ridge_spec = ProxyRidgePredictor("nasbench201").spec
    assert (ridge_spec.alpha, ridge_spec.encoding) == (ridge[3], ridge[4])
    # and the selection's own verdict: the network alone beat every blend
    assert section.data == {"chosen": {"weight": 0.0, "alpha": 1.0, "encoding": True}}


def test_log_standardised_marks_non_positive_values_in_their_own_column():
    out = log_standardised(np.array([0.0, 1.0, np.e, np.e**2]))
    assert out.shape == (4, 2)
    assert out[:, 1].tolist() == [1.0, 0.0, 0.0, 0.0]
    assert out[0, 0] == out[1, 0]  # a zero takes the smallest log
    assert out[:, 0].mean() == pytest.approx(0.0) and out[:, 0].std() == pytest.approx(1.0)
    assert log_standardised(np.array([1.0, 10.0, 100.0])).shape == (3, 1)


def test_the_table_holds_every_nb201_cell_and_flags_the_zero_synflow_cells(nb201_benchmark, nb201_space):
    table = proxy_table("nasbench201", (), ())
    assert table.names == ("synflow", "flops", "params")
    assert len(table.rows) == 15625
    graphs = [nb201_space.to_graph(a) for a in nb201_benchmark.archs]
    x = table.features(graphs, encoding=False, owner="test")
    # synflow (log, indicator), flops, params: only synflow has zeros on NB201
    assert x.shape == (15625, 4)
    synflow = np.array([nb201_space.proxies(a)["synflow"] for a in nb201_benchmark.archs])
    assert np.array_equal(x[:, 1] == 1.0, synflow <= 0)
    acc = np.asarray(nb201_benchmark.column(METRIC), dtype=float)
    # the zero-synflow cells are those that stay at chance (no weighted input-output path)
    assert synflow[acc < 20].max() == 0 and (synflow[acc >= 20] > 0).all()
    assert np.allclose(x[:, [0, 2, 3]].mean(axis=0), 0.0) and np.allclose(x[:, [0, 2, 3]].std(axis=0), 1.0)


def test_pruned_graphs_share_the_mean_of_their_cells(nb201_benchmark):
    table = proxy_table("nasbench201", (("prune_graph", True),), ("flops",))
    pruned = NasBench201Space(prune_graph=True)
    graphs = [pruned.to_graph(a) for a in nb201_benchmark.archs]
    assert len(table.rows) == len(set(graphs)) < 15625
    full = log_standardised(np.array([pruned.proxies(a)["flops"] for a in nb201_benchmark.archs]))[:, 0]
    first = graphs[0]
    same = [i for i, g in enumerate(graphs) if g == first]
    assert table.features([first], False, "test")[0, 0] == pytest.approx(full[same].mean())


def test_proxy_ridge_is_the_closed_form_ridge_on_the_table_features(cells):
    from sklearn.linear_model import Ridge

    graphs, y = cells
    model = ProxyRidgePredictor("nasbench201", alpha=3.0, encoding=True).fit(graphs[:150], y[:150])
    x = proxy_table("nasbench201", (), ()).features(graphs, True, "test")
    z = (y[:150] - y[:150].mean()) / y[:150].std()
    reference = Ridge(alpha=3.0).fit(x[:150], z).predict(x[150:]) * y[:150].std() + y[:150].mean()
    assert np.allclose(model.predict(graphs[150:]), reference)
    # the proxies carry real signal about accuracy on held-out cells
    assert kendall_tau(y[150:], model.predict(graphs[150:])) > 0.4


def test_the_blend_is_the_weighted_sum_of_the_network_and_the_ridge(cells):
    graphs, y = cells
    train, test = graphs[:120], graphs[120:]
    plain = NNFormer(**TINY, seed=3).fit(train, y[:120])
    blended = NNFormer(**TINY, seed=3, proxy_blend={"space": "nasbench201", "weight": 0.4}).fit(
        train, y[:120]
    )
    own, ridge = blended.predict_parts(test)
    assert ridge is not None
    # the network part is the plain predictor's network: the option adds a ridge, it changes no weight
    assert np.allclose(blended.scaler.inverse(own), plain.predict(test), atol=1e-5)
    assert np.allclose(blended.predict(test), blended.scaler.inverse(0.6 * own + 0.4 * ridge))
    alone = ProxyRidgePredictor("nasbench201", encoding=False).fit(train, y[:120])
    assert np.allclose(blended.scaler.inverse(ridge), alone.predict(test))
    # another setting refits the ridge only
    blended.fit_proxy_blend(ProxySpec.parse({"space": "nasbench201", "weight": 1.0}, "t"), train, y[:120])
    assert np.allclose(blended.predict_parts(test)[0], own)
    assert np.allclose(blended.predict(test), alone.predict(test))


def test_a_cell_the_space_does_not_hold_is_named_before_the_network_trains(cells):
    graphs, y = cells
    pruned = NasBench201Space(prune_graph=True)
    from nasearch.search_spaces.nasbench201.space import str_to_arch

    odd = pruned.to_graph(str_to_arch("|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"))
    predictor = NNFormer(**TINY, proxy_blend={"space": "nasbench201"})
    with pytest.raises(ConfigError, match=r"not a cell of the proxies' space.*prune_graph"):
        predictor.fit([*graphs[:20], odd], np.append(y[:20], 10.0))
    assert predictor.module is None


def test_a_space_without_proxies_is_refused(cells):
    from nasearch.config.registry import SEARCH_SPACES

    class NoProxies(NasBench201Space):
        proxies = None  # type: ignore[assignment]

    SEARCH_SPACES.register("no_proxies_here")(NoProxies)
    try:
        with pytest.raises(
            ConfigError, match="'no_proxies_here' offers no zero-cost proxies.*ZeroCostProxies"
        ):
            NNFormer(**TINY, proxy_blend={"space": "no_proxies_here"}).fit(*cells)
        with pytest.raises(ConfigError, match="offers no zero-cost proxies"):
            ProxyRidgePredictor("no_proxies_here").fit(*cells)
    finally:
        SEARCH_SPACES.unregister("no_proxies_here")
        proxy_table.cache_clear()


def test_an_unknown_proxy_names_the_known_ones(cells):
    with pytest.raises(ConfigError, match="no proxy 'synflo'.*synflow, flops, params"):
        ProxyRidgePredictor("nasbench201", proxies=["synflo"]).fit(*cells)


def test_hardware_conditioned_targets_are_refused(cells):
    graphs, y = cells
    with pytest.raises(ConfigError, match="proxy_blend does not take hardware"):
        NNFormer(**TINY, proxy_blend={"space": "nasbench201"}).fit(graphs[:10], y[:10], hardware=["x"] * 10)


def test_proxy_input_feeds_the_proxies_to_nnformer(cells):
    graphs, y = cells
    options = {"space": "nasbench201", "proxies": ["synflow", "flops", "params"]}
    model = NNFormer(**TINY, seed=2, proxy_input=options).fit(graphs[:120], y[:120])
    assert model.proxy_dim == 4  # log synflow, its zero indicator, log flops, log params
    extra = model.module.extra
    assert extra is not None and extra.weight.abs().sum() > 0  # started at zero, learnt from the labels
    with torch.no_grad():
        extra.weight.zero_()
        extra.bias.zero_()
    # with the map at zero the network is a plain NN-Former: the proxies reach it through that map only
    alone = model.predict(graphs[120:])
    plain = NNFormer(**TINY, seed=2)
    plain._prepare(graphs[:120], None)
    module = plain._build_module()
    state = {k: v for k, v in model.module.state_dict().items() if not k.startswith("extra.")}
    module.load_state_dict(state)
    plain.module, plain.scaler = module, model.scaler
    assert np.allclose(alone, plain.predict(graphs[120:]), atol=1e-5)


def test_plain_nnformer_has_no_proxy_layer_so_cached_pretraining_keys_hold(cells):
    model = NNFormer(**TINY).fit(cells[0][:30], cells[1][:30])
    assert model.module.extra is None and "extra" not in repr(model.module)


def test_proxy_input_is_refused_where_it_cannot_apply():
    from nasearch.predictors.baselines import GINPredictor

    with pytest.raises(ConfigError, match="GIN takes no proxy_input"):
        GINPredictor(proxy_input={"space": "nasbench201"})
    with pytest.raises(ConfigError, match="proxy_input has no key 'weight'"):
        NNFormer(proxy_input={"space": "nasbench201", "weight": 0.5})


def test_proxy_input_defaults_to_the_stored_choice(cells):
    from benchmarks.bench_extra_info import INPUT_GRID
    from benchmarks.report import store_for

    data = store_for().load("predictors:extra_info_input_select").data or {}
    chosen = INPUT_GRID[data["chosen"]]["proxy_input"]
    model = NNFormer(proxy_input={"space": "nasbench201"})
    assert model.proxy_input is not None
    assert model.proxy_input.proxies == DEFAULT_INPUT_PROXIES == tuple(chosen["proxies"])
    fitted = NNFormer(**TINY, proxy_input={"space": "nasbench201"}).fit(cells[0][:30], cells[1][:30])
    assert fitted.proxy_dim == 2  # log synflow and its zero indicator
