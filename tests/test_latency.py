"""LatencyEvaluator: measures real forward passes with pinned threads; options are checked."""

from __future__ import annotations

import pickle

import pytest
import torch

from nasearch.api.errors import ConfigError
from nasearch.config.registry import EVALUATORS
from nasearch.evaluation.latency import LatencyEvaluator, measure
from nasearch.search_spaces.nasbench201.network import build_network

torch.set_num_threads(1)


def test_latency_of_a_benchmark_cell(nb201_space, nb201_benchmark):
    arch = nb201_space.from_index(6111)
    ev = pickle.loads(pickle.dumps(LatencyEvaluator(nb201_space, warmup=2, repeats=5)))
    result = ev.evaluate(arch)
    m = result.metrics
    assert m["latency_ms"] > 0 and m["latency_iqr_ms"] >= 0
    assert m["params"] == pytest.approx(
        nb201_benchmark.query(arch, ["cifar10/params"])["cifar10/params"], abs=5e-7
    )
    assert 150 < m["flops"] < 160  # the best NB201 cell: 155.6 MFLOPs at 32x32
    assert result.info == {"device": "cpu", "threads": 1, "batch_size": 1}
    assert result.cost_seconds * 1000 >= m["latency_ms"] * 5
    assert ev.objective == "latency_ms" and ev.maximize is False


def test_measure_times_each_repeat_after_the_warmup():
    calls = []

    class Counting(torch.nn.Module):
        def forward(self, x):
            calls.append(x.shape[0])
            return x

    times = measure(Counting(), torch.zeros(4, 3), warmup=3, repeats=7)
    assert len(calls) == 10 and len(times) == 7 and all(t >= 0 for t in times)


def test_batch_size_input_shape_and_network_options_reach_the_network(nb201_space):
    seen = {}

    class Recording:
        def network(self, arch, **options):
            seen.update(options)
            net = build_network(arch, **options)
            original = net.forward

            def forward(x):
                seen["batch"] = tuple(x.shape)
                return original(x)

            net.forward = forward
            return net

    ev = LatencyEvaluator(
        Recording(),
        batch_size=4,
        input_shape=(1, 8, 8),
        network={"C": 4, "N": 1},
        warmup=0,
        repeats=2,
        num_threads=1,
    )
    result = ev.evaluate(("nor_conv_3x3",) * 6)
    assert seen == {"num_classes": 10, "in_channels": 1, "C": 4, "N": 1, "batch": (4, 1, 8, 8)}
    assert result.info["batch_size"] == 4


def test_threads_are_pinned_during_the_measurement_and_restored(nb201_space):
    torch.set_num_threads(2)
    try:
        result = LatencyEvaluator(nb201_space, network={"C": 4, "N": 1}, warmup=0, repeats=2).evaluate(
            ("none",) * 6
        )
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)
    assert result.info["threads"] == 1


def test_registry_and_bad_options(nb201_space):
    assert isinstance(EVALUATORS.create("latency", space=nb201_space, repeats=3), LatencyEvaluator)
    with pytest.raises(ConfigError, match="did you mean 'repeats'"):
        EVALUATORS.create("latency", space=nb201_space, repeat=3)
    with pytest.raises(ConfigError, match="input_shape"):
        LatencyEvaluator(nb201_space, input_shape=(32, 32))
    with pytest.raises(ConfigError, match="batch_size"):
        LatencyEvaluator(nb201_space, batch_size=0)
    with pytest.raises(ConfigError, match="num_threads"):
        LatencyEvaluator(nb201_space, num_threads=0)
    with pytest.raises(ConfigError, match="device must be one of"):
        LatencyEvaluator(nb201_space, device="npu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA GPU"):
            LatencyEvaluator(nb201_space, device="cuda").evaluate(("none",) * 6)


def test_table_accuracy_against_latency_measured_here(nb201_space, nb201_benchmark):
    ev = LatencyEvaluator(
        nb201_space,
        network={"C": 4, "N": 1},
        warmup=0,
        repeats=2,
        extra_metrics=["cifar10-valid/valid_accuracy"],
        objectives=[["cifar10-valid/valid_accuracy", "maximize"], ["latency_ms", "minimize"]],
    )
    assert ev.objectives == [("cifar10-valid/valid_accuracy", True), ("latency_ms", False)]
    arch = nb201_space.from_index(6111)
    got = ev.evaluate(arch).metrics["cifar10-valid/valid_accuracy"]
    assert (
        got == nb201_benchmark.query(arch, ["cifar10-valid/valid_accuracy"])["cifar10-valid/valid_accuracy"]
    )
    with pytest.raises(ConfigError, match="unknown benchmark metric"):
        LatencyEvaluator(nb201_space, extra_metrics=["cifar10/valid_acc"])
    with pytest.raises(ConfigError, match="add table metrics with extra_metrics"):
        LatencyEvaluator(nb201_space, objectives=[["cifar10/test_accuracy", "maximize"]])
