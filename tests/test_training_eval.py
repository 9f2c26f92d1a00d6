"""TrainingEvaluator and its datasets: digits splits, CIFAR-10 layouts, determinism, real learning."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from nasearch.api.errors import ConfigError, DataError
from nasearch.config.registry import EVALUATORS
from nasearch.evaluation.datasets import _split_indices, load_dataset, read_cifar_python_batch
from nasearch.evaluation.profiling import count_flops, count_params
from nasearch.evaluation.training import TrainingEvaluator
from nasearch.search_spaces.nasbench201.network import build_network
from nasearch.search_spaces.nasbench201.space import NasBench201Space

torch.set_num_threads(1)

CONV = ("nor_conv_3x3", "nor_conv_1x1", "nor_conv_3x3", "skip_connect", "nor_conv_3x3", "nor_conv_1x1")
TINY = {"C": 4, "N": 1}


@pytest.fixture(scope="module")
def space() -> NasBench201Space:
    return NasBench201Space()


# --- digits -----------------------------------------------------------------------------------------
def test_digits_split_is_fixed_disjoint_and_seeded():
    a, b = load_dataset("digits"), load_dataset("digits")
    assert (len(a.train), len(a.valid), len(a.test)) == (1079, 359, 359)
    assert a.input_shape == (1, 8, 8) and a.num_classes == 10
    assert np.array_equal(a.valid.x, b.valid.x) and np.array_equal(a.train.y, b.train.y)
    # the three splits partition the 1,797 images
    parts = _split_indices(1797, (0.2, 0.2), 0)
    assert sorted(np.concatenate(parts).tolist()) == list(range(1797))
    other = load_dataset("digits", split_seed=1)
    assert not np.array_equal(a.valid.y, other.valid.y)
    assert abs(a.mean[0] * 16 - a.train.x.mean()) < 1e-4
    small = load_dataset("digits", max_train=100)
    assert len(small.train) == 100 and np.array_equal(small.valid.y, a.valid.y)


def test_dataset_options_are_checked():
    with pytest.raises(ConfigError, match="unknown dataset 'mnist'"):
        load_dataset("mnist")
    with pytest.raises(ConfigError, match="valid_fraction"):
        load_dataset("digits", valid_fraction=1.5)
    with pytest.raises(ConfigError, match="no option"):
        load_dataset("digits", max_trian=5)


# --- CIFAR-10 layouts -------------------------------------------------------------------------------
def _fake_cifar(rng: np.random.Generator, n: int) -> tuple[np.ndarray, list[int]]:
    return rng.integers(0, 256, size=(n, 3072), dtype=np.uint8), rng.integers(0, 10, size=n).tolist()


def write_python_layout(root: Path, per_batch: int = 12) -> dict[str, tuple[np.ndarray, list[int]]]:
    """CIFAR-10's python layout (as torchvision keeps it): pickled dicts with bytes keys."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    written = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data, labels = _fake_cifar(rng, per_batch)
        with open(folder / name, "wb") as handle:
            pickle.dump({b"batch_label": name.encode(), b"labels": labels, b"data": data}, handle, protocol=2)
        written[name] = (data, labels)
    return written


def write_binary_layout(root: Path, per_batch: int = 12) -> dict[str, tuple[np.ndarray, list[int]]]:
    """CIFAR-10's binary layout: a label byte then 3,072 pixel bytes per image."""
    folder = root / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    written = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data, labels = _fake_cifar(rng, per_batch)
        records = np.concatenate([np.array(labels, dtype=np.uint8)[:, None], data], axis=1)
        records.tofile(folder / f"{name}.bin")
        written[name] = (data, labels)
    return written


