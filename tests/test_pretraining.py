"""Unlabeled pre-training on every NB201 cell's zero-cost proxies: the option, its cache, what it learns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from nasearch.api.errors import ConfigError
from nasearch.data import cache_check
from nasearch.predictors.baselines import GINPredictor, MLPPredictor
from nasearch.predictors.nnformer import NNFormer
from nasearch.predictors.pretraining import PretrainSpec, pretrained_module, rank_standardised, space_cells
from nasearch.predictors.training import predict_regressor

torch.set_num_threads(1)

#: a small, quick pre-training run (the benchmark's are thousands of steps)
PRETRAIN = {"space": "nasbench201", "proxies": ["synflow"], "steps": 150, "batch_size": 128, "lr": 3e-3}
TINY = {"dim": 16, "layers": 1, "heads": 4, "epochs": 20, "batch_size": 16, "threads": 1}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NASEARCH_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def labelled(nb201_benchmark, nb201_space):
    cells = list(range(40))
    graphs = [nb201_space.to_graph(nb201_benchmark.arch(i)) for i in cells]
    y = nb201_benchmark.column("cifar10-valid/valid_accuracy")[cells]
    return graphs, y


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"proxies": ["synflow"]}, "needs space"),
        ({"space": "nasbench201", "step": 10}, "no key 'step'.*steps"),
        ({"space": "nasbench201", "proxies": "synflow"}, "non-empty list"),
        ({"space": "nasbench201", "steps": 0}, "steps must be >= 1"),
        ("nasbench201", "must be a mapping"),
    ],
)
def test_a_bad_pretrain_option_is_one_clear_error(value, message):
    with pytest.raises(ConfigError, match=message):
        NNFormer(pretrain=value)


def test_an_unknown_proxy_names_the_known_ones(cache, labelled):
    predictor = NNFormer(**TINY, pretrain={**PRETRAIN, "proxies": ["synflo"]})
    with pytest.raises(ConfigError, match="no proxy 'synflo'.*synflow.*flops, params"):
        predictor.fit(*labelled)


def test_rank_standardised_is_ranks_with_ties_shared():
    z = rank_standardised(np.array([10.0, 1e40, 0.0, 10.0]))
    assert z.mean() == pytest.approx(0.0) and z.std() == pytest.approx(1.0)
    assert z[0] == z[3] and z[2] < z[0] < z[1]


def test_pretraining_learns_the_proxies_of_every_cell_and_is_cached(cache, labelled, capsys):
    predictor = NNFormer(**TINY, pretrain=PRETRAIN)
    predictor.fit(*labelled)
    first = predictor.pretrained
    assert first is not None and not first.loaded and first.seconds > 0
    path = Path(first.path)
    assert path.parent == cache / "pretrained" and cache_check.problem(path) is None

    # the pre-trained weights rank all 15,625 cells as their synflow does (no accuracy label seen)
    cells = space_cells(PretrainSpec.parse(PRETRAIN))
    again = NNFormer(**TINY, pretrain=PRETRAIN)
    module, loaded = pretrained_module(again, again.pretrain, labelled[0])
    assert loaded.loaded and loaded.seconds == 0.0 and loaded.path == first.path
    pred = predict_regressor(module, again._encode(cells.graphs, None), 2048)
    assert spearmanr(pred, cells.target).statistic > 0.6

    # a second fit with the same seed loads them and gives the same predictor
    twin = NNFormer(**TINY, pretrain=PRETRAIN).fit(*labelled)
    assert twin.pretrained is not None and twin.pretrained.loaded
    assert np.array_equal(twin.predict(labelled[0]), predictor.predict(labelled[0]))
    plain = NNFormer(**TINY).fit(*labelled)
    assert plain.pretrained is None and not np.allclose(
        plain.predict(labelled[0]), predictor.predict(labelled[0])
    )

    # a damaged cache file is pre-trained again, with one line naming it
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    capsys.readouterr()
    redone = NNFormer(**TINY, pretrain=PRETRAIN).fit(*labelled)
    assert redone.pretrained is not None and not redone.pretrained.loaded
    assert "pre-trained weights" in capsys.readouterr().err and cache_check.problem(path) is None
    assert np.array_equal(redone.predict(labelled[0]), predictor.predict(labelled[0]))


@pytest.mark.parametrize("cls", [GINPredictor, MLPPredictor])
def test_gin_and_mlp_take_the_same_option(cls, cache, labelled):
    options = {"epochs": 10, "batch_size": 16, "threads": 1, "pretrain": {**PRETRAIN, "steps": 20}}
    predictor = cls(**options).fit(*labelled)
    assert predictor.pretrained is not None and not predictor.pretrained.loaded
    assert np.isfinite(predictor.predict(labelled[0])).all()
    assert cls(**options).fit(*labelled).pretrained.loaded


def test_a_space_without_proxies_is_refused(cache, labelled):
    from nasearch.config.registry import SEARCH_SPACES
    from nasearch.search_spaces.nasbench201.space import NasBench201Space

    class NoProxies(NasBench201Space):
        proxies = None  # type: ignore[assignment]

    SEARCH_SPACES.register("no_proxies_space")(NoProxies)
    try:
        with pytest.raises(ConfigError, match="'no_proxies_space' must offer enumerate and proxies"):
            NNFormer(**TINY, pretrain={"space": "no_proxies_space"}).fit(*labelled)
    finally:
        SEARCH_SPACES.unregister("no_proxies_space")


def test_pretrain_with_proxy_input_pretrains_blind_to_the_proxies(cache, labelled):
    """Pre-training regresses the proxies' rank, so it must not see them: the cached pre-trained weights
    keep the input map at its zero start; the fine-tune on the labels then learns it. The cache key
    differs from the plain pre-training's (the module holds the map)."""
    graphs, y = labelled
    model = NNFormer(**TINY, pretrain=PRETRAIN, proxy_input={"space": "nasbench201"}).fit(graphs, y)
    assert model.pretrained is not None and not model.pretrained.loaded
    state = torch.load(model.pretrained.path, map_location="cpu", weights_only=True)
    assert state["extra.weight"].abs().sum() == 0 and state["extra.bias"].abs().sum() == 0
    assert model.module.extra is not None and model.module.extra.weight.abs().sum() > 0
    plain = NNFormer(**TINY, pretrain=PRETRAIN).fit(graphs, y)
    assert plain.pretrained is not None and plain.pretrained.path != model.pretrained.path
    again = NNFormer(**TINY, pretrain=PRETRAIN, proxy_input={"space": "nasbench201"}).fit(graphs, y)
    assert again.pretrained is not None and again.pretrained.loaded
    assert np.allclose(again.predict(graphs), model.predict(graphs), atol=1e-5)
