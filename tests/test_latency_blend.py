"""The ``blend`` zero-shot latency estimator on the real HELP tables: what it reads, its grid, its choice."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nasearch.api.errors import ConfigError
from nasearch.data.devices import load_devices
from nasearch.metrics.front import rank_agreement
from nasearch.search_spaces.nasbench201.benchmark import HELP_DEVICES
from nasearch.search_spaces.nasbench201.latency_blend import (
    DescribedBlend,
    Recipe,
    kernel_weights,
)
from nasearch.search_spaces.nasbench201.latency_models import (
    NearestDevice,
    ParamsFlops,
    build_task,
    description_distance,
    die_of,
)


def _die_out(target: str) -> list[str]:
    return [d for d in HELP_DEVICES if die_of(d) != die_of(target)]


def _same_order(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(rank_agreement(a, b).kendall_tau > 1 - 1e-9)


def test_perturbing_the_target_s_measurements_leaves_its_prediction_unchanged(
    nb201_space, monkeypatch
) -> None:
    from nasearch.search_spaces.nasbench201 import latency_blend

    target = "samsung_a50"
    task = build_task(nb201_space, load_devices()[target], _die_out(target))
    monkeypatch.setattr(latency_blend, "_TAUS", {})  # every τ recomputed from what the task reads
    blend = DescribedBlend(cache=False)  # the default, the choice computed (not read from the cache folder)
    before = blend.estimate(task)  # the selection rule chosen by nested LODO
    monkeypatch.setattr(latency_blend, "_TAUS", {})
    bench = nb201_space.benchmark()
    column = bench.column

    def shuffling(which: str):  # ``which``'s column reordered, every other one as stored
        rng = np.random.default_rng(0)
        return lambda name: (
            rng.permutation(np.asarray(column(name))) if name == f"latency/{which}" else column(name)
        )

    monkeypatch.setattr(bench, "column", shuffling(target))
    after = blend.estimate(build_task(nb201_space, load_devices()[target], _die_out(target)))
    np.testing.assert_array_equal(after, before)
    # the same shuffle of a training setting's table changes the prediction: the check can fail
    monkeypatch.setattr(bench, "column", shuffling("samsung_s7"))
    other = blend.estimate(build_task(nb201_space, load_devices()[target], _die_out(target)))
    assert not np.allclose(other, before)


def test_the_grid_holds_the_baselines_it_blends(nb201_space) -> None:
    target = load_devices()["titan_rtx_256"]
    task = build_task(nb201_space, target, _die_out("titan_rtx_256"))
    blend = DescribedBlend()
    assert _same_order(blend.predict(task, Recipe(0.0, 0.0, 1.0)), NearestDevice().estimate(task))
    # bandwidth inf: every table alike, each standardised first (unlike geomean_all, whose log tables keep
    # their spread), by hand
    logs = np.log(task.measured)
    by_hand = ((logs - logs.mean(axis=1, keepdims=True)) / logs.std(axis=1, keepdims=True)).mean(axis=0)
    assert _same_order(blend.predict(task, Recipe(math.inf, 0.0, 1.0)), by_hand)
    assert _same_order(blend.predict(task, Recipe(2.0, 1.0, 4.0)), ParamsFlops().estimate(task))
    # the ms scale: the nearest device's own table, as it was measured
    nearest = task.measured[task.devices.index(NearestDevice().nearest(task))]
    np.testing.assert_allclose(blend.predict(task, Recipe(0.0, 0.0, 1.0)), nearest, rtol=1e-9)


def test_kernel_weights_by_hand() -> None:
    table = load_devices()
    target = table["titan_rtx_32"]
    devices = [table[d] for d in ("titanxp_32", "titanxp_256", "gold_6240")]
    d = [description_distance(target, x) for x in devices]
    w = kernel_weights(target, devices, Recipe(1.0, 0.0, 1.0))
    assert w.sum() == pytest.approx(1.0)
    assert w[1] / w[0] == pytest.approx(math.exp(d[0] - d[1]))
    # batch weight 4: the batch-size term |log 256/32| counts four times
    w4 = kernel_weights(target, devices, Recipe(1.0, 0.0, 4.0))
    assert w4[1] / w4[0] == pytest.approx(math.exp(d[0] - d[1] - 3 * math.log(8)))
    assert list(kernel_weights(target, devices, Recipe(0.0, 0.0, 1.0))) == [1.0, 0.0, 0.0]
    assert list(kernel_weights(target, devices, Recipe(math.inf, 0.0, 1.0))) == pytest.approx([1 / 3] * 3)


def test_the_choice_is_the_description_weighted_mean_of_the_pseudo_targets_scores(nb201_space) -> None:
    target = load_devices()["gold_6226"]
    devices = ["gold_6240", "silver_4114", "1080ti_32", "titanxp_32", "pixel3"]
    task = build_task(nb201_space, target, devices)
    blend = DescribedBlend(bandwidths=[0.0, math.inf], pf_weights=[0.0, 1.0], batch_weights=[1.0])
    pseudo, scores = blend.recipe_scores(task)
    assert pseudo == devices  # every one has another die to be predicted from
    assert scores.shape == (5, 4) and np.isfinite(scores).all()
    votes = np.exp(-np.asarray([description_distance(target, load_devices()[u]) for u in pseudo]))
    chosen, means = blend.choose(task)
    np.testing.assert_allclose(means, votes @ scores / votes.sum())
    assert chosen == blend.grid[int(np.argmax(means))]
    # the GP102 cards leave together when one of them is the pseudo-target: 1080ti_32 is never
    # predicted from titanxp_32 (its nearest-device recipe then is another setting's table)
    near = blend.grid.index(Recipe(0.0, 0.0, 1.0))
    truth = np.log(task.measured[2])
    xp = np.log(task.measured[3])
    assert scores[2, near] < rank_agreement(xp, truth).kendall_tau - 0.05


def test_it_reproduces_a_training_setting_whose_die_stays_in_training(nb201_space) -> None:
    for name in ("titan_rtx_32", "pixel3"):
        task = build_task(nb201_space, load_devices()[name], list(HELP_DEVICES))
        pred = DescribedBlend().estimate(task)
        true = np.asarray(nb201_space.benchmark().column(f"latency/{name}"), dtype=float)
        assert rank_agreement(pred, true).kendall_tau > 0.9


@pytest.mark.parametrize(
    "options",
    [
        {"bandwidths": []},
        {"pf_weights": [1.5]},
        {"batch_weights": ["x"]},
        {"selection_bandwidth": 0},
        {"vote_batch_weight": -1},
        {"holdout": "card"},
        {"selection": "best"},
    ],
)
def test_a_bad_option_is_one_config_error(options) -> None:
    with pytest.raises(ConfigError, match="latency model blend"):
        DescribedBlend(**options)
