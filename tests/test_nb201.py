"""NAS-Bench-201 on the real tables: published optima, index order, space operations, bad input."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from nasearch.api.errors import ArchError, DataError
from nasearch.search_spaces.nasbench201.benchmark import HELP_DEVICES, NasBench201Benchmark
from nasearch.search_spaces.nasbench201.space import EDGES, OPS, NasBench201Space, arch_to_str, str_to_arch

BEST_C10 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


@pytest.mark.parametrize(
    ("metric", "optimum", "argmax"),
    [
        ("cifar10-valid/valid_accuracy", 91.61, 6111),
        ("cifar10/test_accuracy", 94.37, 6111),
        ("cifar100/test_accuracy", 73.51, 9930),
        ("ImageNet16-120/test_accuracy", 47.31, 857),
    ],
)
def test_published_optima(
    nb201_benchmark: NasBench201Benchmark, metric: str, optimum: float, argmax: int
) -> None:
    column = nb201_benchmark.column(metric)
    assert column.shape == (15625,)
    assert round(float(column.max()), 2) == optimum
    assert int(column.argmax()) == argmax


def test_index_order_is_official(nb201_benchmark: NasBench201Benchmark) -> None:
    assert arch_to_str(nb201_benchmark.arch(0)) == (
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
    )
    assert arch_to_str(nb201_benchmark.arch(6111)) == BEST_C10
    assert nb201_benchmark.index(BEST_C10) == 6111
    assert len(set(nb201_benchmark.archs)) == 15625


def test_queries_by_string_index_tuple_and_graph_agree(nb201_benchmark: NasBench201Benchmark) -> None:
    space = NasBench201Space()
    arch = str_to_arch(BEST_C10)
    by_str = nb201_benchmark.query(BEST_C10, ["cifar10-valid/valid_accuracy"])
    by_idx = nb201_benchmark.query(6111, ["cifar10-valid/valid_accuracy"])
    by_graph = nb201_benchmark.query(space.to_graph(arch), ["cifar10-valid/valid_accuracy"])
    assert by_str == by_idx == by_graph
    assert by_idx["cifar10-valid/valid_accuracy"] == pytest.approx(91.60666665)


def test_every_table_and_unit(nb201_benchmark: NasBench201Benchmark) -> None:
    rec = nb201_benchmark.record(0)
    # the HW-NAS-Bench README's values for arch 0 on cifar10 (ms)
    assert rec["latency/raspi4"] == pytest.approx(10.481976820010459)
    assert rec["latency/pixel3"] == pytest.approx(3.6058499999999998)
    assert rec["cifar10-valid/valid_accuracy"] == pytest.approx(81.98266666)
    assert rec["ImageNet16-120/params"] == pytest.approx(0.136456)  # raw counts converted to millions
    assert rec["cifar10/params"] == pytest.approx(0.129306)
    assert rec["latency/desktop_cpu_i7_7820x"] == pytest.approx(3.896705865859985)  # seconds -> ms
    assert all(f"latency/{d}" in rec for d in HELP_DEVICES) and len(HELP_DEVICES) == 27
    # 12 epochs is a lower fidelity than 200
    low = nb201_benchmark.column("cifar10/test_accuracy@12ep")
    high = nb201_benchmark.column("cifar10/test_accuracy")
    assert low.max() < high.max()
    train_time = nb201_benchmark.column("cifar10-valid/train_time")
    assert 500 < train_time.min() < train_time.max() < 3500


def test_brp_table_misses_exactly_the_disconnected_cells(nb201_benchmark: NasBench201Benchmark) -> None:
    latency = nb201_benchmark.column("latency/desktop_cpu_i7_7820x")
    missing = np.flatnonzero(np.isnan(latency))
    assert len(missing) == 341
    space = NasBench201Space(prune_graph=True)
    for i in missing[:50]:
        graph = space.to_graph(nb201_benchmark.arch(int(i)))
        assert graph.n_edges == 0  # the output is cut off from the input


def test_unique_keys_over_the_space() -> None:
    space = NasBench201Space()
    archs = list(space.enumerate_product())
    assert len(archs) == 15625
    assert len({space.key(a) for a in archs}) == 6466  # the NAS-Bench-201 paper's unique-cell count
    pruned = NasBench201Space(prune_graph=True)
    assert len({pruned.to_graph(a).key for a in archs}) == 8765


def test_isomorphic_cells_share_a_key() -> None:
    space = NasBench201Space()
    a = str_to_arch("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")
    b = str_to_arch("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|avg_pool_3x3~2|")
    assert space.key(a) != space.key(b)
    # an op on an edge out of a dead node changes nothing
    c = str_to_arch("|none~0|+|none~0|nor_conv_1x1~1|+|skip_connect~0|none~1|none~2|")
    d = str_to_arch("|none~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|")
    assert space.key(c) == space.key(d)


def test_graph_form() -> None:
    space = NasBench201Space()
    graph = space.to_graph(str_to_arch(BEST_C10))
    assert graph.ops[0] == "input" and graph.ops[-1] == "output" and graph.n_nodes == 8
    # input feeds the three edges that start at cell node 0
    assert graph.successors(0) == [1, 2, 4]
    # edge 0->1 feeds the edges that start at node 1; all edges into node 3 feed the output
    assert graph.successors(1) == [3, 5]
    assert graph.predecessors(7) == [4, 5, 6]
    pruned = NasBench201Space(prune_graph=True).to_graph(
        str_to_arch("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")
    )
    assert pruned.ops == ("input", "skip_connect", "output")


def test_sample_mutate_neighbours() -> None:
    space = NasBench201Space()
    rng = np.random.default_rng(0)
    arch = space.sample(rng)
    seen = set()
    for _ in range(200):
        child = space.mutate(arch, rng)
        assert sum(x != y for x, y in zip(arch, child)) == 1
        seen.add(child)
    assert len(seen) > 15
    neighbours = space.neighbours(arch)
    assert len(neighbours) == len(set(neighbours)) == len(EDGES) * (len(OPS) - 1)
    assert space.from_str(space.to_str(arch)) == arch
    params = space.to_categorical(arch)
    assert space.from_categorical(params) == arch


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("|nor_conv_3x3~0|+|none~0|none~1|", "has 2 node groups"),
        ("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown op 'conv'"),
        ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "must come from node 0"),
        ("|none~0|+|none~0|+|none~0|none~1|none~2|", "node 2 has 1 input edge"),
        ("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "start and end with '|'"),
    ],
)
def test_malformed_arch_strings(text: str, message: str) -> None:
    with pytest.raises(ArchError, match=message):
        str_to_arch(text)


def test_bad_index(nb201_benchmark: NasBench201Benchmark) -> None:
    with pytest.raises(ArchError, match="out of range"):
        nb201_benchmark.index(15625)


def _copy_data(src: Path, dst: Path) -> Path:
    """A data folder holding plain-CSV copies of the embedded NB201 tables (to damage in tests)."""
    for gz in (src / "nasbench201").rglob("*.csv.gz"):
        target = dst / gz.relative_to(src).with_suffix("")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(gzip.decompress(gz.read_bytes()))
    return dst


def test_a_data_folder_overrides_a_table_and_the_rest_stay_embedded(data_root: Path, tmp_path: Path) -> None:
    root = _copy_data(data_root, tmp_path)
    path = root / "nasbench201/freerea/cifar10/accuracies.csv"
    lines = path.read_text().splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("6111,"))
    lines[row] = "6111,12.5"
    path.write_text("\n".join(lines) + "\n")
    (root / "nasbench201/freerea/cifar100/accuracies.csv").unlink()
    bench = NasBench201Benchmark(root)
    assert bench.query(6111, ["cifar10/test_accuracy"]) == {"cifar10/test_accuracy": 12.5}  # the override
    assert (
        round(bench.query(6111, ["cifar100/test_accuracy"])["cifar100/test_accuracy"], 2) == 73.22
    )  # embedded


def test_corrupted_table_gives_one_clear_error(data_root: Path, tmp_path: Path) -> None:
    root = _copy_data(data_root, tmp_path)
    path = root / "nasbench201/freerea/cifar10/accuracies.csv"
    path.write_text("index,accuracy\n0,85.0\n1,not-a-number\n")
    with pytest.raises(DataError, match="rows, expected 15625"):
        NasBench201Benchmark(root).column("cifar10/test_accuracy")
    path.write_bytes(b"\x00\x01garbage")
    with pytest.raises(DataError, match="accuracies.csv"):
        NasBench201Benchmark(root).column("cifar10/test_accuracy")


def test_misaligned_arch_strings_are_detected(data_root: Path, tmp_path: Path) -> None:
    root = _copy_data(data_root, tmp_path)
    path = root / "nasbench201/nas-landscapes/cifar10_avg.csv"
    lines = path.read_text().splitlines()
    header, rows = lines[0], lines[1:]
    # swap the arch strings of two rows, keep their indices
    cols0, cols1 = rows[0].split(","), rows[1].split(",")
    cols0[5], cols1[5] = cols1[5], cols0[5]
    rows[0], rows[1] = ",".join(cols0), ",".join(cols1)
    path.write_text("\n".join([header, *rows]))
    bench = NasBench201Benchmark(root)
    _ = bench.archs  # the order comes from the 12-epoch table
    with pytest.raises(DataError, match="disagrees with the official NB201 index order"):
        bench.column("cifar10-valid/valid_accuracy")


def test_no_data_folder_needed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NASEARCH_DATA", raising=False)
    assert (
        round(
            NasBench201Benchmark().query(6111, ["cifar10-valid/valid_accuracy"])[
                "cifar10-valid/valid_accuracy"
            ],
            2,
        )
        == 91.61
    )
    with pytest.raises(DataError, match="does not exist"):
        NasBench201Benchmark(tmp_path / "nope")
    monkeypatch.setenv("NASEARCH_DATA", str(tmp_path / "gone"))
    with pytest.raises(DataError, match="NASEARCH_DATA"):
        NasBench201Benchmark()
