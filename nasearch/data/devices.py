"""Device descriptions: the 27 HELP latency settings plus the BRP-NAS desktop CPU, from public specs.

A hardware-conditioned surrogate never sees a device id, only its description (vendor, kind,
precision, peak TFLOPS, memory bandwidth, architecture, power, batch size), so it can predict for a
device it was never trained on. The table ``devices.csv`` beside this module says where each
number comes from and which are estimates. Names match the ``latency/<device>`` metrics of
:mod:`nasearch.search_spaces.nasbench201.benchmark`. ``resolve_device`` turns whatever a user passes as
``hardware`` (a table name, a dict of attributes, a :class:`DeviceSpec`) into a spec.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from nasearch.api.errors import DeviceError, suggest

DEVICES_CSV = Path(__file__).resolve().parent / "devices.csv"

#: the numeric fields a description must give, with their unit
NUMERIC_FIELDS: dict[str, str] = {
    "peak_tflops": "TFLOPS (or TOPS for integer precision)",
    "memory_bandwidth_gbs": "GB/s",
    "power_w": "W",
    "batch_size": "images per inference",
}
TEXT_FIELDS = ("vendor", "kind", "precision", "architecture")


@dataclass(frozen=True)
class DeviceSpec:
    """One device setting: the hardware plus the batch size it was measured at."""

    name: str
    vendor: str
    kind: str
    precision: str
    peak_tflops: float
    memory_bandwidth_gbs: float
    architecture: str
    power_w: float
    batch_size: int = 1
    chip: str = ""
    source: str = ""
    notes: str = ""

    @property
    def family(self) -> str:
        """A coarse class for reporting hold-outs: GPU, CPU, phone, embedded, ASIC or FPGA."""
        kind = self.kind.lower()
        for word, family in (
            ("gpu", "GPU"),
            ("phone", "phone"),
            ("embedded", "embedded"),
            ("asic", "ASIC"),
            ("fpga", "FPGA"),
            ("cpu", "CPU"),
        ):
            if word in kind:
                return family
        return self.kind

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], what: str = "hardware description") -> DeviceSpec:
        """Build from a dict of attributes; a missing or non-numeric field is named."""
        missing = [f for f in (*TEXT_FIELDS, *NUMERIC_FIELDS) if f not in data and f != "batch_size"]
        if missing:
            raise DeviceError(
                f"{what} {dict(data)!r} lacks {', '.join(missing)}; a device needs "
                f"{', '.join(TEXT_FIELDS)}, {', '.join(NUMERIC_FIELDS)} (batch_size defaults to 1)"
            )
        known = {f.name for f in fields(cls)}
        unknown = [k for k in data if k not in known]
        if unknown:
            raise DeviceError(
                f"{what} has unknown field {unknown[0]!r}{suggest(unknown[0], sorted(known))} "
                f"(fields: {', '.join(sorted(known))})"
            )
        values: dict[str, Any] = {k: data[k] for k in data}
        values.setdefault("name", str(data.get("name", "custom")))
        for key, unit in NUMERIC_FIELDS.items():
            if key not in values:
                continue
            try:
                number = float(values[key])
            except (TypeError, ValueError):
                raise DeviceError(f"{what}: {key} must be a number in {unit}, got {values[key]!r}") from None
            if not math.isfinite(number) or number <= 0:
                raise DeviceError(f"{what}: {key} must be a positive number in {unit}, got {values[key]!r}")
            values[key] = int(number) if key == "batch_size" else number
        for key in TEXT_FIELDS:
            values[key] = str(values[key])
        return cls(**values)


@lru_cache(maxsize=4)
def load_devices(path: str | None = None) -> dict[str, DeviceSpec]:
    """Name -> spec for every row of ``devices.csv`` (or another table with the same columns)."""
    table = Path(path) if path else DEVICES_CSV
    with table.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    out: dict[str, DeviceSpec] = {}
    for line, row in enumerate(rows, start=2):
        try:
            spec = DeviceSpec.from_mapping(row, what=f"{table.name} line {line}")
        except DeviceError as exc:
            raise DeviceError(f"device table {str(table)!r}: {exc}") from None
        out[spec.name] = spec
    return out


def device_names() -> list[str]:
    """Every device of the built-in table, in table order."""
    return list(load_devices())


def resolve_device(hardware: object) -> DeviceSpec:
    """A table name, a ``latency/<name>`` metric, a dict of attributes or a spec -> a DeviceSpec."""
    if isinstance(hardware, DeviceSpec):
        return hardware
    if isinstance(hardware, Mapping):
        return DeviceSpec.from_mapping(hardware)
    if isinstance(hardware, str):
        name = hardware.removeprefix("latency/")
        table = load_devices()
        if name in table:
            return table[name]
        raise DeviceError(
            f"unknown device {hardware!r}{suggest(name, table, n=3)} (known: {', '.join(table)}; "
            f"or pass a dict with {', '.join((*TEXT_FIELDS, *NUMERIC_FIELDS))})"
        )
    raise DeviceError(
        f"hardware must be a device name, a dict of device attributes or a DeviceSpec, got "
        f"{type(hardware).__name__}"
    )
