"""TrainingEvaluator: train a candidate network for real and report its accuracy and costs.

A search where no table exists: each evaluation builds ``space.network(arch)``, trains it for
``epochs`` (the fidelity) with SGD + Nesterov momentum and a cosine schedule, as NAS-Bench-201
trains its cells, and returns validation and test accuracy (percent), training time, parameters
and FLOPs. The default dataset is scikit-learn's embedded digits, so it runs with no download;
CIFAR-10 is read from a local copy (``dataset: cifar10``, ``data_path``). Same seed, same
device and thread count -> the same numbers. Runs on the GPU a Ray worker was given, else on
its allotted CPUs.

With ``fidelities`` it is a ``MultiFidelity`` evaluator for the schedulers: ``evaluate_at`` trains
a cell to a number of epochs of its full training, continuing from the cell's checkpoint at a
lower one (``nasearch.evaluation.checkpoints``), so a promotion trains only the missing epochs.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from nasearch.api import AnySpace, BuildsNetwork, Evaluator, Result
from nasearch.api.errors import ConfigError, NasearchError
from nasearch.api.objective import objective_list
from nasearch.config.options import check_options
from nasearch.evaluation import checkpoints
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
    operational_options = ("device", "num_threads", "checkpoint_dir")

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
        fidelities: Sequence[int] | Mapping[str, int] | None = None,
        checkpoint_dir: str | None = None,
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
        learning curves). ``fidelities``: the epochs a scheduler may stop a cell at, strictly ascending
        positive integers ending at ``epochs`` (the full training), e.g. ``[1, 3, 9]`` with ``epochs: 9``,
        or a range ``{min: 1, max: 9}`` (``max`` defaults to ``epochs`` and must equal it): every whole
        epoch in it is offered, and a scheduler derives its rungs from it with its reduction factor;
        default ``[epochs]``. ``checkpoint_dir``: where ``evaluate_at`` keeps each cell's checkpoint
        (default: the run folder's ``checkpoints/`` under a scheduler, else a temporary folder).
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
        self._range: tuple[int, int] | None = None  # a fidelities: {min, max} range
        if isinstance(fidelities, Mapping):
            self._range = _check_range(fidelities, self.epochs)
            self._fidelities = tuple(range(self._range[0], self._range[1] + 1))
        else:
            self._fidelities = _check_fidelities(fidelities, self.epochs)
        self.checkpoint_dir: str | None = None if checkpoint_dir is None else str(checkpoint_dir)
        self._epoch_seconds: list[float] = []  # training seconds per epoch seen here (promotion_cost)
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
        return self._measure(arch, n_epochs, n_epochs, None)

    # --- fidelities (nasearch.api.fidelity.MultiFidelity) -----------------------------------------
    def fidelities(self) -> tuple[float, ...]:
        """The epochs a scheduler may stop a cell at (the ``fidelities`` option), ascending; the last is ``epochs``."""
        return tuple(float(f) for f in self._fidelities)

    def fidelity_range(self) -> tuple[float, float] | None:
        """``(min, max)`` of a ``fidelities: {min, max}`` range (schedulers derive their rungs from it), else None."""
        return None if self._range is None else (float(self._range[0]), float(self._range[1]))

    def evaluate_at(self, arch: Hashable, fidelity: float) -> Result:
        """Train ``arch`` to ``fidelity`` epochs of the full training and measure it.

        The learning-rate schedule is always the full one (cosine over ``epochs``), so a cell stopped
        at E epochs is exactly the first E epochs of its full training, and a promotion continues it
        from its checkpoint (model, optimizer, schedule and batch-order RNG) and trains only the
        missing epochs. ``cost_seconds`` (and ``simulated_seconds``, the scheduled loop's clock) is
        this step's own time; the ``train_seconds`` metric is the cell's training time over all its
        epochs so far; ``info["epochs_trained"]`` the epochs trained in this step.
        """
        if fidelity not in self.fidelities():
            offered = ", ".join(f"{f:g}" for f in self.fidelities())
            raise ConfigError(f"evaluator: fidelity {fidelity:g} is not offered (offered: {offered})")
        key = str(self.space.key(arch))
        return self._measure(arch, int(fidelity), self.epochs, key)

    def promotion_cost(self, arch: Hashable, low: float, high: float) -> float:
        """Seconds to take ``arch`` from ``low`` to ``high`` epochs: the missing epochs at this cell's
        measured seconds per epoch (its checkpoint's), else at the mean epoch trained here; 0 before
        any epoch is measured. A cell without a checkpoint at ``low`` pays all ``high`` epochs."""
        state = checkpoints.load(self._folder(), str(self.space.key(arch)), self._identity())
        if state is not None and int(state["epoch"]) == int(low):
            seconds = [float(s) for s in state["epoch_seconds"]]
            missing = high - low
        else:
            seconds, missing = self._epoch_seconds, high
        per_epoch = sum(seconds) / len(seconds) if seconds else 0.0
        return float(max(0.0, missing) * per_epoch)

    def checkpoint_in(self, folder: str | Path) -> None:
        """Keep checkpoints in ``folder`` unless the ``checkpoint_dir`` option named one (the loop's run folder)."""
        if self.checkpoint_dir is None:
            self.checkpoint_dir = str(folder)

    def _folder(self) -> Path:
        if self.checkpoint_dir is None:
            self.checkpoint_dir = tempfile.mkdtemp(prefix="nasearch-checkpoints-")
        return Path(self.checkpoint_dir)

    def _identity(self) -> str:
        """What a checkpoint must have been trained under to be continued (not device or threads)."""
        return repr(
            (
                type(self.space).__name__,
                self.dataset,
                sorted((k, repr(v)) for k, v in self.dataset_options.items()),
                sorted((k, repr(v)) for k, v in self.network.items()),
                self.epochs,
                self.batch_size,
                self.learning_rate,
                self.momentum,
                self.weight_decay,
                self.augment,
                self.seed,
                self.split_seed,
            )
        )

    def _measure(self, arch: Hashable, n_epochs: int, schedule_epochs: int, key: str | None) -> Result:
        """Train ``arch`` to ``n_epochs`` under a cosine schedule over ``schedule_epochs`` and measure it;
        with a cell ``key``, continue from and leave a checkpoint (``evaluate_at``)."""
        start = time.perf_counter()
        data = self.data()
        device = resolve_device(self.device)
        resume: dict[str, Any] | None = None
        if key is not None:
            resume = checkpoints.load(self._folder(), key, self._identity())
            if resume is not None and int(resume["epoch"]) > n_epochs:
                resume = None  # trained past this fidelity already: a lower rung is trained afresh
        with threads(self.num_threads) as n_threads, torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            if device.type == "cuda":
                torch.backends.cudnn.deterministic = True
                torch.backends.cudnn.benchmark = False
            options = {"num_classes": data.num_classes, "in_channels": data.input_shape[0], **self.network}
            net = self.space.network(arch, **options)
            params = count_params(net)
            flops = count_flops(net, data.input_shape)
            if resume is not None:
                net.load_state_dict(resume["model"])
                torch.set_rng_state(resume["torch_rng"])
            net = net.to(device)
            first = int(resume["epoch"]) if resume is not None else 0
            trained = time.perf_counter()
            curve: dict[int, float] = {}
            curve_seconds = 0.0
            epoch_seconds: list[float] = (
                [float(s) for s in resume["epoch_seconds"]] if resume is not None else []
            )
            mark = time.perf_counter()

            def on_epoch(epoch: int) -> None:
                nonlocal curve_seconds, mark
                epoch_seconds.append(time.perf_counter() - mark)
                if self.learning_curve and epoch < n_epochs:  # the last epoch is measured below
                    t0 = time.perf_counter()
                    curve[epoch] = accuracy(net, data.valid, data, device, self.batch_size * 4)[0]
                    curve_seconds += time.perf_counter() - t0
                mark = time.perf_counter()

            train_loss, saved = self._train(
                net, data, n_epochs, device, on_epoch, schedule_epochs=schedule_epochs, resume=resume
            )
            train_seconds = time.perf_counter() - trained - curve_seconds
            valid, valid_loss = accuracy(net, data.valid, data, device, self.batch_size * 4)
            if self.learning_curve:
                curve[n_epochs] = valid
            test, _ = accuracy(net, data.test, data, device, self.batch_size * 4)
            if key is not None:
                self._epoch_seconds.extend(epoch_seconds[first:])
                if n_epochs < self.epochs:
                    saved.update(
                        key=key,
                        identity=self._identity(),
                        epoch=n_epochs,
                        model={k: v.detach().cpu() for k, v in net.state_dict().items()},
                        torch_rng=torch.get_rng_state(),
                        epoch_seconds=epoch_seconds,
                        train_loss=train_loss,
                    )
                    checkpoints.save(self._folder(), key, saved)
                else:  # the full training: nothing will continue it
                    checkpoints.remove(self._folder(), key)
                train_seconds = sum(epoch_seconds)
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
        if key is not None:
            info.update(fidelity=float(n_epochs), resumed_from=first, epochs_trained=n_epochs - first)
            info["intermediate_metric"] = (
                "valid_accuracy"  # what the learning curve measures (the loop's steps)
            )
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
        cost = time.perf_counter() - start
        return Result(
            metrics=metrics, cost_seconds=cost, simulated_seconds=cost if key is not None else 0.0, info=info
        )

    def _train(
        self,
        net: nn.Module,
        data: ImageDataset,
        epochs: int,
        device: torch.device,
        on_epoch: Callable[[int], None] | None = None,
        *,
        schedule_epochs: int | None = None,
        resume: Mapping[str, Any] | None = None,
    ) -> tuple[float, dict[str, Any]]:
        """Train to epoch ``epochs`` (from ``resume``'s epoch, else 0) under a cosine schedule over
        ``schedule_epochs`` (default ``epochs``); the mean loss of the last epoch and the optimizer,
        schedule and batch-order RNG states to continue from."""
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
        total = (schedule_epochs or epochs) * steps_per_epoch
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total) / total))
        )
        first = 0
        epoch_loss = float("nan")
        if resume is not None:
            optimizer.load_state_dict(resume["optimizer"])
            schedule.load_state_dict(resume["schedule"])
            generator.set_state(resume["generator"])
            first = int(resume["epoch"])
            epoch_loss = float(resume["train_loss"])
        augment = self.augment and data.augmentable
        loss_fn = nn.CrossEntropyLoss()
        net.train()
        for epoch in range(first + 1, epochs + 1):
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
        saved = {
            "optimizer": optimizer.state_dict(),
            "schedule": schedule.state_dict(),
            "generator": generator.get_state(),
        }
        return epoch_loss, saved

    def __repr__(self) -> str:
        return f"TrainingEvaluator(dataset={self.dataset!r}, epochs={self.epochs}, seed={self.seed})"


