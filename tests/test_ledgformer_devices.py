"""The device description table: covers every latency column of the NB201 benchmark, sane values."""

from __future__ import annotations

import pytest

from nasearch.api.errors import DeviceError
from nasearch.data.devices import DeviceSpec, device_names, load_devices, resolve_device
from nasearch.search_spaces.nasbench201.benchmark import BRP_DEVICE, HELP_DEVICES, METRICS


def test_table_covers_exactly_the_benchmark_latency_devices():
    latency = {m.removeprefix("latency/") for m in METRICS if m.startswith("latency/")}
    assert set(device_names()) == latency == {*HELP_DEVICES, BRP_DEVICE}
    assert len(device_names()) == 28


def test_values_are_positive_and_gpu_batch_matches_the_setting_name():
    table = load_devices()
    for name, spec in table.items():
        assert spec.peak_tflops > 0 and spec.memory_bandwidth_gbs > 0 and spec.power_w > 0, name
        assert spec.source, f"{name} has no source"
        if spec.family == "GPU":
            assert name.endswith(f"_{spec.batch_size}")
            assert spec.peak_tflops > 10 and spec.vendor == "Nvidia"
    families = {spec.family for spec in table.values()}
    assert families == {"GPU", "CPU", "phone", "embedded", "ASIC", "FPGA"}
    # public specs: a Titan RTX out-computes a 1080 Ti, which out-computes any CPU or phone here
    assert table["titan_rtx_1"].peak_tflops > table["1080ti_1"].peak_tflops > table["gold_6240"].peak_tflops
    assert table["gold_6240"].peak_tflops > table["pixel3"].peak_tflops > table["raspi4"].peak_tflops


def test_resolve_device_accepts_names_metrics_dicts_and_specs():
    spec = resolve_device("latency/2080ti_32")
    assert spec.name == "2080ti_32" and spec.batch_size == 32
    assert resolve_device(spec) is spec
    custom = resolve_device(
        {
            "vendor": "Nvidia",
            "kind": "GPU",
            "precision": "FP16",
            "peak_tflops": "65",
            "memory_bandwidth_gbs": 320,
            "architecture": "Turing",
            "power_w": 70,
            "batch_size": 8,
        }
    )
    assert isinstance(custom, DeviceSpec) and custom.peak_tflops == 65.0 and custom.batch_size == 8


@pytest.mark.parametrize(
    "hardware, message",
    [
        ("2080ti_23", "did you mean '2080ti_32'"),
        ({"vendor": "Nvidia", "kind": "GPU"}, "lacks precision"),
        (
            {
                "vendor": "x",
                "kind": "GPU",
                "precision": "FP32",
                "peak_tflops": -1,
                "memory_bandwidth_gbs": 1,
                "architecture": "a",
                "power_w": 1,
            },
            "peak_tflops must be a positive number",
        ),
        (
            {
                "vendor": "x",
                "kind": "GPU",
                "precision": "FP32",
                "peak_tflops": 1,
                "memory_bandwidth_gbs": 1,
                "architecture": "a",
                "power_w": 1,
                "tflops": 3,
            },
            "unknown field 'tflops'",
        ),
        (3.5, "hardware must be a device name"),
    ],
)
def test_bad_hardware_gets_one_clear_error(hardware, message):
    with pytest.raises(DeviceError, match=message):
        resolve_device(hardware)
