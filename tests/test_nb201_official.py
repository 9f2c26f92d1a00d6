"""The official NAS-Bench-201 file reader, on a small file built with nas-bench-201's own classes.

The numbers in the file are made up (a parser test); the real tables are tested elsewhere.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
from nas_201_api.api_utils import ArchResults, ResultsCount

from nasearch.api.errors import DataError
from nasearch.search_spaces.nasbench201.official import OfficialNasBench201Benchmark
from nasearch.search_spaces.nasbench201.space import NasBench201Space

ARCHS = [
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|",
]


def _trial(name: str, seed: int, epochs: int, acc: float, params: float, sets: list[str]) -> ResultsCount:
    result = ResultsCount(
        name,
        None,
        {e: acc - 10 for e in range(epochs)},
        {e: 1.0 for e in range(epochs)},
        params,
        10 * params,
        {"arch_str": "x"},
        seed,
        epochs,
        None,
    )
    result.update_train_info(
        {e: acc - 10 for e in range(epochs)},
        None,
        {e: 1.0 for e in range(epochs)},
        {e: 5.0 for e in range(epochs)},
    )
    accs, losses, times = {}, {}, {}
    for k, s in enumerate(sets):
        for e in range(epochs):
            accs[f"{s}@{e}"] = acc + k + seed / 10
            losses[f"{s}@{e}"] = 0.5
            times[f"{s}@{e}"] = 1.0
    result.update_eval(accs, losses, times)
    return result


def _arch_results(index: int, epochs: int, base: float) -> ArchResults:
    res = ArchResults(index, ARCHS[index])
    for ds, sets in (
        ("cifar10-valid", ["x-valid", "ori-test"]),
        ("cifar10", ["ori-test"]),
        ("cifar100", ["x-valid", "x-test", "ori-test"]),
        ("ImageNet16-120", ["x-valid", "x-test", "ori-test"]),
    ):
        for seed in (777, 888):
            res.update(ds, seed, _trial(ds, seed, epochs, base + index, 0.5 + index, sets))
    return res


@pytest.fixture(scope="module")
def official_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    arch2infos = OrderedDict(
        (
            i,
            {
                "less": _arch_results(i, 12, 50.0).state_dict(),
                "full": _arch_results(i, 200, 80.0).state_dict(),
            },
        )
        for i in range(len(ARCHS))
    )
    path = tmp_path_factory.mktemp("nb201") / "NAS-Bench-201-v1_1-096897.pth"
    torch.save({"meta_archs": ARCHS, "arch2infos": arch2infos, "evaluated_indexes": [0, 1]}, path)
    return path


def test_reads_metrics_by_string_and_index(official_file: Path) -> None:
    bench = OfficialNasBench201Benchmark(official_file)
    # mean over seeds 777 and 888 of acc + set offset + seed/10
    rec = bench.query(
        1, ["cifar10-valid/valid_accuracy", "cifar10-valid/test_accuracy", "cifar100/valid_accuracy"]
    )
    assert rec["cifar10-valid/valid_accuracy"] == pytest.approx(81.0 + 83.25)
    assert rec["cifar10-valid/test_accuracy"] == pytest.approx(82.0 + 83.25)
    assert rec["cifar100/valid_accuracy"] == pytest.approx(81.0 + 83.25)
    assert bench.query(ARCHS[0], ["cifar10/test_accuracy@12ep"])[
        "cifar10/test_accuracy@12ep"
    ] == pytest.approx(50.0 + 83.25)
    assert bench.query(0, ["cifar10/params"])["cifar10/params"] == pytest.approx(0.5)
    assert bench.query(0, ["cifar10-valid/train_time"])["cifar10-valid/train_time"] == pytest.approx(1000.0)


def test_space_uses_official_file(official_file: Path) -> None:
    space = NasBench201Space(benchmark_file=str(official_file))
    arch = space.parse(ARCHS[1])
    record = space.benchmark().record(arch)
    assert record["index"] == 1 and record["source"] == official_file.name
    assert np.isclose(record["ImageNet16-120/test_accuracy"], 82.0 + 83.25)


def test_corrupted_official_file_gives_one_error(tmp_path: Path) -> None:
    bad = tmp_path / "NAS-Bench-201-v1_1-096897.pth"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(DataError, match="cannot read official NAS-Bench-201 file"):
        OfficialNasBench201Benchmark(bad)
