"""Image datasets for real training: the embedded digits (no download) and a local CIFAR-10.

``load_dataset(name, ...)`` returns an ``ImageDataset`` with fixed, seeded train/valid/test
splits. Pixels stay in their stored type (uint8 for CIFAR-10) and are normalised per batch with
the training split's channel mean and std, so 50k CIFAR images cost 150 MB, not 600 MB.

CIFAR-10 is read from the user's own copy in one of its official layouts:

- python (what torchvision downloads): ``cifar-10-batches-py/{data_batch_1..5,test_batch}``,
  pickled dicts of numpy arrays. They are read by an unpickler that can build only numpy arrays
  (``numpy ... _reconstruct``, ``ndarray``, ``dtype``, ``_codecs.encode``); any other object
  in the file is refused, so a tampered file cannot run code.
- binary: ``cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin``, decoded with numpy alone.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nasearch.api.errors import ConfigError, DataError
from nasearch.config.options import call_with_options

CIFAR10_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_BATCH = "test_batch"
_CIFAR_RECORD = 1 + 3 * 32 * 32


@dataclass(frozen=True)
class Split:
    """Images ``x`` (N, C, H, W) in their stored dtype and integer labels ``y`` (N,)."""

    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class ImageDataset:
    """Three disjoint splits plus what a network and the normaliser need to know."""

    name: str
    train: Split
    valid: Split
    test: Split
    num_classes: int
    #: pixel value of full intensity (16 for digits, 255 for CIFAR-10)
    pixel_max: float
    #: per-channel mean and std of the training split after dividing by ``pixel_max``
    mean: tuple[float, ...]
    std: tuple[float, ...]
    #: whether random crops and flips make sense (natural images, not digits)
    augmentable: bool = False

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(channels, height, width) of one image."""
        c, h, w = self.train.x.shape[1:]
        return int(c), int(h), int(w)

    def summary(self) -> str:
        """One line: sizes of the splits and the image shape."""
        c, h, w = self.input_shape
        return (
            f"{self.name}: {len(self.train)} train / {len(self.valid)} valid / {len(self.test)} test "
            f"images of {c}x{h}x{w}, {self.num_classes} classes"
        )


