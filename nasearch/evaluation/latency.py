"""LatencyEvaluator: the candidate's inference latency measured on this machine's device.

So that a multi-objective search can trade accuracy against the speed of a real device, not only
against the devices the tables recorded. Each evaluation builds ``space.network(arch)`` with its
initial weights in eval mode, runs ``warmup`` untimed forward passes of a random batch, then
times ``repeats`` passes one by one and reports the median in milliseconds (with the
inter-quartile range, so noise is visible). CPU threads are pinned (``num_threads``, default 1)
for the measurement; on CUDA each pass is synchronised.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import torch

from nasearch.api import AnySpace, BuildsNetwork, Evaluator, HasBenchmark, Result
from nasearch.api.errors import ConfigError
from nasearch.api.objective import objective_list
from nasearch.evaluation.profiling import count_flops, count_params
from nasearch.evaluation.resources import check_device, check_threads, resolve_device, threads

#: what every evaluation reports
METRICS = ("latency_ms", "latency_iqr_ms", "params", "flops")


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"LatencyEvaluator option {name} must be a positive integer, got {value!r}")
    return value


class LatencyEvaluator(Evaluator):
    """Median forward-pass latency (``latency_ms``, minimised) plus ``params`` and ``flops``."""

    objective = "latency_ms"
    maximize = False

    def __init__(
        self,
        space: AnySpace,
        batch_size: int = 1,
        input_shape: Sequence[int] = (3, 32, 32),
        num_classes: int = 10,
        network: Mapping[str, object] | None = None,
        warmup: int = 10,
        repeats: int = 50,
        num_threads: int | None = 1,
        device: str = "cpu",
        seed: int = 0,
        extra_metrics: Sequence[str] = (),
        objectives: Sequence[object] | None = None,
    ) -> None:
        """``input_shape`` is one image (C, H, W): (3, 32, 32) is CIFAR-10, (1, 8, 8) the digits.
        ``network`` goes to ``space.network`` (``C``, ``N`` ...). ``num_threads``: torch CPU
        threads during the measurement (null: the CPUs Ray allotted to the trial). ``device``:
        ``cpu``, ``cuda`` or ``auto`` (the GPU a Ray worker was given, else CPU).
        ``extra_metrics``: metrics looked up in the space's benchmark tables and recorded beside
        the latency (``cifar10-valid/valid_accuracy``), so ``objectives``
        (``[{metric, direction}]``) can trade table accuracy against latency measured here.
        """
        if not isinstance(space, BuildsNetwork):
            raise ConfigError(
                f"LatencyEvaluator needs a search space that can build networks (a 'network' "
                f"method); {type(space).__name__} has none"
            )
        shape = tuple(input_shape) if isinstance(input_shape, (list, tuple)) else ()
        if len(shape) != 3 or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in shape
        ):
            raise ConfigError(
                f"LatencyEvaluator option input_shape must be 3 positive integers (C, H, W), got {input_shape!r}"
            )
        self.space: Any = space
        self.batch_size = _positive_int("batch_size", batch_size)
        self.input_shape: tuple[int, int, int] = (shape[0], shape[1], shape[2])
        self.num_classes = _positive_int("num_classes", num_classes)
        self.network = dict(network or {})
        self.warmup = _positive_int("warmup", warmup) if warmup != 0 else 0
        self.repeats = _positive_int("repeats", repeats)
        self.num_threads = check_threads(num_threads)
        self.device = check_device(device)
        self.seed = int(seed)
        self.extra_metrics = [str(m) for m in extra_metrics]
        if self.extra_metrics:
            if not isinstance(space, HasBenchmark):
                raise ConfigError(
                    f"LatencyEvaluator option extra_metrics needs a space with benchmark tables; "
                    f"{type(space).__name__} has none"
                )
            known = set(space.benchmark().metrics())
            unknown = [m for m in self.extra_metrics if m not in known]
            if unknown:
                raise ConfigError(
                    f"LatencyEvaluator extra_metrics: unknown benchmark metric(s) {', '.join(unknown)}"
                )
        if objectives:
            allowed = {*METRICS, *self.extra_metrics}
            self.objectives = objective_list(objectives)
            bad = [m for m, _ in self.objectives if m not in allowed]
            if bad:
                raise ConfigError(
                    f"LatencyEvaluator objective(s) {', '.join(bad)} are not among its metrics "
                    f"({', '.join(sorted(allowed))}); add table metrics with extra_metrics"
                )
            self.objective, self.maximize = self.objectives[0]

    def evaluate(self, arch: Hashable) -> Result:
        """Build ``arch``'s network and time its forward pass."""
        start = time.perf_counter()
        device = resolve_device(self.device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            options = {"num_classes": self.num_classes, "in_channels": self.input_shape[0], **self.network}
            net = self.space.network(arch, **options)
            x = torch.randn(self.batch_size, *self.input_shape)
        params = count_params(net)
        flops = count_flops(net, self.input_shape)
        net = net.to(device).eval()
        x = x.to(device)
        with threads(self.num_threads) as n_threads:
            times = measure(net, x, self.warmup, self.repeats)
        q1, _, q3 = statistics.quantiles(times, n=4) if len(times) > 1 else (times[0],) * 3
        metrics = {
            "latency_ms": statistics.median(times),
            "latency_iqr_ms": q3 - q1,
            "params": params,
            "flops": flops,
        }
        if self.extra_metrics:
            metrics.update(self.space.benchmark().query(arch, self.extra_metrics))
        info = {"device": str(device), "threads": n_threads, "batch_size": self.batch_size}
        return Result(metrics=metrics, cost_seconds=time.perf_counter() - start, info=info)

    def __repr__(self) -> str:
        return (
            f"LatencyEvaluator(batch_size={self.batch_size}, input_shape={self.input_shape}, "
            f"device={self.device!r}, num_threads={self.num_threads})"
        )


@torch.inference_mode()
def measure(net: torch.nn.Module, x: torch.Tensor, warmup: int, repeats: int) -> list[float]:
    """Milliseconds of each of ``repeats`` forward passes after ``warmup`` untimed ones."""
    sync = torch.cuda.synchronize if x.is_cuda else (lambda: None)
    for _ in range(warmup):
        net(x)
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        net(x)
        sync()
        times.append((time.perf_counter() - t0) * 1000.0)
    return times
