"""The NB101 torch network: its trainable parameters equal count_params (and so the benchmark's params)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasearch.api.errors import ConfigError
from nasearch.search_spaces.nasbench101.index import load_index
from nasearch.search_spaces.nasbench101.network import (
    build_network,
    count_flops,
    count_params,
    vertex_channels,
)
from nasearch.search_spaces.nasbench101.spec import NUM_CELLS


def _trainable(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def test_channel_split_gives_the_remainder_to_the_first_feeders():
    # three vertices feed the output: 128 = 43 + 43 + 42; vertex 1 feeds vertex 2 only (takes its 43)
    matrix = (
        (0, 1, 0, 1, 1, 0),
        (0, 0, 1, 0, 0, 0),
        (0, 0, 0, 0, 0, 1),
        (0, 0, 0, 0, 0, 1),
        (0, 0, 0, 0, 0, 1),
        (0, 0, 0, 0, 0, 0),
    )
    assert vertex_channels(64, 128, matrix) == (64, 43, 43, 43, 42, 128)
    assert vertex_channels(256, 512, matrix)[2:5] == (171, 171, 170)


@pytest.fixture(scope="module")
def cells():
    index = load_index()
    rng = np.random.default_rng(0)
    rows = rng.choice(NUM_CELLS, size=40, replace=False).tolist()
    # make sure the remainder case (three vertices feeding the output) is in the sample
    three = [r for r in range(0, NUM_CELLS, 997) if sum(row[-1] for row in index.cell(r).matrix[1:-1]) == 3]
    extra = three[:5]
    return [index.cell(r) for r in rows + extra] + [index.cell(0)]


def test_torch_parameter_count_equals_the_formula_small(cells):
    torch.manual_seed(0)
    for cell in cells:
        net = build_network(cell, stem_channels=16, num_stacks=2, modules_per_stack=2, num_classes=5)
        expected = count_params(cell, stem_channels=16, num_stacks=2, modules_per_stack=2, num_classes=5)
        assert _trainable(net) == expected


def test_torch_parameter_count_equals_the_benchmark_at_full_size(data_root, cells):
    from nasearch.search_spaces.nasbench101.benchmark import NasBench101Benchmark

    bench = NasBench101Benchmark(data_root, index=load_index())
    for cell in cells[-6:]:
        net = build_network(cell)
        assert _trainable(net) == round(bench.query(cell, ["cifar10/params"])["cifar10/params"] * 1e6)


def test_the_flop_formula_equals_the_profiler_on_the_torch_network(data_root, cells):
    """count_flops (what the space's ``flops`` proxy is) equals profiling.count_flops of the built network,
    small and at full size (the remainder cells included); the ``params`` proxy is the benchmark's column."""
    from nasearch.evaluation.profiling import count_flops as profiled
    from nasearch.search_spaces.nasbench101.benchmark import NasBench101Benchmark
    from nasearch.search_spaces.nasbench101.space import NasBench101Space

    small = {"stem_channels": 8, "num_stacks": 2, "modules_per_stack": 2, "num_classes": 5}
    for cell in cells:
        assert count_flops(cell, **small) == pytest.approx(
            profiled(build_network(cell, **small), (3, 32, 32))
        )
    bench = NasBench101Benchmark(data_root, index=load_index())
    space = NasBench101Space()
    for cell in cells[-3:]:
        assert count_flops(cell) == pytest.approx(profiled(build_network(cell), (3, 32, 32)))
        proxies = space.proxies(cell)
        assert list(proxies) == list(space.proxy_names()) == ["flops", "params"]
        assert proxies["params"] == pytest.approx(bench.query(cell, ["cifar10/params"])["cifar10/params"])
        assert proxies["flops"] == count_flops(cell)


def test_forward_and_backward_on_a_small_network(cells):
    torch.manual_seed(0)
    net = build_network(cells[-1], stem_channels=8, num_stacks=2, modules_per_stack=1)
    x = torch.randn(2, 3, 16, 16)
    out = net(x)
    assert out.shape == (2, 10)
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_bad_options_are_one_clear_error(cells):
    with pytest.raises(ConfigError, match="stem_channels must be a positive integer"):
        build_network(cells[0], stem_channels=0)
    with pytest.raises(ConfigError, match="cannot build an NB101 network"):
        build_network([1, 2, 3])
    spec = {"matrix": [[0, 1], [0, 0]], "ops": ["input", "output"]}
    net = build_network(spec, stem_channels=8, num_stacks=1)
    assert _trainable(net) == count_params(
        cells[0].__class__(((0, 1), (0, 0)), ("input", "output")), stem_channels=8, num_stacks=1
    )


def test_the_proxy_cache_round_trips_and_refuses_a_damaged_file(tmp_path):
    """The cached table of every cell's proxies reads back as written (values and the count's seconds);
    a truncated file is one DataError naming the cache, never read as proxies."""
    from nasearch.api.errors import DataError
    from nasearch.search_spaces.nasbench101.proxy_cache import ProxyCounts, read_proxies, save_proxies

    counts = ProxyCounts(np.arange(NUM_CELLS * 2, dtype=np.float64).reshape(-1, 2), 12.5)
    path = tmp_path / "proxies.npz"
    save_proxies(counts, path)
    back = read_proxies(path)
    assert np.array_equal(back.values, counts.values) and back.seconds == 12.5
    assert back.of_row(3) == {"flops": 6.0, "params": 7.0}
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match="NB101 proxy cache"):
        read_proxies(path)
