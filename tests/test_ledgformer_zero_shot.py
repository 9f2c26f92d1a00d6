"""The latency protocols on the real HELP table: no leakage of the held-out device, end to end via compare."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from nasearch.api.errors import ConfigError
from nasearch.cli.main import main
from nasearch.compare import CompareConfig, Task, get_protocol
from nasearch.search_spaces.nasbench201.space import NasBench201Space

REPO = Path(__file__).resolve().parent.parent
POOL = ["1080ti_1", "2080ti_1", "titan_rtx_1", "pixel3", "fpga"]


@pytest.fixture(scope="module")
def task(nb201_benchmark):
    space = NasBench201Space()
    space._benchmark = nb201_benchmark
    return Task(space, nb201_benchmark)


def _config(protocol: str, **options) -> CompareConfig:
    return CompareConfig(
        name="t",
        sizes=[50],
        predictors={"x": {}},
        train_metric="latency/*",
        relative_metrics=True,
        protocol=protocol,
        test_subsample=400,
        protocol_options={"devices": POOL, **options},
    )


def test_leave_one_device_out_never_trains_on_the_held_out_device(task):
    splits = list(get_protocol("leave_one_device_out")(task, 50, 0, _config("leave_one_device_out")))
    assert [s.info["device"] for s in splits] == POOL
    for split in splits:
        held = split.info["device"]
        assert held not in split.hardware_train
        assert sorted(set(split.hardware_train)) == sorted(d for d in POOL if d != held)
        assert split.train.size == 50 * (len(POOL) - 1) == len(split.hardware_train) == split.y_train.size
        assert not set(split.train) & set(split.test)  # test cells never seen, on any device
        assert split.hardware_test == [held] * split.test.size and split.test.size == 400
        np.testing.assert_array_equal(split.y_test, task.column(f"latency/{held}")[split.test])
        # targets follow their row's device
        first_other = split.hardware_train[0]
        expected = task.column(f"latency/{first_other}")[split.train[:50]]
        np.testing.assert_array_equal(split.y_train[:50], expected)


def test_leave_one_chip_out_never_trains_on_any_setting_of_the_held_out_chip(task):
    """All 27 HELP settings: holding out one setting removes every batch size / precision of its
    chip (and a chip shared by two products, Snapdragon 835 in pixel2 and essential_ph_1)."""
    from nasearch.data.devices import load_devices
    from nasearch.search_spaces.nasbench201.benchmark import HELP_DEVICES
    from nasearch.search_spaces.nasbench201.protocols import chip_groups

    table = load_devices()
    config = CompareConfig(
        name="t",
        sizes=[30],
        predictors={"x": {}},
        train_metric="latency/*",
        relative_metrics=True,
        protocol="leave_one_chip_out",
        test_subsample=200,
    )
    splits = list(get_protocol("leave_one_chip_out")(task, 30, 0, config))
    assert [s.info["device"] for s in splits] == list(HELP_DEVICES)
    for split in splits:
        held = split.info["device"]
        chip = table[held].chip
        same_chip = {d for d in HELP_DEVICES if table[d].chip == chip}
        assert not same_chip & set(split.hardware_train)
        assert {table[d].chip for d in split.hardware_train}.isdisjoint({chip})
        assert set(split.hardware_train) == set(HELP_DEVICES) - same_chip
        assert split.info["chip"] == chip and split.info["held_out_settings"] == len(same_chip)
        assert not set(split.train) & set(split.test)
    by = {s.info["device"]: s for s in splits}
    assert {"1080ti_32", "1080ti_256"}.isdisjoint(by["1080ti_1"].hardware_train)
    assert "essential_ph_1" not in by["pixel2"].hardware_train
    # the unseen-setting protocol keeps the chip's other batch sizes: the difference the two measure
    (setting,) = get_protocol("leave_one_setting_out")(
        task,
        30,
        0,
        CompareConfig(
            name="t",
            sizes=[30],
            predictors={"x": {}},
            train_metric="latency/*",
            protocol="leave_one_setting_out",
            protocol_options={"holdout": ["1080ti_1"]},
        ),
    )
    assert {"1080ti_32", "1080ti_256"} <= set(setting.hardware_train)
    assert chip_groups(["1080ti_1", "pixel2", "1080ti_32", "essential_ph_1"]) == {
        table["1080ti_1"].chip: ["1080ti_1", "1080ti_32"],
        table["pixel2"].chip: ["pixel2", "essential_ph_1"],
    }


def test_few_shot_adds_k_cells_of_the_held_out_device(task):
    config = _config("leave_one_device_out", holdout=["pixel3"], shots=7)
    (split,) = get_protocol("leave_one_device_out")(task, 50, 0, config)
    shot_rows = [i for i, d in enumerate(split.hardware_train) if d == "pixel3"]
    assert len(shot_rows) == 7 and split.info["shots"] == 7
    assert not set(split.train[shot_rows]) & set(split.test)


def test_per_device_trains_and_tests_on_one_device(task):
    config = _config("per_device", holdout=["2080ti_1", "fpga"])
    splits = list(get_protocol("per_device")(task, 50, 0, config))
    assert [s.info["device"] for s in splits] == ["2080ti_1", "fpga"]
    for split in splits:
        d = split.info["device"]
        assert set(split.hardware_train) == set(split.hardware_test) == {d}
        assert split.train.size == 50 and not set(split.train) & set(split.test)


def test_bad_protocol_options_are_named(task):
    with pytest.raises(ConfigError, match="unknown device 'pixel9'"):
        list(get_protocol("per_device")(task, 50, 0, _config("per_device", holdout=["pixel9"])))
    with pytest.raises(ConfigError, match="did you mean 'holdout'"):
        list(get_protocol("per_device")(task, 50, 0, _config("per_device", hold_out=["fpga"])))


def test_zero_shot_end_to_end_through_nasearch_compare(tmp_path, data_root):
    out = tmp_path / "zs"
    code = main(
        [
            "compare",
            str(REPO / "runs" / "latency_nb201.yaml"),
            "--out",
            str(out),
            "--sizes",
            "40",
            "--predictors",
            "ledgformer,params_linear",
            "--set",
            f"protocol_options.devices={POOL}".replace("'", ""),
            "--set",
            "protocol_options.holdout=[titan_rtx_1,pixel3]",
            "--set",
            "test_subsample=300",
            "--set",
            "predictors.ledgformer.epochs=8",
            "--set",
            "predictors.ledgformer.dim=16",
            "--set",
            "threads=1",
        ]
    )
    assert code == 0
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert [(r["predictor"], r["device"]) for r in rows] == [
        ("ledgformer", "titan_rtx_1"),
        ("params_linear", "titan_rtx_1"),
        ("ledgformer", "pixel3"),
        ("params_linear", "pixel3"),
    ]
    for r in rows:
        assert r["protocol"] == "leave_one_device_out" and r["test_metric"] == f"latency/{r['device']}"
        assert float(r["mape"]) > 0 and 0 <= float(r["acc10"]) <= 100 and -1 <= float(r["kendall_tau"]) <= 1
    # even this tiny fit ranks the unseen GPU's latencies well from its description alone
    by = {(r["predictor"], r["device"]): r for r in rows}
    assert float(by["ledgformer", "titan_rtx_1"]["kendall_tau"]) > 0.5
    assert (out / "curves.png").stat().st_size > 0


def test_settings_of_one_held_out_chip_share_one_fit(task, tmp_path):
    """Holding out any setting of a chip trains on the same rows: compare fits once per chip and
    scores that model on each setting (the fit count, not only the timing, says so)."""
    from nasearch.compare import run_compare
    from nasearch.config.registry import PREDICTORS

    fits = []
    base = PREDICTORS.get("params_linear")

    class Counting(base):
        def fit(self, graphs, y, hardware=None):
            fits.append(len(y))
            return super().fit(graphs, y, hardware)

    PREDICTORS.register("counting_linear_test")(Counting)
    try:
        config = CompareConfig(
            name="t",
            sizes=[30],
            predictors={"c": {}},
            train_metric="latency/*",
            relative_metrics=True,
            protocol="leave_one_chip_out",
            test_subsample=200,
            protocol_options={"holdout": ["1080ti_1", "1080ti_32", "1080ti_256", "pixel3"]},
        )
        rows = run_compare(config, {"c": ("counting_linear_test", {})}, tmp_path, task, log=lambda s: None)
    finally:
        PREDICTORS._registered.pop("counting_linear_test", None)
    assert [r["device"] for r in rows] == ["1080ti_1", "1080ti_32", "1080ti_256", "pixel3"]
    assert fits == [30 * 24, 30 * 26]  # one fit for the three 1080 Ti settings, one for pixel3
    assert len({r["mape"] for r in rows[:3]}) == 3  # scored on each setting's own latencies