def _check_range(value: Mapping[str, object], epochs: int) -> tuple[int, int]:
    """The ``fidelities: {min, max}`` option: whole epochs, 1 <= min < max = epochs (max defaults to epochs)."""
    low, high = value.get("min"), value.get("max", epochs)
    unknown = sorted(str(k) for k in value if k not in ("min", "max"))
    problem = ""
    if unknown:
        problem = f"unknown key(s) {', '.join(unknown)}"
    elif (
        not (isinstance(low, int) and isinstance(high, int))
        or isinstance(low, bool)
        or isinstance(high, bool)
    ):
        problem = "min and max must be whole epochs"
    elif high != epochs:
        problem = f"max must be epochs ({epochs}, the full training)"
    elif not 1 <= low < high:
        problem = "min must be >= 1 and below max"
    if problem or not isinstance(low, int) or not isinstance(high, int):
        raise ConfigError(
            f"TrainingEvaluator option fidelities: a range is {{min: M, max: {epochs}}} (whole epochs, "
            f"1 <= M < {epochs}); {problem}, got {dict(value)!r}"
        )
    return low, high


def _check_fidelities(value: Sequence[int] | None, epochs: int) -> tuple[int, ...]:
    """The ``fidelities`` option: strictly ascending positive integers ending at ``epochs``."""
    if value is None:
        return (epochs,)
    items = list(value) if isinstance(value, (list, tuple)) else None
    if not items or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in items):
        raise ConfigError(
            f"TrainingEvaluator option fidelities must be a list of positive whole epochs, e.g. [1, 3, 9], "
            f"got {value!r}"
        )
    if any(b <= a for a, b in zip(items, items[1:])):
        raise ConfigError(f"TrainingEvaluator option fidelities must be strictly ascending, got {items!r}")
    if items[-1] != epochs:
        raise ConfigError(
            f"TrainingEvaluator option fidelities must end at epochs ({epochs}, the full training), got {items!r}"
        )
    return tuple(items)


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
