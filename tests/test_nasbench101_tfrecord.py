"""The tfrecord reader on files in the exact official format, and the benchmark built on such a file.

The file is framed by our writer and cross-checked with the ``tfrecord`` package; the ModelMetrics
payloads are encoded by the ``protobuf`` package from the official .proto's field layout, so the
reader is tested against independent encoders, not against itself.
"""

from __future__ import annotations

import base64
import json
import struct

import numpy as np
import pytest

from nasearch.api.errors import DataError
from nasearch.search_spaces.nasbench101.index import load_index
from nasearch.search_spaces.nasbench101.network import count_params
from nasearch.search_spaces.nasbench101.tfrecord import (
    EvaluationData,
    ModelMetrics,
    crc32c,
    iter_records,
    iter_rows,
    masked_crc32c,
    parse_row,
    write_records,
)


def _proto_classes():
    """ModelMetrics / EvaluationData built by protobuf from model_metrics.proto's descriptor."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    f = descriptor_pb2.FileDescriptorProto(
        name="nb101_test_model_metrics.proto", package="nasbench_test", syntax="proto2"
    )
    T = descriptor_pb2.FieldDescriptorProto
    ev = f.message_type.add(name="EvaluationData")
    for number, name in enumerate(
        ["current_epoch", "training_time", "train_accuracy", "validation_accuracy", "test_accuracy"], start=1
    ):
        ev.field.add(name=name, number=number, type=T.TYPE_DOUBLE, label=T.LABEL_OPTIONAL)
    ev.field.add(name="checkpoint_path", number=6, type=T.TYPE_STRING, label=T.LABEL_OPTIONAL)
    mm = f.message_type.add(name="ModelMetrics")
    mm.field.add(
        name="evaluation_data",
        number=1,
        type=T.TYPE_MESSAGE,
        label=T.LABEL_REPEATED,
        type_name=".nasbench_test.EvaluationData",
    )
    mm.field.add(name="trainable_parameters", number=2, type=T.TYPE_INT32, label=T.LABEL_OPTIONAL)
    mm.field.add(name="total_time", number=3, type=T.TYPE_DOUBLE, label=T.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("nasbench_test.ModelMetrics"))


def _official_record(module_hash, epochs, cell, params, finals, proto_cls) -> bytes:
    """One record exactly as the official files hold it (JSON list, base64 protobuf)."""
    msg = proto_cls(trainable_parameters=params, total_time=1234.5)
    for i, (train, valid, test, time_s) in enumerate([(0.1, 0.1, 0.1, 0.0), *finals]):
        msg.evaluation_data.add(
            current_epoch=[0, epochs / 2, epochs][i],
            training_time=time_s,
            train_accuracy=train,
            validation_accuracy=valid,
            test_accuracy=test,
            checkpoint_path=f"gs://bucket/{module_hash}/model.ckpt-{i}",
        )
    n = len(cell.ops)
    adjacency = "".join(str(cell.matrix[i][j]) for i in range(n) for j in range(n))
    payload = base64.b64encode(msg.SerializeToString()).decode()
    raw = [module_hash, epochs, adjacency, ",".join(cell.ops), payload]
    return json.dumps(raw).encode("utf-8")


def test_crc32c_known_vectors_and_tfrecord_packages_mask():
    assert crc32c(b"123456789") == 0xE3069283  # the standard CRC-32C check value
    assert crc32c(b"") == 0
    from tfrecord.writer import TFRecordWriter

    for data in (b"", b"\x00" * 8, b"nasbench", bytes(range(256))):
        assert masked_crc32c(data) == struct.unpack("<I", TFRecordWriter.masked_crc(data))[0]


def test_records_round_trip_and_match_the_tfrecord_package(tmp_path):
    from tfrecord.reader import tfrecord_iterator

    records = [b"", b"x", json.dumps(["a", 108]).encode(), bytes(range(256)) * 50]
    path = tmp_path / "t.tfrecord"
    write_records(path, records)
    assert list(iter_records(path)) == records
    assert [bytes(r) for r in tfrecord_iterator(str(path))] == records


def test_corrupt_and_truncated_files_raise_clear_errors(tmp_path):
    path = tmp_path / "t.tfrecord"
    write_records(path, [b"hello world", b"second"])
    data = bytearray(path.read_bytes())
    data[14] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match="record 0 has a bad data CRC"):
        list(iter_records(path))
    write_records(path, [b"hello world"])
    path.write_bytes(path.read_bytes()[:-6])
    with pytest.raises(DataError, match="record 0 is truncated"):
        list(iter_records(path))
    path.write_bytes(b"definitely not a tfrecord file")
    with pytest.raises(DataError, match="bad length CRC"):
        list(iter_records(path))


def test_model_metrics_decoder_reads_protobuf_encoded_messages():
    cls = _proto_classes()
    msg = cls(trainable_parameters=8555530, total_time=3.5)
    msg.evaluation_data.add(
        current_epoch=108.0,
        training_time=1769.13,
        train_accuracy=1.0,
        validation_accuracy=0.9241786599159241,
        test_accuracy=0.9211738705635071,
        checkpoint_path="ckpt",
    )
    got = ModelMetrics.decode(msg.SerializeToString())
    assert got.trainable_parameters == 8555530 and got.total_time == 3.5
    expected = EvaluationData(108.0, 1769.13, 1.0, 0.9241786599159241, 0.9211738705635071, "ckpt")
    assert got.evaluation_data == [expected]
    # and our encoder writes what protobuf reads back
    back = cls.FromString(got.encode())
    assert back.evaluation_data[0].validation_accuracy == 0.9241786599159241
    assert back.trainable_parameters == 8555530


@pytest.fixture(scope="module")
def official_file(tmp_path_factory):
    """A small nasbench_full-style file: 4 cells x budgets {12, 108} x 3 repeats, official layout."""
    index = load_index()
    cls = _proto_classes()
    rows = [0, 1, 4789, 423623]
    records = []
    for r in rows:
        cell, h = index.cell(r), index.hash(r)
        for epochs in (12, 108):
            for rep in range(3):
                acc = 0.5 + 0.001 * rep + epochs / 1000 + r / 1e7
                finals = [
                    (acc, acc - 0.01, acc - 0.02, epochs * 10.0 + rep),
                    (acc + 0.1, acc + 0.05, acc + 0.04, epochs * 20.0 + rep),
                ]
                records.append(_official_record(h, epochs, cell, count_params(cell), finals, cls))
    path = tmp_path_factory.mktemp("nb101") / "nasbench_full.tfrecord"
    write_records(path, records)
    return path, rows


def test_official_rows_parse(official_file):
    path, rows = official_file
    parsed = list(iter_rows(path))
    index = load_index()
    assert len(parsed) == len(rows) * 2 * 3
    first = parsed[0]
    assert first.module_hash == index.hash(0) and first.epochs == 12
    assert first.ops == list(index.cell(0).ops)
    assert tuple(map(tuple, first.matrix)) == index.cell(0).matrix
    assert len(first.metrics.evaluation_data) == 3
    assert parse_row(next(iter_records(path))).metrics.trainable_parameters == 8_555_530


def test_benchmark_uses_the_official_file(official_file, data_root, tmp_path, monkeypatch):
    from nasearch.search_spaces.nasbench101.benchmark import NasBench101Benchmark

    index = load_index()  # from the shared cache, before the cache folder moves
    monkeypatch.setenv("NASEARCH_CACHE", str(tmp_path))
    path, rows = official_file
    bench = NasBench101Benchmark(data_root, official_file=path, index=index)
    assert {
        "cifar10/valid_accuracy@108ep",
        "cifar10/train_time@12ep",
        "cifar10/test_accuracy",
        "cifar10/params",
    } <= set(bench.metrics())
    r = rows[2]
    names = ["cifar10/valid_accuracy@108ep", "cifar10/test_accuracy@12ep", "cifar10/train_time@108ep"]
    out = bench.query(r, names)
    acc108 = np.mean([0.5 + 0.001 * k + 0.108 + r / 1e7 for k in range(3)])
    acc12 = np.mean([0.5 + 0.001 * k + 0.012 + r / 1e7 for k in range(3)])
    assert out["cifar10/valid_accuracy@108ep"] == pytest.approx((acc108 + 0.05) * 100)
    assert out["cifar10/test_accuracy@12ep"] == pytest.approx((acc12 + 0.04) * 100)
    assert out["cifar10/train_time@108ep"] == pytest.approx(108 * 20.0 + 1)
    test108 = bench.query(r, ["cifar10/test_accuracy"])["cifar10/test_accuracy"]
    assert test108 == pytest.approx((acc108 + 0.04) * 100)
    rec = bench.record(r)
    assert rec["cifar10/params"] == pytest.approx(count_params(index.cell(r)) / 1e6)
    assert rec["source"] == str(path)
    assert np.isnan(bench.column("cifar10/valid_accuracy@108ep")[2])  # not in the file
    # decoded once, then read from the array cache
    assert len(list(tmp_path.glob("nasbench101_official_*.npz"))) == 1
    again = NasBench101Benchmark(data_root, official_file=path, index=index)
    valid = "cifar10/valid_accuracy@108ep"
    assert again.query(r, [valid]) == {valid: out[valid]}


def test_official_file_with_an_unknown_hash_is_rejected(tmp_path, data_root, monkeypatch):
    from nasearch.search_spaces.nasbench101.benchmark import NasBench101Benchmark

    index = load_index()
    monkeypatch.setenv("NASEARCH_CACHE", str(tmp_path))
    record = _official_record("f" * 32, 108, index.cell(0), 1, [(0.5, 0.5, 0.5, 1.0)] * 2, _proto_classes())
    path = tmp_path / "nasbench_only108.tfrecord"
    write_records(path, [record])
    bench = NasBench101Benchmark(data_root, official_file=path, index=index)
    with pytest.raises(DataError, match="is not the module hash of any NB101 cell"):
        bench.metrics()


def test_fast_path_agrees_with_the_wire_decoder(official_file):
    from nasearch.search_spaces.nasbench101.tfrecord import final_metrics

    path, _ = official_file
    for data in list(iter_records(path))[:8]:
        row = parse_row(data)
        final = row.metrics.evaluation_data[2]
        assert final_metrics(data) == (
            row.module_hash,
            row.epochs,
            final.train_accuracy,
            final.validation_accuracy,
            final.test_accuracy,
            final.training_time,
            row.metrics.trainable_parameters,
        )
    with pytest.raises(ValueError):
        bad_payload = base64.b64encode(b"\xff\xff").decode()
        final_metrics(json.dumps(["h", 108, "01", "input,output", bad_payload]).encode())
