"""The NB201 torch network: parameter counts equal the real table, FLOPs the NASLib table, cell maths."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasearch.api.errors import ArchError, ConfigError
from nasearch.data.sources import load_json_table
from nasearch.evaluation.profiling import count_flops, count_params
from nasearch.search_spaces.nasbench201.network import Cell, build_network
from nasearch.search_spaces.nasbench201.space import EDGES, OPS, arch_to_str

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def params_table(nb201_benchmark) -> np.ndarray:
    return nb201_benchmark.column("cifar10/params")


def test_params_match_table_on_a_sample_and_the_extremes(nb201_benchmark, params_table):
    rng = np.random.default_rng(7)
    sample = rng.choice(len(params_table), 40, replace=False).tolist()
    sample += [int(np.argmin(params_table)), int(np.argmax(params_table)), 0, 6111]
    for index in sample:
        arch = nb201_benchmark.arch(index)
        got = count_params(build_network(arch, C=16, N=5, num_classes=10))
        assert got == pytest.approx(params_table[index], abs=5e-7), (index, arch_to_str(arch))


def test_space_network_is_the_same_network(nb201_space, params_table):
    arch = nb201_space.from_index(6111)
    net = nb201_space.network(arch)
    assert count_params(net) == pytest.approx(params_table[6111], abs=5e-7)
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def _naslib_cifar10() -> dict[tuple[str, ...], float]:
    """NAS-Bench-Suite-Zero FLOPs keyed by our 6-op tuple (its op and edge order differ)."""
    raw = load_json_table("nasbench201/naslib/zc_nasbench201.json", "automl/NASLib")["cifar10"]
    naslib_ops = ["skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3"]
    naslib_edges = [(1, 2), (1, 3), (1, 4), (2, 3), (2, 4), (3, 4)]
    out = {}
    for key, value in raw.items():
        codes = [int(c) for c in key.strip("()").split(",")]
        by_edge = {(s - 1, d - 1): naslib_ops[c] for (s, d), c in zip(naslib_edges, codes)}
        out[tuple(by_edge[e] for e in EDGES)] = value["flops"]["score"]
    return out


def test_flops_match_the_naslib_table():
    table = _naslib_cifar10()
    assert len(table) == 725
    items = sorted(table.items())
    rng = np.random.default_rng(3)
    for i in rng.choice(len(items), 25, replace=False):
        arch, flops = items[i]
        assert count_flops(build_network(arch), (3, 32, 32)) == pytest.approx(flops, abs=2e-3), arch


def test_cell_computes_the_nb201_sum_of_edges():
    x = torch.randn(2, 4, 5, 5)
    # all skips: n1 = x, n2 = x + n1 = 2x, n3 = x + n1 + n2 = 4x
    assert torch.allclose(Cell(("skip_connect",) * 6, 4)(x), 4 * x)
    # only none: the output is zero
    assert torch.equal(Cell(("none",) * 6, 4)(x), torch.zeros_like(x))
    # n1 = x, n2 = 0 (none, none), n3 = none(x) + n1 + avg_pool(n2 = 0) = x
    cell = Cell(("skip_connect", "none", "none", "none", "skip_connect", "avg_pool_3x3"), 4)
    assert torch.allclose(cell(x), x)


def test_every_op_builds_and_runs_on_digits_sized_input():
    for op in OPS:
        net = build_network((op,) * 6, C=4, N=1, in_channels=1)
        assert net(torch.randn(3, 1, 8, 8)).shape == (3, 10)


def test_none_cells_carry_no_parameters_and_convs_the_right_number():
    base = count_params(build_network(("none",) * 6, C=8, N=1))
    one_3x3 = count_params(build_network(("nor_conv_3x3",) + ("none",) * 5, C=8, N=1))
    # one 3x3 conv + BN per cell, one cell per stage at 8, 16 and 32 channels
    expected = sum(c * c * 9 + 2 * c for c in (8, 16, 32)) / 1e6
    assert one_3x3 - base == pytest.approx(expected, abs=1e-9)


def test_bad_input_gets_a_clear_error():
    with pytest.raises(ArchError, match="unknown NB201 op"):
        build_network(("conv5x5",) * 6)
    with pytest.raises(ArchError, match="6-op tuple"):
        build_network(("none",) * 5)
    with pytest.raises(ArchError):
        build_network("|none~0|+|")
    with pytest.raises(ConfigError, match="C must be a positive integer"):
        build_network(("none",) * 6, C=0)


def test_nb101_torch_network_matches_its_table_on_a_sample():
    """The NB101 network is the NB101 module's; the training evaluator relies on its counts."""
    from nasearch.search_spaces.nasbench101.network import build_network as build_nb101
    from nasearch.search_spaces.nasbench101.space import NasBench101Space

    space = NasBench101Space()
    bench = space.benchmark()
    rng = np.random.default_rng(11)
    for _ in range(6):
        cell = space.sample(rng)
        want = bench.query(cell, ["cifar10/params"])["cifar10/params"]
        assert count_params(build_nb101(cell)) == pytest.approx(want, abs=5e-7)