@pytest.mark.parametrize("writer", [write_python_layout, write_binary_layout])
def test_cifar10_loader_reads_both_official_layouts(tmp_path, writer):
    written = writer(tmp_path)
    data = load_dataset("cifar10", data_path=str(tmp_path), valid_fraction=0.25)
    assert (len(data.train), len(data.valid), len(data.test)) == (45, 15, 12)
    assert data.input_shape == (3, 32, 32) and data.train.x.dtype == np.uint8
    test_data, test_labels = written["test_batch"]
    # pixel order: 1,024 red values, then green, then blue, each row-major
    assert np.array_equal(data.test.x[3, 0].ravel(), test_data[3, :1024])
    assert np.array_equal(data.test.x[3, 2].ravel(), test_data[3, 2048:])
    assert data.test.y.tolist() == test_labels
    pool = np.concatenate([written[f"data_batch_{i}"][0] for i in range(1, 6)])
    seen = np.concatenate([data.train.x, data.valid.x]).reshape(60, -1)
    assert sorted(map(bytes, seen)) == sorted(map(bytes, pool))


def test_cifar10_loader_refuses_a_pickle_that_would_run_code(tmp_path):
    write_python_layout(tmp_path)
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (Path.touch, (marker,))

    batch = tmp_path / "cifar-10-batches-py" / "data_batch_2"
    batch.write_bytes(pickle.dumps({b"data": Exploit(), b"labels": []}, protocol=2))
    with pytest.raises(DataError, match="refusing to load"):
        read_cifar_python_batch(batch)
    with pytest.raises(DataError, match="data_batch_2"):
        load_dataset("cifar10", data_path=str(tmp_path))
    assert not marker.exists()


def test_cifar10_missing_or_truncated_copy_is_named(tmp_path):
    with pytest.raises(DataError, match="cifar-10-batches-py"):
        load_dataset("cifar10", data_path=str(tmp_path))
    write_python_layout(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "data_batch_4").unlink()
    with pytest.raises(DataError, match="data_batch_4"):
        load_dataset("cifar10", data_path=str(tmp_path))
    with pytest.raises(ConfigError, match="needs data_path"):
        load_dataset("cifar10")


def test_training_on_a_local_cifar10_copy(tmp_path, space):
    write_python_layout(tmp_path, per_batch=16)
    ev = TrainingEvaluator(
        space,
        epochs=1,
        dataset="cifar10",
        data_path=str(tmp_path),
        network=TINY,
        batch_size=16,
        dataset_options={"valid_fraction": 0.2},
    )
    result = ev.evaluate(CONV)
    assert result.info["dataset"] == "cifar10"
    assert 0 <= result.metrics["valid_accuracy"] <= 100
    assert result.metrics["flops"] == pytest.approx(count_flops(build_network(CONV, **TINY), (3, 32, 32)))


# --- the evaluator ----------------------------------------------------------------------------------
def test_training_is_deterministic_under_a_seed_and_survives_pickling(space):
    ev = TrainingEvaluator(space, epochs=1, network=TINY, num_threads=1, seed=5)
    first = ev.evaluate(CONV)
    second = pickle.loads(pickle.dumps(ev)).evaluate(CONV)
    for name in ("valid_accuracy", "test_accuracy", "train_loss", "params", "flops"):
        assert first.metrics[name] == second.metrics[name], name
    other = TrainingEvaluator(space, epochs=1, network=TINY, num_threads=1, seed=6).evaluate(CONV)
    assert other.metrics["train_loss"] != first.metrics["train_loss"]


def test_training_learns_and_an_all_none_cell_does_not(space):
    ev = TrainingEvaluator(space, epochs=3, network={"C": 8, "N": 1}, num_threads=1)
    good = ev.evaluate(CONV)
    dead = ev.evaluate(("none",) * 6)
    assert good.metrics["valid_accuracy"] > 85.0  # 10 classes: chance is 10 %
    assert dead.metrics["valid_accuracy"] < 25.0  # the cells output zeros: nothing reaches the head
    assert good.metrics["params"] == pytest.approx(count_params(build_network(CONV, C=8, N=1, in_channels=1)))
    assert good.metrics["epochs"] == 3 and good.cost_seconds >= good.metrics["train_seconds"] > 0
    # the fidelity: fewer epochs on request
    assert ev.evaluate(CONV, epochs=1).metrics["epochs"] == 1


def test_threads_are_pinned_for_the_evaluation_and_restored(space):
    torch.set_num_threads(2)
    try:
        result = TrainingEvaluator(space, epochs=1, network=TINY, num_threads=1).evaluate(CONV)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)
    assert result.info["threads"] == 1 and result.info["device"] == "cpu"


