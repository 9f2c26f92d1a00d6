"""TrainingEvaluator: train a candidate network for real and report its accuracy and costs.

A search where no table exists: each evaluation builds ``space.network(arch)``, trains it for
``epochs`` (the fidelity) with SGD + Nesterov momentum and a cosine schedule, as NAS-Bench-201
trains its cells, and returns validation and test accuracy (percent), training time, parameters
and FLOPs. The default dataset is scikit-learn's embedded digits, so it runs with no download;
CIFAR-10 is read from a local copy (``dataset: cifar10``, ``data_path``). Same seed, same
device and thread count -> the same numbers. Runs on the GPU a Ray worker was given, else on
its allotted CPUs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from nasearch.api import AnySpace, BuildsNetwork, Evaluator, Result
from nasearch.api.errors import ConfigError, NasearchError
from nasearch.api.objective import objective_list
from nasearch.config.options import check_options
from nasearch.evaluation.datasets import ImageDataset, Split, dataset_loader, load_dataset
from nasearch.evaluation.latency import LatencyEvaluator
from nasearch.evaluation.profiling import count_flops, count_params
from nasearch.evaluation.resources import check_device, check_threads, resolve_device, threads

#: datasets loaded in this process, keyed by (name, options): Ray workers reuse them across trials
_DATA_CACHE: dict[tuple[str, tuple[tuple[str, str], ...]], ImageDataset] = {}
_DATA_CACHE_SIZE = 2

#: the metrics every evaluation reports (``latency_ms`` too when the latency option is set)
METRICS = ("valid_accuracy", "valid_loss", "test_accuracy", "train_loss", "train_seconds", "params", "flops")


def cached_dataset(name: str, options: Mapping[str, object]) -> ImageDataset:
    """``load_dataset`` memoised per process (a worker loads CIFAR-10 once, not once per trial)."""
    key = (name, tuple(sorted((k, repr(v)) for k, v in options.items())))
    if key not in _DATA_CACHE:
        while len(_DATA_CACHE) >= _DATA_CACHE_SIZE:
            _DATA_CACHE.pop(next(iter(_DATA_CACHE)))
        _DATA_CACHE[key] = load_dataset(name, **options)
    return _DATA_CACHE[key]


def _positive(name: str, value: Any, kind: type = int) -> Any:
    ok = not isinstance(value, bool) and isinstance(value, (int, float) if kind is float else int)
    if not ok or value <= 0:
        raise ConfigError(
            f"TrainingEvaluator option {name} must be a positive {kind.__name__}, got {value!r}"
        )
    return kind(value)


class TrainingEvaluator(Evaluator):
    """Trains each candidate on an image dataset and reports ``valid_accuracy`` (the objective).

    Metrics: ``valid_accuracy`` and ``test_accuracy`` (percent), ``valid_loss`` (cross-entropy;
    finer-grained than accuracy on a small split), ``train_loss`` (mean over the last epoch),
    ``train_seconds``, ``params`` (millions), ``flops`` (MFLOPs per image) and ``epochs``.
    """

    objective = "valid_accuracy"
    maximize = True
    #: what the run report shows for the incumbent: never the split the search optimised
    test_metric = "test_accuracy"
    #: where and on how many threads it trains: a resumed run may change these
    operational_options = ("device", "num_threads")

    def __init__(
        self,
        space: AnySpace,
        epochs: int = 3,
        dataset: str = "digits",
        data_path: str | None = None,
        dataset_options: Mapping[str, object] | None = None,
        network: Mapping[str, Any] | None = None,
        batch_size: int = 64,
        learning_rate: float = 0.05,
        momentum: float = 0.9,
        weight_decay: float = 5e-4,
        augment: bool = True,
        seed: int = 0,
        split_seed: int = 0,
        device: str = "auto",
        num_threads: int | None = None,
        latency: Mapping[str, Any] | None = None,
        objectives: Sequence[object] | None = None,
        learning_curve: bool = True,
    ) -> None:
        """``space`` must offer ``network(arch, **network)``; ``dataset`` is ``digits`` (embedded)
        or ``cifar10`` (``data_path``: the folder holding ``cifar-10-batches-py``).
        ``dataset_options`` go to the loader (``valid_fraction``, ``max_train`` ...);
        ``network`` to ``space.network`` (``C``, ``N`` ...). ``augment``: random crops and flips
        where they suit the images (CIFAR-10, not digits). ``seed`` fixes the initial weights and
        the batch order; ``split_seed`` the train/valid/test split. ``device``: ``auto`` (the GPU
        a Ray worker was given, else CPU), ``cpu`` or ``cuda``. ``num_threads``: torch CPU
        threads (default: the CPUs Ray allotted to the trial). ``latency``: also measure
        ``latency_ms`` on this device, with these LatencyEvaluator options (``{}`` for its
        defaults; the image shape and network options default to the training ones).
        ``objectives``: ``[{metric, direction}]`` for a multi-objective search, e.g.
        ``valid_accuracy`` maximised and ``latency_ms`` minimised. ``learning_curve``: also
        measure validation accuracy after every epoch (one extra pass over the validation split
        per epoch) and return it as the Result's ``info["intermediate_values"]`` (epoch ->
        accuracy), which tracking stores as the trial's intermediate values (the dashboard's
        learning curves).
        """
        if not isinstance(space, BuildsNetwork):
            raise ConfigError(
                f"TrainingEvaluator needs a search space that can build networks (a 'network' "
                f"method); {type(space).__name__} has none"
            )
        self.space: Any = space
        self.epochs = _positive("epochs", epochs)
        self.dataset = dataset
        self.dataset_options = dict(dataset_options or {})
        if data_path is not None:
            self.dataset_options["data_path"] = data_path
        check_options(
            dataset_loader(dataset),
            {"split_seed": split_seed, **self.dataset_options},
            f"dataset {dataset!r}",
        )
        if dataset == "cifar10" and not self.dataset_options.get("data_path"):
            raise ConfigError(
                "TrainingEvaluator with dataset 'cifar10' needs data_path: the folder holding cifar-10-batches-py"
            )
        self.network = dict(network or {})
        self._check_network(dataset)
        self.batch_size = _positive("batch_size", batch_size)
        self.learning_rate = _positive("learning_rate", learning_rate, float)
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0 <= momentum < 1:
            raise ConfigError(f"TrainingEvaluator option momentum must be in [0, 1), got {momentum!r}")
        self.momentum = float(momentum)
        if isinstance(weight_decay, bool) or not isinstance(weight_decay, (int, float)) or weight_decay < 0:
            raise ConfigError(f"TrainingEvaluator option weight_decay must be >= 0, got {weight_decay!r}")
        self.weight_decay = float(weight_decay)
        self.augment = bool(augment)
        self.learning_curve = bool(learning_curve)
        self.seed = int(seed)
        self.split_seed = int(split_seed)
        self.device = check_device(device)
        self.num_threads = check_threads(num_threads)
        self.latency = None if latency is None else dict(latency)
        if self.latency is not None:
            check_options(
                LatencyEvaluator, {"space": space, **self.latency}, "TrainingEvaluator option latency"
            )
            LatencyEvaluator(space, **{"network": self.network, **self.latency})  # checks the values
        if objectives:
            known = (set(METRICS) - {"test_accuracy"}) | (
                {"latency_ms"} if self.latency is not None else set()
            )
            self.objectives = objective_list(objectives)
            for metric, _ in self.objectives:
                if metric not in known:
                    raise ConfigError(
                        f"TrainingEvaluator objective {metric!r} is not one of its metrics "
                        f"({', '.join(sorted(known))}); latency_ms needs the 'latency' option, and the "
                        "test split is never searched on"
                    )
            self.objective, self.maximize = self.objectives[0]

    def _check_network(self, dataset: str) -> None:
        """Build one sampled cell's network with the ``network`` options now, so a bad option
        (``C: -4``) is a configuration error before the search, not a failure of every cell."""
        import numpy as np

        options = {"num_classes": 10, "in_channels": 1 if dataset == "digits" else 3, **self.network}
        try:
            self.space.network(self.space.sample(np.random.default_rng(0)), **options)
        except (NasearchError, TypeError, ValueError, RuntimeError) as exc:
            raise ConfigError(
                f"TrainingEvaluator option network {self.network!r}: {type(self.space).__name__}.network "
                f"refuses it: {exc}"
            ) from None

    # --- the data ---------------------------------------------------------------------------------
    def data(self) -> ImageDataset:
        """The dataset (loaded once per process)."""
        options = {"split_seed": self.split_seed, **self.dataset_options}
        return cached_dataset(self.dataset, options)

    # --- Evaluator contract -----------------------------------------------------------------------
    def evaluate(self, arch: Hashable, epochs: int | None = None) -> Result:
        """Train ``arch`` for ``epochs`` (default: the evaluator's) and measure it."""
        n_epochs = self.epochs if epochs is None else _positive("epochs", epochs)
        start = time.perf_counter()
        data = self.data()
        device = resolve_device(self.device)
        with threads(self.num_threads) as n_threads, torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            if device.type == "cuda":
                torch.backends.cudnn.deterministic = True
                torch.backends.cudnn.benchmark = False
            options = {"num_classes": data.num_classes, "in_channels": data.input_shape[0], **self.network}
            net = self.space.network(arch, **options)
            params = count_params(net)
            flops = count_flops(net, data.input_shape)
            net = net.to(device)
            trained = time.perf_counter()
            curve: dict[int, float] = {}
            curve_seconds = 0.0

            def on_epoch(epoch: int) -> None:
                nonlocal curve_seconds
                if self.learning_curve and epoch < n_epochs:  # the last epoch is measured below
                    t0 = time.perf_counter()
                    curve[epoch] = accuracy(net, data.valid, data, device, self.batch_size * 4)[0]
                    curve_seconds += time.perf_counter() - t0

            train_loss = self._train(net, data, n_epochs, device, on_epoch)
            train_seconds = time.perf_counter() - trained - curve_seconds
            valid, valid_loss = accuracy(net, data.valid, data, device, self.batch_size * 4)
            if self.learning_curve:
                curve[n_epochs] = valid
            test, _ = accuracy(net, data.test, data, device, self.batch_size * 4)
        metrics = {
            "valid_accuracy": valid,
            "valid_loss": valid_loss,
            "test_accuracy": test,
            "train_loss": train_loss,
            "train_seconds": train_seconds,
            "params": params,
            "flops": flops,
            "epochs": float(n_epochs),
        }
        info: dict[str, Any] = {
            "dataset": data.name,
            "device": str(device),
            "threads": n_threads,
            "seed": self.seed,
        }
        if curve:
            info["intermediate_values"] = curve  # validation accuracy per epoch
        if self.latency is not None:
            options = {
                "network": self.network,
                "input_shape": data.input_shape,
                "num_classes": data.num_classes,
                **self.latency,
            }
            measured = LatencyEvaluator(self.space, **options).evaluate(arch)
            metrics["latency_ms"] = measured.metrics["latency_ms"]
            metrics["latency_iqr_ms"] = measured.metrics["latency_iqr_ms"]
            info["latency_device"] = measured.info["device"]
        return Result(metrics=metrics, cost_seconds=time.perf_counter() - start, info=info)

    def _train(
        self,
        net: nn.Module,
        data: ImageDataset,
        epochs: int,
        device: torch.device,
        on_epoch: Callable[[int], None] | None = None,
    ) -> float:
        x_all, y_all = _to_device(data.train, device)
        norm = _Normalizer(data, device)
        generator = torch.Generator().manual_seed(self.seed)
        optimizer = torch.optim.SGD(
            net.parameters(),
            lr=self.learning_rate,
            momentum=self.momentum,
            nesterov=self.momentum > 0,
            weight_decay=self.weight_decay,
        )
        n = len(data.train)
        steps_per_epoch = max(1, n // self.batch_size)
        total = epochs * steps_per_epoch
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total) / total))
        )
        augment = self.augment and data.augmentable
        loss_fn = nn.CrossEntropyLoss()
        net.train()
        epoch_loss = float("nan")
        for epoch in range(1, epochs + 1):
            order = torch.randperm(n, generator=generator).to(device)
            losses = []
            for step in range(steps_per_epoch):  # drop the ragged last batch: BatchNorm needs > 1
                idx = order[step * self.batch_size : (step + 1) * self.batch_size]
                xb = norm(x_all[idx])
                if augment:
                    xb = _crop_and_flip(xb, generator)
                loss = loss_fn(net(xb), y_all[idx])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                schedule.step()
                losses.append(loss.detach())
            epoch_loss = float(torch.stack(losses).mean())
            if on_epoch is not None:
                on_epoch(epoch)  # evaluates in eval mode, then puts the net back in train mode
        return epoch_loss

    def __repr__(self) -> str:
        return f"TrainingEvaluator(dataset={self.dataset!r}, epochs={self.epochs}, seed={self.seed})"