def _channel_stats(x: np.ndarray, pixel_max: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
    scaled = x.astype(np.float64) / pixel_max
    mean = scaled.mean(axis=(0, 2, 3))
    std = scaled.std(axis=(0, 2, 3))
    return tuple(float(m) for m in mean), tuple(float(max(s, 1e-6)) for s in std)


def _split_indices(n: int, fractions: tuple[float, float], seed: int) -> tuple[np.ndarray, ...]:
    """A seeded permutation of ``range(n)`` cut into train / valid / test by ``fractions``."""
    order = np.random.default_rng(seed).permutation(n)
    n_valid = int(round(fractions[0] * n))
    n_test = int(round(fractions[1] * n))
    return order[n_valid + n_test :], order[:n_valid], order[n_valid : n_valid + n_test]


def _check_fraction(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise ConfigError(f"{name} must be a fraction strictly between 0 and 1, got {value!r}")
    return float(value)


def _check_max_train(max_train: int | None) -> int | None:
    if max_train is not None and (
        isinstance(max_train, bool) or not isinstance(max_train, int) or max_train < 1
    ):
        raise ConfigError(f"max_train must be a positive integer or null, got {max_train!r}")
    return max_train


def load_digits_dataset(
    valid_fraction: float = 0.2, test_fraction: float = 0.2, split_seed: int = 0, max_train: int | None = None
) -> ImageDataset:
    """scikit-learn's 1,797 handwritten digits (8x8, 17 grey levels), split by ``split_seed``;
    ``max_train`` keeps only that many training images (a harder, cheaper task)."""
    from sklearn.datasets import load_digits

    v, t = _check_fraction("valid_fraction", valid_fraction), _check_fraction("test_fraction", test_fraction)
    if v + t >= 1:
        raise ConfigError(f"valid_fraction + test_fraction must be below 1, got {v} + {t}")
    bunch = load_digits()
    x = bunch.images.astype(np.float32)[:, None, :, :]
    y = bunch.target.astype(np.int64)
    train, valid, test = _split_indices(len(y), (v, t), split_seed)
    train = train[: _check_max_train(max_train)]
    mean, std = _channel_stats(x[train], 16.0)
    return ImageDataset(
        "digits",
        Split(x[train], y[train]),
        Split(x[valid], y[valid]),
        Split(x[test], y[test]),
        num_classes=10,
        pixel_max=16.0,
        mean=mean,
        std=std,
    )


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays, lists, dicts, strings and numbers; refuses every other class."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: a CIFAR-10 batch holds only numpy arrays and lists"
            )
        return super().find_class(module, name)


def read_cifar_python_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One batch of the python layout -> (N, 3, 32, 32) uint8 images and (N,) labels."""
    try:
        with open(path, "rb") as handle:
            batch = _NumpyOnlyUnpickler(handle, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as exc:
        raise DataError(f"CIFAR-10 batch {str(path)!r} is not a valid python-layout batch: {exc}") from None
    if not isinstance(batch, dict):
        raise DataError(f"CIFAR-10 batch {str(path)!r} should hold a dict, got {type(batch).__name__}")
    get = lambda key: batch.get(key.encode(), batch.get(key))  # noqa: E731 - keys are bytes or str
    data, labels = get("data"), get("labels")
    if data is None or labels is None:
        raise DataError(f"CIFAR-10 batch {str(path)!r} lacks the 'data' or 'labels' entry")
    data = np.asarray(data)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DataError(
            f"CIFAR-10 batch {str(path)!r}: 'data' must be uint8 of shape (N, 3072), got {data.dtype} {data.shape}"
        )
    y = np.asarray(labels, dtype=np.int64)
    if y.shape != (data.shape[0],):
        raise DataError(f"CIFAR-10 batch {str(path)!r}: {len(y)} labels for {data.shape[0]} images")
    return data.reshape(-1, 3, 32, 32), y


def read_cifar_binary_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One batch of the binary layout (label byte + 3,072 pixel bytes per image), numpy only."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % _CIFAR_RECORD:
        raise DataError(
            f"CIFAR-10 batch {str(path)!r}: {raw.size} bytes is not a whole number of {_CIFAR_RECORD}-byte records"
        )
    records = raw.reshape(-1, _CIFAR_RECORD)
    return records[:, 1:].reshape(-1, 3, 32, 32).copy(), records[:, 0].astype(np.int64)


#: layout folder -> (file suffix, batch reader)
CIFAR10_LAYOUTS: dict[str, tuple[str, Callable[[Path], tuple[np.ndarray, np.ndarray]]]] = {
    "cifar-10-batches-py": ("", read_cifar_python_batch),
    "cifar-10-batches-bin": (".bin", read_cifar_binary_batch),
}


def find_cifar10(root: str | Path) -> tuple[Path, str]:
    """The batch folder under ``root`` (or ``root`` itself) and its layout name."""
    base = Path(root).expanduser()
    for layout, (suffix, _) in CIFAR10_LAYOUTS.items():
        for folder in (base / layout, base):
            if (folder / f"{CIFAR10_TEST_BATCH}{suffix}").is_file():
                return folder, layout
    raise DataError(
        f"no CIFAR-10 copy found at {str(base)!r}: expected a folder 'cifar-10-batches-py' (python "
        "layout, as torchvision downloads it) or 'cifar-10-batches-bin' (binary layout) there, with "
        "data_batch_1..5 and test_batch; download it from https://www.cs.toronto.edu/~kriz/cifar.html "
        "and set data_path to the folder that holds it"
    )


def load_cifar10_dataset(
    data_path: str | None = None,
    valid_fraction: float = 0.1,
    split_seed: int = 0,
    max_train: int | None = None,
) -> ImageDataset:
    """CIFAR-10 from a local copy; valid is a seeded held-out part of the 50k training images."""
    if not data_path:
        raise ConfigError("dataset 'cifar10' needs data_path: the folder that holds cifar-10-batches-py")
    folder, layout = find_cifar10(data_path)
    suffix, reader = CIFAR10_LAYOUTS[layout]
    parts = []
    for name in CIFAR10_TRAIN_BATCHES:
        path = folder / f"{name}{suffix}"
        if not path.is_file():
            raise DataError(f"CIFAR-10 copy at {str(folder)!r} lacks {path.name!r} (a truncated download?)")
        parts.append(reader(path))
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    x_test, y_test = reader(folder / f"{CIFAR10_TEST_BATCH}{suffix}")
    for labels, where in ((y, "training"), (y_test, "test")):
        if labels.min() < 0 or labels.max() > 9:
            raise DataError(f"CIFAR-10 copy at {str(folder)!r}: {where} labels outside 0..9")
    order = np.random.default_rng(split_seed).permutation(len(y))
    n_valid = int(round(_check_fraction("valid_fraction", valid_fraction) * len(y)))
    valid_idx, train_idx = order[:n_valid], order[n_valid:]
    train_idx = train_idx[: _check_max_train(max_train)]
    mean, std = _channel_stats(x[train_idx], 255.0)
    return ImageDataset(
        "cifar10",
        Split(x[train_idx], y[train_idx]),
        Split(x[valid_idx], y[valid_idx]),
        Split(x_test, y_test),
        num_classes=10,
        pixel_max=255.0,
        mean=mean,
        std=std,
        augmentable=True,
    )


#: dataset name -> loader taking the dataset options as keyword arguments
DATASETS: dict[str, Callable[..., ImageDataset]] = {
    "digits": load_digits_dataset,
    "cifar10": load_cifar10_dataset,
}


def load_dataset(name: str, **options: object) -> ImageDataset:
    """Load dataset ``name`` (``digits``, ``cifar10``) with its options."""
    dataset: ImageDataset = call_with_options(dataset_loader(name), options, f"dataset {name!r}")
    return dataset


def dataset_loader(name: str) -> Callable[..., ImageDataset]:
    """The loader of dataset ``name``, or a ConfigError listing the known ones."""
    try:
        return DATASETS[name]
    except KeyError:
        raise ConfigError(f"unknown dataset {name!r} (known: {', '.join(DATASETS)})") from None