def test_registry_builds_it_and_bad_options_are_named(space):
    ev = EVALUATORS.create("train", space=space, epochs=2, network=TINY)
    assert isinstance(ev, TrainingEvaluator) and ev.objective == "valid_accuracy"
    with pytest.raises(ConfigError, match="did you mean 'epochs'"):
        EVALUATORS.create("train", space=space, epoch=2)
    with pytest.raises(ConfigError, match="epochs must be a positive int"):
        TrainingEvaluator(space, epochs=0)
    with pytest.raises(ConfigError, match="unknown dataset"):
        TrainingEvaluator(space, dataset="imagenet")
    with pytest.raises(
        ConfigError, match="dataset 'cifar10' has no option 'max_trian'; did you mean 'max_train'"
    ):
        TrainingEvaluator(space, dataset="cifar10", data_path="/data", dataset_options={"max_trian": 5})
    with pytest.raises(ConfigError, match="needs data_path"):
        TrainingEvaluator(space, dataset="cifar10")
    with pytest.raises(ConfigError, match="device must be one of"):
        TrainingEvaluator(space, device="tpu")
    with pytest.raises(ConfigError, match="network"):
        TrainingEvaluator(object())


@pytest.mark.ray
def test_a_ray_worker_trains_with_its_allotted_cpus(space, ray_local):
    ev = TrainingEvaluator(space, epochs=1, network=TINY, seed=5)
    remote = ray_local.remote(num_cpus=1)(lambda e, a: e.evaluate(a))
    result = ray_local.get(remote.remote(ev, CONV))
    local = TrainingEvaluator(space, epochs=1, network=TINY, seed=5, num_threads=1).evaluate(CONV)
    assert result.info["threads"] == 1
    assert result.metrics["valid_accuracy"] == local.metrics["valid_accuracy"]
    assert result.metrics["train_loss"] == local.metrics["train_loss"]


def test_multi_objective_training_with_measured_latency(space):
    ev = EVALUATORS.create(
        "train",
        space=space,
        epochs=1,
        network=TINY,
        num_threads=1,
        latency={"warmup": 1, "repeats": 3},
        objectives=[
            {"metric": "valid_accuracy", "direction": "maximize"},
            {"metric": "latency_ms", "direction": "minimize"},
        ],
    )
    assert ev.objectives == [("valid_accuracy", True), ("latency_ms", False)]
    result = ev.evaluate(CONV)
    assert result.metrics["latency_ms"] > 0 and 0 <= result.metrics["valid_accuracy"] <= 100
    assert result.info["latency_device"] == "cpu"
    with pytest.raises(ConfigError, match="latency_ms needs the 'latency' option"):
        TrainingEvaluator(space, objectives=[{"metric": "latency_ms", "direction": "minimize"}])
    with pytest.raises(ConfigError, match="test split is never searched on"):
        TrainingEvaluator(space, objectives=[{"metric": "test_accuracy", "direction": "maximize"}])
    with pytest.raises(ConfigError, match="did you mean 'repeats'"):
        TrainingEvaluator(space, latency={"repeat": 3})


def test_any_space_with_a_network_trains_nb101_cells_too():
    from nasearch.search_spaces.nasbench101.space import NasBench101Space

    nb101 = NasBench101Space()
    cell = nb101.sample(np.random.default_rng(0))
    ev = TrainingEvaluator(
        nb101, epochs=1, network={"stem_channels": 4, "num_stacks": 2, "modules_per_stack": 1}, num_threads=1
    )
    result = ev.evaluate(cell)
    assert 0 <= result.metrics["valid_accuracy"] <= 100 and result.metrics["params"] > 0


def test_auto_device_is_the_gpu_a_worker_was_given(monkeypatch):
    from nasearch.evaluation.resources import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto").type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # Ray hides GPUs a trial was not given
    assert resolve_device("auto").type == "cpu"
    with pytest.raises(ConfigError, match="no CUDA GPU is visible"):
        resolve_device("cuda:0")
