"""The shared training loop of the neural predictors (NN-Former, LeDG-Former, MLP, GIN).

One loop, so that every neural surrogate gets the same budget rules: AdamW, linear warm-up then
cosine decay to ``min_lr_ratio * lr``, an EMA of the weights (used for prediction), a loss of
``MSE + rank_weight * L1(pairwise differences) + rdrop_weight * R-Drop consistency``, seeded.

Public API (stable; other modules build on it):

``TrainConfig``
    A dataclass of the loop's options (epochs, batch_size, lr, weight_decay, warmup, min_lr_ratio,
    ema_decay, rank_weight, rdrop_weight, grad_clip, max_steps, seed, device, threads). Every neural
    predictor takes these as constructor kwargs, declared once (see ``TorchPredictor``).
``BatchSource`` (protocol)
    What the loop iterates: ``len(source)`` items, and ``source.batches(indices, batch_size, rng)``
    yielding ``(inputs, positions)``: ``inputs`` is whatever the model's ``forward`` takes (a
    tensor, a dict or a dataclass of tensors; ``move_to`` sends it to the device) and
    ``positions`` the int array of the item positions it holds (so targets can be gathered).
    ``rng`` is None for prediction (keep the order), a Generator for training (shuffle).
    ``nasearch.predictors.encoding.EncodedGraphs`` is the ready-made one for ArchGraphs.
``train_regressor(model, source, y, config, forward=None, validation=None) -> TrainResult``
    Trains ``model`` (an ``nn.Module`` whose ``forward(inputs)`` returns a ``(B,)`` tensor, or
    ``forward(model, inputs)`` when given) on the standardised ``y`` and returns it with the EMA
    weights loaded, plus the loss history. ``validation=(source, y)`` keeps instead the weights
    that rank it best (``CheckpointSelector``).
``predict_regressor(model, source, batch_size=512, device="cpu", forward=None) -> np.ndarray``
    Eval-mode predictions in item order.
``TorchPredictor``
    A ``Predictor`` base class that does fit/predict/pickling around the loop. A subclass
    implements three hooks:

    - ``_prepare(graphs, hardware)``: learn anything from the training set (e.g. the op
      vocabulary) before the module is built;
    - ``_build_module() -> nn.Module``;
    - ``_encode(graphs, hardware) -> BatchSource``.

    Its ``fit`` takes an optional ``eval_set=(graphs, y[, hardware])`` for checkpoint selection.

    Targets are standardised (``log_target=True`` first takes the log, for latencies); the model
    is kept on CPU between calls, so a fitted predictor pickles (Ray ships it) and unpickles
    anywhere.
Helpers: ``pairwise_difference_loss``, ``rdrop_consistency``, ``warmup_cosine``, ``EMA``,
``TargetScaler``, ``seed_everything``, ``resolve_device``, ``move_to``,
``PredictOptions``, ``shared_parameters``, ``ACCURACY_DEFAULTS``.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import math
import time
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Protocol

import numpy as np
import torch
from torch import nn

from nasearch.api import Hardware, Predictor, Targets
from nasearch.api.errors import ConfigError, NasearchError, suggest
from nasearch.api.graph import ArchGraph
from nasearch.metrics.ranking import kendall_tau
from nasearch.predictors.pretraining import Pretrained, PretrainSpec, pretrained_module
from nasearch.predictors.proxies import INPUT_KEYS, ProxyRidgeModel, ProxySpec, WithProxies, proxy_table


class PredictorError(NasearchError, ValueError):
    """A predictor was used wrongly (predict before fit, mismatched lengths, bad targets)."""


@dataclasses.dataclass
class TrainConfig:
    """Options of the training loop (the NN-Former paper's recipe where it gives one)."""

    epochs: int = 200
    batch_size: int = 128
    lr: float = 1e-4
    weight_decay: float = 0.01
    #: fraction of all steps spent in linear warm-up
    warmup: float = 0.1
    #: the cosine ends at ``min_lr_ratio * lr``
    min_lr_ratio: float = 0.1
    #: EMA decay of the weights used for prediction (None or 0: no EMA)
    ema_decay: float | None = 0.99
    #: weight of the L1 loss between predicted and true pairwise differences in a batch
    rank_weight: float = 0.2
    #: weight of the R-Drop consistency term (two dropout passes); 0 = one pass
    rdrop_weight: float = 0.0
    #: clip the gradient norm (None: no clipping)
    grad_clip: float | None = None
    #: cap on optimizer steps: large training sets then get fewer epochs (None: no cap)
    max_steps: int | None = None
    seed: int = 0
    #: "cpu", "cuda", "cuda:1", "mps" or "auto" (cuda when available)
    device: str = "cpu"
    #: torch CPU threads while training (None: leave torch's setting alone)
    threads: int | None = None
    #: with an ``eval_set``: score it (Kendall tau) every this many steps and keep the best
    #: weights, the checkpoint selection of the official NN-Former code (it scores every 5 epochs)
    validate_every: int = 100

    def __post_init__(self) -> None:
        checks = [
            (self.epochs >= 1, "epochs must be >= 1"),
            (self.batch_size >= 2, "batch_size must be >= 2"),
            (self.lr > 0, "lr must be > 0"),
            (self.weight_decay >= 0, "weight_decay must be >= 0"),
            (0 <= self.warmup < 1, "warmup must be a fraction in [0, 1)"),
            (0 <= self.min_lr_ratio <= 1, "min_lr_ratio must be in [0, 1]"),
            (self.ema_decay is None or 0 <= self.ema_decay < 1, "ema_decay must be in [0, 1) or None"),
            (self.rank_weight >= 0, "rank_weight must be >= 0"),
            (self.rdrop_weight >= 0, "rdrop_weight must be >= 0"),
            (self.grad_clip is None or self.grad_clip > 0, "grad_clip must be > 0 or None"),
            (self.threads is None or self.threads >= 1, "threads must be >= 1 or None"),
            (self.max_steps is None or self.max_steps >= 1, "max_steps must be >= 1 or None"),
            (self.validate_every >= 1, "validate_every must be >= 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"training option: {message}")


@dataclasses.dataclass
class PredictOptions:
    """The options of a ``TorchPredictor`` besides the training loop's (``TrainConfig``)."""

    #: standardise ``log(y)`` instead of ``y`` (positive targets such as latency)
    log_target: bool = False
    #: graphs per forward pass when predicting
    predict_batch_size: int = 1024
    #: unlabeled pre-training on every cell of a space before the fit (None: none), e.g.
    #: ``{"space": "nasbench201", "proxies": ["synflow"], "steps": 2000}``: see ``nasearch.predictors.pretraining``
    pretrain: dict[str, Any] | None = None
    #: blend the prediction with a ridge on a space's zero-cost proxies, fitted on the same cells
    #: (None: none), e.g. ``{"space": "nasbench201"}``: see ``nasearch.predictors.proxies``
    proxy_blend: dict[str, Any] | None = None
    #: feed the network each cell's zero-cost proxies (None: none), e.g. ``{"space": "nasbench201"}``;
    #: only networks that take them (NN-Former): see ``nasearch.predictors.proxies``
    proxy_input: dict[str, Any] | None = None


#: the default budget of the neural accuracy predictors (NN-Former, GIN, MLP): this many epochs,
#: capped at ``DEFAULT_MAX_STEPS`` optimizer steps. Measured on NB201 (BENCHMARKS.md), 16,000 steps
#: reach the NN-Former paper's tau at 781 cells and come within 0.001 at 1563, where 8000 steps fell
#: 0.004-0.007 short; at ~150 cells the 1000 epochs end first (5-10 batches an epoch).
DEFAULT_EPOCHS = 1000
DEFAULT_MAX_STEPS = 16000

#: the recipe the neural accuracy predictors (NN-Former, GIN, MLP) share: their ``option_defaults``
ACCURACY_DEFAULTS: dict[str, Any] = {
    "log_target": False,
    "epochs": DEFAULT_EPOCHS,
    "batch_size": 32,
    "lr": 1e-3,
    "max_steps": DEFAULT_MAX_STEPS,
    "rank_weight": 1.0,
}


def shared_parameters(option_defaults: Mapping[str, Any] | None = None) -> dict[str, inspect.Parameter]:
    """Every ``TorchPredictor`` option a subclass does not declare itself (``PredictOptions`` then
    ``TrainConfig``) as a keyword-only parameter with its default; ``option_defaults`` come first
    and override theirs. The one declaration of these options, for validation and messages."""
    fields = [*dataclasses.fields(PredictOptions), *dataclasses.fields(TrainConfig)]
    hints = {**typing.get_type_hints(PredictOptions), **typing.get_type_hints(TrainConfig)}
    params = {
        f.name: inspect.Parameter(
            f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=hints[f.name]
        )
        for f in fields
    }
    overrides = dict(option_defaults or {})
    unknown = [k for k in overrides if k not in params]
    if unknown:
        raise TypeError(f"option_defaults names no shared option {unknown[0]!r}{suggest(unknown[0], params)}")
    first = {k: params[k].replace(default=v) for k, v in overrides.items()}
    return {**first, **{k: p for k, p in params.items() if k not in first}}


class BatchSource(Protocol):
    """A dataset the loop can batch: see the module docstring."""

    def __len__(self) -> int: ...

    def batches(
        self, indices: np.ndarray, batch_size: int, rng: np.random.Generator | None
    ) -> Iterator[tuple[Any, np.ndarray]]: ...


@dataclasses.dataclass
class TrainResult:
    """What ``train_regressor`` returns: the trained model (EMA weights) and its history."""

    model: nn.Module
    losses: list[float]
    steps: int
    seconds: float
    #: with a validation set: the step whose weights were kept, and their validation Kendall tau
    best_step: int | None = None
    best_score: float | None = None


# --- pieces of the loop ---------------------------------------------------------------------------


def seed_everything(seed: int) -> None:
    """Seed torch (CPU and CUDA) so a fit is reproducible for a given seed."""
    torch.manual_seed(int(seed))
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(int(seed))


def resolve_device(device: str) -> torch.device:
    """``"auto"`` -> cuda when available else cpu; other names are checked to exist."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError(
            f"device {device!r} is not a torch device name (cpu, cuda, cuda:1, mps, auto)"
        ) from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r}: CUDA is not available on this machine (use cpu or auto)")
    return dev


def move_to(obj: Any, device: torch.device) -> Any:
    """Send tensors inside ``obj`` (tensor, dict, list/tuple, dataclass, or ``.to``-able) to ``device``."""
    if isinstance(obj, torch.Tensor):
        return obj.to(device)
    if isinstance(obj, dict):
        return {k: move_to(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(move_to(v, device) for v in obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.replace(
            obj, **{f.name: move_to(getattr(obj, f.name), device) for f in dataclasses.fields(obj)}
        )
    to = getattr(obj, "to", None)
    return to(device) if callable(to) else obj


def warmup_cosine(step: int, total: int, warmup: float, min_ratio: float) -> float:
    """LR multiplier: linear 0->1 over ``warmup * total`` steps, then cosine 1->``min_ratio``."""
    warm = int(round(warmup * total))
    if step < warm:
        return (step + 1) / warm
    span = max(1, total - warm)
    progress = min(1.0, (step - warm) / span)
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def pairwise_difference_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean L1 between predicted and true differences over all ordered pairs of the batch."""
    dp = pred.unsqueeze(0) - pred.unsqueeze(1)
    dt = target.unsqueeze(0) - target.unsqueeze(1)
    return (dp - dt).abs().mean()


def rdrop_consistency(pred_a: torch.Tensor, pred_b: torch.Tensor) -> torch.Tensor:
    """R-Drop for regression: MSE between two dropout passes of the same inputs."""
    return torch.mean((pred_a - pred_b) ** 2)


class EMA:
    """Exponential moving average of a module's parameters and buffers.

    The decay warms up as ``min(decay, (1 + t) / (10 + t))`` so that short fits (few steps) are
    not dominated by the random initial weights.
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = float(decay)
        self.shadow = copy.deepcopy(model).eval()
        for p in self.shadow.parameters():
            p.requires_grad_(False)
        self.updates = 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Blend the current weights of ``model`` into the average."""
        self.updates += 1
        d = min(self.decay, (1.0 + self.updates) / (10.0 + self.updates))
        for s, p in zip(self.shadow.state_dict().values(), model.state_dict().values()):
            if s.dtype.is_floating_point:
                s.mul_(d).add_(p.detach(), alpha=1.0 - d)
            else:
                s.copy_(p)


def _default_forward(model: nn.Module, inputs: Any) -> torch.Tensor:
    return model(inputs)


class CheckpointSelector:
    """Keeps the weights that rank a validation set best (Kendall tau of their predictions).

    The official NN-Former code scores the next 1024 cells every 5 epochs and tests the best
    checkpoint. With our EMA weights it changed NB201 test tau by less than 0.001 (156-781 cells),
    but it guards a fit whose last weights are not its best.
    """

    def __init__(
        self,
        source: BatchSource,
        y: np.ndarray,
        device: torch.device,
        forward: Callable[[nn.Module, Any], torch.Tensor] | None = None,
    ) -> None:
        self.source, self.y, self.device, self.forward = source, np.asarray(y, dtype=float), device, forward
        self.best_score = -np.inf
        self.best_step: int | None = None
        self.best_state: dict[str, torch.Tensor] | None = None

    def consider(self, model: nn.Module, step: int) -> None:
        """Score ``model`` on the validation set; keep a copy of its weights if it is the best so far."""
        was_training = model.training
        pred = predict_regressor(model, self.source, 1024, self.device, self.forward)
        model.train(was_training)
        score = kendall_tau(self.y, pred)
        if score > self.best_score:
            self.best_score, self.best_step = score, step
            self.best_state = copy.deepcopy(model.state_dict())


def train_regressor(
    model: nn.Module,
    source: BatchSource,
    y: np.ndarray,
    config: TrainConfig,
    forward: Callable[[nn.Module, Any], torch.Tensor] | None = None,
    validation: tuple[BatchSource, np.ndarray] | None = None,
) -> TrainResult:
    """Train ``model`` to regress ``y`` (already scaled) over ``source``; returns EMA weights.

    With ``validation=(source, y)`` the weights (EMA ones when EMA is on) are scored on it every
    ``config.validate_every`` steps and at the end, and the best-scoring ones are returned.
    """
    fwd = forward or _default_forward
    n = len(source)
    target = np.asarray(y, dtype=np.float32).ravel()
    if target.size != n:
        raise PredictorError(f"train_regressor: {n} training items but {target.size} targets")
    if n < 2:
        raise PredictorError(f"train_regressor: needs at least 2 training items, got {n}")
    device = resolve_device(config.device)
    old_threads = torch.get_num_threads()
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    try:
        seed_everything(config.seed)
        rng = np.random.default_rng(config.seed)
        model.to(device).train()
        y_all = torch.as_tensor(target, device=device)
        optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        indices = np.arange(n)
        steps_per_epoch = sum(1 for _ in source.batches(indices, config.batch_size, None))
        epochs = config.epochs
        if config.max_steps is not None:
            epochs = max(1, min(epochs, math.ceil(config.max_steps / steps_per_epoch)))
        total = max(1, steps_per_epoch * epochs)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: warmup_cosine(s, total, config.warmup, config.min_lr_ratio)
        )
        ema = EMA(model, config.ema_decay) if config.ema_decay else None
        scored = ema.shadow if ema is not None else model
        selector = CheckpointSelector(validation[0], validation[1], device, forward) if validation else None
        losses: list[float] = []
        step = 0
        start = time.perf_counter()
        for _ in range(epochs):
            epoch_loss, epoch_batches = 0.0, 0
            for inputs, pos in source.batches(indices, config.batch_size, rng):
                inputs = move_to(inputs, device)
                t = y_all[torch.as_tensor(pos, device=device)]
                pred = fwd(model, inputs).reshape(-1)
                loss = torch.mean((pred - t) ** 2)
                if config.rank_weight > 0 and pred.numel() > 1:
                    loss = loss + config.rank_weight * pairwise_difference_loss(pred, t)
                if config.rdrop_weight > 0:
                    pred2 = fwd(model, inputs).reshape(-1)
                    loss2 = torch.mean((pred2 - t) ** 2)
                    if config.rank_weight > 0 and pred2.numel() > 1:
                        loss2 = loss2 + config.rank_weight * pairwise_difference_loss(pred2, t)
                    loss = 0.5 * (loss + loss2) + config.rdrop_weight * rdrop_consistency(pred, pred2)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if config.grad_clip:
                    nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
                optimizer.step()
                scheduler.step()
                if ema is not None:
                    ema.update(model)
                step += 1
                if selector is not None and step % config.validate_every == 0:
                    selector.consider(scored, step)
                epoch_loss += float(loss.detach())
                epoch_batches += 1
            losses.append(epoch_loss / max(1, epoch_batches))
        if selector is not None:
            if step % config.validate_every:  # the last weights were not scored yet
                selector.consider(scored, step)
            assert selector.best_state is not None
            model.load_state_dict(selector.best_state)
        elif ema is not None:
            model.load_state_dict(ema.shadow.state_dict())
        model.eval()
        best = (selector.best_step, selector.best_score) if selector is not None else (None, None)
        return TrainResult(model, losses, step, time.perf_counter() - start, *best)
    finally:
        if config.threads is not None:
            torch.set_num_threads(old_threads)


@torch.no_grad()
def predict_regressor(
    model: nn.Module,
    source: BatchSource,
    batch_size: int = 512,
    device: str | torch.device = "cpu",
    forward: Callable[[nn.Module, Any], torch.Tensor] | None = None,
) -> np.ndarray:
    """Eval-mode predictions of ``model`` for every item of ``source``, in item order."""
    fwd = forward or _default_forward
    dev = resolve_device(device) if isinstance(device, str) else device
    model.to(dev).eval()
    n = len(source)
    out = np.empty(n, dtype=np.float64)
    for inputs, pos in source.batches(np.arange(n), batch_size, None):
        out[pos] = fwd(model, move_to(inputs, dev)).reshape(-1).double().cpu().numpy()
    return out


class TargetScaler:
    """Standardise targets (optionally after a log, for positive targets such as latency)."""

    def __init__(self, log: bool = False) -> None:
        self.log = bool(log)
        self.mean = 0.0
        self.std = 1.0

    def fit(self, y: np.ndarray) -> TargetScaler:
        """Learn mean and std of the (logged) targets."""
        z = self._forward(y)
        self.mean = float(z.mean())
        self.std = float(z.std()) or 1.0
        return self

    def _forward(self, y: np.ndarray) -> np.ndarray:
        arr = np.asarray(y, dtype=np.float64)
        if self.log:
            if (arr <= 0).any():
                raise PredictorError("log_target=True needs strictly positive targets")
            arr = np.log(arr)
        return arr

    def transform(self, y: np.ndarray) -> np.ndarray:
        """Targets -> standardised training targets."""
        return (self._forward(y) - self.mean) / self.std

    def inverse(self, z: np.ndarray) -> np.ndarray:
        """Model outputs -> target units."""
        out = np.asarray(z, dtype=np.float64) * self.std + self.mean
        return np.exp(out) if self.log else out

    def inverse_std(self, z_mean: np.ndarray, z_std: np.ndarray) -> np.ndarray:
        """A std in model units -> target units (delta method through the log)."""
        std = np.asarray(z_std, dtype=np.float64) * self.std
        return std * self.inverse(z_mean) if self.log else std


def check_fit_inputs(graphs: Sequence[ArchGraph], y: Targets, what: str) -> np.ndarray:
    """``y`` as a float array after checking it matches ``graphs`` and holds no NaN/inf."""
    arr = np.asarray(y, dtype=np.float64).ravel()
    if len(graphs) != arr.size:
        raise PredictorError(f"{what}.fit: got {len(graphs)} graphs but {arr.size} targets")
    if arr.size < 2:
        raise PredictorError(f"{what}.fit: needs at least 2 training graphs, got {arr.size}")
    if not np.isfinite(arr).all():
        raise PredictorError(f"{what}.fit: the targets contain NaN or inf")
    bad = [i for i, g in enumerate(graphs) if not isinstance(g, ArchGraph)]
    if bad:
        raise PredictorError(
            f"{what}.fit: item {bad[0]} is a {type(graphs[bad[0]]).__name__}, not an ArchGraph "
            "(convert with space.to_graph(arch))"
        )
    return arr


#: a validation set for ``fit(..., eval_set=...)``: ``(graphs, y)`` or ``(graphs, y, hardware)``
EvalSet = tuple[Sequence[ArchGraph], Sequence[float]] | tuple[Sequence[ArchGraph], Sequence[float], Hardware]


def unpack_eval_set(eval_set: Any, owner: str) -> tuple[list[ArchGraph], np.ndarray, Hardware]:
    """``(graphs, y, hardware)`` from ``owner``'s ``eval_set`` after checking it (>= 2 graphs)."""
    if not isinstance(eval_set, (tuple, list)) or len(eval_set) not in (2, 3):
        raise PredictorError(f"{owner}.fit: eval_set must be a (graphs, y) or (graphs, y, hardware) tuple")
    graphs, y = list(eval_set[0]), eval_set[1]
    hardware = eval_set[2] if len(eval_set) == 3 else None
    return graphs, check_fit_inputs(graphs, y, f"{owner} (eval_set)"), hardware


class TorchPredictor(Predictor):
    """fit/predict/pickling for a torch model trained by ``train_regressor`` (see module doc).

    A subclass declares only its own options and forwards ``**options`` here: ``log_target``,
    ``predict_batch_size`` (``PredictOptions``) and the training options (``TrainConfig``), each
    declared once. Where its defaults differ from those, it says so in ``option_defaults``.
    """

    #: the name used in messages
    display_name = "predictor"
    #: this predictor's own defaults for shared options (e.g. ``ACCURACY_DEFAULTS``): they override
    #: ``PredictOptions``' and ``TrainConfig``'s and, like its own parameters, are recorded in the
    #: provenance of a compare row (``nasearch.config.options.declared_defaults``)
    option_defaults: ClassVar[Mapping[str, Any]] = {}
    #: whether the module takes the cells' proxy features (``proxy_input``): ``module(inputs, features)``
    takes_proxy_input: ClassVar[bool] = False

    def __init__(self, **options: Any) -> None:
        """``options``: any of ``keyword_options()``; the others keep this predictor's defaults."""
        shared = self.keyword_options()
        unknown = [k for k in options if k not in shared]
        if unknown:
            known = type(self).option_names()
            raise ConfigError(
                f"{self.display_name} has no option {unknown[0]!r}{suggest(unknown[0], known)} "
                f"(options: {', '.join(known)})"
            )
        values = {name: p.default for name, p in shared.items()} | options
        predict = {f.name: values.pop(f.name) for f in dataclasses.fields(PredictOptions)}
        self.train_config = TrainConfig(**values)
        self.log_target = bool(predict["log_target"])
        self.predict_batch_size = int(predict["predict_batch_size"])
        self.pretrain = (
            None
            if predict["pretrain"] is None
            else PretrainSpec.parse(predict["pretrain"], self.display_name)
        )
        self.proxy_blend = (
            None
            if predict["proxy_blend"] is None
            else ProxySpec.parse(predict["proxy_blend"], self.display_name)
        )
        self.proxy_input = (
            None
            if predict["proxy_input"] is None
            else ProxySpec.parse(predict["proxy_input"], self.display_name, INPUT_KEYS)
        )
        if self.proxy_input is not None and not self.takes_proxy_input:
            raise ConfigError(f"{self.display_name} takes no proxy_input (nnformer does); use proxy_blend")
        #: with ``proxy_input``: how many proxy features the module takes (0: none)
        self.proxy_dim = 0
        #: with ``proxy_blend``: the ridge on the proxies, fitted on the training cells
        self.proxy_model: ProxyRidgeModel | None = None
        #: with ``pretrain``: where the pre-trained weights are cached and what pre-training cost
        self.pretrained: Pretrained | None = None
        self.scaler = TargetScaler(log=self.log_target)
        self.module: nn.Module | None = None
        self.history: list[float] = []
        self.fit_seconds = 0.0
        #: with an eval_set: the optimizer step whose weights were kept
        self.best_step: int | None = None

    @classmethod
    def keyword_options(cls) -> dict[str, inspect.Parameter]:
        """The shared options this class's ``**options`` take, with its defaults (``shared_parameters``)."""
        return shared_parameters(cls.option_defaults)

    @classmethod
    def option_names(cls) -> list[str]:
        """Every option the constructor takes: its own and its bases' named ones, then the shared
        ones (what a misspelt option is matched against)."""
        from nasearch.config.options import accepted_options

        return list(accepted_options(cls)[0])

    # --- hooks for subclasses -------------------------------------------------------------------
    def _prepare(self, graphs: Sequence[ArchGraph], hardware: Hardware) -> None:
        """Learn what the module's shape depends on from the training set (default: nothing)."""

    def _build_module(self) -> nn.Module:
        raise NotImplementedError

    def _encode(self, graphs: Sequence[ArchGraph], hardware: Hardware) -> BatchSource:
        raise NotImplementedError

    def _forward(self, model: nn.Module, inputs: Any) -> torch.Tensor:
        return model(inputs)

    # --- Predictor contract ---------------------------------------------------------------------
    def fit(
        self,
        graphs: Sequence[ArchGraph],
        y: Targets,
        hardware: Hardware = None,
        eval_set: EvalSet | None = None,
    ) -> TorchPredictor:
        """Train a fresh module on ``graphs`` -> ``y`` (refits from scratch on every call).

        ``eval_set=(graphs, y)`` (or ``(graphs, y, hardware)``) is a validation set: the weights
        that rank it best (Kendall tau, scored every ``validate_every`` steps) are kept.
        """
        target = check_fit_inputs(graphs, y, self.display_name)
        graphs = list(graphs)
        self.scaler = TargetScaler(log=self.log_target).fit(target)
        self.proxy_model = None
        if self.proxy_blend is not None:
            if hardware is not None:
                raise ConfigError(
                    f"{self.display_name}: proxy_blend does not take hardware-conditioned targets"
                )
            # first: a cell the proxies' space lacks fails before the (long) neural fit
            self.fit_proxy_blend(self.proxy_blend, graphs, target)
        if self.proxy_input is not None:
            if hardware is not None:
                raise ConfigError(
                    f"{self.display_name}: proxy_input does not take hardware-conditioned targets"
                )
            self.proxy_dim = self._proxy_features(graphs).shape[1]
        if self.pretrain is not None:
            if hardware is not None:
                raise ConfigError(f"{self.display_name}: pretrain does not take hardware-conditioned targets")
            module, self.pretrained = pretrained_module(self, self.pretrain, graphs)
        else:
            self._prepare(graphs, hardware)
            seed_everything(self.train_config.seed)
            module = self._build_module()
        source = self._source(graphs, hardware)
        validation = None
        if eval_set is not None:
            val_graphs, val_y, val_hw = unpack_eval_set(eval_set, self.display_name)
            validation = (self._source(val_graphs, val_hw), self.scaler.transform(val_y))
        result = train_regressor(
            module, source, self.scaler.transform(target), self.train_config, self._run, validation
        )
        self.module = result.model.cpu()
        self.history = result.losses
        self.fit_seconds = result.seconds
        self.best_step = result.best_step
        return self

    def _proxy_features(self, graphs: Sequence[ArchGraph]) -> np.ndarray:
        """The ``proxy_input`` features of ``graphs`` (the space's transformed proxies)."""
        assert self.proxy_input is not None
        spec = self.proxy_input
        return proxy_table(spec.space, spec.space_options, spec.proxies).features(
            graphs, False, self.display_name
        )

    def _source(self, graphs: Sequence[ArchGraph], hardware: Hardware) -> BatchSource:
        """``_encode``, with each cell's proxy features beside it under ``proxy_input``."""
        source = self._encode(graphs, hardware)
        return source if self.proxy_input is None else WithProxies(source, self._proxy_features(graphs))

    def _run(self, model: nn.Module, inputs: Any) -> torch.Tensor:
        """The forward pass of a batch of ``_source``: ``_forward``, or ``model(inputs, features)``."""
        if self.proxy_input is None:
            return self._forward(model, inputs)
        inner, features = inputs
        out: torch.Tensor = model(inner, features)
        return out

    def fit_proxy_blend(self, spec: ProxySpec, graphs: Sequence[ArchGraph], y: Targets) -> None:
        """Use ``spec`` as the ``proxy_blend``: fit its ridge on ``graphs`` -> ``y`` (the cells the network
        was fitted on, for a fitted predictor) and keep the network. ``fit`` calls it; a selection over
        blend settings calls it once a setting instead of refitting the network."""
        target = check_fit_inputs(graphs, y, self.display_name)
        model = ProxyRidgeModel(spec, self.display_name).fit(list(graphs), self.scaler.transform(target))
        self.proxy_blend, self.proxy_model = spec, model

    def predict(self, graphs: Sequence[ArchGraph], hardware: Hardware = None) -> np.ndarray:
        """Predicted targets for ``graphs`` (in the units of ``y``); with ``proxy_blend``, the blend."""
        own, proxy = self.predict_parts(graphs, hardware)
        if proxy is None or self.proxy_blend is None:
            return self.scaler.inverse(own)
        weight = self.proxy_blend.weight
        return self.scaler.inverse((1.0 - weight) * own + weight * proxy)

    def predict_parts(
        self, graphs: Sequence[ArchGraph], hardware: Hardware = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The two parts of the prediction on the standardised target scale: the network's own, and
        (with ``proxy_blend``) the proxy ridge's, else None. ``predict`` blends them."""
        own = self._predict_scaled(graphs, hardware)
        proxy = None if self.proxy_model is None else self.proxy_model.predict(list(graphs))
        return own, proxy

    def _predict_scaled(self, graphs: Sequence[ArchGraph], hardware: Hardware = None) -> np.ndarray:
        if self.module is None:
            raise PredictorError(f"{self.display_name}: call fit before predict")
        graphs = list(graphs)
        if not graphs:
            return np.empty(0)
        source = self._source(graphs, hardware)
        device = resolve_device(self.train_config.device)
        threads = self.train_config.threads
        old = torch.get_num_threads()
        if threads is not None:
            torch.set_num_threads(threads)
        try:
            out = predict_regressor(self.module, source, self.predict_batch_size, device, self._run)
        finally:
            if threads is not None:
                torch.set_num_threads(old)
            self.module.cpu()
        return out

    def n_parameters(self) -> int:
        """Trainable parameters of the fitted module (0 before fit)."""
        return 0 if self.module is None else sum(p.numel() for p in self.module.parameters())
