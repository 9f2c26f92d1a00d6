"""Read (and write) the official NAS-Bench-101 tfrecord files without TensorFlow.

A TFRecord file is a sequence of records, each ``uint64 length | uint32 masked CRC32C of the
length | data | uint32 masked CRC32C of the data`` (little-endian). In ``nasbench_only108.tfrecord``
and ``nasbench_full.tfrecord`` each record's data is the JSON list ``[module hash, epochs,
adjacency as a 0/1 string, ops joined by ',', base64 of a ModelMetrics protobuf]``; ModelMetrics
(``nasbench/lib/model_metrics.proto``) holds the evaluations at step 0, halfway and the end of
training, the trainable-parameter count and the total time. The protobuf messages are decoded by a
small wire-format reader here (no generated code needed). CRC32C uses the ``crc32c`` package when
installed, else a table-driven fallback.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

from nasearch.api.errors import DataError

_MASK_DELTA = 0xA282EAD8

_crc32c: Callable[[bytes], int]
try:
    from crc32c import crc32c as _fast_crc32c

    _crc32c = _fast_crc32c
except ImportError:  # pragma: no cover - exercised only without the package
    _TABLE = []
    for _i in range(256):
        _c = _i
        for _ in range(8):
            _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
        _TABLE.append(_c)

    def _table_crc32c(data: bytes) -> int:
        crc = 0xFFFFFFFF
        for b in data:
            crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
        return crc ^ 0xFFFFFFFF

    _crc32c = _table_crc32c


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli) of ``data``."""
    return _crc32c(data) & 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """The masked CRC TFRecord stores: rotate right by 15 bits, add a constant."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


# --- record framing ------------------------------------------------------------------------------
def iter_records(path: str | Path, check_crc: bool = True) -> Iterator[bytes]:
    """The data of each record of a TFRecord file; a DataError names a truncated or corrupt record."""
    with open(path, "rb") as f:
        yield from _iter_stream(f, str(path), check_crc)


def _iter_stream(f: BinaryIO, name: str, check_crc: bool) -> Iterator[bytes]:
    number = 0
    while True:
        header = f.read(12)
        if not header:
            return
        if len(header) < 12:
            raise DataError(
                f"tfrecord {name!r}: record {number} is truncated (header of {len(header)} bytes)"
            )
        length, length_crc = struct.unpack("<QI", header)
        if check_crc and masked_crc32c(header[:8]) != length_crc:
            raise DataError(f"tfrecord {name!r}: record {number} has a bad length CRC (not a TFRecord file?)")
        data = f.read(length)
        footer = f.read(4)
        if len(data) < length or len(footer) < 4:
            raise DataError(f"tfrecord {name!r}: record {number} is truncated (file cut short?)")
        if check_crc and masked_crc32c(data) != struct.unpack("<I", footer)[0]:
            raise DataError(f"tfrecord {name!r}: record {number} has a bad data CRC (corrupt file)")
        yield data
        number += 1


def write_records(path: str | Path, records: Iterable[bytes]) -> None:
    """Write records in TFRecord framing (what TensorFlow's ``TFRecordWriter`` writes)."""
    with open(path, "wb") as f:
        for data in records:
            length = struct.pack("<Q", len(data))
            f.write(length + struct.pack("<I", masked_crc32c(length)) + data)
            f.write(struct.pack("<I", masked_crc32c(data)))


# --- protobuf wire format (only what ModelMetrics needs) -------------------------------------------
def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes) -> Iterator[tuple[int, int | float | bytes]]:
    """``(field number, value)`` of a message: varints as int, fixed64 as double, bytes as bytes."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
            yield number, value
        elif wire == 1:
            yield number, struct.unpack_from("<d", buf, pos)[0]
            pos += 8
        elif wire == 2:
            size, pos = _varint(buf, pos)
            yield number, buf[pos : pos + size]
            pos += size
        elif wire == 5:
            yield number, struct.unpack_from("<f", buf, pos)[0]
            pos += 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")


@dataclass
class EvaluationData:
    """One evaluation during training (``EvaluationData`` of model_metrics.proto); fractions, seconds."""

    current_epoch: float = 0.0
    training_time: float = 0.0
    train_accuracy: float = 0.0
    validation_accuracy: float = 0.0
    test_accuracy: float = 0.0
    checkpoint_path: str = ""


_EVAL_FIELDS = {
    1: "current_epoch",
    2: "training_time",
    3: "train_accuracy",
    4: "validation_accuracy",
    5: "test_accuracy",
}


@dataclass
class ModelMetrics:
    """``ModelMetrics`` of model_metrics.proto: evaluations (step 0, halfway, final), params, total time."""

    evaluation_data: list[EvaluationData] = field(default_factory=list)
    trainable_parameters: int = 0
    total_time: float = 0.0

    @classmethod
    def decode(cls, buf: bytes) -> ModelMetrics:
        """Parse the protobuf wire bytes."""
        out = cls()
        for number, value in _fields(buf):
            if number == 1 and isinstance(value, bytes):
                ev = EvaluationData()
                for n2, v2 in _fields(value):
                    if n2 in _EVAL_FIELDS:
                        setattr(ev, _EVAL_FIELDS[n2], float(v2))
                    elif n2 == 6 and isinstance(v2, bytes):
                        ev.checkpoint_path = v2.decode("utf-8", "replace")
                out.evaluation_data.append(ev)
            elif number == 2 and isinstance(value, int):
                out.trainable_parameters = value - (1 << 64) if value >= 1 << 63 else value  # int32 sign
            elif number == 3 and isinstance(value, float):
                out.total_time = value
        return out

    def encode(self) -> bytes:
        """Protobuf wire bytes (fields in number order, as protobuf's own serializer writes them)."""
        out = bytearray()
        for ev in self.evaluation_data:
            inner = bytearray()
            for number, name in _EVAL_FIELDS.items():
                inner += bytes([number << 3 | 1]) + struct.pack("<d", getattr(ev, name))
            if ev.checkpoint_path:
                path = ev.checkpoint_path.encode("utf-8")
                inner += bytes([6 << 3 | 2]) + _encode_varint(len(path)) + path
            out += bytes([1 << 3 | 2]) + _encode_varint(len(inner)) + inner
        out += bytes([2 << 3 | 0]) + _encode_varint(self.trainable_parameters & ((1 << 64) - 1))
        out += bytes([3 << 3 | 1]) + struct.pack("<d", self.total_time)
        return bytes(out)


@lru_cache(maxsize=1)
def protobuf_class() -> Any:
    """``ModelMetrics`` as a ``protobuf`` message class built from the .proto's layout, or None.

    protobuf's compiled decoder is several times faster than :meth:`ModelMetrics.decode`; the
    official file is decoded with it when the package is installed.
    """
    try:
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    except ImportError:  # pragma: no cover - protobuf is a dependency, but stay usable without it
        return None
    proto = descriptor_pb2.FileDescriptorProto(
        name="nasearch_nb101_model_metrics.proto", package="nasearch_nb101", syntax="proto2"
    )
    field = descriptor_pb2.FieldDescriptorProto
    ev = proto.message_type.add(name="EvaluationData")
    for number, name in _EVAL_FIELDS.items():
        ev.field.add(name=name, number=number, type=field.TYPE_DOUBLE, label=field.LABEL_OPTIONAL)
    ev.field.add(name="checkpoint_path", number=6, type=field.TYPE_STRING, label=field.LABEL_OPTIONAL)
    mm = proto.message_type.add(name="ModelMetrics")
    mm.field.add(
        name="evaluation_data",
        number=1,
        type=field.TYPE_MESSAGE,
        label=field.LABEL_REPEATED,
        type_name=".nasearch_nb101.EvaluationData",
    )
    mm.field.add(name="trainable_parameters", number=2, type=field.TYPE_INT32, label=field.LABEL_OPTIONAL)
    mm.field.add(name="total_time", number=3, type=field.TYPE_DOUBLE, label=field.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("nasearch_nb101.ModelMetrics"))


def final_metrics(data: bytes) -> tuple[str, int, float, float, float, float, int]:
    """The fields a benchmark needs from one record: hash, epochs, final train / valid / test
    accuracy and training time, trainable parameters (the fast path of the official decode)."""
    module_hash, epochs, _, _, raw_metrics = json.loads(data)
    raw = base64.b64decode(raw_metrics)
    cls = protobuf_class()
    if cls is not None:
        try:
            msg = cls.FromString(raw)
        except Exception as exc:  # noqa: BLE001 - protobuf's DecodeError is no ValueError
            raise ValueError(f"bad ModelMetrics protobuf: {exc}") from None
        params = msg.trainable_parameters
        final = msg.evaluation_data[2]
    else:  # pragma: no cover - without protobuf
        mm = ModelMetrics.decode(raw)
        params = mm.trainable_parameters
        final = mm.evaluation_data[2]
    return (
        module_hash,
        int(epochs),
        final.train_accuracy,
        final.validation_accuracy,
        final.test_accuracy,
        final.training_time,
        params,
    )


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


# --- NAS-Bench-101 rows ------------------------------------------------------------------------------
@dataclass
class Row:
    """One record of the official file: a cell trained once for ``epochs`` epochs."""

    module_hash: str
    epochs: int
    matrix: list[list[int]]
    ops: list[str]
    metrics: ModelMetrics


def parse_row(data: bytes) -> Row:
    """Decode one record's data (JSON list with a base64 ModelMetrics)."""
    module_hash, epochs, raw_adjacency, raw_ops, raw_metrics = json.loads(data.decode("utf-8"))
    dim = int(round(len(raw_adjacency) ** 0.5))
    flat = [int(c) for c in raw_adjacency]
    matrix = [flat[i * dim : (i + 1) * dim] for i in range(dim)]
    metrics = ModelMetrics.decode(base64.b64decode(raw_metrics))
    return Row(module_hash, int(epochs), matrix, raw_ops.split(","), metrics)


def format_row(row: Row) -> bytes:
    """The record data the official files hold for ``row`` (inverse of :func:`parse_row`)."""
    adjacency = "".join(str(int(v)) for r in row.matrix for v in r)
    payload = [
        row.module_hash,
        row.epochs,
        adjacency,
        ",".join(row.ops),
        base64.b64encode(row.metrics.encode()).decode("ascii"),
    ]
    return json.dumps(payload).encode("utf-8")


def iter_rows(path: str | Path, check_crc: bool = True) -> Iterator[Row]:
    """Every record of an official NB101 tfrecord, decoded."""
    for number, data in enumerate(iter_records(path, check_crc)):
        try:
            yield parse_row(data)
        except (ValueError, TypeError, IndexError, UnicodeDecodeError) as exc:
            raise DataError(f"tfrecord {str(path)!r}: record {number} is not an NB101 row: {exc}") from None