class _Normalizer:
    """Stored pixels -> float, scaled to [0, 1], standardised with the training split's stats."""

    def __init__(self, data: ImageDataset, device: torch.device) -> None:
        shape = (1, len(data.mean), 1, 1)
        self.scale = 1.0 / data.pixel_max
        self.mean = torch.tensor(data.mean, dtype=torch.float32, device=device).view(shape)
        self.std = torch.tensor(data.std, dtype=torch.float32, device=device).view(shape)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return (x.float() * self.scale - self.mean) / self.std


def _to_device(split: Split, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.from_numpy(split.x).to(device), torch.from_numpy(split.y).to(device)


def _crop_and_flip(x: torch.Tensor, generator: torch.Generator, pad: int = 4) -> torch.Tensor:
    """Random translation by up to ``pad`` pixels (one per batch) and per-image horizontal flips."""
    h, w = x.shape[2:]
    dy, dx = (int(v) for v in torch.randint(0, 2 * pad + 1, (2,), generator=generator))
    padded = nn.functional.pad(x, (pad, pad, pad, pad))
    x = padded[:, :, dy : dy + h, dx : dx + w]
    flip = (torch.rand(x.shape[0], generator=generator) < 0.5).to(x.device)
    return torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)


@torch.no_grad()
def accuracy(
    net: nn.Module, split: Split, data: ImageDataset, device: torch.device, batch_size: int
) -> tuple[float, float]:
    """Top-1 accuracy (percent) and mean cross-entropy of ``net`` on ``split``, in eval mode."""
    net.eval()
    x_all, y_all = _to_device(split, device)
    norm = _Normalizer(data, device)
    correct, loss = 0, 0.0
    for start in range(0, len(split), batch_size):
        logits = net(norm(x_all[start : start + batch_size]))
        labels = y_all[start : start + batch_size]
        correct += int((logits.argmax(1) == labels).sum())
        loss += float(nn.functional.cross_entropy(logits, labels, reduction="sum"))
    net.train()
    n = max(1, len(split))
    return 100.0 * correct / n, loss / n
